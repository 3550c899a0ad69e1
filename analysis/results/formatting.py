"""Numbers as journals print them. One function per kind of number, used for every entry."""

from __future__ import annotations

import math
from dataclasses import dataclass

DASH = "\u2013"


def p_value(p: float) -> str:
    """p < 0.001 below that, else three decimals."""
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def p_clause(p: float) -> str:
    """p as it stands in a sentence: "p < 0.001" or "p = 0.073"."""
    text = p_value(p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def hazard_ratio(hr: float) -> str:
    return f"{hr:.2f}"


def months(value: float) -> str:
    """Months to one decimal; a median that is not reached prints as NR."""
    return "NR" if value is None or math.isnan(value) else f"{value:.1f}"


def percent(proportion: float) -> str:
    """A proportion printed as a percentage with one decimal."""
    return "NR" if proportion is None or math.isnan(proportion) else f"{100 * proportion:.1f}%"


def count(n: float) -> str:
    return f"{int(n)}"


def number(value: float, digits: int = 1) -> str:
    return f"{value:.{digits}f}"


def interval(low: str, high: str) -> str:
    """A confidence interval as "low–high"."""
    return f"{low}{DASH}{high}"


def p_value_nejm(p: float) -> str:
    """NEJM's style: "< 0.001", three decimals below 0.01, else two."""
    return "< 0.001" if p < 0.001 else f"{p:.3f}" if p < 0.01 else f"{p:.2f}"


FORMATTERS = {
    "p": p_value,
    "hr": hazard_ratio,
    "months": months,
    "percent": percent,
    "count": count,
    "number": number,
}
P_STYLES = {"journal": p_value, "nejm": p_value_nejm}


@dataclass(frozen=True)
class Style:
    """A study's conventions for printing numbers (`settings` of the study file); picklable, so a
    ledger keeps its style in the analysis cache."""

    p_style: str = "journal"
    months_digits: int = 1
    percent_digits: int = 1
    hr_digits: int = 2

    def format(self, kind: str, value: float) -> str:
        if kind == "p":
            return P_STYLES[self.p_style](value)
        if kind == "hr":
            return f"{value:.{self.hr_digits}f}"
        if kind == "months":
            return "NR" if value is None or math.isnan(value) else f"{value:.{self.months_digits}f}"
        if kind == "percent":
            return "NR" if value is None or math.isnan(value) else f"{100 * value:.{self.percent_digits}f}%"
        return FORMATTERS[kind](value)
