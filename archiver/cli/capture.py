"""Capture commands: ``accounts``, ``harvest``, ``import``, ``show`` and ``verify``."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path
from typing import Any

import click
import orjson
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from archiver.cli._access import acting_user, user_option
from archiver.cli._base import IST, cli, data_dir_option, err_console, errors_as_click, load_for, out_console
from archiver.config import Config
from archiver.harvest import Coverage
from archiver.model import PLATFORMS
from archiver.platforms import AccountRef

__all__ = ["accounts", "harvest", "import_", "show", "verify", "run_harvest", "print_report"]


# -- accounts ----------------------------------------------------------------------------------
@cli.group()
def accounts() -> None:
    """Register the platform accounts to harvest.

    Example: sangrah accounts list
    """


@accounts.command("add")
@click.argument("platform", type=click.Choice(PLATFORMS))
@click.argument("native_id")
@click.option("--handle", help="The account's handle, for messages and the WARC metadata.")
@click.option("--name", "display_name", help="The account's display name.")
@click.option("--base-url", help="API base URL, e.g. a Mastodon instance (default: the platform's).")
@click.option("--credential-env", help="Environment variable holding this account's credential (default: the platform's, see docs/platforms.md).")
@click.option("--replace", is_flag=True, help="Change the settings of an account already registered.")
@data_dir_option
@click.pass_context
def accounts_add(ctx: click.Context, platform: str, native_id: str, handle: str | None, display_name: str | None, base_url: str | None, credential_env: str | None, replace: bool, data_dir: Path | None) -> None:
    """Register an account by its platform and native id.

    Example: sangrah accounts add x 1350000000000000001 --handle JalShaktiDept
    """
    from archiver.pipeline import open_catalog

    config = load_for(ctx, data_dir)
    with errors_as_click():
        catalog = open_catalog(config)
        try:
            row = catalog.add_account(platform=platform, native_id=native_id, handle=handle, display_name=display_name, base_url=base_url, credential_env=credential_env, replace=replace)
            catalog.audit(actor=config.operator_name, action="account_add", target=row.key, outcome="ok", details={"replace": replace, "base_url": base_url, "credential_env": credential_env})
        finally:
            catalog.close()
    env = row.credential_env or config.platforms[platform].credential_env
    click.echo(f"registered {row.key}" + (f" (@{row.handle})" if row.handle else "") + f"; its credential is read from {env}", err=True)


@accounts.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines instead of a table.")
@data_dir_option
@click.pass_context
def accounts_list(ctx: click.Context, as_json: bool, data_dir: Path | None) -> None:
    """List the registered accounts.

    Example: sangrah accounts list --json
    """
    from archiver.pipeline import open_catalog

    config = load_for(ctx, data_dir)
    with errors_as_click():
        catalog = open_catalog(config)
        try:
            rows = catalog.list_accounts()
        finally:
            catalog.close()
    if as_json:
        for row in rows:
            click.echo(orjson.dumps({"key": row.key, "platform": row.platform, "handle": row.handle, "base_url": row.base_url, "credential_env": row.credential_env, "active": row.active}).decode())
        return
    table = Table("account", "handle", "credential from", "API base", "added (IST)")
    for row in rows:
        table.add_row(row.key, row.handle or "", row.credential_env or config.platforms[row.platform].credential_env, row.base_url or "(platform default)", row.added_at.astimezone(IST).strftime("%Y-%m-%d %H:%M"))
    out_console().print(table)


# -- harvest -----------------------------------------------------------------------------------
@cli.command()
@click.option("--account", "account_keys", multiple=True, metavar="PLATFORM:ID", help="Harvest only this account (repeatable). Default: every active account.")
@click.option("--json", "as_json", is_flag=True, help="Print the run's report as JSON.")
@data_dir_option
@click.pass_context
def harvest(ctx: click.Context, account_keys: tuple[str, ...], as_json: bool, data_dir: Path | None) -> None:
    """Capture accounts' posts and replies into WARC files and publish them.

    Each account resumes from its cursor; an interrupted harvest resumes from the last
    published page. Exits 1 if any account failed (after a summary).

    Example: sangrah harvest --account x:1350000000000000001
    """
    config = load_for(ctx, data_dir)
    report = run_harvest(config, list(account_keys) or None, quiet=ctx.obj["quiet"])
    print_report(report, as_json)
    if report.failed:
        raise SystemExit(1)


def run_harvest(config: Config, keys: list[str] | None, *, quiet: bool) -> Any:
    from archiver import pipeline

    console = err_console()
    show = not quiet and console.is_terminal
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console, transient=False, disable=not show) as bar:
        tasks: dict[str, Any] = {}

        def progress(account: AccountRef, endpoint: str, coverage: Coverage, oldest: datetime | None) -> None:
            back_to = f" · back to {oldest.astimezone(IST):%Y-%m-%d}" if oldest else ""
            text = f"{account.label()} {endpoint}: {coverage.posts_captured} posts · {coverage.replies_captured} replies · {coverage.media_captured} media{back_to}"
            if account.key not in tasks:
                tasks[account.key] = bar.add_task(text, total=None)
            bar.update(tasks[account.key], description=text)

        with errors_as_click():
            return pipeline.harvest(config, account_keys=keys, progress=progress)


def print_report(report: Any, as_json: bool) -> None:
    if as_json:
        click.echo(orjson.dumps(report.to_json(), option=orjson.OPT_INDENT_2).decode())
    else:
        out = out_console()
        for note in report.recovered:
            out.print(f"recovered: {note}")
        table = Table("platform", "account", "status", "posts", "replies", "media", "calls", "gaps", title=f"Harvest {report.harvest_id}")
        for item in report.accounts:
            cov = item.coverage
            table.add_row(
                item.account.platform,
                f"@{item.account.handle}" if item.account.handle else item.account.native_id,
                item.status + (" (resumed)" if item.resumed else ""),
                str(cov.posts_captured),
                str(cov.replies_captured),
                f"{cov.media_captured}/{cov.media_expected}",
                str(cov.requests),
                ", ".join(sorted({g.cause for g in cov.gaps})) or "none",
            )
        out.print(table)
        totals = [a.coverage for a in report.accounts]
        out.print(
            f"Captured {sum(c.posts_captured for c in totals):,} posts by the accounts and {sum(c.replies_captured for c in totals):,} "
            f"replies to them, and {sum(c.media_captured for c in totals):,} media files, in {sum(c.requests for c in totals):,} API calls."
        )
        files = Table("WARC file", "size", "records", "SHA-256", title="Published")
        for closed in report.published:
            files.add_row(closed.name, f"{closed.size_bytes:,} B", str(closed.record_count), closed.sha256[:16] + "…")
        out.print(files)
    for item in report.failed:
        click.echo(f"error: {item.error.message if item.error else 'failed'}", err=True)
    if report.failed:
        click.echo(f"{len(report.failed)} of {len(report.accounts)} accounts failed; the others were captured and published.", err=True)


# -- account exports ---------------------------------------------------------------------------
@cli.command("import")
@click.argument("kind", type=click.Choice(["x-archive", "facebook-export"]))
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--account", "account_key", required=True, metavar="PLATFORM:ID", help="The registered account the export belongs to.")
@click.option("--again", is_flag=True, help="Import an export that was imported before (stores a second copy).")
@data_dir_option
@click.pass_context
def import_(ctx: click.Context, kind: str, path: Path, account_key: str, again: bool, data_dir: Path | None) -> None:
    """Archive an account export: an X archive zip or a Facebook "Download your information" zip.

    Each member file holding posts is checked, then stored unchanged as a WARC resource record,
    with a metadata record naming the export, its SHA-256 and date range.

    Example: sangrah import x-archive twitter-2026.zip --account x:1350000000000000001
    """
    from archiver import pipeline

    config = load_for(ctx, data_dir)
    with errors_as_click():
        report = pipeline.import_export(config, kind=kind, path=path, account_key=account_key, again=again)
    span = f"{report.earliest.astimezone(IST):%Y-%m-%d} to {report.latest.astimezone(IST):%Y-%m-%d}" if report.earliest and report.latest else "no dated posts"
    click.echo(f"imported {report.posts} posts ({span}) from {len(report.members)} file(s) of {report.source} into {', '.join(w.name for w in report.published)}")


@cli.command()
@click.argument("record_id")
@click.option("--version", "version_id", help="A version_id of the record (default: its latest version).")
@click.option("--warc", "warc_out", type=click.Path(path_type=Path, dir_okay=False), help="Also write the capture as a one-record WARC file, byte for byte.")
@user_option
@data_dir_option
@click.pass_context
def show(ctx: click.Context, record_id: str, version_id: str | None, warc_out: Path | None, user: str | None, data_dir: Path | None) -> None:
    """Print the exact capture a record came from: its WARC headers and the platform's response.

    The record is read by its pointer (file, offset, length) and its digests are checked; a
    capture that fails the check is refused, with the file and offset. Each view (and each
    export with --warc) is entered in the audit log with who, the record and its pointer.

    Example: sangrah show x:1350000000000000001
    """
    from archiver import pipeline

    config = load_for(ctx, data_dir)
    who = acting_user(user)
    with errors_as_click():
        capture = pipeline.find_capture(config, record_id, version_id)
        row = capture.row
        pointer = {"version_id": row["version_id"], "warc_file": row["warc_file"], "offset": row["warc_offset"], "length": row["warc_length"]}
        pipeline.audit_reading(config, actor=who, action="view", target=row["record_id"], details={**pointer, "hits": 1})
        if warc_out is not None:
            pipeline.audit_reading(
                config, actor=who, action="export", target=row["record_id"],
                details={**pointer, "to": str(warc_out), "bytes": len(capture.raw), "sha256": hashlib.sha256(capture.raw).hexdigest(), "hits": 1},
            )  # fmt: skip
    record = capture.record
    when = row["captured_at"].astimezone(IST).strftime("%Y-%m-%d %H:%M:%S IST")
    click.echo(f"{row['record_id']} ({row['kind']}, version {row['version_id'][:16]}…) captured {when}", err=True)
    click.echo(f"{row['warc_file']} offset {row['warc_offset']} length {row['warc_length']}: digests verified", err=True)
    for name, value in record.headers:
        click.echo(f"{name}: {value}")
    click.echo("")
    if record.http_line:
        click.echo(record.http_line)
        for name, value in record.http_headers:
            click.echo(f"{name}: {value}")
        click.echo("")
    payload = record.payload
    try:
        click.echo(orjson.dumps(orjson.loads(payload), option=orjson.OPT_INDENT_2).decode())
    except orjson.JSONDecodeError:
        click.echo(payload.decode("utf-8", "replace"))
    if warc_out is not None:
        warc_out.write_bytes(capture.raw)
        click.echo(f"wrote the capture to {warc_out} (one record, byte for byte as archived)", err=True)


# -- verify ------------------------------------------------------------------------------------
@cli.command()
@data_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def verify(ctx: click.Context, data_dir: Path | None, as_json: bool) -> None:
    """Re-hash every published WARC against the manifest and re-read every record, and re-hash
    every Parquet file of the record dataset.

    Exits 1 on any mismatch, after listing each problem.

    Example: sangrah verify
    """
    from archiver import pipeline

    config = load_for(ctx, data_dir)
    with errors_as_click():
        report = pipeline.verify(config)
    if as_json:
        click.echo(orjson.dumps(report.to_json()).decode())
    else:
        for problem in report.problems:
            click.echo(f"MISMATCH {problem}")
        click.echo(f"checked {report.checked} WARC files, {report.records} records, {report.parquet_checked} Parquet files: " + ("all match the manifest" if report.ok else f"{len(report.problems)} problem(s)"))
    if not report.ok:
        raise SystemExit(1)
