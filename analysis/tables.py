"""The article's tables as great_tables objects, one builder per kind of table (as gtsummary).

Every cell is a ledger text, so a table can never disagree with the prose that cites it.
"""

from __future__ import annotations

import html
from functools import cache

import numpy as np
import pandas as pd
from great_tables import GT, loc, style

from analysis.baseline import MEDIAN_IQR, UNKNOWN
from analysis.codebook import load_codebook
from analysis.contingency import MIN_EXPECTED
from analysis.cox import SELECTION_P
from analysis.endpoints import GROUP_COVARIATE
from analysis.pipeline import COVARIATE_LABELS
from analysis.response import CATEGORIES

TEST_MARKS = {"Wilcoxon rank-sum test": "a", "Pearson's chi-square test": "b", "Fisher's exact test": "c"}
OVERALL = "Overall"
NOT_IN_MODEL = "\u2014"
INDENT = "\u00a0" * 4  # level lines sit under their variable (non-breaking spaces survive every format)
ABBREVIATIONS = (
    "AFP, alpha-fetoprotein; ALBI, albumin-bilirubin; BCLC, Barcelona Clinic Liver Cancer; "
    "CI, confidence interval; ECOG, Eastern Cooperative Oncology Group; HAIC, hepatic arterial infusion "
    "chemotherapy; HR, hazard ratio; IQR, interquartile range; PIVKA-II, protein induced by vitamin K "
    "absence-II; Vp, portal vein tumour thrombosis grade."
)


def left_aligned_stub(gt: GT) -> GT:
    """Row labels aligned left, written on each cell so that every reader of the HTML (pandoc, Quarto)
    keeps it; Table 1's indented levels then read as gtsummary's."""
    return gt.tab_style(style.text(align="left"), loc.stub())


@cache
def group_names() -> dict[str, str]:
    """Each group's printed label, from the codebook, and the overall column."""
    return load_codebook().labels("group") | {"overall": OVERALL}


def _header(ledger, group: str) -> str:
    key = "n.total" if group == "overall" else f"n.{group}"
    return f"{group_names()[group]} (n\u00a0=\u00a0{ledger[key].text})"  # "(n = 83)" never split


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
    groups = list(group_names())
    rows = []
    for block in results.baseline:
        column = block.variable.column
        p = ledger[f"baseline.{column}.p"]
        mark = TEST_MARKS.get(ledger[f"baseline.{column}.test"].text, "")
        lines = list(block.lines)
        head = {"label": block.variable.label, **dict.fromkeys(groups, ""), "p": f"{p.text}{mark}"}
        if lines[0].key == MEDIAN_IQR:
            head |= {g: ledger[f"baseline.{column}.{MEDIAN_IQR}.{g}"].text for g in groups}
            lines = lines[1:]
        rows.append(head)
        for line in lines:
            cells = {g: ledger[f"baseline.{column}.{line.key}.{g}"].text for g in groups}
            rows.append({"label": INDENT + line.label, **cells, "p": ""})
    return pd.DataFrame(rows)


def baseline_gt(results) -> GT:
    """Table 1: characteristics by group and overall, with the test of each variable marked."""
    ledger = results.ledger
    frame = baseline_frame(results)
    unknown = any(line.key == UNKNOWN for block in results.baseline for line in block.lines)
    values = "Values are n (%) of the patients with a known value, or median (IQR)."
    if unknown:
        values += " Unknown: patients with no recorded value, not counted in the percentages."
    return (
        GT(frame, rowname_col="label")
        .pipe(left_aligned_stub)
        .cols_label(**{g: _header(ledger, g) for g in group_names()}, p="p-value")
        .fmt(superscript_mark, columns="p")
        .tab_source_note(values)
        .tab_source_note(
            "Tests: a, Wilcoxon rank-sum test; b, Pearson's chi-square test; c, Fisher's exact test "
            f"(used when any expected count is below {MIN_EXPECTED})."
        )
        .tab_source_note(ABBREVIATIONS)
    )


def response_frame(ledger) -> pd.DataFrame:
    """Best response per category (labels from the codebook), ORR and DCR, per criterion."""
    rows = []
    for prefix, criterion, column in (
        ("", "RECIST 1.1", "recist_bor"),
        ("mrecist.", "mRECIST", "mrecist_bor"),
    ):
        bor = prefix or "recist."
        labels = load_codebook().labels(column)
        for category in CATEGORIES:
            rows.append(
                {
                    "criterion": criterion,
                    "item": INDENT + labels[category],
                    **{g: ledger[f"{bor}bor.{category}.{g}"].text for g in ("first_line", "post_ate_beva")},
                    "p": "",
                }
            )
        for name, label in (("orr", "ORR, % (95% CI)"), ("dcr", "DCR, % (95% CI)")):
            rows.append(
                {
                    "criterion": criterion,
                    "item": INDENT + label,
                    **{
                        g: f"{ledger[f'{prefix}{name}.{g}'].text} ({ledger[f'{prefix}{name}.{g}.ci'].text})"
                        for g in ("first_line", "post_ate_beva")
                    },
                    "p": ledger[f"{prefix}{name}.p"].text,
                }
            )
    return pd.DataFrame(rows)


def response_gt(ledger) -> GT:
    """Best overall response and response rates by RECIST 1.1 and mRECIST."""
    return (
        GT(response_frame(ledger), rowname_col="item", groupname_col="criterion")
        .pipe(left_aligned_stub)
        .cols_label(
            first_line=_header(ledger, "first_line"),
            post_ate_beva=_header(ledger, "post_ate_beva"),
            p="p-value",
        )
        .tab_source_note(
            "Values are n (%) unless stated. ORR, objective response rate (CR + PR); DCR, disease control "
            "rate (CR + PR + SD). Confidence intervals are Clopper-Pearson exact intervals; p-values "
            "from Fisher's exact test."
        )
    )


def cox_frame(ledger) -> pd.DataFrame:
    """HR (95% CI) and p of every covariate: univariable and multivariable, OS and PFS."""
    rows = []
    for column, label in COVARIATE_LABELS.items():
        key = "group" if column == GROUP_COVARIATE else column
        row = {"covariate": label}
        for endpoint in ("os", "pfs"):
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


def cox_gt(ledger) -> GT:
    """Univariable and multivariable Cox models for OS and PFS side by side."""
    gt = GT(cox_frame(ledger), rowname_col="covariate").pipe(left_aligned_stub)
    for endpoint, name in (("os", "Overall survival"), ("pfs", "Progression-free survival")):
        gt = gt.tab_spanner(
            name, columns=[f"{endpoint}_{m}_{s}" for m in ("uni", "multi") for s in ("hr", "p")]
        )
    labels_out = {}
    for endpoint in ("os", "pfs"):
        for model, words in (("uni", "Univariable"), ("multi", "Multivariable")):
            labels_out[f"{endpoint}_{model}_hr"] = f"{words} HR (95% CI)"
            labels_out[f"{endpoint}_{model}_p"] = "p"
    return gt.cols_label(**labels_out).tab_source_note(
        "Cox proportional-hazards models with Efron ties; Wald confidence intervals and p-values. "
        "The multivariable model of each endpoint holds the group and every covariate with "
        f"univariable p < {SELECTION_P:.2f} (complete cases); {NOT_IN_MODEL}, not selected. " + ABBREVIATIONS
    )


def at_risk_frame(results, endpoint: str, step: float = 3.0) -> pd.DataFrame:
    """Numbers at risk by group at regular times (the supplement's table under each KM figure)."""
    curves = results.curves[endpoint]
    horizon = max(c.time.max() for c in curves.values())
    ticks = np.arange(0, horizon + step, step)
    rows = {group_names()[g]: c.at_risk(ticks) for g, c in curves.items()}
    return pd.DataFrame(rows, index=[f"{t:g}" for t in ticks]).T.rename_axis("Months").reset_index()


def at_risk_gt(results, endpoint: str) -> GT:
    return (
        GT(at_risk_frame(results, endpoint), rowname_col="Months")
        .pipe(left_aligned_stub)
        .tab_stubhead("Months since HAIC start")
    )


def codebook_gt() -> GT:
    return GT(load_codebook().table())


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
    ledger = results.ledger
    builders = {
        "baseline": lambda: baseline_gt(results),
        "response": lambda: response_gt(ledger),
        "cox": lambda: cox_gt(ledger),
        "at_risk_os": lambda: at_risk_gt(results, "os"),
        "at_risk_pfs": lambda: at_risk_gt(results, "pfs"),
        "codebook": codebook_gt,
    }
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
