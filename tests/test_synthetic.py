"""The synthetic cohort: reproducible byte for byte, and calibrated so that the article prints the
published values exactly."""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import replace

import pytest
import yaml
from scipy import stats

from analysis.results.formatting import p_value
from synthetic.__main__ import recorded_parameters
from synthetic.calibrate import TARGETS, solve_scales
from synthetic.generate import Parameters
from tests.conftest import COHORT, META, PUBLISHED, ROOT


def test_regenerating_reproduces_the_committed_file(tmp_path):
    out = tmp_path / "cohort.csv"
    subprocess.run([sys.executable, "-m", "synthetic", "generate", "--out", str(out)], check=True, cwd=ROOT)
    assert out.read_bytes() == COHORT.read_bytes()


def test_any_size_has_the_same_structure():
    from synthetic.generate import COLUMNS, cohort

    frame = cohort(Parameters(seed=7, n=2500))
    assert list(frame.columns) == COLUMNS and len(frame) == 2500
    assert frame["patient_id"].is_unique


@pytest.fixture(scope="module")
def results(haic_results):
    return haic_results


@pytest.mark.parametrize("key", list(TARGETS))
def test_the_article_prints_the_published_value(results, key):
    assert results.ledger[key].text == TARGETS[key]


def test_group_effect_favours_post_ate_beva(results):
    assert results.ledger["os.cox.multi.group.hr"].value < 1
    assert results.ledger["pfs.cox.multi.group.hr"].value < 1


def test_targets_are_the_published_values():
    if not PUBLISHED.exists():
        pytest.skip("shared/seed is not beside this checkout")
    study = yaml.safe_load(PUBLISHED.read_text())
    results = study["results"]
    published = {f"n.{g}": str(spec["n"]) for g, spec in study["study"]["groups"].items()}
    for endpoint, name in (("os", "overall_survival"), ("pfs", "progression_free_survival")):
        published |= {f"{endpoint}.median.{g}": str(m) for g, m in results[name]["median_months"].items()}
        published[f"{endpoint}.logrank.p"] = p_value(results[name]["logrank_p"])
        published[f"{endpoint}.cox.multi.group.p"] = p_value(
            results["multivariable_cox_group_effect"][f"{name}_p"]
        )
    responders = results["objective_response_rate"]["responders"]
    published |= {f"orr.{g}.responders": str(k) for g, k in responders.items()}
    assert published == TARGETS


def test_orr_p_is_what_the_counts_give(results):
    """The published ORR p (0.031) cannot come from 6/17 vs 15/83; the article prints Fisher's p."""
    table = [[6, 17 - 6], [15, 83 - 15]]
    assert results.ledger["orr.p"].text == p_value(stats.fisher_exact(table).pvalue) == "0.187"


def test_metadata_records_the_search_and_what_it_achieved():
    meta = yaml.safe_load(META.read_text())
    generator = meta["generator"]
    assert meta["synthetic"] is True
    assert {k: generator["achieved"][k] for k in TARGETS} == TARGETS
    assert generator["search_seconds"] > 0
    assert {"seed", "death_seed", "progression_seed", "os_scale", "pfs_scale"} <= set(generator["parameters"])


@pytest.mark.parametrize("endpoint", ["os", "pfs"])
def test_recorded_scales_are_the_solved_ones(endpoint):
    """The scales in the metadata are what the bisection gives for the recorded seeds, not edited."""
    params = recorded_parameters()
    field = f"{endpoint}_scale"
    start = replace(params, **{field: getattr(Parameters(seed=0), field)})
    assert getattr(solve_scales(start, endpoint), field) == getattr(params, field)


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="R is installed by `make test`")
@pytest.mark.parametrize("endpoint", ["os", "pfs"])
def test_r_prints_the_published_values_too(results, tmp_path, endpoint):
    from tests.test_vs_r import r_reference

    results.write(tmp_path)
    covariates = [
        "post_ate_beva" if k == "group" else k
        for k in results.ledger[f"{endpoint}.cox.multi.covariates"].value
    ]
    r = r_reference(
        tmp_path / "analysis-data.csv", f"{endpoint}_months", f"{endpoint}_event", "group", covariates, 12.0
    )
    for group in ("first_line", "post_ate_beva"):
        assert f"{r[f'median.{group}']:.1f}" == TARGETS[f"{endpoint}.median.{group}"]
    assert p_value(r["logrank.p"]) == TARGETS[f"{endpoint}.logrank.p"]
    assert p_value(r["p.post_ate_beva"]) == TARGETS[f"{endpoint}.cox.multi.group.p"]


def test_responses_agree_between_criteria_and_with_progression(results):
    data = results.data
    orr = data["recist_bor"].isin(["CR", "PR"])
    assert data["mrecist_bor"].isin(["CR", "PR"])[orr].all()
    assert data["mrecist_bor"].isin(["CR", "PR"]).sum() >= orr.sum()
    progressive = data["recist_bor"] == "PD"
    assert data.loc[progressive, "pfs_event"].all()
    assert data.loc[progressive, "pfs_months"].median() < data.loc[orr, "pfs_months"].median()
