"""The article's figures drawn from one run's results (numbers from the ledger, curves from the run).

The drawing code (`analysis.figures`, matplotlib) is imported where a figure is drawn, so a document
that shows figures drawn elsewhere (`analysis.drawing`) never loads it."""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from analysis.codebook import load_codebook
from analysis.endpoints import COVARIATES, GROUP_COVARIATE
from analysis.formatting import p_clause
from analysis.printfiles import PrintFigure, current
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
    from analysis import figures

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
    from analysis import figures

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
    from analysis import figures

    return figures.response_figure(bars, CATEGORIES, labels)


DRAWERS = {
    "km_os": lambda r: km(r, "os"),
    "km_pfs": lambda r: km(r, "pfs"),
    "forest_os": lambda r: forest(r, "os"),
    "forest_pfs": lambda r: forest(r, "pfs"),
    "response": best_response,
}


def publish(results, name: str, folder: Path) -> PrintFigure:
    """Draw one figure of the article and write its print files if its content changed."""
    import matplotlib.pyplot as plt

    from analysis import figures

    fig = DRAWERS[name](results)
    try:
        return figures.save(fig, folder, name)
    finally:
        plt.close(fig)


def figure(results, name: str, folder: Path):
    """A figure for the document, drawn once per build: the print files drawn for these results
    when they are current; a future of the figure the background drawing of this process is
    making (`analysis.drawing`), when there is one; else drawn now."""
    contents = results.cache_entry.figures() if results.cache_entry is not None else {}
    if name in contents:
        found = current(folder, name, contents[name])
        if found is not None:
            return found
    from analysis.drawing import shared

    drawing = shared()
    if drawing is not None and name in DRAWERS:
        return drawing.figure(name)
    return publish(results, name, folder)


_RESULTS = None


def _publish_one(job: tuple[str, Path]) -> tuple[str, PrintFigure, list[str]]:
    """In a worker: draw one figure of `_RESULTS`, with the progress lines `figures.save` logged."""
    from analysis import figures

    name, folder = job
    lines: list[str] = []
    handler = logging.Handler(logging.INFO)
    handler.emit = lambda record: lines.append(record.getMessage())  # type: ignore[method-assign]
    figures.log.addHandler(handler)
    figures.log.setLevel(logging.INFO)
    try:
        return name, publish(_RESULTS, name, folder), lines
    finally:
        figures.log.removeHandler(handler)


def warm() -> None:
    """Load matplotlib, its PDF writer (fontTools) and the fonts once, before workers are forked."""
    import matplotlib.pyplot as plt

    from analysis import figures

    fig = plt.figure(figsize=(1, 1))
    fig.text(0.5, 0.5, "0.5", fontsize=9)
    figures.vector_pdf(fig)
    plt.close(fig)


def publish_each(
    results, folder: Path, workers: int | None = None
) -> Iterator[tuple[str, PrintFigure, list[str]]]:
    """Every figure of the article, each drawn once and its print files written if they changed,
    given as each is done (with what happened to it). In parallel, by worker processes forked with
    the results: a figure's rasters take a core for a third of a second."""
    global _RESULTS
    names = list(DRAWERS)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    workers = min(len(names), workers or cores)
    jobs = [(name, folder) for name in names]
    _RESULTS = results
    try:
        if workers > 1 and sys.platform.startswith("linux"):  # fork: the workers inherit the results
            warm()
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                yield from pool.imap(_publish_one, jobs)
        else:
            yield from map(_publish_one, jobs)
    finally:
        _RESULTS = None


def all_figures(results, folder: Path, write: bool = True) -> dict:
    """Draw every figure; when `write`, also save each as PDF, 600-dpi PNG and TIFF in folder."""
    import matplotlib.pyplot as plt

    from analysis import figures

    drawn = {}
    for name, draw in DRAWERS.items():
        fig = draw(results)
        drawn[name] = figures.save(fig, folder, name).files if write else fig
        if write:
            plt.close(fig)
    return drawn
