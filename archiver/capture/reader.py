"""Read WARC records back: all of a file in order, or one by its pointer, checking digests.

Files are record-compressed (one gzip member per record), so every record has an exact offset
and length, and one record can be read with a ranged read and nothing else. Reading goes
member by member through ISA-L's inflate rather than through warcio: it gives the pointer of
each member directly, needs no second pass for offsets, and lets ``verify_file`` step over a
damaged member and go on with the next one instead of stopping there.

Usage::

    for record in iter_records(path):
        if record.rec_type == "response":
            print(record.pointer, record.http_status, len(record.payload))

    record = read_record(path, pointer.offset, pointer.length)   # digests verified
    check = verify_file(path)                                    # every record, all problems
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path
from typing import IO, cast

from isal import isal_zlib

from archiver.capture.writer import digest_text
from archiver.errors import CaptureError, RecordDigestMismatch
from archiver.model import WarcPointer

__all__ = ["ReadRecord", "FileProblem", "FileCheck", "PassedRecord", "HeadTest", "iter_records", "read_record", "record_from_bytes", "scan_records", "verify_file"]

# isal's stub declares ``error`` as an instance; it is the exception class inflate raises.
_InflateError = cast("type[Exception]", isal_zlib.error)
_CHUNK_BYTES = 1 << 16
_GZIP_MAGIC = b"\x1f\x8b\x08"
_HTTP_RECORD_TYPES = frozenset({"request", "response", "revisit"})
_RESTORE = "restore the file from the store copy, then run `sangrah verify`"


def _decode_line(line: bytes) -> str:
    # As warcio does: UTF-8 first (what WARC/1.1 and our writer use), else ISO-8859-1.
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return line.decode("iso-8859-1")


def _parse_fields(head: bytes) -> tuple[tuple[str, str], ...]:
    """``Name: value`` lines (CRLF-separated), continuation lines folded in, values stripped of
    outer spaces."""
    # one decode for the whole head when it is UTF-8, as nearly every head is
    try:
        decoded = head.decode("utf-8").replace("\r\n", "\n").split("\n")
    except UnicodeDecodeError:
        decoded = [_decode_line(raw) for raw in head.split(b"\r\n")]
    fields: list[tuple[str, str]] = []
    for line in decoded:
        if line[:1] in (" ", "\t") and fields:
            name, value = fields[-1]
            fields[-1] = (name, value + " " + line.strip())
            continue
        name, colon, value = line.partition(":")
        if colon:
            fields.append((name.rstrip(" \t"), value.strip(" \t")))
    return tuple(fields)


def _index(fields: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """Lower-cased name → value of the first field of that name."""
    index: dict[str, str] = {}
    for name, value in fields:
        index.setdefault(name.lower(), value)  # the first of two fields of the same name is kept
    return index


def _get(fields: tuple[tuple[str, str], ...], name: str) -> str | None:
    lname = name.lower()
    for key, value in fields:
        if key.lower() == lname:
            return value
    return None


def _parse_date(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(timezone.utc)


# The base32 alphabet (RFC 4648) → the digits ``int(text, 32)`` reads; any other ASCII character
# → one it rejects.
_B32_AS_DIGITS = str.maketrans(
    {**{chr(code): "!" for code in range(128)}, **dict(zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", "0123456789abcdefghijklmnopqrstuv"))}
)


#: the digest of no bytes, in our writer's format
_EMPTY_DIGEST = digest_text(hashlib.sha256(b""))


def _matches_own_digest(expected: str, data: bytes | memoryview) -> bool:
    """Is ``expected`` a SHA-256 in our writer's format (``sha256:``, padded upper-case base32)
    that ``data`` hashes to? False sends the check to ``_check_digest``, which says why."""
    # Comparing numbers rather than texts: encoding every digest to base32 costs more than
    # hashing the small records that most of a file is.
    if len(expected) != 63 or not expected.startswith("sha256:") or not expected.endswith("====") or not expected.isascii():
        return False
    try:
        value = int(expected[7:59].translate(_B32_AS_DIGITS), 32)
    except ValueError:
        return False
    # 52 base32 characters are 260 bits: the 256 of the digest and 4 zero bits
    return value == int.from_bytes(hashlib.sha256(data).digest(), "big") << 4


def _check_digest(expected: str, data: bytes) -> tuple[bool | None, str]:
    """Does ``data`` hash to ``algo:value``, and what does it hash to (as ``algo:base32``)?

    None when the algorithm or the encoding is unknown. The value may be base32 (what we and
    warcio write), base16 or base64: WARC allows any.
    """
    expected = expected.strip()
    if expected.startswith("sha256:"):
        # Our own format (padded base32, upper case): one comparison of the text.
        actual_text = digest_text(hashlib.sha256(data))
        if expected == actual_text:
            return True, actual_text
    algo, _, value = expected.partition(":")
    algo = algo.strip().lower()
    try:
        hasher = hashlib.new(algo.replace("-", ""))
    except ValueError:
        return None, ""
    hasher.update(data)
    actual = hasher.digest()
    actual_text = f"{algo}:{base64.b32encode(actual).decode('ascii')}"
    value = value.strip().rstrip("=")
    candidates: list[bytes] = []
    for decode in (
        lambda v: base64.b32decode(v.upper() + "=" * (-len(v) % 8)),
        bytes.fromhex,
        lambda v: base64.b64decode(v + "=" * (-len(v) % 4), altchars=b"-_" if ("-" in v or "_" in v) else None),
    ):
        try:
            candidates.append(decode(value))
        except (binascii.Error, ValueError):
            continue
    if not any(len(c) == len(actual) for c in candidates):
        return None, actual_text
    return actual in candidates, actual_text


@dataclass(frozen=True)
class ReadRecord:
    """One record read from a WARC file.

    ``headers`` are the WARC fields in file order; ``block`` is the whole record block. For
    request and response records with an http(s) target, ``http_line``, ``http_headers`` and
    ``http_status`` come from the HTTP head and ``payload`` is the entity body after it; for
    other records ``payload`` is the block. These are worked out on first use.
    """

    pointer: WarcPointer
    rec_type: str
    record_id: str
    headers: tuple[tuple[str, str], ...]
    target_uri: str | None
    date: datetime | None
    block: bytes = field(repr=False)

    def header(self, name: str) -> str | None:
        """The first WARC field called ``name`` (any case), or None."""
        return self._header_index.get(name.lower())

    @cached_property
    def _header_index(self) -> dict[str, str]:
        return _index(self.headers)

    @property
    def is_http(self) -> bool:
        uri = self.target_uri or ""
        return self.rec_type in _HTTP_RECORD_TYPES and uri.startswith(("http:", "https:"))

    @cached_property
    def _http_split(self) -> tuple[int, int, int]:
        """Where the HTTP head's first line ends, where the head ends and where the payload
        starts; all 0 when the record holds no HTTP message."""
        if not self.is_http or not self.block:
            return 0, 0, 0
        end = self.block.find(b"\r\n\r\n")
        head_end, payload_start = (len(self.block), len(self.block)) if end == -1 else (end, end + 4)
        line_end = self.block.find(b"\r\n", 0, head_end)
        return (head_end if line_end == -1 else line_end), head_end, payload_start

    @cached_property
    def http_line(self) -> str | None:
        """The HTTP request line or status line, as stored."""
        line_end, _, payload_start = self._http_split
        return _decode_line(self.block[:line_end]).strip() if payload_start else None

    @cached_property
    def http_headers(self) -> tuple[tuple[str, str], ...]:
        line_end, head_end, payload_start = self._http_split
        if not payload_start or line_end >= head_end:
            return ()
        return _parse_fields(self.block[line_end + 2 : head_end])

    @property
    def http_status(self) -> int | None:
        """The HTTP status code of a response record."""
        line = self.http_line
        if self.rec_type == "request" or not line:
            return None
        parts = line.split(" ", 2)
        return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None

    def http_header(self, name: str) -> str | None:
        return _get(self.http_headers, name)

    @cached_property
    def payload(self) -> bytes:
        start = self._http_split[2]
        return self.block[start:] if start else self.block

    def digest_problems(self) -> list[str]:
        """What does not match the record's WARC-Block-Digest and WARC-Payload-Digest."""
        problems: list[str] = []
        checks = [("WARC-Block-Digest", self.header("WARC-Block-Digest"), self.block, "block")]
        # A revisit's payload lives in another record; its digest cannot be checked here.
        if self.rec_type != "revisit":
            checks.append(("WARC-Payload-Digest", self.header("WARC-Payload-Digest"), self.payload, "payload"))
        for name, expected, data, what in checks:
            # a request's payload is nearly always empty: its digest is known without hashing
            if not expected or (expected == _EMPTY_DIGEST if not data else _matches_own_digest(expected, data)):
                continue
            verdict, actual = _check_digest(expected, data)
            if verdict is None:
                problems.append(f"{name} {expected!r} uses an algorithm or encoding that cannot be checked")
            elif not verdict:
                problems.append(
                    f"the {what} of {self.rec_type} record {self.record_id} does not match its {name} "
                    f"(recorded {expected}, stored bytes hash to {actual})"
                )
        return problems


@dataclass(frozen=True, slots=True)
class FileProblem:
    """One thing wrong at ``offset``. ``message`` says what and the next step, without the file
    name and offset, which the caller renders from its fields."""

    offset: int
    message: str


@dataclass(frozen=True, slots=True)
class PassedRecord:
    """A record ``scan_records`` was asked to pass over: whole, its block digest checked, not parsed."""

    offset: int
    end: int  #: where the record after it starts


#: Tells from a member's bytes and where its WARC head ends (the offset of the blank line) whether
#: the reader may pass over the record; see ``scan_records``.
HeadTest = Callable[[bytes, int], bool]


def _field_bytes(data: bytes, marker: bytes, head_end: int) -> bytes | None:
    """The value of the first WARC field ``marker`` (``b"\\r\\nName: "``, as our writer spells it)."""
    at = data.find(marker, 0, head_end)
    if at == -1:
        return None
    start = at + len(marker)
    return data[start : data.find(b"\r\n", start, head_end + 2)]


def _whole_and_unaltered(data: bytes, head_end: int) -> bool:
    """Is the member one whole record whose block hashes to its WARC-Block-Digest, in our writer's
    format? Read from the bytes alone, without parsing the head; False whenever in doubt, and the
    full reading then decides, naming what is wrong."""
    length = _field_bytes(data, b"\r\nContent-Length: ", head_end)
    digest = _field_bytes(data, b"\r\nWARC-Block-Digest: ", head_end)
    if length is None or digest is None or not length.isdigit() or not digest.isascii():
        return False
    start = head_end + 4
    end = start + int(length)
    if len(data) != end + 4 or not data.endswith(b"\r\n\r\n"):
        return False
    expected = digest.decode("ascii")
    if end == start:
        return expected == _EMPTY_DIGEST
    return _matches_own_digest(expected, memoryview(data)[start:end])


@dataclass(frozen=True, slots=True)
class FileCheck:
    """What ``verify_file`` found: counts, the file's SHA-256 and every problem, in file order."""

    file: str
    size_bytes: int
    record_count: int
    digests_checked: int
    sha256: str
    problems: tuple[FileProblem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def _parse_member(data: bytes, pointer: WarcPointer) -> tuple[ReadRecord, str | None]:
    """The record in one decompressed member, and a note if the member holds more or less."""
    head_end = data.find(b"\r\n\r\n")
    if not data.startswith(b"WARC/") or head_end == -1:
        raise CaptureError(
            f"{pointer.file} at offset {pointer.offset}: the gzip member there does not hold a WARC "
            f"record (it starts {data[:24]!r}). The pointer is wrong or the file is damaged; "
            f"check the pointer in the catalog, or {_RESTORE}.",
            warc_file=pointer.file,
            offset=pointer.offset,
        )
    line_end = data.find(b"\r\n", 0, head_end)
    headers = _parse_fields(data[line_end + 2 : head_end]) if line_end != -1 else ()
    index = _index(headers)
    length_text = index.get("content-length") or ""
    if not length_text.strip().isdigit():
        raise CaptureError(
            f"{pointer.file} at offset {pointer.offset}: the WARC record has no valid Content-Length "
            f"({length_text!r}); {_RESTORE}.",
            warc_file=pointer.file,
            offset=pointer.offset,
        )
    start = head_end + 4
    end = start + int(length_text)
    note = None
    if end > len(data):
        note = f"the record is {end - len(data)} bytes shorter than its Content-Length"
    elif data[end:] != b"\r\n\r\n":
        rest = data[end:]
        note = (
            "the record is not followed by the blank lines that end it"
            if not rest.startswith(b"\r\n\r\n")
            else f"{len(rest) - 4} bytes follow the record inside its gzip member"
        )
    record = ReadRecord(
        pointer=pointer,
        rec_type=index.get("warc-type") or "",
        record_id=index.get("warc-record-id") or "",
        headers=headers,
        target_uri=index.get("warc-target-uri"),
        date=_parse_date(index.get("warc-date")),
        block=data[start:end],
    )
    # the index ``header()`` would otherwise build again on first use
    vars(record)["_header_index"] = index
    return record, note


class _MemberReader:
    """Reads a record-compressed file one gzip member at a time; with ``hash_file``, hashing every
    byte of the file once (``verify_file`` reports the file's SHA-256; reading records does not
    need it)."""

    def __init__(self, fh: IO[bytes], name: str, *, hash_file: bool = False) -> None:
        self.fh = fh
        self.name = name
        self.buf = b""
        self.pos = 0  # file offset of buf[0]
        self.sha256 = hashlib.sha256() if hash_file else None
        self.hashed_to = 0

    def _read_chunk(self) -> bytes:
        at = self.pos + len(self.buf)
        self.fh.seek(at)
        chunk = self.fh.read(_CHUNK_BYTES)
        end = at + len(chunk)
        # Reading only ever goes forward or back over bytes already hashed, so this leaves no gap.
        if self.sha256 is not None and end > self.hashed_to:
            self.sha256.update(chunk[self.hashed_to - at :])
            self.hashed_to = end
        return chunk

    def seek(self, offset: int) -> None:
        self.buf = b""
        self.pos = offset

    def next_member(self) -> tuple[int, int, bytes] | None:
        """(offset, length, decompressed bytes) of the next member, or None at the end."""
        if len(self.buf) < len(_GZIP_MAGIC):
            self.buf += self._read_chunk()
            if not self.buf:
                return None
        start = self.pos
        if not self.buf.startswith(_GZIP_MAGIC):
            raise CaptureError(
                f"{self.name} at offset {start}: no gzip member starts there (found {self.buf[:8]!r}). "
                f"The file is damaged or is not a record-compressed WARC; {_RESTORE}.",
                warc_file=self.name,
                offset=start,
            )
        inflater = isal_zlib.decompressobj(31)
        parts: list[bytes] = []
        consumed = 0
        while True:
            try:
                parts.append(inflater.decompress(self.buf))
            except _InflateError as exc:
                raise CaptureError(
                    f"{self.name} at offset {start}: the gzip member there is corrupt ({exc}). The file "
                    f"changed after it was written; {_RESTORE}.",
                    warc_file=self.name,
                    offset=start,
                ) from exc
            if inflater.eof:
                rest = inflater.unused_data
                consumed += len(self.buf) - len(rest)
                self.buf = rest
                self.pos = start + consumed
                return start, consumed, b"".join(parts)
            consumed += len(self.buf)
            self.pos = start + consumed
            self.buf = b""
            self.buf = self._read_chunk()
            if not self.buf:
                raise CaptureError(
                    f"{self.name} at offset {start}: the file ends {consumed} bytes into this record's "
                    f"gzip member, which is cut short. The file was truncated (an interrupted copy or a "
                    f"full disk); {_RESTORE}.",
                    warc_file=self.name,
                    offset=start,
                )

    def resync(self, after: int) -> tuple[int, int, bytes] | None:
        """The first readable member holding a WARC record that starts after ``after``."""
        candidate = after + 1
        while (found := self._find_magic(candidate)) is not None:
            self.seek(found)
            try:
                member = self.next_member()
            except CaptureError:
                member = None
            if member is not None and member[2].startswith(b"WARC/"):
                return member
            candidate = found + 1
        return None

    def _find_magic(self, start: int) -> int | None:
        # Scan chunk by chunk, keeping only the last bytes of each, so memory stays bounded
        # however long the damaged stretch is.
        pos, tail = start, b""
        while True:
            self.seek(pos)
            chunk = self._read_chunk()
            if not chunk:
                return None
            window = tail + chunk
            hit = window.find(_GZIP_MAGIC)
            if hit != -1:
                return pos - len(tail) + hit
            tail = window[-(len(_GZIP_MAGIC) - 1) :]
            pos += len(chunk)


def _open(path: Path) -> IO[bytes]:
    try:
        return open(path, "rb")
    except OSError as exc:
        raise CaptureError(
            f"{path.name}: cannot open {path} ({exc.strerror or exc}). Fetch the file from the store "
            "(its name is in the catalog), then try again.",
            warc_file=path.name,
        ) from exc


def iter_records(path: Path, *, check_digests: bool = False, head_contains: tuple[bytes, ...] = ()) -> Iterator[ReadRecord]:
    """Every record of a WARC file in order, each with its pointer, streaming.

    Raises ``CaptureError`` at the first damaged member (``verify_file`` goes on past it), and
    with ``check_digests`` ``RecordDigestMismatch`` at the first record whose digests fail.
    With ``head_contains``, only the records whose WARC head holds each of those byte strings
    are parsed and yielded: a quick way to find a few records in a large file (every member is
    still decompressed, as that is the only way to find where the next one starts)::

        for record in iter_records(path, head_contains=(b"response", b"_media")):
            if record.rec_type == "response" and record.header("X-Sangrah-Endpoint") == "_media":
                ...
    """
    path = Path(path)
    with _open(path) as fh:
        members = _MemberReader(fh, path.name)
        while (member := members.next_member()) is not None:
            offset, length, data = member
            if head_contains:
                head_end = data.find(b"\r\n\r\n")
                # a member that is not a WARC record is parsed anyway, to raise as it should
                if head_end != -1 and data.startswith(b"WARC/") and any(data.find(part, 0, head_end) == -1 for part in head_contains):
                    continue
            record, _ = _parse_member(data, WarcPointer(path.name, offset, length))
            if check_digests:
                _raise_on_digest_problems(record)
            yield record


def _raise_on_digest_problems(record: ReadRecord) -> None:
    problems = record.digest_problems()
    if problems:
        p = record.pointer
        raise RecordDigestMismatch(
            f"{p.file} at offset {p.offset}: {'; '.join(problems)}. The record was altered after "
            f"capture; do not use it as evidence until you {_RESTORE}.",
            warc_file=p.file,
            offset=p.offset,
        )


def read_record(path: Path, offset: int, length: int) -> ReadRecord:
    """The record at ``offset`` (``length`` bytes of gzip member), its digests verified.

    Reads only those bytes. Raises ``RecordDigestMismatch`` when a digest fails and
    ``CaptureError`` when the bytes there are not one whole, readable record.
    """
    path = Path(path)
    raw = b""
    if offset >= 0 and length > 0:  # anything else is refused, with its reason, below
        with _open(path) as fh:
            fh.seek(offset)
            raw = fh.read(length)
    return record_from_bytes(raw, path.name, offset, length)


def record_from_bytes(raw: bytes, name: str, offset: int, length: int) -> ReadRecord:
    """The record in ``raw``, the ``length`` bytes read at ``offset`` of the WARC file ``name``
    (from a local file or a ranged read of an object), its digests verified as ``read_record``
    does. ``raw`` shorter than ``length`` means the file ends inside the record."""
    if offset < 0 or length <= 0:
        raise CaptureError(
            f"{name}: ({offset}, {length}) is not a record pointer; offsets start at 0 and lengths at 1.",
            warc_file=name,
            offset=offset,
        )
    if len(raw) < length:
        raise CaptureError(
            f"{name} at offset {offset}: the file ends at byte {offset + len(raw)}, {length - len(raw)} "
            f"bytes before the end of this record. The file is cut short; {_RESTORE}.",
            warc_file=name,
            offset=offset,
        )
    inflater = isal_zlib.decompressobj(31)
    try:
        data = inflater.decompress(raw)
    except _InflateError as exc:
        raise CaptureError(
            f"{name} at offset {offset}: the {length} bytes there are not a readable gzip member "
            f"({exc}). Either the pointer is wrong or the file changed after it was written; check the "
            f"pointer in the catalog, or {_RESTORE}.",
            warc_file=name,
            offset=offset,
        ) from exc
    if not inflater.eof or inflater.unused_data:
        where = "ends inside" if not inflater.eof else "runs past the end of"
        raise CaptureError(
            f"{name} at offset {offset}: a length of {length} {where} the gzip member there, so the "
            f"pointer does not match the file. Check the pointer in the catalog, or {_RESTORE}.",
            warc_file=name,
            offset=offset,
        )
    record, note = _parse_member(data, WarcPointer(name, offset, length))
    if note:
        raise CaptureError(
            f"{name} at offset {offset}: {note}; {_RESTORE}.",
            warc_file=name,
            offset=offset,
        )
    _raise_on_digest_problems(record)
    return record


def _unprefixed(exc: CaptureError, name: str) -> str:
    prefix = f"{name} at offset {exc.offset}: "
    return exc.message[len(prefix) :] if exc.message.startswith(prefix) else exc.message


def _scan(members: _MemberReader, name: str, pass_over: HeadTest | None = None) -> Iterator[ReadRecord | FileProblem | PassedRecord]:
    """Records in file order, and a ``FileProblem`` for each damaged stretch, going on past it;
    with ``pass_over``, a ``PassedRecord`` for each whole, unaltered record that it accepts."""
    member: tuple[int, int, bytes] | None
    while True:
        try:
            member = members.next_member()
        except CaptureError as exc:
            start = exc.offset or 0
            member = members.resync(start)
            resumed = f" Reading resumed at offset {member[0]}." if member else ""
            yield FileProblem(start, _unprefixed(exc, name) + resumed)
        if member is None:
            return
        offset, length, data = member
        if pass_over is not None and data.startswith(b"WARC/"):
            head_end = data.find(b"\r\n\r\n")
            if head_end != -1 and pass_over(data, head_end) and _whole_and_unaltered(data, head_end):
                yield PassedRecord(offset, offset + length)
                continue
        try:
            record, note = _parse_member(data, WarcPointer(name, offset, length))
        except CaptureError as exc:
            yield FileProblem(offset, _unprefixed(exc, name))
            continue
        if note:
            yield FileProblem(offset, f"{note}; {_RESTORE}.")
        yield record


def scan_records(path: Path, *, start_offset: int = 0, pass_over: HeadTest | None = None) -> Iterator[ReadRecord | FileProblem | PassedRecord]:
    """Every readable record from ``start_offset`` on, digests checked, and every problem.

    Unlike ``iter_records`` it does not stop at damage: a damaged member or a record whose
    digests fail is reported as a ``FileProblem`` (file offset and message) and reading goes
    on with the next good record, so one bad record never hides the rest of the file.

    ``pass_over(data, head_end)`` names records the caller has no use for, from the bytes of
    their WARC head (it must say False when unsure). Such a record, when it is whole and its
    block matches its WARC-Block-Digest, is given as a ``PassedRecord`` without being parsed;
    the block digest covers its payload too. Any other, and any record in doubt, is read and
    checked in full as usual, so damage is reported the same either way.
    """
    path = Path(path)
    with _open(path) as fh:
        members = _MemberReader(fh, path.name)
        members.seek(start_offset)
        for item in _scan(members, path.name, pass_over):
            if isinstance(item, ReadRecord):
                problems = item.digest_problems()
                if problems:
                    yield FileProblem(item.pointer.offset, f"{'; '.join(problems)}. The record was altered after capture; {_RESTORE}.")
                    continue
            yield item


def verify_file(path: Path) -> FileCheck:
    """Re-read every record, check its digests, and report every problem found.

    Does not stop at the first problem: after a damaged gzip member it looks for the next
    member that holds a WARC record and goes on from there.
    """
    path = Path(path)
    name = path.name
    problems: list[FileProblem] = []
    record_count = 0
    digests_checked = 0
    with _open(path) as fh:
        members = _MemberReader(fh, name, hash_file=True)
        assert members.sha256 is not None
        for item in _scan(members, name):
            if isinstance(item, FileProblem):
                problems.append(item)
                continue
            assert isinstance(item, ReadRecord), "verify_file reads every record in full"
            record_count += 1
            if item.header("WARC-Block-Digest") or item.header("WARC-Payload-Digest"):
                digests_checked += 1
            for message in item.digest_problems():
                problems.append(FileProblem(item.pointer.offset, f"{message}. The record was altered after capture; {_RESTORE}."))
        size = fh.seek(0, 2)
        if members.hashed_to < size:
            fh.seek(members.hashed_to)
            while chunk := fh.read(_CHUNK_BYTES):
                members.sha256.update(chunk)
    if record_count == 0 and not problems:
        problems.append(FileProblem(0, f"the file holds no records; {_RESTORE}."))
    return FileCheck(
        file=name,
        size_bytes=size,
        record_count=record_count,
        digests_checked=digests_checked,
        sha256=members.sha256.hexdigest(),
        problems=tuple(problems),
    )
