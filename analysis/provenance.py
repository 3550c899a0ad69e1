"""The supplementary table "Numbers in this article and their sources": one row per ledger entry
the article printed, with the text as printed, the method and the function that computed it."""

from __future__ import annotations

import pandas as pd
from great_tables import GT

from analysis.ledger import Ledger

TITLE = "Numbers in this article and their sources"
COLUMNS = ["Key", "Printed", "Method", "Source"]


def numbers_frame(ledger: Ledger) -> pd.DataFrame:
    """Entries the article read (in order of first use), or all entries if nothing was tracked."""
    keys = list(ledger.used) if ledger.used else ledger.keys()
    keys = [
        k
        for k in keys
        if not k.startswith(("wording.", "software.", "config.")) and not k.endswith((".ci_low", ".ci_high"))
    ]
    rows = [[k, ledger[k].text, ledger[k].method.split(";")[0], ledger[k].source] for k in keys]
    return pd.DataFrame(rows, columns=COLUMNS)


def numbers_gt(ledger: Ledger) -> GT:
    frame = numbers_frame(ledger)
    return GT(frame).tab_source_note(
        "Key: the entry in numbers.json (written beside the article), which also gives the full method, "
        "the raw value and the data's SHA-256; Printed: the text as it appears in the article; "
        "Source: the Python function in the analysis package that computed the value."
    )
