"""The study file read and checked before anything runs: `load_study(path) -> Study`.

Three passes, every problem of a pass reported at once with the file, line and key:
1. YAML: the file exists, is readable and is a mapping (a syntax error names its line);
2. form: the pydantic schema (`analysis.plan.schema`): types, required and unknown keys;
3. meaning: every column named is in the codebook or derived, every level is a level of its
   column, the derivations form no circle and their functions exist, endpoints read columns of
   the right type (`check_study`). The levels are checked against the data too, once they are
   loaded (`check_data`).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import yaml
from pydantic import ValidationError

from analysis.data.codebook import Codebook
from analysis.errors import UserError
from analysis.plan.schema import Study

STUDY_FILE = "study.yaml"


@dataclass(frozen=True)
class StudyProblem:
    """One broken rule of the study file: where (line, dotted key), what was written, the rule."""

    file: str
    line: int | None
    key: str | None
    value: object
    rule: str

    def __str__(self) -> str:
        where = [self.file]
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.key:
            where.append(f"key '{self.key}'")
        value = "" if self.value is None else f": value {self.value!r}"
        return f"{', '.join(where)}{value}: {self.rule}"


class StudyError(UserError):
    """The study file broke one or more rules; holds every problem found."""

    def __init__(self, problems: list[StudyProblem], file: str = STUDY_FILE) -> None:
        self.problems = list(problems)
        self.file = file
        super().__init__(self.report())

    def report(self) -> str:
        head = f"{len(self.problems)} problem(s) in the study file {self.file}:"
        return "\n".join([head, *(f"  - {p}" for p in self.problems)])


def _lines(node: yaml.Node, path: tuple = (), out: dict | None = None) -> dict[tuple, int]:
    """The line (1-based) of every key path of a YAML document."""
    out = {} if out is None else out
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            here = (*path, str(key.value))
            out[here] = key.start_mark.line + 1
            _lines(value, here, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _lines(item, (*path, i), out)
    return out


def dotted(path: tuple) -> str:
    """('derive', 2, 'from') -> 'derive[2].from'."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


class Located:
    """The study file's text with the line of each key path, to place a problem."""

    def __init__(self, path: Path, text: str) -> None:
        self.file = path.name
        try:
            root = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError:
            root = None
        self.lines = _lines(root) if root is not None else {}

    def line(self, path: tuple) -> int | None:
        """The line of the deepest part of `path` that the file writes."""
        for end in range(len(path), -1, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return None

    def problem(self, path: tuple, rule: str, value: object = None) -> StudyProblem:
        return StudyProblem(self.file, self.line(path), dotted(path) or None, value, rule)


def read_study(path: Path) -> tuple[dict, Located]:
    """The file as YAML (pass 1)."""
    name = path.name
    if not path.is_file():
        raise StudyError([StudyProblem(name, None, None, None, "study file not found")], name)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StudyError(
            [StudyProblem(name, None, None, None, f"not readable as UTF-8 text ({exc})")], name
        ) from None
    try:
        content = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        words = f"{getattr(exc, 'problem', None) or exc}".replace("\n", " ")
        raise StudyError(
            [StudyProblem(name, line, None, None, f"YAML syntax error: {words}")], name
        ) from None
    if content is None:
        raise StudyError([StudyProblem(name, None, None, None, "the study file is empty")], name)
    if not isinstance(content, dict):
        rule = "the study file must be a mapping of sections (data, endpoints, table1, ...)"
        raise StudyError([StudyProblem(name, 1, None, None, rule)], name)
    return content, Located(path, text)


def _pydantic_problems(error: ValidationError, where: Located) -> list[StudyProblem]:
    problems = []
    for item in error.errors():
        loc = tuple(item["loc"])
        # a model-level check ("give exactly one of ...") is located at its mapping
        rule = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            rule = "unknown key (not in the study file's schema; see docs/study-file.md)"
        elif item["type"] == "missing":
            rule = "required key is missing"
        value = item.get("input") if item["type"] not in ("missing", "model_type") else None
        if isinstance(value, (dict, list)):
            value = None
        problems.append(where.problem(loc, rule, value))
    return problems


def load_study(path: str | Path = STUDY_FILE) -> tuple[Study, Located]:
    """The study file, read and checked in form (passes 1 and 2); `check_study` checks its meaning."""
    path = Path(path)
    content, where = read_study(path)
    try:
        return Study.model_validate(content), where
    except ValidationError as error:
        raise StudyError(_pydantic_problems(error, where), path.name) from None


def derivations_module(folder: Path, name: str | None) -> ModuleType | None:
    """The study's own derivations module (a .py file in the study folder), imported by path."""
    if name is None:
        return None
    path = (folder / name).resolve()
    spec = importlib.util.spec_from_file_location(f"study_derivations_{abs(hash(path))}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def check_study(
    study: Study, where: Located, codebook: Codebook, folder: Path, module: ModuleType | None = None
) -> list[StudyProblem]:
    """Pass 3: every name the study file uses, against the codebook, the derivations and the module."""
    problems: list[StudyProblem] = []
    columns = codebook.columns
    long = study.data.long
    wide: dict[str, str] = {}  # column after widening -> its codebook column
    varying = set()
    if long is not None:
        if long.record not in columns:
            problems.append(
                where.problem(("data", "long", "record"), "column not in the codebook", long.record)
            )
        else:
            declared = [str(v) for v in columns[long.record].get("values", [])]
            for value in long.records:
                if declared and value not in declared:
                    rule = f"not a value of {long.record} in the codebook ({', '.join(declared)})"
                    problems.append(where.problem(("data", "long", "records", value), rule, value))
        varying = set(codebook_varying(study, codebook))
        for column in varying:
            for record in long.records.values():
                wide[f"{column}_{record}"] = column
    derived = {d.name: d for d in study.derive}
    known = set(columns) | set(wide) | set(derived)

    def kind(column: str) -> str | None:
        base = wide.get(column, column)
        if base in columns:
            return columns[base]["type"]
        return "derived" if column in derived else None

    def need(path: tuple, column: str, types: tuple[str, ...] = ()) -> bool:
        if column not in known:
            rule = "column not in the codebook nor derived"
            if long is not None and column in varying:
                rule += f" (it varies within a patient: use {column}_<record>)"
            problems.append(where.problem(path, rule, column))
            return False
        if types and kind(column) not in types:
            problems.append(where.problem(path, f"must be a column of type {' or '.join(types)}", column))
            return False
        return True

    def levels_of(column: str) -> list[str] | None:
        base = wide.get(column, column)
        if base in columns and "values" in columns[base]:
            return [str(v) for v in columns[base]["values"]]
        if base in columns and "labels" in columns[base]:
            return [str(v) for v in columns[base]["labels"]]
        if column in derived and derived[column].levels:
            return list(derived[column].levels)
        return None

    def need_levels(path: tuple, column: str, levels: list[str]) -> None:
        allowed = levels_of(column)
        if allowed is None:
            return
        for i, level in enumerate(levels):
            if level not in allowed:
                rule = f"not a level of {column} ({', '.join(allowed)})"
                problems.append(where.problem((*path, i), rule, level))

    need(("data", "id"), study.data.id)
    if study.data.derivations is not None and module is None:
        target = folder / study.data.derivations
        if not target.is_file():
            problems.append(
                where.problem(
                    ("data", "derivations"), "file not found in the study folder", study.data.derivations
                )
            )
    for i, step in enumerate(study.population.steps):
        path = ("population", "steps", i, "keep")
        if need((*path, "column"), step.keep.column):
            for name in ("in", "not_in"):
                values = getattr(step.keep, "in_" if name == "in" else name)
                if values:
                    need_levels((*path, name), step.keep.column, values)
    if study.comparison is not None:
        c = study.comparison
        if c.reference not in c.levels:
            rule = f"the reference is not one of the levels ({', '.join(c.levels)})"
            problems.append(where.problem(("comparison", "reference"), rule, c.reference))
        if need(("comparison", "column"), c.column, ("category",)):
            need_levels(("comparison", "levels"), c.column, c.levels)
        for level in c.words:
            if level not in c.levels:
                problems.append(where.problem(("comparison", "words", level), "not one of the levels", level))
    for i, d in enumerate(study.derive):
        path = ("derive", i)
        if d.name in columns or d.name in wide:
            problems.append(
                where.problem((*path, "name"), "a derived column may not replace a data column", d.name)
            )
        if d.function is not None:
            for j, used in enumerate(d.uses):
                need((*path, "uses", j), used)
            if module is not None and not callable(getattr(module, d.function, None)):
                rule = f"no function {d.function} in {study.data.derivations}"
                problems.append(where.problem((*path, "function"), rule, d.function))
            if module is None and study.data.derivations is None:
                problems.append(
                    where.problem(
                        (*path, "function"), "a function needs data.derivations (the module)", d.function
                    )
                )
        elif need((*path, "from"), d.from_):
            if d.is_ is not None:
                need_levels((*path, "is"), d.from_, d.is_)
            elif kind(d.from_) in ("category", "string", "date"):
                rule = "a cut-point or bins need a numeric column (use 'is' for levels)"
                problems.append(where.problem((*path, "from"), rule, d.from_))
    problems += [
        where.problem(("derive", i, "uses" if derived[n].function else "from"), rule, n)
        for i, n, rule in _cycles(study)
    ]
    for name, endpoint in study.endpoints.items():
        path = ("endpoints", name)
        if endpoint.from_dates is not None:
            d = endpoint.from_dates
            need((*path, "from_dates", "start"), d.start, ("date",))
            for j, event in enumerate(d.events):
                need((*path, "from_dates", "events", j), event, ("date",))
            need((*path, "from_dates", "last_contact"), d.last_contact, ("date",))
        else:
            for j, source in enumerate(endpoint.from_times.sources):
                need((*path, "from_times", "sources", j, "time"), source.time, ("integer", "number"))
                need((*path, "from_times", "sources", j, "status"), source.status)
    if study.response is not None:
        for i, criterion in enumerate(study.response.criteria):
            if need(("response", "criteria", i, "column"), criterion.column, ("category",)):
                allowed = levels_of(criterion.column) or []
                stray = [c for c in study.response.categories if c not in allowed]
                if stray:
                    rule = f"categories {stray} are not levels of {criterion.column}"
                    problems.append(where.problem(("response", "categories"), rule))
    for i, variable in enumerate(study.table1.variables):
        need(("table1", "variables", i, "column"), variable.column)
    if study.cox is not None:
        for i, candidate in enumerate(study.cox.candidates):
            if need(("cox", "candidates", i), candidate) and kind(candidate) in (
                "category",
                "string",
                "date",
            ):
                rule = "a Cox covariate must be numeric or 0/1 (derive one with 'is' or a cut-point)"
                problems.append(where.problem(("cox", "candidates", i), rule, candidate))
        for i, chosen in enumerate(study.cox.selection.covariates or []):
            if chosen not in study.cox.candidates:
                problems.append(
                    where.problem(("cox", "selection", "covariates", i), "not one of the candidates", chosen)
                )
    if study.reviewer is not None:
        problems += check_reviewer(study, where, need, kind)
    return problems


def check_reviewer(study: Study, where: Located, need, kind) -> list[StudyProblem]:
    """The reviewer section's names: two groups compared, endpoints and steps that exist, columns in
    the codebook or derived (`need` records those itself), the HR an E-value reads declared."""
    problems: list[StudyProblem] = []
    r = study.reviewer
    base = ("reviewer",)
    analyses = [name for name in ("iptw", "subgroups", "rmst", "evalue") if getattr(r, name) is not None]
    if analyses and (study.comparison is None or len(study.comparison.levels) != 2):
        rule = "compares two groups: declare a comparison of two levels"
        problems += [where.problem((*base, name), rule) for name in analyses]
    steps = [step.id for step in study.population.steps]
    for step in r.flow.exclusions if r.flow else []:
        if step not in steps:
            rule = f"not a step of population.steps ({', '.join(steps) or 'none'})"
            problems.append(where.problem((*base, "flow", "exclusions", step), rule, step))
    for name in ("iptw", "subgroups", "evalue"):
        for i, endpoint in enumerate(getattr(getattr(r, name), "endpoints", None) or []):
            if endpoint not in study.endpoints:
                rule = f"not an endpoint ({', '.join(study.endpoints)})"
                problems.append(where.problem((*base, name, "endpoints", i), rule, endpoint))
    for endpoint in r.rmst.horizon if r.rmst else {}:
        if endpoint not in study.endpoints:
            rule = f"not an endpoint ({', '.join(study.endpoints)})"
            problems.append(where.problem((*base, "rmst", "horizon", endpoint), rule, endpoint))
    for i, column in enumerate(r.iptw.covariates if r.iptw else []):
        path = (*base, "iptw", "covariates", i)
        if need(path, column) and kind(column) in ("category", "string", "date"):
            rule = "a propensity covariate must be numeric or 0/1 (derive one with 'is' or a cut-point)"
            problems.append(where.problem(path, rule, column))
    for i, column in enumerate(r.subgroups.variables if r.subgroups else []):
        path = (*base, "subgroups", "variables", i)
        if need(path, column) and kind(column) in ("number", "date", "string"):
            rule = "a subgroup variable must be a category or 0/1 (derive one with 'is', a cut-point or bins)"
            problems.append(where.problem(path, rule, column))
    if r.evalue is not None:
        needed = {"iptw": r.iptw, "adjusted": study.cox, "unadjusted": study.cox}[r.evalue.hr]
        if needed is None:
            section = "reviewer.iptw" if r.evalue.hr == "iptw" else "cox"
            rule = f"needs the {section} section"
            problems.append(where.problem((*base, "evalue", "hr"), rule, r.evalue.hr))
    return problems


def codebook_varying(study: Study, codebook: Codebook) -> list[str]:
    """In long data, the columns that vary within a patient: those the codebook marks `per_record`."""
    return [name for name, spec in codebook.columns.items() if spec.get("per_record")]


def _cycles(study: Study) -> list[tuple[int, str, str]]:
    """Derivations that depend on themselves through others: (index, name, rule)."""
    derived = {d.name: d for d in study.derive}
    found = []
    for i, d in enumerate(study.derive):
        seen, stack = set(), [s for s in d.sources if s in derived]
        while stack:
            current = stack.pop()
            if current == d.name:
                found.append((i, d.name, f"circular derivation: {d.name} depends on itself"))
                break
            if current in seen:
                continue
            seen.add(current)
            stack += [s for s in derived[current].sources if s in derived]
    return found


def raise_if(problems: list[StudyProblem], file: str) -> None:
    if problems:
        raise StudyError(problems, file)
