"""Figures for print: Kaplan-Meier curves with numbers at risk, a forest plot, response bars.

Plotting only: every number drawn or printed here was computed elsewhere and is passed in.
Figures are written as vector PDF and 600-dpi PNG and TIFF, with metadata that carries no date,
so the same inputs give the same files; they are rewritten only when the figure's content changed
(`analysis.article.printfiles`).
"""

from __future__ import annotations

import io
import logging
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from analysis.article.printfiles import DOCUMENT_DPI, DPI, PrintFigure, content_key, current, store  # noqa: E402
from analysis.stats.survival import KMCurve  # noqa: E402

#: the groups' colours, in their print order (the reference group first)
PALETTE = ("#1f4e79", "#c0392b", "#2e7d32", "#8e44ad", "#d68910", "#5d6d7e")
MAX_STEPS = 2000
log = logging.getLogger(__name__)

plt.rcParams.update(
    {
        "font.family": "DejaVu Sans",
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "svg.hashsalt": "manuscript",
        "pdf.compression": 6,
    }
)


def _steps(curve: KMCurve) -> tuple[np.ndarray, np.ndarray]:
    """Step coordinates, thinned to at most MAX_STEPS points for very large cohorts (look unchanged)."""
    time = np.concatenate([[0.0], curve.time])
    surv = np.concatenate([[1.0], curve.surv])
    if len(time) > MAX_STEPS:
        keep = np.unique(
            np.concatenate(
                [
                    np.linspace(0, len(time) - 1, MAX_STEPS).astype(int),
                    np.flatnonzero(np.abs(np.diff(surv, prepend=1.0)) > 1e-3),
                ]
            )
        )
        time, surv = time[keep], surv[keep]
    return time, surv


def km_figure(
    curves: dict[str, KMCurve],
    medians: dict[str, float],
    labels: dict[str, str],
    annotation: str,
    ylabel: str,
    tick_step: float = 6.0,
    xlabel: str = "Months",
    at_risk: dict[str, KMCurve] | None = None,
) -> plt.Figure:
    """Kaplan-Meier curves by group (printed as `labels` name them) with censor marks, median lines
    and a numbers-at-risk table (counted on `at_risk`'s curves when given: weighted curves hold sums
    of weights, not patients)."""
    fig, (ax, table) = plt.subplots(
        2, 1, figsize=(6.5, 5.2), height_ratios=[4, 1], sharex=True, gridspec_kw={"hspace": 0.42}
    )
    horizon = max(c.time.max() for c in curves.values())
    margin = 0.1  # of a tick step, left of time zero
    if horizon / tick_step > 16:  # long follow-up: yearly ticks, and room for the first numbers at risk
        tick_step = 12.0 * np.ceil(horizon / tick_step / 16 / 2)
        margin = 0.3
    ticks = np.arange(0, horizon + tick_step, tick_step)
    COLOURS = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(curves)}  # noqa: N806
    for name, curve in curves.items():
        time, surv = _steps(curve)
        ax.step(time, surv, where="post", color=COLOURS[name], lw=1.6, label=labels[name])
        censored = curve.n_censor > 0
        marks = curve.time[censored]
        if len(marks) > MAX_STEPS:
            marks = marks[np.linspace(0, len(marks) - 1, MAX_STEPS).astype(int)]
        ax.plot(marks, [curve.at(t)[0] for t in marks], "|", color=COLOURS[name], ms=6, mew=1)
        median = medians[name]
        if np.isfinite(median):
            ax.plot([0, median, median], [0.5, 0.5, 0], ls=":", lw=0.9, color=COLOURS[name])
    ax.set_ylim(0, 1.02)
    ax.set_ylabel(ylabel)
    ax.legend(loc="upper right", frameon=False)
    ax.text(0.98, 0.72, annotation, transform=ax.transAxes, ha="right", va="top", fontsize=8.5)
    table.set_xlim(-tick_step * margin, ticks[-1] + tick_step * 0.1)
    ax.set_xticks(ticks)
    table.set_yticks(range(len(curves)))
    table.set_yticklabels([labels[n] for n in reversed(list(curves))], fontsize=8)
    for i, (name, curve) in enumerate(reversed(list((at_risk or curves).items()))):
        for t, n in zip(ticks, curve.at_risk(ticks), strict=True):
            table.text(t, i, str(n), ha="center", va="center", fontsize=8, color=COLOURS[name])
    table.set_ylim(-0.6, len(curves) - 0.4)
    table.tick_params(axis="y", length=0)
    for side in ("left", "bottom"):
        table.spines[side].set_visible(False)
    table.set_title("Number at risk", fontsize=8, loc="left", x=-0.28)
    table.tick_params(axis="x", length=0, labelbottom=False)
    ax.set_xlabel(xlabel)
    ax.tick_params(labelbottom=True)
    return fig


def forest_figure(rows: list[tuple[str, float, float, float, str]], title: str) -> plt.Figure:
    """Forest plot of hazard ratios on a log axis; rows are (label, hr, low, high, text)."""
    fig, ax = plt.subplots(figsize=(6.5, 0.45 * len(rows) + 1.2))
    y = np.arange(len(rows))[::-1]
    for yi, (_, hr, low, high, text) in zip(y, rows, strict=True):
        ax.plot([low, high], [yi, yi], color="#333333", lw=1.2)
        ax.plot(hr, yi, "s", color="#1f4e79", ms=6)
        ax.text(1.02, yi, text, transform=ax.get_yaxis_transform(), va="center", fontsize=8)
    ax.axvline(1, color="#888888", ls="--", lw=0.8)
    ax.set_xscale("log")
    lows, highs = [r[2] for r in rows], [r[3] for r in rows]
    ticks = [t for t in (0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20) if min(lows) / 1.5 <= t <= max(highs) * 1.5]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    ax.set_yticks(y)
    ax.set_yticklabels([r[0] for r in rows])
    ax.set_xlabel("Hazard ratio (95% CI), log scale")
    ax.set_title(title, loc="left", fontsize=9)
    fig.subplots_adjust(left=0.36, right=0.72)
    return fig


def response_figure(
    percentages: dict[str, dict[str, float]], categories: list[str], labels: dict[str, str]
) -> plt.Figure:
    """Best overall response by group as 100% stacked bars (one bar per group and criterion)."""
    fig, ax = plt.subplots(figsize=(6.5, 3.2))
    palette = {"CR": "#1b7837", "PR": "#7fbf7b", "SD": "#d9d9d9", "PD": "#d6604d", "NE": "#878787"}
    names = list(percentages)
    left = np.zeros(len(names))
    for category in categories:
        widths = np.array([percentages[n].get(category, 0.0) for n in names])
        ax.barh(
            range(len(names)), widths, left=left, color=palette[category], label=category, edgecolor="white"
        )
        for i, (w, lft) in enumerate(zip(widths, left, strict=True)):
            if w >= 6:
                ax.text(lft + w / 2, i, f"{w:.0f}", ha="center", va="center", fontsize=7.5)
        left += widths
    ax.set_yticks(range(len(names)))
    ax.set_yticklabels([labels[n] for n in names])
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("Patients (%)")
    ax.legend(ncol=len(categories), loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def vector_pdf(fig: plt.Figure) -> bytes:
    """The figure as PDF, without dates: the same drawing gives the same bytes."""
    pdf = io.BytesIO()
    fig.savefig(pdf, format="pdf", bbox_inches="tight", metadata={"CreationDate": None, "ModDate": None})
    return pdf.getvalue()


class _Pixels:
    """Receives the figure's pixels from matplotlib's raw RGBA writer (a view with their shape)."""

    def seek(self, *_: object) -> int:
        return 0

    def write(self, view: memoryview) -> None:
        self.rgba = np.asarray(view).copy()


def rasters(fig: plt.Figure) -> dict[str, bytes]:
    """600-dpi PNG and PackBits TIFF of the figure, in RGB as journals ask, from one rasterisation, and
    the 300-dpi PNG documents show (the same pixels, halved)."""
    from PIL import Image

    pixels = _Pixels()
    fig.savefig(pixels, format="rgba", dpi=DPI, bbox_inches="tight")
    image = Image.fromarray(pixels.rgba, "RGBA").convert("RGB")
    shown = image.reduce(DPI // DOCUMENT_DPI)  # each pixel the mean of a 2 x 2 block
    png, tiff, document = io.BytesIO(), io.BytesIO(), io.BytesIO()
    image.save(png, format="PNG", dpi=(DPI, DPI), compress_level=1)  # lossless; level 6 is 40% slower
    # PackBits, the baseline TIFF compression every reader has: 6 x faster than LZW on these
    # 10-megapixel plots (0.013 s vs 0.08 s), files about 1 MB instead of 0.4 MB
    image.save(tiff, format="TIFF", compression="packbits", dpi=(DPI, DPI))
    shown.save(document, format="PNG", dpi=(DOCUMENT_DPI, DOCUMENT_DPI), compress_level=1)
    return {"png": png.getvalue(), "tiff": tiff.getvalue(), "document": document.getvalue()}


def vector_svg(fig: plt.Figure) -> bytes:
    """The figure as SVG with its text as outlines (no font needed, no text a PDF reader would
    extract as words of the article) and no date: the same drawing gives the same bytes."""
    svg = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": "manuscript"}):
        fig.savefig(svg, format="svg", bbox_inches="tight", metadata={"Date": None})
    return svg.getvalue()


def save(fig: plt.Figure, folder: Path, stem: str, records: Path | None = None) -> PrintFigure:
    """Write `stem.pdf`, `.png` and `.tiff` into folder (and the PNG documents show), unless they
    already hold this figure: when the files still have the hashes recorded for its content, no
    raster is drawn and nothing is written. A changed, missing or hand-edited file is rewritten."""
    started = time.perf_counter()
    pdf = vector_pdf(fig)
    content = content_key(pdf)
    found = current(folder, stem, content, records)
    if found is not None:
        log.info("%s/%s.{pdf,png,tiff} unchanged", folder.name, stem)
        return found
    written = store(folder, stem, content, {"pdf": pdf, **rasters(fig), "vector": vector_svg(fig)}, records)
    seconds = time.perf_counter() - started
    log.info("%s/%s.{pdf,png,tiff} written at %d dpi (%.2f s)", folder.name, stem, DPI, seconds)
    return written
