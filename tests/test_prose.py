"""No hand-typed number in the manuscript's prose; word counts computed from the source."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from analysis.article.prose import HandTypedNumbers, check_manuscript, hand_typed_numbers, word_counts
from tests.conftest import ROOT

MANUSCRIPT = ROOT / "manuscript.qmd"


def beside_the_study(folder: Path) -> Path:
    """A manuscript's folder with the HAIC study file, whose `article.names` the check allows."""
    shutil.copy(ROOT / "study.yaml", folder / "study.yaml")
    return folder


def test_manuscript_has_no_hand_typed_number():
    assert hand_typed_numbers(MANUSCRIPT) == []


def test_a_typed_number_is_caught_with_its_line(tmp_path: Path):
    text = MANUSCRIPT.read_text(encoding="utf-8")
    bad = beside_the_study(tmp_path) / "manuscript.qmd"
    bad.write_text(
        text.replace(
            "# Introduction {#sec-introduction}\n",
            "# Introduction {#sec-introduction}\n\nMedian OS was 12.4 months.\n",
        ),
        encoding="utf-8",
    )
    problems = hand_typed_numbers(bad)
    assert [p.value for p in problems] == ["12.4"]
    line = bad.read_text().splitlines().index("Median OS was 12.4 months.") + 1
    assert problems[0].row == line
    with pytest.raises(HandTypedNumbers):
        check_manuscript(bad)


def test_numbers_in_the_abstract_are_caught(tmp_path: Path):
    text = MANUSCRIPT.read_text(encoding="utf-8").replace(
        "**Conclusion:**", "**Conclusion:** In 83 patients,", 1
    )
    bad = beside_the_study(tmp_path) / "manuscript.qmd"
    bad.write_text(text, encoding="utf-8")
    assert [p.value for p in hand_typed_numbers(bad)] == ["83"]


def test_allowed_names_pass(tmp_path: Path):
    """Names with digits pass where the study file beside the manuscript allows them, and only there:
    the engine allows none of its own."""
    sample = tmp_path / "m.qmd"
    sample.write_text(
        "---\ntitle: x\n---\n\nResponse by RECIST 1.1 in Vp4 after IMbrave150 with 5-FU [@a2020].\n"
    )
    assert [p.value for p in hand_typed_numbers(sample)] == ["1.1", "Vp4", "IMbrave150", "5-FU"]
    beside_the_study(tmp_path)
    assert hand_typed_numbers(sample) == []


def test_word_counts_within_journal_limits():
    counts = word_counts(MANUSCRIPT)
    assert 100 < counts["abstract"] <= 350
    assert counts["main"] > 1000


def test_command_line_exits_2_without_traceback_on_a_typed_number(tmp_path: Path):
    import subprocess
    import sys

    bad = beside_the_study(tmp_path) / "manuscript.qmd"
    bad.write_text(MANUSCRIPT.read_text(encoding="utf-8") + "\nAbout 40 patients died.\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "analysis", "prose", str(bad)], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 2
    assert "40" in result.stderr and "Traceback" not in result.stderr
    good = subprocess.run(
        [sys.executable, "-m", "analysis", "prose", str(MANUSCRIPT)], capture_output=True, text=True, cwd=ROOT
    )
    assert good.returncode == 0 and "no hand-typed number" in good.stdout


def test_every_strobe_item_points_at_a_section_of_the_manuscript():
    import re

    import yaml

    items = yaml.safe_load((ROOT / "supplement" / "strobe.yaml").read_text(encoding="utf-8"))
    assert [int(item["item"]) for item in items] == list(range(1, 23))
    text = MANUSCRIPT.read_text(encoding="utf-8")
    labels = set(re.findall(r"^#+ .*\{#(sec-[\w-]+)", text, re.M)) | {"title"}
    assert {item["section"] for item in items} <= labels
