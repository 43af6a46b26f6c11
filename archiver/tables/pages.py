"""API responses → candidate rows, as Arrow record batches: the part of extraction that can run in
worker processes.

``parse_responses`` takes a few dozen API response records (as read, digests already checked),
parses each with its platform module and turns every post on it into its table row, version id
and retention tags included, one row per post in the order they came. It returns the rows as one
Arrow record batch, which crosses between processes as a few buffers, with the few values per row
that the comparison with the catalog needs as plain lists. It reads no catalog and no file: the
media pointers of the rows are filled in later, once the WARC file's media index is known
(``archiver.tables.media``), and whether a row is a new version is decided by the extraction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pyarrow as pa

from archiver.capture.reader import ReadRecord
from archiver.errors import PageParseError
from archiver.model import ApiRequest, WarcPointer
from archiver.platforms import get_platform
from archiver.retention import Schedule
from archiver.tables.rows import Capture, row_for, tag_row
from archiver.tables.schema import RECORD_SCHEMA

__all__ = ["ApiResponse", "ParsedPages", "parse_responses", "rows_to_batch", "month_of"]

#: a row's values in the order of the schema's columns
_VALUES = itemgetter(*RECORD_SCHEMA.names)


@dataclass(frozen=True, slots=True)
class ApiResponse:
    """One API response record to parse, and the ``X-Sangrah-*`` fields naming its call."""

    platform: str
    endpoint: str
    account: str
    target: str
    pointer: WarcPointer
    record_id: str
    captured_at: datetime
    target_uri: str
    block: bytes  #: the record block: HTTP head and payload

    @classmethod
    def of(cls, record: ReadRecord, platform: str, endpoint: str, account: str, captured_at: datetime) -> ApiResponse:
        return cls(platform, endpoint, account, record.header("X-Sangrah-Target") or "", record.pointer, record.record_id or "", captured_at, record.target_uri or "", record.block)


@dataclass(slots=True)
class ParsedPages:
    """The rows of a run of API responses, response after response.

    ``outcomes`` has one entry per response: the number of rows (posts) it gave, or, for a
    payload of an unknown shape, the parse error's message. The lists hold one value per row,
    in the order the rows came. The batch holds the rows partition after partition (platform,
    account, month), each partition's in the order they came: ``positions`` says where each
    row is in it, so that a partition's rows are taken out as one slice.
    """

    batch: pa.RecordBatch | None = None
    outcomes: list[int | str] = field(default_factory=list)
    record_ids: list[str] = field(default_factory=list)
    version_ids: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    by_department: list[bool] = field(default_factory=list)
    root_ids: list[str | None] = field(default_factory=list)
    created_at: list[datetime | None] = field(default_factory=list)
    months: list[str] = field(default_factory=list)  #: ``YYYY-MM`` of the row's partition
    positions: list[int] = field(default_factory=list)  #: the row's place in ``batch``


def parse_responses(responses: list[ApiResponse], harvest_id: str, schedule: Schedule) -> ParsedPages:
    """Parse each response with its platform module; every post on it becomes a tagged row."""
    out = ParsedPages()
    rows: list[dict[str, Any]] = []
    partitions: list[tuple[str, str, str]] = []
    for response in responses:
        url = urlsplit(response.target_uri)
        request = ApiRequest(response.endpoint, url.path, tuple(parse_qsl(url.query)), response.target)
        # a ReadRecord of the block alone: its payload and HTTP head are all the parser needs
        record = ReadRecord(response.pointer, "response", response.record_id, (), response.target_uri, response.captured_at, response.block)
        try:
            page = get_platform(response.platform).parse_page(request, record.payload, dict(record.http_headers))
        except PageParseError as exc:
            out.outcomes.append(exc.message)
            continue
        capture = Capture(
            account=response.account,
            account_native_id=response.account.split(":", 1)[1],
            captured_at=response.captured_at,
            pointer=response.pointer,
            warc_record_id=response.record_id,
            harvest_id=harvest_id,
        )
        start = len(rows)
        rows.extend(tag_row(row_for(post, capture), schedule) for post in page.posts)
        out.outcomes.append(len(page.posts))
        partitions.extend((response.platform, capture.account_native_id, month_of(row["created_at"] or row["captured_at"])) for row in rows[start:])
    if rows:
        # A post seen again in the same run with the same content (a thread's root, on each of its
        # pages) is no new version: such rows go last, so that the new versions of a partition are
        # one slice of the batch. The sort is stable: within each, rows stay in the order they came.
        latest: dict[str, str] = {}
        repeats: list[bool] = []
        for row in rows:
            repeats.append(latest.get(row["record_id"]) == row["version_id"])
            latest[row["record_id"]] = row["version_id"]
        order = sorted(range(len(rows)), key=lambda i: (repeats[i], partitions[i]))
        out.positions = [0] * len(rows)
        for position, index in enumerate(order):
            out.positions[index] = position
        out.batch = rows_to_batch([rows[index] for index in order])
        out.months = [partition[2] for partition in partitions]
        out.record_ids = [r["record_id"] for r in rows]
        out.version_ids = [r["version_id"] for r in rows]
        out.kinds = [r["kind"] for r in rows]
        out.by_department = [r["by_department"] for r in rows]
        out.root_ids = [r["root_id"] for r in rows]
        out.created_at = [r["created_at"] for r in rows]
    return out


def month_of(when: datetime) -> str:
    """``YYYY-MM`` of an instant (UTC): the month of its row's partition."""
    key = (when.year, when.month)
    month = _MONTHS.get(key)
    if month is None:
        month = _MONTHS[key] = f"{when:%Y-%m}"
    return month


_MONTHS: dict[tuple[int, int], str] = {}


def rows_to_batch(rows: list[dict[str, Any]]) -> pa.RecordBatch:
    """Rows (dicts of every column) as one record batch of the record schema."""
    # a column at a time, the values picked out in C: twice as quick as from_pylist
    columns = zip(*map(_VALUES, rows))
    return pa.RecordBatch.from_arrays([pa.array(column, type=f.type) for column, f in zip(columns, RECORD_SCHEMA)], schema=RECORD_SCHEMA)
