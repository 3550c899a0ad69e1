"""Figures reviewers ask for: the love plot of covariate balance before and after weighting, and the
subgroup forest plot as journals print it (columns of patients, events, HR (95% CI) and the p-value
for interaction beside the drawing; a line at HR 1; log scale).

Plotting only: every number and every printed text is passed in; `subgroup_forest_rows` reads them
from the ledger, so the figure prints the texts the tables print.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.ticker import NullLocator
from matplotlib.transforms import blended_transform_factory

from analysis.article.figures import plt
from analysis.results.ledger import Ledger
from analysis.results.reviewer import NE

INK, BLUE, GREY = "#333333", "#1f4e79", "#888888"
TICKS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100)
SPARSE_TICKS = (0.01, 0.1, 0.5, 1, 2, 10, 100)  # when the dense ones would crowd the axis


def love_figure(rows: list[tuple[str, float, float]], threshold: float = 0.1) -> plt.Figure:
    """Absolute standardised mean differences before (open) and after (filled) weighting, one row per
    covariate (label, SMD before, SMD after), with a dashed line at `threshold`."""
    fig, ax = plt.subplots(figsize=(6.5, 0.3 * len(rows) + 1.2))
    y = np.arange(len(rows))[::-1]
    before = np.abs([r[1] for r in rows])
    after = np.abs([r[2] for r in rows])
    for yi, b, a in zip(y, before, after, strict=True):
        ax.plot([b, a], [yi, yi], color="#bbbbbb", lw=0.8, zorder=1)
    ax.scatter(
        before,
        y,
        s=28,
        facecolors="white",
        edgecolors=INK,
        linewidths=0.9,
        label="Before weighting",
        zorder=2,
    )
    ax.scatter(after, y, s=28, color=BLUE, label="After weighting", zorder=3)
    ax.axvline(threshold, color=GREY, ls="--", lw=0.8)
    ax.set_yticks(y, [r[0] for r in rows])
    ax.set_xlim(0, max(threshold * 1.5, float(np.nanmax(np.concatenate([before, after]))) * 1.1))
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.set_xlabel("Absolute standardised mean difference")
    ax.legend(loc="lower right", frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


@dataclass(frozen=True)
class ForestRow:
    """One line of the subgroup forest plot: a variable's heading (`heading=True`: label and the
    interaction p text only) or a level with its counts, its HR and limits (None when not estimable)
    and the HR text as printed ("0.55 (0.29–1.04)" or "NE: no events")."""

    label: str
    n: str = ""
    events: str = ""
    hr: float | None = None
    low: float | None = None
    high: float | None = None
    text: str = ""
    interaction: str = ""
    heading: bool = False


def subgroup_forest_figure(
    rows: list[ForestRow],
    overall: ForestRow | None = None,
    favours: tuple[str, str] | None = None,
    columns: tuple[str, str, str, str, str] = (
        "Subgroup",
        "Patients",
        "Events",
        "HR (95% CI)",
        "P for interaction",
    ),
) -> plt.Figure:
    """The subgroup forest plot: text columns left (subgroup, patients, events) and right (HR text,
    interaction p), squares and CI lines on a log axis between, a line at 1, and below the axis what
    each side favours (`favours`: left, right)."""
    lines = ([overall] if overall else []) + rows
    height = 0.26 * len(lines) + 1.3
    fig = plt.figure(figsize=(7.0, height))
    ax = fig.add_axes((0.40, 0.9 / height, 0.26, 1 - 1.35 / height))
    y = np.arange(len(lines))[::-1].astype(float)
    place = blended_transform_factory(fig.transFigure, ax.transData)
    xs = {"label": 0.01, "n": 0.31, "events": 0.385, "text": 0.68, "interaction": 0.995}
    for yi, row in zip(y, lines, strict=True):
        weight = "bold" if row.heading or row is overall else "normal"
        indent = "" if row.heading or row is overall else "   "
        ax.text(xs["label"], yi, indent + row.label, transform=place, va="center", fontsize=8, weight=weight)
        ax.text(xs["n"], yi, row.n, transform=place, va="center", ha="right", fontsize=8)
        ax.text(xs["events"], yi, row.events, transform=place, va="center", ha="right", fontsize=8)
        ax.text(xs["text"], yi, row.text, transform=place, va="center", fontsize=8)
        ax.text(xs["interaction"], yi, row.interaction, transform=place, va="center", ha="right", fontsize=8)
        if row.hr is not None and row.low is not None and row.high is not None:
            ax.plot([row.low, row.high], [yi, yi], color=INK, lw=1.0)
            marker = "D" if row is overall else "s"
            ax.plot(row.hr, yi, marker, color=BLUE, ms=5 if row is overall else 4.5)
    top = len(lines) - 0.3
    for key, title in zip(("label", "n", "events", "text", "interaction"), columns, strict=True):
        ha = "right" if key in ("n", "events", "interaction") else "left"
        ax.text(xs[key], top, title, transform=place, va="bottom", ha=ha, fontsize=8, weight="bold")
    ax.axvline(1, color=GREY, ls="--", lw=0.8)
    ax.set_xscale("log")
    limits = [v for r in lines for v in (r.low, r.high) if v is not None and np.isfinite(v)] or [1.0]
    low, high = min(min(limits), 0.9), max(max(limits), 1.1)
    ax.set_xlim(low / 1.2, high * 1.2)
    ticks = [t for t in TICKS if low / 1.2 <= t <= high * 1.2]
    if len(ticks) > 6:
        ticks = [t for t in SPARSE_TICKS if low / 1.2 <= t <= high * 1.2]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_ylim(-0.7, len(lines) - 0.4)
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)
    ax.set_xlabel("Hazard ratio (log scale)", fontsize=8)
    if favours:
        middle = float(np.log(1 / ax.get_xlim()[0]) / np.log(ax.get_xlim()[1] / ax.get_xlim()[0]))
        for x, ha, words in (
            (middle - 0.03, "right", f"\u2190 {favours[0]}"),
            (middle + 0.03, "left", f"{favours[1]} \u2192"),
        ):
            ax.annotate(
                words,
                (x, 0),
                xycoords="axes fraction",
                xytext=(0, -30),
                textcoords="offset points",
                ha=ha,
                va="top",
                fontsize=7.5,
            )
    return fig


def subgroup_forest_rows(
    ledger: Ledger, endpoint: str, variables: dict[str, tuple[str, dict[object, str]]]
) -> list[ForestRow]:
    """The forest plot's rows for one endpoint, read from the ledger (so the figure prints the
    texts the tables print): per variable (label, {level: label}) a heading with the interaction
    p, then a row per level; a not-estimable HR shows "NE: <reason>"."""
    rows = []
    for variable, (label, levels) in variables.items():
        base = f"subgroup.{endpoint}.{variable}"
        rows.append(ForestRow(label, interaction=ledger[f"{base}.interaction.p"].text, heading=True))
        for level, words in levels.items():
            key = f"{base}.{level}"
            n, events, hr = ledger[f"{key}.n"].text, ledger[f"{key}.events"].text, ledger[f"{key}.hr"]
            if hr.value is None:
                rows.append(ForestRow(words, n, events, text=f"{NE}: {ledger[f'{key}.hr.reason'].text}"))
                continue
            low, high = ledger[f"{key}.hr.ci_low"].value, ledger[f"{key}.hr.ci_high"].value
            text = f"{hr.text} ({ledger[f'{key}.hr.ci'].text})"
            rows.append(ForestRow(words, n, events, hr.value, low, high, text))
    return rows
