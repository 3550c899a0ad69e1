"""The article's figures drawn from one run's results (numbers from the ledger, curves from the run)."""

from __future__ import annotations

from pathlib import Path

from analysis import figures
from analysis.codebook import load_codebook
from analysis.endpoints import COVARIATES, GROUP_COVARIATE
from analysis.formatting import p_clause
from analysis.response import CATEGORIES

TITLES = {"os": "Overall survival", "pfs": "Progression-free survival"}


def km(results, endpoint: str):
    """Kaplan-Meier figure of one endpoint with the log-rank p and the unadjusted HR in the panel."""
    ledger = results.ledger
    hr = ledger[f"{endpoint}.cox.uni.group.hr"]
    annotation = (
        f"Log-rank {p_clause(ledger[f'{endpoint}.logrank.p'].value)}\n"
        f"HR {hr.text} (95% CI {ledger[f'{endpoint}.cox.uni.group.hr.ci'].text})"
    )
    medians = {g: ledger[f"{endpoint}.median.{g}"].value for g in results.curves[endpoint]}
    medians = {g: float("nan") if v is None else v for g, v in medians.items()}
    labels = load_codebook().labels("group")
    return figures.km_figure(
        results.curves[endpoint], medians, labels, annotation, f"{TITLES[endpoint]} probability"
    )


def forest(results, endpoint: str = "os"):
    """Forest plot of the multivariable model of one endpoint."""
    ledger = results.ledger
    labels = {GROUP_COVARIATE: "Post-ate-beva vs first-line", **COVARIATES}
    rows = []
    for name in ledger[f"{endpoint}.cox.multi.covariates"].value:
        key = f"{endpoint}.cox.multi.{name}"
        column = GROUP_COVARIATE if name == "group" else name
        rows.append(
            (
                labels[column],
                ledger[f"{key}.hr"].value,
                ledger[f"{key}.hr.ci_low"].value,
                ledger[f"{key}.hr.ci_high"].value,
                f"{ledger[f'{key}.hr'].text} ({ledger[f'{key}.hr.ci'].text}), "
                f"{p_clause(ledger[f'{key}.p'].value)}",
            )
        )
    return figures.forest_figure(rows, f"{TITLES[endpoint]}: multivariable Cox model")


def best_response(results):
    """Best overall response by group and criterion, as percentages of each group."""
    ledger = results.ledger
    bars, labels = {}, {}
    for prefix, criterion in (("recist.", "RECIST 1.1"), ("mrecist.", "mRECIST")):
        for g, name in load_codebook().labels("group").items():
            n = ledger[f"n.{g}"].value
            bars[f"{prefix}{g}"] = {c: 100 * ledger[f"{prefix}bor.{c}.{g}"].value / n for c in CATEGORIES}
            labels[f"{prefix}{g}"] = f"{name}, {criterion}"
    return figures.response_figure(bars, CATEGORIES, labels)


DRAWERS = {
    "km_os": lambda r: km(r, "os"),
    "km_pfs": lambda r: km(r, "pfs"),
    "forest_os": lambda r: forest(r, "os"),
    "forest_pfs": lambda r: forest(r, "pfs"),
    "response": best_response,
}


def all_figures(results, folder: Path, write: bool = True) -> dict:
    """Draw every figure; when `write`, also save each as PDF, 600-dpi PNG and TIFF in folder."""
    import matplotlib.pyplot as plt

    drawn = {}
    for name, draw in DRAWERS.items():
        fig = draw(results)
        drawn[name] = figures.save(fig, folder, name) if write else fig
        if write:
            plt.close(fig)
    return drawn
