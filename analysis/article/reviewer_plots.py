"""The reviewer figures of a study that declares them (`reviewer:`), drawn from one run's results:
the patient flow diagram, the love plot, the subgroup forest plot and the weighted Kaplan-Meier
curves per endpoint. Every count and printed text is read from the ledger."""

from __future__ import annotations


def flow(results):
    """The patient flow diagram: source, each selection step's exclusions, analysed, the groups."""
    from analysis.article.flowchart import Box, flow_figure

    ledger, plan = results.ledger, results.plan
    spec = plan.study.reviewer.flow
    words = spec.exclusions if spec else {}
    source = Box(plan.study.population.source, ledger["population.screened"].value)
    exclusions = [
        Box(words.get(s.id, f"Excluded, not meeting: {s.label}"), ledger[f"population.{s.id}.excluded"].value)
        for s in plan.study.population.steps
    ]
    analysed = Box(spec.analysed if spec else "Patients analysed", ledger["n.total"].value)
    groups = [Box(label, ledger[f"n.{key}"].value) for key, label in plan.group_labels.items()]
    return flow_figure(source, exclusions, analysed, groups)


def love(results):
    """Absolute standardised mean differences of the score's covariates before and after weighting."""
    from analysis.article.reviewer_figures import love_figure

    ledger, plan = results.ledger, results.plan
    rows = [
        (
            plan.column_label(c),
            ledger[f"iptw.smd.{c}.before"].value,
            ledger[f"iptw.smd.{c}.after"].value,
        )
        for c in plan.study.reviewer.iptw.covariates
    ]
    return love_figure(rows, ledger["iptw.balance_threshold"].value)


def subgroup_forest(results, endpoint: str):
    """The group's HR within each subgroup level, as journals print the subgroup forest plot."""
    from analysis.article.reviewer_figures import subgroup_forest_figure, subgroup_forest_rows

    plan = results.plan
    variables = {
        v: (plan.column_label(v), levels) for v, levels in results.reviewer.subgroup_levels.items()
    }
    rows = subgroup_forest_rows(results.ledger, endpoint, variables)
    labels = plan.group_labels
    treated = [k for k in labels if k != plan.reference_key][0]
    favours = (f"Favours {labels[treated]}", f"Favours {labels[plan.reference_key]}")
    return subgroup_forest_figure(rows, favours=favours)


def weighted_km(results, endpoint: str):
    """Kaplan-Meier curves weighted by the propensity weights, with the weighted HR; numbers at risk
    are patients (unweighted)."""
    from analysis.article import figures

    ledger, plan = results.ledger, results.plan
    label = plan.endpoints[endpoint].label
    curves = results.reviewer.weighted_curves[endpoint]
    medians = {g: ledger[f"iptw.{endpoint}.median.{g}"].value for g in curves}
    medians = {g: float("nan") if v is None else v for g, v in medians.items()}
    key = f"iptw.{endpoint}.hr"
    level = ledger["config.ci_level"].text
    note = f"Weighted HR {ledger[key].text} ({level} CI {ledger[f'{key}.ci'].text})"
    note += f"\n{ledger.p(f'iptw.{endpoint}.p').text}"
    return figures.km_figure(
        curves,
        medians,
        plan.group_labels,
        note,
        f"{label[0].upper() + label[1:]} probability (weighted)",
        xlabel=f"Months since {plan.study.article.time_origin}",
        at_risk=results.reviewer.at_risk_curves[endpoint],
    )


def reviewer_drawers(results) -> dict:
    """The declared reviewer figures by name: `flow`, `love`, `subgroups_<endpoint>`, `km_iptw_<endpoint>`."""
    spec = results.plan.study.reviewer
    out = {"flow": flow}
    if spec.iptw is not None and results.reviewer.weighted_curves:
        out["love"] = love
        out |= {f"km_iptw_{e}": (lambda r, e=e: weighted_km(r, e)) for e in results.reviewer.weighted_curves}
    if spec.subgroups is not None:
        endpoints = spec.subgroups.endpoints or list(results.plan.endpoints)
        out |= {f"subgroups_{e}": (lambda r, e=e: subgroup_forest(r, e)) for e in endpoints}
    return out
