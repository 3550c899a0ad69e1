"""Data with several rows per patient (one per record type, as a trial's recurrence and death rows)
made into one row per patient, checked on the way: each patient has exactly one row of each record
type, and the columns that do not vary by record are the same on all of a patient's rows.
"""

from __future__ import annotations

import pandas as pd

from analysis.errors import Problem

ROW_OFFSET = 2  # as analysis.data.cohort: the header is row 1


def widen(
    data: pd.DataFrame, file: str, patient: str, record: str, records: dict[str, str], varying: list[str]
) -> tuple[pd.DataFrame, list[Problem]]:
    """One row per patient: `varying` columns become `<column>_<record name>`; problems name the file,
    the spreadsheet row and the column."""
    problems: list[Problem] = []
    kinds = data[record].astype(str)
    for row in data.index[~kinds.isin(list(records))]:
        rule = f"record type not declared in the study file ({', '.join(records)})"
        problems.append(Problem(file, int(row) + ROW_OFFSET, record, data.at[row, record], rule))
    for (pid, kind), rows in data.groupby([data[patient].astype(str), kinds], sort=False).groups.items():
        if len(rows) > 1 and kind in records:
            rule = f"patient {pid} has {len(rows)} rows of record {records[kind]} (one expected)"
            problems.append(Problem(file, int(rows[1]) + ROW_OFFSET, record, kind, rule))
    for pid, rows in data.groupby(data[patient].astype(str), sort=False).groups.items():
        have = set(kinds[rows])
        for kind, name in records.items():
            if kind not in have:
                rule = (
                    f"patient {pid} has no {name} row ({record} = {kind}); each patient needs one per record"
                )
                problems.append(Problem(file, int(rows[0]) + ROW_OFFSET, patient, pid, rule))
        constant = [c for c in data.columns if c not in varying and c not in (record, patient)]
        part = data.loc[rows, constant]
        for column in part.columns[part.nunique(dropna=False) > 1]:
            rule = f"differs between the rows of patient {pid}; only per-record columns may"
            problems.append(Problem(file, int(rows[1]) + ROW_OFFSET, column, None, rule))
    if problems:
        return data, sorted(problems, key=lambda p: p.row or 0)
    first = data[kinds == list(records)[0]].set_index(patient, drop=False)
    wide = first.drop(columns=[record, *varying])
    for kind, name in records.items():
        part = data[kinds == kind].set_index(patient)[varying]
        wide = wide.join(part.rename(columns={c: f"{c}_{name}" for c in varying}))
    return wide.reset_index(drop=True), []
