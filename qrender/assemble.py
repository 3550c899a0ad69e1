"""Turn parsed parts and their executed outputs into one pandoc-markdown document.

Figures and tables are numbered in document order and cross-references resolved here, so every
writer (typst, docx, html) receives the same numbers and the same words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from qrender.errors import BuildError, located
from qrender.execute import (
    ChunkResult,
    FigureOut,
    MarkdownOut,
    Session,
    TableOut,
    VerbatimOut,
)
from qrender.qmd import INLINE_CODE, Chunk, Document, Prose

VAR = re.compile(r"\{\{<\s*var\s+(?P<name>[^\s>]+)\s*>\}\}")

SECTION = re.compile(r"^(?P<hashes>#{1,6})\s+(?P<title>.*?)\s*\{(?P<attrs>[^}]*)\}\s*$")
IMAGE_FIGURE = re.compile(r"!\[(?P<cap>[^\]]*)\]\((?P<src>[^)]+)\)\{#(?P<label>fig-[\w-]+)[^}]*\}")
CROSSREF = re.compile(r"(?<![\w@])@(?P<label>(?:fig|tbl|sec)-[\w-]*\w)")
CITATION = re.compile(r"(?<![\w@])@(?P<key>[A-Za-z0-9_]+(?:[:.#$%&\-+?<>~/][A-Za-z0-9_]+)*)")
CODE_SPAN = re.compile(r"`[^`]*`")
FENCED = re.compile(r"^(`{3,}|~{3,}).*?^\1\s*$", re.S | re.M)
TABLE_PLACEHOLDER = "QRENDERTABLE{:04d}"

KINDS = {"fig": "Figure", "tbl": "Table"}


@dataclass
class Labels:
    """Every cross-reference target: label -> the words that refer to it ("Figure 2")."""

    names: dict[str, str] = field(default_factory=dict)

    def number(self, label: str) -> str:
        return self.names[label].split(" ", 1)[1]


def _heading_attrs(attrs: str) -> tuple[str | None, bool]:
    ident = re.search(r"#(sec-[\w-]+)", attrs)
    return (ident.group(1) if ident else None), ".unnumbered" in attrs or "-" in attrs.split()


def collect_labels(doc: Document, number_sections: bool) -> Labels:
    """Number figures, tables and sections in the order they appear in the qmd."""
    labels = Labels()
    counters = {"fig": 0, "tbl": 0}
    sections = [0] * 6
    name = doc.path.name

    def add(label: str, words: str, line: int) -> None:
        if label in labels.names:
            raise BuildError(located(name, line, f"label '{label}' is defined twice"))
        labels.names[label] = words

    for part in doc.parts:
        if isinstance(part, Chunk):
            label = part.label or ""
            kind = label.split("-", 1)[0]
            if kind in counters and "-" in label:
                counters[kind] += 1
                add(label, f"{KINDS[kind]} {counters[kind]}", part.line)
            continue
        for offset, line in enumerate(_prose_lines(part.text)):
            for match in IMAGE_FIGURE.finditer(line):
                counters["fig"] += 1
                add(match.group("label"), f"Figure {counters['fig']}", part.line + offset)
            heading = re.match(r"^(#{1,6})\s+(.*)$", line)
            if not heading:
                continue
            level = len(heading.group(1))
            section = SECTION.match(line)
            ident, unnumbered = _heading_attrs(section.group("attrs")) if section else (None, False)
            title = section.group("title") if section else heading.group(2)
            if not unnumbered:
                sections[level - 1] += 1
                sections[level:] = [0] * (6 - level)
            if ident:
                number = ".".join(str(n) for n in sections[:level] if n)
                words = f"Section {number}" if number_sections and not unnumbered else title
                add(ident, words, part.line + offset)
    return labels


def _prose_lines(text: str) -> list[str]:
    """Prose lines with fenced code blanked, so code never counts as markup."""
    return FENCED.sub(lambda m: "\n" * m.group(0).count("\n"), text).split("\n")


def check_references(doc: Document, labels: Labels, bib_keys: set[str]) -> None:
    """Unknown cross-reference labels and citation keys stop the build, named with their line."""
    for part in doc.parts:
        if not isinstance(part, Prose):
            continue
        for offset, line in enumerate(_prose_lines(part.text)):
            scan = CODE_SPAN.sub("", line)
            for match in CROSSREF.finditer(scan):
                if match.group("label") not in labels.names:
                    raise BuildError(
                        located(doc.path.name, part.line + offset,
                                f"unknown cross-reference @{match.group('label')}")
                    )
            for match in CITATION.finditer(scan):
                key = match.group("key")
                if key.split("-", 1)[0] in ("fig", "tbl", "sec"):
                    continue
                if key not in bib_keys:
                    raise BuildError(
                        located(doc.path.name, part.line + offset, f"unknown citation key @{key}")
                    )


def resolve_crossrefs(text: str, labels: Labels) -> str:
    return CROSSREF.sub(lambda m: f"[{labels.names[m.group('label')]}](#{m.group('label')})", text)


def _caption_figures(text: str, labels: Labels) -> str:
    def caption(m: re.Match) -> str:
        words = labels.names[m.group("label")]
        return f"![{words}: {m.group('cap')}]({m.group('src')}){{#{m.group('label')}}}"

    return IMAGE_FIGURE.sub(caption, text)


def inline_expressions(text: str, start_line: int, session: Session) -> str:
    lines = text.split("\n")
    out = []
    for offset, line in enumerate(lines):
        out.append(
            INLINE_CODE.sub(lambda m, n=start_line + offset: session.inline(m.group("expr"), n), line)
        )
    return "\n".join(out)


def lookup_variable(variables: dict, name: str) -> object | None:
    """Quarto's `var` lookup: dotted names walk nested mappings (`\\.` is a literal dot)."""
    value: object = variables
    for part in re.split(r"(?<!\\)\.", name):
        if not isinstance(value, dict):
            return None
        value = value.get(part.replace("\\.", "."), value.get(int(part)) if part.isdigit() else None)
        if value is None:
            return None
    return value


def resolve_variables(text: str, start_line: int, variables: dict, name: str) -> str:
    """Replace `{{< var name >}}` by the variable's Markdown; an unknown name stops the build."""
    lines = text.split("\n")
    for offset, line in enumerate(lines):
        def value(match: re.Match, line_number: int = start_line + offset) -> str:
            found = lookup_variable(variables, match.group("name"))
            if found is None or isinstance(found, (dict, list)):
                what = "unknown" if found is None else "not a single value:"
                raise BuildError(located(name, line_number, f"{what} var {match.group('name')}"))
            return str(found)

        lines[offset] = VAR.sub(value, line)
    return "\n".join(lines)


@dataclass
class Assembled:
    markdown: str
    tables: list[str]


class Assembler:
    """Builds the markdown body while chunks execute, in document order."""

    def __init__(
        self, doc: Document, session: Session, labels: Labels, defaults: dict, variables: dict
    ) -> None:
        self.doc = doc
        self.variables = variables
        self.session = session
        self.labels = labels
        self.defaults = defaults
        self.blocks: list[str] = []
        self.tables: list[str] = []

    def prose(self, part: Prose) -> None:
        text = inline_expressions(part.text, part.line, self.session)
        text = resolve_variables(text, part.line, self.variables, self.doc.path.name)
        text = _caption_figures(text, self.labels)
        self.blocks.append(resolve_crossrefs(text, self.labels))

    def chunk(self, result: ChunkResult) -> None:
        chunk = result.chunk
        options = {**self.defaults, **chunk.options}
        if options.get("include", True) is False:
            return
        if options.get("echo", False):
            self.blocks.append(f"```python\n{chunk.code}\n```")
        if options.get("output", True) is False:
            return
        label = chunk.label or ""
        figures = [o for o in result.outputs if isinstance(o, FigureOut)]
        if label.startswith("fig-") and len(figures) != 1:
            raise BuildError(
                located(self.doc.path.name, chunk.line,
                        f"{chunk.describe()} must draw exactly one figure (drew {len(figures)})")
            )
        for output in result.outputs:
            self.blocks.append(self._render(output, label, options))

    def _render(self, output: object, label: str, options: dict) -> str:
        if isinstance(output, FigureOut):
            src = output.png.as_posix()
            if label.startswith("fig-"):
                words = self.labels.names[label]
                return f"![{words}: {options.get('fig-cap', '')}]({src}){{#{label}}}"
            return f"![{options.get('fig-cap', '')}]({src})"
        if isinstance(output, TableOut):
            self.tables.append(output.html)
            marker = TABLE_PLACEHOLDER.format(len(self.tables))
            if label.startswith("tbl-"):
                words = self.labels.names[label]
                caption = f"{words}: {options.get('tbl-cap', '')}"
                return f"::: {{#{label} .qrender-table}}\n{caption}\n\n{marker}\n:::"
            return f"::: {{.qrender-table}}\n{marker}\n:::"
        if isinstance(output, MarkdownOut):
            return output.text
        if isinstance(output, VerbatimOut):
            return f"```\n{output.text}\n```"
        raise TypeError(output)

    def result(self) -> Assembled:
        return Assembled("\n\n".join(self.blocks) + "\n", self.tables)


def _affiliation_index(authors: list[dict]) -> list[str]:
    names: list[str] = []
    for author in authors:
        for aff in author.get("affiliations", []) or []:
            text = _affiliation_text(aff)
            if text not in names:
                names.append(text)
    return names


def _affiliation_text(aff: object) -> str:
    if isinstance(aff, str):
        return aff
    return ", ".join(str(aff[k]) for k in ("name", "department", "city", "country") if aff.get(k))


#: where Quarto's copy of the title block takes the abstract Quarto evaluated (filters/titleblock.lua)
ABSTRACT_SLOT = "::: {.qrender-abstract}\n:::"


def title_block(front: dict, abstract_markdown: str | None) -> str:
    """Authors with numbered affiliations, corresponding author, running title, abstract, keywords.

    The one layout of the title block for both renderers: qrender puts it at the top of the body;
    for Quarto the pre-render step writes it (with `ABSTRACT_SLOT` for the abstract) to a file that
    the Lua filter `filters/titleblock.lua` puts there, in place of Quarto's own title block."""
    authors = front.get("author") or []
    if isinstance(authors, (str, dict)):
        authors = [authors]
    authors = [{"name": a} if isinstance(a, str) else a for a in authors]
    affiliations = _affiliation_index(authors)
    lines: list[str] = []
    if authors:
        names = []
        for author in authors:
            marks = [
                str(affiliations.index(_affiliation_text(a)) + 1)
                for a in author.get("affiliations", []) or []
            ]
            star = "\\*" if author.get("corresponding") else ""
            sup = f"^{','.join(marks)}{star}^" if marks or star else ""
            name = author["name"] if isinstance(author["name"], str) else author["name"].get(
                "literal", " ".join(str(v) for v in author["name"].values())
            )
            names.append(f"{name}{sup}")
        lines.append(", ".join(names))
        lines.extend(f"^{i}^ {text}" for i, text in enumerate(affiliations, 1))
        for author in authors:
            if author.get("corresponding"):
                email = f" ({author['email']})" if author.get("email") else ""
                lines.append(f"\\* Corresponding author: {author['name']}{email}")
    if front.get("running-title"):
        lines.append(f"**Running title:** {front['running-title']}")
    blocks = ["::: {.title-authors}\n" + "\\\n".join(lines) + "\n:::"] if lines else []
    if abstract_markdown:
        blocks.append(f"## Abstract {{.unnumbered .abstract}}\n\n{abstract_markdown}")
    keywords = front.get("keywords")
    if keywords:
        blocks.append(f"**Keywords:** {'; '.join(str(k) for k in keywords)}")
    return "\n\n".join(blocks)


def bib_keys(paths: list[Path]) -> set[str]:
    keys: set[str] = set()
    for path in paths:
        keys |= set(re.findall(r"^\s*@\w+\s*\{\s*([^,\s]+)\s*,", path.read_text(encoding="utf-8"), re.M))
    return keys
