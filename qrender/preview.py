"""`python -m qrender preview [PROJECT] [--port N]`: the HTML article, live, as it is written.

A local HTTP server on 127.0.0.1 (the port printed at start; by default one the system picks)
serves the article built as HTML into `.cache/preview/`. A watcher rebuilds it whenever the build
is no longer current: the content of an input changed (the manuscript, the data, the analysis
code, anything `qrender.inputs` names, the renderer) or a file the document's code read did
(`qrender.build.is_current`, the same test as a no-op build). Every build is a fresh
`python -m qrender` process, so changed analysis code is imported anew, and it reuses every cached
step that still holds. The page polls the server and reloads itself after each build; a failed
build shows its message in the page instead of the article and the server keeps watching.

PDF and Word are built on demand (the links `/manuscript.pdf`, `/manuscript.docx` build all
formats into the project's output folder, then serve the file) and once more on exit (Ctrl-C),
unless `--no-final-build`. Standard library only.
"""

from __future__ import annotations

import argparse
import html
import json
import signal
import subprocess
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from qrender.build import is_current, output_name, staleness_inputs
from qrender.errors import BuildError
from qrender.project import Project, input_hash, load_project

PREVIEW = ".cache/preview"
HOME = Path(__file__).resolve().parents[1]  # the folder this qrender package is imported from
STATE = "/__preview__/state"
POLL_SECONDS = 0.4
RELOAD = """<script>
(function () {
  var version = %d;
  function poll() {
    fetch("%s").then(function (r) { return r.json(); }).then(function (s) {
      if (s.version !== version) { location.reload(); } else { setTimeout(poll, 400); }
    }).catch(function () { setTimeout(poll, 1000); });
  }
  setTimeout(poll, 400);
})();
</script>
<div id="qrender-preview" style="position:fixed;bottom:0;right:0;font:12px sans-serif;background:#eee;
padding:4px 8px;opacity:.85">%s · <a href="/%s">PDF</a> · <a href="/%s">Word</a></div>
"""
PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>%s</title></head>
<body style="font-family:sans-serif;max-width:60em;margin:2em auto">%s</body></html>
"""


class Preview:
    """The watcher and builder behind the server: the latest build's outcome, and a version that
    changes after every build (the page reloads when it does)."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.version = 0
        self.building = False
        self.error: str | None = None
        self.failed_for: str | None = None
        self.status = "starting"
        self.lock = threading.Lock()  # one build at a time: the watcher's or a PDF/Word request's
        self.stop = threading.Event()

    def _digest(self) -> str:
        try:
            return input_hash(self.project, staleness_inputs(self.project))
        except BuildError as exc:  # e.g. front matter that does not parse: build, and show why
            return f"unreadable: {exc}"

    def _qrender(self, *args: str) -> subprocess.CompletedProcess:
        """This qrender (started from the folder it is imported from, so it is the one imported), in
        a fresh process, so changed analysis code is imported anew."""
        command = [sys.executable, "-m", "qrender", str(self.project.root), *args]
        return subprocess.run(command, capture_output=True, text=True, cwd=HOME)

    def build_html(self) -> None:
        digest = self._digest()
        with self.lock:
            self.building = True
            started = time.perf_counter()
            result = self._qrender("--to", "html", "--output-dir", PREVIEW)
            seconds = time.perf_counter() - started
            self.building = False
            if result.returncode == 0:
                self.error, self.failed_for = None, None
                self.status = f"built in {seconds:.1f} s"
            else:
                self.error, self.failed_for = result.stderr.strip() or result.stdout.strip(), digest
                self.status = f"build failed ({seconds:.1f} s)"
            self.version += 1
        print(f"preview: {self.status}", file=sys.stderr, flush=True)

    def check(self) -> None:
        """Build when the preview is not current; a source returned to its last good state needs no
        build, only the article back in the page."""
        digest = self._digest()
        if digest == self.failed_for:
            return  # still the version that failed
        if not digest.startswith("unreadable") and is_current(self.project, digest, ["html"], PREVIEW):
            if self.error is not None:
                self.error, self.failed_for, self.status = None, None, "article restored"
                self.version += 1
            return
        self.build_html()

    def watch(self) -> None:
        while not self.stop.is_set():
            self.check()
            self.stop.wait(POLL_SECONDS)

    def build_all(self) -> subprocess.CompletedProcess:
        """Every format into the project's output folder (a no-op when they are current)."""
        with self.lock:
            return self._qrender()

    def page(self) -> str:
        """The article with the reload script, or the error, or a notice while the first build runs."""
        reload = RELOAD % (
            self.version, STATE, html.escape(self.status),
            output_name(self.project, "typst"), output_name(self.project, "docx"),
        )
        if self.error is not None:
            body = (
                "<h1>The build failed</h1><p>The last good article comes back with the next build "
                f"that succeeds.</p><pre style='white-space:pre-wrap'>{html.escape(self.error)}</pre>"
            )
            return PAGE % ("Build failed", body + reload)
        article = self.project.root / PREVIEW / "index.html"
        if not article.exists():
            return PAGE % ("Building", "<p>Building the article…</p>" + reload)
        text = article.read_text(encoding="utf-8")
        end = text.lower().rfind("</body>")
        return text[:end] + reload + text[end:] if end >= 0 else text + reload


def handler(preview: Preview) -> type[BaseHTTPRequestHandler]:
    downloads = {
        f"/{output_name(preview.project, fmt)}": (fmt, mime)
        for fmt, mime in (
            ("typst", "application/pdf"),
            ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        )
    }

    class Handler(BaseHTTPRequestHandler):
        def _send(self, body: bytes, mime: str, status: HTTPStatus = HTTPStatus.OK) -> None:
            self.send_response(status)
            self.send_header("Content-Type", mime)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
            path = self.path.split("?", 1)[0]
            if path == STATE:
                state = {"version": preview.version, "building": preview.building, "error": preview.error}
                self._send(json.dumps(state).encode(), "application/json")
            elif path in ("/", "/index.html"):
                self._send(preview.page().encode("utf-8"), "text/html; charset=utf-8")
            elif path in downloads:
                fmt, mime = downloads[path]
                result = preview.build_all()
                project = preview.project
                target = project.root / project.output_dir / output_name(project, fmt)
                if result.returncode != 0 or not target.exists():
                    message = f"<h1>The build failed</h1><pre>{html.escape(result.stderr)}</pre>"
                    body = PAGE % ("Build failed", message)
                    self._send(body.encode(), "text/html", HTTPStatus.INTERNAL_SERVER_ERROR)
                else:
                    self._send(target.read_bytes(), mime)
            else:
                self._send(b"not found", "text/plain", HTTPStatus.NOT_FOUND)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (http.server's name)
            return  # requests are not news; builds are printed

    return Handler


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM ends the preview as Ctrl-C does (and so builds PDF and Word first)."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    summary = __doc__.split("\n\n")[0]
    parser = argparse.ArgumentParser(prog="python -m qrender preview", description=summary)
    parser.add_argument("project", nargs="?", default=".", help="folder holding _quarto.yml")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--no-final-build", action="store_true", help="on exit, do not build PDF and Word")
    args = parser.parse_args(argv)
    try:
        project = load_project(Path(args.project).resolve())
    except BuildError as exc:
        print(f"preview: {exc}", file=sys.stderr)
        return exc.exit_code
    preview = Preview(project)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler(preview))
    server.daemon_threads = True
    url = f"http://127.0.0.1:{server.server_port}/"
    print(f"Preview of {project.article} at {url} (Ctrl-C to stop)", flush=True)
    signal.signal(signal.SIGTERM, _interrupt)
    watcher = threading.Thread(target=preview.watch, daemon=True)
    watcher.start()
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        preview.stop.set()
        server.server_close()
    watcher.join()
    if not args.no_final_build:
        print("preview: building PDF and Word before exit", file=sys.stderr, flush=True)
        result = preview.build_all()
        sys.stderr.write(result.stderr)
        sys.stdout.write(result.stdout)
        return result.returncode
    return 0
