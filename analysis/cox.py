"""Cox proportional-hazards regression: univariable screens, the multivariable model chosen by a
stated rule, and the Schoenfeld-residual test of proportional hazards as R's `cox.zph` computes it.

Fits use lifelines (Efron ties, no penalty), whose estimates equal R's `coxph(ties = "efron")`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

SELECTION_P = 0.10
# Newton-Raphson run to convergence well past R's own (coxph.control eps = 1e-9).
FIT_OPTIONS = {"precision": 1e-12, "r_precision": 1e-12, "max_steps": 200}
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


def fit_cox(df: pd.DataFrame, duration: str, event: str, covariates: list[str]) -> CoxModel:
    """Fit a Cox model with Efron ties on the complete cases of the named columns."""
    from lifelines import CoxPHFitter

    data = df[[duration, event, *covariates]].dropna().astype(float)
    fitter = CoxPHFitter()
    fitter.fit(data, duration_col=duration, event_col=event, fit_options=FIT_OPTIONS)
    terms = {
        name: Term(name, float(fitter.params_[name]), float(fitter.standard_errors_[name]))
        for name in covariates
    }
    return CoxModel(terms, len(data), int(data[event].sum()), data, duration, event)


def univariable(df: pd.DataFrame, duration: str, event: str, covariates: list[str]) -> dict[str, CoxModel]:
    """One single-covariate model per candidate, each on its own complete cases."""
    return {name: fit_cox(df, duration, event, [name]) for name in covariates}


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
    p = len(names)
    u_time = np.zeros(p)
    info = np.zeros((2 * p, 2 * p))
    risk = np.exp(x @ beta)
    for time in np.unique(t[d == 1]):
        in_risk = t >= time
        tied = (t == time) & (d == 1)
        ndead = int(tied.sum())
        gt = g[tied][0]
        r_risk, r_tied = risk[in_risk], risk[tied]
        s0, s0_t = r_risk.sum(), r_tied.sum()
        s1, s1_t = r_risk @ x[in_risk], r_tied @ x[tied]
        s2 = (x[in_risk] * r_risk[:, None]).T @ x[in_risk]
        s2_t = (x[tied] * r_tied[:, None]).T @ x[tied]
        score = x[tied].sum(axis=0)
        variance = np.zeros((p, p))
        for step in range(ndead):
            frac = step / ndead
            w0 = s0 - frac * s0_t
            mean = (s1 - frac * s1_t) / w0
            variance += (s2 - frac * s2_t) / w0 - np.outer(mean, mean)
            score = score - mean
        u_time += gt * score
        info[:p, :p] += variance
        info[:p, p:] += gt * variance
        info[p:, :p] += gt * variance
        info[p:, p:] += gt * gt * variance
    u = np.concatenate([np.zeros(p), u_time])
    chisq: dict[str, float] = {}
    for k, name in enumerate(names):
        idx = [*range(p), p + k]
        sub_u = u[idx]
        chisq[name] = float(sub_u @ np.linalg.solve(info[np.ix_(idx, idx)], sub_u))
    chisq["GLOBAL"] = float(u @ np.linalg.solve(info, u))
    dof = {name: 1 for name in names} | {"GLOBAL": p}
    return PHTest(chisq, dof)
