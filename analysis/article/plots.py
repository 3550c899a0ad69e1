"""The article's figures drawn from one run's results (numbers from the ledger, curves from the run).

The drawing code (`analysis.article.figures`, matplotlib) is imported where a figure is drawn, so a document
that shows figures drawn elsewhere (`analysis.article.drawing`) never loads it."""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from analysis.article.printfiles import PrintFigure


def _title(results, endpoint: str) -> str:
    label = results.plan.endpoints[endpoint].label
    return label[0].upper() + label[1:]


def km(results, endpoint: str):
    """Kaplan-Meier figure of one endpoint with the log-rank p and (two groups) the unadjusted HR."""
    ledger, plan = results.ledger, results.plan
    lines = []
    if len(plan.groups) > 1:
        lines.append(f"Log-rank {ledger.p(f'{endpoint}.logrank.p').text}")
    if len(plan.group_terms) == 1 and plan.study.cox is not None:
        key = f"{endpoint}.cox.uni.{next(iter(plan.group_terms.values()))}.hr"
        lines.append(f"HR {ledger[key].text} (95% CI {ledger[f'{key}.ci'].text})")
    medians = {g: ledger[f"{endpoint}.median.{g}"].value for g in results.curves[endpoint]}
    medians = {g: float("nan") if v is None else v for g, v in medians.items()}
    labels = plan.group_labels or {"all": "All patients"}
    from analysis.article import figures

    return figures.km_figure(
        results.curves[endpoint],
        medians,
        labels,
        "\n".join(lines),
        f"{_title(results, endpoint)} probability",
        xlabel=f"Months since {plan.study.article.time_origin}",
    )


def forest(results, endpoint: str):
    """Forest plot of the multivariable model of one endpoint."""
    ledger, plan = results.ledger, results.plan
    labels = {plan.term_key(column): label for column, label in plan.term_labels.items()}
    rows = []
    for name in ledger[f"{endpoint}.cox.multi.covariates"].value:
        key = f"{endpoint}.cox.multi.{name}"
        rows.append(
            (
                labels[name],
                ledger[f"{key}.hr"].value,
                ledger[f"{key}.hr.ci_low"].value,
                ledger[f"{key}.hr.ci_high"].value,
                f"{ledger[f'{key}.hr'].text} ({ledger[f'{key}.hr.ci'].text}), {ledger.p(f'{key}.p').text}",
            )
        )
    from analysis.article import figures

    return figures.forest_figure(rows, f"{_title(results, endpoint)}: multivariable Cox model")


def best_response(results):
    """Best overall response by group and criterion, as percentages of each group."""
    ledger, plan = results.ledger, results.plan
    spec = plan.study.response
    bars, labels = {}, {}
    names = plan.group_labels or {"all": "All patients"}
    for criterion in spec.criteria:
        for g, name in names.items():
            n = ledger[f"n.{g}"].value if g != "all" else ledger["n.total"].value
            bars[f"{criterion.id}.{g}"] = {
                c: 100 * ledger[f"{criterion.id}.bor.{c}.{g}"].value / n for c in spec.categories
            }
            labels[f"{criterion.id}.{g}"] = f"{name}, {criterion.name}"
    from analysis.article import figures

    return figures.response_figure(bars, spec.categories, labels)


def drawers(results) -> dict:
    """The article's figures by name, as the study declares them: a Kaplan-Meier figure per endpoint
    (`km_<endpoint>`), a forest plot per endpoint with Cox models (`forest_<endpoint>`), and the
    response figure when response is assessed."""
    plan = results.plan
    out = {f"km_{e}": (lambda r, e=e: km(r, e)) for e in plan.endpoints}
    if plan.study.cox is not None:
        fitted = [e for e in plan.endpoints if results.ledger.peek(f"{e}.cox.multi.covariates").value]
        out |= {f"forest_{e}": (lambda r, e=e: forest(r, e)) for e in fitted}
    if plan.study.response is not None:
        out["response"] = best_response
    if plan.study.reviewer is not None:
        from analysis.article.reviewer_plots import reviewer_drawers

        out |= reviewer_drawers(results)
    return out


def publish(results, name: str, folder: Path) -> PrintFigure:
    """Draw one figure of the article and write its print files if its content changed."""
    import matplotlib.pyplot as plt

    from analysis.article import figures

    fig = drawers(results)[name](results)
    try:
        return figures.save(fig, folder, name)
    finally:
        plt.close(fig)


_RESULTS = None


def _publish_one(job: tuple[str, Path]) -> tuple[str, PrintFigure, list[str]]:
    """In a worker: draw one figure of `_RESULTS`, with the progress lines `figures.save` logged."""
    from analysis.article import figures

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

    from analysis.article import figures

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
    names = list(drawers(results))
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

    from analysis.article import figures

    drawn = {}
    for name, draw in drawers(results).items():
        fig = draw(results)
        drawn[name] = figures.save(fig, folder, name).files if write else fig
        if write:
            plt.close(fig)
    return drawn
