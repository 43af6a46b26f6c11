"""``rti hold``: the records a request concerns (its scope) and the holds they are kept under.

One command, four uses: add to the scope (``--search`` with ``--filter``, or ``--records``),
run the saved searches again (``--rerun``), show it (``--list``), and release the request's
holds once the law lets go of them (``--release``). Each use is role-checked on its own
(``rti hold``, ``rti hold list``, ``rti hold release``) and audited.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click
import orjson
from rich.table import Table

from archiver.cli._access import Session, session, user_option
from archiver.cli._base import data_dir_option, out_console
from archiver.cli.rti import apply_store_holds, rti, rules_of
from archiver.errors import RtiError
from archiver.rti.deadlines import format_instant, ist_day
from archiver.rti.holds import HoldSync, HoldWindow, hold_window, release_request_holds, request_holds, sync_request_hold
from archiver.rti.register import get_case
from archiver.rti.scope import ScopeChange, add_records, add_search, list_scope, rerun_search, scope_record_ids

__all__ = ["rti_hold", "sync_holds"]


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _window(s: Session, registration_no: str, now: datetime) -> tuple[Any, HoldWindow]:
    rules = rules_of(s)
    case = get_case(s.catalog, registration_no)
    return case, hold_window(case, case.deadlines(rules.timelines, now), rules.timelines)


def sync_holds(s: Session, registration_no: str, now: datetime) -> HoldSync:
    """Bring the request's holds level with its scope and review set, and the store's legal holds with them."""
    case, window = _window(s, registration_no, now)
    sync = sync_request_hold(s.catalog, case, window, actor=s.actor.name, today=ist_day(now))
    apply_store_holds(s)
    return sync


def _found(s: Session, query: str, filters: tuple[str, ...]) -> list[str]:
    from archiver.pipeline import search_all_ids
    from archiver.search.query import parse_filters, parse_query

    return search_all_ids(s.config, parse_query(query), parse_filters(filters))


def _held_line(sync: HoldSync) -> str:
    if sync.lapsed:
        return "the hold window has lapsed: no hold placed"
    if not sync.holds:
        return "no records in scope yet: no hold placed"
    return "; ".join(f"H-{h.id} {h.hold_type}" for h in sync.holds) + f" cover {sync.records:,} record(s)" + (f" ({sync.added:,} newly held)" if sync.added else "")


@rti.command("hold")
@click.argument("registration_no")
@click.argument("record_ids", nargs=-1, metavar="[RECORD_ID]...")
@click.option("--search", "query", metavar="QUERY", help="Save this search in the request's scope: what it finds now is held (as in sangrah search).")
@click.option("--filter", "filters", multiple=True, metavar="KEY=VALUE", help="Filters of the saved search (repeatable), as in sangrah search.")
@click.option("--records", "picked", is_flag=True, help="Add the RECORD_IDs given (platform:native_id) to the scope.")
@click.option("--rerun", "rerun", is_flag=True, help="Run the request's saved searches again; what they find now joins the scope.")
@click.option("--sync", "sync_only", is_flag=True, help="Only bring the holds level with the scope (after an interrupted run).")
@click.option("--list", "show", is_flag=True, help="Show the scope, the holds and the hold window.")
@click.option("--release", is_flag=True, help="Release the request's holds: only once it is closed and its appeal windows have lapsed.")
@click.option("--reason", help="Why the holds end (with --release).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@user_option
@data_dir_option
@click.pass_context
def rti_hold(
    ctx: click.Context, registration_no: str, record_ids: tuple[str, ...], query: str | None, filters: tuple[str, ...], picked: bool, rerun: bool,
    sync_only: bool, show: bool, release: bool, reason: str | None, as_json: bool, user: str | None, data_dir: Path | None,
) -> None:
    """Add to the records a request concerns, show them, or release their holds.

    While the request or an appeal is pending, and until its last appeal window has lapsed,
    every record of its scope (and of its review set, threads expanded) is under an
    RTI_PENDING hold, and under a THIRD_PARTY_WINDOW hold too once a s.11 notice is given.
    Holds end only with --release, after the request is closed and the window has lapsed.

    Example: sangrah rti hold DOWR/R/2026/00012 --search "flood relief" --filter by=citizen
    """
    modes = [m for m, on in (("--search/--filter", bool(query) or bool(filters)), ("--records", picked), ("--rerun", rerun), ("--sync", sync_only), ("--list", show), ("--release", release)) if on]
    if len(modes) != 1:
        raise click.UsageError("give one of --search (with --filter), --records, --rerun, --sync, --list or --release" + (f"; not {' and '.join(modes)} together" if modes else ""))
    if record_ids and not picked:
        raise click.UsageError("record ids are given with --records, e.g. sangrah rti hold REQUEST --records x:1994071213470646404")
    if reason and not release:
        raise click.UsageError("--reason goes with --release")
    command = {"--list": "rti hold list", "--release": "rti hold release"}.get(modes[0], "rti hold")
    now = _now()
    with session(ctx, data_dir, user, command, target=registration_no) as s:
        if show:
            _show(s, registration_no, now, as_json)
            return
        if release:
            if not reason:
                raise RtiError(f"{registration_no}: a hold is released only with its reason; give --reason.", request=registration_no, field="reason", rule="R11")
            case, window = _window(s, registration_no, now)
            released = release_request_holds(s.catalog, case, window, actor=s.actor.name, reason=reason, today=ist_day(now))
            apply_store_holds(s)
            for hold in released:
                click.echo(f"released H-{hold.id} {hold.hold_type} {hold.reference}: {reason}", err=True)
            return
        changes: list[ScopeChange] = []
        if query is not None or filters:
            changes.append(add_search(s.catalog, s.actor, registration_no, query or "", filters, _found(s, query or "", filters), now=now))
        elif picked:
            changes.append(add_records(s.catalog, s.actor, registration_no, record_ids, now=now))
        elif rerun:
            for entry in list_scope(s.catalog, registration_no):
                if entry.kind == "search":
                    changes.append(rerun_search(s.catalog, s.actor, registration_no, entry.id, _found(s, entry.query or "", entry.filters), now=now))
            if not changes:
                raise RtiError(f"{registration_no}: its scope has no saved search to run again; add one with --search", request=registration_no, field="scope", rule="R11")
        sync = sync_holds(s, registration_no, now)
    if as_json:
        click.echo(orjson.dumps({
            "scope": [{"id": c.entry.label, "kind": c.entry.kind, "found": c.entry.found, "added": c.added} for c in changes],
            "records": changes[-1].total if changes else sync.records,
            "holds": [h.to_json() for h in sync.holds], "newly_held": sync.added,
        }).decode())
        return
    for change in changes:
        click.echo(f"{registration_no}: {change.entry.label} {change.entry.describe()}, {change.added:,} new to the scope ({change.total:,} in all)", err=True)
    click.echo(f"{registration_no}: {_held_line(sync)}", err=True)


def _show(s: Session, registration_no: str, now: datetime, as_json: bool) -> None:
    case, window = _window(s, registration_no, now)
    entries = list_scope(s.catalog, registration_no)
    records = scope_record_ids(s.catalog, registration_no)
    holds = request_holds(s.catalog, registration_no, active_only=False)
    s.catalog.audit(actor=s.actor.name, action="rti_hold_list", target=registration_no, outcome="ok", details={"scope": len(entries), "records": len(records)})
    if as_json:
        click.echo(orjson.dumps({
            "registration_no": registration_no,
            "scope": [{"id": e.label, "kind": e.kind, "query": e.query, "filters": list(e.filters), "found": e.found, "added_by": e.added_by,
                       "added_at": e.added_at.isoformat(), "run_at": e.run_at.isoformat()} for e in entries],
            "records": records,
            "holds": [h.to_json() for h in holds],
            "window": {"open": window.open, "until": window.until.isoformat() if window.until else None, "reason": window.reason},
        }).decode())
        return
    console = out_console()
    table = Table("scope", "what", "records", "added by", "added (IST)", "last run (IST)", title=f"{registration_no}: what the request concerns ({len(records):,} record(s))")
    for e in entries:
        table.add_row(e.label, e.describe(), f"{e.found:,}", e.added_by, format_instant(e.added_at), format_instant(e.run_at) if e.kind == "search" else "")
    console.print(table)
    for hold in holds:
        state = f"released {format_instant(hold.released_at)} by {hold.released_by}: {hold.release_reason}" if hold.released_at else "in force"
        console.print(f"H-{hold.id} {hold.hold_type} placed {format_instant(hold.placed_at)} by {hold.placed_by}: {state}")
    console.print(f"records: {window.describe()} ({case.state.replace('_', ' ')})")
