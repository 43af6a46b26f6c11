"""Capture steps: ``harvest`` the accounts into WARC files and publish them; ``verify`` them.

A harvest writes in a staging directory of its own, publishes each closed file with the cursors
it advances (``Publisher``), and finishes what a killed run left (``recover_staging``).
"""

from __future__ import annotations

import fcntl
import logging
import uuid
from contextlib import contextmanager, suppress
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from archiver import SOFTWARE
from archiver.capture.reader import verify_file
from archiver.capture.writer import OPEN_SUFFIX, ClosedWarc, WarcWriter
from archiver.catalog import AccountRow, Catalog, unavailable_message
from archiver.config import Config
from archiver.errors import ArchiverError, AuthError, CaptureError, CatalogError, StoreChecksumMismatch
from archiver.harvest import AccountHarvest, ExchangeRecorder, ProgressFn, harvest_account
from archiver.http import PlatformClient, RetryPolicy
from archiver.platforms import AccountRef, PlatformModule, get_platform
from archiver.pipeline.stores import WarcFiles, open_store
from archiver.storage import Store
from archiver.storage.base import WARC_PREFIX

__all__ = ["HarvestReport", "VerifyReport", "Publisher", "open_catalog", "open_store", "harvest", "verify", "recover_staging", "run_staging", "account_lock", "catalog_failure_names", "WARC_PREFIX"]

log = logging.getLogger(__name__)

#: store keys of WARC files start with this
_LOCK_NAME = ".lock"


@dataclass(slots=True)
class HarvestReport:
    harvest_id: str
    started_at: datetime
    finished_at: datetime | None = None
    accounts: list[AccountHarvest] = field(default_factory=list)
    published: list[ClosedWarc] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[AccountHarvest]:
        return [a for a in self.accounts if a.status != "ok"]

    @property
    def status(self) -> str:
        if not self.failed:
            return "succeeded"
        return "failed" if len(self.failed) == len(self.accounts) else "partial"

    def to_json(self) -> dict[str, Any]:
        return {
            "harvest_id": self.harvest_id,
            "status": self.status,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "accounts": [
                {
                    "account": a.account.key,
                    "handle": a.account.handle,
                    "status": a.status,
                    "resumed": a.resumed,
                    "error": a.error.to_dict() if a.error else None,
                    "coverage": a.coverage.to_json(),
                }
                for a in self.accounts
            ],
            "warc_files": [
                {"name": w.name, "size_bytes": w.size_bytes, "sha256": w.sha256, "records": w.record_count} for w in self.published
            ],
            "recovered": self.recovered,
        }


@contextmanager
def catalog_failure_names(next_step: str) -> Iterator[None]:
    """A failure of the catalog's database ends the step with the command that resumes it."""
    try:
        yield
    except CatalogError as exc:
        if exc.reason is None:
            raise  # a request the catalog refused says its own next step
        message = unavailable_message(exc.catalog or "(unknown)", exc.reason, f"run: {next_step}")
        raise CatalogError(message, catalog=exc.catalog, reason=exc.reason) from exc


def open_catalog(config: Config) -> Catalog:
    config.data_dir.mkdir(parents=True, exist_ok=True)
    catalog = Catalog(config.resolved_catalog_url)
    catalog.migrate()
    return catalog


class Publisher:
    """Called by the writer for each closed file: manifest + cursors, then the store."""

    def __init__(self, catalog: Catalog, store: Store, harvest_id: str, operator: str) -> None:
        self.catalog = catalog
        self.store = store
        self.harvest_id = harvest_id
        self.operator = operator
        self.pending: dict[tuple[str, str], dict[str, Any] | None] = {}
        self.published: list[ClosedWarc] = []
        #: the first file that could not be published; nothing after it is, in this run
        self.failed: str | None = None

    def note(self, account_key: str, updates: dict[str, dict[str, Any] | None]) -> None:
        for endpoint, state in updates.items():
            self.pending[(account_key, endpoint)] = state

    def __call__(self, closed: ClosedWarc) -> None:
        if self.failed is not None:
            # A later file's cursors would claim the pages of the one that failed: it stays in
            # staging, unlisted, and the next run discards it and fetches its pages again.
            raise CaptureError(f"{closed.name} was not published because {self.failed} could not be; the next run fetches their pages again", warc_file=closed.name)
        self.failed = closed.name  # until its publication has gone through
        updates, self.pending = self.pending, {}
        key = WARC_PREFIX + closed.name
        self.catalog.record_warc(
            name=closed.name,
            store_key=key,
            size_bytes=closed.size_bytes,
            sha256=closed.sha256,
            record_count=closed.record_count,
            first_at=closed.first_at,
            last_at=closed.last_at,
            harvest_id=self.harvest_id,
            cursor_updates=updates,
        )
        self.store.put_file(closed.path, key, sha256=closed.sha256)
        self.catalog.mark_published(closed.name)
        self.failed = None
        closed.path.unlink()
        self.published.append(closed)
        self.catalog.audit(
            actor=self.operator,
            action="publish_warc",
            target=closed.name,
            outcome="ok",
            details={"sha256": closed.sha256, "size_bytes": closed.size_bytes, "records": closed.record_count, "harvest_id": self.harvest_id},
        )
        log.info("published warc_file=%s bytes=%d records=%d", closed.name, closed.size_bytes, closed.record_count)

    def flush_without_file(self) -> None:
        """Commit cursor moves that no WARC holds (nothing was written since the last file)."""
        if self.pending and self.failed is None:
            self.catalog.write_cursors(self.pending, self.harvest_id)
            self.pending = {}


@contextmanager
def run_staging(config: Config, run_id: str) -> Iterator[Path]:
    """A staging directory of this run's own, locked while the run lives.

    Runs in parallel (one Airflow task per account) each write in their own directory; recovery
    touches only directories whose lock it can take, that is, whose run has died.
    """
    path = config.staging_dir / run_id
    path.mkdir(parents=True, exist_ok=False)
    lock = open(path / _LOCK_NAME, "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        yield path
    finally:
        leftovers = [p for p in path.iterdir() if p.name != _LOCK_NAME]
        if not leftovers:
            (path / _LOCK_NAME).unlink(missing_ok=True)
            with suppress(OSError):
                path.rmdir()
        lock.close()


@contextmanager
def account_lock(config: Config, account_key: str) -> Iterator[bool]:
    """Hold the account's lock for the length of its walk; yields False if another run holds it."""
    locks = config.data_dir / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    handle = open(locks / (account_key.replace("/", "_").replace(":", "_") + ".lock"), "w")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        handle.close()


def recover_staging(config: Config, catalog: Catalog, store: Store, *, operator: str) -> list[str]:
    """Finish or discard what killed harvests left in the staging directory.

    A closed file the manifest lists as pending is published (its hash is checked first); a file
    still open, or closed but never entered in the manifest, is discarded: its cursors never
    moved, so the next harvest fetches the same pages again. The directories of runs still alive
    are left alone.
    """
    staging = config.staging_dir
    notes: list[str] = []
    alive: list[str] = []  # the directory of a run is named by its id, and locked while it lives
    for run_dir in sorted(p for p in staging.iterdir() if p.is_dir()) if staging.exists() else []:
        with open(run_dir / _LOCK_NAME, "a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                alive.append(run_dir.name)
                continue  # a harvest running now
            for path in sorted(p for p in run_dir.iterdir() if p.name != _LOCK_NAME):
                notes.append(_recover_file(path, catalog, store, operator))
            (run_dir / _LOCK_NAME).unlink(missing_ok=True)
        with suppress(OSError):
            run_dir.rmdir()
    if catalog.mark_interrupted(host=config.host_name, alive=alive):
        log.warning("recovery marked the runs of this host that died unfinished as interrupted")
    return notes


def _recover_file(path: Path, catalog: Catalog, store: Store, operator: str) -> str:
    name = path.name
    row = catalog.get_warc(name) if not name.endswith(OPEN_SUFFIX) else None
    if row is not None and row.status == "pending":
        store.put_file(path, row.store_key, sha256=row.sha256)
        catalog.mark_published(name)
        path.unlink()
        note = f"published {name}, closed by an interrupted harvest"
        catalog.audit(actor=operator, action="recover_publish", target=name, outcome="ok", details={"sha256": row.sha256})
    else:
        path.unlink()
        note = f"discarded {name}, left unfinished by an interrupted harvest (its pages will be fetched again)"
        catalog.audit(actor=operator, action="recover_discard", target=name, outcome="ok", details={})
    log.warning("recovery %s", note)
    return note


def harvest(
    config: Config,
    *,
    account_keys: Sequence[str] | None = None,
    progress: ProgressFn | None = None,
    now: datetime | None = None,
) -> HarvestReport:
    """Capture the given accounts (all active ones when None) and publish their WARC files."""
    resume = "sangrah harvest" + "".join(f" --account {key}" for key in account_keys or ())
    with catalog_failure_names(resume):
        return _harvest(config, account_keys, progress, now)


def _harvest(config: Config, account_keys: Sequence[str] | None, progress: ProgressFn | None, now: datetime | None) -> HarvestReport:
    catalog = open_catalog(config)
    store = open_store(config)
    operator = config.operator_name
    accounts = _select_accounts(catalog, account_keys)
    recovered = recover_staging(config, catalog, store, operator=operator)
    started = datetime.now(timezone.utc)
    harvest_id = f"{started:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
    report = HarvestReport(harvest_id=harvest_id, started_at=started, recovered=recovered)
    publisher = Publisher(catalog, store, harvest_id, operator)
    policy = RetryPolicy(
        max_retries=config.harvest.max_retries,
        backoff_base_seconds=config.harvest.backoff_base_seconds,
        max_sleep_seconds=config.harvest.max_sleep_seconds,
        timeout_seconds=config.harvest.timeout_seconds,
    )
    failure: BaseException | None = None
    try:
        with run_staging(config, harvest_id) as staging_dir:
            # entered once its staging directory is locked: a run "running" without one is dead
            catalog.start_run(harvest_id, operator=operator, host=config.host_name, software=SOFTWARE)
            catalog.audit(actor=operator, action="harvest_start", target=harvest_id, outcome="ok", details={"accounts": [a.key for a in accounts]})
            writer = WarcWriter(
                staging_dir,
                prefix="sangrah",
                max_file_bytes=config.harvest.max_file_bytes,
                warcinfo={"operator": operator, "hostname": config.host_name, "harvest-id": harvest_id, "isPartOf": "sangrah"},
                on_close=publisher,
            )
            recorder = ExchangeRecorder(writer)
            try:
                for row in accounts:
                    report.accounts.append(_harvest_one(config, catalog, publisher, recorder, policy, row, harvest_id, now or started, progress))
            except BaseException:
                # whatever was captured is published with the cursors it advances, even after a
                # bug; when that fails too (the catalog is down), the first error is the one told
                try:
                    writer.close()
                    publisher.flush_without_file()
                except ArchiverError as exc:
                    log.warning("harvest=%s left its last file in staging for the next run: %s", harvest_id, exc.message)
                raise
            writer.close()
            publisher.flush_without_file()
    except BaseException as exc:
        failure = exc
        raise
    finally:
        report.finished_at = datetime.now(timezone.utc)
        report.published = publisher.published
        try:
            catalog.finish_run(harvest_id, status=report.status if failure is None else "failed", summary=report.to_json())
            catalog.audit(
                actor=operator,
                action="harvest_finish",
                target=harvest_id,
                outcome=report.status if failure is None else "failed",
                details={"failed": [a.account.key for a in report.failed], "warc_files": [w.name for w in report.published]},
            )
        except CatalogError:
            if failure is None:
                raise
            log.warning("harvest=%s could not be marked finished in the catalog, which failed too", harvest_id)
        finally:
            catalog.close()
    return report


def _select_accounts(catalog: Catalog, keys: Sequence[str] | None) -> list[AccountRow]:
    if not keys:
        return catalog.list_accounts(active_only=True)
    out = []
    for key in keys:
        row = catalog.get_account(key)
        if row is None:
            raise CatalogError(f"no account {key} is registered. See them with `sangrah accounts list`; add one with `sangrah accounts add`.")
        out.append(row)
    return out


def _harvest_one(
    config: Config,
    catalog: Catalog,
    publisher: Publisher,
    recorder: ExchangeRecorder,
    policy: RetryPolicy,
    row: AccountRow,
    harvest_id: str,
    now: datetime,
    progress: ProgressFn | None,
) -> AccountHarvest:
    module = get_platform(row.platform)
    account = AccountRef(row.platform, row.native_id, row.handle)
    settings = config.platforms[row.platform]
    credential_env = row.credential_env or settings.credential_env
    credential = config.secret(credential_env)
    if credential is None:
        error = AuthError(
            f"{account.label()}: no credential; the variable {credential_env} is not set. "
            f"Export it (see docs/platforms.md for how to get one), then run: sangrah harvest --account {account.key}",
            account=account.key,
        )
        catalog.audit(actor=config.operator_name, action="harvest_account", target=account.key, outcome="failed", details=error.to_dict())
        return AccountHarvest(account=account, status="failed", error=error)
    with account_lock(config, account.key) as locked:
        if not locked:
            busy = CaptureError(
                f"{account.label()}: another harvest of this account is running now; this run left it alone. "
                f"Let that one finish (its progress is in the audit log), or run again later: sangrah harvest --account {account.key}"
            )
            return AccountHarvest(account=account, status="failed", error=busy)
        return _walk_account(config, catalog, publisher, recorder, policy, row, module, account, credential_env, credential, harvest_id, now, progress)


def _walk_account(
    config: Config,
    catalog: Catalog,
    publisher: Publisher,
    recorder: ExchangeRecorder,
    policy: RetryPolicy,
    row: AccountRow,
    module: PlatformModule,
    account: AccountRef,
    credential_env: str,
    credential: str,
    harvest_id: str,
    now: datetime,
    progress: ProgressFn | None,
) -> AccountHarvest:
    base_url = row.base_url or config.platforms[row.platform].base_url or module.DEFAULT_BASE_URL
    label = account.label()
    client = PlatformClient(platform=row.platform, base_url=base_url, auth=module.AUTH, credential=credential, account_label=label, account_key=account.key, on_exchange=recorder, policy=policy)
    media_client = PlatformClient(platform=row.platform, base_url=base_url, auth=module.AUTH, credential=None, account_label=label, account_key=account.key, on_exchange=recorder, policy=policy)
    try:
        result = harvest_account(
            module=module,
            account=account,
            client=client,
            media_client=media_client,
            recorder=recorder,
            cursors=catalog.cursors_for(account.key),
            note_cursors=lambda updates: publisher.note(account.key, updates),
            now=now,
            revisit_days=config.harvest.revisit_days,
            fetch_images=config.harvest.fetch_images,
            video_max_bytes=config.harvest.video_max_bytes,
            credential_env=credential_env,
            harvest_id=harvest_id,
            progress=progress,
        )
    finally:
        client.close()
        media_client.close()
    catalog.record_coverage(
        harvest_id=harvest_id,
        account_key=account.key,
        endpoint="*",
        window_start=result.window_start,
        window_end=now,
        statement=result.coverage.to_json(),
    )
    catalog.audit(
        actor=config.operator_name,
        action="harvest_account",
        target=account.key,
        outcome=result.status,
        details={"error": result.error.to_dict() if result.error else None, "coverage": result.coverage.to_json()},
    )
    return result


# -- verify ------------------------------------------------------------------------------------
@dataclass(slots=True)
class VerifyReport:
    checked: int = 0  #: WARC files re-hashed and re-read
    records: int = 0
    parquet_checked: int = 0  #: Parquet files of the record dataset re-hashed
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "files": self.checked, "records": self.records, "parquet_files": self.parquet_checked, "problems": self.problems}


def _legal_hold_problems(catalog: Catalog) -> list[str]:
    """WARC objects whose legal hold the store has yet to set or release (``sangrah hold sync``)."""
    from archiver.pipeline.legal_holds import legal_hold_problems

    return legal_hold_problems(catalog)


def _index_problems(config: Config) -> list[str]:
    """An index that exists but is behind the record dataset (or its RTI rules)."""
    from archiver.errors import ArchiverError
    from archiver.pipeline.search import index_status

    if config.search.backend == "fts5" and not config.search_index_path.exists():
        return []  # never indexed: nothing to be behind
    try:
        status = index_status(config)
    except ArchiverError as exc:
        return [f"search index: {exc.message}"]
    where = f"search index ({status.backend} at {status.address})"
    problems = []
    if status.behind:
        problems.append(f"{where} is behind the record dataset: {len(status.behind)} Parquet file(s) ({status.rows_behind:,} rows) not indexed; run: sangrah index")
    if status.rules_changed:
        problems.append(f"{where} was built with other RTI rules than those in force; run: sangrah index")
    return problems


def verify(config: Config, *, warc_files: Collection[str] | None = None) -> VerifyReport:
    """Check the archive's fixity against the manifest: re-hash every published WARC file and
    re-read every record, and re-hash every Parquet file of the record dataset.

    With ``warc_files``, only those WARC files and the Parquet files extracted from them are
    checked (what one night added); without, everything, including files in the store or the
    dataset that the manifest does not list.
    """
    with catalog_failure_names("sangrah verify"):
        return _verify(config, None if warc_files is None else set(warc_files))


def _verify(config: Config, only: set[str] | None) -> VerifyReport:
    catalog = open_catalog(config)
    store = open_store(config)
    report = VerifyReport()
    listed: set[str] = set()
    files = WarcFiles(store, catalog, config.cache_dir)
    try:
        for row in catalog.iter_warcs():
            listed.add(row.store_key)
            if only is not None and row.name not in only:
                continue
            if row.status == "deleted":
                continue  # deleted through the governed path; the audit log says when, by whom, why
            if row.status != "published":
                report.problems.append(f"{row.name}: entered in the manifest but never published (status {row.status}); run `sangrah harvest` to finish it")
                continue
            if not store.exists(row.store_key):
                report.problems.append(f"{row.name}: missing from the store ({store.where}) at {row.store_key}; restore it from a copy")
                continue
            try:
                path = files.path(row.store_key)  # an object store's copy is checked against the manifest here
            except StoreChecksumMismatch as exc:
                report.problems.append(f"{row.name}: {exc.message}")
                continue
            report.checked += 1
            check = verify_file(path)  # hashes the file and re-reads every record in one pass
            report.records += check.record_count
            if check.sha256 != row.sha256 or check.size_bytes != row.size_bytes:
                report.problems.append(
                    f"{row.name}: SHA-256 {check.sha256} ({check.size_bytes} bytes) does not match the manifest's "
                    f"{row.sha256} ({row.size_bytes} bytes); the file changed after publication. Restore it from a copy."
                )
            for problem in check.problems:
                report.problems.append(f"{row.name} at offset {problem.offset}: {problem.message}")
        if only is None:
            for key in store.iter_keys(WARC_PREFIX):
                if key not in listed:
                    report.problems.append(f"{key}: in the store but not in the manifest; it was not published by Sangrah")
        _verify_parquet(catalog, config.records_dir, only, report)
        if only is None:
            report.problems.extend(_index_problems(config))
            report.problems.extend(_legal_hold_problems(catalog))
        catalog.audit(
            actor=config.operator_name,
            action="verify",
            target=None if only is None else ",".join(sorted(only))[:2000],
            outcome="ok" if report.ok else "mismatch",
            details={"checked": report.checked, "records": report.records, "parquet_files": report.parquet_checked, "problems": report.problems[:50]},
        )
    finally:
        files.close()
        catalog.close()
    return report


def _verify_parquet(catalog: Catalog, root: Path, only: set[str] | None, report: VerifyReport) -> None:
    """Re-hash the record dataset's Parquet files against the Parquet manifest."""
    import hashlib

    from sqlalchemy import select

    from archiver.catalog import tables as t

    with catalog.engine.connect() as conn:
        rows = list(conn.execute(select(t.parquet_files).order_by(t.parquet_files.c.path)))
    for row in rows:
        if only is not None and row.warc_file not in only:
            continue
        path = root / row.path
        if row.status != "published":
            report.problems.append(f"{row.path}: entered in the Parquet manifest but never put in place (status {row.status}); run `sangrah extract` to finish it")
            continue
        if not path.is_file():
            report.problems.append(f"{row.path}: missing from the record dataset in {root}; regenerate it with `sangrah rebuild tables`")
            continue
        report.parquet_checked += 1
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        size = path.stat().st_size
        if digest.hexdigest() != row.sha256 or size != row.size_bytes:
            report.problems.append(
                f"{row.path}: SHA-256 {digest.hexdigest()} ({size} bytes) does not match the Parquet manifest's {row.sha256} "
                f"({row.size_bytes} bytes); the file changed after extraction. Regenerate it with `sangrah rebuild tables`."
            )
    if only is None and root.exists():
        known = {row.path for row in rows}
        for path in sorted(root.rglob("*.parquet")):
            relative = path.relative_to(root).as_posix()
            if relative not in known:
                report.problems.append(f"{relative}: in the record dataset but not in the Parquet manifest; it was not written by Sangrah")
