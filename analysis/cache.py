"""Analysis results reused while the content of everything they depend on is unchanged.

The key of an entry is the SHA-256 of the study file, the data file (its path and bytes), its
metadata file, the codebook, the study's derivations module, every source file of the `analysis`
package, the pinned `requirements.lock` and the Python version. A change to any of them changes the
key, so a stale entry can never be found; file times play no part. An entry is a folder
`.cache/analysis/<key>/` of the study folder holding the run in the
forms its readers need:

- `results.pickle`: the `Results`, for the document's code (`cached_run`);
- `numbers.json`, `analysis-data.csv` and `recodes.csv`: the ledger, the per-patient table and the
  recode log as written beside the article (the post-render step adds the manuscript's word
  counts to the ledger);
- `variables.yml`: the ledger as Quarto variables (the pre-render step's `_variables.yml`).

The last three are read without importing pandas, SciPy or lifelines, so a build that reuses the
analysis spends no time on them. An entry is written into a temporary folder and renamed into place
only when the inputs hash the same after the run as before it, so it can never hold results of
other inputs than its name says. The folder can be deleted at any time and is rebuilt on the next
run.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
ENGINE = PACKAGE.parent
LOCK = ENGINE / "requirements.lock"
STUDY_FILE = "study.yaml"
FILES = ("results.pickle", "numbers.json", "analysis-data.csv", "recodes.csv", "variables.yml", "ard.csv")


class InputsChanged(RuntimeError):
    """The analysis inputs changed while the analysis ran: its results belong to no one version."""


def cache_folder(study: Path) -> Path:
    """A study's analysis cache: `.cache/analysis` in the study folder."""
    return Path(study) / ".cache" / "analysis"


def metadata_path(data_path: Path) -> Path:
    """The metadata file that belongs to a data file: `cohort.csv` -> `cohort.meta.yaml`."""
    return data_path.with_name(f"{data_path.stem}.meta.yaml")


def study_inputs(study: Path) -> list[Path]:
    """The study's own files the analysis reads: the study file, and what its `data` section names
    (data, metadata, codebook, derivations), read as YAML alone so that no heavy import is needed."""
    import yaml

    study_file = Path(study) / STUDY_FILE
    files = [study_file]
    try:
        data = (
            yaml.load(
                study_file.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)
            )
            or {}
        ).get("data") or {}
    except (OSError, yaml.YAMLError, AttributeError):
        return files  # the analysis itself reports what is wrong with the file
    for key in ("file", "codebook", "derivations"):
        if isinstance(data.get(key), str):
            files.append(Path(study) / data[key])
    if isinstance(data.get("file"), str):
        files.append(metadata_path(Path(study) / data["file"]))
    return files


def input_files(study: Path) -> list[Path]:
    """Every file whose content decides the results of `analysis.run(study)`."""
    code = sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)
    return [*study_inputs(study), LOCK, *code]


def input_digest(study: str | Path = ".") -> str:
    """SHA-256 over the Python version and each input's name (relative to the study folder or the
    engine) and content."""
    study = Path(study)
    digest = hashlib.sha256(f"{sys.version}\0".encode())
    for file in input_files(study):
        content = file.read_bytes() if file.exists() else b"<absent>"
        base = (
            ENGINE
            if file.resolve().is_relative_to(ENGINE) and not file.resolve().is_relative_to(study.resolve())
            else study.resolve()
        )
        name = os.path.relpath(file.resolve(), base)
        digest.update(name.encode() + b"\0" + hashlib.sha256(content).digest())
    return digest.hexdigest()


@dataclass(frozen=True)
class CachedAnalysis:
    """One cache entry, and whether this build reused it or computed it (and in how long)."""

    folder: Path
    digest: str
    reused: bool
    seconds: float = 0.0

    def describe(self) -> str:
        how = "reused" if self.reused else f"ran in {self.seconds:.1f} s"
        return f"analysis {how} (inputs {self.digest[:12]})"

    def results(self):
        """The `Results` of the run (imports the analysis stack, as unpickling needs its classes)."""
        results = pickle.loads((self.folder / "results.pickle").read_bytes())
        results.cache_entry = self
        return results

    def figures(self) -> dict[str, str]:
        """The content key of each figure drawn from this run (`analysis.article.drawing`), by name."""
        path = self.folder / "figures.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}

    def figures_current(self, folder: Path) -> bool:
        """Whether folder holds the print files of every figure drawn from this run (`article.drawing`
        records them); False when none was drawn yet."""
        from analysis.article.printfiles import current

        contents = self.figures()
        return bool(contents) and all(current(folder, name, key) for name, key in contents.items())

    def variables(self) -> str:
        """The ledger as the YAML body of `_variables.yml`."""
        return (self.folder / "variables.yml").read_text(encoding="utf-8")

    def write(self, outdir: Path, manuscript: Path | None = None) -> None:
        """numbers.json (with the manuscript's word counts, when given), analysis-data.csv and
        recodes.csv into outdir, the same bytes `Results.write` gives, from the entry's files alone."""
        from analysis.article.prose import add_word_counts
        from analysis.results.ledger import Ledger

        outdir.mkdir(parents=True, exist_ok=True)
        ledger = Ledger.from_json(self.folder / "numbers.json")
        if manuscript is not None:
            add_word_counts(ledger, manuscript)
        (outdir / "numbers.json").write_text(ledger.to_json(), encoding="utf-8")
        for name in ("analysis-data.csv", "recodes.csv", "ard.csv"):
            shutil.copyfile(self.folder / name, outdir / name)


def _complete(folder: Path) -> bool:
    return all((folder / name).is_file() for name in FILES)


def _store(results, digest: str, study: Path, cache: Path) -> Path:
    """Write an entry atomically: a temporary folder, renamed to its key if the inputs held still."""
    from analysis.article.variables import variables_yaml

    cache.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=cache, prefix=".tmp-"))
    try:
        (staging / "results.pickle").write_bytes(pickle.dumps(results, protocol=pickle.HIGHEST_PROTOCOL))
        results.write(staging)
        (staging / "variables.yml").write_text(variables_yaml(results.ledger), encoding="utf-8")
        if input_digest(study) != digest:
            raise InputsChanged(
                "the analysis inputs (the study file, the data and what lies beside them, the codebook, "
                "the analysis code or the lock) changed while the analysis ran; build again"
            )
        folder = cache / digest
        if folder.exists():  # an unreadable entry (or another build stored the same one meanwhile)
            shutil.rmtree(folder, ignore_errors=True)
        with contextlib.suppress(OSError):  # another build stored it first: same key, same content
            staging.rename(folder)
        return folder
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _stored(digest: str, cache: Path) -> CachedAnalysis | None:
    folder = cache / digest
    return CachedAnalysis(folder, digest, reused=True) if _complete(folder) else None


def stored_entry(study: str | Path = ".", cache: Path | None = None) -> CachedAnalysis | None:
    """The cache entry for the current content of the analysis inputs, if there is one (runs nothing)."""
    return _stored(input_digest(study), cache or cache_folder(Path(study)))


def analysis_entry(study: str | Path = ".", cache: Path | None = None) -> CachedAnalysis:
    """The cache entry for the current content of the analysis inputs, running the analysis (once)
    when there is none."""
    study = Path(study)
    cache = cache or cache_folder(study)
    digest = input_digest(study)
    stored = _stored(digest, cache)
    if stored is not None:
        return stored
    from analysis.pipeline import run

    started = time.perf_counter()
    results = run(study)
    folder = _store(results, digest, study, cache)
    return CachedAnalysis(folder, digest, reused=False, seconds=time.perf_counter() - started)


def cached_run(study: str | Path = ".", manuscript: str | Path | None = None, cache: Path | None = None):
    """`analysis.run(study)`, computed once per content of its inputs and reused afterwards.

    The manuscript's word counts are added after the lookup: they change with every prose edit,
    which must not invalidate the analysis.
    """
    entry = analysis_entry(study, cache)
    try:
        results = entry.results()
    except Exception:  # an unreadable entry (edited by hand, cut short by a full disk): recompute
        shutil.rmtree(entry.folder, ignore_errors=True)
        results = analysis_entry(study, cache).results()
    if manuscript is not None:
        from analysis.article.prose import add_word_counts

        add_word_counts(results.ledger, Path(manuscript))
    return results
