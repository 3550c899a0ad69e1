"""The reviewer analyses a study file declares (`reviewer:`), run into the ledger: the study's names
(groups, endpoints, columns) turned into the plain arguments of `analysis.results.reviewer`. The
words the article chooses from their numbers are `analysis.article.reviewer_wording`'s.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from analysis.plan.plan import Plan
from analysis.results import reviewer
from analysis.results.ledger import Ledger
from analysis.stats import weighting
from analysis.stats.estimability import NotEstimable
from analysis.stats.survival import kaplan_meier

SOURCE = "analysis.results.declared"


@dataclass
class ReviewerRun:
    """What the figures need besides the ledger: the weights and the weighted curves per endpoint
    (by group key), and the subgroup levels shown, per variable: {level value: printed label}."""

    weights: weighting.Weights | NotEstimable | None = None
    weighted_curves: dict[str, dict] = field(default_factory=dict)
    #: unweighted curves of the same patients, whose numbers at risk the weighted figure prints
    at_risk_curves: dict[str, dict] = field(default_factory=dict)
    subgroup_levels: dict[str, dict] = field(default_factory=dict)


def endpoints_of(plan: Plan, declared: list[str] | None) -> list[reviewer.Endpoint]:
    names = declared or list(plan.endpoints)
    return [reviewer.Endpoint(e, f"{e}_months", f"{e}_event") for e in names]


def reviewer_columns(plan: Plan) -> list[str]:
    """The columns the declared reviewer analyses read besides the endpoints and the group."""
    spec = plan.study.reviewer
    if spec is None:
        return []
    covariates = spec.iptw.covariates if spec.iptw else []
    return list(dict.fromkeys([*covariates, *(spec.subgroups.variables if spec.subgroups else [])]))


def subgroup_levels(plan: Plan, data: pd.DataFrame, column: str) -> dict:
    """A subgroup variable's levels as the data hold them, with their printed labels: the declared
    or codebook labels in their order, else (a 0/1 column) No and Yes, else the values sorted."""
    values = data[column].dropna()
    numeric = pd.api.types.is_numeric_dtype(values)
    labels = plan.level_labels(column)
    if labels:
        return {(int(float(k)) if numeric else k): v for k, v in labels.items()}
    present = sorted(values.unique().tolist())
    if numeric and set(present) <= {0, 1}:
        return {0: "No", 1: "Yes"}
    return {(int(v) if numeric and float(v).is_integer() else v): str(v) for v in present}


def _unweighted_p(plan: Plan, endpoint: str) -> str:
    """The key of the unweighted p of the group effect: the univariable Cox model's, else log-rank."""
    if plan.study.cox is not None and len(plan.group_terms) == 1:
        return f"{endpoint}.cox.uni.{next(iter(plan.group_terms.values()))}.p"
    return f"{endpoint}.logrank.p"


def add_reviewer(ledger: Ledger, plan: Plan, data: pd.DataFrame) -> ReviewerRun:
    """Every analysis the study's `reviewer:` section declares (none: nothing is added)."""
    spec = plan.study.reviewer
    run = ReviewerRun()
    if spec is None or not plan.groups or len(plan.groups) != 2:
        return run
    group, keys = plan.group_column, [plan.group_key(g) for g in plan.groups]
    reference = plan.reference_key
    levels = (reference, next(k for k in keys if k != reference))
    keyed = data.assign(**{group: data[group].map(plan.group_key)})  # ledger keys name the groups
    if spec.iptw is not None:
        s = spec.iptw
        endpoints = endpoints_of(plan, s.endpoints)
        run.weights = reviewer.add_iptw(
            ledger,
            keyed,
            group,
            levels,
            list(s.covariates),
            endpoints,
            plan.landmarks,
            s.estimand,
            s.stabilised,
            s.trim,
            alpha=plan.settings.alpha,
            unweighted_p={e.key: _unweighted_p(plan, e.key) for e in endpoints},
        )
        threshold = s.balance_threshold
        ledger.add("iptw.balance_threshold", threshold, None, "declared", SOURCE, text=f"{threshold:g}")
        if isinstance(run.weights, weighting.Weights):
            used = keyed.loc[run.weights.index]
            for e in endpoints:
                curves, counted = {}, {}
                for level in levels:
                    part = (used[group] == level).to_numpy()
                    time, event = used[e.time].to_numpy()[part], used[e.event].to_numpy()[part]
                    curves[level] = weighting.weighted_km(time, event, run.weights.weights[part])
                    counted[level] = kaplan_meier(time, event)
                run.weighted_curves[e.key], run.at_risk_curves[e.key] = curves, counted
    if spec.subgroups is not None:
        s = spec.subgroups
        run.subgroup_levels = {v: subgroup_levels(plan, keyed, v) for v in s.variables}
        endpoints = endpoints_of(plan, s.endpoints)
        reviewer.add_subgroups(
            ledger, keyed, group, levels[1], endpoints, {v: list(run.subgroup_levels[v]) for v in s.variables}
        )
    if spec.rmst is not None:
        horizons = {endpoints_of(plan, [e])[0]: float(h) for e, h in spec.rmst.horizon.items()}
        reviewer.add_rmst(ledger, keyed, group, levels, horizons)
    if spec.evalue is not None:
        s = spec.evalue
        for e in endpoints_of(plan, s.endpoints):
            hr_key = {
                "iptw": f"iptw.{e.key}.hr",
                "adjusted": f"{e.key}.cox.multi.{next(iter(plan.group_terms.values()))}.hr",
                "unadjusted": f"{e.key}.cox.uni.{next(iter(plan.group_terms.values()))}.hr",
            }[s.hr]
            if hr_key not in ledger or ledger.peek(hr_key).value is None:
                reason = f"no estimate of {hr_key}"
                ledger.add(f"evalue.{e.key}.estimate", None, None, "E-value", SOURCE, text=reviewer.NE)
                ledger.add(f"evalue.{e.key}.estimate.reason", reason, None, "E-value", SOURCE, text=reason)
                continue
            reviewer.add_evalue(ledger, e.key, hr_key, s.outcome)
    return run

