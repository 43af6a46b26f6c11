"""A WACZ replayed as its readers will replay it: in ReplayWeb.page (the wabac.js service
worker), loaded from a local web server on 127.0.0.1, in headless Chromium.

``infra/replay.sh install`` (run by ``infra/test.sh``) puts Chromium from Debian's packages on
the PATH and ReplayWeb.page, pinned, in the project's cache. Playwright drives that Chromium; its
own browser download is not used. Without them the replay tests are skipped on a developer's
machine and fail in CI, where they are required.

The page embeds ``<replay-web-page>`` as the ReplayWeb.page embedding guide does, with the
service worker under ``/replay/``; the server answers byte ranges, as the web servers a WACZ is
published on do, so the WACZ is read the way the format intends: its index first, then each
record by range.
"""

from __future__ import annotations

import functools
import html
import http.server
import io
import os
import re
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Frame

__all__ = ["NOT_FOUND", "ReplayTool", "Replayed", "replay", "replay_tool"]

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "infra" / "replay.sh"
NOT_FOUND = "Archived Page Not Found"


@dataclass(frozen=True)
class ReplayTool:
    chromium: Path
    replaywebpage: Path  # ui.js and sw.js of the pinned release


@dataclass(frozen=True)
class Replayed:
    frame_url: str  # the replay's own URL of the capture (…/mp_/<original URL>)
    text: str  # what the replayed frame shows


@pytest.fixture(scope="session")
def replay_tool() -> ReplayTool:
    status = subprocess.run(["bash", str(SCRIPT), "status"], capture_output=True, text=True, timeout=60)
    chromium = shutil.which("chromium")
    if status.returncode != 0 or chromium is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium or ReplayWeb.page is missing: the WACZ replay test is required in CI; infra/test.sh installs them with infra/replay.sh install")
        pytest.skip("Chromium or ReplayWeb.page is missing; run infra/replay.sh install (infra/test.sh does)")
    return ReplayTool(Path(chromium), Path(status.stdout.strip()))


_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")


class _StaticWithRanges(http.server.SimpleHTTPRequestHandler):
    """Static files, with one byte range per request when asked (RFC 9110, section 14)."""

    def send_head(self) -> BinaryIO | io.BytesIO | None:
        wanted = _RANGE.match(self.headers.get("Range", ""))
        path = Path(self.translate_path(self.path))
        if wanted is None or wanted.group(0) == "bytes=-" or not path.is_file():
            return super().send_head()
        size = path.stat().st_size
        start, end = wanted.groups()
        if not start:  # the last `end` bytes: how a reader finds a ZIP's central directory
            first, last = max(0, size - int(end)), size - 1
        else:
            first, last = int(start), min(int(end), size - 1) if end else size - 1
        if first >= size or last < first:
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        with open(path, "rb") as fh:
            fh.seek(first)
            data = fh.read(last - first + 1)
        self.send_response(206)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Range", f"bytes {first}-{last}/{size}")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        return io.BytesIO(data)

    def end_headers(self) -> None:
        if self.command in ("GET", "HEAD") and "Range" not in self.headers:
            self.send_header("Accept-Ranges", "bytes")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass  # the test reads the replayed page, not the access log


def _site(folder: Path, tool: ReplayTool, wacz: Path, url: str, ts: str) -> None:
    (folder / "replay").mkdir(parents=True)
    shutil.copyfile(tool.replaywebpage / "ui.js", folder / "ui.js")
    # the page the service worker serves as the iframe's app loads ./ui.js beside it
    shutil.copyfile(tool.replaywebpage / "ui.js", folder / "replay" / "ui.js")
    shutil.copyfile(tool.replaywebpage / "sw.js", folder / "replay" / "sw.js")
    # The embed opens its iframe at /replay/ once the service worker is registered, not once it is
    # active. On a first visit to a loaded machine the iframe's request can reach this server
    # first; the worker then claims whatever page came back, so the embed's reload of an
    # uncontrolled iframe never happens. A directory listing there left the embed blank for good;
    # the page the worker itself serves at /replay/ (its serveIndex page) lets the app start
    # either way.
    (folder / "replay" / "index.html").write_text(
        "<!doctype html><html><head><script src='./ui.js'></script></head><body><replay-app-main></replay-app-main></body></html>",
        "utf-8",
    )
    os.symlink(wacz.resolve(), folder / "package.wacz")
    (folder / "index.html").write_text(
        "<!doctype html><html><head><meta charset='utf-8'><script src='/ui.js'></script></head><body>"
        f"<replay-web-page source='/package.wacz' url='{html.escape(url)}' ts='{ts}' replaybase='/replay/' embed='replayonly'>"
        "</replay-web-page></body></html>",
        "utf-8",
    )


@dataclass
class _Server:
    httpd: http.server.ThreadingHTTPServer
    thread: threading.Thread

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}/"


def _serve(folder: Path) -> _Server:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_StaticWithRanges, directory=str(folder)))
    thread = threading.Thread(target=httpd.serve_forever, name="wacz-replay-site", daemon=True)
    thread.start()
    return _Server(httpd, thread)


def _frames_shown(frames: list[Frame]) -> list[tuple[str, str]]:
    """Each frame's URL and the start of its text: the embed's own frame shows why nothing replayed
    (the app's error, or a page the web server answered in the service worker's place)."""
    from playwright.sync_api import Error as BrowserError

    shown: list[tuple[str, str]] = []
    for frame in frames:
        try:
            text = " ".join(frame.inner_text("body", timeout=2000).split())[:200]
        except BrowserError as exc:
            text = f"(unreadable: {str(exc).splitlines()[0]})"
        shown.append((frame.url, text))
    return shown


def replay(tool: ReplayTool, wacz: Path, url: str, ts: str, site: Path, *, timeout_seconds: float = 90) -> Replayed:
    """Load ``wacz`` in ReplayWeb.page and open the capture of ``url`` at ``ts`` (14 digits);
    return the replayed frame's URL and the text it shows (the archived body, or ReplayWeb.page's
    "Archived Page Not Found")."""
    from playwright.sync_api import Error as BrowserError
    from playwright.sync_api import sync_playwright  # the test extra's; heavy, so imported here

    _site(site, tool, wacz, url, ts)
    server = _serve(site)
    errors: list[str] = []
    try:
        with sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=str(tool.chromium), headless=True)
            try:
                page = browser.new_page()
                page.on("pageerror", lambda exc: errors.append(str(exc)))
                page.goto(server.base + "index.html")
                deadline = time.monotonic() + timeout_seconds
                while time.monotonic() < deadline:
                    for frame in page.frames:
                        if "mp_/" not in frame.url:
                            continue
                        try:
                            frame.wait_for_load_state("load", timeout=max(1.0, deadline - time.monotonic()) * 1000)
                            text = frame.inner_text("body")
                        except BrowserError:
                            continue  # replaced by the next navigation while it loaded: look again
                        if text.strip():
                            return Replayed(frame.url, text)
                    page.wait_for_timeout(250)
                raise AssertionError(f"no replayed frame of {url} after {timeout_seconds} s; frames {_frames_shown(page.frames)}; page errors {errors}")
            finally:
                browser.close()
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()
        server.thread.join(timeout=10)
