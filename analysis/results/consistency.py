"""The article checked against itself: what can be recomputed from the printed numbers must agree.

Percentages against their counts, group sizes against the total, estimates inside their
confidence intervals, Wald p-values against whether the interval excludes 1. A contradiction
stops the build: it means a bug, not bad data.
"""

from __future__ import annotations

from analysis.errors import UserError
from analysis.results.ledger import Ledger


class Contradiction(UserError):
    exit_code = 1

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(self.report())

    def report(self) -> str:
        return "\n".join(
            [
                f"{len(self.problems)} contradiction(s) among the article's numbers:",
                *(f"  - {p}" for p in self.problems),
            ]
        )


def _number(text: str) -> float | None:
    try:
        return float(text.rstrip("%").replace("< ", ""))
    except ValueError:
        return None


def contradictions(ledger: Ledger, groups: list[str] | tuple = ()) -> list[str]:
    """Every relation between printed numbers that does not hold (`groups`: the compared groups)."""
    found = []
    keys = set(ledger.keys())
    groups = groups or ledger.provenance.get("comparison", {}).get("levels", [])
    total = sum(ledger[f"n.{g}"].value for g in groups)
    if groups and total != ledger["n.total"].value:
        found.append(f"group sizes sum to {total}, total printed as {ledger['n.total'].text}")
    for key in keys:
        entry = ledger[key]
        if key.endswith(".responders") or key.endswith(".count"):
            base = key.rsplit(".", 1)[0]
            printed = _number(ledger[base].text)
            recomputed = round(100 * entry.value / ledger[f"{base}.n"].value, 1)
            if printed is not None and abs(printed - recomputed) > 0.05 + 1e-9:
                found.append(
                    f"{base}: printed {ledger[base].text}, but {entry.text}/{ledger[base + '.n'].text} "
                    f"is {recomputed}%"
                )
        if f"{key}.ci_low" in keys and isinstance(entry.value, (int, float)):
            low, high = ledger[f"{key}.ci_low"].value, ledger[f"{key}.ci_high"].value
            if (
                low is not None
                and entry.value < low - 1e-12
                or high is not None
                and entry.value > high + 1e-12
            ):
                found.append(f"{key}: estimate {entry.text} outside its CI {ledger[key + '.ci'].text}")
        if key.endswith(".p") and isinstance(entry.value, float) and not 0 <= entry.value <= 1:
            found.append(f"{key}: p-value {entry.value} outside [0, 1]")
        if ".cox." in key and key.endswith(".hr"):
            p = ledger[key[: -len(".hr")] + ".p"].value
            low, high = ledger[f"{key}.ci_low"].value, ledger[f"{key}.ci_high"].value
            excludes_one = low > 1 or high < 1
            level = 1 - ledger.peek("config.ci_level").value if "config.ci_level" in keys else 0.05
            if excludes_one != (p < level) and abs(p - level) > 1e-6:
                found.append(f"{key}: CI {ledger[key + '.ci'].text} and p = {p:.4f} disagree")
    return sorted(found)


def check(ledger: Ledger, groups: list[str] | tuple = ()) -> None:
    """Raise Contradiction listing every inconsistency, or return quietly."""
    found = contradictions(ledger, groups)
    if found:
        raise Contradiction(found)
