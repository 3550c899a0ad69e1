"""The ledger: required keys, journal formatting, determinism, and the statistics behind Table 1."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
from importlib.metadata import version

import numpy as np
import pytest

import analysis
from analysis.results import formatting
from analysis.results.ledger import Ledger
from analysis.stats.contingency import compare_categories, fisher_exact
from tests.conftest import COHORT, HAIC_FIGURES, ROOT

REQUIRED = [
    "n.total",
    "n.first_line",
    "n.post_ate_beva",
    "followup.median",
    "orr.p",
    *[
        f"{e}.{k}"
        for e in ("os", "pfs")
        for k in (
            "median.first_line",
            "median.first_line.ci_low",
            "median.first_line.ci_high",
            "median.post_ate_beva",
            "median.post_ate_beva.ci_low",
            "median.post_ate_beva.ci_high",
            "logrank.p",
            "cox.uni.group.hr",
            "cox.uni.group.hr.ci_low",
            "cox.uni.group.hr.ci_high",
            "cox.uni.group.p",
            "cox.multi.group.hr",
            "cox.multi.group.hr.ci_low",
            "cox.multi.group.hr.ci_high",
            "cox.multi.group.p",
        )
    ],
    *[f"orr.{g}{s}" for g in ("first_line", "post_ate_beva") for s in ("", ".responders")],
]


@pytest.fixture(scope="module")
def results(haic_results):
    return haic_results


def test_ledger_has_every_required_key(results):
    missing = [k for k in REQUIRED if k not in results.ledger]
    assert not missing


def test_counts_and_published_calibration(results):
    ledger = results.ledger
    assert (ledger["n.total"].value, ledger["n.first_line"].value, ledger["n.post_ate_beva"].value) == (
        100,
        83,
        17,
    )
    assert ledger["orr.post_ate_beva"].text == "35.3%" and ledger["orr.first_line"].text == "18.1%"
    assert ledger["orr.post_ate_beva.responders"].value == 6
    assert ledger["os.median.first_line"].text == "6.8" and ledger["pfs.median.post_ate_beva"].text == "8.2"
    assert ledger["os.cox.multi.group.hr"].value < 1


def test_entries_carry_method_and_source(results):
    for entry in results.ledger:
        assert entry.method and entry.source.startswith("analysis."), entry.key
    entry = results.ledger["os.median.first_line"]
    assert entry.source == "analysis.stats.survival.median_survival"
    markdown = entry._repr_markdown_()
    assert markdown.startswith("[6.8]{.num") and 'data-key="os.median.first_line"' in markdown


@pytest.mark.parametrize(
    ("value", "text"), [(0.0004, "< 0.001"), (0.001, "0.001"), (0.0727, "0.073"), (0.5, "0.500")]
)
def test_p_value_format(value, text):
    assert formatting.p_value(value) == text


def test_other_formats():
    assert formatting.hazard_ratio(0.3684) == "0.37"
    assert formatting.months(12.386) == "12.4" and formatting.months(float("nan")) == "NR"
    assert formatting.percent(6 / 17) == "35.3%"
    ledger = Ledger()
    ledger.add_estimate("x", 0.52, 0.25, 1.08, "hr", "m", "s")
    ledger.add("config.ci_level", 0.95, None, "m", "s", text="95%")
    assert ledger["x.ci"].text == "0.25\u20131.08"
    assert ledger.with_ci("x").text == "0.52 (95% CI 0.25\u20131.08)"


def test_two_runs_give_byte_identical_numbers_json(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    analysis.run(COHORT).write(first)
    analysis.run(COHORT).write(second)
    assert (first / "numbers.json").read_bytes() == (second / "numbers.json").read_bytes()
    assert (first / "analysis-data.csv").read_bytes() == (second / "analysis-data.csv").read_bytes()


def test_ledger_round_trips_through_json(tmp_path, results):
    results.write(tmp_path)
    again = Ledger.from_json(tmp_path / "numbers.json")
    assert again["os.logrank.p"].text == results.ledger["os.logrank.p"].text
    assert again.provenance["data"]["sha256"] == results.cohort.sha256


def test_table1_rule_uses_fisher_for_small_expected_counts():
    assert compare_categories(np.array([[30, 50], [1, 6]])).test == "Fisher's exact test"
    assert compare_categories(np.array([[30, 50], [30, 14]])).test == "Pearson's chi-square test"


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="R is installed by `make test`")
def test_exact_fisher_2xk_agrees_with_r():
    table = [[3, 5, 2, 7], [10, 4, 8, 1]]
    r = subprocess.run(
        [
            "Rscript",
            "-e",
            "cat(format(fisher.test(matrix(c(3,5,2,7,10,4,8,1),nrow=2,byrow=TRUE))$p.value, digits=17))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert math.isclose(fisher_exact(table), float(r.stdout), rel_tol=1e-9)


def test_figures_written_for_print(tmp_path, results):
    from PIL import Image

    written = results.figures(tmp_path)
    assert set(written) == HAIC_FIGURES
    png = Image.open(written["km_os"]["png"])
    assert round(png.info["dpi"][0]) == 600
    assert written["km_os"]["pdf"].read_bytes()[:4] == b"%PDF"


def test_tables_build_with_ledger_texts(results):
    html = results.tables["cox"].as_raw_html()
    assert results.ledger["os.cox.multi.group.hr.ci"].text in html
    assert "Overall survival" in html and "Progression-free survival" in html


def test_survival_numbers_are_computed_by_lifelines(results):
    lifelines = ("lifelines", version("lifelines"))
    for key in ("os.rate12.first_line", "os.logrank.p", "os.cox.multi.group.hr", "pfs.cox.uni.group.p"):
        software = results.ledger[key].software
        assert (software.package, software.version) == lifelines, key
    assert results.ledger["os.zph.global.p"].software.package == "analysis"
    assert results.ledger["os.median.first_line"].software.method == "medians by R\u2019s quantile rule"
    assert results.ledger["orr.first_line"].software.package == "scipy"


def test_lifelines_is_imported_where_survival_results_are_computed():
    for module in ("survival", "cox"):
        source = (ROOT / "analysis" / "stats" / f"{module}.py").read_text(encoding="utf-8")
        assert re.search(r"^from lifelines(\.statistics)? import", source, re.M), module


def test_software_sentence_names_what_ran(results):
    sentence = results.ledger["software.sentence"]
    assert (
        "Kaplan-Meier estimates, log-rank tests, Cox proportional-hazards models, weighted Kaplan-Meier "
        "estimates" in sentence.text
    )
    assert (
        f"restricted mean survival time were computed with lifelines {version('lifelines')}" in sentence.text
    )
    assert f"SciPy {version('scipy')}" in sentence.text and "cox.zph" in sentence.text
    assert "[@davidson2019lifelines]" in sentence._repr_markdown_() and "[@" not in sentence.text
    assert 'data-key="software.lifelines"' in sentence._repr_markdown_()


def test_numbers_json_records_the_software_of_each_number(tmp_path, results):
    results.write(tmp_path)
    entry = json.loads((tmp_path / "numbers.json").read_text())["entries"]["os.logrank.p"]
    assert entry["software"] == {
        "method": "log-rank tests",
        "package": "lifelines",
        "version": version("lifelines"),
    }
    again = Ledger.from_json(tmp_path / "numbers.json")
    assert again["os.logrank.p"].software == results.ledger["os.logrank.p"].software
