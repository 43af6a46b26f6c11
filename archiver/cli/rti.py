"""RTI request register commands: ``rti new|list|show|due`` (the changes: ``rti_changes``; ``notice``: ``rti_notices``).

Every command names the acting user (``--user``), who must hold a role the command needs
(``archiver/access/roles.py``); every command, reading or writing, leaves an audit entry. Dates
are shown in Asia/Kolkata. The applicant's particulars are shown only to the PIO, APIO and FAA.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import click
import orjson
from rich.table import Column, Table

from archiver.access.roles import APPLICANT_ROLES
from archiver.cli._access import DAY, WHEN, Session, When, session, user_option
from archiver.cli._base import cli, data_dir_option, out_console
from archiver.errors import RtiError
from archiver.rti.case import Case
from archiver.rti.deadlines import Deadlines, format_day, format_instant, ist_day
from archiver.rti.fees import format_inr
from archiver.rti.holds import hold_window
from archiver.rti.register import Change, applicant_of, get_case, list_cases, record_deemed_refusals, record_event, register_request
from archiver.rti.request import MODES, Applicant, NewRequest
from archiver.rti.states import OPEN_STATES, STATES, Event

__all__ = ["rti", "record_change", "report", "reply_line", "rupees", "rules_of", "apply_store_holds"]


def _now() -> datetime:
    return datetime.now(timezone.utc)


@cli.group()
def rti() -> None:
    """The RTI request register: requests, their statutory deadlines, decisions, appeals and notices.

    Example: sangrah rti due
    """


def rules_of(s: Session) -> Any:
    from archiver.pipeline.rti import rti_rules

    return rti_rules(s.config)


def report(change: Change, message: str) -> None:
    click.echo(message, err=True)
    for warning in change.warnings:
        click.echo(f"warning: {warning}", err=True)


def reply_line(deadlines: Deadlines) -> str:
    reply = deadlines.reply
    if reply.paused:
        return f"{reply.what}: paused ({reply.basis})"
    return f"{reply.what} by {format_day(reply.due_on) if reply.due_on else '?'} ({reply.cite})"


# -- new -------------------------------------------------------------------------------------------
@rti.command("new")
@click.argument("registration_no")
@click.option("--received-at", type=WHEN, required=True, help="When the public authority received it: 2026-03-02 or 2026-03-02 14:05 (IST), or ISO 8601 with offset.")
@click.option("--mode", type=click.Choice(MODES), required=True, help="How it was received.")
@click.option("--subject", required=True, help="The information asked for, as in the application.")
@click.option("--name", "applicant_name", required=True, help="The applicant's name (personal data: kept apart, shown only to the PIO, APIO and FAA).")
@click.option("--address", "applicant_address", required=True, help="The applicant's postal address, for the reply.")
@click.option("--contact", "applicant_contact", help="The applicant's e-mail or telephone, if given.")
@click.option("--life-liberty", is_flag=True, help="The information concerns the life or liberty of a person: reply within 48 hours (s.7(1) proviso).")
@click.option("--bpl", is_flag=True, help="The applicant is below the poverty line (certificate seen): no fees (s.7(5) proviso).")
@click.option("--fee-paid", default="0", metavar="RUPEES", help="Application fee paid, in rupees.")
@click.option("--application-on", type=DAY, help="The date written on the application.")
@click.option("--transferred-from", help="The public authority that transferred the request here under s.6(3).")
@click.option("--transferred-on", type=DAY, help="The date of that transfer.")
@click.option("--json", "as_json", is_flag=True, help="Print the request as JSON.")
@user_option
@data_dir_option
@click.pass_context
def rti_new(
    ctx: click.Context, registration_no: str, received_at: When, mode: str, subject: str, applicant_name: str, applicant_address: str,
    applicant_contact: str | None, life_liberty: bool, bpl: bool, fee_paid: str, application_on: date | None, transferred_from: str | None,
    transferred_on: date | None, as_json: bool, user: str | None, data_dir: Path | None,
) -> None:
    """Register a request received by the public authority; its deadlines start from the receipt.

    Example: sangrah rti new DOWR/R/2026/00012 --received-at "2026-03-02 10:00" --mode online_portal --subject "Replies to flood posts" --name "A. Citizen" --address "12 Station Road, Patna" --fee-paid 10
    """
    fee = rupees(fee_paid, "--fee-paid")
    with session(ctx, data_dir, user, "rti new", target=registration_no) as s:
        if life_liberty and not received_at.has_time:
            raise RtiError(
                f"{registration_no}: a life-or-liberty request is due within 48 hours of its receipt, counted in hours (RTI s.7(1) proviso): "
                "give the time of receipt too, e.g. --received-at \"2026-03-02 14:05\".",
                request=registration_no, field="received_at", rule="RTI s.7(1) proviso",
            )
        rules = rules_of(s)
        new = NewRequest(
            registration_no=registration_no, received_at=received_at.at, mode=mode, subject=subject,
            applicant=Applicant(applicant_name, applicant_address, applicant_contact), life_liberty=life_liberty, bpl=bpl, fee_paid_inr=fee,
            application_on=application_on, transferred_from=transferred_from, transferred_on=transferred_on,
        )
        now = _now()
        change = register_request(s.catalog, s.actor, new, now=now, pattern=s.config.rti.registration_pattern, fee_table=rules.fee_table, timelines=rules.timelines)
        apply_store_holds(s)
        deadlines = change.case.deadlines(rules.timelines, now)
    if as_json:
        click.echo(orjson.dumps(_case_json(change.case, deadlines)).decode())
    report(change, f"registered {registration_no}, received {format_instant(change.case.request.received_at)}: {reply_line(deadlines)}")


def rupees(text: str, option: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise click.BadParameter(f"{text!r} is not an amount in rupees; write 10 or 10.50", param_hint=option) from None
    if value < 0:
        raise click.BadParameter("an amount cannot be negative", param_hint=option)
    return value


# -- list, show, due -------------------------------------------------------------------------------
@rti.command("list")
@click.option("--state", "states", multiple=True, type=click.Choice(STATES), help="Only requests in this state (repeatable).")
@click.option("--open", "open_only", is_flag=True, help="Only requests with something still owed (not decided, transferred or closed).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines instead of a table.")
@user_option
@data_dir_option
@click.pass_context
def rti_list(ctx: click.Context, states: tuple[str, ...], open_only: bool, as_json: bool, user: str | None, data_dir: Path | None) -> None:
    """List the requests in the register with their state and next deadline (no personal data).

    Example: sangrah rti list --open
    """
    with session(ctx, data_dir, user, "rti list") as s:
        rules = rules_of(s)
        wanted = frozenset(states) | (OPEN_STATES if open_only else frozenset())
        cases = list_cases(s.catalog, states=wanted or None)
        now = _now()
        s.catalog.audit(actor=s.actor.name, action="rti_list", target=None, outcome="ok", details={"states": sorted(wanted), "requests": len(cases)})
    if as_json:
        for case in cases:
            click.echo(orjson.dumps(_case_json(case, case.deadlines(rules.timelines, now))).decode())
        return
    table = Table(_fixed("registration"), _fixed("received"), "state", "outcome", "next deadline", _fixed("due (IST)"), _fixed("days"), title=f"{len(cases)} request(s)")
    today = ist_day(now)
    for case in cases:
        deadline = _next_deadline(case, case.deadlines(rules.timelines, now))
        due = deadline.due_on if deadline else None
        table.add_row(
            case.registration_no, format_day(ist_day(case.request.received_at)), _state_text(case, case.deadlines(rules.timelines, now)),
            (case.request.outcome or "").replace("_", " "), f"{deadline.what} ({deadline.cite})" if deadline else "",
            format_day(due) if due else ("paused" if deadline and deadline.paused else ""), str((due - today).days) if due else "",
        )
    out_console().print(table)


def _fixed(header: str) -> Column:
    """A column never wrapped nor cut: registration numbers and dates must read whole."""
    return Column(header, no_wrap=True, min_width=len(header))


def _next_deadline(case: Case, deadlines: Deadlines) -> Any:
    if case.state in ("received", "searching", "under_review", "third_party_consultation"):
        # a request marked for transfer owes its transfer first: 5 days, against 30 for the reply
        return deadlines.transfer if case.last("marked_for_transfer") is not None else deadlines.reply
    if case.state == "first_appeal" and deadlines.faa_disposal is not None and deadlines.faa_disposal.met_at is None:
        return deadlines.faa_disposal
    if case.state == "decided" and deadlines.first_appeal is not None:
        return deadlines.first_appeal
    return None


def _state_text(case: Case, deadlines: Deadlines) -> str:
    text = case.state.replace("_", " ")
    if deadlines.deemed_refusal_at is not None and case.state in ("received", "searching", "under_review", "third_party_consultation"):
        text += f" (deemed refused {format_day(ist_day(deadlines.deemed_refusal_at))})"
    return text


@rti.command("show")
@click.argument("registration_no")
@click.option("--json", "as_json", is_flag=True, help="Print the request, its deadlines and events as JSON.")
@user_option
@data_dir_option
@click.pass_context
def rti_show(ctx: click.Context, registration_no: str, as_json: bool, user: str | None, data_dir: Path | None) -> None:
    """Show a request: its particulars, every deadline with its rule, its events, its hold.

    The applicant is shown only to the PIO, APIO and FAA (personal data).

    Example: sangrah rti show DOWR/R/2026/00012
    """
    with session(ctx, data_dir, user, "rti show", target=registration_no) as s:
        rules = rules_of(s)
        now = _now()
        case = get_case(s.catalog, registration_no)
        applicant = applicant_of(s.catalog, s.actor, registration_no) if s.actor.has(APPLICANT_ROLES) else None
        s.catalog.audit(actor=s.actor.name, action="rti_show", target=registration_no, outcome="ok", details={"applicant_shown": applicant is not None})
    deadlines = case.deadlines(rules.timelines, now)
    window = hold_window(case, deadlines, rules.timelines)
    if as_json:
        data = _case_json(case, deadlines)
        data["hold"] = {"open": window.open, "until": window.until.isoformat() if window.until else None, "reason": window.reason}
        data["events"] = [
            {"kind": e.kind, "happened_at": e.happened_at.isoformat(), "recorded_at": e.recorded_at.isoformat(), "actor": e.actor,
             "from_state": e.from_state, "to_state": e.to_state, "reason": e.reason} for e in case.events
        ]
        data["applicant"] = {"name": applicant.name, "address": applicant.address, "contact": applicant.contact} if applicant else None
        click.echo(orjson.dumps(data).decode())
        return
    request = case.request
    console = out_console()
    console.print(f"[bold]{request.registration_no}[/bold]  {_state_text(case, deadlines)}" + (f", {request.outcome.replace('_', ' ')}" if request.outcome else ""))
    console.print(f"received {format_instant(request.received_at)} by {request.mode.replace('_', ' ')}" + (f"; application dated {format_day(request.application_on)}" if request.application_on else ""))
    if request.transferred_from and request.transferred_on:
        console.print(f"transferred from {request.transferred_from} on {format_day(request.transferred_on)} (RTI s.6(3))")
    flags = [f for f, on in (("life or liberty: 48 hours", request.life_liberty), ("below the poverty line: no fees", request.bpl)) if on]
    console.print(f"fee paid {format_inr(request.fee_paid_inr)}" + (f"; {'; '.join(flags)}" if flags else ""))
    console.print(f"subject: {request.subject}")
    if applicant:
        console.print(f"applicant: {applicant.name}, {' '.join(applicant.address.split())}" + (f", {applicant.contact}" if applicant.contact else ""))
    else:
        console.print(f"applicant: personal data, shown to {', '.join(sorted(APPLICANT_ROLES))} only")
    table = Table("deadline", _fixed("due (IST)"), "rule", "how it is counted", title="Deadlines")
    marked = case.last("marked_for_transfer")
    for deadline in deadlines:
        when = "paused" if deadline.paused else (format_day(deadline.due_on) if deadline.due_on else "not yet")
        if deadline.met_at:
            when += f" (done {format_day(ist_day(deadline.met_at))}{', late' if deadline.met_late else ''})"
        elif deadline.rule == "transfer" and marked is not None and request.state != "transferred":
            when += f" (marked for transfer {format_day(ist_day(marked.happened_at))})"
        elif deadline.conditional:
            when += " (if it applies)"
        table.add_row(deadline.what, when, deadline.cite, deadline.basis)
    console.print(table)
    if deadlines.deemed_refusal_at:
        console.print(f"deemed refusal at {format_instant(deadlines.deemed_refusal_at)} ({deadlines.deemed_refusal_cite}); information free of charge ({deadlines.late_is_free_cite})")
    console.print(f"records: {window.describe()}")
    events = Table(_fixed("when (IST)"), "event", "by", "state", "why", title="Events")
    for event in case.events:
        events.add_row(format_instant(event.happened_at), event.kind.replace("_", " "), event.actor, f"{event.from_state or ''} -> {event.to_state or ''}", event.reason or "")
    console.print(events)


def _case_json(case: Case, deadlines: Deadlines) -> dict[str, Any]:
    request = case.request
    return {
        "registration_no": request.registration_no,
        "received_at": request.received_at.isoformat(),
        "received_on_ist": ist_day(request.received_at).isoformat(),
        "mode": request.mode,
        "state": request.state,
        "outcome": request.outcome,
        "life_liberty": request.life_liberty,
        "bpl": request.bpl,
        "fee_paid_inr": str(request.fee_paid_inr),
        "transferred_from": request.transferred_from,
        "subject": request.subject,
        "deadlines": [d.to_json() for d in deadlines],
        "deemed_refusal_at": deadlines.deemed_refusal_at.isoformat() if deadlines.deemed_refusal_at else None,
        "late_is_free": deadlines.late_is_free,
        "hold": {"open": request.hold_open, "until": request.hold_until.isoformat() if request.hold_until else None},
    }


@rti.command("due")
@click.option("--within", "within_days", type=click.IntRange(0, 366), default=7, show_default=True, help="Also list what falls due within this many days.")
@click.option("--as-of", type=WHEN, help="Count as of this instant instead of now (planning).")
@click.option(
    "--record-deemed-refusals", "record_deemed", is_flag=True,
    help="First record the deemed refusal (s.7(2)) of each request whose reply period ran out undecided, once each, as the daily DAG does (needs the role of rti record).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON, as the daily DAG raises it.")
@user_option
@data_dir_option
@click.pass_context
def rti_due(ctx: click.Context, within_days: int, as_of: When | None, record_deemed: bool, as_json: bool, user: str | None, data_dir: Path | None) -> None:
    """List what is overdue or due soon, most urgent first, in Asia/Kolkata dates; overdue items escalate.

    Exit 0 either way; overdue items are marked ESCALATE with whom to tell. Listing records
    nothing: the daily DAG records each deemed refusal as an event of its request, and so does
    --record-deemed-refusals.

    Example: sangrah rti due --within 3
    """
    from archiver.pipeline.rti import rti_due as pipeline_due

    if record_deemed and as_of is not None:
        raise click.UsageError("--record-deemed-refusals records what has befallen the requests by now; --as-of is for planning: give one or the other")
    recorded: list[Case] = []
    if record_deemed:
        with session(ctx, data_dir, user, "rti record") as s:
            recorded = record_deemed_refusals(s.catalog, s.actor.name, now=_now(), timelines=rules_of(s).timelines)
    with session(ctx, data_dir, user, "rti due") as s:
        report = pipeline_due(s.config, now=as_of.at if as_of else None, within_days=within_days, actor=s.actor.name)
    for case in recorded:
        deemed = case.last("deemed_refusal")
        if deemed is not None:
            click.echo(f"recorded: {case.registration_no} deemed refused at {format_instant(deemed.happened_at)} ({deemed.details.get('cite')})", err=True)
    if as_json:
        click.echo(orjson.dumps({**report, "deemed_refusals_recorded": [case.registration_no for case in recorded]} if record_deemed else report).decode())
        return
    items = report["items"]
    click.echo(f"RTI due as of {format_day(date.fromisoformat(report['as_of_ist_date']))} (IST): {len(items)} item(s), {report['overdue']} overdue")
    for item in items:
        click.echo(_due_line(item))


def _due_line(item: dict[str, Any]) -> str:
    """One line per item, most urgent first: readable on a terminal and in a mail."""
    status = "OVERDUE" if item["status"] == "overdue" else item["status"].replace("_", " ")
    if item["due_on"] is None:
        when = "paused for fees"
    else:
        days = item["days_left"]
        ago = "today" if days == 0 else f"in {days} day{'s' if days != 1 else ''}" if days > 0 else f"{-days} day{'s' if days != -1 else ''} ago"
        when = f"due {format_day(date.fromisoformat(item['due_on']))} ({ago})"
    line = f"{status:<9} {item['registration_no']}  {item['what']}, {when}, {item['cite']}"
    if item["deemed_refusal_at"] and item["status"] == "overdue":
        line += "; deemed refused (RTI s.7(2))"
    if item["escalate"]:
        line += f"; ESCALATE to {item['escalate_to']}"
    if item["penalty_risk_inr"]:
        line += f"; penalty risk Rs {item['penalty_risk_inr']:,} (RTI s.20(1))"
    return line


def record_change(s: Session, registration_no: str, event: Event, **kwargs: Any) -> Change:
    rules = rules_of(s)
    change = record_event(s.catalog, s.actor, registration_no, event, now=_now(), timelines=rules.timelines, **kwargs)
    apply_store_holds(s)
    return change


def apply_store_holds(s: Session) -> None:
    """The store step of the holds a change placed or released (S3 legal hold on their WARC objects).

    Never fails the change: what the store could not take stays pending, said here, listed by
    ``sangrah verify`` and applied by ``sangrah hold sync``.
    """
    from archiver.pipeline.legal_holds import sync_legal_holds

    result = sync_legal_holds(s.config, actor=s.actor.name, catalog=s.catalog)
    if not result.ok:
        click.echo(f"warning: {result.describe()}", err=True)
