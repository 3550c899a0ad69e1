"""One build, in Quarto's order: pre-render scripts, the document executed once in document order,
every format written, post-render scripts; staleness decided by content, outputs published
atomically (a failed build leaves the previous outputs in place)."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from qrender.errors import BuildError
from qrender.project import Project

STAMP_FILE = ".build-stamp"
VARIABLES = "_variables.yml"


def output_name(project: Project, fmt: str) -> str:
    """Quarto's names for a manuscript project: the article's stem for PDF and Word, index.html."""
    return {"typst": f"{project.stem}.pdf", "docx": f"{project.stem}.docx", "html": "index.html"}[fmt]


def is_current(project: Project, digest: str) -> bool:
    folder = project.root / project.output_dir
    stamp = folder / STAMP_FILE
    outputs = [folder / output_name(project, f) for f in project.formats]
    return stamp.exists() and stamp.read_text().strip() == digest and all(p.exists() for p in outputs)


def _bibliographies(project: Project, front: dict) -> list[Path]:
    bib = front.get("bibliography", project.metadata.get("bibliography"))
    names = [bib] if isinstance(bib, str) else list(bib or [])
    return [project.root / name for name in names]


def staleness_inputs(project: Project) -> list[Path]:
    """Inputs named outside `qrender.inputs` that still decide the result: bib and scripts."""
    from qrender.qmd import front_matter

    lines = project.article_path.read_text(encoding="utf-8").splitlines()
    front, _ = front_matter(lines, project.article)
    return _bibliographies(project, front) + project.scripts


def run_scripts(project: Project, scripts: list[str], env: dict[str, str], stage: str) -> None:
    """Run pre- or post-render scripts as Quarto does: in the project folder, `.py` files with the
    project's Python (QUARTO_PYTHON, else this interpreter), anything else as a command."""
    python = os.environ.get("QUARTO_PYTHON") or sys.executable
    for script in scripts:
        args = shlex.split(script)
        command = [python, *args] if args[0].endswith(".py") else args
        result = subprocess.run(
            command, cwd=project.root, env={**os.environ, **env}, stdout=sys.stderr, check=False
        )
        if result.returncode != 0:
            raise BuildError(
                f"{stage} script '{script}' failed (exit {result.returncode}); see its message above",
                exit_code=result.returncode if result.returncode in (1, 2) else 1,
            )


def read_variables(project: Project) -> dict:
    """Quarto's project variables (`_variables.yml`), read after the pre-render step wrote them."""
    path = project.root / VARIABLES
    if not path.exists():
        return {}
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise BuildError(f"{VARIABLES}: not valid YAML: {exc}") from None


def publish(staging: Path, target: Path) -> None:
    """Swap the finished staging folder in for the old outputs, readable as any folder is."""
    staging.chmod(0o755)
    old = target.with_name(target.name + ".old")
    if old.exists():
        shutil.rmtree(old)
    if target.exists():
        target.rename(old)
    staging.rename(target)
    if old.exists():
        shutil.rmtree(old)


def _front_text(front: dict, session, variables, labels) -> dict:
    """Front matter that is printed, with Quarto's meaning: its inline code runs before any chunk."""
    from qrender.assemble import inline_expressions, resolve_crossrefs, resolve_variables

    out = dict(front)
    for key in ("title", "subtitle", "running-title", "abstract"):
        if isinstance(out.get(key), str):
            text = inline_expressions(out[key], 1, session)
            out[key] = resolve_crossrefs(resolve_variables(text, 1, variables, session.name), labels)
    return out


def build(project: Project, digest: str) -> Path:
    """Render every format into a temporary folder and publish it only if all succeeded."""
    from qrender import pandoc, qmd
    from qrender.assemble import Assembler, bib_keys, check_references, collect_labels, title_block
    from qrender.execute import Session

    target = project.root / project.output_dir
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=project.root))
    env = {
        "QUARTO_PROJECT_OUTPUT_DIR": str(staging),
        "QUARTO_PROJECT_RENDER_ALL": "1",
        "QUARTO_PROJECT_INPUT_FILES": project.article,
    }
    cwd = Path.cwd()
    try:
        run_scripts(project, project.pre_render, env, "pre-render")
        variables = read_variables(project)
        doc = qmd.parse(project.article_path)
        front = {**project.metadata, **doc.front}
        bibs = _bibliographies(project, front)
        for bib in bibs + project.option_files("docx", "reference-doc"):
            if not bib.exists():
                raise BuildError(f"{bib.relative_to(project.root)} not found")
        csl = project.root / front["csl"] if front.get("csl") else None
        if csl and not csl.exists():
            raise BuildError(f"csl: {front['csl']} not found (the pre-render step did not write it)")
        if bibs and "typst" in project.formats and not project.options["typst"].get("citeproc"):
            raise BuildError(
                "_quarto.yml: format typst needs 'citeproc: true' (qrender places references by "
                "citeproc in the {#refs} div; without it Quarto appends a typst bibliography)"
            )
        labels = collect_labels(doc, bool(front.get("number-sections")))
        check_references(doc, labels, bib_keys(bibs))

        os.chdir(project.root)
        defaults = dict(front.get("execute", {}) or {})
        defaults["fig-dpi"] = front.get("fig-dpi", 300)  # Quarto's option, as resolution of every PNG
        session = Session(doc, staging / f"{project.stem}_files", defaults)
        front = _front_text(front, session, variables, labels)
        assembler = Assembler(doc, session, labels, defaults, variables)
        for part in doc.parts:
            if isinstance(part, qmd.Chunk):
                assembler.chunk(session.run_chunk(part))
            else:
                assembler.prose(part)
        body = assembler.result()
        head = title_block(front, front.get("abstract"))
        metadata = {k: front[k] for k in ("title", "subtitle", "date", "lang") if front.get(k)}
        metadata["reference-section-title"] = "References"
        if bibs:
            metadata["bibliography"] = [str(b) for b in bibs]
        if csl:
            metadata["csl"] = str(csl)
        markdown = f"---\n{yaml.safe_dump(metadata, sort_keys=True)}---\n\n{head}\n\n{body.markdown}"
        markdown = markdown.replace(str(staging) + "/", "")
        ast = pandoc.document_ast(markdown, body.tables, staging, bool(bibs))

        outputs = []
        for fmt in project.formats:
            out = staging / output_name(project, fmt)
            pandoc.write(fmt, ast, out, staging, project)
            outputs.append(out.name)
        env["QUARTO_PROJECT_OUTPUT_FILES"] = "\n".join(outputs)
        run_scripts(project, project.post_render, env, "post-render")
        for hidden in staging.glob(".*"):
            hidden.unlink()
        (staging / STAMP_FILE).write_text(digest + "\n")
        publish(staging, target)
    finally:
        os.chdir(cwd)
        if staging.exists():
            shutil.rmtree(staging)
    return target
