"""Extraction: WARC files → the record dataset, one row per new version, streaming.

Published WARC files are read in the manifest's order, record by record (``scan_records``:
digests checked, damage reported and stepped over). Each API response is parsed again with its
platform module — the request that produced it is named in its ``X-Sangrah-*`` fields — and
each post on it is compared with the latest version the catalog knows: unchanged, it makes no
row; new or changed, it makes a version row beside the old ones.

Rows are written in chunks. A chunk's Parquet files are written as ``NAME.parquet.part``, entered in
the catalog (Parquet manifest, latest versions, how far the WARC file has been read) in one
transaction, and only then renamed into place. A killed extraction therefore leaves at most
``.part`` files, which no reader's ``*.parquet`` glob sees and which the next run finishes or removes; it resumes after the last committed chunk, so no row
is lost or written twice. Memory is bounded by the chunk size, whatever the size of the archive.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
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
from archiver.model import ApiRequest, WarcPointer, content_hash
from archiver.platforms import get_platform
from archiver.storage.local import fsync_dir
from archiver.retention import Schedule
from archiver.tables.rows import Capture, row_for, tag_row
from archiver.tables.schema import RECORD_SCHEMA, SCHEMA_VERSION

__all__ = ["ExtractReport", "Problem", "extract_all", "dataset_files", "write_parquet"]

log = logging.getLogger(__name__)

#: rows per chunk (and the most rows held in memory at once)
DEFAULT_CHUNK_ROWS = 50_000
#: rows per Parquet row group
ROW_GROUP_ROWS = 10_000
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
) -> ExtractReport:
    """Extract every published WARC file not yet (wholly) extracted into the dataset at ``root``.

    Every row is tagged with ``schedule``; files whose tags come from another schedule are
    re-tagged (``retag``) so that the whole dataset agrees with the schedule in force.
    """
    report = ExtractReport()
    root.mkdir(parents=True, exist_ok=True)
    report.recovered = _recover(catalog, root)
    with catalog.engine.connect() as conn:
        done = {row.warc_file: row for row in conn.execute(select(t.extractions))}
    for warc in catalog.iter_warcs(status="published"):
        state = done.get(warc.name)
        if state is not None and state.complete:
            continue
        _Extraction(catalog, root, warc.name, warc.harvest_id, chunk_rows, report, schedule).run(warc_path(warc.store_key), state.offset_done if state else 0, state.rows if state else 0)
        report.warc_files += 1
        if progress:
            progress(warc.name, report.rows, report)
    return report


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


class _Extraction:
    def __init__(self, catalog: Catalog, root: Path, warc_name: str, harvest_id: str, chunk_rows: int, report: ExtractReport, schedule: Schedule) -> None:
        self.schedule = schedule
        self.catalog = catalog
        self.root = root
        self.warc_name = warc_name
        self.harvest_id = harvest_id
        self.chunk_rows = chunk_rows
        self.report = report
        self.rows: list[dict[str, Any]] = []
        self.touched: dict[str, _Known] = {}  # records seen or changed in this chunk
        self.problems: list[Problem] = []
        self.chunk_start = 0  #: offset of the first record of the chunk being gathered
        self.total_rows = 0

    def run(self, path: Path, start_offset: int, rows_before: int) -> None:
        media = _media_pointers(path)
        self.total_rows = rows_before
        offset_done = self.chunk_start = start_offset
        for item in scan_records(path, start_offset=start_offset):
            if isinstance(item, FileProblem):
                self.problems.append(Problem(self.warc_name, item.offset, item.message))
                log.error("unreadable record warc_file=%s offset=%d problem=%s", self.warc_name, item.offset, item.message)
                continue
            if item.rec_type == "metadata" and (item.target_uri or "").startswith("urn:sangrah:harvest:"):
                # the sightings before a window's end must be in the catalog to judge what is gone
                self._commit(offset_done, complete=False)
                self._deletions(item)
            else:
                self._record(item, media)
            offset_done = item.pointer.offset + item.pointer.length
            if len(self.rows) >= self.chunk_rows or len(self.touched) >= self.chunk_rows:
                self._commit(offset_done, complete=False)
        self._commit(offset_done, complete=True)

    # -- one response -------------------------------------------------------------------------
    def _record(self, record: ReadRecord, media: dict[str, tuple[WarcPointer, str]]) -> None:
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
        walk = record.header("X-Sangrah-Walk")
        counts = self.report.platforms[platform]
        known = self._known([str(p.record_id) for p in page.posts])
        for post in page.posts:
            counts.records += 1
            row = row_for(post, capture, media_pointers=media)
            key = row["record_id"]
            previous = known.get(key)
            changed = previous is None or previous.version_id != row["version_id"]
            self.touched[key] = known[key] = _Known(
                version_id=row["version_id"],
                captured_at=capture.captured_at if changed or previous is None else previous.captured_at,
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

    def _known(self, record_ids: list[str]) -> dict[str, _Known]:
        """The latest version of each record: this chunk's first, then the catalog's."""
        found: dict[str, _Known] = {}
        missing = []
        for key in dict.fromkeys(record_ids):
            if key in self.touched:
                found[key] = self.touched[key]
            else:
                missing.append(key)
        columns = [c.name for c in t.record_versions.columns if c.name != "record_id"]
        with self.catalog.engine.connect() as conn:
            for start in range(0, len(missing), 500):
                batch = missing[start : start + 500]
                for r in conn.execute(select(t.record_versions).where(t.record_versions.c.record_id.in_(batch))).mappings():
                    values = {c: r[c] for c in columns}
                    values["captured_at"] = _utc(values["captured_at"])
                    values["created_at"] = _utc(values["created_at"])
                    found[r["record_id"]] = _Known(**values)
        return found

    # -- one chunk ----------------------------------------------------------------------------
    def _commit(self, offset_done: int, *, complete: bool) -> None:
        written = self._write_parts()
        now = datetime.now(timezone.utc)
        self.total_rows += len(self.rows)
        with self.catalog.engine.begin() as conn:
            for part in written:
                conn.execute(insert(t.parquet_files).values(**part["manifest"], status="pending", created_at=now))
            keys = list(self.touched)
            for start in range(0, len(keys), 500):
                conn.execute(delete(t.record_versions).where(t.record_versions.c.record_id.in_(keys[start : start + 500])))
            if keys:
                conn.execute(insert(t.record_versions), [{"record_id": k, **_as_dict(v)} for k, v in self.touched.items()])
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
        for part in written:
            os.replace(part["temp"], part["final"])
            fsync_dir(part["final"].parent)
        if written:
            with self.catalog.engine.begin() as conn:
                conn.execute(update(t.parquet_files).where(t.parquet_files.c.path.in_([p["manifest"]["path"] for p in written])).values(status="published"))
        self.report.parquet_files += len(written)
        if complete:
            self.report.problems.extend(self.problems)
        self.rows = []
        self.touched = {}
        self.chunk_start = offset_done

    def _write_parts(self) -> list[dict[str, Any]]:
        if not self.rows:
            return []
        by_partition: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
        for row in self.rows:
            when = row["created_at"] or row["captured_at"]
            by_partition[(row["platform"], row["account"].split(":", 1)[1], f"{when:%Y-%m}")].append(row)
        written = []
        stem = self.warc_name.removesuffix(".warc.gz")
        for serial, ((platform, account, month), rows) in enumerate(sorted(by_partition.items())):
            folder = self.root / f"platform={platform}" / f"account={quote(account, safe='')}" / f"month={month}"
            folder.mkdir(parents=True, exist_ok=True)
            # named by the WARC file and the offset its chunk starts at: unique, and the same
            # name whenever the same chunk is extracted again
            name = f"{stem}-{self.chunk_start:012d}-{serial:03d}.parquet"
            final = folder / name
            temp = folder / f"{name}{_PART}"
            write_parquet(pa.Table.from_pylist(rows, schema=RECORD_SCHEMA), temp, self.schedule.fingerprint)
            written.append(
                {
                    "temp": temp,
                    "final": final,
                    "manifest": {
                        "path": final.relative_to(self.root).as_posix(),
                        "rows": len(rows),
                        "size_bytes": temp.stat().st_size,
                        "sha256": hashlib.sha256(temp.read_bytes()).hexdigest(),
                        "warc_file": self.warc_name,
                        "schema_version": SCHEMA_VERSION,
                        "schedule_fingerprint": self.schedule.fingerprint,
                    },
                }
            )
        return written


def write_parquet(table: pa.Table, path: Path, fingerprint: str) -> None:
    """Write and fsync one file of the dataset, naming the retention schedule of its tags."""
    metadata = {**(table.schema.metadata or {}), b"sangrah.retention_fingerprint": fingerprint.encode()}
    pq.write_table(table.replace_schema_metadata(metadata), path, row_group_size=ROW_GROUP_ROWS, compression="zstd")
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def _utc(value: datetime | None) -> datetime | None:
    # SQLite gives timezone-aware columns back naive; they were written in UTC
    return value.replace(tzinfo=timezone.utc) if value is not None and value.tzinfo is None else value


def _as_dict(known: _Known) -> dict[str, Any]:
    return {name: getattr(known, name) for name in known.__dataclass_fields__}


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
        # headers only: the main pass checks every digest and reports damage
        for item in iter_records(path):
            if item.rec_type == "response" and item.header("X-Sangrah-Endpoint") == "_media" and item.http_status == 200:
                out[item.target_uri or ""] = (item.pointer, item.record_id or "")
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


