"""The reviewer analyses agree with R, recomputed from the same per-patient table (1e-6 relative):
the propensity model (`glm`), every weight, the SMDs and effective sample sizes, the weighted
Kaplan-Meier medians and landmark rates (`survfit(weights = w)`), the weighted Cox HR with its robust
SE, CI and p (`coxph(..., weights = w, robust = TRUE)`), subgroup HRs and the interaction LRT
(`anova`), RMST per group and the difference (survRM2's formula; `survival`'s rmean SE too), and
E-values (by their formula). Then bad input: a subgroup level without events or with one group,
covariates that separate the groups, a horizon beyond the follow-up."""

from __future__ import annotations

import math
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import analysis
from analysis.stats import evalue, rmst, subgroups, weighting
from analysis.stats.estimability import NotEstimable
from tests.conftest import COHORT, r_values

SCRIPT = Path(__file__).parent / "r" / "reviewer_reference.R"
RELATIVE = 1e-6
GROUP, TREATED, REFERENCE = "group", "post_ate_beva", "first_line"
COVARIATES = ["age_ge_65", "hbv", "ecog_ge_1", "child_pugh_b", "bclc_c", "vp4", "extrahepatic", "afp_ge_400"]
SUBGROUPS = ["male", "hbv", "vp4", "child_pugh_b", "albi_grade_ge_2"]
ENDPOINTS = {"os": 12.0, "pfs": 12.0}
LANDMARKS = [6.0, 12.0]
SETTINGS = [  # estimand, stabilised, trim percentile, score bounds
    ("ATE", False, None, None),
    ("ATE", True, 95.0, (0.05, 0.95)),
    ("ATT", False, None, None),
]

needs_r = pytest.mark.skipif(shutil.which("Rscript") is None, reason="R is installed by `make test`")


@pytest.fixture(scope="module")
def table(tmp_path_factory) -> Path:
    """The HAIC per-patient analysis table, as the engine writes it."""
    results = analysis.run(COHORT)
    folder = tmp_path_factory.mktemp("reviewer")
    results.write(folder)
    return folder / "analysis-data.csv"


def r_reference(path: Path, estimand: str, stabilised: bool, trim: float | None, bounds) -> dict[str, float]:
    options = {
        "group": GROUP,
        "treated": TREATED,
        "reference": REFERENCE,
        "covariates": ",".join(COVARIATES),
        "estimand": estimand,
        "stabilised": str(stabilised).upper(),
        "trim": "NA" if trim is None else trim,
        "bounds": "NA" if bounds is None else ",".join(map(str, bounds)),
        "endpoints": ",".join(ENDPOINTS),
        "landmarks": ",".join(f"{x:g}" for x in LANDMARKS),
        "subgroups": ",".join(SUBGROUPS),
        "horizons": ",".join(f"{x:g}" for x in ENDPOINTS.values()),
    }
    return r_values(["Rscript", str(SCRIPT), str(path), *(f"{k}={v}" for k, v in options.items())])


def python_values(data: pd.DataFrame, estimand: str, stabilised: bool, trim, bounds) -> dict[str, float]:
    """The same keys as the R script prints, from the engine's functions."""
    w = weighting.propensity_weights(data, GROUP, TREATED, COVARIATES, estimand, stabilised, trim, bounds)
    assert isinstance(w, weighting.Weights), w
    values = {f"ps.coef.{'(Intercept)' if k == 'const' else k}": v for k, v in w.coefficients.items()}
    values |= {f"weight.{pid}": x for pid, x in zip(data.loc[w.index, "patient_id"], w.weights, strict=True)}
    values |= {f"ess.{k}": v for k, v in w.effective_sample_size().items()}
    for row in weighting.balance(data, w, COVARIATES):
        values |= {f"smd.{row.covariate}.before": row.smd_before, f"smd.{row.covariate}.after": row.smd_after}
    used = data.loc[w.index]
    for ep, horizon in ENDPOINTS.items():
        time, event = f"{ep}_months", f"{ep}_event"
        for level in (REFERENCE, TREATED):
            part = (used[GROUP] == level).to_numpy()
            curve = weighting.weighted_km(used[time][part], used[event][part], w.weights[part])
            values[f"wkm.{ep}.{level}.median"] = weighting.weighted_median(curve)
            values |= {f"wkm.{ep}.{level}.rate{x:g}": curve.at(x)[0] for x in LANDMARKS}
        cox = weighting.weighted_cox(used[time], used[event], w.treated, w.weights)
        values |= {
            f"wcox.{ep}.coef": cox.coef,
            f"wcox.{ep}.naive_se": cox.naive_se,
            f"wcox.{ep}.se": cox.se,
            f"wcox.{ep}.lower": cox.ci[0],
            f"wcox.{ep}.upper": cox.ci[1],
            f"wcox.{ep}.p": cox.p,
        }
        for outcome in evalue.OUTCOMES:
            e = evalue.e_value(cox.hr, cox.ci, outcome)
            values |= {f"evalue.{ep}.{outcome}.estimate": e.estimate, f"evalue.{ep}.{outcome}.limit": e.limit}
        r = rmst.rmst_difference(data[time], data[event], data[GROUP], (REFERENCE, TREATED), horizon)
        assert isinstance(r, rmst.RmstDifference), r
        for level, each in r.groups.items():
            values |= {f"rmst.{ep}.{level}": each.estimate, f"rmst.{ep}.{level}.se": each.se}
            values[f"rmst_survival.{ep}.{level}.se"] = each.se
        values |= {
            f"rmst.{ep}.difference": r.difference,
            f"rmst.{ep}.difference.lower": r.ci[0],
            f"rmst.{ep}.difference.upper": r.ci[1],
            f"rmst.{ep}.difference.p": r.p,
        }
        for variable in SUBGROUPS:
            sub = subgroups.subgroup_hrs(data, time, event, GROUP, TREATED, variable)
            for row in sub.levels:
                key = f"subgroup.{ep}.{variable}.{row.level}"
                values |= {f"{key}.n": row.n, f"{key}.events": row.events, f"{key}.estimable": row.estimable}
                if row.estimable:
                    hr, low, high, p = row.estimate
                    values |= {f"{key}.hr": hr, f"{key}.lower": low, f"{key}.upper": high, f"{key}.p": p}
            if not isinstance(sub.interaction, NotEstimable):
                chisq, df, p = sub.interaction
                key = f"subgroup.{ep}.{variable}.interaction"
                values |= {f"{key}.chisq": chisq, f"{key}.df": df, f"{key}.p": p}
    return values


def close(python: float, r: float) -> bool:
    if math.isnan(r) or math.isnan(python):
        return math.isnan(r) and math.isnan(python)
    return math.isclose(python, r, rel_tol=RELATIVE, abs_tol=1e-12)


@needs_r
@pytest.mark.parametrize("settings", SETTINGS, ids=lambda s: f"{s[0]}-stab{s[1]}-trim{s[2]}")
def test_reviewer_analyses_agree_with_r(table, settings):
    python = python_values(pd.read_csv(table), *settings)
    r = r_reference(table, *settings)
    assert set(python) == set(r), set(python) ^ set(r)
    wrong = {k: (python[k], r[k]) for k in r if not close(float(python[k]), r[k])}
    assert not wrong, wrong


def test_a_separating_covariate_is_not_estimable(table):
    data = pd.read_csv(table)
    result = weighting.propensity_weights(data, GROUP, TREATED, ["male", "hbv"])
    assert isinstance(result, NotEstimable)
    assert "male" in result.reason and "separates" in result.reason
    # separation by a combination that no single covariate shows: the fit's scores reach 0 and 1
    rng = np.random.default_rng(3)
    data["a"], data["b"] = rng.normal(size=len(data)), rng.normal(size=len(data))
    data[GROUP] = np.where(data["a"] + data["b"] > 0.5, TREATED, REFERENCE)
    for name in ("a", "b"):  # each alone overlaps between the groups
        ranges = data.groupby(GROUP)[name].agg(["min", "max"])
        assert ranges.loc[TREATED, "max"] > ranges.loc[REFERENCE, "min"]
        assert ranges.loc[REFERENCE, "max"] > ranges.loc[TREATED, "min"]
    result = weighting.propensity_weights(data, GROUP, TREATED, ["a", "b"])
    assert isinstance(result, NotEstimable) and "separate the groups" in result.reason


def test_weight_settings_are_checked(table):
    data = pd.read_csv(table)
    with pytest.raises(ValueError, match="stabilised weights are defined for the ATE"):
        weighting.propensity_weights(data, GROUP, TREATED, COVARIATES, "ATT", stabilised=True)
    with pytest.raises(ValueError, match="estimand"):
        weighting.propensity_weights(data, GROUP, TREATED, COVARIATES, "ATC")


def test_subgroup_levels_without_events_or_a_group_are_not_estimable(table):
    data = pd.read_csv(table)
    male = subgroups.subgroup_hrs(data, "os_months", "os_event", GROUP, TREATED, "male")
    assert male.levels[0].estimate == NotEstimable("HR in level 0", "patients of one group only")
    assert isinstance(male.interaction, NotEstimable)
    data.loc[data["hbv"] == 0, "os_event"] = 0
    hbv = subgroups.subgroup_hrs(data, "os_months", "os_event", GROUP, TREATED, "hbv")
    assert hbv.levels[0].estimate.reason == "no events" and hbv.levels[0].events == 0
    assert hbv.excluded == (0,)
    albi = subgroups.subgroup_hrs(data, "os_months", "os_event", GROUP, TREATED, "albi_grade_ge_2")
    assert [row.level for row in albi.levels] == [0, 1] and sum(row.n for row in albi.levels) == 92
    with pytest.raises(KeyError, match="subgroup variable 'nope'"):
        subgroups.subgroup_hrs(data, "os_months", "os_event", GROUP, TREATED, "nope")


def test_a_horizon_beyond_the_follow_up_is_not_estimable(table):
    data = pd.read_csv(table)
    last = data.groupby(GROUP)["os_months"].max().min()
    result = rmst.rmst_difference(
        data["os_months"], data["os_event"], data[GROUP], (REFERENCE, TREATED), last + 1
    )
    assert isinstance(result, NotEstimable) and "beyond the last follow-up" in result.reason
    at_last = rmst.rmst_difference(
        data["os_months"], data["os_event"], data[GROUP], (REFERENCE, TREATED), last
    )
    assert isinstance(at_last, rmst.RmstDifference)


def test_e_values_by_hand():
    # VanderWeele and Ding's example scale: RR 3.9 gives E = 3.9 + sqrt(3.9 * 2.9) = 7.26
    assert evalue.e_value(3.9, (1.8, 8.7), "rare").estimate == pytest.approx(3.9 + math.sqrt(3.9 * 2.9))
    assert evalue.e_value(0.8, (0.6, 1.1), "common").limit == 1.0
    protective = evalue.e_value(0.5, (0.3, 0.8), "rare")
    assert protective.limit == pytest.approx(1.25 + math.sqrt(1.25 * 0.25))
    with pytest.raises(ValueError, match="outcome"):
        evalue.e_value(0.5, (0.3, 0.8), "frequent")


@pytest.mark.filterwarnings("ignore::lifelines.exceptions.StatisticalWarning")
def test_robust_variance_with_several_covariates_and_ties():
    """The Efron dfbeta code with two covariates and heavy ties, against R's robust variance."""
    rng = np.random.default_rng(7)
    n = 60
    data = pd.DataFrame({"x1": rng.integers(0, 2, n), "x2": rng.normal(size=n)})
    data["time"] = np.ceil(rng.exponential(5, n))  # many ties
    data["event"] = rng.integers(0, 2, n)
    data["w"] = rng.uniform(0.5, 3, n)
    from lifelines import CoxPHFitter

    fitter = CoxPHFitter().fit(data, "time", "event", weights_col="w", fit_options=weighting.FIT_OPTIONS)
    dfbeta = weighting.efron_dfbeta(
        data[["x1", "x2"]].to_numpy(float),
        data["time"].to_numpy(),
        data["event"].to_numpy(),
        data["w"].to_numpy(),
        fitter.params_.to_numpy(),
        fitter.variance_matrix_.to_numpy(),
    )
    if shutil.which("Rscript") is None:
        pytest.skip("R is installed by `make test`")
    script = (
        "suppressPackageStartupMessages(library(survival)); d <- read.csv(file('stdin'));"
        "f <- coxph(Surv(time, event) ~ x1 + x2, data = d, weights = w, robust = TRUE,"
        " control = coxph.control(eps = 1e-14, toler.chol = 1e-15));"
        "cat(format(c(coef(f), f$var), digits = 17))"
    )
    out = subprocess.run(
        ["Rscript", "-e", script], input=data.to_csv(index=False), capture_output=True, text=True, check=True
    ).stdout.split()
    r = np.array(out, float)
    np.testing.assert_allclose(fitter.params_.to_numpy(), r[:2], rtol=1e-6)
    np.testing.assert_allclose(dfbeta.T @ dfbeta, r[2:].reshape(2, 2), rtol=1e-6)
