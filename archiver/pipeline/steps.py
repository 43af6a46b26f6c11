"""The pipeline's steps as a scheduler calls them: one function per step, small JSON-able results.

The Airflow DAGs (``dags/``) call these, one task per step and account, and hand on what they
return: account keys, names of WARC files, counts and messages, never records. Each step is
idempotent: run again for the same account it does no work twice (a harvest fetches only what is
new since its cursors, an extraction reads only files not yet extracted), and after a failure it
finishes or repeats what the failed run left. A step that fails raises an ``ArchiverError`` whose
message says what, where and the next step.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from archiver.config import Config
from archiver.errors import ArchiverError, FixityMismatch

__all__ = ["active_accounts", "harvest", "extract", "index", "verify", "verify_since", "run_summary"]

log = logging.getLogger(__name__)


def active_accounts(config: Config) -> list[str]:
    """The keys (``platform:native_id``) of every active account, the unit a DAG maps over."""
    from archiver.pipeline.capture import open_catalog

    catalog = open_catalog(config)
    try:
        return [row.key for row in catalog.list_accounts(active_only=True)]
    finally:
        catalog.close()


def harvest(config: Config, account: str | None = None) -> dict[str, Any]:
    """Harvest one account (every active one when None) and publish its WARC files.

    Returns the run's summary (``HarvestReport.to_json``). Raises the account's own error when it
    failed (a harvest of several accounts raises only if every one failed: the others' work is
    published and the summary tells which failed).
    """
    from archiver.pipeline.capture import harvest as run

    report = run(config, account_keys=[account] if account else None)
    summary = report.to_json()
    failed = report.failed
    if failed and (account is not None or len(failed) == len(report.accounts)):
        error = failed[0].error
        if error is None:  # a failed account carries its error; this names it anyway
            error = ArchiverError(f"{failed[0].account.key}: the harvest failed; see the run {report.harvest_id} in the audit log")
        raise error
    return summary


def extract(config: Config, account: str | None = None) -> dict[str, Any]:
    """Extract the WARC files holding this account's captures (every file when None)."""
    from archiver.pipeline.tables import extract as run

    report = run(config, account_keys=[account] if account else None)
    return {
        "account": account,
        "warc_files": report.warc_files,
        "parquet_files": report.parquet_files,
        "rows": report.rows,
        "platforms": {name: {"records": c.records, "new_versions": c.new_versions, "deletions": c.deletions} for name, c in sorted(report.platforms.items())},
        "problems": [p.to_json() for p in report.problems[:50]],
    }


def index(config: Config) -> dict[str, Any]:
    """Bring the search index up to date with the record dataset (``archiver.pipeline.search.index``)."""
    from archiver.pipeline.search import index as run

    return dataclasses.asdict(run(config))


def verify(config: Config, warc_files: Sequence[str] | None = None) -> dict[str, Any]:
    """Fixity: re-hash the WARC files (every one when None) and their Parquet files against the
    manifest; raises ``FixityMismatch`` listing the mismatches, loudly, when any is found."""
    from archiver.pipeline.capture import verify as run

    report = run(config, warc_files=warc_files)
    summary = report.to_json()
    if not report.ok:
        for problem in report.problems:
            log.error("fixity mismatch %s", problem)
        shown = "; ".join(report.problems[:5]) + (f"; and {len(report.problems) - 5} more" if len(report.problems) > 5 else "")
        raise FixityMismatch(f"fixity check found {len(report.problems)} problem(s) in {config.data_dir}: {shown}. Restore the files named from a copy, then run: sangrah verify", problems=report.problems[:50])
    return summary


def verify_since(config: Config, since: datetime) -> dict[str, Any]:
    """Fixity of the WARC files published at or after ``since`` (one night's) and their Parquet files."""
    from archiver.pipeline.capture import open_catalog

    catalog = open_catalog(config)
    try:
        names = [row.name for row in catalog.iter_warcs(status="published") if row.published_at is not None and row.published_at >= since]
    finally:
        catalog.close()
    return {**verify(config, names), "warc_file_names": names}


def run_summary(config: Config, accounts: Sequence[str], since: datetime) -> dict[str, Any]:
    """What became of each account's harvests since ``since``: ``ok`` when its last one
    succeeded, else ``failed`` with the error (``not run`` when no harvest reached the catalog)."""
    from archiver.pipeline.capture import open_catalog

    catalog = open_catalog(config)
    try:
        runs = catalog.runs_since(since)
        refused = catalog.audit_entries(action="harvest_account", since=since)
    finally:
        catalog.close()
    outcome: dict[str, dict[str, Any]] = {key: {"account": key, "status": "not run", "error": None, "warc_files": []} for key in accounts}
    # an account that failed before its harvest began (no credential) is in the audit log only
    for entry in refused:
        if entry["target"] in outcome and entry["outcome"] == "failed":
            outcome[entry["target"]].update(status="failed", error=(entry["details"] or {}).get("message"))
    for run in runs:
        summary = run.get("summary") or {}
        names = [w["name"] for w in summary.get("warc_files") or []]
        for entry in summary.get("accounts") or []:
            key = entry.get("account")
            if key not in outcome:
                continue
            error = entry.get("error") or {}
            outcome[key]["status"] = "ok" if entry.get("status") == "ok" else "failed"
            outcome[key]["error"] = error.get("message")
            outcome[key]["warc_files"] = sorted({*outcome[key]["warc_files"], *names})
    rows = [outcome[key] for key in accounts]
    failed = [row["account"] for row in rows if row["status"] != "ok"]
    return {"accounts": rows, "failed": failed, "ok": not failed}

