"""Re-tag the record dataset with the retention schedule in force, without reading any WARC file.

Each Parquet file names the schedule its tags come from (its fingerprint, in the file and in the
catalog's Parquet manifest). A file tagged under another schedule, or written under an earlier
version of the record schema (before its tag columns ``rrs_item`` and ``purpose``), is read,
every row re-tagged, and the file replaced as extraction publishes one: written as ``.part``,
entered in the manifest, then renamed over the old file. Its rows are then of the current schema.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import select, update

from archiver.catalog import Catalog
from archiver.catalog import tables as t
from archiver.retention import Schedule
from archiver.storage.local import fsync_dir
from archiver.tables.extract import write_parquet
from archiver.tables.rows import tag_row
from archiver.tables.schema import RECORD_SCHEMA, SCHEMA_VERSION

__all__ = ["RetagReport", "retag"]

_TAG_COLUMNS = ("retention_series", "retention_class", "retention_until", "rrs_item", "purpose")


@dataclass(slots=True)
class RetagReport:
    files_checked: int = 0
    files_retagged: int = 0
    rows_changed: int = 0


def retag(catalog: Catalog, root: Path, schedule: Schedule) -> RetagReport:
    report = RetagReport()
    with catalog.engine.connect() as conn:
        files = list(conn.execute(select(t.parquet_files).where(t.parquet_files.c.status == "published").order_by(t.parquet_files.c.path)))
    for entry in files:
        report.files_checked += 1
        if entry.schedule_fingerprint == schedule.fingerprint and entry.schema_version == SCHEMA_VERSION:
            continue
        path = root / entry.path
        rows = pq.read_table(path).to_pylist()
        for row in rows:
            # a column the file's schema lacks is read as empty, and the row is of this schema once written
            before = tuple(row.get(c) for c in _TAG_COLUMNS)
            tag_row(row, schedule)
            row["schema_version"] = SCHEMA_VERSION
            report.rows_changed += before != tuple(row[c] for c in _TAG_COLUMNS)
        temp = path.with_name(path.name + ".part")
        digest = write_parquet(pa.Table.from_pylist(rows, schema=RECORD_SCHEMA), temp, schedule.fingerprint)
        with catalog.engine.begin() as conn:
            conn.execute(
                update(t.parquet_files)
                .where(t.parquet_files.c.path == entry.path)
                .values(status="pending", sha256=digest, size_bytes=temp.stat().st_size, schema_version=SCHEMA_VERSION, schedule_fingerprint=schedule.fingerprint)
            )
        os.replace(temp, path)
        fsync_dir(path.parent)
        with catalog.engine.begin() as conn:
            conn.execute(update(t.parquet_files).where(t.parquet_files.c.path == entry.path).values(status="published"))
        report.files_retagged += 1
    return report
