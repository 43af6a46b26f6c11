"""Table steps: ``extract`` the WARC files into the record dataset, ``rebuild_tables`` it from
scratch, ``retag_tables`` it with the retention schedule in force."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from archiver.catalog import Catalog
from archiver.config import Config
from archiver.errors import CatalogError
from archiver.pipeline.capture import catalog_failure_names, open_catalog, open_store
from archiver.storage import LocalStore

__all__ = ["extract", "rebuild_tables", "retag_tables", "find_capture", "TABLES_LOCK"]

#: the catalog-wide lock held while the record dataset is written (extract, rebuild, retag)
TABLES_LOCK = "tables"


def extract(config: Config, *, account_keys: Sequence[str] | None = None, progress: Any = None) -> Any:
    """Extract every published WARC file not yet in the record dataset (idempotent).

    With ``account_keys``, only the WARC files holding those accounts' captures (their harvests'
    and imports'). One extraction runs at a time on a catalog (``Catalog.exclusive``): another
    waits for it, then finds the work done.
    """
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
                report = extract_all(catalog, lambda key: _local(store, key), config.records_dir, schedule, chunk_rows=config.tables.chunk_rows, progress=progress, only=only)
                report.retagged = retag(catalog, config.records_dir, schedule)
            catalog.audit(
                actor=config.operator_name,
                action="extract",
                target=str(config.records_dir),
                outcome="ok" if not report.problems else "problems",
                details={"accounts": list(account_keys or []), "warc_files": report.warc_files, "rows": report.rows, "problems": [p.to_json() for p in report.problems[:50]]},
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
    report = extract_all(catalog, lambda key: _local(store, key), root, schedule, chunk_rows=config.tables.chunk_rows, progress=progress)
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


def _local(store: LocalStore, key: str) -> Path:
    path = store.local_path(key)
    if path is None:
        raise CatalogError(f"{key} is not on local disk; tables are extracted from a local store")
    return path


def find_capture(config: Config, record_id: str, version_id: str | None = None) -> tuple[dict[str, Any], Path]:
    """The dataset row of a record's latest version (or of ``version_id``) and the local path of
    the WARC file holding its capture."""
    import pyarrow.dataset as ds

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
    return row, _local(store, "warcs/" + row["warc_file"])
