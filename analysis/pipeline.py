"""`analysis.run(study)`: every number, table and figure of a study's article, computed once.

The study folder's `study.yaml` declares the study (`analysis.plan`); `run` loads and validates the
data, prepares the analysis data as the plan says, and runs each declared analysis
(`analysis.results.analyses`) into the ledger.
"""

from __future__ import annotations

import argparse
import platform
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

import pandas as pd

from analysis.article.prose import add_word_counts
from analysis.article.reviewer_wording import add_reviewer_wording
from analysis.article.wording import add_wording
from analysis.data.cohort import Cohort
from analysis.data.recode import write_log
from analysis.plan.plan import Plan, Step
from analysis.plan.study import STUDY_FILE
from analysis.results import analyses, consistency
from analysis.results.analyses import PACKAGES
from analysis.results.ard import write_ard
from analysis.results.declared import ReviewerRun, add_reviewer, reviewer_columns
from analysis.results.formatting import Style
from analysis.results.ledger import Ledger


@dataclass
class Results:
    """The ledger, the analysed per-patient table, the tables and the figures of one run."""

    ledger: Ledger
    cohort: Cohort
    analysis_data: pd.DataFrame
    models: dict = field(default_factory=dict)
    curves: dict = field(default_factory=dict)
    baseline: list = field(default_factory=list)
    plan: Plan | None = None
    flow: list[Step] = field(default_factory=list)
    #: the prepared analysis data: every column, derived ones included, of the patients analysed
    data: pd.DataFrame | None = None
    #: the declared reviewer analyses' weights, weighted curves and subgroup levels (for the figures)
    reviewer: ReviewerRun = field(default_factory=ReviewerRun)
    #: the `analysis.cache` entry these results were read from (set on reading, never stored)
    cache_entry: object = None

    def __getitem__(self, key: str):
        return self.ledger[key]

    @property
    def tables(self) -> dict:
        from analysis.article import reviewer_tables, tables

        return reviewer_tables.add_reviewer_tables(tables.all_tables(self), self)

    def figures(self, folder: Path | str = "figures", write: bool = True) -> dict:
        from analysis.article import plots

        return plots.all_figures(self, Path(folder), write)

    def figure(self, name: str, folder: Path | str = "figures"):
        """One figure of the article by name (`plots.drawers`) as its print files in folder, which
        the document shows: drawn once per build, rewritten only when its content changed."""
        from analysis.article import drawing

        return drawing.figure(self, name, Path(folder))

    def write(self, outdir: Path | str) -> None:
        """numbers.json (the ledger), analysis-data.csv (what the models saw), recodes.csv and ard.csv
        (every result as a row: the Analysis Results Data form) into outdir."""
        outdir = Path(outdir)
        outdir.mkdir(parents=True, exist_ok=True)
        (outdir / "numbers.json").write_text(self.ledger.to_json(), encoding="utf-8")
        self.analysis_data.to_csv(
            outdir / "analysis-data.csv", index=False, lineterminator="\n", float_format="%.10g"
        )
        write_log(self.cohort.recode_log(), outdir / "recodes.csv")
        write_ard(self.ledger, outdir / "ard.csv")


def provenance(plan: Plan, cohort: Cohort, data_path: Path) -> dict:
    meta = cohort.meta
    comparison = {"column": plan.group_column, "levels": plan.arms} if plan.groups else {}
    return {
        **({"comparison": comparison} if comparison else {}),
        "data": {
            "path": data_path.as_posix(),
            "sha256": cohort.sha256,
            "synthetic": bool(meta.get("synthetic")),
            "cutoff_date": str(meta.get("cutoff_date")),
        },
        "packages": {
            "python": platform.python_version(),
            **{p: version(p.replace("_", "-")) for p in PACKAGES},
        },
    }


def study_folder_of(data_path: Path) -> Path:
    """The study a data file belongs to: the nearest folder above it with a study file, else here."""
    for folder in Path(data_path).resolve().parents:
        if (folder / STUDY_FILE).is_file():
            return folder
    return Path.cwd()


def style(plan: Plan) -> Style:
    """How the study prints numbers (its settings)."""
    s = plan.settings
    return Style(s.p_style, s.digits.months, s.digits.percent, s.digits.hr)


def run(
    study: str | Path | Plan = ".",
    manuscript: str | Path | None = None,
    data_path: str | Path | None = None,
) -> Results:
    """Read the study (a folder with study.yaml, or a Plan), load and validate its data, then compute
    every reported number into the ledger (and the manuscript's word counts, when its source is
    given). `data_path` replaces the study's data file (another export with the same codebook)."""
    if not isinstance(study, Plan) and Path(study).is_file():  # a data file: its study is the one around it
        data_path, study = Path(study), study_folder_of(Path(study))
    plan = study if isinstance(study, Plan) else Plan.load(study)
    path = Path(data_path) if data_path is not None else plan.data_path
    cohort = plan.load_cohort(path)
    data, flow = plan.prepare(cohort)
    own = data_path is None or path.resolve() == plan.data_path.resolve()
    shown = Path(plan.study.data.file) if own else path
    ledger = Ledger(provenance(plan, cohort, shown), style(plan))
    analyses.add_study(ledger, plan, cohort)
    analyses.add_data_handling(ledger, cohort)
    screened = flow[0].before if flow else len(data)
    analyses.add_flow(ledger, screened, flow)
    analyses.add_counts(ledger, plan, data)
    curves = {e: analyses.add_survival(ledger, plan, data, e) for e in plan.endpoints}
    analyses.add_followup(ledger, plan, data)
    models = {e: analyses.add_cox(ledger, plan, data, e) for e in plan.endpoints} if plan.study.cox else {}
    if plan.study.response is not None:
        analyses.add_response(ledger, plan, data)
    blocks = analyses.add_baseline(ledger, plan, data)
    declared = add_reviewer(ledger, plan, data)
    add_reviewer_wording(ledger, plan)
    analyses.add_published(ledger, plan)
    add_wording(ledger, plan)
    if manuscript is not None:
        add_word_counts(ledger, Path(manuscript))
    consistency.check(ledger, plan.arms)
    table = analyses.analysis_table(plan, data)
    extra = [c for c in reviewer_columns(plan) if c not in table.columns]
    table = table.join(data[extra]) if extra else table  # what the reviewer analyses saw, too
    return Results(
        ledger, cohort, table, models, curves, blocks, plan=plan, flow=flow, data=data, reviewer=declared
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "file", type=Path, nargs="?", default=None, help="the data file (default: the study's)"
    )
    parser.add_argument("--study", type=Path, default=Path("."), help="the study folder (default: here)")
    parser.add_argument("--out", type=Path, default=Path("_manuscript"))


def command(args: argparse.Namespace) -> int:
    """Run the analysis and write numbers.json, analysis-data.csv, recodes.csv and ard.csv."""
    results = run(args.study, data_path=args.file)
    results.write(args.out)
    print(f"{len(results.ledger)} numbers written to {args.out / 'numbers.json'}")
    return 0
