"""Storage commands: ``storage init``, ``storage status``, ``storage lock`` and ``storage delete``."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import click
import orjson
from rich.table import Table

from archiver.cli._access import session, user_option
from archiver.cli._base import IST, cli, data_dir_option, errors_as_click, load_for, out_console
from archiver.errors import StoreError

__all__ = ["storage", "storage_init", "storage_status", "storage_lock", "storage_delete"]


@cli.group()
def storage() -> None:
    """The store of published WARC files: its bucket, its locks, its one governed deletion.

    Example: sangrah storage init
    """


@storage.command("init")
@data_dir_option
@click.pass_context
def storage_init(ctx: click.Context, data_dir: Path | None) -> None:
    """Create the configured S3 bucket with Object Lock, or check that it has it.

    Object Lock can only be turned on when a bucket is created; an existing bucket without it
    is refused. Safe to run again.

    Example: sangrah --config sangrah.yaml storage init
    """
    from archiver import pipeline

    config = load_for(ctx, data_dir)
    with errors_as_click():
        click.echo(pipeline.init_storage(config))


@storage.command("status")
@click.argument("names", nargs=-1)
@data_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print the locks as JSON.")
@click.pass_context
def storage_status(ctx: click.Context, names: tuple[str, ...], data_dir: Path | None, as_json: bool) -> None:
    """Show the lock of each published WARC file (or of the NAMES given): mode, retain-until, legal hold.

    Example: sangrah storage status sangrah-20261125144720821423-00000.warc.gz
    """
    from archiver import pipeline

    config = load_for(ctx, data_dir)
    with errors_as_click():
        locks = pipeline.storage_status(config, names or None)
    now = datetime.now(timezone.utc)
    if as_json:
        out: list[dict[str, object]] = []
        for name, lock in locks:
            if isinstance(lock, StoreError):
                out.append({"warc_file": name, "error": lock.to_dict()})
            else:
                until = lock.retain_until.isoformat() if lock.retain_until else None
                out.append({"warc_file": name, "mode": lock.mode, "retain_until": until, "legal_hold": lock.legal_hold, "locked": lock.locked_at(now)})
        click.echo(orjson.dumps(out).decode())
        return
    table = Table("WARC file", "mode", "retain until", "legal hold", "deletable", title=f"Locks of {len(locks)} WARC file(s)")
    for name, lock in locks:
        if isinstance(lock, StoreError):
            table.add_row(name, "?", lock.message, "?", "?")
            continue
        until = lock.retain_until.astimezone(IST).strftime("%Y-%m-%d %H:%M IST") if lock.retain_until else "none"
        table.add_row(name, lock.mode or "none", until, "on" if lock.legal_hold else "off", "no" if lock.locked_at(now) else "yes")
    out_console().print(table)


@storage.command("lock")
@data_dir_option
@click.pass_context
def storage_lock(ctx: click.Context, data_dir: Path | None) -> None:
    """Extend each WARC object's retention to what its records' retention tags require.

    `sangrah extract` does this for the files it extracts; run this after restoring a bucket
    or to check every file. Retention is only ever extended.

    Example: sangrah storage lock
    """
    from archiver import pipeline

    config = load_for(ctx, data_dir)
    with errors_as_click():
        report = pipeline.lock_warcs(config)
    for name in report.extended:
        click.echo(f"{name}: retained until {report.until[name].astimezone(IST):%Y-%m-%d %H:%M IST}")
    click.echo(f"checked {report.checked} WARC file(s): extended the retention of {len(report.extended)}", err=True)


@storage.command("delete")
@click.argument("name")
@click.option("--reason", required=True, help="Why it is deleted (written to the audit log), e.g. the disposal order.")
@user_option
@data_dir_option
@click.pass_context
def storage_delete(ctx: click.Context, name: str, reason: str, user: str | None, data_dir: Path | None) -> None:
    """Delete one published WARC file from the store: the one governed deletion.

    Only a records officer may ask. Refused while the file is under retention or legal hold;
    either way the audit log records who asked, when, and why. The manifest keeps its entry,
    marked deleted.

    Example: sangrah storage delete sangrah-20261125144720821423-00000.warc.gz --reason "disposal order 12/2027"
    """
    from archiver import pipeline

    with session(ctx, data_dir, user, "storage delete", target=name) as s:
        pipeline.delete_warc(s.config, name, actor=s.actor.name, reason=reason)
    click.echo(f"deleted {name} from the store; the audit log records it")
