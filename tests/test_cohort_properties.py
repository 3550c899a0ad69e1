"""Property: any mutation of valid rows either loads or fails with the clean CohortError."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.cohort import load_cohort
from analysis.errors import CohortError
from tests.conftest import COHORT, write_export

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
