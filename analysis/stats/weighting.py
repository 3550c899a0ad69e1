"""Inverse probability of treatment weighting (IPTW): the propensity score, the weights, balance
before and after weighting, weighted Kaplan-Meier curves and the weighted Cox model.

- Propensity score: logistic regression of the group on the declared covariates by statsmodels
  (`GLM`, binomial family, the model of R's `glm(family = binomial)`), on the complete cases of the
  covariates. A fit that does not identify the score (covariates separating the groups, scores of
  0 or 1, collinear covariates) is returned as `NotEstimable` with the reason, not as weights.
- Weights: ATE 1/e for the treated and 1/(1 - e) for the others; ATT 1 and e/(1 - e). Stabilised
  ATE weights multiply each group's weights by its share of the patients (ATT weights are already on
  the treated patients' scale, so stabilising them is refused). Optional trimming: the score clipped
  to fixed bounds before weighting, and/or weights above a percentile (numpy's linear rule, R's
  `quantile` type 7) set to it.
- Balance: standardised mean differences (SMD) as cobalt computes them with `s.d.denom = "pooled"`:
  the difference of the (weighted) group means over the pooled SD of the *unweighted* groups,
  sqrt((s1^2 + s0^2) / 2), so before and after share one denominator; a 0/1 covariate's variance is
  p(1 - p), any other covariate's the sample variance (n - 1).
- Effective sample size per group: Kish's (sum w)^2 / sum w^2.
- Weighted Kaplan-Meier: lifelines' `KaplanMeierFitter` with weights (R's `survfit(weights = w)`),
  estimates only: Greenwood limits on weighted counts ignore that the weights are estimated.
- Weighted Cox: lifelines' `CoxPHFitter` with weights (Efron ties, as R's `coxph`) for the estimate;
  its robust variance is our own code, because lifelines' score residuals ignore ties (its own
  TODO; 3e-4 relative off R's robust SE on the first study's PFS data) and take O(n^2) time. We compute R's:
  the weighted dfbeta residuals of the Efron partial likelihood, summed as D'D
  (`coxph(..., weights = w, robust = TRUE)`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.api as sm
from lifelines import CoxPHFitter
from lifelines.exceptions import StatisticalWarning
from scipy import stats

from analysis.stats.estimability import NotEstimable
from analysis.stats.software import Software, computed_by
from analysis.stats.survival import CONFIDENCE, KMCurve, kaplan_meier, median_survival

ESTIMANDS = ("ATE", "ATT")
#: A score this close to 0 or 1 means the covariates (nearly) separate the groups.
SCORE_LIMIT = 1e-8
#: Newton-Raphson to a step norm and Newton decrement of 1e-14: at 1e-12 (cox.py's) lifelines stops
#: 3e-6 relative short of R's coefficient in a subgroup with one treated patient (the decrement is
#: the square of the step).
FIT_OPTIONS = {"precision": 1e-14, "r_precision": 1e-14}


@dataclass(frozen=True, eq=False)
class Weights:
    """The propensity model and each patient's weight, for the patients with complete covariates
    (`index`: their row labels in the input frame)."""

    index: pd.Index
    treated: np.ndarray
    score: np.ndarray
    weights: np.ndarray
    coefficients: dict[str, float]
    estimand: str
    stabilised: bool
    trim: str
    software: Software = field(repr=False)

    def effective_sample_size(self) -> dict[str, float]:
        """Kish's effective sample size of the treated (`"treated"`) and the other (`"control"`) group."""
        return {name: kish(self.weights[mask]) for name, mask in self._groups().items()}

    def _groups(self) -> dict[str, np.ndarray]:
        return {"treated": self.treated == 1, "control": self.treated == 0}


def kish(weights: np.ndarray) -> float:
    """Kish's effective sample size, (sum w)^2 / sum w^2."""
    return float(weights.sum() ** 2 / (weights**2).sum())


def _separation(data: pd.DataFrame, treated: np.ndarray, covariates: list[str]) -> str | None:
    """Why the covariates separate the groups, if one of them visibly does: a value (of a covariate
    with at most two values) or a range end held by one group only."""
    for name in covariates:
        values = data[name].to_numpy(float)
        levels = np.unique(values)
        if len(levels) == 1:
            return f"covariate '{name}' has one value ({levels[0]:g}) in every patient"
        if len(levels) == 2:
            for level in levels:
                held = np.unique(treated[values == level])
                if len(held) == 1:
                    group = "treated" if held[0] == 1 else "control"
                    return (
                        f"covariate '{name}' separates the groups: every patient with {name} = {level:g} "
                        f"is in the {group} group"
                    )
        elif values[treated == 1].min() > values[treated == 0].max() or (
            values[treated == 1].max() < values[treated == 0].min()
        ):
            return f"covariate '{name}' separates the groups: their ranges do not overlap"
    return None


def propensity_weights(
    df: pd.DataFrame,
    group: str,
    treated: object,
    covariates: list[str],
    estimand: str = "ATE",
    stabilised: bool = False,
    trim_percentile: float | None = None,
    score_bounds: tuple[float, float] | None = None,
) -> Weights | NotEstimable:
    """Propensity scores of being in the `treated` level of `group` (logistic regression on
    `covariates`, complete cases) and the IPTW weights for `estimand`, stabilised and trimmed as
    asked (see the module docstring); `NotEstimable` when the score is not identified."""
    if estimand not in ESTIMANDS:
        raise ValueError(f"estimand {estimand!r}: expected one of {', '.join(ESTIMANDS)}")
    if stabilised and estimand != "ATE":
        raise ValueError("stabilised weights are defined for the ATE (ATT weights need no stabilisation)")
    if trim_percentile is not None and not 50 < trim_percentile < 100:
        raise ValueError(f"trim percentile {trim_percentile}: expected a percentile above 50 and below 100")
    if score_bounds is not None and not 0 < score_bounds[0] < score_bounds[1] < 1:
        raise ValueError(f"score bounds {score_bounds}: expected 0 < low < high < 1")
    what = "propensity score"
    data = df[[group, *covariates]]
    data = data[data.notna().all(axis=1).to_numpy()]
    t = (data[group] == treated).to_numpy(int)
    if t.sum() == 0 or t.sum() == len(t):
        return NotEstimable(what, f"only one group among the {len(t)} patients with complete covariates")
    reason = _separation(data, t, covariates)
    if reason:
        return NotEstimable(what, reason)
    design = sm.add_constant(data[covariates].astype(float), has_constant="add")
    if np.linalg.matrix_rank(design.to_numpy()) < design.shape[1]:
        return NotEstimable(what, f"the covariates {', '.join(covariates)} are collinear")
    with warnings.catch_warnings(), np.errstate(over="ignore"):
        warnings.simplefilter("ignore")  # separation is reported below, in words
        fit = sm.GLM(t, design, family=sm.families.Binomial()).fit(tol=1e-13, maxiter=200)
        score = np.asarray(fit.fittedvalues, float)
    if not fit.converged or score.min() < SCORE_LIMIT or score.max() > 1 - SCORE_LIMIT:
        return NotEstimable(
            what, "the covariates separate the groups (scores of 0 or 1: the weights would be infinite)"
        )
    trims = []
    if score_bounds is not None:
        score = np.clip(score, *score_bounds)
        trims.append(f"scores clipped to [{score_bounds[0]:g}, {score_bounds[1]:g}]")
    if estimand == "ATE":
        weights = np.where(t == 1, 1 / score, 1 / (1 - score))
        if stabilised:
            weights = weights * np.where(t == 1, t.mean(), 1 - t.mean())
    else:
        weights = np.where(t == 1, 1.0, score / (1 - score))
    if trim_percentile is not None:
        weights = np.minimum(weights, np.percentile(weights, trim_percentile))
        trims.append(f"weights above the {trim_percentile:g}th percentile set to it")
    return Weights(
        index=data.index,
        treated=t,
        score=score,
        weights=weights,
        coefficients={str(k): float(v) for k, v in fit.params.items()},
        estimand=estimand,
        stabilised=stabilised,
        trim="; ".join(trims) or "none",
        software=computed_by("propensity scores by logistic regression", sm.GLM),
    )


@dataclass(frozen=True)
class Balance:
    """One covariate's group means and standardised mean difference before and after weighting."""

    covariate: str
    treated_before: float
    control_before: float
    treated_after: float
    control_after: float
    smd_before: float
    smd_after: float
    software: Software | None = None


def _variance(values: np.ndarray) -> float:
    """cobalt's unweighted variance: p(1 - p) for a 0/1 variable, the sample variance otherwise."""
    if np.isin(values, (0.0, 1.0)).all():
        p = values.mean()
        return float(p * (1 - p))
    return float(values.var(ddof=1))


def balance(df: pd.DataFrame, weights: Weights, covariates: list[str]) -> list[Balance]:
    """Standardised mean differences (treated minus control) of each covariate before and after
    weighting, over the pooled SD of the unweighted groups (cobalt's `s.d.denom = "pooled"`)."""
    data = df.loc[weights.index]
    t, w = weights.treated == 1, weights.weights
    software = computed_by("standardised mean differences", balance)
    rows = []
    for name in covariates:
        x = data[name].to_numpy(float)
        sd = np.sqrt((_variance(x[t]) + _variance(x[~t])) / 2)
        means = (x[t].mean(), x[~t].mean())
        after = (np.average(x[t], weights=w[t]), np.average(x[~t], weights=w[~t]))
        smd = [float((a - b) / sd) if sd > 0 else float("nan") for a, b in (means, after)]
        rows.append(Balance(name, *map(float, means), *map(float, after), *smd, software))
    return rows


def weighted_km(time: np.ndarray, event: np.ndarray, weights: np.ndarray) -> KMCurve:
    """The weighted Kaplan-Meier estimate (lifelines; R's `survfit(weights = w)`), as a `KMCurve`
    without confidence limits (NaN); `n_risk`, `n_event`, `n_censor` are sums of weights."""
    return kaplan_meier(time, event, weights=np.asarray(weights, float))


def weighted_median(curve: KMCurve) -> float:
    """The median of a weighted curve by R's quantile rule (NaN: not reached)."""
    return median_survival(curve).estimate


@dataclass(frozen=True)
class WeightedCox:
    """The weighted Cox model's group term: log-HR, naive (model) and robust SE, the Wald CI of the
    HR and the Wald p-value, both from the robust SE."""

    coef: float
    naive_se: float
    se: float
    ci: tuple[float, float]
    p: float
    n: int
    events: int
    software: Software | None = None

    @property
    def hr(self) -> float:
        return float(np.exp(self.coef))


def efron_dfbeta(
    x: np.ndarray,
    time: np.ndarray,
    event: np.ndarray,
    weights: np.ndarray,
    beta: np.ndarray,
    variance: np.ndarray,
) -> np.ndarray:
    """R's weighted dfbeta residuals of a Cox model with Efron ties (`residuals(fit, "dfbeta",
    weighted = TRUE)`): each patient's weighted score residual times the model variance. Our own
    code (see the module docstring); O(n log n).

    With r_j = w_j exp(x_j b), a death time k with d deaths, the r-th Efron step (r = 0..d-1) has
    S0_kr = S0_k - (r/d) D0_k and mean x_kr = S1_kr / S0_kr, and m_k = (sum of the deaths' w) / d.
    A patient's score residual is delta (x - mean over r of x_kr) minus exp(x b) times the sum over
    the times k at risk and steps r of m_k c (x - x_kr) / S0_kr, c = 1 - r/d for the deaths at k."""
    order = np.lexsort((1 - event, time))
    x, time, event, w = x[order], time[order], event[order].astype(bool), weights[order]
    risk = w * np.exp(x @ beta)
    s0 = np.cumsum(risk[::-1])[::-1]
    s1 = np.cumsum((risk[:, None] * x)[::-1], axis=0)[::-1]
    times = np.unique(time[event])
    first = np.searchsorted(time, times, side="left")  # the first patient at risk at each death time
    k = np.searchsorted(times, time[event])  # death time of each death
    d = np.bincount(k, minlength=len(times)).astype(float)
    d0 = np.bincount(k, weights=risk[event], minlength=len(times))
    d1 = np.stack(
        [np.bincount(k, weights=risk[event] * x[event, j], minlength=len(times)) for j in range(x.shape[1])],
        1,
    )
    m = np.bincount(k, weights=w[event], minlength=len(times)) / d
    # one row per (death time, Efron step)
    step_k = np.repeat(np.arange(len(times)), d.astype(int))
    r = np.arange(len(step_k)) - np.repeat(np.cumsum(d) - d, d.astype(int))
    frac = r / d[step_k]
    s0_r = s0[first][step_k] - frac * d0[step_k]
    xbar = (s1[first][step_k] - frac[:, None] * d1[step_k]) / s0_r[:, None]

    def by_time(values: np.ndarray) -> np.ndarray:
        values = values.reshape(len(step_k), -1)
        return np.stack(
            [np.bincount(step_k, weights=values[:, j], minlength=len(times)) for j in range(values.shape[1])],
            1,
        )

    a = by_time(m[step_k] / s0_r)[:, 0]
    b = by_time((m[step_k] / s0_r)[:, None] * xbar)
    a_dead = by_time(m[step_k] * (1 - frac) / s0_r)[:, 0]
    b_dead = by_time((m[step_k] * (1 - frac) / s0_r)[:, None] * xbar)
    mean_xbar = by_time(xbar) / d[:, None]
    cum_a = np.concatenate([[0.0], np.cumsum(a)])
    cum_b = np.vstack([np.zeros((1, x.shape[1])), np.cumsum(b, axis=0)])
    at = np.searchsorted(times, time, side="right")  # death times at or before each patient's time
    big_a, big_b = cum_a[at].copy(), cum_b[at].copy()
    own = at[event] - 1  # a death's own time: Efron's reduced weights
    big_a[event] = cum_a[own] + a_dead[own]
    big_b[event] = cum_b[own] + b_dead[own]
    score = -np.exp(x @ beta)[:, None] * (x * big_a[:, None] - big_b)
    score[event] += x[event] - mean_xbar[own]
    dfbeta = (w[:, None] * score) @ variance
    result = np.empty_like(dfbeta)
    result[order] = dfbeta
    return result


#: Who computed the robust variance of the weighted Cox model, its CI and p: this project's code.
ROBUST = computed_by("robust sandwich variances of weighted Cox models", efron_dfbeta)


def weighted_cox(
    time: np.ndarray,
    event: np.ndarray,
    treated: np.ndarray,
    weights: np.ndarray,
    confidence: float = CONFIDENCE,
) -> WeightedCox:
    """The marginal hazard ratio of treated vs control by a weighted Cox model with the robust
    (sandwich) variance of R's `coxph(Surv(time, event) ~ treated, weights = w, robust = TRUE)`."""
    data = pd.DataFrame(
        {
            "time": np.asarray(time, float),
            "event": np.asarray(event, int),
            "treated": np.asarray(treated, float),
        }
    )
    data["w"] = np.asarray(weights, float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)  # lifelines: robust=True for such weights
        fitter = CoxPHFitter().fit(
            data, "time", "event", weights_col="w", batch_mode=True, fit_options=FIT_OPTIONS
        )
    beta = fitter.params_.to_numpy()
    variance = fitter.variance_matrix_.to_numpy()
    dfbeta = efron_dfbeta(
        data[["treated"]].to_numpy(),
        data["time"].to_numpy(),
        data["event"].to_numpy(),
        data["w"].to_numpy(),
        beta,
        variance,
    )
    se = float(np.sqrt((dfbeta.T @ dfbeta)[0, 0]))
    z = stats.norm.ppf(1 - (1 - confidence) / 2)
    coef = float(beta[0])
    return WeightedCox(
        coef=coef,
        naive_se=float(np.sqrt(variance[0, 0])),
        se=se,
        ci=(float(np.exp(coef - z * se)), float(np.exp(coef + z * se))),
        p=float(2 * stats.norm.sf(abs(coef / se))),
        n=len(data),
        events=int(data["event"].sum()),
        software=computed_by("weighted Cox models", CoxPHFitter),  # the robust variance's: ROBUST
    )
