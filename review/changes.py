"""`python -m review changes OLD [NEW]`: what changed in the article, for the response to reviewers.

OLD and NEW are submission tags (`submissions/TAG/`) or folders holding a built article (its HTML
and `numbers.json`); NEW defaults to the current build. The two articles are read the same way and
compared word by word (`review.articlediff`), so every change has a place, and the report lists
them as a reader meets the article: a summary line (patients, events, follow-up: old -> new);
sentences whose result-dependent wording changed (significant -> not), flagged first; the abstract;
each section, sentence by sentence with the old words struck through and the new in bold; each
table, row and column named, old -> new; figures drawn anew; last, once, the numbers computed but
printed nowhere whose value changed. The report is written as Markdown and as Word.
"""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import dataclass
from pathlib import Path

from analysis.article.provenance import TITLE as NUMBERS_TABLE
from analysis.errors import UserError
from analysis.results.ledger import SCHEMA, Ledger
from review.articlediff import Difference, differences
from review.articletext import Article, Cell, read_article

SUBMISSIONS = Path("submissions")
HTML = "index.html"
#: Summary line: what it names, and the ledger keys it adds up (each endpoint's events are added
#: between the patients and the follow-up, named by the endpoint's event: `summary_items`).
SUMMARY = (
    ("patients", ("n.total",)),
    ("median follow-up (months)", ("followup.median",)),
)


def summary_items(ledger: Ledger) -> list[tuple[str, tuple[str, ...]]]:
    """Patients, then per endpoint its events in every group (`endpoints.<name>` names the event),
    then the follow-up."""
    keys = ledger.keys()
    events = []
    for key in keys:
        if key.startswith("endpoints.") and key.count(".") == 1:
            name = key.split(".", 1)[1]
            counted = tuple(k for k in keys if k.startswith(f"{name}.events."))
            events.append((f"events ({ledger.peek(key).text})", counted))
    return [SUMMARY[0], *events, *SUMMARY[1:]]
UNLISTED = ("software.",)  # the running environment is not a result


class VersionError(UserError):
    """A version that cannot be compared: unknown, incomplete, or of another ledger schema."""


@dataclass
class Version:
    """One built article: its name (a tag, or the folder), its reading and its ledger."""

    name: str
    folder: Path
    article: Article
    ledger: Ledger


def locate(spec: str, root: Path = Path(".")) -> Path:
    """The folder of a version: a submission tag, or a folder holding a built article."""
    tag = root / SUBMISSIONS / spec
    for folder in (tag, Path(spec)):
        if folder.is_dir() and (folder / "numbers.json").is_file():
            return folder
    known = sorted(p.name for p in (root / SUBMISSIONS).glob("*") if p.is_dir())
    listed = ", ".join(known) if known else "none yet (make submission TAG=...)"
    raise VersionError(
        f"{spec}: no submission tag of that name (submissions: {listed}) nor a folder holding a built article"
    )


def read_ledger(path: Path) -> Ledger:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise VersionError(f"{path}: not a ledger file (not JSON: {exc})") from None
    found = document.get("schema") if isinstance(document, dict) else None
    if found != SCHEMA:
        raise VersionError(
            f"{path}: archived with ledger schema {found!r}; this version compares {SCHEMA!r} only"
        )
    return Ledger.from_json(path)


def load(spec: str, root: Path = Path("."), name: str | None = None) -> Version:
    folder = locate(spec, root)
    ledger = read_ledger(folder / "numbers.json")
    if not (folder / HTML).is_file():
        raise VersionError(f"{folder}: no {HTML} (the built article) beside numbers.json")
    return Version(name or spec, folder, read_article(folder / HTML), ledger)


# --- the report ----------------------------------------------------------------------------


def _escape(text: str) -> str:
    """Text as Markdown shows it literally."""
    for char in "\\`*_~[]<>|#":
        text = text.replace(char, "\\" + char)
    return text


def _marked_unit(new: Article, unit: int, found: list[Difference], old: Article) -> str:
    """A unit of the new article with the old words struck through and the new words in bold."""
    u = new.units[unit]
    pieces: list[tuple[str, bool]] = []  # (Markdown, preceded by a space)

    def plain_words(start: int, stop: int) -> None:
        if start < stop:
            pieces.append((_escape(new.text(start, stop)), new.words[start].space))

    position = u.start
    for d in sorted(found, key=lambda d: d.new_span.start):
        start = max(d.new_span.start, position)
        plain_words(position, start)
        if d.old_words:
            pieces.append((f"~~{_escape(d.old_words)}~~", old.words[d.old_span.start].space))
        if d.new_words:
            space = bool(d.old_words) or new.words[d.new_span.start].space
            pieces.append((f"**{_escape(d.new_words)}**", space))
        position = max(d.new_span.stop, start)
    plain_words(position, u.stop)
    return "".join((" " if space and i else "") + text for i, (text, space) in enumerate(pieces))


def summary(old: Ledger, new: Ledger) -> str:
    """Patients, events and follow-up, old -> new."""
    items = []
    for label, keys in summary_items(new):
        def value(ledger: Ledger, keys: tuple[str, ...] = keys) -> str:
            if not all(k in ledger for k in keys):
                return "—"
            if len(keys) == 1:
                return ledger[keys[0]].text
            return str(sum(int(ledger[k].value) for k in keys))

        before, after = value(old), value(new)
        items.append(f"{label} {before} → {after}" if before != after else f"{label} {after} (unchanged)")
    return "; ".join(items) + "."


def captions(article: Article) -> dict[str, str]:
    """Each table's and figure's name -> its caption."""
    return {u.section: article.unit_text(i) for i, u in enumerate(article.units) if u.kind == "caption"}


def printed_keys(version: Version) -> set[str]:
    """Keys the article prints: its provenance spans, the Key column of its numbers table, and
    the entries whose text a table cell prints (tables carry no spans)."""
    keys = {w.key for w in version.article.words if w.key}
    tables = {name for name, text in captions(version.article).items() if NUMBERS_TABLE in text}
    cells = [c.text for c in version.article.cells if c.table not in tables]
    listed = [c for c in version.article.cells if c.table in tables and c.column == "Key"]
    keys |= {c.text.replace(" ", "") for c in listed}
    printed = "\n".join(cells)
    for entry in version.ledger:
        if entry.key not in keys and entry.text and re.search(
            rf"(?<![\w.]){re.escape(entry.text)}(?![\d.]\d)", printed
        ):
            keys.add(entry.key)
    for key in list(keys):  # an interval is printed with its bounds
        if key.endswith(".ci"):
            keys |= {f"{key}_low", f"{key}_high"}
    return keys


Changed = list[tuple[int, list[Difference]]]  # units of the new article, with their differences


def report(old: Version, new: Version) -> str:
    """The changes report, in Markdown, ordered as a reader meets the new article."""
    found = differences(old.article, new.article)
    by_unit: dict[int, list[Difference]] = {}
    for d in found:
        by_unit.setdefault(d.new_unit, []).append(d)
    numbers_tables = {name for name, text in captions(new.article).items() if NUMBERS_TABLE in text}
    flagged: Changed = []
    text: dict[str, Changed] = {}
    for unit, items in by_unit.items():
        u = new.article.units[unit]
        if any(k.startswith("wording.") for d in items for k in d.keys):
            flagged.append((unit, items))
        elif u.kind not in ("cell", "table heading", "table note"):  # tables: cell by cell below
            text.setdefault(u.section or "Title page", []).append((unit, items))
    repeated = sum(len(c) for t, c in changed_cells(old.article, new.article).items() if t in numbers_tables)
    lines = [
        f"# Changes from {old.name} to {new.name}",
        "",
        f"**Summary:** {summary(old.ledger, new.ledger)}",
        "",
        "Old words are ~~struck through~~, new words in **bold**.",
        "",
    ]
    lines += _conclusions(flagged, old, new)
    lines += _text("Abstract", {s: v for s, v in text.items() if s.startswith("Abstract")}, old, new)
    lines += _text("Text", {s: v for s, v in text.items() if not s.startswith("Abstract")}, old, new)
    lines += _tables(old, new, numbers_tables)
    if repeated:
        lines += [
            "The supplementary table of numbers and their sources lists the numbers above again; "
            f"its {repeated} changed cell(s) are not repeated here.",
            "",
        ]
    lines += _figures(old, new) + _unprinted_group(old, new)
    return "\n".join(lines) + "\n"


def _conclusions(flagged: Changed, old: Version, new: Version) -> list[str]:
    lines = ["## Sentences whose result-dependent wording changed", ""]
    flips = [(u, i) for u, i in flagged if any("signific" in d.old_words + d.new_words for d in i)]
    for unit, items in flips + [f for f in flagged if f not in flips]:  # significance first
        keys = sorted({k for d in items for k in d.keys if k.startswith("wording.")})
        named = ", ".join(f"`{k}`" for k in keys)
        place = _escape(new.article.units[unit].place)
        lines.append(f"- **{place}** ({named}): {_marked_unit(new.article, unit, items, old.article)}")
    if not flagged:
        lines.append("None: every sentence whose wording the results choose reads as before.")
    return [*lines, ""]


def _text(title: str, groups: dict[str, Changed], old: Version, new: Version) -> list[str]:
    lines = [f"## {title}", ""]
    if not groups:
        lines += ["No change.", ""]
    for section, items in groups.items():
        if title == "Text":
            lines += [f"### {_escape(section)}", ""]
        for unit, found in items:
            place = new.article.units[unit].place
            short = place[len(section) + 2 :] if place.startswith(section + ", ") else place
            lines.append(f"- {_escape(short)}: {_marked_unit(new.article, unit, found, old.article)}")
        lines.append("")
    return lines


def changed_cells(old: Article, new: Article) -> dict[str, list[tuple[Cell, str]]]:
    """Per table of the new article, its cells whose text differs from the same cell of the old
    one (table by number, row by name, column by position, or by name where the number of
    columns changed), with the old text ("" for a cell that is new)."""
    def number(table: str) -> str:
        return table.split(" (")[0]

    before: dict[str, list[Cell]] = {}
    for cell in old.cells:
        before.setdefault(number(cell.table), []).append(cell)
    after: dict[str, list[Cell]] = {}
    for cell in new.cells:
        after.setdefault(number(cell.table), []).append(cell)
    out: dict[str, list[tuple[Cell, str]]] = {}
    for table, cells in after.items():
        old_cells = before.get(table, [])
        same_width = max((c.index for c in old_cells), default=-1) == max(c.index for c in cells)
        index = {(c.row, c.index if same_width else c.column): c.text for c in old_cells}
        for cell in cells:
            was = index.get((cell.row, cell.index if same_width else cell.column), "")
            if was != cell.text:
                out.setdefault(cell.table, []).append((cell, was))
    return out


def _tables(old: Version, new: Version, skip: set[str]) -> list[str]:
    lines = ["## Tables", ""]
    changed = {t: cells for t, cells in changed_cells(old.article, new.article).items() if t not in skip}
    if not changed:
        lines += ["No change.", ""]
    for table, cells in changed.items():
        lines += [
            f"### {_escape(table)}",
            "",
            f"| Row | Column | {_escape(old.name)} | {_escape(new.name)} |",
            "|---|---|---|---|",
        ]
        for cell, was in cells:
            row = (cell.row, cell.column, was, cell.text)
            lines.append("| " + " | ".join(_escape(c) for c in row) + " |")
        lines.append("")
    return lines


def _figures(old: Version, new: Version) -> list[str]:
    """Figures whose image differs: drawn from numbers that changed."""
    before = {f.name.split(" (")[0]: f.image for f in old.article.figures}
    redrawn = [f for f in new.article.figures if before.get(f.name.split(" (")[0], f.image) != f.image]
    lines = [f"- {_escape(f.name)}: drawn anew from the changed numbers." for f in redrawn]
    return ["## Figures", "", *(lines or ["No change."]), ""]


def _unprinted_group(old: Version, new: Version) -> list[str]:
    unprinted = _unprinted(old, new)
    lines = ["## Computed but not printed", ""]
    if not unprinted:
        return [*lines, "None."]
    listed = "; ".join(f"`{k}` {_escape(o)} → {_escape(n)}" for k, o, n in unprinted)
    return [*lines, f"{len(unprinted)} number(s) that the article does not print changed: {listed}."]


def _unprinted(old: Version, new: Version) -> list[tuple[str, str, str]]:
    """Ledger entries whose printed text changed but that neither article prints."""
    printed = printed_keys(old) | printed_keys(new)
    out = []
    for key in sorted(set(old.ledger.keys()) | set(new.ledger.keys())):
        if key.startswith(UNLISTED) or key in printed:
            continue
        before = old.ledger[key].text if key in old.ledger else "(absent)"
        after = new.ledger[key].text if key in new.ledger else "(absent)"
        if before != after:
            out.append((key, before, after))
    return out


def write_report(markdown: str, folder: Path, stem: str = "changes") -> list[Path]:
    """changes.md and changes.docx (through pandoc) in folder."""
    import pypandoc

    folder.mkdir(parents=True, exist_ok=True)
    md, docx = folder / f"{stem}.md", folder / f"{stem}.docx"
    md.write_text(markdown, encoding="utf-8")
    pypandoc.convert_text(markdown, "docx", format="markdown", outputfile=str(docx))
    return [md, docx]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("old", help="a submission tag (submissions/TAG) or a folder holding a built article")
    parser.add_argument("new", nargs="?", default=None, help="the same; default: the current build")
    parser.add_argument("--out", type=Path, default=None, help="folder for changes.md and changes.docx")


def current_folder() -> Path:
    from qrender.project import load_project

    return Path(load_project(Path.cwd()).output_dir)


def command(args: argparse.Namespace) -> int:
    """Report what changed in the article between two versions, place by place."""
    new_spec = args.new or str(current_folder())
    old, new = load(args.old), load(new_spec, name=args.new or "the current article")
    out = args.out or new.folder / f"changes-{Path(args.old).name}"
    markdown = report(old, new)
    written = write_report(markdown, out)
    print(markdown)
    print("written: " + ", ".join(str(p) for p in written))
    return 0
