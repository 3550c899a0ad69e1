"""The study file as a typed plan, and the analysis data it prescribes.

`Plan` answers what the engine asks of a study (its groups and their labels, endpoints, covariates,
Table 1 lines, settings) from the study file and the codebook; `Plan.prepare` turns a loaded cohort
into the analysis data: long data widened, every declared column derived (in dependency order),
endpoint times and events, the population selected step by step (the counts of the patient flow),
and a 0/1 column per non-reference group for the models.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import ModuleType

import pandas as pd

from analysis.data import derive
from analysis.data.codebook import Codebook, load_codebook
from analysis.data.cohort import Cohort, load_cohort
from analysis.data.layout import widen
from analysis.errors import CohortError, Problem
from analysis.plan.schema import Derive, Endpoint, Keep, Study
from analysis.plan.study import (
    STUDY_FILE,
    Located,
    check_study,
    codebook_varying,
    derivations_module,
    load_study,
    raise_if,
)


@dataclass(frozen=True)
class Table1Line:
    """One variable of Table 1: its column, label, and summary (`n_percent`, `median_iqr`, `mean_sd`)."""

    column: str
    label: str
    summary: str
    levels: dict[str, str] = field(default_factory=dict)

    @property
    def continuous(self) -> bool:
        return self.summary != "n_percent"


@dataclass(frozen=True)
class Step:
    """A selection step and how many patients it left (the patient flow)."""

    id: str
    label: str
    before: int
    after: int
    by_group: dict[str, int] = field(default_factory=dict)

    @property
    def excluded(self) -> int:
        return self.before - self.after


def slug(text: str) -> str:
    """A level as part of a column or key name: 'A+B' -> 'A_B'."""
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_") or "level"


class Plan:
    """The study, read: `Plan.load(folder)` reads and checks study.yaml and its codebook."""

    def __init__(
        self, study: Study, codebook: Codebook, folder: Path, where: Located, module: ModuleType | None
    ) -> None:
        self.study = study
        self.codebook = codebook
        self.folder = folder
        self.where = where
        self.module = module

    def __getstate__(self) -> dict:
        """Pickled without the derivations module (a module cannot be); it is not needed to read results."""
        return {k: v for k, v in self.__dict__.items() if k != "module"} | {"module": None}

    @classmethod
    def load(cls, folder: str | Path = ".", file: str = STUDY_FILE) -> Plan:
        """Read the study file and its codebook and check them against each other (nothing runs on
        any data until both are right). Raises StudyError or CohortError with every problem."""
        folder = Path(folder)
        study, where = load_study(folder / file)
        codebook = load_codebook(folder / study.data.codebook)
        module = None
        if study.data.derivations is not None and (folder / study.data.derivations).is_file():
            module = derivations_module(folder, study.data.derivations)
        raise_if(check_study(study, where, codebook, folder, module), where.file)
        return cls(study, codebook, folder, where, module)

    # --- what the engine asks of the study -------------------------------------------------------

    @property
    def data_path(self) -> Path:
        return self.folder / self.study.data.file

    @property
    def settings(self):
        return self.study.settings

    @property
    def endpoints(self) -> dict[str, Endpoint]:
        return self.study.endpoints

    @property
    def group_column(self) -> str | None:
        return self.study.comparison.column if self.study.comparison else None

    @property
    def groups(self) -> list[str]:
        """The compared groups in print order (none for a single-arm study)."""
        return list(self.study.comparison.levels) if self.study.comparison else []

    @property
    def reference(self) -> str | None:
        return self.study.comparison.reference if self.study.comparison else None

    def group_key(self, level: str) -> str:
        """A group's name in ledger keys (`comparison.keys`, else the level)."""
        return self.study.comparison.keys.get(level, level)

    @property
    def arms(self) -> list[str]:
        """The groups' names in ledger keys, in print order."""
        return [self.group_key(level) for level in self.groups]

    @property
    def reference_key(self) -> str | None:
        return self.group_key(self.reference) if self.reference is not None else None

    def level_of(self, key: str) -> str:
        return next(level for level in self.groups if self.group_key(level) == key)

    @cached_property
    def group_labels(self) -> dict[str, str]:
        """Each group's printed label (the codebook's labels of the group column), by its key."""
        if not self.study.comparison:
            return {}
        labels = self.codebook.labels(self.group_column)
        return {self.group_key(g): labels.get(g, g) for g in self.groups}

    def group_words(self, key: str) -> str:
        """How prose names a group ('the treated group'), by its key."""
        words = self.study.comparison.words if self.study.comparison else {}
        return words.get(self.level_of(key), f"the {self.group_labels[key]} group")

    def term_level(self, column: str) -> str:
        """The group a group indicator column stands for."""
        return self._term_levels[column]

    @cached_property
    def _term_levels(self) -> dict[str, str]:
        c = self.study.comparison
        taken = set(self.codebook.columns) | {d.name for d in self.study.derive}
        return (
            {
                (slug(level) if slug(level) not in taken else f"{c.column}_{slug(level)}"): level
                for level in c.levels
                if level != c.reference
            }
            if c
            else {}
        )

    @cached_property
    def group_terms(self) -> dict[str, str]:
        """The model column of each non-reference group -> its ledger name: `<key>` for two groups,
        `<key>.<level>` for more. The column is the level's name (`treated`), or
        `<column>_<level>` when that is taken."""
        c = self.study.comparison
        levels = self._term_levels
        return {
            column: c.key if len(levels) == 1 else f"{c.key}.{self.group_key(level)}"
            for column, level in levels.items()
        }

    def term_key(self, column: str) -> str:
        """A model term's name in ledger keys (a group indicator's, or the covariate's own)."""
        return self.group_terms.get(column, column)

    @cached_property
    def term_labels(self) -> dict[str, str]:
        """Row labels of every model term: the group contrasts first, then the Cox candidates."""
        c = self.study.comparison
        labels: dict[str, str] = {}
        for column in self.group_terms:
            level = self.term_level(column)
            default = f"{self.group_labels[self.group_key(level)]} vs {self.group_labels[self.reference_key]}"
            labels[column] = c.label if (c.label and len(self.group_terms) == 1) else default
        for name in self.study.cox.candidates if self.study.cox else []:
            labels[name] = self.column_label(name)
        return labels

    def column_label(self, column: str) -> str:
        """A column's label: the derivation's, else the codebook's, else its name."""
        derived = self.derivation(column)
        if derived is not None and derived.label:
            return derived.label
        base = self.base_column(column)
        return self.codebook.label(base) if base in self.codebook.columns else column

    def base_column(self, column: str) -> str:
        """The codebook column a (widened) column comes from."""
        long = self.study.data.long
        if long is not None:
            for name in long.records.values():
                if column.endswith(f"_{name}") and column[: -len(name) - 1] in self.codebook.columns:
                    return column[: -len(name) - 1]
        return column

    def derivation(self, column: str) -> Derive | None:
        return next((d for d in self.study.derive if d.name == column), None)

    def level_labels(self, column: str) -> dict[str, str]:
        """A categorical column's printed label per level, in table order."""
        derived = self.derivation(column)
        if derived is not None:
            return dict(derived.levels or {})
        return self.codebook.labels(self.base_column(column))

    @cached_property
    def table1(self) -> list[Table1Line]:
        lines = []
        for v in self.study.table1.variables:
            levels = self.level_labels(v.column)
            summary = v.summary or ("n_percent" if levels else "median_iqr")
            lines.append(Table1Line(v.column, v.label or self.column_label(v.column), summary, levels))
        return lines

    @property
    def candidates(self) -> list[str]:
        return list(self.study.cox.candidates) if self.study.cox else []

    @cached_property
    def landmarks(self) -> list[float]:
        """Every landmark of any endpoint, in order."""
        return sorted({m for e in self.endpoints.values() for m in e.landmarks})

    # --- the analysis data -----------------------------------------------------------------------

    def load_cohort(self, data_path: Path | None = None) -> Cohort:
        return load_cohort(data_path or self.data_path, self.codebook)

    def prepare(self, cohort: Cohort) -> tuple[pd.DataFrame, list[Step]]:
        """The analysis data of a loaded cohort, and the patient flow. Raises CohortError (rows of
        long data that do not fit together, levels declared that the data never have)."""
        data = cohort.data
        file = cohort.path.name
        long = self.study.data.long
        if long is not None:
            varying = [c for c in codebook_varying(self.study, self.codebook) if c in data]
            data, problems = widen(data, file, self.study.data.id, long.record, long.records, varying)
            if problems:
                raise CohortError(problems, file)
        data = self.derive_columns(data.copy())
        for name, endpoint in self.endpoints.items():
            data[f"{name}_months"], data[f"{name}_event"] = self.endpoint_times(data, endpoint, cohort.cutoff)
        data, flow = self.select(data)
        self.check_levels(data, file)
        for column in self.group_terms:
            data[column] = derive.member(data, self.group_column, [self.term_level(column)])
        if self.group_column:
            data[self.group_column] = pd.Categorical(
                data[self.group_column].astype(str), categories=self.groups
            )
        return data.reset_index(drop=True), flow

    def derive_columns(self, data: pd.DataFrame) -> pd.DataFrame:
        """Every declared derivation, each once its sources exist (the study file's order otherwise)."""
        pending = list(self.study.derive)
        while pending:
            ready = [d for d in pending if all(s in data for s in d.sources)]
            if not ready:  # check_study refuses circles; a source missing from the data ends here
                missing = sorted({s for d in pending for s in d.sources if s not in data})
                raise CohortError(
                    [
                        Problem(self.study.data.file, None, m, None, "column missing for a derivation")
                        for m in missing
                    ]
                )
            for d in ready:
                data[d.name] = self._derive(data, d)
                pending.remove(d)
        return data

    def _derive(self, data: pd.DataFrame, d: Derive) -> pd.Series:
        if d.function is not None:
            return getattr(self.module, d.function)(data)
        if d.is_ is not None:
            return derive.member(data, d.from_, d.is_)
        if d.bins is not None:
            return derive.bins(data, d.from_, d.bins)
        op, threshold = next(
            (op, getattr(d, name))
            for name, op in (("at_least", ">="), ("above", ">"), ("at_most", "<="), ("below", "<"))
            if getattr(d, name) is not None
        )
        return derive.cut(data, d.from_, op, threshold)

    def endpoint_times(self, data: pd.DataFrame, endpoint: Endpoint, cutoff: pd.Timestamp | None):
        days = self.settings.days_per_month
        if endpoint.from_dates is not None:
            d = endpoint.from_dates
            return derive.time_from_dates(data, d.start, d.events, d.last_contact, cutoff, days)
        t = endpoint.from_times
        return derive.time_from_times(data, [(s.time, s.status, s.event) for s in t.sources], t.unit, days)

    def select(self, data: pd.DataFrame) -> tuple[pd.DataFrame, list[Step]]:
        """The population, step by step, with the count each step leaves."""
        flow = []
        for step in self.study.population.steps:
            keep = _keeps(data, step.keep)
            after = data[keep]
            by_group = {}
            if self.group_column:
                by_group = {g: int((after[self.group_column].astype(str) == g).sum()) for g in self.groups}
            flow.append(Step(step.id, step.label, len(data), len(after), by_group))
            data = after
        return data, flow

    def check_levels(self, data: pd.DataFrame, file: str) -> None:
        """Levels the study file declares must occur in the data: a group without a patient is an error
        (its estimates could not be computed), named with the study file's line."""
        problems = []
        if self.study.comparison is not None:
            present = set(data[self.group_column].dropna().astype(str))
            for i, level in enumerate(self.groups):
                if level not in present:
                    problems.append(
                        self.where.problem(
                            ("comparison", "levels", i), f"no patient of {file} is in this group", level
                        )
                    )
            stray = sorted(present - set(self.groups))
            if stray:
                rule = f"{file} has patients in groups the study file does not declare: {', '.join(stray)}"
                problems.append(self.where.problem(("comparison", "levels"), rule))
        raise_if(problems, self.where.file)


def _keeps(data: pd.DataFrame, keep: Keep) -> pd.Series:
    """Which rows a selection rule keeps (a missing value meets no condition but `known: false`)."""
    values = data[keep.column]
    mask = pd.Series(True, index=data.index)
    if keep.min is not None:
        mask &= values.astype(float).ge(keep.min).fillna(False).astype(bool)
    if keep.max is not None:
        mask &= values.astype(float).le(keep.max).fillna(False).astype(bool)
    text = values.astype(object).map(lambda v: None if pd.isna(v) else str(v))
    if keep.in_ is not None:
        mask &= text.isin(keep.in_)
    if keep.not_in is not None:
        mask &= ~text.isin(keep.not_in) & values.notna()
    if keep.known is not None:
        mask &= values.notna() if keep.known else values.isna()
    return mask
