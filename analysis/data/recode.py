"""Recodes declared in the codebook: an export's spellings rewritten to the codebook's own terms.

A hospital export rarely speaks the codebook's words: `Male` for `M`, `pr ` for `PR`, `N/A` for an
empty cell, `2023/01/05` or an Excel serial number for an ISO date, `>60500` for a laboratory value above the
assay's range. The codebook's `recodes` section declares which spellings mean what. `recode` rewrites
every cell before validation and counts each rewrite (column, from, to, rule, rows), so nothing
changes silently; whatever no declaration covers is left as written, for validation to report.
Work is done once per distinct value of a column, so a million-row export costs little more than
a hundred-row one.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd

from analysis.data.codebook import ISO_DATE, NUMBER, Codebook
from analysis.errors import Problem

MISSING = "(missing)"
ABOVE, BELOW = "above", "below"
LIMIT_SUFFIX = "_limit"
EXCEL = "excel"
EXCEL_EPOCH = date(1899, 12, 30)  # serial 1 is 1900-01-01 in Excel's (leap-year-bugged) 1900 system
EXCEL_SERIAL = re.compile(r"^\d{5}(\.\d+)?$")  # five digits: 1927-05-18 to 2173-10-13
DATE_TOKENS = {"YYYY": "%Y", "MM": "%m", "DD": "%d"}
LIMIT = re.compile(r"^(>=?|<=?|≥|≤)\s*(\S+)$")
LOG_FIELDS = ("column", "from", "to", "rule", "rows")


@dataclass(frozen=True)
class Recode:
    """One rewrite applied to `rows` cells of a column: `written` in the file, `recoded` for validation."""

    column: str
    written: str
    recoded: str
    rule: str
    rows: int
    literal: bool = True  # `written` is a value from the file, not the name of a form (`YYYY/MM/DD`)

    def __str__(self) -> str:
        show = repr if self.literal else str
        recoded = "missing" if self.recoded == MISSING else show(self.recoded)
        written = show(self.written)
        return f"{self.column}: {written} -> {recoded} ({self.rule}): {self.rows} row(s)"


@dataclass(frozen=True)
class Declared:
    """The recodes that apply to one column, resolved from the codebook's defaults and its own entry."""

    kind: str
    levels: tuple[str, ...] = ()
    missing: frozenset[str] = frozenset()
    ignore_case: bool = False
    spellings: dict[str, str] = field(default_factory=dict)
    date_formats: tuple[str, ...] = ()
    excel_serials: bool = False
    limits: bool = False
    decimal_comma: bool = False

    def fold(self, text: str) -> str:
        return text.casefold() if self.ignore_case else text


@dataclass(frozen=True)
class Outcome:
    """What one distinct written value becomes."""

    text: str | None
    rule: str = ""
    written: str = ""
    recoded: str = ""
    flag: str | None = None
    problem: str | None = None
    literal: bool = True


@dataclass
class Recoded:
    """The export in the codebook's terms, the recodes applied, limit flags and recode problems."""

    text: pd.DataFrame
    recodes: list[Recode]
    flags: dict[str, pd.Series]
    problems: list[Problem]


def _strptime_format(declared: str) -> str | None:
    """`YYYY/MM/DD` -> `%Y/%m/%d`; None unless it holds each token once, joined by separators only."""
    parts = re.split(r"(YYYY|MM|DD)", declared)
    if sorted(parts[1::2]) != sorted(DATE_TOKENS) or any(re.search(r"[\w%]", s) for s in parts[0::2]):
        return None
    return "".join(DATE_TOKENS.get(part, part) for part in parts)


def _spellings(
    levels: tuple[str, ...], own: dict, fold, refuse
) -> tuple[dict[str, str], frozenset[str]]:
    """Folded spelling -> level, and the folded missing words, for one column; a spelling claimed by
    two levels, or by a level and the missing words, is refused and left out."""
    owners: dict[str, set[str]] = {}
    for level in levels:
        owners.setdefault(fold(level), set()).add(level)
    for level, spellings in (own.get("synonyms") or {}).items():
        if str(level) not in levels:
            refuse(str(level), f"synonyms declared for a level not in {', '.join(levels)}")
            continue
        for spelling in spellings or []:
            owners.setdefault(fold(str(spelling).strip()), set()).add(str(level))
    missing = {fold(str(word).strip()) for word in own.get("missing") or []}
    spellings = {}
    for spelling, claimed in owners.items():
        if len(claimed) > 1:
            names = " and ".join(f"'{c}'" for c in sorted(claimed))
            refuse(spelling, f"declared as a spelling of both {names}; it is not recoded")
        elif spelling in missing:
            refuse(spelling, f"declared both as a missing word and as '{next(iter(claimed))}'")
            missing.discard(spelling)
        else:
            spellings[spelling] = next(iter(claimed))
    return spellings, frozenset(missing)


def declarations(
    codebook: Codebook, excel_file: bool = False, decimal_comma: bool = False
) -> tuple[dict[str, Declared], list[Problem]]:
    """Every column's recodes, and the problems of the declarations themselves.

    A declaration that would recode one written value two ways (a spelling given to two levels, a
    missing word that is also a level) is refused, and that spelling is not recoded at all.
    """
    problems: list[Problem] = []
    for column in codebook.recodes.get("columns") or {}:
        if column not in codebook.columns:
            rule = "recodes declared for a column that is not in the codebook"
            problems.append(Problem(codebook.name, None, column, None, rule))
    result = {}
    for column, spec in codebook.columns.items():

        def refuse(value: object, rule: str, column: str = column) -> None:
            problems.append(Problem(codebook.name, None, column, value, rule))

        kind, own = spec["type"], codebook.recodes_for(column)
        if own.get("synonyms") and kind != "category":
            refuse(None, "synonyms are declared for categories only")
            own = {**own, "synonyms": {}}
        ignore_case = bool(own.get("ignore_case", False))
        levels = tuple(str(v) for v in spec.get("values", ()))
        spellings, missing = _spellings(levels, own, str.casefold if ignore_case else str, refuse)
        declared_formats = [str(f) for f in own.get("date_formats") or []] if kind == "date" else []
        formats = [f for f in declared_formats if f != EXCEL and _strptime_format(f)]
        for wrong in [f for f in declared_formats if f != EXCEL and f not in formats]:
            refuse(wrong, "unknown date format; build it from YYYY, MM and DD")
        limits = bool(own.get("limits"))
        if limits and kind not in ("number", "integer"):
            refuse(None, "assay limits are declared for numbers only")
            limits = False
        result[column] = Declared(
            kind,
            levels,
            missing,
            ignore_case,
            spellings,
            tuple(formats),
            excel_serials=kind == "date" and (excel_file or EXCEL in declared_formats),
            limits=limits,
            decimal_comma=decimal_comma and kind == "number",
        )
    return result, problems


def _date(text: str, rules: Declared) -> Outcome | None:
    """A date in a declared format, an Excel serial, or an ambiguity; None when nothing matches."""
    readings: dict[str, str] = {}
    for declared in rules.date_formats:
        try:
            readings[declared] = datetime.strptime(text, _strptime_format(declared)).date().isoformat()
        except ValueError:
            continue
    if rules.excel_serials and EXCEL_SERIAL.match(text):
        readings["Excel serial number"] = (EXCEL_EPOCH + timedelta(days=int(float(text)))).isoformat()
    if not readings:
        return None
    if len(set(readings.values())) > 1:
        both = "; ".join(f"{f} reads {d}" for f, d in readings.items())
        return Outcome(None, problem=f"ambiguous date: {both}")
    written, iso = next(iter(readings.items()))
    return Outcome(iso, "date format", written, "YYYY-MM-DD")


def _number(text: str, rules: Declared) -> tuple[str, list[str], str | None]:
    """Decimal comma to point, and a value beyond an assay limit to the limit with its flag."""
    steps, flag = [], None
    if rules.decimal_comma and "," in text:
        text = text.replace(",", ".")
        steps.append("decimal comma")
    match = LIMIT.match(text) if rules.limits else None
    if match and re.match(NUMBER, match.group(2)):
        flag = ABOVE if match.group(1) in (">", ">=", "≥") else BELOW
        text = match.group(2)
        steps.append(f"{flag} the assay limit")
    return text, steps, flag


def recode_value(raw: str, rules: Declared) -> Outcome:
    """What a written value becomes under its column's declarations (its text unchanged if none apply)."""
    text = raw.strip()
    steps = ["surrounding spaces"] if text != raw else []
    if not text:
        return Outcome(None, "blank cell", raw, MISSING) if raw else Outcome(None)
    folded = rules.fold(text)
    if folded in rules.missing:
        return Outcome(None, "; ".join([*steps, "missing word"]), raw, MISSING)
    by_value, flag = False, None
    if rules.kind == "category" and text not in rules.levels and folded in rules.spellings:
        level = rules.spellings[folded]
        steps.append("case" if rules.fold(level) == folded else "synonym")
        text, by_value = level, True
    elif rules.kind == "date" and not re.match(ISO_DATE, text):
        found = _date(text, rules)
        if found is not None and found.problem:
            return found
        if found is not None:
            written = found.written + (" with surrounding spaces" if steps else "")
            rule = "; ".join([*steps, found.rule])
            return Outcome(found.text, rule, written, found.recoded, literal=False)
    elif rules.kind in ("number", "integer"):
        text, more, flag = _number(text, rules)
        steps += more
        by_value = flag is not None
    if not steps:
        return Outcome(text)
    rule = "; ".join(steps)
    if by_value or rules.kind in ("category", "string"):
        return Outcome(text, rule, raw, text, flag)
    shape = {"date": "YYYY-MM-DD", "integer": "whole number", "number": "number"}[rules.kind]
    written = f"{shape} with " + " and ".join("a decimal comma" if s == "decimal comma" else s for s in steps)
    return Outcome(text, rule, written, shape, literal=False)


def candidates(values: pd.Series, rules: Declared) -> list[str]:
    """The distinct written values a declaration might change (vectorised: a million distinct study
    numbers are checked at C speed, and only the few with spaces or missing words are looked at)."""
    distinct = pd.Series(values.unique(), dtype=object).dropna().reset_index(drop=True)
    if distinct.empty:
        return []
    maybe = (distinct.str.strip() != distinct).to_numpy(dtype=bool)
    if rules.missing:  # only values short enough to be a missing word are folded and compared
        short = (distinct.str.len() <= max(map(len, rules.missing))).to_numpy(dtype=bool)
        folded = distinct[short].str.casefold() if rules.ignore_case else distinct[short]
        maybe[short] |= folded.isin(rules.missing).to_numpy(dtype=bool)
    if rules.kind == "category":
        maybe |= ~distinct.isin(rules.levels).to_numpy(dtype=bool)
    elif rules.kind == "date":
        maybe |= ~distinct.str.match(ISO_DATE).to_numpy(dtype=bool)
    elif rules.kind in ("number", "integer"):
        maybe |= distinct.str.contains(r"[,<>≤≥]").to_numpy(dtype=bool)
    return distinct[maybe].tolist()


def recode(frame: pd.DataFrame, rules: dict[str, Declared], file: str, row_offset: int) -> Recoded:
    """Rewrite every column the codebook knows; count the rewrites; flag assay limits per row."""
    text = frame.copy(deep=False)  # columns are replaced, never changed in place
    recodes: list[Recode] = []
    flags: dict[str, pd.Series] = {}
    problems: list[Problem] = []
    for column in frame.columns:
        if column not in rules:
            continue
        values = frame[column]
        if rules[column].limits:
            flags[column] = pd.Series(pd.NA, index=frame.index, dtype="string")
        outcomes = {raw: recode_value(raw, rules[column]) for raw in candidates(values, rules[column])}
        changed = {raw: o for raw, o in outcomes.items() if o.text != raw}
        if not changed:
            continue
        recoded = values.map({raw: outcome.text for raw, outcome in changed.items()})
        text[column] = values.where(~values.isin(list(changed)), recoded)
        for raw, outcome in changed.items():
            if outcome.problem:
                for row in values.index[values == raw]:
                    problems.append(Problem(file, int(row) + row_offset, column, raw, outcome.problem))
        logged = [raw for raw, o in changed.items() if o.rule and not o.problem]
        counts = values[values.isin(logged)].value_counts() if logged else {}
        tally: dict[tuple[str, str, str, bool], int] = {}
        for raw in logged:
            outcome = changed[raw]
            key = (outcome.written, outcome.recoded, outcome.rule, outcome.literal)
            tally[key] = tally.get(key, 0) + int(counts[raw])
        recodes += [Recode(column, w, r, rule, n, literal) for (w, r, rule, literal), n in tally.items()]
        flagged = {raw: o.flag for raw, o in changed.items() if o.flag}
        if flagged:
            flags[column] = values.map(flagged).astype("string")
    return Recoded(
        text, sorted(recodes, key=lambda r: (list(frame.columns).index(r.column), r.written)), flags, problems
    )


def write_log(recodes: list[Recode], path: Path) -> None:
    """The recode log (CSV: column, from, to, rule, rows), written beside the analysis outputs."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)  # spaces show
        writer.writerow(LOG_FIELDS)
        for r in recodes:
            writer.writerow([r.column, r.written, r.recoded, r.rule, r.rows])
