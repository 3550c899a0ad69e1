"""Tumour response: best overall response per category, response and control rates with exact CIs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analysis.stats.contingency import TestResult, fisher_exact
from analysis.stats.software import Software, computed_by


@dataclass(frozen=True)
class Rate:
    """k of n with its Clopper-Pearson (exact binomial) confidence interval."""

    k: int
    n: int
    low: float
    high: float
    software: Software | None = None

    @property
    def proportion(self) -> float:
        return self.k / self.n if self.n else float("nan")


def clopper_pearson(k: int, n: int, confidence: float = 0.95) -> Rate:
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=confidence, method="exact")
    software = computed_by("Clopper-Pearson intervals", stats.binomtest)
    return Rate(int(k), int(n), float(ci.low), float(ci.high), software)


def best_response_counts(values: pd.Series, categories: list[str]) -> dict[str, int]:
    """Patients per best-response category, in the categories' order."""
    text = values.astype(object).map(lambda v: None if pd.isna(v) else str(v))
    return {c: int((text == c).sum()) for c in categories}


def rate(df: pd.DataFrame, column: str, levels: list[str], confidence: float = 0.95) -> Rate:
    return clopper_pearson(int(df[column].isin(levels).sum()), len(df), confidence)


def _rate_table(df: pd.DataFrame, column: str, levels: list[str], group: str) -> np.ndarray:
    hit = df[column].isin(levels)
    return pd.crosstab(df[group], hit).reindex(columns=[True, False], fill_value=0).to_numpy()


def compare_rates(df: pd.DataFrame, column: str, levels: list[str], group: str) -> TestResult:
    """Fisher's exact test of the rate between the groups (2 x k table: R's `fisher.test`)."""
    table = _rate_table(df, column, levels, group)
    p = float(stats.fisher_exact(table).pvalue) if table.shape == (2, 2) else fisher_exact(table)
    return TestResult(p, "Fisher's exact test", computed_by("Fisher\u2019s exact tests", stats.fisher_exact))


def chi_square_rates(
    df: pd.DataFrame, column: str, levels: list[str], group: str, continuity: bool
) -> TestResult:
    """Pearson's chi-square test of the rate between the groups, with or without Yates' correction
    (what the Discussion weighs against Fisher's test)."""
    result = stats.chi2_contingency(_rate_table(df, column, levels, group), correction=continuity)
    name = "Pearson's chi-square test" + (" with continuity correction" if continuity else "")
    return TestResult(float(result.pvalue), name, computed_by("chi-square tests", stats.chi2_contingency))
