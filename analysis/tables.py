"""The article's tables as great_tables objects, one builder per kind of table (as gtsummary).

Every cell is a ledger text, so a table can never disagree with the prose that cites it.
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
from great_tables import GT

from analysis.baseline import TABLE1
from analysis.endpoints import COVARIATES, GROUP_COVARIATE
from analysis.response import CATEGORIES

GROUP_NAMES = {"first_line": "First-line HAIC", "post_ate_beva": "Post-ate-beva HAIC", "overall": "Overall"}
TEST_MARKS = {"Wilcoxon rank-sum test": "a", "Pearson's chi-square test": "b", "Fisher's exact test": "c"}
INDENT = "\u00a0" * 4  # level lines sit under their variable (non-breaking spaces survive every format)
LEVEL_NAMES = {
    "M": "Male",
    "F": "Female",
    "yes": "Yes",
    "no": "No",
    "1": "Yes",
    "0": "No",
    "median_iqr": "Median (IQR)",
    "missing": "Missing",
    "gt3": ">3",
    "2to3": "2-3",
}
ABBREVIATIONS = (
    "AFP, alpha-fetoprotein; ALBI, albumin-bilirubin; BCLC, Barcelona Clinic Liver Cancer; "
    "CI, confidence interval; ECOG, Eastern Cooperative Oncology Group; HAIC, hepatic arterial infusion "
    "chemotherapy; HR, hazard ratio; IQR, interquartile range; PIVKA-II, protein induced by vitamin K "
    "absence-II; Vp, portal vein tumour thrombosis grade."
)


def _header(ledger, group: str) -> str:
    key = "n.total" if group == "overall" else f"n.{group}"
    return f"{GROUP_NAMES[group]} (n\u00a0=\u00a0{ledger[key].text})"  # "(n = 83)" never split


def superscript_mark(text: str) -> str:
    """A cell's trailing test mark as a superscript letter ("0.989<sup>a</sup>"), as HTML that pandoc
    reads into Word's and typst's superscript."""
    if text[-1:] in TEST_MARKS.values() and text[:-1]:
        return f"{html.escape(text[:-1])}<sup>{text[-1]}</sup>"
    return html.escape(text)


def baseline_gt(ledger) -> GT:
    """Table 1: characteristics by group and overall, with the test of each row marked."""
    rows = []
    for variable in TABLE1:
        column = variable.column
        prefix = f"baseline.{column}."
        levels = [
            k[len(prefix) : -len(".overall")]
            for k in ledger.keys()  # noqa: SIM118 (Ledger is not a dict)
            if k.startswith(prefix) and k.endswith(".overall")
        ]
        p = ledger[f"{prefix}p"]
        mark = TEST_MARKS.get(ledger[f"{prefix}test"].text, "")
        for i, level in enumerate(levels):
            rows.append(
                {
                    "variable": variable.label,
                    "level": INDENT + LEVEL_NAMES.get(level, level),
                    **{g: ledger[f"{prefix}{level}.{g}"].text for g in GROUP_NAMES},
                    "p": f"{p.text}{mark}" if i == 0 and mark else "",
                }
            )
    frame = pd.DataFrame(rows)
    return (
        GT(frame, rowname_col="level", groupname_col="variable")
        .cols_label(**{g: _header(ledger, g) for g in GROUP_NAMES}, p="p-value")
        .fmt(superscript_mark, columns="p")
        .tab_source_note(
            "Values are n (%) or median (IQR). Tests: a, Wilcoxon rank-sum test; b, Pearson's "
            "chi-square test; c, Fisher's exact test (used when any expected count is below 5)."
        )
        .tab_source_note(ABBREVIATIONS)
    )


def response_gt(ledger) -> GT:
    """Best overall response and response rates by RECIST 1.1 and mRECIST."""
    rows = []
    for prefix, criterion in (("", "RECIST 1.1"), ("mrecist.", "mRECIST")):
        bor = prefix or "recist."
        for category in CATEGORIES:
            rows.append(
                {
                    "criterion": criterion,
                    "item": INDENT + category,
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
    return (
        GT(pd.DataFrame(rows), rowname_col="item", groupname_col="criterion")
        .cols_label(
            first_line=_header(ledger, "first_line"),
            post_ate_beva=_header(ledger, "post_ate_beva"),
            p="p-value",
        )
        .tab_source_note(
            "Values are n (%) unless stated. CR, complete response; PR, partial response; SD, stable "
            "disease; PD, progressive disease; NE, not evaluable; ORR, objective response rate "
            "(CR + PR); DCR, disease control rate (CR + PR + SD). Confidence intervals are "
            "Clopper-Pearson exact intervals; p-values from Fisher's exact test."
        )
    )


def cox_gt(ledger) -> GT:
    """Univariable and multivariable Cox models for OS and PFS side by side."""
    labels = {GROUP_COVARIATE: "Post-ate-beva vs first-line HAIC", **COVARIATES}
    rows = []
    for column, label in labels.items():
        key = "group" if column == GROUP_COVARIATE else column
        row = {"covariate": label}
        for endpoint in ("os", "pfs"):
            for model in ("uni", "multi"):
                base = f"{endpoint}.cox.{model}.{key}"
                present = f"{base}.hr" in ledger
                row[f"{endpoint}_{model}_hr"] = (
                    f"{ledger[f'{base}.hr'].text} ({ledger[f'{base}.hr.ci'].text})" if present else ""
                )
                row[f"{endpoint}_{model}_p"] = ledger[f"{base}.p"].text if present else ""
        rows.append(row)
    gt = GT(pd.DataFrame(rows), rowname_col="covariate")
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
        "univariable p < 0.10 (complete cases); blank cells were not selected. " + ABBREVIATIONS
    )


def at_risk_frame(results, endpoint: str, step: float = 3.0) -> pd.DataFrame:
    """Numbers at risk by group at regular times (the supplement's table under each KM figure)."""
    from analysis.figures import at_risk

    curves = results.curves[endpoint]
    horizon = max(c.time.max() for c in curves.values())
    ticks = np.arange(0, horizon + step, step)
    rows = {GROUP_NAMES[g]: at_risk(c, ticks) for g, c in curves.items()}
    return pd.DataFrame(rows, index=[f"{t:g}" for t in ticks]).T.rename_axis("Months").reset_index()


def at_risk_gt(results, endpoint: str) -> GT:
    return GT(at_risk_frame(results, endpoint), rowname_col="Months").tab_stubhead("Months since HAIC start")


def codebook_gt() -> GT:
    from analysis.codebook import load_codebook

    return GT(load_codebook().table())


def all_tables(results) -> dict[str, GT]:
    ledger = results.ledger
    return {
        "baseline": baseline_gt(ledger),
        "response": response_gt(ledger),
        "cox": cox_gt(ledger),
        "at_risk_os": at_risk_gt(results, "os"),
        "at_risk_pfs": at_risk_gt(results, "pfs"),
        "codebook": codebook_gt(),
    }


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
