"""The records a request concerns (its scope): saved searches and picked records, in the catalog.

A scope is what the PIO says the request is about: each saved search (query text and filters,
as ``sangrah search`` takes them) and each pick of record ids is kept with who added it and
when, and the records each resolved to. A saved search is run again only when asked
(``rerun``), and then adds what it finds now; nothing ever leaves a scope, since the records a
request has concerned stay on hold with it (``archiver.rti.holds``).

Searching is not done here: the caller runs the search (``pipeline.search_all_ids``) and hands
over the record ids it found, so that this module needs only the catalog.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from archiver.access.users import Actor
from archiver.catalog import Catalog
from archiver.catalog import rti_review_tables as v
from archiver.catalog import rti_tables as r
from archiver.catalog.audit import append_entry
from archiver.errors import RtiError
from archiver.model import PLATFORMS, utc

__all__ = ["ScopeEntry", "ScopeChange", "request_id_of", "add_search", "add_records", "rerun_search", "list_scope", "scope_record_ids", "check_record_ids"]

_CHUNK = 500


@dataclass(frozen=True, slots=True)
class ScopeEntry:
    id: int
    kind: str  #: search, or records
    query: str | None
    filters: tuple[str, ...]
    found: int
    added_by: str
    added_at: datetime
    run_at: datetime

    @property
    def label(self) -> str:
        return f"Q-{self.id}"

    def describe(self) -> str:
        if self.kind == "records":
            return f"{self.found} record(s) picked by id"
        filters = "".join(f" --filter {f}" for f in self.filters)
        return f"search {self.query or ''!r}{filters}: {self.found} record(s)"


@dataclass(frozen=True, slots=True)
class ScopeChange:
    entry: ScopeEntry
    added: int  #: records new to the scope
    total: int  #: records in the scope after the change


def request_id_of(conn: Connection, registration_no: str) -> int:
    row = conn.execute(select(r.rti_requests.c.id).where(r.rti_requests.c.registration_no == registration_no)).first()
    if row is None:
        raise RtiError(f"{registration_no} is not in the register; list the requests with: sangrah rti list", request=registration_no, field="registration_no", rule="R2")
    return int(row[0])


def check_record_ids(record_ids: Iterable[str], registration_no: str) -> list[str]:
    """Record ids as ``platform:native_id``; a malformed one is refused, naming it."""
    ids = sorted({i.strip() for i in record_ids if i.strip()})
    for rid in ids:
        platform, _, native = rid.partition(":")
        if platform not in PLATFORMS or not native:
            raise RtiError(
                f"{registration_no}: {rid!r} is not a record id; write it as platform:native_id (platforms: {', '.join(PLATFORMS)}), "
                "as sangrah search prints it.", request=registration_no, field="record_id", rule="R11",
            )
    return ids


def _entry(row: object) -> ScopeEntry:
    m = row._mapping  # type: ignore[attr-defined]
    return ScopeEntry(m["id"], m["kind"], m["query"], tuple(m["filters"] or ()), m["found"], m["added_by"], utc(m["added_at"]), utc(m["run_at"]))


def _add_ids(conn: Connection, request_id: int, scope_id: int, ids: Sequence[str], at: datetime) -> int:
    have: set[str] = set()
    for start in range(0, len(ids), _CHUNK):
        part = list(ids[start : start + _CHUNK])
        have |= set(conn.execute(select(v.rti_scope_records.c.record_id).where(v.rti_scope_records.c.request_id == request_id, v.rti_scope_records.c.record_id.in_(part))).scalars())
    new = [i for i in ids if i not in have]
    for start in range(0, len(new), 2_000):
        conn.execute(insert(v.rti_scope_records), [{"request_id": request_id, "record_id": i, "scope_id": scope_id, "added_at": at} for i in new[start : start + 2_000]])
    return len(new)


def _count(conn: Connection, request_id: int) -> int:
    from sqlalchemy import func

    return int(conn.execute(select(func.count()).select_from(v.rti_scope_records).where(v.rti_scope_records.c.request_id == request_id)).scalar_one())


def _add(catalog: Catalog, actor: Actor, registration_no: str, kind: str, query: str | None, filters: Sequence[str], ids: list[str], now: datetime) -> ScopeChange:
    def work(conn: Connection) -> tuple[int, int, int]:
        request_id = request_id_of(conn, registration_no)
        scope_id = int(conn.execute(
            insert(v.rti_scope).values(request_id=request_id, kind=kind, query=query, filters=list(filters) if kind == "search" else None, found=len(ids), added_by=actor.name, added_at=now, run_at=now)
        ).inserted_primary_key[0])  # type: ignore[index]
        added = _add_ids(conn, request_id, scope_id, ids, now)
        total = _count(conn, request_id)
        append_entry(
            conn, actor=actor.name, action="rti_scope_add", target=registration_no, outcome="ok", at=now,
            details={"scope": f"Q-{scope_id}", "kind": kind, "query": query, "filters": list(filters), "found": len(ids), "added": added, "records": ids[:200]},
        )
        return scope_id, added, total

    scope_id, added, total = catalog.write(work)
    entry = next(e for e in list_scope(catalog, registration_no) if e.id == scope_id)
    return ScopeChange(entry, added, total)


def add_search(catalog: Catalog, actor: Actor, registration_no: str, query: str, filters: Sequence[str], found_ids: Iterable[str], *, now: datetime) -> ScopeChange:
    """Save a search in the request's scope with the record ids it found (one per record)."""
    if not query.strip() and not filters:
        raise RtiError(
            f"{registration_no}: a saved search needs a query or a filter, else it would take in the whole archive; "
            'e.g. --search "flood relief" --filter by=citizen', request=registration_no, field="search", rule="R11",
        )
    return _add(catalog, actor, registration_no, "search", query, filters, sorted(set(found_ids)), now)


def add_records(catalog: Catalog, actor: Actor, registration_no: str, record_ids: Iterable[str], *, now: datetime) -> ScopeChange:
    """Add records picked by id to the request's scope."""
    ids = check_record_ids(record_ids, registration_no)
    if not ids:
        raise RtiError(f"{registration_no}: no record id given; e.g. --records x:1994071213470646404", request=registration_no, field="records", rule="R11")
    return _add(catalog, actor, registration_no, "records", None, (), ids, now)


def rerun_search(catalog: Catalog, actor: Actor, registration_no: str, scope_id: int, found_ids: Iterable[str], *, now: datetime) -> ScopeChange:
    """Record a saved search run again: what it finds now joins the scope."""
    ids = sorted(set(found_ids))

    def work(conn: Connection) -> tuple[int, int]:
        request_id = request_id_of(conn, registration_no)
        changed = conn.execute(
            update(v.rti_scope).where(v.rti_scope.c.id == scope_id, v.rti_scope.c.request_id == request_id, v.rti_scope.c.kind == "search").values(found=len(ids), run_at=now)
        ).rowcount
        if not changed:
            raise RtiError(f"{registration_no}: there is no saved search Q-{scope_id} in its scope; see them with: sangrah rti hold {registration_no} --list", request=registration_no, field="scope", rule="R11")
        added = _add_ids(conn, request_id, scope_id, ids, now)
        append_entry(conn, actor=actor.name, action="rti_scope_rerun", target=registration_no, outcome="ok", at=now, details={"scope": f"Q-{scope_id}", "found": len(ids), "added": added})
        return added, _count(conn, request_id)

    added, total = catalog.write(work)
    entry = next(e for e in list_scope(catalog, registration_no) if e.id == scope_id)
    return ScopeChange(entry, added, total)


def list_scope(catalog: Catalog, registration_no: str) -> list[ScopeEntry]:
    with catalog.engine.connect() as conn:
        request_id = request_id_of(conn, registration_no)
        return [_entry(row) for row in conn.execute(select(v.rti_scope).where(v.rti_scope.c.request_id == request_id).order_by(v.rti_scope.c.id))]


def scope_record_ids(catalog: Catalog, registration_no: str) -> list[str]:
    """Every record in the request's scope, sorted."""
    with catalog.engine.connect() as conn:
        request_id = request_id_of(conn, registration_no)
        query = select(v.rti_scope_records.c.record_id).where(v.rti_scope_records.c.request_id == request_id).order_by(v.rti_scope_records.c.record_id)
        return list(conn.execute(query).scalars())
