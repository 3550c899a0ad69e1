"""The synthetic cohort: reproducible byte for byte, and calibrated to the published results."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from analysis.cohort import load_cohort
from synthetic.calibrate import TARGETS, achieved
from tests.conftest import COHORT, META, ROOT

PUBLISHED = (
    yaml.safe_load((ROOT.parent / "shared" / "seed" / "published.yaml").read_text())
    if (ROOT.parent / "shared" / "seed" / "published.yaml").exists()
    else None
)


def test_regenerating_reproduces_the_committed_file(tmp_path):
    out = tmp_path / "cohort.csv"
    subprocess.run([sys.executable, "-m", "synthetic", "generate", "--out", str(out)], check=True, cwd=ROOT)
    assert out.read_bytes() == COHORT.read_bytes()


def test_any_size_has_the_same_structure(tmp_path):
    from synthetic.generate import COLUMNS, Parameters, cohort

    frame = cohort(Parameters(seed=7, n=2500))
    assert list(frame.columns) == COLUMNS and len(frame) == 2500
    assert frame["patient_id"].is_unique


@pytest.fixture(scope="module")
def calibration():
    cohort = load_cohort(COHORT)
    return cohort, achieved(cohort.data)


def test_group_sizes_and_responders(calibration):
    cohort, _ = calibration
    data = cohort.data
    assert data["group"].value_counts().to_dict() == {"first_line": 83, "post_ate_beva": 17}
    responders = data[data["recist_bor"].isin(["CR", "PR"])].groupby("group", observed=True).size().to_dict()
    assert responders == {"first_line": 15, "post_ate_beva": 6}


def test_medians_exact_to_a_tenth_of_a_month(calibration):
    _, result = calibration
    assert tuple(round(m, 1) for m in result.os_median) == TARGETS["os_median"]
    assert tuple(round(m, 1) for m in result.pfs_median) == TARGETS["pfs_median"]


@pytest.mark.parametrize("key", ["os_logrank_p", "pfs_logrank_p", "os_cox_group_p", "pfs_cox_group_p"])
def test_p_values_inside_their_windows(calibration, key):
    _, result = calibration
    target, tolerance = TARGETS[key]
    assert abs(getattr(result, key) - target) <= tolerance


def test_group_effect_favours_post_ate_beva(calibration):
    _, result = calibration
    assert result.os_cox_group_hr < 1 and result.pfs_cox_group_hr < 1


def test_targets_are_the_published_values():
    if PUBLISHED is None:
        pytest.skip("shared/seed is not beside this checkout")
    results = PUBLISHED["results"]
    os_median = results["overall_survival"]["median_months"]
    assert TARGETS["os_median"] == (os_median["first_line"], os_median["post_ate_beva"])
    assert TARGETS["os_logrank_p"][0] == results["overall_survival"]["logrank_p"]
    assert TARGETS["pfs_logrank_p"][0] == results["progression_free_survival"]["logrank_p"]


def test_metadata_records_seed_and_flags_synthetic():
    meta = yaml.safe_load(META.read_text())
    assert meta["synthetic"] is True
    assert meta["generator"]["parameters"]["seed"] == 3298


def _lifelines_group_p(data, duration: str, event: str) -> tuple[float, float]:
    """The multivariable Cox rule re-done with lifelines (Efron), independent of analysis.cox."""
    from lifelines import CoxPHFitter

    from analysis.endpoints import COVARIATES, GROUP_COVARIATE

    def fit(columns: list[str]):
        frame = data[[duration, event, *columns]].dropna().astype(float)
        return CoxPHFitter().fit(frame, duration, event)

    selected = [c for c in COVARIATES if c != GROUP_COVARIATE and fit([c]).summary.loc[c, "p"] < 0.10]
    summary = fit([GROUP_COVARIATE, *selected]).summary.loc[GROUP_COVARIATE]
    return float(summary["p"]), float(summary["exp(coef)"])


@pytest.mark.parametrize("endpoint", ["os", "pfs"])
def test_lifelines_agrees_with_the_calibration(calibration, endpoint):
    from lifelines import KaplanMeierFitter
    from lifelines.statistics import logrank_test

    cohort, result = calibration
    data = cohort.data
    post = data["post_ate_beva"] == 1
    t, e = data[f"{endpoint}_months"], data[f"{endpoint}_event"]
    medians = tuple(
        round(KaplanMeierFitter().fit(t[mask], e[mask]).median_survival_time_, 1) for mask in (~post, post)
    )
    assert medians == TARGETS[f"{endpoint}_median"]
    p = logrank_test(t[~post], t[post], e[~post], e[post]).p_value
    assert p == pytest.approx(getattr(result, f"{endpoint}_logrank_p"), rel=1e-6)
    cox_p, hr = _lifelines_group_p(data, f"{endpoint}_months", f"{endpoint}_event")
    target, tolerance = TARGETS[f"{endpoint}_cox_group_p"]
    assert abs(cox_p - target) <= tolerance and hr < 1


def test_responses_agree_between_criteria_and_with_progression(calibration):
    cohort, _ = calibration
    data = cohort.data
    orr = data["recist_bor"].isin(["CR", "PR"])
    assert data["mrecist_bor"].isin(["CR", "PR"])[orr].all()
    assert data["mrecist_bor"].isin(["CR", "PR"]).sum() >= orr.sum()
    progressive = data["recist_bor"] == "PD"
    assert data.loc[progressive, "pfs_event"].all()
    assert data.loc[progressive, "pfs_months"].median() < data.loc[orr, "pfs_months"].median()
