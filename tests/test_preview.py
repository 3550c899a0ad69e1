"""`make preview` (`python -m qrender preview`): the article served live on 127.0.0.1, rebuilt after
an edit; a broken edit shows its error in the page and the server keeps serving."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable

from tests.conftest import ROOT
from tests.test_render import copy_fixture


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as response:
        return " ".join(response.read().decode("utf-8").split())


def wait_for(url: str, wanted: Callable[[str], bool], seconds: float = 180) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        page = fetch(url)
        if wanted(page):
            return page
        time.sleep(0.3)
    raise AssertionError(f"{url} never showed what was expected; last page:\n{page[:3000]}")


def test_preview_serves_rebuilds_and_shows_errors(tmp_path):
    project = copy_fixture(tmp_path)
    qmd = project / "article.qmd"
    command = [sys.executable, "-m", "qrender", "preview", str(project), "--no-final-build"]
    server = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        started = server.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", started).group(0)
        page = wait_for(url, lambda p: "We studied 8 patients" in p)
        assert "/__preview__/state" in page, "the page must carry the script that reloads it"
        version = json.loads(fetch(url + "__preview__/state"))["version"]

        qmd.write_text(qmd.read_text().replace("Survival curves follow", "Survival curves now follow"))
        wait_for(url, lambda p: "Survival curves now follow" in p)
        assert json.loads(fetch(url + "__preview__/state"))["version"] > version

        qmd.write_text(qmd.read_text() + "\nSee @fig-nope.\n")
        page = wait_for(url, lambda p: "unknown cross-reference @fig-nope" in p)
        assert "The build failed" in page and "/__preview__/state" in page

        qmd.write_text(qmd.read_text().replace("\nSee @fig-nope.\n", "\n"))
        wait_for(url, lambda p: "Survival curves now follow" in p and "The build failed" not in p)
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=120)
    assert server.returncode == 0, server.stderr.read()
