"""Table steps: ``extract`` the WARC files into the record dataset, ``rebuild_tables`` it from
scratch, ``retag_tables`` it with the retention schedule in force, and state the ``categories``
of documents it holds (RTI s.4(1)(b)(vi))."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from archiver.catalog import Catalog
from archiver.config import Config
from archiver.errors import CatalogError
from archiver.pipeline.capture import WARC_PREFIX, catalog_failure_names, open_catalog
from archiver.pipeline.stores import WarcFiles, open_store

if TYPE_CHECKING:
    from archiver.capture.reader import ReadRecord

__all__ = ["extract", "rebuild_tables", "retag_tables", "categories", "find_capture", "Capture", "TABLES_LOCK"]

#: the catalog-wide lock held while the record dataset is written (extract, rebuild, retag)
TABLES_LOCK = "tables"


def extract(config: Config, *, account_keys: Sequence[str] | None = None, progress: Any = None) -> Any:
    """Extract every published WARC file not yet in the record dataset (idempotent).

    With ``account_keys``, only the WARC files holding those accounts' captures (their harvests'
    and imports'). One extraction runs at a time on a catalog (``Catalog.exclusive``): another
    waits for it, then finds the work done. On an object store, each file is downloaded first
    (checked against the manifest), and the retention of each object extracted is then extended
    to what its records' tags require; of every object, when re-tagging changed any tag
    (``pipeline.storage``).
    """
    from archiver.pipeline.storage import apply_locks
    from archiver.retention import load_schedule
    from archiver.tables.extract import extract_all
    from archiver.tables.retag import retag

    resume = "sangrah extract" + "".join(f" --account {key}" for key in account_keys or ())
    schedule = load_schedule(config.retention_schedule)
    with catalog_failure_names(resume):
        catalog = open_catalog(config)
        store = open_store(config)
        try:
            only = None
            if account_keys:
                _known_accounts(catalog, account_keys)
                only = catalog.warcs_of_accounts(account_keys)
            with catalog.exclusive(TABLES_LOCK):
                with WarcFiles(store, catalog, config.cache_dir) as files:
                    report = extract_all(
                        catalog, files.path, config.records_dir, schedule, chunk_rows=config.tables.chunk_rows, workers=config.tables.workers, progress=progress, only=only, local_path=files.local
                    )
                report.retagged = retag(catalog, config.records_dir, schedule)
            names = None if report.retagged.rows_changed else [key.rsplit("/", 1)[-1] for key in files.keys]
            report.locked = apply_locks(config, store, names) if names is None or names else None
            catalog.audit(
                actor=config.operator_name,
                action="extract",
                target=str(config.records_dir),
                outcome="ok" if not report.problems else "problems",
                details={
                    "accounts": list(account_keys or []),
                    "warc_files": report.warc_files,
                    "rows": report.rows,
                    "problems": [p.to_json() for p in report.problems[:50]],
                    "retention_extended": report.locked.extended[:200] if report.locked else [],
                },
            )
            return report
        finally:
            catalog.close()


def _known_accounts(catalog: Catalog, account_keys: Sequence[str]) -> None:
    for key in account_keys:
        if catalog.get_account(key) is None:
            raise CatalogError(f"no account {key} is registered. See them with `sangrah accounts list`.")


def rebuild_tables(config: Config, *, progress: Any = None) -> Any:
    """Regenerate the whole record dataset from the WARC files.

    The old dataset is moved aside first and removed only once the new one is complete, so an
    interrupted rebuild leaves the old one to return to (run the rebuild again).
    """
    from archiver.retention import load_schedule

    schedule = load_schedule(config.retention_schedule)
    with catalog_failure_names("sangrah rebuild tables"):
        catalog = open_catalog(config)
        try:
            with catalog.exclusive(TABLES_LOCK):
                return _rebuild(config, catalog, schedule, progress)
        finally:
            catalog.close()


def _rebuild(config: Config, catalog: Catalog, schedule: Any, progress: Any) -> Any:
    import shutil

    from archiver.catalog import tables as t
    from archiver.pipeline.storage import apply_locks
    from archiver.tables.extract import extract_all

    store = open_store(config)
    root = config.records_dir
    aside = root.with_name(f".{root.name}.replaced")
    if aside.exists():
        shutil.rmtree(aside)
    if root.exists():
        root.rename(aside)
    with catalog.engine.begin() as conn:
        for table in (t.record_versions, t.parquet_files, t.extractions):
            conn.execute(table.delete())
    with WarcFiles(store, catalog, config.cache_dir) as files:
        report = extract_all(catalog, files.path, root, schedule, chunk_rows=config.tables.chunk_rows, workers=config.tables.workers, progress=progress, local_path=files.local)
    report.locked = apply_locks(config, store)  # the schedule in force may keep some records longer
    if aside.exists():
        shutil.rmtree(aside)
    catalog.audit(actor=config.operator_name, action="rebuild_tables", target=str(root), outcome="ok", details={"warc_files": report.warc_files, "rows": report.rows})
    return report


def retag_tables(config: Config) -> Any:
    """Re-tag the record dataset with the retention schedule in force; no WARC file is read."""
    from archiver.retention import load_schedule
    from archiver.tables.retag import retag

    schedule = load_schedule(config.retention_schedule)
    with catalog_failure_names("sangrah retag"):
        catalog = open_catalog(config)
        try:
            with catalog.exclusive(TABLES_LOCK):
                report = retag(catalog, config.records_dir, schedule)
            catalog.audit(
                actor=config.operator_name,
                action="retag_tables",
                target=str(config.records_dir),
                outcome="ok",
                details={"schedule": str(schedule.source), "fingerprint": schedule.fingerprint, "files": report.files_retagged, "rows_changed": report.rows_changed},
            )
            return report
        finally:
            catalog.close()


def categories(config: Config) -> Any:
    """The statement of the categories of documents held (``archiver.tables.categories``), made
    from the record dataset and the retention schedule in force; no WARC file is read.

    The dataset's lock is held while it is read, so that the statement is of one state of it.
    """
    from archiver.retention import load_schedule
    from archiver.tables.categories import read_categories

    schedule = load_schedule(config.retention_schedule)
    with catalog_failure_names("sangrah catalogue categories"):
        catalog = open_catalog(config)
        try:
            with catalog.exclusive(TABLES_LOCK):
                return read_categories(catalog, config.records_dir, schedule)
        finally:
            catalog.close()


@dataclass(frozen=True, slots=True)
class Capture:
    """A record's dataset row, and the capture behind it: the WARC record's bytes exactly as
    archived (one gzip member) and the record read from them, digests verified."""

    row: dict[str, Any]
    raw: bytes
    record: ReadRecord


def find_capture(config: Config, record_id: str, version_id: str | None = None) -> Capture:
    """The capture of a record's latest version (or of ``version_id``), read by its pointer
    with one ranged read from the store, local or S3."""
    import pyarrow.dataset as ds

    from archiver.capture.reader import record_from_bytes
    from archiver.errors import ArchiverError

    if not config.records_dir.exists():
        raise ArchiverError(f"there is no record dataset in {config.records_dir} yet; run `sangrah extract` first.")
    dataset = ds.dataset(config.records_dir, format="parquet", partitioning="hive")
    condition = ds.field("record_id") == record_id
    if version_id:
        condition = condition & (ds.field("version_id") == version_id)
    rows = dataset.to_table(filter=condition).drop_columns(["month"]).to_pylist()
    if not rows:
        what = f"version {version_id} of {record_id}" if version_id else record_id
        raise ArchiverError(f"{what} is not in the record dataset. Check the id (platform:native_id), or run `sangrah extract` if it was harvested recently.")
    row = max(rows, key=lambda r: r["captured_at"])
    store = open_store(config)
    name, offset, length = row["warc_file"], row["warc_offset"], row["warc_length"]
    raw = store.read_range(WARC_PREFIX + name, offset, length)
    return Capture(row=row, raw=raw, record=record_from_bytes(raw, name, offset, length))
