"""`python -m review COMMAND`: the reviewer's and the resubmitting author's commands."""

from __future__ import annotations

import sys
from pathlib import Path

from analysis.cli import main as run

# sub-command -> module providing `add_arguments(parser)` and `command(args) -> int`
COMMANDS: dict[str, str] = {
    "verify": "review.verify",
    "submission": "review.submission",
    "diff": "review.diff",
    "changes": "review.changes",
}


def listing(folder: Path) -> str:
    """`folder/: name, name, ...`, relative to the project: how a command says what it wrote."""
    names = ", ".join(sorted(p.name for p in folder.iterdir()))
    return f"{folder.relative_to(Path.cwd())}/: {names}"


def main(argv: list[str] | None = None) -> int:
    from qrender.errors import BuildError

    try:
        return run(argv, COMMANDS, "python -m review", __doc__)
    except BuildError as exc:  # not a project folder, or its _quarto.yml cannot be read
        print(exc, file=sys.stderr)
        return 2
