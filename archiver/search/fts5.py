"""The embedded backend: an SQLite file with an FTS5 index, nothing to run.

``docs`` holds one row per version (filters, facets and what a hit shows); ``docs_fts`` is a
contentless FTS5 table over the analysed text fields, sharing ``docs``' rowid. A version's text
never changes (its id is the hash of its content), so its FTS5 row is written once; re-indexing
it only updates the fields in ``docs``. The tokenizer is ``unicode61`` with
``categories 'L* N* Co M*'`` and ``remove_diacritics 0``: by default unicode61 treats combining
marks (Devanagari vowel signs, virama, nukta, anusvara) as separators and cuts Hindi words
apart; here they are part of the word, and the text arrives already folded by ``analysis``.

The user's words never reach SQL as text: each token goes into an FTS5 string literal with its
quotes doubled, and every filter value is a bound parameter.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from archiver.errors import SearchError
from archiver.search.backend import FACET_SIZE, TOTAL_LIMIT, Page
from archiver.search.documents import STORED_FIELDS
from archiver.search.query import And, Filters, Match, Node, Not, Or, SearchRequest

__all__ = ["Fts5Backend", "TOKENIZER", "RANK_WINDOW", "compile_match"]

TOKENIZER = "unicode61 remove_diacritics 0 categories 'L* N* Co M*'"
_JSON_FIELDS = ("hashtags", "rti_rules", "hold_types", "hold_ids")
_BOOL_FIELDS = ("by_department", "deleted", "current", "under_hold")
_COLUMNS = STORED_FIELDS  # one column per stored field of a document
_UPDATABLE = set(_COLUMNS) - {"version_id", "record_id", "text"}
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS docs (
  rowid INTEGER PRIMARY KEY,
  {", ".join(c + (" TEXT NOT NULL UNIQUE" if c == "version_id" else "") for c in _COLUMNS)}
);
CREATE INDEX IF NOT EXISTS docs_record ON docs(record_id);
CREATE INDEX IF NOT EXISTS docs_root ON docs(root_id);
CREATE INDEX IF NOT EXISTS docs_sort ON docs(current, sort_ms);
CREATE VIRTUAL TABLE IF NOT EXISTS docs_fts USING fts5(terms, deva_keys, latn_keys, content='', prefix='2 3', tokenize="{TOKENIZER}");
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_MMAP_BYTES = 8 << 30  # SQLite caps it at its build's maximum (2 GB by default)
_CACHE_KIB = 64 << 10
_INSERT_DOCS = f"INSERT INTO docs (rowid, {', '.join(_COLUMNS)}) VALUES (?, {', '.join('?' * len(_COLUMNS))})"
_INSERT_FTS = "INSERT INTO docs_fts (rowid, terms, deva_keys, latn_keys) VALUES (?, ?, ?, ?)"
#: rowids per millisecond of sort_ms (see Fts5Backend._time_rowids)
_SLOTS = 1024
#: relevance ranks within windows of this many FTS5 matches, newest first (see Fts5Backend._by_rank)
RANK_WINDOW = 10_000
#: how long the first page may spend counting hits before it gives a lower bound instead
COUNT_SECONDS = 0.05
#: bm25 weights of terms, deva_keys, latn_keys: a key match ranks below the word itself
_WEIGHTS = "1.0, 0.5, 0.5"
_FACET_SQL = {
    "platform": "d.platform",
    "account": "d.account",
    "by": "CASE WHEN d.by_department THEN 'department' ELSE 'citizen' END",
    "kind": "d.kind",
    "author": "d.author_handle",
    "language": "d.language",
    "retention_class": "d.retention_class",
    "rti": "d.rti",
    "deleted": "CASE WHEN d.deleted THEN 'yes' ELSE 'no' END",
}


def _literal(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def compile_match(node: Node) -> str:
    """The FTS5 expression of a query tree that has something to match (not only exclusions)."""
    if isinstance(node, Match):
        return f"{node.field} : {_literal(' '.join(node.tokens))}" + (" *" if node.prefix else "")
    if isinstance(node, Or):
        return " OR ".join(f"({compile_match(c)})" for c in node.children)
    if isinstance(node, And):
        positive = [c for c in node.children if not isinstance(c, Not)]
        negative = [c.child for c in node.children if isinstance(c, Not)]
        if not positive:
            raise SearchError("a part of the query only excludes words; exclude them from a search that has other words, e.g. flood -relief.")
        text = " AND ".join(f"({compile_match(c)})" for c in positive)
        if negative:
            text = f"({text}) NOT (" + " OR ".join(f"({compile_match(c)})" for c in negative) + ")"
        return text
    raise SearchError("a query cannot be only NOT inside another part; exclude words from the whole search, e.g. flood -relief.")


def _filter_sql(filters: Filters) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    args: list[Any] = []

    def among(column: str, values: Sequence[Any]) -> None:
        if values:
            where.append(f"{column} IN ({', '.join('?' * len(values))})")
            args.extend(values)

    among("d.platform", filters.platform)
    among("d.account", filters.account)
    if filters.author:
        marks = ", ".join("?" * len(filters.author))
        where.append(f"(d.author_handle IN ({marks}) OR d.author_id IN ({marks}))")
        args.extend([*filters.author, *filters.author])
    if filters.by_department is not None:
        where.append("d.by_department = ?")
        args.append(int(filters.by_department))
    among("d.kind", filters.kind)
    low, high = filters.created_range_ms()
    if low is not None:
        where.append("d.created_ms >= ?")
        args.append(low)
    if high is not None:
        where.append("d.created_ms < ?")
        args.append(high)
    among("d.language", filters.language)
    among("d.rti", filters.rti)
    if filters.under_hold is not None:
        where.append("d.under_hold = ?")
        args.append(int(filters.under_hold))
    if filters.hold_type:
        where.append(f"EXISTS (SELECT 1 FROM json_each(d.hold_types) WHERE value IN ({', '.join('?' * len(filters.hold_type))}))")
        args.extend(filters.hold_type)
    among("d.retention_class", filters.retention_class)
    if filters.deleted is not None:
        where.append("d.deleted = ?")
        args.append(int(filters.deleted))
    if filters.versions == "current":
        where.append("+d.current = 1")  # "+": a flag on most rows must not be walked by its index
    among("d.record_id", filters.record_id)
    if filters.thread:
        where.append("(d.root_id = ? OR d.record_id = ?)")
        args.extend([filters.thread, filters.thread])
    return where, args


class Fts5Backend:
    """The index in one SQLite file; opened on first use."""

    name = "fts5"
    overlap = "process"

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.address = str(self.path)
        self._db: sqlite3.Connection | None = None

    # -- connection ---------------------------------------------------------------------------
    def _fail(self, doing: str, exc: sqlite3.Error) -> SearchError:
        text = str(exc)
        if "locked" in text or "busy" in text:
            hint = "another process is writing the index; wait for it to finish (sangrah index), then try again"
        elif "malformed" in text or "not a database" in text:
            hint = "the index file is damaged; rebuild it from the record dataset with: sangrah rebuild index"
        else:
            hint = "check the file and its directory, or rebuild the index with: sangrah rebuild index"
        return SearchError(f"fts5 index at {self.address}: {doing} failed: {text}; {hint}.")

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                # pages read from the memory map, not copied by a read() each: matches are joined to
                # their docs rows page by page, and a million records make a file of about 1.5 GB
                db.execute(f"PRAGMA mmap_size={_MMAP_BYTES}")
                db.execute(f"PRAGMA cache_size=-{_CACHE_KIB}")
                db.executescript(_SCHEMA)
            except OSError as exc:
                raise SearchError(f"fts5 index at {self.address}: cannot create its directory: {exc.strerror}; set search.fts5_path to a writable place.") from exc
            except sqlite3.Error as exc:
                raise self._fail("opening the index", exc) from exc
            self._db = db
        return self._db

    @contextmanager
    def _guard(self, doing: str) -> Iterator[sqlite3.Connection]:
        try:
            yield self.db
        except sqlite3.Error as exc:
            raise self._fail(doing, exc) from exc

    @contextmanager
    def _transaction(self, doing: str) -> Iterator[sqlite3.Connection]:
        with self._guard(doing) as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    # -- writing -----------------------------------------------------------------------------
    def create(self) -> None:
        _ = self.db

    def drop(self) -> None:
        self.close()
        for suffix in ("", "-wal", "-shm"):
            Path(str(self.path) + suffix).unlink(missing_ok=True)

    def write(self, documents: Sequence[Mapping[str, Any]]) -> None:
        self.write_prepared(self.prepare(documents))

    def prepare(self, documents: Sequence[Mapping[str, Any]]) -> list[tuple[tuple[Any, ...], tuple[str, str, str]]]:
        """Each document's ``docs`` row and its FTS5 columns (terms, deva_keys, latn_keys)."""
        return [(_row(d), (d["terms"], d["deva_keys"], d["latn_keys"])) for d in documents]

    def write_prepared(self, prepared: Sequence[tuple[tuple[Any, ...], tuple[str, str, str]]]) -> None:
        if not prepared:
            return
        with self._transaction("writing documents") as db:
            existing: set[str] = set()
            ids = [row[_VERSION_AT] for row, _fts in prepared]
            for start in range(0, len(ids), 500):
                part = ids[start : start + 500]
                existing.update(r[0] for r in db.execute(f"SELECT version_id FROM docs WHERE version_id IN ({', '.join('?' * len(part))})", part))
            new = [item for item in prepared if item[0][_VERSION_AT] not in existing]
            if new:
                rowids = self._time_rowids(db, [(row[_SORT_AT], row[_VERSION_AT]) for row, _fts in new])
                # in rowid order: FTS5 writes out its pending terms whenever a rowid is lower than the
                # last one, so rows in dataset order would make a tiny segment per row to merge later
                ordered = sorted(zip(rowids, new), key=lambda pair: pair[0])
                db.executemany(_INSERT_DOCS, [(rowid, *row) for rowid, (row, _fts) in ordered])
                db.executemany(_INSERT_FTS, [(rowid, *fts) for rowid, (_row_, fts) in ordered])
            old = [row for row, _fts in prepared if row[_VERSION_AT] in existing]
            if old:
                columns = [c for c in _COLUMNS if c in _UPDATABLE]
                assignments = ", ".join(f"{c} = ?" for c in columns)
                positions = [_COLUMNS.index(c) for c in columns]
                db.executemany(f"UPDATE docs SET {assignments} WHERE version_id = ?", [tuple(row[i] for i in positions) + (row[_VERSION_AT],) for row in old])

    @staticmethod
    def _time_rowids(db: sqlite3.Connection, versions: Sequence[tuple[int, str]]) -> list[int]:
        """Rowids in time order for ``(sort_ms, version_id)``: ``sort_ms * 1024 + slot``, the slot free in that millisecond.

        FTS5 walks its matches in rowid order, so a newest- or oldest-first page is the first
        rows of that walk instead of a sort of every match."""
        wanted = [sort_ms * _SLOTS + int(version_id[:8], 16) % _SLOTS for sort_ms, version_id in versions]
        taken: set[int] = set()
        for start in range(0, len(wanted), 500):
            part = wanted[start : start + 500]
            taken.update(r[0] for r in db.execute(f"SELECT rowid FROM docs WHERE rowid IN ({', '.join('?' * len(part))})", part))
        out = []
        for rowid in wanted:
            group, slot = rowid - rowid % _SLOTS, rowid % _SLOTS
            for step in range(_SLOTS):
                candidate = group + (slot + step) % _SLOTS
                if candidate in taken:
                    continue
                # the first choice was looked up with the batch; a later one is looked up alone
                if step and db.execute("SELECT 1 FROM docs WHERE rowid = ?", (candidate,)).fetchone():
                    taken.add(candidate)
                    continue
                break
            else:
                raise SearchError(f"more than {_SLOTS} versions share the instant {group // _SLOTS} ms; the FTS5 index cannot order them.")
            taken.add(candidate)
            out.append(candidate)
        return out

    def versions(self, record_ids: Iterable[str]) -> list[dict[str, Any]]:
        ids = sorted(set(record_ids))
        out: list[dict[str, Any]] = []
        with self._guard("reading versions") as db:
            for start in range(0, len(ids), 500):
                part = ids[start : start + 500]
                rows = db.execute(f"SELECT version_id, record_id, captured_ms, current, deleted FROM docs WHERE record_id IN ({', '.join('?' * len(part))})", part)
                out.extend({"version_id": v, "record_id": r, "captured_ms": c, "current": bool(cur), "deleted": bool(dl)} for v, r, c, cur, dl in rows)
        return out

    def _update(self, key: str, changes: Mapping[str, Mapping[str, Any]]) -> None:
        with self._transaction("updating documents") as db:
            for target, fields in changes.items():
                unknown = set(fields) - _UPDATABLE
                if unknown:
                    raise SearchError(f"fts5 index at {self.address}: cannot update {', '.join(sorted(unknown))}.")
                assignments = ", ".join(f"{c} = ?" for c in fields)
                db.execute(f"UPDATE docs SET {assignments} WHERE {key} = ?", [*(_to_sql(c, v) for c, v in fields.items()), target])

    def update(self, changes: Mapping[str, Mapping[str, Any]]) -> None:
        self._update("version_id", changes)

    def update_records(self, changes: Mapping[str, Mapping[str, Any]]) -> None:
        self._update("record_id", changes)

    def refresh(self) -> None:
        """Every committed write is already visible."""

    def count(self) -> int:
        with self._guard("counting documents") as db:
            return int(db.execute("SELECT count(*) FROM docs").fetchone()[0])

    def get_meta(self, key: str) -> str | None:
        with self._guard("reading the index metadata") as db:
            row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        with self._guard("writing the index metadata") as db:
            db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))

    # -- searching ---------------------------------------------------------------------------
    def _matching(self, request: SearchRequest) -> tuple[str, list[Any], bool]:
        """SQL selecting the matching documents as ``d`` (with ``score``), its arguments, and
        whether it ranks."""
        where, args = _filter_sql(request.filters)
        node = request.query
        ranked = node is not None and not (isinstance(node, Not) or (isinstance(node, And) and all(isinstance(c, Not) for c in node.children)))
        low, high = request.filters.created_range_ms()
        if low is not None or high is not None:
            # the rowid is the time, and a record with a creation time sorts by it: the date range
            # is a rowid range, which FTS5 and the docs table both read as a range, not a filter
            rowid = "docs_fts.rowid" if ranked else "d.rowid"
            where.append(f"{rowid} BETWEEN ? AND ?")
            args.extend([(low if low is not None else 0) * _SLOTS, (high if high is not None else 2**52) * _SLOTS - 1])
        if not ranked:
            if node is not None:
                excluded = [node.child] if isinstance(node, Not) else [c.child for c in node.children]  # type: ignore[union-attr]
                where.append("d.rowid NOT IN (SELECT rowid FROM docs_fts WHERE docs_fts MATCH ?)")
                args.append(" OR ".join(f"({compile_match(c)})" for c in excluded))
            sql = "SELECT d.*, 0.0 AS score FROM docs d" + (" WHERE " + " AND ".join(where) if where else "")
            return sql, args, False
        assert node is not None
        expression = compile_match(node)
        # CROSS JOIN keeps FTS5 the outer loop: left to itself the planner may walk docs by an
        # index on a filter column and ask FTS5 once per row, a thousand times slower
        sql = f"SELECT d.*, bm25(docs_fts, {_WEIGHTS}) AS score FROM docs_fts CROSS JOIN docs d ON d.rowid = docs_fts.rowid WHERE docs_fts MATCH ?"
        return sql + "".join(f" AND {w}" for w in where), [expression, *args], True

    def search(self, request: SearchRequest) -> Page:
        if self._db is None and not self.path.exists():
            raise SearchError(f"fts5 index at {self.address}: there is no index yet; build it from the record dataset with: sangrah index")
        matching, args, ranked = self._matching(request)
        with self._guard("searching") as db:
            if request.effective_sort == "relevance" and ranked:
                hits, last = self._by_rank(db, request)
            elif request.effective_sort == "relevance":
                hits = self._by_relevance(db, matching, args, request)
                last = [hits[-1]["score"], hits[-1]["version_id"]] if len(hits) == request.size else None
            else:
                hits = self._by_time(db, matching, args, request, "docs_fts.rowid" if ranked else "d.rowid")
                last = [hits[-1]["sort_ms"], hits[-1]["version_id"]] if len(hits) == request.size else None
            total, exact = (None, True) if request.after() is not None else self._count(db, matching, args)
            facets = self._facets(db, matching, args) if request.facets else {}
        return Page(hits=hits, last_sort=last, total=total, facets=facets, total_exact=exact)

    @staticmethod
    def _count(db: sqlite3.Connection, matching: str, args: list[Any]) -> tuple[int, bool]:
        """The number of hits, exact up to TOTAL_LIMIT if counting takes under COUNT_SECONDS;
        else what was counted by then, as a lower bound (``exact`` False)."""
        cursor = db.execute(f"SELECT 1 FROM ({matching}) LIMIT {TOTAL_LIMIT + 1}", args)
        deadline = time.monotonic() + COUNT_SECONDS
        counted = 0
        while rows := cursor.fetchmany(256):
            counted += len(rows)
            if time.monotonic() > deadline:
                cursor.close()
                return min(counted, TOTAL_LIMIT), False
        return min(counted, TOTAL_LIMIT), counted <= TOTAL_LIMIT

    def _rows(self, db: sqlite3.Connection, sql: str, args: Sequence[Any]) -> list[dict[str, Any]]:
        cursor = db.execute(sql, args)
        names = [d[0] for d in cursor.description]
        return [_from_sql(dict(zip(names, row))) for row in cursor]

    def _by_rank(self, db: sqlite3.Connection, request: SearchRequest) -> tuple[list[dict[str, Any]], list[Any] | None]:
        """A page by relevance: BM25 within windows of ``RANK_WINDOW`` FTS5 matches, newest window first.

        The matches of the query's words (before filters; inside the date range, if any) are cut in
        rowid order, newest first, into windows of RANK_WINDOW; the hits of a window come before
        those of the next, each window's by BM25, ties by version id. Up to RANK_WINDOW matches
        (most queries) that is one window: BM25 over every hit, as on the clusters. Beyond, a page
        scores one window instead of every match (BM25 costs about a microsecond a match). A
        cursor holds the last hit's score, version id and the top rowid of its window."""
        where, args = _filter_sql(request.filters)
        expression = compile_match(request.query)  # type: ignore[arg-type]
        low, high = request.filters.created_range_ms()
        bottom_limit = (low if low is not None else 0) * _SLOTS
        top = (high if high is not None else 2**52) * _SLOTS - 1
        after = request.after()
        if after is not None and len(after) == 3:
            top = int(after[2])  # type: ignore[call-overload]
        filters = "".join(f" AND {w}" for w in where)
        # the ranking reads only the rowid, version id and score of each match; the page's rows are read after
        ranking = (
            f"SELECT docs_fts.rowid AS rid, d.version_id AS vid, bm25(docs_fts, {_WEIGHTS}) AS score FROM docs_fts CROSS JOIN docs d ON d.rowid = docs_fts.rowid "
            f"WHERE docs_fts MATCH ? AND docs_fts.rowid BETWEEN ? AND ?{filters}"
        )
        picked: list[tuple[int, str, float, int]] = []
        while len(picked) < request.size and top >= bottom_limit:
            edge = db.execute(
                "SELECT rowid FROM docs_fts WHERE docs_fts MATCH ? AND rowid BETWEEN ? AND ? ORDER BY rowid DESC LIMIT 1 OFFSET ?", (expression, bottom_limit, top, RANK_WINDOW - 1)
            ).fetchone()
            bottom = bottom_limit if edge is None else int(edge[0])
            sql = f"SELECT rid, vid, score FROM ({ranking}) AS m"
            values: list[Any] = [expression, bottom, top, *args]
            if after is not None:
                sql += " WHERE (m.score > ? OR (m.score = ? AND m.vid > ?))"
                values += [after[0], after[0], after[1]]
                after = None
            values.append(request.size - len(picked))
            picked += [(rid, vid, score, top) for rid, vid, score in db.execute(sql + " ORDER BY m.score ASC, m.vid ASC LIMIT ?", values)]
            top = bottom - 1
        found = {r["version_id"]: r for r in self._rows(db, f"SELECT * FROM docs WHERE rowid IN ({', '.join('?' * len(picked))})", [p[0] for p in picked])} if picked else {}
        hits = [{**found[vid], "score": score} for _rid, vid, score, _top in picked]
        last = [picked[-1][2], picked[-1][1], picked[-1][3]] if len(picked) == request.size else None
        return hits, last

    def _by_relevance(self, db: sqlite3.Connection, matching: str, args: list[Any], request: SearchRequest) -> list[dict[str, Any]]:
        sql = f"SELECT * FROM ({matching}) AS m"
        values = list(args)
        after = request.after()
        if after is not None:
            sql += " WHERE (m.score > ? OR (m.score = ? AND m.version_id > ?))"
            values += [after[0], after[0], after[1]]
        return self._rows(db, sql + " ORDER BY m.score ASC, m.version_id ASC LIMIT ?", [*values, request.size])

    def _by_time(self, db: sqlite3.Connection, matching: str, args: list[Any], request: SearchRequest, rowid: str) -> list[dict[str, Any]]:
        """A page in time order, read in rowid order (time order up to the millisecond); within a
        millisecond the order is by version_id, so the last millisecond of the page is read whole."""
        newest = request.effective_sort == "newest"
        after = request.after()
        conditions: list[str] = []
        values: list[Any] = []
        if after is not None:
            group = int(after[0]) * _SLOTS  # type: ignore[call-overload]
            beyond = f"{rowid} < ?" if newest else f"{rowid} > ?"
            conditions.append(f"({beyond} OR ({rowid} BETWEEN ? AND ? AND d.version_id > ?))")
            values += [group if newest else group + _SLOTS - 1, group, group + _SLOTS - 1, after[1]]
        where = "".join(f" AND {c}" for c in conditions) if " WHERE " in matching else (" WHERE " + " AND ".join(conditions) if conditions else "")
        order = f" ORDER BY {rowid} {'DESC' if newest else 'ASC'} LIMIT ?"
        rows = self._rows(db, matching + where + order, [*args, *values, request.size])
        if len(rows) == request.size:
            group = rows[-1]["sort_ms"] * _SLOTS
            joiner = " AND " if " WHERE " in matching or conditions else " WHERE "
            whole = self._rows(db, matching + where + f"{joiner}{rowid} BETWEEN ? AND ?", [*args, *values, group, group + _SLOTS - 1])
            seen = {r["version_id"] for r in rows}
            rows += [r for r in whole if r["version_id"] not in seen]
        rows.sort(key=lambda r: ((-r["sort_ms"] if newest else r["sort_ms"]), r["version_id"]))
        return rows[: request.size]

    def _facets(self, db: sqlite3.Connection, matching: str, args: list[Any]) -> dict[str, list[tuple[str, int]]]:
        facets: dict[str, list[tuple[str, int]]] = {}
        db.execute("DROP TABLE IF EXISTS temp.hits")
        db.execute(f"CREATE TEMP TABLE hits AS SELECT rowid AS rid FROM ({matching})", args)
        for facet, expression in _FACET_SQL.items():
            rows = db.execute(
                f"SELECT {expression} AS value, count(*) AS n FROM temp.hits h JOIN docs d ON d.rowid = h.rid "
                f"WHERE value IS NOT NULL GROUP BY value ORDER BY n DESC, value ASC LIMIT {FACET_SIZE}"
            )
            facets[facet] = [(str(v), int(n)) for v, n in rows]
        rows = db.execute(
            "SELECT j.value AS value, count(*) AS n FROM temp.hits h JOIN docs d ON d.rowid = h.rid, json_each(d.hold_types) j "
            f"GROUP BY value ORDER BY n DESC, value ASC LIMIT {FACET_SIZE}"
        )
        facets["hold_type"] = [(str(v), int(n)) for v, n in rows]
        db.execute("DROP TABLE temp.hits")
        return facets


_VERSION_AT = _COLUMNS.index("version_id")
_SORT_AT = _COLUMNS.index("sort_ms")
_JSON_AT = frozenset(_COLUMNS.index(c) for c in _JSON_FIELDS)
_BOOL_AT = frozenset(_COLUMNS.index(c) for c in _BOOL_FIELDS)


def _row(document: Mapping[str, Any]) -> tuple[Any, ...]:
    values = [document[c] for c in _COLUMNS]
    for i in _JSON_AT:
        values[i] = orjson.dumps(values[i]).decode() if values[i] else "[]"
    for i in _BOOL_AT:
        values[i] = int(bool(values[i]))
    return tuple(values)


def _to_sql(column: str, value: Any) -> Any:
    if column in _JSON_FIELDS:
        return json.dumps(list(value or []), ensure_ascii=False)
    if column in _BOOL_FIELDS:
        return int(bool(value))
    return value


def _from_sql(row: dict[str, Any]) -> dict[str, Any]:
    row.pop("rowid", None)
    for name in _JSON_FIELDS:
        row[name] = json.loads(row[name]) if row.get(name) else []
    for name in _BOOL_FIELDS:
        row[name] = bool(row[name])
    return row
