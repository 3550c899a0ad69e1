"""`python -m analysis new FOLDER --data export.csv`: a new study a researcher can build at once.

Writes, in FOLDER: the export (checked for direct identifiers first) as `data/<name>.csv` with its
metadata, a codebook drafted from the export's columns (each type and level guessed from the values
and marked for the author to confirm), `study.yaml` with a comment on every section, a
`manuscript.qmd` with the usual sections whose numbers are all inline references to the ledger,
`_quarto.yml`, `references.bib` and a Makefile. `make manuscript` in FOLDER builds the article.

What is guessed, and can be given instead:
- the patient id (`--id`): a column whose values are all different, named like an id;
- the group compared (`--group`): a column of two to six levels named like an arm or a group;
  none gives a single-arm study;
- the endpoint (`--time`, `--status`, `--unit`): a numeric column named like a time and a 0/1
  column named like a status or an event.
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import shutil
from pathlib import Path

import pandas as pd
import yaml

from analysis.data.cohort import read_export
from analysis.data.privacy import identifier_problems
from analysis.errors import CohortError, Problem, UserError

ENGINE = Path(__file__).resolve().parents[1]
#: the files a new study starts from (the manuscript skeleton, references, Makefile)
SCAFFOLD = Path(__file__).resolve().parent / "scaffold"
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
INTEGER = re.compile(r"^[+-]?\d+$")
NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
NAMED = {
    "id": re.compile(r"(^|_)(id|patient|subject|study_?no)($|_)", re.I),
    "group": re.compile(r"(^|_)(group|arm|treatment|trt|cohort)($|_)", re.I),
    "time": re.compile(r"(^|_)(time|days|months|futime|os_?time|survival)($|_)", re.I),
    "status": re.compile(r"(^|_)(status|event|dead|death|fustat|censor)($|_)", re.I),
}
MAX_LEVELS = 10


class NewStudyError(UserError):
    """The study could not be scaffolded as asked (nothing was written)."""


def guess_type(values: pd.Series) -> dict:
    """A codebook entry drafted from a column's written values (None = empty)."""
    known = values.dropna().astype(str).str.strip()
    known = known[known != ""]
    distinct = sorted(known.unique(), key=lambda v: (len(v), v))
    if len(known) and known.str.match(ISO).all():
        return {"type": "date"}
    if len(known) and known.str.match(INTEGER).all():
        numbers = known.astype(int)
        if len(distinct) <= 2 and set(numbers) <= {0, 1}:
            return {"type": "integer", "min": 0, "max": 1, "labels": {0: "No", 1: "Yes"}}
        return {"type": "integer", "min": int(numbers.min()), "max": int(numbers.max())}
    if len(known) and known.str.match(NUMBER).all():
        numbers = known.astype(float)
        return {"type": "number", "min": float(numbers.min()), "max": float(numbers.max())}
    if 0 < len(distinct) <= MAX_LEVELS:
        return {"type": "category", "values": list(distinct), "labels": {v: v for v in distinct}}
    return {"type": "string"}


def pick(frame: pd.DataFrame, kind: str, given: str | None, fits) -> str | None:
    """The column given, else the first whose name and values fit the kind."""
    if given is not None:
        if given not in frame.columns:
            raise NewStudyError(f"--{kind}: no column {given!r} in the export ({', '.join(frame.columns)})")
        return given
    return next((c for c in frame.columns if NAMED[kind].search(c) and fits(frame[c])), None)


def _is_unique(values: pd.Series) -> bool:
    return values.notna().all() and values.is_unique


def _levels(values: pd.Series) -> bool:
    return 2 <= values.dropna().nunique() <= 6


def _numeric(values: pd.Series) -> bool:
    known = values.dropna().astype(str)
    return bool(len(known)) and known.str.match(NUMBER).all()


def _binary(values: pd.Series) -> bool:
    return set(values.dropna().astype(str)) <= {"0", "1"} and values.notna().any()


def draft_codebook(frame: pd.DataFrame, patient: str) -> dict:
    columns = {}
    for name in frame.columns:
        spec = guess_type(frame[name])
        if name == patient:
            spec = {"type": "string", "required": True, "unique": True, "pattern": r"^[A-Za-z0-9_.-]{1,40}$"}
        else:
            spec["required"] = bool(frame[name].notna().all())
        spec["label"] = name.replace("_", " ").capitalize()
        spec["description"] = "DRAFTED from the export: confirm type, levels, labels and range"
        columns[name] = spec
    return {"columns": columns}


def _yaml(data: object) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def study_file(
    name: str, frame: pd.DataFrame, codebook: dict, patient: str, group, time, status, unit
) -> str:
    """study.yaml for the export, every section with a comment."""
    columns = codebook["columns"]
    variables = [c for c in frame.columns if c not in {patient, group, time, status}]
    table1 = [c for c in variables if columns[c]["type"] in ("integer", "number", "category")]
    candidates = [c for c in variables if columns[c]["type"] in ("integer", "number") and c in table1]
    lines = [
        "# The study, declared: the engine (analysis/) computes every number of the article from this file.",
        "# Reference of every key: docs/study-file.md in the engine. DRAFTED by `python -m analysis new`:",
        "# read every section and confirm it (the codebook's types and levels were guessed from the data).",
        "",
        "data:",
        f"  file: data/{name}.csv             # its metadata (cut-off date, synthetic flag) beside it",
        "  codebook: data/codebook.yaml   # types, levels and labels of every column",
        f"  id: {patient}",
        "",
        "population:    # selection steps, each a rule on a column (their counts: the patient flow)",
        "  source: Patients in the data",
        "  steps: []    # e.g. - {id: adults, label: Aged 18 or older, keep: {column: age, min: 18}}",
        "",
    ]
    if group:
        levels = [str(v) for v in columns[group]["values"]] if "values" in columns[group] else None
        levels = levels or sorted({str(v) for v in frame[group].dropna()})
        keys = {lv: re.sub(r"[^A-Za-z0-9]+", "_", lv).strip("_") or "g" for lv in levels}
        keys = {lv: (k if re.match(r"^[A-Za-z]", k) else f"g{k}") for lv, k in keys.items()}
        lines += [
            "comparison:                    # the groups compared; delete the section for a single-arm study",
            f"  column: {group}",
            f"  levels: {_flow(levels)}     # print order",
            f"  reference: {_flow([levels[0]])[1:-1]}          # hazard ratios are against this group",
            f"  keys: {_flow(keys)}   # each group's name in ledger keys (n.<name>)",
            "",
        ]
    months = {"days": "days", "weeks": "weeks", "months": "months", "years": "years"}[unit]
    lines += [
        "endpoints:                      # each from dates or from a time and a status column",
        "  os:",
        "    label: overall survival",
        "    abbreviation: OS",
        "    event: death",
        f"    from_times: {{unit: {months}, sources: [{{time: {time}, status: {status}}}]}}",
        "    landmarks: [12]              # months at which survival rates are reported",
        "followup: os                    # median follow-up by reverse Kaplan-Meier of this endpoint",
        "",
        "table1:                         # baseline characteristics, in order (labels from the codebook)",
        "  variables:",
        *[f"    - {{column: {c}}}" for c in table1],
        "",
    ]
    if candidates:
        lines += [
            "cox:                           # Cox models: each candidate alone, then the multivariable model",
            f"  candidates: {_flow(candidates)}",
            "  selection: {rule: p_below, threshold: 0.10}   # or {rule: all}, {rule: list, covariates: []}",
            "",
        ]
    lines += [
        "settings: {ci_level: 0.95, alpha: 0.05, p_style: journal}",
        "",
        "article:",
        "  time_origin: the start of follow-up",
        "  abbreviations: CI, confidence interval; HR, hazard ratio; IQR, interquartile range.",
    ]
    return "\n".join(lines) + "\n"


def _flow(value: object) -> str:
    return yaml.safe_dump(value, default_flow_style=True, width=1000, allow_unicode=True).strip()


MANUSCRIPT = (SCAFFOLD / "manuscript.qmd").read_text(encoding="utf-8")

REFERENCES = (SCAFFOLD / "references.bib").read_text(encoding="utf-8")

MAKEFILE = (SCAFFOLD / "Makefile").read_text(encoding="utf-8")


def quarto_config(folder: Path, data: str) -> str:
    """_quarto.yml for the study: the engine's pre- and post-render steps and shared project files,
    named relative to the study folder."""
    source = yaml.safe_load((ENGINE / "_quarto.yml").read_text(encoding="utf-8"))
    engine = Path(os.path.relpath(ENGINE, folder.resolve())).as_posix()
    source["project"]["pre-render"] = f"{engine}/prerender.py"
    source["project"]["post-render"] = f"{engine}/postrender.py"
    source["format"]["html"]["css"] = f"{engine}/qrender/templates/manuscript.css"
    source["filters"] = [{**f, "path": f"{engine}/{f['path']}"} for f in source["filters"]]
    # the skeleton prints numbers with inline code, which Quarto's execution cache refuses: its
    # execution is reused by `freeze` instead (the pre-render step drops it when an input changes)
    source["execute"] = {"echo": False, "warning": False, "freeze": "auto"}
    source["qrender"] = {
        "inputs": [
            "data",
            "study.yaml",
            "references.bib",
            f"{engine}/analysis",
            f"{engine}/requirements.lock",
        ],
        "data": data,
        "synthetic-notice": "SYNTHETIC DATA: not real patients",
        "floats": "end",
    }
    head = (
        "# A Quarto manuscript project drafted by `python -m analysis new`: `quarto render` builds it\n"
        f"# (QUARTO_PYTHON={engine}/.venv/bin/python), and `make manuscript` builds it with qrender.\n"
    )
    return head + _yaml(source)


def manuscript(plan_groups: list[str] | None, keys: dict[str, str] | None, cox: bool) -> str:
    """The manuscript skeleton, every number an inline reference to the ledger."""
    text = MANUSCRIPT
    if plan_groups:
        arms = [keys[g] for g in plan_groups]
        ref = arms[0]
        text = text.replace("@ALL@", ref)
        groups = ", ".join(
            f'`{{python}} L["n.{a}"]` in group `{{python}} R.plan.group_labels["{a}"]`' for a in arms
        )
        text = text.replace("@GROUPS@", f" ({groups})")
        text = text.replace(
            "@LOGRANK_METHODS@", " and compared between groups with the log-rank test [@mantel1966logrank]"
        )
        medians = "; ".join(
            f'`{{python}} L.with_ci("os.median.{a}")` months in group `{{python}} R.plan.group_labels["{a}"]`'
            for a in arms
        )
        text = text.replace(
            "@RESULTS@",
            'Overall survival `{python} L["wording.os.difference"]` (@fig-km-os): '
            f'the median was {medians} (`{{python}} L.p("os.logrank.p")`).',
        )
    else:
        text = text.replace("@ALL@", "all").replace("@GROUPS@", "").replace("@LOGRANK_METHODS@", "")
        text = text.replace(
            "@RESULTS@",
            'The median overall survival was `{python} L.with_ci("os.median.all")` months (@fig-km-os).',
        )
    if cox:
        text = text.replace(
            "@COX@",
            "\nHazard ratios of every covariate are given in @tbl-cox [@cox1972].\n\n"
            '```{python}\n#| label: tbl-cox\n#| tbl-cap: "Univariable and multivariable Cox regression."\n'
            'T["cox"]\n```\n',
        )
    else:
        text = text.replace("@COX@", "")
    return text


def scaffold(
    folder: Path,
    data: Path,
    patient: str | None = None,
    group: str | None = None,
    time: str | None = None,
    status: str | None = None,
    unit: str = "days",
) -> list[Path]:
    """Write the study folder; refuse (writing nothing) a folder that holds a study already, an
    export with identifiers, or one where the columns needed cannot be found."""
    folder = Path(folder)
    if (folder / "study.yaml").exists():
        raise NewStudyError(f"{folder}: holds a study already (study.yaml); choose an empty folder")
    export = read_export(data)
    privacy = identifier_problems(export.frame, data.name)
    if privacy:
        raise CohortError(privacy, data.name)
    frame = export.frame
    patient = pick(frame, "id", patient, _is_unique) or next(
        (c for c in frame.columns if _is_unique(frame[c])), None
    )
    numbered = patient is None  # no column tells the patients apart: number the rows (pseudonymous)
    if numbered:
        patient = "patient_no"
        frame = frame.assign(patient_no=[f"P{i + 1:05d}" for i in range(len(frame))])
        frame = frame[["patient_no", *frame.columns[:-1]]]
    group = pick(frame, "group", group, _levels)
    time = pick(frame, "time", time, _numeric)
    status = pick(frame, "status", status, _binary)
    missing = [k for k, v in (("time", time), ("status", status)) if v is None]
    if missing:
        flags = " and ".join(f"--{k} COLUMN" for k in missing)
        raise NewStudyError(
            f"{data.name}: no column looks like the endpoint's {' or '.join(missing)}; give {flags}"
        )
    codebook = draft_codebook(frame, patient)
    if group is not None and codebook["columns"][group]["type"] != "category":
        spec = codebook["columns"][group]
        levels = sorted({str(v) for v in frame[group].dropna()})
        spec.update(type="category", values=levels, labels={v: v for v in levels})
        spec.pop("min", None)
        spec.pop("max", None)
    codebook["columns"][status] = {
        **codebook["columns"][status],
        "type": "integer",
        "min": 0,
        "max": 1,
        "labels": {0: "Censored", 1: "Event"},
    }
    name = re.sub(r"[^A-Za-z0-9_-]+", "_", data.stem) or "data"
    written = []
    (folder / "data").mkdir(parents=True, exist_ok=True)

    def write(path: Path, text: str) -> None:
        path.write_text(text, encoding="utf-8")
        written.append(path)

    if data.suffix.lower() == ".csv" and not numbered:
        shutil.copyfile(data, folder / "data" / f"{name}.csv")
    else:
        frame.to_csv(folder / "data" / f"{name}.csv", index=False)
    written.append(folder / "data" / f"{name}.csv")
    meta = {
        "synthetic": False,
        "description": f"Drafted by `python -m analysis new` from {data.name}"
        + ("; its rows were numbered (patient_no), as no column told the patients apart" if numbered else "")
        + ". Describe the data here.",
        "cutoff_date": datetime.date.today().isoformat(),
    }
    write(
        folder / "data" / f"{name}.meta.yaml",
        "# The data's metadata: confirm the cut-off date.\n" + _yaml(meta),
    )
    head = (
        "# Codebook DRAFTED from the export by `python -m analysis new`: every type, level, label and range\n"
        "# was guessed from the values; confirm each entry (and write its description).\n"
    )
    write(folder / "data" / "codebook.yaml", head + _yaml(codebook))
    write(folder / "study.yaml", study_file(name, frame, codebook, patient, group, time, status, unit))
    groups = codebook["columns"][group]["values"] if group else None
    keys = None
    if groups:
        from analysis.plan.study import load_study

        keys = dict(load_study(folder / "study.yaml")[0].comparison.keys)
        keys = {str(g): keys.get(str(g), str(g)) for g in groups}
    cox = "cox:" in (folder / "study.yaml").read_text(encoding="utf-8")
    write(folder / "manuscript.qmd", manuscript([str(g) for g in groups] if groups else None, keys, cox))
    write(folder / "_quarto.yml", quarto_config(folder, f"data/{name}.csv"))
    write(folder / "references.bib", REFERENCES)
    write(
        folder / "Makefile",
        MAKEFILE.replace("@ENGINE@", ENGINE.as_posix()).replace("@DATA@", f"data/{name}.csv"),
    )
    write(folder / ".gitignore", "_manuscript/\n.cache/\n_variables.yml\n_freeze/\nfigures/\n")
    return written


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", type=Path, help="the new study's folder (created)")
    parser.add_argument("--data", type=Path, required=True, help="the export (.csv or .xlsx), pseudonymised")
    parser.add_argument("--id", help="the patient id column (default: guessed)")
    parser.add_argument(
        "--group", help="the column of the groups compared (default: guessed; none: single arm)"
    )
    parser.add_argument("--time", help="the endpoint's time column (default: guessed)")
    parser.add_argument("--status", help="the endpoint's status column, 1 = event (default: guessed)")
    parser.add_argument("--unit", default="days", choices=["days", "weeks", "months", "years"])


def command(args: argparse.Namespace) -> int:
    """Scaffold a study folder from an export: study.yaml, codebook, manuscript, Quarto project."""
    if not args.data.is_file():
        raise CohortError([Problem(args.data.name, None, None, None, "file not found")], args.data.name)
    written = scaffold(args.folder, args.data, args.id, args.group, args.time, args.status, args.unit)
    print(
        f"{args.folder}: a new study ({len(written)} files). "
        "Next: confirm data/codebook.yaml and study.yaml, then"
    )
    print(f"  cd {args.folder} && make manuscript")
    return 0
