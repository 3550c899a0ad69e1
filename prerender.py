"""The project's pre-render step (`project: pre-render:` in _quarto.yml), run by Quarto and by qrender.

1. Checks that this Python has the project's packages; if not, names the QUARTO_PYTHON to use.
2. Computes the analysis once (reused while its inputs' content is unchanged) and writes
   `_variables.yml`, which the front matter reads with `{{< var KEY.FORM >}}`.
3. Writes the files _quarto.yml names under .cache/render/: the CSL style, the stamp and notice
   includes, the Word reference document.
4. Drops Quarto's frozen results of the article when the analysis inputs changed, so `freeze`
   can never serve numbers computed from other data (quarto-cli #6793).
"""

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"

try:
    import yaml

    from analysis.cache import cached_run, input_digest
    from analysis.errors import UserError
    from analysis.variables import write_variables, written_for
    from qrender.errors import BuildError
    from qrender.prepare import prepare
except ImportError as exc:
    sys.exit(
        f"pre-render: this Python ({sys.executable}) lacks the project's packages ({exc.name}).\n"
        f"Build with the project's environment: `make venv`, then\n"
        f"  QUARTO_PYTHON={VENV_PYTHON} quarto render"
    )

FREEZE_RECORD = ROOT / ".cache" / "freeze-inputs"


def invalidate_freeze(digest: str, article: str) -> None:
    """Remove `_freeze/<article>/` when the analysis inputs differ from those it was frozen with."""
    frozen = ROOT / "_freeze" / Path(article).stem
    recorded = FREEZE_RECORD.read_text().strip() if FREEZE_RECORD.exists() else None
    if frozen.exists() and recorded != digest:
        shutil.rmtree(frozen)
        print(f"pre-render: analysis inputs changed; removed frozen results {frozen.relative_to(ROOT)}/")
    FREEZE_RECORD.parent.mkdir(parents=True, exist_ok=True)
    FREEZE_RECORD.write_text(digest + "\n")


def main() -> int:
    config = yaml.safe_load((ROOT / "_quarto.yml").read_text(encoding="utf-8"))
    data = config["qrender"]["data"]
    digest = input_digest(data)
    variables = ROOT / "_variables.yml"
    try:
        if written_for(variables) != digest:
            write_variables(cached_run(data).ledger, variables, digest)
        prepare(ROOT)
    except (UserError, BuildError) as exc:
        print(exc.report() if isinstance(exc, UserError) else str(exc), file=sys.stderr)
        return 2
    invalidate_freeze(digest, config.get("manuscript", {}).get("article", "index.qmd"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
