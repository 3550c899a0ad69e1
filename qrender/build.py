"""One build: check staleness by content, execute once, write every format, publish atomically."""

from __future__ import annotations

import datetime as dt
import html
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from qrender.errors import BuildError
from qrender.project import Project, file_sha256, resolve_csl

STAMP_FILE = ".build-stamp"
EXTENSIONS = {"typst": "pdf", "docx": "docx", "html": "html"}


@dataclass
class Stamp:
    """What every output carries: the data's SHA-256, the code version and the build date."""

    data_sha256: str
    code_version: str
    date: str
    synthetic: bool

    def line(self) -> str:
        return f"data sha256 {self.data_sha256} | code {self.code_version} | built {self.date}"


def _bibliographies(project: Project, front: dict) -> list[Path]:
    bib = front.get("bibliography", project.metadata.get("bibliography"))
    names = [bib] if isinstance(bib, str) else list(bib or [])
    return [project.root / name for name in names]


def _csl(project: Project, front: dict) -> Path | None:
    name = front.get("csl", project.metadata.get("csl"))
    return resolve_csl(name, project.root) if name else None


def make_stamp(project: Project) -> Stamp:
    data_sha, synthetic = "none", False
    if project.data:
        data = project.root / project.data
        if not data.exists():
            raise BuildError(f"_quarto.yml: qrender.data names {project.data}, which does not exist")
        data_sha = file_sha256(data)
        meta = data.with_name(f"{data.stem}.meta.yaml")
        if meta.exists():
            synthetic = bool((yaml.safe_load(meta.read_text(encoding="utf-8")) or {}).get("synthetic"))
    describe = subprocess.run(
        ["git", "describe", "--always", "--dirty", "--tags"],
        cwd=project.root, capture_output=True, text=True,
    )
    version = describe.stdout.strip() if describe.returncode == 0 else "unversioned"
    today = dt.datetime.now(dt.UTC).date().isoformat()
    return Stamp(data_sha, version, today, synthetic)


def is_current(project: Project, digest: str) -> bool:
    stamp = project.root / project.output_dir / STAMP_FILE
    outputs = [project.root / project.output_dir / f"{project.stem}.{EXTENSIONS[f]}" for f in project.formats]
    return stamp.exists() and stamp.read_text().strip() == digest and all(p.exists() for p in outputs)


def staleness_inputs(project: Project) -> list[Path]:
    """Inputs named outside `qrender.inputs` that still decide the result: bib and CSL."""
    from qrender.qmd import front_matter

    lines = project.article_path.read_text(encoding="utf-8").splitlines()
    front, _ = front_matter(lines, project.article)
    extra = _bibliographies(project, front)
    csl = front.get("csl", project.metadata.get("csl"))
    if csl and (project.root / csl).exists():
        extra.append(project.root / csl)
    return extra


def publish(staging: Path, target: Path) -> None:
    """Swap the finished staging folder in for the old outputs."""
    old = target.with_name(target.name + ".old")
    if old.exists():
        shutil.rmtree(old)
    if target.exists():
        target.rename(old)
    staging.rename(target)
    if old.exists():
        shutil.rmtree(old)


def build(project: Project, digest: str) -> Path:
    """Render every format into a temporary folder and publish it only if all succeeded."""
    from qrender import pandoc, qmd
    from qrender.assemble import Assembler, bib_keys, check_references, collect_labels, title_block
    from qrender.docx import reference_docx, set_docx_comments
    from qrender.execute import Session

    doc = qmd.parse(project.article_path)
    front = {**project.metadata, **doc.front}
    bibs = _bibliographies(project, front)
    for bib in bibs:
        if not bib.exists():
            raise BuildError(f"bibliography {bib.name} not found")
    csl = _csl(project, front)
    labels = collect_labels(doc, bool(front.get("number-sections")))
    check_references(doc, labels, bib_keys(bibs))
    stamp = make_stamp(project)
    notice = project.synthetic_notice if stamp.synthetic else ""

    target = project.root / project.output_dir
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=project.root))
    cwd = Path.cwd()
    try:
        os.chdir(project.root)
        os.environ["QRENDER_OUTPUT_DIR"] = str(staging)
        defaults = dict(front.get("execute", {}) or {})
        session = Session(doc, staging / f"{project.stem}_files", defaults)
        assembler = Assembler(doc, session, labels, defaults)
        for part in doc.parts:
            if isinstance(part, qmd.Chunk):
                assembler.chunk(session.run_chunk(part))
            else:
                assembler.prose(part)
        body = assembler.result()
        abstract = front.get("abstract")
        if abstract:
            from qrender.assemble import inline_expressions, resolve_crossrefs

            abstract = resolve_crossrefs(inline_expressions(str(abstract), 1, session), labels)
        head = title_block(front, abstract)
        if notice:
            head = f"::: {{.synthetic-notice}}\n**{notice}**\n:::\n\n{head}"
        metadata = {
            k: front[k] for k in ("title", "subtitle", "date", "lang", "running-title") if front.get(k)
        }
        metadata |= {"stamp": stamp.line(), "notice": notice, "reference-section-title": "References"}
        if bibs:
            metadata["bibliography"] = [str(b) for b in bibs]
        if csl:
            metadata["csl"] = str(csl)
        markdown = f"---\n{yaml.safe_dump(metadata, sort_keys=True)}---\n\n{head}\n\n{body.markdown}"
        markdown = markdown.replace(str(staging) + "/", "")
        (staging / f".{project.stem}.md").write_text(markdown, encoding="utf-8")
        ast = pandoc.document_ast(markdown, body.tables, staging, bool(bibs))

        for fmt in project.formats:
            out = staging / f"{project.stem}.{EXTENSIONS[fmt]}"
            if fmt == "html":
                meta_tag = f'<meta name="build-stamp" content="{html.escape(stamp.line())}">\n'
                footer = f'<footer class="build-stamp">{html.escape(stamp.line())}</footer>\n'
                pandoc.write_html(ast, out, staging, project.root, meta_tag, "", footer)
            elif fmt == "docx":
                header = " | ".join(x for x in (notice, front.get("running-title", "")) if x)
                ref = reference_docx(pandoc.pandoc_path(), project.root / ".build", stamp.line(), header)
                pandoc.write_docx(ast, out, staging, project.root, ref)
                set_docx_comments(out, stamp.line())
            else:
                pandoc.write_pdf(ast, out, staging, project.root)
        for hidden in staging.glob(".*"):
            hidden.unlink()
        (staging / STAMP_FILE).write_text(digest + "\n")
        publish(staging, target)
    finally:
        os.chdir(cwd)
        os.environ.pop("QRENDER_OUTPUT_DIR", None)
        if staging.exists():
            shutil.rmtree(staging)
    return target
