"""The article's tables as great_tables objects, one builder per kind of table (as gtsummary).

Every cell is a ledger text, so a table can never disagree with the prose that cites it.
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
from great_tables import GT, loc, style

from analysis.plan.plan import Plan
from analysis.stats.baseline import KRUSKAL, MEAN_SD, MEDIAN_IQR, UNKNOWN, WILCOXON

TEST_MARKS = {WILCOXON: "a", "Pearson's chi-square test": "b", "Fisher's exact test": "c", KRUSKAL: "d"}
TEST_NAMES = {
    "a": "Wilcoxon rank-sum test",
    "b": "Pearson's chi-square test",
    "c": "Fisher's exact test",
    "d": "Kruskal-Wallis rank-sum test",
}
OVERALL = "Overall"
NOT_IN_MODEL = "\u2014"
INDENT = "\u00a0" * 4  # level lines sit under their variable (non-breaking spaces survive every format)


def left_aligned_stub(gt: GT) -> GT:
    """Row labels aligned left, written on each cell so that every reader of the HTML (pandoc, Quarto)
    keeps it; Table 1's indented levels then read as gtsummary's."""
    return gt.tab_style(style.text(align="left"), loc.stub())


def group_names(plan: Plan) -> dict[str, str]:
    """Each group's printed label (the codebook's), and the overall column."""
    return plan.group_labels | {"overall": OVERALL}


def _header(ledger, plan: Plan, group: str) -> str:
    key = "n.total" if group == "overall" else f"n.{group}"
    return f"{group_names(plan)[group]} (n\u00a0=\u00a0{ledger[key].text})"  # "(n = 83)" never split


def superscript_mark(text: str) -> str:
    """A cell's trailing test mark as a superscript letter ("0.989<sup>a</sup>"), as HTML that pandoc
    reads into Word's and typst's superscript."""
    if text[-1:] in TEST_MARKS.values() and text[:-1]:
        return f"{html.escape(text[:-1])}<sup>{text[-1]}</sup>"
    return html.escape(text)


def baseline_frame(results) -> pd.DataFrame:
    """Table 1 as gtsummary lays it out: a line per variable (with its p-value and, for a continuous
    variable, its median and IQR), then its levels in declared order and an Unknown line if any value
    is missing. Every cell is a ledger text; labels come from the codebook or the derivation."""
    ledger = results.ledger
    groups = list(group_names(results.plan))
    rows = []
    for block in results.baseline:
        column = block.variable.column
        tested = f"baseline.{column}.p" in ledger
        p = ledger[f"baseline.{column}.p"].text if tested else ""
        mark = TEST_MARKS.get(ledger[f"baseline.{column}.test"].text, "") if tested else ""
        lines = list(block.lines)
        head = {"label": block.variable.label, **dict.fromkeys(groups, ""), "p": f"{p}{mark}"}
        if lines[0].key in (MEDIAN_IQR, MEAN_SD):
            head |= {g: ledger[f"baseline.{column}.{lines[0].key}.{g}"].text for g in groups}
            lines = lines[1:]
        rows.append(head)
        for line in lines:
            cells = {g: ledger[f"baseline.{column}.{line.key}.{g}"].text for g in groups}
            rows.append({"label": INDENT + line.label, **cells, "p": ""})
    return pd.DataFrame(rows)


def baseline_gt(results) -> GT:
    """Table 1: characteristics by group and overall, with the test of each variable marked."""
    ledger, plan = results.ledger, results.plan
    frame = baseline_frame(results)
    keys = {line.key for block in results.baseline for line in block.lines}
    summaries = ["median (IQR)"] + (["mean (SD)"] if MEAN_SD in keys else [])
    values = f"Values are n (%) of the patients with a known value, or {' or '.join(summaries)}."
    if UNKNOWN in keys:
        values += " Unknown: patients with no recorded value, not counted in the percentages."
    gt = (
        GT(frame, rowname_col="label")
        .pipe(left_aligned_stub)
        .cols_label(**{g: _header(ledger, plan, g) for g in group_names(plan)}, p="p-value")
        .fmt(superscript_mark, columns="p")
        .tab_source_note(values)
    )
    # the tests gtsummary's default rule can choose: a rank test, then chi-square or Fisher's
    used = [] if len(plan.groups) < 2 else ["a" if len(plan.groups) == 2 else "d", "b", "c"]
    if used:
        small = ledger.peek("config.expected_min").text
        note = {"c": f" (used when any expected count is below {small})"}  # Fisher's, after its name
        names = "; ".join(f"{m}, {TEST_NAMES[m]}{note.get(m, '')}" for m in sorted(used))
        gt = gt.tab_source_note(f"Tests: {names}.")
    else:
        gt = gt.cols_hide("p")
    return gt.tab_source_note(plan.study.article.abbreviations) if plan.study.article.abbreviations else gt


def response_frame(results) -> pd.DataFrame:
    """Best response per category (labels from the codebook), ORR and DCR, per criterion."""
    ledger, plan = results.ledger, results.plan
    spec = plan.study.response
    groups = plan.arms or ["all"]
    tested = len(plan.groups) > 1
    rows = []
    for criterion in spec.criteria:
        prefix = "" if criterion.primary else f"{criterion.id}."
        labels = plan.level_labels(criterion.column)
        for category in spec.categories:
            cells = {g: ledger[f"{criterion.id}.bor.{category}.{g}"].text for g in groups}
            rows.append({"criterion": criterion.name, "item": INDENT + labels[category], **cells, "p": ""})
        for name, label in (("orr", "ORR, % (95% CI)"), ("dcr", "DCR, % (95% CI)")):
            cells = {
                g: f"{ledger[f'{prefix}{name}.{g}'].text} ({ledger[f'{prefix}{name}.{g}.ci'].text})"
                for g in groups
            }
            p = ledger[f"{prefix}{name}.p"].text if tested else ""
            rows.append({"criterion": criterion.name, "item": INDENT + label, **cells, "p": p})
    return pd.DataFrame(rows)


def response_gt(results) -> GT:
    """Best overall response and response rates, per criterion."""
    ledger, plan = results.ledger, results.plan
    spec = plan.study.response
    names = lambda levels: " + ".join(levels)  # noqa: E731
    gt = (
        GT(response_frame(results), rowname_col="item", groupname_col="criterion")
        .pipe(left_aligned_stub)
        .cols_label(**{g: _header(ledger, plan, g) for g in plan.arms}, p="p-value")
        .tab_source_note(
            f"Values are n (%) unless stated. ORR, objective response rate ({names(spec.response)}); "
            f"DCR, disease control rate ({names(spec.control)}). Confidence intervals are Clopper-Pearson "
            "exact intervals; "
            "p-values from Fisher's exact test."
        )
    )
    return gt if len(plan.groups) > 1 else gt.cols_hide("p")


def cox_frame(results) -> pd.DataFrame:
    """HR (95% CI) and p of every model term: univariable and multivariable, for every endpoint."""
    ledger, plan = results.ledger, results.plan
    rows = []
    for column, label in plan.term_labels.items():
        key = plan.term_key(column)
        row = {"covariate": label}
        for endpoint in plan.endpoints:
            for model in ("uni", "multi"):
                base = f"{endpoint}.cox.{model}.{key}"
                present = f"{base}.hr" in ledger
                row[f"{endpoint}_{model}_hr"] = (
                    f"{ledger[f'{base}.hr'].text} ({ledger[f'{base}.hr.ci'].text})"
                    if present
                    else NOT_IN_MODEL
                )
                row[f"{endpoint}_{model}_p"] = ledger[f"{base}.p"].text if present else NOT_IN_MODEL
        rows.append(row)
    return pd.DataFrame(rows)


def cox_gt(results) -> GT:
    """Univariable and multivariable Cox models of every endpoint side by side."""
    ledger, plan = results.ledger, results.plan
    gt = GT(cox_frame(results), rowname_col="covariate").pipe(left_aligned_stub)
    for endpoint, spec in plan.endpoints.items():
        name = spec.label[0].upper() + spec.label[1:]
        gt = gt.tab_spanner(
            name, columns=[f"{endpoint}_{m}_{s}" for m in ("uni", "multi") for s in ("hr", "p")]
        )
    labels_out = {}
    for endpoint in plan.endpoints:
        for model, words in (("uni", "Univariable"), ("multi", "Multivariable")):
            labels_out[f"{endpoint}_{model}_hr"] = f"{words} HR (95% CI)"
            labels_out[f"{endpoint}_{model}_p"] = "p"
    rule = plan.study.cox.selection
    if rule.rule == "p_below":
        chosen = f"every covariate with univariable p < {ledger.peek('config.selection_p').text}"
    elif rule.rule == "all":
        chosen = "every covariate"
    else:
        chosen = "the covariates declared in advance"
    note = (
        "Cox proportional-hazards models with Efron ties; Wald confidence intervals and p-values. "
        f"The multivariable model of each endpoint holds the group and {chosen} (complete cases); "
        f"{NOT_IN_MODEL}, not selected."
    )
    abbreviations = plan.study.article.abbreviations
    return gt.cols_label(**labels_out).tab_source_note(note + (" " + abbreviations if abbreviations else ""))


def at_risk_frame(results, endpoint: str, step: float | None = None) -> pd.DataFrame:
    """Numbers at risk by group at regular times (the supplement's table under each KM figure): every
    3 months, or every 12 when follow-up exceeds 48 months (so that a page holds the columns)."""
    curves = results.curves[endpoint]
    horizon = max(c.time.max() for c in curves.values())
    step = step or (12.0 if horizon > 48 else 3.0)
    ticks = np.arange(0, horizon + step, step)
    names = group_names(results.plan) | {"all": "All patients"}
    rows = {names[g]: c.at_risk(ticks) for g, c in curves.items()}
    return pd.DataFrame(rows, index=[f"{t:g}" for t in ticks]).T.rename_axis("Months").reset_index()


def at_risk_gt(results, endpoint: str) -> GT:
    return (
        GT(at_risk_frame(results, endpoint), rowname_col="Months")
        .pipe(left_aligned_stub)
        .tab_stubhead(f"Months since {results.plan.study.article.time_origin}")
    )


def codebook_gt(results) -> GT:
    return GT(results.plan.codebook.table())


class Tables(dict):
    """The article's tables by name, and the ledger keys each one's cells print (`cells`, by the
    table's title), so that the numbers table can name the keys and functions behind its cells."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: dict[str, list[str]] = {}


#: How the numbers table names each table whose cells come from the ledger.
TITLES = {
    "baseline": "Baseline characteristics",
    "response": "Best overall response",
    "cox": "Cox regression",
}


def all_tables(results) -> Tables:
    ledger, plan = results.ledger, results.plan
    builders = {"baseline": lambda: baseline_gt(results)}
    if plan.study.response is not None:
        builders["response"] = lambda: response_gt(results)
    if plan.study.cox is not None:
        builders["cox"] = lambda: cox_gt(results)
    for endpoint in plan.endpoints:
        builders[f"at_risk_{endpoint}"] = lambda e=endpoint: at_risk_gt(results, e)
    builders["codebook"] = lambda: codebook_gt(results)
    out = Tables()
    for name, build in builders.items():
        with ledger.reading() as keys:
            out[name] = build()
        if name in TITLES:
            out.cells[TITLES[name]] = list(keys)
    return out


def strobe_gt(path: str = "supplement/strobe.yaml") -> GT:
    """The STROBE checklist for cohort studies, each item mapped to where the manuscript answers it."""
    from pathlib import Path

    import yaml

    items = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    frame = pd.DataFrame(items).rename(
        columns={"item": "Item", "topic": "Topic", "text": "Recommendation", "where": "Reported in"}
    )
    return GT(frame).tab_source_note(
        "STROBE, Strengthening the Reporting of Observational Studies in Epidemiology."
    )
