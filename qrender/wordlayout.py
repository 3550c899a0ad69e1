"""A Word manuscript laid out as a submission, whichever renderer wrote it (run by the post-render step).

pandoc writes every table with equal columns that Word then fills word by broken word, and Quarto
wraps each captioned table and figure in a one-cell layout table an editor cannot work in. Here,
after either renderer:

- layout tables are unwrapped: caption, table or figure become ordinary body content;
- each table gets column widths from its content: no column narrower than its longest word (a word
  is never broken), the rest of the text width shared as browsers share it (CSS automatic table
  layout), the header rows repeated on every page, rows never split, its text in the single-spaced
  "Table Text" style (no line numbers), left-aligned;
- a table whose body lines cannot fit the portrait text width unbroken goes into a landscape
  section; one whose words cannot fit even there has its text set smaller, with a warning naming
  it (never cut off);
- captions are kept on the page of their table or figure.
"""

from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass, field

from docx.oxml import OxmlElement
from docx.oxml.ns import qn

from qrender.docx import TABLE_POINTS, TABLE_TEXT
from qrender.wordxml import Page, TextWidth, child, drop, properties, tag, text_of

CELL_MARGIN = 85  # twips left and right of a cell's text (0.15 cm)
SLACK = 1.03  # measured widths get 3% more, for kerning and rounding in the renderer
MIN_POINTS = 6.0
CAPTION_STYLES = {"TableCaption", "ImageCaption", "Caption"}
CAPTION_TEXT = re.compile(r"^(Table|Figure)\s+\d+")
BREAK = re.compile(r"[ \t\n]+")  # where a line may break; a no-break space does not


@dataclass
class Cell:
    element: object
    column: int
    span: int
    header: bool


@dataclass
class Columns:
    """What each grid column needs: `least` (its longest word), `body` (its longest line in the
    body), `natural` (its longest line, headers included)."""

    least: list[float]
    body: list[float]
    natural: list[float]

    def fit(self, width: int) -> list[int] | None:
        """Widths filling `width`, or None if the words do not fit. As browsers lay out tables
        (CSS automatic layout) but in two steps: body lines are kept whole before header lines."""
        if sum(self.least) > width:
            return None
        for low, high in ((self.least, self.body), (self.body, self.natural)):
            if sum(high) >= width:
                share = (width - sum(low)) / max(sum(high) - sum(low), 1e-9)
                return _whole([lo + (hi - lo) * share for lo, hi in zip(low, high, strict=True)], width)
        return _whole([n * width / sum(self.natural) for n in self.natural], width)


@dataclass
class Fitted:
    name: str
    widths: list[int]
    landscape: bool = False
    points: float = TABLE_POINTS
    notes: list[str] = field(default_factory=list)


def _whole(widths: list[float], total: int) -> list[int]:
    """Round to whole twips that still add up to `total`."""
    out = [math.floor(w) for w in widths]
    for i in range(total - sum(out)):
        out[i % len(out)] += 1
    return out


def cells(tbl) -> tuple[int, list[list[Cell]]]:
    """The grid's column count and each row's cells with the grid column they start in."""
    columns = len(tbl.findall(f"{qn('w:tblGrid')}/{qn('w:gridCol')}"))
    rows = []
    for tr in tbl.findall(qn("w:tr")):
        header = tr.find(f"{qn('w:trPr')}/{qn('w:tblHeader')}")
        is_header = header is not None and header.get(qn("w:val"), "true") not in ("0", "false", "off")
        row, column = [], 0
        before = tr.find(f"{qn('w:trPr')}/{qn('w:gridBefore')}")
        if before is not None:
            column = int(before.get(qn("w:val")))
        for tc in tr.findall(qn("w:tc")):
            span = tc.find(f"{qn('w:tcPr')}/{qn('w:gridSpan')}")
            span = int(span.get(qn("w:val"))) if span is not None else 1
            row.append(Cell(tc, column, span, is_header))
            column += span
        rows.append(row)
        columns = max(columns, column)
    return columns, rows


def measure_columns(tbl, points: float, measure: TextWidth) -> Columns:
    """Each column's longest word and longest line; a cell spanning columns only asks that its
    longest word fit the columns together (its lines may wrap)."""
    count, rows = cells(tbl)
    pad = 2 * CELL_MARGIN
    least, body, natural = [float(pad)] * count, [float(pad)] * count, [float(pad)] * count
    spanning = []
    for row in rows:
        for cell in row:
            lines = [text_of(p) for p in cell.element.iter(qn("w:p"))]
            words = [w for line in lines for w in BREAK.split(line) if w]
            word = max((measure(w, points) for w in words), default=0.0) * SLACK + pad
            if cell.span > 1:
                spanning.append((cell, word))
                continue
            least[cell.column] = max(least[cell.column], word)
            line = max((measure(t.strip(" \t"), points) for t in lines), default=0.0) * SLACK + pad
            natural[cell.column] = max(natural[cell.column], line)
            if not cell.header:
                body[cell.column] = max(body[cell.column], line)
    for cell, word in spanning:
        covered = range(cell.column, min(cell.column + cell.span, count))
        short = word - sum(least[c] for c in covered)
        for c in covered:
            least[c] += max(short, 0) / len(covered)
    body = [max(lo, hi) for lo, hi in zip(least, body, strict=True)]
    return Columns(least, body, [max(lo, hi) for lo, hi in zip(body, natural, strict=True)])


def fit_table(tbl, name: str, page: Page, measure: TextWidth) -> Fitted:
    """Portrait if the body's lines fit the text width unbroken, else landscape (a wide table);
    smaller text (and a warning) if its words do not fit a landscape page either; as a last resort
    columns in proportion to their longest words, so words break but nothing is cut off."""
    columns = measure_columns(tbl, TABLE_POINTS, measure)
    if sum(columns.body) <= page.text_width:
        return Fitted(name, columns.fit(page.text_width))
    width = page.landscape_text_width
    widths = columns.fit(width)
    if widths is not None:
        return Fitted(name, widths, landscape=True)
    points = max(MIN_POINTS, math.floor(TABLE_POINTS * width / sum(columns.least) * 2) / 2)
    while True:
        columns = measure_columns(tbl, points, measure)
        widths = columns.fit(width)
        if widths is not None or points <= MIN_POINTS:
            break
        points -= 0.5
    note = f"{name} is too wide for a landscape page: its text is set at {points:g} pt"
    if widths is None:
        widths = _whole([w * width / sum(columns.least) for w in columns.least], width)
        note += ", and its longest words still break"
    return Fitted(name, widths, landscape=True, points=points, notes=[note])


RULE = {"val": "single", "sz": 6, "space": 0, "color": "auto"}


def rules(tbl, rows: list[list[Cell]], columns: int) -> None:
    """A three-line table: a rule above the table, below the header (the Table style's), and below
    the last row of data, above the notes (trailing rows of one cell across the table)."""
    borders = child(properties(tbl), "tblBorders")
    child(borders, "top", **RULE)
    notes = 0
    while notes < len(rows) and len(rows[-1 - notes]) == 1 and rows[-1 - notes][0].span == columns:
        notes += 1
    if notes and notes < len(rows):
        first_note = rows[-notes][0].element
        child(child(properties(first_note), "tcBorders"), "top", **RULE)
    else:
        child(borders, "bottom", **RULE)


def _paragraph_runs(p):
    return [r for r in p.iter(qn("w:r"))]


def apply_fit(tbl, fitted: Fitted) -> None:
    """Write the widths, repeat the header, keep rows whole, the Table Text style, left alignment."""
    tbl_pr = properties(tbl)
    child(tbl_pr, "tblW", w=sum(fitted.widths), type="dxa")
    child(tbl_pr, "jc", val="left")
    child(tbl_pr, "tblInd", w=0, type="dxa")
    child(tbl_pr, "tblLayout", type="fixed")
    margins = child(tbl_pr, "tblCellMar")
    for side in ("left", "right"):
        margins_side = margins.find(qn(f"w:{side}"))
        if margins_side is None:
            margins_side = OxmlElement(f"w:{side}")
            margins.append(margins_side)
        margins_side.set(qn("w:w"), str(CELL_MARGIN))
        margins_side.set(qn("w:type"), "dxa")
    grid = tbl.find(qn("w:tblGrid"))
    for col in list(grid):
        grid.remove(col)
    for width in fitted.widths:
        col = OxmlElement("w:gridCol")
        col.set(qn("w:w"), str(width))
        grid.append(col)
    count, rows = cells(tbl)
    rules(tbl, rows, count)
    for tr, row in zip(tbl.findall(qn("w:tr")), rows, strict=True):
        tr_pr = properties(tr)
        child(tr_pr, "cantSplit")
        if row and row[0].header:
            child(tr_pr, "tblHeader")
        for cell in row:
            width = sum(fitted.widths[cell.column : cell.column + cell.span])
            child(properties(cell.element), "tcW", w=width, type="dxa")
            for p in cell.element.iter(qn("w:p")):
                p_pr = properties(p)
                child(p_pr, "pStyle", val=TABLE_TEXT.replace(" ", ""))
                for name in ("jc", "spacing", "ind"):
                    drop(p_pr, name)
                if cell.header:
                    child(p_pr, "keepNext")
                if fitted.points != TABLE_POINTS:
                    for run in _paragraph_runs(p):
                        r_pr = properties(run)
                        half_points = str(round(fitted.points * 2))
                        child(r_pr, "sz", val=half_points)
                        child(r_pr, "szCs", val=half_points)


def _merge_paragraph_properties(p) -> None:
    """One `w:pPr` per paragraph, its children in schema order (Quarto writes two on captions)."""
    found = p.findall(qn("w:pPr"))
    if len(found) < 2:
        return
    merged = OxmlElement("w:pPr")
    for p_pr in found:
        for element in list(p_pr):
            name = element.tag.rsplit("}", 1)[-1]
            drop(merged, name)
            placed = child(merged, name)
            merged.replace(placed, element)
        p.remove(p_pr)
    p.insert(0, merged)


def _is_empty(p) -> bool:
    return (
        not text_of(p).strip()
        and p.find(f".//{qn('w:drawing')}") is None
        and p.find(f".//{qn('w:pict')}") is None
        and p.find(f"{qn('w:pPr')}/{qn('w:sectPr')}") is None
    )


def unwrap_layout_tables(body) -> int:
    """Replace each one-cell table holding a table or a figure by its content; return how many."""
    count = 0
    for tbl in list(body.findall(qn("w:tbl"))):
        rows = tbl.findall(qn("w:tr"))
        cells_ = rows[0].findall(qn("w:tc")) if len(rows) == 1 else []
        if len(cells_) != 1:
            continue
        cell = cells_[0]
        if cell.find(qn("w:tbl")) is None and cell.find(f".//{qn('w:drawing')}") is None:
            continue
        for element in list(cell):
            if tag(element) == "w:tcPr":
                continue
            if tag(element) == "w:p":
                _merge_paragraph_properties(element)
                if _is_empty(element):
                    continue
            tbl.addprevious(element)
        body.remove(tbl)
        count += 1
    return count


def _style(p) -> str:
    style = p.find(f"{qn('w:pPr')}/{qn('w:pStyle')}")
    return style.get(qn("w:val")) if style is not None else ""


def _neighbour(element, step: str):
    """The previous or next sibling that is a paragraph or table (bookmarks skipped)."""
    sibling = getattr(element, step)()
    while sibling is not None and tag(sibling) not in ("w:p", "w:tbl", "w:sectPr"):
        sibling = getattr(sibling, step)()
    return sibling


def is_caption(p) -> bool:
    return p is not None and tag(p) == "w:p" and (
        _style(p) in CAPTION_STYLES or bool(CAPTION_TEXT.match(text_of(p).strip()))
    )


def caption_of(tbl):
    before = _neighbour(tbl, "getprevious")
    return before if is_caption(before) else None


def _is_page_break(p) -> bool:
    return (
        p is not None and tag(p) == "w:p" and not text_of(p).strip()
        and p.find(f".//{qn('w:br')}[@{qn('w:type')}='page']") is not None
    )


def _section_end(sect_pr):
    """An empty, one-point paragraph that ends a section with these properties."""
    p = OxmlElement("w:p")
    p_pr = properties(p)
    child(p_pr, "spacing", before=0, after=0, line=20, lineRule="exact")
    p_pr.append(sect_pr)
    return p


def _landscape(sect_pr):
    turned = copy.deepcopy(sect_pr)
    size = child(turned, "pgSz")
    width, height = size.get(qn("w:w")), size.get(qn("w:h"))
    size.set(qn("w:w"), height)
    size.set(qn("w:h"), width)
    size.set(qn("w:orient"), "landscape")
    return turned


def _is_landscape_end(element) -> bool:
    size = None if element is None else element.find(f"{qn('w:pPr')}/{qn('w:sectPr')}/{qn('w:pgSz')}")
    return size is not None and size.get(qn("w:orient")) == "landscape"


def _is_blank(element) -> bool:
    """Nothing a reader sees: an empty paragraph (without a section break) or a bookmark."""
    if tag(element) in ("w:bookmarkStart", "w:bookmarkEnd"):
        return True
    return tag(element) == "w:p" and _is_empty(element)


def landscape_section(tbl, caption, body_sect_pr) -> None:
    """Put the caption and table in a landscape section of their own (continuing one just before).
    A page break just before the new section is dropped: the section break starts the page."""
    first = caption if caption is not None else tbl
    blanks, before = [], first.getprevious()
    while before is not None and _is_blank(before) and not _is_page_break(before):
        blanks.append(before)  # empty paragraphs (pandoc puts one between two tables) and bookmarks
        before = before.getprevious()
    page_break = before if _is_page_break(before) else None
    if page_break is not None:
        before = _neighbour(page_break, "getprevious")
    if _is_landscape_end(before):
        before.getparent().remove(before)  # the landscape section before goes on (its page break kept)
        for blank in blanks if caption is not None else []:  # (two tables never touch: Word joins them)
            if tag(blank) == "w:p":
                blank.getparent().remove(blank)
    elif page_break is not None:
        page_break.addprevious(_section_end(copy.deepcopy(body_sect_pr)))
        page_break.getparent().remove(page_break)  # the section break starts the page
    else:
        first.addprevious(_section_end(copy.deepcopy(body_sect_pr)))
    rest = [e for e in tbl.itersiblings() if tag(e) != "w:sectPr"]
    if all(_is_blank(e) for e in rest):  # the document ends here: its last section turns
        turned = _landscape(body_sect_pr)
        body_sect_pr.getparent().replace(body_sect_pr, turned)
    else:
        tbl.addnext(_section_end(_landscape(body_sect_pr)))


def page_breaks_before(body) -> None:
    """A paragraph holding only a page break (the submission filter writes them) becomes the
    next paragraph's "page break before", so it adds no empty, numbered line."""
    for p in list(body.findall(qn("w:p"))):
        if not _is_page_break(p):
            continue
        before, after = _neighbour(p, "getprevious"), _neighbour(p, "getnext")
        if before is not None and before.find(f"{qn('w:pPr')}/{qn('w:sectPr')}") is not None:
            body.remove(p)  # a section break just before starts the page already
        elif after is not None and tag(after) == "w:p":
            child(properties(after), "pageBreakBefore")
            body.remove(p)
        else:
            child(properties(p), "suppressLineNumbers")


def _keep_figures_with_captions(body) -> None:
    """A figure stays on the page of its caption; the picture's line is not numbered (not text)."""
    for p in body.iter(qn("w:p")):
        if p.find(f".//{qn('w:drawing')}") is None:
            continue
        child(properties(p), "suppressLineNumbers")
        after, before = _neighbour(p, "getnext"), _neighbour(p, "getprevious")
        if is_caption(after):
            child(properties(p), "keepNext")
        elif is_caption(before):
            child(properties(before), "keepNext")


def _separate_adjacent_tables(body) -> None:
    """Word joins two tables with nothing between them into one: keep an empty paragraph there."""
    for tbl in body.findall(qn("w:tbl")):
        after = tbl.getnext()
        if after is not None and tag(after) == "w:tbl":
            tbl.addnext(OxmlElement("w:p"))


def table_name(tbl, caption, number: int) -> str:
    text = " ".join(text_of(caption).split()) if caption is not None else ""
    if CAPTION_TEXT.match(text):
        return text.split(":", 1)[0]
    return f"table {number} ({text[:40] or 'no caption'})"


def lay_out(doc, page: Page) -> list[str]:
    """Lay out the open Word document in place; return the warnings (tables shrunk to fit)."""
    body = doc.element.body
    unwrap_layout_tables(body)
    _separate_adjacent_tables(body)
    measure = TextWidth()
    warnings = []
    for number, tbl in enumerate(list(body.findall(qn("w:tbl"))), 1):
        caption = caption_of(tbl)
        if caption is not None:
            child(properties(caption), "keepNext")
        fitted = fit_table(tbl, table_name(tbl, caption, number), page, measure)
        apply_fit(tbl, fitted)
        if fitted.landscape and body.find(qn("w:sectPr")) is not None:
            landscape_section(tbl, caption, body.find(qn("w:sectPr")))
        warnings += fitted.notes
    page_breaks_before(body)
    _keep_figures_with_captions(body)
    return warnings
