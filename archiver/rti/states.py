"""The request's state machine (R2) and the checks every event must pass.

States: received -> searching -> under_review -> third_party_consultation -> decided (disclosed,
partly disclosed or refused) -> first_appeal -> second_appeal -> closed; a request may also be
transferred (s.6(3)). Pure: ``check_event`` takes the case, the event, the deadlines as they
stood when it happened, and refuses with an ``RtiError`` naming the field and the rule, or
returns warnings for what the Act allows but a reviewer should see (a late notice).

Events that move the state: ``advance`` (searching, under_review, transferred),
``third_party_notice``, ``decision``, ``first_appeal``, ``second_appeal``, ``close``. Events
that stop or start a clock or record a fact: ``fee_intimated``, ``fee_paid``,
``third_party_received``, ``representation_received``, ``decision_received``,
``faa_extension``, ``faa_decision``, ``faa_decision_received``, ``notice``,
``marked_for_transfer`` (the PIO finds the information held by another public authority: the 5
days of s.6(3) are then owed) and ``deemed_refusal`` (the reply period ran out undecided, s.7(2):
recorded by the register's daily check at the instant it fell, never by hand, and no bar to a
late decision).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from archiver.errors import RtiError
from archiver.rti.case import Case
from archiver.rti.deadlines import Deadline, Deadlines, format_day, format_instant, ist_day
from archiver.rti.request import EXEMPTIONS, OUTCOMES, cite_section

__all__ = ["STATES", "TRANSITIONS", "ENTRY_CITES", "EVENT_KINDS", "OPEN_STATES", "FAA_OUTCOMES", "Event", "check_event", "next_state"]

STATES = ("received", "searching", "under_review", "third_party_consultation", "decided", "transferred", "first_appeal", "second_appeal", "closed")

#: from a state, the states it may move to
TRANSITIONS: dict[str, frozenset[str]] = {
    "received": frozenset({"searching", "under_review", "third_party_consultation", "decided", "transferred", "first_appeal", "closed"}),
    "searching": frozenset({"under_review", "third_party_consultation", "decided", "transferred", "first_appeal", "closed"}),
    "under_review": frozenset({"searching", "third_party_consultation", "decided", "transferred", "first_appeal", "closed"}),
    "third_party_consultation": frozenset({"under_review", "decided", "first_appeal", "closed"}),
    "decided": frozenset({"first_appeal", "closed"}),
    "transferred": frozenset({"closed"}),
    "first_appeal": frozenset({"decided", "second_appeal", "closed"}),
    "second_appeal": frozenset({"decided", "closed"}),
    "closed": frozenset({"first_appeal", "second_appeal"}),
}

#: the provision under which a request enters each state
ENTRY_CITES = {
    "received": "RTI s.6(1)",
    "searching": "RTI s.7(1)",
    "under_review": "RTI s.7(1), ss.8-10",
    "third_party_consultation": "RTI s.11(1)",
    "decided": "RTI s.7(1)",
    "transferred": "RTI s.6(3)",
    "first_appeal": "RTI s.19(1)",
    "second_appeal": "RTI s.19(3)",
    "closed": "RTI-RULES R2",
}

#: states in which something is still owed to the applicant or an appellant
OPEN_STATES = frozenset({"received", "searching", "under_review", "third_party_consultation", "first_appeal", "second_appeal"})

_PRE_DECISION = frozenset({"received", "searching", "under_review", "third_party_consultation"})

#: the event kind -> the state it moves the request to (None: the state stays)
EVENT_KINDS: dict[str, str | None] = {
    "advance": None,  # to the state the event names
    "third_party_notice": "third_party_consultation",
    "decision": "decided",
    "first_appeal": "first_appeal",
    "second_appeal": "second_appeal",
    "close": "closed",
    "fee_intimated": None,
    "fee_paid": None,
    "third_party_received": None,
    "representation_received": None,
    "decision_received": None,
    "faa_extension": None,
    "faa_decision": None,
    "faa_decision_received": None,
    "notice": None,
    "marked_for_transfer": None,
    "deemed_refusal": None,
}

_ADVANCE_TO = frozenset({"searching", "under_review", "transferred"})

FAA_OUTCOMES = ("allowed", "partly_allowed", "dismissed", "remanded")


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened to a request at ``happened_at``, entered with its reason."""

    kind: str
    happened_at: datetime
    reason: str | None = None
    to_state: str | None = None  #: for ``advance``
    details: Mapping[str, Any] = field(default_factory=dict)


def next_state(case: Case, event: Event) -> str:
    target = event.to_state if event.kind == "advance" else EVENT_KINDS[event.kind]
    return target or case.state


def check_event(case: Case, event: Event, deadlines: Deadlines, *, now: datetime) -> list[str]:
    """Refuse ``event`` on ``case`` if the rules do not allow it; else the warnings to show.

    ``deadlines`` are the case's deadlines computed at ``event.happened_at``.
    """
    regno = case.registration_no
    if event.kind not in EVENT_KINDS:
        raise RtiError(f"{regno}: {event.kind!r} is not an event of the register.", request=regno, field="kind", rule="R2")
    if event.happened_at.utcoffset() is None:
        raise RtiError(f"{regno}: the time of the {event.kind} has no time zone.", request=regno, field="at", rule="R2")
    if event.happened_at > now:
        raise RtiError(
            f"{regno}: the {event.kind.replace('_', ' ')} is dated {format_instant(event.happened_at)}, in the future (now {format_instant(now)}); "
            "record what has happened, with the date it happened.",
            request=regno, field="at", rule="R2",
        )
    if ist_day(event.happened_at) < ist_day(case.request.received_at):
        raise RtiError(
            f"{regno}: the {event.kind.replace('_', ' ')} is dated {format_day(ist_day(event.happened_at))}, before the request was received "
            f"({format_day(ist_day(case.request.received_at))}).",
            request=regno, field="at", rule="RTI s.7(1)",
        )
    target = next_state(case, event)
    if event.kind == "advance" and target not in _ADVANCE_TO:
        raise RtiError(
            f"{regno}: advance moves a request to {', '.join(sorted(_ADVANCE_TO))}; {target!r} has its own command "
            "(rti decide, rti appeal, rti close, rti notice --kind third-party).",
            request=regno, field="state", rule="R2",
        )
    if target != case.state and target not in TRANSITIONS[case.state]:
        allowed = ", ".join(sorted(TRANSITIONS[case.state])) or "nothing"
        raise RtiError(
            f"{regno}: a request in state {case.state!r} cannot move to {target!r}; from {case.state!r} it may go to {allowed} "
            "(R2: the register's states, docs/rti.md).",
            request=regno, field="state", rule="R2",
        )
    check = _CHECKS.get(event.kind)
    return check(case, event, deadlines) if check else []


# -- the checks of each kind of event ---------------------------------------------------------------
def _need_reason(case: Case, event: Event, what: str, rule: str) -> None:
    if not (event.reason or "").strip():
        raise RtiError(f"{case.registration_no}: {what}: give the reason (--reason); every change of a request is kept with who, when and why.", request=case.registration_no, field="reason", rule=rule)


def _advance(case: Case, event: Event, deadlines: Deadlines) -> list[str]:
    regno = case.registration_no
    _need_reason(case, event, f"moving to {event.to_state}", ENTRY_CITES[event.to_state or "received"])
    if event.to_state != "transferred":
        return []
    if not str(event.details.get("to_authority") or "").strip():
        raise RtiError(f"{regno}: a transfer names the public authority it goes to (--to-authority).", request=regno, field="to_authority", rule="RTI s.6(3)")
    transfer = deadlines.transfer
    if transfer.expires_at is not None and event.happened_at >= transfer.expires_at:
        return [f"{regno}: transferred on {format_day(ist_day(event.happened_at))}, after the {format_day(transfer.due_on)} limit of {transfer.cite} (5 days from receipt)."] if transfer.due_on else []
    return []


def _marked_for_transfer(case: Case, event: Event, deadlines: Deadlines) -> list[str]:
    regno = case.registration_no
    if case.state not in _PRE_DECISION:
        raise RtiError(f"{regno}: only a request not yet decided can be marked for transfer; this request is {case.state.replace('_', ' ')}.", request=regno, field="state", rule="RTI s.6(3)")
    authority = str(event.details.get("to_authority") or "").strip()
    if not authority:
        raise RtiError(f"{regno}: marking a request for transfer names the public authority that holds the information (--to-authority).", request=regno, field="to_authority", rule="RTI s.6(3)")
    _need_reason(case, event, "marking it for transfer", "RTI s.6(3)")
    earlier = case.last("marked_for_transfer")
    if earlier is not None:
        raise RtiError(
            f"{regno}: already marked for transfer to {earlier.details.get('to_authority')} on {format_day(ist_day(earlier.happened_at))}; "
            f"transfer it with: sangrah rti advance {regno} transferred --to-authority \"{earlier.details.get('to_authority')}\" --reason ...",
            request=regno, field="state", rule="RTI s.6(3)",
        )
    transfer = deadlines.transfer
    if transfer.expires_at is not None and event.happened_at >= transfer.expires_at and transfer.due_on:
        return [f"{regno}: marked for transfer on {format_day(ist_day(event.happened_at))}, after the {format_day(transfer.due_on)} limit of {transfer.cite} (5 days from receipt); transfer it at once."]
    return []


def _deemed_refusal(case: Case, event: Event, deadlines: Deadlines) -> list[str]:
    """The deemed refusal of s.7(2): once, on a request still undecided when its reply period ran out."""
    regno = case.registration_no
    earlier = case.last("deemed_refusal")
    if earlier is not None:
        raise RtiError(f"{regno}: the deemed refusal is already recorded, at {format_instant(earlier.happened_at)}.", request=regno, field="deemed_refusal", rule=deadlines.deemed_refusal_cite)
    if case.state not in _PRE_DECISION:
        raise RtiError(f"{regno}: a deemed refusal befalls a request not yet decided; this request is {case.state.replace('_', ' ')}.", request=regno, field="state", rule=deadlines.deemed_refusal_cite)
    if deadlines.deemed_refusal_at is None or event.happened_at != deadlines.deemed_refusal_at:
        reply = deadlines.reply
        when = "is paused for fees" if reply.paused else f"runs out at {format_instant(reply.expires_at)}" if reply.expires_at else "has no end yet"
        raise RtiError(
            f"{regno}: a deemed refusal falls when the reply period runs out undecided; the reply period ({reply.cite}) {when}, "
            f"not at {format_instant(event.happened_at)}.",
            request=regno, field="at", rule=deadlines.deemed_refusal_cite,
        )
    return []


def _third_party_notice(case: Case, event: Event, deadlines: Deadlines) -> list[str]:
    regno = case.registration_no
    if case.state not in _PRE_DECISION:
        raise RtiError(f"{regno}: a third-party notice comes before the decision; this request is {case.state}.", request=regno, field="state", rule="RTI s.11(1)")
    if not event.details.get("third_party_id"):
        raise RtiError(f"{regno}: a third-party notice names the third party (--third-party-name, --third-party-address).", request=regno, field="third_party", rule="RTI s.11(1)")
    notice = deadlines.third_party_notice
    if notice and notice.expires_at and event.happened_at >= notice.expires_at and notice.due_on:
        return [f"{regno}: the s.11(1) notice is given on {format_day(ist_day(event.happened_at))}, after its {format_day(notice.due_on)} limit (5 days from receipt); it must still be given before any disclosure."]
    return []


def _third_party_received(case: Case, event: Event, deadlines: Deadlines) -> list[str]:
    regno = case.registration_no
    notice = case.last("third_party_notice")
    if notice is None:
        raise RtiError(f"{regno}: no third-party notice has been given, so none can have been received; give it with: sangrah rti notice {regno} --kind third-party", request=regno, field="third_party_received", rule="RTI s.11(2)")
    if ist_day(event.happened_at) < ist_day(notice.happened_at):
        raise RtiError(f"{regno}: the third party cannot receive the notice before it was given ({format_day(ist_day(notice.happened_at))}).", request=regno, field="on", rule="RTI s.11(2)")
    return []


def _representation(case: Case, event: Event, deadlines: Deadlines) -> list[str]:
    if case.last("third_party_notice") is None:
        raise RtiError(f"{case.registration_no}: no third-party notice has been given.", request=case.registration_no, field="representation_received", rule="RTI s.11(2)")
    return []


def _fee_intimated(case: Case, event: Event, deadlines: Deadlines) -> list[str]:
    regno = case.registration_no
    if case.state not in _PRE_DECISION:
        raise RtiError(f"{regno}: further fees are asked before the decision (s.7(3)); this request is {case.state}.", request=regno, field="state", rule="RTI s.7(3)")
    if case.request.bpl:
        raise RtiError(f"{regno}: the applicant is below the poverty line: no fee may be charged (RTI s.7(5) proviso).", request=regno, field="bpl", rule="RTI s.7(5)")
    if deadlines.late_is_free:
        raise RtiError(
            f"{regno}: the reply period ran out on {format_day(deadlines.reply.due_on) if deadlines.reply.due_on else '?'}: the information is now free of charge "
            f"({deadlines.late_is_free_cite}), so no fee may be asked.",
            request=regno, field="fee", rule=deadlines.late_is_free_cite,
        )
    if case.open_pause is not None:
        raise RtiError(f"{regno}: a fee intimation of {format_day(ist_day(case.open_pause.happened_at))} is still unpaid; record its payment first: sangrah rti record {regno} fee-paid --amount N", request=regno, field="fee", rule="RTI s.7(3)(a)")
    return []


def _fee_paid(case: Case, event: Event, deadlines: Deadlines) -> list[str]:
    regno = case.registration_no
    pause = case.open_pause
    if pause is None:
        raise RtiError(f"{regno}: no fee intimation is waiting for payment; write one with: sangrah rti notice {regno} --kind fee", request=regno, field="fee_paid", rule="RTI s.7(3)(a)")
    if event.happened_at < pause.happened_at:
        raise RtiError(f"{regno}: the fee cannot be paid before it was asked for ({format_instant(pause.happened_at)}).", request=regno, field="at", rule="RTI s.7(3)(a)")
    return []


def _decision(case: Case, event: Event, deadlines: Deadlines) -> list[str]:
    regno = case.registration_no
    outcome = event.details.get("outcome")
    sections = tuple(event.details.get("sections") or ())
    earlier = case.decision
    if case.state == "decided" and earlier is not None:
        raise RtiError(
            f"{regno}: the request was decided on {format_day(ist_day(earlier.decided_at))} ({earlier.outcome.replace('_', ' ')}); a fresh decision follows "
            "an appellate order (RTI s.19(1), s.19(8)): record the appeal first.",
            request=regno, field="state", rule="RTI s.19",
        )
    if outcome not in OUTCOMES:
        raise RtiError(f"{regno}: outcome {outcome!r} is not one of {', '.join(OUTCOMES)}.", request=regno, field="outcome", rule="RTI s.7(1)")
    unknown = [s for s in sections if s not in EXEMPTIONS]
    if unknown:
        raise RtiError(
            f"{regno}: {', '.join(unknown)} is not a section information can be withheld under; the sections are {', '.join(EXEMPTIONS)}.",
            request=regno, field="sections", rule="RTI ss.8, 9, 11, 24",
        )
    if outcome == "disclosed" and sections:
        raise RtiError(f"{regno}: a decision to disclose in full applies no exemption; for {', '.join(sections)} the outcome is partly_disclosed or refused.", request=regno, field="sections", rule="RTI s.10(1)")
    if outcome in ("partly_disclosed", "refused"):
        rule = "RTI s.7(8)(i)" if outcome == "refused" else "RTI s.10(2)(b)"
        if not sections:
            raise RtiError(
                f"{regno}: a decision that withholds information must name the exemption section it applies (--section, e.g. 8(1)(j)); "
                f"{'a rejection gives its reasons' if outcome == 'refused' else 'a partial disclosure gives the reasons for the severance'} ({rule}).",
                request=regno, field="sections", rule=rule,
            )
        if not str(event.details.get("reasons") or "").strip():
            raise RtiError(f"{regno}: give the reasons for withholding under {', '.join(cite_section(s) for s in sections)} (--reasons; {rule}).", request=regno, field="reasons", rule=rule)
    if case.third_party and outcome != "refused" and case.last("representation_received") is None:
        reply = deadlines.third_party_reply
        if reply is None or reply.expires_at is None:
            raise RtiError(
                f"{regno}: the third party was given notice; before deciding, record when it received the notice (rti record {regno} third-party-received --at DATE) "
                "or its representation: it has 10 days from its receipt to make one (RTI s.11(2)).",
                request=regno, field="third_party_received", rule="RTI s.11(2)",
            )
        if event.happened_at < reply.expires_at:
            raise RtiError(
                f"{regno}: the third party may make its representation until {format_day(reply.due_on) if reply.due_on else '?'} ({reply.cite}); "
                f"decide after that day, or record its representation first (rti record {regno} representation-received).",
                request=regno, field="at", rule="RTI s.11(2)",
            )
    warnings = []
    deemed = case.last("deemed_refusal")
    if deemed is not None and event.happened_at < deemed.happened_at and case.state in _PRE_DECISION:
        warnings.append(
            f"{regno}: decided on {format_day(ist_day(event.happened_at))}, before the deemed refusal recorded at {format_instant(deemed.happened_at)} "
            "when the register held no decision; that event stays in the history, and the deadlines now count the reply as in time."
        )
    if deadlines.reply.expires_at is not None and event.happened_at >= deadlines.reply.expires_at and case.state in _PRE_DECISION:
        warnings.append(
            f"{regno}: decided after the reply period ran out ({format_day(deadlines.reply.due_on) if deadlines.reply.due_on else '?'}): it was a deemed refusal "
            f"({deadlines.deemed_refusal_cite}), and the information is free of charge ({deadlines.late_is_free_cite})."
        )
    return warnings


def _first_appeal(case: Case, event: Event, deadlines: Deadlines) -> list[str]:
    regno = case.registration_no
    reply = deadlines.reply
    if case.state in _PRE_DECISION and not (reply.expires_at is not None and event.happened_at >= reply.expires_at):
        due = f"its reply is due by {format_day(reply.due_on)}" if reply.due_on else "its reply period is paused for fees"
        raise RtiError(
            f"{regno}: a first appeal lies against a decision, or once the reply period runs out undecided (deemed refusal, s.7(2)); "
            f"this request is {case.state.replace('_', ' ')} and {due} (RTI s.19(1)).",
            request=regno, field="state", rule="RTI s.19(1)",
        )
    _late_needs_cause(case, event, deadlines.first_appeal, "first appeal", "the FAA", "RTI s.19(1) proviso")
    return []


def _faa_extension(case: Case, event: Event, deadlines: Deadlines) -> list[str]:
    regno = case.registration_no
    if case.state != "first_appeal":
        raise RtiError(f"{regno}: the FAA extends its time only on a pending first appeal; this request is {case.state}.", request=regno, field="state", rule="RTI s.19(6)")
    if case.last("faa_extension") is not None:
        raise RtiError(f"{regno}: the FAA's reasons for taking up to 45 days are already recorded.", request=regno, field="reasons", rule="RTI s.19(6)")
    _need_reason(case, event, "taking up to 45 days", "RTI s.19(6)")
    return []


def _faa_decision(case: Case, event: Event, deadlines: Deadlines) -> list[str]:
    regno = case.registration_no
    if case.state != "first_appeal":
        raise RtiError(f"{regno}: there is no pending first appeal to decide; this request is {case.state}.", request=regno, field="state", rule="RTI s.19(6)")
    appeal = case.last("first_appeal")
    decided = case.last("faa_decision")
    if decided is not None and appeal is not None and decided.id > appeal.id:
        raise RtiError(f"{regno}: the FAA already decided this appeal on {format_day(ist_day(decided.happened_at))}.", request=regno, field="faa_decision", rule="RTI s.19(6)")
    if event.details.get("outcome") not in FAA_OUTCOMES:
        raise RtiError(f"{regno}: the FAA's outcome is one of {', '.join(FAA_OUTCOMES)}.", request=regno, field="outcome", rule="RTI s.19(6)")
    faa = deadlines.faa_disposal
    if faa and faa.expires_at and event.happened_at >= faa.expires_at and faa.due_on:
        return [f"{regno}: the FAA decides after its last day, {format_day(faa.due_on)} ({faa.cite})."]
    return []


def _second_appeal(case: Case, event: Event, deadlines: Deadlines) -> list[str]:
    regno = case.registration_no
    faa = deadlines.faa_disposal
    if case.last("first_appeal") is None or faa is None:
        raise RtiError(f"{regno}: a second appeal follows a first appeal (RTI s.19(3)); none is recorded: sangrah rti appeal {regno} first", request=regno, field="state", rule="RTI s.19(3)")
    if case.last("faa_decision") is None and not (faa.expires_at is not None and event.happened_at >= faa.expires_at):
        raise RtiError(
            f"{regno}: the FAA has until {format_day(faa.due_on) if faa.due_on else '?'} to decide the first appeal; a second appeal lies against its decision, "
            "or once that day has passed (RTI s.19(3)).",
            request=regno, field="state", rule="RTI s.19(3)",
        )
    _late_needs_cause(case, event, deadlines.second_appeal, "second appeal", "the Commission", "RTI s.19(3) proviso")
    return []


def _late_needs_cause(case: Case, event: Event, window: Deadline | None, what: str, admits: str, rule: str) -> None:
    """An appeal after its last day is admitted only for sufficient cause, which must be recorded."""
    if window and window.expires_at and event.happened_at >= window.expires_at and not (event.reason or "").strip():
        raise RtiError(
            f"{case.registration_no}: the {what} is filed after its last day, {format_day(window.due_on) if window.due_on else '?'}; {admits} may admit it "
            f"late for sufficient cause: record the cause shown with --reason ({rule}).",
            request=case.registration_no, field="reason", rule=rule,
        )


def _need_event(kind: str, rule: str) -> Any:
    def check(case: Case, event: Event, deadlines: Deadlines) -> list[str]:
        if case.last(kind) is None:
            raise RtiError(f"{case.registration_no}: no {kind.replace('_', ' ')} is recorded, so its receipt cannot be.", request=case.registration_no, field=event.kind, rule=rule)
        return []

    return check


def _close(case: Case, event: Event, deadlines: Deadlines) -> list[str]:
    _need_reason(case, event, "closing the request", "R2")
    return []


_CHECKS = {
    "advance": _advance,
    "third_party_notice": _third_party_notice,
    "third_party_received": _third_party_received,
    "representation_received": _representation,
    "fee_intimated": _fee_intimated,
    "fee_paid": _fee_paid,
    "decision": _decision,
    "decision_received": _need_event("decision", "RTI s.19(1)"),
    "first_appeal": _first_appeal,
    "faa_extension": _faa_extension,
    "faa_decision": _faa_decision,
    "faa_decision_received": _need_event("faa_decision", "RTI s.19(3)"),
    "second_appeal": _second_appeal,
    "close": _close,
    "marked_for_transfer": _marked_for_transfer,
    "deemed_refusal": _deemed_refusal,
}
