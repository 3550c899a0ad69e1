"""The loader: every bad input named in one report, exit 2, no traceback; odd-but-valid files load."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from analysis.cohort import load_cohort
from analysis.errors import CohortError
from tests.conftest import COHORT, ROOT, write_export


def problems_of(path) -> list:
    with pytest.raises(CohortError) as caught:
        load_cohort(path)
    return caught.value.problems


def test_committed_cohort_is_valid():
    cohort = load_cohort(COHORT)
    assert len(cohort.data) == 100 and cohort.synthetic
    assert cohort.data["group"].value_counts().to_dict() == {"first_line": 83, "post_ate_beva": 17}


def test_validate_command_prints_summary_and_exits_0():
    result = subprocess.run(
        [sys.executable, "-m", "analysis", "validate", str(COHORT)], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    assert "patients: 100 (first_line: 83, post_ate_beva: 17)" in result.stdout
    assert "SYNTHETIC" in result.stdout


@pytest.mark.parametrize(
    ("mutate", "row", "column", "rule"),
    [
        (lambda f: f.drop(columns=["death_date"]), None, "death_date", "required column is missing"),
        (lambda f: f.assign(group=["third_line"] + list(f["group"][1:])), 2, "group", "must be one of"),
        (lambda f: f.assign(etiology=["NASH"] + list(f["etiology"][1:])), 2, "etiology", "must be one of"),
        (
            lambda f: f.assign(patient_id=[f["patient_id"][1]] + list(f["patient_id"][1:])),
            2,
            "patient_id",
            "duplicate",
        ),
        (lambda f: f.assign(age=["250"] + list(f["age"][1:])), 2, "age", "must be between"),
        (lambda f: f.assign(afp_ng_ml=["-5"] + list(f["afp_ng_ml"][1:])), 2, "afp_ng_ml", "must be between"),
        (
            lambda f: f.assign(child_pugh_score=["17"] + list(f["child_pugh_score"][1:])),
            2,
            "child_pugh_score",
            "must be between",
        ),
        (lambda f: f.assign(age=["sixty"] + list(f["age"][1:])), 2, "age", "whole number"),
        (
            lambda f: f.assign(haic_start_date=["15/01/2023"] + list(f["haic_start_date"][1:])),
            2,
            "haic_start_date",
            "YYYY-MM-DD",
        ),
        (
            lambda f: f.assign(last_followup_date=["2025-06-01"] + list(f["last_followup_date"][1:])),
            2,
            "last_followup_date",
            "after the data cut-off",
        ),
    ],
)
def test_bad_value_is_named_with_row_column_and_rule(tmp_path, raw_rows, mutate, row, column, rule):
    problems = problems_of(write_export(mutate(raw_rows), tmp_path))
    assert any(p.row == row and p.column == column and rule in p.rule for p in problems), problems


def _set(frame: pd.DataFrame, i: int, **values) -> pd.DataFrame:
    frame = frame.copy()
    for column, value in values.items():
        frame.loc[i, column] = value
    return frame


def test_dates_out_of_order_each_reported(tmp_path, raw_rows):
    died = raw_rows.index[(raw_rows["death_date"] != "") & (raw_rows.index > 0)][0]
    frame = _set(raw_rows, 0, progression_date="2020-01-01")
    frame = _set(
        frame,
        died,
        progression_date=raw_rows.loc[died, "death_date"][:4] + "-12-31",
        last_followup_date=raw_rows.loc[died, "death_date"],
    )
    rules = {(p.row, p.column, p.rule) for p in problems_of(write_export(frame, tmp_path))}
    assert (2, "progression_date", "progression before HAIC start") in rules
    assert any(r[0] == died + 2 and "progression" in r[2] for r in rules), rules


def test_each_problem_is_reported_once(tmp_path, raw_rows):
    post = raw_rows.index[raw_rows["group"] == "post_ate_beva"][0]
    frame = _set(raw_rows, post, group="third_line")
    frame = _set(frame, 0, death_date="2020-01-01")
    problems = problems_of(write_export(frame, tmp_path))
    assert len(problems) == len(set(problems))
    assert [p.column for p in problems if p.row == post + 2] == ["group"]
    death_rules = [p.rule for p in problems if p.row == 2 and p.column == "death_date"]
    assert death_rules.count("death before HAIC start") == 1


def test_all_problems_in_one_report_and_cli_exits_2_without_traceback(tmp_path, raw_rows):
    frame = _set(raw_rows, 0, age="250", sex="X")
    frame = _set(frame, 3, child_pugh_score="17")
    path = write_export(frame, tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "analysis", "validate", str(path)], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    for needle in [
        "row 2, column 'age': value 250",
        "row 2, column 'sex'",
        "row 5, column 'child_pugh_score'",
    ]:
        assert needle in result.stderr, result.stderr


@pytest.mark.parametrize("content", ["", "\n\n"])
def test_empty_file(tmp_path, content):
    path = tmp_path / "export.csv"
    path.write_text(content)
    assert "empty" in problems_of(path)[0].rule


def test_header_only(tmp_path, raw_rows):
    assert "header only" in problems_of(write_export(raw_rows.head(0), tmp_path))[0].rule


@pytest.mark.parametrize("header", ["patient_name", "phone", "home_address", "date_of_birth", "주민번호"])
def test_identifier_column_refused_by_header(tmp_path, raw_rows, header):
    problems = problems_of(write_export(raw_rows.assign(**{header: "x"}), tmp_path))
    assert problems[0].column == header and "direct patient identifier" in problems[0].rule


def test_identifier_refused_by_value(tmp_path, raw_rows):
    frame = raw_rows.assign(note=["850101-1234567"] + [""] * (len(raw_rows) - 1))
    problems = problems_of(write_export(frame, tmp_path))
    assert "resident registration number" in problems[0].rule
    assert "850101" not in str(problems[0])


@pytest.mark.parametrize(("encoding", "expected"), [("utf-8-sig", "utf-8 with BOM"), ("utf-8", "utf-8")])
def test_utf8_with_and_without_bom_load(tmp_path, raw_rows, encoding, expected):
    cohort = load_cohort(write_export(raw_rows, tmp_path, encoding=encoding))
    assert len(cohort.data) == len(raw_rows)
    assert cohort.encoding == expected


def test_cp949_korean_text_is_read_and_reported(tmp_path, raw_rows):
    frame = raw_rows.copy()
    frame.loc[0, "etiology"] = "간염"
    path = write_export(frame, tmp_path, encoding="cp949")
    problems = problems_of(path)
    assert any(p.value == "간염" and p.column == "etiology" for p in problems), problems


def test_latin1_accents_read(tmp_path, raw_rows):
    frame = raw_rows.copy()
    frame.loc[0, "etiology"] = "hépatite"
    problems = problems_of(write_export(frame, tmp_path, encoding="latin-1"))
    assert any(p.value == "hépatite" for p in problems), problems


def test_excel_with_blank_trailing_rows(tmp_path, raw_rows):
    blank = pd.DataFrame([[None] * raw_rows.shape[1]] * 3, columns=raw_rows.columns)
    path = write_export(
        pd.concat([raw_rows.replace("", None), blank], ignore_index=True), tmp_path, "export.xlsx"
    )
    assert len(load_cohort(path).data) == len(raw_rows)


def test_decimal_commas_in_semicolon_csv(tmp_path, raw_rows):
    frame = raw_rows.copy()
    frame["albumin_g_dl"] = frame["albumin_g_dl"].str.replace(".", ",", regex=False)
    path = write_export(frame, tmp_path, sep=";")
    cohort = load_cohort(path)
    expected = pd.to_numeric(raw_rows["albumin_g_dl"].replace("", None)).to_numpy(dtype=float)
    assert cohort.data["albumin_g_dl"].to_numpy(dtype=float) == pytest.approx(expected, nan_ok=True)


def test_missing_metadata_named(tmp_path, raw_rows):
    path = write_export(raw_rows, tmp_path)
    (tmp_path / "export.meta.yaml").unlink()
    assert "metadata file is missing" in problems_of(path)[0].rule


def test_surrounding_blanks_are_stripped_and_blank_cells_are_missing(tmp_path, raw_rows):
    frame = raw_rows.copy()
    frame.loc[0, "sex"] = "  M "
    frame.loc[1, "afp_ng_ml"] = "   "
    cohort = load_cohort(write_export(frame, tmp_path))
    assert cohort.data.loc[0, "sex"] == "M"
    assert pd.isna(cohort.data.loc[1, "afp_ng_ml"])
