"""The audit trail: ``audit verify`` checks the hash chain, ``audit head`` gives its head to write
down elsewhere, ``audit list`` reads it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import orjson
from rich.table import Table

from archiver.catalog.audit import WHEN_TAMPERED, ChainHead, ChainReport, iter_entries, verify_chain
from archiver.cli._access import WHEN, When, session, user_option
from archiver.cli._base import cli, data_dir_option, out_console
from archiver.rti.deadlines import format_instant

__all__ = ["audit"]


@cli.group()
def audit() -> None:
    """The audit trail: every command that reads or changes the register, by whom and when, hash-chained.

    Example: sangrah audit verify
    """


def _head(ctx: click.Context, param: click.Parameter, value: str | None) -> ChainHead | None:
    if value is None:
        return None
    try:
        return ChainHead.parse(value)
    except ValueError as exc:
        raise click.BadParameter(f"{exc}. Give the head as sangrah audit head prints it, SEQ:HASH, or the hash alone.", ctx, param) from exc


@audit.command("verify")
@click.option("--head", "anchor", metavar="SEQ:HASH", callback=_head, help="A head written down earlier, as sangrah audit head prints it (or its hash alone): check also that it is still in the chain at its place.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@user_option
@data_dir_option
@click.pass_context
def audit_verify(ctx: click.Context, anchor: ChainHead | None, as_json: bool, user: str | None, data_dir: Path | None) -> None:
    """Check the audit log's hash chain from its first entry; exit 1 naming the first entry that breaks it.

    The chain alone cannot show entries cut off its end, or the whole log replaced by a shorter
    consistent one. With --head, a head written down earlier (sangrah audit head) must still be in
    the chain at its place, or it exits 1 naming the entries that are missing.

    \b
    Example: sangrah audit verify --head 1204:403b159be8a84eac22d48c710eab20ca80d5c7982649e1fe869b0a64e6c49503
    """
    with session(ctx, data_dir, user, "audit verify") as s:
        report = verify_chain(s.catalog.engine, anchor)
        ok = report.intact and (report.anchor is None or report.anchor.found)
        details: dict[str, Any] = {"entries": report.entries, "broken": report.broken_id}
        if report.anchor is not None:
            details |= {"head": str(report.anchor.head), "head_found": report.anchor.found}
        # the check itself is entered after it ran, so it never checks its own entry
        s.catalog.audit(actor=s.actor.name, action="audit_verify", target=None, outcome="ok" if ok else "broken", details=details)
    if as_json:
        click.echo(orjson.dumps({
            "entries": report.entries, "intact": report.intact, "head_id": report.head_id, "head_hash": report.head_hash, "broken_id": report.broken_id,
            "problem": report.problem, "anchor": report.anchor.to_json() if report.anchor else None,
        }).decode())
    else:
        _echo_verified(report)
    if not ok:
        raise SystemExit(1)


def _echo_verified(report: ChainReport) -> None:
    if report.intact:
        click.echo(f"checked {report.entries:,} audit entries: the chain is intact; head entry {report.head_id}, {report.head_hash}")
    else:
        click.echo(f"BROKEN at entry {report.broken_id}: {report.problem}")
        click.echo(f"the chain holds up to entry {report.head_id or 0}; entries from {report.broken_id} on cannot be trusted. {WHEN_TAMPERED}")
    if report.anchor is None:
        return
    if not report.anchor.found:
        click.echo(f"HEAD NOT FOUND: {report.anchor.problem}")
    elif report.intact:
        after = (report.head_id or 0) - (report.anchor.found_id or 0)
        click.echo(f"the head written down, entry {report.anchor.found_id}, is still in the chain at its place; {after:,} entr{'y' if after == 1 else 'ies'} chain on from it")
    else:
        click.echo(f"the head written down, entry {report.anchor.found_id}, is still in the chain, before the break")


@audit.command("head")
@click.option("--json", "as_json", is_flag=True, help="Print the head as JSON.")
@user_option
@data_dir_option
@click.pass_context
def audit_head(ctx: click.Context, as_json: bool, user: str | None, data_dir: Path | None) -> None:
    """Print the audit log's head to write down outside Sangrah: its entry number, time (IST) and hash.

    It checks the chain first, as audit verify does, and exits 1 without a head if the chain is
    broken. Put what it prints where Sangrah cannot change it (the minutes, an e-mail to the
    auditor): a later sangrah audit verify --head SEQ:HASH then shows whether entries were cut off
    the end of the log since, which the chain alone cannot show.

    Example: sangrah audit head
    """
    with session(ctx, data_dir, user, "audit head") as s:
        report = verify_chain(s.catalog.engine)
        head = report.head
        s.catalog.audit(
            actor=s.actor.name, action="audit_head", target=None, outcome="ok" if head else "broken",
            details={"entries": report.entries, "head": str(head) if head else None, "broken": report.broken_id},
        )
    if head is None or report.head_at is None:
        why = f"the chain is broken at entry {report.broken_id}: {report.problem}" if not report.intact else "the audit log is empty"
        raise click.ClickException(f"no head to write down: {why}. Run: sangrah audit verify")
    if as_json:
        click.echo(orjson.dumps({"entries": report.entries, "head_id": head.id, "head_at": report.head_at.isoformat(), "head_hash": head.hash, "head": str(head)}).decode())
        return
    click.echo(f"audit log head: entry {head.id} of {report.entries:,}, entered {format_instant(report.head_at)}")
    click.echo(f"hash: {head.hash}")
    click.echo(f"check later with: sangrah audit verify --head {head}")


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
