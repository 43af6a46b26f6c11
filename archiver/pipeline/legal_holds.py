"""The store step of the holds: legal hold on every WARC object that holds a capture of a held
record, and only on those.

``sync_legal_holds`` runs after the catalog has committed a hold's change (``place_hold``,
``release_hold`` and ``index`` call it; ``sangrah hold sync`` runs it on its own). It works out,
from the catalog's active holds and the record dataset's WARC pointers (each version's
``warc_file``, and the files of its media), which objects must be held, and asks the store to
set the legal hold on those not yet held and to release it on those Sangrah held whose records
are no longer under any active hold. Each outcome is kept in the catalog, so the step is
idempotent and can be run again: when the store cannot be reached, the objects it could not
change stay pending (``sangrah verify`` lists them) until the next run succeeds.

The objects are worked out again when a hold changed since the last run, and when Parquet files
were added since (a new capture of a held record lands in a new WARC file).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from archiver.catalog import Catalog
from archiver.catalog import tables as t
from archiver.catalog.annotations import hold_records, holds
from archiver.catalog.legal_holds import ObjectHold, hold_changes, mark_applied, note_change, pending_objects, resolve, unresolved_changes
from archiver.config import Config
from archiver.errors import ConfigError, ObjectMissing, StoreError
from archiver.pipeline.capture import WARC_PREFIX, open_catalog
from archiver.pipeline.stores import open_store

if TYPE_CHECKING:
    from archiver.pipeline.checks import Check

__all__ = ["LegalHoldReport", "sync_legal_holds", "warcs_of_records", "legal_hold_problems", "check_legal_holds"]

log = logging.getLogger(__name__)


@dataclass(slots=True)
class LegalHoldReport:
    """What one run did: objects put under legal hold, objects released, and what is still pending."""

    where: str = ""
    resolved: bool = False
    set_on: list[str] = field(default_factory=list)
    set_off: list[str] = field(default_factory=list)
    pending: list[ObjectHold] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return not self.pending

    def to_json(self) -> dict[str, Any]:
        return {
            "store": self.where, "resolved": self.resolved, "set_on": self.set_on, "set_off": self.set_off,
            "pending": [p.to_json() for p in self.pending], "error": self.error,
        }

    def describe(self) -> str:
        """One line for the command line."""
        where = f" in {self.where}" if self.where else ""
        done = []
        if self.set_on:
            done.append(f"legal hold set on {len(self.set_on)} WARC object(s)")
        if self.set_off:
            done.append(f"legal hold released on {len(self.set_off)} WARC object(s)")
        text = "; ".join(done) + where if done else ""
        if self.pending:
            names = ", ".join(p.warc_file for p in self.pending[:5]) + (", ..." if len(self.pending) > 5 else "")
            text += ("; " if text else "") + (
                f"the legal hold of {len(self.pending)} WARC object(s){'' if done else where} is still pending ({names}): {self.error or 'the store refused'} "
                "The holds themselves are recorded; run `sangrah hold sync` once the store is reachable."
            )
        return text or "no WARC object's legal hold needed changing"


def warcs_of_records(records_dir: Path, record_ids: Iterable[str]) -> dict[str, set[str]]:
    """WARC file name → the ``record_ids`` with a capture in it (any version, or its media)."""
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    ids = sorted(set(record_ids))
    out: dict[str, set[str]] = {}
    if not ids or not records_dir.exists():
        return out
    dataset = ds.dataset(records_dir, format="parquet", partitioning="hive")
    for batch in dataset.to_batches(columns=["record_id", "warc_file", "media"], filter=ds.field("record_id").isin(ids)):
        if batch.num_rows == 0:
            continue
        record = batch["record_id"].to_pylist()
        for rid, name in zip(record, batch["warc_file"].to_pylist(), strict=True):
            if name:
                out.setdefault(name, set()).add(rid)
        media = batch["media"]
        parents = pc.list_parent_indices(media)
        if len(parents):
            files = pc.struct_field(pc.list_flatten(media), "warc_file").to_pylist()
            for parent, name in zip(parents.to_pylist(), files, strict=True):
                if name:
                    out.setdefault(name, set()).add(record[parent])
    return out


def _held_records(catalog: Catalog) -> dict[str, set[int]]:
    """Every record under an active hold → the ids of the holds covering it."""
    query = select(hold_records.c.record_id, hold_records.c.hold_id).join(holds, holds.c.id == hold_records.c.hold_id).where(holds.c.released_at.is_(None))
    out: dict[str, set[int]] = {}
    with catalog.engine.connect() as conn:
        for record_id, hold_id in conn.execution_options(yield_per=5000).execute(query):
            out.setdefault(record_id, set()).add(int(hold_id))
    return out


def _dataset_grew(catalog: Catalog) -> bool:
    """Parquet files were published after the last resolution while holds are active."""
    with catalog.engine.connect() as conn:
        last = conn.execute(select(func.max(hold_changes.c.resolved_at))).scalar_one()
        if last is None:
            return False  # no hold ever changed: nothing is held
        if conn.execute(select(holds.c.id).where(holds.c.released_at.is_(None)).limit(1)).first() is None:
            return False
        newer = conn.execute(select(t.parquet_files.c.path).where(t.parquet_files.c.status == "published", t.parquet_files.c.created_at > last).limit(1)).first()
    return newer is not None


def _resolve(config: Config, catalog: Catalog) -> bool:
    """Work out the wanted objects again if a hold changed or the dataset grew; True if it ran."""
    if not unresolved_changes(catalog):
        if not _dataset_grew(catalog):
            return False
        catalog.write(lambda conn: note_change(conn, 0, "dataset", datetime.now(timezone.utc)))  # hold 0: the dataset grew
    with catalog.engine.connect() as conn:
        through = int(conn.execute(select(func.max(hold_changes.c.id))).scalar_one() or 0)
    held = _held_records(catalog)
    gone = {row.name for row in catalog.iter_warcs(status="deleted")}
    wanted = {
        name: sorted({h for record in records for h in held[record]})
        for name, records in warcs_of_records(config.records_dir, held).items()
        if name not in gone  # deleted through the governed path before the hold: nothing left to hold
    }
    resolve(catalog, wanted, through_change=through)
    return True


def sync_legal_holds(config: Config, *, actor: str | None = None, catalog: Catalog | None = None) -> LegalHoldReport:
    """Bring the store's legal holds in line with the catalog's holds (see the module docstring).

    Never raises for a store that fails or is not configured usably: the objects it could not
    change stay pending and the report says why. One audit entry records what was set, released and left pending.
    """
    own = catalog is None
    catalog = catalog or open_catalog(config)
    report = LegalHoldReport()
    try:
        report.resolved = _resolve(config, catalog)
        todo = pending_objects(catalog)
        if not todo:
            return report
        try:
            store = open_store(config)
        except ConfigError as exc:  # the store is not configured usably: nothing can be set now
            report.error, report.pending = exc.message, todo
            catalog.audit(actor=actor or config.operator_name, action="legal_hold_sync", target=None, outcome="pending", details={"on": [], "off": [], "pending": [p.warc_file for p in todo[:200]], "error": exc.message})
            return report
        report.where = store.where
        for index, item in enumerate(todo):
            try:
                store.set_legal_hold(WARC_PREFIX + item.warc_file, item.wanted)
            except ObjectMissing as exc:
                mark_applied(catalog, item.warc_file, on=None, error=exc.message)
                report.error = exc.message
                continue
            except StoreError as exc:
                report.error = exc.message.split(". ", 1)[0] + "."  # what failed; the next step is ours to say
                mark_applied(catalog, item.warc_file, on=None, error=report.error)
                log.info("legal hold not synced: %d object(s) left pending at %s: %s", len(todo) - index, store.where, exc.message)
                break  # the store is unreachable or refuses: the rest would fail alike
            mark_applied(catalog, item.warc_file, on=item.wanted)
            (report.set_on if item.wanted else report.set_off).append(item.warc_file)
        report.pending = pending_objects(catalog)
        catalog.audit(
            actor=actor or config.operator_name,
            action="legal_hold_sync",
            target=store.where,
            outcome="ok" if report.ok else "pending",
            details={"on": report.set_on[:200], "off": report.set_off[:200], "pending": [p.warc_file for p in report.pending[:200]], "error": report.error},
        )
        return report
    finally:
        if own:
            catalog.close()


def legal_hold_problems(catalog: Catalog) -> list[str]:
    """For ``verify``: each object whose legal hold is not yet what the holds need, and hold
    changes the store step has not yet worked out."""
    problems = [
        f"{item.warc_file}: legal hold {'not yet set' if item.wanted else 'not yet released'} in the store"
        + (f" (holds {', '.join(f'H-{i}' for i in item.hold_ids)})" if item.hold_ids else "")
        + (f"; last attempt: {item.error}" if item.error else "")
        + "; run: sangrah hold sync"
        for item in pending_objects(catalog)
    ]
    changes = unresolved_changes(catalog)
    if changes:
        named = sorted({f"H-{hold_id}" for _, hold_id, _ in changes if hold_id}) or ["(new captures of held records)"]
        problems.append(f"{len(changes)} change(s) of hold(s) {', '.join(named[:10])} not yet applied to the store's legal holds; run: sangrah hold sync")
    return problems


def check_legal_holds(config: Config) -> Check | None:
    """For ``sangrah config check``: whether the store's legal holds are what the holds need,
    read from the catalog without changing it; None when there is no catalog (or no such table)
    yet, or it cannot be read (the catalog's own check says why)."""
    from sqlalchemy import create_engine, inspect
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.pool import NullPool

    from archiver.catalog.legal_holds import warc_legal_holds
    from archiver.pipeline.checks import Check

    url = make_url(config.resolved_catalog_url)
    path = Path(url.database or "")
    if url.get_backend_name() == "sqlite" and (not url.database or not path.is_file()):
        return None
    c = warc_legal_holds.c
    try:
        if url.get_backend_name() == "sqlite":
            engine = create_engine(f"sqlite:///file:{path}?mode=ro&uri=true", poolclass=NullPool)
        else:
            engine = create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": 5})
    except (SQLAlchemyError, ImportError):
        return None
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("warc_legal_holds"):
                return None
            states = [(bool(r.wanted), r.applied) for r in conn.execute(select(c.wanted, c.applied))]
            unresolved = int(conn.execute(select(func.count()).select_from(hold_changes).where(hold_changes.c.resolved_at.is_(None))).scalar_one())
    except SQLAlchemyError:
        return None
    finally:
        engine.dispose()
    held = sum(1 for wanted, applied in states if wanted and applied)
    pending = sum(1 for wanted, applied in states if wanted != bool(applied))
    if pending or unresolved:
        parts = [f"{pending} WARC object(s) whose legal hold the store has yet to set or release"] if pending else []
        parts += [f"{unresolved} change(s) of holds not yet applied to the store"] if unresolved else []
        return Check("holds", "legal hold in the store", False, "; ".join(parts), "Run: sangrah hold sync (sangrah verify lists each object)")
    return Check("holds", "legal hold in the store", True, f"{held} WARC object(s) under legal hold, as the holds need; none pending")
