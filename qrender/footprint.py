"""What the document's code touched: every file it opened or wrote and every folder it listed.

Recorded through Python's audit hooks (PEP 578), which report each `open()`, `os.open()`, rename,
removal and directory listing, whatever library makes it (pandas reading a CSV, PIL writing a PNG,
an import reading a module). A `Footprint` maps each path to the SHA-256 of its content once the
code has run (a folder: of its sorted names; absent: None). It holds exactly when every path still
has that hash, so a cached result is reused only while everything its code read or wrote is as it
was: content decides, never file times.

Not recorded: the Python installation and virtual environment (the environment's key in
`qrender.cache` covers them); `/proc`, `/sys` and `/dev`; folders the build names as its own (the
cache, the staging folder); and listings of the folders on `sys.path`, which the import system and
`importlib.metadata` search (the modules they import are recorded). Compiled modules in
`__pycache__` stand for their source file.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SYSTEM = ("/proc/", "/sys/", "/dev/")
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND

#: Footprint = {path: sha256 of the file, "dir:" + path: sha256 of its names, or None if absent}
Footprint = dict[str, str | None]


class Recorder:
    """Collects the paths opened and the folders listed while `recording()` is active."""

    def __init__(self, ignore: list[Path]) -> None:
        prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
        self.ignored = tuple(sorted({os.path.join(os.path.realpath(p), "") for p in prefixes}))
        self.ignored += tuple(os.path.join(os.path.realpath(p), "") for p in ignore)
        self.files: set[str] = set()
        self.folders: set[str] = set()
        self.active = False

    def _keep(self, path: str) -> str | None:
        path = os.path.realpath(path)
        if path.startswith(SYSTEM) or path.startswith(self.ignored):
            return None
        if "__pycache__" in path:
            try:
                path = importlib.util.source_from_cache(path)
            except ValueError:
                return None
        return path

    def audit(self, event: str, args: tuple) -> None:
        """The audit hook; it must never raise into the code it watches."""
        if not self.active:
            return
        try:
            if event == "open":
                paths = [args[0]]
            elif event in ("os.rename", "os.replace", "shutil.copyfile", "shutil.copytree"):
                paths = [args[0], args[1]]
            elif event in ("os.remove", "os.unlink", "os.truncate"):
                paths = [args[0]]
            elif event in ("os.listdir", "os.scandir"):
                if sys._getframe(1).f_code.co_filename.startswith("<frozen importlib"):
                    return  # the import system looking for modules; what it imports is recorded
                folder = args[0] if args[0] is not None else "."
                if isinstance(folder, (str, bytes, os.PathLike)):
                    kept = self._keep(os.fsdecode(folder))
                    if kept and kept not in {os.path.realpath(p or ".") for p in sys.path}:
                        self.folders.add(kept)
                return
            else:
                return
            for path in paths:
                if isinstance(path, (str, bytes, os.PathLike)):
                    kept = self._keep(os.fsdecode(path))
                    if kept:
                        self.files.add(kept)
        except Exception:  # noqa: BLE001 (an audit hook that raised would break the author's code)
            return

    @contextmanager
    def recording(self) -> Iterator[None]:
        self.files.clear()
        self.folders.clear()
        self.active = True
        try:
            yield
        finally:
            self.active = False


_RECORDER: Recorder | None = None


def recorder(ignore: list[Path]) -> Recorder:
    """The process's recorder (an audit hook cannot be removed, so there is one, reconfigured)."""
    global _RECORDER
    if _RECORDER is None:
        _RECORDER = Recorder(ignore)
        sys.addaudithook(_RECORDER.audit)
    else:
        fresh = Recorder(ignore)
        _RECORDER.ignored = fresh.ignored
    return _RECORDER


class Hashes:
    """Content hashes of files and folders, each computed once per build."""

    def __init__(self) -> None:
        self.known: dict[str, str | None] = {}

    def of(self, key: str) -> str | None:
        if key not in self.known:
            self.known[key] = current(key)
        return self.known[key]

    def forget(self, keys: list[str]) -> None:
        for key in keys:
            self.known.pop(key, None)

    def holds(self, footprint: Footprint) -> bool:
        """Whether every recorded path still has its recorded content."""
        return all(self.of(key) == digest for key, digest in footprint.items())


def current(key: str) -> str | None:
    """The SHA-256 of a file's bytes, or of a folder's sorted names ("dir:" keys); None if absent."""
    if key.startswith("dir:"):
        try:
            names = sorted(os.listdir(key[4:]))
        except OSError:
            return None
        return hashlib.sha256("\0".join(names).encode()).hexdigest()
    try:
        with open(key, "rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError):
        return None


def loaded_modules(ignore: list[Path]) -> list[str]:
    """Source files of the modules already imported, outside the environment: code the document
    runs without opening it (imported by the renderer or a pre-render step before it started)."""
    keep = Recorder(ignore)._keep
    files = []
    for module in list(sys.modules.values()):
        file = getattr(module, "__file__", None)
        if isinstance(file, str) and file.endswith(".py"):
            kept = keep(file)
            if kept:
                files.append(kept)
    return sorted(set(files))


def footprint(files: set[str] | list[str], folders: set[str], hashes: Hashes) -> Footprint:
    """Hash what was touched, now that the code ran (written files by their final content)."""
    keys = sorted(files) + sorted(f"dir:{folder}" for folder in folders)
    hashes.forget(keys)  # the code may have written them since they were last hashed
    return {key: hashes.of(key) for key in keys}
