"""What a built article says, read back from a PDF, Word or HTML file in comparable pieces.

Two renderers (Quarto and qrender) may style an article differently; they must not say different
things. `content(path)` reads an article into the parts a reader checks: the numbers printed (a
multiset; in a PDF, where page breaks repeat table headers, the set), the estimates with their
intervals and the p-value clauses (multisets), the numbered captions in order, the
cross-references, the reference list and the order of the sections around it, and (HTML) the
provenance spans.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from review.articletext import Passage, read_passages

NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?")
PHRASE = re.compile(r"\d+(?:\.\d+)?%? \(95% CI [^)]*\)|p [=<] \d\.\d{3}")
CAPTION = re.compile(r"^(Table|Figure)\s(\d+):\s+(.+)")
CROSSREF = re.compile(r"\b(Table|Figure)\s(\d+)\b(?!:)")
HEADINGS = (
    "Introduction", "Materials and methods", "Results", "Discussion", "Conclusions", "Declarations",
    "References", "Supplementary material",
)
RUNNING_TITLE = "HAIC after atezolizumab-bevacizumab failure"
STAMP = re.compile(r"data sha256 [0-9a-f]{64} \| code \S+ \| built \d{4}-\d{2}-\d{2}\s*\d*")


@dataclass
class Content:
    numbers: Counter
    phrases: Counter
    captions: list[tuple[str, str, str]]
    crossrefs: Counter
    references: list[str]
    order: list[str]
    spans: Counter


def _normal(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split())


def _lines(path: Path) -> list[str]:
    """Passages as normalised lines; PDF pages split into lines without page furniture."""
    passages: list[Passage] = read_passages(path)
    if path.suffix.lower() != ".pdf":
        return [_normal(p.text) for p in passages if _normal(p.text)]
    lines = []
    for page in passages:
        text = STAMP.sub(" ", page.text.replace("\u00a0", " "))
        for line in text.split("\n"):
            line = _normal(line)
            furniture = line.isdigit() or line.startswith(("SYNTHETIC DATA:", RUNNING_TITLE))
            if line and not furniture:  # bare integers are line and page numbers
                lines.append(line)
    return lines


def _from_abstract(lines: list[str]) -> list[str]:
    start = next(i for i, line in enumerate(lines) if "Background:" in line)
    return [lines[start][lines[start].index("Background:") :], *lines[start + 1 :]]


def _references(lines: list[str]) -> list[str]:
    """The numbered reference entries, from the last 'References' heading to what follows them: the
    figure legends (tables and figures after the references) or the supplement."""
    start = max(i for i, line in enumerate(lines) if line == "References")
    after = ("Figure legends", "Supplementary material")
    end = next(i for i in range(start, len(lines)) if lines[i] in after)
    text = " ".join(lines[start + 1 : end])
    entries = [e.strip() for e in re.split(r"(?:^|\s)(?=\d{1,2}\.\s)", text) if e.strip()]
    return [e[:60] for e in entries]


def content(path: Path) -> Content:
    lines = _from_abstract(_lines(path))
    text = "\n".join(lines)
    captions = [CAPTION.match(line) for line in lines]
    # each caption once: with tables and figures after the references, figure legends are listed too
    found = list(dict.fromkeys((m.group(1), m.group(2), m.group(3)[:50]) for m in captions if m))
    references = _references(lines)
    order = list(dict.fromkeys(line for line in lines if line in HEADINGS))
    body = "\n".join(line for line in lines if not CAPTION.match(line))
    spans: Counter = Counter()
    if path.suffix.lower() == ".html":
        from bs4 import BeautifulSoup

        soup = BeautifulSoup(path.read_text(encoding="utf-8"), "lxml")
        spans = Counter(
            (s.get("data-key"), _normal(s.get_text())) for s in soup.find_all("span", class_="num")
        )
    return Content(
        numbers=Counter(NUMBER.findall(text)),
        phrases=Counter(PHRASE.findall(" ".join(lines))),
        captions=found,
        crossrefs=Counter(f"{k} {n}" for k, n in CROSSREF.findall(body)),
        references=references,
        order=order,
        spans=spans,
    )
