"""`python -m analysis verify ARTICLE`: does every number in a built article match the data?

The ledger is recomputed from the current data. Two checks follow. (1) Every row of the article's
table "Numbers in this article and their sources" must print the recomputed text for its key.
(2) Every number in the body (abstract to conclusions, tables included, references and the
numbers table excluded) must be a number some ledger entry prints, or a name on the allow-list
(RECIST 1.1, Vp4, a grant identifier, table and figure numbers, protocol doses). The HTML also
carries the key of each inline number, which is compared directly.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from pathlib import Path

from analysis.articletext import ArticleError, Passage, read_passages
from analysis.ledger import Ledger
from analysis.prose import ALLOWED

NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?")
KEY = re.compile(r"\b[a-z][a-z0-9_]*(?:\.[A-Za-z0-9_]+)+\b")
PROTOCOL = Path("supplement/regimens.yaml")
MANUSCRIPT = Path("manuscript.qmd")
STAMP = "data sha256"
REFERENCES = "References"


@dataclass(frozen=True)
class Mismatch:
    where: str
    found: str
    expected: str
    key: str = ""

    def __str__(self) -> str:
        key = f" [{self.key}]" if self.key else ""
        return f"{self.where}{key}: found {self.found!r}, expected {self.expected!r}"


def _tokens(text: str) -> list[str]:
    for pattern in ALLOWED:
        text = re.sub(pattern, " ", text)
    text = re.sub(r"\b(Table|Figure|Section)\s+\d+", " ", text)
    text = re.sub(r"\(\d+(?:\s?[,\u2013-]\s?\d+)*\)", " ", text)
    return NUMBER.findall(text)


def table_mismatches(passages: list[Passage], ledger: Ledger) -> tuple[list[Mismatch], set[int]]:
    """Rows of the numbers table whose printed text differs from the recomputed ledger."""
    found, rows = [], set()
    for index, passage in enumerate(passages):
        for match in KEY.finditer(passage.text):
            key = match.group(0)
            if key not in ledger:
                continue
            rows.add(index)
            rest = passage.text[match.end() :].lstrip(" |\t\n")
            expected = ledger[key].text
            if not " ".join(rest.split()).startswith(" ".join(expected.split())):
                found.append(Mismatch(passage.where, rest.split("|")[0].strip()[:40], expected, key))
    return found, rows


def label_tokens() -> set[str]:
    """Numbers inside the declared labels the tables print ("Age ≥ 65 years", "2–3"): definitions
    from the codebook and the analysis, not results, so they may stand in the body."""
    from analysis.baseline import TABLE1
    from analysis.codebook import load_codebook
    from analysis.endpoints import COVARIATES, DERIVED_LEVELS

    codebook = load_codebook()
    texts = [*COVARIATES.values(), *(v.label for v in TABLE1)]
    texts += [label for levels in DERIVED_LEVELS.values() for label in levels.values()]
    texts += [label for column in codebook.columns for label in codebook.labels(column).values()]
    return {token for text in texts for token in _tokens(text)}


def body_mismatches(passages: list[Passage], ledger: Ledger, skip: set[int], pdf: bool) -> list[Mismatch]:
    """Numbers in the body that no ledger entry prints."""
    import yaml

    known = {t for entry in ledger for t in _tokens(entry.text)} | label_tokens()
    if PROTOCOL.exists():
        known |= set(_tokens(yaml.safe_dump(yaml.safe_load(PROTOCOL.read_text(encoding="utf-8")))))
    found = []
    for index, passage in enumerate(passages):
        text = passage.text
        if index in skip or STAMP in text:
            continue
        if text.strip() == REFERENCES or text.lstrip().startswith(REFERENCES + "\n"):
            break
        if pdf:
            text = re.sub(r"(?m)^\s*\d+\s", " ", text)
            text = text.split(f"\n{REFERENCES}\n")[0]
        for token in _tokens(text):
            if token not in known:
                found.append(Mismatch(passage.where, token, "a number printed by the ledger"))
    return found


def span_mismatches(path: Path, ledger: Ledger) -> list[Mismatch]:
    """HTML only: each inline number's span names its key; its text must be the recomputed one."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "lxml")
    found = []
    for i, span in enumerate(soup.find_all("span", class_="num"), 1):
        key = span.get("data-key", "")
        if key not in ledger:
            found.append(
                Mismatch(f"inline number {i}", span.get_text(" ", strip=True), "a key in the ledger", key)
            )
            continue
        entry = ledger[key]
        expected = {entry.text}
        if isinstance(entry.value, float) and key.endswith(".p"):
            expected.add(ledger.p(key).text)
        if f"{key}.ci" in ledger and "config.ci_level" in ledger:
            expected.add(ledger.with_ci(key).text)
        printed = " ".join(span.get_text().split())
        if printed not in expected:
            found.append(Mismatch(f"inline number {i}", printed, ledger[key].text, key))
    return found


def verify(article: Path, data: Path) -> list[Mismatch]:
    from analysis.pipeline import run

    passages = read_passages(article)
    ledger = run(data, manuscript=MANUSCRIPT if MANUSCRIPT.exists() else None).ledger
    table, rows = table_mismatches(passages, ledger)
    if not rows:
        raise ArticleError(f"{article}: no table 'Numbers in this article and their sources' found")
    mismatches = table + body_mismatches(passages, ledger, rows, article.suffix.lower() == ".pdf")
    if article.suffix.lower() in (".html", ".htm"):
        mismatches += span_mismatches(article, ledger)
    return mismatches


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("article", type=Path, help="a built article: .docx, .pdf or .html")
    parser.add_argument(
        "--data", type=Path, default=Path("data/cohort.csv"), help="the data to recompute from"
    )


def command(args: argparse.Namespace) -> int:
    """Check every number in a built article against the ledger recomputed from the data."""
    mismatches = verify(args.article, args.data)
    if not mismatches:
        print(f"{args.article}: every number matches the analysis of {args.data}")
        return 0
    print(f"{args.article}: {len(mismatches)} number(s) do not match the analysis of {args.data}:")
    for mismatch in mismatches:
        print(f"  - {mismatch}")
    return 1
