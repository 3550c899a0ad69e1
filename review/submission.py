"""`python -m review submission TAG` (`make submission TAG=v1`): archive the built article.

`submissions/TAG/` receives what a later resubmission is compared with: the article in every
format, its ledger (`numbers.json`) and per-patient analysis table, the build's input digest
(`build-stamp`), the data file's SHA-256, the code version, and the sources that are not data (the
article's qmd, its bibliography, `_quarto.yml`), so that prose edits between versions can be
traced too. The folder is written whole or not at all.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from analysis.errors import UserError
from review.changes import SUBMISSIONS
from review.cli import listing

TAG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
LEDGER_FILES = ("numbers.json", "analysis-data.csv", "recodes.csv")
BUILD_STAMP = "build-stamp"  # qrender's digest of every input of the build


class SubmissionError(UserError):
    """A tag that cannot be archived: malformed, taken, or nothing built to archive."""


def article_files(root: Path) -> tuple[Path, list[Path], list[Path]]:
    """The output folder, the built files to archive from it, and the project's sources to archive."""
    from qrender.build import output_name, staleness_inputs
    from qrender.project import load_project

    project = load_project(root)
    outputs = root / project.output_dir
    built = [outputs / output_name(project, fmt) for fmt in project.formats]
    built += [outputs / name for name in LEDGER_FILES]
    scripts = set(project.scripts)
    sources = [root / "_quarto.yml", project.article_path]
    sources += [p for p in staleness_inputs(project) if p not in scripts]  # the bibliography
    return outputs, built, sources


def archive(root: Path, tag: str) -> Path:
    if not TAG.fullmatch(tag or ""):
        raise SubmissionError(f"{tag!r}: a tag is letters, digits, '.', '_' or '-' (e.g. v1)")
    target = root / SUBMISSIONS / tag
    if target.exists():
        raise SubmissionError(f"{target}: exists; choose a new tag")
    outputs, built, sources = article_files(root)
    missing = [p for p in [*built, outputs / ".build-stamp"] if not p.is_file()]
    if missing:
        names = ", ".join(p.name for p in missing)
        raise SubmissionError(f"{outputs}: no built article to archive ({names} missing): make manuscript")
    from qrender.project import load_project

    data = root / (load_project(root).data or "")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{tag}-", dir=target.parent))
    try:
        for path in [*built, *sources]:
            shutil.copy2(path, staging / path.name)
        shutil.copy2(outputs / ".build-stamp", staging / BUILD_STAMP)
        if data.is_file():
            digest = hashlib.sha256(data.read_bytes()).hexdigest()
            (staging / "data.sha256").write_text(f"{digest}  {data.relative_to(root)}\n")
        describe = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--tags"], cwd=root, capture_output=True, text=True
        )
        version = describe.stdout.strip() if describe.returncode == 0 else "unversioned"
        (staging / "code-version").write_text(version + "\n")
        staging.chmod(0o755)
        staging.rename(target)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return target


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("tag", help="the submission's name, e.g. v1")


def command(args: argparse.Namespace) -> int:
    """Archive the built article, its ledger and sources as submissions/TAG."""
    target = archive(Path.cwd(), args.tag)
    print(f"archived {listing(target)}")
    return 0
