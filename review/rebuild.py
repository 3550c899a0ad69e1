"""The article as the current code and a data set give it, rebuilt in a private copy of the project.

`rebuild(root, data)` copies the project's sources (what `_quarto.yml` names: the article, its
bibliography, the pre- and post-render scripts, the `qrender.inputs`, the style files, and the
renderer) into `.cache/verify/<data set>/`, puts the data set in the place `qrender.data` names,
and runs `python -m qrender` there. The copy shares the project's analysis cache
(`.cache/analysis/`, keyed by content), and qrender skips a build whose inputs' content is
unchanged, so a second verification of the same data and code costs a content check, not a build.
One copy is kept per data set (the three most recently used), so verifying against two data sets
in turn does not rebuild each time.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

from analysis.errors import UserError

PRIVATE = Path(".cache") / "verify"
GENERATED = Path(".cache")  # files under it are written by the build, never copied


class RebuildError(UserError):
    """The article could not be rebuilt from the data (the build's own message says why)."""


def project_sources(root: Path) -> list[Path]:
    """Every file and folder of the project that a build reads, relative to the project folder."""
    from qrender.build import staleness_inputs
    from qrender.project import QRENDER_CODE, load_project

    project = load_project(root)
    paths = [root / "_quarto.yml", project.article_path, *staleness_inputs(project), *project.filters]
    paths += [root / p for p in project.inputs]
    for fmt in project.formats:
        for key in ("css", "reference-doc", "include-in-header", "include-before-body", "include-after-body"):
            paths += project.option_files(fmt, key)
    if QRENDER_CODE.is_relative_to(root.resolve()):  # the renderer, where it is part of the project
        paths.append(QRENDER_CODE)
    out: list[Path] = []
    for path in paths:
        # what _quarto.yml names outside the project (a study folder names the repository's shared
        # engine by `../../`) keeps its relative place
        relative = Path(os.path.relpath(path.resolve(), root.resolve()))
        generated = relative.parts[: len(GENERATED.parts)] == GENERATED.parts
        covered = any(relative.parts[: len(o.parts)] == o.parts for o in out)
        if not generated and not covered and (root / relative).exists():
            out = [o for o in out if o.parts[: len(relative.parts)] != relative.parts] + [relative]
    return out


def copy_sources(root: Path, target: Path, sources: list[Path]) -> None:
    """Replace the copies of the sources in target by the project's current files."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for relative in sources:
        source, copy = root / relative, target / relative
        if copy.is_dir() and not copy.is_symlink():
            shutil.rmtree(copy)
        elif copy.exists() or copy.is_symlink():
            copy.unlink()
        copy.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, copy, ignore=ignore)
        else:
            shutil.copy2(source, copy)


RENDERERS = ("qrender", "quarto")
QUARTO_STAMP = ".verify-inputs"  # the inputs' digest a Quarto rebuild was made from


def quarto_launcher() -> str | None:
    """Quarto as the Makefile finds it: $QUARTO, else `quarto` on PATH."""
    return os.environ.get("QUARTO") or shutil.which("quarto")


def rebuild(root: Path, data: Path | None = None, renderer: str = "qrender") -> Path:
    """Build the article from `data` (default: the project's own data file) with the current code
    and the given renderer (qrender, or Quarto for articles Quarto rendered); return the folder
    holding its outputs and numbers.json."""
    from qrender.project import file_sha256, load_project

    project = load_project(root)
    workdir = root / PRIVATE
    workdir.mkdir(parents=True, exist_ok=True)
    source = Path(data) if data is not None else root / (project.data or "")
    name = (file_sha256(source)[:16] if source.is_file() else "project") + f"-{renderer}"
    with open(workdir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one rebuild at a time in this project
        sources = project_sources(root)
        # sources outside the project (`../../analysis`) keep their place relative to the copy: the
        # copy sits as deep in its folder as the project sits below the farthest of them
        up = max((len([p for p in s.parts if p == ".."]) for s in sources), default=0)
        copy = workdir / name  # one copy per data set and renderer: verifying two never thrashes
        _prune(workdir, keep=copy)
        copy = copy.joinpath(*root.resolve().parts[len(root.resolve().parts) - up :])
        copy_sources(root, copy, sources)
        if data is not None and project.data:
            _place_data(Path(data), copy / project.data)
        _share_analysis_cache(root, copy)
        if renderer == "quarto":
            _render_with_quarto(copy)
        else:
            _run([sys.executable, "-m", "qrender", str(copy)], copy)
    return copy / project.output_dir


def _share_analysis_cache(root: Path, copy: Path) -> None:
    cache = root / ".cache" / "analysis"
    cache.mkdir(parents=True, exist_ok=True)
    shared = copy / ".cache" / "analysis"
    if not shared.is_symlink():
        shared.parent.mkdir(parents=True, exist_ok=True)
        if shared.exists():
            shutil.rmtree(shared)
        shared.symlink_to(cache.resolve(), target_is_directory=True)


def _render_with_quarto(copy: Path) -> None:
    """`quarto render` in the copy, skipped when the inputs' content is that of the last render
    (Quarto itself renders every time)."""
    from qrender.build import staleness_inputs
    from qrender.project import input_hash, load_project

    launcher = quarto_launcher()
    if launcher is None:
        raise RebuildError("Quarto is needed to rebuild a Quarto article: set QUARTO or put quarto on PATH")
    project = load_project(copy)
    digest = input_hash(project, staleness_inputs(project))
    stamp = copy / project.output_dir / QUARTO_STAMP
    if stamp.is_file() and stamp.read_text().strip() == digest:
        return
    _run([launcher, "render"], copy, {"QUARTO_PYTHON": sys.executable})
    stamp.write_text(digest + "\n")


def _run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
    environment = {**os.environ, **(env or {})}
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=environment)
    if result.returncode != 0:
        message = (result.stderr.strip() or result.stdout.strip()).splitlines()[-12:]
        raise RebuildError(
            "the article could not be rebuilt from the data to compare with:\n  " + "\n  ".join(message)
        )


def _prune(workdir: Path, keep: Path, most: int = 3) -> None:
    """At most `most` rebuilt copies: the least recently used ones go."""
    others = [p for p in workdir.iterdir() if p.is_dir() and p != keep]
    copies = sorted(others, key=lambda p: p.stat().st_mtime)
    for old in copies[: max(len(copies) - (most - 1), 0)]:
        shutil.rmtree(old)
    if keep.exists():
        keep.touch()


def _place_data(data: Path, target: Path) -> None:
    """The given data set, and its metadata file, where the project reads its data."""
    from analysis.cache import metadata_path

    meta = metadata_path(data)
    for path in (data, meta):
        if not path.is_file():
            raise RebuildError(f"{path}: no such file (--data needs the data file and {meta.name} beside it)")
    shutil.copy2(data, target)
    shutil.copy2(meta, metadata_path(target))
