"""`quarto render` against Quarto's own floor, with qrender beside it, measured in one run (issue 23).

    QUARTO=<launcher> .venv/bin/python bench/quarto.py [--rounds N]      (make bench-quarto)

On a copy of the project's tracked files (what a fresh clone holds), each round times:

- Quarto's floor: `quarto render` of a document of one paragraph and one Python chunk importing
  pandas, matplotlib and great_tables, to typst, docx and html (a kernel start and three formats:
  the least any Quarto build of this article can cost);
- `quarto render` cold (no `.cache/`, `.jupyter_cache/`, `_freeze/`, outputs or figures: a fresh
  clone), after a prose edit (one word of `manuscript.qmd`), and with nothing changed;
- `python -m qrender` the same three ways.

Target (issue 23): prose edit and nothing changed within 2 x Quarto's floor. The table gives each
median, its runs and its ratio to the floor.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from loop import edit_prose, fresh_copy, make_cold, timed  # noqa: E402

FLOOR_QMD = """---
title: "Floor"
format:
  typst: default
  docx: default
  html: default
---

One paragraph of prose, as short as a document gets.

```{python}
import pandas, matplotlib.pyplot, great_tables
```
"""


def quarto_launcher() -> str:
    found = os.environ.get("QUARTO") or shutil.which("quarto")
    if not found:
        raise SystemExit("Quarto not found: set QUARTO=<launcher> or put quarto on PATH")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args(argv)
    quarto = quarto_launcher()
    os.environ["QUARTO_PYTHON"] = sys.executable
    steps = ["Quarto floor", "quarto cold", "quarto prose edit", "quarto nothing changed",
             "qrender cold", "qrender prose edit", "qrender nothing changed"]
    runs: dict[str, list[float]] = {step: [] for step in steps}
    with tempfile.TemporaryDirectory(prefix="bench-quarto-") as tmp:
        floor = Path(tmp) / "floor"
        floor.mkdir()
        (floor / "floor.qmd").write_text(FLOOR_QMD, encoding="utf-8")
        project = fresh_copy(Path(tmp) / "project")
        for number in range(1, args.rounds + 1):
            for path in (floor / "floor.pdf", floor / "floor.docx", floor / "floor.html"):
                path.unlink(missing_ok=True)
            runs["Quarto floor"].append(timed([quarto, "render", "floor.qmd"], floor))
            renderers = {"quarto": [quarto, "render"], "qrender": [sys.executable, "-m", "qrender"]}
            for renderer, command in renderers.items():
                make_cold(project)
                for name in ("_freeze", ".jupyter_cache", ".quarto"):
                    shutil.rmtree(project / name, ignore_errors=True)
                runs[f"{renderer} cold"].append(timed(command, project))
                edit_prose(project)
                runs[f"{renderer} prose edit"].append(timed(command, project))
                runs[f"{renderer} nothing changed"].append(timed(command, project))
            print(f"round {number}: " + ", ".join(f"{s} {runs[s][-1]:.1f} s" for s in steps), file=sys.stderr)
    base = statistics.median(runs["Quarto floor"])
    print("| step | median (s) | runs (s) | x Quarto's floor |")
    print("|---|---:|---|---:|")
    for step in steps:
        median = statistics.median(runs[step])
        listed = ", ".join(f"{r:.1f}" for r in runs[step])
        print(f"| {step} | {median:.1f} | {listed} | {median / base:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
