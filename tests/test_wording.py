"""Words follow the numbers: a cohort whose PFS difference is not significant changes the sentence."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import analysis
from analysis.article import wording
from analysis.plan.plan import Plan
from tests.conftest import COHORT, ROOT, plan_without_reviewer, write_export


def relabelled_cohort(folder, seed: int):
    """The committed cohort with treatment groups reassigned at random (sizes kept)."""
    frame = pd.read_csv(COHORT, dtype=str, keep_default_na=False)
    rng = np.random.default_rng(seed)
    post = np.zeros(len(frame), bool)
    post[rng.choice(len(frame), int((frame["group"] == "post_ate_beva").sum()), replace=False)] = True
    frame["group"] = np.where(post, "post_ate_beva", "first_line")
    start = pd.to_datetime(frame["haic_start_date"])
    frame["ate_beva_start_date"] = np.where(
        post, (start - pd.Timedelta(days=120)).dt.strftime("%Y-%m-%d"), ""
    )
    frame["ate_beva_cycles"] = np.where(post, "5", "")
    frame["ate_beva_best_response"] = np.where(post, "PD", "")
    return write_export(frame, folder)


@pytest.fixture(scope="module")
def swapped(tmp_path_factory):
    for seed in range(50):
        data = relabelled_cohort(tmp_path_factory.mktemp(f"seed{seed}"), seed)
        results = analysis.run(plan_without_reviewer(), data_path=data)
        if results.ledger["pfs.logrank.p"].value > 0.2:
            return results
    raise AssertionError("no relabelling gave a non-significant PFS difference")


def test_significant_difference_is_worded_as_significant():
    ledger = analysis.run(COHORT).ledger
    assert ledger["pfs.logrank.p"].value < wording.ALPHA
    assert ledger["wording.pfs.difference"].text == "was significantly longer in the post-ate-beva group"


def test_sentence_changes_when_pfs_difference_is_not_significant(swapped):
    words = swapped.ledger["wording.pfs.difference"].text
    assert "significantly longer" not in words.replace("not statistically significant", "")
    assert "not statistically significant" in words or "did not differ" in words


@pytest.mark.parametrize(
    ("post", "first", "p", "expected"),
    [
        (12.4, 6.8, 0.01, "was significantly longer in the post-ate-beva group"),
        (5.0, 6.8, 0.01, "was significantly shorter in the post-ate-beva group"),
        (
            12.4,
            6.8,
            0.2,
            "was numerically longer in the post-ate-beva group, but the difference was not "
            "statistically significant",
        ),
        (6.8, 6.8, 0.9, "did not differ significantly between the groups"),
    ],
)
def test_survival_difference_phrases(post, first, p, expected):
    assert wording.survival_difference(post, first, p, "the post-ate-beva group") == expected


def test_adjusted_association_phrases():
    assert "lower risk of death" in wording.adjusted_association(0.4, 0.01, "death")
    assert "higher risk" in wording.adjusted_association(2.0, 0.01, "death")
    assert wording.adjusted_association(0.4, 0.3, "death").startswith("was not independently")


def test_proportional_hazards_sentence_names_violations():
    assert wording.proportional_hazards([], "OS") == (
        "no covariate in the OS model showed evidence against proportional hazards"
    )
    assert "doubtful for Vp4 in the PFS model" in wording.proportional_hazards(["Vp4"], "PFS")


def test_adjustment_lists_covariates_in_prose():
    """The covariates by the labels the study file declares, as they read mid-sentence."""
    plan = Plan.load(ROOT)
    labels = plan.term_labels
    assert wording.adjustment([labels["bclc_c"], labels["vp4"]]) == (
        "was adjusted for BCLC stage C or D and main portal trunk thrombosis (Vp4)"
    )
    assert wording.adjustment([labels[c] for c in ("child_pugh_b", "male", "afp_ge_400")]) == (
        "was adjusted for Child-Pugh B (score ≥ 7), male sex and AFP ≥ 400 ng/mL"
    )
    assert wording.adjustment([]).startswith("contained the treatment group alone")


def test_overall_verdict_follows_the_survival_comparisons():
    assert wording.overall_verdict([(12.4, 6.8, 0.07), (8.2, 3.1, 0.02)]) == "better"
    assert wording.overall_verdict([(12.4, 6.8, 0.3), (8.2, 3.1, 0.2)]) == "similar"
    assert wording.overall_verdict([(4.0, 6.8, 0.01), (8.2, 3.1, 0.02)]) == "worse"


def test_summary_sentences_change_with_the_cohort(swapped):
    ledger = analysis.run(COHORT).ledger
    assert ledger["wording.summary.conclusion"].text != swapped.ledger["wording.summary.conclusion"].text
