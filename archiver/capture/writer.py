"""Write WARC/1.1 files: one gzip member per record, rolled over at a size limit.

Each API call becomes a ``request`` and a ``response`` record that name each other in
``WARC-Concurrent-To``; harvest notes become ``metadata`` records (a JSON body) and stored
files ``resource`` records. A file is written as ``NAME.open`` in the staging directory and
renamed to ``NAME`` only after it is flushed and fsynced, so a file without the suffix is
always complete. Its SHA-256 is taken while it is written, never by reading it back.

Headers are built here rather than through ``warcio.WARCWriter``, digests are taken while they
are built, and each record is compressed in one call to ISA-L: writing is over twice as fast as
warcio's writer (docs/performance.md). warcio's ``ArchiveIterator`` and ``warcio check`` read
the files, and the tests hold us to that.

Usage::

    with WarcWriter(staging, prefix="sangrah-x", warcinfo={"operator": "Records cell"}) as w:
        records = w.write_exchange(exchange)
        w.write_metadata(uri="urn:sangrah:harvest:42", fields={"account": "x:1234"},
                         created_at=now, refers_to=records.response.record_id)
    # leaving the block closes the file (and calls on_close); an exception aborts it
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from isal import isal_zlib

from archiver import SOFTWARE
from archiver.capture.redact import MARKER, redact_exchange
from archiver.errors import CaptureError
from archiver.model import WarcPointer, canonical_json, utc
from archiver.storage.local import fsync_dir

__all__ = [
    "Exchange",
    "WrittenRecord",
    "ExchangeRecords",
    "ClosedWarc",
    "WarcWriter",
    "WARC_VERSION",
    "OPEN_SUFFIX",
    "digest_text",
]

log = logging.getLogger(__name__)

WARC_VERSION = "WARC/1.1"
CONFORMS_TO = "http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"
OPEN_SUFFIX = ".open"

#: ISA-L level 0-3. Measured on JSON pages (docs/performance.md): level 2 compresses about as
#: well as zlib level 1 and several times faster than warcio's zlib level 9.
DEFAULT_COMPRESS_LEVEL = 2

_WRITE_BUFFER_BYTES = 1 << 20
_GZIP_WBITS = 31  # a gzip container, so each record is one self-contained gzip member
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")

# Fields the writer sets itself; extra headers may not replace them.
_RESERVED_WARC_FIELDS = frozenset(
    name.lower()
    for name in (
        "WARC-Type",
        "WARC-Record-ID",
        "WARC-Date",
        "WARC-Target-URI",
        "WARC-Block-Digest",
        "WARC-Payload-Digest",
        "WARC-Warcinfo-ID",
        "WARC-Concurrent-To",
        "Content-Type",
        "Content-Length",
    )
)

# Status codes whose responses carry no body whatever Content-Length says (RFC 9110 §8.6).
_NO_BODY_STATUSES = frozenset({204, 304})


@dataclass(frozen=True, slots=True)
class Exchange:
    """One HTTP request and its response, as the HTTP client saw them.

    ``response_body`` is the entity body as the client decoded it (no transfer coding, no
    content coding): that is the payload the response record stores and digests.
    ``redacted_body`` says that credential values were replaced in ``response_body``
    (``redact_exchange`` sets it); the response record then says so.
    """

    url: str
    method: str
    request_headers: Sequence[tuple[str, str]]
    request_body: bytes
    status: int
    reason: str
    response_headers: Sequence[tuple[str, str]]
    response_body: bytes
    started_at: datetime
    http_version: str = "HTTP/1.1"
    ip_address: str | None = None
    redacted_body: bool = False
    #: extra WARC fields for both records, naming the call (``X-Sangrah-Endpoint`` …), so that a
    #: reader can parse the response again without knowing how it was harvested
    context: Sequence[tuple[str, str]] = ()


@dataclass(frozen=True, slots=True)
class WrittenRecord:
    """A record as written: its id (``<urn:uuid:...>``), WARC-Type and where it lives."""

    record_id: str
    type: str
    pointer: WarcPointer


@dataclass(frozen=True, slots=True)
class ExchangeRecords:
    request: WrittenRecord
    response: WrittenRecord


@dataclass(frozen=True, slots=True)
class ClosedWarc:
    """A finished file in the staging directory, ready to publish.

    ``record_count`` includes the file's warcinfo record; ``first_at``/``last_at`` span the
    WARC-Date of all its records.
    """

    path: Path
    name: str
    size_bytes: int
    sha256: str
    record_count: int
    first_at: datetime
    last_at: datetime


class _OpenWarc:
    """The file being written and what we know about it so far."""

    __slots__ = ("name", "path", "fh", "size_bytes", "sha256", "record_count", "first_at", "last_at", "warcinfo_id")

    def __init__(self, name: str, path: Path, fh: IO[bytes], opened_at: datetime) -> None:
        self.name = name
        self.path = path
        self.fh = fh
        self.size_bytes = 0
        self.sha256 = hashlib.sha256()
        self.record_count = 0
        self.first_at = opened_at
        self.last_at = opened_at
        self.warcinfo_id = ""


def _record_id() -> str:
    # A random (version 4) UUID, formatted by hand: uuid.uuid4() costs twice as much, and
    # every exchange takes two.
    b = bytearray(os.urandom(16))
    b[6] = (b[6] & 0x0F) | 0x40
    b[8] = (b[8] & 0x3F) | 0x80
    h = b.hex()
    return f"<urn:uuid:{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}>"


def _warc_date(value: datetime) -> str:
    # WARC/1.1 allows fractional seconds; microseconds keep two requests a millisecond apart
    # in order. isoformat() of a UTC instant is "YYYY-mm-ddTHH:MM:SS.ffffff+00:00", and
    # faster than strftime.
    return utc(value).isoformat(timespec="microseconds")[:26] + "Z"


_B32_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_B32_PAIRS = tuple(a + b for a in _B32_ALPHABET for b in _B32_ALPHABET)
_B32_SHIFTS = tuple(range(250, -1, -10))


def digest_text(h: Any) -> str:
    """``sha256:`` and the RFC 4648 base32 of a SHA-256, padding included.

    The same text as ``base64.b32encode`` (a test holds it to that) at half the cost, which
    counts at four digests per exchange. The padding matters: warcio compares the text with
    its own ``b32encode()`` output, and an unpadded value would be decoded as base64 and
    reported as a mismatch.
    """
    # 256 bits and 4 zero bits are 26 groups of 10 bits, each two base32 characters.
    n = int.from_bytes(h.digest(), "big") << 4
    return "sha256:" + "".join([_B32_PAIRS[(n >> s) & 1023] for s in _B32_SHIFTS]) + "===="


_EMPTY_DIGEST = digest_text(hashlib.sha256(b""))


def _request_target(url: str) -> str:
    """The origin-form target of a request line: path and query of the URL."""
    rest = url.partition("#")[0]
    start = rest.find("//")
    if start == -1:
        return rest or "/"
    slash = rest.find("/", start + 2)
    query = rest.find("?", start + 2)
    cuts = [i for i in (slash, query) if i != -1]
    if not cuts:
        return "/"
    target = rest[min(cuts) :]
    return "/" + target if target.startswith("?") else target


def _http_headers(
    headers: Sequence[tuple[str, str]], body_length: int, *, decoded: bool, keep_length: bool
) -> list[tuple[str, str]]:
    """Headers as stored: Content-Length made true to the stored body, codings set aside.

    The body we store is the one the client handed us. For a response that is the decoded
    entity, so a ``Content-Encoding: gzip`` or ``Transfer-Encoding: chunked`` left in place
    would make every reader (warcio included) try to un-gzip or de-chunk plain bytes. The
    original values are kept, renamed to ``X-Sangrah-Original-…``, in the same position, so
    the record still shows what the server sent. A request body is stored as sent, so only
    its transfer coding is set aside. ``keep_length`` leaves Content-Length alone where the
    body is empty by definition (HEAD, 204, 304).
    """
    out: list[tuple[str, str]] = []
    length = str(body_length)
    seen_length = False
    for name, value in headers:
        lname = name.lower()
        if lname == "transfer-encoding" or (
            decoded and lname == "content-encoding" and value.strip().lower() != "identity"
        ):
            out.append(("X-Sangrah-Original-" + lname.title(), value))
        elif lname == "content-length" and not keep_length:
            if value.strip() != length:
                out.append(("X-Sangrah-Original-Content-Length", value))
            if not seen_length:
                out.append((name, length))
            seen_length = True
        else:
            out.append((name, value))
    if not seen_length and not keep_length and (decoded or body_length):
        out.append(("Content-Length", length))
    return out


class WarcWriter:
    """Writes records to rolling WARC files in ``staging_dir``; see the module docstring.

    Files are named ``{prefix}-{UTC yyyymmddHHMMSSffffff}-{serial:05d}.warc.gz``. Before each
    write, a file already at or past ``max_file_bytes`` is closed and a new one opened, so a
    file ends at most one write past the limit and a request/response pair always shares a
    file. ``on_close`` is called with each closed file (at rollover too); if it raises, the
    file stays closed in the staging directory and the error reaches the caller. Every
    exchange goes through ``redact_exchange``, whatever the caller did, so no credential in a
    URL or header reaches the file. Not thread-safe: use one writer per thread.
    """

    def __init__(
        self,
        staging_dir: Path,
        *,
        prefix: str,
        max_file_bytes: int = 1_000_000_000,
        warcinfo: Mapping[str, str],
        on_close: Callable[[ClosedWarc], None] | None = None,
        compress_level: int = DEFAULT_COMPRESS_LEVEL,
    ) -> None:
        if not prefix or "/" in prefix or "\\" in prefix or prefix.startswith("."):
            raise ValueError(f"prefix {prefix!r} must be a plain file name part, such as 'sangrah-x'")
        if max_file_bytes <= 0:
            raise ValueError(f"max_file_bytes must be positive, not {max_file_bytes}")
        if not 0 <= compress_level <= 3:
            raise ValueError(f"compress_level is an ISA-L level, 0 to 3, not {compress_level}")
        fields: dict[str, str] = {
            "software": SOFTWARE,
            "format": "WARC File Format 1.1",
            "conformsTo": CONFORMS_TO,
        }
        fields.update({str(k): str(v) for k, v in warcinfo.items()})
        for key, value in fields.items():
            if not _TOKEN.fullmatch(key) or "\r" in value or "\n" in value:
                raise ValueError(f"warcinfo field {key!r} must be a token with a one-line value")
        self.staging_dir = Path(staging_dir)
        self.prefix = prefix
        self.max_file_bytes = max_file_bytes
        self.compress_level = compress_level
        self._warcinfo_block = "".join(f"{k}: {v}\r\n" for k, v in fields.items()).encode("utf-8")
        self._on_close = on_close
        self._serial = 0
        self._file: _OpenWarc | None = None
        self._checked_names: set[str] = set()

    # -- context manager ------------------------------------------------------------------

    def __enter__(self) -> WarcWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    # -- public writes --------------------------------------------------------------------

    @property
    def current_name(self) -> str | None:
        """The name the file being written will have once closed (None between files)."""
        return self._file.name if self._file else None

    def write_exchange(self, exchange: Exchange) -> ExchangeRecords:
        """Write the request record, then the response record, into the same file."""
        ex = redact_exchange(exchange)
        url = ex.url
        ip = ex.ip_address
        _check_line("WARC-Target-URI", url)
        if ip:
            _check_line("WARC-IP-Address", ip)
        request_head = self._http_head(
            f"{ex.method} {_request_target(url)} {ex.http_version}",
            _http_headers(ex.request_headers, len(ex.request_body), decoded=False, keep_length=False),
        )
        keep_length = not ex.response_body and (
            ex.method.upper() == "HEAD" or ex.status in _NO_BODY_STATUSES or 100 <= ex.status < 200
        )
        response_head = self._http_head(
            f"{ex.http_version} {ex.status} {ex.reason}",
            _http_headers(ex.response_headers, len(ex.response_body), decoded=True, keep_length=keep_length),
        )

        # Which parts hold redacted credentials; the record says so, for whoever reads it later.
        url_redacted = MARKER in url
        request_notes = ", ".join(
            note
            for note, hit in (
                ("url", url_redacted),
                ("request-headers", any(MARKER in v for _, v in ex.request_headers)),
                ("request-body", _MARKER_BYTES in ex.request_body),
            )
            if hit
        )
        response_notes = ", ".join(
            note
            for note, hit in (
                ("url", url_redacted),
                ("response-headers", any(MARKER in v for _, v in ex.response_headers)),
                ("response-body", ex.redacted_body),
            )
            if hit
        )

        f = self._ready()
        request_id = _record_id()
        response_id = _record_id()
        # The fields both records share, after their type and id. Values were checked above or
        # are our own, so the fields are written directly rather than through _render_fields.
        shared = f"WARC-Date: {_warc_date(ex.started_at)}\r\nWARC-Target-URI: {url}\r\n"
        for name, value in ex.context:
            if not _TOKEN.fullmatch(name) or name.lower() in _RESERVED_WARC_FIELDS:
                raise ValueError(f"context may not set the WARC field {name!r}")
            _check_line(name, value)
        tail = (
            (f"WARC-IP-Address: {ip}\r\n" if ip else "")
            + f"WARC-Warcinfo-ID: {f.warcinfo_id}\r\n"
            + "".join(f"{name}: {value}\r\n" for name, value in ex.context)
        )
        request_fields = (
            f"WARC-Type: request\r\nWARC-Record-ID: {request_id}\r\n{shared}"
            f"WARC-Concurrent-To: {response_id}\r\n{tail}"
            + (f"X-Sangrah-Redactions: {request_notes}\r\n" if request_notes else "")
            + "Content-Type: application/http; msgtype=request\r\n"
        )
        response_fields = (
            f"WARC-Type: response\r\nWARC-Record-ID: {response_id}\r\n{shared}"
            f"WARC-Concurrent-To: {request_id}\r\n{tail}"
            + (f"X-Sangrah-Redactions: {response_notes}\r\n" if response_notes else "")
            + "Content-Type: application/http; msgtype=response\r\n"
        )
        at = utc(ex.started_at)
        request = self._append(
            f, self._member(request_fields, request_head, ex.request_body, payload=True), request_id, "request", at
        )
        response = self._append(
            f, self._member(response_fields, response_head, ex.response_body, payload=True), response_id, "response", at
        )
        return ExchangeRecords(request=request, response=response)

    def write_resource(
        self,
        *,
        uri: str,
        content_type: str,
        body: bytes,
        created_at: datetime,
        concurrent_to: str | None = None,
        extra_headers: Mapping[str, str] = {},
    ) -> WrittenRecord:
        """Write a ``resource`` record: a file stored as it is (a media file, an export)."""
        for name in extra_headers:
            if name.lower() in _RESERVED_WARC_FIELDS:
                raise ValueError(f"extra_headers may not set {name}; the writer sets it")
        f = self._ready()
        record_id = _record_id()
        fields = [
            ("WARC-Type", "resource"),
            ("WARC-Record-ID", record_id),
            ("WARC-Date", _warc_date(created_at)),
            ("WARC-Target-URI", uri),
        ]
        if concurrent_to:
            fields.append(("WARC-Concurrent-To", concurrent_to))
        fields.append(("WARC-Warcinfo-ID", f.warcinfo_id))
        fields.extend(extra_headers.items())
        fields.append(("Content-Type", content_type))
        member = self._member(_render_fields(fields), b"", body, payload=True)
        return self._append(f, member, record_id, "resource", utc(created_at))

    def write_metadata(
        self,
        *,
        uri: str,
        fields: Mapping[str, Any],
        created_at: datetime,
        refers_to: str | None = None,
    ) -> WrittenRecord:
        """Write a ``metadata`` record whose body is ``fields`` as canonical JSON."""
        body = canonical_json(dict(fields))
        f = self._ready()
        record_id = _record_id()
        warc_fields = [
            ("WARC-Type", "metadata"),
            ("WARC-Record-ID", record_id),
            ("WARC-Date", _warc_date(created_at)),
            ("WARC-Target-URI", uri),
        ]
        if refers_to:
            warc_fields.append(("WARC-Refers-To", refers_to))
        warc_fields.append(("WARC-Warcinfo-ID", f.warcinfo_id))
        warc_fields.append(("Content-Type", "application/json"))
        member = self._member(_render_fields(warc_fields), b"", body, payload=False)
        return self._append(f, member, record_id, "metadata", utc(created_at))

    # -- closing --------------------------------------------------------------------------

    def close(self) -> ClosedWarc | None:
        """Finish the current file: flush, fsync, rename, fsync the directory, call on_close.

        Returns None when no file is open (nothing was written since the last close).
        """
        f = self._file
        if f is None:
            return None
        self._file = None
        final = self.staging_dir / f.name
        try:
            f.fh.flush()
            os.fsync(f.fh.fileno())
            f.fh.close()
            if final.exists():
                raise FileExistsError(f"{final} already exists")
            os.rename(f.path, final)
            fsync_dir(self.staging_dir)
        except OSError as exc:
            _discard(f)
            raise CaptureError(
                f"{f.name}: could not finish the file in {self.staging_dir} ({exc}). It was removed "
                "and nothing from it was published; free space or fix permissions there, then run "
                "the harvest again, which captures these pages anew.",
                warc_file=f.name,
            ) from exc
        closed = ClosedWarc(
            path=final,
            name=f.name,
            size_bytes=f.size_bytes,
            sha256=f.sha256.hexdigest(),
            record_count=f.record_count,
            first_at=f.first_at,
            last_at=f.last_at,
        )
        log.info(
            "warc closed warc_file=%s records=%d bytes=%d sha256=%s",
            closed.name,
            closed.record_count,
            closed.size_bytes,
            closed.sha256,
        )
        if self._on_close is not None:
            self._on_close(closed)
        return closed

    def abort(self) -> None:
        """Delete the unfinished current file; files already closed stay."""
        f = self._file
        if f is None:
            return
        self._file = None
        _discard(f)
        log.warning("warc aborted warc_file=%s records=%d", f.name, f.record_count)

    # -- internals ------------------------------------------------------------------------

    def _ready(self) -> _OpenWarc:
        f = self._file
        if f is not None and f.size_bytes >= self.max_file_bytes:
            self.close()
            f = None
        if f is None:
            f = self._open()
        return f

    def _open(self) -> _OpenWarc:
        opened_at = datetime.now(timezone.utc)
        name = f"{self.prefix}-{opened_at:%Y%m%d%H%M%S%f}-{self._serial:05d}.warc.gz"
        self._serial += 1
        path = self.staging_dir / (name + OPEN_SUFFIX)
        try:
            self.staging_dir.mkdir(parents=True, exist_ok=True)
            # "x": never write over a file, even one with our own name
            fh = open(path, "xb", buffering=_WRITE_BUFFER_BYTES)
        except OSError as exc:
            raise CaptureError(
                f"{name}: cannot create {path} ({exc}); check that the staging directory "
                f"{self.staging_dir} exists, is writable and has free space.",
                warc_file=name,
            ) from exc
        f = _OpenWarc(name, path, fh, opened_at)
        self._file = f
        record_id = _record_id()
        f.warcinfo_id = record_id
        fields = [
            ("WARC-Type", "warcinfo"),
            ("WARC-Record-ID", record_id),
            ("WARC-Date", _warc_date(opened_at)),
            ("WARC-Filename", name),
            ("Content-Type", "application/warc-fields"),
        ]
        member = self._member(_render_fields(fields), b"", self._warcinfo_block, payload=False)
        self._append(f, member, record_id, "warcinfo", opened_at)
        return f

    def _http_head(self, first_line: str, headers: list[tuple[str, str]]) -> bytes:
        # Header values are written as UTF-8, the encoding warcio tries first when reading.
        for name, _ in headers:
            if name not in self._checked_names:
                if not _TOKEN.fullmatch(name):
                    raise CaptureError(f"HTTP header name {name!r} is not a valid token; it cannot be recorded.")
                if len(self._checked_names) < 10_000:
                    self._checked_names.add(name)
        text = "".join((first_line, "\r\n", *[f"{n}: {v}\r\n" for n, v in headers], "\r\n"))
        if not _lines_intact(text, len(headers) + 2):
            raise CaptureError(
                f"a header or the status line of {first_line[:80]!r} contains a line break; a "
                "record cannot hold it faithfully. Fix the caller that built these headers."
            )
        return text.encode("utf-8")

    def _member(self, fields: str, http_head: bytes, body: bytes, *, payload: bool) -> bytes:
        """One record as one gzip member, digests computed over the exact stored bytes.

        ``fields`` are the rendered WARC fields up to Content-Type; the digests and
        Content-Length follow them.
        """
        block = hashlib.sha256(http_head)
        block.update(body)
        payload_field = ""
        if payload:
            payload_field = f"WARC-Payload-Digest: {digest_text(hashlib.sha256(body)) if body else _EMPTY_DIGEST}\r\n"
        head = (
            f"{WARC_VERSION}\r\n{fields}WARC-Block-Digest: {digest_text(block)}\r\n{payload_field}"
            f"Content-Length: {len(http_head) + len(body)}\r\n\r\n"
        )
        data = b"".join((head.encode("utf-8"), http_head, body, b"\r\n\r\n"))
        return isal_zlib.compress(data, self.compress_level, _GZIP_WBITS)

    def _append(self, f: _OpenWarc, member: bytes, record_id: str, rec_type: str, at: datetime) -> WrittenRecord:
        offset = f.size_bytes
        try:
            f.fh.write(member)
        except OSError as exc:
            raise CaptureError(
                f"{f.name} at offset {offset}: writing a {rec_type} record failed ({exc}). The file "
                f"is incomplete and will not be published; free space in {self.staging_dir}, "
                "then run the harvest again.",
                warc_file=f.name,
                offset=offset,
            ) from exc
        f.sha256.update(member)
        f.size_bytes = offset + len(member)
        f.record_count += 1
        if at < f.first_at:
            f.first_at = at
        if at > f.last_at:
            f.last_at = at
        return WrittenRecord(record_id=record_id, type=rec_type, pointer=WarcPointer(f.name, offset, len(member)))


_MARKER_BYTES = MARKER.encode("ascii")


def _lines_intact(text: str, lines: int) -> bool:
    """True when ``text`` has exactly ``lines`` line ends and no stray CR or LF."""
    return text.count("\n") == lines and text.count("\r") == lines


def _check_line(name: str, value: str) -> None:
    if "\n" in value or "\r" in value:
        raise CaptureError(
            f"WARC field {name} would contain a line break ({value[:80]!r}); a record cannot hold "
            "it. Fix the caller that passed this value."
        )


def _render_fields(fields: list[tuple[str, str]]) -> str:
    """``Name: value`` lines, each value checked to be one line."""
    for name, value in fields:
        if not _TOKEN.fullmatch(name):
            raise ValueError(f"WARC field name {name!r} is not a valid token")
        _check_line(name, value)
    return "".join([f"{n}: {v}\r\n" for n, v in fields])


def _discard(f: _OpenWarc) -> None:
    try:
        f.fh.close()
    except OSError:
        log.warning("warc close failed while discarding warc_file=%s", f.name)
    f.path.unlink(missing_ok=True)
