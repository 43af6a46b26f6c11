"""The captures behind a package, read from the WARC files by pointer: their exact bytes, the
request that produced each response, the warcinfo of each file, and the capture chain (R14).

Nothing here writes to a WARC file. A capture's bytes are the gzip member at its pointer,
read with a ranged read and checked (``read_record`` verifies the digests). The request record
of a response is the member just before it (our writer puts the pair together, request first,
and each names the other in ``WARC-Concurrent-To``): it is found by looking back from the
response for the gzip member that ends exactly there.

Usage::

    source = WarcSource(config.store_dir / "warcs", file_sha256=catalog_digests)
    capture = source.capture(record.pointer)
    capture.response.header("WARC-Target-URI"); capture.request_member; capture.chain()
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import cast

from isal import isal_zlib

from archiver.capture.reader import ReadRecord, iter_records, read_record
from archiver.errors import CaptureError
from archiver.model import WarcPointer
from archiver.rti.package.verifier import sha256_file
from archiver.rti.review import IST

__all__ = ["WarcSource", "Capture", "Member", "hex_digest", "ist", "utc_text"]

# isal's stub declares ``error`` as an instance; it is the exception class inflate raises
_InflateError = cast("type[Exception]", isal_zlib.error)
#: how far before a response its request record is looked for
_LOOK_BACK_BYTES = 256 * 1024


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
    """One WARC record exactly as stored: its pointer, gzip bytes and parsed record."""

    pointer: WarcPointer
    raw: bytes
    record: ReadRecord

    @cached_property
    def sha256(self) -> str:
        """SHA-256 (hex) of the stored gzip member, the bytes a copy must reproduce."""
        return hashlib.sha256(self.raw).hexdigest()

    @property
    def block_sha256(self) -> str:
        """The record's own SHA-256 of its block (WARC-Block-Digest), as hex."""
        return hex_digest(self.record.header("WARC-Block-Digest"))

    @property
    def payload_sha256(self) -> str:
        return hex_digest(self.record.header("WARC-Payload-Digest"))

    @cached_property
    def content(self) -> bytes:
        """The decompressed record (head and block), for searches."""
        return isal_zlib.decompress(self.raw, 31)


@dataclass(frozen=True)
class Capture:
    """A response record, the request that produced it and its file's warcinfo."""

    response: Member
    request: Member | None
    warcinfo: Member | None

    def chain(self) -> dict[str, str]:
        """The capture chain of R14: where, when and by what this capture was made."""
        rec = self.response.record
        info = _fields(self.warcinfo.record.block) if self.warcinfo else {}
        requested_at = self.request.record.date if self.request else None
        return {
            "origin_url": rec.target_uri or "",
            "platform": rec.header("X-Sangrah-Platform") or "",
            "account": rec.header("X-Sangrah-Account") or "",
            "endpoint": rec.header("X-Sangrah-Endpoint") or "",
            "http_status": str(rec.http_status or ""),
            "request_at_utc": utc_text(requested_at),
            "request_at_ist": ist(requested_at),
            "response_at_utc": utc_text(rec.date),
            "response_at_ist": ist(rec.date),
            "harvester": info.get("software", ""),
            "harvest_id": info.get("harvest-id", ""),
            "operator": info.get("operator", ""),
            "host": info.get("hostname", ""),
            "warc_file": self.response.pointer.file,
            "warc_record_id": rec.record_id,
        }


def _fields(block: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in block.decode("utf-8", "replace").splitlines():
        name, sep, value = line.partition(":")
        if sep:
            out[name.strip()] = value.strip()
    return out


class WarcSource:
    """Reads captures from the WARC files in ``warc_dir``; ``file_sha256`` (from the catalog's
    manifest) saves hashing whole files again, and is checked against nothing here: ``verify``
    is the command that re-hashes files."""

    def __init__(self, warc_dir: Path, *, file_sha256: Mapping[str, str] | None = None) -> None:
        self.warc_dir = Path(warc_dir)
        self._file_sha256 = dict(file_sha256 or {})
        self._warcinfo: dict[str, Member | None] = {}

    def path(self, file: str) -> Path:
        return self.warc_dir / file

    def member(self, pointer: WarcPointer) -> Member:
        path = self.path(pointer.file)
        record = read_record(path, pointer.offset, pointer.length)
        with open(path, "rb") as fh:
            fh.seek(pointer.offset)
            raw = fh.read(pointer.length)
        return Member(pointer, raw, record)

    def warcinfo(self, file: str) -> Member | None:
        if file not in self._warcinfo:
            first = next(iter_records(self.path(file)), None)
            self._warcinfo[file] = self.member(first.pointer) if first is not None and first.rec_type == "warcinfo" else None
        return self._warcinfo[file]

    def request_for(self, response: Member) -> Member | None:
        """The request record stored just before ``response`` that names it, if there is one."""
        pointer = response.pointer
        start = max(0, pointer.offset - _LOOK_BACK_BYTES)
        with open(self.path(pointer.file), "rb") as fh:
            fh.seek(start)
            window = fh.read(pointer.offset - start)
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
                if b"WARC-Type: request" in head and response.record.record_id.encode() in head:
                    return self.member(WarcPointer(pointer.file, start + at, len(candidate)))
                return None
            at = window.rfind(b"\x1f\x8b\x08", 0, at)
        return None

    def capture(self, pointer: WarcPointer) -> Capture:
        response = self.member(pointer)
        if response.record.rec_type not in ("response", "resource"):
            raise CaptureError(
                f"{pointer.file} at offset {pointer.offset}: a {response.record.rec_type} record, not the response a "
                "record row should point at; rebuild the dataset with `sangrah rebuild tables`.",
                warc_file=pointer.file,
                offset=pointer.offset,
            )
        return Capture(response, self.request_for(response), self.warcinfo(pointer.file))

    def file_sha256(self, file: str) -> str:
        """SHA-256 (hex) of a whole WARC file: the catalog's value, else hashed here once."""
        if file not in self._file_sha256:
            self._file_sha256[file] = sha256_file(self.path(file))
        return self._file_sha256[file]
