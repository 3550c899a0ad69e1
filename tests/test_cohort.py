"""The loader: every bad input named in one report, exit 2, no traceback; odd-but-valid files load."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest
import yaml

from analysis.data.cohort import load_cohort
from analysis.errors import CohortError
from tests.conftest import COHORT, META, ROOT, write_export


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
        "row 2, column 'age': value '250'",
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


def _validate(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "analysis", "validate", *args], capture_output=True, text=True, cwd=ROOT
    )


def test_validate_without_metadata_lists_the_data_problems_too(tmp_path, raw_rows):
    path = write_export(_set(raw_rows, 1, age="250"), tmp_path)
    (tmp_path / "export.meta.yaml").unlink()
    result = _validate(str(path))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "export.meta.yaml: metadata file is missing" in result.stderr
    assert "export.csv, row 3, column 'age': value '250': must be between 18 and 100" in result.stderr


def test_metadata_and_data_problems_in_one_report(tmp_path, raw_rows):
    path = write_export(_set(raw_rows, 0, sex="X"), tmp_path)
    (tmp_path / "export.meta.yaml").write_text("synthetic: true\ncutoff_date: someday\n")
    rules = [(p.file, p.column, p.rule) for p in problems_of(path)]
    assert ("export.meta.yaml", "cutoff_date", "must be a date YYYY-MM-DD") in rules
    assert ("export.csv", "sex", "must be one of M, F") in rules


def test_duplicated_header_is_named_as_a_duplicate(tmp_path, raw_rows):
    path = tmp_path / "export.csv"
    frame = pd.concat([raw_rows, raw_rows[["age"]]], axis=1)
    frame.to_csv(path, index=False)
    (tmp_path / "export.meta.yaml").write_text(META.read_text())
    problems = problems_of(path)
    assert [(p.row, p.column, p.rule) for p in problems] == [
        (1, "age", "column appears 2 times in the header (columns D and AB); keep one")
    ]
    assert "age.1" not in str(problems)


def test_csv_saved_from_excel_with_empty_trailing_rows_loads_and_counts_them(tmp_path, raw_rows):
    path = write_export(raw_rows, tmp_path)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(("," * (raw_rows.shape[1] - 1) + "\n") * 36)
    result = _validate(str(path))
    assert result.returncode == 0, result.stderr
    last = len(raw_rows) + 1
    assert f"empty rows ignored: 36 (rows {last + 1}-{last + 36})" in result.stdout
    assert load_cohort(path).empty_rows == list(range(last + 1, last + 37))


def test_empty_row_inside_the_data_keeps_row_numbers(tmp_path, raw_rows):
    path = write_export(_set(raw_rows, 5, age="250"), tmp_path)
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:3] + ["\n"] + lines[3:]))
    problems = problems_of(path)
    assert [(p.row, p.column) for p in problems] == [(8, "age")]


def test_empty_columns_without_a_header_are_ignored(tmp_path, raw_rows):
    path = write_export(raw_rows.assign(**{"": ""}), tmp_path)
    assert len(load_cohort(path).data) == len(raw_rows)


def test_validate_against_another_codebook(tmp_path, raw_rows):
    codebook = yaml.safe_load((ROOT / "data" / "codebook.yaml").read_text(encoding="utf-8"))
    keep = ["patient_id", "group", "sex", "age", "haic_start_date", "last_followup_date"]
    codebook["columns"] = {k: v for k, v in codebook["columns"].items() if k in keep}
    codebook["recodes"]["columns"] = {"sex": codebook["recodes"]["columns"]["sex"]}
    other = tmp_path / "other.yaml"
    other.write_text(yaml.safe_dump(codebook, allow_unicode=True), encoding="utf-8")
    frame = raw_rows[keep].assign(sex=raw_rows["sex"].map({"M": "man", "F": "woman"}))
    path = write_export(frame, tmp_path)
    result = _validate(str(path), "--codebook", str(other))
    assert result.returncode == 0, result.stderr
    assert f"patients: {len(frame)}" in result.stdout and "sex: 'man' -> 'M'" in result.stdout
    # the project's codebook refuses the same export: its other columns are missing
    assert _validate(str(path)).returncode == 2
    bad = _validate(str(path), "--codebook", str(tmp_path / "absent.yaml"))
    assert bad.returncode == 2 and "absent.yaml: codebook file not found" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_a_broken_codebook_is_a_clean_error(tmp_path, raw_rows):
    other = tmp_path / "other.yaml"
    other.write_text("columns: [unclosed")
    result = _validate(str(write_export(raw_rows, tmp_path)), "--codebook", str(other))
    assert result.returncode == 2 and "other.yaml: not a readable YAML codebook" in result.stderr
    other.write_text("columns:\n  age: {type: integr}\n")
    result = _validate(str(write_export(raw_rows, tmp_path)), "--codebook", str(other))
    assert "column 'age': type must be one of" in result.stderr and "Traceback" not in result.stderr


def test_a_ragged_csv_is_a_clean_error(tmp_path, raw_rows):
    path = write_export(raw_rows, tmp_path)
    path.write_text(path.read_text() + "a,b," + "," * raw_rows.shape[1] + "\n")
    assert "not a readable delimited text file" in problems_of(path)[0].rule


def test_column_letters():
    from analysis.data.cohort import column_letter

    assert [column_letter(i) for i in (0, 25, 26, 27, 701, 702)] == ["A", "Z", "AA", "AB", "ZZ", "AAA"]
