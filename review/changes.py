"""`python -m analysis changes OLD NEW`: what changed between two versions of the article's numbers.

OLD and NEW are each a numbers.json, a folder holding one, or a submission tag (submissions/TAG).
The report (Markdown and Word) lists every number whose printed text changed, with where it
appears in the new article, and every sentence whose wording changed because a result crossed a
threshold: ready to paste into a response to reviewers.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

from analysis.errors import UserError
from analysis.ledger import SCHEMA, Ledger

SUBMISSIONS = Path("submissions")


class LedgerFileError(UserError):
    """A ledger that is missing, of the wrong type or of another schema."""


def resolve(spec: str) -> Path:
    """numbers.json from a path, a folder or a submission tag."""
    path = Path(spec)
    for candidate in (path, path / "numbers.json", SUBMISSIONS / spec / "numbers.json"):
        if candidate.is_file():
            return candidate
    raise LedgerFileError(
        f"{spec}: neither a numbers.json, a folder holding one, nor a tag under {SUBMISSIONS}/"
    )


def load(spec: str) -> Ledger:
    path = resolve(spec)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LedgerFileError(f"{path}: not a ledger file (not JSON: {exc})") from None
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        found = document.get("schema") if isinstance(document, dict) else None
        raise LedgerFileError(f"{path}: ledger schema {found!r}, this version reads {SCHEMA!r}")
    return Ledger.from_json(path)


@dataclass(frozen=True)
class Change:
    key: str
    old: str
    new: str
    where: str


def locations(folder: Path) -> dict[str, str]:
    """Where each key is printed in the article built beside the ledger (section headings, from the HTML)."""
    html = next(iter(sorted(folder.glob("*.html"))), None)
    if html is None:
        return {}
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html.read_text(encoding="utf-8"), "lxml")
    where: dict[str, list[str]] = {}
    for span in soup.find_all("span", class_="num"):
        heading = span.find_previous(["h1", "h2", "h3"])
        section = heading.get_text(" ", strip=True) if heading else "title page"
        sections = where.setdefault(span.get("data-key", ""), [])
        if section not in sections:
            sections.append(section)
    return {k: ", ".join(v) for k, v in where.items()}


def compare(
    old: Ledger, new: Ledger, where: dict[str, str] | None = None
) -> tuple[list[Change], list[Change]]:
    """Numbers whose printed text changed (added and removed keys included), and wording changes."""
    where = where or {}
    numbers, words = [], []
    for key in sorted(set(old.keys()) | set(new.keys())):
        before = old[key].text if key in old else "(absent)"
        after = new[key].text if key in new else "(absent)"
        if before == after or key.startswith("software."):
            continue
        change = Change(key, before, after, where.get(key, "not printed in the text (tables or supplement)"))
        (words if key.startswith("wording.") else numbers).append(change)
    return numbers, words


def report_markdown(old_name: str, new_name: str, numbers: list[Change], words: list[Change]) -> str:
    lines = [
        f"# Changes between {old_name} and {new_name}",
        "",
        f"{len(numbers)} number(s) and {len(words)} result-dependent phrase(s) changed.",
        "",
        "## Numbers",
        "",
        "| Key | Old | New | Where in the article |",
        "|---|---|---|---|",
    ]
    lines += [f"| `{c.key}` | {c.old} | {c.new} | {c.where} |" for c in numbers]
    lines += ["", "## Wording chosen by the results", ""]
    lines += [f'- `{c.key}` ({c.where}): "{c.old}" is now "{c.new}"' for c in words] or ["None."]
    return "\n".join(lines) + "\n"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("old", help="numbers.json, a folder holding one, or a submission tag")
    parser.add_argument("new", help="numbers.json, a folder holding one, or a submission tag")
    parser.add_argument("--out", type=Path, default=None, help="report path without extension")


def command(args: argparse.Namespace) -> int:
    """Report every number and result-dependent phrase that changed between two ledgers."""
    old, new = load(args.old), load(args.new)
    new_path = resolve(args.new)
    numbers, words = compare(old, new, locations(new_path.parent))
    markdown = report_markdown(args.old, args.new, numbers, words)
    out = args.out or new_path.parent / f"changes-{Path(args.old).name}-to-{Path(args.new).name}"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".md").write_text(markdown, encoding="utf-8")
    import pypandoc

    pypandoc.convert_text(markdown, "docx", format="markdown", outputfile=str(out.with_suffix(".docx")))
    print(markdown)
    print(f"written: {out.with_suffix('.md')} and {out.with_suffix('.docx')}")
    return 0
