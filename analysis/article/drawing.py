"""The article's figures drawn in the background while the build goes on.

A cold build spends most of its time on two things: the analysis, and the figures' print files
(five figures, each rasterised at 600 dpi and written as PDF, PNG and TIFF: about 1.5 s of CPU).
The figures plot the analysis, so the two cannot run side by side, but neither has to wait for
the other's start-up: `Drawing` forks a process before the analysis begins, which imports the
plotting stack and loads the fonts on the other core while the analysis runs, then draws every
figure from the stored results (`CachedAnalysis`), in worker processes forked from it, as soon as
it is told where they are.

Who waits for the figures:
- the document, for the one figure a chunk shows: `figure` gives the chunk a future of it,
  which qrender shows once it is ready, the document being put together meanwhile;
- the post-render step, for all of them (`finish_shared`), before the build ends;
- or, when the pre-render step runs in a process of its own (Quarto), the pre-render step itself
  (`finish`), so that the document's kernel finds every figure current.

What decides whether anything is drawn is unchanged: the figures' content, as recorded with the
analysis (`CachedAnalysis.figures_current`).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import multiprocessing
import pickle
import threading
import traceback
from concurrent.futures import Future
from pathlib import Path

from analysis.article.printfiles import write_atomic

#: qrender runs the pre- and post-render scripts in the process that then runs the document and
#: says so in this variable; the figures drawn for the pre-render step are then waited for later.
SHARED = "QRENDER_SHARED_PROCESS"


class DrawingFailed(RuntimeError):
    """The figure process failed; the message says with what and where."""


def _serve(conn, folder: str, workers: int | None) -> None:
    """The figure process: load the plotting stack, wait for the results' folder, draw."""
    try:
        from analysis.article import plots  # unpickling imports the classes results.pickle holds

        plots.warm()
        where = conn.recv()
        if where is None:
            return
        results = pickle.loads((Path(where) / "results.pickle").read_bytes())
        for name, figure, lines in plots.publish_each(results, Path(folder), workers):
            conn.send(("figure", name, figure, lines))
        conn.send(("done",))
    except Exception as exc:  # reported to the build, which stops with it (where, in one line)
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        where = f"{Path(frame.filename).name}:{frame.lineno}"
        conn.send(("error", f"{type(exc).__name__}: {exc} (in {where})"))
    finally:
        conn.close()


class Drawing:
    """One background drawing of the article's figures into `folder`: `start` it with the analysis
    entry; `figure(name)` is a future of one figure; `finish` waits for all of them."""

    def __init__(self, folder: Path, workers: int | None = None) -> None:
        context = multiprocessing.get_context("fork")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, str(folder), workers), name="figures")
        self._process.start()
        child.close()
        self._entry = None
        self._recorded = False
        #: a future per figure asked for or drawn (the names are the study's: `plots.drawers`)
        self._futures: dict[str, Future] = {}
        self._lock = threading.Lock()
        self._done = Future()
        self._ended = False
        self.lines: list[str] = []
        atexit.register(self._at_exit)

    def start(self, entry) -> None:
        """Draw from this analysis entry (its results are read from its folder)."""
        self._entry = entry
        self._conn.send(str(entry.folder))
        threading.Thread(target=self._read, name="figures", daemon=True).start()

    def _read(self) -> None:
        """Take the figure process's messages as they come, resolving each figure's future."""
        failure = None
        try:
            while failure is None:
                message = self._conn.recv()
                if message[0] == "figure":
                    _, name, figure, lines = message
                    self.lines.extend(lines)
                    self._future(name).set_result(figure)
                elif message[0] == "done":
                    break
                else:
                    failure = DrawingFailed(f"drawing the figures failed: {message[1]}")
        except (EOFError, OSError):
            failure = DrawingFailed("the figure process ended before it drew every figure")
        with self._lock:
            self._ended = True
            for name, future in self._futures.items():
                if not future.done():
                    future.set_exception(failure or DrawingFailed(f"the study has no figure named '{name}'"))
        if failure is None:
            self._done.set_result(None)
        else:
            self._done.set_exception(failure)

    def _future(self, name: str) -> Future:
        with self._lock:
            if name not in self._futures:
                future = Future()
                if self._ended:
                    future.set_exception(DrawingFailed(f"the study has no figure named '{name}'"))
                self._futures[name] = future
            return self._futures[name]

    def figure(self, name: str) -> Future:
        """The figure as a future: its `result()` is the `PrintFigure`, once drawn."""
        return self._future(name)

    def finish(self) -> list[str]:
        """Wait for every figure, record their content with the analysis, and say what was done."""
        self._done.result()
        self._process.join()
        keys = {
            name: future.result().content
            for name, future in sorted(self._futures.items())
            if future.done() and future.exception() is None
        }
        write_atomic(self._entry.folder / "figures.json", json.dumps(keys, indent=1).encode())
        self._recorded = True
        return self.lines

    def _at_exit(self) -> None:
        """At the end of the process, a drawing nobody waited for (a project without the post-render
        step) is finished, not cut short: its figures are valid whatever became of the build."""
        if self._entry is not None and not self._recorded:
            with contextlib.suppress(DrawingFailed):
                self.finish()
        self.stop()

    def stop(self) -> None:
        """End the figure process if the build ended before it was used (or failed meanwhile)."""
        if self._process.is_alive():
            if self._entry is None:
                self._conn.send(None)
                self._process.join(timeout=5)
            if self._process.is_alive():
                self._process.terminate()
                self._process.join()


#: the drawing started by the pre-render step of this process, while the document may still ask for it
_SHARED: Drawing | None = None


def share(drawing: Drawing) -> None:
    """Leave the drawing running for the document and the post-render step of this process."""
    global _SHARED
    if _SHARED is not None:  # left by a build that failed before its post-render step (preview)
        _SHARED.stop()
    _SHARED = drawing


def shared() -> Drawing | None:
    return _SHARED


def figure(results, name: str, folder: Path):
    """A figure for the document, drawn once per build: the print files drawn for these results
    when they are current; a future of the figure the background drawing of this process is
    making, when there is one; else drawn now (`plots.publish`)."""
    from analysis.article.printfiles import current

    contents = results.cache_entry.figures() if results.cache_entry is not None else {}
    if name in contents:
        found = current(folder, name, contents[name])
        if found is not None:
            return found
    drawing = shared()
    if drawing is not None:
        return drawing.figure(name)
    from analysis.article import plots

    return plots.publish(results, name, folder)


def finish_shared() -> list[str]:
    """Wait for the figures of a drawing left running (none: nothing to do)."""
    global _SHARED
    drawing, _SHARED = _SHARED, None
    return drawing.finish() if drawing is not None else []
