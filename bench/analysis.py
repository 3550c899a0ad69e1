"""Time `analysis.run` (plus figures) on the 100-patient cohort and on generated cohorts.

Usage: .venv/bin/python bench/analysis.py [--reviewer] [SIZES...]   (default: 100 10000 100000 1000000)
--reviewer runs each size twice: with the study's declared reviewer analyses and without them.
Each size runs in a fresh process, so the time includes imports and the peak memory is its own.
Prints a Markdown table, with the CPU time of `analysis.run` beside its wall time (the machine is
shared, so the wall time includes waiting). Targets for `analysis.run` including imports: 100
patients under 2 s, 100,000 under 60 s; 1,000,000 is measured and reported. Survival results come
from lifelines on every row (no collapsing into frequency weights, which Efron ties would not allow).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHILD = """
import json, resource, sys, time
def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
start = time.perf_counter()
import analysis
from pathlib import Path
from analysis.pipeline import study_folder_of
from analysis.plan.plan import Plan
plan = Plan.load(study_folder_of(Path(sys.argv[1])))
if sys.argv[3] == "without":  # the study as declared, but without its reviewer analyses
    plan = Plan(plan.study.model_copy(update={"reviewer": None}), plan.codebook, plan.folder, plan.where,
                plan.module)
results = analysis.run(plan, data_path=sys.argv[1])
ran, ran_cpu = time.perf_counter() - start, cpu()
results.figures(sys.argv[2])
total = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"run": ran, "run_cpu": ran_cpu, "total": total, "peak_mb": peak}))
"""


def measure(data: Path, figures: Path, variant: str = "with") -> dict:
    """One size in a fresh process: the study as declared (`with`) or without its reviewer section."""
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(data), str(figures), variant],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if result.returncode != 0:
        raise SystemExit(f"analysis of {data} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(sizes: list[int], variants: tuple[str, ...] = ("with",)) -> None:
    rows = [
        "| patients | reviewer analyses | generate (s) | analysis.run incl. imports (s) | its CPU time (s) "
        "| with figures (s) | peak memory (MB) |",
        "|---:|:---|---:|---:|---:|---:|---:|",
    ]
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        for n in sizes:
            if n == 100:
                data, made = ROOT / "data" / "cohort.csv", 0.0
            else:
                data = folder / f"cohort-{n}.csv"
                started = time.perf_counter()
                subprocess.run(
                    [sys.executable, "-m", "synthetic", "generate", "--n", str(n), "--out", str(data)],
                    cwd=ROOT,
                    check=True,
                    capture_output=True,
                )
                shutil.copy(ROOT / "data" / "cohort.meta.yaml", folder / f"cohort-{n}.meta.yaml")
                made = time.perf_counter() - started
            for variant in variants:
                m = measure(data, folder / f"figures-{n}-{variant}", variant)
                rows.append(
                    f"| {n:,} | {variant} | {made:.1f} | {m['run']:.1f} | {m['run_cpu']:.1f} "
                    f"| {m['total']:.1f} | {m['peak_mb']:,.0f} |"
                )
                print(rows[-1], file=sys.stderr, flush=True)
    print("\n".join(rows))


if __name__ == "__main__":
    arguments = sys.argv[1:]
    # --reviewer: each size with the study's reviewer analyses and without them, to show their cost
    variants = ("with", "without") if "--reviewer" in arguments else ("with",)
    main([int(a) for a in arguments if a != "--reviewer"] or [100, 10_000, 100_000, 1_000_000], variants)
