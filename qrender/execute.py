"""Run the document's python chunks once, in one namespace, and capture what each one shows."""

from __future__ import annotations

import ast
import contextlib
import io
import logging
import os
import sys
import time
import traceback
import warnings
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

from qrender.cache import Entry, Unit, UnitCache
from qrender.errors import BuildError, located
from qrender.footprint import Footprint, Hashes, footprint, loaded_modules, recorder
from qrender.progress import Progress
from qrender.qmd import Chunk, Document, Prose


@dataclass
class FigureOut:
    """A figure as PNG (Word, HTML; typst too when there is no SVG) and, for a matplotlib figure,
    SVG beside it (typst, vector)."""

    png: Path
    svg: Path | None


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


def _pyplot():
    """pyplot if something has loaded it (a chunk's code, a module it imports), else None."""
    return sys.modules.get("matplotlib.pyplot")


def _is_image(value: object) -> bool:
    if isinstance(value, Future):  # an image still being made (see Session.settle)
        return True
    return hasattr(value, "_repr_png_") and not type(value).__module__.startswith("matplotlib")


class Session:
    """One python namespace shared by every chunk and inline expression of a document."""

    def __init__(self, doc: Document, figure_dir: Path, defaults: dict) -> None:
        os.environ.setdefault("MPLBACKEND", "Agg")
        self.doc = doc
        self.figure_dir = figure_dir
        self.defaults = defaults
        self.namespace: dict = {"__name__": "__main__"}
        self.name = doc.path.name
        self.deferred: list[tuple[Future, Path, Chunk]] = []

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
        import matplotlib  # pyplot (0.15 s more) only if the chunk's code loads it

        matplotlib.use("Agg")
        options = {**self.defaults, **chunk.options}
        result = ChunkResult(chunk)
        size = (options.get("fig-width", 7), options.get("fig-height", 5))
        before = set(_pyplot().get_fignums()) if _pyplot() else set()
        stdout = io.StringIO()
        tree = ast.parse(chunk.code or "pass", filename=self._filename(chunk))
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        value = None
        with (
            warnings.catch_warnings(record=True) as caught,
            contextlib.redirect_stdout(stdout),
            matplotlib.rc_context({"figure.figsize": size, "svg.hashsalt": "qrender"}),
        ):
            warnings.simplefilter("always")
            try:
                exec(compile(tree, self._filename(chunk), "exec"), self.namespace)
                if last is not None:
                    expr = ast.Expression(last.value)
                    value = eval(compile(expr, self._filename(chunk), "eval"), self.namespace)
            except Exception as exc:  # the author's code: any failure is reported, located
                if _pyplot():
                    _pyplot().close("all")
                raise self._fail(chunk, exc) from None
        printed = stdout.getvalue()
        if printed:
            asis = options.get("output") == "asis"
            result.outputs.append(MarkdownOut(printed) if asis else VerbatimOut(printed.rstrip()))
        shown = self._image(value, chunk) if _is_image(value) else _display(value)
        if shown is not None:
            result.outputs.append(shown)
        plt = _pyplot()
        for number in sorted(set(plt.get_fignums()) - before) if plt else []:
            result.outputs.append(self._save_figure(plt.figure(number), chunk, number, options))
            plt.close(number)
        if options.get("warning", True):
            for w in caught:
                result.outputs.append(VerbatimOut(f"Warning: {w.message}"))
        return result

    def _stem(self, chunk: Chunk, suffix: str) -> Path:
        self.figure_dir.mkdir(parents=True, exist_ok=True)
        return self.figure_dir / f"{chunk.label or f'chunk-{chunk.line}'}-{suffix}"

    def _save_figure(self, fig, chunk: Chunk, number: int, options: dict) -> FigureOut:
        stem = self._stem(chunk, str(number))
        png, svg = stem.with_suffix(".png"), stem.with_suffix(".svg")
        fig.savefig(png, dpi=options.get("fig-dpi", 300), bbox_inches="tight", metadata={"Software": None})
        fig.savefig(svg, bbox_inches="tight", metadata={"Date": None})
        return FigureOut(png=png, svg=svg)

    def _image(self, value: object, chunk: Chunk) -> FigureOut:
        """An object that displays as a PNG image by IPython's protocol (`_repr_png_`), as Jupyter
        shows it; every format gets that PNG. A `concurrent.futures.Future` of such an object (an
        image another process is still making) is shown by its result, written by `settle`: the
        document is put together meanwhile, and only the formats wait for it."""
        png = self._stem(chunk, "image").with_suffix(".png")
        svg = png.with_suffix(".svg")
        if isinstance(value, Future):
            self.deferred.append((value, png, chunk))
        else:
            _write_png(value, png)
        return FigureOut(png=png, svg=svg)

    def settle(self) -> None:
        """Write the images of the futures the document showed, waiting for each; a failed one
        stops the build, located at its chunk."""
        deferred, self.deferred = self.deferred, []
        for future, png, chunk in deferred:
            try:
                _write_png(future.result(), png)
            except Exception as exc:  # what made the image failed: reported at the chunk that showed it
                raise self._fail(chunk, exc) from None

    def inline(self, expr: str, line: int) -> str:
        """Evaluate an inline `{python} expr`, reporting failures at the prose line."""
        try:
            value = eval(compile(expr, f"<qmd {self.name}:{line}>", "eval"), self.namespace)
        except Exception as exc:  # the author's expression
            message = f"inline expression `{expr}` failed: {type(exc).__name__}: {exc}"
            raise BuildError(located(self.name, line, message), exit_code=1) from None
        return inline_markdown(value)


def _write_png(value: object, png: Path) -> None:
    """The image's PNG, and beside it its vector SVG where the object offers one (`vector_svg`), which
    typst places in the PDF instead of the PNG."""
    data = value._repr_png_()  # type: ignore[attr-defined]
    png.write_bytes(data[0] if isinstance(data, tuple) else data)
    svg = png.with_suffix(".svg")
    if hasattr(value, "vector_svg"):
        svg.write_bytes(value.vector_svg())
    elif svg.exists():
        svg.unlink()


class _Messages(logging.Handler):
    """Log records (INFO and above) the document's code emits while a unit runs: its progress."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@contextlib.contextmanager
def _log_messages() -> Iterator[list[str]]:
    handler = _Messages()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(min(level, logging.INFO) if level else logging.INFO)
    try:
        yield handler.lines
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


class Runner:
    """Runs the document's units in order, or reuses each one's stored output (`qrender.cache`).

    A unit can only run in the namespace the units before it built, so every unit up to the last one
    without a valid entry runs; every unit after it is reused without running any code. A prose edit
    that leaves the code alone therefore runs nothing. Offers `inline` and `name` as a `Session`
    does, so the assembler and the front matter read through it unchanged.
    """

    def __init__(
        self, session: Session, units: list[Unit], cache: UnitCache, staging: Path, ignore: list[Path],
        progress: Progress,
    ) -> None:
        self.session = session
        self.name = session.name
        self.units = units
        self.cache = cache
        self.staging = staging
        self.ignore = ignore
        self.progress = progress
        self.entries = [cache.lookup(unit) for unit in units]
        self.last_to_run = max((i for i, entry in enumerate(self.entries) if entry is None), default=-1)
        self.position = {id(unit): i for i, unit in enumerate(units)}
        self.by_part = {id(unit.part): unit for unit in units if unit.part is not None}
        self.recorder = recorder(ignore)
        self.footprint: Footprint | None = None
        self.fresh: list[tuple[Unit, Entry]] = []
        self.values: list[str] = []
        self.live = False
        self.inline_steps = {"ran": 0, "reused": 0, "seconds": 0.0}

    def _runs(self, unit: Unit) -> bool:
        return self.position[id(unit)] <= self.last_to_run

    @contextlib.contextmanager
    def _recording(self, unit: Unit) -> Iterator[list[str]]:
        """Record what the unit touches; afterwards its entry holds the footprint of all units so far."""
        if self.footprint is None:  # modules loaded before any code ran: read, but never opened by it
            self.footprint = footprint(loaded_modules(self.ignore), set(), self.cache.hashes)
        with _log_messages() as messages, self.recorder.recording():
            yield messages
        touched = footprint(self.recorder.files, self.recorder.folders, self.cache.hashes)
        self.footprint = {**self.footprint, **touched}

    def _keep(self, unit: Unit, outputs: list) -> None:
        assert self.footprint is not None
        self.fresh.append((unit, Entry(dict(self.footprint), outputs)))

    def chunk(self, chunk: Chunk) -> ChunkResult:
        unit = self.by_part[id(chunk)]
        if not self._runs(unit):
            entry = self.entries[self.position[id(unit)]]
            assert entry is not None
            self.progress.step("chunk", unit.name, "reused", 0.0)
            return ChunkResult(chunk, [self._thaw(o) for o in entry.outputs])
        started = time.perf_counter()
        with self._recording(unit) as messages:
            result = self.session.run_chunk(chunk)
        self._keep(unit, list(result.outputs))  # stored by `finish`, once every image is written
        self.progress.step("chunk", unit.name, "ran", time.perf_counter() - started, messages)
        return result

    @contextlib.contextmanager
    def inline_code(self, part: Prose | None) -> Iterator[None]:
        """Around the inline expressions of one prose part (None: the front matter's)."""
        unit = next((u for u in self.units if u.kind == "front"), None) if part is None else (
            self.by_part.get(id(part))
        )
        if unit is None:
            self.live, self.values = True, []
            yield
            return
        self.live = self._runs(unit)
        if not self.live:
            entry = self.entries[self.position[id(unit)]]
            assert entry is not None
            self.values = list(reversed(entry.outputs))
            self.inline_steps["reused"] += 1
            yield
            return
        self.values = []
        started = time.perf_counter()
        with self._recording(unit):
            yield
        self._keep(unit, list(self.values))
        self.inline_steps["ran"] += 1
        self.inline_steps["seconds"] += time.perf_counter() - started

    def inline(self, expr: str, line: int) -> str:
        if not self.live:
            return self.values.pop()
        value = self.session.inline(expr, line)
        self.values.append(value)
        return value

    def report_inline(self) -> None:
        """Report the inline code as one step."""
        ran, reused = self.inline_steps["ran"], self.inline_steps["reused"]
        if ran or reused:
            status = "ran" if ran else "reused"
            name = f"{ran + reused} prose part(s) with inline code ({reused} reused)"
            self.progress.step("inline", name, status, self.inline_steps["seconds"])

    def finish(self) -> None:
        """Write the images still being made (`Session.settle`), then store the new entries whose
        footprint still holds on a fresh look (a file changed while the document ran makes its entry
        unsafe, so it is not stored). What making those images touched joins every new entry's
        footprint: more than each needs, never less."""
        started = time.perf_counter()
        waited = len(self.session.deferred)
        with self.recorder.recording():
            self.session.settle()
        if waited:
            late = footprint(self.recorder.files, self.recorder.folders, self.cache.hashes)
            self.footprint = {**(self.footprint or {}), **late}
            for _, entry in self.fresh:
                entry.footprint.update(late)
            self.progress.step("images", f"{waited} shown by the document, once made", "waited",
                               time.perf_counter() - started)
        fresh = Hashes()
        for unit, entry in self.fresh:
            entry = Entry(entry.footprint, [self._freeze(o) for o in entry.outputs])
            if fresh.holds(entry.footprint):
                self.cache.store(unit, entry)

    def document_footprint(self) -> Footprint:
        """Everything the document's code touched: the last unit's footprint (stored or just made)."""
        result: Footprint = {}
        if self.entries and self.last_to_run < len(self.units) - 1:
            last = self.entries[-1]
            assert last is not None
            result.update(last.footprint)
        result.update(self.footprint or {})
        return result

    def _freeze(self, output: object) -> object:
        if isinstance(output, FigureOut):
            files = [output.png] + [p for p in (output.svg,) if p is not None and p.exists()]
            return ("figure", [(p.relative_to(self.staging).as_posix(), p.read_bytes()) for p in files])
        return output

    def _thaw(self, stored: object) -> object:
        if isinstance(stored, tuple) and stored[0] == "figure":
            paths = []
            for name, content in stored[1]:
                path = self.staging / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(content)
                paths.append(path)
            return FigureOut(png=paths[0], svg=paths[1] if len(paths) > 1 else None)
        return stored
