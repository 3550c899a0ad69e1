"""Baseline characteristics (Table 1) by group and overall, with gtsummary's tests.

Continuous variables: median (IQR) and the Wilcoxon rank-sum test (normal approximation with
continuity and tie corrections, as R's `wilcox.test` for groups this size). Categorical variables:
n (%) and the chi-square or Fisher's exact test (`analysis.contingency`). Missing values are counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from analysis.contingency import TestResult, compare_categories

WILCOXON = "Wilcoxon rank-sum test"


@dataclass(frozen=True)
class Variable:
    """A Table 1 row: a column, its label, and whether it is summarised as continuous."""

    column: str
    label: str
    continuous: bool = False
    levels: list[str] | None = None
    unit: str = ""


TABLE1: list[Variable] = [
    Variable("age", "Age, years", continuous=True),
    Variable("sex", "Sex", levels=["M", "F"]),
    Variable("etiology", "Aetiology", levels=["HBV", "HCV", "alcohol", "MASLD", "other"]),
    Variable("ecog", "ECOG performance status", levels=["0", "1", "2", "3", "4"]),
    Variable("child_pugh_class", "Child-Pugh class", levels=["A", "B", "C"]),
    Variable("albi_grade", "ALBI grade", levels=["1", "2", "3"]),
    Variable("bclc_stage", "BCLC stage", levels=["A", "B", "C", "D"]),
    Variable("tumour_size_cm", "Largest tumour, cm", continuous=True),
    Variable("tumour_count", "Tumour number", levels=["1", "2-3", ">3"]),
    Variable("pvtt", "Portal vein tumour thrombosis", levels=["Vp0", "Vp1", "Vp2", "Vp3", "Vp4"]),
    Variable("extrahepatic_spread", "Extrahepatic spread", levels=["yes", "no"]),
    Variable("afp_ng_ml", "AFP, ng/mL", continuous=True),
    Variable("afp_ge_400", "AFP ≥ 400 ng/mL", levels=["1", "0"]),
    Variable("pivka_ii_mau_ml", "PIVKA-II, mAU/mL", continuous=True),
    Variable("haic_regimen", "HAIC regimen", levels=["FOLFOX", "FP"]),
    Variable("haic_cycles", "HAIC cycles", continuous=True),
]


def table1_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Columns Table 1 shows that are groupings of raw values (Child-Pugh class, tumour count)."""
    out = df.copy()
    score = out["child_pugh_score"]
    out["child_pugh_class"] = np.select([score <= 6, score <= 9], ["A", "B"], default="C")
    number = out["tumour_number"]
    out["tumour_count"] = np.select([number <= 1, number <= 3], ["1", "2-3"], default=">3")
    for column in ("ecog", "albi_grade", "afp_ge_400"):
        known = out[column].notna()
        out[column] = out[column].astype(object).where(known)
        out.loc[known, column] = out.loc[known, column].map(lambda v: str(int(v)))
    return out


@dataclass
class Row:
    """One summarised variable: text per group and overall, and the group comparison."""

    variable: Variable
    cells: dict[str, dict[str, str]] = field(default_factory=dict)
    values: dict[str, dict[str, float]] = field(default_factory=dict)
    test: TestResult | None = None


def _median_iqr(values: pd.Series) -> tuple[str, list[float]]:
    q = values.dropna().astype(float).quantile([0.5, 0.25, 0.75]).to_list()
    digits = 0 if values.dropna().abs().max() >= 100 else 1
    return f"{q[0]:.{digits}f} ({q[1]:.{digits}f}\u2013{q[2]:.{digits}f})", q


def _wilcoxon(x: pd.Series, y: pd.Series) -> TestResult:
    result = stats.mannwhitneyu(
        x.dropna().astype(float),
        y.dropna().astype(float),
        alternative="two-sided",
        use_continuity=True,
        method="asymptotic",
    )
    return TestResult(float(result.pvalue), WILCOXON)


def summarise(df: pd.DataFrame, variable: Variable, group: str, groups: list[str]) -> Row:
    """Summary per group and overall, missing counted, and the test named."""
    row = Row(variable)
    column = variable.column
    df = df[[column, group]]
    subsets = {g: df[df[group] == g] for g in groups} | {"overall": df}
    if variable.continuous:
        for name, subset in subsets.items():
            text, q = _median_iqr(subset[column])
            row.cells[name] = {"median (IQR)": text}
            row.values[name] = {"median": q[0], "q1": q[1], "q3": q[2]}
        row.test = _wilcoxon(subsets[groups[0]][column], subsets[groups[1]][column])
    else:
        known = df[column].notna()
        counts = pd.crosstab(df.loc[known, column].astype(str), df.loc[known, group].astype(str))
        counts = counts.reindex(columns=groups, fill_value=0)
        counts["overall"] = counts.sum(axis=1)
        levels = [lv for lv in (variable.levels or sorted(counts.index)) if lv in counts.index]
        for name, subset in subsets.items():
            n = len(subset)
            row.values[name] = {lv: int(counts.loc[lv, name]) for lv in levels}
            row.cells[name] = {lv: f"{k} ({100 * k / n:.1f}%)" for lv, k in row.values[name].items()}
        table = np.array([[row.values[g][lv] for lv in levels] for g in groups])
        row.test = compare_categories(table)
    for name, subset in subsets.items():
        missing = int(subset[column].isna().sum())
        row.values[name]["missing"] = missing
        if missing or df[column].isna().any():
            row.cells[name]["Missing"] = str(missing)
    return row


def baseline_table(
    df: pd.DataFrame, group: str, groups: list[str], variables: list[Variable] = TABLE1
) -> list[Row]:
    """Every Table 1 row, in order."""
    frame = table1_frame(df)
    return [summarise(frame, v, group, groups) for v in variables]
