"""Kaplan-Meier estimates, medians, landmark rates, the log-rank test and follow-up.

lifelines computes the estimates: `KaplanMeierFitter` gives S(t) with Greenwood-based log-log
("exponential Greenwood") limits, the interval R's `survfit(conf.type = "log-log")` gives, and
`multivariate_logrank_test` gives the log-rank test of R's `survdiff`. One piece is our own: the
median and its limits by R's `quantile.survfit` rule, because lifelines takes the first time the
curve reaches 0.5 (S <= 0.5) where R takes the first time it falls below 0.5 and the midpoint of a
stretch sitting exactly at 0.5; the two differ whenever the curve lands on one half.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from lifelines import KaplanMeierFitter
from lifelines.exceptions import StatisticalWarning
from lifelines.statistics import multivariate_logrank_test

from analysis.stats.software import Software, computed_by

CONFIDENCE = 0.95
TOLERANCE = np.sqrt(np.finfo(float).eps)


@dataclass(frozen=True)
class KMCurve:
    """The Kaplan-Meier step function at each distinct observed time, with log-log confidence limits."""

    time: np.ndarray
    n_risk: np.ndarray
    n_event: np.ndarray
    n_censor: np.ndarray
    surv: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    software: Software | None = None

    def at_risk(self, ticks: np.ndarray) -> list[int]:
        """Patients still at risk at each tick (after everyone whose time is before it has left)."""
        n0 = int(self.n_risk[0]) if len(self.n_risk) else 0
        left_before = np.concatenate([[0], np.cumsum(self.n_event + self.n_censor)])
        return [n0 - int(left_before[np.searchsorted(self.time, t, side="left")]) for t in ticks]

    def at(self, t: float) -> tuple[float, float, float]:
        """S(t) with its confidence limits (right-continuous step: the last step at or before t)."""
        i = np.searchsorted(self.time, t, side="right") - 1
        if i < 0:
            return 1.0, 1.0, 1.0
        return float(self.surv[i]), float(self.lower[i]), float(self.upper[i])


def kaplan_meier(
    time: np.ndarray, event: np.ndarray, confidence: float = CONFIDENCE, weights: np.ndarray | None = None
) -> KMCurve:
    """Kaplan-Meier estimate of S(t) from times and 0/1 events (lifelines `KaplanMeierFitter`).

    lifelines adds a row at time 0 and prints limits of 0 where S = 0; the curve keeps the observed
    times only and, as R, no limits where S = 0. With `weights` (R's `survfit(weights = w)`), the
    counts are sums of weights and the curve has no confidence limits (NaN): lifelines' Greenwood
    limits are not those of a weighted estimate."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)  # lifelines: the weights are not integers
        fitter = KaplanMeierFitter(alpha=1 - confidence).fit(
            np.asarray(time, float), np.asarray(event, int), weights=weights
        )
    table = fitter.event_table
    observed = (table["removed"] > 0).to_numpy()
    surv = fitter.survival_function_.to_numpy()[observed, 0]
    limits = fitter.confidence_interval_survival_function_.to_numpy()[observed]
    limits = np.where((surv > 0)[:, None] & (weights is None), limits, np.nan)
    method = "Kaplan-Meier estimates" if weights is None else "weighted Kaplan-Meier estimates"
    return KMCurve(
        time=table.index.to_numpy(float)[observed],
        n_risk=table["at_risk"].to_numpy(float)[observed],
        n_event=table["observed"].to_numpy(float)[observed],
        n_censor=table["censored"].to_numpy(float)[observed],
        surv=surv,
        lower=limits[:, 0],
        upper=limits[:, 1],
        software=computed_by(method, KaplanMeierFitter),
    )


def _quantile_time(time: np.ndarray, surv: np.ndarray, p: float = 0.5) -> float:
    """R's quantile.survfit rule for one curve: first time S < p; midpoint of a flat S == p."""
    keep = ~np.isnan(surv)
    time, surv = time[keep], surv[keep]
    exact = np.flatnonzero(np.abs(surv - p) < TOLERANCE)
    if len(exact):
        i = exact[0]
        return float((time[i] + time[i + 1]) / 2) if i + 1 < len(time) else float(time[i])
    below = np.flatnonzero(surv < p)
    return float(time[below[0]]) if len(below) else float("nan")


@dataclass(frozen=True)
class Median:
    estimate: float
    ci_low: float
    ci_high: float
    software: Software | None = None


def median_survival(curve: KMCurve) -> Median:
    """Median survival with the CI where the confidence limits cross 0.5 (NaN = not reached)."""
    return Median(
        _quantile_time(curve.time, curve.surv),
        _quantile_time(curve.time, curve.lower),
        _quantile_time(curve.time, curve.upper),
        computed_by("medians by R\u2019s quantile rule", _quantile_time),
    )


@dataclass(frozen=True)
class LogRank:
    chisq: float
    df: int
    p: float
    software: Software | None = None


def logrank(time: np.ndarray, event: np.ndarray, group: np.ndarray) -> LogRank:
    """The log-rank test of equal survival across groups (lifelines; R's survdiff, rho = 0)."""
    result = multivariate_logrank_test(np.asarray(time, float), np.asarray(group), np.asarray(event, int))
    return LogRank(
        float(result.test_statistic),
        int(result.degrees_of_freedom),
        float(result.p_value),
        computed_by("log-rank tests", multivariate_logrank_test),
    )


def reverse_km_followup(time: np.ndarray, event: np.ndarray) -> Median:
    """Median follow-up by reverse Kaplan-Meier: censoring is the event, death censors."""
    return median_survival(kaplan_meier(time, 1 - np.asarray(event, int)))
