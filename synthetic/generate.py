"""Draw a synthetic HAIC cohort shaped like a hospital registry export (dates, not durations).

Covariates are correlated through two latent traits, liver reserve and tumour burden; the
post-ate-beva group carries more tumour burden (they have already failed a systemic therapy).
Death and progression times come from Weibull proportional-hazards models in which Vp4,
extrahepatic spread, AFP >= 400 ng/mL and Child-Pugh B raise the hazard. Accrual is uniform over
the study window, follow-up ends at the data cut-off, and a few patients are lost to follow-up.
Everything is vectorised so that a million patients take seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

#: days per month, as the study file declares (settings.days_per_month)
DAYS_PER_MONTH = 30.4375

ACCRUAL_START = np.datetime64("2022-03-01")
ACCRUAL_END = np.datetime64("2024-07-31")
CUTOFF = np.datetime64("2024-10-31")
RESPONSE_RATE = {"first_line": 15 / 83, "post_ate_beva": 6 / 17}
POST_SHARE = 17 / 100
LAB_CEILING = 2_000_000.0  # assays report values above their dilution range as this ceiling
COLUMNS = [
    "patient_id",
    "group",
    "haic_start_date",
    "age",
    "sex",
    "etiology",
    "ecog",
    "child_pugh_score",
    "albumin_g_dl",
    "bilirubin_mg_dl",
    "bclc_stage",
    "tumour_size_cm",
    "tumour_number",
    "pvtt",
    "extrahepatic_spread",
    "afp_ng_ml",
    "pivka_ii_mau_ml",
    "ate_beva_start_date",
    "ate_beva_cycles",
    "ate_beva_best_response",
    "haic_regimen",
    "haic_cycles",
    "recist_bor",
    "mrecist_bor",
    "progression_date",
    "death_date",
    "last_followup_date",
]


@dataclass(frozen=True)
class Parameters:
    """Everything the draw depends on. The calibration search chooses the three seeds (patients,
    death times, progression times) and the four scales; the other values are fixed by design."""

    seed: int
    death_seed: int = 0
    progression_seed: int = 0
    n: int = 100
    os_scale: tuple[float, float] = (9.0, 14.0)  # Weibull scale (months), first-line / post-ate-beva
    pfs_scale: tuple[float, float] = (4.0, 9.0)
    shape: float = 1.25
    pfs_shape: float = 0.8
    burden_shift_post: float = 0.6  # extra tumour burden (SD units) after ate-beva failure
    loss_to_follow_up: float = 0.05
    missing_lab: float = 0.03


def _logistic(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def _stream(params: Parameters, tag: int, seed: int) -> np.random.Generator:
    """An independent random stream for one part of the draw (tag 1 deaths, 2 progressions)."""
    return np.random.default_rng((params.seed, tag, seed))


def draw_baseline(params: Parameters) -> dict[str, np.ndarray]:
    """Group, covariates, accrual, and the uniform draws the event times are made from.

    Death and progression uniforms come from their own streams, so the search can redraw the
    times of one endpoint while the patients and the other endpoint stay as they are."""
    rng = np.random.default_rng(params.seed)
    n = params.n
    n_post = round(n * POST_SHARE)
    post = np.zeros(n, bool)
    post[rng.choice(n, n_post, replace=False)] = True
    liver = rng.normal(0, 1, n)
    burden = rng.normal(0, 1, n) + params.burden_shift_post * post
    age = np.clip(np.round(rng.normal(61 + 2 * post, 10, n)), 30, 88).astype(int)
    male = rng.random(n) < 0.84
    etiology = rng.choice(["HBV", "HCV", "alcohol", "MASLD", "other"], n, p=[0.70, 0.08, 0.11, 0.07, 0.04])
    ecog = np.where(rng.random(n) < _logistic(-0.3 + 0.5 * burden + 0.3 * post), 1, 0)
    ecog = np.where((ecog == 1) & (rng.random(n) < 0.08), 2, ecog)
    child_pugh = np.clip(np.round(5.7 + 1.1 * liver + rng.normal(0, 0.5, n)), 5, 9).astype(int)
    albumin = np.round(np.clip(3.7 - 0.35 * liver + rng.normal(0, 0.25, n), 2.0, 5.0), 1)
    bilirubin = np.round(np.clip(np.exp(np.log(0.8) + 0.35 * liver + rng.normal(0, 0.25, n)), 0.2, 6.0), 2)
    size = np.round(np.clip(np.exp(np.log(7.5) + 0.45 * burden + rng.normal(0, 0.3, n)), 1.0, 25.0), 1)
    number = 1 + rng.poisson(np.exp(0.2 + 0.5 * burden))
    vp4 = rng.random(n) < _logistic(-1.1 + 0.9 * burden)
    other_vp = rng.choice(["Vp0", "Vp1", "Vp2", "Vp3"], n, p=[0.35, 0.07, 0.18, 0.40])
    pvtt = np.where(vp4, "Vp4", other_vp)
    extrahepatic = rng.random(n) < _logistic(-1.0 + 0.7 * burden)
    afp = np.round(np.minimum(np.exp(rng.normal(np.log(250) + 1.3 * burden, 1.9, n)), LAB_CEILING), 1)
    pivka = np.round(np.minimum(np.exp(rng.normal(np.log(700) + 1.1 * burden, 1.8, n)), LAB_CEILING), 0)
    start = ACCRUAL_START + rng.integers(0, int((ACCRUAL_END - ACCRUAL_START).astype(int)) + 1, n)
    return {
        "post": post,
        "age": age,
        "male": male,
        "etiology": etiology,
        "ecog": ecog,
        "child_pugh": child_pugh,
        "albumin": albumin,
        "bilirubin": bilirubin,
        "size": size,
        "number": number,
        "pvtt": pvtt,
        "vp4": vp4,
        "extrahepatic": extrahepatic,
        "afp": afp,
        "pivka": pivka,
        "start": start,
        "u_death": _stream(params, 1, params.death_seed).random(n),
        "u_progression": _stream(params, 2, params.progression_seed).random(n),
        "u_loss": rng.random(n),
        "u_loss_time": rng.random(n),
        "u_missing": rng.random((n, 4)),
        "u_response": rng.random((n, 4)),
        "u_misc": rng.random((n, 4)),
    }


def _weibull_months(u: np.ndarray, scale: np.ndarray, lp: np.ndarray, shape: float) -> np.ndarray:
    return scale * (-np.log(u) / np.exp(lp)) ** (1 / shape)


def event_days(base: dict[str, np.ndarray], params: Parameters) -> dict[str, np.ndarray]:
    """Latent death and progression days, censoring days, and what is observed of them."""
    post = base["post"]
    cp_b = base["child_pugh"] >= 7
    afp_high = base["afp"] >= 400
    lp_os = 0.85 * base["vp4"] + 0.5 * base["extrahepatic"] + 0.55 * afp_high + 0.55 * cp_b
    lp_pfs = 0.6 * base["vp4"] + 0.4 * base["extrahepatic"] + 0.4 * afp_high + 0.3 * cp_b
    lp_os, lp_pfs = lp_os - lp_os.mean(), lp_pfs - lp_pfs.mean()
    os_scale = np.where(post, params.os_scale[1], params.os_scale[0])
    pfs_scale = np.where(post, params.pfs_scale[1], params.pfs_scale[0])
    death = np.ceil(_weibull_months(base["u_death"], os_scale, lp_os, params.shape) * DAYS_PER_MONTH)
    progression = np.ceil(
        _weibull_months(base["u_progression"], pfs_scale, lp_pfs, params.pfs_shape) * DAYS_PER_MONTH
    )
    admin = (CUTOFF - base["start"]).astype(int)
    lost = base["u_loss"] < params.loss_to_follow_up
    censor = np.where(lost, np.maximum(14, np.floor(base["u_loss_time"] * admin)), admin)
    died = death <= censor
    progressed = (progression < death) & (progression <= censor)
    last = np.where(died, death, censor)
    return {
        "death": death,
        "progression": progression,
        "died": died,
        "progressed": progressed,
        "last": last,
        "lp_pfs": lp_pfs,
    }


def _top_k(weights: np.ndarray, u: np.ndarray, k: int) -> np.ndarray:
    """k indices drawn without replacement with probability proportional to weights (Gumbel top-k)."""
    if k <= 0:
        return np.array([], int)
    keys = np.log(weights) - np.log(-np.log(u))
    return np.argpartition(-keys, k - 1)[:k]


def responses(base: dict, times: dict, params: Parameters) -> tuple[np.ndarray, np.ndarray]:
    """Best overall response by RECIST 1.1 and mRECIST, consistent with the progression times.

    The number of RECIST responders per group is fixed by the published rates; who responds is
    drawn with weights favouring long progression-free intervals.
    """
    u = base["u_response"]
    progression_days = np.where(times["progressed"], times["progression"], np.inf)
    early_end = np.minimum(times["last"], progression_days) < 42
    recist = np.where(progression_days <= 75, "PD", "SD").astype("<U2")
    recist = np.where(early_end & (recist != "PD"), "NE", recist)
    pfs_days = np.minimum(progression_days, times["last"])
    for name, post in (("first_line", False), ("post_ate_beva", True)):
        members = np.flatnonzero(base["post"] == post)
        eligible = members[recist[members] != "NE"]
        k = min(round(RESPONSE_RATE[name] * len(members)), len(eligible))
        weights = np.minimum(pfs_days[eligible], 720.0) ** 2 + 1.0
        chosen = eligible[_top_k(weights, u[eligible, 0], k)]
        recist[chosen] = np.where(u[chosen, 1] < 0.08, "CR", "PR")
    mrecist = recist.copy()
    mrecist[(recist == "PR") & (u[:, 2] < 0.25)] = "CR"
    mrecist[(recist == "SD") & (u[:, 3] < 0.30)] = "PR"
    return recist, mrecist


def _dates(start: np.ndarray, days: np.ndarray, keep: np.ndarray) -> np.ndarray:
    values = np.datetime_as_string(start + days.astype("timedelta64[D]"), unit="D")
    return np.where(keep, values, "")


def cohort(params: Parameters) -> pd.DataFrame:
    """The synthetic export as the registry would send it: one row per patient, dates as text."""
    base = draw_baseline(params)
    times = event_days(base, params)
    recist, mrecist = responses(base, times, params)
    n = params.n
    post = base["post"]
    misc = base["u_misc"]
    missing = base["u_missing"] < params.missing_lab
    width = max(4, len(str(n)))
    bclc = np.where((base["pvtt"] != "Vp0") | base["extrahepatic"] | (base["ecog"] >= 1), "C", "B")
    ab_cycles = np.where(post, 2 + np.floor(misc[:, 0] * 12), 0).astype(int)
    ab_days = ab_cycles * 21 + 14 + np.floor(misc[:, 1] * 28)
    ab_response = np.choose(np.minimum((misc[:, 2] * 20).astype(int) // 4, 4), ["PD", "PD", "SD", "SD", "PR"])
    pfs_days = np.minimum(np.where(times["progressed"], times["progression"], np.inf), times["last"])
    haic_cycles = np.clip(np.ceil(pfs_days / 28) + (misc[:, 3] < 0.5), 1, 12).astype(int)

    def lab(values: np.ndarray, column: int) -> np.ndarray:
        return np.where(missing[:, column], np.nan, values)

    frame = pd.DataFrame(
        {
            "patient_id": [f"P{i:0{width}d}" for i in range(1, n + 1)],
            "group": np.where(post, "post_ate_beva", "first_line"),
            "haic_start_date": np.datetime_as_string(base["start"], unit="D"),
            "age": base["age"],
            "sex": np.where(base["male"], "M", "F"),
            "etiology": base["etiology"],
            "ecog": base["ecog"],
            "child_pugh_score": base["child_pugh"],
            "albumin_g_dl": lab(base["albumin"], 0),
            "bilirubin_mg_dl": lab(base["bilirubin"], 1),
            "bclc_stage": bclc,
            "tumour_size_cm": base["size"],
            "tumour_number": base["number"],
            "pvtt": base["pvtt"],
            "extrahepatic_spread": np.where(base["extrahepatic"], "yes", "no"),
            "afp_ng_ml": lab(base["afp"], 2),
            "pivka_ii_mau_ml": lab(base["pivka"], 3),
            "ate_beva_start_date": _dates(base["start"], -ab_days, post),
            "ate_beva_cycles": np.where(post, ab_cycles.astype(str), ""),
            "ate_beva_best_response": np.where(post, ab_response, ""),
            "haic_regimen": np.where(misc[:, 0] < 0.72, "FOLFOX", "FP"),
            "haic_cycles": haic_cycles,
            "recist_bor": recist,
            "mrecist_bor": mrecist,
            "progression_date": _dates(base["start"], times["progression"], times["progressed"]),
            "death_date": _dates(base["start"], times["death"], times["died"]),
            "last_followup_date": _dates(base["start"], times["last"], np.ones(n, bool)),
        }
    )
    return frame[COLUMNS]


def write_csv(frame: pd.DataFrame, path) -> None:
    """Write the export byte-for-byte reproducibly (fixed float format, LF line ends)."""
    frame.to_csv(path, index=False, lineterminator="\n", float_format="%.10g")
