"""The reviewer tables of a study that declares them (`reviewer:`): covariate balance before and
after weighting, the subgroup HRs, and the RMST and E-values per endpoint. Every cell is a ledger
text; what is not estimable prints "NE" with its reason."""

from __future__ import annotations

import pandas as pd
from great_tables import GT

from analysis.article.tables import INDENT, Tables, left_aligned_stub
from analysis.results.reviewer import NE


def _cell(ledger, key: str) -> str:
    """An estimate with its CI ("0.56 (0.28–1.11)"), or "NE: <reason>"."""
    entry = ledger[key]
    if entry.value is None:
        return f"{NE}: {ledger[f'{key}.reason'].text}"
    return f"{entry.text} ({ledger[f'{key}.ci'].text})"


def balance_frame(results) -> pd.DataFrame:
    """Each covariate of the propensity score: SMD before and after weighting."""
    ledger, plan = results.ledger, results.plan
    rows = [
        {
            "covariate": plan.column_label(c),
            "before": ledger[f"iptw.smd.{c}.before"].text,
            "after": ledger[f"iptw.smd.{c}.after"].text,
        }
        for c in plan.study.reviewer.iptw.covariates
    ]
    return pd.DataFrame(rows)


def balance_gt(results) -> GT:
    ledger, plan = results.ledger, results.plan
    treated = [k for k in plan.group_labels if k != plan.reference_key][0]
    names = plan.group_labels
    note = (
        f"Standardised mean differences ({names[treated]} minus {names[plan.reference_key]}) "
        "over the pooled standard deviation of the unweighted groups. Weights: "
        f"{ledger['iptw.estimand'].text}, from a logistic propensity model ({ledger['iptw.n'].text} patients "
        f"with complete covariates); effective sample sizes {ledger[f'iptw.ess.{treated}'].text} and "
        f"{ledger[f'iptw.ess.{plan.reference_key}'].text}; largest weight {ledger['iptw.weight.max'].text}; "
        f"trimming: {ledger['iptw.trim'].text}."
    )
    return (
        GT(balance_frame(results), rowname_col="covariate")
        .pipe(left_aligned_stub)
        .cols_label(before="SMD before weighting", after="SMD after weighting")
        .tab_source_note(note)
    )


def subgroups_frame(results) -> pd.DataFrame:
    """Per subgroup variable and level: patients, events and the HR (95% CI) per endpoint, and the
    interaction p on the variable's line."""
    ledger, plan = results.ledger, results.plan
    spec = plan.study.reviewer.subgroups
    endpoints = spec.endpoints or list(plan.endpoints)
    rows = []
    for variable, levels in results.reviewer.subgroup_levels.items():
        head = {"label": plan.column_label(variable)}
        for e in endpoints:
            p = ledger[f"subgroup.{e}.{variable}.interaction.p"].text
            head |= {f"{e}_n": "", f"{e}_events": "", f"{e}_hr": "", f"{e}_p": p}
        rows.append(head)
        for level, label in levels.items():
            row = {"label": INDENT + label}
            for e in endpoints:
                key = f"subgroup.{e}.{variable}.{level}"
                row |= {
                    f"{e}_n": ledger[f"{key}.n"].text,
                    f"{e}_events": ledger[f"{key}.events"].text,
                    f"{e}_hr": _cell(ledger, f"{key}.hr"),
                    f"{e}_p": "",
                }
            rows.append(row)
    return pd.DataFrame(rows)


def subgroups_gt(results) -> GT:
    plan = results.plan
    endpoints = plan.study.reviewer.subgroups.endpoints or list(plan.endpoints)
    gt = GT(subgroups_frame(results), rowname_col="label").pipe(left_aligned_stub)
    labels = {}
    for e in endpoints:
        spec = plan.endpoints[e]
        gt = gt.tab_spanner(
            spec.label[0].upper() + spec.label[1:], columns=[f"{e}_{c}" for c in ("n", "events", "hr", "p")]
        )
        labels |= {
            f"{e}_n": "Patients",
            f"{e}_events": "Events",
            f"{e}_hr": "HR (95% CI)",
            f"{e}_p": "P for interaction",
        }
    treated = [k for k in plan.group_labels if k != plan.reference_key][0]
    note = (
        f"HR of {plan.group_labels[treated]} vs {plan.group_labels[plan.reference_key]} within each level "
        "(Cox model, Efron ties, Wald CI); p for interaction from the likelihood-ratio test of the "
        f"group-by-subgroup terms. {NE}, not estimable, with the reason."
    )
    return gt.cols_label(**labels).tab_source_note(note)


def rmst_evalue_frame(results) -> pd.DataFrame:
    """Per endpoint: RMST per group up to the horizon, their difference and p, the HR the E-value
    reads, and the E-values of the estimate and of its CI limit."""
    ledger, plan = results.ledger, results.plan
    spec = plan.study.reviewer
    keys = list(plan.group_labels)
    rows = []
    for e, endpoint in plan.endpoints.items():
        name = endpoint.abbreviation
        if spec.rmst is not None and e in spec.rmst.horizon:
            horizon = ledger[f"rmst.{e}.horizon"].text
            rows.append({"item": f"{name}: RMST up to {horizon} months", "value": ""})
            if ledger[f"rmst.{e}.difference"].value is not None:
                rows += [
                    {"item": INDENT + plan.group_labels[k], "value": ledger[f"rmst.{e}.{k}"].text}
                    for k in keys
                ]
            rows.append(
                {"item": INDENT + "Difference (95% CI)", "value": _cell(ledger, f"rmst.{e}.difference")}
            )
            if ledger[f"rmst.{e}.difference"].value is not None:
                rows.append({"item": INDENT + "p", "value": ledger[f"rmst.{e}.difference.p"].text})
        if spec.evalue is not None and f"evalue.{e}.estimate" in ledger:
            rows.append({"item": f"{name}: E-value", "value": ""})
            estimate = ledger[f"evalue.{e}.estimate"]
            if estimate.value is None:
                rows.append(
                    {
                        "item": INDENT + "Estimate",
                        "value": f"{NE}: {ledger[f'evalue.{e}.estimate.reason'].text}",
                    }
                )
                continue
            rows += [
                {"item": INDENT + "Of the HR", "value": estimate.text},
                {"item": INDENT + "Of its CI limit closer to 1", "value": ledger[f"evalue.{e}.ci"].text},
            ]
    return pd.DataFrame(rows)


def rmst_evalue_gt(results) -> GT:
    plan = results.plan
    spec = plan.study.reviewer
    notes = []
    if spec.rmst is not None:
        notes.append(
            "RMST, restricted mean survival time in months (area under the Kaplan-Meier curve up to the "
            "horizon); difference with the variance of R's survRM2, Wald CI and p."
        )
    if spec.evalue is not None:
        hr = {"iptw": "propensity-weighted", "adjusted": "multivariable", "unadjusted": "univariable"}[
            spec.evalue.hr
        ]
        notes.append(
            f"E-values (VanderWeele and Ding) of the {hr} HR, {spec.evalue.outcome} outcome: the risk ratio "
            "an unmeasured confounder would need with both group and outcome to explain the estimate away."
        )
    return (
        GT(rmst_evalue_frame(results), rowname_col="item")
        .pipe(left_aligned_stub)
        .cols_label(value="Estimate")
        .tab_source_note(" ".join(notes))
    )


#: How the numbers table names each reviewer table.
TITLES = {
    "balance": "Covariate balance",
    "subgroups": "Subgroup analysis",
    "rmst_evalue": "RMST and E-values",
}


def add_reviewer_tables(out: Tables, results) -> Tables:
    """The declared reviewer tables added to the article's tables (`tables.all_tables`), each with
    the ledger keys its cells print, as the numbers table names them."""
    spec = results.plan.study.reviewer
    if spec is None:
        return out
    builders = {}
    if spec.iptw is not None and results.reviewer.weighted_curves:
        builders["balance"] = balance_gt
    if spec.subgroups is not None:
        builders["subgroups"] = subgroups_gt
    if spec.rmst is not None or spec.evalue is not None:
        builders["rmst_evalue"] = rmst_evalue_gt
    for name, build in builders.items():
        with results.ledger.reading() as keys:
            out[name] = build(results)
        out.cells[TITLES[name]] = list(keys)
    return out
