"""`verify` cannot be fooled: a tamper corpus made from a fresh article, in Word, PDF and HTML.

Each case edits one thing a reader would believe (a number swapped between groups, between
endpoints or between table cells, a changed count, a flipped claim, a deleted sentence with
numbers) the way a person would: in the Word file's text, in the HTML's text, and in the typst
source of the PDF, compiled again. Every case must make `verify` exit 1 and name the place and the
ledger key; the untouched article must pass in every format. The strings edited are read from the
article's own ledger, never typed here, so the corpus follows the data.
"""

from __future__ import annotations

import html
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from analysis.ledger import Ledger
from review.articletext import read_article
from tests.conftest import ROOT

FILES = {"docx": "manuscript.docx", "pdf": "manuscript.pdf", "html": "index.html"}


def cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "review", *args], capture_output=True, text=True, cwd=cwd)


def verify_here(capsys, monkeypatch, *args: str) -> tuple[int, str, str]:
    """`python -m review verify` in this process (the rebuilt article's reading is reused)."""
    from review.cli import main

    monkeypatch.chdir(ROOT)
    code = main(["verify", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


@dataclass(frozen=True)
class Case:
    old: str  # text as the article prints it
    new: str  # what the tamperer writes instead
    place: str  # the start of the place verify must name
    key: str  # a ledger key verify must name


def flip(claim: str) -> str:
    """The opposite claim, as a careless edit would make it."""
    for old, new in (
        ("the difference was not statistically significant", "the difference was statistically significant"),
        ("was significantly", "was not significantly"),
        ("did not differ significantly", "differed significantly"),
    ):
        if old in claim:
            return claim.replace(old, new)
    raise AssertionError(f"no claim to flip in {claim!r}")


def sentence_printing(built: Path, key: str) -> str:
    """The sentence of the article that prints a ledger key, as read from its HTML."""
    article = read_article(built / "index.html")
    unit = next(w.unit for w in article.words if w.key == key)
    return article.unit_text(unit)


def cases(built: Path) -> dict[str, Case]:
    L = Ledger.from_json(built / "numbers.json")
    post, first = L.with_ci("os.median.post_ate_beva").text, L.with_ci("os.median.first_line").text
    os_p, pfs_p = L.p("os.logrank.p").text, L.p("pfs.logrank.p").text
    hr = {e: f"{e}.cox.multi.group.hr" for e in ("os", "pfs")}
    cell = {e: f"{L[key].text} ({L[f'{key}.ci'].text})" for e, key in hr.items()}
    n = L["n.total"].text
    claim = L["wording.os.difference"].text
    died = sentence_printing(built, "os.events.first_line")
    return {
        "groups": Case(
            f"{post} months in the post-ate-beva group and {first}",
            f"{first} months in the post-ate-beva group and {post}",
            "Abstract › Results, sentence 1", "os.median.post_ate_beva",
        ),
        "endpoints": Case(
            f"with first-line HAIC ({os_p})", f"with first-line HAIC ({pfs_p})",
            "Results › Survival, paragraph 1", "os.logrank.p",
        ),
        "table cells": Case(
            cell["os"], cell["pfs"],
            "Table 3 (Univariable and multivariable Cox regression for …), "
            "row 'Post-ate-beva vs first-line HAIC', column 'Overall survival › Multivariable HR (95% CI)'",
            "os.cox.multi.group.hr",
        ),
        "count": Case(f"Of the {n} patients", f"Of the {int(n) + 1} patients",
                      "Results › Patients, paragraph 1, sentence 1", "n.total"),
        "claim": Case(
            claim, flip(claim), "Results › Survival, paragraph 1, sentence 1", "wording.os.difference"
        ),
        "deleted sentence": Case(" " + died, "", "Results › Patients, paragraph 1", "os.events.first_line"),
    }


def pattern(text: str, fmt: str) -> str:
    """A regex for text as it stands in a file's source: markup may sit between any two characters
    (runs in Word, spans in HTML), white space may be a line break, typst writes en dashes as --."""
    between = r"(?:<[^>]*>)*" if fmt != "pdf" else ""
    parts = []
    for char in text:
        if char == " ":
            parts.append(r"(?:\s|<[^>]*>)+" if fmt != "pdf" else r"\s+")
        elif fmt == "pdf" and char == "\u2013":
            parts.append("--")
        elif fmt == "pdf" and char == "<":
            parts.append(r"\\?<")
        elif fmt != "pdf" and char in "<>&":
            parts.append(re.escape(html.escape(char, quote=False)))
        else:
            parts.append(re.escape(char))
    return between.join(parts)


def written(text: str, fmt: str) -> str:
    if fmt == "pdf":
        return text.replace("\u2013", "--").replace("<", "\\<")
    return html.escape(text, quote=False)


def tamper(built: Path, fmt: str, case: Case, out: Path) -> Path:
    """The article of one format with the case's edit made in its text; fails if nothing changed."""
    def edit(source: str) -> str:
        changed, count = re.subn(pattern(case.old, fmt), written(case.new, fmt), source, count=1)
        assert count == 1 and changed != source, f"{case.old!r} not found in the {fmt} source"
        return changed

    if fmt == "docx":
        with zipfile.ZipFile(built / FILES["docx"]) as archive:
            parts = {name: archive.read(name) for name in archive.namelist()}
        parts["word/document.xml"] = edit(parts["word/document.xml"].decode("utf-8")).encode("utf-8")
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in parts.items():
                archive.writestr(name, data)
    elif fmt == "html":
        out.write_text(edit((built / FILES["html"]).read_text(encoding="utf-8")), encoding="utf-8")
    else:
        import typst

        source = built / f"{out.stem}.typ"  # beside the original, so its relative image paths hold
        source.write_text(edit((built / "manuscript.typ").read_text(encoding="utf-8")), encoding="utf-8")
        try:
            typst.compile(str(source), output=str(out), root=str(built.parent))
        finally:
            source.unlink()
    return out


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
    code, report, errors = verify_here(capsys, monkeypatch, str(tampered))
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
    assert "analysis.survival.median_survival" in result.stdout


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

