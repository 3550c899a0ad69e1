"""Load a cohort export (.csv or .xlsx), validate it against the codebook, derive the endpoints.

Problems are collected, not raised one at a time: the user gets one report naming every file, row,
column, value and rule broken. Row numbers are those a spreadsheet shows (the header is row 1).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pandera.pandas as pa
import yaml

from analysis.codebook import Codebook, load_codebook, text_schema, value_schema
from analysis.endpoints import derive
from analysis.errors import CohortError, Problem
from analysis.privacy import identifier_problems

ENCODINGS = ("utf-8-sig", "cp949", "latin-1")
ROW_OFFSET = 2


@dataclass
class Cohort:
    """The analysis-ready cohort: derived table, metadata, and the SHA-256 of the file it came from."""

    data: pd.DataFrame
    meta: dict
    sha256: str
    path: Path
    encoding: str = "utf-8"
    notes: list[str] = field(default_factory=list)

    @property
    def synthetic(self) -> bool:
        return bool(self.meta.get("synthetic"))

    @property
    def cutoff(self) -> pd.Timestamp:
        return pd.Timestamp(self.meta["cutoff_date"])


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


def read_export(path: Path) -> tuple[pd.DataFrame, str, bool]:
    """Every cell as stripped text (empty = missing), the encoding used, and whether decimals use commas."""
    name = path.name
    if not path.exists():
        raise CohortError([Problem(name, None, None, None, "file not found")], name)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        try:
            frame = pd.read_excel(path, dtype=str, engine="openpyxl")
        except Exception as exc:  # openpyxl raises many types for a damaged workbook
            raise CohortError(
                [Problem(name, None, None, None, f"not a readable Excel workbook ({exc})")], name
            ) from None
        frame = frame.map(lambda v: re.sub(r" 00:00:00$", "", v) if isinstance(v, str) else v)
        encoding, decimal_comma = "xlsx", False
    elif path.suffix.lower() in (".csv", ".txt", ".tsv"):
        text, encoding = _decode(path.read_bytes())
        if not text.strip():
            raise CohortError([Problem(name, None, None, None, "the file is empty")], name)
        header = text.splitlines()[0]
        delimiter = max([",", ";", "\t"], key=header.count)
        decimal_comma = delimiter == ";"
        frame = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False)
    else:
        raise CohortError([Problem(name, None, None, None, "unsupported file type; use .csv or .xlsx")], name)
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.apply(_stripped)
    frame = frame.dropna(how="all").reset_index(drop=True) if path.suffix.lower() != ".csv" else frame
    return frame, encoding, decimal_comma


def _stripped(column: pd.Series) -> pd.Series:
    """Cells without surrounding blanks, empty cells missing; worked out once per distinct value."""
    if column.dtype != object:
        return column
    cleaned = {v: (v.strip() or None) if isinstance(v, str) else v for v in column.dropna().unique()}
    if all(k == v for k, v in cleaned.items()):
        return column
    return column.map(cleaned)


def _problems_from(errors: pa.errors.SchemaErrors, file: str, index: pd.Index) -> list[Problem]:
    problems = []
    frame_wide: set[Problem] = set()
    cases = errors.failure_cases
    for case in cases.itertuples(index=False):
        check = str(case.check)
        if check.startswith("dtype(") or (
            case.index is None and case.schema_context == "Column" and "column_in_dataframe" not in check
        ):
            continue
        row = None if case.index is None or pd.isna(case.index) else int(index[int(case.index)]) + ROW_OFFSET
        if case.schema_context == "DataFrameSchema" and "|" in check:
            column, rule = check.split("|", 1)
            frame_wide.add(Problem(file, row, column, None, rule))
        elif check.startswith("field_uniqueness") or check.startswith("unique"):
            problems.append(
                Problem(file, row, case.column, case.failure_case, "duplicate value; must be unique")
            )
        elif check.startswith("not_nullable"):
            problems.append(Problem(file, row, case.column, None, "required value is missing"))
        elif check.startswith("coerce_dtype"):
            problems.append(Problem(file, row, case.column, case.failure_case, "value of the wrong type"))
        else:
            problems.append(Problem(file, row, case.column, case.failure_case, check))
    return problems + sorted(frame_wide, key=lambda p: (p.row or 0, p.column or "", p.rule))


def text_problems(
    text: pd.DataFrame, codebook: Codebook, present: list[str], file: str, index: pd.Index
) -> list[Problem]:
    """Pass 1 on each column's distinct values (fast on large exports), mapped back to every row."""
    problems = []
    schema = text_schema(codebook, present)
    for column in present:
        values = text[column]
        distinct = pd.DataFrame({column: values.dropna().unique()})
        try:
            schema.select_columns([column]).validate(distinct, lazy=True)
        except pa.errors.SchemaErrors as errors:
            for case in errors.failure_cases.itertuples(index=False):
                if case.index is None or pd.isna(case.index):
                    continue
                bad = distinct[column].iloc[int(case.index)]
                for row in values.index[values == bad]:
                    problems.append(Problem(file, int(index[row]) + ROW_OFFSET, column, bad, str(case.check)))
    return sorted(problems, key=lambda p: (p.row, present.index(p.column)))


def validate(
    frame: pd.DataFrame, codebook: Codebook, cutoff: pd.Timestamp, file: str, decimal_comma: bool = False
) -> tuple[pd.DataFrame, list[Problem]]:
    """Typed table and every problem with it; cells that failed their type are set missing."""
    problems: list[Problem] = []
    if frame.empty:
        return frame, [Problem(file, None, None, None, "header only: the file holds no patient rows")]
    unknown = [c for c in frame.columns if c not in codebook.columns]
    problems += [Problem(file, None, c, None, "column not in the codebook") for c in unknown]
    missing = [c for c in codebook.columns if c not in frame.columns]
    problems += [Problem(file, None, c, None, "required column is missing") for c in missing]
    present = [c for c in codebook.columns if c in frame.columns]
    text = frame[present].copy()
    if decimal_comma:
        for column in codebook.of_type("number"):
            if column in text:
                text[column] = text[column].str.replace(",", ".", regex=False)
    for problem in text_problems(text, codebook, present, file, frame.index):
        problems.append(problem)
        text.loc[problem.row - ROW_OFFSET, problem.column] = None
    schema = value_schema(codebook, present, cutoff)
    try:
        typed = schema.validate(text, lazy=True)
    except pa.errors.SchemaErrors as errors:
        problems += _problems_from(errors, file, frame.index)
        typed = schema.coerce_dtype(text) if not problems else text
    return typed, sorted(problems, key=lambda p: p.row or 0)


def read_metadata(path: Path) -> dict:
    """The metadata file beside the data (`<stem>.meta.yaml`): cut-off date, synthetic flag, window."""
    meta_path = path.with_name(f"{path.stem}.meta.yaml")
    if not meta_path.exists():
        raise CohortError(
            [
                Problem(
                    meta_path.name,
                    None,
                    None,
                    None,
                    "metadata file is missing; it must give cutoff_date and synthetic",
                )
            ],
            meta_path.name,
        )
    meta = yaml.safe_load(meta_path.read_text(encoding="utf-8")) or {}
    problems = [
        Problem(meta_path.name, None, key, None, "required metadata key is missing")
        for key in ("cutoff_date", "synthetic")
        if key not in meta
    ]
    if problems:
        raise CohortError(problems, meta_path.name)
    return meta


def load_cohort(path: str | Path, codebook: Codebook | None = None) -> Cohort:
    """Read, validate and derive; raise CohortError listing every problem if anything is wrong."""
    path = Path(path)
    name = path.name
    frame, encoding, decimal_comma = read_export(path)
    privacy = identifier_problems(frame, name)
    if privacy:
        raise CohortError(privacy, name)
    meta = read_metadata(path)
    codebook = codebook or load_codebook()
    cutoff = pd.Timestamp(meta["cutoff_date"])
    typed, problems = validate(frame, codebook, cutoff, name, decimal_comma)
    if problems:
        raise CohortError(problems, name)
    for column in codebook.of_type("category"):
        typed[column] = pd.Categorical(
            typed[column], categories=[str(v) for v in codebook.columns[column]["values"]]
        )
    data = derive(typed, cutoff)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return Cohort(data, meta, digest, path, encoding)


def summary(cohort: Cohort) -> str:
    data = cohort.data
    groups = ", ".join(f"{g}: {n}" for g, n in data["group"].value_counts(sort=False).items())
    kind = "SYNTHETIC data" if cohort.synthetic else "real data"
    return "\n".join(
        [
            f"{cohort.path.name}: valid ({kind}, encoding {cohort.encoding})",
            f"  patients: {len(data)} ({groups})",
            f"  data cut-off: {cohort.cutoff.date()}",
            f"  deaths: {int(data['os_event'].sum())}, progression or death: {int(data['pfs_event'].sum())}",
            f"  sha256: {cohort.sha256}",
        ]
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="cohort export (.csv or .xlsx) with its .meta.yaml beside it")


def command(args: argparse.Namespace) -> int:
    """Validate a cohort export against the codebook and print a summary."""
    print(summary(load_cohort(args.file)))
    return 0
