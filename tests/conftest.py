"""Shared fixtures: the committed cohort, and small copies of it to break on purpose."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
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
    "study.yaml", "derivations.py",
    "data", "supplement", "analysis", "qrender", "review",
]
PUBLISHED = ROOT.parent / "shared" / "seed" / "published.yaml"


def copy_project(target: Path, synthetic: bool = True, origin: Path = ROOT) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for name in PROJECT_FILES:
        source = origin / name
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


# qrender with typst.compile wrapped to keep the typst source beside the PDF (as Quarto's
# keep-typ does): tests edit that source and compile it again to tamper with a PDF at the text level.
KEEP_TYPST = """
import shutil, sys
from pathlib import Path
import typst
compile_pdf = typst.compile
def compile_and_keep(source, *args, **kwargs):
    shutil.copy(source, Path(source).with_name(Path(source).name.lstrip(".")))
    return compile_pdf(source, *args, **kwargs)
typst.compile = compile_and_keep
from qrender.__main__ import main
sys.exit(main(sys.argv[1:]))
"""


def build(project: Path, keep_typst: bool = False) -> Path:
    command = ["-c", KEEP_TYPST] if keep_typst else ["-m", "qrender"]
    result = subprocess.run(
        [sys.executable, *command, str(project)], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    return project / "_manuscript"


def update_cohort(folder: Path) -> Path:
    """The next data version, as after a data update: five more patients, and three living patients
    followed for three months longer, with the cut-off moved on to cover them."""
    path = folder / "cohort.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    extra = frame.tail(5).copy()
    extra["patient_id"] = [f"P{len(frame) + 1 + i:04d}" for i in range(5)]
    alive = frame.index[frame["death_date"] == ""][:3]
    later = pd.to_datetime(frame.loc[alive, "last_followup_date"]) + pd.Timedelta(days=90)
    frame.loc[alive, "last_followup_date"] = later.dt.strftime("%Y-%m-%d")
    pd.concat([frame, extra], ignore_index=True).to_csv(path, index=False)
    meta_path = folder / "cohort.meta.yaml"
    meta = yaml.safe_load(meta_path.read_text())
    meta["cutoff_date"] = max(pd.Timestamp(str(meta["cutoff_date"])), later.max()).strftime("%Y-%m-%d")
    meta_path.write_text(yaml.safe_dump(meta, sort_keys=False))
    return path


#: The figures the HAIC study declares (`plots.drawers`): one per endpoint and kind, the response
#: figure and the reviewer analyses' figures.
HAIC_FIGURES = frozenset(
    {"km_os", "km_pfs", "forest_os", "forest_pfs", "response", "flow", "love"}
    | {"km_iptw_os", "km_iptw_pfs", "subgroups_os", "subgroups_pfs"}
)


def r_values(command: list[str]) -> dict[str, float]:
    """Run an R reference script that prints `key value` lines; NA is NaN."""
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    values = {}
    for line in result.stdout.splitlines():
        key, value = line.split()
        values[key] = float("nan") if value == "NA" else float(value)
    return values


@pytest.fixture(scope="session")
def haic_results():
    """`analysis.run` of the HAIC study, once per session, for the tests that only read it."""
    import analysis

    return analysis.run(ROOT)


def plan_without_reviewer():
    """The HAIC study without its reviewer analyses: for tests that run the analysis on many
    variants of the data and read only the main results."""
    from analysis.plan.plan import Plan

    plan = Plan.load(ROOT)
    plan.study = plan.study.model_copy(update={"reviewer": None})
    return plan


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Path:
    """The article built from a copy of the project; its typst source kept as manuscript.typ."""
    return build(copy_project(tmp_path_factory.mktemp("article") / "project"), keep_typst=True)


# A sentence of the article as v1 worded it; v2 restores the manuscript's wording (a prose edit).
PROSE = ("We therefore compared survival", "We accordingly compared survival")


@dataclass
class Resubmission:
    project: Path  # a copy of the project after v2 was built and diffed against v1
    old: Path  # submissions/v1
    current: Path  # the v2 build (_manuscript)
    data: Path  # the v2 data file
    diff: subprocess.CompletedProcess  # `python -m review diff v1`


def review(project: Path, *args: str) -> subprocess.CompletedProcess:
    """`python -m review ...` run in a project copy (its own code, its own submissions)."""
    command = [sys.executable, "-m", "review", *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=project)


@pytest.fixture(scope="session")
def resubmission(tmp_path_factory) -> Resubmission:
    """v1 built and archived, then a data update (five more patients, longer follow-up for three)
    and a prose edit, v2 built, and the resubmission kit made against v1."""
    project = copy_project(tmp_path_factory.mktemp("resubmission") / "project")
    qmd = project / "manuscript.qmd"
    wording = qmd.read_text(encoding="utf-8")
    assert PROSE[0] in wording
    qmd.write_text(wording.replace(*PROSE, 1), encoding="utf-8")
    build(project)
    archived = review(project, "submission", "v1")
    assert archived.returncode == 0, archived.stderr
    qmd.write_text(wording, encoding="utf-8")
    data = update_cohort(project / "data")
    current = build(project)
    return Resubmission(project, project / "submissions" / "v1", current, data, review(project, "diff", "v1"))


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
