"""Analysis results reused while the content of everything they depend on is unchanged.

The key of an entry is the SHA-256 of the data file (its path and bytes), its metadata file, the
codebook, every source file of the `analysis` package, the pinned `requirements.lock` and the
Python version. A change to any of them changes the key, so a stale entry can never be found;
file times play no part. Entries are pickles of `Results` under `.cache/analysis/`, written
atomically; the folder can be deleted at any time and is rebuilt on the next run.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import tempfile
from pathlib import Path

from analysis.codebook import DEFAULT_CODEBOOK
from analysis.pipeline import Results, add_word_counts, run

PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent
CACHE = ROOT / ".cache" / "analysis"
LOCK = ROOT / "requirements.lock"


def metadata_path(data_path: Path) -> Path:
    """The metadata file that belongs to a data file: `cohort.csv` -> `cohort.meta.yaml`."""
    return data_path.with_name(f"{data_path.stem}.meta.yaml")


def input_files(data_path: Path) -> list[Path]:
    """Every file whose content decides the results of `analysis.run(data_path)`."""
    code = sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)
    return [data_path, metadata_path(data_path), DEFAULT_CODEBOOK, LOCK, *code]


def input_digest(data_path: str | Path) -> str:
    """SHA-256 over the data path as given, the Python version and each input's name and content."""
    data_path = Path(data_path)
    digest = hashlib.sha256(f"{data_path.as_posix()}\0{sys.version}\0".encode())
    for file in input_files(data_path):
        content = file.read_bytes() if file.exists() else b"<absent>"
        name = os.path.relpath(file.resolve(), ROOT) if file.is_absolute() else file.as_posix()
        digest.update(name.encode() + b"\0" + hashlib.sha256(content).digest())
    return digest.hexdigest()


def cached_run(
    data_path: str | Path = "data/cohort.csv",
    manuscript: str | Path | None = None,
    cache: Path = CACHE,
) -> Results:
    """`analysis.run(data_path)`, computed once per content of its inputs and reused afterwards.

    The manuscript's word counts are added after the lookup: they change with every prose edit,
    which must not invalidate the analysis.
    """
    entry = cache / f"{input_digest(data_path)}.pickle"
    results = None
    if entry.exists():
        try:
            results = pickle.loads(entry.read_bytes())
        except Exception:  # an unreadable entry (interrupted write, other Python): recompute
            results = None
    if results is None:
        results = run(data_path)
        cache.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=cache, delete=False, suffix=".tmp") as handle:
            handle.write(pickle.dumps(results, protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(handle.name, entry)
    if manuscript is not None:
        add_word_counts(results.ledger, Path(manuscript))
    return results
