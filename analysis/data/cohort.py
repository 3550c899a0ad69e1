"""Load a cohort export (.csv or .xlsx), recode it as the codebook declares, validate it, derive the
endpoints.

Problems are collected, not raised one at a time: the user gets one report naming every file, row,
column, value and rule broken, the codebook's and the metadata's included. Row numbers are those a
spreadsheet shows (the header is row 1), empty rows included.
"""

from __future__ import annotations

import argparse
import hashlib
import io
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from pathlib import Path

import pandas as pd
import pandera.pandas as pa
import yaml

from analysis.data.codebook import Codebook, load_codebook, text_schema, value_schema
from analysis.data.privacy import identifier_problems
from analysis.data.recode import ABOVE, BELOW, LIMIT_SUFFIX, Recode, declarations, recode
from analysis.errors import CohortError, Problem

ENCODINGS = ("utf-8-sig", "cp949", "latin-1")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
ROW_OFFSET = 2
REQUIRED_MISSING = "required value is missing"


@dataclass
class Cohort:
    """The analysis-ready cohort: derived table, metadata, and the SHA-256 of the file it came from.

    `recodes` lists every rewrite the codebook's `recodes` made (written to recodes.csv beside the
    outputs); `empty_rows` the spreadsheet rows ignored because every cell was empty.
    """

    data: pd.DataFrame
    meta: dict
    sha256: str
    path: Path
    encoding: str = "utf-8"
    notes: list[str] = field(default_factory=list)
    recodes: list[Recode] = field(default_factory=list)
    empty_rows: list[int] = field(default_factory=list)
    codebook: Codebook | None = None

    @property
    def synthetic(self) -> bool:
        return bool(self.meta.get("synthetic"))

    @property
    def cutoff(self) -> pd.Timestamp:
        return pd.Timestamp(self.meta["cutoff_date"])

    def recode_log(self) -> list[Recode]:
        """The recodes, and the empty rows ignored, as lines of the recode log."""
        empty = [Recode("", "(empty row)", "(ignored)", "empty row", len(self.empty_rows))]
        return self.recodes + (empty if self.empty_rows else [])


@dataclass
class Export:
    """An export as written: every cell's text (None = empty), one column per header cell.

    The index is the spreadsheet row minus ROW_OFFSET. A header repeated is kept under a unique name
    (`age (column AD)`) for the privacy check, listed in `duplicates` and reported in `problems`.
    """

    frame: pd.DataFrame
    encoding: str
    decimal_comma: bool
    excel: bool
    problems: list[Problem] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    empty_rows: list[int] = field(default_factory=list)
    empty_columns: list[str] = field(default_factory=list)


def _decode(raw: bytes) -> tuple[str, str]:
    for encoding in ENCODINGS:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "utf-8-sig":
            encoding = "utf-8 with BOM" if raw.startswith(b"\xef\xbb\xbf") else "utf-8"
        return text, encoding
    raise AssertionError("latin-1 decodes any byte string")


def _cell_text(value: object) -> str | None:
    """A workbook cell as the text a CSV would hold (dates ISO, whole floats without `.0`)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _read_workbook(path: Path) -> pd.DataFrame:
    """The first sheet, row for row (empty rows included, so row numbers are the sheet's)."""
    import openpyxl  # only for workbooks: most exports are CSV, and the import costs 0.1 s

    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # some writers store a wrong size; read what is there
        rows = [[_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()
    width = max((len(row) for row in rows), default=0)
    return pd.DataFrame([row + [None] * (width - len(row)) for row in rows], dtype=object)


def _blank(values: pd.Series) -> pd.Series:
    """Empty or white-space-only cells."""
    if values.dtype != object:
        return values.isna()
    return values.isna() | values.str.isspace().eq(True)


def _blank_rows(body: pd.DataFrame) -> pd.Index:
    """Rows whose every cell is empty; narrowed column by column, so a full export costs one column."""
    rows = body.index
    for column in body.columns:
        values = body.loc[rows, column]
        rows = values.index[_blank(values)]
        if rows.empty:
            break
    return rows


def column_letter(position: int) -> str:
    """A spreadsheet's name for the column at a 0-based position: A, B, ..., Z, AA, AB, ..."""
    letters = ""
    position += 1
    while position:
        position, rest = divmod(position - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _tabulate(grid: pd.DataFrame, name: str, **export) -> Export:
    """Header and body from the raw grid: duplicated headers named, empty rows and columns set aside."""
    header = ["" if pd.isna(v) else str(v).strip() for v in grid.iloc[0]] if len(grid) else []
    body = grid.iloc[1:].reset_index(drop=True)
    body.columns = range(body.shape[1])
    names, problems, duplicates, empty_columns = [], [], [], []
    positions: dict[str, list[int]] = {}
    for position, column in enumerate(header):
        if column:
            positions.setdefault(column, []).append(position)
    for position, column in enumerate(header):
        letter = column_letter(position)
        if not column:
            if _blank(body[position]).all():
                empty_columns.append(letter)
            names.append(f"(no header, column {letter})")
        elif positions[column][0] != position:
            names.append(f"{column} (column {letter})")
            duplicates.append(names[-1])
        else:
            names.append(column)
            if len(positions[column]) > 1:
                where = " and ".join(column_letter(p) for p in positions[column])
                times = len(positions[column])
                rule = f"column appears {times} times in the header (columns {where}); keep one"
                problems.append(Problem(name, 1, column, None, rule))
    body.columns = names
    empty = _blank_rows(body)
    body = body.drop(index=empty, columns=[f"(no header, column {c})" for c in empty_columns])
    return Export(
        body,
        problems=problems,
        duplicates=duplicates,
        empty_rows=[int(i) + ROW_OFFSET for i in empty],
        empty_columns=empty_columns,
        **export,
    )


def read_export(path: Path) -> Export:
    """Every cell as written (None = empty), the encoding, and whether decimals use commas."""
    name = path.name
    if not path.exists():
        raise CohortError([Problem(name, None, None, None, "file not found")], name)
    suffix = path.suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        try:
            grid = _read_workbook(path)
        except Exception as exc:  # openpyxl raises many types for a damaged workbook
            raise CohortError(
                [Problem(name, None, None, None, f"not a readable Excel workbook ({exc})")], name
            ) from None
        encoding, decimal_comma = "xlsx", False
    elif suffix in (".csv", ".txt", ".tsv"):
        text, encoding = _decode(path.read_bytes())
        if not text.strip():
            raise CohortError([Problem(name, None, None, None, "the file is empty")], name)
        header = text.splitlines()[0]
        delimiter = max([",", ";", "\t"], key=header.count)
        decimal_comma = delimiter == ";"
        try:
            grid = pd.read_csv(
                io.StringIO(text),
                sep=delimiter,
                header=None,
                dtype=str,
                keep_default_na=False,
                na_values=[""],
                skip_blank_lines=False,
            )
        except pd.errors.ParserError as exc:
            rule = f"not a readable delimited text file ({str(exc).strip()})"
            raise CohortError([Problem(name, None, None, None, rule)], name) from None
    else:
        raise CohortError([Problem(name, None, None, None, "unsupported file type; use .csv or .xlsx")], name)
    excel = suffix in EXCEL_SUFFIXES
    export = _tabulate(grid, name, encoding=encoding, decimal_comma=decimal_comma, excel=excel)
    if grid.empty or (_blank(grid.iloc[0]).all() and export.frame.empty):
        raise CohortError([Problem(name, None, None, None, "the file is empty")], name)
    return export


def _problems_from(errors: pa.errors.SchemaErrors, file: str) -> list[Problem]:
    problems = []
    frame_wide: set[Problem] = set()
    cases = errors.failure_cases
    for case in cases.itertuples(index=False):
        check = str(case.check)
        if check.startswith("dtype(") or (
            case.index is None and case.schema_context == "Column" and "column_in_dataframe" not in check
        ):
            continue
        row = None if case.index is None or pd.isna(case.index) else int(case.index) + ROW_OFFSET
        if case.schema_context == "DataFrameSchema" and "|" in check:
            column, rule = check.split("|", 1)
            frame_wide.add(Problem(file, row, column, None, rule))
        elif check.startswith("field_uniqueness") or check.startswith("unique"):
            problems.append(
                Problem(file, row, case.column, case.failure_case, "duplicate value; must be unique")
            )
        elif check.startswith("not_nullable"):
            problems.append(Problem(file, row, case.column, None, REQUIRED_MISSING))
        elif check.startswith("coerce_dtype"):
            problems.append(Problem(file, row, case.column, case.failure_case, "value of the wrong type"))
        else:
            problems.append(Problem(file, row, case.column, case.failure_case, check))
    return problems + sorted(frame_wide, key=lambda p: (p.row or 0, p.column or "", p.rule))


def text_problems(text: pd.DataFrame, codebook: Codebook, present: list[str], file: str) -> list[Problem]:
    """Pass 1 on each column's distinct values (fast on large exports), mapped back to every row."""
    problems = []
    schema = text_schema(codebook, present)
    for column in present:
        values = text[column]
        distinct = pd.DataFrame({column: pd.Series(values.unique()).dropna().reset_index(drop=True)})
        try:
            schema.select_columns([column]).validate(distinct, lazy=True)
        except pa.errors.SchemaErrors as errors:
            for case in errors.failure_cases.itertuples(index=False):
                if case.index is None or pd.isna(case.index):
                    continue
                bad = distinct[column].iloc[int(case.index)]
                for row in values.index[values == bad]:
                    problems.append(Problem(file, int(row) + ROW_OFFSET, column, bad, str(case.check)))
    return sorted(problems, key=lambda p: (p.row, present.index(p.column)))


def validate(
    text: pd.DataFrame,
    codebook: Codebook,
    cutoff: pd.Timestamp | None,
    file: str,
    reported: list[Problem] | tuple = (),
) -> tuple[pd.DataFrame, list[Problem]]:
    """Typed table and every problem with it (`reported`: cell problems already found, e.g. by the
    recodes); a cell with a problem is set missing and gets no second problem from pass 2."""
    if text.empty:
        return text, [Problem(file, None, None, None, "header only: the file holds no patient rows")]
    problems: list[Problem] = []
    unknown = [c for c in text.columns if c not in codebook.columns]
    problems += [Problem(file, None, c, None, "column not in the codebook") for c in unknown]
    missing = [c for c in codebook.columns if c not in text.columns]
    problems += [Problem(file, None, c, None, "required column is missing") for c in missing]
    present = [c for c in codebook.columns if c in text.columns]
    text = text[present].copy()
    cells = [*reported, *text_problems(text, codebook, present, file)]
    for problem in cells:
        text.loc[problem.row - ROW_OFFSET, problem.column] = None
    schema = value_schema(codebook, present, cutoff)
    try:
        typed = schema.validate(text, lazy=True)
    except pa.errors.SchemaErrors as errors:
        seen = {(p.row, p.column) for p in cells}
        problems += [p for p in _problems_from(errors, file) if (p.row, p.column) not in seen]
        typed = text
    problems += cells
    return typed, sorted(problems, key=lambda p: p.row or 0)


def read_metadata(path: Path) -> tuple[dict, list[Problem]]:
    """The metadata beside the data (`<stem>.meta.yaml`: cut-off date, synthetic flag, accrual window),
    and its problems; the data are checked even when the metadata are missing or wrong."""
    meta_path = path.with_name(f"{path.stem}.meta.yaml")
    name = meta_path.name
    if not meta_path.exists():
        rule = "metadata file is missing; it must give cutoff_date and synthetic"
        return {}, [Problem(name, None, None, None, rule)]
    try:
        meta = yaml.safe_load(meta_path.read_text(encoding="utf-8")) or {}
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        return {}, [Problem(name, None, None, None, f"not readable YAML ({exc})".replace("\n", " "))]
    if not isinstance(meta, dict):
        return {}, [Problem(name, None, None, None, "must be a YAML mapping of keys to values")]
    problems = [
        Problem(name, None, key, None, "required metadata key is missing")
        for key in ("cutoff_date", "synthetic")
        if key not in meta
    ]
    if "cutoff_date" in meta and _cutoff(meta) is None:
        problems.append(Problem(name, None, "cutoff_date", meta["cutoff_date"], "must be a date YYYY-MM-DD"))
    return meta, problems


def _cutoff(meta: dict) -> pd.Timestamp | None:
    try:
        return pd.Timestamp(str(meta["cutoff_date"]))
    except (KeyError, ValueError):
        return None


def _as_written(problems: list[Problem], export: pd.DataFrame, recoded: pd.DataFrame) -> list[Problem]:
    """Each value named as the file writes it: `' 250 '` not 250, `unknown` not an empty cell."""
    named = []
    for problem in problems:
        label = None if problem.row is None else problem.row - ROW_OFFSET
        if label in export.index and problem.column in recoded.columns:
            written = export.at[label, problem.column]
            blank = not (isinstance(written, str) and written.strip())
            if not blank and (problem.value is not None or pd.isna(recoded.at[label, problem.column])):
                problem = replace(problem, value=written)
        named.append(problem)
    return named


def default_codebook(path: Path) -> Path:
    """The codebook beside a data file (`data/codebook.yaml` for `data/cohort.csv`)."""
    return path.with_name("codebook.yaml")


def load_cohort(path: str | Path, codebook: Codebook | None = None) -> Cohort:
    """Read, recode and validate; raise CohortError listing every problem if anything is wrong:
    the codebook's declarations, the metadata and the data, in one report. (What the study derives
    from these columns is the plan's business: `analysis.plan.derivations`.)"""
    path = Path(path)
    name = path.name
    export = read_export(path)
    privacy = identifier_problems(export.frame, name)
    if privacy:
        raise CohortError(privacy, name)
    codebook = codebook or load_codebook(default_codebook(path))
    meta, problems = read_metadata(path)
    rules, declared = declarations(codebook, export.excel, export.decimal_comma)
    frame = export.frame.drop(columns=export.duplicates) if export.duplicates else export.frame
    recoded = recode(frame, rules, name, ROW_OFFSET)
    cutoff = _cutoff(meta)
    typed, found = validate(recoded.text, codebook, cutoff, name, recoded.problems)
    problems = declared + problems + export.problems + _as_written(found, export.frame, recoded.text)
    if problems:
        raise CohortError(sorted(problems, key=lambda p: p.row or 0), name)
    for column in codebook.of_type("category"):
        typed[column] = pd.Categorical(
            typed[column], categories=[str(v) for v in codebook.columns[column]["values"]]
        )
    for column, flag in recoded.flags.items():
        typed[column + LIMIT_SUFFIX] = pd.Categorical(flag, categories=[BELOW, ABOVE])
    data = typed.reset_index(drop=True)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    notes = [f"empty column without a header ignored: {c}" for c in export.empty_columns]
    return Cohort(
        data,
        meta,
        digest,
        path,
        export.encoding,
        notes=notes,
        recodes=recoded.recodes,
        empty_rows=export.empty_rows,
        codebook=codebook,
    )


def _spans(rows: list[int]) -> str:
    """Row numbers as ranges: 5, 102-137."""
    spans: list[list[int]] = []
    for row in rows:
        if spans and row == spans[-1][1] + 1:
            spans[-1][1] = row
        else:
            spans.append([row, row])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


def summary(cohort: Cohort) -> str:
    data = cohort.data
    kind = "SYNTHETIC data" if cohort.synthetic else "real data"
    lines = [f"{cohort.path.name}: valid ({kind}, encoding {cohort.encoding})"]
    if "group" in data:
        groups = ", ".join(f"{g}: {n}" for g, n in data["group"].value_counts(sort=False).items())
        lines.append(f"  patients: {len(data)} ({groups})")
    else:
        lines.append(f"  patients: {len(data)}")
    lines.append(f"  data cut-off: {cohort.cutoff.date()}")
    if "os_event" in data:
        deaths, events = int(data["os_event"].sum()), int(data["pfs_event"].sum())
        lines.append(f"  deaths: {deaths}, progression or death: {events}")
    if cohort.empty_rows:
        lines.append(f"  empty rows ignored: {len(cohort.empty_rows)} (rows {_spans(cohort.empty_rows)})")
    lines += [f"  {note}" for note in cohort.notes]
    if cohort.recodes:
        cells = sum(r.rows for r in cohort.recodes)
        lines.append(f"  recodes declared in the codebook, applied to {cells} cell(s) (column: from -> to):")
        lines += [f"    {r}" for r in cohort.recodes]
    else:
        lines.append("  recodes: none (every value is written as the codebook writes it)")
    lines.append(f"  sha256: {cohort.sha256}")
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="cohort export (.csv or .xlsx) with its .meta.yaml beside it")
    parser.add_argument(
        "--codebook",
        type=Path,
        default=Path("data/codebook.yaml"),
        help="the codebook to check against (default: data/codebook.yaml)",
    )


def command(args: argparse.Namespace) -> int:
    """Validate a cohort export against the codebook and print a summary (recodes included)."""
    print(summary(load_cohort(args.file, load_codebook(args.codebook))))
    return 0
