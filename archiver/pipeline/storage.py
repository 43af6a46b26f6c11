"""Storage steps: ``init_storage`` (a bucket with Object Lock), ``lock_warcs`` (each WARC object's
retention from its records' retention tags), ``delete_warc`` (the one governed deletion) and
``storage_status``.

How long a WARC object is locked: it is published with the configured default retention
(``storage.default_retention_days`` from publication), because its records are not tagged yet.
Once extracted, every record in it has a retention tag, and the object must be kept as long as
its longest-kept record: ``lock_warcs`` moves its retain-until to the latest ``retention_until``
of the rows that come from it or point to a media file in it; for a permanent record (class A
or B, no ``retention_until``) to its review date, 1 January of the 26th year after it was
created, when the records officer appraises it for transfer (docs/retention.md). Retention is
only ever extended: COMPLIANCE mode forbids shortening it, to everyone.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from archiver.config import Config
from archiver.errors import CatalogError, ConfigError, StoreError
from archiver.pipeline.capture import WARC_PREFIX, open_catalog
from archiver.pipeline.stores import open_s3_store, open_store
from archiver.storage import LocalStore, ObjectRetention, Store

__all__ = ["LockReport", "init_storage", "lock_warcs", "apply_locks", "delete_warc", "storage_status", "retain_until_by_warc", "PERMANENT_REVIEW_YEARS"]

log = logging.getLogger(__name__)

IST = ZoneInfo("Asia/Kolkata")
#: a permanent record is appraised for transfer from 1 January of this many years after its
#: creation year (retention.schedule, ``Series.dates``); its WARC object is locked until then
PERMANENT_REVIEW_YEARS = 26
_PERMANENT_CLASSES = ("A", "B")


@dataclass(slots=True)
class LockReport:
    checked: int = 0
    extended: list[str] = field(default_factory=list)
    until: dict[str, datetime] = field(default_factory=dict)  #: WARC file name → retain-until it needs


def init_storage(config: Config) -> str:
    """Create the configured bucket with Object Lock, or check that it has it; a line saying which."""
    if config.storage.kind != "s3":
        store = open_store(config)
        return f"local store at {store.where}: a directory, without Object Lock (set storage.kind: s3 for WORM storage)"
    store = open_s3_store(config)
    created = store.init_bucket(create=True)
    return (
        f"{'created' if created else 'checked'} bucket {store.bucket} at {store.where.split(' at ', 1)[1]}: Object Lock enabled; "
        f"WARC objects get {config.storage.object_lock_mode} retention, {config.storage.default_retention_days} days from publication until extraction extends it"
    )


def retain_until_by_warc(records_dir: Path, names: Iterable[str] | None = None) -> dict[str, datetime]:
    """WARC file name → the instant until which it must be kept, from the record dataset.

    Only rows from the files in ``names`` are read when it is given (their media files count
    too, wherever they are). A day of the schedule is an Asia/Kolkata day: a record may be
    disposed of from 00:00 IST of its ``retention_until``.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    if not records_dir.exists():
        return {}
    dataset = ds.dataset(records_dir, format="parquet", partitioning="hive")
    wanted = sorted(set(names)) if names is not None else None
    condition = ds.field("warc_file").isin(wanted) if wanted is not None else None
    needed: dict[str, date] = {}
    columns = ["warc_file", "media", "retention_class", "retention_until", "created_at", "captured_at"]
    for batch in dataset.to_batches(columns=columns, filter=condition):
        if batch.num_rows == 0:
            continue
        created = pc.coalesce(batch["created_at"], batch["captured_at"]).cast(pa.timestamp("us", tz="Asia/Kolkata"))
        facts = {
            "until": batch["retention_until"],
            "permanent": pc.and_(pc.is_null(batch["retention_until"]), pc.is_in(batch["retention_class"], pa.array(_PERMANENT_CLASSES))),
            "year": pc.year(created),
        }
        _fold(needed, pa.table({"warc_file": batch["warc_file"], **facts}))
        media = batch["media"]
        parents = pc.list_parent_indices(media)
        if len(parents):
            files = pc.struct_field(pc.list_flatten(media), "warc_file")
            _fold(needed, pa.table({"warc_file": files, **{k: pc.take(v, parents) for k, v in facts.items()}}))
    return {name: datetime.combine(day, time(0), IST).astimezone(timezone.utc) for name, day in needed.items()}


def _fold(needed: dict[str, date], table: Any) -> None:
    """Fold the latest day each file must be kept to, from a table of row facts, into ``needed``."""
    import pyarrow.compute as pc

    table = table.filter(pc.is_valid(table["warc_file"]))
    grouped = table.group_by(["warc_file", "permanent"]).aggregate([("until", "max"), ("year", "max")])
    for name, permanent, until, year in zip(*(grouped[c].to_pylist() for c in ("warc_file", "permanent", "until_max", "year_max")), strict=True):
        day = date(year + PERMANENT_REVIEW_YEARS, 1, 1) if permanent and year is not None else until
        if day is not None and (name not in needed or day > needed[name]):
            needed[name] = day


def apply_locks(config: Config, store: Store, names: Iterable[str] | None = None) -> LockReport:
    """Extend the retention of WARC objects to what their records need (see the module docstring).

    On a local store there is no retention to extend, and nothing is done.
    """
    report = LockReport()
    if isinstance(store, LocalStore):
        return report
    report.until = retain_until_by_warc(config.records_dir, names)
    for name, until in sorted(report.until.items()):
        report.checked += 1
        if store.extend_retention(WARC_PREFIX + name, until):
            report.extended.append(name)
    return report


def lock_warcs(config: Config, names: Iterable[str] | None = None) -> LockReport:
    """``apply_locks`` over the WARC files in ``names`` (every extracted one when None), audited."""
    catalog = open_catalog(config)
    try:
        report = apply_locks(config, open_store(config), names)
        catalog.audit(
            actor=config.operator_name,
            action="lock_warcs",
            target=None,
            outcome="ok",
            details={"checked": report.checked, "extended": report.extended[:200], "until": {n: report.until[n].isoformat() for n in report.extended[:200]}},
        )
        return report
    finally:
        catalog.close()


def delete_warc(config: Config, name: str, *, actor: str, reason: str) -> None:
    """Delete one published WARC file from the store: the governed path.

    Refused (``ObjectLocked``) while the object is under retention or legal hold; the store
    writes an audit entry whether it deletes or refuses. The manifest row stays, marked deleted.
    """
    if not reason.strip():
        raise ConfigError("a deletion needs a reason (for the audit log): give --reason.")
    catalog = open_catalog(config)
    try:
        row = catalog.get_warc(name)
        if row is None:
            raise CatalogError(f"{name} is not in the manifest; see the published files with `sangrah storage status`.")
        store = open_store(config, audit=catalog.audit)
        store.delete(row.store_key, actor=actor, reason=reason)
        catalog.mark_deleted(name)
        log.warning("deleted warc_file=%s actor=%s reason=%s", name, actor, reason)
    finally:
        catalog.close()


def storage_status(config: Config, names: Iterable[str] | None = None) -> list[tuple[str, ObjectRetention | StoreError]]:
    """(WARC file name, its lock or the error reading it) of the given, or every published, file."""
    catalog = open_catalog(config)
    try:
        store = open_store(config)
        wanted = set(names) if names is not None else None
        rows = [r for r in catalog.iter_warcs() if r.status == "published" and (wanted is None or r.name in wanted)]
        out: list[tuple[str, ObjectRetention | StoreError]] = []
        for row in rows:
            try:
                out.append((row.name, store.retention(row.store_key)))
            except StoreError as exc:
                out.append((row.name, exc))
        return out
    finally:
        catalog.close()
