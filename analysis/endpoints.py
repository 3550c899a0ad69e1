"""Analysis-ready endpoints and covariates derived from the export's dates and raw values.

Time zero is the first HAIC cycle. Months are days / 30.4375 (the mean Gregorian month), as stated
in the Methods. Overall survival ends at death (event) or at the last contact, never later than
the data cut-off (censored). Progression-free survival ends at progression or death, whichever
comes first (event), else at the last contact (censored).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.recode import ABOVE, BELOW, LIMIT_SUFFIX

DAYS_PER_MONTH = 30.4375
ALBI_CUTS = (-2.60, -1.39)
BILIRUBIN_UMOL_PER_MG_DL = 17.1
CHILD_PUGH_CLASS_MAX = {"A": 6, "B": 9}  # highest score of each class; C above
TUMOUR_NUMBER_GROUP_MAX = {"1": 1, "2to3": 3}  # highest count of each group; gt3 above

#: Categories derived from raw values, each declared once: level (as text) -> printed label, in the
#: order tables list them. Tables print these labels; they never infer one from a value.
DERIVED_LEVELS: dict[str, dict[str, str]] = {
    "child_pugh_class": {"A": "A", "B": "B", "C": "C"},
    "albi_grade": {"1": "1", "2": "2", "3": "3"},
    "tumour_number_group": {"1": "1", "2to3": "2–3", "gt3": "> 3"},
    "afp_ge_400": {"0": "< 400", "1": "≥ 400"},
}

#: Binary covariates of the Cox models: column -> (description, how it is derived).
COVARIATES: dict[str, str] = {
    "age_ge_65": "Age ≥ 65 years",
    "male": "Male sex",
    "hbv": "HBV aetiology",
    "ecog_ge_1": "ECOG performance status ≥ 1",
    "child_pugh_b": "Child-Pugh B (score ≥ 7)",
    "albi_grade_ge_2": "ALBI grade 2 or 3",
    "bclc_c": "BCLC stage C or D",
    "tumour_gt_10cm": "Largest tumour > 10 cm",
    "multiple_tumours": "Two or more tumours",
    "vp4": "Main portal trunk thrombosis (Vp4)",
    "extrahepatic": "Extrahepatic spread",
    "afp_ge_400": "AFP ≥ 400 ng/mL",
    "pivka_ge_400": "PIVKA-II ≥ 400 mAU/mL",
}
GROUP_COVARIATE = "post_ate_beva"


def months(start: pd.Series, end: pd.Series) -> pd.Series:
    """Elapsed months between two date columns."""
    return (end - start).dt.days / DAYS_PER_MONTH


def survival_endpoints(raw: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """OS and PFS times (months) and events (0/1) from HAIC start, death, progression and contact dates."""
    start = raw["haic_start_date"]
    last = raw["last_followup_date"].where(raw["last_followup_date"] <= cutoff, cutoff)
    death = raw["death_date"].where(raw["death_date"] <= cutoff)
    progression = raw["progression_date"].where(raw["progression_date"] <= cutoff)
    os_event = death.notna()
    os_end = death.where(os_event, last)
    pfs_end = pd.concat([progression, death], axis=1).min(axis=1)
    pfs_event = pfs_end.notna()
    pfs_end = pfs_end.where(pfs_event, last)
    return pd.DataFrame(
        {
            "os_months": months(start, os_end),
            "os_event": os_event.astype(int),
            "pfs_months": months(start, pfs_end),
            "pfs_event": pfs_event.astype(int),
        },
        index=raw.index,
    )


def albi(albumin_g_dl: pd.Series, bilirubin_mg_dl: pd.Series) -> tuple[pd.Series, pd.Series]:
    """ALBI score (Johnson 2015) from albumin (g/dL) and bilirubin (mg/dL), and its grade 1-3."""
    score = 0.66 * np.log10(bilirubin_mg_dl * BILIRUBIN_UMOL_PER_MG_DL) - 0.085 * (albumin_g_dl * 10)
    grade = pd.Series(
        np.select([score <= ALBI_CUTS[0], score <= ALBI_CUTS[1]], [1, 2], default=3),
        index=score.index,
    ).where(score.notna())
    return score, grade.astype("Int64")


def _grouped(values: pd.Series, highest: dict[str, int], above: str) -> pd.Series:
    """The level of each value: the first level whose highest value it does not exceed, else `above`."""
    levels = np.select([values <= top for top in highest.values()], list(highest), default=above)
    return pd.Series(levels, index=values.index, dtype=object).where(values.notna())


def child_pugh_class(score: pd.Series) -> pd.Series:
    """Child-Pugh class A (5-6 points), B (7-9) or C (10-15)."""
    return _grouped(score, CHILD_PUGH_CLASS_MAX, "C")


def tumour_number_group(number: pd.Series) -> pd.Series:
    """Number of tumours grouped as 1, 2 to 3, or more than 3."""
    return _grouped(number, TUMOUR_NUMBER_GROUP_MAX, "gt3")


def _flag(condition: pd.Series, known: pd.Series) -> pd.Series:
    return condition.astype("Int64").where(known)


def at_least(raw: pd.DataFrame, column: str, threshold: float) -> pd.Series:
    """1 if the value is >= threshold, 0 if below, missing if unknown.

    A value written beyond an assay's limit (`<column>_limit` is "above" or "below", the value is the
    limit) is known only on one side of it: ">60500" is >= 400, "<2" is below 400, but ">300" and
    "<500" leave it open whether the true value reaches 400, so the covariate is missing there.
    """
    values, flag = raw[column], column + LIMIT_SUFFIX
    limit = raw[flag] if flag in raw else pd.Series(pd.NA, index=raw.index, dtype="string")
    above, below = limit.eq(ABOVE).fillna(False), limit.eq(BELOW).fillna(False)
    known = values.notna() & ~(above & (values < threshold)) & ~(below & (values > threshold))
    return _flag((values >= threshold) & ~below, known)


def covariates(raw: pd.DataFrame, albi_grade: pd.Series) -> pd.DataFrame:
    """The binary Cox covariates (1 = the named level), missing where the raw value is missing."""
    flags = {
        "age_ge_65": _flag(raw["age"] >= 65, raw["age"].notna()),
        "male": _flag(raw["sex"] == "M", raw["sex"].notna()),
        "hbv": _flag(raw["etiology"] == "HBV", raw["etiology"].notna()),
        "ecog_ge_1": _flag(raw["ecog"] >= 1, raw["ecog"].notna()),
        "child_pugh_b": _flag(raw["child_pugh_score"] >= 7, raw["child_pugh_score"].notna()),
        "albi_grade_ge_2": _flag(albi_grade >= 2, albi_grade.notna()),
        "bclc_c": _flag(raw["bclc_stage"].isin(["C", "D"]), raw["bclc_stage"].notna()),
        "tumour_gt_10cm": _flag(raw["tumour_size_cm"] > 10, raw["tumour_size_cm"].notna()),
        "multiple_tumours": _flag(raw["tumour_number"] >= 2, raw["tumour_number"].notna()),
        "vp4": _flag(raw["pvtt"] == "Vp4", raw["pvtt"].notna()),
        "extrahepatic": _flag(raw["extrahepatic_spread"] == "yes", raw["extrahepatic_spread"].notna()),
        "afp_ge_400": at_least(raw, "afp_ng_ml", 400),
        "pivka_ge_400": at_least(raw, "pivka_ii_mau_ml", 400),
        GROUP_COVARIATE: _flag(raw["group"] == "post_ate_beva", raw["group"].notna()),
    }
    return pd.DataFrame(flags, index=raw.index)


def derive(raw: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """The analysis-ready table: raw columns plus endpoints, ALBI, the derived categories and the
    binary covariates."""
    score, grade = albi(raw["albumin_g_dl"], raw["bilirubin_mg_dl"])
    categories = pd.DataFrame(
        {
            "albi_score": score,
            "albi_grade": grade,
            "child_pugh_class": child_pugh_class(raw["child_pugh_score"]),
            "tumour_number_group": tumour_number_group(raw["tumour_number"]),
        }
    )
    extra = pd.concat([survival_endpoints(raw, cutoff), categories], axis=1)
    return pd.concat([raw, extra, covariates(raw, grade)], axis=1)
