"""The reviewer analyses into the ledger: IPTW, subgroups, RMST and E-values, each from plain
arguments (column names, levels, settings) that the study file declares.

A result that is not estimable is still written: its key holds no value and prints "NE", and
`<key>.reason` says why, so a table or sentence shows the reason instead of a number.

Keys (<ep> an endpoint, <level> a group level, <cov> a covariate, <var> a subgroup variable):
  iptw.n, iptw.estimand, iptw.trim, iptw.estimable (+ iptw.reason), iptw.ps.<term>.coef,
  iptw.smd.<cov>.before/.after, iptw.smd.max.before/.after, iptw.ess.<level>, iptw.weight.max,
  iptw.<ep>.hr (+ .ci, .ci_low, .ci_high), iptw.<ep>.p, iptw.<ep>.se, iptw.<ep>.median.<level>,
  iptw.<ep>.rate<m>.<level>, iptw.<ep>.persistence (words);
  subgroup.<ep>.<var>.<level>.n/.events/.hr (+ci)/.p, subgroup.<ep>.<var>.interaction.p/.chisq/.df;
  rmst.<ep>.horizon, rmst.<ep>.<level>, rmst.<ep>.difference (+ci), rmst.<ep>.difference.p;
  evalue.<ep>.estimate, evalue.<ep>.ci, evalue.<ep>.outcome.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.results.ledger import Ledger
from analysis.stats import evalue, rmst, subgroups, weighting
from analysis.stats.estimability import NotEstimable

NE = "NE"


@dataclass(frozen=True)
class Endpoint:
    """An endpoint's ledger name and its time and 0/1 event columns."""

    key: str
    time: str
    event: str


def _not_estimable(ledger: Ledger, key: str, result: NotEstimable, method: str, source: str) -> None:
    ledger.add(key, None, None, method, source, text=NE)
    ledger.add(f"{key}.reason", result.reason, None, method, source, text=result.reason)


def add_iptw(
    ledger: Ledger,
    data: pd.DataFrame,
    group: str,
    levels: tuple[str, str],
    covariates: list[str],
    endpoints: list[Endpoint],
    landmarks: list[float],
    estimand: str = "ATE",
    stabilised: bool = False,
    trim_percentile: float | None = None,
    score_bounds: tuple[float, float] | None = None,
    alpha: float = 0.05,
    unweighted_p: dict[str, str] | None = None,
) -> weighting.Weights | NotEstimable:
    """Propensity weights for levels[1] (treated) vs levels[0], balance, and per endpoint the
    weighted KM medians and landmark rates and the weighted Cox HR (robust SE). `unweighted_p` maps an
    endpoint to the ledger key of its unweighted p (for the persistence words). Returns the weights
    (for the love plot and the weighted curves)."""
    source = "analysis.results.reviewer.add_iptw"
    reference, treated = levels
    weights = weighting.propensity_weights(
        data, group, treated, covariates, estimand, stabilised, trim_percentile, score_bounds
    )
    method = "propensity score by logistic regression; inverse probability of treatment weights"
    if isinstance(weights, NotEstimable):
        ledger.add("iptw.estimable", False, None, method, source, text="no")
        ledger.add("iptw.reason", weights.reason, None, method, source, text=weights.reason)
        return weights
    software = weights.software
    ledger.add("iptw.estimable", True, None, method, source, text="yes")
    ledger.add("iptw.n", len(weights.index), "count", method + "; complete cases", source, software=software)
    ledger.add("iptw.estimand", estimand, None, method, source, text=estimand)
    ledger.add("iptw.trim", weights.trim, None, method, source, text=weights.trim)
    for term, coef in weights.coefficients.items():
        name = "intercept" if term == "const" else term
        ledger.add(f"iptw.ps.{name}.coef", coef, None, method, source, text=f"{coef:.3f}", software=software)
    ledger.add(
        "iptw.weight.max",
        float(weights.weights.max()),
        None,
        method,
        source,
        text=f"{weights.weights.max():.2f}",
        software=software,
    )
    rows = weighting.balance(data, weights, covariates)
    smd_method = "standardised mean difference, pooled SD of the unweighted groups"
    for row in rows:
        for when, value in (("before", row.smd_before), ("after", row.smd_after)):
            ledger.add(
                f"iptw.smd.{row.covariate}.{when}",
                value,
                None,
                smd_method,
                source,
                text=f"{value:.2f}",
                software=row.software,
            )
    for when in ("before", "after"):
        largest = max(abs(getattr(row, f"smd_{when}")) for row in rows)
        ledger.add(
            f"iptw.smd.max.{when}",
            largest,
            None,
            smd_method + "; largest absolute",
            source,
            text=f"{largest:.2f}",
        )
    ess = weights.effective_sample_size()
    for level, side in ((treated, "treated"), (reference, "control")):
        ledger.add(
            f"iptw.ess.{level}",
            ess[side],
            None,
            "Kish effective sample size",
            source,
            text=f"{ess[side]:.1f}",
        )
    used = data.loc[weights.index]
    for endpoint in endpoints:
        _add_weighted_endpoint(ledger, used, weights, group, levels, endpoint, landmarks, alpha, unweighted_p)
    return weights


def _add_weighted_endpoint(
    ledger: Ledger,
    used: pd.DataFrame,
    weights: weighting.Weights,
    group: str,
    levels: tuple[str, str],
    endpoint: Endpoint,
    landmarks: list[float],
    alpha: float,
    unweighted_p: dict[str, str] | None,
) -> None:
    source = "analysis.results.reviewer.add_iptw"
    ep, time, event = endpoint.key, used[endpoint.time], used[endpoint.event]
    for level in levels:
        part = (used[group] == level).to_numpy()
        curve = weighting.weighted_km(time[part], event[part], weights.weights[part])
        method = "weighted Kaplan-Meier estimate"
        ledger.add(
            f"iptw.{ep}.median.{level}",
            weighting.weighted_median(curve),
            "months",
            method + "; median by R's quantile rule",
            source,
            software=curve.software,
        )
        for month in landmarks:
            ledger.add(
                f"iptw.{ep}.rate{month:g}.{level}",
                curve.at(month)[0],
                "percent",
                f"{method}; S({month:g} months)",
                source,
                software=curve.software,
            )
    cox = weighting.weighted_cox(time, event, weights.treated, weights.weights)
    method = "weighted Cox model (Efron ties) with robust sandwich variance"
    ledger.add_estimate(f"iptw.{ep}.hr", cox.hr, *cox.ci, "hr", method, source, cox.software)
    ledger.add(f"iptw.{ep}.p", cox.p, "p", method, source, software=weighting.ROBUST)
    ledger.add(
        f"iptw.{ep}.se",
        cox.se,
        None,
        method + "; robust SE of the log HR",
        source,
        text=f"{cox.se:.3f}",
        software=weighting.ROBUST,
    )
    if unweighted_p and ep in unweighted_p:
        before = ledger.peek(unweighted_p[ep]).value < alpha
        after = cox.p < alpha
        words = {
            (True, True): "persisted after weighting",
            (True, False): "was no longer significant after weighting",
            (False, True): "became significant after weighting",
            (False, False): "was not significant before or after weighting",
        }[before, after]
        ledger.add(
            f"iptw.{ep}.persistence",
            words,
            None,
            f"p below {alpha:g} before and after weighting",
            source,
            text=words,
        )


def add_subgroups(
    ledger: Ledger,
    data: pd.DataFrame,
    group: str,
    treated: str,
    endpoints: list[Endpoint],
    variables: dict[str, list | None],
) -> dict[tuple[str, str], subgroups.Subgroup]:
    """HR of treated vs the other level within each level of each subgroup variable (levels in the
    order given, or None: sorted), with the interaction LRT; returns the results for the forest plot."""
    source = "analysis.results.reviewer.add_subgroups"
    method = "Cox model (Efron ties) within the subgroup level"
    results = {}
    for endpoint in endpoints:
        for variable, levels in variables.items():
            result = subgroups.subgroup_hrs(
                data, endpoint.time, endpoint.event, group, treated, variable, levels
            )
            results[endpoint.key, variable] = result
            base = f"subgroup.{endpoint.key}.{variable}"
            for row in result.levels:
                key = f"{base}.{row.level}"
                ledger.add(f"{key}.n", row.n, "count", "patients in the level", source)
                ledger.add(f"{key}.events", row.events, "count", "events in the level", source)
                if isinstance(row.estimate, NotEstimable):
                    _not_estimable(ledger, f"{key}.hr", row.estimate, method, source)
                    continue
                hr, low, high, p = row.estimate
                ledger.add_estimate(f"{key}.hr", hr, low, high, "hr", method, source, row.software)
                ledger.add(f"{key}.p", p, "p", method, source, software=row.software)
            test = "likelihood-ratio test of the group-by-subgroup terms"
            if isinstance(result.interaction, NotEstimable):
                _not_estimable(ledger, f"{base}.interaction.p", result.interaction, test, source)
                continue
            chisq, df, p = result.interaction
            ledger.add(f"{base}.interaction.p", p, "p", test, source, software=result.software)
            ledger.add(
                f"{base}.interaction.chisq",
                chisq,
                None,
                test,
                source,
                text=f"{chisq:.2f}",
                software=result.software,
            )
            ledger.add(f"{base}.interaction.df", df, "count", test, source)
    return results


def add_rmst(
    ledger: Ledger, data: pd.DataFrame, group: str, levels: tuple[str, str], horizons: dict[Endpoint, float]
) -> None:
    """RMST per group up to each endpoint's horizon and the difference levels[1] minus levels[0]."""
    source = "analysis.results.reviewer.add_rmst"
    for endpoint, horizon in horizons.items():
        ep = endpoint.key
        result = rmst.rmst_difference(data[endpoint.time], data[endpoint.event], data[group], levels, horizon)
        text = f"{horizon:g}"
        ledger.add(f"rmst.{ep}.horizon", horizon, None, "RMST horizon (declared)", source, text=text)
        method = "restricted mean survival time; difference with survRM2's variance"
        if isinstance(result, NotEstimable):
            _not_estimable(ledger, f"rmst.{ep}.difference", result, method, source)
            continue
        for level, each in result.groups.items():
            ledger.add(f"rmst.{ep}.{level}", each.estimate, "months", method, source, software=each.software)
        ledger.add_estimate(
            f"rmst.{ep}.difference", result.difference, *result.ci, "months", method, source, result.software
        )
        ledger.add(f"rmst.{ep}.difference.p", result.p, "p", method, source, software=result.software)


def add_evalue(ledger: Ledger, endpoint: str, hr_key: str, outcome: str) -> None:
    """The E-value of the HR at `hr_key` (with its `.ci_low`/`.ci_high`) and of its CI limit closer
    to 1, for a common or rare outcome as declared."""
    source = "analysis.results.reviewer.add_evalue"
    hr = ledger.peek(hr_key).value
    ci = (ledger.peek(f"{hr_key}.ci_low").value, ledger.peek(f"{hr_key}.ci_high").value)
    result = evalue.e_value(float(hr), (float(ci[0]), float(ci[1])), outcome)
    method = f"E-value (VanderWeele and Ding 2017), {outcome} outcome, of {hr_key}"
    ledger.add(
        f"evalue.{endpoint}.estimate",
        result.estimate,
        None,
        method,
        source,
        text=f"{result.estimate:.2f}",
        software=result.software,
    )
    ledger.add(
        f"evalue.{endpoint}.ci",
        result.limit,
        None,
        method + "; CI limit closer to 1",
        source,
        text=f"{result.limit:.2f}",
        software=result.software,
    )
    ledger.add(f"evalue.{endpoint}.outcome", outcome, None, method, source, text=outcome)


def evalue_outcome(event: np.ndarray) -> str:
    """VanderWeele and Ding's rule of thumb: an outcome is rare when under 15% had it."""
    return "rare" if float(np.mean(event)) < 0.15 else "common"
