"""Each piece of the document's code reused while it and everything it touched are unchanged.

The document runs in one namespace, so what a chunk computes can depend on every piece of code
before it. The rule is therefore a chain: the document is cut into units (the front matter's
inline code, each chunk, the inline code of each prose part), and unit i's key is the SHA-256 of
unit i-1's key and unit i's code (a chunk's source and options; a prose part's inline
expressions, in order). The first key covers the environment (Python version and installed
distributions), the document's name and its execution defaults. Prose between the expressions is
not code and is not in any key: rewording a sentence changes no key.

What code reads is not in its text, so each entry also stores a footprint (`qrender.footprint`):
every file the units up to and including it opened or wrote, every folder they listed, and the
source of every module already loaded when the document started, each with the SHA-256 of its
content after the code ran. An entry is valid only when its key matches and its whole footprint
still holds, so data, analysis code, a cached analysis or a print file that changed makes it, and
every unit after it, run again. Keys and footprints are content; file times play no part.

Entries live under `.cache/qrender/units/` (deleting them at any time only costs a rebuild).
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import site
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from qrender.footprint import Footprint, Hashes
from qrender.qmd import INLINE_CODE, Chunk, Document, Prose

FORMAT = "qrender-units/1"
#: the front matter fields whose inline code runs before any chunk, in the order it runs
FRONT_TEXT = ("title", "subtitle", "running-title", "abstract")


@dataclass
class Unit:
    """A piece of code run in document order: front matter, a chunk, or a prose part's inline code."""

    kind: str
    name: str
    code: str
    part: Chunk | Prose | None
    key: str = ""
    expressions: list[str] = field(default_factory=list)


def environment() -> str:
    """The interpreter and the installed distributions (their names carry their versions)."""
    folders = [*site.getsitepackages(), site.getusersitepackages()]
    names = []
    for folder in folders:
        try:
            names += [n for n in os.listdir(folder) if n.endswith((".dist-info", ".egg-info"))]
        except OSError:
            continue
    return hashlib.sha256("\0".join([sys.version, *sorted(names)]).encode()).hexdigest()


def expressions(text: str) -> list[str]:
    return [m.group("expr") for m in INLINE_CODE.finditer(text)]


def plan(doc: Document, front: dict, defaults: dict) -> list[Unit]:
    """The document's units in the order they run, each with its chain key."""
    units = []
    front_code = [e for key in FRONT_TEXT if isinstance(front.get(key), str) for e in expressions(front[key])]
    if front_code:
        units.append(Unit("front", "front matter", "\n".join(front_code), None, expressions=front_code))
    for part in doc.parts:
        if isinstance(part, Chunk):
            code = json.dumps({"code": part.code, "options": part.options}, sort_keys=True, default=str)
            units.append(Unit("chunk", part.label or f"unlabelled, line {part.line}", code, part))
        elif found := expressions(part.text):
            name = f"inline code, line {part.line}"
            units.append(Unit("inline", name, "\n".join(found), part, expressions=found))
    start = json.dumps([FORMAT, environment(), doc.path.name, defaults], sort_keys=True, default=str)
    key = hashlib.sha256(start.encode()).hexdigest()
    for unit in units:
        key = hashlib.sha256(f"{key}\0{unit.kind}\0{unit.code}".encode()).hexdigest()
        unit.key = key
    return units


@dataclass
class Entry:
    """A unit's stored result: its outputs and the footprint of every unit up to it."""

    footprint: Footprint
    outputs: list


class UnitCache:
    """Entries by chain key, valid while their footprint holds."""

    def __init__(self, folder: Path, hashes: Hashes) -> None:
        self.folder = folder
        self.hashes = hashes

    def _path(self, unit: Unit) -> Path:
        return self.folder / f"{unit.key}.pickle"

    def lookup(self, unit: Unit) -> Entry | None:
        path = self._path(unit)
        if not path.is_file():
            return None
        try:
            entry = pickle.loads(path.read_bytes())
        except Exception:  # noqa: BLE001 (an unreadable entry is a miss, never an error)
            return None
        if not isinstance(entry, Entry) or not self.hashes.holds(entry.footprint):
            return None
        return entry

    def store(self, unit: Unit, entry: Entry) -> None:
        """Write an entry atomically (a temporary file renamed over the old one)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=self.folder, delete=False, suffix=".tmp") as handle:
            handle.write(pickle.dumps(entry, protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(handle.name, self._path(unit))

    def prune(self, keep: list[Unit]) -> None:
        """Remove entries no unit of this document has (older versions of its code)."""
        names = {self._path(unit).name for unit in keep}
        if not self.folder.is_dir():
            return
        for path in self.folder.iterdir():
            if path.suffix == ".pickle" and path.name not in names:
                path.unlink(missing_ok=True)
