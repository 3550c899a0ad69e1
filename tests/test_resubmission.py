"""The resubmission kit: v1 archived, five more patients and longer follow-up for three others, a
prose edit, v2 built, then `diff v1`. The tracked Word file must resolve, revision by revision, to
v2's text when every revision is accepted and to v1's when every one is rejected (resolved here
on the XML, independently of the code that wrote it); LibreOffice must open it and see the
revisions; the report must name the changed abstract sentences and Table 1 cells; the prose edit
must be a tracked change; bad input must exit 2 and write nothing."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from analysis.results.ledger import Ledger
from tests.conftest import PROSE, review

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
KIT = "diff-v1"


def paragraphs(docx: Path, resolve: str | None = None) -> list[str]:
    """Non-empty paragraphs of a Word file (table cells included) in document order, white space
    collapsed, with every revision accepted or rejected as Word does: a paragraph whose mark is
    removed is then empty and left out, a revised table row goes as a whole."""
    root = etree.fromstring(zipfile.ZipFile(docx).read("word/document.xml"))
    gone = {"accept": "del", "reject": "ins"}.get(resolve or "")
    if resolve:
        for row in list(root.iter(f"{W}tr")):
            mark = row.find(f"{W}trPr/{W}{gone}")
            if mark is not None:
                row.getparent().remove(row)
        for element in list(root.iter(f"{W}{gone}")):
            if element.getparent().tag != f"{W}rPr":
                element.getparent().remove(element)
        for element in root.iter(f"{W}delText"):
            element.tag = f"{W}t"
    texts = ["".join(t.text or "" for t in p.iter(f"{W}t")) for p in root.iter(f"{W}p")]
    return [" ".join(t.split()) for t in texts if t.strip()]  # a tab and a space are both a gap


def revisions(docx: Path) -> list[etree._Element]:
    root = etree.fromstring(zipfile.ZipFile(docx).read("word/document.xml"))
    return [e for e in root.iter(f"{W}ins", f"{W}del")]


@pytest.fixture(scope="module")
def kit(resubmission) -> Path:
    assert resubmission.diff.returncode == 0, resubmission.diff.stdout + resubmission.diff.stderr
    return resubmission.current / KIT


def test_the_kit_holds_every_file(kit):
    names = {p.name for p in kit.iterdir()}
    marked = {"manuscript-tracked.docx", "manuscript-diff.pdf", "manuscript-diff.html"}
    assert names == marked | {"changes.md", "changes.docx"}


def test_accepting_every_revision_gives_v2_and_rejecting_gives_v1(kit, resubmission):
    tracked = kit / "manuscript-tracked.docx"
    assert paragraphs(tracked, "accept") == paragraphs(resubmission.current / "manuscript.docx")
    assert paragraphs(tracked, "reject") == paragraphs(resubmission.old / "manuscript.docx")
    assert paragraphs(tracked, "accept") != paragraphs(tracked, "reject")


def test_revisions_are_by_the_analysis_update_on_the_build_date(kit, resubmission):
    found = revisions(kit / "manuscript-tracked.docx")
    assert len(found) > 20
    html = (resubmission.current / "index.html").read_text(encoding="utf-8")
    stamp = re.search(r"built (\d{4}-\d{2}-\d{2})", html).group(1)
    assert {e.get(f"{W}author") for e in found} == {"analysis update"}
    assert {e.get(f"{W}date") for e in found} == {f"{stamp}T00:00:00Z"}
    ids = [e.get(f"{W}id") for e in found]
    assert len(ids) == len(set(ids)), "every revision has its own id"


def test_a_prose_only_edit_is_a_tracked_change(kit):
    root = etree.fromstring(zipfile.ZipFile(kit / "manuscript-tracked.docx").read("word/document.xml"))
    deleted = ["".join(e.itertext()) for e in root.iter(f"{W}del")]
    inserted = ["".join(e.itertext()) for e in root.iter(f"{W}ins")]
    old_word, new_word = PROSE[1].split()[1], PROSE[0].split()[1]
    assert old_word in deleted and new_word in inserted


def test_libreoffice_opens_the_tracked_file_and_sees_its_revisions(kit, tmp_path):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) not found: apt-get install libreoffice-writer-nogui")
    profile = f"-env:UserInstallation=file://{tmp_path / 'profile'}"
    for target in ("pdf", "fodt"):
        result = subprocess.run(
            [soffice, profile, "--headless", "--convert-to", target, "--outdir", str(tmp_path),
             str(kit / "manuscript-tracked.docx")],
            capture_output=True, text=True, timeout=300, env={**os.environ, "HOME": str(tmp_path)},
        )
        assert result.returncode == 0, result.stderr
    assert (tmp_path / "manuscript-tracked.pdf").stat().st_size > 10_000
    document = (tmp_path / "manuscript-tracked.fodt").read_text(encoding="utf-8")
    regions = document.count("<text:changed-region")
    assert regions >= len(revisions(kit / "manuscript-tracked.docx")) // 2
    assert "<dc:creator>analysis update</dc:creator>" in document


def test_the_pdf_and_html_show_the_same_marks(kit):
    html = (kit / "manuscript-diff.html").read_text(encoding="utf-8")
    assert 'class="deletion"' in html and 'class="insertion"' in html and "line-through" in html
    old_word, new_word = PROSE[1].split()[1], PROSE[0].split()[1]
    assert re.search(rf'class="deletion"[^>]*>{old_word}<', html)
    pdf = str(kit / "manuscript-diff.pdf")
    text = subprocess.run(["pdftotext", pdf, "-"], capture_output=True, text=True)
    assert old_word in text.stdout and new_word in text.stdout


def ledgers(resubmission) -> tuple[Ledger, Ledger]:
    return (
        Ledger.from_json(resubmission.old / "numbers.json"),
        Ledger.from_json(resubmission.current / "numbers.json"),
    )


def section(report: str, title: str) -> str:
    match = re.search(rf"^#+ {re.escape(title)}.*?(?=^## |\Z)", report, re.S | re.M)
    assert match, f"no section {title!r}"
    return match.group(0)


def test_the_report_names_the_changed_abstract_sentences(kit, resubmission):
    report = (kit / "changes.md").read_text(encoding="utf-8")
    old, new = ledgers(resubmission)
    assert f"patients {old['n.total'].text} → {new['n.total'].text}" in report.splitlines()[2]
    abstract = section(report, "Abstract")
    methods = "Abstract › Methods, sentence 1: Methods: This retrospective cohort included"
    assert f"{methods} ~~{old['n.total'].text}~~ **{new['n.total'].text}**" in abstract
    changed_medians = old["os.median.first_line.ci"].text != new["os.median.first_line.ci"].text
    if changed_medians or old["os.logrank.p"].text != new["os.logrank.p"].text:
        assert "Abstract › Results, sentence 1" in abstract


def test_the_report_lists_every_changed_table1_cell_by_row_and_column(kit, resubmission):
    report = (kit / "changes.md").read_text(encoding="utf-8")
    old, new = ledgers(resubmission)
    table = section(report, "Table 1")
    rows = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| Row")]
    changed = [
        k for k in new.keys()  # noqa: SIM118 (Ledger iterates entries)
        if k.startswith("baseline.") and not k.endswith(".test") and k in old and old[k].text != new[k].text
    ]
    assert changed
    for key in changed:
        assert any(old[key].text in row and new[key].text in row for row in rows), key
    assert all(row.count("|") == 5 for row in rows)  # row, column, old, new


def test_changed_wording_is_flagged_first_and_unprinted_numbers_listed_once(kit, resubmission):
    report = (kit / "changes.md").read_text(encoding="utf-8")
    old, new = ledgers(resubmission)
    assert report.index("## Sentences whose result-dependent wording changed") < report.index("## Abstract")
    html = (resubmission.current / "index.html").read_text(encoding="utf-8")
    for key in new.keys():  # noqa: SIM118 (Ledger iterates entries)
        printed = f'data-key="{key}"' in html
        if key.startswith("wording.") and key in old and old[key].text != new[key].text and printed:
            assert f"`{key}`" in section(report, "Sentences whose result-dependent wording changed")
    unprinted = section(report, "Computed but not printed")
    listed = re.findall(r"`([^`]+)`", unprinted)
    assert len(listed) == len(set(listed))
    order = [report.index(f"## {title}") for title in ("Tables", "Figures", "Computed but not printed")]
    assert order == sorted(order)
    assert (kit / "changes.docx").stat().st_size > 5_000


@pytest.mark.parametrize("case", ["unknown tag", "older ledger schema", "the current build"])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(resubmission, case):
    project = resubmission.project
    submissions = project / "submissions"
    if case == "unknown tag":
        tag = "v9"
    elif case == "older ledger schema":
        tag = "v0"
        shutil.rmtree(submissions / tag, ignore_errors=True)
        shutil.copytree(resubmission.old, submissions / tag)
        ledger = json.loads((submissions / tag / "numbers.json").read_text())
        ledger["schema"] = "manuscript-ledger/0"
        (submissions / tag / "numbers.json").write_text(json.dumps(ledger))
    else:
        tag = "v2"
        if not (submissions / tag).exists():
            assert review(project, "submission", tag).returncode == 0
    before = sorted(p.name for p in resubmission.current.iterdir())
    result = review(project, "diff", tag)
    assert result.returncode == 2, result.stdout + result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert sorted(p.name for p in resubmission.current.iterdir()) == before
    assert not (resubmission.current / f"diff-{tag}").exists()
    named = {"unknown tag": "v9", "older ledger schema": "ledger/0", "the current build": "current build"}
    assert named[case] in result.stderr


def test_submission_archives_sources_and_refuses_a_taken_or_malformed_tag(resubmission):
    archived = {p.name for p in resubmission.old.iterdir()}
    assert {"manuscript.qmd", "references.bib", "numbers.json", "manuscript.docx", "index.html",
            "build-stamp", "data.sha256"} <= archived
    assert PROSE[1] in (resubmission.old / "manuscript.qmd").read_text(encoding="utf-8")
    for tag, message in (("v1", "exists"), ("../x", "a tag is")):
        result = review(resubmission.project, "submission", tag)
        assert result.returncode == 2 and message in result.stderr


def test_tracked_changes_of_added_columns_rows_and_paragraphs_round_trip(tmp_path):
    """Without a build: two small documents whose table gains a column (numbers at risk over a
    longer follow-up) and a row, and whose text loses one paragraph and gains another."""
    import pypandoc

    from review.articletext import pandoc_document
    from review.markup import finish_revisions, marked_document

    old = """Numbers at risk were counted every 3 months.

| Group | 0 | 3 | 6 |
|---|---|---|---|
| First-line | 83 | 62 | 35 |
| Post | 17 | 15 | 10 |

: Table 6: Numbers at risk.

This paragraph goes away.

The last paragraph stays, with 57 deaths.
"""
    new = """Numbers at risk were counted every 3 months.

| Group | 0 | 3 | 6 | 9 |
|---|---|---|---|---|
| First-line | 88 | 65 | 40 | 25 |
| Post | 17 | 15 | 10 | 8 |
| Other | 1 | 1 | 0 | 0 |

: Table 6: Numbers at risk.

A new paragraph arrives.

The last paragraph stays, with 60 deaths.
"""
    documents = []
    for name, text in (("old", old), ("new", new)):
        pypandoc.convert_text(text, "docx", format="markdown", outputfile=str(tmp_path / f"{name}.docx"))
        documents.append(pandoc_document(tmp_path / f"{name}.docx", "docx"))
    marked = marked_document(*documents, "analysis update", "2026-01-01T00:00:00Z")
    tracked = tmp_path / "tracked.docx"
    pypandoc.convert_text(json.dumps(marked), "docx", format="json", outputfile=str(tracked))
    finish_revisions(tracked, "analysis update", "2026-01-01T00:00:00Z")
    assert paragraphs(tracked, "accept") == paragraphs(tmp_path / "new.docx")
    assert paragraphs(tracked, "reject") == paragraphs(tmp_path / "old.docx")
    deleted = ["".join(e.itertext()) for e in revisions(tracked) if e.tag == f"{W}del"]
    assert "83" in deleted and "This paragraph goes away." in "".join(deleted)
    assert "Group" not in deleted and "Post" not in deleted, "the table is changed cell by cell, not replaced"
