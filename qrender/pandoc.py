"""Pandoc and typst, the engines: markdown to one AST, GT HTML into real tables, three writers."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from qrender.assemble import TABLE_PLACEHOLDER
from qrender.errors import BuildError
from qrender.project import Project

TEMPLATES = Path(__file__).resolve().parent / "templates"


def pandoc_path() -> str:
    import pypandoc

    return pypandoc.get_pandoc_path()


def run_pandoc(args: list[str], text: str | None = None, cwd: Path | None = None) -> str:
    result = subprocess.run(
        [pandoc_path(), *args], input=text, capture_output=True, text=True, cwd=cwd
    )
    if result.returncode != 0:
        raise BuildError(f"pandoc {' '.join(args[:4])} failed:\n{result.stderr.strip()}", exit_code=1)
    return result.stdout


def _walk(node, visit) -> None:
    if isinstance(node, dict):
        visit(node)
        for value in node.values():
            _walk(value, visit)
    elif isinstance(node, list):
        for item in node:
            _walk(item, visit)


def _first_table(node) -> dict | None:
    found: list[dict] = []
    _walk(node, lambda n: found.append(n) if n.get("t") == "Table" and not found else None)
    return found[0] if found else None


def read_tables(html_tables: list[str], cache: Path | None = None) -> list[dict]:
    """Read each table's HTML (great_tables or pandas) into a pandoc Table, spans kept; reused from
    `cache` (a folder) while the HTML and the installed pandoc are the same."""
    if not html_tables:
        return []
    if cache is not None:
        from qrender.cache import environment

        key = hashlib.sha256("\0".join([environment(), *html_tables]).encode()).hexdigest()
        stored = cache / f"{key}.json"
        if stored.is_file():
            return json.loads(stored.read_text(encoding="utf-8"))
        tables = read_tables(html_tables)
        cache.mkdir(parents=True, exist_ok=True)
        partial = stored.with_suffix(".partial")
        partial.write_text(json.dumps(tables), encoding="utf-8")
        os.replace(partial, stored)
        for old in cache.glob("*.json"):  # one document: older versions of its tables are never read
            if old != stored:
                old.unlink(missing_ok=True)
        return tables
    wrapped = "".join(
        f'<div id="qrender-t{i}">{html}</div>' for i, html in enumerate(html_tables, 1)
    )
    ast = json.loads(run_pandoc(["-f", "html", "-t", "json"], wrapped))
    tables: dict[str, dict] = {}

    def visit(node: dict) -> None:
        if node.get("t") == "Div" and node["c"][0][0].startswith("qrender-t"):
            table = _first_table(node["c"][1])
            if table is not None:
                tables.setdefault(node["c"][0][0], table)

    _walk(ast["blocks"], visit)
    out = []
    for i in range(1, len(html_tables) + 1):
        if f"qrender-t{i}" not in tables:
            raise BuildError(f"table {i}: its HTML holds no table pandoc can read", exit_code=1)
        out.append(tables[f"qrender-t{i}"])
    return out


def _place_tables(blocks: list, tables: list[dict]) -> list:
    placed = []
    for block in blocks:
        if block.get("t") == "Div" and "qrender-table" in block["c"][0][1]:
            ident, inner = block["c"][0][0], block["c"][1]
            marker = inner[-1]["c"][0]["c"] if inner and inner[-1]["t"] == "Para" else ""
            index = int(marker.replace(TABLE_PLACEHOLDER.format(0)[:-4], "")) - 1
            table = json.loads(json.dumps(tables[index]))
            table["c"][0] = [ident, [], []]
            if len(inner) > 1:
                caption = inner[0]["c"]
                table["c"][1] = [None, [{"t": "Plain", "c": caption}]]
            placed.append(table)
        elif block.get("t") == "Div":
            block["c"][1] = _place_tables(block["c"][1], tables)
            placed.append(block)
        else:
            placed.append(block)
    return placed


def document_ast(
    markdown: str, html_tables: list[str], cwd: Path, bibliography: bool, cache: Path | None = None
) -> dict:
    """One AST for all formats: markdown parsed with citations resolved (one pandoc run; the tables
    hold no citations), then the tables placed (their reading, a second pandoc run at the same time,
    reused from `cache`)."""
    citeproc = ["--citeproc"] if bibliography else []
    with ThreadPoolExecutor(max_workers=1) as pool:
        tables = pool.submit(read_tables, html_tables, cache)
        ast = json.loads(run_pandoc(["-f", "markdown", "-t", "json", *citeproc], markdown, cwd=cwd))
        ast["blocks"] = _place_tables(ast["blocks"], tables.result())
    return ast


def _html_titles(ast: dict) -> dict:
    """Provenance on hover: each ledger number's span gets a title naming key, method, source."""
    def visit(node: dict) -> None:
        if node.get("t") == "Span" and "num" in node["c"][0][1]:
            attrs = dict(node["c"][0][2])
            parts = [attrs.get(k, "") for k in ("data-key", "data-method", "data-source")]
            node["c"][0][2].append(["title", " | ".join(p for p in parts if p)])

    copy = json.loads(json.dumps(ast))
    _walk(copy["blocks"], visit)
    return copy


def _typst_images(ast: dict, staging: Path, root: Path) -> dict:
    """typst gets the vector SVG of each chunk figure, and root-anchored paths for project images."""
    def visit(node: dict) -> None:
        if node.get("t") == "Image":
            src = node["c"][2][0]
            svg = Path(src).with_suffix(".svg")
            if (staging / svg).exists():
                node["c"][2][0] = svg.as_posix()
            elif not (staging / src).exists() and (root / src).exists():
                node["c"][2][0] = "/" + Path(os.path.relpath(root / src, root)).as_posix()

    copy = json.loads(json.dumps(ast))
    _walk(copy["blocks"], visit)
    return copy


def _meta_value(value: object) -> dict:
    """A YAML value as pandoc JSON metadata (strings, numbers and mappings of them)."""
    if isinstance(value, dict):
        return {"t": "MetaMap", "c": {str(k): _meta_value(v) for k, v in value.items()}}
    return {"t": "MetaString", "c": str(value)}


def _includes(project: Project, fmt: str) -> list[str]:
    """Quarto's include options as pandoc arguments, paths from the project folder."""
    args = []
    for key in ("include-in-header", "include-before-body", "include-after-body"):
        for path in project.option_files(fmt, key):
            if not path.exists():
                raise BuildError(f"_quarto.yml: format {fmt}: {key} {path.name} not found")
            args.append(f"--{key}={path}")
    return args


def _filters(project: Project) -> list[str]:
    """The project's Lua filters (Quarto's `filters:`), as pandoc arguments."""
    return [f"--lua-filter={path}" for path in project.filters]


def _with_settings(ast: dict, project: Project) -> str:
    """The document as JSON, with the settings the filters read (`qrender.floats`) in its metadata."""
    ast = {**ast, "meta": {**ast["meta"], "qrender": _meta_value({"floats": project.floats})}}
    return json.dumps(ast)


def write_html(ast: dict, out: Path, staging: Path, project: Project) -> None:
    css = [TEMPLATES / "manuscript.css", *project.option_files("html", "css")]
    run_pandoc(
        ["-f", "json", "-t", "html5", "--standalone", "--embed-resources",
         *[f"--css={c}" for c in css], f"--resource-path={staging}:{project.root}",
         *_includes(project, "html"), *_filters(project), "-o", str(out)],
        _with_settings(_html_titles(ast), project), cwd=staging,
    )


def write_docx(ast: dict, out: Path, staging: Path, project: Project) -> None:
    reference = [f"--reference-doc={p}" for p in project.option_files("docx", "reference-doc")]
    run_pandoc(
        ["-f", "json", "-t", "docx", *reference, f"--resource-path={staging}:{project.root}",
         *_filters(project), "-o", str(out)],
        _with_settings(ast, project), cwd=staging,
    )


def write_pdf(ast: dict, out: Path, staging: Path, project: Project) -> None:
    options = project.options.get("typst", {})
    ast = json.loads(json.dumps(ast))
    for key in ("papersize", "margin", "linestretch"):  # Quarto's typst options, as template metadata
        if key in options:
            ast["meta"][key] = _meta_value(options[key])
    source = run_pandoc(
        ["-f", "json", "-t", "typst-citations", "--standalone", f"--template={TEMPLATES / 'manuscript.typ'}",
         *_includes(project, "typst"), f"--resource-path={staging}:{project.root}", *_filters(project)],
        _with_settings(_typst_images(ast, staging, project.root), project), cwd=staging,
    )
    typ = staging / f".{out.stem}.typ"
    typ.write_text(source, encoding="utf-8")
    import typst

    try:
        typst.compile(str(typ), output=str(out), root=str(project.root))
    except typst.TypstError as exc:
        raise BuildError(f"typst could not compile {typ.name}: {exc}", exit_code=1) from None


WRITERS = {"html": write_html, "docx": write_docx, "typst": write_pdf}


def write(fmt: str, ast: dict, out: Path, staging: Path, project: Project) -> None:
    """Write one format of the document from the shared AST."""
    WRITERS[fmt](ast, out, staging, project)
