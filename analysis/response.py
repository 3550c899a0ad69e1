"""Tumour response: best overall response by RECIST 1.1 and mRECIST, ORR and DCR with exact CIs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

CATEGORIES = ["CR", "PR", "SD", "PD", "NE"]
RESPONSE = ["CR", "PR"]
CONTROL = ["CR", "PR", "SD"]


@dataclass(frozen=True)
class Rate:
    """k of n with its Clopper-Pearson (exact binomial) confidence interval."""

    k: int
    n: int
    low: float
    high: float

    @property
    def proportion(self) -> float:
        return self.k / self.n if self.n else float("nan")


def clopper_pearson(k: int, n: int, confidence: float = 0.95) -> Rate:
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=confidence, method="exact")
    return Rate(int(k), int(n), float(ci.low), float(ci.high))


def best_response_counts(df: pd.DataFrame, column: str, group: str) -> pd.DataFrame:
    """Patients per best-response category (rows) and group (columns)."""
    counts = pd.crosstab(pd.Categorical(df[column], categories=CATEGORIES), df[group], dropna=False)
    counts.index = CATEGORIES
    return counts


def rate(df: pd.DataFrame, column: str, levels: list[str], confidence: float = 0.95) -> Rate:
    return clopper_pearson(int(df[column].isin(levels).sum()), len(df), confidence)


def compare_rates(df: pd.DataFrame, column: str, levels: list[str], group: str) -> float:
    """Fisher's exact test of the rate between the two groups (2 x 2 table)."""
    hit = df[column].isin(levels)
    table = pd.crosstab(df[group], hit).reindex(columns=[True, False], fill_value=0).to_numpy()
    return float(stats.fisher_exact(np.asarray(table)).pvalue)
