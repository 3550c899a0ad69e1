"""Survival statistics agree with R's survival package to 1e-6 relative, on R's own veteran data
and on the project's cohort: KM medians and log-log CIs, landmark rates, log-rank, Cox
coefficients, SEs, CIs and p-values (Efron ties), all computed by lifelines, and our own cox.zph
and median rule."""

from __future__ import annotations

import math
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import analysis
from analysis.stats import cox, coxzph, survival
from tests.conftest import COHORT, r_values

SCRIPT = Path(__file__).parent / "r" / "survival_reference.R"
VETERAN = Path(__file__).parent / "data" / "veteran.csv"
RELATIVE = 1e-6

pytestmark = pytest.mark.skipif(shutil.which("Rscript") is None, reason="R is installed by `make test`")


def r_reference(
    path: Path, time: str, event: str, group: str, covariates: list[str], landmark: float
) -> dict:
    args = [str(path), time, event, group, ",".join(covariates), str(landmark)]
    return r_values(["Rscript", str(SCRIPT), *args])


def close(python: float, r: float) -> bool:
    if math.isnan(r) or math.isnan(python):
        return math.isnan(r) and math.isnan(python)
    return math.isclose(python, r, rel_tol=RELATIVE, abs_tol=1e-12)


def python_values(
    data: pd.DataFrame, time: str, event: str, group: str, covariates: list[str], landmark: float
) -> dict:
    values = {}
    for level in sorted(data[group].astype(str).unique()):
        part = data[data[group].astype(str) == level]
        curve = survival.kaplan_meier(part[time].to_numpy(), part[event].to_numpy())
        median = survival.median_survival(curve)
        values |= {
            f"median.{level}": median.estimate,
            f"median_lcl.{level}": median.ci_low,
            f"median_ucl.{level}": median.ci_high,
        }
        rate, low, high = curve.at(landmark)
        values |= {f"rate.{level}": rate, f"rate_lower.{level}": low, f"rate_upper.{level}": high}
    test = survival.logrank(data[time].to_numpy(), data[event].to_numpy(), data[group].astype(str).to_numpy())
    values |= {"logrank.chisq": test.chisq, "logrank.p": test.p}
    model = cox.fit_cox(data, time, event, covariates)
    for name, term in model.terms.items():
        low, high = term.ci
        values |= {
            f"coef.{name}": term.coef,
            f"se.{name}": term.se,
            f"p.{name}": term.p,
            f"lower.{name}": low,
            f"upper.{name}": high,
        }
    ph = coxzph.cox_zph(model)
    for name in ph.chisq:
        values |= {f"zph_chisq.{name}": ph.chisq[name], f"zph_p.{name}": ph.p(name)}
    return values


def assert_agree(python: dict, r: dict) -> None:
    assert set(python) == set(r)
    wrong = {k: (python[k], r[k]) for k in r if not close(python[k], r[k])}
    assert not wrong, wrong


def test_veteran_agrees_with_r():
    data = pd.read_csv(VETERAN)
    args = ("time", "status", "trt", ["karno", "age", "prior", "trt"], 100.0)
    assert_agree(python_values(data, *args), r_reference(VETERAN, *args))


@pytest.fixture(scope="module")
def cohort_table(tmp_path_factory) -> tuple[Path, analysis.Results]:
    results = analysis.run(COHORT)
    folder = tmp_path_factory.mktemp("cohort")
    results.write(folder)
    return folder / "analysis-data.csv", results


@pytest.mark.parametrize("endpoint", ["os", "pfs"])
def test_cohort_multivariable_model_agrees_with_r(cohort_table, endpoint):
    path, results = cohort_table
    columns = {key: column for column, key in results.plan.group_terms.items()}
    covariates = [columns.get(k, k) for k in results.ledger[f"{endpoint}.cox.multi.covariates"].value]
    data = pd.read_csv(path)
    args = (f"{endpoint}_months", f"{endpoint}_event", "group", covariates, 12.0)
    assert_agree(python_values(data, *args), r_reference(path, *args))


def test_ledger_reports_the_values_checked_against_r(cohort_table):
    path, results = cohort_table
    r = r_reference(path, "os_months", "os_event", "group", ["post_ate_beva"], 12.0)
    ledger = results.ledger
    assert close(ledger["os.median.first_line"].value, r["median.first_line"])
    assert close(ledger["os.median.post_ate_beva.ci_low"].value, r["median_lcl.post_ate_beva"])
    assert close(ledger["os.logrank.p"].value, r["logrank.p"])
    assert close(ledger["os.cox.uni.group.hr"].value, np.exp(r["coef.post_ate_beva"]))
    assert close(ledger["os.rate12.first_line"].value, r["rate.first_line"])


def test_median_follows_r_where_lifelines_differs():
    """Where the curve sits exactly at one half, R's quantile rule takes the midpoint of the flat stretch
    (with a tolerance for rounding), lifelines the first time its log-scale estimate is <= 0.5 (here
    4, as exp(sum of logs) lands just above one half): why analysis.stats.survival keeps its own rule."""
    from lifelines import KaplanMeierFitter

    time, event = np.arange(1.0, 7.0), np.ones(6)
    r = subprocess.run(
        [
            "Rscript",
            "-e",
            "suppressPackageStartupMessages(library(survival)); "
            "cat(format(summary(survfit(Surv(1:6, rep(1, 6)) ~ 1))$table['median'], digits = 17))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    ours = survival.median_survival(survival.kaplan_meier(time, event)).estimate
    assert ours == float(r.stdout) == 3.5
    assert KaplanMeierFitter().fit(time, event).median_survival_time_ == 4.0


def test_frequency_weights_would_not_equal_r_on_every_row(tmp_path):
    """Why the analysis fits every row instead of collapsing identical rows into frequency weights:
    with Efron ties a weighted row is not its replicates (the correction counts tied rows), so the
    shortcut would not reproduce R's coxph on the patients; fitting every row does."""
    from lifelines import CoxPHFitter

    data = pd.read_csv(VETERAN)[["time", "status", "trt", "karno"]]
    replicated = pd.concat([data, data], ignore_index=True)
    path = tmp_path / "replicated.csv"
    replicated.to_csv(path, index=False)
    r = r_reference(path, "time", "status", "trt", ["trt", "karno"], 100.0)
    every_row = cox.fit_cox(replicated, "time", "status", ["trt", "karno"])
    assert close(every_row.terms["karno"].coef, r["coef.karno"])
    weighted = CoxPHFitter().fit(
        data.assign(w=2.0), "time", "status", weights_col="w", fit_options=cox.FIT_OPTIONS
    )
    assert not math.isclose(weighted.params_["karno"], r["coef.karno"], rel_tol=1e-4)
