"""The audit log as a hash chain: who did what, when, and proof that no entry was changed since.

Each entry stores the SHA-256 of its canonical content together with the previous entry's hash
(``prev_hash``; the first entry's is 64 zeros), so changing, removing or inserting an entry
breaks the chain at that point, and ``verify_chain`` names the first entry where it breaks.
The database refuses UPDATE and DELETE on the table (triggers of migration 0001); the chain is
what still shows tampering by someone who dropped them with direct access to the file.

A chain can be truncated at its end, or rewritten whole, without a visible break: the head hash
that ``verify_chain`` reports is what to write down elsewhere (the daily report does) so that a
later check can show the head it knew is still in the chain.

The hashed content is fixed (``CHAIN_VERSION``): id, instant (UTC, microseconds), actor, action,
target, outcome and details, as canonical JSON (``archiver.model.canonical_json``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, text

from archiver.catalog import tables as t
from archiver.errors import CatalogError
from archiver.model import canonical_json, utc

__all__ = ["GENESIS", "CHAIN_VERSION", "AuditEntry", "ChainReport", "append_entry", "entry_hash", "iter_entries", "verify_chain"]

#: the prev_hash of the first entry
GENESIS = "0" * 64
CHAIN_VERSION = 1

#: the PostgreSQL advisory lock that queues the writers of the audit log (any fixed number)
_PG_LOCK = 0x5A4E_4752_4148_4155


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str
    target: str | None
    outcome: str
    details: dict[str, Any]
    prev_hash: str | None
    entry_hash: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "at": self.at.isoformat(), "actor": self.actor, "action": self.action, "target": self.target,
            "outcome": self.outcome, "details": self.details, "prev_hash": self.prev_hash, "entry_hash": self.entry_hash,
        }


@dataclass(frozen=True, slots=True)
class ChainReport:
    """What ``verify_chain`` found: entries checked, the head, and the first break (None if intact)."""

    entries: int
    head_id: int | None
    head_hash: str | None
    broken_id: int | None = None
    problem: str | None = None

    @property
    def intact(self) -> bool:
        return self.broken_id is None


def entry_hash(prev_hash: str, *, id: int, at: datetime, actor: str, action: str, target: str | None, outcome: str, details: Mapping[str, Any] | None) -> str:
    """The SHA-256 (hex) of an entry's canonical content, chained to ``prev_hash``."""
    content = {
        "v": CHAIN_VERSION,
        "id": id,
        "at": utc(at).isoformat(timespec="microseconds"),
        "actor": actor,
        "action": action,
        "target": target,
        "outcome": outcome,
        "details": dict(details or {}),
    }
    return hashlib.sha256(prev_hash.encode("ascii") + canonical_json(content)).hexdigest()


def append_entry(conn: Connection, *, actor: str, action: str, target: str | None, outcome: str, details: Mapping[str, Any] | None, at: datetime) -> AuditEntry:
    """Append one entry at the head of the chain, inside the caller's transaction.

    Writers queue for the head (SQLite: ``Catalog.write`` takes the write lock first;
    PostgreSQL: an advisory lock held to the end of the transaction). Should two still read
    the same head, ``prev_hash`` is unique: the second INSERT fails and ``Catalog.write`` runs
    its transaction again.
    """
    if conn.dialect.name == "postgresql":
        # writers queue here, until the one ahead commits, instead of racing for the head
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK})
    head = conn.execute(select(t.audit_log.c.id, t.audit_log.c.entry_hash).order_by(t.audit_log.c.id.desc()).limit(1)).first()
    if head is not None and head.entry_hash is None:
        raise CatalogError(f"the audit log's last entry ({head.id}) has no hash, so no entry can be chained to it. Run: sangrah audit verify")
    next_id = head.id + 1 if head is not None else 1
    prev = head.entry_hash if head is not None else GENESIS
    at = utc(at)
    clean = dict(details or {})
    digest = entry_hash(prev, id=next_id, at=at, actor=actor, action=action, target=target, outcome=outcome, details=clean)
    conn.execute(
        insert(t.audit_log).values(
            id=next_id, at=at, actor=actor, action=action, target=target, outcome=outcome, details=clean, prev_hash=prev, entry_hash=digest
        )
    )
    return AuditEntry(next_id, at, actor, action, target, outcome, clean, prev, digest)


def iter_entries(
    engine: Engine,
    *,
    action: str | None = None,
    actor: str | None = None,
    target: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Iterator[AuditEntry]:
    """The entries in order, filtered; ``action`` may end in ``*`` to match a prefix (``rti_*``)."""
    c = t.audit_log.c
    query = select(t.audit_log).order_by(c.id)
    if action:
        query = query.where(c.action.like(action[:-1].replace("_", r"\_") + "%", escape="\\") if action.endswith("*") else c.action == action)
    if actor:
        query = query.where(c.actor == actor)
    if target:
        query = query.where(c.target == target)
    if since:
        query = query.where(c.at >= utc(since))
    if until:
        query = query.where(c.at < utc(until))
    with engine.connect() as conn:
        for row in conn.execution_options(yield_per=1000).execute(query).mappings():
            yield _entry(row)


def verify_chain(engine: Engine) -> ChainReport:
    """Walk the chain from its first entry; stop at the first entry that breaks it."""
    count = 0
    prev_id: int | None = None
    prev_hash = GENESIS
    for entry in iter_entries(engine):
        count += 1
        expected_id = 1 if prev_id is None else prev_id + 1
        if entry.id != expected_id:
            missing = f"entry {expected_id}" if entry.id == expected_id + 1 else f"entries {expected_id} to {entry.id - 1}"
            return ChainReport(count, prev_id, prev_hash, entry.id, f"{_name(entry)} follows entry {prev_id or 0}: {missing} {'is' if entry.id == expected_id + 1 else 'are'} missing (removed from the log)")
        if entry.entry_hash is None or entry.prev_hash is None:
            return ChainReport(count, prev_id, prev_hash, entry.id, f"{_name(entry)} has no hash: it was written outside Sangrah, or its hash was erased")
        if entry.prev_hash != prev_hash:
            before = "the chain's start" if prev_id is None else f"entry {prev_id}"
            return ChainReport(count, prev_id, prev_hash, entry.id, f"{_name(entry)} does not chain to {before}: an entry before it was changed, removed or inserted")
        recomputed = entry_hash(prev_hash, id=entry.id, at=entry.at, actor=entry.actor, action=entry.action, target=entry.target, outcome=entry.outcome, details=entry.details)
        if recomputed != entry.entry_hash:
            return ChainReport(count, prev_id, prev_hash, entry.id, f"{_name(entry)} no longer matches its hash: it was changed after it was written")
        prev_id, prev_hash = entry.id, entry.entry_hash
    return ChainReport(count, prev_id, prev_hash if prev_id is not None else None)


def _name(entry: AuditEntry) -> str:
    return f"entry {entry.id} ({entry.action} by {entry.actor} at {entry.at.isoformat(timespec='seconds')})"


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(
        id=row["id"], at=utc(row["at"]), actor=row["actor"], action=row["action"], target=row["target"], outcome=row["outcome"],
        details=dict(row["details"] or {}), prev_hash=row["prev_hash"], entry_hash=row["entry_hash"],
    )
