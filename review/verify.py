"""`python -m review verify ARTICLE...`: does a built article say what the current data and code give?

The article is rebuilt from the data (`review.rebuild`) and both are read the same way
(`review.articletext`), the file under review and the rebuilt article of the same format; they are
then compared word by word in order (`review.articlediff`). Every number must be the one its place
calls for and every phrase chosen by the results the one the numbers choose: a number swapped
with another valid number, a flipped claim or a deleted sentence is a difference. Layout is not
compared (line breaks, pages, line and page numbers, the stamp with the build date).

Each difference is reported with its place (section and sentence; table, row and column; in a PDF
also page and line), what the file says, what the data give, and the ledger key and the function
that computed it, taken from the provenance spans of the rebuilt HTML. Exit 0 when the article
matches, 1 when anything differs, 2 when the input cannot be verified: not an article of this
project (no build stamp), built from another data set (its data SHA-256 differs; `--data FILE`
verifies it against that data set), unreadable, or an article that cannot be rebuilt.

Quarto lays an article out otherwise than qrender (its title block, its table floats), so an
article Quarto rendered is compared with Quarto's rebuild when Quarto is installed.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from analysis.errors import UserError
from analysis.results.ledger import Ledger
from qrender.project import file_sha256 as sha256
from qrender.project import load_project
from review.articlediff import Difference, annotate, differences, floats_last
from review.articletext import Article, read_article
from review.rebuild import RENDERERS, quarto_launcher, rebuild

NUMBER = re.compile(r"\d+(?:\.\d+)?")
UNPRINTED = ("software.", "config.", "wording.", "manuscript.")


class NotVerifiable(UserError):
    """An article that cannot be compared with the data: not ours, or from another data set."""


@dataclass
class Verdict:
    article: Path
    differences: list[Difference]
    ledger: Ledger
    expected: Article
    words: int
    renderer: str


def check_stamp(article: Article, data: Path, given: bool) -> None:
    """The article must carry our stamp, naming the data set it is verified against."""
    if article.stamp is None:
        raise NotVerifiable(
            f"{article.path}: no build stamp (\"data sha256 … | code … | built …\") in its footer or "
            "document properties: not an article built by this project, nothing to verify against"
        )
    if not data.is_file():
        raise NotVerifiable(f"{data}: no such data file")
    current = sha256(data)
    if article.stamp.data_sha256 != current:
        advice = (
            f"{data} is another data set" if given
            else "verify it against the data set it was built from with --data FILE"
        )
        raise NotVerifiable(
            f"{article.path}: built from data with SHA-256 {article.stamp.data_sha256}, but {data} has "
            f"SHA-256 {current}; {advice}"
        )


def output_file(folder: Path, fmt: str) -> Path:
    from qrender.build import output_name
    from qrender.project import load_project

    project = load_project(Path.cwd())
    return folder / output_name(project, {"pdf": "typst"}.get(fmt, fmt))


def read_rebuilt(path: Path) -> Article:
    """A rebuilt article's reading, reused while the file's content is the same (one process may
    verify many files against one rebuild)."""
    return _reading(path, sha256(path))


@lru_cache(maxsize=8)
def _reading(path: Path, digest: str) -> Article:
    return read_article(path)


def compare(article: Article, folder: Path, renderer: str) -> Verdict:
    """One article against the rebuilt article of its format in folder, both read the same way."""
    ledger = Ledger.from_json(folder / "numbers.json")
    reference = read_rebuilt(output_file(folder, "html"))
    expected = reference
    if article.format != "html":  # a PDF's lines placed in sentences and cells through the HTML
        places = article.format == "pdf"
        if load_project(folder.parent).floats == "end":  # Word and PDF print the floats last
            reference = floats_last(reference)
        expected = annotate(read_rebuilt(output_file(folder, article.format)), reference, places)
        article = annotate(article, reference, places) if places else article
    found = differences(expected, article)
    return Verdict(article.path, found, ledger, expected, len(article.words), renderer)


def verify(paths: list[Path], data: Path, given: bool, renderer: str = "auto") -> list[Verdict]:
    """Compare each article with the article rebuilt from `data`; raise on unusable input.

    With `renderer` "auto", an article is compared with qrender's rebuild and, if that differs
    and Quarto is installed, with Quarto's (Quarto lays an article out otherwise): it passes only
    if it says word for word what one of them says; of two reports, the shorter is given."""
    articles = [read_article(path) for path in paths]
    for article in articles:
        check_stamp(article, data, given)
    order = list(RENDERERS) if renderer == "auto" else [renderer]
    if renderer == "auto" and quarto_launcher() is None:
        order.remove("quarto")
    folders: dict[str, Path] = {}
    verdicts = []
    for article in articles:
        best: Verdict | None = None
        for name in order:
            if name not in folders:
                folders[name] = rebuild(Path.cwd(), data if given else None, name)
            verdict = compare(article, folders[name], name)
            if best is None or len(verdict.differences) < len(best.differences):
                best = verdict
            if not best.differences:
                break
        verdicts.append(best)
    return verdicts


def keys_of(difference: Difference, expected_unit: str, ledger: Ledger) -> list[str]:
    """The ledger keys behind a difference: the provenance spans', or (table cells carry none)
    the entry that prints the cell or its first changed number with its interval beside it."""
    if difference.keys:
        return difference.keys
    cell = expected_unit.strip()
    exact = [e.key for e in ledger if e.text == cell and not e.key.startswith(UNPRINTED)]
    if len(exact) == 1:
        return exact
    numbers = NUMBER.findall(difference.old_words)
    if not numbers:
        return []
    candidates = [e.key for e in ledger if e.text == numbers[0] and not e.key.startswith(UNPRINTED)]
    with_interval = [k for k in candidates if f"{k}.ci" in ledger and ledger[f"{k}.ci"].text in cell]
    for chosen in (with_interval, candidates):
        if len(chosen) == 1:
            return chosen
    return []


def describe(verdict: Verdict) -> list[str]:
    """The report's lines for one article: place, what the file says, what the data give, keys."""
    lines = []
    for i, d in enumerate(verdict.differences, 1):
        cell = verdict.expected.unit_text(d.old_unit) if d.old_unit >= 0 else ""
        keys = keys_of(d, cell, verdict.ledger)
        lines.append(f"  {i}. {d.old_place or d.new_place}")
        lines.append(f"     the file says: {d.new}")
        lines.append(f"     the data give: {d.old}")
        if keys:
            named = ", ".join(
                f"{k} ({verdict.ledger[k].source})" if k in verdict.ledger else k for k in keys[:4]
            )
            more = f" and {len(keys) - 4} more" if len(keys) > 4 else ""
            lines.append(f"     ledger: {named}{more}")
    return lines


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("article", type=Path, nargs="+", help="built articles: .docx, .pdf or .html")
    parser.add_argument(
        "--data", type=Path, default=None,
        help="the data set to rebuild from (default: the project's data file, qrender.data in _quarto.yml)",
    )
    parser.add_argument(
        "--renderer", choices=["auto", *RENDERERS], default="auto",
        help="rebuild with qrender, with Quarto, or (auto) with qrender and then Quarto if that differs",
    )


def command(args: argparse.Namespace) -> int:
    """Check that built articles say, word for word, what the data and the code give."""
    from qrender.project import load_project

    data = args.data or Path(load_project(Path.cwd()).data or "data/cohort.csv")
    verdicts = verify(args.article, data, given=args.data is not None, renderer=args.renderer)
    status = 0
    for verdict in verdicts:
        origin = f"the article rebuilt by {verdict.renderer} from {data} (SHA-256 {sha256(data)[:12]}…)"
        if not verdict.differences:
            print(
                f"{verdict.article}: matches {origin}: every number and result-dependent phrase "
                f"in its place ({verdict.words} words compared)"
            )
            continue
        status = 1
        print(f"{verdict.article}: {len(verdict.differences)} difference(s) from {origin}:")
        print("\n".join(describe(verdict)))
    return status
