"""`.cache/` pruned at the end of a build to the entries the last N builds used (`qrender.prune`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from qrender.prune import BUILDS, keep_builds, record_and_prune, status
from tests.conftest import copy_project


def _store(root: Path, store: str, *names: str) -> None:
    folder = root / ".cache" / store
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        if store == "analysis":
            (folder / name).mkdir()
            (folder / name / "results.pickle").write_bytes(b"x" * 100)
        else:
            for suffix in (".json", ".png"):
                (folder / f"{name}{suffix}").write_bytes(b"x" * 10)


def test_entries_unused_by_the_last_n_builds_are_removed(tmp_path):
    _store(tmp_path, "analysis", "a1", "a2", "a3", ".tmp-underway")
    _store(tmp_path, "figures", "f1", "f2", "f3")
    assert record_and_prune(tmp_path, {"analysis": ["a1"], "figures": ["f1"]}, keep=2) == (4, 240)
    assert sorted(p.name for p in (tmp_path / ".cache" / "analysis").iterdir()) == [".tmp-underway", "a1"]
    _store(tmp_path, "analysis", "a2")  # the second build computes its entries anew
    _store(tmp_path, "figures", "f2")
    assert record_and_prune(tmp_path, {"analysis": ["a2"], "figures": ["f2"]}, keep=2) == (0, 0)
    _store(tmp_path, "analysis", "a3")
    _store(tmp_path, "figures", "f3")
    # the third build: a1 and f1 were used by no build of the last two
    assert record_and_prune(tmp_path, {"analysis": ["a3"], "figures": ["f3"]}, keep=2) == (2, 120)
    kept = sorted(p.name for p in (tmp_path / ".cache" / "analysis").iterdir())
    assert kept == [".tmp-underway", "a2", "a3"]
    assert sorted(p.name for p in (tmp_path / ".cache" / "figures").iterdir()) == [
        "f2.json", "f2.png", "f3.json", "f3.png"]
    assert len(json.loads((tmp_path / BUILDS).read_text())) == 2
    assert status(tmp_path).startswith(".cache: ")


def test_a_shared_store_and_an_unreadable_history_are_safe(tmp_path):
    """A store that is a link belongs to another project (verify's rebuild shares the analysis
    cache): never pruned. An unreadable history starts anew instead of failing the build."""
    other = tmp_path / "other"
    _store(other, "analysis", "theirs")
    (tmp_path / "copy" / ".cache").mkdir(parents=True)
    (tmp_path / "copy" / ".cache" / "analysis").symlink_to(other / ".cache" / "analysis")
    (tmp_path / "copy" / BUILDS).write_text("{not json")
    assert record_and_prune(tmp_path / "copy", {"analysis": ["mine"]}, keep=1) == (0, 0)
    assert (other / ".cache" / "analysis" / "theirs").is_dir()


@pytest.mark.parametrize("value", [0, -1, "3", 2.5, True])
def test_keep_builds_must_be_a_whole_number(value):
    with pytest.raises(ValueError, match="keep-builds"):
        keep_builds({"qrender": {"keep-builds": value}})
    assert keep_builds({}) == 3


def test_a_build_prunes_what_the_last_builds_did_not_use_and_reports_the_size(tmp_path):
    """Three data versions built with keep-builds: 2: the first version's analysis and figure
    images are gone after the third build, the others stay; each build prints the cache's size."""
    project = copy_project(tmp_path / "project")
    config = project / "_quarto.yml"
    config.write_text(config.read_text().replace("keep-builds: 3", "keep-builds: 2"))
    data = project / "data" / "cohort.csv"

    def build_dropping_last_row() -> str:
        lines = data.read_text(encoding="utf-8").splitlines(keepends=True)
        data.write_text("".join(lines[:-1]), encoding="utf-8")
        command = [sys.executable, "-m", "qrender"]
        result = subprocess.run(command, cwd=project, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        return result.stdout + result.stderr

    def entries() -> set[str]:
        return {p.name for p in (project / ".cache" / "analysis").iterdir() if not p.name.startswith(".")}

    first_log = build_dropping_last_row()
    assert "post-render: .cache: " in first_log
    first = entries()
    first_figures = set((project / ".cache" / "figures").iterdir())
    build_dropping_last_row()
    assert first < entries() and len(entries()) == 2
    third_log = build_dropping_last_row()
    assert len(entries()) == 2 and not first & entries()
    assert "removed" in third_log and "unused by the last 2 builds" in third_log
    assert not first_figures & set((project / ".cache" / "figures").iterdir())
