"""Restricted mean survival time (RMST) per group up to a horizon tau, and the difference between
two groups with its confidence interval and p-value, as R's survRM2 (`rmst2`) computes them.

lifelines computes each RMST (`restricted_mean_survival_time` of a Kaplan-Meier fit: the area under
the curve up to tau). Its variance is our own code: lifelines' `return_variance` gives the variance
of the restricted survival time itself, not of the estimate. We use survRM2's Greenwood-type
formula, sum over the distinct times t_i <= tau of (area under S from t_i to tau)^2 d_i /
(n_i (n_i - d_i)) (terms with n_i = d_i count 0), the standard error of `survival`'s
`print(survfit, rmean = tau)` too. The difference's CI is Wald, p two-sided from the normal.
survRM2 refuses a horizon beyond the last follow-up time of either group; so do we
(`NotEstimable`, with the times).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from lifelines import KaplanMeierFitter
from lifelines.utils import restricted_mean_survival_time
from scipy import stats

from analysis.stats.estimability import NotEstimable
from analysis.stats.software import Software, computed_by
from analysis.stats.survival import CONFIDENCE


@dataclass(frozen=True)
class Rmst:
    """One group's RMST up to `horizon` and its standard error."""

    horizon: float
    estimate: float
    se: float
    software: Software | None = None


@dataclass(frozen=True)
class RmstDifference:
    """RMST per group (`groups`, in the order given), and the difference of the second minus the
    first (the comparison minus the reference) with its Wald CI and p-value."""

    horizon: float
    groups: dict[str, Rmst]
    difference: float
    se: float
    ci: tuple[float, float]
    p: float
    software: Software | None = None


def _rmst_variance(fitter: KaplanMeierFitter, horizon: float) -> float:
    """survRM2's variance of the RMST (see the module docstring)."""
    table = fitter.event_table
    table = table[(table["removed"] > 0).to_numpy() & (table.index <= horizon)]
    times = table.index.to_numpy(float)
    surv = fitter.survival_function_.iloc[:, 0].loc[times].to_numpy()
    areas = np.diff(np.append(times, horizon)) * surv  # area from each time to the next (last: tau)
    tail = np.cumsum(areas[::-1])[::-1]  # area under S from each time to tau
    n, d = table["at_risk"].to_numpy(float), table["observed"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(n - d > 0, d / (n * (n - d)), 0.0)
    return float((tail**2 * terms).sum())


def rmst(time: np.ndarray, event: np.ndarray, horizon: float) -> Rmst:
    """The RMST of one group up to horizon and its survRM2 standard error (no check of the horizon:
    `rmst_difference` checks it against both groups)."""
    fitter = KaplanMeierFitter().fit(np.asarray(time, float), np.asarray(event, int))
    estimate = float(restricted_mean_survival_time(fitter, t=horizon))
    return Rmst(
        horizon,
        estimate,
        float(np.sqrt(_rmst_variance(fitter, horizon))),
        computed_by("restricted mean survival time", restricted_mean_survival_time),
    )


def rmst_difference(
    time: np.ndarray,
    event: np.ndarray,
    group: np.ndarray,
    levels: tuple[str, str],
    horizon: float,
    confidence: float = CONFIDENCE,
) -> RmstDifference | NotEstimable:
    """RMST of each of the two `levels` of `group` up to `horizon` and the difference levels[1] minus
    levels[0] (survRM2's `rmst2`: arm 1 minus arm 0); `NotEstimable` for a horizon beyond the last
    follow-up time of either group or a level without patients."""
    time, event, group = np.asarray(time, float), np.asarray(event, int), np.asarray(group).astype(str)
    what = f"RMST at {horizon:g}"
    if not horizon > 0:
        return NotEstimable(what, f"the horizon must be positive, not {horizon:g}")
    last = {}
    for level in levels:
        if not (group == level).any():
            return NotEstimable(what, f"no patients in group {level}")
        last[level] = float(time[group == level].max())
    short = [level for level in levels if horizon > last[level]]
    if short:
        ends = ", ".join(f"{level} at {last[level]:g}" for level in short)
        return NotEstimable(what, f"the horizon is beyond the last follow-up time ({ends})")
    each = {level: rmst(time[group == level], event[group == level], horizon) for level in levels}
    first, second = (each[level] for level in levels)
    difference = second.estimate - first.estimate
    se = float(np.hypot(first.se, second.se))
    z = stats.norm.ppf(1 - (1 - confidence) / 2)
    return RmstDifference(
        horizon,
        each,
        difference,
        se,
        (difference - z * se, difference + z * se),
        float(2 * stats.norm.sf(abs(difference) / se)),
        computed_by("RMST differences by survRM2\u2019s variance", _rmst_variance),
    )
