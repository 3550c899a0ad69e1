"""The reviewer analyses land in the ledger under their keys, with the values the R-checked
functions computed; what is not estimable prints "NE" with its reason."""

from __future__ import annotations

import pandas as pd
import pytest

import analysis
from analysis.article.reviewer_figures import subgroup_forest_rows
from analysis.results import reviewer
from analysis.results.ledger import Ledger
from analysis.stats import weighting
from tests.conftest import COHORT

LEVELS = ("first_line", "post_ate_beva")
COVARIATES = ["age_ge_65", "hbv", "ecog_ge_1", "child_pugh_b", "bclc_c", "vp4", "extrahepatic", "afp_ge_400"]
OS = reviewer.Endpoint("os", "os_months", "os_event")
PFS = reviewer.Endpoint("pfs", "pfs_months", "pfs_event")


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return analysis.run(COHORT).analysis_data


def test_reviewer_keys(data):
    ledger = Ledger()
    ledger.add("os.logrank.p", 0.02, "p", "log-rank", "test")
    weights = reviewer.add_iptw(
        ledger, data, "group", LEVELS, COVARIATES, [OS, PFS], [6, 12], unweighted_p={"os": "os.logrank.p"}
    )
    assert isinstance(weights, weighting.Weights)
    cox = weighting.weighted_cox(
        data.loc[weights.index, "os_months"],
        data.loc[weights.index, "os_event"],
        weights.treated,
        weights.weights,
    )
    assert ledger["iptw.os.hr"].value == cox.hr and ledger["iptw.os.hr.ci"].text == (
        f"{cox.ci[0]:.2f}\u2013{cox.ci[1]:.2f}"
    )
    assert ledger["iptw.os.persistence"].text == (
        "persisted after weighting" if cox.p < 0.05 else "was no longer significant after weighting"
    )
    assert {
        "iptw.smd.vp4.after",
        "iptw.ess.post_ate_beva",
        "iptw.pfs.median.first_line",
        "iptw.pfs.rate12.post_ate_beva",
    } <= set(ledger.keys())
    reviewer.add_subgroups(ledger, data, "group", "post_ate_beva", [OS], {"male": [0, 1], "hbv": None})
    assert ledger["subgroup.os.male.0.hr"].text == "NE"
    assert ledger["subgroup.os.male.0.hr.reason"].text == "patients of one group only"
    assert ledger["subgroup.os.male.interaction.p"].text == "NE"
    assert 0 < ledger["subgroup.os.hbv.interaction.p"].value < 1
    rows = subgroup_forest_rows(
        ledger, "os", {"male": ("Sex", {0: "Female", 1: "Male"}), "hbv": ("HBV", {0: "No", 1: "Yes"})}
    )
    assert [r.label for r in rows] == ["Sex", "Female", "Male", "HBV", "No", "Yes"]
    assert rows[1].text == "NE: patients of one group only" and rows[1].hr is None
    assert (
        rows[2].text == f"{ledger['subgroup.os.male.1.hr'].text} ({ledger['subgroup.os.male.1.hr.ci'].text})"
    )
    assert rows[3].interaction == ledger["subgroup.os.hbv.interaction.p"].text
    reviewer.add_rmst(ledger, data, "group", LEVELS, {OS: 12.0, PFS: 40.0})
    assert ledger["rmst.os.difference.ci"].text.count("\u2013") == 1
    assert ledger["rmst.pfs.difference"].text == "NE"
    assert "beyond the last follow-up" in ledger["rmst.pfs.difference.reason"].text
    reviewer.add_evalue(ledger, "os", "iptw.os.hr", "common")
    assert ledger["evalue.os.estimate"].value > 1 and ledger["evalue.os.ci"].value >= 1


def test_a_separating_covariate_is_recorded_not_raised(data):
    ledger = Ledger()
    result = reviewer.add_iptw(ledger, data, "group", LEVELS, ["male", "hbv"], [OS], [12])
    assert ledger["iptw.estimable"].text == "no" and "male" in ledger["iptw.reason"].text
    assert not isinstance(result, weighting.Weights)
