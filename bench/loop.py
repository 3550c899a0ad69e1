"""The writing loop's speed against its floor, measured in one run (issue 13).

    .venv/bin/python bench/loop.py [--rounds N]

On a copy of the project's tracked files (what a fresh clone holds), each round times, in turn:

- floor: a Python start importing pandas, matplotlib and great_tables, one small pandoc call and
  one small typst compile (the least any build of the three formats costs);
- cold: `python -m qrender` with no cache, no outputs and no figures (a fresh clone);
- no-op: the same command again, nothing changed;
- prose edit: one word of `manuscript.qmd` changed, all three formats rebuilt.

Rounds interleave the four, so a machine shared with other work slows them alike; the table gives
each median and its ratio to the floor's. Targets: prose edit <= 2 x floor, cold <= 5 x floor,
no-op < 0.3 s. Each build's own report (`.cache/qrender/report.json`) says which steps were reused;
the prose edits must reuse the analysis and every code unit, or the run stops with an error.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLOOR = """
import subprocess, sys
import pandas, matplotlib.pyplot, great_tables, pypandoc, typst
subprocess.run([pypandoc.get_pandoc_path(), "-f", "markdown", "-t", "html"], input=b"# floor",
               check=True, capture_output=True)
typst.compile(sys.argv[1], output=sys.argv[2])
"""
WORDS = ("is much less clear", "is far less clear")


def fresh_copy(target: Path) -> Path:
    """The tracked files of the repository (as a clone has them), with their current content."""
    names = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, text=True
    ).stdout.split("\0")
    for name in filter(None, names):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def timed(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr[-3000:]}")
    return seconds


def make_cold(project: Path) -> None:
    for name in (".cache", "_manuscript", "_variables.yml"):
        path = project / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    for path in (project / "figures").glob("*.*"):
        if path.suffix in (".pdf", ".png", ".tiff"):
            path.unlink()


def edit_prose(project: Path) -> None:
    qmd = project / "manuscript.qmd"
    text = qmd.read_text(encoding="utf-8")
    old, new = WORDS if WORDS[0] in text else WORDS[::-1]
    qmd.write_text(text.replace(old, new, 1), encoding="utf-8")


def check_reused(project: Path) -> None:
    """A prose edit must run no code and reuse the analysis: read the build's own report."""
    report = json.loads((project / ".cache" / "qrender" / "report.json").read_text())
    units = [s for s in report["steps"] if s["kind"] in ("chunk", "inline", "front")]
    ran = [s["name"] for s in units if s["status"] != "reused"]
    if ran:
        raise SystemExit(f"prose edit ran code units {ran}: the cache missed")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    python = sys.executable
    times: dict[str, list[float]] = {"floor": [], "cold": [], "no-op": [], "prose edit": []}
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        project = fresh_copy(folder / "project")
        floor_script, floor_typ = folder / "floor.py", folder / "floor.typ"
        floor_script.write_text(FLOOR)
        floor_typ.write_text("= Floor\n\nOne paragraph.\n")
        build = [python, "-m", "qrender", str(project)]
        floor = [python, str(floor_script), str(floor_typ), str(folder / "floor.pdf")]
        timed(build, ROOT)  # warm the disk cache and the interpreter's compiled modules
        timed(floor, ROOT)
        for round_number in range(args.rounds):
            times["floor"].append(timed(floor, ROOT))
            make_cold(project)
            times["cold"].append(timed(build, ROOT))
            times["no-op"].append(timed(build, ROOT))
            edit_prose(project)
            times["prose edit"].append(timed(build, ROOT))
            check_reused(project)
            print(f"round {round_number + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items()),
                  file=sys.stderr, flush=True)
    floor = statistics.median(times["floor"])
    rows = ["| step | median (s) | runs (s) | x floor | target |", "|---|---:|---|---:|---|"]
    for name, values in times.items():
        ratio = statistics.median(values) / floor
        target = {"prose edit": "<= 2 x floor", "cold": "<= 5 x floor", "no-op": "< 0.3 s"}.get(name, "")
        runs = ", ".join(f"{v:.2f}" for v in values)
        rows.append(f"| {name} | {statistics.median(values):.2f} | {runs} | {ratio:.2f} | {target} |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
