"""Run the document's python chunks once, in one namespace, and capture what each one shows."""

from __future__ import annotations

import ast
import contextlib
import io
import os
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from qrender.errors import BuildError, located
from qrender.qmd import Chunk, Document


@dataclass
class FigureOut:
    """A matplotlib figure saved as PNG (Word, HTML) and SVG (typst, vector)."""

    png: Path
    svg: Path


@dataclass
class TableOut:
    """A table as HTML (great_tables or pandas), to be read into a pandoc table."""

    html: str


@dataclass
class MarkdownOut:
    text: str


@dataclass
class VerbatimOut:
    text: str


@dataclass
class ChunkResult:
    chunk: Chunk
    outputs: list = field(default_factory=list)


def inline_markdown(value: object) -> str:
    """What an inline expression puts in the prose: its markdown form if it has one, else str()."""
    if hasattr(value, "_repr_markdown_"):
        return value._repr_markdown_()
    return str(value)


def _display(value: object) -> object | None:
    if value is None:
        return None
    if hasattr(value, "as_raw_html"):
        return TableOut(value.as_raw_html())
    if hasattr(value, "to_html") and hasattr(value, "columns"):
        return TableOut(value.to_html(index=False, na_rep=""))
    if hasattr(value, "_repr_markdown_"):
        return MarkdownOut(value._repr_markdown_())
    if type(value).__module__.startswith("matplotlib"):
        return None
    return VerbatimOut(repr(value))


class Session:
    """One python namespace shared by every chunk and inline expression of a document."""

    def __init__(self, doc: Document, figure_dir: Path, defaults: dict) -> None:
        os.environ.setdefault("MPLBACKEND", "Agg")
        self.doc = doc
        self.figure_dir = figure_dir
        self.defaults = defaults
        self.namespace: dict = {"__name__": "__main__"}
        self.name = doc.path.name

    def _filename(self, chunk: Chunk) -> str:
        return f"<qmd {self.name}:{chunk.line}>"

    def _fail(self, chunk: Chunk, exc: BaseException) -> BuildError:
        if hasattr(exc, "exit_code") and hasattr(exc, "report"):
            return BuildError(f"{self.name}: {chunk.describe()} stopped:\n{exc.report()}", exc.exit_code)
        line = chunk.line
        for frame in traceback.extract_tb(exc.__traceback__):
            if frame.filename == self._filename(chunk):
                line = chunk.body_line + (frame.lineno or 1) - 1
        message = f"{chunk.describe()} failed: {type(exc).__name__}: {exc}"
        return BuildError(located(self.name, line, message), exit_code=1)

    def run_chunk(self, chunk: Chunk) -> ChunkResult:
        """Execute a chunk; collect new figures, the last expression's value and printed text."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        options = {**self.defaults, **chunk.options}
        result = ChunkResult(chunk)
        size = (options.get("fig-width", 7), options.get("fig-height", 5))
        before = set(plt.get_fignums())
        stdout = io.StringIO()
        tree = ast.parse(chunk.code or "pass", filename=self._filename(chunk))
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        value = None
        with (
            warnings.catch_warnings(record=True) as caught,
            contextlib.redirect_stdout(stdout),
            plt.rc_context({"figure.figsize": size, "svg.hashsalt": "qrender"}),
        ):
            warnings.simplefilter("always")
            try:
                exec(compile(tree, self._filename(chunk), "exec"), self.namespace)
                if last is not None:
                    expr = ast.Expression(last.value)
                    value = eval(compile(expr, self._filename(chunk), "eval"), self.namespace)
            except Exception as exc:  # the author's code: any failure is reported, located
                plt.close("all")
                raise self._fail(chunk, exc) from None
        printed = stdout.getvalue()
        if printed:
            asis = options.get("output") == "asis"
            result.outputs.append(MarkdownOut(printed) if asis else VerbatimOut(printed.rstrip()))
        shown = _display(value)
        if shown is not None:
            result.outputs.append(shown)
        for number in sorted(set(plt.get_fignums()) - before):
            result.outputs.append(self._save_figure(plt.figure(number), chunk, number, options))
            plt.close(number)
        if options.get("warning", True):
            for w in caught:
                result.outputs.append(VerbatimOut(f"Warning: {w.message}"))
        return result

    def _save_figure(self, fig, chunk: Chunk, number: int, options: dict) -> FigureOut:
        self.figure_dir.mkdir(parents=True, exist_ok=True)
        stem = self.figure_dir / f"{chunk.label or f'chunk-{chunk.line}'}-{number}"
        png, svg = stem.with_suffix(".png"), stem.with_suffix(".svg")
        fig.savefig(png, dpi=options.get("fig-dpi", 300), bbox_inches="tight", metadata={"Software": None})
        fig.savefig(svg, bbox_inches="tight", metadata={"Date": None})
        return FigureOut(png=png, svg=svg)

    def inline(self, expr: str, line: int) -> str:
        """Evaluate an inline `{python} expr`, reporting failures at the prose line."""
        try:
            value = eval(compile(expr, f"<qmd {self.name}:{line}>", "eval"), self.namespace)
        except Exception as exc:  # the author's expression
            message = f"inline expression `{expr}` failed: {type(exc).__name__}: {exc}"
            raise BuildError(located(self.name, line, message), exit_code=1) from None
        return inline_markdown(value)
