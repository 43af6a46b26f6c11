"""The captures behind a package, read from the WARC files by pointer: their exact bytes, the
request that produced each response, the warcinfo of each file, and the capture chain (R14).

Nothing here writes to a WARC file. A capture's bytes are the gzip member at its pointer,
read with a ranged read (of a file, or of an object in the store) and checked
(``record_from_bytes`` verifies the digests). The request record
of a response is the member just before it (our writer puts the pair together, request first,
and each names the other in ``WARC-Concurrent-To``): it is found by looking back from the
response for the gzip member that ends exactly there.

Usage::

    source = WarcSource(config.store_dir / "warcs", file_sha256=catalog_digests)
    source = WarcSource(store=open_store(config), file_sha256=catalog_digests)   # local or S3
    capture = source.capture(record.pointer)
    capture.response.target_uri; capture.request; capture.chain()
    source.raw(capture.response.pointer)      # the exact bytes, when they are copied
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, cast

from isal import isal_zlib

from archiver.capture.reader import ReadRecord, record_from_bytes
from archiver.errors import CaptureError
from archiver.model import WarcPointer
from archiver.rti.package.verifier import sha256_file
from archiver.rti.review import IST
from archiver.storage.base import WARC_PREFIX

if TYPE_CHECKING:
    from archiver.storage.base import Store

__all__ = ["WarcSource", "Capture", "Member", "hex_digest", "ist", "utc_text"]

# isal's stub declares ``error`` as an instance; it is the exception class inflate raises
_InflateError = cast("type[Exception]", isal_zlib.error)
#: how far before a response its request record is looked for: near first, then further
_LOOK_BACK_BYTES = (16 * 1024, 256 * 1024)


def ist(when: datetime | None) -> str:
    """DD/MM/YYYY HH:MM:SS in IST, 24-hour, as the BSA Schedule asks."""
    return when.astimezone(IST).strftime("%d/%m/%Y %H:%M:%S IST") if when else ""


def utc_text(when: datetime | None) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ") if when else ""


def hex_digest(warc_digest: str | None) -> str:
    """A WARC digest (``sha256:BASE32``) as lower-case hex; empty if it is not SHA-256."""
    if not warc_digest or not warc_digest.lower().startswith("sha256:"):
        return ""
    value = warc_digest.split(":", 1)[1].strip()
    if len(value) == 64 and all(c in "0123456789abcdefABCDEF" for c in value):
        return value.lower()
    try:
        return base64.b32decode(value.upper() + "=" * (-len(value) % 8)).hex()
    except ValueError:
        return ""


@dataclass(frozen=True)
class Member:
    """What a package needs of one WARC record, read once by pointer with its digests checked;
    its bytes are read again (``WarcSource.raw``) only when they are copied, so that memory
    does not grow with the captures of a request."""

    pointer: WarcPointer
    #: SHA-256 (hex) of the stored gzip member, the bytes a copy must reproduce
    sha256: str
    rec_type: str
    record_id: str
    target_uri: str | None
    date: datetime | None
    #: the record's own SHA-256 of its block and payload (WARC-Block/Payload-Digest), as hex
    block_sha256: str = ""
    payload_sha256: str = ""
    #: the digest as the record states it, for the CDXJ index
    digest: str = ""
    http_status: int | None = None
    http_method: str = ""
    mime: str = ""
    platform: str = ""
    account: str = ""
    endpoint: str = ""
    #: the fields of a warcinfo record (software, harvest-id, operator, hostname)
    info: tuple[tuple[str, str], ...] = ()
    #: whether the caller's check of the decompressed record (``WarcSource.member(flag=…)``) held
    flagged: bool = False


@dataclass(frozen=True)
class Capture:
    """A response record, the request that produced it and its file's warcinfo."""

    response: Member
    request: Member | None
    warcinfo: Member | None

    def chain(self) -> dict[str, str]:
        """The capture chain of R14: where, when and by what this capture was made."""
        rec = self.response
        info = dict(self.warcinfo.info) if self.warcinfo else {}
        requested_at = self.request.date if self.request else None
        return {
            "origin_url": rec.target_uri or "",
            "platform": rec.platform,
            "account": rec.account,
            "endpoint": rec.endpoint,
            "http_status": str(rec.http_status or ""),
            "request_at_utc": utc_text(requested_at),
            "request_at_ist": ist(requested_at),
            "response_at_utc": utc_text(rec.date),
            "response_at_ist": ist(rec.date),
            "harvester": info.get("software", ""),
            "harvest_id": info.get("harvest-id", ""),
            "operator": info.get("operator", ""),
            "host": info.get("hostname", ""),
            "warc_file": rec.pointer.file,
            "warc_record_id": rec.record_id,
        }


def _fields(block: bytes) -> tuple[tuple[str, str], ...]:
    out: list[tuple[str, str]] = []
    for line in block.decode("utf-8", "replace").splitlines():
        name, sep, value = line.partition(":")
        if sep:
            out.append((name.strip(), value.strip()))
    return tuple(out)


def _member(pointer: WarcPointer, raw: bytes, record: ReadRecord, flagged: bool) -> Member:
    digest = record.header("WARC-Payload-Digest") or record.header("WARC-Block-Digest") or ""
    mime = next((v for k, v in record.http_headers if k.lower() == "content-type"), "") if record.rec_type == "response" else ""
    return Member(
        pointer=pointer,
        sha256=hashlib.sha256(raw).hexdigest(),
        rec_type=record.rec_type,
        record_id=record.record_id,
        target_uri=record.target_uri,
        date=record.date,
        block_sha256=hex_digest(record.header("WARC-Block-Digest")),
        payload_sha256=hex_digest(record.header("WARC-Payload-Digest")),
        digest=digest,
        http_status=record.http_status,
        http_method=(record.http_line or "GET").split(" ", 1)[0] if record.rec_type == "request" else "",
        mime=mime.split(";")[0].strip(),
        platform=record.header("X-Sangrah-Platform") or "",
        account=record.header("X-Sangrah-Account") or "",
        endpoint=record.header("X-Sangrah-Endpoint") or "",
        info=_fields(record.block) if record.rec_type == "warcinfo" else (),
        flagged=flagged,
    )


class WarcSource:
    """Reads captures from the WARC files, by ranged reads: from the directory ``warc_dir``, or
    from a ``store`` (the archive's local directory or its S3 bucket, objects under ``warcs/``).
    ``file_sha256`` (from the catalog's manifest) saves hashing whole files again, and is checked
    against nothing here: ``verify`` is the command that re-hashes files."""

    def __init__(self, warc_dir: Path | None = None, *, store: Store | None = None, file_sha256: Mapping[str, str] | None = None) -> None:
        if (warc_dir is None) == (store is None):
            raise ValueError("give the WARC files as a directory or as a store, one of the two")
        self.warc_dir = None if warc_dir is None else Path(warc_dir)
        self.store = store
        self._file_sha256 = dict(file_sha256 or {})
        self._warcinfo: dict[str, Member | None] = {}

    @property
    def where(self) -> str:
        return str(self.warc_dir) if self.store is None else self.store.where

    def _read(self, file: str, offset: int, length: int) -> bytes:
        if self.store is not None:
            return self.store.read_range(WARC_PREFIX + file, offset, length)
        assert self.warc_dir is not None
        with open(self.warc_dir / file, "rb") as fh:
            fh.seek(offset)
            return fh.read(length)

    def raw(self, pointer: WarcPointer) -> bytes:
        """The stored bytes of a record (its gzip member), exactly."""
        return self._read(pointer.file, pointer.offset, pointer.length)

    def member(self, pointer: WarcPointer, *, flag: Callable[[bytes], bool] | None = None) -> Member:
        """The record at ``pointer``, digests verified; ``flag`` is asked about its decompressed
        bytes (head and block) while they are at hand."""
        raw = self.raw(pointer)
        record = record_from_bytes(raw, pointer.file, pointer.offset, pointer.length)
        flagged = bool(flag and flag(isal_zlib.decompress(raw, 31)))
        return _member(pointer, raw, record, flagged)

    def warcinfo(self, file: str) -> Member | None:
        """The file's first record when it is a warcinfo record (a few KiB, read at offset 0)."""
        if file not in self._warcinfo:
            self._warcinfo[file] = self._first_warcinfo(file)
        return self._warcinfo[file]

    def _first_warcinfo(self, file: str) -> Member | None:
        size = 1 << 16
        while True:
            window = self._read(file, 0, size)
            inflater = isal_zlib.decompressobj(31)
            try:
                data = inflater.decompress(window)
            except _InflateError:
                return None
            if inflater.eof:
                head = data[: data.find(b"\r\n\r\n")]
                if not data.startswith(b"WARC/") or b"WARC-Type: warcinfo" not in head:
                    return None
                return self.member(WarcPointer(file, 0, len(window) - len(inflater.unused_data)))
            if len(window) < size or size >= 1 << 24:
                return None  # the file ends, or 16 MiB pass, inside its first record
            size *= 4

    def request_for(self, response: Member, *, flag: Callable[[bytes], bool] | None = None) -> Member | None:
        """The request record stored just before ``response`` that names it, if there is one."""
        pointer = response.pointer
        for look_back in _LOOK_BACK_BYTES:
            start = max(0, pointer.offset - look_back)
            window = self._read(pointer.file, start, pointer.offset - start)
            decided, found = self._request_in(window, start, response, flag)
            if decided or start == 0:
                return found
        return None

    def _request_in(self, window: bytes, start: int, response: Member, flag: Callable[[bytes], bool] | None) -> tuple[bool, Member | None]:
        """(found out, the request) from the member ending where ``window`` ends; (False, None)
        when no whole member ends there within the window."""
        pointer = response.pointer
        at = window.rfind(b"\x1f\x8b\x08")
        while at != -1:
            candidate = window[at:]
            inflater = isal_zlib.decompressobj(31)
            try:
                data = inflater.decompress(candidate)
            except _InflateError:
                data = b""
            if inflater.eof and not inflater.unused_data and data.startswith(b"WARC/"):
                head = data[: data.find(b"\r\n\r\n")]
                if b"WARC-Type: request" in head and response.record_id.encode() in head:
                    return True, self.member(WarcPointer(pointer.file, start + at, len(candidate)), flag=flag)
                return True, None  # the record before the response is not its request
            at = window.rfind(b"\x1f\x8b\x08", 0, at)
        return False, None

    def capture(self, pointer: WarcPointer, *, flag: Callable[[bytes], bool] | None = None) -> Capture:
        """The response at ``pointer`` with its request and warcinfo; ``flag`` as for ``member``."""
        response = self.member(pointer, flag=flag)
        if response.rec_type not in ("response", "resource"):
            raise CaptureError(
                f"{pointer.file} at offset {pointer.offset}: a {response.rec_type} record, not the response a "
                "record row should point at; rebuild the dataset with `sangrah rebuild tables`.",
                warc_file=pointer.file,
                offset=pointer.offset,
            )
        return Capture(response, self.request_for(response, flag=flag), self.warcinfo(pointer.file))

    def file_sha256(self, file: str) -> str:
        """SHA-256 (hex) of a whole WARC file: the catalog's value, else hashed here once (a file
        in a directory; an object in a store must have its value in the catalog's manifest)."""
        if file not in self._file_sha256:
            if self.warc_dir is None:
                raise CaptureError(
                    f"{file}: the catalog's manifest has no SHA-256 for this WARC file in {self.where}; run sangrah verify, which records it, then package again.",
                    warc_file=file,
                )
            self._file_sha256[file] = sha256_file(self.warc_dir / file)
        return self._file_sha256[file]