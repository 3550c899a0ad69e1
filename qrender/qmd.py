"""Read a `.qmd` into front matter, prose and python chunks, refusing constructs outside the subset."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from qrender.errors import BuildError, located

CHUNK_OPTIONS = {
    "label", "echo", "output", "include", "warning", "fig-cap", "tbl-cap", "fig-width", "fig-height",
}
FRONT_MATTER_KEYS = {
    "title", "subtitle", "running-title", "author", "abstract", "keywords", "date",
    "bibliography", "csl", "lang", "number-sections", "execute", "jupyter",
}
EXECUTE_KEYS = {"echo", "warning", "output"}

#: libyaml's safe loader where PyYAML has it (the same documents, parsed ten times faster)
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
FENCE = re.compile(r"^(?P<ticks>`{3,}|~{3,})\s*(?P<info>.*)$")
EXECUTABLE = re.compile(r"^\{(?P<engine>[\w-]+)(?P<rest>[^}]*)\}$")
INLINE_CODE = re.compile(r"`\{(?P<engine>[\w-]+)\}\s+(?P<expr>[^`]+)`")
DIV_OPEN = re.compile(r"^:{3,}\s*(?P<attrs>\S.*)?$")
SUPPORTED_DIVS = {"{#refs}"}
SHORTCODE = re.compile(r"\{\{<\s*(?P<name>\S+).*?>\}\}")
SUPPORTED_SHORTCODES = {"var"}


@dataclass
class Chunk:
    """A ```{python} chunk: its code, `#|` options and the qmd line of its opening fence."""

    code: str
    options: dict
    line: int
    body_line: int = 0

    @property
    def label(self) -> str | None:
        return self.options.get("label")

    def describe(self) -> str:
        return f"chunk '{self.label}'" if self.label else "unlabelled chunk"


@dataclass
class Prose:
    """Markdown between chunks, with the qmd line its first line sits on."""

    text: str
    line: int


@dataclass
class Document:
    path: Path
    front: dict
    parts: list[Chunk | Prose] = field(default_factory=list)


def _chunk_options(lines: list[str], path: str, line: int) -> tuple[dict, list[str]]:
    options: dict = {}
    body_start = 0
    for i, text in enumerate(lines):
        if not text.startswith("#|"):
            break
        body_start = i + 1
        try:
            parsed = yaml.load(text[2:].strip(), Loader=LOADER)  # noqa: S506 (a safe loader)
        except yaml.YAMLError as exc:
            raise BuildError(located(path, line + 1 + i, f"unreadable chunk option: {exc}")) from None
        if not isinstance(parsed, dict):
            raise BuildError(located(path, line + 1 + i, f"chunk option is not 'key: value': {text}"))
        for key in parsed:
            if key not in CHUNK_OPTIONS:
                raise BuildError(
                    located(path, line + 1 + i, f"chunk option '{key}' is not supported by qrender")
                )
        options.update(parsed)
    return options, lines[body_start:]


def _check_prose(line_text: str, path: str, line: int, open_divs: list[str]) -> None:
    for shortcode in SHORTCODE.finditer(line_text):
        if shortcode.group("name") not in SUPPORTED_SHORTCODES:
            raise BuildError(located(path, line, f"shortcode {shortcode.group(0)} is not supported"))
    for match in INLINE_CODE.finditer(line_text):
        if match.group("engine") != "python":
            raise BuildError(
                located(path, line, f"inline `{{{match.group('engine')}}}` code is not supported")
            )
    div = DIV_OPEN.match(line_text)
    if div:
        attrs = (div.group("attrs") or "").strip()
        if not attrs:
            if not open_divs:
                raise BuildError(located(path, line, "closing ':::' without an open div"))
            open_divs.pop()
        elif attrs in SUPPORTED_DIVS:
            open_divs.append(attrs)
        else:
            raise BuildError(located(path, line, f"div '::: {attrs}' is not supported by qrender"))


def front_matter(lines: list[str], path: str) -> tuple[dict, int]:
    if not lines or lines[0].strip() != "---":
        return {}, 0
    for end in range(1, len(lines)):
        if lines[end].strip() in ("---", "..."):
            try:
                front = yaml.load("\n".join(lines[1:end]), Loader=LOADER) or {}  # noqa: S506 (a safe loader)
            except yaml.YAMLError as exc:
                raise BuildError(f"{path}: front matter is not valid YAML: {exc}") from None
            for key in front:
                if key not in FRONT_MATTER_KEYS:
                    line = next(i for i in range(1, end) if lines[i].startswith(f"{key}:")) + 1
                    raise BuildError(located(path, line, f"front matter key '{key}' is not supported"))
            for key in front.get("execute", {}) or {}:
                if key not in EXECUTE_KEYS:
                    raise BuildError(f"{path}: execute option '{key}' is not supported")
            return front, end + 1
    raise BuildError(located(path, 1, "front matter opened with '---' is never closed"))


def parse(path: Path) -> Document:
    """Split the qmd into parts; raise BuildError naming file and line for anything unsupported."""
    name = str(path.name)
    lines = path.read_text(encoding="utf-8").splitlines()
    front, start = front_matter(lines, name)
    doc = Document(path=path, front=front)
    prose: list[str] = []
    prose_line = start + 1
    open_divs: list[str] = []
    i = start
    while i < len(lines):
        fence = FENCE.match(lines[i])
        if not fence:
            _check_prose(lines[i], name, i + 1, open_divs)
            prose.append(lines[i])
            i += 1
            continue
        ticks, info = fence.group("ticks"), fence.group("info").strip()
        close = next(
            (j for j in range(i + 1, len(lines)) if lines[j].strip() == ticks), None
        )
        if close is None:
            raise BuildError(located(name, i + 1, f"code fence {ticks} is never closed"))
        executable = EXECUTABLE.match(info)
        if not executable or info.startswith("{="):
            prose.extend(lines[i : close + 1])
        else:
            if executable.group("engine") != "python":
                raise BuildError(
                    located(name, i + 1, f"```{{{executable.group('engine')}}} chunks are not supported")
                )
            if prose:
                doc.parts.append(Prose("\n".join(prose), prose_line))
            options, body = _chunk_options(lines[i + 1 : close], name, i + 1)
            body_line = close + 1 - len(body)
            doc.parts.append(Chunk("\n".join(body), options, i + 1, body_line))
            prose = []
            prose_line = close + 2
        i = close + 1
    if open_divs:
        raise BuildError(f"{name}: div '::: {open_divs[-1]}' is never closed")
    if prose:
        doc.parts.append(Prose("\n".join(prose), prose_line))
    return doc
