"""Every result as a row: the ledger written as an Analysis Results Dataset (ARD).

CDISC's Analysis Results Standard keeps results apart from layout, one row per statistic; R's
`cards` package writes the same form (`group1`, `group1_level`, `variable`, `variable_level`,
`context`, `stat_name`, `stat`). Here each numeric ledger entry is one row: its key split into the
analysis (`context`: the key's first part, e.g. `os` or `baseline`), the group it belongs to (a
part of the key that is a group of the comparison, or `overall`), the variable (the remaining parts
but the last) and the statistic's name (the last part), with the printed text, the method and the
function that computed it, so a reviewer can filter, join and diff results without the article.
"""

from __future__ import annotations

import csv
from pathlib import Path

from analysis.results.ledger import Ledger

COLUMNS = (
    "context",
    "group1",
    "group1_level",
    "variable",
    "stat_name",
    "stat",
    "stat_text",
    "method",
    "source",
    "key",
)
SKIPPED = ("wording.", "software.", "manuscript.")


def ard_rows(ledger: Ledger, group: str | None, levels: list[str]) -> list[dict[str, object]]:
    """One row per numeric ledger entry (texts, lists and wording are the article's, not results)."""
    rows = []
    marks = set(levels) | {"overall"}
    for entry in ledger:
        value = entry.value
        if entry.key.startswith(SKIPPED) or isinstance(value, (bool, str, list)) or value is None:
            continue
        parts = entry.key.split(".")
        level = next((p for p in parts[1:] if p in marks), "")
        rest = [p for p in parts[1:] if p != level] if level else parts[1:]
        rows.append(
            {
                "context": parts[0],
                "group1": (group or "") if level else "",
                "group1_level": level,
                "variable": ".".join(rest[:-1]),
                "stat_name": rest[-1] if rest else parts[0],
                "stat": repr(float(value)) if isinstance(value, float) else value,
                "stat_text": entry.text,
                "method": entry.method,
                "source": entry.source,
                "key": entry.key,
            }
        )
    return rows


def write_ard(ledger: Ledger, path: Path, group: str | None = None, levels: list[str] | None = None) -> None:
    """The ARD as CSV (UTF-8, one header line), in ledger order: the same results give the same bytes."""
    provenance = ledger.provenance.get("comparison", {})
    group = group or provenance.get("column")
    levels = levels if levels is not None else provenance.get("levels", [])
    with Path(path).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(ard_rows(ledger, group, levels))
