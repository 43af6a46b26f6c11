"""The sample platforms' HTTP server: one local port, one path prefix per platform.

``http://127.0.0.1:PORT/x/2/users/ID/tweets`` answers as X's API does at ``/2/users/ID/tweets``;
likewise ``/facebook``, ``/instagram``, ``/youtube``, ``/mastodon``, ``/bluesky``. Images and
videos are served under ``/media/``. Like the real platforms it demands a credential, sends
rate-limit headers and, every ``throttle_every`` requests, a 429 with ``Retry-After``.

Tests inject faults (an HTML error page, truncated JSON, 401, 404, 5xx, a hang, a reset) with
``inject()``; the next matching requests get them.
"""

from __future__ import annotations

import hashlib
import importlib
import re
import socket
import struct
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType
from urllib.parse import parse_qs, urlsplit

import orjson

from archiver.model import PLATFORMS
from archiver.samples.world import World

__all__ = ["SampleServer", "SampleRequest", "SampleResponse", "FAULT_KINDS", "png_bytes", "video_bytes"]

FAULT_KINDS = ("html", "malformed", "truncated", "401", "403", "404", "429", "500", "503", "timeout", "reset", "quota")

#: how each platform expects its credential: a bearer header, or a query parameter
_AUTH = {
    "x": ("bearer", ""),
    "mastodon": ("bearer", ""),
    "bluesky": ("bearer", ""),
    "facebook": ("query", "access_token"),
    "instagram": ("query", "access_token"),
    "youtube": ("query", "key"),
}


@dataclass(frozen=True, slots=True)
class SampleRequest:
    """One request as a platform renderer sees it: the path after the platform prefix."""

    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]
    base_url: str  #: e.g. http://127.0.0.1:PORT/x, for building next-page URLs
    server_url: str  #: e.g. http://127.0.0.1:PORT, for media URLs (``server_url + "/media/NAME.png"``)
    raw_query: str = ""  #: the query string as sent, for fault patterns

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default


@dataclass(slots=True)
class SampleResponse:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, value: object, status: int = 200, headers: Mapping[str, str] | None = None) -> SampleResponse:
        return cls(status, orjson.dumps(value), {"Content-Type": "application/json; charset=utf-8", **(headers or {})})


@dataclass(slots=True)
class _Fault:
    kind: str
    platform: str | None
    pattern: re.Pattern[str] | None
    remaining: int


def png_bytes(name: str, width: int = 48, height: int = 27) -> bytes:
    """A small, valid PNG whose colour depends on ``name``: deterministic media for the samples."""
    r, g, b = hashlib.sha256(name.encode()).digest()[:3]
    row = b"\x00" + bytes((r, g, b)) * width
    raw = row * height

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def video_bytes(name: str, size: int) -> bytes:
    """Deterministic stand-in bytes for a video file of ``size`` bytes (an MP4 ``ftyp`` box first)."""
    head = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
    seed = hashlib.sha256(name.encode()).digest()
    body = (seed * (size // len(seed) + 1))[: max(0, size - len(head))]
    return head + body


class SampleServer:
    """Serve a ``World`` on 127.0.0.1 in a background thread.

    Usage::

        with SampleServer(World(seed=1, posts_per_account=50)) as server:
            server.base_url("x")      # http://127.0.0.1:PORT/x
            server.world.token("x")   # the bearer token it demands
    """

    def __init__(
        self,
        world: World,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        throttle_every: int = 0,
        retry_after_seconds: int = 1,
        timeout_fault_seconds: float = 30.0,
    ) -> None:
        self.world = world
        self.host = host
        self.port = port
        self.throttle_every = throttle_every
        self.retry_after_seconds = retry_after_seconds
        self.timeout_fault_seconds = timeout_fault_seconds
        self.requests: Counter[str] = Counter()  #: requests answered per platform (media under "media")
        self.statuses: Counter[int] = Counter()
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._renderers: dict[str, ModuleType] = {}

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> SampleServer:
        handler = _make_handler(self)
        self._httpd = _QuietServer((self.host, self.port), handler)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="sangrah-samples", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> SampleServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def base_url(self, platform: str) -> str:
        return f"{self.url}/{platform}"

    def set_epoch(self, epoch: int) -> None:
        """Move the world to a later night: new posts, edits, deletions."""
        self.world = World(seed=self.world.seed, posts_per_account=self.world.posts_per_account, epoch=epoch)

    # -- fault injection --------------------------------------------------------------------
    def inject(self, kind: str, *, platform: str | None = None, path_pattern: str | None = None, count: int = 1) -> None:
        """Give the next ``count`` requests whose path and query match ``path_pattern`` the fault ``kind``."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; known: {', '.join(FAULT_KINDS)}")
        with self._lock:
            self._faults.append(_Fault(kind, platform, re.compile(path_pattern) if path_pattern else None, count))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _take_fault(self, platform: str, path: str) -> str | None:
        with self._lock:
            for fault in self._faults:
                if fault.remaining <= 0:
                    continue
                if fault.platform not in (None, platform):
                    continue
                if fault.pattern is not None and not fault.pattern.search(path):
                    continue
                fault.remaining -= 1
                return fault.kind
        return None

    # -- answering --------------------------------------------------------------------------
    def renderer(self, platform: str) -> ModuleType:
        module = self._renderers.get(platform)
        if module is None:
            module = importlib.import_module(f"archiver.samples.{platform}")
            self._renderers[platform] = module
        return module

    def authorized(self, platform: str, request: SampleRequest) -> bool:
        kind, param = _AUTH[platform]
        token = self.world.token(platform)
        if kind == "bearer":
            return request.headers.get("authorization", "") == f"Bearer {token}"
        return request.arg(param) == token

    def answer(self, platform: str, request: SampleRequest) -> SampleResponse | str:
        """The response for one platform request, or a fault kind the handler must act out."""
        with self._lock:
            self.requests[platform] += 1
            count = self.requests[platform]
        fault = self._take_fault(platform, request.path + ("?" + request.raw_query if request.raw_query else ""))
        if fault in ("timeout", "reset"):
            return fault
        if fault is not None:
            return _fault_response(platform, fault, self.retry_after_seconds)
        if not self.authorized(platform, request):
            return _auth_error(platform)
        if self.throttle_every and count % self.throttle_every == 0:
            return _fault_response(platform, "429", self.retry_after_seconds)
        response: SampleResponse = self.renderer(platform).handle(self.world, request)
        response.headers.update(_rate_headers(platform, count))
        return response

    def answer_media(self, path: str) -> SampleResponse:
        with self._lock:
            self.requests["media"] += 1
        name = path.rsplit("/", 1)[-1]
        stem, _, ext = name.rpartition(".")
        if ext == "png":
            return SampleResponse(200, png_bytes(stem), {"Content-Type": "image/png"})
        if ext == "mp4":
            size = 200_000 + int(hashlib.sha256(stem.encode()).hexdigest()[:4], 16) * 10
            return SampleResponse(200, video_bytes(stem, size), {"Content-Type": "video/mp4"})
        return SampleResponse(404, b"not found", {"Content-Type": "text/plain"})


def _auth_error(platform: str) -> SampleResponse:
    bodies: dict[str, object] = {
        "x": {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"},
        "facebook": {"error": {"message": "Invalid OAuth access token - Cannot parse access token", "type": "OAuthException", "code": 190, "fbtrace_id": "AsangrahSample"}},
        "instagram": {"error": {"message": "Invalid OAuth access token - Cannot parse access token", "type": "OAuthException", "code": 190, "fbtrace_id": "AsangrahSample"}},
        "youtube": {"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.", "errors": [{"message": "API key not valid. Please pass a valid API key.", "domain": "global", "reason": "badRequest"}], "status": "INVALID_ARGUMENT"}},
        "mastodon": {"error": "The access token is invalid"},
        "bluesky": {"error": "AuthenticationRequired", "message": "Authentication Required"},
    }
    status = 400 if platform in ("facebook", "instagram", "youtube") else 401
    return SampleResponse.json(bodies[platform], status=status)


def _fault_response(platform: str, kind: str, retry_after_seconds: int) -> SampleResponse:
    if kind == "html":
        return SampleResponse(502, b"<html><head><title>502 Bad Gateway</title></head><body>upstream error</body></html>", {"Content-Type": "text/html"})
    if kind == "malformed":
        return SampleResponse(200, b'{"data": [ {"id": "1", "text": }', {"Content-Type": "application/json"})
    if kind == "truncated":
        return SampleResponse(200, b'{"data": [{"id": "1", "text": "cut', {"Content-Type": "application/json"})
    if kind == "429":
        reset = int(time.time()) + retry_after_seconds
        return SampleResponse.json(
            {"title": "Too Many Requests", "status": 429},
            status=429,
            headers={"Retry-After": str(retry_after_seconds), **_rate_headers(platform, 0, remaining=0, reset=reset)},
        )
    if kind == "quota":  # YouTube's daily quota, spent
        reason = {"message": "The request cannot be completed because you have exceeded your quota.", "domain": "youtube.quota", "reason": "quotaExceeded"}
        return SampleResponse.json({"error": {"code": 403, "message": reason["message"], "errors": [reason]}}, status=403)
    status = int(kind)
    return SampleResponse.json({"error": {"code": status, "message": f"sample fault {status}"}}, status=status)


def _rate_headers(platform: str, count: int, *, remaining: int | None = None, reset: int | None = None) -> dict[str, str]:
    """Each platform's own rate-limit headers, so that the client's parsing is exercised."""
    limit = 900
    left = max(0, limit - (count % limit)) if remaining is None else remaining
    reset_at = reset if reset is not None else int(time.time()) + 900
    if platform == "x":
        return {"x-rate-limit-limit": str(limit), "x-rate-limit-remaining": str(left), "x-rate-limit-reset": str(reset_at)}
    if platform in ("facebook", "instagram"):
        # stays under 80 % in normal running, so that the demo never waits; a 429 shows 100
        pct = (count % limit) * 80 // limit if remaining is None else 100
        usage = orjson.dumps({"call_count": pct, "total_cputime": 1, "total_time": 1}).decode()
        return {"X-App-Usage": usage}
    if platform == "mastodon":
        iso = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(reset_at))
        return {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": str(min(300, left)), "X-RateLimit-Reset": iso}
    if platform == "bluesky":
        return {"RateLimit-Limit": "3000", "RateLimit-Remaining": str(left), "RateLimit-Reset": str(reset_at), "RateLimit-Policy": "3000;w=300"}
    return {}


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        # a client that stops reading (a video over the size cap) is normal here, not an error
        import sys

        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


def _make_handler(server: SampleServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "SangrahSamples/1"
        # one buffered write per response: unbuffered header lines meet delayed ACKs and
        # cost tens of milliseconds a call on loopback
        wbufsize = 1 << 16
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
            return  # the harvester logs; the sample server stays quiet

        def do_GET(self) -> None:  # noqa: N802 - stdlib name
            self._dispatch()

        def do_POST(self) -> None:  # noqa: N802 - stdlib name
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            self._dispatch()

        def _dispatch(self) -> None:
            parts = urlsplit(self.path)
            segments = parts.path.split("/", 2)
            first = segments[1] if len(segments) > 1 else ""
            rest = "/" + segments[2] if len(segments) > 2 else "/"
            if first == "media":
                self._send(server.answer_media(rest))
                return
            if first not in PLATFORMS:
                self._send(SampleResponse(404, b"no such sample platform", {"Content-Type": "text/plain"}))
                return
            request = SampleRequest(
                path=rest,
                query=parse_qs(parts.query, keep_blank_values=True),
                headers={k.lower(): v for k, v in self.headers.items()},
                base_url=server.base_url(first),
                server_url=server.url,
                raw_query=parts.query,
            )
            try:
                result = server.answer(first, request)
            except Exception as exc:  # a renderer bug must show as a 500, not a hung client
                result = SampleResponse(500, f"sample renderer error: {exc!r}".encode(), {"Content-Type": "text/plain"})
            if result == "timeout":
                time.sleep(server.timeout_fault_seconds)
                self.close_connection = True
                return
            if result == "reset":
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close_connection = True
                self.connection.close()
                return
            assert isinstance(result, SampleResponse)
            with server._lock:
                server.statuses[result.status] += 1
            self._send(result)

        def _send(self, response: SampleResponse) -> None:
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)

    return Handler


def serve_forever(world: World, *, port: int, throttle_every: int = 0, on_ready: Callable[[SampleServer], None] | None = None) -> None:
    """Run the sample platforms in the foreground (``sangrah samples serve``)."""
    server = SampleServer(world, port=port, throttle_every=throttle_every).start()
    if on_ready:
        on_ready(server)
    try:
        while True:
            time.sleep(3600)
    finally:
        server.stop()
