"""A tamper corpus: edits a person could make to a built article, in its Word file's text, its
HTML's text or its PDF's typst source, each chosen from the article's own ledger (never typed
here, so the corpus follows the data): a number swapped between groups, between endpoints or
between table cells, a changed count, a flipped claim, a deleted sentence with numbers."""

from __future__ import annotations

import html
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from analysis.results.ledger import Ledger
from review.articletext import read_article

FILES = {"docx": "manuscript.docx", "pdf": "manuscript.pdf", "html": "index.html"}


@dataclass(frozen=True)
class Case:
    old: str  # text as the article prints it
    new: str  # what the tamperer writes instead
    place: str  # the start of the place verify must name
    key: str  # a ledger key verify must name


def flip(claim: str) -> str:
    """The opposite claim, as a careless edit would make it."""
    for old, new in (
        ("the difference was not statistically significant", "the difference was statistically significant"),
        ("was significantly", "was not significantly"),
        ("did not differ significantly", "differed significantly"),
    ):
        if old in claim:
            return claim.replace(old, new)
    raise AssertionError(f"no claim to flip in {claim!r}")


def sentence_printing(built: Path, key: str) -> str:
    """The sentence of the article that prints a ledger key, as read from its HTML."""
    article = read_article(built / "index.html")
    unit = next(w.unit for w in article.words if w.key == key)
    return article.unit_text(unit)


def cases(built: Path) -> dict[str, Case]:
    L = Ledger.from_json(built / "numbers.json")
    post, first = L.with_ci("os.median.post_ate_beva").text, L.with_ci("os.median.first_line").text
    os_p, pfs_p = L.p("os.logrank.p").text, L.p("pfs.logrank.p").text
    hr = {e: f"{e}.cox.multi.group.hr" for e in ("os", "pfs")}
    cell = {e: f"{L[key].text} ({L[f'{key}.ci'].text})" for e, key in hr.items()}
    n = L["n.total"].text
    claim = L["wording.os.difference"].text
    died = sentence_printing(built, "os.events.first_line")
    return {
        "groups": Case(
            f"{post} months in the post-ate-beva group and {first}",
            f"{first} months in the post-ate-beva group and {post}",
            "Abstract › Results, sentence 1", "os.median.post_ate_beva",
        ),
        "endpoints": Case(
            f"with first-line HAIC ({os_p})", f"with first-line HAIC ({pfs_p})",
            "Results › Survival, paragraph 1", "os.logrank.p",
        ),
        "table cells": Case(
            cell["os"], cell["pfs"],
            "Table 3 (Univariable and multivariable Cox regression for …), "
            "row 'Post-ate-beva vs first-line HAIC', column 'Overall survival › Multivariable HR (95% CI)'",
            "os.cox.multi.group.hr",
        ),
        "count": Case(f"Of the {n} patients", f"Of the {int(n) + 1} patients",
                      "Results › Patients, paragraph 1, sentence 1", "n.total"),
        "claim": Case(
            claim, flip(claim), "Results › Survival, paragraph 1, sentence 1", "wording.os.difference"
        ),
        "deleted sentence": Case(" " + died, "", "Results › Patients, paragraph 1", "os.events.first_line"),
    }


def pattern(text: str, fmt: str) -> str:
    """A regex for text as it stands in a file's source: markup may sit between any two characters
    (runs in Word, spans in HTML), white space may be a line break, typst writes en dashes as --."""
    between = r"(?:<[^>]*>)*" if fmt != "pdf" else ""
    parts = []
    for char in text:
        if char == " ":
            parts.append(r"(?:\s|<[^>]*>)+" if fmt != "pdf" else r"\s+")
        elif fmt == "pdf" and char == "\u2013":
            parts.append("--")
        elif fmt == "pdf" and char == "<":
            parts.append(r"\\?<")
        elif fmt != "pdf" and char in "<>&":
            parts.append(re.escape(html.escape(char, quote=False)))
        else:
            parts.append(re.escape(char))
    return between.join(parts)


def written(text: str, fmt: str) -> str:
    if fmt == "pdf":
        return text.replace("\u2013", "--").replace("<", "\\<")
    return html.escape(text, quote=False)


def tamper(built: Path, fmt: str, case: Case, out: Path) -> Path:
    """The article of one format with the case's edit made in its text; fails if nothing changed."""
    def edit(source: str) -> str:
        changed, count = re.subn(pattern(case.old, fmt), written(case.new, fmt), source, count=1)
        assert count == 1 and changed != source, f"{case.old!r} not found in the {fmt} source"
        return changed

    if fmt == "docx":
        with zipfile.ZipFile(built / FILES["docx"]) as archive:
            parts = {name: archive.read(name) for name in archive.namelist()}
        parts["word/document.xml"] = edit(parts["word/document.xml"].decode("utf-8")).encode("utf-8")
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in parts.items():
                archive.writestr(name, data)
    elif fmt == "html":
        out.write_text(edit((built / FILES["html"]).read_text(encoding="utf-8")), encoding="utf-8")
    else:
        import typst

        source = built / f"{out.stem}.typ"  # beside the original, so its relative image paths hold
        source.write_text(edit((built / "manuscript.typ").read_text(encoding="utf-8")), encoding="utf-8")
        try:
            typst.compile(str(source), output=str(out), root=str(built.parent))
        finally:
            source.unlink()
    return out
