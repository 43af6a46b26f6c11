"""Legal hold on the WARC objects that hold captures of held records: what the catalog wants of
the store, and what the store was last seen to do.

A hold placed, added to or released is entered in ``hold_changes`` in the same transaction as the
change itself (``note_change``), so the store step can never be forgotten, whoever made the
change. The store step (``archiver.pipeline.legal_holds``) then works out which objects must be
held (``resolve``: an object is held while any record with a capture in it is under an active
hold), sets or releases the legal hold in the store, and records each outcome (``mark_applied``).

An object is *pending* while what is wanted of it differs from what the store last did: on and
not yet set, or off and not yet released. Sangrah only releases a legal hold it set itself: an
object it never held is never touched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, Boolean, Column, Connection, DateTime, Integer, String, Table, Text, insert, or_, select, update

from archiver.catalog import Catalog
from archiver.catalog.tables import metadata

__all__ = [
    "hold_changes",
    "warc_legal_holds",
    "ObjectHold",
    "note_change",
    "unresolved_changes",
    "resolve",
    "pending_objects",
    "object_holds",
    "mark_applied",
]

#: one row per change of a hold, entered with it; resolved once the objects it touches are worked out
hold_changes = Table(
    "hold_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("hold_id", Integer, nullable=False),
    Column("change", String(20), nullable=False),  # place, add, release
    Column("at", DateTime(timezone=True), nullable=False),
    Column("resolved_at", DateTime(timezone=True)),
)

#: per WARC object: is a legal hold wanted, which holds want it, and what the store last did
warc_legal_holds = Table(
    "warc_legal_holds",
    metadata,
    Column("warc_file", String(255), primary_key=True),
    Column("wanted", Boolean, nullable=False),
    Column("hold_ids", JSON, nullable=False),  # the active holds with a record in it, when resolved
    Column("applied", Boolean),  # None: the store was never asked
    Column("resolved_at", DateTime(timezone=True), nullable=False),
    Column("applied_at", DateTime(timezone=True)),
    Column("error", Text),  # why the store step failed last, until it succeeds
)


@dataclass(frozen=True, slots=True)
class ObjectHold:
    """The legal-hold state of one WARC object."""

    warc_file: str
    wanted: bool
    hold_ids: tuple[int, ...]
    applied: bool | None
    applied_at: datetime | None
    error: str | None

    @property
    def pending(self) -> bool:
        return self.wanted != bool(self.applied)

    def to_json(self) -> dict[str, Any]:
        return {
            "warc_file": self.warc_file, "wanted": self.wanted, "holds": [f"H-{i}" for i in self.hold_ids], "applied": self.applied,
            "applied_at": self.applied_at.isoformat() if self.applied_at else None, "pending": self.pending, "error": self.error,
        }


def _now() -> datetime:
    return datetime.now(timezone.utc)


def note_change(conn: Connection, hold_id: int, change: str, at: datetime) -> None:
    """Enter a change of hold ``hold_id`` for the store step, inside the change's own transaction."""
    conn.execute(insert(hold_changes).values(hold_id=hold_id, change=change, at=at))


def unresolved_changes(catalog: Catalog) -> list[tuple[int, int, str]]:
    """(change id, hold id, change) of the changes whose objects are not yet worked out."""
    with catalog.engine.connect() as conn:
        rows = conn.execute(select(hold_changes.c.id, hold_changes.c.hold_id, hold_changes.c.change).where(hold_changes.c.resolved_at.is_(None)).order_by(hold_changes.c.id))
        return [(int(r[0]), int(r[1]), str(r[2])) for r in rows]


def resolve(catalog: Catalog, wanted: Mapping[str, Sequence[int]], *, through_change: int) -> bool:
    """Record that exactly the objects in ``wanted`` (WARC file → the holds wanting it) must be
    held, and that the changes up to ``through_change`` are worked out.

    ``wanted`` must cover every record under an active hold as the catalog stood when
    ``through_change`` was read; a change entered since stays unresolved for the next run.
    False (and nothing written) when another run already resolved a later change.
    """
    at = _now()

    def work(conn: Connection) -> bool:
        newer = conn.execute(select(hold_changes.c.id).where(hold_changes.c.id > through_change, hold_changes.c.resolved_at.is_not(None)).limit(1)).first()
        if newer is not None:
            return False  # another run resolved later changes meanwhile: its answer stands
        known = {row[0]: row[1] for row in conn.execute(select(warc_legal_holds.c.warc_file, warc_legal_holds.c.wanted))}
        for name, ids in sorted(wanted.items()):
            values = {"wanted": True, "hold_ids": sorted(set(ids)), "resolved_at": at}
            if name in known:
                conn.execute(update(warc_legal_holds).where(warc_legal_holds.c.warc_file == name).values(**values))
            else:
                conn.execute(insert(warc_legal_holds).values(warc_file=name, **values))
        released = sorted(name for name, on in known.items() if on and name not in wanted)
        for name in released:
            conn.execute(update(warc_legal_holds).where(warc_legal_holds.c.warc_file == name).values(wanted=False, hold_ids=[], resolved_at=at))
        conn.execute(update(hold_changes).where(hold_changes.c.id <= through_change, hold_changes.c.resolved_at.is_(None)).values(resolved_at=at))
        return True

    return catalog.write(work)


def _state(row: Any) -> ObjectHold:
    applied_at = row["applied_at"]
    if applied_at is not None and applied_at.tzinfo is None:
        applied_at = applied_at.replace(tzinfo=timezone.utc)
    return ObjectHold(row["warc_file"], bool(row["wanted"]), tuple(row["hold_ids"] or ()), row["applied"], applied_at, row["error"])


def pending_objects(catalog: Catalog) -> list[ObjectHold]:
    """The objects whose legal hold the store has yet to set (or release), by name."""
    c = warc_legal_holds.c
    query = select(warc_legal_holds).where(
        or_(c.wanted.is_(True) & or_(c.applied.is_(None), c.applied.is_(False)), c.wanted.is_(False) & c.applied.is_(True))
    ).order_by(c.warc_file)
    with catalog.engine.connect() as conn:
        return [_state(r) for r in conn.execute(query).mappings()]


def object_holds(catalog: Catalog, names: Sequence[str] | None = None) -> dict[str, ObjectHold]:
    """The legal-hold state of the given objects (of every object Sangrah ever held when None)."""
    query = select(warc_legal_holds).order_by(warc_legal_holds.c.warc_file)
    if names is not None:
        query = query.where(warc_legal_holds.c.warc_file.in_(sorted(set(names))))
    with catalog.engine.connect() as conn:
        return {r["warc_file"]: _state(r) for r in conn.execute(query).mappings()}


def mark_applied(catalog: Catalog, warc_file: str, *, on: bool | None, error: str | None = None) -> None:
    """What the store did to ``warc_file``: set its legal hold ``on`` (True/False), or failed with ``error`` (``on`` None)."""
    values: dict[str, Any] = {"error": error}
    if on is not None:
        values.update(applied=on, applied_at=_now(), error=None)

    def work(conn: Connection) -> None:
        conn.execute(update(warc_legal_holds).where(warc_legal_holds.c.warc_file == warc_file).values(**values))

    catalog.write(work)

