"""A marked-up manuscript: the current article with every change since an earlier one as a revision.

`marked_document(old, new, author, date)` merges two pandoc documents (each article read from its
Word file) into one: the new document's structure, with the words that are gone as `deletion`
spans and the words that came as `insertion` spans, each carrying the author and the date.
Pandoc's Word writer turns those spans into real revisions (`w:ins`/`w:del`), so accepting every
revision gives the new article's text and rejecting every revision the old one's.

Blocks are paired in order (paragraphs by their words, tables by caption and rows, rows by their
cells), then the words of each pair are compared with the same word-level comparison `verify` uses
(`review.articlediff.word_edits`). A block with no counterpart is inserted or deleted whole.
`finish_revisions` then gives the Word file what pandoc does not write: paragraph marks and table
rows as revisions where a whole paragraph or row was inserted or deleted, and unique revision ids.
"""

from __future__ import annotations

import copy
import difflib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from review.articlediff import word_edits
from review.articletext import FORMATTING, WORD, blocks_text, image_digest, normal, plain, table_parts

INSERTION, DELETION = "insertion", "deletion"
#: Blocks of the same kind whose words agree this much are one block changed, not two.
SIMILAR = 0.5


@dataclass(frozen=True)
class Atom:
    """A word, a space, or an inline that is not text (image, note, math), with the formatting
    containers around it, outermost first (each container once per document, by identity)."""

    key: str  # what is compared
    node: dict | None  # the inline itself (text: None)
    text: str
    containers: tuple
    mark: str = ""


class Marker:
    """Merges two pandoc documents into one with insertion and deletion spans."""

    def __init__(self, author: str, date: str) -> None:
        self.attributes = [["author", author], ["date", date]]

    # --- inlines ---------------------------------------------------------------------------

    def atoms(self, inlines: list, containers: tuple = ()) -> list[Atom]:
        out: list[Atom] = []
        for node in inlines:
            kind, content = node["t"], node.get("c")
            if kind == "Str":  # a Str may hold non-breaking spaces ("(n = 83)"): kept, compared as spaces
                for piece in re.split("(\u00a0+)", content):
                    if piece.startswith("\u00a0"):
                        out.append(Atom(" ", None, piece, containers))
                        continue
                    words = [m.group(0) for m in WORD.finditer(piece)]
                    out += [Atom(normal(word), None, word, containers) for word in words]
            elif kind in ("Space", "SoftBreak"):
                out.append(Atom(" ", None, " ", containers))
            elif kind in FORMATTING:
                out += self.atoms(content, (*containers, _Container(node, None)))
            elif kind in ("Span", "Link", "Quoted", "Cite"):  # their text is their second part
                out += self.atoms(content[1], (*containers, _Container(node, 1)))
            else:  # Image, Note, Math, Code, LineBreak, RawInline: compared as a whole
                out.append(Atom(_whole_key(node), node, "", containers))
        return out

    def inlines(self, old: list, new: list) -> list:
        """The new inlines with the words of old that are gone and of new that came marked."""
        a, b = self.atoms(old), self.atoms(new)
        merged: list[Atom] = []
        position = 0
        for edit in word_edits([x.key for x in a], [x.key for x in b]):
            merged += b[position : edit.new.start]
            merged += [_marked(x, DELETION) for x in a[edit.old.start : edit.old.stop]]
            merged += [_marked(x, INSERTION) for x in b[edit.new.start : edit.new.stop]]
            position = edit.new.stop
        merged += b[position:]
        return self.build(merged, 0)

    def whole(self, inlines: list, mark: str) -> list:
        """Inlines inserted or deleted as a whole."""
        return self.build([_marked(x, mark) for x in self.atoms(inlines)], 0)

    def build(self, atoms: list[Atom], depth: int) -> list:
        """Inlines from atoms: containers rebuilt around their atoms, each run of marked atoms in
        a revision span at the innermost level."""
        out: list = []
        i = 0
        while i < len(atoms):
            atom = atoms[i]
            if len(atom.containers) > depth:
                container = atom.containers[depth]
                j = i + 1
                while j < len(atoms) and atoms[j].containers[depth : depth + 1] == (container,):
                    j += 1
                out.append(container.rebuilt(self.build(atoms[i:j], depth + 1)))
                i = j
                continue
            j = i
            while j < len(atoms) and len(atoms[j].containers) == depth and atoms[j].mark == atom.mark:
                j += 1
            run = _inline_run(atoms[i:j])
            if atom.mark:
                run = [{"t": "Span", "c": [["", [atom.mark], copy.deepcopy(self.attributes)], run]}]
            out += run
            i = j
        return out

    # --- blocks ----------------------------------------------------------------------------

    def blocks(self, old: list, new: list) -> list:
        out = []
        for before, after in pair(old, new, _signature, _similar):
            if before is None:
                out.append(self.block_whole(after, INSERTION))
            elif after is None:
                out.append(self.block_whole(before, DELETION))
            else:
                out.append(self.block(before, after))
        return out

    def block(self, old: dict, new: dict) -> dict:
        kind = new["t"]
        new = copy.deepcopy(new)
        if kind in ("Para", "Plain"):
            new["c"] = self.inlines(old["c"], new["c"])
        elif kind == "Header":
            new["c"][2] = self.inlines(old["c"][2], new["c"][2])
        elif kind in ("Div", "Figure"):
            new["c"][-1] = self.blocks(old["c"][-1], new["c"][-1])
            if kind == "Figure":
                new["c"][1][1] = self.blocks(old["c"][1][1], new["c"][1][1])
        elif kind == "BlockQuote":
            new["c"] = self.blocks(old["c"], new["c"])
        elif kind in ("BulletList", "OrderedList"):
            index = 0 if kind == "BulletList" else 1
            before, after = (old["c"], new["c"]) if index == 0 else (old["c"][1], new["c"][1])
            items = [self.blocks(b or [], a or []) for b, a in pair(before, after, blocks_text, _any)]
            if index == 0:
                new["c"] = items
            else:
                new["c"][1] = items
        elif kind == "Table":
            return self.table(old, new)
        return new

    def blocks_whole(self, blocks: list, mark: str) -> list:
        return [self.block_whole(b, mark) for b in blocks]

    def block_whole(self, block: dict, mark: str) -> dict:
        """A block inserted or deleted as a whole: every word in it marked."""
        block = copy.deepcopy(block)
        kind = block["t"]
        if kind in ("Para", "Plain"):
            block["c"] = self.whole(block["c"], mark)
        elif kind == "Header":
            block["c"][2] = self.whole(block["c"][2], mark)
        elif kind in ("Div", "Figure"):
            block["c"][-1] = self.blocks_whole(block["c"][-1], mark)
            if kind == "Figure":
                block["c"][1][1] = self.blocks_whole(block["c"][1][1], mark)
        elif kind == "BlockQuote":
            block["c"] = self.blocks_whole(block["c"], mark)
        elif kind == "BulletList":
            block["c"] = [self.blocks_whole(item, mark) for item in block["c"]]
        elif kind == "OrderedList":
            block["c"][1] = [self.blocks_whole(item, mark) for item in block["c"][1]]
        elif kind == "Table":
            block["c"][1][1] = self.blocks_whole(block["c"][1][1], mark)
            for row in _rows(block):
                for cell in row[1]:
                    cell[4] = self.blocks_whole(cell[4], mark)
        return block

    # --- tables ----------------------------------------------------------------------------

    def table(self, old: dict, new: dict) -> dict:
        """Cell by cell where the two tables have the same columns; rows paired by their cells.
        Where the columns differ (a new column of numbers at risk), columns are paired by their
        headings if no cell spans columns; otherwise the old table is deleted and the new inserted."""
        columns = _column_pairs(old, new)
        if columns is None or len(table_parts(old)) != len(table_parts(new)):
            blocks = [self.block_whole(old, DELETION), self.block_whole(new, INSERTION)]
            return {"t": "Div", "c": [["", [], []], blocks]}
        merged = copy.deepcopy(new)
        merged["c"][1][1] = self.blocks(old["c"][1][1], new["c"][1][1])
        merged["c"][2] = [new["c"][2][n] if n is not None else old["c"][2][o] for o, n in columns]
        for old_rows, new_rows in zip(table_parts(old), table_parts(merged), strict=True):
            pairs = pair(old_rows, list(new_rows), _row_signature, _same_row)
            new_rows[:] = [self.row(b, a, columns) for b, a in pairs]
        return merged

    def row(self, old: list | None, new: list | None, columns: list[tuple[int | None, int | None]]) -> list:
        """A row of the merged table: cells paired by the table's column pairs (rows with spanning
        cells, which only tables of unchanged columns have, by position)."""
        merged = copy.deepcopy(new if new is not None else old)
        before = old[1] if old is not None else []
        after = new[1] if new is not None else []
        plan = columns
        if _spans(before) or _spans(after):
            plan = [(i, i) for i in range(max(len(before), len(after)))]
        cells = [self.cell(_at(before, o), _at(after, n)) for o, n in plan]
        merged[1] = [c for c in cells if c is not None]
        return merged

    def cell(self, old: list | None, new: list | None) -> list | None:
        if old is None and new is None:
            return None
        if old is None:
            merged = copy.deepcopy(new)
            merged[4] = self.blocks_whole(new[4], INSERTION)
        elif new is None:
            merged = copy.deepcopy(old)
            merged[4] = self.blocks_whole(old[4], DELETION)
        else:
            merged = copy.deepcopy(new)
            merged[4] = self.blocks(old[4], new[4])
        return merged


class _Container:
    """A formatting inline (emphasis, span, link, quote, citation) whose content is rebuilt."""

    def __init__(self, node: dict, index: int | None) -> None:
        self.node, self.index = node, index

    def rebuilt(self, content: list) -> dict:
        node = copy.deepcopy({k: v for k, v in self.node.items() if k != "c"})
        if self.index is None:
            node["c"] = content
        else:
            node["c"] = copy.deepcopy(self.node["c"])
            node["c"][self.index] = content
        return node


def _whole_key(node: dict) -> str:
    """What an inline compared as a whole is: an image by its content (a figure drawn again from
    the same numbers is the same figure), anything else by its pandoc form."""
    if node["t"] == "Image":
        return "\0image:" + image_digest(node)
    return "\0" + json.dumps(node, sort_keys=True)


def _any(old: object, new: object) -> bool:
    return True


def _at(cells: list, index: int | None) -> list | None:
    return cells[index] if index is not None and index < len(cells) else None


def _same_row(old: list, new: list) -> bool:
    """Rows that are one row changed: the same label in the first cell, or as many cells."""
    first = (blocks_text(old[1][0][4]) if old[1] else "", blocks_text(new[1][0][4]) if new[1] else "")
    return (first[0] == first[1] and first[0] != "") or len(old[1]) == len(new[1])


def _marked(atom: Atom, mark: str) -> Atom:
    return Atom(atom.key, atom.node, atom.text, atom.containers, mark)


def _inline_run(atoms: list[Atom]) -> list:
    """Pandoc inlines for atoms at one level: words joined into Str, spaces as Space."""
    out: list = []
    for atom in atoms:
        if atom.node is not None:
            out.append(copy.deepcopy(atom.node))
        elif atom.text == " ":
            if not out or out[-1].get("t") != "Space":
                out.append({"t": "Space"})
        elif out and out[-1].get("t") == "Str":
            out[-1]["c"] += atom.text
        else:
            out.append({"t": "Str", "c": atom.text})
    return out


def _signature(block: dict) -> str:
    if block["t"] == "Table":
        return "Table:" + blocks_text(block["c"][1][1])
    if block["t"] == "Figure":
        return "Figure:" + blocks_text(block["c"][1][1])
    return f"{block['t']}:{_text(block)}"


def _text(block: dict) -> str:
    if block["t"] in ("Para", "Plain"):
        return plain(block["c"])
    if block["t"] == "Header":
        return plain(block["c"][2])
    return blocks_text([block])


def _similar(old: dict, new: dict) -> bool:
    """Two blocks of one kind that are one block changed: tables and figures by caption number
    ("Table 3:"), text by the share of words they have in common."""
    if old["t"] != new["t"]:
        return False
    if old["t"] in ("Table", "Figure"):  # "Table 3: ..." is Table 3 whatever else its caption says
        return _signature(old).split(":")[1] == _signature(new).split(":")[1]
    a, b = WORD.findall(_text(old)), WORD.findall(_text(new))
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() >= SIMILAR


def pair(old: list, new: list, signature, similar) -> list[tuple]:
    """Items of two sequences in order as (old, new) pairs, (old, None) for an item gone and
    (None, new) for an item added: equal signatures pair first, then similar items in order."""
    out: list[tuple] = []
    keys = ([signature(x) for x in old], [signature(x) for x in new])
    matcher = difflib.SequenceMatcher(None, *keys, autojunk=False)
    for tag, a, b, c, d in matcher.get_opcodes():
        if tag == "equal":
            out += list(zip(old[a:b], new[c:d], strict=True))
            continue
        out += _pair_similar(old[a:b], new[c:d], similar)
    return out


def _pair_similar(old: list, new: list, similar) -> list[tuple]:
    """The most pairs of similar items that keep both orders (a longest common subsequence); one
    item replaced by one of its kind (a table cell's number) is that item changed."""
    n, m = len(old), len(new)
    if n == m == 1 and (old[0].get("t") if isinstance(old[0], dict) else None) == (
        new[0].get("t") if isinstance(new[0], dict) else None
    ):
        return [(old[0], new[0])]
    best = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            paired = best[i + 1][j + 1] + 1 if similar(old[i], new[j]) else 0
            best[i][j] = max(best[i + 1][j], best[i][j + 1], paired)
    out: list[tuple] = []
    i = j = 0
    while i < n and j < m:
        if similar(old[i], new[j]) and best[i][j] == best[i + 1][j + 1] + 1:
            out.append((old[i], new[j]))
            i, j = i + 1, j + 1
        elif best[i + 1][j] >= best[i][j + 1]:
            out.append((old[i], None))
            i += 1
        else:
            out.append((None, new[j]))
            j += 1
    out += [(x, None) for x in old[i:]] + [(None, y) for y in new[j:]]
    return out


def _rows(table: dict) -> list:
    return [row for section in table_parts(table) for row in section]


def _row_signature(row: list) -> str:
    return " | ".join(blocks_text(cell[4]) for cell in row[1])


def _spans(cells: list) -> bool:
    return any(cell[2] != 1 or cell[3] != 1 for cell in cells)


def _column_pairs(old: dict, new: dict) -> list[tuple[int | None, int | None]] | None:
    """Columns of two tables paired: by position when they have as many, else by the words of
    their headings (only in tables where no cell spans rows or columns; else None)."""
    width_old, width_new = len(old["c"][2]), len(new["c"][2])
    if width_old == width_new:
        return [(i, i) for i in range(width_new)]
    if _spans([c for row in _rows(old) for c in row[1]]) or _spans([c for row in _rows(new) for c in row[1]]):
        return None
    if len(table_parts(old)) != len(table_parts(new)):
        return None

    def headings(table: dict, width: int) -> list[str]:
        head = table_parts(table)[0] or next((s for s in table_parts(table) if s), [])
        row = head[-1][1] if head else []
        names = [blocks_text(cell[4]) for cell in row]
        return names + [""] * (width - len(names))

    a, b = headings(old, width_old), headings(new, width_new)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    pairs = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            pairs += list(zip(range(i1, i2), range(j1, j2), strict=True))
        else:
            pairs += [(i, None) for i in range(i1, i2)] + [(None, j) for j in range(j1, j2)]
    return pairs


def marked_document(old: dict, new: dict, author: str, date: str) -> dict:
    """The new pandoc document with every change from old marked as a revision."""
    marker = Marker(author, date)
    merged = copy.deepcopy(new)
    merged["blocks"] = marker.blocks(old["blocks"], new["blocks"])
    for name in ("title", "subtitle"):
        before, after = old.get("meta", {}).get(name), new.get("meta", {}).get(name)
        if before and after and before.get("t") == after.get("t") == "MetaInlines":
            merged["meta"][name] = {"t": "MetaInlines", "c": marker.inlines(before["c"], after["c"])}
    return merged


def finish_revisions(docx: Path, author: str, date: str) -> None:
    """Give pandoc's tracked Word file what it lacks: a paragraph whose every run is inserted (or
    deleted) gets its paragraph mark inserted (deleted) too, so that rejecting (accepting) leaves
    no empty paragraph; a table row whose every cell is so gets the row revision; and every
    revision gets its own id."""
    import zipfile

    from lxml import etree

    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"

    def q(name: str) -> str:
        return f"{{{w}}}{name}"

    with zipfile.ZipFile(docx) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    root = etree.fromstring(parts["word/document.xml"])

    def revision(tag: str) -> etree._Element:
        element = etree.Element(q(tag))
        element.set(q("author"), author)
        element.set(q("date"), date)
        return element

    def whole(element: etree._Element) -> str:
        """'ins' or 'del' if every text run in element is inside that kind of revision."""
        texts = (q("t"), q("delText"))
        runs = [r for r in element.iter(q("r")) if any(r.find(t) is not None for t in texts)]
        kinds = {r.getparent().tag for r in runs}
        for tag in ("ins", "del"):
            if runs and kinds == {q(tag)}:
                return tag
        return ""

    for paragraph in root.iter(q("p")):
        tag = whole(paragraph)
        if tag:
            properties = paragraph.find(q("pPr"))
            if properties is None:
                properties = etree.SubElement(paragraph, q("pPr"))
                paragraph.insert(0, properties)
            marks = properties.find(q("rPr"))
            if marks is None:
                marks = etree.SubElement(properties, q("rPr"))
            marks.append(revision(tag))
    for row in root.iter(q("tr")):
        tag = whole(row)
        if tag:
            properties = row.find(q("trPr"))
            if properties is None:
                properties = etree.Element(q("trPr"))
                after = row.find(q("tblPrEx"))
                row.insert(1 if after is not None else 0, properties)
            properties.append(revision(tag))
    for number, element in enumerate(
        (e for e in root.iter(q("ins"), q("del")) if e.get(q("author")) is not None), 1
    ):
        element.set(q("id"), str(number))
    parts["word/document.xml"] = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    with zipfile.ZipFile(docx, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
