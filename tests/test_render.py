"""qrender end to end: build the fixture project once, read the three formats back."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from docx import Document
from pypdf import PdfReader

FIXTURE = Path(__file__).parent / "render" / "fixture"
QRENDER = Path(__file__).parents[1] / "qrender"


def render(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "qrender", str(project), *args],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parents[1],
    )


def copy_fixture(tmp: Path) -> Path:
    target = tmp / "project"
    ignore = shutil.ignore_patterns("_manuscript", ".cache", "_variables.yml", "bars.png", "__pycache__")
    shutil.copytree(FIXTURE, target, ignore=ignore)
    shutil.copytree(QRENDER, target / "qrender", ignore=ignore)  # the pre-render step imports it
    return target


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    project = copy_fixture(tmp_path_factory.mktemp("render"))
    result = render(project)
    assert result.returncode == 0, result.stderr
    return project / "_manuscript"


@pytest.fixture(scope="module")
def pdf_text(built) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(built / "article.pdf").pages)


@pytest.fixture(scope="module")
def docx(built):
    return Document(str(built / "article.docx"))


@pytest.fixture(scope="module")
def html(built) -> BeautifulSoup:
    return BeautifulSoup((built / "index.html").read_text(encoding="utf-8"), "lxml")


def docx_text(doc) -> str:
    """Body, tables and the page header (where the synthetic-data notice stands)."""
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    header = [p.text for p in doc.sections[0].header.paragraphs]
    return "\n".join(header + [p.text for p in doc.paragraphs] + cells)


def test_three_formats_written(built):
    assert {p.name for p in built.iterdir()} >= {"article.pdf", "article.docx", "index.html"}


@pytest.mark.parametrize("fmt", ["pdf", "docx", "html"])
def test_content_resolved_in_every_format(fmt, pdf_text, docx, html):
    text = {"pdf": pdf_text, "docx": docx_text(docx), "html": html.get_text(" ")}[fmt]
    text = re.sub(r"\s+([).,;:])", r"\1", " ".join(text.split()))
    for expected in [
        "Fixture Trial Report",
        "Introduction",
        "Figure 1: Kaplan-Meier estimate of survival.",
        "Table 1: Patients per arm.",
        "Table 2: A great_tables table with a spanner and row groups.",
        "Figure 2: Bars drawn from an image file.",
        "the median was 8.0 months (see Figure 1)",
        "We studied 8 patients",
        "the curve in Figure 1, counts in Table 1 and Table 2",
        "Results are in Results",
        "Spanning header",
        "Source note under the table.",
        "Kaplan EL, Meier P",
        "Author One (placeholder)",
        "Placeholder University Hospital",
        "Corresponding author",
        "Keywords: survival; rendering",
        "SYNTHETIC DATA",
    ]:
        assert expected in text, f"{fmt}: {expected!r} missing"
    for leftover in ["??", "[@", "@fig-", "@tbl-", "@sec-", "{python}", "QRENDERTABLE"]:
        assert leftover not in text, f"{fmt}: {leftover!r} left in output"


def test_docx_table_keeps_spanner_and_row_groups(docx):
    table = docx.tables[1]
    header = [c.text for c in table.rows[0].cells]
    assert header.count("Spanning header") == 2
    merged = table.rows[0].cells[1]._tc is table.rows[0].cells[2]._tc
    assert merged, "spanner should be one merged cell over two columns"
    group_row = [c.text for c in table.rows[2].cells]
    assert group_row == ["A", "A", "A"]


def test_stamp_on_every_output(built, pdf_text, docx, html):
    data_sha = hashlib.sha256((FIXTURE / "data" / "trial.csv").read_bytes()).hexdigest()
    assert f"data sha256 {data_sha}" in " ".join(pdf_text.split())
    assert data_sha in PdfReader(built / "article.pdf").metadata.get("/Keywords", "")
    assert data_sha in docx.core_properties.comments
    assert data_sha in docx.sections[0].footer.paragraphs[0].text
    assert data_sha in html.find("meta", attrs={"name": "build-stamp"})["content"]
    assert data_sha in html.find("footer", class_="build-stamp").text


def test_html_provenance_span_and_phone_viewport(html):
    span = html.find("span", class_="num")
    assert span.text == "42.0"
    assert span["data-key"] == "demo.key" and span["data-source"] == "demo.fn"
    assert "demo.key" in span["title"] and "a method" in span["title"]
    assert "width=device-width" in html.find("meta", attrs={"name": "viewport"})["content"]
    assert html.find("img")["src"].startswith("data:image/png;base64,"), "HTML must be self-contained"


def test_noop_rebuild_and_content_staleness(tmp_path):
    project = copy_fixture(tmp_path)
    assert render(project).returncode == 0
    again = render(project)
    assert again.returncode == 0 and "up to date" in again.stdout
    data = project / "data" / "trial.csv"
    data.write_text(data.read_text() + "7,1,B\n")
    changed = render(project)
    assert changed.returncode == 0 and "up to date" not in changed.stdout
    assert "We studied 9 patients" in " ".join(
        p.extract_text() for p in PdfReader(project / "_manuscript" / "article.pdf").pages
    )


def _append(project: Path, text: str) -> None:
    qmd = project / "article.qmd"
    qmd.write_text(qmd.read_text() + text)


def _line_of(project: Path, needle: str) -> int:
    lines = (project / "article.qmd").read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if needle in line)


@pytest.mark.parametrize(
    ("addition", "needle", "message"),
    [
        ("\nSee @fig-nope.\n", "@fig-nope", "unknown cross-reference @fig-nope"),
        ("\nAs shown [@nobody2020].\n", "@nobody2020", "unknown citation key @nobody2020"),
        ("\n{{< pagebreak >}}\n", "pagebreak", "shortcode {{< pagebreak >}} is not supported"),
        ("\n::: {.callout-note}\nNote\n:::\n", "callout", "div '::: {.callout-note}' is not supported"),
        ("\n```{r}\n1 + 1\n```\n", "{r}", "```{r} chunks are not supported"),
        ("\n```{python}\n#| cache: true\n1\n```\n", "cache", "chunk option 'cache' is not supported"),
        ("\nSee {{< var nope.key >}}.\n", "nope.key", "unknown var nope.key"),
    ],
)
def test_unsupported_or_unknown_stops_with_file_and_line(tmp_path, addition, needle, message):
    project = copy_fixture(tmp_path)
    _append(project, addition)
    result = render(project)
    assert result.returncode == 2
    assert f"article.qmd:{_line_of(project, needle)}: {message}" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (project / "_manuscript").exists()


def test_chunk_error_names_chunk_and_line_and_keeps_previous_outputs(tmp_path):
    project = copy_fixture(tmp_path)
    assert render(project).returncode == 0
    pdf = project / "_manuscript" / "article.pdf"
    before = pdf.read_bytes()
    _append(project, "\n```{python}\n#| label: broken\nx = 1\ny = x / 0\n```\n")
    result = render(project)
    assert result.returncode == 1
    line = _line_of(project, "y = x / 0")
    assert f"article.qmd:{line}: chunk 'broken' failed: ZeroDivisionError" in result.stderr
    assert "Traceback" not in result.stderr
    assert pdf.read_bytes() == before
    assert not list(project.glob("._manuscript-*")), "staging folder must be cleaned up"


def test_front_matter_code_runs_before_any_chunk(tmp_path):
    """Quarto's meaning: the front matter is evaluated first, so it cannot use a chunk's names."""
    project = copy_fixture(tmp_path)
    qmd = project / "article.qmd"
    qmd.write_text(qmd.read_text().replace("{{< var trial.median >}}", "`{python} n_patients`", 1))
    result = render(project)
    assert result.returncode == 1
    assert "inline expression `n_patients` failed: NameError" in result.stderr
    assert "Traceback" not in result.stderr


def test_variables_from_the_pre_render_step(built, pdf_text):
    """The abstract's median comes from _variables.yml, written by the fixture's pre-render step."""
    assert "the median was 8.0 months" in " ".join(pdf_text.split())


def test_failed_pre_render_keeps_previous_outputs(tmp_path):
    project = copy_fixture(tmp_path)
    assert render(project).returncode == 0
    pdf = project / "_manuscript" / "article.pdf"
    before = pdf.read_bytes()
    (project / "prerender.py").write_text("import sys\nsys.exit('pre-render: the data are broken')\n")
    result = render(project)
    assert result.returncode == 1
    assert "pre-render: the data are broken" in result.stderr
    assert "pre-render script 'prerender.py' failed" in result.stderr
    assert pdf.read_bytes() == before


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("  docx:\n", "  docx:\n    toc: true\n", "format docx: option(s) ['toc'] are not supported"),
        ("    citeproc: true\n", "", "format typst needs 'citeproc: true'"),
        ("  render: [article.qmd]", "  render: [other.qmd]", "does not list the article article.qmd"),
    ],
)
def test_project_options_outside_the_subset_stop_the_build(tmp_path, old, new, message):
    project = copy_fixture(tmp_path)
    config = project / "_quarto.yml"
    assert old in config.read_text()
    config.write_text(config.read_text().replace(old, new, 1))
    result = render(project)
    assert result.returncode == 2 and message in result.stderr
    assert "Traceback" not in result.stderr


def test_outputs_are_readable_by_others(built):
    """The published folder comes from a private temporary folder; it must not stay mode 0700."""
    assert built.stat().st_mode & 0o777 == 0o755
    for path in built.rglob("*"):
        assert path.stat().st_mode & 0o044 == 0o044, f"{path.name} is not readable by others"


def _report(project: Path) -> dict:
    import json

    return json.loads((project / ".cache" / "qrender" / "report.json").read_text())


def _ran(project: Path) -> list[str]:
    steps = _report(project)["steps"]
    return [s["name"] for s in steps if s["kind"] in ("front", "chunk", "inline") and s["status"] == "ran"]


def _html(project: Path) -> str:
    soup = BeautifulSoup((project / "_manuscript" / "index.html").read_text(encoding="utf-8"), "lxml")
    return " ".join(soup.get_text(" ").split())


def test_code_reused_until_what_it_read_or_wrote_changes(tmp_path):
    """A chunk's output is reused while its code, all code before it, and every file it read or
    wrote hold; a file outside `qrender.inputs` counts as much as one inside."""
    project = copy_fixture(tmp_path)
    _append(project, "\n```{python}\n#| label: notes\nprint(open('notes.txt').read())\n```\n")
    (project / "notes.txt").write_text("first note")
    assert render(project).returncode == 0
    assert "notes" in _ran(project) and "first note" in _html(project)

    qmd = project / "article.qmd"
    qmd.write_text(qmd.read_text().replace("Survival curves follow", "Survival curves always follow"))
    assert render(project).returncode == 0
    assert _ran(project) == [], "a prose edit runs no code"
    assert "Survival curves always follow Kaplan and Meier" in _html(project)

    (project / "notes.txt").write_text("second note")  # not a declared input, but read by a chunk
    again = render(project)
    assert again.returncode == 0 and "up to date" not in again.stdout
    assert "notes" in _ran(project) and "second note" in _html(project)

    (project / "figures" / "bars.png").unlink()  # written by the setup chunk
    assert render(project).returncode == 0
    assert "setup" in _ran(project) and (project / "figures" / "bars.png").exists()

    qmd.write_text(qmd.read_text().replace("n_patients = len(trial)", "n_patients = len(trial) + 1"))
    assert render(project).returncode == 0
    assert {"setup", "fig-km", "tbl-arms", "tbl-gt", "notes"} <= set(_ran(project))
    assert "We studied 9 patients" in _html(project)


WIDE_TABLES = '''
```{python}
#| label: tbl-broad
#| tbl-cap: "Eight columns: too wide for a portrait page."
pd.DataFrame({f"measurement{i:02d}": ["v"] for i in range(1, 9)})
```

```{python}
#| label: tbl-wide
#| tbl-cap: "Forty columns: too wide even for a landscape page."
pd.DataFrame({f"measurement{i:02d}": ["v"] for i in range(1, 41)})
```
'''


def _section_after(tbl):
    """The properties of the section a body table ends up in (the next section break after it)."""
    from docx.oxml.ns import qn

    for element in tbl.itersiblings():
        found = element.find(f"{qn('w:pPr')}/{qn('w:sectPr')}") if element.tag == qn("w:p") else None
        if found is not None:
            return found
        if element.tag == qn("w:sectPr"):
            return element
    return None


def test_wide_tables_turn_landscape_and_too_wide_ones_shrink_with_a_warning(tmp_path):
    """Never cut off: a table too wide for portrait goes landscape (Word section, flipped typst
    page); one too wide even for landscape is set smaller, with a warning that names it."""
    from docx.oxml.ns import qn

    from tests.clients import read_pdf, soffice, word_to_pdf

    project = copy_fixture(tmp_path)
    _append(project, WIDE_TABLES)
    result = render(project)
    assert result.returncode == 0, result.stderr
    assert "warning: Table 4 is too wide for a landscape page" in result.stderr
    assert "Table 3 is too wide" not in result.stderr
    out = project / "_manuscript"
    doc = Document(str(out / "article.docx"))
    tables = doc.element.body.findall(qn("w:tbl"))
    landscape_width = (29.7 - 5.0) / 2.54 * 1440  # A4 turned, 2.5 cm margins (the fixture's page)
    for tbl in tables[-2:]:
        size = _section_after(tbl).find(qn("w:pgSz"))
        assert size.get(qn("w:orient")) == "landscape"
        width = tbl.find(f"{qn('w:tblPr')}/{qn('w:tblW')}")
        assert int(width.get(qn("w:w"))) <= landscape_width + 2  # twips rounded
    assert _section_after(tables[0]).find(qn("w:pgSz")).get(qn("w:orient")) is None
    sizes = tables[-1].findall(f".//{qn('w:sz')}")
    assert sizes and all(int(s.get(qn("w:val"))) < 18 for s in sizes), "smaller than the 9 pt of tables"
    renderings = [read_pdf(out / "article.pdf")]
    if soffice():
        renderings.append(read_pdf(word_to_pdf(out / "article.docx", tmp_path / "word")))
    for paged in renderings:
        for name in ("Table 3:", "Table 4:"):
            page = paged.pages_starting(name)[0]
            width, height = paged.sizes[page]
            assert width > height, f"{paged.pdf.name}: {name} is not on a landscape page"
            assert all(w.x1 <= width for w in paged.words[page]), f"{paged.pdf.name}: {name} cut off"
    names = set(re.findall(r"measurement\d\d", " ".join(renderings[0].texts)))
    assert len(names) == 40, "typst: the shrunk table keeps every word whole"


def test_missing_figure_file_stops_the_build_naming_it(tmp_path):
    project = copy_fixture(tmp_path)
    _append(project, "\n![Not drawn yet.](figures/not-drawn.png){#fig-missing}\n")
    result = render(project)
    assert result.returncode != 0
    assert "figure file not found: figures/not-drawn.png" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (project / "_manuscript").exists()


def _body_texts(doc) -> list[str]:
    return [p.text for p in doc.paragraphs]


def test_tables_and_figures_in_the_text_by_default(docx):
    texts = _body_texts(docx)
    assert texts.index("Table 1: Patients per arm.") < texts.index("References")
    assert "Figure legends" not in texts


def test_tables_and_figures_after_the_references_when_asked(tmp_path):
    """`qrender: floats: end`: Word and PDF carry the floats after the references, each starting a
    page, the figure legends listed first; the HTML keeps them in the text."""
    project = copy_fixture(tmp_path)
    config = project / "_quarto.yml"
    config.write_text(config.read_text().replace("qrender:\n", "qrender:\n  floats: end\n", 1))
    result = render(project)
    assert result.returncode == 0, result.stderr
    out = project / "_manuscript"
    doc = Document(str(out / "article.docx"))
    texts = _body_texts(doc)
    references, legends = texts.index("References"), texts.index("Figure legends")
    assert references < legends
    assert texts[legends + 1 : legends + 3] == [
        "Figure 1: Kaplan-Meier estimate of survival.", "Figure 2: Bars drawn from an image file.",
    ]
    captions = [p for p in doc.paragraphs if re.match(r"^(Table|Figure) \d+:", p.text)][2:]
    assert len(captions) == 4 and all(texts.index(p.text, legends + 3) > legends for p in captions)
    pdf = PdfReader(out / "article.pdf")
    pages = [" ".join(page.extract_text().split()) for page in pdf.pages]
    legends_page = next(i for i, t in enumerate(pages) if "Figure legends" in t)
    for caption in ("Table 1: Patients per arm.", "Table 2: A great_tables", "Figure 2: Bars drawn"):
        found = [i for i, t in enumerate(pages) if caption in t]
        assert found[-1] > legends_page, caption
    html = BeautifulSoup((out / "index.html").read_text(encoding="utf-8"), "lxml").get_text(" ")
    assert "Figure legends" not in html
    assert html.index("Patients per arm") < html.index("Kaplan EL, Meier P")


def test_unknown_floats_setting_stops_the_build(tmp_path):
    project = copy_fixture(tmp_path)
    config = project / "_quarto.yml"
    config.write_text(config.read_text().replace("qrender:\n", "qrender:\n  floats: margin\n", 1))
    result = render(project)
    assert result.returncode == 2 and "qrender.floats must be one of ['in-text', 'end']" in result.stderr
