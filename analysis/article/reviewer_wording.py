"""Words the article chooses from the reviewer analyses' numbers (`wording.iptw.*`,
`wording.subgroups.*`, `wording.rmst.*`), recorded in the ledger as every other choice of words
(`analysis.article.wording`). The weighting's own verdict is `iptw.<ep>.persistence`."""

from __future__ import annotations

from analysis.article.wording import in_sentence, series
from analysis.plan.plan import Plan
from analysis.results.ledger import Ledger

SOURCE = "analysis.article.reviewer_wording"


def labels(plan: Plan, columns: list[str]) -> str:
    """Columns as prose lists them ("age ≥ 65 years, HBV aetiology and ...")."""
    return series([in_sentence(plan.column_label(c)) for c in columns])


def subgroup_words(ledger: Ledger, plan: Plan, endpoint: str, variables: list[str]) -> str:
    """Whether the group's HR differed across the levels of any subgroup variable (interaction p)."""
    alpha = plan.settings.alpha
    differing = [
        v
        for v in variables
        if (p := ledger.peek(f"subgroup.{endpoint}.{v}.interaction.p").value) is not None and p < alpha
    ]
    if not differing:
        return "did not differ significantly across the levels of any subgroup variable"
    return f"differed significantly across the levels of {labels(plan, differing)}"


def rmst_words(ledger: Ledger, plan: Plan, endpoint: str, treated_key: str) -> str:
    """How the treated group's restricted mean survival time compares with the reference group's."""
    difference = ledger.peek(f"rmst.{endpoint}.difference").value
    if difference is None:
        return "could not be compared: " + ledger.peek(f"rmst.{endpoint}.difference.reason").text
    if ledger.peek(f"rmst.{endpoint}.difference.p").value >= plan.settings.alpha:
        return "did not differ significantly between the groups"
    longer = "longer" if difference > 0 else "shorter"
    return f"was significantly {longer} in {plan.group_words(treated_key)}"


def weights_words(plan: Plan, estimand: str, stabilised: bool, levels: tuple[str, str]) -> str:
    """The Methods' words for the declared weights, e being the propensity score."""
    reference, treated = (plan.group_words(k) for k in levels)
    if estimand == "ATT":
        return (
            f"weights of 1 for {treated} and e/(1 \u2212 e) for {reference}, which weight {reference} "
            f"to resemble {treated} (the average treatment effect in the treated)"
        )
    return (
        f"weights of 1/e for {treated} and 1/(1 \u2212 e) for {reference}, which weight both groups to "
        "resemble the whole cohort (the average treatment effect)"
    ) + (", each multiplied by its group's share of the patients (stabilised)" if stabilised else "")


def add_reviewer_wording(ledger: Ledger, plan: Plan) -> None:
    """The words of every declared reviewer analysis (none declared: nothing is added)."""
    spec = plan.study.reviewer
    if spec is None or len(plan.groups) != 2:
        return
    reference = plan.reference_key
    treated = next(plan.group_key(g) for g in plan.groups if plan.group_key(g) != reference)
    chosen: dict[str, tuple[str, str]] = {}
    if spec.iptw is not None:
        s = spec.iptw
        rule = "declared weights and covariates"
        chosen["iptw.weights"] = (weights_words(plan, s.estimand, s.stabilised, (reference, treated)), rule)
        chosen["iptw.covariates"] = (labels(plan, list(s.covariates)), rule)
    if spec.subgroups is not None:
        s = spec.subgroups
        chosen["subgroups.variables"] = (labels(plan, list(s.variables)), "declared subgroup variables")
        for e in s.endpoints or list(plan.endpoints):
            words = subgroup_words(ledger, plan, e, list(s.variables))
            chosen[f"subgroups.{e}"] = (words, "interaction p below alpha")
    if spec.rmst is not None:
        for e in spec.rmst.horizon:
            chosen[f"rmst.{e}"] = (rmst_words(ledger, plan, e, treated), "RMST difference p below alpha")
    for key, (words, rule) in chosen.items():
        ledger.add(f"wording.{key}", words, None, rule, SOURCE, text=words)
