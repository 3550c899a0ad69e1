"""Cox proportional-hazards regression: univariable screens, the multivariable model chosen by a
stated rule, and the Schoenfeld-residual test of proportional hazards as R's `cox.zph` computes it.

The Efron partial likelihood is maximised by Newton-Raphson on risk-set sums aggregated per
distinct time, so a million patients fit in seconds; estimates equal R's `coxph(ties = "efron")`
(and lifelines', which the tests also check).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

SELECTION_P = 0.10
# Newton-Raphson run to convergence well past R's own (coxph.control eps = 1e-9).
TOLERANCE = 1e-13
MAX_ITERATIONS = 50
Z95 = stats.norm.ppf(0.975)


@dataclass(frozen=True)
class Term:
    """One covariate's estimate: log-hazard ratio, its standard error, the HR with Wald CI and p."""

    name: str
    coef: float
    se: float

    @property
    def hr(self) -> float:
        return float(np.exp(self.coef))

    @property
    def ci(self) -> tuple[float, float]:
        return float(np.exp(self.coef - Z95 * self.se)), float(np.exp(self.coef + Z95 * self.se))

    @property
    def z(self) -> float:
        return self.coef / self.se

    @property
    def p(self) -> float:
        return float(2 * stats.norm.sf(abs(self.z)))


@dataclass
class CoxModel:
    """A fitted Cox model on complete cases: its terms, size, and the data it was fitted to."""

    terms: dict[str, Term]
    n: int
    events: int
    data: pd.DataFrame = field(repr=False)
    duration: str = ""
    event: str = ""


@dataclass(frozen=True)
class EfronSums:
    """Per distinct event time: Efron-weighted score and information contributions, and log-likelihood."""

    loglik: float
    score: np.ndarray  # (K, p): sum of x over deaths minus Efron-weighted risk-set means
    information: np.ndarray  # (K, p, p): Efron-weighted risk-set covariance
    event_times: np.ndarray


@dataclass(frozen=True)
class Times:
    """Distinct times and each row's position among them, computed once per fit (a sort of n rows)."""

    unique: np.ndarray
    index: np.ndarray

    @classmethod
    def of(cls, time: np.ndarray) -> Times:
        unique, index = np.unique(time, return_inverse=True)
        return cls(unique, index)

    def subset(self, keep: np.ndarray) -> Times:
        """The distinct times of a subset of rows, without sorting again."""
        index = self.index[keep]
        present = np.bincount(index, minlength=len(self.unique)) > 0
        return Times(self.unique[present], (np.cumsum(present) - 1)[index])


def efron_sums(times: Times, event: np.ndarray, x: np.ndarray, beta: np.ndarray) -> EfronSums:
    """Risk-set sums at every distinct event time, vectorised (no loop over times or patients).

    Rows are aggregated per distinct time with bincount, risk sets are reverse cumulative sums over
    times, and the Efron correction for d tied deaths is summed in closed form per time.
    """
    p = x.shape[1]
    risk = np.exp(x @ beta - (x @ beta).max())
    index, k = times.index, len(times.unique)

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
    shift = (x @ beta).max()
    loglik = float((dead * (x @ beta)).sum() - (np.log(w) + shift).sum())
    return EfronSums(loglik, score, information, times.unique[has])


def _newton_raphson(times: Times, event: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Maximise the Efron partial likelihood from beta = 0, halving steps that lower it (as coxph)."""
    beta = np.zeros(x.shape[1])
    sums = efron_sums(times, event, x, beta)
    for _ in range(MAX_ITERATIONS):
        step = np.linalg.solve(sums.information.sum(axis=0), sums.score.sum(axis=0))
        candidate = efron_sums(times, event, x, beta + step)
        while candidate.loglik < sums.loglik - 1e-12 and np.abs(step).max() > 1e-12:
            step = step / 2
            candidate = efron_sums(times, event, x, beta + step)
        beta = beta + step
        converged = abs(candidate.loglik - sums.loglik) <= TOLERANCE * abs(sums.loglik)
        sums = candidate
        if converged and np.abs(step).max() < 1e-9:
            break
    return beta, np.linalg.inv(sums.information.sum(axis=0))


def fit_cox(
    df: pd.DataFrame, duration: str, event: str, covariates: list[str], times: Times | None = None
) -> CoxModel:
    """Fit a Cox model with Efron ties on the complete cases of the named columns.

    `times`, the distinct times of all of `df`'s rows, saves a sort when many models share them."""
    columns = df[[duration, event, *covariates]]
    complete = columns.notna().all(axis=1).to_numpy()
    data = columns[complete].astype(float)
    x = data[covariates].to_numpy()
    times = times.subset(complete) if times is not None else Times.of(data[duration].to_numpy())
    beta, covariance = _newton_raphson(times, data[event].to_numpy(), x)
    se = np.sqrt(np.diag(covariance))
    terms = {name: Term(name, float(beta[i]), float(se[i])) for i, name in enumerate(covariates)}
    return CoxModel(terms, len(data), int(data[event].sum()), data, duration, event)


def univariable(df: pd.DataFrame, duration: str, event: str, covariates: list[str]) -> dict[str, CoxModel]:
    """One single-covariate model per candidate, each on its own complete cases."""
    times = Times.of(df[duration].to_numpy(float))
    return {name: fit_cox(df, duration, event, [name], times) for name in covariates}


def select_covariates(screens: dict[str, CoxModel], forced: str, threshold: float = SELECTION_P) -> list[str]:
    """The multivariable rule: the forced term (the group) plus every candidate with univariable
    p < threshold."""
    chosen = [name for name, model in screens.items() if name != forced and model.terms[name].p < threshold]
    return [forced, *chosen]


def multivariable(
    df: pd.DataFrame, duration: str, event: str, forced: str, candidates: list[str]
) -> tuple[CoxModel, dict[str, CoxModel]]:
    """Screen every candidate (and the forced term) univariably, then fit the selected model."""
    screens = univariable(df, duration, event, [forced, *candidates])
    return fit_cox(df, duration, event, select_covariates(screens, forced)), screens


@dataclass(frozen=True)
class PHTest:
    """Score tests of proportional hazards per term and globally (R's `cox.zph`, transform "km")."""

    chisq: dict[str, float]
    df: dict[str, int]

    def p(self, name: str) -> float:
        return float(stats.chi2.sf(self.chisq[name], self.df[name]))


def _km_left_continuous(times: np.ndarray, events: np.ndarray) -> np.ndarray:
    """1 - S(t-) at each observation's time, S the Kaplan-Meier estimate of all observations."""
    unique = np.unique(times)
    at_risk = len(times) - np.searchsorted(np.sort(times), unique, side="left")
    deaths = np.array([events[times == t].sum() for t in unique])
    surv = np.cumprod(1 - deaths / at_risk)
    index = np.searchsorted(unique, times, side="left")
    return 1.0 - np.concatenate([[1.0], surv])[index]


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
    sums = efron_sums(Times.of(t), d, x, beta)
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
    return PHTest(chisq, dof)
