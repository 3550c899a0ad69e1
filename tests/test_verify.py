"""`verify` passes on a fresh article in every format and catches one edited number; `changes`
lists exactly the numbers that changed when patients are added and follow-up extended."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from docx import Document

import analysis
from tests.conftest import COHORT, META, ROOT


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "analysis", *args], capture_output=True, text=True, cwd=ROOT)


@pytest.mark.parametrize("fmt", ["docx", "pdf", "html"])
def test_verify_passes_on_the_fresh_article(built, fmt):
    name = "index.html" if fmt == "html" else f"manuscript.{fmt}"
    result = cli("verify", str(built / name))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "every number matches" in result.stdout


def test_verify_catches_one_edited_number_in_docx(built, tmp_path):
    doc = Document(str(built / "manuscript.docx"))
    expected = analysis.run(COHORT).ledger["os.median.first_line.ci"].text
    edited = False
    for paragraph in doc.paragraphs:
        for run in paragraph.runs:
            if not edited and expected in run.text:
                run.text = run.text.replace(expected, expected.replace("\u2013", "\u2013" + "1"))
                edited = True
    assert edited
    tampered = tmp_path / "tampered.docx"
    doc.save(str(tampered))
    result = cli("verify", str(tampered))
    assert result.returncode == 1
    assert "do not match" in result.stdout and "paragraph" in result.stdout


def test_verify_catches_an_edited_number_in_the_numbers_table(built, tmp_path):
    html = (built / "index.html").read_text(encoding="utf-8")
    edited = re.sub(r"(<td[^>]*>os\.logrank\.p</td>\s*<td[^>]*>)0\.073", r"\g<1>0.037", html, count=1)
    assert edited != html
    tampered = tmp_path / "tampered.html"
    tampered.write_text(edited, encoding="utf-8")
    result = cli("verify", str(tampered))
    assert result.returncode == 1 and "[os.logrank.p]" in result.stdout


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing.docx", "no such file"),
        (lambda d: (d / "notes.txt").write_text("x") and d / "notes.txt", "unsupported file type"),
        (lambda d: (d / "broken.docx").write_text("not a zip") and d / "broken.docx", "cannot be read"),
    ],
)
def test_verify_bad_input_exits_2(tmp_path, make, message):
    result = cli("verify", str(make(tmp_path)))
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


def updated_cohort(folder: Path) -> Path:
    """v2 of the data: five patients appended and follow-up of the living extended by a new cut-off."""
    frame = pd.read_csv(COHORT, dtype=str, keep_default_na=False)
    extra = frame[frame["group"] == "first_line"].head(5).copy()
    extra["patient_id"] = [f"P{101 + i:04d}" for i in range(5)]
    frame = pd.concat([frame, extra], ignore_index=True)
    alive = frame["death_date"] == ""
    later = pd.to_datetime(frame.loc[alive, "last_followup_date"]) + pd.Timedelta(days=90)
    frame.loc[alive, "last_followup_date"] = later.dt.strftime("%Y-%m-%d")
    frame.to_csv(folder / "cohort.csv", index=False)
    meta = yaml.safe_load(META.read_text())
    meta["cutoff_date"] = "2025-01-31"
    (folder / "cohort.meta.yaml").write_text(yaml.safe_dump(meta))
    return folder / "cohort.csv"


def test_changes_lists_exactly_the_changed_keys(tmp_path):
    v1, v2 = tmp_path / "v1", tmp_path / "v2"
    old = analysis.run(COHORT)
    old.write(v1)
    (tmp_path / "data2").mkdir()
    new = analysis.run(updated_cohort(tmp_path / "data2"))
    new.write(v2)
    result = cli("changes", str(v1), str(v2), "--out", str(tmp_path / "report"))
    assert result.returncode == 0, result.stderr
    report = (tmp_path / "report.md").read_text()
    listed = set(re.findall(r"^\| `([^`]+)` \|", report, re.M)) | set(
        re.findall(r"^- `([^`]+)`", report, re.M)
    )
    expected = {
        k
        for k in set(old.ledger.keys()) | set(new.ledger.keys())
        if not k.startswith("software.")
        and (old.ledger[k].text if k in old.ledger else None)
        != (new.ledger[k].text if k in new.ledger else None)
    }
    assert listed == expected
    assert "| `n.total` | 100 | 105 |" in report
    assert (tmp_path / "report.docx").exists()


def test_changes_refuses_other_schema_and_missing(tmp_path):
    other = tmp_path / "numbers.json"
    other.write_text(json.dumps({"schema": "haic-ledger/0", "entries": {}}))
    result = cli("changes", str(other), str(other))
    assert result.returncode == 2 and "schema" in result.stderr
    result = cli("changes", str(tmp_path / "nope"), str(other))
    assert result.returncode == 2 and "Traceback" not in result.stderr
