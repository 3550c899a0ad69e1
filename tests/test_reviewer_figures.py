"""The reviewer figures draw what they are given, as vector PDF, the same bytes for the same input;
the flow diagram refuses counts that do not add up."""

from __future__ import annotations

import pytest

from analysis.article.figures import plt, vector_pdf
from analysis.article.flowchart import Box, flow_figure
from analysis.article.reviewer_figures import ForestRow, love_figure, subgroup_forest_figure

SOURCE, ANALYSED = Box("Patients in the export", 130), Box("Patients analysed", 100)
EXCLUSIONS = [Box("Aged under 18 years", 3), Box("No follow-up after the start of treatment", 27)]
GROUPS = [Box("Group A", 83), Box("Group B", 17)]
ROWS = [
    ForestRow("Sex", heading=True, interaction="0.13"),
    ForestRow("Female", "11", "9", text="NE: patients of one group only"),
    ForestRow("Male", "89", "63", 0.55, 0.29, 1.04, "0.55 (0.29\u20131.04)"),
]


def pdf_of(fig) -> bytes:
    try:
        return vector_pdf(fig)
    finally:
        plt.close(fig)


def texts_of(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def test_flow_diagram_prints_every_box_and_count():
    fig = flow_figure(SOURCE, EXCLUSIONS, ANALYSED, GROUPS)
    texts = " ".join(texts_of(fig))
    for box in [SOURCE, *EXCLUSIONS, ANALYSED, *GROUPS]:
        assert f"(n = {box.n:,})" in texts
    first = pdf_of(fig)
    assert first.startswith(b"%PDF") and first == pdf_of(flow_figure(SOURCE, EXCLUSIONS, ANALYSED, GROUPS))


def test_flow_diagram_refuses_counts_that_do_not_add_up():
    with pytest.raises(ValueError, match="not the 100 analysed"):
        flow_figure(SOURCE, EXCLUSIONS[:1], ANALYSED, GROUPS)
    with pytest.raises(ValueError, match="the groups hold 99 patients"):
        flow_figure(SOURCE, EXCLUSIONS, ANALYSED, [Box("Group A", 83), Box("Group B", 16)])


def test_love_and_forest_plots_draw_the_numbers_given():
    love = love_figure([("Age", 0.4, 0.05), ("Sex", -0.2, 0.12)])
    assert love.axes[0].lines[-1].get_xdata()[0] == 0.1  # the threshold line
    assert pdf_of(love).startswith(b"%PDF")
    forest = subgroup_forest_figure(ROWS, favours=("Favours B", "Favours A"))
    texts = texts_of(forest)
    assert "NE: patients of one group only" in texts and "0.55 (0.29\u20131.04)" in texts and "0.13" in texts
    assert forest.axes[0].get_xscale() == "log"
    assert pdf_of(forest) == pdf_of(subgroup_forest_figure(ROWS, favours=("Favours B", "Favours A")))
