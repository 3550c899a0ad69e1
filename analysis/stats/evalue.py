"""The E-value of a hazard ratio and of its confidence limit closer to 1 (VanderWeele and Ding,
Ann Intern Med 2017): the minimum strength of association, on the risk-ratio scale, that an
unmeasured confounder would need with both the group and the outcome to explain the estimate away.

Our own code (a formula; R's EValue package is not in Debian, and the test recomputes it in R by
hand). As the paper states for a hazard ratio: with a rare outcome (under 15% at the end of
follow-up) the HR is taken as a risk ratio; with a common outcome RR = (1 - 0.5^sqrt(HR)) /
(1 - 0.5^sqrt(1/HR)). A risk ratio below 1 is inverted, and E = RR + sqrt(RR (RR - 1)). The CI's
E-value is that of the limit closer to 1, and 1 when the interval includes 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from analysis.stats.software import Software, computed_by

OUTCOMES = ("common", "rare")


@dataclass(frozen=True)
class EValue:
    """E-values of an HR and of its CI limit closer to 1, with the outcome assumption used."""

    hr: float
    ci: tuple[float, float]
    outcome: str
    estimate: float
    limit: float
    software: Software | None = None


def risk_ratio(hr: float, outcome: str) -> float:
    """The risk ratio an HR stands for (VanderWeele and Ding's approximation for a common outcome)."""
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome {outcome!r}: expected one of {', '.join(OUTCOMES)}")
    if not hr > 0 or math.isinf(hr):
        raise ValueError(f"hazard ratio {hr}: expected a positive finite number")
    if outcome == "rare":
        return hr
    return (1 - 0.5 ** math.sqrt(hr)) / (1 - 0.5 ** math.sqrt(1 / hr))


def e_value_of_rr(rr: float) -> float:
    """E = RR + sqrt(RR (RR - 1)), a risk ratio below 1 inverted first."""
    rr = 1 / rr if rr < 1 else rr
    return rr + math.sqrt(rr * (rr - 1))


def e_value(hr: float, ci: tuple[float, float], outcome: str) -> EValue:
    """The E-value of `hr` and of its CI limit closer to 1 (1 when the CI includes 1)."""
    low, high = ci
    if not low <= hr <= high:
        raise ValueError(f"hazard ratio {hr} outside its confidence interval {ci}")
    estimate = e_value_of_rr(risk_ratio(hr, outcome))
    limit = 1.0 if low <= 1 <= high else e_value_of_rr(risk_ratio(high if hr < 1 else low, outcome))
    return EValue(hr, (low, high), outcome, estimate, limit, computed_by("E-values", e_value))
