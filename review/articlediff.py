"""Word-level differences between two readings of an article (`review.articletext`).

The same comparison serves `verify` (the article rebuilt from the data against the file under
review) and the resubmission kit (the article of an earlier submission against the current one).
Both readings are made the same way, so layout (line breaks, pages, line numbers, the stamp) is not
part of either; what remains to differ is what the articles say. Words are compared in order with
`difflib.SequenceMatcher` (no junk heuristic: a number repeated a hundred times is still compared),
so a number is checked in its place, not against any number printed anywhere.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field, replace

from review.articletext import Article, Unit, Word

#: Edits this many words apart or fewer, in one unit, are reported as one difference.
JOIN_GAP = 3
#: Words of unchanged text shown on each side of a difference.
CONTEXT = 3


@dataclass(frozen=True)
class Edit:
    """Words old[a:b] became new[c:d] (an empty range: nothing there on that side)."""

    old: range
    new: range


def word_edits(old: list[str], new: list[str]) -> list[Edit]:
    """The non-equal stretches of a word-by-word alignment, in reading order.

    A stretch only added or only removed is slid as far forward as the same words allow, so that a
    removed sentence is "During … died." rather than ". During … died"."""
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    opcodes = matcher.get_opcodes()
    edits = []
    for index, (tag, a, b, c, d) in enumerate(opcodes):
        if tag == "equal":
            continue
        following = opcodes[index + 1] if index + 1 < len(opcodes) else None
        room = following[2] - following[1] if following and following[0] == "equal" else 0
        if tag == "delete":
            while room and old[a] == old[b]:
                a, b, c, d, room = a + 1, b + 1, c + 1, d + 1, room - 1
        elif tag == "insert":
            while room and new[c] == new[d]:
                a, b, c, d, room = a + 1, b + 1, c + 1, d + 1, room - 1
        edits.append(Edit(range(a, b), range(c, d)))
    return edits


def matched(old: list[str], new: list[str]) -> list[int | None]:
    """For each old word, the index of the new word it is aligned with (None where it has none)."""
    out: list[int | None] = [None] * len(old)
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for a, c, size in matcher.get_matching_blocks():
        for k in range(size):
            out[a + k] = c + k
    return out


@dataclass
class Difference:
    """One place where two articles say different things."""

    old_place: str
    new_place: str
    old: str  # what the old article says there, with a little unchanged text around it
    new: str
    keys: list[str] = field(default_factory=list)  # ledger keys of the changed words (old side first)
    old_unit: int = -1
    new_unit: int = -1
    old_words: str = ""  # the changed words alone
    new_words: str = ""
    old_span: range = range(0)  # the changed words' indices
    new_span: range = range(0)

    @property
    def kind(self) -> str:
        return "changed" if self.old_words and self.new_words else ("added" if self.new_words else "removed")


def differences(old: Article, new: Article) -> list[Difference]:
    """Every difference between two articles, in reading order, located in both."""
    edits = _joined(word_edits(old.tokens(), new.tokens()), old, new)
    return [_difference(edit, old, new) for edit in edits]


def _unit_at(article: Article, span: range) -> int:
    """The unit of a range of words, or of the word before it (an insertion point)."""
    if not article.words:
        return -1
    index = span.start if len(span) else max(span.start - 1, 0)
    return article.words[min(index, len(article.words) - 1)].unit


def _joined(edits: list[Edit], old: Article, new: Article) -> list[Edit]:
    """Edits close together in the same unit, as one."""
    out: list[Edit] = []
    for edit in edits:
        if out:
            last = out[-1]
            near = edit.old.start - last.old.stop <= JOIN_GAP and edit.new.start - last.new.stop <= JOIN_GAP
            same = _unit_at(old, last.old) == _unit_at(old, edit.old) and _unit_at(new, last.new) == _unit_at(
                new, edit.new
            )
            if near and same:
                out[-1] = Edit(range(last.old.start, edit.old.stop), range(last.new.start, edit.new.stop))
                continue
        out.append(edit)
    return out


def _with_context(article: Article, span: range) -> str:
    """The words of a span with CONTEXT words either side, within the span's unit."""
    unit = article.units[_unit_at(article, span)] if article.words else Unit("", "")
    first, last = unit.context or (unit.start, unit.stop)
    start = max(span.start - CONTEXT, first)
    stop = min(span.stop + CONTEXT, last) if len(span) else min(span.start + CONTEXT, last)
    words = article.words
    before = article.text(start, span.start)
    body = article.text(span.start, span.stop)
    after = article.text(span.stop, stop)
    gap_before = " " if before and (span.start >= len(words) or words[span.start].space or not body) else ""
    gap_after = " " if after and words[span.stop].space else ""
    prefix = "… " if start > first else ""
    suffix = " …" if stop < last else ""
    return f"{prefix}{before}{gap_before}[{body}]{gap_after}{after}{suffix}"


def _difference(edit: Edit, old: Article, new: Article) -> Difference:
    old_unit, new_unit = _unit_at(old, edit.old), _unit_at(new, edit.new)
    keys = []
    for word in [*old.words[edit.old.start : edit.old.stop], *new.words[edit.new.start : edit.new.stop]]:
        if word.key and word.key not in keys:
            keys.append(word.key)
    return Difference(
        old_place=old.units[old_unit].place if old_unit >= 0 else "",
        new_place=new.units[new_unit].place if new_unit >= 0 else "",
        old=_with_context(old, edit.old),
        new=_with_context(new, edit.new),
        keys=keys,
        old_unit=old_unit,
        new_unit=new_unit,
        old_words=old.text(edit.old.start, edit.old.stop),
        new_words=new.text(edit.new.start, edit.new.stop),
        old_span=edit.old,
        new_span=edit.new,
    )


FLOAT = re.compile(r"^(Table|Figure) (\d+)\b")


def floats_last(article: Article) -> Article:
    """The reading in the order of a submission layout (`qrender: floats: end`): the text first,
    then each table, then each figure's caption, by number, as the Word file and PDF print them."""
    def order(index: int) -> tuple:
        found = FLOAT.match(article.units[index].section)
        if not found:
            return (0, 0, index)
        return (1 if found.group(1) == "Table" else 2, int(found.group(2)), index)

    out = Article(article.path, article.format, stamp=article.stamp, figures=article.figures,
                  cells=article.cells)
    for index in sorted(range(len(article.units)), key=order):
        unit = article.units[index]
        start = len(out.words)
        out.words += [replace(w, unit=len(out.units)) for w in article.words[unit.start : unit.stop]]
        out.units.append(replace(unit, start=start, stop=len(out.words), context=None))
    return out


def annotate(article: Article, reference: Article, places: bool = True) -> Article:
    """The article with each word's ledger key (and, when `places`, its place) taken from another
    reading of the same text: a PDF's lines become sentences and table cells, "Results › Survival,
    paragraph 1, sentence 2 (page 7, line 127)"; a Word file's numbers get the HTML's keys.

    Words are aligned word by word; a word without a counterpart takes the place of the word before.
    With `places`, a line that repeats a table's column headings or notes and has no counterpart
    (typst repeats them on each page a table runs over) is page furniture and is left out."""
    tokens = article.tokens()
    target = matched(tokens, reference.tokens())
    if places:
        keep = _not_repeated(article, reference, target)
        article = _subset(article, keep)
        target = [t for t, k in zip(target, keep, strict=True) if k]
    out = Article(article.path, article.format, stamp=article.stamp)
    last = 0
    for i, word in enumerate(article.words):
        ref = target[i]
        last = ref if ref is not None else last
        ref_word = reference.words[last] if reference.words else Word("", 0)
        key = ref_word.key if ref is not None else ""
        unit = word.unit
        if places:
            pair = (ref_word.unit, word.unit)
            if not out.units or out.units[-1].stop != i or getattr(out.units[-1], "pair", None) != pair:
                shown = reference.units[ref_word.unit]
                place = f"{shown.place} ({article.units[word.unit].place})"
                where = {"section": shown.section, "row": shown.row, "column": shown.column}
                out.units.append(Unit(place, shown.kind, i, i, **where))
                out.units[-1].pair = pair  # type: ignore[attr-defined]
            out.units[-1].stop = i + 1
            unit = len(out.units) - 1
        out.words.append(Word(word.text, unit, key or word.key, word.space))
    if not places:
        out.units = list(article.units)
        return out
    sentence: dict[int, tuple[int, int]] = {}
    for u in out.units:
        ref_unit = u.pair[0]  # type: ignore[attr-defined]
        start, stop = sentence.get(ref_unit, (u.start, u.stop))
        sentence[ref_unit] = (min(start, u.start), max(stop, u.stop))
    for u in out.units:
        u.context = sentence[u.pair[0]]  # type: ignore[attr-defined]
    return out


def _not_repeated(article: Article, reference: Article, target: list[int | None]) -> list[bool]:
    """False for the words of lines that repeat a table's column headings or notes: of the lines
    with the same words in one table, only the first heading line and the last note line count.

    A heading or note line is one whose words are aligned with heading or note cells, or stand
    between such words (a wrapped heading's words need not be in the cells' order)."""
    if not reference.words:
        return [True] * len(article.words)
    lines: dict[int, list[int]] = {}
    for i, word in enumerate(article.words):
        lines.setdefault(word.unit, []).append(i)
    before = _nearest(target)
    after = _nearest(target[::-1])[::-1]

    def kind(index: int | None) -> str:
        return reference.units[reference.words[index].unit].kind if index is not None else ""

    kinds: dict[tuple[str, ...], str] = {}
    for indices in lines.values():
        found = set()
        for i in indices:
            found |= {kind(target[i])} if target[i] is not None else {kind(before[i]), kind(after[i])}
        if len(found) == 1 and found <= {"table heading", "table note"}:
            kinds[tuple(article.words[i].text for i in indices)] = found.pop()
    groups: dict[tuple, list[list[int]]] = {}
    for indices in lines.values():
        words = tuple(article.words[i].text for i in indices)
        if words in kinds and before[indices[0]] is not None:
            table = reference.units[reference.words[before[indices[0]]].unit].place.split(", ")[0]
            groups.setdefault((words, table), []).append(indices)
    keep = [True] * len(article.words)
    for (words, _), occurrences in groups.items():
        counted = occurrences[0] if kinds[words] == "table heading" else occurrences[-1]
        for indices in occurrences:
            if indices is not counted:
                for i in indices:
                    keep[i] = False
    return keep


def _nearest(target: list[int | None]) -> list[int | None]:
    """For each position, the last aligned index at or before it."""
    out, last = [], None
    for t in target:
        last = t if t is not None else last
        out.append(last)
    return out


def _subset(article: Article, keep: list[bool]) -> Article:
    out = Article(article.path, article.format, units=list(article.units), stamp=article.stamp)
    out.words = [w for w, k in zip(article.words, keep, strict=True) if k]
    return out
