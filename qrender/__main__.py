"""`python -m qrender [--force] [--to FORMAT] [--output-dir DIR] [PROJECT]`: render the manuscript
project (every step reported with its time and whether the cache served it), or say it is up to
date. `python -m qrender preview [PROJECT]` serves the HTML article and rebuilds it on every save."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from qrender.errors import BuildError


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["preview"]:
        from qrender.preview import main as preview

        return preview(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m qrender", description=__doc__)
    parser.add_argument("project", nargs="?", default=".", help="folder holding _quarto.yml")
    parser.add_argument("--force", action="store_true", help="rebuild even if nothing changed")
    parser.add_argument("--to", action="append", choices=["typst", "docx", "html"], metavar="FORMAT",
                        help="render only this format (typst, docx or html; repeatable), as quarto's --to")
    parser.add_argument("--output-dir", help="write the outputs here instead of the project's output-dir")
    args = parser.parse_args(argv)
    from qrender.build import REPORT, build, is_current, staleness_inputs
    from qrender.progress import Progress
    from qrender.project import input_hash, load_project

    progress = Progress()
    try:
        project = load_project(Path(args.project).resolve())
        formats = [f for f in project.formats if not args.to or f in args.to]
        if not formats:
            only = ", ".join(project.formats)
            raise BuildError(f"--to {' '.join(args.to)}: the project renders only {only}")
        digest = input_hash(project, staleness_inputs(project))
        if not args.force and is_current(project, digest, formats, args.output_dir):
            progress.write(project.root / REPORT, "up to date")
            print(f"{args.output_dir or project.output_dir}/ is up to date (inputs {digest[:12]})")
            return 0
        target = build(project, digest, formats, args.output_dir, progress)
    except BuildError as exc:
        print(f"qrender: build failed, previous outputs kept.\n{exc}", file=sys.stderr)
        return exc.exit_code
    names = ", ".join(sorted(p.name for p in target.iterdir() if p.suffix in (".pdf", ".docx", ".html")))
    print(f"qrender: {progress.summary()}", file=sys.stderr)
    print(f"qrender: wrote {names} to {target.relative_to(project.root)}/")
    return 0


def exit_now(code: int) -> None:
    """End the process once its work is done: the exit handlers run and the streams are flushed,
    but the interpreter skips tearing down every module and object one by one, which after a cold
    build (pandas, lifelines, matplotlib, the results) takes a third of a second and changes nothing."""
    import atexit

    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    exit_now(main())
