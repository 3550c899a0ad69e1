"""The supplementary table "Numbers in this article and their sources": one row per ledger entry
the text printed, with the text as printed, the method and the function that computed it, then one
row per table naming the keys, methods and functions behind its cells (every cell is a ledger
entry; `numbers.json` lists each one)."""

from __future__ import annotations

import pandas as pd
from great_tables import GT

from analysis.results.ledger import Ledger

TITLE = "Numbers in this article and their sources"
COLUMNS = ["Key", "Printed", "Method", "Source"]


def key_pattern(keys: list[str]) -> str:
    """Keys as short patterns: "baseline.*" where a prefix has many branches, else "os.cox.*",
    and a two-part key as itself ("n.total")."""
    groups: dict[str, list[str]] = {}
    for key in keys:
        groups.setdefault(key.split(".")[0], []).append(key)
    out: list[str] = []
    for first, members in groups.items():
        seconds = list(dict.fromkeys(".".join(k.split(".")[:2]) for k in members))
        if len(seconds) > 3:
            out.append(f"{first}.*")
        else:
            out += [s if s in members else f"{s}.*" for s in seconds]
    return ", ".join(out)


def _distinct(values: list[str]) -> str:
    return "; ".join(dict.fromkeys(values))


def numbers_frame(ledger: Ledger, tables: dict[str, list[str]] | None = None) -> pd.DataFrame:
    """Entries the text read (in order of first use), or all entries if nothing was tracked; then,
    per table in `tables` (its title and the keys its cells read), one row for all its cells."""
    keys = list(ledger.used) if ledger.used else ledger.keys()
    keys = [
        k
        for k in keys
        if not k.startswith(("wording.", "software.", "config.")) and not k.endswith((".ci_low", ".ci_high"))
    ]
    rows = [[k, ledger[k].text, ledger[k].method.split(";")[0], ledger[k].source] for k in keys]
    for title, cells in (tables or {}).items():
        entries = [ledger.peek(k) for k in cells]
        printed = f"{title} table: its {len(entries)} cells"
        methods = _distinct([e.method.split(";")[0] for e in entries])
        rows.append([key_pattern(cells), printed, methods, _distinct([e.source for e in entries])])
    return pd.DataFrame(rows, columns=COLUMNS)


def numbers_gt(ledger: Ledger, tables: dict[str, list[str]] | None = None) -> GT:
    frame = numbers_frame(ledger, tables)
    return GT(frame).tab_source_note(
        "Key: the entry in numbers.json (written beside the article), which also gives the full method, "
        "the raw value and the data's SHA-256; Printed: the text as it appears in the article; "
        "Source: the Python function in the analysis package that computed the value."
    )
