"""The project's `_quarto.yml`: what to render, with which style, and which inputs decide staleness."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from qrender.errors import BuildError

SUPPORTED_FORMATS = ("typst", "docx", "html")
#: Quarto's format options qrender honours, with Quarto's meaning; any other option stops the build.
FORMAT_OPTIONS = {
    "typst": {
        "citeproc", "include-in-header", "include-before-body", "include-after-body", "papersize", "margin",
        "linestretch",
    },
    "docx": {"reference-doc"},
    "html": {
        "include-in-header", "include-before-body", "include-after-body", "css", "theme", "embed-resources",
        "lightbox",
        "keep-md",  # Quarto's intermediate Markdown; qrender writes none, so it has nothing to keep
    },
}
#: Options whose only value qrender honours: it writes one self-contained HTML file styled by the
#: project's CSS alone (no Bootstrap theme), its figures not wrapped in links to files (no lightbox).
FIXED_OPTIONS = {("html", "theme"): "none", ("html", "embed-resources"): True, ("html", "lightbox"): False}
PROJECT_KEYS = {"type", "output-dir", "render", "pre-render", "post-render"}
#: Where the Word and PDF outputs put tables and figures (`qrender: floats:`), see filters/submission.lua.
FLOATS = ("in-text", "end")
QRENDER_CODE = Path(__file__).resolve().parent


@dataclass
class Project:
    """Settings read from `_quarto.yml` (Quarto's keys) plus the `qrender` block (ours)."""

    root: Path
    article: str
    output_dir: str
    formats: list[str]
    metadata: dict
    options: dict[str, dict] = field(default_factory=dict)
    pre_render: list[str] = field(default_factory=list)
    post_render: list[str] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    data: str | None = None
    synthetic_notice: str = "SYNTHETIC DATA: not real patients"
    filters: list[Path] = field(default_factory=list)
    floats: str = "in-text"

    @property
    def article_path(self) -> Path:
        return self.root / self.article

    @property
    def stem(self) -> str:
        return Path(self.article).stem

    def option_files(self, fmt: str, key: str) -> list[Path]:
        """A format option that names files (one path or a list), as paths in the project."""
        value = self.options.get(fmt, {}).get(key)
        names = [value] if isinstance(value, str) else list(value or [])
        return [self.root / name for name in names]

    @property
    def scripts(self) -> list[Path]:
        """The pre- and post-render scripts: inputs of the build like the article itself."""
        return [self.root / s.split()[0] for s in self.pre_render + self.post_render]


def _as_list(value: object) -> list[str]:
    return [value] if isinstance(value, str) else [str(v) for v in value or []]


def _format_options(config: dict, path: Path) -> tuple[list[str], dict[str, dict]]:
    formats = config.get("format") or {}
    unknown = [f for f in formats if f not in SUPPORTED_FORMATS]
    if unknown:
        raise BuildError(f"{path}: format(s) {unknown} are outside the supported {SUPPORTED_FORMATS}")
    options: dict[str, dict] = {}
    for fmt, value in formats.items():
        value = {} if value in (None, "default") else value
        if not isinstance(value, dict):
            raise BuildError(f"{path}: format {fmt}: expected 'default' or options, found {value!r}")
        extra = sorted(set(value) - FORMAT_OPTIONS[fmt])
        if extra:
            raise BuildError(f"{path}: format {fmt}: option(s) {extra} are not supported by qrender")
        for (where, key), only in FIXED_OPTIONS.items():
            if where == fmt and key in value and value[key] != only:
                raise BuildError(f"{path}: format {fmt}: qrender supports only {key}: {only!r}")
        options[fmt] = value
    return list(formats) or list(SUPPORTED_FORMATS), options


def _filters(config: dict, root: Path, path: Path) -> list[Path]:
    """Quarto's `filters:` (a path, or a mapping with `path` and `at`): pandoc Lua filters, which
    qrender runs on its finished document in every writer."""
    found = []
    for entry in config.get("filters") or []:
        name = entry.get("path") if isinstance(entry, dict) else entry
        if not isinstance(name, str) or not name.endswith(".lua"):
            raise BuildError(f"{path}: filters: {entry!r} is not a Lua filter (qrender runs .lua filters)")
        if not (root / name).exists():
            raise BuildError(f"{path}: filters: {name} not found")
        found.append(root / name)
    return found


def load_project(root: Path) -> Project:
    """Read `_quarto.yml`; a missing file or an unsupported project type is an input error."""
    path = root / "_quarto.yml"
    if not path.exists():
        raise BuildError(f"{path}: not found; a Quarto project needs _quarto.yml")
    config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    project = config.get("project", {}) or {}
    if project.get("type") != "manuscript":
        raise BuildError(f"{path}: project type must be 'manuscript' (found {project.get('type')!r})")
    extra = sorted(set(project) - PROJECT_KEYS)
    if extra:
        raise BuildError(f"{path}: project option(s) {extra} are not supported by qrender")
    manuscript = config.get("manuscript", {}) or {}
    article = manuscript.get("article", "index.qmd")
    render = _as_list(project.get("render"))
    if render and article not in render:
        raise BuildError(f"{path}: project.render {render} does not list the article {article}")
    formats, options = _format_options(config, path)
    ours = config.get("qrender", {}) or {}
    floats = ours.get("floats", "in-text")
    if floats not in FLOATS:
        raise BuildError(f"{path}: qrender.floats must be one of {list(FLOATS)} (found {floats!r})")
    metadata = {
        k: v
        for k, v in config.items()
        if k not in ("project", "manuscript", "format", "qrender", "filters")
    }
    return Project(
        root=root,
        article=article,
        output_dir=project.get("output-dir", "_manuscript"),
        formats=formats or list(SUPPORTED_FORMATS),
        metadata=metadata,
        options=options,
        pre_render=_as_list(project.get("pre-render")),
        post_render=_as_list(project.get("post-render")),
        inputs=list(ours.get("inputs", [])),
        data=ours.get("data"),
        synthetic_notice=ours.get("synthetic-notice", Project.synthetic_notice),
        filters=_filters(config, root, path),
        floats=floats,
    )


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(
            p
            for p in path.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
        )
    return [path] if path.exists() else []


def input_hash(project: Project, extra: list[Path], article: bool = True) -> str:
    """SHA-256 over the names and contents of every input: content, never file times, decides.
    Without the article (`article=False`): what the document's code can read, but not its prose."""
    digest = hashlib.sha256()
    paths = [project.root / "_quarto.yml", *([project.article_path] if article else []), QRENDER_CODE]
    paths += [project.root / p for p in project.inputs] + extra
    for top in paths:
        for file in _files(top):
            name = os.path.relpath(file, project.root)
            digest.update(name.encode() + b"\0" + hashlib.sha256(file.read_bytes()).digest())
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
