"""Recodes declared in the codebook: every export that used to be refused loads, and says what changed."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import yaml

import analysis
from analysis.article.wording import assay_limits, recoding
from analysis.data.codebook import load_codebook
from analysis.data.cohort import load_cohort
from analysis.data.derive import cut
from analysis.data.recode import Declared, recode_value
from analysis.errors import CohortError
from analysis.plan.plan import Plan
from tests.conftest import COHORT, META, ROOT, write_export


def problems_of(path, codebook=None) -> list:
    with pytest.raises(CohortError) as caught:
        load_cohort(path, codebook)
    return caught.value.problems


def codebook_with(tmp_path: Path, change) -> Path:
    """A copy of the project's codebook with `change(content)` applied."""
    content = yaml.safe_load((ROOT / "data" / "codebook.yaml").read_text(encoding="utf-8"))
    change(content)
    path = tmp_path / "other.yaml"
    path.write_text(yaml.safe_dump(content, allow_unicode=True), encoding="utf-8")
    return path


def recodes_of(cohort) -> dict[tuple[str, str], tuple[str, int]]:
    return {(r.column, r.written): (r.recoded, r.rows) for r in cohort.recodes}


def test_male_female_recoded_to_m_f(tmp_path, raw_rows):
    frame = raw_rows.assign(sex=raw_rows["sex"].map({"M": "Male", "F": "Female"}))
    cohort = load_cohort(write_export(frame, tmp_path))
    assert list(cohort.data["sex"].astype(str)) == list(raw_rows["sex"])
    males = int((raw_rows["sex"] == "M").sum())
    assert recodes_of(cohort)[("sex", "Male")] == ("M", males)


def test_lower_case_with_trailing_space_recoded(tmp_path, raw_rows):
    frame = raw_rows.copy()
    frame.loc[0, "recist_bor"] = frame.loc[0, "recist_bor"].lower() + " "
    cohort = load_cohort(write_export(frame, tmp_path))
    assert cohort.data.loc[0, "recist_bor"] == raw_rows.loc[0, "recist_bor"]
    recode = next(r for r in cohort.recodes if r.column == "recist_bor")
    assert recode.rule == "surrounding spaces; case" and recode.rows == 1


@pytest.mark.parametrize("word", ["N/A", "NA", "unknown", "Unknown", "-", " n/a "])
def test_missing_words_in_a_lab_column(tmp_path, raw_rows, word):
    frame = raw_rows.copy()
    frame.loc[0, "albumin_g_dl"] = word
    cohort = load_cohort(write_export(frame, tmp_path))
    assert pd.isna(cohort.data.loc[0, "albumin_g_dl"])
    assert recodes_of(cohort)[("albumin_g_dl", word)] == ("(missing)", 1)


def test_missing_word_in_a_required_column_is_named_as_written(tmp_path, raw_rows):
    frame = raw_rows.copy()
    frame.loc[2, "ecog"] = "unknown"
    problems = problems_of(write_export(frame, tmp_path))
    assert [(p.row, p.column, p.value, p.rule) for p in problems] == [
        (4, "ecog", "unknown", "required value is missing")
    ]


def test_values_beyond_an_assay_limit_are_kept_at_the_limit_and_flagged(tmp_path, raw_rows):
    frame = raw_rows.copy()
    frame.loc[0, "afp_ng_ml"] = ">60500"
    frame.loc[1, "afp_ng_ml"] = "<2"
    frame.loc[2, "pivka_ii_mau_ml"] = "<500"
    plan = Plan.load(ROOT)
    data = plan.derive_columns(load_cohort(write_export(frame, tmp_path)).data)
    assert data["afp_ng_ml"].iloc[:2].tolist() == [60500.0, 2.0]
    assert [None if pd.isna(v) else v for v in data["afp_ng_ml_limit"].iloc[:3]] == ["above", "below", None]
    assert data.loc[0, "afp_ge_400"] == 1 and data.loc[1, "afp_ge_400"] == 0
    assert data["afp_ng_ml_limit"].iloc[3:].isna().all()
    # "<500" leaves open whether PIVKA-II reached 400: the covariate is missing, not 1
    assert data.loc[2, "pivka_ii_mau_ml"] == 500.0 and pd.isna(data.loc[2, "pivka_ge_400"])


def test_a_covariate_cut_off_inside_the_unmeasured_range_is_missing():
    written = {">60500": 1, ">300": None, "<2": 0, "<500": None, "<400": 0, ">400": 1, "800": 1, "": None}
    values = [float(w.lstrip("<>")) if w else None for w in written]
    limits = ["above" if w.startswith(">") else "below" if w.startswith("<") else None for w in written]
    raw = pd.DataFrame({"afp_ng_ml": values, "afp_ng_ml_limit": pd.Categorical(limits, ["below", "above"])})
    got = cut(raw, "afp_ng_ml", ">=", 400)
    assert dict(zip(written, [None if pd.isna(v) else int(v) for v in got], strict=True)) == written


def test_limits_are_not_read_where_none_are_declared(tmp_path, raw_rows):
    frame = raw_rows.copy()
    frame.loc[0, "albumin_g_dl"] = "<2"
    problems = problems_of(write_export(frame, tmp_path))
    assert [(p.row, p.column, p.value) for p in problems] == [(2, "albumin_g_dl", "<2")]
    assert "must be a number" in problems[0].rule


@pytest.mark.parametrize(
    ("written", "form"),
    [
        ("2023/01/05", "YYYY/MM/DD"),
        ("05.01.2023", "DD.MM.YYYY"),
        ("2023.01.05", "YYYY.MM.DD"),
        ("44931", None),
    ],
)
def test_declared_date_formats_and_excel_serials_in_csv(tmp_path, raw_rows, written, form):
    frame = raw_rows.copy()
    frame.loc[0, "haic_start_date"] = written
    frame.loc[0, "ate_beva_start_date"] = ""
    frame.loc[0, "group"] = "first_line"
    frame.loc[0, ["ate_beva_cycles", "ate_beva_best_response"]] = ""
    frame.loc[0, ["progression_date", "death_date"]] = ""
    frame.loc[0, "last_followup_date"] = "2023-06-01"
    cohort = load_cohort(write_export(frame, tmp_path))
    assert cohort.data.loc[0, "haic_start_date"] == pd.Timestamp("2023-01-05")
    recode = next(r for r in cohort.recodes if r.column == "haic_start_date")
    assert recode.written == (form or "Excel serial number") and recode.rows == 1


def test_excel_serial_44927_is_new_years_day_2023():
    rules = Declared("date", excel_serials=True)
    assert recode_value("44927", rules).text == "2023-01-01"
    assert recode_value("2023", rules).text == "2023"  # a year is not a serial: left for validation to refuse


def test_excel_serials_in_csv_only_where_declared_but_always_in_xlsx_cells(tmp_path, raw_rows):
    without_excel = codebook_with(tmp_path, lambda c: c["recodes"].update(date_formats=["YYYY/MM/DD"]))
    codebook = load_codebook(without_excel)
    serial = str((pd.Timestamp(raw_rows.loc[0, "last_followup_date"]) - pd.Timestamp("1899-12-30")).days)
    frame = raw_rows.copy()
    frame.loc[0, "last_followup_date"] = serial
    problems = problems_of(write_export(frame, tmp_path), codebook)
    assert [(p.row, p.column, p.value) for p in problems] == [(2, "last_followup_date", serial)]
    assert "YYYY-MM-DD (also accepted: YYYY/MM/DD)" in problems[0].rule
    book = tmp_path / "serials.xlsx"
    typed = raw_rows.replace("", None)
    typed.loc[0, "last_followup_date"] = int(serial)  # a number cell, as Excel stores an unformatted date
    typed.to_excel(book, index=False)
    (tmp_path / "serials.meta.yaml").write_text(META.read_text())
    cohort = load_cohort(book, codebook)
    assert cohort.data.loc[0, "last_followup_date"] == pd.Timestamp(raw_rows.loc[0, "last_followup_date"])


def test_dates_in_xlsx_date_cells_load(tmp_path, raw_rows):
    typed = raw_rows.replace("", None)
    for column in [c for c in typed if c.endswith("_date")]:
        typed[column] = pd.to_datetime(typed[column])
    cohort = load_cohort(write_export(typed, tmp_path, "export.xlsx"))
    assert cohort.data["haic_start_date"].tolist() == pd.to_datetime(raw_rows["haic_start_date"]).tolist()
    assert not [r for r in cohort.recodes if r.column.endswith("_date")]


def test_ambiguous_date_formats_are_an_error_not_a_guess(tmp_path, raw_rows):
    both = codebook_with(tmp_path, lambda c: c["recodes"].update(date_formats=["DD/MM/YYYY", "MM/DD/YYYY"]))
    frame = raw_rows.copy()
    frame.loc[0, "haic_start_date"] = "05/01/2023"
    frame.loc[1, "haic_start_date"] = "13/01/2023"  # only one reading: recoded
    problems = problems_of(write_export(frame, tmp_path), load_codebook(both))
    ambiguous = [p for p in problems if "ambiguous" in p.rule]
    assert [(p.row, p.column, p.value) for p in ambiguous] == [(2, "haic_start_date", "05/01/2023")]
    assert (
        "DD/MM/YYYY reads 2023-01-05" in ambiguous[0].rule
        and "MM/DD/YYYY reads 2023-05-01" in ambiguous[0].rule
    )
    assert not [p for p in problems if p.row == 2 and p is not ambiguous[0] and p.column == "haic_start_date"]
    assert not [p for p in problems if p.row == 3 and p.column == "haic_start_date" and "date" in p.rule]


def test_a_spelling_declared_for_two_levels_is_an_error(tmp_path, raw_rows):
    def clash(content):
        content["recodes"]["columns"]["recist_bor"] = {"synonyms": {"PR": ["P"], "PD": ["p"]}}

    frame = raw_rows.copy()
    frame.loc[0, "recist_bor"] = "P"
    problems = problems_of(write_export(frame, tmp_path), load_codebook(codebook_with(tmp_path, clash)))
    declared = [p for p in problems if p.file == "other.yaml"]
    assert [(p.column, p.value) for p in declared] == [("recist_bor", "p")]
    assert "both 'PD' and 'PR'" in declared[0].rule
    assert any(p.row == 2 and p.column == "recist_bor" and p.value == "P" for p in problems), problems


def test_a_missing_word_that_is_also_a_level_is_an_error(tmp_path, raw_rows):
    def clash(content):
        content["recodes"]["columns"]["extrahepatic_spread"]["missing"] = ["NO"]

    problems = problems_of(write_export(raw_rows, tmp_path), load_codebook(codebook_with(tmp_path, clash)))
    assert [(p.file, p.column, p.value) for p in problems] == [("other.yaml", "extrahepatic_spread", "no")]
    assert "missing word" in problems[0].rule


def test_without_declared_recodes_the_old_clean_errors_remain(tmp_path, raw_rows):
    bare = load_codebook(codebook_with(tmp_path, lambda c: c.pop("recodes")))
    frame = raw_rows.copy()
    frame.loc[0, "sex"] = "Male"
    frame.loc[1, "albumin_g_dl"] = "N/A"
    frame.loc[2, "afp_ng_ml"] = ">60500"
    frame.loc[3, "haic_start_date"] = "2023/01/05"
    problems = problems_of(write_export(frame, tmp_path), bare)
    assert [(p.row, p.column, p.value) for p in problems] == [
        (2, "sex", "Male"),
        (3, "albumin_g_dl", "N/A"),
        (4, "afp_ng_ml", ">60500"),
        (5, "haic_start_date", "2023/01/05"),
    ]


def test_recode_log_written_beside_numbers_json(tmp_path):
    frame = pd.read_csv(COHORT, dtype=str, keep_default_na=False)
    frame["sex"] = frame["sex"].map({"M": "male", "F": "female"})
    frame.loc[0, "afp_ng_ml"] = ">60500"
    blank = pd.DataFrame([[""] * frame.shape[1]] * 2, columns=frame.columns)
    export = write_export(pd.concat([frame, blank]), tmp_path)
    results = analysis.run(export)
    results.write(tmp_path / "out")
    with (tmp_path / "out" / "recodes.csv").open(encoding="utf-8") as handle:
        log = list(csv.DictReader(handle))
    assert {(r["column"], r["from"], r["to"], r["rule"]) for r in log} >= {
        ("sex", "male", "M", "synonym"),
        ("afp_ng_ml", ">60500", "60500", "above the assay limit"),
        ("", "(empty row)", "(ignored)", "empty row"),
    }
    assert sum(int(r["rows"]) for r in log if r["column"] == "sex") == len(frame)
    ledger = results.ledger
    assert ledger["data.recoded_cells"].value == len(frame) + 1
    assert ledger["data.beyond_limit.afp_ng_ml.above"].value == 1
    sentence = ledger["wording.methods.assay_limits"].text
    assert "serum alpha-fetoprotein above 60,500 ng/mL in 1 patient" in sentence
    assert ledger["wording.methods.recodes"].text.startswith(f"Before analysis, {len(frame) + 1} cells")


def test_committed_cohort_needs_no_recode(tmp_path):
    results = analysis.run(ROOT / "data" / "cohort.csv")
    assert results.cohort.recodes == [] and results.ledger["data.recoded_cells"].value == 0
    assert "none was recoded" in results.ledger["wording.methods.recodes"].text
    assert results.ledger["wording.methods.assay_limits"].text.startswith("No laboratory value")
    results.write(tmp_path)
    assert (tmp_path / "recodes.csv").read_text(encoding="utf-8") == '"column","from","to","rule","rows"\n'


def test_methods_sentences_follow_the_numbers():
    assert recoding(1, "1", ["synonym"]).startswith("Before analysis, 1 cell of the export was recoded")
    assert "(letter case and other date formats)" in recoding(5, "5", ["date format", "case"])
    two = assay_limits([("AFP above 60,500 ng/mL", 2, "2"), ("AFP below 2 ng/mL", 0, "0")])
    assert "AFP above 60,500 ng/mL in 2 patients." in two and "below" not in two


def test_validate_prints_every_recode(tmp_path, raw_rows):
    frame = raw_rows.assign(sex=raw_rows["sex"].map({"M": "Male", "F": "Female"}))
    result = subprocess.run(
        [sys.executable, "-m", "analysis", "validate", str(write_export(frame, tmp_path))],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    males = int((raw_rows["sex"] == "M").sum())
    assert f"sex: 'Male' -> 'M' (synonym): {males} row(s)" in result.stdout


def test_excel_rows_that_exist_but_are_empty_are_ignored_and_counted(tmp_path, raw_rows):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(raw_rows.columns))
    for row in raw_rows.replace("", None).itertuples(index=False):
        sheet.append(list(row))
    for n in range(3):
        sheet.append([" "] * 3 if n == 0 else [None])
        sheet.cell(row=sheet.max_row, column=2).number_format = "0.00"
    path = tmp_path / "export.xlsx"
    book.save(path)
    (tmp_path / "export.meta.yaml").write_text(META.read_text())
    cohort = load_cohort(path)
    assert len(cohort.data) == len(raw_rows)
    assert cohort.empty_rows == [len(raw_rows) + 2, len(raw_rows) + 3, len(raw_rows) + 4]


def test_wrong_declarations_are_named_in_the_report(tmp_path, raw_rows):
    def wrong(content):
        columns = content["recodes"]["columns"]
        columns["haic_start_date"] = {"date_formats": ["YYYY/MM"]}
        columns["age"] = {"synonyms": {"65": ["sixty-five"]}}
        columns["sex"] = {"limits": True, "synonyms": {"X": ["other"]}}
        columns["weight"] = {"limits": True}

    problems = problems_of(write_export(raw_rows, tmp_path), load_codebook(codebook_with(tmp_path, wrong)))
    assert {(p.file, p.column, p.value, p.rule) for p in problems} == {
        ("other.yaml", "weight", None, "recodes declared for a column that is not in the codebook"),
        ("other.yaml", "haic_start_date", "YYYY/MM", "unknown date format; build it from YYYY, MM and DD"),
        ("other.yaml", "age", None, "synonyms are declared for categories only"),
        ("other.yaml", "sex", "X", "synonyms declared for a level not in M, F"),
        ("other.yaml", "sex", None, "assay limits are declared for numbers only"),
    }
