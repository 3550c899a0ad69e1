"""The proportional-hazards test of a fitted Cox model, as R's `cox.zph` (survival >= 3.0) computes it.

Our own code, because no maintained Python library computes this statistic: lifelines'
`proportional_hazard_test` implements the approximation R used before survival 3.0 (late 2019),
a per-term test on scaled Schoenfeld residuals, which gives different p-values. R's current test is
the score test, at the fitted coefficients, for adding each covariate's interaction with a transform
of time; it needs the Efron-weighted risk-set sums at every event time, computed here in closed form
per distinct time (vectorised, no loop over patients). The coefficients come from lifelines
(`analysis.stats.cox`); the Kaplan-Meier time transform from `analysis.stats.survival` (lifelines).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from analysis.stats.cox import CoxModel
from analysis.stats.software import Software, computed_by
from analysis.stats.survival import kaplan_meier


@dataclass(frozen=True)
class EfronSums:
    """Per distinct event time: Efron-weighted score and information contributions."""

    score: np.ndarray  # (K, p): sum of x over deaths minus Efron-weighted risk-set means
    information: np.ndarray  # (K, p, p): Efron-weighted risk-set covariance
    event_times: np.ndarray


def efron_sums(time: np.ndarray, event: np.ndarray, x: np.ndarray, beta: np.ndarray) -> EfronSums:
    """Risk-set sums at every distinct event time, vectorised (no loop over times or patients).

    Rows are aggregated per distinct time with bincount, risk sets are reverse cumulative sums over
    times, and the Efron correction for d tied deaths is summed in closed form per time.
    """
    p = x.shape[1]
    risk = np.exp(x @ beta - (x @ beta).max())
    unique, index = np.unique(time, return_inverse=True)
    k = len(unique)

    def per_time(weights: np.ndarray) -> np.ndarray:
        return np.bincount(index, weights=weights, minlength=k)

    dead = event.astype(float)
    deaths = per_time(dead)
    s0_t = per_time(risk * dead)
    s1 = np.stack([per_time(risk * x[:, j]) for j in range(p)], axis=1)
    s1_t = np.stack([per_time(risk * dead * x[:, j]) for j in range(p)], axis=1)
    s2 = np.zeros((k, p, p))
    s2_t = np.zeros((k, p, p))
    for i in range(p):
        for j in range(i, p):
            product = risk * x[:, i] * x[:, j]
            s2[:, i, j] = s2[:, j, i] = per_time(product)
            s2_t[:, i, j] = s2_t[:, j, i] = per_time(product * dead)
    s0 = per_time(risk)[::-1].cumsum()[::-1]
    s1 = s1[::-1].cumsum(axis=0)[::-1]
    s2 = s2[::-1].cumsum(axis=0)[::-1]
    has = deaths > 0
    d = deaths[has].astype(int)
    owner = np.repeat(np.arange(int(has.sum())), d)
    frac = (np.arange(len(owner)) - np.repeat(np.cumsum(d) - d, d)) / np.repeat(d, d)
    w = np.repeat(s0[has], d) - frac * np.repeat(s0_t[has], d)

    def per_event_time(values: np.ndarray) -> np.ndarray:
        return np.bincount(owner, weights=values, minlength=len(d))

    a, b = per_event_time(1 / w), per_event_time(frac / w)
    c, e, g = per_event_time(1 / w**2), per_event_time(frac / w**2), per_event_time(frac**2 / w**2)
    S1, S1t, S2, S2t = s1[has], s1_t[has], s2[has], s2_t[has]
    sum_x_dead = np.stack([per_time(dead * x[:, j]) for j in range(p)], axis=1)[has]
    score = sum_x_dead - (a[:, None] * S1 - b[:, None] * S1t)
    outer = (
        c[:, None, None] * np.einsum("ki,kj->kij", S1, S1)
        - e[:, None, None] * (np.einsum("ki,kj->kij", S1, S1t) + np.einsum("ki,kj->kij", S1t, S1))
        + g[:, None, None] * np.einsum("ki,kj->kij", S1t, S1t)
    )
    information = a[:, None, None] * S2 - b[:, None, None] * S2t - outer
    return EfronSums(score, information, unique[has])


@dataclass(frozen=True)
class PHTest:
    """Score tests of proportional hazards per term and globally (R's `cox.zph`, transform "km")."""

    chisq: dict[str, float]
    df: dict[str, int]
    software: Software | None = None

    def p(self, name: str) -> float:
        return float(stats.chi2.sf(self.chisq[name], self.df[name]))


def _km_left_continuous(times: np.ndarray, events: np.ndarray) -> np.ndarray:
    """1 - S(t-) at each observation's time, S the Kaplan-Meier estimate of all observations."""
    curve = kaplan_meier(times, events)
    index = np.searchsorted(curve.time, times, side="left")
    return 1.0 - np.concatenate([[1.0], curve.surv])[index]


def cox_zph(model: CoxModel) -> PHTest:
    """Proportional-hazards test of `model`, the same statistic as R survival >= 3.0 `cox.zph`.

    It is the score test, at the fitted coefficients, for adding the interaction of each covariate
    with g(t) = 1 - KM(t-) (centred on its mean over events), with Efron-weighted risk sets.
    """
    names = list(model.terms)
    x = model.data[names].to_numpy(float)
    t = model.data[model.duration].to_numpy(float)
    d = model.data[model.event].to_numpy(float)
    beta = np.array([model.terms[n].coef for n in names])
    g = _km_left_continuous(t, d)
    g = g - g[d == 1].mean()
    sums = efron_sums(t, d, x, beta)
    g_k = np.zeros(len(sums.event_times))
    g_k[np.searchsorted(sums.event_times, t[d == 1])] = g[d == 1]
    p = len(names)
    u = np.concatenate([np.zeros(p), (g_k[:, None] * sums.score).sum(axis=0)])
    v = sums.information
    info = np.block(
        [
            [v.sum(axis=0), (g_k[:, None, None] * v).sum(axis=0)],
            [(g_k[:, None, None] * v).sum(axis=0), (g_k[:, None, None] ** 2 * v).sum(axis=0)],
        ]
    )
    chisq: dict[str, float] = {}
    for k, name in enumerate(names):
        idx = [*range(p), p + k]
        sub_u = u[idx]
        chisq[name] = float(sub_u @ np.linalg.solve(info[np.ix_(idx, idx)], sub_u))
    chisq["GLOBAL"] = float(u @ np.linalg.solve(info, u))
    dof = {name: 1 for name in names} | {"GLOBAL": p}
    return PHTest(chisq, dof, computed_by("the proportional-hazards test of R\u2019s cox.zph", cox_zph))
