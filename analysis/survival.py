"""Kaplan-Meier estimates, medians, landmark rates, the log-rank test and follow-up.

Definitions follow R's survival package: Greenwood standard errors, log-log ("exponential
Greenwood") confidence intervals as `survfit(conf.type = "log-log")` and lifelines compute, medians
and their CIs by `quantile.survfit` (the first time the curve falls below 0.5; the midpoint when it
sits exactly at 0.5), the log-rank test as `survdiff`, and median follow-up by reverse Kaplan-Meier.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
TOLERANCE = np.sqrt(np.finfo(float).eps)


@dataclass(frozen=True)
class KMCurve:
    """The Kaplan-Meier step function at each distinct time, with log-log confidence limits."""

    time: np.ndarray
    n_risk: np.ndarray
    n_event: np.ndarray
    n_censor: np.ndarray
    surv: np.ndarray
    std_err: np.ndarray
    lower: np.ndarray
    upper: np.ndarray

    def at(self, t: float) -> tuple[float, float, float]:
        """S(t) with its confidence limits (right-continuous step: the last step at or before t)."""
        i = np.searchsorted(self.time, t, side="right") - 1
        if i < 0:
            return 1.0, 1.0, 1.0
        return float(self.surv[i]), float(self.lower[i]), float(self.upper[i])


def kaplan_meier(time: np.ndarray, event: np.ndarray, confidence: float = CONFIDENCE) -> KMCurve:
    """Kaplan-Meier estimate of S(t) from times and 0/1 events."""
    time = np.asarray(time, float)
    event = np.asarray(event, int)
    unique, inverse = np.unique(time, return_inverse=True)
    n_event = np.bincount(inverse, weights=event, minlength=len(unique))
    n_total = np.bincount(inverse, minlength=len(unique)).astype(float)
    n_risk = len(time) - np.concatenate([[0.0], np.cumsum(n_total)[:-1]])
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(1 - n_event / n_risk)
        greenwood = np.cumsum(np.where(n_event > 0, n_event / (n_risk * (n_risk - n_event)), 0.0))
        std_err = np.sqrt(greenwood)
        z = stats.norm.ppf(1 - (1 - confidence) / 2)
        inner = np.where((surv > 0) & (surv < 1), surv, np.nan)
        a = np.exp(-np.exp(np.log(-np.log(inner)) + z * std_err / np.log(inner)))
        b = np.exp(-np.exp(np.log(-np.log(inner)) - z * std_err / np.log(inner)))
    lower = np.where(np.isnan(inner), np.where(surv >= 1, 1.0, np.nan), np.fmin(a, b))
    upper = np.where(np.isnan(inner), np.where(surv >= 1, 1.0, np.nan), np.fmax(a, b))
    return KMCurve(unique, n_risk, n_event, n_total - n_event, surv, std_err, lower, upper)


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


def median_survival(curve: KMCurve) -> Median:
    """Median survival with the CI where the confidence limits cross 0.5 (NaN = not reached)."""
    return Median(
        _quantile_time(curve.time, curve.surv),
        _quantile_time(curve.time, curve.lower),
        _quantile_time(curve.time, curve.upper),
    )


@dataclass(frozen=True)
class LogRank:
    chisq: float
    df: int
    p: float
    observed: np.ndarray
    expected: np.ndarray


def logrank(time: np.ndarray, event: np.ndarray, group: np.ndarray) -> LogRank:
    """The log-rank test of equal survival across groups (R's survdiff, rho = 0)."""
    time = np.asarray(time, float)
    event = np.asarray(event, int)
    labels, g = np.unique(np.asarray(group), return_inverse=True)
    k = len(labels)
    unique, inverse = np.unique(time, return_inverse=True)
    m = len(unique)
    deaths = np.zeros((m, k))
    counts = np.zeros((m, k))
    np.add.at(deaths, (inverse, g), event)
    np.add.at(counts, (inverse, g), 1)
    at_risk = counts[::-1].cumsum(axis=0)[::-1]
    n = at_risk.sum(axis=1)
    d = deaths.sum(axis=1)
    live = n > 1
    expected = (at_risk * (d / n)[:, None]).sum(axis=0)
    observed = deaths.sum(axis=0)
    factor = np.where(live, d * (n - d) / np.where(live, n * n * (n - 1), 1), 0.0)
    share = at_risk
    variance = np.diag((share * factor[:, None] * n[:, None]).sum(axis=0)) - (
        (share * factor[:, None]).T @ share
    )
    diff = (observed - expected)[: k - 1]
    chisq = float(diff @ np.linalg.solve(variance[: k - 1, : k - 1], diff))
    return LogRank(chisq, k - 1, float(stats.chi2.sf(chisq, k - 1)), observed, expected)


def reverse_km_followup(time: np.ndarray, event: np.ndarray) -> Median:
    """Median follow-up by reverse Kaplan-Meier: censoring is the event, death censors."""
    return median_survival(kaplan_meier(time, 1 - np.asarray(event, int)))
