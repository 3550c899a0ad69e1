"""`python -m analysis validate FILE`: check an export before anything is computed from it.

Against the study's codebook (the study file in `--study`, by default here) and, when there is a
study file, through the study's own preparation too (long data widened, derivations, the population
selected), so the summary gives the patients per group and the events per endpoint. `--codebook`
checks the file against a codebook alone.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from analysis.data.codebook import load_codebook
from analysis.data.cohort import default_codebook, load_cohort, summary
from analysis.plan.plan import Plan
from analysis.plan.study import STUDY_FILE


def study_summary(plan: Plan, path: Path) -> str:
    cohort = plan.load_cohort(path)
    data, flow = plan.prepare(cohort)
    details = []
    if plan.groups:
        counts = data[plan.group_column].astype(str).value_counts()
        groups = ", ".join(f"{g}: {int(counts.get(g, 0))}" for g in plan.groups)
        details.append(f"patients: {len(data)} ({groups})")
    else:
        details.append(f"patients: {len(data)}")
    for step in flow:
        details.append(f"  {step.label}: {step.excluded} excluded, {step.after} remain")
    events = ", ".join(f"{e} {int(data[f'{e}_event'].sum())}" for e in plan.endpoints)
    details.append(f"events: {events}")
    return summary(cohort, details)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="cohort export (.csv or .xlsx) with its .meta.yaml beside it")
    parser.add_argument("--study", type=Path, default=Path("."), help="the study folder (default: here)")
    parser.add_argument("--codebook", type=Path, help="check against this codebook alone (no study file)")


def command(args: argparse.Namespace) -> int:
    """Validate a cohort export against the study's codebook and print a summary (recodes included)."""
    if args.codebook is not None:
        print(summary(load_cohort(args.file, load_codebook(args.codebook))))
    elif (args.study / STUDY_FILE).is_file():
        print(study_summary(Plan.load(args.study), args.file))
    else:
        print(summary(load_cohort(args.file, load_codebook(default_codebook(args.file)))))
    return 0
