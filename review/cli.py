"""`python -m review COMMAND`: the reviewer's and the resubmitting author's commands."""

from __future__ import annotations

from analysis.cli import main as run

# sub-command -> module providing `add_arguments(parser)` and `command(args) -> int`
COMMANDS: dict[str, str] = {
    "verify": "review.verify",
    "submission": "review.submission",
    "diff": "review.diff",
    "changes": "review.changes",
}


def main(argv: list[str] | None = None) -> int:
    return run(argv, COMMANDS, "python -m review", __doc__)
