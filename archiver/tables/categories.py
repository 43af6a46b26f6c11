"""The statement of the categories of documents held (RTI s.4(1)(b)(vi)), made from the record
dataset and the retention schedule.

A public authority publishes "a statement of the categories of documents that are held by it or
under its control". For Sangrah a category is a record series of the retention schedule: each
row of the dataset is tagged with its series, its file/series number (``rrs_item``) and its
purpose. The statement gives, per series: its number and purpose, which records it holds, the
platforms and accounts they come from, how many records there are (each counted once, in its
current version: the latest the catalog knows, a deletion row included, since the archive keeps
what the platform removed), the days they were made (in Asia/Kolkata), and the retention: class,
period and the action at its end.

The dataset is read file by file with ``pyarrow.parquet``, a few columns a batch at a time, and
aggregated in Arrow: a ``pyarrow.dataset`` scanner's memory grew with the rows it went through
(measured for ``archiver/rti/threads.py``). Whether a row is its record's current version is
looked up in the catalog's ``record_versions`` a batch at a time. Memory follows the number of
series and accounts, never the number of records.

Usage::

    statement = read_categories(catalog, config.records_dir, load_schedule())
    print(render_categories(statement))        # Markdown
    statement.to_json()                        # the same, for scripts
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import Connection, bindparam, func, select

from archiver.catalog import Catalog
from archiver.catalog import tables as t
from archiver.errors import ArchiverError
from archiver.model import utc
from archiver.retention import Authority, Schedule, Series
from archiver.retention.schedule import IST
from archiver.tables.schema import SCHEMA_VERSION

__all__ = ["Category", "CategoriesStatement", "read_categories", "render_categories", "ACTION_WORDS"]

#: rows decoded at a time, and record ids per catalog query
_BATCH_ROWS = 4_096
_IDS_PER_QUERY = 500
_COLUMNS = ["record_id", "version_id", "captured_at", "created_at", "platform", "account", "retention_series", "deleted_on_platform"]
_LATEST = select(t.record_versions.c.record_id, t.record_versions.c.version_id, t.record_versions.c.captured_at).where(
    t.record_versions.c.record_id.in_(bindparam("record_ids", expanding=True))
)

#: what happens to a series' records when their retention ends, as the statement says it
ACTION_WORDS = {
    "transfer": "transferred to the National Archives of India",
    "destroy": "proposed for destruction at the January review",
    "review": "reviewed by the records officer, who decides",
}


@dataclass(frozen=True, slots=True)
class Category:
    """One series of the schedule and what the dataset holds of it."""

    series: Series
    records: int  #: records whose current version is in this series
    versions: int  #: every row of the series: each captured version, and each deletion row
    deleted_on_platform: int  #: records whose current version says the platform no longer returns them
    platforms: tuple[str, ...]
    accounts: tuple[tuple[str, int], ...]  #: (account, records), by account
    first_on: date | None  #: the IST day the earliest record was made (captured, when the platform gives no time)
    last_on: date | None

    @property
    def period(self) -> str:
        """The retention period in words: ``permanent``, ``3 years``, ``1 year``."""
        years = self.series.retention_years
        return "permanent" if years is None else f"{years} year{'s' if years != 1 else ''}"

    def to_json(self, handles: dict[str, str | None]) -> dict[str, Any]:
        s = self.series
        return {
            "series": s.id,
            "rrs_item": s.rrs_item,
            "purpose": s.purpose,
            "description": s.description,
            "platforms": list(self.platforms),
            "accounts": [{"account": key, "handle": handles.get(key), "records": n} for key, n in self.accounts],
            "records": self.records,
            "versions": self.versions,
            "deleted_on_platform": self.deleted_on_platform,
            "first_on": self.first_on.isoformat() if self.first_on else None,
            "last_on": self.last_on.isoformat() if self.last_on else None,
            "retention": {"class": s.retention_class, "years": s.retention_years, "period": self.period, "action": s.action, "rule": s.rule},
        }


@dataclass(frozen=True, slots=True)
class CategoriesStatement:
    """The statement: the schedule it follows, when it was made, and a category per series, in the schedule's order."""

    authority: Authority
    schedule_version: int
    schedule_source: str
    schedule_fingerprint: str
    made_at: datetime
    categories: tuple[Category, ...]
    #: the accounts' handles, by account key, as the catalog has them
    handles: dict[str, str | None] = field(default_factory=dict)

    @property
    def records(self) -> int:
        return sum(c.records for c in self.categories)

    def to_json(self) -> dict[str, Any]:
        a = self.authority
        return {
            "statement": "Categories of documents held (RTI Act 2005, s.4(1)(b)(vi))",
            "public_authority": a.records_creating_agency,
            "made_at": self.made_at.isoformat(),
            "schedule": {
                "reference": a.reference,
                "version": self.schedule_version,
                "status": a.status,
                "approved_by": a.approved_by,
                "approved_on": a.approved_on.isoformat() if a.approved_on else None,
                "source": self.schedule_source,
                "fingerprint": self.schedule_fingerprint,
            },
            "records": self.records,
            "categories": [c.to_json(self.handles) for c in self.categories],
        }


@dataclass(slots=True)
class _Tally:
    records: int = 0
    versions: int = 0
    deleted: int = 0
    accounts: dict[str, int] = field(default_factory=dict)
    platforms: set[str] = field(default_factory=set)
    first_at: datetime | None = None
    last_at: datetime | None = None


def read_categories(catalog: Catalog, root: Path, schedule: Schedule, *, made_at: datetime | None = None) -> CategoriesStatement:
    """The statement of the dataset at ``root``, whose files the catalog lists as published.

    Raises ``ArchiverError`` when the dataset is tagged under another schedule (re-tag it first),
    a listed file is missing, or the dataset and the catalog disagree on the records held.
    """
    made_at = made_at or datetime.now(timezone.utc)
    series_by_id = {s.id: s for s in schedule.series}
    tallies = {s.id: _Tally() for s in schedule.series}
    with catalog.engine.connect() as conn:
        files = list(conn.execute(select(t.parquet_files.c.path, t.parquet_files.c.schedule_fingerprint, t.parquet_files.c.schema_version).where(t.parquet_files.c.status == "published").order_by(t.parquet_files.c.path)))
        known = conn.execute(select(func.count()).select_from(t.record_versions)).scalar_one()
        handles = {row.key: row.handle for row in catalog.list_accounts()}
        _check_tags(files, schedule, root)
        for entry in files:
            for batch in _batches(root / entry.path):
                _tally(conn, batch, entry.path, tallies)
    unknown = sorted(map(str, set(tallies) - set(series_by_id)))
    if unknown:  # only a file tagged under another schedule has them, and _check_tags refused that
        raise ArchiverError(f"rows of the record dataset name series {', '.join(unknown)}, which {schedule.source} lacks. Re-tag the dataset: sangrah retag")
    counted = sum(tally.records for tally in tallies.values())
    if counted != known:
        raise ArchiverError(
            f"the record dataset in {root} holds the current version of {counted:,} records, but the catalog knows {known:,}; "
            "the statement would misstate them. Check the dataset with `sangrah verify`, then regenerate it with `sangrah rebuild tables`."
        )
    return CategoriesStatement(
        authority=schedule.authority,
        schedule_version=schedule.version,
        schedule_source=schedule.source,
        schedule_fingerprint=schedule.fingerprint,
        made_at=made_at,
        categories=tuple(_category(series_by_id[key], tally) for key, tally in tallies.items()),
        handles=handles,
    )


def _check_tags(files: Iterable[Any], schedule: Schedule, root: Path) -> None:
    entries = list(files)
    stale = [e.path for e in entries if e.schedule_fingerprint != schedule.fingerprint or e.schema_version != SCHEMA_VERSION]
    if stale:
        raise ArchiverError(
            f"{len(stale)} of the {len(entries)} files of the record dataset in {root} are tagged under another retention schedule "
            f"than {schedule.source}, or written before the record schema's version {SCHEMA_VERSION} (first: {stale[0]}); "
            "the statement would misstate their series. Re-tag the dataset first: sangrah retag"
        )


def _batches(path: Path) -> Iterable[pa.RecordBatch]:
    try:
        parquet = pq.ParquetFile(path, pre_buffer=False)
    except (OSError, pa.ArrowException) as exc:
        raise ArchiverError(
            f"cannot read {path} of the record dataset ({exc}); the catalog lists it as published. "
            "Check the dataset with `sangrah verify`, then regenerate it with `sangrah rebuild tables`."
        ) from exc
    with parquet:
        yield from parquet.iter_batches(batch_size=_BATCH_ROWS, columns=_COLUMNS, use_threads=False)


def _tally(conn: Connection, batch: pa.RecordBatch, path: str, tallies: dict[str, _Tally]) -> None:
    """Add one batch of rows to the tallies of their series."""
    ids = batch.column("record_id").to_pylist()
    latest = _latest(conn, set(ids))
    current = []
    for record_id, version_id, captured_at in zip(ids, batch.column("version_id").to_pylist(), batch.column("captured_at").to_pylist()):
        known = latest.get(record_id)
        if known is None:
            raise ArchiverError(
                f"{path} of the record dataset holds {record_id}, which the catalog does not know. "
                "Regenerate the dataset and the catalog's account of it with `sangrah rebuild tables`."
            )
        current.append(known == (version_id, captured_at))
    table = pa.Table.from_batches([batch])
    for key, rows in _counts(table):
        tallies.setdefault(key, _Tally()).versions += rows
    table = table.filter(pa.array(current, pa.bool_()))
    if not table.num_rows:
        return
    when = pc.coalesce(table.column("created_at"), table.column("captured_at"))
    table = table.append_column("when", when).append_column("deleted", pc.cast(table.column("deleted_on_platform"), pa.int64()))
    groups = table.group_by(["retention_series", "platform", "account"]).aggregate([("record_id", "count"), ("deleted", "sum"), ("when", "min"), ("when", "max")])
    for group in groups.to_pylist():
        tally = tallies.setdefault(group["retention_series"], _Tally())
        tally.records += group["record_id_count"]
        tally.deleted += group["deleted_sum"]
        tally.platforms.add(group["platform"])
        tally.accounts[group["account"]] = tally.accounts.get(group["account"], 0) + group["record_id_count"]
        first, last = group["when_min"], group["when_max"]
        tally.first_at = first if tally.first_at is None else min(tally.first_at, first)
        tally.last_at = last if tally.last_at is None else max(tally.last_at, last)


def _counts(table: pa.Table) -> list[tuple[str, int]]:
    """(series, rows) of every series in the table."""
    counts = table.group_by("retention_series").aggregate([("record_id", "count")])
    return list(zip(counts.column("retention_series").to_pylist(), counts.column("record_id_count").to_pylist()))


def _latest(conn: Connection, record_ids: set[str]) -> dict[str, tuple[str, datetime]]:
    """record_id → (version_id, captured_at) of the latest version the catalog knows."""
    keys = sorted(record_ids)
    found: dict[str, tuple[str, datetime]] = {}
    for start in range(0, len(keys), _IDS_PER_QUERY):
        for record_id, version_id, captured_at in conn.execute(_LATEST, {"record_ids": keys[start : start + _IDS_PER_QUERY]}):
            found[record_id] = (version_id, utc(captured_at))
    return found


def _category(series: Series, tally: _Tally) -> Category:
    return Category(
        series=series,
        records=tally.records,
        versions=tally.versions,
        deleted_on_platform=tally.deleted,
        platforms=tuple(sorted(tally.platforms)),
        accounts=tuple(sorted(tally.accounts.items())),
        first_on=tally.first_at.astimezone(IST).date() if tally.first_at else None,
        last_on=tally.last_at.astimezone(IST).date() if tally.last_at else None,
    )


# -- the statement in Markdown ---------------------------------------------------------------------
def _day(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def render_categories(statement: CategoriesStatement) -> str:
    """The statement in Markdown: a heading citing s.4(1)(b)(vi), then a table per category."""
    a = statement.authority
    approval = (
        f"approved by {a.approved_by} on {_day(a.approved_on)}" if a.status == "approved" and a.approved_by and a.approved_on else "a draft, not yet approved by the records officer"
    )
    total = statement.records
    lines = [
        "# Categories of documents held",
        "",
        "Statement under section 4(1)(b)(vi) of the Right to Information Act, 2005: the categories of documents held by "
        f"or under the control of {a.records_creating_agency}, in the archive of its social media accounts, "
        f"as on {statement.made_at.astimezone(IST):%d/%m/%Y %H:%M} IST.",
        "",
        f"The categories are the record series of the retention schedule: {a.reference} (version {statement.schedule_version}, {approval}). "
        f"{total:,} record{'s' if total != 1 else ''} in all. Each record is counted once, in its current version; "
        "a record the platform no longer shows is still held. Dates are the days the records were made, in Indian Standard Time.",
    ]
    for category in statement.categories:
        s = category.series
        if category.records:
            held = f"{category.records:,} ({category.versions:,} captured versions"
            held += f"; {category.deleted_on_platform:,} no longer on the platform)" if category.deleted_on_platform else ")"
            dates = f"{_day(category.first_on)} to {_day(category.last_on)}" if category.first_on and category.last_on else "—"
        else:
            held, dates = "none yet", "—"
        accounts = "; ".join(_account(key, statement.handles.get(key), n) for key, n in category.accounts) or "—"
        retention = f"class {s.retention_class}, {category.period}; then {ACTION_WORDS[s.action]} ({s.rule})"
        lines += [
            "",
            f"## {s.rrs_item}: {s.purpose}",
            "",
            "| | |",
            "| --- | --- |",
            f"| File/series number | {_cell(s.rrs_item)} (series `{s.id}`) |",
            f"| Purpose | {_cell(s.purpose)} |",
            f"| Documents | {_cell(s.description)} |",
            f"| Platforms | {', '.join(category.platforms) or '—'} |",
            f"| Accounts | {_cell(accounts)} |",
            f"| Records held | {held} |",
            f"| Made | {dates} |",
            f"| Retention | {_cell(retention)} |",
        ]
    return "\n".join(lines) + "\n"


def _account(key: str, handle: str | None, records: int) -> str:
    return f"{key} (@{handle}): {records:,}" if handle else f"{key}: {records:,}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
