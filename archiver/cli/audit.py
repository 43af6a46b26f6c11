"""The audit trail: ``audit verify`` checks the hash chain, ``audit list`` reads it."""

from __future__ import annotations

from pathlib import Path

import click
import orjson
from rich.table import Table

from archiver.catalog.audit import iter_entries, verify_chain
from archiver.cli._access import WHEN, When, session, user_option
from archiver.cli._base import cli, data_dir_option, out_console
from archiver.rti.deadlines import format_instant

__all__ = ["audit"]


@cli.group()
def audit() -> None:
    """The audit trail: every command that reads or changes the register, by whom and when, hash-chained.

    Example: sangrah audit verify
    """


@audit.command("verify")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@user_option
@data_dir_option
@click.pass_context
def audit_verify(ctx: click.Context, as_json: bool, user: str | None, data_dir: Path | None) -> None:
    """Check the audit log's hash chain from its first entry; exit 1 naming the first entry that breaks it.

    Write down the head hash it prints: a later run that no longer finds it shows the log was cut short or rewritten.

    Example: sangrah audit verify
    """
    with session(ctx, data_dir, user, "audit verify") as s:
        report = verify_chain(s.catalog.engine)
        # the check itself is entered after it ran, so it never checks its own entry
        s.catalog.audit(actor=s.actor.name, action="audit_verify", target=None, outcome="ok" if report.intact else "broken", details={"entries": report.entries, "broken": report.broken_id})
    if as_json:
        click.echo(orjson.dumps({"entries": report.entries, "intact": report.intact, "head_id": report.head_id, "head_hash": report.head_hash, "broken_id": report.broken_id, "problem": report.problem}).decode())
    elif report.intact:
        click.echo(f"checked {report.entries:,} audit entries: the chain is intact; head entry {report.head_id}, {report.head_hash}")
    else:
        click.echo(f"BROKEN at entry {report.broken_id}: {report.problem}")
        click.echo(f"the chain holds up to entry {report.head_id or 0}; entries from {report.broken_id} on cannot be trusted. Keep the catalog file as it is and tell the records officer (PRA s.7).")
    if not report.intact:
        raise SystemExit(1)


@audit.command("list")
@click.option("--action", help="Only this action, or a prefix ending in * (e.g. rti_*).")
@click.option("--actor", help="Only entries by this user.")
@click.option("--target", help="Only entries about this target (a registration number, an account).")
@click.option("--since", type=WHEN, help="From this instant (2026-03-02, or 2026-03-02 14:05 IST).")
@click.option("--until", type=WHEN, help="Before this instant.")
@click.option("--limit", type=click.IntRange(1), help="At most this many, the latest.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines instead of a table.")
@user_option
@data_dir_option
@click.pass_context
def audit_list(
    ctx: click.Context, action: str | None, actor: str | None, target: str | None, since: When | None, until: When | None, limit: int | None,
    as_json: bool, user: str | None, data_dir: Path | None,
) -> None:
    """List audit entries, oldest first, filtered.

    Example: sangrah audit list --action "rti_*" --since 2026-03-01
    """
    with session(ctx, data_dir, user, "audit list") as s:
        entries = list(iter_entries(s.catalog.engine, action=action, actor=actor, target=target, since=since.at if since else None, until=until.at if until else None))
        if limit:
            entries = entries[-limit:]
        s.catalog.audit(actor=s.actor.name, action="audit_list", target=None, outcome="ok", details={"action": action, "actor": actor, "target": target, "entries": len(entries)})
    if as_json:
        for entry in entries:
            click.echo(orjson.dumps(entry.to_json()).decode())
        return
    table = Table("#", "when (IST)", "by", "action", "target", "outcome", "details", title=f"{len(entries)} audit entr{'y' if len(entries) == 1 else 'ies'}")
    for entry in entries:
        table.add_row(str(entry.id), format_instant(entry.at), entry.actor, entry.action, entry.target or "", entry.outcome, orjson.dumps(entry.details).decode())
    out_console().print(table)
