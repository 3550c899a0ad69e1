"""`.cache/` kept small: entries no recent build used are removed at the end of a build.

The analysis (`.cache/analysis/<inputs>/`) and the figures' document images and records
(`.cache/figures/<content>.*`) are stored by content, so every data or code version adds entries
and none is ever overwritten. The post-render step, which ends a build under Quarto and qrender
alike, records which entries the build used in `.cache/builds.json` (the last N builds, N from
`_quarto.yml`, `qrender: keep-builds:`, default 3) and removes every entry of those stores that
none of them used. Going back to data or code of more than N builds ago costs a recomputation,
never a wrong result (every key is content). A store that is a symbolic link belongs to another
project (`review verify`'s rebuild shares the project's analysis cache) and is left alone.

`python -m qrender.prune` (`make status`) prints the cache's size by store, without pruning.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

CACHE = Path(".cache")
BUILDS = CACHE / "builds.json"
#: the stores whose entries are content-keyed and accumulate: folder, and how an entry is named there
STORES = ("analysis", "figures")
DEFAULT_KEEP = 3


def keep_builds(config: dict) -> int:
    """N, the builds whose entries are kept: `qrender: keep-builds:` in _quarto.yml (at least 1)."""
    value = (config.get("qrender") or {}).get("keep-builds", DEFAULT_KEEP)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"_quarto.yml: qrender.keep-builds must be a whole number >= 1, not {value!r}")
    return value


def _entry(path: Path) -> str:
    """An entry's name in its store: a folder's name, or a file's name before its first dot."""
    return path.name.split(".", 1)[0]


def size(path: Path) -> int:
    """Bytes under path (symbolic links not followed)."""
    if path.is_symlink() or path.is_file():
        return path.lstat().st_size
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() or p.is_symlink())


def human(n: int) -> str:
    for unit in ("B", "kB", "MB"):
        if n < 1000:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


def _history(root: Path) -> list[dict]:
    try:
        builds = json.loads((root / BUILDS).read_text(encoding="utf-8"))
    except (OSError, ValueError):  # none yet, or unreadable: start the history anew
        return []
    return builds if isinstance(builds, list) and all(isinstance(b, dict) for b in builds) else []


def record_and_prune(root: Path, used: dict[str, list[str]], keep: int) -> tuple[int, int]:
    """Record this build's entries (store -> entry names) and remove every entry of the stores that
    none of the last `keep` builds used. Returns (entries removed, bytes freed)."""
    builds = [*_history(root), {store: sorted(set(names)) for store, names in used.items()}][-keep:]
    (root / BUILDS).parent.mkdir(parents=True, exist_ok=True)
    (root / BUILDS).write_text(json.dumps(builds, indent=1) + "\n", encoding="utf-8")
    removed: set[tuple[str, str]] = set()
    freed = 0
    for store in STORES:
        folder = root / CACHE / store
        if folder.is_symlink() or not folder.is_dir():
            continue
        wanted = {name for build in builds for name in build.get(store, [])}
        for path in sorted(folder.iterdir()):
            if path.name.startswith(".") or _entry(path) in wanted:
                continue  # a temporary file of a build under way starts with a dot
            freed += size(path)
            removed.add((store, _entry(path)))
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
    return len(removed), freed


def status(root: Path) -> str:
    """The cache's size, in total and by store."""
    cache = root / CACHE
    if not cache.is_dir():
        return ".cache: empty"
    parts = [f"{p.name} {human(size(p))}" for p in sorted(cache.iterdir()) if p.is_dir()]
    return f".cache: {human(size(cache))} ({', '.join(parts)}); last builds recorded: {len(_history(root))}"


if __name__ == "__main__":
    print(status(Path.cwd()))
    sys.exit(0)
