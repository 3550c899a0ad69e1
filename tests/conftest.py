"""Shared fixtures: the committed cohort, and small copies of it to break on purpose."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

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
