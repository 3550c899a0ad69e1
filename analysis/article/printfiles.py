"""The article's figures as print files (vector PDF, 600-dpi PNG and TIFF), and the records that
say, by content, which files hold which figure.

A figure's content is the SHA-256 of its vector PDF (drawn without dates, so the same drawing gives
the same bytes) and the resolution. The record `.cache/figures/<content>.json` (in the study folder)
lists the SHA-256 of
every file written for that content, the 300-dpi PNG a document shows among them; the files are
current exactly when they still have those hashes. Nothing here draws or imports matplotlib, so a build can
tell that its figures are current in milliseconds.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

DPI = 600
DOCUMENT_DPI = 300
PRINT_FORMATS = ("pdf", "png", "tiff")


def records_for(folder: Path) -> Path:
    """Where the records of the figures in a study's `figures/` folder are: the study's `.cache/figures`."""
    return Path(folder).resolve().parent / ".cache" / "figures"


@dataclass(frozen=True)
class PrintFigure:
    """A figure of the article as its print files. In a document it displays by IPython's display
    protocol, which Quarto's Jupyter engine and qrender both follow, as a 300-dpi PNG made from the
    same pixels as the print PNG; showing a figure whose content is unchanged draws nothing."""

    name: str
    content: str
    files: dict[str, Path]

    def _repr_png_(self) -> bytes:
        """The document's PNG, once the print files are checked to still hold this figure (so a
        document that shows it depends on them: a deleted or edited print file gets it rebuilt)."""
        folder, records = self.files["pdf"].parent, self.files["document"].parent
        if current(folder, self.name, self.content, records) is None:
            raise FileNotFoundError(f"figure '{self.name}': its print files in {folder} changed meanwhile")
        return self.files["document"].read_bytes()

    def vector_svg(self) -> bytes:
        """The figure as SVG, its text drawn as outlines: what a renderer that can place vector
        images in a PDF shows there (qrender's typst PDF), the same drawing as the print PDF. Not
        IPython's `_repr_svg_`: Quarto keeps the PNG in every format, as Jupyter shows it."""
        self._repr_png_()  # the same check that the print files still hold this figure
        return self.files["vector"].read_bytes()


def content_key(pdf: bytes) -> str:
    return hashlib.sha256(pdf + f"\0{DPI}".encode()).hexdigest()


def paths(folder: Path, name: str, content: str, records: Path | None = None) -> dict[str, Path]:
    """Where a figure's files go: the print files in folder, the document's PNG beside the record."""
    records = records or records_for(folder)
    return {ext: folder / f"{name}.{ext}" for ext in PRINT_FORMATS} | {
        "document": records / f"{content}.png",
        "vector": records / f"{content}.svg",
    }


def sha256(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def write_atomic(path: Path, content: bytes) -> None:
    """Replace a file in one step, so a reader never sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(content)
    os.replace(partial, path)


def current(folder: Path, name: str, content: str, records: Path | None = None) -> PrintFigure | None:
    """The figure with this content, if its files in folder hold exactly what was written for it."""
    records = records or records_for(folder)
    record = records / f"{content}.json"
    if not record.is_file():
        return None
    written = json.loads(record.read_text(encoding="utf-8"))
    files = paths(folder, name, content, records)
    if written.keys() != files.keys() or any(sha256(p) != written[k] for k, p in files.items()):
        return None
    return PrintFigure(name, content, files)


def store(
    folder: Path, name: str, content: str, data: dict[str, bytes], records: Path | None = None
) -> PrintFigure:
    """Write a figure's files, then the record of their hashes (last: a record never names a file
    that was not completely written)."""
    records = records or records_for(folder)
    files = paths(folder, name, content, records)
    for ext, path in files.items():
        write_atomic(path, data[ext])
    hashes = {ext: hashlib.sha256(data[ext]).hexdigest() for ext in files}
    write_atomic(records / f"{content}.json", json.dumps(hashes, sort_keys=True).encode())
    return PrintFigure(name, content, files)
