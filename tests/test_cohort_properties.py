"""Properties of the loader: any mutation of valid rows either loads or fails with the clean CohortError;
any re-spelling of valid rows that the codebook's recodes declare loads to the identical analysis data."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.data.codebook import load_codebook
from analysis.data.cohort import load_cohort
from analysis.errors import CohortError
from tests.conftest import COHORT, ROOT, write_export

ROWS = pd.read_csv(COHORT, dtype=str, keep_default_na=False).head(8)
CELL = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "NA", "-1", "0", "1e9", "2024-02-30", "2030-01-01", "3,5", "Vp5", "yes", "CR"]),
    st.integers(-(10**6), 10**6).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    edits=st.lists(
        st.tuples(st.integers(0, len(ROWS) - 1), st.sampled_from(list(ROWS.columns)), CELL),
        min_size=1,
        max_size=4,
    )
)
def test_mutations_load_or_fail_cleanly(edits):
    frame = ROWS.copy()
    for row, column, value in edits:
        frame.loc[row, column] = value.replace("\x00", "")
    with tempfile.TemporaryDirectory() as folder:
        path = write_export(frame, Path(folder))
        try:
            cohort = load_cohort(path)
        except CohortError as error:
            assert error.problems and all(p.rule for p in error.problems)
        else:
            assert len(cohort.data) == len(frame)


CODEBOOK = load_codebook(ROOT / "data" / "codebook.yaml")
CLEAN = ROWS.copy()
CASES = [str, str.upper, str.lower, str.title, str.swapcase]
SPACES = ["", " ", "  ", "\t"]


def spellings(column: str, value: str) -> list[str]:
    """Every way the codebook's recodes accept for writing `value` in `column` (the value itself first)."""
    declared = CODEBOOK.recodes_for(column)
    kind = CODEBOOK.columns[column]["type"]
    if value == "":
        return ["", *declared.get("missing", [])]
    if kind == "category":
        return [value, *declared.get("synonyms", {}).get(value, [])]
    if kind == "date":
        day = pd.Timestamp(value)
        forms = [value]
        for form in declared.get("date_formats", []):
            if form == "excel":
                forms.append(str((day - pd.Timestamp("1899-12-30")).days))
            else:
                forms.append(day.strftime(form.replace("YYYY", "%Y").replace("MM", "%m").replace("DD", "%d")))
        return forms
    return [value]


@st.composite
def respelled(draw) -> pd.DataFrame:
    """The clean rows, each cell written in a randomly chosen declared spelling, case and padding."""
    frame = CLEAN.copy()
    for column in frame.columns:
        for row in frame.index:
            value = frame.at[row, column]
            text = draw(st.sampled_from(spellings(column, value)))
            caseless = CODEBOOK.recodes_for(column).get("ignore_case")
            if caseless and (value == "" or CODEBOOK.columns[column]["type"] == "category"):
                text = draw(st.sampled_from(CASES))(text)
            frame.at[row, column] = draw(st.sampled_from(SPACES)) + text + draw(st.sampled_from(SPACES))
    return frame


REFERENCE: dict = {}


@settings(max_examples=40, deadline=None)
@given(frame=respelled(), empty_rows=st.integers(0, 3))
def test_declared_respellings_load_to_identical_analysis_data(frame, empty_rows):
    with tempfile.TemporaryDirectory() as folder:
        if "data" not in REFERENCE:
            REFERENCE["data"] = load_cohort(write_export(CLEAN, Path(folder), "clean.csv")).data
        blank = pd.DataFrame([[""] * frame.shape[1]] * empty_rows, columns=frame.columns)
        cohort = load_cohort(write_export(pd.concat([frame, blank]), Path(folder)))
    pd.testing.assert_frame_equal(cohort.data, REFERENCE["data"])
    changed = int((frame != CLEAN).to_numpy().sum())
    assert sum(r.rows for r in cohort.recodes) == changed
    assert len(cohort.empty_rows) == empty_rows
