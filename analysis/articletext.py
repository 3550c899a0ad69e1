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
    """Paragraphs and table rows in document order. Tables nested in a cell (Quarto wraps each
    captioned table in a one-cell layout table) are read where they stand."""
    from docx import Document
    from docx.oxml.ns import qn

    doc = Document(str(path))
    passages: list[Passage] = []
    counters = {"p": 0, "tbl": 0}

    def text_of(element) -> str:
        return "".join(t.text or "" for t in element.iter(qn("w:t")))

    def walk(container) -> None:
        for child in container.iterchildren():
            if child.tag == qn("w:p"):
                counters["p"] += 1
                if text_of(child).strip():
                    passages.append(Passage(text_of(child), f"paragraph {counters['p']}"))
            elif child.tag == qn("w:tbl"):
                rows = child.findall(qn("w:tr"))
                cells = [row.findall(qn("w:tc")) for row in rows]
                if len(rows) == 1 and len(cells[0]) == 1:  # a layout table: read its content
                    walk(cells[0][0])
                    continue
                counters["tbl"] += 1
                for r, row in enumerate(cells, 1):
                    row_text = " | ".join(text_of(cell) for cell in row)
                    passages.append(Passage(row_text, f"table {counters['tbl']}, row {r}"))
            elif child.tag in (qn("w:sdt"), qn("w:sdtContent")):
                walk(child)

    walk(doc.element.body)
    return passages


def _pdf(path: Path) -> list[Passage]:
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    return [Passage(page.extract_text() or "", f"page {i}") for i, page in enumerate(reader.pages, 1)]


def _html(path: Path) -> list[Passage]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "lxml")
    for chrome in soup.find_all(["nav", "script", "style", "noscript"]):
        chrome.decompose()
    passages = []
    blocks = ["p", "li", "tr", "figcaption", "caption", "h1", "h2", "h3", "div"]
    for i, node in enumerate(soup.find_all(blocks), 1):
        if node.name == "div" and "csl-entry" not in (node.get("class") or []):
            continue
        text = node.get_text(" | " if node.name == "tr" else " ", strip=True)
        if text:
            passages.append(Passage(text, f"{node.name} {i}"))
    return passages
