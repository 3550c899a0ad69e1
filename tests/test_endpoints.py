"""Derivations: endpoint times and events from dates or from time and status columns, cut-points,
groupings, and the HAIC study's own ALBI functions, on hand-made rows."""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import pytest

from analysis.data.derive import bins, cut, member, time_from_dates, time_from_times
from tests.conftest import ROOT

CUTOFF = pd.Timestamp("2024-10-31")
DAYS = 30.4375


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


def os_of(frame, cutoff=CUTOFF):
    return time_from_dates(frame, "haic_start_date", ["death_date"], "last_followup_date", cutoff, DAYS)


def pfs_of(frame, cutoff=CUTOFF):
    events = ["progression_date", "death_date"]
    return time_from_dates(frame, "haic_start_date", events, "last_followup_date", cutoff, DAYS)


def test_censored_alive_without_progression():
    months, event = os_of(rows())
    assert months[0] == pytest.approx(182 / DAYS)
    assert event[0] == 0 and pfs_of(rows())[1][0] == 0


def test_progression_then_death():
    frame = rows(
        progression_date=["2024-03-01"] * 4,
        death_date=["2024-05-01"] * 4,
        last_followup_date=["2024-05-01"] * 4,
    )
    pfs, pfs_event = pfs_of(frame)
    os, os_event = os_of(frame)
    assert pfs[0] == pytest.approx(60 / DAYS) and pfs_event[0] == 1
    assert os[0] == pytest.approx(121 / DAYS) and os_event[0] == 1


def test_death_without_progression_is_a_pfs_event():
    frame = rows(death_date=["2024-02-01"] * 4, last_followup_date=["2024-02-01"] * 4)
    assert pfs_of(frame)[1][0] == 1 and pfs_of(frame)[0][0] == os_of(frame)[0][0]


def test_follow_up_is_truncated_at_the_cutoff():
    months, _ = os_of(rows(last_followup_date=["2024-12-31"] * 4), pd.Timestamp("2024-06-30"))
    assert months[0] == pytest.approx(181 / DAYS)


def test_time_and_status_columns_take_the_first_event():
    """Recurrence or death from two (time, status) pairs in days: the earliest event counts; with no
    event, the longest follow-up is censored."""
    frame = pd.DataFrame(
        {"t_rec": [100, 300, 400], "s_rec": [1, 0, 0], "t_death": [500, 200, 400], "s_death": [1, 1, 0]}
    )
    months, event = time_from_times(
        frame, [("t_rec", "s_rec", "1"), ("t_death", "s_death", "1")], "days", DAYS
    )
    assert list(event) == [1, 1, 0]
    assert months.tolist() == pytest.approx([100 / DAYS, 200 / DAYS, 400 / DAYS])


def test_cut_points_membership_and_bins():
    frame = pd.DataFrame({"x": [1.0, 5.0, 10.0, np.nan], "g": pd.Categorical(["a", "b", None, "c"])})
    assert cut(frame, "x", ">=", 5).tolist()[:3] == [0, 1, 1] and pd.isna(cut(frame, "x", ">=", 5)[3])
    assert cut(frame, "x", ">", 5).tolist()[:3] == [0, 0, 1]
    assert cut(frame, "x", "<", 5).tolist()[:3] == [1, 0, 0]
    assert member(frame, "g", ["b", "c"]).tolist()[:2] == [0, 1] and pd.isna(member(frame, "g", ["b"])[2])
    assert bins(frame, "x", {"low": 4, "mid": 9, "high": None}).tolist()[:3] == ["low", "mid", "high"]


def test_albi_score_and_grades():
    """The HAIC study's own derivations (derivations.py beside its study.yaml)."""
    spec = importlib.util.spec_from_file_location("haic_derivations", ROOT / "derivations.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    frame = pd.DataFrame({"albumin_g_dl": [4.5, 3.5, 2.5, np.nan], "bilirubin_mg_dl": [0.5, 1.0, 3.0, 1.0]})
    frame["albi_score"] = module.albi_score(frame)
    grade = module.albi_grade(frame)
    expected = 0.66 * np.log10(0.5 * 17.1) - 0.085 * 45
    assert frame["albi_score"][0] == pytest.approx(expected)
    assert list(grade[:3]) == [1, 2, 3] and pd.isna(grade[3])


def test_the_declared_binary_covariates_keep_missing_values_missing():
    """The HAIC study's declared covariates (study.yaml `derive:`), derived by the plan."""
    from analysis.plan.plan import Plan

    plan = Plan.load(ROOT)
    raw = pd.DataFrame(
        {
            "age": [70, 50],
            "sex": ["M", "F"],
            "etiology": ["HBV", "HCV"],
            "ecog": [0, 1],
            "child_pugh_score": [7, 5],
            "albumin_g_dl": [3.0, 4.5],
            "bilirubin_mg_dl": [1.0, 0.5],
            "bclc_stage": ["C", "B"],
            "tumour_size_cm": [10.0, 10.5],
            "tumour_number": [1, 3],
            "pvtt": ["Vp4", "Vp3"],
            "extrahepatic_spread": ["no", "yes"],
            "afp_ng_ml": [400.0, np.nan],
            "pivka_ii_mau_ml": [10.0, 5000.0],
        }
    )
    out = plan.derive_columns(raw)
    assert out.loc[0, plan.candidates].to_dict() == {
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
    }
    assert pd.isna(out.loc[1, "afp_ge_400"]) and out.loc[1, "tumour_gt_10cm"] == 1
    assert out["child_pugh_class"].tolist() == ["B", "A"] and out["tumour_number_group"].tolist() == [
        "1",
        "2to3",
    ]
