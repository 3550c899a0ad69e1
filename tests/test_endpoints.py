"""Derivations: months, events, ALBI and the binary covariates, on hand-made rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.data.endpoints import albi, covariates, survival_endpoints

CUTOFF = pd.Timestamp("2024-10-31")


def rows(**columns) -> pd.DataFrame:
    base = {
        "haic_start_date": ["2024-01-01"] * 4,
        "progression_date": [None] * 4,
        "death_date": [None] * 4,
        "last_followup_date": ["2024-07-01"] * 4,
    }
    base.update(columns)
    frame = pd.DataFrame(base)
    return frame.apply(pd.to_datetime)


def test_censored_alive_without_progression():
    out = survival_endpoints(rows(), CUTOFF)
    assert out["os_months"][0] == pytest.approx(182 / 30.4375)
    assert out["os_event"][0] == 0 and out["pfs_event"][0] == 0


def test_progression_then_death():
    frame = rows(
        progression_date=["2024-03-01"] * 4,
        death_date=["2024-05-01"] * 4,
        last_followup_date=["2024-05-01"] * 4,
    )
    out = survival_endpoints(frame, CUTOFF)
    assert out["pfs_months"][0] == pytest.approx(60 / 30.4375) and out["pfs_event"][0] == 1
    assert out["os_months"][0] == pytest.approx(121 / 30.4375) and out["os_event"][0] == 1


def test_death_without_progression_is_a_pfs_event():
    out = survival_endpoints(
        rows(death_date=["2024-02-01"] * 4, last_followup_date=["2024-02-01"] * 4), CUTOFF
    )
    assert out["pfs_event"][0] == 1 and out["pfs_months"][0] == out["os_months"][0]


def test_follow_up_is_truncated_at_the_cutoff():
    out = survival_endpoints(rows(last_followup_date=["2024-12-31"] * 4), pd.Timestamp("2024-06-30"))
    assert out["os_months"][0] == pytest.approx(181 / 30.4375)


def test_albi_score_and_grades():
    score, grade = albi(pd.Series([4.5, 3.5, 2.5, np.nan]), pd.Series([0.5, 1.0, 3.0, 1.0]))
    expected = 0.66 * np.log10(0.5 * 17.1) - 0.085 * 45
    assert score[0] == pytest.approx(expected)
    assert list(grade[:3]) == [1, 2, 3] and pd.isna(grade[3])


def test_binary_covariates_keep_missing_values_missing():
    raw = pd.DataFrame(
        {
            "age": [70, 50],
            "sex": ["M", "F"],
            "etiology": ["HBV", "HCV"],
            "ecog": [0, 1],
            "child_pugh_score": [7, 5],
            "bclc_stage": ["C", "B"],
            "tumour_size_cm": [10.0, 10.5],
            "tumour_number": [1, 3],
            "pvtt": ["Vp4", "Vp3"],
            "extrahepatic_spread": ["no", "yes"],
            "afp_ng_ml": [400.0, np.nan],
            "pivka_ii_mau_ml": [10.0, 5000.0],
            "group": ["first_line", "post_ate_beva"],
        }
    )
    out = covariates(raw, pd.Series([2, 1], dtype="Int64"))
    assert out.loc[0].to_dict() == {
        "age_ge_65": 1,
        "male": 1,
        "hbv": 1,
        "ecog_ge_1": 0,
        "child_pugh_b": 1,
        "albi_grade_ge_2": 1,
        "bclc_c": 1,
        "tumour_gt_10cm": 0,
        "multiple_tumours": 0,
        "vp4": 1,
        "extrahepatic": 0,
        "afp_ge_400": 1,
        "pivka_ge_400": 0,
        "post_ate_beva": 0,
    }
    assert pd.isna(out.loc[1, "afp_ge_400"]) and out.loc[1, "post_ate_beva"] == 1
