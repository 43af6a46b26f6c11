"""The audit log as a hash chain: who did what, when, and proof that no entry was changed since.

Each entry stores the SHA-256 of its canonical content together with the previous entry's hash
(``prev_hash``; the first entry's is 64 zeros), so changing, removing or inserting an entry
breaks the chain at that point, and ``verify_chain`` names the first entry where it breaks.
The database refuses UPDATE and DELETE on the table (triggers of migration 0001); the chain is
what still shows tampering by someone who dropped them with direct access to the file.

A chain can be cut short at its end, or rewritten whole, without a visible break. A head
written down outside the system (``ChainHead``, ``SEQ:HASH``: the daily report carries the hash,
``sangrah audit head`` prints both) anchors it: ``verify_chain(engine, anchor=head)`` also checks
that the entry is still in the chain at its place, and names what is missing when it is not.
Since an entry's hash covers its id, a hash found at another place means the number was copied
wrong, not that the entry moved.

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

__all__ = [
    "GENESIS", "CHAIN_VERSION", "WHEN_TAMPERED", "AuditEntry", "ChainHead", "AnchorCheck", "ChainReport", "append_entry", "entry_hash", "iter_entries", "verify_chain",
]

#: the prev_hash of the first entry
GENESIS = "0" * 64
CHAIN_VERSION = 1

_HEX = frozenset("0123456789abcdef")

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
class ChainHead:
    """A head of the chain as written down outside the system: its entry's number, if kept, and hash.

    Usage::

        ChainHead.parse("1204:403b159b…")   # ChainHead(hash="403b159b…", id=1204)
        str(head)                           # "1204:403b159b…", as ``sangrah audit head`` prints it
    """

    hash: str
    id: int | None = None

    @classmethod
    def parse(cls, text: str) -> ChainHead:
        """``SEQ:HASH``, or the hash alone; ``ValueError`` saying what is wrong with it."""
        value = text.strip().lower()
        number, sep, digest = value.rpartition(":")
        if sep and not number.isdigit():
            raise ValueError(f"{text.strip()!r}: the part before ':' must be the entry number, e.g. 1204:403b…")
        if sep and int(number) < 1:
            raise ValueError(f"{text.strip()!r}: entries are numbered from 1")
        if not set(digest) <= _HEX:
            raise ValueError(f"{text.strip()!r}: a hash is written with the digits 0-9 and the letters a-f only")
        if len(digest) != 64:
            raise ValueError(f"{text.strip()!r}: a hash has 64 digits, this one {len(digest)}")
        return cls(digest, int(number) if sep else None)

    def __str__(self) -> str:
        return self.hash if self.id is None else f"{self.id}:{self.hash}"


@dataclass(frozen=True, slots=True)
class AnchorCheck:
    """Whether a head written down (``head``) is still in the chain at its place: ``found_id``,
    or what is missing and the next step (``problem``)."""

    head: ChainHead
    found_id: int | None
    problem: str | None = None

    @property
    def found(self) -> bool:
        return self.problem is None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.head.id, "hash": self.head.hash, "found": self.found, "found_id": self.found_id, "problem": self.problem}


@dataclass(frozen=True, slots=True)
class ChainReport:
    """What ``verify_chain`` found: entries checked, the head, the first break (None if intact),
    and, when a head written down was given, whether it is still there (``anchor``)."""

    entries: int
    head_id: int | None
    head_hash: str | None
    broken_id: int | None = None
    problem: str | None = None
    head_at: datetime | None = None
    anchor: AnchorCheck | None = None

    @property
    def intact(self) -> bool:
        """No break in the chain; a chain cut short at its end is still intact (see ``anchor``)."""
        return self.broken_id is None

    @property
    def head(self) -> ChainHead | None:
        return None if self.head_id is None or self.head_hash is None or not self.intact else ChainHead(self.head_hash, self.head_id)


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


def verify_chain(engine: Engine, anchor: ChainHead | None = None) -> ChainReport:
    """Walk the chain from its first entry; stop at the first entry that breaks it.

    With ``anchor`` (a head written down earlier), also check that its entry is still in the
    chain, before any break, at its place; ``report.anchor`` says so or names what is missing.
    """
    count = 0
    prev: AuditEntry | None = None
    prev_hash = GENESIS
    at_place: AuditEntry | None = None  # the entry at the anchor's number
    hash_at: int | None = None  # the entry with the anchor's hash
    for entry in iter_entries(engine):
        count += 1
        problem = _link_problem(entry, prev, prev_hash)
        if problem is not None:
            check = _check_anchor(anchor, at_place, hash_at, prev, entry.id)
            return ChainReport(count, prev.id if prev else None, prev_hash, entry.id, problem, prev.at if prev else None, check)
        if anchor is not None:
            if entry.id == anchor.id:
                at_place = entry
            if entry.entry_hash == anchor.hash:
                hash_at = entry.id
        prev, prev_hash = entry, entry.entry_hash or ""
    check = _check_anchor(anchor, at_place, hash_at, prev, None)
    if prev is None:
        return ChainReport(count, None, None, anchor=check)
    return ChainReport(count, prev.id, prev_hash, head_at=prev.at, anchor=check)


def _link_problem(entry: AuditEntry, prev: AuditEntry | None, prev_hash: str) -> str | None:
    """Why ``entry`` does not chain to ``prev`` (None before the first entry), or None if it does."""
    expected_id = 1 if prev is None else prev.id + 1
    if entry.id != expected_id:
        one = entry.id == expected_id + 1
        missing = f"entry {expected_id}" if one else f"entries {expected_id} to {entry.id - 1}"
        return f"{_name(entry)} follows entry {prev.id if prev else 0}: {missing} {'is' if one else 'are'} missing (removed from the log)"
    if entry.entry_hash is None or entry.prev_hash is None:
        return f"{_name(entry)} has no hash: it was written outside Sangrah, or its hash was erased"
    if entry.prev_hash != prev_hash:
        before = "the chain's start" if prev is None else f"entry {prev.id}"
        return f"{_name(entry)} does not chain to {before}: an entry before it was changed, removed or inserted"
    recomputed = entry_hash(prev_hash, id=entry.id, at=entry.at, actor=entry.actor, action=entry.action, target=entry.target, outcome=entry.outcome, details=entry.details)
    if recomputed != entry.entry_hash:
        return f"{_name(entry)} no longer matches its hash: it was changed after it was written"
    return None


#: what to do when the chain is broken, or a head written down is not where it was
WHEN_TAMPERED = "Keep the catalog file as it is and tell the records officer (PRA s.7)."


def _check_anchor(anchor: ChainHead | None, at_place: AuditEntry | None, hash_at: int | None, last: AuditEntry | None, broken_id: int | None) -> AnchorCheck | None:
    """Whether ``anchor`` was seen in the entries that chain (up to ``last``, the last before any break)."""
    if anchor is None:
        return None
    if anchor.id is None and hash_at is not None:
        return AnchorCheck(anchor, hash_at)
    if at_place is not None and at_place.entry_hash == anchor.hash:
        return AnchorCheck(anchor, at_place.id)
    if hash_at is not None:
        # the hash covers the entry's id, so it cannot have moved: the number was copied wrong
        return AnchorCheck(anchor, None, (
            f"the hash written down is that of entry {hash_at}, not of entry {anchor.id}: the entry number was copied wrong. "
            f"Check it against the record, then run: sangrah audit verify --head {hash_at}:{anchor.hash}"
        ))
    if broken_id is not None:
        return AnchorCheck(anchor, None, (
            f"the head written down ({anchor}) is not among the entries before the break at entry {broken_id}, "
            f"so it cannot be confirmed. {WHEN_TAMPERED}"
        ))
    ends = f"the log ends at {_name(last)}" if last is not None else "the log is empty"
    if anchor.id is None:
        return AnchorCheck(anchor, None, (
            f"no entry has the hash written down ({anchor.hash}), and {ends}: entries were cut off the end of the log, or the log "
            f"was rewritten, since the head was written down, or the hash was copied wrong. Give the head with its entry number "
            f"(SEQ:HASH, as sangrah audit head prints it) to tell which; if it was copied right: {WHEN_TAMPERED}"
        ))
    if at_place is None:
        first = last.id + 1 if last is not None else 1
        missing = f"entry {first} is" if first == anchor.id else f"entries {first} to {anchor.id} are"
        return AnchorCheck(anchor, None, (
            f"{ends}, but the head written down was entry {anchor.id}: {missing} missing, cut off the end of the log "
            f"(or the whole log replaced by a shorter one). The chain shows no break for this by itself. {WHEN_TAMPERED}"
        ))
    return AnchorCheck(anchor, None, (
        f"{_name(at_place)} has the hash {at_place.entry_hash}, "
        f"not the {anchor.hash} written down: the log was rewritten up to that entry with its hashes computed again, or the hash "
        f"was copied wrong. Compare it with the record; if it was copied right: {WHEN_TAMPERED}"
    ))


def _name(entry: AuditEntry) -> str:
    return f"entry {entry.id} ({entry.action} by {entry.actor} at {entry.at.isoformat(timespec='seconds')})"


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(
        id=row["id"], at=utc(row["at"]), actor=row["actor"], action=row["action"], target=row["target"], outcome=row["outcome"],
        details=dict(row["details"] or {}), prev_hash=row["prev_hash"], entry_hash=row["entry_hash"],
    )
