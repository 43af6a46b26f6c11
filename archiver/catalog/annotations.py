"""Annotations: what people decide about records after capture, kept beside them in the catalog.

Two kinds, both per record (``platform:native_id``, every version of it):

- **RTI relevance marks**: relevant yes or no, with the reason, the source (``manual``, or
  ``rule:<id>`` when a rule decided), who and when. Marks are never changed or removed: each new
  mark is appended, and the latest one is in force. A manual mark beats any rule, so a rule never
  undoes a person's decision (rule matches are derived at indexing, see docs/search.md).
- **Holds** (RTI-RULES section 8, R11): a hold names its type, a reference (an RTI registration
  number, a case or audit para number), the reason, who placed it and when, and the records it
  covers; a saved query may add records to it. A hold blocks disposal absolutely, never expires,
  and ends only by an explicit release that records who, when and why. Only a user holding the
  role the hold's type names in ``RELEASE_ROLES`` may release it (R17); a refusal is audited.

Every change is entered in the catalog's audit log in the same transaction as the change, and a
change of a hold is also entered for the store step that puts the WARC objects of its records
under legal hold (``archiver.catalog.legal_holds``, run by ``archiver.pipeline.legal_holds``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Boolean, Column, Connection, DateTime, ForeignKey, Integer, PrimaryKeyConstraint, String, Table, Text, insert, select, update

from archiver.access.users import authorize
from archiver.catalog import Catalog
from archiver.catalog.audit import append_entry
from archiver.catalog.legal_holds import note_change
from archiver.catalog.tables import metadata
from archiver.errors import AccessDenied, CatalogError

__all__ = [
    "HOLD_TYPES",
    "HOLD_TYPE_RULES",
    "HOLD_TYPE_ALIASES",
    "RELEASE_ROLES",
    "hold_type_of",
    "Mark",
    "Hold",
    "rti_marks",
    "holds",
    "hold_records",
    "mark_records",
    "latest_marks",
    "mark_history",
    "place_hold",
    "add_to_hold",
    "release_hold",
    "get_hold",
    "list_holds",
    "active_holds",
    "records_of_hold",
]

#: RTI-RULES.md section 8, R11; INVESTIGATION is the law-enforcement preservation hold
HOLD_TYPES = ("RTI_PENDING", "THIRD_PARTY_WINDOW", "LITIGATION", "AUDIT_OBJECTION", "INVESTIGATION", "APPRAISAL_PENDING", "CLASSIFIED_REVIEW")

#: hold type -> what it keeps, and until when (RTI-RULES R11)
HOLD_TYPE_RULES: dict[str, str] = {
    "RTI_PENDING": "an RTI request, first or second appeal or complaint is pending: until the final order and the appeal windows after it",
    "THIRD_PARTY_WINDOW": "a s.11(3) decision to disclose third-party information: disclosure waits out the 30-day s.19(2) appeal window",
    "LITIGATION": "a case before a court or tribunal concerns the records: until it is finally disposed of",
    "AUDIT_OBJECTION": "an audit para or objection concerns the records: until it is settled",
    "INVESTIGATION": "an investigation or a law-enforcement preservation request (at least 180 days for removed content, IT Rules 2021)",
    "APPRAISAL_PENDING": "records older than 25 years await appraisal for transfer to the archives",
    "CLASSIFIED_REVIEW": "the records await a classification review",
}

#: other names the rule book uses for a type
HOLD_TYPE_ALIASES: dict[str, str] = {"INVESTIGATION/LE_PRESERVATION": "INVESTIGATION", "LE_PRESERVATION": "INVESTIGATION", "PRESERVATION": "INVESTIGATION"}

#: hold type -> the roles that may release it (R17): the CPIO/SPIO the holds of a request, the
#: records officer any hold
RELEASE_ROLES: dict[str, frozenset[str]] = {
    kind: frozenset({"pio", "records_officer"}) if kind in ("RTI_PENDING", "THIRD_PARTY_WINDOW") else frozenset({"records_officer"}) for kind in HOLD_TYPES
}

rti_marks = Table(
    "rti_marks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("record_id", String(600), nullable=False, index=True),
    Column("relevant", Boolean, nullable=False),
    Column("reason", Text, nullable=False),
    Column("source", String(200), nullable=False),  # manual, or rule:<id>
    Column("actor", String(255), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

holds = Table(
    "holds",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("hold_type", String(40), nullable=False),
    Column("reference", String(255), nullable=False),
    Column("reason", Text, nullable=False),
    Column("placed_by", String(255), nullable=False),
    Column("placed_at", DateTime(timezone=True), nullable=False),
    Column("query", Text),  # a saved search whose matches the hold covers as well
    Column("query_filters", Text),
    Column("released_by", String(255)),
    Column("released_at", DateTime(timezone=True)),
    Column("release_reason", Text),
)

hold_records = Table(
    "hold_records",
    metadata,
    Column("hold_id", Integer, ForeignKey("holds.id"), nullable=False),
    Column("record_id", String(600), nullable=False, index=True),
    Column("added_by", String(255), nullable=False),
    Column("added_at", DateTime(timezone=True), nullable=False),
    Column("via", String(20), nullable=False),  # ids, or query
    PrimaryKeyConstraint("hold_id", "record_id", name="pk_hold_records"),
)


@dataclass(frozen=True, slots=True)
class Mark:
    record_id: str
    relevant: bool
    reason: str
    source: str
    actor: str | None
    at: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {"relevant": self.relevant, "reason": self.reason, "source": self.source, "by": self.actor, "at": self.at.isoformat() if self.at else None}


@dataclass(frozen=True, slots=True)
class Hold:
    id: int
    hold_type: str
    reference: str
    reason: str
    placed_by: str
    placed_at: datetime
    query: str | None
    query_filters: str | None
    released_by: str | None
    released_at: datetime | None
    release_reason: str | None

    @property
    def active(self) -> bool:
        return self.released_at is None

    @property
    def label(self) -> str:
        return f"H-{self.id} {self.hold_type} {self.reference}"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.hold_type,
            "reference": self.reference,
            "reason": self.reason,
            "placed_by": self.placed_by,
            "placed_at": self.placed_at.isoformat(),
            "query": self.query,
            "released_by": self.released_by,
            "released_at": self.released_at.isoformat() if self.released_at else None,
            "release_reason": self.release_reason,
        }


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=timezone.utc) if value is not None and value.tzinfo is None else value


def _audit(conn: Any, actor: str, action: str, target: str, details: Mapping[str, Any]) -> None:
    # chained onto the audit log in the same transaction as the change it records
    append_entry(conn, actor=actor, action=action, target=target, outcome="ok", details=details, at=_now())


def _required(value: str | None, what: str, example: str) -> str:
    if value is None or not value.strip():
        raise CatalogError(f"{what} is required and may not be empty; give it, e.g. {example}.")
    return value.strip()


def _chunks(items: Sequence[str], size: int = 500) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# -- marks -----------------------------------------------------------------------------------------
def mark_records(catalog: Catalog, record_ids: Sequence[str], *, relevant: bool, reason: str, actor: str, source: str = "manual") -> int:
    """Append a mark for each record; returns how many were marked. One audit entry per call."""
    reason = _required(reason, "the reason of an RTI relevance mark", '--reason "asked for in RTI/2026/0042"')
    ids = sorted(set(record_ids))
    if not ids:
        raise CatalogError("no record to mark: give record ids (platform:native_id) or a query that finds records.")
    if source != "manual" and not source.startswith("rule:"):
        raise CatalogError(f"a mark's source is manual or rule:<id>, not {source!r}.")
    at = _now()

    def work(conn: Connection) -> None:
        for part in _chunks(ids, 2_000):
            conn.execute(insert(rti_marks), [{"record_id": r, "relevant": relevant, "reason": reason, "source": source, "actor": actor, "at": at} for r in part])
        _audit(conn, actor, "rti_mark", ids[0] if len(ids) == 1 else f"{len(ids)} records", {"relevant": relevant, "reason": reason, "source": source, "records": ids[:200], "count": len(ids)})

    catalog.write(work)
    return len(ids)


def latest_marks(catalog: Catalog, record_ids: Iterable[str]) -> dict[str, Mark]:
    """The mark in force for each of ``record_ids`` that has one: the latest manual mark."""
    ids = sorted(set(record_ids))
    out: dict[str, Mark] = {}
    with catalog.engine.connect() as conn:
        for part in _chunks(ids):
            rows = conn.execute(select(rti_marks).where(rti_marks.c.record_id.in_(part), rti_marks.c.source == "manual").order_by(rti_marks.c.id)).mappings()
            for row in rows:  # in id order, so the last one seen is the latest
                out[row["record_id"]] = Mark(row["record_id"], row["relevant"], row["reason"], row["source"], row["actor"], _aware(row["at"]))
    return out


def mark_history(catalog: Catalog, record_id: str) -> list[Mark]:
    with catalog.engine.connect() as conn:
        rows = conn.execute(select(rti_marks).where(rti_marks.c.record_id == record_id).order_by(rti_marks.c.id)).mappings()
        return [Mark(r["record_id"], r["relevant"], r["reason"], r["source"], r["actor"], _aware(r["at"])) for r in rows]


# -- holds -----------------------------------------------------------------------------------------
def hold_type_of(name: str) -> str:
    """The hold type ``name`` names (any case, or a name of the rule book); CatalogError if none."""
    key = name.strip().upper()
    key = HOLD_TYPE_ALIASES.get(key, key)
    if key not in HOLD_TYPES:
        raise CatalogError(f"there is no hold type {name!r}; the types are {', '.join(HOLD_TYPES)} (RTI-RULES section 8, R11).")
    return key


def _hold(row: Any) -> Hold:
    return Hold(
        id=row["id"],
        hold_type=row["hold_type"],
        reference=row["reference"],
        reason=row["reason"],
        placed_by=row["placed_by"],
        placed_at=_aware(row["placed_at"]),  # type: ignore[arg-type]
        query=row["query"],
        query_filters=row["query_filters"],
        released_by=row["released_by"],
        released_at=_aware(row["released_at"]),
        release_reason=row["release_reason"],
    )


def place_hold(
    catalog: Catalog,
    *,
    hold_type: str,
    reference: str,
    reason: str,
    actor: str,
    record_ids: Sequence[str] = (),
    query: str | None = None,
    query_filters: str | None = None,
) -> Hold:
    """Place a hold on records (and, with ``query``, on what that saved search finds: the
    caller adds those with ``add_to_hold(..., via="query")``)."""
    hold_type = hold_type_of(hold_type)
    actor = _required(actor, "who places a hold", "--user records.officer")
    reference = _required(reference, "the reference of a hold", "--reference RTI/2026/0042")
    reason = _required(reason, "the reason of a hold", '--reason "request for the flood relief replies of August"')
    if not record_ids and not query:
        raise CatalogError("a hold must cover records: give record ids or a query.")
    at = _now()
    ids = sorted(set(record_ids))

    def work(conn: Connection) -> int:
        hold_id = int(conn.execute(
            insert(holds).values(hold_type=hold_type, reference=reference, reason=reason, placed_by=actor, placed_at=at, query=query, query_filters=query_filters)
        ).inserted_primary_key[0])  # type: ignore[index]
        for part in _chunks(ids, 2_000):
            conn.execute(insert(hold_records), [{"hold_id": hold_id, "record_id": r, "added_by": actor, "added_at": at, "via": "ids"} for r in part])
        _audit(conn, actor, "hold_place", f"H-{hold_id}", {"type": hold_type, "reference": reference, "reason": reason, "query": query, "records": ids[:200], "count": len(ids)})
        note_change(conn, hold_id, "place", at)
        return hold_id

    hold = get_hold(catalog, catalog.write(work))
    assert hold is not None
    return hold


def add_to_hold(catalog: Catalog, hold_id: int, record_ids: Sequence[str], *, actor: str, via: str = "ids") -> int:
    """Add records to an active hold; returns how many were new to it."""
    hold = get_hold(catalog, hold_id)
    if hold is None:
        raise CatalogError(f"there is no hold H-{hold_id}; list them with: sangrah hold list")
    if not hold.active:
        raise CatalogError(f"hold H-{hold_id} was released on {hold.released_at:%Y-%m-%d}; place a new hold instead.")
    at = _now()

    def work(conn: Connection) -> int:
        have: set[str] = set()
        for part in _chunks(sorted(set(record_ids))):
            have |= set(conn.execute(select(hold_records.c.record_id).where(hold_records.c.hold_id == hold_id, hold_records.c.record_id.in_(part))).scalars())
        new = sorted(set(record_ids) - have)
        for part in _chunks(new, 2_000):
            conn.execute(insert(hold_records), [{"hold_id": hold_id, "record_id": r, "added_by": actor, "added_at": at, "via": via} for r in part])
        if new:
            _audit(conn, actor, "hold_add", f"H-{hold_id}", {"via": via, "records": new[:200], "count": len(new)})
            note_change(conn, hold_id, "add", at)
        return len(new)

    return catalog.write(work)


def release_hold(catalog: Catalog, hold_id: int, *, actor: str, reason: str) -> Hold:
    """End a hold by a recorded act; the records it covered stay listed with it.

    ``actor`` must be a user of the catalog holding a role of ``RELEASE_ROLES`` for the hold's
    type; anyone else is refused with ``AccessDenied`` naming the role, and the refusal is audited.
    """
    reason = _required(reason, "the reason for releasing a hold", '--reason "final order of the FAA, appeal window over"')
    found = get_hold(catalog, hold_id)
    if found is None:
        raise CatalogError(f"hold H-{hold_id} does not exist; list them with: sangrah hold list")
    if not found.active:
        raise CatalogError(f"hold H-{hold_id} was already released on {found.released_at:%Y-%m-%d} by {found.released_by}.")
    target = f"H-{hold_id}"
    person = authorize(catalog, actor, "hold release", target=target)
    needed = RELEASE_ROLES[found.hold_type]
    if not person.has(needed):
        held = ", ".join(sorted(person.roles))
        catalog.audit(actor=actor, action="hold_release", target=target, outcome="refused", details={"needs": sorted(needed), "type": found.hold_type, "why": f"holds {held}"})
        raise AccessDenied(
            f"hold release: a {found.hold_type} hold is released only by the {' or '.join(sorted(needed))}; {actor!r} holds {held} (R11, R17). "
            f"Ask the records officer, or an administrator to grant the role: sangrah users grant {actor} {sorted(needed)[0]} --reason TEXT",
            user=actor, command="hold release", roles=tuple(sorted(needed)),
        )

    def work(conn: Connection) -> None:
        at = _now()
        changed = conn.execute(
            update(holds).where(holds.c.id == hold_id, holds.c.released_at.is_(None)).values(released_by=actor, released_at=at, release_reason=reason)
        ).rowcount
        if not changed:
            raise CatalogError(f"hold H-{hold_id} was already released.")
        _audit(conn, actor, "hold_release", target, {"reason": reason, "type": found.hold_type, "reference": found.reference})
        note_change(conn, hold_id, "release", at)

    catalog.write(work)
    hold = get_hold(catalog, hold_id)
    assert hold is not None
    return hold


def get_hold(catalog: Catalog, hold_id: int) -> Hold | None:
    with catalog.engine.connect() as conn:
        row = conn.execute(select(holds).where(holds.c.id == hold_id)).mappings().first()
    return _hold(row) if row else None


def list_holds(catalog: Catalog, *, active_only: bool = False) -> list[Hold]:
    query = select(holds).order_by(holds.c.id)
    if active_only:
        query = query.where(holds.c.released_at.is_(None))
    with catalog.engine.connect() as conn:
        return [_hold(r) for r in conn.execute(query).mappings()]


def records_of_hold(catalog: Catalog, hold_id: int) -> list[str]:
    with catalog.engine.connect() as conn:
        return list(conn.execute(select(hold_records.c.record_id).where(hold_records.c.hold_id == hold_id).order_by(hold_records.c.record_id)).scalars())


def active_holds(catalog: Catalog, record_ids: Iterable[str]) -> dict[str, list[Hold]]:
    """The active holds covering each of ``record_ids`` that has any, in the order placed."""
    ids = sorted(set(record_ids))
    out: dict[str, list[Hold]] = {}
    with catalog.engine.connect() as conn:
        for part in _chunks(ids):
            rows = conn.execute(
                select(hold_records.c.record_id, holds)
                .join(holds, holds.c.id == hold_records.c.hold_id)
                .where(hold_records.c.record_id.in_(part), holds.c.released_at.is_(None))
                .order_by(holds.c.id)
            ).mappings()
            for row in rows:
                out.setdefault(row["record_id"], []).append(_hold(row))
    return out
