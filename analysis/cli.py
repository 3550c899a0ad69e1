"""`python -m analysis COMMAND`: one sub-command per module, each a clean exit code, no traceback."""

from __future__ import annotations

import argparse
import importlib
import sys

from analysis.errors import UserError

# sub-command -> module providing `add_arguments(parser)` and `command(args) -> int`
# (`verify` and `changes` read built articles; they live in the `review` package, `python -m review`)
COMMANDS: dict[str, str] = {
    "validate": "analysis.validate",
    "run": "analysis.pipeline",
    "prose": "analysis.article.prose",
    "new": "analysis.new",
    "verify": "review.verify",
    "changes": "review.changes",
}


def main(
    argv: list[str] | None = None,
    commands: dict[str, str] | None = None,
    prog: str = "python -m analysis",
    description: str | None = __doc__,
) -> int:
    parser = argparse.ArgumentParser(prog=prog, description=description)
    sub = parser.add_subparsers(dest="command", required=True)
    modules = {}
    for name, module_name in (commands or COMMANDS).items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        modules[name] = module
        module.add_arguments(sub.add_parser(name, help=(module.command.__doc__ or "").strip()))
    args = parser.parse_args(argv)
    try:
        return modules[args.command].command(args)
    except UserError as exc:
        print(exc.report(), file=sys.stderr)
        return exc.exit_code
