"""One build, in Quarto's order: pre-render scripts, the document executed once in document order,
every format written, post-render scripts; staleness decided by content, outputs published
atomically (a failed build leaves the previous outputs in place).

Every step is reported with its time as it finishes (`qrender.progress`). The document's code is
cut into units, each reused from `.cache/qrender/` while its code and everything it touched are
unchanged (`qrender.cache`); a prose edit runs no code at all. The three formats are written at
once, each by its own pandoc (and typst) process.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import runpy
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from qrender.errors import BuildError
from qrender.footprint import Hashes
from qrender.progress import Progress
from qrender.project import Project

if TYPE_CHECKING:
    from qrender.execute import Runner

STAMP_FILE = ".build-stamp"
VARIABLES = "_variables.yml"
CACHE = Path(".cache") / "qrender"
REPORT = CACHE / "report.json"
FORMAT_NAMES = {"typst": "pdf", "docx": "docx", "html": "html"}
#: set for a pre- or post-render script run in this process, the one that then runs the document: a
#: pre-render step may leave work running for the document and the post-render step to wait for
SHARED_PROCESS = "QRENDER_SHARED_PROCESS"


def output_name(project: Project, fmt: str) -> str:
    """Quarto's names for a manuscript project: the article's stem for PDF and Word, index.html."""
    return {"typst": f"{project.stem}.pdf", "docx": f"{project.stem}.docx", "html": "index.html"}[fmt]


def read_stamp(folder: Path) -> dict | None:
    """What the last build of a folder was made from: input digest, formats, the code's footprint."""
    try:
        stamp = json.loads((folder / STAMP_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return stamp if isinstance(stamp, dict) else None


def is_current(
    project: Project, digest: str, formats: list[str] | None = None, output_dir: str | None = None
) -> bool:
    """Outputs exist, were built from inputs with this digest, for these formats, and every file the
    document's code touched still holds what it held then."""
    formats = formats or project.formats
    folder = project.root / (output_dir or project.output_dir)
    stamp = read_stamp(folder)
    if not stamp or stamp.get("inputs") != digest or stamp.get("formats") != formats:
        return False
    if not all((folder / output_name(project, f)).exists() for f in formats):
        return False
    return Hashes().holds(stamp.get("footprint", {}))


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


class _Tee(io.TextIOBase):
    """A script's output: shown as it comes (on stderr, beside the build's progress) and kept for
    the build's report."""

    def __init__(self) -> None:
        self.text = io.StringIO()

    def write(self, text: str) -> int:
        sys.stderr.write(text)
        return self.text.write(text)

    def lines(self) -> list[str]:
        return [line for line in self.text.getvalue().splitlines() if line.strip()]


def _script_here(path: Path, args: list[str], env: dict[str, str], output: _Tee, cwd: Path) -> int:
    """Run a Python script in this process as `python script args` would, in folder `cwd` (the
    project's, as Quarto runs its scripts), with its exit status.

    The project's Python is this interpreter, so the script's imports are shared with the document
    (a cold build imports the scientific stack once, not three times)."""
    saved_env, saved_argv, saved_cwd = dict(os.environ), list(sys.argv), os.getcwd()
    os.environ.update(env)
    sys.argv = [str(path), *args]
    sys.path.insert(0, str(path.parent))
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(output):
            runpy.run_path(str(path), run_name="__main__")
        return 0
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or 0
        print(exc.code, file=sys.stderr)
        return 1
    except Exception:  # the script's own failure: reported as Python would, with its traceback
        traceback.print_exc()
        return 1
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        sys.argv = saved_argv
        sys.path.remove(str(path.parent))
        os.chdir(saved_cwd)


def run_scripts(
    project: Project, scripts: list[str], env: dict[str, str], stage: str, progress: Progress | None = None
) -> None:
    """Run pre- or post-render scripts as Quarto does: in the project folder, `.py` files with the
    project's Python (QUARTO_PYTHON, else this interpreter: then in this process), anything else
    as a command. What a script prints goes to stderr and into the step's report."""
    python = os.environ.get("QUARTO_PYTHON") or sys.executable
    here = os.path.realpath(python) == os.path.realpath(sys.executable)
    for script in scripts:
        started = time.perf_counter()
        args = shlex.split(script)
        output = _Tee()
        if args[0].endswith(".py") and here:
            script_env = {**env, SHARED_PROCESS: "1"}
            path = (project.root / args[0]).resolve()
            code = _script_here(path, args[1:], script_env, output, project.root)
        else:
            command = [python, *args] if args[0].endswith(".py") else args
            result = subprocess.run(
                command, cwd=project.root, env={**os.environ, **env}, stdout=subprocess.PIPE, text=True,
                check=False,
            )
            output.write(result.stdout)
            code = result.returncode
        if progress is not None:
            status = "ran" if code == 0 else "failed"
            progress.step(stage, script, status, time.perf_counter() - started, output.lines(), echo=False)
        if code != 0:
            raise BuildError(
                f"{stage} script '{script}' failed (exit {code}); see its message above",
                exit_code=code if code in (1, 2) else 1,
            )


def read_variables(project: Project) -> dict:
    """Quarto's project variables (`_variables.yml`), read after the pre-render step wrote them."""
    path = project.root / VARIABLES
    if not path.exists():
        return {}
    from qrender.qmd import LOADER

    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=LOADER) or {}  # noqa: S506 (a safe loader)
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
    from qrender.cache import FRONT_TEXT

    out = dict(front)
    for key in FRONT_TEXT:
        if isinstance(out.get(key), str):
            text = inline_expressions(out[key], 1, session)
            out[key] = resolve_crossrefs(resolve_variables(text, 1, variables, session.name), labels)
    return out


def write_formats(
    formats: list[str], ast: dict, staging: Path, project: Project, progress: Progress
) -> list[str]:
    """Every format from the one AST, at the same time (each writer is its own pandoc/typst run)."""
    from qrender import pandoc

    def write(fmt: str) -> float:
        started = time.perf_counter()
        pandoc.write(fmt, ast, staging / output_name(project, fmt), staging, project)
        return time.perf_counter() - started

    with ThreadPoolExecutor(max_workers=len(formats)) as pool:
        futures = {fmt: pool.submit(write, fmt) for fmt in formats}
    for fmt, future in futures.items():
        error = future.exception()
        progress.step("format", f"{FORMAT_NAMES[fmt]} ({output_name(project, fmt)})",
                      "failed" if error else "written", 0.0 if error else future.result())
        if error:
            raise error
    return [output_name(project, fmt) for fmt in formats]


@dataclass
class Executed:
    """The document after its code ran (or was reused): markdown for pandoc, the tables' HTML, whether
    it cites, and its runner, whose `finish` writes the images still being made and stores the code's
    outputs (after which `runner.document_footprint()` is the footprint of the document's code)."""

    markdown: str
    tables: list[str]
    cites: bool
    runner: Runner


def _document(project: Project, staging: Path, variables: dict, progress: Progress) -> Executed:
    """Parse, check and run (or reuse) the document."""
    from qrender import qmd
    from qrender.assemble import Assembler, bib_keys, check_references, collect_labels, title_block
    from qrender.cache import UnitCache, plan
    from qrender.execute import Runner, Session

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

    defaults = dict(front.get("execute", {}) or {})
    defaults["fig-dpi"] = front.get("fig-dpi", 300)  # Quarto's option, as resolution of every PNG
    session = Session(doc, staging / f"{project.stem}_files", defaults)
    cache = UnitCache(project.root / CACHE / "units", Hashes())
    units = plan(doc, front, defaults)
    runner = Runner(session, units, cache, staging, [project.root / CACHE, staging], progress)
    with runner.inline_code(None):
        front = _front_text(front, runner, variables, labels)
    assembler = Assembler(doc, runner, labels, defaults, variables)  # type: ignore[arg-type]
    for part in doc.parts:
        if isinstance(part, qmd.Chunk):
            assembler.chunk(runner.chunk(part))
        else:
            with runner.inline_code(part):
                assembler.prose(part)
    runner.report_inline()
    cache.prune(units)
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
    return Executed(markdown, body.tables, bool(bibs), runner)


def build(
    project: Project,
    digest: str,
    formats: list[str] | None = None,
    output_dir: str | None = None,
    progress: Progress | None = None,
) -> Path:
    """Render the formats into a temporary folder and publish it only if all succeeded."""
    from qrender import pandoc

    formats = formats or project.formats
    progress = progress or Progress()
    target = project.root / (output_dir or project.output_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    env = {
        "QUARTO_PROJECT_OUTPUT_DIR": str(staging),
        "QUARTO_PROJECT_RENDER_ALL": "1",
        "QUARTO_PROJECT_INPUT_FILES": project.article,
        "QUARTO_PROJECT_DIR": str(project.root.resolve()),
    }
    cwd = Path.cwd()
    sys.path.insert(0, str(project.root))  # the document imports the project's modules, as in Quarto
    outcome = "failed"
    try:
        run_scripts(project, project.pre_render, env, "pre-render", progress)
        variables = read_variables(project)
        os.chdir(project.root)
        document = _document(project, staging, variables, progress)
        started = time.perf_counter()
        tables = project.root / CACHE / "tables"
        ast = pandoc.document_ast(document.markdown, document.tables, staging, document.cites, tables)
        seconds = time.perf_counter() - started
        progress.step("pandoc", "document (markdown, tables, citations)", "ran", seconds)
        document.runner.finish()  # the formats read every image
        outputs = write_formats(formats, ast, staging, project, progress)
        env["QUARTO_PROJECT_OUTPUT_FILES"] = "\n".join(outputs)
        run_scripts(project, project.post_render, env, "post-render", progress)
        for hidden in staging.glob(".*"):
            hidden.unlink()
        stamp = {"inputs": digest, "formats": formats, "footprint": document.runner.document_footprint()}
        (staging / STAMP_FILE).write_text(json.dumps(stamp, indent=0, sort_keys=True) + "\n")
        publish(staging, target)
        outcome = "built"
    finally:
        os.chdir(cwd)
        sys.path.remove(str(project.root))
        if staging.exists():
            shutil.rmtree(staging)
        progress.write(project.root / REPORT, outcome)
    return target
