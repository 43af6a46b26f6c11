"""Extraction: WARC files → the record dataset, one row per new version, streaming.

Published WARC files are read in the manifest's order. A quick first pass over a file finds its
media records (the others are decompressed, not parsed), so that a post's media can point at the
copies stored with it wherever in the file they are. The main pass reads it record by record
(``scan_records``: digests checked, damage reported and stepped over). Each API response is
parsed again with its platform module — the request that produced it is named in its
``X-Sangrah-*`` fields — and each post on it is compared with its latest version: this chunk's,
else the catalog's, looked up a few thousand posts at a time. Unchanged, a post makes no row;
new or changed, it makes a version row beside the old ones.

Rows are written in chunks. A chunk's Parquet files are written as ``NAME.parquet.part``, entered in
the catalog (Parquet manifest, latest versions, how far the WARC file has been read) in one
transaction, and only then renamed into place. A killed extraction therefore leaves at most
``.part`` files, which no reader's ``*.parquet`` glob sees and which the next run finishes or removes; it resumes after the last committed chunk, so no row
is lost or written twice. Memory is bounded by the chunk size, whatever the size of the archive:
a chunk's rows wait as Arrow record batches, and its files are written on a second thread while
the catalog's part of the chunk is done on this one.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import os
from collections import defaultdict
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from operator import itemgetter
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import delete, insert, select, update

from archiver.capture.reader import FileProblem, ReadRecord, iter_records, scan_records
from archiver.catalog import Catalog
from archiver.catalog import tables as t
from archiver.errors import CaptureError, PageParseError
from archiver.model import ApiRequest, Post, WarcPointer, content_hash
from archiver.platforms import get_platform
from archiver.storage.local import fsync_dir
from archiver.retention import Schedule
from archiver.tables.rows import Capture, row_for, tag_row
from archiver.tables.schema import RECORD_SCHEMA, SCHEMA_VERSION

__all__ = ["ExtractReport", "Problem", "extract_all", "dataset_files", "write_parquet"]

log = logging.getLogger(__name__)

#: rows per chunk (and the most rows held in memory at once)
DEFAULT_CHUNK_ROWS = 20_000
#: rows per Parquet row group
ROW_GROUP_ROWS = 10_000
#: posts parsed before their latest versions are looked up in the catalog, in one query
_LOOKUP_POSTS = 2_000
#: rows held as Python dicts before they become one Arrow record batch
_BATCH_ROWS = 4_096
#: unfinished files end in this, so that no ``*.parquet`` glob (DuckDB's, pyarrow's) sees them
_PART = ".part"
#: a row's values in the order of the schema's columns
_VALUES = itemgetter(*RECORD_SCHEMA.names)

#: where a row goes: platform, account native id, month (``YYYY-MM``)
_Partition = tuple[str, str, str]


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
    progress: ProgressFn | None = None,
    only: Collection[str] | None = None,
) -> ExtractReport:
    """Extract every published WARC file not yet (wholly) extracted into the dataset at ``root``
    (of the files named in ``only``, when given).

    Every row is tagged with ``schedule``; files whose tags come from another schedule are
    re-tagged (``retag``) so that the whole dataset agrees with the schedule in force.
    """
    report = ExtractReport()
    root.mkdir(parents=True, exist_ok=True)
    report.recovered = _recover(catalog, root)
    with catalog.engine.connect() as conn:
        done = {row.warc_file: row for row in conn.execute(select(t.extractions))}
    with _fewer_collections():
        for warc in catalog.iter_warcs(status="published"):
            state = done.get(warc.name)
            if (state is not None and state.complete) or (only is not None and warc.name not in only):
                continue
            _Extraction(catalog, root, warc.name, warc.harvest_id, chunk_rows, report, schedule).run(warc_path(warc.store_key), state.offset_done if state else 0, state.rows if state else 0)
            report.warc_files += 1
            if progress:
                progress(warc.name, report.rows, report)
    return report


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


@dataclass(slots=True)
class _Known:
    """What the catalog keeps of a record's latest version (``record_versions``)."""

    version_id: str
    captured_at: datetime
    versions: int
    deleted: bool
    account: str
    kind: str
    by_department: bool
    root_id: str | None
    created_at: datetime | None
    last_walk: str | None


@dataclass(frozen=True, slots=True)
class _PageCapture:
    """A parsed page whose posts wait to be compared with their latest versions."""

    platform: str
    capture: Capture
    walk: str | None
    posts: tuple[Post, ...]


class _ChunkRows:
    """The rows of the chunk being gathered, by partition, in the order they came.

    Rows come in as dicts and are turned into Arrow record batches every ``_BATCH_ROWS``: a
    fraction of the memory, and nothing for the garbage collector to walk again and again.
    """

    def __init__(self) -> None:
        self.dicts: dict[_Partition, list[dict[str, Any]]] = defaultdict(list)
        self.batches: dict[_Partition, list[pa.RecordBatch]] = defaultdict(list)
        self.waiting = 0  #: rows still dicts
        self.count = 0

    def __len__(self) -> int:
        return self.count

    def append(self, row: dict[str, Any]) -> None:
        when = row["created_at"] or row["captured_at"]
        self.dicts[(row["platform"], row["account"].split(":", 1)[1], f"{when:%Y-%m}")].append(row)
        self.count += 1
        self.waiting += 1
        if self.waiting >= _BATCH_ROWS:
            self._to_arrow()

    def _to_arrow(self) -> None:
        for partition, rows in self.dicts.items():
            # a column at a time, the values picked out in C: twice as quick as from_pylist
            columns = zip(*map(_VALUES, rows))
            arrays = [pa.array(column, type=f.type) for column, f in zip(columns, RECORD_SCHEMA)]
            self.batches[partition].append(pa.RecordBatch.from_arrays(arrays, schema=RECORD_SCHEMA))
        self.dicts.clear()
        self.waiting = 0

    def by_partition(self) -> list[tuple[_Partition, pa.Table]]:
        """Each partition and its rows, partition by partition."""
        self._to_arrow()
        return [(partition, pa.Table.from_batches(batches, schema=RECORD_SCHEMA)) for partition, batches in sorted(self.batches.items())]


class _Extraction:
    def __init__(self, catalog: Catalog, root: Path, warc_name: str, harvest_id: str, chunk_rows: int, report: ExtractReport, schedule: Schedule) -> None:
        self.schedule = schedule
        self.catalog = catalog
        self.root = root
        self.warc_name = warc_name
        self.harvest_id = harvest_id
        self.chunk_rows = chunk_rows
        self.report = report
        self.rows = _ChunkRows()
        self.touched: dict[str, _Known] = {}  # records seen or changed in this chunk
        self.pending: list[_PageCapture] = []  # pages parsed, their posts not yet compared
        self.pending_posts = 0
        self.problems: list[Problem] = []
        self.chunk_start = 0  #: offset of the first record of the chunk being gathered
        self.total_rows = 0
        self.media: dict[str, tuple[WarcPointer, str]] = {}  # URL → where the file stores it

    def run(self, path: Path, start_offset: int, rows_before: int) -> None:
        # from the whole file: a page's media are stored after it, perhaps chunks later
        self.media = _media_pointers(path)
        # a thread writes the chunk's Parquet files while this one updates the catalog
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="write-parquet") as self.writers:
            self._read(path, start_offset, rows_before)

    def _read(self, path: Path, start_offset: int, rows_before: int) -> None:
        self.total_rows = rows_before
        offset_done = self.chunk_start = start_offset
        for record in scan_records(path, start_offset=start_offset):
            if isinstance(record, FileProblem):
                self.problems.append(Problem(self.warc_name, record.offset, record.message))
                log.error("unreadable record warc_file=%s offset=%d problem=%s", self.warc_name, record.offset, record.message)
                continue
            if record.rec_type == "metadata" and (record.target_uri or "").startswith("urn:sangrah:harvest:"):
                # the sightings before a window's end must be in the catalog to judge what is gone
                self._commit(offset_done, complete=False)
                self._deletions(record)
            else:
                self._record(record)
            offset_done = record.pointer.offset + record.pointer.length
            # Compare the waiting posts when they are many, or when they could fill the chunk:
            # the chunk then ends after the same record as if every page were compared at once.
            waiting = self.pending_posts
            if waiting >= _LOOKUP_POSTS or len(self.rows) + waiting >= self.chunk_rows or len(self.touched) + waiting >= self.chunk_rows:
                self._compare()
            if len(self.rows) >= self.chunk_rows or len(self.touched) >= self.chunk_rows:
                self._commit(offset_done, complete=False)
        self._commit(offset_done, complete=True)

    # -- one response -------------------------------------------------------------------------
    def _record(self, record: ReadRecord) -> None:
        if record.rec_type != "response" or record.http_status != 200:
            return
        endpoint = record.header("X-Sangrah-Endpoint")
        platform = record.header("X-Sangrah-Platform")
        account = record.header("X-Sangrah-Account")
        if not endpoint or not platform or not account or endpoint.startswith("_"):
            return
        url = urlsplit(record.target_uri or "")
        request = ApiRequest(endpoint, url.path, tuple(parse_qsl(url.query)), record.header("X-Sangrah-Target") or "")
        try:
            page = get_platform(platform).parse_page(request, record.payload, dict(record.http_headers))
        except PageParseError as exc:
            # quarantined: named here, kept in the catalog for follow-up, never silently dropped
            self.problems.append(Problem(self.warc_name, record.pointer.offset, exc.message, platform, endpoint))
            log.error("unparseable page warc_file=%s offset=%d platform=%s endpoint=%s", self.warc_name, record.pointer.offset, platform, endpoint)
            return
        capture = Capture(
            account=account,
            account_native_id=account.split(":", 1)[1],
            captured_at=record.date or datetime.now(timezone.utc),
            pointer=record.pointer,
            warc_record_id=record.record_id or "",
            harvest_id=self.harvest_id,
        )
        self.report.platforms[platform].records += len(page.posts)
        if page.posts:
            self.pending.append(_PageCapture(platform, capture, record.header("X-Sangrah-Walk"), page.posts))
            self.pending_posts += len(page.posts)

    def _compare(self) -> None:
        """Compare the waiting posts, in the order they came, with their latest versions (this
        chunk's, else the catalog's, looked up in one go); a new or changed post makes a row."""
        if not self.pending:
            return
        pages = [(page, [row_for(post, page.capture, media_pointers=self.media) for post in page.posts]) for page in self.pending]
        touched = self.touched
        stored = self._stored({row["record_id"] for _, rows in pages for row in rows if row["record_id"] not in touched})
        for page, rows in pages:
            account, captured_at, walk = page.capture.account, page.capture.captured_at, page.walk
            counts = self.report.platforms[page.platform]
            for row in rows:
                key = row["record_id"]
                previous = touched.get(key) or stored.get(key)
                changed = previous is None or previous.version_id != row["version_id"]
                touched[key] = _Known(
                    version_id=row["version_id"],
                    captured_at=captured_at if changed or previous is None else previous.captured_at,
                    versions=(previous.versions if previous else 0) + (1 if changed else 0),
                    deleted=False,
                    account=account,
                    kind=row["kind"],
                    by_department=row["by_department"],
                    root_id=row["root_id"],
                    created_at=row["created_at"],
                    last_walk=walk or (previous.last_walk if previous else None),
                )
                if changed:
                    self.rows.append(tag_row(row, self.schedule))
                    counts.new_versions += 1
        self.pending = []
        self.pending_posts = 0

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
        for r in gone.values():
            if r.record_id in self.touched and self.touched[r.record_id].deleted:
                continue
            record_platform = r.record_id.split(":", 1)[0]
            created = _utc(r.created_at)
            row = tag_row(deletion_row(r.record_id, record_platform, r.account, r.kind, r.by_department, r.root_id, created, seen_at, record, self.harvest_id), self.schedule)
            self.rows.append(row)
            self.touched[r.record_id] = _Known(row["version_id"], seen_at, r.versions + 1, True, r.account, r.kind, r.by_department, r.root_id, created, r.last_walk)
            self.report.platforms[record_platform].deletions += 1
            self.report.platforms[record_platform].new_versions += 1

    def _stored(self, record_ids: set[str]) -> dict[str, _Known]:
        """The latest version the catalog holds of each of these records."""
        found: dict[str, _Known] = {}
        if not record_ids:
            return found
        keys = sorted(record_ids)
        columns = [c.name for c in t.record_versions.columns if c.name != "record_id"]
        with self.catalog.engine.connect() as conn:
            for start in range(0, len(keys), 500):
                batch = keys[start : start + 500]
                for r in conn.execute(select(t.record_versions).where(t.record_versions.c.record_id.in_(batch))).mappings():
                    values = {c: r[c] for c in columns}
                    values["captured_at"] = _utc(values["captured_at"])
                    values["created_at"] = _utc(values["created_at"])
                    found[r["record_id"]] = _Known(**values)
        return found

    # -- one chunk ----------------------------------------------------------------------------
    def _commit(self, offset_done: int, *, complete: bool) -> None:
        self._compare()
        now = datetime.now(timezone.utc)
        self.total_rows += len(self.rows)
        stem = self.warc_name.removesuffix(".warc.gz")
        # named by the WARC file and the offset its chunk starts at: unique, and the same name
        # whenever the same chunk is extracted again
        parts = [
            self.writers.submit(self._write_part, key, rows, f"{stem}-{self.chunk_start:012d}-{serial:03d}.parquet")
            for serial, (key, rows) in enumerate(self.rows.by_partition() if self.rows else [])
        ]
        written: list[dict[str, Any]] = []
        try:
            with self.catalog.engine.begin() as conn:
                # the catalog's part first, while the files are written: it commits once they are
                keys = list(self.touched)
                for start in range(0, len(keys), 500):
                    conn.execute(delete(t.record_versions).where(t.record_versions.c.record_id.in_(keys[start : start + 500])))
                # a few thousand at a time: a list of every row's parameters would be a chunk's worth
                for start in range(0, len(keys), 2_000):
                    conn.execute(insert(t.record_versions), [_as_row(k, self.touched[k]) for k in keys[start : start + 2_000]])
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
                conn.execute(update(t.parquet_files).where(t.parquet_files.c.path.in_([p["manifest"]["path"] for p in written])).values(status="published"))
        self.report.parquet_files += len(written)
        if complete:
            self.report.problems.extend(self.problems)
        self.rows = _ChunkRows()
        self.touched = {}
        self.chunk_start = offset_done

    def _write_part(self, partition: _Partition, table: pa.Table, name: str) -> dict[str, Any]:
        """Write one partition's rows of the chunk as ``NAME.parquet.part`` (on a pool thread)."""
        platform, account, month = partition
        folder = self.root / f"platform={platform}" / f"account={quote(account, safe='')}" / f"month={month}"
        folder.mkdir(parents=True, exist_ok=True)
        final = folder / name
        temp = folder / f"{name}{_PART}"
        write_parquet(table, temp, self.schedule.fingerprint)
        return {
            "temp": temp,
            "final": final,
            "manifest": {
                "path": final.relative_to(self.root).as_posix(),
                "rows": table.num_rows,
                "size_bytes": temp.stat().st_size,
                "sha256": hashlib.sha256(temp.read_bytes()).hexdigest(),
                "warc_file": self.warc_name,
                "schema_version": SCHEMA_VERSION,
                "schedule_fingerprint": self.schedule.fingerprint,
            },
        }


def write_parquet(table: pa.Table, path: Path, fingerprint: str) -> None:
    """Write and fsync one file of the dataset, naming the retention schedule of its tags."""
    metadata = {**(table.schema.metadata or {}), b"sangrah.retention_fingerprint": fingerprint.encode()}
    pq.write_table(table.replace_schema_metadata(metadata), path, row_group_size=ROW_GROUP_ROWS, compression="zstd")
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def _utc(value: datetime | None) -> datetime | None:
    # SQLite gives timezone-aware columns back naive; they were written in UTC
    return value.replace(tzinfo=timezone.utc) if value is not None and value.tzinfo is None else value


def _as_row(record_id: str, known: _Known) -> dict[str, Any]:
    """The ``record_versions`` row of a record's latest version."""
    return {
        "record_id": record_id,
        "version_id": known.version_id,
        "captured_at": known.captured_at,
        "versions": known.versions,
        "deleted": known.deleted,
        "account": known.account,
        "kind": known.kind,
        "by_department": known.by_department,
        "root_id": known.root_id,
        "created_at": known.created_at,
        "last_walk": known.last_walk,
    }


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


def _media_pointers(path: Path) -> dict[str, tuple[WarcPointer, str]]:
    """URL → (pointer, record id) of every media file stored in this WARC file."""
    out: dict[str, tuple[WarcPointer, str]] = {}
    try:
        # only media responses are parsed; the main pass checks every digest and reports damage
        for record in iter_records(path, head_contains=(b"response", b"_media")):
            if record.rec_type == "response" and record.header("X-Sangrah-Endpoint") == "_media" and record.http_status == 200:
                out[record.target_uri or ""] = (record.pointer, record.record_id or "")
    except CaptureError:
        pass  # media after a damaged member get no pointer; the main pass names the damage
    return out


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


