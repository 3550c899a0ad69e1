"""Generic derivations of analysis columns from data columns: times of an endpoint, cut-points,
groupings of levels or values. Nothing here names a study: `analysis.plan.derivations` applies
what the study file declares.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.data.recode import ABOVE, BELOW, LIMIT_SUFFIX

#: days in a unit of time; a month is the mean Gregorian month
DAYS = {"days": 1.0, "weeks": 7.0, "months": 30.4375, "years": 365.25}


def months_between(start: pd.Series, end: pd.Series, days_per_month: float) -> pd.Series:
    """Elapsed months between two date columns."""
    return (end - start).dt.days / days_per_month


def time_from_dates(
    data: pd.DataFrame,
    start: str,
    events: list[str],
    last_contact: str,
    cutoff: pd.Timestamp | None,
    days_per_month: float,
) -> tuple[pd.Series, pd.Series]:
    """Months from `start` to the earliest event date on or before the cut-off (event = 1), else to
    the last contact, never after the cut-off (event = 0)."""
    last = data[last_contact]
    if cutoff is not None:
        last = last.where(last <= cutoff, cutoff)
    dated = [data[e].where(data[e] <= cutoff) if cutoff is not None else data[e] for e in events]
    first = pd.concat(dated, axis=1).min(axis=1) if len(dated) > 1 else dated[0]
    event = first.notna()
    end = first.where(event, last)
    return months_between(data[start], end, days_per_month), event.astype(int)


def time_from_times(
    data: pd.DataFrame, sources: list[tuple[str, str, str]], unit: str, days_per_month: float
) -> tuple[pd.Series, pd.Series]:
    """Months to the earliest event among (time, status, event value) sources, else to the longest
    follow-up among them (censored). Times in `unit`."""
    to_months = DAYS[unit] / days_per_month
    times, events = [], []
    for time, status, value in sources:
        times.append(data[time].astype(float) * to_months)
        events.append(data[status].astype(str).eq(value) & data[status].notna())
    time_frame = pd.concat(times, axis=1)
    event_frame = pd.concat(events, axis=1)
    event_times = time_frame.where(event_frame.to_numpy())
    first_event = event_times.min(axis=1)
    event = first_event.notna()
    censored = time_frame.max(axis=1)
    return first_event.where(event, censored), event.astype(int)


def _interval(data: pd.DataFrame, column: str) -> tuple[pd.Series, pd.Series, pd.Series]:
    """The value and whether it was written above or below an assay's limit (the true value lies
    beyond it: `<column>_limit`, `analysis.data.recode`)."""
    values, flag = data[column].astype(float), column + LIMIT_SUFFIX
    limit = data[flag] if flag in data else pd.Series(pd.NA, index=data.index, dtype="string")
    return values, limit.eq(ABOVE).fillna(False).astype(bool), limit.eq(BELOW).fillna(False).astype(bool)


def cut(data: pd.DataFrame, column: str, op: str, threshold: float) -> pd.Series:
    """1 where the value meets `op threshold` (`>=`, `>`, `<=`, `<`), 0 where it does not, missing
    where it is unknown. A value written beyond an assay's limit is known only on one side of it:
    ">60500" is >= 400, "<2" is below 400, but ">300" and "<500" leave open whether the true value
    reaches 400, so the result is missing there."""
    values, above, below = _interval(data, column)
    if op in ("<=", "<"):
        flipped = cut(data, column, ">" if op == "<=" else ">=", threshold)
        return (1 - flipped).astype("Int64")
    strict = op == ">"
    meets = values > threshold if strict else values >= threshold
    true = meets & ~below | (above & (values >= threshold))
    false = ~meets & ~above | (below & (values <= threshold))
    known = values.notna() & (true | false)
    return true.astype("Int64").where(known)


def member(data: pd.DataFrame, column: str, levels: list[str]) -> pd.Series:
    """1 where the level is one of `levels`, 0 where it is another, missing where unknown."""
    values = data[column]
    text = values.astype(object).map(lambda v: None if pd.isna(v) else str(v))
    return text.isin(levels).astype("Int64").where(values.notna())


def bins(data: pd.DataFrame, column: str, highest: dict[str, float | None]) -> pd.Series:
    """The level of each value: the first level whose highest value it does not exceed (the last
    level is open)."""
    values = data[column].astype(float)
    closed = {level: top for level, top in highest.items() if top is not None}
    last = list(highest)[-1]
    levels = np.select([values <= top for top in closed.values()], list(closed), default=last)
    return pd.Series(levels, index=data.index, dtype=object).where(values.notna())
