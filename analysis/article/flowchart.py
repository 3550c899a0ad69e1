"""The patient flow diagram (STROBE item 13, drawn as the CONSORT boxes journals print): the source
with its count, one box per exclusion on the side with its reason and count, the patients analysed,
and one box per group below.

Plotting only: every count is passed in (the population steps' counts from the ledger); the
diagram checks that they add up, so a drawing never contradicts the text.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from matplotlib.patches import FancyArrowPatch
from matplotlib.text import Text

from analysis.article.figures import plt

WRAP = 34  # characters per line in a box
BOX = {"boxstyle": "square,pad=0.6", "facecolor": "white", "edgecolor": "#333333", "linewidth": 0.8}
LINE = {"color": "#333333", "linewidth": 0.8}


@dataclass(frozen=True)
class Box:
    """One box of the diagram: its words and its number of patients."""

    label: str
    n: int

    def text(self, wrap: int = WRAP) -> str:
        return f"{textwrap.fill(self.label, wrap)}\n(n = {self.n:,})"


def _check(source: Box, exclusions: list[Box], analysed: Box, groups: list[Box]) -> None:
    """The counts must add up: source minus exclusions is analysed, the groups sum to analysed."""
    remaining = source.n - sum(box.n for box in exclusions)
    if remaining != analysed.n:
        raise ValueError(
            f"flow diagram: {source.n:,} minus the exclusions ({remaining:,} left) is not the "
            f"{analysed.n:,} analysed"
        )
    held = sum(box.n for box in groups)
    if groups and held != analysed.n:
        raise ValueError(f"flow diagram: the groups hold {held:,} patients, not the {analysed.n:,} analysed")
    if any(box.n < 0 for box in [source, *exclusions, analysed, *groups]):
        raise ValueError("flow diagram: a count below zero")


def _arrow(
    ax: plt.Axes,
    start: tuple[float, float],
    end: tuple[float, float],
    source: Text | None,
    target: Text | None,
    head: bool = True,
) -> None:
    """A line from start to end (data coordinates), cut at the boxes it joins (drawn after them, when
    the boxes have their size)."""
    ax.add_patch(
        FancyArrowPatch(
            start,
            end,
            arrowstyle="-|>" if head else "-",
            mutation_scale=9,
            shrinkA=0,
            shrinkB=0,
            zorder=4,
            patchA=source.get_bbox_patch() if source else None,
            patchB=target.get_bbox_patch() if target else None,
            **LINE,
        )
    )


def flow_figure(source: Box, exclusions: list[Box], analysed: Box, groups: list[Box]) -> plt.Figure:
    """The flow diagram, top to bottom: source, exclusions (side boxes, in order), analysed, groups."""
    _check(source, exclusions, analysed, groups)
    rows = len(exclusions) + 2 + (1.5 if groups else 0)
    fig, ax = plt.subplots(figsize=(6.5, 0.85 * rows + 0.3))
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.6, rows - 0.5)
    ax.axis("off")
    main_x, side_x = 0.34, 0.76
    y = rows - 1
    top = ax.text(main_x, y, source.text(), ha="center", va="center", fontsize=8.5, bbox=BOX)
    for box in exclusions:
        y -= 1
        side = ax.text(side_x, y, box.text(), ha="center", va="center", fontsize=8, bbox=BOX)
        _arrow(ax, (main_x, y), (side_x, y), None, side)
    y -= 1
    bottom = ax.text(main_x, y, analysed.text(), ha="center", va="center", fontsize=8.5, bbox=BOX)
    _arrow(ax, (main_x, rows - 1), (main_x, y), top, bottom)
    if groups:
        branch, y = y - 0.6, y - 1.5
        places = [(i + 0.5) / len(groups) for i in range(len(groups))]
        _arrow(ax, (main_x, y + 1.5), (main_x, branch), bottom, None, head=False)
        ax.plot([min(places[0], main_x), max(places[-1], main_x)], [branch, branch], **LINE)
        for x, box in zip(places, groups, strict=True):
            below = ax.text(x, y, box.text(WRAP - 6), ha="center", va="center", fontsize=8.5, bbox=BOX)
            _arrow(ax, (x, branch), (x, y), None, below)
    return fig
