"""``sangrah rti advance|record|decide|appeal|close``: what happens to a request, each as an event.

Each change is checked against the state machine and the rules (``archiver.rti.states``) and
recorded with who, when and why, its audit entry and the request's hold window in one
transaction; a refusal names the field and the rule.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import click

from archiver.cli._access import DAY, WHEN, When, session, user_option
from archiver.cli._base import data_dir_option
from archiver.cli.rti import record_change, reply_line, report, rti, rules_of, rupees
from archiver.rti.case import DecisionSummary
from archiver.rti.deadlines import format_day, ist_day
from archiver.rti.holds import hold_window
from archiver.rti.request import EXEMPTIONS, OUTCOMES
from archiver.rti.states import FAA_OUTCOMES, Event

__all__ = ["rti_advance", "rti_record", "rti_decide", "rti_appeal", "rti_close"]


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _at(when: When | None) -> datetime:
    return when.at if when else _now()


@rti.command("advance")
@click.argument("registration_no")
@click.argument("state", type=click.Choice(["searching", "under_review", "transferred"]))
@click.option("--reason", required=True, help="Why: kept with the change.")
@click.option("--at", "when", type=WHEN, help="When it happened (default: now).")
@click.option("--to-authority", help="For transferred: the public authority it goes to (s.6(3)).")
@user_option
@data_dir_option
@click.pass_context
def rti_advance(ctx: click.Context, registration_no: str, state: str, reason: str, when: When | None, to_authority: str | None, user: str | None, data_dir: Path | None) -> None:
    """Move a request to searching, under review, or transferred (to another public authority).

    Example: sangrah rti advance DOWR/R/2026/00012 searching --reason "search of the archive started"
    """
    with session(ctx, data_dir, user, "rti advance", target=registration_no) as s:
        details = {"to_authority": to_authority} if to_authority else {}
        change = record_change(s, registration_no, Event("advance", _at(when), reason, state, details), audit_details={"to_authority": to_authority} if to_authority else None)
    report(change, f"{registration_no} is now {state.replace('_', ' ')}")


_RECORDABLE = {
    "fee-paid": ("fee_paid", "the fee asked for was paid (the reply clock runs again, s.7(3)(a))"),
    "third-party-received": ("third_party_received", "the third party received the s.11(1) notice"),
    "representation-received": ("representation_received", "the third party's representation was received (s.11(2))"),
    "decision-received": ("decision_received", "the applicant received the decision (the first appeal window runs from it)"),
    "faa-decision-received": ("faa_decision_received", "the applicant received the FAA's decision (the second appeal window runs from it)"),
    "marked-for-transfer": ("marked_for_transfer", "the information is held by another public authority, to which the request goes within 5 days of receipt (s.6(3))"),
}


@rti.command("record")
@click.argument("registration_no")
@click.argument("what", type=click.Choice(sorted(_RECORDABLE)))
@click.option("--at", "when", type=WHEN, help="When it happened (default: now).")
@click.option("--amount", metavar="RUPEES", help="For fee-paid: the amount paid.")
@click.option("--to-authority", help="For marked-for-transfer: the public authority that holds the information (s.6(3)).")
@click.option("--reason", help="A note kept with the event; for marked-for-transfer, why the information is held there.")
@user_option
@data_dir_option
@click.pass_context
def rti_record(
    ctx: click.Context, registration_no: str, what: str, when: When | None, amount: str | None, to_authority: str | None, reason: str | None,
    user: str | None, data_dir: Path | None,
) -> None:
    """Record a fact that moves a clock: a fee paid, a notice or decision received, a representation,
    or the request marked for transfer (its 5 days of s.6(3) then appear in rti due).

    Example: sangrah rti record DOWR/R/2026/00012 fee-paid --amount 80 --at 2026-03-20
    """
    kind, meaning = _RECORDABLE[what]
    at = _at(when)
    details: dict[str, Any] = {"on": ist_day(at).isoformat()}
    audit: dict[str, Any] = {"what": what}
    if what == "fee-paid":
        if amount is None:
            raise click.UsageError("fee-paid: give the amount paid with --amount")
        details["amount_inr"] = str(rupees(amount, "--amount"))
    if what == "marked-for-transfer":
        if not (to_authority or "").strip() or not (reason or "").strip():
            raise click.UsageError("marked-for-transfer: name the public authority that holds the information with --to-authority, and why with --reason")
        details["to_authority"] = audit["to_authority"] = to_authority
    with session(ctx, data_dir, user, "rti record", target=registration_no) as s:
        change = record_change(s, registration_no, Event(kind, at, reason or meaning, None, details), audit_details=audit)
        rules = rules_of(s)
        deadlines = change.case.deadlines(rules.timelines, _now())
    if what == "marked-for-transfer":
        transfer = deadlines.transfer
        report(change, f"{registration_no}: marked for transfer to {to_authority} on {format_day(ist_day(at))}; transfer it by {format_day(transfer.due_on) if transfer.due_on else '?'} ({transfer.cite})")
        return
    report(change, f"{registration_no}: recorded that {meaning}, on {format_day(ist_day(at))}; {reply_line(deadlines)}")


@rti.command("decide")
@click.argument("registration_no")
@click.option("--outcome", type=click.Choice(OUTCOMES), required=True, help="Disclosed in full, partly disclosed (s.10), or refused (s.7(8)).")
@click.option("--section", "sections", multiple=True, type=click.Choice(EXEMPTIONS), help="Exemption applied (repeatable), e.g. 8(1)(j); needed unless disclosed in full.")
@click.option("--reasons", help="The reasons for withholding, as the notice states them.")
@click.option("--findings", help="Findings on material questions of fact, with the material they rest on (s.10(2)(b)).")
@click.option("--disclosed", type=click.IntRange(0), default=0, help="Records disclosed in full.")
@click.option("--withheld", type=click.IntRange(0), default=0, help="Records withheld.")
@click.option("--redacted", type=click.IntRange(0), default=0, help="Records disclosed with parts severed.")
@click.option("--at", "when", type=WHEN, help="When the decision was made and despatched (default: now).")
@user_option
@data_dir_option
@click.pass_context
def rti_decide(
    ctx: click.Context, registration_no: str, outcome: str, sections: tuple[str, ...], reasons: str | None, findings: str | None,
    disclosed: int, withheld: int, redacted: int, when: When | None, user: str | None, data_dir: Path | None,
) -> None:
    """Record the PIO's decision on a request; a decision that withholds must name its sections.

    Example: sangrah rti decide DOWR/R/2026/00012 --outcome partly_disclosed --section "8(1)(j)" --reasons "names and handles of citizens who replied are personal information"
    """
    summary = DecisionSummary(disclosed, withheld, redacted, tuple(dict.fromkeys(sections)))
    details = {"outcome": outcome, "sections": list(dict.fromkeys(sections)), "reasons": reasons or "", "findings": findings, "summary": summary.to_json()}
    with session(ctx, data_dir, user, "rti decide", target=registration_no) as s:
        change = record_change(s, registration_no, Event("decision", _at(when), reasons, None, details), audit_details={"outcome": outcome, "sections": list(dict.fromkeys(sections))})
        rules = rules_of(s)
        deadlines = change.case.deadlines(rules.timelines, _now())
    appeal = deadlines.first_appeal
    report(change, f"{registration_no} decided: {outcome.replace('_', ' ')}" + (f"; a first appeal lies until {format_day(appeal.due_on)} ({appeal.cite})" if appeal and appeal.due_on else ""))


@rti.command("appeal")
@click.argument("registration_no")
@click.argument("step", type=click.Choice(["first", "extend", "decided", "second"]))
@click.option("--at", "when", type=WHEN, help="When the appeal was received, the reasons recorded, or the decision made (default: now).")
@click.option("--filed-on", type=DAY, help="For first: the day the appellant filed it, when earlier than its receipt.")
@click.option("--via-apio", is_flag=True, help="For first: given to an APIO.")
@click.option("--outcome", type=click.Choice(FAA_OUTCOMES), help="For decided: the FAA's order.")
@click.option("--reason", help="For a late appeal, the cause shown; for extend, the FAA's reasons in writing; else a note.")
@user_option
@data_dir_option
@click.pass_context
def rti_appeal(
    ctx: click.Context, registration_no: str, step: str, when: When | None, filed_on: date | None, via_apio: bool, outcome: str | None,
    reason: str | None, user: str | None, data_dir: Path | None,
) -> None:
    """Record a first appeal, the FAA's extension to 45 days or its decision, or a second appeal.

    Example: sangrah rti appeal DOWR/R/2026/00012 first --at 2026-04-10
    """
    steps: dict[str, tuple[str, dict[str, Any]]] = {
        "first": ("first_appeal", {"filed_on": filed_on.isoformat() if filed_on else None, "via_apio": via_apio}),
        "extend": ("faa_extension", {}),
        "decided": ("faa_decision", {"outcome": outcome}),
        "second": ("second_appeal", {}),
    }
    kind, details = steps[step]
    if step == "decided" and outcome is None:
        raise click.UsageError("appeal decided: give the FAA's order with --outcome")
    with session(ctx, data_dir, user, f"rti appeal {step}", target=registration_no) as s:
        change = record_change(s, registration_no, Event(kind, _at(when), reason, None, details), audit_details={"step": step})
        rules = rules_of(s)
        deadlines = change.case.deadlines(rules.timelines, _now())
    message = {
        "first": lambda: f"first appeal recorded; the FAA decides by {format_day(deadlines.faa_disposal.due_on)} ({deadlines.faa_disposal.cite})" if deadlines.faa_disposal and deadlines.faa_disposal.due_on else "first appeal recorded",
        "extend": lambda: f"the FAA's reasons are recorded; it decides by {format_day(deadlines.faa_disposal.due_on)} ({deadlines.faa_disposal.cite})" if deadlines.faa_disposal and deadlines.faa_disposal.due_on else "recorded",
        "decided": lambda: f"the FAA's decision is recorded; a second appeal lies until {format_day(deadlines.second_appeal.due_on)} ({deadlines.second_appeal.cite})" if deadlines.second_appeal and deadlines.second_appeal.due_on else "recorded",
        "second": lambda: f"second appeal to the {s.config.rti.commission_name} recorded",
    }[step]()
    report(change, f"{registration_no}: {message}")


@rti.command("close")
@click.argument("registration_no")
@click.option("--reason", required=True, help="Why it is closed: e.g. reply given and no appeal within the window, withdrawn, transferred.")
@click.option("--at", "when", type=WHEN, help="When (default: now).")
@user_option
@data_dir_option
@click.pass_context
def rti_close(ctx: click.Context, registration_no: str, reason: str, when: When | None, user: str | None, data_dir: Path | None) -> None:
    """Close a request. Its records stay on hold until its appeal windows have closed.

    Example: sangrah rti close DOWR/R/2026/00012 --reason "reply given; no appeal filed"
    """
    with session(ctx, data_dir, user, "rti close", target=registration_no) as s:
        change = record_change(s, registration_no, Event("close", _at(when), reason))
        rules = rules_of(s)
        window = hold_window(change.case, change.case.deadlines(rules.timelines, _now()), rules.timelines)
    report(change, f"{registration_no} closed; records {window.describe()}")
