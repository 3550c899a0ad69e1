"""The build's cache is exact (issue 13): what changed reaches every format, what did not is reused.

One copy of the project is built once, then changed step by step, each change followed by an
ordinary (incremental) build: a prose edit, the data, one analysis function, the codebook, the lock.
Each test reads the build's own report (`.cache/qrender/report.json`: every step, reused or run,
with what the pre-render step said) and the three formats. The last test builds the final sources
from scratch in a fresh copy and requires the same article, number for number, in every format.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from docx import Document
from pypdf import PdfReader

from tests.conftest import ROOT, copy_project
from tests.readback import content

OUTPUTS = {"pdf": "manuscript.pdf", "docx": "manuscript.docx", "html": "index.html"}
UNITS = ("front", "chunk", "inline")


def build(project: Path) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "qrender", str(project)], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    return json.loads((project / ".cache" / "qrender" / "report.json").read_text())


def prerender_said(report: dict) -> str:
    return "\n".join(line for s in report["steps"] if s["kind"] == "pre-render" for line in s["details"])


def units_run(report: dict) -> list[str]:
    return [s["name"] for s in report["steps"] if s["kind"] in UNITS and s["status"] != "reused"]


def texts(project: Path) -> dict[str, str]:
    """Each format's whole text with every whitespace removed (tables wrap cells differently)."""
    out = project / "_manuscript"
    pdf = "".join(page.extract_text() for page in PdfReader(out / OUTPUTS["pdf"]).pages)
    doc = Document(str(out / OUTPUTS["docx"]))
    docx = "".join(
        [p.text for p in doc.paragraphs] + [c.text for t in doc.tables for r in t.rows for c in r.cells]
    )
    html = BeautifulSoup((out / OUTPUTS["html"]).read_text(encoding="utf-8"), "lxml").get_text()
    return {fmt: re.sub(r"\s+", "", text) for fmt, text in {"pdf": pdf, "docx": docx, "html": html}.items()}


def spans(project: Path) -> dict[str, list[str]]:
    """The HTML's inline numbers by ledger key, in order."""
    soup = BeautifulSoup((project / "_manuscript" / "index.html").read_text(encoding="utf-8"), "lxml")
    found: dict[str, list[str]] = {}
    for span in soup.find_all("span", class_="num"):
        found.setdefault(span["data-key"], []).append(" ".join(span.get_text().split()))
    return found


def ledger(project: Path) -> dict[str, str]:
    entries = json.loads((project / "_manuscript" / "numbers.json").read_text())["entries"]
    return {key: entry["text"] for key, entry in entries.items()}


def numbers_table_keys(project: Path) -> list[str]:
    """Keys listed in the supplementary table of printed numbers (Word's table headed "Key")."""
    tables = Document(str(project / "_manuscript" / OUTPUTS["docx"])).tables
    table = next(t for t in tables if t.rows[0].cells[0].text.strip() == "Key")
    return [row.cells[0].text.strip() for row in table.rows[1:]]


def figure_files(project: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted((project / "figures").glob("*.*"))}


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    project = copy_project(tmp_path_factory.mktemp("cache") / "project")
    report = build(project)
    assert "analysis ran" in prerender_said(report)
    return project


def assert_every_changed_number_reaches_every_format(project: Path, before: dict, after: dict) -> list[str]:
    """Each printed number whose text changed is new in the body (HTML spans) and in the table of
    numbers of every format, where its old text is gone."""
    listed = [k for k in numbers_table_keys(project) if k in after["ledger"]]
    assert len(listed) > 50
    changed = [k for k in listed if before["ledger"].get(k) != after["ledger"][k]]
    assert changed, "the change should have changed printed numbers"
    for key in changed:
        new, old = after["ledger"][key], before["ledger"].get(key)
        if key in after["spans"]:
            assert all(" ".join(new.split()) in span for span in after["spans"][key]), (key, new)
            assert after["spans"][key] != before["spans"].get(key), key
        row, old_row = re.sub(r"\s+", "", key + new), re.sub(r"\s+", "", f"{key}{old}")
        for fmt, text in after["texts"].items():
            assert row in text, f"{fmt}: numbers table does not print {key} = {new!r}"
            # the row of this key only (`iptw.os.median.x` ends with `os.median.x`)
            stale = r"(?<![\w.])" + re.escape(old_row) + r"(?![\d.%])"
            assert not re.search(stale, text), f"{fmt}: {key} still {old!r}"
    return changed


def state(project: Path) -> dict:
    return {"ledger": ledger(project), "spans": spans(project), "texts": texts(project)}


def test_prose_edit_changes_only_the_prose_and_runs_nothing(project):
    qmd = project / "manuscript.qmd"
    before = {fmt: content(project / "_manuscript" / name) for fmt, name in OUTPUTS.items()}
    figures = figure_files(project)
    old_texts = texts(project)
    assert "is much less clear" in qmd.read_text()
    qmd.write_text(qmd.read_text().replace("is much less clear", "is far less clear", 1))
    report = build(project)
    said = prerender_said(report)
    assert "analysis reused" in said and "figures: 11 unchanged" in said
    assert units_run(report) == [], "a prose edit must not run any of the document's code"
    assert figure_files(project) == figures, "print files must not be rewritten"
    new_texts = texts(project)
    for fmt, name in OUTPUTS.items():
        after = content(project / "_manuscript" / name)
        assert (after.numbers, after.phrases, after.captions, after.spans) == (
            before[fmt].numbers, before[fmt].phrases, before[fmt].captions, before[fmt].spans
        ), fmt
        assert "isfarlessclear" in new_texts[fmt] and "isfarlessclear" not in old_texts[fmt], fmt


def test_data_change_reaches_every_number(project):
    before = state(project)
    data = project / "data" / "cohort.csv"
    lines = data.read_text(encoding="utf-8").splitlines(keepends=True)
    data.write_text("".join(lines[:-1]), encoding="utf-8")  # one patient fewer
    report = build(project)
    assert "analysis ran" in prerender_said(report)
    assert "setup" in units_run(report)
    after = state(project)
    changed = assert_every_changed_number_reaches_every_format(project, before, after)
    assert "n.total" in changed and after["ledger"]["n.total"] == str(int(before["ledger"]["n.total"]) - 1)


def test_one_analysis_function_change_reaches_every_number(project):
    before = state(project)
    endpoints = project / "analysis" / "data" / "derive.py"
    source = endpoints.read_text(encoding="utf-8")
    old = "return (end - start).dt.days / days_per_month"
    assert old in source
    endpoints.write_text(source.replace(old, "return (end - start).dt.days / 30.0"), encoding="utf-8")
    report = build(project)
    assert "analysis ran" in prerender_said(report)
    changed = assert_every_changed_number_reaches_every_format(project, before, state(project))
    assert any(key.startswith("os.median.") for key in changed)


def test_codebook_change_reaches_the_article(project):
    before = state(project)
    codebook = project / "data" / "codebook.yaml"
    source = codebook.read_text(encoding="utf-8")
    assert "unit: years, min: 18, max: 100" in source
    codebook.write_text(source.replace("unit: years, min: 18, max: 100", "unit: years, min: 18, max: 99"))
    report = build(project)
    assert "analysis ran" in prerender_said(report)
    assert "setup" in units_run(report)
    for fmt, text in state(project)["texts"].items():
        assert "18to99" in text and "18to100" not in text, fmt
    assert before["texts"]["html"].count("18to100") == 1


def test_lock_change_runs_the_analysis_again(project):
    before = {fmt: content(project / "_manuscript" / name) for fmt, name in OUTPUTS.items()}
    lock = project / "requirements.lock"
    lock.write_text(lock.read_text() + "# a new pin would change the results' environment\n")
    report = build(project)
    assert "analysis ran" in prerender_said(report)
    assert "setup" in units_run(report)
    for fmt, name in OUTPUTS.items():  # the same packages are installed: the same numbers
        assert content(project / "_manuscript" / name).numbers == before[fmt].numbers, fmt


def test_incremental_builds_equal_a_build_from_scratch(project, tmp_path):
    """After all the changes above, the cached builds hold exactly what a fresh build prints."""
    scratch = copy_project(tmp_path / "scratch", origin=project)
    report = build(scratch)
    assert "analysis ran" in prerender_said(report)
    for fmt, name in OUTPUTS.items():
        ours, fresh = content(project / "_manuscript" / name), content(scratch / "_manuscript" / name)
        assert ours.numbers == fresh.numbers and ours.phrases == fresh.phrases, fmt
        assert ours.captions == fresh.captions and ours.spans == fresh.spans, fmt
    assert ledger(project) == ledger(scratch)
