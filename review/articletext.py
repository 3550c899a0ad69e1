"""What a built article (.docx, .pdf, .html) says, read back word by word with where each word sits.

`read_article(path)` gives an `Article`: its words in reading order, each in a unit with a place a
reader can find (a sentence of a section's paragraph, a table cell named by row and column, a
caption, a heading, a reference; in a PDF, a page and its printed line number), the ledger key of
the number or phrase it belongs to where the file carries one (the HTML's provenance spans), and
the article's build stamp. Word and HTML files are read through pandoc's readers into its document
model (tracked changes accepted), so the two formats are read the same way; a PDF is read as the
text of its page body, without the running header, the footer (stamp, page number) and the line
numbers in the margin. Comparing two readings of the same format (`review.articlediff`) then sees
only what the text says, not how it was laid out.

`read_passages(path)` is a coarser reading (paragraphs and table rows) used by the renderer tests.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from analysis.errors import UserError

#: The stamp every output carries (qrender.prepare.Stamp.line).
STAMP = re.compile(
    r"data sha256 (?P<sha>[0-9a-f]{64}|none) \| code (?P<code>\S+) \| built (?P<date>\d{4}-\d{2}-\d{2})"
)
#: A word: letters and digits with inner decimal points or commas and a trailing percent sign, or
#: one punctuation character. "12.4", "95%", "p", "=", "0.073", "5.3", "–", "9.7" are six words.
WORD = re.compile(r"\w+(?:[.,]\w+)*%?|[^\w\s]")
FORMATTING = ("Emph", "Strong", "Underline", "Strikeout", "Superscript", "Subscript", "SmallCaps")
FORMATS = {".docx": "docx", ".html": "html", ".htm": "html", ".pdf": "pdf"}
SKIPPED_CLASSES = {"synthetic-notice", "build-stamp"}


class ArticleError(UserError):
    """Missing or unreadable article file."""


@dataclass(frozen=True)
class Stamp:
    data_sha256: str
    code: str
    date: str


@dataclass(frozen=True)
class Word:
    text: str
    unit: int  # index into Article.units
    key: str = ""  # the ledger key of the provenance span holding the word, if any
    space: bool = True  # preceded by white space


@dataclass
class Unit:
    """A sentence, table cell, caption, heading, reference entry or (PDF) line, and where it is."""

    place: str
    kind: str
    start: int = 0  # first word
    stop: int = 0  # one past the last word
    context: tuple[int, int] | None = None  # the words of the sentence or cell it is part of, if larger
    section: str = ""  # "Results › Survival" (text), or the table's name
    row: str = ""  # table cells: the row's name
    column: str = ""  # table cells: the column's name


@dataclass(frozen=True)
class Figure:
    name: str  # "Figure 2 (Kaplan-Meier estimates of overall survival …)"
    image: str  # SHA-256 of the image (its file, or its data URI): a figure drawn anew differs


@dataclass(frozen=True)
class Cell:
    """A table cell by table, row and column, for comparing two versions of a table cell by cell."""

    table: str  # "Table 1 (Baseline characteristics …)"
    row: str  # the row's name; "column headings" or "note" outside the body
    column: str  # the column's name
    index: int  # the column's position
    text: str


@dataclass
class Article:
    path: Path
    format: str
    words: list[Word] = field(default_factory=list)
    units: list[Unit] = field(default_factory=list)
    stamp: Stamp | None = None
    figures: list[Figure] = field(default_factory=list)
    cells: list[Cell] = field(default_factory=list)

    def tokens(self) -> list[str]:
        return [w.text for w in self.words]

    def text(self, start: int, stop: int) -> str:
        """Words start..stop as printed (white space as between them in the file)."""
        return join_words(self.words[max(start, 0) : stop])

    def place(self, index: int) -> str:
        return self.units[self.words[index].unit].place

    def unit_text(self, unit: int) -> str:
        u = self.units[unit]
        return self.text(u.start, u.stop)


def join_words(words: list[Word]) -> str:
    return "".join((" " if w.space and i else "") + w.text for i, w in enumerate(words))


def normal(text: str) -> str:
    """Unicode compatibility form, no-break spaces as spaces: what differs only in encoding is equal."""
    return unicodedata.normalize("NFKC", text).replace("\u00ad", "")


def split_words(text: str) -> list[tuple[str, int, bool]]:
    """(word, offset, preceded by white space) for each word of a text."""
    text = normal(text)
    return [
        (m.group(0), m.start(), m.start() == 0 or text[m.start() - 1].isspace()) for m in WORD.finditer(text)
    ]


def read_article(path: Path) -> Article:
    """Read a built article; an unreadable or unsupported file is an `ArticleError`."""
    path = Path(path)
    if not path.exists():
        raise ArticleError(f"{path}: no such file")
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ArticleError(
            f"{path}: unsupported file type {path.suffix!r}; give a .docx, .pdf or .html article"
        )
    try:
        if fmt == "pdf":
            return _PdfReader(path).read()
        return _DocumentReader(path, fmt, pandoc_document(path, fmt)).read()
    except UserError:
        raise
    except Exception as exc:  # a damaged file of the right extension
        raise ArticleError(f"{path}: cannot be read as {fmt} ({type(exc).__name__}: {exc})") from None


def pandoc_document(path: Path, fmt: str, *options: str) -> dict:
    """The file in pandoc's document model (JSON); Word's tracked changes accepted unless told."""
    import pypandoc

    args = [pypandoc.get_pandoc_path(), "-f", fmt, "-t", "json", *options, str(path)]
    result = subprocess.run(args, capture_output=True, text=True)
    if result.returncode != 0:
        raise ArticleError(f"{path}: cannot be read as {fmt} (pandoc: {result.stderr.strip()})")
    return json.loads(result.stdout)


def inline_text(inlines: list) -> list[tuple[str, str]]:
    """(text, ledger key) pieces of pandoc inlines, in order; spaces as " "."""
    pieces: list[tuple[str, str]] = []

    def walk(nodes: list, key: str) -> None:
        for node in nodes:
            kind, content = node["t"], node.get("c")
            if kind == "Str":
                pieces.append((content, key))
            elif kind in ("Space", "SoftBreak", "LineBreak"):
                pieces.append((" ", key))
            elif kind in FORMATTING:
                walk(content, key)
            elif kind == "Quoted":
                mark = "\u201c\u201d" if content[0]["t"] == "DoubleQuote" else "\u2018\u2019"
                pieces.append((mark[0], key))
                walk(content[1], key)
                pieces.append((mark[1], key))
            elif kind in ("Cite", "Link"):  # the text as printed: "(12)", "Table 1"
                walk(content[1], key)
            elif kind == "Span":
                walk(content[1], span_key(content[0]) or key)
            elif kind in ("Code", "Math"):
                pieces.append((content[1], key))
            # Image, Note, RawInline: no running text

    walk(inlines, "")
    return pieces


def span_key(attr: list) -> str:
    """The ledger key a provenance span carries (pandoc drops the data- prefix of HTML attributes)."""
    attributes = dict(attr[2])
    return attributes.get("key") or attributes.get("data-key") or ""


def plain(inlines: list) -> str:
    return " ".join("".join(text for text, _ in inline_text(inlines)).split())


def _indented(blocks: list) -> bool:
    """Whether a cell's text starts with white space (no-break spaces survive every format)."""
    for block in blocks:
        if block["t"] in ("Para", "Plain"):
            raw = "".join(text for text, _ in inline_text(block["c"]))
            return raw[:1].isspace()
    return False


def blocks_text(blocks: list) -> str:
    parts = []
    for block in blocks:
        if block["t"] in ("Para", "Plain", "Header"):
            parts.append(plain(block["c"][2] if block["t"] == "Header" else block["c"]))
        elif block["t"] == "Div":
            parts.append(blocks_text(block["c"][1]))
    return " ".join(p for p in parts if p)


def paragraphs(document: dict) -> list[str]:
    """The text of every paragraph, heading and table cell of a pandoc document, in reading order,
    empty ones left out: what must agree, paragraph by paragraph, between two files of one text."""
    out: list[str] = []

    def walk(blocks: list) -> None:
        for block in blocks:
            kind, content = block["t"], block.get("c")
            if kind in ("Para", "Plain", "Header"):
                text = plain(content[2] if kind == "Header" else content)
                if text:
                    out.append(text)
            elif kind in ("Div", "Figure"):
                if kind == "Figure":
                    walk(content[1][1])
                walk(content[-1])
            elif kind == "BlockQuote":
                walk(content)
            elif kind in ("BulletList", "OrderedList"):
                for item in content if kind == "BulletList" else content[1]:
                    walk(item)
            elif kind == "Table":
                walk(content[1][1])
                for row in (r for part in table_parts(block) for r in part):
                    for cell in row[1]:
                        walk(cell[4])

    title = document.get("meta", {}).get("title")
    if title:
        out.append(plain(_meta_inlines(title)))
    walk(document["blocks"])
    return out


def table_parts(table: dict) -> list[list]:
    """The row lists of a pandoc table (head, each body's head and rows, foot), in order."""
    _, _, _, head, bodies, foot = table["c"]
    parts = [head[1]]
    for body in bodies:
        parts += [body[2], body[3]]
    return [*parts, foot[1]]


class _Builder:
    """Words and units of one article, added unit by unit."""

    def __init__(self, article: Article) -> None:
        self.article = article

    def unit(self, place: str, kind: str, pieces: list[tuple[str, str]], **where: str) -> None:
        """Add a unit from (text, key) pieces; stamp lines are page furniture and are left out."""
        pieces = [(normal(t), k) for t, k in pieces]
        text = "".join(t for t, _ in pieces)
        if STAMP.search(text):
            return
        keys = []
        for piece, key in pieces:
            keys += [key] * len(piece)
        words = split_words(text)
        if not words:
            return
        index = len(self.article.units)
        start = len(self.article.words)
        self.article.words += [
            Word(word, index, keys[offset] if offset < len(keys) else "", space)
            for word, offset, space in words
        ]
        self.article.units.append(Unit(place, kind, start, len(self.article.words), **where))


def sentences(pieces: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    """Split (text, key) pieces into sentences: after . ? ! followed by white space and a capital."""
    text = "".join(t for t, _ in pieces)
    cuts = [m.end() for m in re.finditer(r"[.?!](?=\s+[(\"\u201c]?[A-Z])", text)]
    out, keys = [], []
    for piece, key in pieces:
        keys += [key] * len(piece)
    bounds = [0, *cuts, len(text)]
    for a, b in zip(bounds, bounds[1:], strict=False):
        out.append(_pieces(text[a:b], keys[a:b]))
    return [s for s in out if "".join(t for t, _ in s).strip()]


def _pieces(text: str, keys: list[str]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for char, key in zip(text, keys, strict=True):
        if out and out[-1][1] == key:
            out[-1] = (out[-1][0] + char, key)
        else:
            out.append((char, key))
    return out


class _DocumentReader:
    """Units from pandoc's document model: sections, paragraphs split into sentences, tables by
    row and column, captions, references."""

    def __init__(self, path: Path, fmt: str, document: dict) -> None:
        self.article = Article(path, fmt)
        self.document = document
        self.add = _Builder(self.article)
        self.sections: list[str] = []
        self.paragraph = 0
        self.tables = 0
        self.figures = 0
        self.float_name = ""  # the table a float's caption names, for the table inside it

    def read(self) -> Article:
        self.article.stamp = find_stamp(self.article.path, self.article.format)
        meta_title = self.document.get("meta", {}).get("title")
        if meta_title and not any(_is_title(b) for b in self.document["blocks"]):
            self.add.unit("title", "title", inline_text(_meta_inlines(meta_title)))
        self.blocks(self.document["blocks"])
        return self.article

    @property
    def section(self) -> str:
        return " › ".join(self.sections) if self.sections else "title page"

    def blocks(self, blocks: list) -> None:
        for block in blocks:
            getattr(self, f"_{block['t'].lower()}", self._other)(block)

    def _other(self, block: dict) -> None:  # HorizontalRule, RawBlock, CodeBlock: not running text
        return

    def _header(self, block: dict) -> None:
        level, attr, inlines = block["c"]
        text = plain(inlines)
        if "title" in attr[1]:
            self.add.unit("title", "title", inline_text(inlines))
            return
        self.sections = [*self.sections[: level - 1], text]
        self.paragraph = 0
        self.add.unit(f"{self.section}, heading", "heading", inline_text(inlines), section=self.section)

    def _para(self, block: dict) -> None:
        pieces = inline_text(block["c"])
        if not "".join(t for t, _ in pieces).strip():  # an image alone is not a paragraph of text
            return
        self.paragraph += 1
        first = block["c"][0] if block["c"] else None
        lead = plain(first["c"]) if first and first["t"] == "Strong" else ""
        where = f"{self.section}, paragraph {self.paragraph}"
        if lead.endswith(":"):  # "Results:" in a structured abstract
            where = f"{self.section} › {lead.rstrip(':')}"
        for i, sentence in enumerate(sentences(pieces), 1):
            self.add.unit(f"{where}, sentence {i}", "sentence", sentence, section=self.section)

    _plain = _para

    def _div(self, block: dict) -> None:
        attr, blocks = block["c"]
        if SKIPPED_CLASSES & set(attr[1]):
            return
        if attr[0] == "refs":
            for i, entry in enumerate(blocks, 1):
                self.add.unit(f"References, entry {i}", "reference", inline_text(_first_inlines(entry)))
            return
        self.blocks(blocks)

    def _blockquote(self, block: dict) -> None:
        self.blocks(block["c"])

    def _bulletlist(self, block: dict) -> None:
        for item in block["c"]:
            self.blocks(item)

    def _orderedlist(self, block: dict) -> None:
        for item in block["c"][1]:
            self.blocks(item)

    def _lineblock(self, block: dict) -> None:
        for line in block["c"]:
            self._para({"t": "Para", "c": line})

    def _figure(self, block: dict) -> None:
        """A float: a figure (its caption, its image), or a captioned table (Quarto's HTML wraps
        tables so), whose caption names the table inside."""
        caption = blocks_text(block["c"][1][1])
        table = _numbered(caption, "Table")
        if table:
            self.float_name = table
        else:
            self.figures += 1
            name = _numbered(caption, "Figure") or f"Figure {self.figures}"
            self.article.figures.append(Figure(name, image_digest(block)))
        for b in block["c"][1][1]:
            where = table or name
            self.add.unit(f"{where}, caption", "caption", inline_text(_first_inlines(b)), section=where)
        self.blocks(block["c"][2])
        self.float_name = ""

    def _table(self, block: dict) -> None:
        grid = TableGrid(block)
        if not grid.caption and len(grid.cells) == 1:  # a layout table (Quarto's Word output wraps
            content = grid.cells[0].blocks  # each captioned table so): its caption names the table
            self.float_name = _numbered(blocks_text(content[:1]), "Table") if content else ""
            self.blocks(content)
            self.float_name = ""
            return
        self.tables += 1
        name = _numbered(grid.caption, "Table") or self.float_name or f"Table {self.tables}"
        for b in block["c"][1][1]:
            self.add.unit(f"{name}, caption", "caption", inline_text(_first_inlines(b)), section=name)
        for cell in grid.cells:
            kind = {"foot": "table note", "head": "table heading"}.get(cell.part, "cell")
            if cell.part == "foot":
                where = f"{name}, note"
            elif cell.part == "head":
                where = f"{name}, column heading '{grid.column_name(cell.column)}'"
            elif cell.part == "group" or grid.is_group(cell.row):
                where = f"{name}, row group '{grid.row_name(cell.row)}'"
            elif cell.column == 0 and grid.column_name(0) == "column 1":
                where = f"{name}, row '{grid.row_name(cell.row)}', label"
            else:
                where = f"{name}, row '{grid.row_name(cell.row)}', column '{grid.column_name(cell.column)}'"
            pieces: list[tuple[str, str]] = []
            for b in cell.blocks:
                if pieces:
                    pieces.append((" ", ""))
                pieces += inline_text(_first_inlines(b))
            row = grid.row_name(cell.row) if kind == "cell" else ""
            column = grid.column_name(cell.column) if kind == "cell" and not grid.is_group(cell.row) else ""
            self.add.unit(where, kind, pieces, section=name, row=row, column=column)
            text = " ".join(normal("".join(t for t, _ in pieces)).split())
            named = grid.row_name(cell.row)
            self.article.cells.append(Cell(name, named, grid.column_name(cell.column), cell.column, text))


def images(node: object) -> Iterator[dict]:
    """Every Image inline in a pandoc node, in document order."""
    if isinstance(node, dict):
        if node.get("t") == "Image":
            yield node
        for value in node.values():
            yield from images(value)
    elif isinstance(node, list):
        for value in node:
            yield from images(value)


def image_digest(node: object) -> str:
    """SHA-256 of the images in a pandoc node: each image's file where it is one, else its source
    (an HTML data URI holds the image itself)."""
    digest = hashlib.sha256()
    for image in images(node):
        source = image["c"][2][0]
        path = Path(source)
        is_file = not source.startswith("data:") and len(source) < 4096 and path.is_file()
        digest.update(path.read_bytes() if is_file else source.encode())
    return digest.hexdigest()


def _is_title(block: dict) -> bool:
    if block["t"] == "Header":
        return "title" in block["c"][1][1]
    if block["t"] == "Div":
        return any(_is_title(b) for b in block["c"][1])
    return False


def _meta_inlines(value: dict) -> list:
    if value.get("t") == "MetaInlines":
        return value["c"]
    if value.get("t") == "MetaString":
        return [{"t": "Str", "c": value["c"]}]
    if value.get("t") == "MetaBlocks":
        return [i for b in value["c"] for i in _first_inlines(b)]
    return []


def _first_inlines(block: dict) -> list:
    """The inlines of a text block (or of the text blocks inside a Div), joined by spaces."""
    if block["t"] in ("Para", "Plain"):
        return block["c"]
    if block["t"] == "Div":
        out: list = []
        for inner in block["c"][1]:
            out += ([{"t": "Space"}] if out else []) + _first_inlines(inner)
        return out
    return []


def _numbered(caption: str, kind: str) -> str:
    """ "Table 3" from a caption "Table 3: ...", with the start of the caption's own words."""
    match = re.match(rf"({kind}\s+\d+)[:.]?\s*(.*)", caption)
    if not match:
        return ""
    words = match.group(2).split()
    gist = " ".join(words[:6]) + (" …" if len(words) > 6 else "")
    return f"{match.group(1)} ({gist})" if gist else match.group(1)


@dataclass
class GridCell:
    part: str  # head, body, foot
    row: int  # row index over the whole table
    column: int
    blocks: list
    colspan: int = 1


class TableGrid:
    """A pandoc table as rows and columns, with rowspans and colspans placed, and names for each
    column (its headings, spanner first) and each body row (its row group, then its stub)."""

    def __init__(self, table: dict) -> None:
        _, caption, colspecs, _, bodies, _ = table["c"]
        self.caption = blocks_text(caption[1])
        self.width = len(colspecs)
        self.cells: list[GridCell] = []
        self.rows: list[tuple[str, list[GridCell]]] = []
        occupied: dict[tuple[int, int], bool] = {}
        kinds = ["head", *(["group", "body"] * len(bodies)), "foot"]  # a body's own head: its group
        parts = list(zip(kinds, table_parts(table), strict=True))
        for part, rows in parts:
            for row in rows:
                r = len(self.rows)
                placed, column = [], 0
                for cell in row[1]:
                    while occupied.get((r, column)):
                        column += 1
                    _, _, rowspan, colspan, blocks = cell
                    for dr in range(rowspan):
                        for dc in range(colspan):
                            occupied[(r + dr, column + dc)] = True
                    placed.append(GridCell(part, r, column, blocks, colspan))
                    column += colspan
                self.rows.append((part, placed))
                self.cells += placed
        self._columns = self._column_names()
        self._row_names = self._body_row_names()

    def _column_names(self) -> list[str]:
        names: list[list[str]] = [[] for _ in range(self.width)]
        for part, row in self.rows:
            if part != "head" or (len(row) == 1 and row[0].colspan == self.width):
                continue
            for cell in row:
                text = blocks_text(cell.blocks)
                for c in range(cell.column, min(cell.column + cell.colspan, self.width)):
                    if text and text not in names[c]:
                        names[c].append(text)
        return [" › ".join(n) if n else f"column {i + 1}" for i, n in enumerate(names)]

    def _body_row_names(self) -> dict[int, str]:
        """Body rows named by their stub, under their row group; a stub indented (by leading
        no-break spaces, as gtsummary lays out a variable's levels) is named under the last stub
        that was not: "Stage › 1", never a bare "1" that other variables share."""
        names, group, parent, count = {}, "", "", 0
        for r, (part, row) in enumerate(self.rows):
            if part == "foot":
                continue
            if self.is_group(r):
                group = blocks_text(row[0].blocks)  # a row-group label spanning the table
                names[r], parent = group, ""
                continue
            if part in ("head", "group"):
                if part == "group":
                    group = " ".join(blocks_text(c.blocks) for c in row)
                    names[r], parent = group, ""
                continue
            count += 1
            has_stub = row and row[0].column == 0
            first = blocks_text(row[0].blocks) if has_stub else ""
            stub = first or f"row {count}"
            if has_stub and _indented(row[0].blocks) and parent:
                stub = f"{parent} › {stub}"
            elif first:
                parent = first
            names[r] = f"{group} › {stub}" if group else stub
        return names

    def is_group(self, row: int) -> bool:
        cells = self.rows[row][1]
        return self.width > 1 and len(cells) == 1 and cells[0].colspan == self.width

    def column_name(self, column: int) -> str:
        return self._columns[column] if column < len(self._columns) else f"column {column + 1}"

    def row_name(self, row: int) -> str:
        """A body row's name; for head and foot rows "column headings 1", "note 2" (by position)."""
        part = self.rows[row][0]
        if part in ("head", "foot"):
            same = [r for r, (p, _) in enumerate(self.rows) if p == part]
            return f"{'column headings' if part == 'head' else 'note'} {same.index(row) + 1}"
        return self._row_names.get(row, f"row {row + 1}")


class _PdfReader:
    """The text of each page's body, line by line, located by page and printed line number.

    Text outside the page body (the running header and notice, the footer with the stamp and page
    number) is page furniture, and the numbers in the left margin are line numbers: both are used to
    locate a line, never compared. The body is the page less the margins of the project's typst
    format (`_quarto.yml`), or typst's default margins. Words and their positions come from
    poppler's `pdftotext -bbox` where it is installed (fast), else from pypdf."""

    def __init__(self, path: Path) -> None:
        self.article = Article(path, "pdf")
        self.add = _Builder(self.article)

    def read(self) -> Article:
        pages = _pdftotext_pages(self.article.path) if shutil.which("pdftotext") else None
        if pages is None:
            pages = _pypdf_pages(self.article.path)
        margins = None
        furniture = []
        for number, (width, height, chunks) in enumerate(pages, 1):
            margins = margins or page_margins(width, height)
            left, top = margins
            body = [c for c in chunks if top - 2 <= c.y <= height - top + 2 and c.x >= left - 2]
            outside = [c for c in chunks if c not in body]
            furniture.append(" ".join(c.text.strip() for c in outside))
            numbers = [(c.y, c.text.strip()) for c in outside if c.x < left - 2 and c.text.strip().isdigit()]
            for y, text in _lines(body):
                near = [(abs(my - y), n) for my, n in numbers if abs(my - y) < 4.5]
                where = f"page {number}, line {min(near)[1]}" if near else f"page {number}"
                self.add.unit(where, "line", [(text, "")])
        match = STAMP.search(normal(" ".join(furniture)))
        if match:
            self.article.stamp = Stamp(match.group("sha"), match.group("code"), match.group("date"))
        return self.article


@dataclass(frozen=True)
class Chunk:
    """A piece of text on a PDF page: where it starts, its baseline (from the page bottom), its
    size, and where it ends (None when the reader does not say; the text then carries its spaces)."""

    x: float
    y: float
    text: str
    size: float
    end: float | None = None


def _pdftotext_pages(path: Path) -> list[tuple[float, float, list[Chunk]]] | None:
    """Pages (width, height, words) from `pdftotext -bbox`; None if poppler fails on the file."""
    import html

    result = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True, text=True)
    if result.returncode != 0:
        return None
    pages = []
    word = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>')
    for page in re.finditer(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', result.stdout, re.S):
        width, height = float(page.group(1)), float(page.group(2))
        chunks = []
        for w in word.finditer(page.group(3)):
            x, top, end, bottom = (float(w.group(i)) for i in range(1, 5))
            size = (bottom - top) / 1.2  # poppler's box spans ascent to descent, about 1.2 em
            baseline = height - bottom + 0.22 * size * 1.2  # the descent lies below the baseline
            chunks.append(Chunk(x, baseline, html.unescape(w.group(5)), size, end))
        pages.append((width, height, chunks))
    return pages


def _pypdf_pages(path: Path) -> list[tuple[float, float, list[Chunk]]]:
    """Pages (width, height, text runs) from pypdf's text visitor."""
    from pypdf import PdfReader

    pages = []
    for page in PdfReader(str(path)).pages:
        chunks: list[Chunk] = []

        def visit(text, cm, tm, font, size, chunks=chunks) -> None:
            if text.strip():
                x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
                y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
                scale = abs(tm[3] * cm[3]) or 1.0
                chunks.append(Chunk(x, y, text, size * scale))

        page.extract_text(visitor_text=visit)
        pages.append((float(page.mediabox.width), float(page.mediabox.height), chunks))
    return pages


def _lines(chunks: list[Chunk]) -> list[tuple[float, str]]:
    """Chunks grouped into lines from the top of the page, each line's chunks from left to right
    with a space where they stand apart. Smaller text raised a little above the line below it (a
    footnote or affiliation mark) belongs to that line."""
    rows: list[list[Chunk]] = []
    for chunk in sorted(chunks, key=lambda c: (-c.y, c.x)):
        if rows and abs(rows[-1][0].y - chunk.y) < 1.0:
            rows[-1].append(chunk)
        else:
            rows.append([chunk])
    merged: list[list[Chunk]] = []
    for i, row in enumerate(rows):
        below = rows[i + 1] if i + 1 < len(rows) else None
        if below:
            size = max(c.size for c in below)
            raised = 0 < row[0].y - below[0].y < 0.6 * size
            if raised and max(c.size for c in row) < 0.85 * size:
                below.extend(row)  # a mark raised above the next line
                continue
        merged.append(row)
    out = []
    for row in merged:
        text, end = "", None
        for chunk in sorted(row, key=lambda c: c.x):
            gap = end is not None and chunk.x - end > 1.0
            text += (" " if gap and text and not text.endswith(" ") else "") + chunk.text
            end = chunk.end
        out.append((max(c.y for c in row if c.size >= 0.85 * max(r.size for r in row)), text))
    return out


def page_margins(width: float, height: float) -> tuple[float, float]:
    """Left and top margins in points, from `_quarto.yml`'s typst margin (x, y) when it has one."""
    from qrender.project import load_project

    default = 2.5 / 21 * min(width, height)  # typst's default margin
    try:
        margin = load_project(Path.cwd()).options.get("typst", {}).get("margin") or {}
    except Exception:
        margin = {}
    return _length(margin.get("x"), default), _length(margin.get("y"), default)


def _length(value: object, default: float) -> float:
    units = {"pt": 1.0, "mm": 72 / 25.4, "cm": 72 / 2.54, "in": 72.0}
    match = re.fullmatch(r"\s*([\d.]+)\s*(pt|mm|cm|in)\s*", str(value or ""))
    return float(match.group(1)) * units[match.group(2)] if match else default


def find_stamp(path: Path, fmt: str) -> Stamp | None:
    """The build stamp of a Word file (document properties, footer) or an HTML file (meta, footer)."""
    texts: list[str] = []
    if fmt == "docx":
        import zipfile

        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if n == "docProps/core.xml" or n.startswith("word/footer")]
            texts = [re.sub(r"<[^>]+>", "", archive.read(n).decode("utf-8", "replace")) for n in names]
    else:
        texts = [path.read_text(encoding="utf-8", errors="replace")]
    for text in texts:
        match = STAMP.search(normal(text))
        if match:
            return Stamp(match.group("sha"), match.group("code"), match.group("date"))
    return None


# The coarser reading used by the renderer tests (tests/readback.py).


@dataclass(frozen=True)
class Passage:
    text: str
    where: str


def read_passages(path: Path) -> list[Passage]:
    """Paragraphs and table cells in reading order, each located (paragraph, table cell or page)."""
    if not path.exists():
        raise ArticleError(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".docx":
            return _docx(path)
        if suffix == ".pdf":
            return _pdf(path)
        if suffix in (".html", ".htm"):
            return _html(path)
    except UserError:
        raise
    except Exception as exc:  # a damaged file of the right extension
        raise ArticleError(f"{path}: cannot be read as {suffix} ({type(exc).__name__}: {exc})") from None
    raise ArticleError(f"{path}: unsupported file type {suffix!r}; give a .docx, .pdf or .html article")


def _docx(path: Path) -> list[Passage]:
    """Paragraphs and table rows in document order. Tables nested in a cell (Quarto wraps each
    captioned table in a one-cell layout table) are read where they stand."""
    from docx import Document
    from docx.oxml.ns import qn

    doc = Document(str(path))
    passages: list[Passage] = []
    counters = {"p": 0, "tbl": 0}

    def text_of(element) -> str:
        return "".join(t.text or "" for t in element.iter(qn("w:t")))

    def walk(container) -> None:
        for child in container.iterchildren():
            if child.tag == qn("w:p"):
                counters["p"] += 1
                if text_of(child).strip():
                    passages.append(Passage(text_of(child), f"paragraph {counters['p']}"))
            elif child.tag == qn("w:tbl"):
                rows = child.findall(qn("w:tr"))
                cells = [row.findall(qn("w:tc")) for row in rows]
                if len(rows) == 1 and len(cells[0]) == 1:  # a layout table: read its content
                    walk(cells[0][0])
                    continue
                counters["tbl"] += 1
                for r, row in enumerate(cells, 1):
                    row_text = " | ".join(text_of(cell) for cell in row)
                    passages.append(Passage(row_text, f"table {counters['tbl']}, row {r}"))
            elif child.tag in (qn("w:sdt"), qn("w:sdtContent")):
                walk(child)

    walk(doc.element.body)
    return passages


def _pdf(path: Path) -> list[Passage]:
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    return [Passage(page.extract_text() or "", f"page {i}") for i, page in enumerate(reader.pages, 1)]


def _html(path: Path) -> list[Passage]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "lxml")
    for chrome in soup.find_all(["nav", "script", "style", "noscript"]):
        chrome.decompose()
    passages = []
    blocks = ["p", "li", "tr", "figcaption", "caption", "h1", "h2", "h3", "div"]
    for i, node in enumerate(soup.find_all(blocks), 1):
        if node.name == "div" and "csl-entry" not in (node.get("class") or []):
            continue
        text = node.get_text(" | " if node.name == "tr" else " ", strip=True)
        if text:
            passages.append(Passage(text, f"{node.name} {i}"))
    return passages
