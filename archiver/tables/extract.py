"""Extraction: WARC files → the record dataset, one row per new version, streaming.

Published WARC files are read in the manifest's order, record by record (``scan_records``:
digests checked, damage reported and stepped over; the three records in four that make no row —
requests, media files and their links — are passed over unparsed once their block digest, which
covers their payload, is checked). Each API response — the request that
produced it is named in its ``X-Sangrah-*`` fields — goes, with a few dozen others, to a worker
process that parses it with its platform module and turns its posts into rows
(``archiver.tables.pages``); meanwhile this process reads on, and takes the rows back in the
order the responses came (``archiver.tables.workers``). Each post is then compared with its
latest version: this chunk's, else the catalog's, looked up a few thousand posts at a time.
Unchanged, a post makes no row; new or changed, it makes a version row beside the old ones. A
post's media may be stored after it, chunks later: a worker writes the file's media index
(``archiver.tables.media``) to disk while the rest is read, and a chunk's media pointers are
filled in from it when the chunk is written; once it is there, the next file's is written
while this one is read, so that the next file starts without waiting for its own.

Rows are written in chunks. A chunk's Parquet files are written as ``NAME.parquet.part``, entered in
the catalog (Parquet manifest, latest versions, how far the WARC file has been read) in one
transaction, and only then renamed into place. A killed extraction therefore leaves at most
``.part`` files, which no reader's ``*.parquet`` glob sees and which the next run finishes or removes; it resumes after the last committed chunk, so no row
is lost or written twice; a worker process that dies stops the extraction the same way, with an
error saying so. Memory is bounded by the chunk size, whatever the size of the archive: a chunk's
rows wait as Arrow record batches, only a few tasks are sent ahead, the media index is on disk,
and a chunk's files are written on a second thread while the catalog's part of the chunk is done
on this one. Whatever the number of workers, the dataset is the same.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import os
import tempfile
from collections import defaultdict, deque
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import bindparam, delete, insert, select, update

from archiver.capture.reader import FileProblem, PassedRecord, ReadRecord, scan_records
from archiver.catalog import Catalog, WarcRow
from archiver.catalog import tables as t
from archiver.errors import ExtractionError
from archiver.model import content_hash, utc
from archiver.retention import Schedule
from archiver.storage.local import fsync_dir
from archiver.tables.chunk import ChunkRows, Partition
from archiver.tables.media import MediaIndex, with_media_pointers
from archiver.tables.latest import Latest, read_latest, write_latest
from archiver.tables.pages import ApiResponse, ParsedPages, month_of, rows_to_batch
from archiver.tables.rows import tag_row
from archiver.tables.schema import SCHEMA_VERSION
from archiver.tables.workers import WorkerLost, Workers

__all__ = ["ExtractReport", "Problem", "extract_all", "dataset_files", "write_parquet", "deletion_row", "unused_record", "DEFAULT_CHUNK_ROWS", "DEFAULT_WORKERS"]

log = logging.getLogger(__name__)

T = TypeVar("T")

#: rows per chunk (and the most rows held in memory at once)
DEFAULT_CHUNK_ROWS = 20_000
#: worker processes parsing pages (0: parse in the extracting process)
DEFAULT_WORKERS = 2
#: rows per Parquet row group
ROW_GROUP_ROWS = 10_000
#: posts parsed before their latest versions are looked up in the catalog, in one query
_LOOKUP_POSTS = 2_000
#: API payload bytes, and API responses, sent to a worker in one task
_TASK_BYTES = 1 << 20
_TASK_RESPONSES = 64
#: tasks sent ahead of the one whose rows are being compared, per worker
_AHEAD_PER_WORKER = 3
#: built once: a statement built for each chunk would hold its list of paths in reference cycles
_PUBLISH = update(t.parquet_files).where(t.parquet_files.c.path.in_(bindparam("paths", expanding=True))).values(status="published")
#: unfinished files end in this, so that no ``*.parquet`` glob (DuckDB's, pyarrow's) sees them
_PART = ".part"


@dataclass(frozen=True, slots=True)
class Problem:
    """A WARC record that yielded no rows and needs a person to look at it."""

    warc_file: str
    offset: int
    message: str
    platform: str | None = None
    endpoint: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"warc_file": self.warc_file, "offset": self.offset, "message": self.message, "platform": self.platform, "endpoint": self.endpoint}


@dataclass(slots=True)
class PlatformCounts:
    records: int = 0  #: posts and replies seen in the responses read
    new_versions: int = 0  #: rows written
    deletions: int = 0


@dataclass(slots=True)
class ExtractReport:
    platforms: dict[str, PlatformCounts] = field(default_factory=lambda: defaultdict(PlatformCounts))
    warc_files: int = 0
    parquet_files: int = 0
    problems: list[Problem] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)
    retagged: Any = None  #: the RetagReport of the re-tagging that followed, if any
    locked: Any = None  #: the LockReport of the retention extended on an object store, if any

    @property
    def rows(self) -> int:
        return sum(c.new_versions for c in self.platforms.values())


ProgressFn = Callable[[str, int, ExtractReport], None]


def dataset_files(root: Path) -> list[Path]:
    """The dataset's published Parquet files (unfinished ``.part`` files are not among them)."""
    return sorted(root.rglob("*.parquet"))


def extract_all(
    catalog: Catalog,
    warc_path: Callable[[str], Path],
    root: Path,
    schedule: Schedule,
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    workers: int = DEFAULT_WORKERS,
    progress: ProgressFn | None = None,
    only: Collection[str] | None = None,
    local_path: Callable[[str], Path | None] | None = None,
) -> ExtractReport:
    """Extract every published WARC file not yet (wholly) extracted into the dataset at ``root``
    (of the files named in ``only``, when given).

    Every row is tagged with ``schedule``; files whose tags come from another schedule are
    re-tagged (``retag``) so that the whole dataset agrees with the schedule in force. Pages are
    parsed by ``workers`` worker processes (none: in this one); ``progress`` is called after
    every chunk and every file. ``warc_path`` gives a file to read, fetching it if need be;
    ``local_path``, when given, a file already on this machine without fetching it (None when
    it is not): the next file's media index is then written while this one is read.
    """
    report = ExtractReport()
    root.mkdir(parents=True, exist_ok=True)
    report.recovered = _recover(catalog, root)
    with catalog.engine.connect() as conn:
        done = {row.warc_file: row for row in conn.execute(select(t.extractions))}
    todo = [
        warc
        for warc in catalog.iter_warcs(status="published")
        if not (warc.name in done and done[warc.name].complete) and (only is None or warc.name in only)
    ]
    if not todo:
        return report
    with _fewer_collections(), Workers(workers, schedule) as pool, tempfile.TemporaryDirectory(prefix="sangrah-extract-") as scratch:
        indexes = _MediaIndexes(pool, Path(scratch))
        try:
            for position, warc in enumerate(todo):
                state = done.get(warc.name)
                following = todo[position + 1] if position + 1 < len(todo) else None

                def read_ahead(following: WarcRow | None = following) -> None:
                    # The pass over a whole file takes a worker a few seconds: the next file's is
                    # done while this one is read, not while the extraction waits for it.
                    if following is not None and local_path is not None and (path := local_path(following.store_key)) is not None:
                        indexes.start(following.name, path)

                path = warc_path(warc.store_key)
                extraction = _Extraction(catalog, root, warc.name, warc.harvest_id, chunk_rows, report, schedule, pool, indexes.start(warc.name, path), read_ahead, progress)
                try:
                    extraction.run(path, state.offset_done if state else 0, state.rows if state else 0)
                finally:
                    indexes.remove(warc.name)
                report.warc_files += 1
                if progress:
                    progress(warc.name, report.rows, report)
        finally:
            indexes.close()
    return report


class _MediaIndexes:
    """The media indexes of the WARC files being extracted, each written by a worker into the
    scratch folder (``write_media_index``), at most once per file."""

    def __init__(self, workers: Workers, scratch: Path) -> None:
        self.workers = workers
        self.scratch = scratch
        self.started: dict[str, tuple[Path, Future[int]]] = {}

    def start(self, warc_name: str, warc: Path) -> tuple[Path, Future[int]]:
        """The file's index and the future of its writing, started now unless it already was."""
        if warc_name not in self.started:
            index = self.scratch / f"{warc_name}.media.sqlite"
            self.started[warc_name] = (index, self.workers.write_media_index(warc, index))
        return self.started[warc_name]

    def remove(self, warc_name: str) -> None:
        index, writing = self.started.pop(warc_name)
        wait([writing])  # never remove a file a worker is writing
        index.unlink(missing_ok=True)

    def close(self) -> None:
        for name in list(self.started):
            self.remove(name)


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Let the garbage collector run less often while extracting, as it is then mostly wasted.

    Parsing makes millions of short-lived objects, and at the default threshold (a young
    collection every 700 allocations, a full one every hundred of those) the collector ran
    for about a sixth of an extraction, mostly walking objects that were there before it
    started and will be there after. Those are frozen (out of its sight), and young
    collections come every 50,000 allocations: cyclic garbage stays bounded by that.
    """
    threshold = gc.get_threshold()
    gc.freeze()
    if threshold[0]:  # 0: the process has turned collection off, and it stays off
        gc.set_threshold(max(threshold[0], 50_000), *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def unused_record(data: bytes, head_end: int) -> bool:
    """Is this a record extraction takes nothing from, as our writer spells its WARC head?

    Requests, responses for media files, and metadata other than harvest windows (the media
    links, read by the media index's own pass) are three records in four of a harvest; they are
    passed over once their block digest is checked, unparsed. Any other spelling is read in full.
    """
    if data.find(b"\r\nWARC-Type: request\r\n", 0, head_end) != -1:
        return True
    if data.find(b"\r\nWARC-Type: metadata\r\n", 0, head_end) != -1:
        return data.find(b"urn:sangrah:harvest:", 0, head_end) == -1
    return data.find(b"\r\nX-Sangrah-Endpoint: _", 0, head_end) != -1 and data.find(b"\r\nWARC-Type: response\r\n", 0, head_end) != -1


@dataclass(frozen=True, slots=True)
class _Page:
    """An API response read, whose rows are being parsed by a worker."""

    platform: str
    endpoint: str
    account: str
    walk: str | None
    captured_at: datetime
    offset: int
    end: int  #: where the record after it starts


#: What a task holds, in file order: an API response sent to be parsed, a harvest window
#: (``ReadRecord``), damage found by the reader, or the end offset of records that make no row.
_Event = _Page | ReadRecord | FileProblem | int


@dataclass(slots=True)
class _Task:
    """A run of records, and the future rows of the API responses among them."""

    events: list[_Event] = field(default_factory=list)
    responses: list[ApiResponse] = field(default_factory=list)
    payload_bytes: int = 0
    parsed: Future[ParsedPages] | None = None

    @property
    def full(self) -> bool:
        return self.payload_bytes >= _TASK_BYTES or len(self.responses) >= _TASK_RESPONSES

    def skip_to(self, end: int) -> None:
        # records that make no row only move the offset read up to: one event for a run of them
        if self.events and isinstance(self.events[-1], int):
            self.events[-1] = end
        else:
            self.events.append(end)


@dataclass(frozen=True, slots=True)
class _Pending:
    """A page whose rows wait to be compared with their latest versions."""

    page: _Page
    parsed: ParsedPages
    start: int  #: its first row in ``parsed``
    stop: int


class _Extraction:
    def __init__(
        self,
        catalog: Catalog,
        root: Path,
        warc_name: str,
        harvest_id: str,
        chunk_rows: int,
        report: ExtractReport,
        schedule: Schedule,
        workers: Workers,
        media_index: tuple[Path, Future[int]],
        read_ahead: Callable[[], None],
        progress: ProgressFn | None,
    ) -> None:
        self.schedule = schedule
        self.catalog = catalog
        self.root = root
        self.warc_name = warc_name
        self.harvest_id = harvest_id
        self.chunk_rows = chunk_rows
        self.report = report
        self.workers = workers
        self.media_index = media_index  #: the file's media index, and the future of its writing
        self.read_ahead = read_ahead  #: called once the media index is read
        self.progress = progress
        self.rows = ChunkRows()
        self.touched: dict[str, Latest] = {}  # records seen or changed in this chunk
        self.pending: list[_Pending] = []  # pages parsed, their posts not yet compared
        self.pending_posts = 0
        self.problems: list[Problem] = []
        self.chunk_start = 0  #: offset of the first record of the chunk being gathered
        self.offset_done = 0  #: offset of the record after the last one taken in
        self.total_rows = 0
        self.media: MediaIndex | None = None

    def run(self, path: Path, start_offset: int, rows_before: int) -> None:
        try:
            # a thread writes the chunk's Parquet files while this one updates the catalog
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="write-parquet") as self.writers:
                self._read(path, start_offset, rows_before)
        finally:
            if self.media is not None:
                self.media.close()

    def _read(self, path: Path, start_offset: int, rows_before: int) -> None:
        self.total_rows = rows_before
        self.offset_done = self.chunk_start = start_offset
        ahead: deque[_Task] = deque()
        most_ahead = max(1, self.workers.count) * _AHEAD_PER_WORKER
        task = _Task()
        for record in scan_records(path, start_offset=start_offset, pass_over=unused_record):
            if isinstance(record, PassedRecord):
                task.skip_to(record.end)
            elif isinstance(record, FileProblem):
                task.events.append(record)
            elif record.rec_type == "metadata" and (record.target_uri or "").startswith("urn:sangrah:harvest:"):
                task.events.append(record)
            elif not self._take_response(record, task):
                task.skip_to(record.pointer.offset + record.pointer.length)
            if task.full:
                ahead.append(self._send(task))
                task = _Task()
                while len(ahead) > most_ahead:
                    self._take_in(ahead.popleft())
        ahead.append(self._send(task))
        while ahead:
            self._take_in(ahead.popleft())
        self._commit(complete=True)

    def _take_response(self, record: ReadRecord, task: _Task) -> bool:
        """Add the record to the task if it is an API response to parse."""
        if record.rec_type != "response" or record.http_status != 200:
            return False
        endpoint = record.header("X-Sangrah-Endpoint")
        platform = record.header("X-Sangrah-Platform")
        account = record.header("X-Sangrah-Account")
        if not endpoint or not platform or not account or endpoint.startswith("_"):
            return False
        pointer = record.pointer
        captured_at = record.date or datetime.now(timezone.utc)
        task.events.append(_Page(platform, endpoint, account, record.header("X-Sangrah-Walk"), captured_at, pointer.offset, pointer.offset + pointer.length))
        task.responses.append(ApiResponse.of(record, platform, endpoint, account, captured_at))
        task.payload_bytes += len(record.block)
        return True

    def _send(self, task: _Task) -> _Task:
        if task.responses:
            task.parsed = self.workers.parse(task.responses, self.harvest_id)
            task.responses = []
        return task

    def _result(self, future: Future[T]) -> T:
        try:
            return future.result()
        except WorkerLost as exc:
            raise ExtractionError(
                f"{self.warc_name}: the {exc} while parsing pages after offset {self.offset_done}. Nothing after the "
                "last committed chunk was written; run `sangrah extract` again to resume from there. If it happens again "
                "(out of memory?), set `tables.workers: 0` in the config to parse in the extracting process.",
                warc_file=self.warc_name,
                offset=self.offset_done,
            ) from exc

    # -- one run of records, in file order ------------------------------------------------------
    def _take_in(self, task: _Task) -> None:
        parsed = self._result(task.parsed) if task.parsed is not None else None
        response = row = 0
        for event in task.events:
            if isinstance(event, int):
                self.offset_done = event
                continue  # nothing has changed since the last record: nothing to compare or commit
            if isinstance(event, FileProblem):
                self.problems.append(Problem(self.warc_name, event.offset, event.message))
                log.error("unreadable record warc_file=%s offset=%d problem=%s", self.warc_name, event.offset, event.message)
                continue
            if isinstance(event, ReadRecord):
                # the sightings before a window's end must be in the catalog to judge what is gone
                self._commit(complete=False)
                self._deletions(event)
                self.offset_done = event.pointer.offset + event.pointer.length
            else:
                assert parsed is not None, "a task with pages has their rows"
                outcome = parsed.outcomes[response]
                response += 1
                if isinstance(outcome, str):
                    # quarantined: named here, kept in the catalog for follow-up, never silently dropped
                    self.problems.append(Problem(self.warc_name, event.offset, outcome, event.platform, event.endpoint))
                    log.error("unparseable page warc_file=%s offset=%d platform=%s endpoint=%s", self.warc_name, event.offset, event.platform, event.endpoint)
                else:
                    self.report.platforms[event.platform].records += outcome
                    if outcome:
                        self.pending.append(_Pending(event, parsed, row, row + outcome))
                        self.pending_posts += outcome
                        row += outcome
                self.offset_done = event.end
            # Compare the waiting posts when they are many, or when they could fill the chunk:
            # the chunk then ends after the same record as if every page were compared at once.
            waiting = self.pending_posts
            if waiting >= _LOOKUP_POSTS or len(self.rows) + waiting >= self.chunk_rows or len(self.touched) + waiting >= self.chunk_rows:
                self._compare()
            if len(self.rows) >= self.chunk_rows or len(self.touched) >= self.chunk_rows:
                self._commit(complete=False)

    def _compare(self) -> None:
        """Compare the waiting posts, in the order they came, with their latest versions (this
        chunk's, else the catalog's, looked up in one go); a new or changed post makes a row."""
        if not self.pending:
            return
        touched = self.touched
        stored = self._stored({key for p in self.pending for key in p.parsed.record_ids[p.start : p.stop] if key not in touched})
        kept: dict[Partition, list[int]] = defaultdict(list)  # rows of ``source`` that are new versions
        source: ParsedPages | None = None
        for pending in self.pending:
            if pending.parsed is not source:
                self._keep(source, kept)
                source, kept = pending.parsed, defaultdict(list)
            parsed, page = pending.parsed, pending.page
            account, captured_at, walk = page.account, page.captured_at, page.walk
            native = account.split(":", 1)[1]
            counts = self.report.platforms[page.platform]
            ids, versions, months, positions = parsed.record_ids, parsed.version_ids, parsed.months, parsed.positions
            for i in range(pending.start, pending.stop):
                key = ids[i]
                version = versions[i]
                previous = touched.get(key) or stored.get(key)
                changed = previous is None or previous.version_id != version
                touched[key] = Latest(
                    version_id=version,
                    captured_at=captured_at if changed or previous is None else previous.captured_at,
                    versions=(previous.versions if previous else 0) + (1 if changed else 0),
                    deleted=False,
                    account=account,
                    kind=parsed.kinds[i],
                    by_department=parsed.by_department[i],
                    root_id=parsed.root_ids[i],
                    created_at=parsed.created_at[i],
                    last_walk=walk or (previous.last_walk if previous else None),
                    in_catalog=previous is not None and previous.in_catalog,
                )
                if changed:
                    kept[(page.platform, native, months[i])].append(positions[i])
                    counts.new_versions += 1
        self._keep(source, kept)
        self.pending = []
        self.pending_posts = 0

    def _keep(self, source: ParsedPages | None, kept: dict[Partition, list[int]]) -> None:
        """Add these rows of ``source`` to the chunk: by partition, their places in its batch, in
        the order the rows came."""
        if source is None or source.batch is None:
            return
        for partition, positions in kept.items():
            self.rows.add_rows(source.batch, positions, partition)

    def _deletions(self, record: ReadRecord) -> None:
        """At a window's end: the records the platform said are gone, and, after a complete
        window, those it was in a position to return again and did not."""
        window = orjson.loads(record.payload)
        if window.get("type") != "harvest-window":
            return
        account, walk, platform = window["account"], window.get("walk_id"), window["platform"]
        gaps = (window.get("coverage") or {}).get("gaps", [])
        rv = t.record_versions
        queries = []
        # a 404 on a post's own thread, or a post the platform lists as an error: it says so itself
        named = sorted({f"{platform}:{g['target']}" for g in gaps if g.get("cause") == "not_found" and g.get("target")})
        if named:
            queries.append(select(rv).where(rv.c.record_id.in_(named), rv.c.deleted.is_(False)))
        # any gap but "not_found" means something was missed, and a miss is not a deletion
        start_text = (window.get("window") or {}).get("start")
        if window.get("status") == "ok" and walk and start_text and all(g.get("cause") == "not_found" for g in gaps):
            start = datetime.fromisoformat(start_text)
            relisted_roots = (
                select(rv.c.record_id).where(rv.c.account == account, rv.c.last_walk == walk, rv.c.root_id.is_(None), rv.c.created_at >= start)
            ).scalar_subquery()
            queries.append(
                select(rv).where(
                    rv.c.account == account,
                    rv.c.deleted.is_(False),
                    (rv.c.last_walk != walk) | rv.c.last_walk.is_(None),
                    ((rv.c.root_id.is_(None) & (rv.c.created_at >= start)) | rv.c.root_id.in_(relisted_roots)),
                )
            )
        seen_at = record.date or datetime.now(timezone.utc)
        gone: dict[str, Any] = {}
        with self.catalog.engine.connect() as conn:
            for query in queries:
                for r in conn.execute(query):
                    gone.setdefault(r.record_id, r)
        rows: dict[Partition, list[dict[str, Any]]] = defaultdict(list)
        for r in gone.values():
            if r.record_id in self.touched and self.touched[r.record_id].deleted:
                continue
            record_platform = r.record_id.split(":", 1)[0]
            created = r.created_at and utc(r.created_at)
            row = tag_row(deletion_row(r.record_id, record_platform, r.account, r.kind, r.by_department, r.root_id, created, seen_at, record, self.harvest_id), self.schedule)
            rows[(record_platform, r.account.split(":", 1)[1], month_of(row["created_at"] or row["captured_at"]))].append(row)
            self.touched[r.record_id] = Latest(row["version_id"], seen_at, r.versions + 1, True, r.account, r.kind, r.by_department, r.root_id, created, r.last_walk, in_catalog=True)
            self.report.platforms[record_platform].deletions += 1
            self.report.platforms[record_platform].new_versions += 1
        for partition, some in rows.items():
            self.rows.add(partition, rows_to_batch(some))

    def _stored(self, record_ids: set[str]) -> dict[str, Latest]:
        """The latest version the catalog holds of each of these records."""
        if not record_ids:
            return {}
        with self.catalog.engine.connect() as conn:
            return read_latest(conn, record_ids)

    # -- one chunk ----------------------------------------------------------------------------
    def _commit(self, *, complete: bool) -> None:
        self._compare()
        offset_done = self.offset_done
        now = datetime.now(timezone.utc)
        self.total_rows += len(self.rows)
        stem = self.warc_name.removesuffix(".warc.gz")
        # named by the WARC file and the offset its chunk starts at: unique, and the same name
        # whenever the same chunk is extracted again
        parts = [
            self.writers.submit(self._write_part, key, rows, f"{stem}-{self.chunk_start:012d}-{serial:03d}.parquet")
            for serial, (key, rows) in enumerate(self.rows.by_partition(self._with_media_pointers) if self.rows else [])
        ]
        written: list[dict[str, Any]] = []
        try:
            with self.catalog.engine.begin() as conn:
                # the catalog's part first, while the files are written: it commits once they are
                write_latest(conn, self.touched)
                conn.execute(delete(t.extractions).where(t.extractions.c.warc_file == self.warc_name))
                conn.execute(
                    insert(t.extractions).values(
                        warc_file=self.warc_name,
                        offset_done=offset_done,
                        complete=complete,
                        rows=self.total_rows,
                        problems=[p.to_json() for p in self.problems],
                        updated_at=now,
                    )
                )
                written = [part.result() for part in parts]
                for part in written:
                    conn.execute(insert(t.parquet_files).values(**part["manifest"], status="pending", created_at=now))
        finally:
            wait(parts)  # never leave a file being written behind a failed chunk
        for part in written:
            os.replace(part["temp"], part["final"])
        for folder in dict.fromkeys(part["final"].parent for part in written):
            fsync_dir(folder)
        if written:
            with self.catalog.engine.begin() as conn:
                conn.execute(_PUBLISH, {"paths": [p["manifest"]["path"] for p in written]})
        self.report.parquet_files += len(written)
        if complete:
            self.report.problems.extend(self.problems)
        self.rows = ChunkRows()
        self.touched = {}
        self.chunk_start = offset_done
        if self.progress:
            self.progress(self.warc_name, self.report.rows, self.report)

    def _with_media_pointers(self, tables: list[pa.Table]) -> list[pa.Table]:
        if self.media is None:
            # written from the whole file while it is read: a page's media are stored after it, perhaps chunks later
            index, writing = self.media_index
            self._result(writing)
            self.media = MediaIndex(self.warc_name, index)
            self.read_ahead()
        return with_media_pointers(tables, self.media)

    def _write_part(self, partition: Partition, table: pa.Table, name: str) -> dict[str, Any]:
        """Write one partition's rows of the chunk as ``NAME.parquet.part`` (on a pool thread)."""
        platform, account, month = partition
        folder = self.root / f"platform={platform}" / f"account={quote(account, safe='')}" / f"month={month}"
        folder.mkdir(parents=True, exist_ok=True)
        final = folder / name
        temp = folder / f"{name}{_PART}"
        digest = write_parquet(table, temp, self.schedule.fingerprint)
        return {
            "temp": temp,
            "final": final,
            "manifest": {
                "path": final.relative_to(self.root).as_posix(),
                "rows": table.num_rows,
                "size_bytes": temp.stat().st_size,
                "sha256": digest,
                "warc_file": self.warc_name,
                "schema_version": SCHEMA_VERSION,
                "schedule_fingerprint": self.schedule.fingerprint,
            },
        }




def write_parquet(table: pa.Table, path: Path, fingerprint: str) -> str:
    """Write and fsync one file of the dataset, naming the retention schedule of its tags; the
    file's SHA-256 (read back a block at a time: the file is never held whole in memory)."""
    metadata = {**(table.schema.metadata or {}), b"sangrah.retention_fingerprint": fingerprint.encode()}
    pq.write_table(table.replace_schema_metadata(metadata), path, row_group_size=ROW_GROUP_ROWS, compression="zstd")
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())
        handle.seek(0)
        return hashlib.file_digest(handle, "sha256").hexdigest()


def deletion_row(
    record_id: str,
    platform: str,
    account: str,
    kind: str,
    by_department: bool,
    root_id: str | None,
    created_at: datetime | None,
    seen_at: datetime,
    window: ReadRecord,
    harvest_id: str,
) -> dict[str, Any]:
    """The version row saying a record is no longer on the platform; its evidence is the window
    record of the complete capture that did not return it."""
    return {
        "record_id": record_id,
        "version_id": content_hash({"record_id": record_id, "deleted": True}),
        "platform": platform,
        "account": account,
        "author_id": None,
        "author_handle": None,
        "author_name": None,
        "by_department": by_department,
        "kind": kind,
        "parent_id": None,
        "root_id": root_id,
        "created_at": created_at,
        "captured_at": seen_at,
        "text": "",
        "language": None,
        "mentions": [],
        "hashtags": [],
        "links": [],
        "media": [],
        "url": None,
        "counters": [],
        "reply_count": None,
        "edited_at": None,
        "deleted_on_platform": True,
        "deleted_seen_at": seen_at,
        "warc_file": window.pointer.file,
        "warc_offset": window.pointer.offset,
        "warc_length": window.pointer.length,
        "warc_record_id": window.record_id or "",
        "harvest_id": harvest_id,
        "retention_series": None,
        "retention_class": None,
        "retention_until": None,
        "schema_version": SCHEMA_VERSION,
    }


def _recover(catalog: Catalog, root: Path) -> list[str]:
    """Finish what a killed extraction left: rename entered files, remove unentered ones."""
    notes = []
    with catalog.engine.connect() as conn:
        pending = {r.path for r in conn.execute(select(t.parquet_files.c.path).where(t.parquet_files.c.status == "pending"))}
    for temp in sorted(root.rglob(f"*.parquet{_PART}")):
        final = temp.with_name(temp.name.removesuffix(_PART))
        relative = final.relative_to(root).as_posix()
        if relative in pending:
            os.replace(temp, final)
            notes.append(f"published {relative}, entered by an interrupted extraction")
        else:
            temp.unlink()
            notes.append(f"removed {temp.relative_to(root).as_posix()}, left unfinished by an interrupted extraction")
    if pending:
        with catalog.engine.begin() as conn:
            conn.execute(update(t.parquet_files).where(t.parquet_files.c.path.in_(sorted(pending))).values(status="published"))
    for note in notes:
        log.warning("recovery %s", note)
    return notes


