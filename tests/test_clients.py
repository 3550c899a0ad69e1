"""The article opened in the programs its readers use, for both renderers: the Word file rendered by
LibreOffice (as an editor sees it), the typst PDF read by poppler, the HTML loaded in Chromium.

The Word rendering is made once per renderer and session; its pages are also written as PNGs to
`_manuscript/word-pages/` (qrender) and `_manuscript/word-pages-quarto/`, for anyone to look at.
"""

from __future__ import annotations

import re
import statistics
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn

from tests.clients import chromium, open_in_chromium, page_pngs, read_pdf, served, soffice, word_to_pdf
from tests.conftest import ROOT, build, copy_project, needs_quarto

pytestmark = [
    pytest.mark.skipif(not soffice(), reason="LibreOffice (soffice) not found: `make test` installs it"),
]
RENDERERS = ["qrender", pytest.param("quarto", marks=needs_quarto)]
MARGIN_X, MARGIN_Y = 2.2 / 2.54 * 72, 2.5 / 2.54 * 72  # _quarto.yml: typst margin, also Word's page
RUNNING_TITLE = "HAIC after atezolizumab-bevacizumab failure"
NBSP = "\u00a0"


@pytest.fixture(scope="session", params=RENDERERS)
def renderer(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def outputs(renderer, request) -> Path:
    return request.getfixturevalue("built" if renderer == "qrender" else "quarto_built")


@pytest.fixture(scope="session")
def word(outputs, renderer, tmp_path_factory):
    """LibreOffice's rendering of the Word file, and its pages as PNGs under _manuscript/."""
    pdf = word_to_pdf(outputs / "manuscript.docx", tmp_path_factory.mktemp(f"word-{renderer}"))
    folder = "word-pages" if renderer == "qrender" else f"word-pages-{renderer}"
    rendering = read_pdf(pdf)
    rendering.pngs = page_pngs(pdf, ROOT / "_manuscript" / folder)
    return rendering


@pytest.fixture(scope="session")
def typst_pdf(outputs):
    return read_pdf(outputs / "manuscript.pdf")


@pytest.fixture(scope="session")
def docx(outputs):
    return Document(str(outputs / "manuscript.docx"))


@pytest.fixture(params=["word", "typst"])
def paged(request, word, typst_pdf):
    """Both paged renderings: Word as LibreOffice draws it, and the typst PDF."""
    return word if request.param == "word" else typst_pdf


@pytest.fixture(scope="session")
def in_text(tmp_path_factory):
    """The article built by qrender with `qrender: floats: in-text`: its typst PDF and LibreOffice's
    rendering of its Word file."""
    project = copy_project(tmp_path_factory.mktemp("in-text") / "project")
    config = project / "_quarto.yml"
    config.write_text(config.read_text().replace("floats: end", "floats: in-text"))
    out = build(project)
    word_pdf = word_to_pdf(out / "manuscript.docx", tmp_path_factory.mktemp("word-in-text"))
    return read_pdf(out / "manuscript.pdf"), read_pdf(word_pdf), Document(str(out / "manuscript.docx"))


def test_tables_and_figures_in_the_text_when_asked(in_text):
    """`floats: in-text`: tables sit in the text, before the references, as laid out as at the end."""
    typst, word, doc = in_text
    assert len(word.texts) <= 1.5 * len(typst.texts), (len(word.texts), len(typst.texts))
    for paged in (typst, word):
        assert not paged.pages_starting("Figure legends")
        assert paged.pages_starting("Table 1:")[0] < paged.pages_starting("References")[-1]
        test_no_blank_page(paged)
    for name, tbl in tables_with_captions(doc):
        cells = [c for row in header_rows(tbl) for c in row] or [
            "".join(t.text or "" for t in tbl.iter(qn("w:t")))
        ]
        header = next(w for cell in cells for w in cell.replace(NBSP, " ").split())
        page = " ".join(word.lines(word.pages_starting(f"{name}:")[0]))
        assert header in page[page.index(f"{name}:") :], f"{name}: not on its caption's page"


def tables_with_captions(doc) -> list[tuple[str, object]]:
    """Each table of the Word file with its caption's "Table N" (from the paragraph before it)."""
    found, caption = [], None
    for element in doc.element.body:
        if element.tag == qn("w:p"):
            text = " ".join("".join(t.text or "" for t in element.iter(qn("w:t"))).split())
            match = re.match(r"^(Table \d+):", text)
            caption = match.group(1) if match else (caption if not text else None)
        elif element.tag == qn("w:tbl"):
            found.append((caption or "uncaptioned", element))
            caption = None
    return found


def header_rows(tbl) -> list[list[str]]:
    rows = []
    for tr in tbl.iter(qn("w:tr")):
        if tr.find(f"{qn('w:trPr')}/{qn('w:tblHeader')}") is None:
            break
        rows.append(["".join(t.text or "" for t in tc.iter(qn("w:t"))) for tc in tr.iter(qn("w:tc"))])
    return rows


def first_column(tbl) -> list[str]:
    """The row labels: each body row's first cell (indentation kept)."""
    labels = []
    for tr in tbl.iter(qn("w:tr")):
        cells = tr.findall(qn("w:tc"))
        if cells and tr.find(f"{qn('w:trPr')}/{qn('w:tblHeader')}") is None:
            labels.append("".join(t.text or "" for t in cells[0].iter(qn("w:t"))))
    return labels


def test_word_has_at_most_one_and_a_half_times_the_pages_of_the_pdf(word, typst_pdf):
    assert len(word.texts) <= 1.5 * len(typst_pdf.texts), (len(word.texts), len(typst_pdf.texts))


def test_word_pages_written_as_pngs(word):
    assert len(word.pngs) == len(word.texts)
    assert all(p.stat().st_size > 2000 and p.parent.parent == ROOT / "_manuscript" for p in word.pngs)


def test_no_word_of_a_table_header_breaks_in_word(word, docx):
    tokens = set(" ".join(word.texts).replace(NBSP, " ").split())
    broken = []
    for name, tbl in tables_with_captions(docx):
        for row in header_rows(tbl):
            for cell in row:
                broken += [(name, w) for w in cell.replace(NBSP, " ").split() if w not in tokens]
    assert not broken, broken


def test_each_table_starts_on_the_page_of_its_caption_in_word(word, docx):
    tables = tables_with_captions(docx)
    assert len([n for n, _ in tables if n != "uncaptioned"]) >= 8
    for name, tbl in tables:
        if name == "uncaptioned":
            continue
        pages = word.pages_starting(f"{name}:")
        assert pages, f"{name}: caption not found in the Word rendering"
        header = next(w for row in header_rows(tbl) for cell in row for w in cell.replace(NBSP, " ").split())
        page = " ".join(word.lines(pages[0]))
        caption_at = page.index(f"{name}:")
        assert header in page[caption_at:], f"{name}: caption on page {pages[0] + 1}, table not"


def test_header_rows_repeat_on_every_page_of_a_long_table(word, docx):
    # the numbers table, several pages long (headed "Key")
    name, tbl = next((n, t) for n, t in tables_with_captions(docx) if header_rows(t)[0][0].strip() == "Key")
    first = word.pages_starting(f"{name}:")[0]
    header = [w for row in header_rows(tbl) for cell in row for w in cell.split()]
    following = [
        p
        for p in range(first + 1, len(word.texts))
        if any(re.match(r"(Table|Figure) \d+:", x) for x in word.lines(p))
    ]
    pages = range(first, following[0] if following else len(word.texts))  # up to the next float's page
    assert len(pages) > 1, f"{name} should run over several pages"
    for page in pages:
        assert set(header) <= set(word.texts[page].split()), f"{name}: page {page + 1} lacks the header"


def test_landscape_sections_print_on_landscape_pages(word, docx):
    turned = [
        s
        for s in docx.element.body.iter(qn("w:sectPr"))
        if s.find(f"{qn('w:pgSz')}[@{qn('w:orient')}='landscape']") is not None
    ]
    landscape_pages = [i for i, (w, h) in enumerate(word.sizes) if w > h]
    assert bool(turned) == bool(landscape_pages)
    for page in landscape_pages:  # a table's page: turned for the table, nothing cut off
        width = word.sizes[page][0]
        assert all(w.x1 <= width - MARGIN_X + 2 for w in word.words[page]), f"page {page + 1}"


def test_running_header_on_one_line(paged):
    for number, words in enumerate(paged.words, 1):
        head = [w for w in words if w.y1 < MARGIN_Y]
        assert RUNNING_TITLE.split()[-1] in {w.text for w in head}, f"page {number}: no running title"
        assert max(w.y0 for w in head) - min(w.y0 for w in head) < 1.5, f"page {number}: header wraps"


def test_no_blank_page(paged):
    """Section breaks and page breaks never leave a page with nothing but its header and footer."""
    for number, (words, (_, height)) in enumerate(zip(paged.words, paged.sizes, strict=True), 1):
        body = [w for w in words if MARGIN_Y < w.y0 < height - MARGIN_Y and not w.text.isdigit()]
        assert body, f"page {number} is blank"


def line_numbers(paged, page: int):
    """The line numbers of a page: numerals left of the text."""
    return [w for w in paged.words[page] if w.text.isdigit() and w.x1 < MARGIN_X - 2]


def test_line_numbers_on_the_body_only(paged):
    height = paged.sizes[0][1]
    counted = [line_numbers(paged, i) for i in range(len(paged.texts))]
    assert max(len(c) for c in counted) >= 20, "the body's lines are numbered"
    for number, found in enumerate(counted, 1):
        outside = [w.text for w in found if w.y1 < MARGIN_Y or w.y0 > height - MARGIN_Y]
        assert not outside, f"page {number}: header or footer lines numbered {outside}"
    for name in ("Table 1:", "Table 3:"):  # a table's page: its caption's lines at most
        page = paged.pages_starting(name)[0]
        assert len(line_numbers(paged, page)) <= 3, f"{name} rows are numbered"


def test_tables_and_figures_after_the_references_one_per_page(paged):
    """`qrender: floats: end`: references, then figure legends, then a page per table and figure."""
    references = paged.pages_starting("References")[-1]
    legends = paged.pages_starting("Figure legends")[0]
    assert references <= legends
    for kind, count in (("Table", 8), ("Figure", 5)):
        for number in range(1, count + 1):
            pages = [p for p in paged.pages_starting(f"{kind} {number}:") if p > legends]
            assert pages, f"{kind} {number} is not after the figure legends"
            captions = [line for line in paged.lines(pages[-1]) if re.match(r"^(Table|Figure) \d+:", line)]
            assert len(captions) == 1, f"{kind} {number} shares its page: {captions}"


def test_tables_single_spaced_and_row_labels_left_aligned_and_indented(paged, docx):
    name, tbl = tables_with_captions(docx)[0]
    page = paged.pages_starting(f"{name}:")[0]
    caption_y = next(w.y0 for w in paged.words[page] if w.text == "Table")
    left = [
        w
        for w in paged.words[page]
        if w.x0 < MARGIN_X + 30 and w.y0 > caption_y + 5 and not (w.text.isdigit() and w.x1 < MARGIN_X)
    ]
    labels = first_column(tbl)
    groups = {lab.split()[0] for lab in labels if lab and not lab.startswith(NBSP)}
    levels = {lab.strip(NBSP).split()[0] for lab in labels if lab.startswith(NBSP)}
    assert groups and levels
    first = {}  # each line's first word: a label's later words ("> 3") are not label starts
    for w in sorted(left, key=lambda w: w.x0):
        first.setdefault(round(w.y0), w)
    group_x = {round(w.x0) for w in first.values() if w.text in groups - levels}
    level_x = {round(w.x0) for w in first.values() if w.text in levels - groups}
    assert len(group_x) == 1 and len(level_x) == 1, (group_x, level_x)  # one left edge each
    assert 4 <= level_x.pop() - group_x.pop() <= 30, "levels are indented under their variable"
    rows = sorted({round(w.y0, 1) for w in left})
    body_pitch = statistics.median(
        b.y0 - a.y0 for a, b in zip(line_numbers(paged, 2), line_numbers(paged, 2)[1:], strict=False)
    )
    # rows, their cell padding included, are far closer than the double-spaced lines of the body
    assert statistics.median(b - a for a, b in zip(rows, rows[1:], strict=False)) < 0.7 * body_pitch


def test_footnote_marks_are_superscript_letters_in_word(word, docx):
    _, tbl = tables_with_captions(docx)[0]
    marks = [r for r in tbl.iter(qn("w:r")) if r.find(f"{qn('w:rPr')}/{qn('w:vertAlign')}") is not None]
    assert marks, "Table 1 marks its tests"
    words = [w for page in word.words for w in page]
    text = statistics.median(w.y1 - w.y0 for w in words)
    small = [w for w in words if w.text in ("a", "b", "c") and w.y1 - w.y0 < 0.8 * text]
    assert len(small) >= len(marks) * 0.9, (len(small), len(marks))


def test_word_figures_at_print_resolution(docx):
    import io

    from PIL import Image

    images = docx.element.body.findall(f".//{qn('wp:inline')}")
    assert len(images) >= 5
    for inline in images:
        extent = inline.find(qn("wp:extent"))
        blip = inline.find(f".//{qn('a:blip')}")
        part = docx.part.related_parts[blip.get(qn("r:embed"))]
        pixels = Image.open(io.BytesIO(part.blob)).width
        inches = int(extent.get("cx")) / 914400
        assert pixels / inches >= 295, f"{part.partname}: {pixels / inches:.0f} dpi"


#: Each body row's first cell of the table listing "Male" (Table 1): its text, where its first visible
#: character starts, its alignment.
ROW_LABELS = """(() => {
  const table = [...document.querySelectorAll('table')].find(t => /Male/.test(t.textContent));
  const start = cell => {
    const node = [...cell.childNodes].find(n => n.nodeType === Node.TEXT_NODE);
    const at = node.textContent.search(/[^\\s\\u00a0]/);
    const range = document.createRange();
    range.setStart(node, at);
    range.setEnd(node, at + 1);
    return range.getBoundingClientRect().left;
  };
  return [...table.querySelectorAll('tbody tr')].map(tr => tr.cells[0])
    .filter(cell => cell && cell.textContent.trim())
    .map(cell => ({text: cell.textContent, x: start(cell), align: getComputedStyle(cell).textAlign}));
})()"""


@pytest.mark.skipif(not chromium(), reason="Chromium not found: `make test` installs it")
def test_html_in_chromium(outputs):
    """Served as a website serves it, the page renders without a script or resource error, every
    number carries its provenance (shown on hover), and the row labels stand left-aligned, indented
    under their variable."""
    with served(outputs) as site:
        report = open_in_chromium(
            f"{site}/index.html",
            {
                "height": "document.body.scrollHeight",
                "title": "document.title",
                "numbers": """[...document.querySelectorAll('span.num')].map(s => ({
                text: s.textContent, key: s.dataset.key || '', method: s.dataset.method || '',
                source: s.dataset.source || ''}))""",
                "hover": "getComputedStyle(document.querySelector('span.num:hover'), '::after').content",
                "labels": ROW_LABELS,
            },
            hover="span.num",
        )
    assert not report.errors, report.errors
    assert report.values["height"] > 3000 and "atezolizumab" in report.values["title"]
    numbers = report.values["numbers"]
    assert len(numbers) > 80
    assert all(n["key"] and n["method"] and n["source"].startswith("analysis.") for n in numbers)
    assert numbers[0]["key"] in report.values["hover"], "hovering a number shows where it comes from"
    labels = report.values["labels"]
    groups = {round(c["x"]) for c in labels if not c["text"].startswith(NBSP)}
    levels = {round(c["x"]) for c in labels if c["text"].startswith(NBSP)}
    assert len(groups) == 1 and len(levels) == 1 and 4 <= levels.pop() - groups.pop() <= 40
    assert {c["align"] for c in labels} <= {"left", "start"}
