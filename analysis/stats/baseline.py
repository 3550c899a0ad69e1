"""Baseline characteristics (Table 1) by group and overall, laid out and tested as gtsummary does.

One block per variable. Categorical variables list every level in the order the codebook (raw
columns) or `analysis.data.endpoints.DERIVED_LEVELS` (derived categories) declares, each with its printed
label, as n (%) of the patients with a known value; they are compared with Pearson's chi-square test
without continuity correction, or Fisher's exact test when an expected count is below 5
(`analysis.stats.contingency`), over the levels anyone has. Continuous variables are summarised as median
(IQR; quantiles as R's default, type 7) and compared with the Wilcoxon rank-sum test (normal
approximation with continuity and tie corrections, R's `wilcox.test(exact = FALSE)`). A variable
with missing values gets an "Unknown" line counting them; tests use the known values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from analysis.stats.contingency import TestResult, compare_categories
from analysis.stats.software import computed_by

WILCOXON = "Wilcoxon rank-sum test"
KRUSKAL = "Kruskal-Wallis rank-sum test"
MEDIAN_IQR = "median_iqr"
MEAN_SD = "mean_sd"
UNKNOWN = "unknown"


@dataclass(frozen=True)
class Variable:
    """A Table 1 block: a column, its label, and whether it is summarised as continuous."""

    column: str
    label: str
    continuous: bool = False
    summary: str = "n_percent"  # or median_iqr, mean_sd




@dataclass(frozen=True)
class Line:
    """One printed line of a block: its key (level, `median_iqr` or `unknown`), label and cells."""

    key: str
    label: str
    cells: dict[str, str]
    values: dict[str, float]


@dataclass
class Block:
    """One variable's lines, and the group comparison printed on its first line."""

    variable: Variable
    lines: list[Line] = field(default_factory=list)
    test: TestResult | None = None


def level_text(values: pd.Series) -> pd.Series:
    """Each known value as the text its label is keyed by (whole numbers without decimals)."""
    numeric = pd.api.types.is_numeric_dtype(values)
    return values.astype(object).map(lambda v: None if pd.isna(v) else str(int(v)) if numeric else str(v))


def _median_iqr(values: pd.Series) -> tuple[str, dict[str, float]]:
    q = values.astype(float).quantile([0.5, 0.25, 0.75]).to_list()
    digits = 0 if values.abs().max() >= 100 else 1
    text = f"{q[0]:.{digits}f} ({q[1]:.{digits}f}\u2013{q[2]:.{digits}f})"
    return text, {"median": q[0], "q1": q[1], "q3": q[2]}


def _mean_sd(values: pd.Series) -> tuple[str, dict[str, float]]:
    x = values.astype(float)
    mean, sd = float(x.mean()), float(x.std(ddof=1))
    digits = 0 if x.abs().max() >= 100 else 1
    return f"{mean:.{digits}f} ({sd:.{digits}f})", {"median": mean, "q1": sd, "q3": sd}


def _rank_test(*samples: pd.Series) -> TestResult:
    """Wilcoxon rank-sum for two groups (R `wilcox.test(exact = FALSE)`), Kruskal-Wallis for more
    (R `kruskal.test`), as gtsummary's defaults."""
    samples = tuple(s.astype(float) for s in samples)
    if len(samples) > 2:
        result = stats.kruskal(*samples)
        return TestResult(float(result.pvalue), KRUSKAL, computed_by("Kruskal-Wallis tests", stats.kruskal))
    result = stats.mannwhitneyu(*samples, alternative="two-sided", use_continuity=True, method="asymptotic")
    return TestResult(
        float(result.pvalue), WILCOXON, computed_by("Wilcoxon rank-sum tests", stats.mannwhitneyu)
    )


def _count(k: int, known: int) -> str:
    return f"{k} ({100 * k / known:.1f}%)" if known else f"{k} (NA)"


def summarise(
    df: pd.DataFrame,
    variable: Variable,
    group: str | None,
    groups: list[str],
    labels: dict[str, str],
    expected_min: int = 5,
) -> Block:
    """One block: per group and overall, the summary of known values, the Unknown line if any value
    is missing, and the test named. `labels` maps each level (as text) to its printed label."""
    block = Block(variable)
    column = df[variable.column]
    members = {g: (df[group] == g).to_numpy() for g in groups} | {"overall": np.ones(len(df), bool)}
    known = column.notna().to_numpy()
    if variable.continuous:
        summary, key = (_mean_sd, MEAN_SD) if variable.summary == MEAN_SD else (_median_iqr, MEDIAN_IQR)
        summaries = {g: summary(column[m & known]) for g, m in members.items()}
        block.lines.append(
            Line(
                key,
                variable.label,
                {g: text for g, (text, _) in summaries.items()},
                {g: q["median"] for g, (_, q) in summaries.items()},
            )
        )
        if len(groups) > 1:
            block.test = _rank_test(*(column[members[g] & known] for g in groups))
    else:
        text = level_text(column)
        unlabelled = sorted(set(text[known]) - set(labels))
        if unlabelled:
            raise ValueError(f"{variable.column}: level(s) {', '.join(unlabelled)} have no declared label")
        counts = {g: text[m & known].value_counts() for g, m in members.items()}
        n_known = {g: int((m & known).sum()) for g, m in members.items()}
        for level, label in labels.items():
            k = {g: int(c.get(level, 0)) for g, c in counts.items()}
            block.lines.append(Line(level, label, {g: _count(k[g], n_known[g]) for g in k}, k))
        if len(groups) > 1:
            table = np.array([[line.values[g] for line in block.lines] for g in groups])
            block.test = compare_categories(table, expected_min)
    if not known.all():
        missing = {g: int((m & ~known).sum()) for g, m in members.items()}
        block.lines.append(Line(UNKNOWN, "Unknown", {g: str(k) for g, k in missing.items()}, missing))
    return block


def baseline_table(
    df: pd.DataFrame,
    group: str | None,
    groups: list[str],
    labels: dict[str, dict[str, str]],
    variables: list[Variable],
    expected_min: int = 5,
) -> list[Block]:
    """Every Table 1 block, in order; `labels` gives each categorical column's level labels."""
    return [summarise(df, v, group, groups, labels.get(v.column, {}), expected_min) for v in variables]
