"""`python -m qrender [--force] [PROJECT]`: render the manuscript project, or say it is up to date."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from qrender.errors import BuildError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qrender", description=__doc__)
    parser.add_argument("project", nargs="?", default=".", help="folder holding _quarto.yml")
    parser.add_argument("--force", action="store_true", help="rebuild even if nothing changed")
    args = parser.parse_args(argv)
    from qrender.build import build, is_current, staleness_inputs
    from qrender.project import input_hash, load_project

    try:
        project = load_project(Path(args.project).resolve())
        digest = input_hash(project, staleness_inputs(project))
        if not args.force and is_current(project, digest):
            print(f"{project.output_dir}/ is up to date (inputs {digest[:12]})")
            return 0
        target = build(project, digest)
    except BuildError as exc:
        print(f"qrender: build failed, previous outputs kept.\n{exc}", file=sys.stderr)
        return exc.exit_code
    names = ", ".join(sorted(p.name for p in target.iterdir() if p.suffix in (".pdf", ".docx", ".html")))
    print(f"qrender: wrote {names} to {target.relative_to(project.root)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
