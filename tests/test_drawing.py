"""Figures drawn while the document is put together (issue 13): qrender shows a chunk's future of an
image once it is ready; the project's figures are drawn by a background process that the
document (qrender) or the pre-render step itself (Quarto, a process of its own) waits for."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bs4 import BeautifulSoup

from analysis.article.drawing import SHARED
from qrender.build import SHARED_PROCESS
from tests.conftest import HAIC_FIGURES, ROOT, copy_project
from tests.test_render import _append, _line_of, copy_fixture, render

#: a 2 x 1 PNG, red then blue
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAIAAAABCAIAAAB7QOjdAAAAEElEQVR4nGP4z8DAwMDwHwAE/wH/s8sSaQAAAABJRU5ErkJggg=="
LATER = f'''
```{{python}}
#| label: fig-later
#| fig-cap: "An image another thread finishes after the chunk has run."
import base64
import threading
from concurrent.futures import Future


class Later:
    def _repr_png_(self):
        return base64.b64decode("{PNG}")


later = Future()
threading.Timer(0.3, lambda: later.{{outcome}}).start()
later
```
'''


def report(project: Path) -> dict:
    return json.loads((project / ".cache" / "qrender" / "report.json").read_text())


def test_the_two_sides_name_the_same_variable():
    assert SHARED == SHARED_PROCESS


def test_a_future_of_an_image_is_shown_once_ready(tmp_path):
    project = copy_fixture(tmp_path)
    _append(project, LATER.replace("{outcome}", "set_result(Later())"))
    result = render(project, "--to", "html")
    assert result.returncode == 0, result.stderr
    html = BeautifulSoup((project / "_manuscript" / "index.html").read_text(encoding="utf-8"), "lxml")
    figure = html.find(id="fig-later")
    assert figure is not None and "finishes after the chunk" in figure.get_text()
    image = figure.find("img")
    assert image["src"].startswith("data:image/png;base64,") and PNG in image["src"]
    waited = [s for s in report(project)["steps"] if s["kind"] == "images"]
    assert len(waited) == 1 and waited[0]["name"].startswith("1 shown by the document")


def test_a_failed_future_stops_the_build_at_its_chunk(tmp_path):
    project = copy_fixture(tmp_path)
    assert render(project).returncode == 0
    pdf = project / "_manuscript" / "article.pdf"
    before = pdf.read_bytes()
    _append(project, LATER.replace("{outcome}", 'set_exception(ValueError("no ink"))'))
    result = render(project)
    assert result.returncode == 1
    line = _line_of(project, "#| label: fig-later") - 1
    assert f"article.qmd:{line}: chunk 'fig-later' failed: ValueError: no ink" in result.stderr
    assert "Traceback" not in result.stderr
    assert pdf.read_bytes() == before


def _print_files(project: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((project / "figures").glob("*.*")) if p.suffix != ".md"}


def test_pre_render_on_its_own_waits_for_every_figure(tmp_path):
    """As Quarto runs it: the step's own process; the figures are all written when it ends and
    recorded with the analysis, so the document's kernel finds them current."""
    project = copy_project(tmp_path / "project")
    env = {k: v for k, v in os.environ.items() if k != SHARED}
    result = subprocess.run(
        [sys.executable, "prerender.py"], cwd=project, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    written = [line for line in result.stdout.splitlines() if "written at 600 dpi" in line]
    assert len(written) == len(HAIC_FIGURES), result.stdout
    files = _print_files(project)
    names = HAIC_FIGURES
    assert {f"{n}.{ext}" for n in names for ext in ("pdf", "png", "tiff")} <= files.keys()
    entries = list((project / ".cache" / "analysis").glob("*/figures.json"))
    assert len(entries) == 1 and json.loads(entries[0].read_text()).keys() == names
    again = subprocess.run(
        [sys.executable, "prerender.py"], cwd=project, env=env, capture_output=True, text=True
    )
    assert again.returncode == 0 and "figures: 11 unchanged" in again.stdout, again.stdout
    assert _print_files(project) == files


def test_a_failed_drawing_stops_the_build_and_keeps_the_outputs(tmp_path):
    project = copy_project(tmp_path / "project")
    build = [sys.executable, "-m", "qrender", str(project)]
    assert subprocess.run(build, cwd=ROOT, capture_output=True).returncode == 0
    pdf = project / "_manuscript" / "manuscript.pdf"
    before = pdf.read_bytes()
    for path in (project / "figures").glob("km_os.*"):
        path.unlink()
    (project / "figures" / "km_os.pdf").mkdir()  # where the print file goes, a folder: cannot write
    result = subprocess.run(build, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode != 0
    assert "drawing the figures failed: IsADirectoryError" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert pdf.read_bytes() == before


def test_without_a_post_render_step_the_figures_are_still_finished(tmp_path):
    """Nobody waits for the drawing: it is finished when the build's process ends, not cut short."""
    project = copy_project(tmp_path / "project")
    config = project / "_quarto.yml"
    config.write_text(config.read_text().replace("  post-render: postrender.py\n", ""))
    result = subprocess.run(
        [sys.executable, "-m", "qrender", str(project)], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    names = HAIC_FIGURES
    assert {f"{n}.{ext}" for n in names for ext in ("pdf", "png", "tiff")} <= _print_files(project).keys()
    entries = list((project / ".cache" / "analysis").glob("*/figures.json"))
    assert len(entries) == 1 and json.loads(entries[0].read_text()).keys() == names
