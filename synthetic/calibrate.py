"""Calibration: a documented search for the draw whose data reproduce the published results.

For each seed, the four Weibull scales (OS and PFS, per group) are solved by bisection so that
the Kaplan-Meier medians land on the published values at one decimal; the seed is accepted when
the log-rank and multivariable-Cox p-values also fall inside the target windows. Nothing is edited
by hand: the accepted seed and scales are recorded, and the generator reproduces the file from them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np
import pandas as pd

from analysis import cox, survival
from analysis.endpoints import COVARIATES, DAYS_PER_MONTH, GROUP_COVARIATE
from synthetic.generate import Parameters, cohort, draw_baseline, event_days

TARGETS = {
    "os_median": (6.8, 12.4),
    "pfs_median": (3.1, 8.2),
    "os_logrank_p": (0.073, 0.010),
    "pfs_logrank_p": (0.018, 0.005),
    "os_cox_group_p": (0.014, 0.005),
    "pfs_cox_group_p": (0.006, 0.003),
}


@dataclass(frozen=True)
class Achieved:
    os_median: tuple[float, float]
    pfs_median: tuple[float, float]
    os_logrank_p: float
    pfs_logrank_p: float
    os_cox_group_p: float
    pfs_cox_group_p: float
    os_cox_group_hr: float
    pfs_cox_group_hr: float

    def within(self) -> bool:
        windows = all(
            abs(getattr(self, key) - TARGETS[key][0]) <= TARGETS[key][1]
            for key in ("os_logrank_p", "pfs_logrank_p", "os_cox_group_p", "pfs_cox_group_p")
        )
        return windows and self.os_cox_group_hr < 1 and self.pfs_cox_group_hr < 1


def _endpoints(times: dict) -> dict[str, np.ndarray]:
    pfs_days = np.where(times["progressed"], times["progression"], times["last"])
    return {
        "os_months": times["last"] / DAYS_PER_MONTH,
        "os_event": times["died"].astype(int),
        "pfs_months": pfs_days / DAYS_PER_MONTH,
        "pfs_event": (times["progressed"] | times["died"]).astype(int),
    }


def _median(months: np.ndarray, events: np.ndarray) -> float:
    curve = survival.kaplan_meier(months, events)
    flat = np.any(np.abs(curve.surv - 0.5) < survival.TOLERANCE)
    return float("nan") if flat else survival.median_survival(curve).estimate


def _solve_scale(
    params: Parameters, base: dict, endpoint: str, group: int, target: float
) -> Parameters | None:
    """Bisect one group's Weibull scale until its KM median rounds to the target."""
    field = f"{endpoint}_scale"
    low, high = 0.5, 80.0
    members = base["post"] == bool(group)
    for _ in range(60):
        mid = (low + high) / 2
        scales = list(getattr(params, field))
        scales[group] = mid
        trial = replace(params, **{field: tuple(scales)})
        ends = _endpoints(event_days(base, trial))
        median = _median(ends[f"{endpoint}_months"][members], ends[f"{endpoint}_event"][members])
        if np.isnan(median):
            return None
        if round(median, 1) == target and abs(median - target) < 0.05 - 1e-9:
            return trial
        low, high = (mid, high) if median < target else (low, mid)
    return None


def solve_scales(params: Parameters) -> Parameters | None:
    """Scales that put all four medians on target for this seed, or None if the steps skip them."""
    base = draw_baseline(params)
    for endpoint in ("os", "pfs"):
        for group in (0, 1):
            solved = _solve_scale(params, base, endpoint, group, TARGETS[f"{endpoint}_median"][group])
            if solved is None:
                return None
            params = solved
    return params


def analysis_frame(params: Parameters) -> pd.DataFrame:
    """Endpoints and covariates of the draw, as the loader derives them from the written export."""
    from analysis.endpoints import derive

    raw = cohort(params)
    for column in [c for c in raw.columns if c.endswith("_date")]:
        raw[column] = pd.to_datetime(raw[column].replace("", None))
    for column in ("ate_beva_cycles",):
        raw[column] = pd.to_numeric(raw[column].replace("", None))
    from synthetic.generate import CUTOFF

    return derive(raw, pd.Timestamp(str(CUTOFF)))


def achieved(frame: pd.DataFrame) -> Achieved:
    """Every calibration quantity, computed with the analysis package's own functions."""
    values: dict = {}
    group = frame[GROUP_COVARIATE].to_numpy()
    for endpoint in ("os", "pfs"):
        t, e = frame[f"{endpoint}_months"].to_numpy(), frame[f"{endpoint}_event"].to_numpy()
        values[f"{endpoint}_median"] = tuple(
            round(survival.median_survival(survival.kaplan_meier(t[group == g], e[group == g])).estimate, 4)
            for g in (0, 1)
        )
        values[f"{endpoint}_logrank_p"] = survival.logrank(t, e, group).p
        model, _ = cox.multivariable(
            frame, f"{endpoint}_months", f"{endpoint}_event", GROUP_COVARIATE, list(COVARIATES)
        )
        term = model.terms[GROUP_COVARIATE]
        values[f"{endpoint}_cox_group_p"] = term.p
        values[f"{endpoint}_cox_group_hr"] = term.hr
    return Achieved(**values)


def quick_logrank_ok(params: Parameters) -> bool:
    ends = _endpoints(event_days(draw_baseline(params), params))
    group = draw_baseline(params)["post"].astype(int)
    for endpoint in ("os", "pfs"):
        p = survival.logrank(ends[f"{endpoint}_months"], ends[f"{endpoint}_event"], group).p
        target, tol = TARGETS[f"{endpoint}_logrank_p"]
        if abs(p - target) > tol:
            return False
    return True


def search(
    first_seed: int = 1, tries: int = 20000, template: Parameters | None = None
) -> tuple[Parameters, Achieved]:
    """The first seed (from first_seed on) whose solved draw meets every target."""
    template = template or Parameters(seed=first_seed)
    for seed in range(first_seed, first_seed + tries):
        params = solve_scales(replace(template, seed=seed))
        if params is None or not quick_logrank_ok(params):
            continue
        result = achieved(analysis_frame(params))
        if result.within():
            return params, result
    raise RuntimeError(f"no seed in {first_seed}..{first_seed + tries - 1} meets the targets")


def describe(params: Parameters) -> dict:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(params).items()}
