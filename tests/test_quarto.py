"""Real Quarto builds the same article as qrender: run whenever a Quarto is found.

Quarto is found as `$QUARTO` or `quarto` on PATH (`.ci/run` installs the kit from ../shared/quarto
first). Without one these tests are skipped, and the skip says why.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from bs4 import BeautifulSoup
from pypdf import PdfReader

from tests.conftest import QUARTO, copy_project, needs_quarto, quarto
from tests.readback import content

pytestmark = needs_quarto
OUTPUTS = {"pdf": "manuscript.pdf", "docx": "manuscript.docx", "html": "index.html"}


def test_quarto_writes_every_format_without_error(quarto_built, quarto_render):
    for name in [*OUTPUTS.values(), "numbers.json", "analysis-data.csv"]:
        assert (quarto_built / name).exists(), name
    log = quarto_render.stdout + quarto_render.stderr
    errors = [line for line in log.splitlines() if "ERROR" in line or "(E)" in line or "Traceback" in line]
    assert not errors, errors
    assert "fixture" not in log, "test fixtures must not be rendered as notebooks of the article"


@pytest.mark.parametrize("fmt", list(OUTPUTS))
def test_same_article_from_quarto_and_qrender(quarto_built, built, fmt):
    ours, theirs = content(built / OUTPUTS[fmt]), content(quarto_built / OUTPUTS[fmt])
    if fmt == "pdf":  # page breaks repeat table headers in different places
        assert set(ours.numbers) == set(theirs.numbers)
    else:
        assert ours.numbers == theirs.numbers, (ours.numbers - theirs.numbers, theirs.numbers - ours.numbers)
    assert ours.phrases == theirs.phrases
    assert ours.captions == theirs.captions and len(ours.captions) == 22
    assert ours.crossrefs == theirs.crossrefs
    assert ours.references == theirs.references and len(ours.references) == 32
    assert ours.order == theirs.order and ours.order[-2:] == ["References", "Supplementary material"]
    assert ours.spans == theirs.spans


def test_quarto_html_numbers_carry_their_provenance(quarto_built):
    soup = BeautifulSoup((quarto_built / "index.html").read_text(encoding="utf-8"), "lxml")
    spans = soup.find_all("span", class_="num")
    heading = soup.find(id="abstract")  # the abstract follows its heading, as in qrender's title block
    assert heading is not None
    assert any(p.find("span", class_="num") for p in heading.find_next_siblings("p", limit=4))
    assert len(spans) > 100
    assert all(s.get("data-key") and s.get("data-source", "").startswith("analysis.") for s in spans)


def _runs(page) -> list[tuple[float, str]]:
    runs: list[tuple[float, str]] = []

    def visit(text, cm, tm, font, size) -> None:
        if text.strip():
            runs.append((cm[5] + tm[5] * cm[3], text.strip()))

    page.extract_text(visitor_text=visit)
    return runs


@pytest.mark.parametrize("which", ["qrender", "quarto"])
def test_typst_tables_break_within_the_page_body(which, built, quarto_built):
    """Tables break across pages: no text below the bottom margin but the footer's stamp and page
    number (an unbreakable table runs over the page foot, onto its own notes and the footer)."""
    bottom = 2.5 / 2.54 * 72  # margin y: 2.5cm in _quarto.yml, in points
    folder = {"qrender": built, "quarto": quarto_built}[which]
    for number, page in enumerate(PdfReader(folder / OUTPUTS["pdf"]).pages, 1):
        runs = _runs(page)
        assert any("data sha256" in text for _, text in runs), f"page {number}: no stamp in the footer"
        body = [(y, text) for y, text in runs if "data sha256" not in text and not text.isdigit()]
        lowest = min(body, default=(1e9, ""))
        assert lowest[0] >= bottom - 1, f"page {number}: {lowest[1]!r} at y={lowest[0]:.0f} is in the margin"


def test_quarto_without_the_project_python_names_the_one_to_use(tmp_path):
    project = copy_project(tmp_path / "project")
    result = quarto(project, python=None)  # the kit's own Python: Jupyter only, no pandas
    assert result.returncode != 0
    assert "QUARTO_PYTHON=" in result.stdout + result.stderr


def _counts(folder: Path, formats: tuple[str, ...] = tuple(OUTPUTS)) -> dict[str, tuple[str, ...]]:
    """Patients in each format: the abstract's count (a `var` shortcode, written by the pre-render
    step) and the Results' counts (inline code, run by Quarto's kernel or frozen)."""
    from tests.readback import _lines

    said = {}
    for fmt in formats:
        text = " ".join(_lines(folder / OUTPUTS[fmt]))
        abstract = re.findall(r"cohort included (\d+) patients", text)
        results = re.findall(
            r"Of the (\d+) patients, (\d+) received HAIC as first-line therapy and (\d+) received", text
        )
        said[fmt] = (*abstract, *(n for found in results for n in found))
    return said


def test_a_data_change_reaches_every_format_and_a_corrupt_cache_is_recomputed(tmp_path):
    """With the project's `cache: true` (jupyter-cache, keyed on the code cells), a data change
    reaches every number of every format (the pre-render step drops the cached execution); a prose
    edit runs no code. A corrupted analysis cache entry and execution cache are recomputed, not
    served and not fatal."""
    project = copy_project(tmp_path / "project")
    assert "cache: true" in (project / "_quarto.yml").read_text()  # the project's own setting
    first = quarto(project)
    assert first.returncode == 0, first.stderr
    out = project / "_manuscript"
    assert set(_counts(out).values()) == {("100", "100", "83", "17")}
    assert (project / ".jupyter_cache").exists()
    qmd = project / "manuscript.qmd"
    qmd.write_text(qmd.read_text(encoding="utf-8").replace("consecutive adults", "consecutive adult", 1))
    edited = quarto(project)
    assert edited.returncode == 0, edited.stderr
    assert (edited.stdout + edited.stderr).count("(Notebook read from cache)") == 3
    data = project / "data" / "cohort.csv"
    lines = data.read_text(encoding="utf-8").splitlines(keepends=True)
    assert lines[-1].split(",")[1] == "post_ate_beva"
    data.write_text("".join(lines[:-1]), encoding="utf-8")
    second = quarto(project)
    assert second.returncode == 0, second.stderr
    assert "removed stored results .jupyter_cache/" in second.stdout + second.stderr
    assert "(Notebook read from cache)" not in second.stdout + second.stderr
    assert set(_counts(out).values()) == {("99", "99", "83", "16")}, _counts(out)

    for pickle in (project / ".cache" / "analysis").glob("*/results.pickle"):
        pickle.write_bytes(b"not a pickle")
    for notebook in (project / ".jupyter_cache").glob("executed/*/*.ipynb"):
        notebook.write_text("{truncated", encoding="utf-8")
    third = quarto(project, "--to", "html")
    assert third.returncode == 0, third.stdout + third.stderr
    assert "execution cache was unreadable" in third.stdout + third.stderr
    assert _counts(out, ("html",)) == {"html": ("99", "99", "83", "16")}


def test_verify_rebuilds_a_quarto_article_with_quarto_and_catches_edits(quarto_built, tmp_path):
    """Quarto lays the article out otherwise than qrender: `verify` compares a Quarto article with
    Quarto's rebuild, passes the untouched files and names the place of an edited number."""
    from tests.conftest import ROOT
    from tests.tamper import FILES, cases, tamper

    def verify(*paths: Path) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "review", "verify", *map(str, paths)],
            capture_output=True, text=True, cwd=ROOT, env={**os.environ, "QUARTO": QUARTO}, timeout=1800,
        )

    result = verify(*(quarto_built / name for name in FILES.values()))
    assert result.returncode == 0, result.stdout + result.stderr
    # Quarto's Word file now has qrender's title block and matches qrender's rebuild; its PDF and HTML
    # are laid out otherwise, and are compared with Quarto's rebuild
    assert result.stdout.count(": matches the article rebuilt by") == 3
    assert result.stdout.count("rebuilt by quarto") >= 2
    corpus = cases(quarto_built)
    places = {"count": corpus["count"].place, "table cells": "row 'Post-ate-beva vs first-line HAIC'"}
    for fmt in ("docx", "html"):
        for name, place in places.items():
            edited = tamper(quarto_built, fmt, corpus[name], tmp_path / f"{name.replace(' ', '-')}.{fmt}")
            result = verify(edited)
            assert result.returncode == 1 and place in result.stdout and corpus[name].key in result.stdout, (
                result.stdout + result.stderr
            )


def test_quarto_stops_on_a_missing_figure_file_naming_it(tmp_path):
    """The submission filter runs in Quarto too: a figure whose file is missing stops the render."""
    from tests.test_render import _append, copy_fixture

    project = copy_fixture(tmp_path)
    _append(project, "\n![Not drawn yet.](figures/not-drawn.png){#fig-missing}\n")
    result = quarto(project, "--to", "html")
    assert result.returncode != 0
    assert "figure file not found: figures/not-drawn.png" in result.stdout + result.stderr


def _title_page(folder: Path, fmt: str, scratch: Path) -> str:
    """The title page as its reader shows it, from the first author's name to the Introduction, with
    every space removed (line breaks fall differently) and page furniture left out: the PDF as
    poppler reads it, the Word file as LibreOffice renders it, the HTML as Chromium lays it out."""
    import re

    from tests.clients import open_in_chromium, page_texts, served, word_to_pdf
    from tests.conftest import ROOT
    from tests.readback import RUNNING_TITLE, STAMP

    front = next(yaml.safe_load_all((ROOT / "manuscript.qmd").read_text(encoding="utf-8").split("---\n")[1]))
    first_author = front["author"][0]["name"]
    if fmt == "html":
        with served(folder) as site:
            report = open_in_chromium(f"{site}/{OUTPUTS['html']}", {"text": "document.body.innerText"})
        text = report.values["text"]
    else:
        pdf = folder / OUTPUTS["pdf"] if fmt == "pdf" else word_to_pdf(folder / OUTPUTS["docx"], scratch)
        text = "\n".join(page_texts(pdf))
    lines = [
        line for line in STAMP.sub("", text.replace("\u00ad", "")).splitlines()
        if not line.strip().isdigit() and line.strip() != RUNNING_TITLE
        and not line.strip().startswith(("SYNTHETIC DATA:", RUNNING_TITLE + "\u00a0"))
    ]
    flat = re.sub(r"\s+", "", "\n".join(lines))
    start = flat.index(re.sub(r"\s+", "", first_author))
    return flat[start: flat.index("Introduction", start)]


@pytest.mark.parametrize("fmt", list(OUTPUTS))
def test_quarto_title_page_says_what_qrender_s_says(quarto_built, built, fmt, tmp_path):
    """Authors with numbered affiliations, the corresponding author with e-mail, the running title,
    the abstract, keywords and word counts: the same title page from both renderers, in each format."""
    ours = _title_page(built, fmt, tmp_path / "qrender")
    theirs = _title_page(quarto_built, fmt, tmp_path / "quarto")
    # (a line's bare number is a line number in PDF and Word, so the affiliations' own marks are
    # checked on the authors)
    for words in ("(placeholder)1*,AuthorTwo(placeholder)2,", "DepartmentofInternalMedicine",
                  "Correspondingauthor:", "(corresponding.author@example.org)",
                  "Keywords:hepatocellularcarcinoma;", "Wordcount:abstract", "Runningtitle:", "Abstract"):
        assert words in ours, (words, ours)
    assert theirs == ours


def test_quarto_html_is_one_self_contained_file(quarto_built, tmp_path):
    """Quarto's index.html alone, copied where nothing else is, shows every figure in Chromium and
    loads nothing else: figures, CSS and scripts are inlined (`embed-resources`, offline)."""
    from tests.clients import open_in_chromium, served

    lone = tmp_path / "lone"
    lone.mkdir()
    (lone / "index.html").write_bytes((quarto_built / "index.html").read_bytes())
    soup = BeautifulSoup((lone / "index.html").read_text(encoding="utf-8"), "lxml")
    local = [
        tag.get("src") or tag.get("href") for tag in soup.find_all(src=True) + soup.find_all(href=True)
        if not (tag.get("src") or tag.get("href")).startswith(("data:", "http:", "https:", "#", "mailto:"))
    ]
    assert not local, local
    with served(lone) as site:
        report = open_in_chromium(f"{site}/index.html", {
            "drawn": "Array.from(document.images).filter(i => i.complete && i.naturalWidth > 0).length",
        })
    assert report.values["drawn"] == 11 and not report.errors, (report.values, report.errors)
