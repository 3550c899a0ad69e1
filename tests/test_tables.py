"""The tables read as the codebook says: labels and level order declared, never guessed (a value the
codebook does not label is a validation error); Table 1 laid out as gtsummary lays it out."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest
import yaml

from analysis.article import tables
from analysis.data.codebook import load_codebook
from analysis.data.cohort import load_cohort
from analysis.errors import CohortError
from analysis.plan.plan import Plan
from analysis.stats import baseline
from tests.conftest import ROOT, write_export

PLAN = Plan.load(ROOT)
TABLE1 = PLAN.table1
#: the derived categories and their levels' labels, as the study file declares them
DERIVED_LEVELS = {d.name: d.levels for d in PLAN.study.derive if d.levels}


@pytest.fixture(scope="module")
def results(haic_results):
    return haic_results


@pytest.fixture(scope="module")
def frame(results) -> pd.DataFrame:
    return tables.baseline_frame(results)


def block_lines(frame: pd.DataFrame, label: str) -> list[str]:
    """The level lines printed under one variable's line, stripped of their indent."""
    labels = frame["label"].tolist()
    start = labels.index(label) + 1
    lines = []
    for text in labels[start:]:
        if not text.startswith(tables.INDENT):
            break
        lines.append(text[len(tables.INDENT) :])
    return lines


def test_levels_print_their_codebook_labels_in_codebook_order(frame):
    codebook = yaml.safe_load((ROOT / "data" / "codebook.yaml").read_text())["columns"]
    for variable in TABLE1:
        if variable.continuous or variable.column in DERIVED_LEVELS:
            continue
        expected = [str(label) for label in codebook[variable.column]["labels"].values()]
        printed = [line for line in block_lines(frame, variable.label) if line != "Unknown"]
        assert printed == expected, variable.column
    assert block_lines(frame, "ECOG performance status") == ["0", "1", "2", "3", "4"]
    assert block_lines(frame, "Sex") == ["Male", "Female"]


def test_derived_categories_print_the_labels_declared_where_they_are_derived(frame):
    derived = {v.column: v.label for v in TABLE1 if v.column in DERIVED_LEVELS}
    assert set(derived) == set(DERIVED_LEVELS)
    for column, label in derived.items():
        printed = [line for line in block_lines(frame, label) if line != "Unknown"]
        assert printed == list(DERIVED_LEVELS[column].values()), column
    assert block_lines(frame, "Number of tumours") == ["1", "2\u20133", "> 3"]


def test_no_label_is_guessed_from_a_value(frame):
    assert not {"Yes", "No"} & {label.strip("\u00a0") for label in frame["label"]}


def test_percentages_are_of_known_values_and_unknown_only_where_missing(results, frame):
    data = results.data
    first = data[data["group"] == "first_line"]
    known = first["albi_grade"].notna()
    grade1 = int((first["albi_grade"] == 1).sum())
    row = frame.iloc[frame["label"].tolist().index("ALBI grade") + 1]
    assert row["label"] == tables.INDENT + "1"
    assert row["first_line"] == f"{grade1} ({100 * grade1 / known.sum():.1f}%)"
    assert block_lines(frame, "ALBI grade")[-1] == "Unknown"
    assert "Unknown" not in block_lines(frame, "Sex")
    unknown = [b.variable.column for b in results.baseline if b.lines[-1].key == baseline.UNKNOWN]
    assert set(unknown) == {
        c for c in ("albi_grade", "afp_ng_ml", "afp_ge_400", "pivka_ii_mau_ml") if data[c].isna().any()
    }


def test_footnote_says_what_percentages_and_unknown_mean(results):
    notes = " ".join(str(n) for n in tables.baseline_gt(results)._source_notes)
    assert "patients with a known value" in notes and "Unknown: patients with no recorded value" in notes


def test_a_derived_level_without_a_label_is_refused():
    data = pd.DataFrame({"group": ["a", "b", "a"], "grade": ["1", "4", None]})
    variable = baseline.Variable("grade", "Grade")
    with pytest.raises(ValueError, match="grade: level\\(s\\) 4 have no declared label"):
        baseline.summarise(data, variable, "group", ["a", "b"], {"1": "1", "2": "2"})


def test_response_table_prints_codebook_labels(results):
    frame = tables.response_frame(results)
    assert frame["item"].iloc[0].lstrip("\u00a0") == "Complete response (CR)"


def test_a_level_the_codebook_does_not_label_is_named(tmp_path, raw_rows):
    """A value the codebook allows but gives no printed label is an error naming column and value."""
    codebook = load_codebook(ROOT / "data" / "codebook.yaml")
    columns = {name: dict(spec) for name, spec in codebook.columns.items()}
    columns["ecog"]["labels"] = {
        level: label for level, label in columns["ecog"]["labels"].items() if level != 1
    }
    frame = raw_rows.copy()
    frame.loc[3, "ecog"] = "1"
    with pytest.raises(CohortError) as caught:
        load_cohort(write_export(frame, tmp_path), replace(codebook, columns=columns))
    problems = [p for p in caught.value.problems if p.column == "ecog"]
    assert problems
    assert all(str(p.value) == "1" and p.rule == "has no label in the codebook" for p in problems)
    assert 5 in {p.row for p in problems}


def test_every_allowed_value_of_a_labelled_column_has_a_label():
    """The committed codebook labels every value its labelled columns allow (labels set the order)."""
    for name, spec in load_codebook(ROOT / "data" / "codebook.yaml").columns.items():
        if "labels" not in spec:
            continue
        allowed = spec["values"] if "values" in spec else list(range(spec["min"], spec["max"] + 1))
        assert sorted(str(v) for v in spec["labels"]) == sorted(str(v) for v in allowed), name


def test_numbers_table_names_the_keys_and_functions_behind_every_table_cell(results):
    """Two steps from any printed number to its function: prose numbers one row each, and one row
    per table naming the keys, methods and functions its cells were read from."""
    from analysis.article.provenance import numbers_frame

    built = results.tables
    from analysis.article import reviewer_tables

    assert set(built.cells) == set(tables.TITLES.values()) | set(reviewer_tables.TITLES.values())
    cox = built.cells["Cox regression"]
    assert "os.cox.multi.group.hr" in cox and all(".cox." in k for k in cox)
    frame = numbers_frame(results.ledger, built.cells)
    rows = frame[frame["Printed"].str.endswith("cells")]
    assert len(rows) == len(built.cells)
    cox_row = rows[rows["Printed"].str.startswith("Cox regression")].iloc[0]
    assert cox_row["Key"] == "os.cox.*, pfs.cox.*" and "analysis.stats.cox.multivariable" in cox_row["Source"]
    baseline_row = rows[rows["Printed"].str.startswith("Baseline")].iloc[0]
    assert baseline_row["Key"].startswith("baseline.*")
    assert "analysis.stats.baseline" in baseline_row["Source"]


def test_codebook_table_writes_ranges_as_a_reader_does():
    """Allowed ranges in plain digits with thousands separators (a reader sees 10,000,000, not 1e+07)."""
    allowed = load_codebook(ROOT / "data" / "codebook.yaml").table().set_index("Column")["Allowed values"]
    assert allowed["afp_ng_ml"] == "0 to 10,000,000"
    assert allowed["bilirubin_mg_dl"] == "0.1 to 30"
    assert allowed["age"] == "18 to 100"
    assert not allowed.str.contains("e+", regex=False).any()
