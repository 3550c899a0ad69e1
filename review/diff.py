"""`python -m review diff OLD` (`make diff OLD=v1`): the resubmission kit, in `_manuscript/diff-OLD/`.

- `manuscript-tracked.docx`: the current article as a Word file in which every change since the
  submission OLD is a revision (author "analysis update", the build date): accept all and it reads
  as the current `manuscript.docx`, reject all and it reads as OLD's. The file is checked to do so,
  paragraph by paragraph, before anything is written.
- `manuscript-diff.pdf` and `manuscript-diff.html`: the same marks, deleted text struck through in
  red and inserted text underlined in blue.
- `changes.md` and `changes.docx`: the report for the response to reviewers (`review.changes`).

Bad input (an unknown tag, a submission archived with another ledger schema or without its Word
file, a tag that is the current build, no current build) exits 2 with one line and writes nothing.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import os
import shutil
import tempfile
from pathlib import Path

from analysis.errors import UserError
from review.articletext import images, pandoc_document, paragraphs
from review.changes import SUBMISSIONS, Version, VersionError, load, report, write_report
from review.cli import listing
from review.markup import DELETION, INSERTION, finish_revisions, marked_document
from review.submission import BUILD_STAMP

AUTHOR = "analysis update"
COLOURS = {DELETION: "#b00020", INSERTION: "#1f5fbf"}
STYLE = (
    "<style>"
    f".deletion {{ color: {COLOURS[DELETION]}; text-decoration: line-through; }}"
    f".insertion {{ color: {COLOURS[INSERTION]}; text-decoration: underline; }}"
    "</style>"
)


class DiffError(UserError):
    """A marked-up manuscript that did not come out right; nothing is written."""

    exit_code = 1


def same_build(old: Version, new: Version) -> bool:
    """The submission is the current build: the same digest of every input (or, for a submission
    archived without it, the same ledger and the same Word text)."""
    stamps = (old.folder / BUILD_STAMP, new.folder / ".build-stamp")
    if all(p.is_file() for p in stamps):
        return stamps[0].read_text().strip() == stamps[1].read_text().strip()
    same_numbers = (old.folder / "numbers.json").read_bytes() == (new.folder / "numbers.json").read_bytes()
    return same_numbers and paragraphs(_read(old.folder / "manuscript.docx")) == paragraphs(
        _read(new.folder / "manuscript.docx")
    )


def _read(path: Path, *options: str) -> dict:
    return pandoc_document(path, "docx", *options)


def _relative_images(document: dict, base: Path) -> dict:
    """Image paths relative to base (typst resolves absolute paths from the project root)."""
    document = copy.deepcopy(document)
    for image in images(document):
        image["c"][2][0] = os.path.relpath(image["c"][2][0], base)
    return document


def _typst_marks(document: dict) -> dict:
    """Revision spans as typst: struck through in one colour, underlined in the other. Links to
    places in the document become their text (a Word file keeps no labels for typst to find)."""
    document = copy.deepcopy(document)

    def walk(node: object) -> object:
        if isinstance(node, list):
            out = []
            for item in node:
                if isinstance(item, dict) and item.get("t") == "Link" and item["c"][2][0].startswith("#"):
                    out += walk(item["c"][1])
                    continue
                span = isinstance(item, dict) and item.get("t") == "Span"
                classes = set(item["c"][0][1]) if span else set()
                if {INSERTION, DELETION} & classes:
                    mark = INSERTION if INSERTION in classes else DELETION
                    line = "underline" if mark == INSERTION else "strike"
                    opening = f'#text(fill: rgb("{COLOURS[mark]}"))[#{line}['
                    out.append({"t": "RawInline", "c": ["typst", opening]})
                    out += walk(item["c"][1])
                    out.append({"t": "RawInline", "c": ["typst", "]]"]})
                else:
                    out.append(walk(item))
            return out
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items()}
        return node

    document["blocks"] = walk(document["blocks"])
    return document


def build_diff(root: Path, tag: str) -> Path:
    """Write the resubmission kit for submission `tag` against the current build; return its folder."""
    from qrender import pandoc
    from qrender.errors import BuildError
    from qrender.project import load_project

    project = load_project(root)
    current = root / project.output_dir
    # the documents compared are read from built files, already laid out: written as they stand,
    # without the project's filters (which would move the floats and list the legends again)
    writer = dataclasses.replace(project, filters=[], floats="in-text")
    if not (root / SUBMISSIONS / tag).is_dir():
        known = sorted(p.name for p in (root / SUBMISSIONS).glob("*") if p.is_dir())
        raise VersionError(f"{tag}: no submission of that name (submissions: {', '.join(known) or 'none'})")
    old = load(str(root / SUBMISSIONS / tag), root, name=tag)
    for folder in (old.folder, current):
        if not (folder / "manuscript.docx").is_file():
            raise VersionError(f"{folder}: no manuscript.docx to compare")
    new = load(str(current), root, name="the current article")
    if same_build(old, new):
        raise VersionError(f"{tag}: is the current build (same inputs); nothing to mark up")
    date = f"{new.article.stamp.date if new.article.stamp else '1970-01-01'}T00:00:00Z"
    work_parent = root / ".cache" / "diff"
    work_parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=work_parent))
    try:
        out = work / "out"
        out.mkdir()
        before = _read(old.folder / "manuscript.docx", f"--extract-media={work / 'old'}")
        after = _read(current / "manuscript.docx", f"--extract-media={work / 'new'}")
        marked = _relative_images(marked_document(before, after, AUTHOR, date), work)
        tracked = out / "manuscript-tracked.docx"
        pandoc.write("docx", marked, tracked, work, writer)
        finish_revisions(tracked, AUTHOR, date)
        _check_round_trip(tracked, before, after)
        html = copy.deepcopy(marked)
        html["blocks"].insert(0, {"t": "RawBlock", "c": ["html", STYLE]})
        pandoc.write("html", html, out / "manuscript-diff.html", work, writer)
        try:
            pandoc.write("typst", _typst_marks(marked), out / "manuscript-diff.pdf", work, writer)
        except BuildError as exc:
            raise DiffError(f"the marked-up PDF could not be written ({exc}); nothing written") from None
        for hidden in work.glob(".*"):
            hidden.unlink()
        write_report(report(old, new), out)
        target = current / f"diff-{tag}"
        if target.exists():
            shutil.rmtree(target)
        out.rename(target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def _check_round_trip(tracked: Path, before: dict, after: dict) -> None:
    """Accept all = the new article's paragraphs; reject all = the old one's."""
    for mode, expected, name in (("accept", after, "current"), ("reject", before, "submitted")):
        got = paragraphs(_read(tracked, f"--track-changes={mode}"))
        want = paragraphs(expected)
        if got != want:
            pairs = zip(got, want, strict=False)
            first = next((i for i, (a, b) in enumerate(pairs) if a != b), min(len(got), len(want)))
            raise DiffError(
                f"the tracked document, all revisions {mode}ed, differs from the {name} article at paragraph "
                f"{first + 1}; nothing written"
            )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("old", help="the submission to compare with: a tag under submissions/")


def command(args: argparse.Namespace) -> int:
    """Mark up the current article against a submission: tracked Word file, PDF, HTML, report."""
    target = build_diff(Path.cwd(), args.old)
    print(f"written {listing(target)}")
    return 0
