"""Shared fixtures: the committed cohort, and small copies of it to break on purpose."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COHORT = ROOT / "data" / "cohort.csv"
META = ROOT / "data" / "cohort.meta.yaml"


def write_export(frame: pd.DataFrame, folder: Path, name: str = "export.csv", **csv) -> Path:
    """Write a frame as an export with the committed metadata beside it."""
    path = folder / name
    if path.suffix == ".xlsx":
        frame.to_excel(path, index=False)
    else:
        frame.to_csv(path, index=False, **csv)
    shutil.copy(META, folder / f"{path.stem}.meta.yaml")
    return path


@pytest.fixture
def raw_rows() -> pd.DataFrame:
    """The first 12 patients of the committed export, as text, the way a file holds them."""
    return pd.read_csv(COHORT, dtype=str, keep_default_na=False).head(12)


PROJECT_FILES = [
    "manuscript.qmd", "_quarto.yml", "references.bib", "prerender.py", "postrender.py", "requirements.lock",
    "data", "supplement", "analysis", "qrender",
]
PUBLISHED = ROOT.parent / "shared" / "seed" / "published.yaml"


def copy_project(target: Path, synthetic: bool = True) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for name in PROJECT_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, target / name)
    if not synthetic:
        meta_path = target / "data" / "cohort.meta.yaml"
        meta = yaml.safe_load(meta_path.read_text())
        meta["synthetic"] = False
        meta_path.write_text(yaml.safe_dump(meta))
    return target


def build(project: Path) -> Path:
    result = subprocess.run(
        [sys.executable, "-m", "qrender", str(project)], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    return project / "_manuscript"


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Path:
    return build(copy_project(tmp_path_factory.mktemp("article") / "project"))


#: Real Quarto, found as `$QUARTO` or `quarto` on PATH (`.ci/run` installs the kit from ../shared/quarto).
QUARTO = os.environ.get("QUARTO") or shutil.which("quarto")
needs_quarto = pytest.mark.skipif(
    not QUARTO, reason="Quarto not found: set QUARTO=<launcher> or put quarto on PATH (../shared/quarto)"
)


def quarto(project: Path, *args: str, python: str | None = sys.executable) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "QUARTO_PYTHON"}
    if python:
        env["QUARTO_PYTHON"] = python
    return subprocess.run(
        [QUARTO, "render", *args], cwd=project, env=env, capture_output=True, text=True, timeout=900
    )


@pytest.fixture(scope="session")
def quarto_render(tmp_path_factory) -> subprocess.CompletedProcess:
    project = copy_project(tmp_path_factory.mktemp("quarto") / "project")
    result = quarto(project)
    result.project = project  # type: ignore[attr-defined]
    return result


@pytest.fixture(scope="session")
def quarto_built(quarto_render) -> Path:
    assert quarto_render.returncode == 0, quarto_render.stdout + quarto_render.stderr
    return quarto_render.project / "_manuscript"
