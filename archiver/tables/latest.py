"""The catalog's account of each record's latest version (``record_versions``), read and written a
chunk at a time.

Extraction compares every post it reads with its latest version, and writes the latest version
of every record it has seen back with each chunk: hundreds of thousands of rows a run. They are
written with the driver's own ``executemany`` over values converted by the column types' bind
processors (the conversions SQLAlchemy applies itself), since SQLAlchemy's per-row handling of
parameters took longer than the database did.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from operator import attrgetter
from typing import Any

from sqlalchemy import Connection, Dialect, bindparam, delete, insert, select

from archiver.catalog import tables as t
from archiver.model import utc

__all__ = ["Latest", "read_latest", "write_latest"]

#: record ids per ``IN (…)`` list, and rows per ``executemany``
_KEYS_PER_QUERY = 500
_ROWS_PER_WRITE = 2_000
_COLUMNS = tuple(c.name for c in t.record_versions.columns)
#: each column's value of a ``Latest`` (the first column, the record id, is its key)
_GETTERS = tuple(attrgetter(name) for name in _COLUMNS[1:])
# Built once, the values bound at each execution. A statement built for each query holds its list
# of record ids in reference cycles (SQLAlchemy's bound parameters), which only a full garbage
# collection frees: hundreds of thousands of record ids piled up between two of those, and the
# extracting process's memory grew with the size of the WARC file.
_READ = select(t.record_versions).where(t.record_versions.c.record_id.in_(bindparam("record_ids", expanding=True)))
_DELETE = delete(t.record_versions).where(t.record_versions.c.record_id.in_(bindparam("record_ids", expanding=True)))


@dataclass(slots=True)
class Latest:
    """What the catalog keeps of a record's latest version."""

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
    #: whether the catalog holds a row for the record already (it is then replaced)
    in_catalog: bool = field(default=False, compare=False)


def read_latest(conn: Connection, record_ids: set[str]) -> dict[str, Latest]:
    """The latest version the catalog holds of each of these records."""
    found: dict[str, Latest] = {}
    keys = sorted(record_ids)
    for start in range(0, len(keys), _KEYS_PER_QUERY):
        for r in conn.execute(_READ, {"record_ids": keys[start : start + _KEYS_PER_QUERY]}):
            found[r.record_id] = Latest(
                r.version_id, utc(r.captured_at), r.versions, r.deleted, r.account, r.kind, r.by_department, r.root_id, r.created_at and utc(r.created_at), r.last_walk, in_catalog=True
            )
    return found


def write_latest(conn: Connection, latest: dict[str, Latest]) -> None:
    """Make these the catalog's latest versions of their records."""
    replaced = [key for key, known in latest.items() if known.in_catalog]
    for start in range(0, len(replaced), _KEYS_PER_QUERY):
        conn.execute(_DELETE, {"record_ids": replaced[start : start + _KEYS_PER_QUERY]})
    sql, parameters = _insert(conn.dialect)
    keys = list(latest)
    # a few thousand at a time: a list of every row's parameters would be a chunk's worth
    for start in range(0, len(keys), _ROWS_PER_WRITE):
        conn.exec_driver_sql(sql, parameters([(key, latest[key]) for key in keys[start : start + _ROWS_PER_WRITE]]))
    for known in latest.values():
        known.in_catalog = True


@cache
def _insert(dialect: Dialect) -> tuple[str, Callable[[list[tuple[str, Latest]]], list[Any]]]:
    """The dialect's ``INSERT`` of one ``record_versions`` row, and what makes the parameters of
    a list of rows."""
    compiled = insert(t.record_versions).compile(dialect=dialect)
    processors = [(i, process) for i, c in enumerate(t.record_versions.columns) if (process := c.type.dialect_impl(dialect).bind_processor(dialect))]
    # positional (``?``, ``%s``) in the statement's order, else by name (the columns' names)
    order = [_COLUMNS.index(name) for name in compiled.positiontup or ()] if compiled.positional else None

    def parameters(rows: list[tuple[str, Latest]]) -> list[Any]:
        # column by column: the conversions are then one ``map`` each
        known = [latest for _, latest in rows]
        columns: list[list[Any]] = [[key for key, _ in rows], *(list(map(getter, known)) for getter in _GETTERS)]
        for i, process in processors:
            converted: dict[Any, Any] = {None: None}  # the rows of a page share their capture time
            columns[i] = [converted[v] if v in converted else converted.setdefault(v, process(v)) for v in columns[i]]
        if order is None:
            return [dict(zip(_COLUMNS, values)) for values in zip(*columns)]
        return list(zip(*(columns[i] for i in order)))

    return str(compiled), parameters
