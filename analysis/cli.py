"""`python -m analysis COMMAND`: one sub-command per module, each a clean exit code, no traceback."""

from __future__ import annotations

import argparse
import importlib
import sys

from analysis.errors import UserError

# sub-command -> module providing `add_arguments(parser)` and `command(args) -> int`
COMMANDS: dict[str, str] = {
    "validate": "analysis.cohort",
    "run": "analysis.pipeline",
    "verify": "analysis.verify",
    "changes": "analysis.changes",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    modules = {}
    for name, module_name in COMMANDS.items():
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
