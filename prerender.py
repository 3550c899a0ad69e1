"""The project's pre-render step (`project: pre-render:` in _quarto.yml), run by Quarto and by qrender.

1. Checks that this Python has the project's packages; if not, names the QUARTO_PYTHON to use.
2. Checks the prose: a hand-typed number stops the build before anything is computed.
3. Computes the analysis once (reused while its inputs' content is unchanged) and draws its
   figures into `figures/` (print files rewritten only when a figure's content changed; the
   document shows these files). The figures are drawn by a process started before the analysis
   (`analysis.article.drawing`), which waits for the results. Under Quarto this step waits for the figures
   before it ends; under qrender, which runs the document in this same process, the document and
   the post-render step wait for them, so they are drawn while the document is put together.
4. Writes `_variables.yml`, which the text reads with `{{< var KEY.FORM >}}`: the cached ledger and the
   manuscript's word counts (which change with the prose, so they never reach the cached analysis
   or the document's code). Records the keys read that way, for the numbers table.
5. Writes the files _quarto.yml names under .cache/render/: the CSL style, the stamp and notice
   includes, the Word reference document.
6. Drops Quarto's frozen or cached results of the article when the analysis inputs or anything else the
   document's code reads changed (`execution_digest`), so `freeze` can never serve numbers computed
   from other data (quarto-cli #6793) or other supplement files or engine code.

When the analysis is reused, nothing here imports pandas, SciPy or lifelines.

The step works on the project it is run for (Quarto's QUARTO_PROJECT_DIR, else the working folder,
where Quarto and qrender run it), so every study folder's `_quarto.yml` can name this one script
(`pre-render: ../../prerender.py`).
"""

import importlib.util
import os
import shutil
import sys
from pathlib import Path

ENGINE = Path(__file__).resolve().parent
ROOT = Path(os.environ.get("QUARTO_PROJECT_DIR") or os.getcwd()).resolve()
VENV_PYTHON = ENGINE / ".venv" / "bin" / "python"
#: what the article's code needs; looked up, not imported, so a reused analysis costs no import
NEEDED = ("yaml", "pandas", "scipy", "matplotlib", "great_tables", "lifelines")

missing = [name for name in NEEDED if importlib.util.find_spec(name) is None]
if missing:
    sys.exit(
        f"pre-render: this Python ({sys.executable}) lacks the project's packages ({', '.join(missing)}).\n"
        f"Build with the project's environment: `make venv`, then\n"
        f"  QUARTO_PYTHON={VENV_PYTHON} quarto render"
    )

import yaml  # noqa: E402

from analysis.article.drawing import SHARED, Drawing, DrawingFailed, share  # noqa: E402
from analysis.article.prose import check_manuscript  # noqa: E402
from analysis.article.variables import (  # noqa: E402
    KEYS_USED,
    keys_used,
    manuscript_yaml,
    record_keys_used,
    supplement_yaml,
    used_yaml,
    write_variables,
)
from analysis.cache import InputsChanged, analysis_entry, stored_entry  # noqa: E402
from analysis.errors import UserError  # noqa: E402
from qrender.errors import BuildError  # noqa: E402
from qrender.prepare import prepare  # noqa: E402

FREEZE_RECORD = ROOT / ".cache" / "freeze-inputs"
#: Quarto's execution cache (`execute: cache: true`): jupyter-cache's folder beside the article
JUPYTER_CACHE = ".jupyter_cache"


def invalidate_freeze(digest: str, article: str) -> None:
    """Remove Quarto's stored executions of the article, `_freeze/<article>/` and the jupyter-cache
    folder, when the inputs (`execution_digest`) differ from those they were made with: both are
    keyed on the article's text or code cells only, not on what the code reads."""
    recorded = FREEZE_RECORD.read_text().strip() if FREEZE_RECORD.exists() else None
    for stored in (ROOT / "_freeze" / Path(article).stem, ROOT / JUPYTER_CACHE):
        if stored.exists() and recorded != digest:
            shutil.rmtree(stored)
            where = stored.relative_to(ROOT)
            print(f"pre-render: inputs of the document's code changed; removed stored results {where}/")
    FREEZE_RECORD.parent.mkdir(parents=True, exist_ok=True)
    FREEZE_RECORD.write_text(digest + "\n")


def drop_unreadable_cache() -> None:
    """Remove Quarto's execution cache when a file of it cannot be read (Quarto would stop on it,
    not recompute): its database and each stored notebook."""
    import json
    import sqlite3

    folder = ROOT / JUPYTER_CACHE
    if not folder.exists():
        return
    try:
        with sqlite3.connect(f"file:{folder / 'global.db'}?mode=ro", uri=True) as db:
            if db.execute("PRAGMA quick_check").fetchone() != ("ok",):
                raise sqlite3.DatabaseError("quick_check failed")
        for notebook in folder.glob("executed/*/*.ipynb"):
            json.loads(notebook.read_text(encoding="utf-8"))
    except (sqlite3.Error, ValueError, OSError):
        shutil.rmtree(folder)
        print(f"pre-render: Quarto's execution cache was unreadable; removed {JUPYTER_CACHE}/ (recomputed)")


def execution_digest(analysis_digest: str) -> str:
    """What Quarto's frozen execution depends on beyond the article's own text (which Quarto's
    `freeze: auto` hashes): the analysis inputs and the project's other inputs (`qrender.inputs`:
    supplement, lock; `_quarto.yml`; the engine's code), by content."""
    import hashlib

    from qrender.project import input_hash, load_project

    code = input_hash(load_project(ROOT), [], article=False)
    return hashlib.sha256(f"{analysis_digest}\0{code}".encode()).hexdigest()


def main() -> int:
    config = yaml.safe_load((ROOT / "_quarto.yml").read_text(encoding="utf-8"))
    article = ROOT / config.get("manuscript", {}).get("article", "index.qmd")
    figures = ROOT / "figures"
    drawing = None
    try:
        check_manuscript(article)
        entry = stored_entry(ROOT)
        if entry is None or not entry.figures_current(figures):
            drawing = Drawing(figures)  # loads the plotting stack while the analysis runs
        entry = entry or analysis_entry(ROOT)
        print(f"pre-render: {entry.describe()}")
        if drawing is None:
            print(f"pre-render: figures: {len(entry.figures())} unchanged ({', '.join(entry.figures())})")
        else:
            drawing.start(entry)
            if os.environ.get(SHARED):
                share(drawing)
                print("pre-render: figures: drawing in the background (the post-render step waits for them)")
            else:
                for line in drawing.finish():
                    print(f"pre-render: {line}")
        text = article.read_text(encoding="utf-8")
        try:
            body = used_yaml(entry.variables(), keys_used(text))
            supplement = supplement_yaml(ROOT, text)
        except FileNotFoundError as exc:
            raise BuildError(f"{article.name}: {exc.args[0]}") from None
        write_variables(ROOT / "_variables.yml", entry.digest, body, supplement, manuscript_yaml(article))
        record_keys_used(text, ROOT / KEYS_USED)
        prepare(ROOT)
    except BaseException as exc:  # the figure process ends with the step, whatever stopped it
        if drawing is not None:
            drawing.stop()
        if not isinstance(exc, (UserError, BuildError, InputsChanged, DrawingFailed)):
            raise  # an unforeseen failure: reported by Python
        print(exc.report() if isinstance(exc, UserError) else str(exc), file=sys.stderr)
        return 2
    invalidate_freeze(execution_digest(entry.digest), article.name)
    drop_unreadable_cache()
    return 0


if __name__ == "__main__":
    sys.exit(main())
