"""The colon study's data with the shape problems hospital exports have: each is refused with a
clear error naming the file, the spreadsheet row and the column, by the engine's own checks (the
codebook and the long layout), never by code written for this study.

Two kinds of test live here:

- codebook checks (a negative time, a status of 2, an arm not declared) run today through the
  loader's existing validation (`analysis.cohort.read_export` + `validate`) with the colon codebook;
- the long layout (a patient with one row only, a covariate that differs between a patient's two
  rows) needs the study-file engine of issue 20. Those calls are ASSUMPTIONS about its interface,
  marked below, and the tests skip until `analysis.data` exists.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from analysis.codebook import load_codebook
from analysis.cohort import read_export, validate

from analysis.errors import CohortError, Problem
from tests.conftest import ROOT

STUDY = ROOT / "examples" / "colon"
DATA = STUDY / "data" / "colon.csv"
HEADER = DATA.read_text(encoding="utf-8").splitlines()[0].split(",")


def rows() -> list[list[str]]:
    """The committed export as cells; rows[0] is the header (spreadsheet row 1)."""
    return [line.split(",") for line in DATA.read_text(encoding="utf-8").splitlines()]


def set_cell(table: list[list[str]], row: int, column: str, value: str) -> None:
    """Set the cell at a spreadsheet row (header = 1) and column name."""
    table[row - 1][HEADER.index(column)] = value


def write_study(folder: Path, table: list[list[str]]) -> Path:
    """A copy of the colon study folder with `table` as its data; returns the folder."""
    skip = shutil.ignore_patterns("_manuscript", ".cache", "figures", "_freeze")
    shutil.copytree(STUDY, folder, ignore=skip)
    text = "\n".join(",".join(r) for r in table) + "\n"
    (folder / "data" / "colon.csv").write_text(text, encoding="utf-8")
    return folder


def codebook_problems(folder: Path) -> list[Problem]:
    """Problems the loader's validation finds with the colon codebook (the engine as it is today)."""
    codebook = load_codebook(folder / "data" / "codebook.yaml")
    export = read_export(folder / "data" / "colon.csv")
    _, problems = validate(export.frame, codebook, None, "colon.csv")
    return problems


def test_committed_export_is_valid_under_its_codebook():
    assert codebook_problems(STUDY) == []


@pytest.mark.parametrize(
    ("row", "column", "value", "rule"),
    [
        (2, "time", "-5", "must be between 0 and 10000"),
        (3, "status", "2", "must be between 0 and 1"),
        (4, "rx", "Placebo", "must be one of Obs, Lev, Lev+5FU"),
        (5, "etype", "3", "must be between 1 and 2"),
    ],
)
def test_bad_cell_is_named_by_file_row_and_column(tmp_path, row, column, value, rule):
    table = rows()
    set_cell(table, row, column, value)
    found = codebook_problems(write_study(tmp_path / "colon", table))
    located = [p for p in found if (p.file, p.row, p.column) == ("colon.csv", row, column)]
    assert located, found
    assert any(p.rule == rule for p in located), located


# ---------------------------------------------------------------------------------------------
# ASSUMED interface of the study-file engine (issue 20), not yet on main:
#   analysis.data.load(folder: Path) -> object with .data (one row per patient)
#   raising analysis.errors.CohortError whose .problems name file, row, column and rule;
#   a long-layout problem names the `record` column (etype) and the spreadsheet row(s) concerned.
# Adjust the two calls below (load, and the expected column/rule words) to the engine as built.
# ---------------------------------------------------------------------------------------------


def load_study(folder: Path):
    data = pytest.importorskip("analysis.data", reason="study-file engine (issue 20) not yet merged")
    return data.load(folder)  # ASSUMED


def study_problems(folder: Path) -> list[Problem]:
    with pytest.raises(CohortError) as caught:
        load_study(folder)
    return caught.value.problems


def test_committed_study_loads_one_row_per_patient():
    study = load_study(STUDY)
    assert len(study.data) == 929  # ASSUMED: .data is the wide table
    assert {"time_recurrence", "status_recurrence", "time_death", "status_death"} <= set(study.data.columns)


def test_patient_with_one_row_only(tmp_path):
    table = rows()
    # rows 2 and 3 are patient 1 (etype 2 then 1): drop the recurrence row
    assert table[1][0] == table[2][0] == "1" and table[2][HEADER.index("etype")] == "1"
    del table[2]
    found = study_problems(write_study(tmp_path / "colon", table))
    assert any(p.file == "colon.csv" and p.row == 2 and "recurrence" in p.rule for p in found), found


def test_covariate_differs_within_a_patient(tmp_path):
    table = rows()
    set_cell(table, 3, "age", "44")  # patient 1 is 43 on row 2
    found = study_problems(write_study(tmp_path / "colon", table))
    assert any(p.file == "colon.csv" and p.row == 3 and p.column == "age" for p in found), found


@pytest.mark.parametrize(
    ("row", "column", "value"),
    [(2, "time", "-5"), (3, "status", "2")],
)
def test_study_load_reports_bad_cells(tmp_path, row, column, value):
    table = rows()
    set_cell(table, row, column, value)
    found = study_problems(write_study(tmp_path / "colon", table))
    assert any((p.file, p.row, p.column) == ("colon.csv", row, column) for p in found), found


def test_arm_not_declared_in_study_file(tmp_path):
    """Both rows of patient 2 in an arm the codebook and the study file do not declare."""
    table = rows()
    for row in (4, 5):
        set_cell(table, row, "rx", "Placebo")
    found = study_problems(write_study(tmp_path / "colon", table))
    assert {p.row for p in found if p.column == "rx"} >= {4, 5}, found


def test_bad_study_exits_2_without_traceback(tmp_path):
    pytest.importorskip("analysis.data", reason="study-file engine (issue 20) not yet merged")
    table = rows()
    set_cell(table, 2, "time", "-5")
    folder = write_study(tmp_path / "colon", table)
    # ASSUMED command line: `python -m analysis validate --study FOLDER`
    result = subprocess.run(
        [sys.executable, "-m", "analysis", "validate", "--study", str(folder)],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "colon.csv, row 2, column 'time'" in result.stdout + result.stderr
