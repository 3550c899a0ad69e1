"""Tests for group-by-category tables, with gtsummary's rule for choosing between them.

Pearson's chi-square without continuity correction when every expected count is at least 5, else
Fisher's exact test. SciPy computes the chi-square test and Fisher's test on 2 x 2 tables. Fisher's
test on larger 2 x k tables is our own code: it enumerates every table with the observed margins,
exactly as R's `fisher.test`, whereas SciPy's `fisher_exact` samples permutations for such tables.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from scipy import stats
from scipy.special import gammaln

from analysis.stats.software import Software, computed_by

RELATIVE_TOLERANCE = 1 + 1e-7
MIN_EXPECTED = 5


@dataclass(frozen=True)
class TestResult:
    p: float
    test: str
    software: Software | None = None


def _log_table_probability(first_rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """Log hypergeometric weight of each first row (one per line) given the column totals."""
    return np.sum(gammaln(columns + 1) - gammaln(first_rows + 1) - gammaln(columns - first_rows + 1), axis=-1)


def fisher_exact(table: np.ndarray) -> float:
    """Two-sided exact p-value for a 2 x k table: the mass of tables no more probable than the observed."""
    table = np.asarray(table, dtype=int)
    if table.shape[0] != 2:
        table = table.T
    if table.shape == (2, 2):
        return float(stats.fisher_exact(table).pvalue)
    table = table[:, table.sum(axis=0) > 0]
    if table[0].sum() > table[1].sum():
        table = table[::-1]
    columns = table.sum(axis=0)
    n_row = int(table[0].sum())
    total = int(columns.sum())
    log_norm = float(gammaln(total + 1) - gammaln(n_row + 1) - gammaln(total - n_row + 1))
    observed = _log_table_probability(table[0], columns) - log_norm
    heads = np.array(list(itertools.product(*(range(min(c, n_row) + 1) for c in columns[:-1]))))
    last = n_row - heads.sum(axis=1)
    possible = (last >= 0) & (last <= columns[-1])
    rows = np.column_stack([heads[possible], last[possible]])
    log_p = _log_table_probability(rows, columns) - log_norm
    p = np.exp(log_p[log_p <= observed + np.log(RELATIVE_TOLERANCE)]).sum()
    return float(min(p, 1.0))


def compare_categories(table: np.ndarray, expected_min: int = MIN_EXPECTED) -> TestResult:
    """Chi-square if all expected counts >= expected_min (5), else Fisher's exact test (gtsummary's
    default). Fisher's test is computed for 2 x k tables; a larger table with small expected counts
    is reported as not computed, never approximated silently."""
    table = np.asarray(table, dtype=float)
    table = table[:, table.sum(axis=0) > 0] if table.shape[0] == 2 else table[table.sum(axis=1) > 0]
    if min(table.shape) < 2:
        return TestResult(float("nan"), "not applicable")
    expected = stats.contingency.expected_freq(table)
    if (expected < expected_min).any():
        fisher = "Fisher's exact test"
        if min(table.shape) > 2:
            return TestResult(float("nan"), "not computed (Fisher's exact test on a table larger than 2 x k)")
        if table.shape == (2, 2):
            return TestResult(
                fisher_exact(table), fisher, computed_by("Fisher\u2019s exact tests", stats.fisher_exact)
            )
        larger = computed_by("Fisher\u2019s exact tests on tables larger than 2 \u00d7 2", fisher_exact)
        return TestResult(fisher_exact(table.astype(int)), fisher, larger)
    chi2 = stats.chi2_contingency(table, correction=False)
    return TestResult(
        float(chi2.pvalue),
        "Pearson's chi-square test",
        computed_by("chi-square tests", stats.chi2_contingency),
    )
