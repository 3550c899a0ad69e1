"""`verify` cannot be fooled: a tamper corpus made from a fresh article, in Word, PDF and HTML.

Each case edits one thing a reader would believe (a number swapped between groups, between
endpoints or between table cells, a changed count, a flipped claim, a deleted sentence with
numbers) the way a person would: in the Word file's text, in the HTML's text, and in the typst
source of the PDF, compiled again. Every case must make `verify` exit 1 and name the place and the
ledger key; the untouched article must pass in every format. The strings edited are read from the
article's own ledger, never typed here, so the corpus follows the data.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from analysis.results.ledger import Ledger
from tests.conftest import ROOT
from tests.tamper import FILES, Case, cases, tamper


def cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "review", *args], capture_output=True, text=True, cwd=cwd)


def verify_here(capsys, monkeypatch, *args: str) -> tuple[int, str, str]:
    """`python -m review verify` in this process (the rebuilt article's reading is reused)."""
    from review.cli import main

    monkeypatch.chdir(ROOT)
    code = main(["verify", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def corpus(built) -> dict[str, Case]:
    return cases(built)


@pytest.mark.parametrize("fmt", list(FILES))
def test_the_untouched_article_passes(built, fmt):
    result = cli("verify", str(built / FILES[fmt]))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "every number and result-dependent phrase in its place" in result.stdout


@pytest.mark.parametrize("fmt", list(FILES))
@pytest.mark.parametrize("name", ["groups", "endpoints", "table cells", "count", "claim", "deleted sentence"])
def test_a_tampered_article_fails_naming_place_and_key(
    built, corpus, tmp_path, capsys, monkeypatch, fmt, name
):
    case = corpus[name]
    if case.old.strip() == case.new.strip():
        pytest.skip(f"the data make {name!r} a no-op edit ({case.old!r})")
    tampered = tamper(built, fmt, case, tmp_path / f"tampered-{name.replace(' ', '-')}.{fmt}")
    code, report, errors = verify_here(capsys, monkeypatch, str(tampered), "--renderer", "qrender")
    assert code == 1, report + errors
    assert re.search(r": \d+ difference\(s\) from the article rebuilt", report), report
    assert f"1. {case.place}" in report, report
    assert case.key in report, report
    if fmt == "pdf":
        assert re.search(r"\(page \d+, line \d+\)|\(page \d+\)", report), report


def test_the_report_says_what_the_file_says_and_what_the_data_give(built, corpus, tmp_path):
    case = corpus["groups"]
    result = cli("verify", str(tamper(built, "docx", case, tmp_path / "groups.docx")))
    lines = result.stdout.splitlines()
    says = next(line for line in lines if "the file says:" in line)
    give = next(line for line in lines if "the data give:" in line)
    L = Ledger.from_json(built / "numbers.json")
    assert L["os.median.first_line"].text in says and L["os.median.post_ate_beva"].text in give
    assert "analysis.stats.survival.median_survival" in result.stdout


def test_layout_is_not_a_difference(built, tmp_path):
    """The same text laid out again (the PDF's typst source in a smaller type: other line breaks,
    pages, line numbers, tables broken across other pages with their headings repeated) passes."""
    import typst

    source = built / "relaid.typ"
    text = (built / "manuscript.typ").read_text(encoding="utf-8")
    relaid = text.replace("#set text(size: 11pt", "#set text(size: 9.5pt", 1)
    assert relaid != text
    source.write_text(relaid, encoding="utf-8")
    try:
        typst.compile(str(source), output=str(tmp_path / "relaid.pdf"), root=str(built.parent))
    finally:
        source.unlink()
    result = cli("verify", str(tmp_path / "relaid.pdf"))
    assert result.returncode == 0, result.stdout


def test_a_file_without_our_stamp_exits_2(tmp_path):
    from docx import Document

    document = Document()
    document.add_paragraph("Median overall survival was 12.4 months.")
    document.save(str(tmp_path / "other.docx"))
    result = cli("verify", str(tmp_path / "other.docx"))
    assert result.returncode == 2 and "no build stamp" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_article_of_another_data_set_exits_2_naming_both(built, tmp_path):
    html_text = (built / "index.html").read_text(encoding="utf-8")
    stamp = re.search(r"data sha256 ([0-9a-f]{64})", html_text).group(1)
    other = html_text.replace(stamp, "0" * 64)
    (tmp_path / "other.html").write_text(other, encoding="utf-8")
    result = cli("verify", str(tmp_path / "other.html"))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "0" * 64 in result.stderr and stamp in result.stderr and "--data FILE" in result.stderr
    wrong = cli("verify", str(built / "index.html"), "--data", str(tmp_path / "missing.csv"))
    assert wrong.returncode == 2 and "missing.csv" in wrong.stderr


def test_verify_against_the_data_set_it_was_built_from(resubmission):
    """An article built from other data passes with --data naming that data set, and only then."""
    article = resubmission.current / "index.html"
    assert cli("verify", str(article)).returncode == 2
    result = cli("verify", str(article), "--data", str(resubmission.data))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing.docx", "no such file"),
        (lambda d: (d / "notes.txt").write_text("x") and d / "notes.txt", "unsupported file type"),
        (lambda d: (d / "broken.docx").write_text("not a zip") and d / "broken.docx", "cannot be read"),
    ],
)
def test_unreadable_input_exits_2(tmp_path, make, message):
    result = cli("verify", str(make(tmp_path)))
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_the_analysis_command_is_the_same_verify(built):
    result = subprocess.run(
        [sys.executable, "-m", "analysis", "verify", str(built / "index.html")],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr

