"""Text of a built article (.docx, .pdf, .html) with where each piece sits, for `verify`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from analysis.errors import UserError


class ArticleError(UserError):
    """Missing or unreadable article file."""


@dataclass(frozen=True)
class Passage:
    text: str
    where: str


def read_passages(path: Path) -> list[Passage]:
    """Paragraphs and table cells in reading order, each located (paragraph, table cell or page)."""
    if not path.exists():
        raise ArticleError(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".docx":
            return _docx(path)
        if suffix == ".pdf":
            return _pdf(path)
        if suffix in (".html", ".htm"):
            return _html(path)
    except UserError:
        raise
    except Exception as exc:  # a damaged file of the right extension
        raise ArticleError(f"{path}: cannot be read as {suffix} ({type(exc).__name__}: {exc})") from None
    raise ArticleError(f"{path}: unsupported file type {suffix!r}; give a .docx, .pdf or .html article")


def _docx(path: Path) -> list[Passage]:
    from docx import Document

    doc = Document(str(path))
    passages = [Passage(p.text, f"paragraph {i}") for i, p in enumerate(doc.paragraphs, 1) if p.text.strip()]
    for t, table in enumerate(doc.tables, 1):
        for r, row in enumerate(table.rows, 1):
            cells = [c.text for c in row.cells]
            passages.append(Passage(" | ".join(cells), f"table {t}, row {r}"))
    return passages


def _pdf(path: Path) -> list[Passage]:
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    return [Passage(page.extract_text() or "", f"page {i}") for i, page in enumerate(reader.pages, 1)]


def _html(path: Path) -> list[Passage]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "lxml")
    passages = []
    for i, node in enumerate(soup.find_all(["p", "li", "tr", "figcaption", "caption", "h1", "h2", "h3"]), 1):
        text = node.get_text(" | " if node.name == "tr" else " ", strip=True)
        if text:
            passages.append(Passage(text, f"{node.name} {i}"))
    return passages
