"""The project's post-render step (`project: post-render:` in _quarto.yml), run by Quarto and qrender
after every format was written.

Waits for the figures the pre-render step left drawing in the background (qrender, which runs both
steps and the document in one process; `analysis.article.drawing`). Writes the ledger (`numbers.json`, with
the manuscript's word counts) and the per-patient analysis table (`analysis-data.csv`) beside the
article, from the same cached analysis the article printed (its files: no import of the analysis's
scientific stack), and finishes the outputs as qrender.prepare.finish does (the stamp in the Word
file's properties). Ends the build by pruning `.cache/` to the entries of the last N builds
(`qrender.prune`, N from `qrender: keep-builds:`), and prints its size. Like the pre-render step, it
works on the project it is run for.
"""

import os
import sys
from pathlib import Path

import yaml

from analysis.article.drawing import DrawingFailed, finish_shared
from analysis.cache import analysis_entry
from qrender.prepare import finish
from qrender.prune import human, keep_builds, record_and_prune, status

ROOT = Path(os.environ.get("QUARTO_PROJECT_DIR") or os.getcwd()).resolve()


def main() -> int:
    config = yaml.safe_load((ROOT / "_quarto.yml").read_text(encoding="utf-8"))
    out = Path(os.environ.get("QUARTO_PROJECT_OUTPUT_DIR", ROOT / config["project"]["output-dir"]))
    article = config.get("manuscript", {}).get("article", "index.qmd")
    try:
        for line in finish_shared():
            print(f"post-render: {line}")
    except DrawingFailed as exc:
        print(exc, file=sys.stderr)
        return 2
    entry = analysis_entry(ROOT)
    entry.write(out, manuscript=ROOT / article)
    finish(ROOT, out)
    return prune_cache(config, entry)


def prune_cache(config: dict, entry) -> int:
    """The end of a build: keep in .cache/ the entries of the last N builds only (`qrender.prune`),
    and print the cache's size."""
    try:
        keep = keep_builds(config)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    used = {"analysis": [entry.digest], "figures": list(entry.figures().values())}
    removed, freed = record_and_prune(ROOT, used, keep)
    pruned = f"; removed {removed} entries unused by the last {keep} builds ({human(freed)})"
    print(f"post-render: {status(ROOT)}{pruned if removed else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
