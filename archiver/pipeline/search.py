"""Search steps: ``index`` the record dataset, ``rebuild_index``, ``search`` it, show a ``thread``,
and change annotations (``mark``, ``place_hold``, ``release_hold``) so that search shows the
change at once.

Indexing streams each published Parquet file in batches of ``search.batch_rows`` rows (memory
stays flat whatever the dataset's size) and sends each batch as one bulk write; a document's id
is its ``version_id``, so indexing again changes nothing. The index remembers which files (by
SHA-256) it holds, the rules' fingerprint and the analysis version: a file re-tagged or new is
indexed at the next run, changed rules are applied to every record again, and ``verify`` can tell
an index that is behind its dataset.

Annotations: the catalog is the authority. A change is committed there (with its audit entry)
and then written into the index documents of every version of the records it touches, before
the command returns; hits also read the marks and holds in force from the catalog when they
are shown. If the index cannot be reached the change still stands, and ``sangrah index`` writes
every annotation into the index again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from archiver.catalog import Catalog
from archiver.config import Config
from archiver.errors import SearchError
from archiver.model import WarcPointer
from archiver.pipeline.capture import open_catalog

__all__ = [
    "IndexReport",
    "IndexStatus",
    "SearchResult",
    "Hit",
    "index",
    "rebuild_index",
    "index_status",
    "search",
    "search_all_ids",
    "thread",
    "mark",
    "place_hold",
    "release_hold",
    "HoldChange",
    "audit_reading",
]

Progress = Callable[[str, int, Any], None]

_READ_COLUMNS = [
    "record_id", "version_id", "platform", "account", "author_id", "author_handle", "author_name", "by_department", "kind",
    "parent_id", "root_id", "created_at", "captured_at", "text", "language", "hashtags", "url", "deleted_on_platform",
    "warc_file", "warc_offset", "warc_length", "warc_record_id", "retention_class",
]  # fmt: skip


@dataclass
class IndexReport:
    backend: str
    address: str
    files: int = 0
    documents: int = 0
    deletions: int = 0
    rules_reapplied: bool = False
    rules_fingerprint: str = ""
    annotated_records: int = 0
    held_by_query: int = 0
    total_documents: int = 0


@dataclass
class IndexStatus:
    backend: str
    address: str
    files_published: int
    files_indexed: int
    behind: list[str] = field(default_factory=list)
    rows_behind: int = 0
    rules_changed: bool = False

    @property
    def current(self) -> bool:
        return not self.behind and not self.rules_changed


@dataclass(frozen=True, slots=True)
class Hit:
    record_id: str
    version_id: str
    platform: str
    account: str
    kind: str
    by_department: bool
    author_handle: str | None
    author_name: str | None
    created_at: datetime | None
    captured_at: datetime
    language: str | None
    text: str
    snippet: str
    url: str | None
    parent_id: str | None
    root_id: str | None
    retention_class: str | None
    deleted_on_platform: bool
    current: bool
    pointer: WarcPointer
    warc_record_id: str
    score: float
    rti: str  #: yes, no or unmarked
    mark: Any | None  #: the Mark in force (manual, or the rule's), or None
    holds: tuple[Any, ...]  #: active Holds covering the record
    depth: int = 0  #: in a thread view: 0 for the first post, 1 for a reply to it, ...

    def to_json(self) -> dict[str, Any]:
        return {
            "record_id": self.record_id,
            "version_id": self.version_id,
            "platform": self.platform,
            "account": self.account,
            "kind": self.kind,
            "by": "department" if self.by_department else "citizen",
            "author": self.author_handle,
            "author_name": self.author_name,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "captured_at": self.captured_at.isoformat(),
            "language": self.language,
            "text": self.text,
            "snippet": self.snippet,
            "url": self.url,
            "parent_id": self.parent_id,
            "root_id": self.root_id,
            "retention_class": self.retention_class,
            "deleted_on_platform": self.deleted_on_platform,
            "current_version": self.current,
            "pointer": {"warc_file": self.pointer.file, "offset": self.pointer.offset, "length": self.pointer.length, "warc_record_id": self.warc_record_id},
            "score": self.score,
            "rti": self.rti,
            "mark": self.mark.to_json() if self.mark else None,
            "holds": [h.to_json() for h in self.holds],
            "depth": self.depth,
        }


@dataclass
class SearchResult:
    hits: list[Hit]
    total: int | None
    facets: dict[str, list[tuple[str, int]]]
    next_cursor: str | None
    backend: str
    total_exact: bool = True  #: False: more hits than ``total`` (the backend counts up to 10,000)

    def to_json(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "total": self.total,
            "total_exact": self.total_exact,
            "hits": [h.to_json() for h in self.hits],
            "facets": {k: [{"value": v, "count": n} for v, n in items] for k, items in self.facets.items()},
            "next_cursor": self.next_cursor,
        }


# -- indexing --------------------------------------------------------------------------------------
def _published_files(catalog: Catalog) -> dict[str, tuple[str, int]]:
    from sqlalchemy import select

    from archiver.catalog import tables as t

    with catalog.engine.connect() as conn:
        rows = conn.execute(select(t.parquet_files.c.path, t.parquet_files.c.sha256, t.parquet_files.c.rows).where(t.parquet_files.c.status == "published"))
        return {path: (sha, rows_) for path, sha, rows_ in rows}


def _indexed_files(backend: Any) -> dict[str, str]:
    text = backend.get_meta("files")
    return dict(json.loads(text)) if text else {}


def _latest(catalog: Catalog, record_ids: Sequence[str]) -> dict[str, tuple[str, int, bool]]:
    """record_id → (latest version_id, number of versions, deleted) from the catalog: one query
    per batch (up to 2,000 ids, well within every catalog's limit of bound parameters)."""
    from sqlalchemy import bindparam, select

    from archiver.catalog import tables as t

    rv = t.record_versions
    query = select(rv.c.record_id, rv.c.version_id, rv.c.versions, rv.c.deleted).where(rv.c.record_id.in_(bindparam("ids", expanding=True)))
    out: dict[str, tuple[str, int, bool]] = {}
    with catalog.engine.connect() as conn:
        for start in range(0, len(record_ids), 2_000):
            for rid, vid, n, deleted in conn.execute(query, {"ids": list(record_ids[start : start + 2_000])}):
                out[rid] = (vid, n, deleted)
    return out


def _has_annotations(catalog: Catalog) -> bool:
    """Whether the catalog holds any mark or hold at all (most archives, most of the time: none)."""
    from sqlalchemy import exists, select

    from archiver.catalog.annotations import hold_records, rti_marks

    with catalog.engine.connect() as conn:
        return bool(conn.execute(select(exists().select_from(rti_marks))).scalar() or conn.execute(select(exists().select_from(hold_records))).scalar())


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Run the cyclic garbage collector less often while indexing: each batch makes tens of
    thousands of short-lived objects that reference counting frees anyway (none form cycles),
    and the default thresholds scan them over and over. Restored afterwards."""
    import gc

    before = gc.get_threshold()
    gc.set_threshold(50_000, 20, 100)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _iter_batches(path: Path, batch_rows: int) -> Iterator[list[dict[str, Any]]]:
    """The rows of a Parquet file, ``batch_rows`` at a time; instants as UTC epoch milliseconds
    (``created_ms``, ``captured_ms``), which is what the index keeps and far cheaper than datetimes."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except (OSError, pa.ArrowException) as exc:
        raise SearchError(f"cannot read {path} of the record dataset ({exc}); the catalog lists it as published. Regenerate the dataset with: sangrah rebuild tables") from exc
    with parquet:
        for batch in parquet.iter_batches(batch_size=batch_rows, columns=_READ_COLUMNS):
            columns = {}
            for name, column in zip(batch.schema.names, batch.columns):
                if name in ("created_at", "captured_at"):
                    name = name.replace("_at", "_ms")
                    column = pc.divide(column.cast(pa.int64()), 1000)
                columns[name] = column.to_pylist()
            names = list(columns)
            yield [dict(zip(names, values)) for values in zip(*columns.values())]


@dataclass
class _Batch:
    rows: list[dict[str, Any]]
    done: list[str]  #: files whose every row is in this batch or an earlier one
    path: str  #: the file the batch ends in, for progress


def _batches(records_dir: Path, paths: Sequence[str], batch_rows: int) -> Iterator[_Batch]:
    """The rows of the files, in order, ``batch_rows`` at a time across file boundaries (a month
    of one account is often a few hundred rows: one bulk write per file would be mostly overhead)."""
    buffer: list[dict[str, Any]] = []
    ends: list[tuple[int, str]] = []  # (rows read when the file ended, file)
    read = emitted = 0

    def emit(rows: list[dict[str, Any]], path: str) -> _Batch:
        nonlocal emitted
        emitted += len(rows)
        done = [p for end, p in ends if end <= emitted]
        del ends[: len(done)]
        return _Batch(rows, done, path)

    for path in paths:
        for rows in _iter_batches(records_dir / path, batch_rows):
            buffer.extend(rows)
            read += len(rows)
            while len(buffer) >= batch_rows:
                yield emit(buffer[:batch_rows], path)
                del buffer[:batch_rows]
        ends.append((read, path))
    if buffer or ends:
        yield emit(buffer, ends[-1][1])


class _Writer:
    """Hands each batch to the backend (``write_prepared``). For a cluster the write runs in a
    thread of its own, one batch behind: while the cluster indexes a batch, the next one is read
    and analysed (the thread mostly waits on the socket, so it does not compete for the
    interpreter). At most two batches are in memory. ``wait`` returns when every write so far is
    done, and raises what a write raised."""

    def __init__(self, backend: Any) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.backend = backend
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sangrah-index") if backend.overlap == "thread" else None
        self._pending: Any = None

    def write(self, prepared: Any) -> None:
        if self._pool is None:
            self.backend.write_prepared(prepared)
            return
        self.wait()
        self._pending = self._pool.submit(self.backend.write_prepared, prepared)

    def wait(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def close(self) -> None:
        """Wait for the write in flight (its error, if any, is left to the caller's ``wait``)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)


@dataclass
class _Unsettled:
    """Records whose indexed versions may need their ``current`` and ``deleted`` flags set again,
    settled (after one refresh) before each checkpoint rather than after every batch."""

    records: set[str] = field(default_factory=set)
    deleted: set[str] = field(default_factory=set)

    def add(self, other: _Unsettled) -> None:
        self.records |= other.records
        self.deleted |= other.deleted

    def settle(self, backend: Any) -> None:
        if self.records:
            backend.refresh()
            _settle_versions(backend, sorted(self.records), self.deleted)
        self.records.clear()
        self.deleted.clear()


@dataclass
class _Prepared:
    """A batch ready to write: the backend's ``prepare`` of its documents, and what it tells the run."""

    payload: Any
    documents: int
    deletions: int
    done: list[str]  #: files whose every row is in this batch or an earlier one
    path: str
    unsettled: _Unsettled


def _documents(catalog: Catalog, rules: Any, rows: list[dict[str, Any]], *, annotations: bool = True) -> tuple[list[dict[str, Any]], int, _Unsettled]:
    """The documents of a batch of rows, its number of deletion rows, and the records to settle.
    ``annotations`` False: the catalog has no mark or hold to look up (any made meanwhile reach
    the index anyway: see ``_resync_annotations``)."""
    from archiver.catalog.annotations import active_holds, latest_marks
    from archiver.search.documents import document

    unsettled = _Unsettled()
    if not rows:
        return [], 0, unsettled
    ids = sorted({r["record_id"] for r in rows})
    latest = _latest(catalog, ids)
    marks = latest_marks(catalog, ids) if annotations else {}
    holds = active_holds(catalog, ids) if annotations else {}
    documents = []
    deletions = 0
    for row in rows:
        rid = row["record_id"]
        if row["deleted_on_platform"]:
            deletions += 1
            unsettled.records.add(rid)
            unsettled.deleted.add(rid)
            continue
        vid, versions, deleted = latest.get(rid, (row["version_id"], 1, False))
        if versions > 1:
            unsettled.records.add(rid)
            if deleted:
                unsettled.deleted.add(rid)
        documents.append(document(row, rules, current=versions <= 1 or vid == row["version_id"], deleted=deleted, mark=marks.get(rid), holds=holds.get(rid, ())))
    return documents, deletions, unsettled


def _prepared_batches(config: Config, catalog: Catalog, rules: Any, paths: Sequence[str], prepare: Callable[[list[dict[str, Any]]], Any], *, annotations: bool) -> Generator[_Prepared, None, None]:
    for batch in _batches(config.records_dir, paths, config.search.batch_rows):
        documents, deletions, unsettled = _documents(catalog, rules, batch.rows, annotations=annotations)
        yield _Prepared(prepare(documents), len(documents), deletions, batch.done, batch.path, unsettled)


@dataclass(frozen=True)
class _Failure:
    """What the analysing process raised, when it cannot be sent as it is."""

    kind: str
    message: str


def _analyse_in_child(send: Any, config: Config, rules: Any, paths: Sequence[str], prepare: Callable[[list[dict[str, Any]]], Any], annotations: bool) -> None:
    """The body of the analysing process (forked): its own catalog connection, the batches sent
    one by one down the pipe (which holds little, so it runs at most a batch or two ahead)."""
    import os
    import pickle

    from archiver.catalog import Catalog

    code = 0
    try:
        catalog = Catalog(config.resolved_catalog_url)
        try:
            with _fewer_collections():
                for prepared in _prepared_batches(config, catalog, rules, paths, prepare, annotations=annotations):
                    send.send(prepared)
        finally:
            catalog.close()
        send.send(None)
    except BaseException as exc:  # everything goes to the parent, which raises it
        code = 1
        try:
            pickle.dumps(exc)
            send.send(exc)
        except Exception:
            send.send(_Failure(type(exc).__name__, str(exc)))
    finally:
        send.close()
        os._exit(code)  # nothing inherited from the parent (its connections) is closed or flushed here


def _can_fork() -> bool:
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods() and not multiprocessing.current_process().daemon


def _from_child(config: Config, rules: Any, paths: Sequence[str], prepare: Callable[[list[dict[str, Any]]], Any], *, annotations: bool) -> Generator[_Prepared, None, None]:
    """The prepared batches, read and analysed in a second process while this one writes."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_analyse_in_child, args=(send, config, rules, paths, prepare, annotations), name="sangrah-index-analysis", daemon=True)
    child.start()
    send.close()
    try:
        while True:
            try:
                item = receive.recv()
            except EOFError:
                child.join(5)
                raise SearchError(
                    f"the process reading and analysing the record dataset for the index stopped unexpectedly (exit code {child.exitcode}); "
                    "run sangrah index again: it carries on after the files already indexed."
                ) from None
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            if isinstance(item, _Failure):
                raise SearchError(f"reading and analysing the record dataset for the index failed: {item.kind}: {item.message}; run sangrah index again, and report it if it happens again.")
            yield item
    finally:
        if child.is_alive():
            child.terminate()
        child.join()
        receive.close()


def _settle_versions(backend: Any, record_ids: Sequence[str], deleted: set[str]) -> None:
    """Of each record's indexed versions, the latest capture is current; all are deleted when the
    platform deleted the record."""
    by_record: dict[str, list[dict[str, Any]]] = {}
    for version in backend.versions(record_ids):
        by_record.setdefault(version["record_id"], []).append(version)
    changes: dict[str, dict[str, Any]] = {}
    for rid, versions in by_record.items():
        newest = max(versions, key=lambda v: (v["captured_ms"], v["version_id"]))
        for version in versions:
            wanted = {"current": version is newest, "deleted": rid in deleted}
            if {k: version[k] for k in wanted} != wanted:
                changes[version["version_id"]] = wanted
    if changes:
        backend.update(changes)


def _checkpoint(writer: _Writer, unsettled: _Unsettled, indexed: dict[str, str], published: dict[str, tuple[str, int]], done: list[str], report: IndexReport, *, save: bool = True) -> None:
    """Once every write so far is done and the versions are settled, record the files read whole
    (and, with ``save``, save the list in the index)."""
    writer.wait()
    unsettled.settle(writer.backend)
    for path in done:
        indexed[path] = published[path][0]
    report.files += len(done)
    if save:
        writer.backend.set_meta("files", json.dumps(indexed, sort_keys=True))


def _check_analysis(backend: Any) -> None:
    from archiver.search.documents import ANALYSIS_VERSION

    found = backend.get_meta("analysis_version")
    if found is None:
        backend.set_meta("analysis_version", ANALYSIS_VERSION)
    elif found != ANALYSIS_VERSION:
        raise SearchError(
            f"{backend.name} index at {backend.address} was built with text analysis version {found}; this Sangrah uses {ANALYSIS_VERSION}. "
            "Rebuild it from the record dataset with: sangrah rebuild index"
        )


def index(config: Config, *, progress: Progress | None = None) -> IndexReport:
    """Bring the search index up to date with the record dataset (idempotent)."""
    from archiver.search.backend import open_backend
    from archiver.search.rules import load_rules

    rules = load_rules(config.search.rti_rules)
    backend = open_backend(config)
    catalog = open_catalog(config)
    report = IndexReport(backend=backend.name, address=backend.address, rules_fingerprint=rules.fingerprint)
    try:
        backend.create()
        _check_analysis(backend)
        published = _published_files(catalog)
        indexed = _indexed_files(backend)
        report.rules_reapplied = backend.get_meta("rules_fingerprint") not in (None, rules.fingerprint)
        if report.rules_reapplied:
            indexed = {}
        todo = sorted(path for path, (sha, _rows) in published.items() if indexed.get(path) != sha)
        unsettled = _Unsettled()
        annotations = _has_annotations(catalog)
        done: list[str] = []  # files read whole since the last checkpoint
        several = sum(published[p][1] for p in todo) > config.search.batch_rows
        if backend.overlap == "process" and several and _can_fork():
            batches = _from_child(config, rules, todo, backend.prepare, annotations=annotations)
        else:
            batches = _prepared_batches(config, catalog, rules, todo, backend.prepare, annotations=annotations)
        writer = _Writer(backend)
        try:
            with _fewer_collections():
                for batch in batches:
                    writer.write(batch.payload)
                    report.documents += batch.documents
                    report.deletions += batch.deletions
                    unsettled.add(batch.unsettled)
                    done += batch.done
                    if len(done) >= 100:  # an interrupted run redoes at most the files since (idempotent)
                        _checkpoint(writer, unsettled, indexed, published, done, report)
                        done = []
                    if progress:
                        progress(batch.path, report.documents, report)
            writer.wait()
        finally:
            writer.close()
            batches.close()  # stops the analysing process if a write failed
        _checkpoint(writer, unsettled, indexed, published, done, report, save=False)
        for path in set(indexed) - set(published):  # a file the dataset no longer has (rebuilt tables)
            indexed.pop(path)
        backend.set_meta("files", json.dumps(indexed, sort_keys=True))
        backend.set_meta("rules_fingerprint", rules.fingerprint)
        backend.refresh()
        report.held_by_query = _apply_saved_queries(config, backend, catalog)
        report.annotated_records = _resync_annotations(backend, catalog)
        backend.refresh()
        report.total_documents = backend.count()
        _sync_store(config, catalog, config.operator_name)  # records the saved queries added, new captures of held records
        catalog.audit(
            actor=config.operator_name,
            action="index",
            target=f"{backend.name}:{backend.address}",
            outcome="ok",
            details={"files": report.files, "documents": report.documents, "rules": rules.fingerprint, "rules_reapplied": report.rules_reapplied},
        )
        return report
    finally:
        catalog.close()
        backend.close()


def rebuild_index(config: Config, *, progress: Progress | None = None) -> IndexReport:
    """Drop the search index and build it again from the record dataset."""
    from archiver.search.backend import open_backend

    backend = open_backend(config)
    try:
        backend.drop()
    finally:
        backend.close()
    return index(config, progress=progress)


def index_status(config: Config) -> IndexStatus:
    """How the index compares with the record dataset: files not (or no longer) indexed."""
    from archiver.search.backend import open_backend
    from archiver.search.rules import load_rules

    backend = open_backend(config)
    catalog = open_catalog(config)
    try:
        published = _published_files(catalog)
        if config.search.backend == "fts5" and not config.search_index_path.exists():
            indexed: dict[str, str] = {}
            fingerprint = None
        else:
            indexed = _indexed_files(backend)
            fingerprint = backend.get_meta("rules_fingerprint")
        behind = sorted(p for p, (sha, _n) in published.items() if indexed.get(p) != sha)
        return IndexStatus(
            backend=backend.name,
            address=backend.address,
            files_published=len(published),
            files_indexed=len(published) - len(behind),
            behind=behind,
            rows_behind=sum(published[p][1] for p in behind),
            rules_changed=fingerprint is not None and fingerprint != load_rules(config.search.rti_rules).fingerprint,
        )
    finally:
        catalog.close()
        backend.close()


# -- annotations into the index --------------------------------------------------------------------
def _annotation_changes(catalog: Catalog, backend: Any, record_ids: Sequence[str], *, marks_too: bool = True, holds_too: bool = True) -> dict[str, dict[str, Any]]:
    from archiver.catalog.annotations import active_holds, latest_marks

    marks = latest_marks(catalog, record_ids) if marks_too else {}
    holds = active_holds(catalog, record_ids) if holds_too else {}
    changes: dict[str, dict[str, Any]] = {}
    for rid in record_ids:
        fields: dict[str, Any] = {}
        if marks_too and rid in marks:
            fields.update(rti="yes" if marks[rid].relevant else "no", rti_source="manual")
        if holds_too:
            held = holds.get(rid, [])
            fields.update(hold_types=sorted({h.hold_type for h in held}), hold_ids=sorted(h.id for h in held), under_hold=bool(held))
        if fields:
            changes[rid] = fields
    return changes


def _push(backend: Any, changes: dict[str, dict[str, Any]]) -> None:
    if changes:
        backend.update_records(changes)
        backend.refresh()


def _resync_annotations(backend: Any, catalog: Catalog) -> int:
    """Write every mark and every hold (active or released) into the index again."""
    from sqlalchemy import select, union

    from archiver.catalog.annotations import hold_records, rti_marks

    with catalog.engine.connect() as conn:
        ids = sorted(conn.execute(union(select(rti_marks.c.record_id), select(hold_records.c.record_id))).scalars())
    for start in range(0, len(ids), 1_000):
        _push(backend, _annotation_changes(catalog, backend, ids[start : start + 1_000]))
    return len(ids)


def _apply_saved_queries(config: Config, backend: Any, catalog: Catalog) -> int:
    """Add to each active hold with a saved query the records it now finds."""
    from archiver.catalog.annotations import add_to_hold, list_holds
    from archiver.search.query import parse_filters, parse_query

    added = 0
    for hold in list_holds(catalog, active_only=True):
        if not hold.query and not hold.query_filters:
            continue
        filters = parse_filters(json.loads(hold.query_filters or "[]"))
        ids = _all_ids(backend, parse_query(hold.query or ""), filters)
        added += add_to_hold(catalog, hold.id, ids, actor=config.operator_name, via="query")
    return added


def _all_ids(backend: Any, query: Any, filters: Any) -> list[str]:
    from dataclasses import replace

    from archiver.search.query import SearchRequest, encode_cursor

    filters = replace(filters, versions="all")
    request = SearchRequest(query=query, filters=filters, sort="oldest", size=500)
    ids: set[str] = set()
    while True:
        page = backend.search(request)
        ids.update(h["record_id"] for h in page.hits)
        if page.last_sort is None:
            return sorted(ids)
        request = request.with_cursor(encode_cursor(request.fingerprint(), page.last_sort))


# -- searching -------------------------------------------------------------------------------------
def _instant(ms: int | None) -> datetime | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, timezone.utc)


def _hits(catalog: Catalog, rules: Any, request: Any, documents: list[dict[str, Any]]) -> list[Hit]:
    from archiver.catalog.annotations import Mark, active_holds, latest_marks
    from archiver.search.query import positive_matches
    from archiver.search.snippets import snippet

    ids = [d["record_id"] for d in documents]
    marks = latest_marks(catalog, ids)
    holds = active_holds(catalog, ids)
    matches = positive_matches(request.query)
    out = []
    for d in documents:
        mark = marks.get(d["record_id"])
        if mark is None and d.get("rti_rules"):
            rule = d["rti_rules"][0]
            mark = Mark(d["record_id"], True, rules.describe(rule), f"rule:{rule}", None, None)
        out.append(
            Hit(
                record_id=d["record_id"],
                version_id=d["version_id"],
                platform=d["platform"],
                account=d["account"],
                kind=d["kind"],
                by_department=bool(d["by_department"]),
                author_handle=d.get("author_handle"),
                author_name=d.get("author_name"),
                created_at=_instant(d.get("created_ms")),
                captured_at=_instant(d["captured_ms"]),  # type: ignore[arg-type]
                language=d.get("language"),
                text=d["text"],
                snippet=snippet(d["text"], matches),
                url=d.get("url"),
                parent_id=d.get("parent_id"),
                root_id=d.get("root_id"),
                retention_class=d.get("retention_class"),
                deleted_on_platform=bool(d["deleted"]),
                current=bool(d["current"]),
                pointer=WarcPointer(d["warc_file"], int(d["warc_offset"]), int(d["warc_length"])),
                warc_record_id=d["warc_record_id"],
                score=float(d.get("score") or 0.0),
                rti=("yes" if mark.relevant else "no") if mark else "unmarked",
                mark=mark,
                holds=tuple(holds.get(d["record_id"], ())),
            )
        )
    return out


def search(config: Config, request: Any) -> SearchResult:
    """One page of hits, each with its snippet, WARC pointer, and the marks and holds in force."""
    from archiver.search.backend import open_backend
    from archiver.search.query import encode_cursor
    from archiver.search.rules import load_rules

    rules = load_rules(config.search.rti_rules)
    backend = open_backend(config)
    catalog = open_catalog(config)
    try:
        page = backend.search(request)
        cursor = encode_cursor(request.fingerprint(), page.last_sort) if page.last_sort is not None else None
        return SearchResult(hits=_hits(catalog, rules, request, page.hits), total=page.total, facets=page.facets, next_cursor=cursor, backend=backend.name, total_exact=page.total_exact)
    finally:
        catalog.close()
        backend.close()


def search_all_ids(config: Config, query: Any, filters: Any) -> list[str]:
    """The record ids of every version a search finds, across all its pages."""
    from archiver.search.backend import open_backend

    backend = open_backend(config)
    try:
        return _all_ids(backend, query, filters)
    finally:
        backend.close()


def thread(config: Config, record_id: str) -> list[Hit]:
    """The thread a record belongs to: its first post, then every reply in conversation order
    (depth first, each level oldest first), each with its depth."""
    from archiver.search.backend import open_backend
    from archiver.search.query import Filters, SearchRequest, encode_cursor
    from archiver.search.rules import load_rules

    rules = load_rules(config.search.rti_rules)
    backend = open_backend(config)
    catalog = open_catalog(config)
    try:
        found = backend.search(SearchRequest(filters=Filters(record_id=(record_id,)), size=1)).hits
        if not found:
            raise SearchError(f"{record_id} is not in the {backend.name} index at {backend.address}. Check the id, or run `sangrah index` if it was extracted recently.")
        root = found[0]["root_id"] or record_id
        request = SearchRequest(filters=Filters(thread=root), sort="oldest", size=500)
        documents: list[dict[str, Any]] = []
        while True:
            page = backend.search(request)
            documents.extend(page.hits)
            if page.last_sort is None:
                break
            request = request.with_cursor(encode_cursor(request.fingerprint(), page.last_sort))
        hits = {h.record_id: h for h in _hits(catalog, rules, request, documents)}
        return _in_thread_order(hits, root)
    finally:
        catalog.close()
        backend.close()


def _in_thread_order(hits: dict[str, Hit], root: str) -> list[Hit]:
    from dataclasses import replace

    children: dict[str | None, list[Hit]] = {}
    for hit in hits.values():
        if hit.record_id == root:
            continue
        parent = hit.parent_id if hit.parent_id in hits else root  # a reply whose parent was not captured hangs under the root
        children.setdefault(parent, []).append(hit)
    order: list[Hit] = []

    def visit(record_id: str, depth: int) -> None:
        for child in sorted(children.get(record_id, []), key=lambda h: (h.created_at or h.captured_at, h.record_id)):
            order.append(replace(child, depth=depth))
            visit(child.record_id, depth + 1)

    if root in hits:
        order.append(hits[root])
    visit(root, 1)
    return order


# -- changing annotations --------------------------------------------------------------------------
def _after_change(backend: Any, catalog: Catalog, record_ids: Sequence[str], what: str, **which: bool) -> None:
    try:
        _push(backend, _annotation_changes(catalog, backend, record_ids, **which))
    except SearchError as exc:
        raise SearchError(f"{what} is recorded in the catalog, but the {backend.name} index at {backend.address} could not be updated ({exc.message}). Search shows it after: sangrah index") from exc


def mark(config: Config, record_ids: Iterable[str], *, relevant: bool, reason: str) -> int:
    """Mark records RTI-relevant (or not) and show it in search at once."""
    from archiver.catalog.annotations import mark_records
    from archiver.search.backend import open_backend

    ids = sorted(set(record_ids))
    catalog = open_catalog(config)
    backend = open_backend(config)
    try:
        count = mark_records(catalog, ids, relevant=relevant, reason=reason, actor=config.operator_name)
        _after_change(backend, catalog, ids, f"the mark of {count} record(s)", holds_too=False)
        return count
    finally:
        catalog.close()
        backend.close()


@dataclass(frozen=True, slots=True)
class HoldChange:
    """A hold placed or released: the hold, how many records it covers, and the store step's report."""

    hold: Any
    covered: int
    legal: Any  # archiver.pipeline.legal_holds.LegalHoldReport


def _sync_store(config: Config, catalog: Catalog, actor: str) -> Any:
    from archiver.pipeline.legal_holds import sync_legal_holds

    return sync_legal_holds(config, actor=actor, catalog=catalog)


def place_hold(
    config: Config, *, hold_type: str, reference: str, reason: str, record_ids: Sequence[str] = (), query: str | None = None, filters: Sequence[str] = (), actor: str | None = None,
) -> HoldChange:
    """Place a hold on records and on what a saved search finds now (and at each ``index``),
    then put the WARC objects of those records under legal hold in the store."""
    from archiver.catalog.annotations import add_to_hold, place_hold as place
    from archiver.search.backend import open_backend
    from archiver.search.query import parse_filters, parse_query

    who = actor or config.operator_name
    saved = bool(query) or bool(filters)
    node = parse_query(query or "") if saved else None
    parsed = parse_filters(filters) if saved else None
    catalog = open_catalog(config)
    backend = open_backend(config)
    try:
        hold = place(
            catalog, hold_type=hold_type, reference=reference, reason=reason, actor=who, record_ids=list(record_ids),
            query=query if saved else None, query_filters=json.dumps(list(filters)) if saved else None,
        )  # fmt: skip
        covered = set(record_ids)
        if saved:
            found = _all_ids(backend, node, parsed)
            add_to_hold(catalog, hold.id, found, actor=who, via="query")
            covered |= set(found)
        legal = _sync_store(config, catalog, who)  # after the commit; what fails stays pending in the catalog
        _after_change(backend, catalog, sorted(covered), f"hold H-{hold.id}", marks_too=False)
        return HoldChange(hold, len(covered), legal)
    finally:
        catalog.close()
        backend.close()


def release_hold(config: Config, hold_id: int, *, reason: str, actor: str | None = None) -> HoldChange:
    """Release a hold (``actor`` must hold the role its type needs), then release the legal hold
    of the WARC objects no other active hold still needs."""
    from archiver.catalog.annotations import records_of_hold, release_hold as release
    from archiver.search.backend import open_backend

    who = actor or config.operator_name
    catalog = open_catalog(config)
    backend = open_backend(config)
    try:
        hold = release(catalog, hold_id, actor=who, reason=reason)
        legal = _sync_store(config, catalog, who)
        records = records_of_hold(catalog, hold_id)
        _after_change(backend, catalog, records, f"the release of hold H-{hold_id}", marks_too=False)
        return HoldChange(hold, len(records), legal)
    finally:
        catalog.close()
        backend.close()


def audit_reading(config: Config, *, actor: str, action: str, target: str | None, details: dict[str, Any]) -> None:
    """Enter one reading of the archive (``search``, ``view``, ``export``) in the audit log."""
    catalog = open_catalog(config)
    try:
        catalog.audit(actor=actor, action=action, target=target, outcome="ok", details=details)
    finally:
        catalog.close()
