"""The results ledger: every number the article prints, with its text, method and source.

An `Entry` is what a manuscript inlines: it prints as its text and, in Markdown, as a pandoc span
carrying its key, method and source, so the HTML can show where each number came from.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from analysis.results.formatting import Style, interval
from analysis.stats.software import Software

SCHEMA = "manuscript-ledger/1"


@dataclass(frozen=True)
class Entry:
    key: str
    value: object
    text: str
    method: str
    source: str
    software: Software | None = None  # what computed the value

    def __str__(self) -> str:
        return self.text

    def _repr_markdown_(self) -> str:
        def attr(value: str) -> str:
            return value.replace("\\", "\\\\").replace('"', '\\"')

        text = self.text.replace("<", "\\<").replace("[", "\\[").replace("]", "\\]")
        return (
            f'[{text}]{{.num data-key="{attr(self.key)}" data-method="{attr(self.method)}" '
            f'data-source="{attr(self.source)}"}}'
        )

    def as_dict(self) -> dict:
        entry = {"value": self.value, "text": self.text, "method": self.method, "source": self.source}
        return entry | ({"software": self.software.as_dict()} if self.software else {})


CITATION = re.compile(r"\s*\[@[^\]]+\]")


@dataclass(frozen=True)
class Sentence(Entry):
    """An entry assembled from other entries and words: its Markdown keeps each entry's span and the
    citations among the words ("[@key]"); its text is the plain sentence."""

    parts: tuple = ()

    def _repr_markdown_(self) -> str:
        return "".join(p._repr_markdown_() if isinstance(p, Entry) else p for p in self.parts)


def _clean(value: object) -> object:
    """JSON-safe raw values: numpy scalars to Python, NaN to None."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


class Ledger:
    """Ordered entries by dotted key; `add` formats by kind, `add_estimate` adds the CI keys too."""

    def __init__(self, provenance: dict | None = None, style: Style | None = None) -> None:
        self._entries: dict[str, Entry] = {}
        #: how each kind of number is printed (the study's settings)
        self.style = style or Style()
        self.provenance = provenance or {}
        self.used: dict[str, None] | None = None
        self._readers: list[dict[str, None]] = []

    @contextmanager
    def reading(self) -> Iterator[dict[str, None]]:
        """The keys read inside the block, in order (a table's cells, say), tracked or not."""
        keys: dict[str, None] = {}
        self._readers.append(keys)
        try:
            yield keys
        finally:
            self._readers.remove(keys)

    def track(self, already_used: list[str] | None = None) -> None:
        """From now on, remember every key read (in order): the numbers the article prints.

        `already_used` are keys printed before any code ran (the front matter's variables)."""
        self.used = dict.fromkeys(k for k in already_used or [] if k in self._entries)

    def __getitem__(self, key: str) -> Entry:
        try:
            entry = self._entries[key]
        except KeyError:
            raise KeyError(f"no ledger entry {key!r}") from None
        if self.used is not None:
            self.used.setdefault(key, None)
        for keys in self._readers:
            keys.setdefault(key, None)
        return entry

    def peek(self, key: str) -> Entry:
        """An entry, not recorded as printed (for describing entries rather than printing them)."""
        return self._entries[key]

    def __contains__(self, key: str) -> bool:
        return key in self._entries

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def keys(self) -> list[str]:
        return list(self._entries)

    def add(
        self,
        key: str,
        value: object,
        kind: str | None,
        method: str,
        source: str,
        text: str | None = None,
        software: Software | None = None,
    ) -> Entry:
        if key in self._entries:
            raise ValueError(f"ledger key {key!r} added twice")
        value = _clean(value)
        if text is None:
            text = "NR" if value is None else self.style.format(kind, value)
        entry = Entry(key, value, text, method, source, software)
        self._entries[key] = entry
        return entry

    def add_estimate(
        self,
        key: str,
        estimate: float,
        low: float,
        high: float,
        kind: str,
        method: str,
        source: str,
        software: Software | None = None,
    ) -> Entry:
        """An estimate with its confidence interval: keys X, X.ci_low, X.ci_high and X.ci."""
        entry = self.add(key, estimate, kind, method, source, software=software)
        lo = self.add(f"{key}.ci_low", low, kind, method, source, software=software)
        hi = self.add(f"{key}.ci_high", high, kind, method, source, software=software)
        self.add(
            f"{key}.ci",
            [lo.value, hi.value],
            None,
            method,
            source,
            text=interval(lo.text.rstrip("%"), hi.text),
            software=software,
        )
        return entry

    def add_sentence(self, key: str, parts: Sequence[Entry | str], method: str, source: str) -> Entry:
        """A sentence of entries and words (words may hold citations); see `Sentence`."""
        if key in self._entries:
            raise ValueError(f"ledger key {key!r} added twice")
        text = CITATION.sub("", "".join(p.text if isinstance(p, Entry) else p for p in parts))
        entry = Sentence(key, text, text, method, source, parts=tuple(parts))
        self._entries[key] = entry
        return entry

    def p(self, key: str) -> Entry:
        """A p-value as a clause for prose: "p = 0.073" or "p < 0.001"."""
        entry = self[key]
        text = entry.text
        return Entry(
            key,
            entry.value,
            f"p {text}" if text.startswith("<") else f"p = {text}",
            entry.method,
            entry.source,
        )

    def with_ci(self, key: str) -> Entry:
        """An estimate with its interval for prose: "6.8 (95% CI 5.3–9.7)"."""
        entry, ci = self[key], self[f"{key}.ci"]
        level = self["config.ci_level"].text
        return Entry(key, entry.value, f"{entry.text} ({level} CI {ci.text})", entry.method, entry.source)

    def to_json(self) -> str:
        """Deterministic JSON: same inputs, same bytes."""
        document = {
            "schema": SCHEMA,
            **self.provenance,
            "entries": {k: e.as_dict() for k, e in sorted(self._entries.items())},
        }
        return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"

    @classmethod
    def from_json(cls, path: Path) -> Ledger:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
        if document.get("schema") != SCHEMA:
            raise ValueError(f"{path}: ledger schema {document.get('schema')!r}, expected {SCHEMA!r}")
        ledger = cls({k: v for k, v in document.items() if k not in ("schema", "entries")})
        for key, entry in document["entries"].items():
            software = Software(**entry["software"]) if "software" in entry else None
            ledger._entries[key] = Entry(
                key, entry["value"], entry["text"], entry["method"], entry["source"], software
            )
        return ledger
