"""Subgroup analysis: the hazard ratio of the group effect within each level of a subgroup
variable, and the p-value for interaction.

lifelines' `CoxPHFitter` (Efron ties) fits every model. Within a level: the Cox model of the time on
the group indicator alone (Wald CI and p). Interaction: the likelihood-ratio test of the model with
group, subgroup and their product against the model with group and subgroup (R's
`anova(coxph(~ g + s), coxph(~ g * s))`), chi-square on as many degrees of freedom as product terms,
on the patients with a known subgroup value, from the two fits' log partial likelihoods.

A level with no patients, one group only, no events, or no events in one group gives no finite HR:
it is returned as `NotEstimable` with the reason, and it is left out of the interaction test (its
product term is not identified), which says so in `excluded`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter
from scipy import stats

from analysis.stats.estimability import NotEstimable
from analysis.stats.software import Software, computed_by
from analysis.stats.survival import CONFIDENCE

#: Newton-Raphson to a step norm and Newton decrement of 1e-14: at 1e-12 (cox.py's) lifelines stops
#: 3e-6 relative short of R's coefficient in a subgroup with one treated patient (the decrement is
#: the square of the step).
FIT_OPTIONS = {"precision": 1e-14, "r_precision": 1e-14}


@dataclass(frozen=True)
class LevelHR:
    """The group effect within one subgroup level: patients and events (overall and per group:
    reference first), and the HR with its Wald CI and p (`estimate` is NotEstimable when not)."""

    level: object
    n: int
    events: int
    n_by_group: tuple[int, int]
    events_by_group: tuple[int, int]
    estimate: tuple[float, float, float, float] | NotEstimable  # hr, ci low, ci high, p
    software: Software | None = None

    @property
    def estimable(self) -> bool:
        return not isinstance(self.estimate, NotEstimable)


@dataclass(frozen=True)
class Subgroup:
    """One subgroup variable: a row per level (in the order given) and the interaction test."""

    variable: str
    levels: list[LevelHR]
    interaction: tuple[float, int, float] | NotEstimable  # chi-square, df, p
    excluded: tuple = field(default=())
    software: Software | None = None


def _fit(data: pd.DataFrame, duration: str, event: str) -> CoxPHFitter:
    return CoxPHFitter().fit(data, duration, event, batch_mode=True, fit_options=FIT_OPTIONS)


def _level(data: pd.DataFrame, duration: str, event: str, level: object, confidence: float) -> LevelHR:
    """The HR of `treated` within one level's rows."""
    counts = tuple(int((data["treated"] == g).sum()) for g in (0, 1))
    events = tuple(int(data.loc[data["treated"] == g, event].sum()) for g in (0, 1))
    software = computed_by("Cox models within subgroups", CoxPHFitter)
    what = f"HR in level {level}"
    reason = None
    if len(data) == 0:
        reason = "no patients"
    elif 0 in counts:
        reason = "patients of one group only"
    elif sum(events) == 0:
        reason = "no events"
    elif 0 in events:
        reason = "no events in one group"
    if reason:
        return LevelHR(level, len(data), sum(events), counts, events, NotEstimable(what, reason), software)
    fitter = _fit(data[[duration, event, "treated"]], duration, event)
    coef, se = float(fitter.params_["treated"]), float(fitter.standard_errors_["treated"])
    z = stats.norm.ppf(1 - (1 - confidence) / 2)
    estimate = (
        float(np.exp(coef)),
        float(np.exp(coef - z * se)),
        float(np.exp(coef + z * se)),
        float(2 * stats.norm.sf(abs(coef / se))),
    )
    return LevelHR(level, len(data), sum(events), counts, events, estimate, software)


def subgroup_hrs(
    df: pd.DataFrame,
    duration: str,
    event: str,
    group: str,
    treated: object,
    variable: str,
    levels: list | None = None,
    confidence: float = CONFIDENCE,
) -> Subgroup:
    """HR of `treated` vs the other level of `group` within each level of `variable` (its levels in
    the order given, else sorted), and the likelihood-ratio p for interaction."""
    if variable not in df.columns:
        raise KeyError(f"subgroup variable '{variable}' is not a column of the analysis data")
    data = df[[duration, event, group, variable]]
    data = data[data.notna().all(axis=1).to_numpy()].copy()
    data["treated"] = (data[group] == treated).astype(float)
    values = data[variable]
    if pd.api.types.is_float_dtype(values) and (values == values.round()).all():
        data[variable] = values.astype(int)  # 0/1 read as floats (a column with gaps): levels 0 and 1
    data[event] = data[event].astype(int)
    present = sorted(data[variable].unique().tolist())
    if levels is None:
        levels = present
    unknown = [v for v in present if v not in levels]
    if unknown:
        raise ValueError(
            f"subgroup variable '{variable}': values {unknown} are not among the levels {levels}"
        )
    rows = [_level(data[data[variable] == v], duration, event, v, confidence) for v in levels]
    usable = [row.level for row in rows if row.estimable]
    excluded = tuple(row.level for row in rows if not row.estimable)
    software = computed_by("likelihood-ratio tests for interaction", CoxPHFitter)
    if len(usable) < 2:
        reason = f"fewer than two levels with an estimable HR (of {', '.join(map(str, levels))})"
        return Subgroup(variable, rows, NotEstimable("interaction", reason), excluded, software)
    kept = data[data[variable].isin(usable)]
    dummies = {f"s{i}": (kept[variable] == v).astype(float) for i, v in enumerate(usable[1:], 1)}
    main = pd.DataFrame({duration: kept[duration], event: kept[event], "treated": kept["treated"], **dummies})
    products = {f"x{name}": main["treated"] * column for name, column in dummies.items()}
    full = main.assign(**products)
    chisq = 2 * (_fit(full, duration, event).log_likelihood_ - _fit(main, duration, event).log_likelihood_)
    df_ = len(products)
    return Subgroup(variable, rows, (float(chisq), df_, float(stats.chi2.sf(chisq, df_))), excluded, software)
