"""The programs readers open the manuscript with, driven headless from the tests: LibreOffice renders
the Word file (as an editor sees it), poppler reads PDF pages, Chromium opens the HTML.

Each client gets its own fresh profile folder, so runs never share state with a user's desktop or
with each other. Chromium is driven through the DevTools protocol over a pipe (no network port):
every console message, uncaught exception and failed load is collected while the page loads.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--remote-debugging-pipe",
]


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def word_to_pdf(docx: Path, outdir: Path) -> Path:
    """LibreOffice's rendering of a Word file, as PDF (what an editor opening the file sees)."""
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        result = subprocess.run(
            [soffice(), f"-env:UserInstallation={Path(profile).as_uri()}", "--headless",
             "--convert-to", "pdf", "--outdir", str(outdir), str(docx)],
            capture_output=True, text=True, timeout=600,
        )
    pdf = outdir / f"{docx.stem}.pdf"
    assert result.returncode == 0 and pdf.exists(), result.stdout + result.stderr
    return pdf


def page_texts(pdf: Path) -> list[str]:
    """Each page's text as poppler's pdftotext reads it (reading order, no layout)."""
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = text.split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages


def page_sizes(pdf: Path) -> list[tuple[float, float]]:
    from pypdf import PdfReader

    return [(float(p.mediabox.width), float(p.mediabox.height)) for p in PdfReader(pdf).pages]


def page_pngs(pdf: Path, folder: Path, dpi: int = 60) -> list[Path]:
    """Every page as a PNG (pdftoppm), in a folder emptied first."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(pdf), str(folder / "page")], check=True)
    return sorted(folder.glob("page-*.png"))


@dataclass
class BrowserReport:
    """What Chromium saw while loading a page, and the values of the expressions asked for."""

    errors: list[str] = field(default_factory=list)
    values: dict = field(default_factory=dict)
    screenshot: bytes = b""


class _Pipe:
    """The DevTools protocol over Chromium's pipe: JSON messages ended by a NUL byte."""

    def __init__(self, write_fd: int, read_fd: int) -> None:
        self.write_fd, self.read_fd = write_fd, read_fd
        self.buffer = b""
        self.next_id = 0
        self.events: list[dict] = []

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> int:
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.write_fd, json.dumps(message).encode() + b"\0")
        return self.next_id

    def receive(self, deadline: float) -> dict | None:
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.read_fd], [], [], left)[0]:
                return None
            chunk = os.read(self.read_fd, 1 << 20)
            if not chunk:
                return None
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float = 60) -> dict:
        wanted = self.send(method, params, session)
        deadline = time.monotonic() + timeout
        while (message := self.receive(deadline)) is not None:
            if message.get("id") == wanted:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)
        raise TimeoutError(f"Chromium did not answer {method}")

    def wait_for(self, method: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        if any(e.get("method") == method for e in self.events):
            return True
        while (message := self.receive(deadline)) is not None:
            self.events.append(message)
            if message.get("method") == method:
                return True
        return False


def _problems(events: list[dict]) -> list[str]:
    """Console errors and warnings, uncaught exceptions, failed loads, log entries of level error."""
    found = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            thrown = details.get("exception", {}).get("description") or details.get("text")
            found.append(f"exception: {thrown}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "warning", "assert"):
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            found.append(f"console.{params['type']}: {text}")
        elif method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
            entry = params["entry"]
            found.append(f"{entry['source']} {entry['level']}: {entry['text']} {entry.get('url', '')}")
        elif method == "Network.loadingFailed" and not params.get("canceled"):
            found.append(f"load failed: {params.get('errorText')} (request {params.get('requestId')})")
    return found


@contextlib.contextmanager
def served(folder: Path):
    """The folder on a local web server (127.0.0.1, a free port), as a website serves it: a Quarto
    manuscript's HTML is a folder of files whose module scripts a browser loads over HTTP only."""
    import functools
    import http.server
    import threading

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            if self.path == "/favicon.ico":  # asked by the browser itself, not by the page
                self.send_response(204)
                self.end_headers()
                return
            super().do_GET()

    handler = functools.partial(Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


HOVER = """(() => { const e = document.querySelector(%s); e.scrollIntoView({block: 'center'});
  const r = e.getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; })()"""


def open_in_chromium(
    url: str, expressions: dict[str, str], hover: str | None = None, settle: float = 1.5
) -> BrowserReport:
    """Load `url` in headless Chromium, put the mouse over the first element matching `hover`,
    evaluate each JavaScript expression (its JSON value is returned), take a screenshot, and collect
    every script and resource error logged."""
    to_browser, from_browser = os.pipe(), os.pipe()

    def child_pipes() -> None:  # Chromium reads commands on fd 3 and answers on fd 4
        os.dup2(to_browser[0], 3)
        os.dup2(from_browser[1], 4)

    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        process = subprocess.Popen(
            [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
            preexec_fn=child_pipes, pass_fds=(3, 4, to_browser[0], from_browser[1]),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        os.close(to_browser[0])
        os.close(from_browser[1])
        pipe = _Pipe(to_browser[1], from_browser[0])
        report = BrowserReport()
        try:
            target = pipe.call("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = pipe.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Page", "Runtime", "Log", "Network"):
                pipe.call(f"{domain}.enable", session=session)
            pipe.events.clear()
            pipe.call("Page.navigate", {"url": url}, session=session)
            assert pipe.wait_for("Page.loadEventFired", 60), "the page never finished loading"
            pipe.wait_for("no such event: let late errors arrive", settle)
            if hover:
                where = pipe.call("Runtime.evaluate", {"expression": HOVER % json.dumps(hover),
                                                       "returnByValue": True}, session=session)
                x, y = where["result"]["value"]
                pipe.call("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x, "y": y}, session=session)
            for name, expression in expressions.items():
                result = pipe.call(
                    "Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=session
                )
                if "exceptionDetails" in result:
                    raise AssertionError(f"{name}: {result['exceptionDetails']}")
                report.values[name] = result["result"].get("value")
            shot = pipe.call("Page.captureScreenshot", {"format": "png"}, session=session)
            report.screenshot = base64.b64decode(shot["data"])
            report.errors = _problems(pipe.events)
            with contextlib.suppress(TimeoutError, OSError):
                pipe.call("Browser.close", timeout=10)
        finally:
            os.close(to_browser[1])
            os.close(from_browser[0])
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    return report


@dataclass
class Word:
    """A word on a PDF page and its box, in points from the page's top-left corner (poppler)."""

    text: str
    x0: float
    y0: float
    x1: float
    y1: float


@dataclass
class Paged:
    """A PDF as a reader sees it: each page's size, text and positioned words."""

    pdf: Path
    sizes: list[tuple[float, float]]
    texts: list[str]
    words: list[list[Word]]

    def lines(self, page: int) -> list[str]:
        """The page's lines, spaces normalised (Quarto writes "Table\u00a01:")."""
        return [" ".join(line.split()) for line in self.texts[page].splitlines() if line.strip()]

    def pages_starting(self, prefix: str) -> list[int]:
        """Pages holding a line that starts with `prefix` (a caption: "Table 3:")."""
        return [i for i in range(len(self.texts)) if any(line.startswith(prefix) for line in self.lines(i))]


def read_pdf(pdf: Path) -> Paged:
    import html as html_lib
    import re

    box = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True)
    pages = re.split(r"<page ", box.stdout)[1:]
    word = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>')
    words = [
        [Word(html_lib.unescape(m[4]), float(m[0]), float(m[1]), float(m[2]), float(m[3]))
         for m in word.findall(page)]
        for page in pages
    ]
    return Paged(pdf, page_sizes(pdf), page_texts(pdf), words)
