"""The colon study's data file is R's survival::colon, byte for byte as export.R writes it, and the
R reference reproduces the trial's published headline from it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

STUDY = ROOT / "examples" / "colon"
REFERENCE = ROOT / "tests" / "r" / "colon_reference.R"

pytestmark = pytest.mark.skipif(shutil.which("Rscript") is None, reason="R is installed by `make test`")


def survival_version() -> str:
    result = subprocess.run(
        ["Rscript", "-e", 'cat(as.character(packageVersion("survival")))'], capture_output=True, text=True
    )
    return result.stdout.strip()


def test_export_script_rewrites_the_committed_file(tmp_path: Path):
    if survival_version() != "3.5.3":
        pytest.skip("the committed file was exported from survival 3.5-3")
    shutil.copy(STUDY / "data" / "export.R", tmp_path / "export.R")
    subprocess.run(["Rscript", str(tmp_path / "export.R")], check=True, capture_output=True)
    assert (tmp_path / "colon.csv").read_bytes() == (STUDY / "data" / "colon.csv").read_bytes()


def test_reference_reproduces_the_published_hazard_ratios():
    """Lev+5FU vs observation: recurrence (etype 1 alone) HR about 0.60 (published: recurrence rate
    reduced by 40%), death HR about 0.69 (published: 33%)."""
    result = subprocess.run(
        ["Rscript", str(REFERENCE), str(STUDY / "data" / "colon.csv")],
        capture_output=True, text=True, check=True,
    )
    values = dict(line.split("\t", 1) for line in result.stdout.splitlines())
    assert values["n.total"] == "929"
    assert (values["n.obs"], values["n.lev"], values["n.lev5fu"]) == ("315", "310", "304")
    assert round(float(values["ttr.cox.uni.rx.lev5fu.hr"]), 2) == 0.60
    assert round(float(values["os.cox.uni.rx.lev5fu.hr"]), 2) == 0.69
    assert round(float(values["ttr.cox.uni.rx.lev5fu.reduction"])) == 40
