"""The RTI deadline calculator (R1): what is due when, each date with the rule it came from.

Pure: facts about one request in (``CaseFacts``), its deadlines out (``Deadlines``); no clock
but the ``now`` given, no database. The periods come from ``schemas/rti_timelines.yaml``
(``Timelines``); the counting is the General Clauses Act's:

- calendar days, the day of the anchor excluded (GCA s.9): received on 2 March, 30 days end with
  1 April. The anchor's day is its date in Asia/Kolkata; a day period runs out at midnight IST
  at the end of its last day (``expires_at``, an instant in UTC);
- a period in hours runs from the anchor instant (the 48 hours of s.7(1) proviso);
- the fee pause of s.7(3)(a) (despatch of the fee intimation to payment) is added on: whole
  days (date of payment less date of despatch) for a period in days, the exact time for hours;
  a pause still open leaves the period paused, with the days that remain;
- a filer's last day (an appeal, a third party's representation) on a day the office is closed
  moves to the next open day (GCA s.10); the public authority's own last days do not move,
  unless the setting ``pio_deadlines_roll_forward`` says they do.

Usage::

    facts = CaseFacts(received_at=datetime(2026, 3, 2, 4, 30, tzinfo=timezone.utc))
    deadlines = compute_deadlines(facts, load_timelines(), now=...)
    deadlines.reply.due_on        # date(2026, 4, 1)
    deadlines.reply.cite          # 'RTI s.7(1)'
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from archiver.rti.timelines import PeriodRule, Timelines

__all__ = ["IST", "Pause", "CaseFacts", "Deadline", "Deadlines", "compute_deadlines", "filer_window", "ist_day", "day_ends_at", "format_day", "format_instant"]

IST = ZoneInfo("Asia/Kolkata")


def ist_day(instant: datetime) -> date:
    """The calendar day of ``instant`` in Asia/Kolkata."""
    return instant.astimezone(IST).date()


def day_ends_at(day: date) -> datetime:
    """The instant (UTC) at which the IST day ``day`` is over: midnight IST that follows it."""
    return datetime.combine(day + timedelta(days=1), time(0), IST).astimezone(timezone.utc)


def format_day(day: date) -> str:
    """DD/MM/YYYY, as Indian notices write a date."""
    return day.strftime("%d/%m/%Y")


def format_instant(instant: datetime) -> str:
    """DD/MM/YYYY HH:MM IST."""
    return instant.astimezone(IST).strftime("%d/%m/%Y %H:%M IST")


@dataclass(frozen=True, slots=True)
class Pause:
    """A fee intimation despatched at ``start_at``; ``end_at`` when the fee was paid, None while unpaid."""

    start_at: datetime
    end_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """What the calculator needs to know about one request. Instants are timezone-aware.

    ``received_at`` is the receipt by the public authority: by the APIO when ``via_apio``, by
    the transferee for a transferred request (s.6(3): its 30 days run from its own receipt).
    ``third_party`` is true once the request is in s.11 consultation.
    """

    received_at: datetime
    life_liberty: bool = False
    via_apio: bool = False
    fee_pauses: tuple[Pause, ...] = ()
    third_party: bool = False
    third_party_notice_at: datetime | None = None
    third_party_received_on: date | None = None
    decided_at: datetime | None = None
    decision_received_on: date | None = None
    #: the decision discloses information of the third party (the s.19(2) window opens)
    discloses_third_party: bool = False
    first_appeal_at: datetime | None = None  #: receipt of the first appeal
    first_appeal_filed_on: date | None = None  #: its filing, when earlier than its receipt
    first_appeal_via_apio: bool = False
    faa_reasons_recorded: bool = False  #: the FAA recorded in writing why it takes up to 45 days
    faa_decided_at: datetime | None = None
    faa_decision_received_on: date | None = None
    second_appeal_at: datetime | None = None

    def __post_init__(self) -> None:
        for name in ("received_at", "third_party_notice_at", "decided_at", "first_appeal_at", "faa_decided_at", "second_appeal_at"):
            value = getattr(self, name)
            if value is not None and value.utcoffset() is None:
                raise ValueError(f"{name} {value.isoformat()} has no time zone; give the instant in UTC")


@dataclass(frozen=True, slots=True)
class Deadline:
    """One time limit as it applies to a request.

    ``due_on`` is the last day (IST) and ``expires_at`` the instant the period has run out; both
    are None while the period is paused (``paused``) or waiting for the fact it is counted from.
    ``met_at`` is when the act it asks for was done. ``conditional`` marks a limit that binds
    only if something happens (a transfer, an appeal).
    """

    rule: str
    what: str
    actor: str
    cite: str
    basis: str
    due_on: date | None = None
    expires_at: datetime | None = None
    met_at: datetime | None = None
    paused: bool = False
    conditional: bool = False
    moved_from: date | None = None  #: the last day before GCA s.10 moved it past a closed day

    @property
    def met_late(self) -> bool:
        return self.met_at is not None and self.expires_at is not None and self.met_at >= self.expires_at

    def overdue(self, now: datetime) -> bool:
        """Not met, and its period has run out at ``now``."""
        return self.met_at is None and self.expires_at is not None and now >= self.expires_at

    def to_json(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "what": self.what,
            "actor": self.actor,
            "cite": self.cite,
            "basis": self.basis,
            "due_on": self.due_on.isoformat() if self.due_on else None,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "met_at": self.met_at.isoformat() if self.met_at else None,
            "paused": self.paused,
            "conditional": self.conditional,
            "moved_from": self.moved_from.isoformat() if self.moved_from else None,
        }


@dataclass(frozen=True, slots=True)
class Deadlines:
    """Every deadline of one request, as of ``now``."""

    reply: Deadline
    transfer: Deadline
    third_party_notice: Deadline | None
    third_party_reply: Deadline | None
    third_party_appeal: Deadline | None
    first_appeal: Deadline | None
    faa_disposal: Deadline | None
    second_appeal: Deadline | None
    #: the instant of the deemed refusal of s.7(2), once the reply period ran out undecided
    deemed_refusal_at: datetime | None
    deemed_refusal_cite: str
    #: the information must be free of charge (s.7(6)): the reply period was missed
    late_is_free: bool
    late_is_free_cite: str
    #: days of the fee pause added to the reply period so far
    paused_days: int = 0
    notes: tuple[str, ...] = field(default=())

    def __iter__(self) -> Iterator[Deadline]:
        for item in (
            self.reply, self.transfer, self.third_party_notice, self.third_party_reply, self.third_party_appeal,
            self.first_appeal, self.faa_disposal, self.second_appeal,
        ):
            if item is not None:
                yield item


def compute_deadlines(facts: CaseFacts, timelines: Timelines, now: datetime) -> Deadlines:
    """The deadlines of the request described by ``facts``, as they stand at ``now``."""
    settings = timelines.settings
    received_on = ist_day(facts.received_at)
    reply, paused_days = _reply(facts, timelines)
    decided = facts.decided_at
    expired_undecided = reply.expires_at is not None and (decided is None and now >= reply.expires_at or decided is not None and decided >= reply.expires_at)
    deemed_at = reply.expires_at if expired_undecided and reply.rule in timelines.deemed_refusal_on else None

    transfer_rule = timelines.rule("transfer")
    transfer = _days(transfer_rule, "transfer the request to the public authority holding the information", received_on, f"{transfer_rule.period} days from receipt on {format_day(received_on)}", timelines, filer=False)
    transfer = _with(transfer, conditional=True)

    third_party_notice = third_party_reply = third_party_appeal = None
    if facts.third_party:
        rule = timelines.rule("third_party_notice")
        third_party_notice = _with(
            _days(rule, "give the third party written notice", received_on, f"{rule.period} days from receipt on {format_day(received_on)}", timelines, filer=False),
            met_at=facts.third_party_notice_at,
        )
        rule = timelines.rule("third_party_reply")
        if facts.third_party_received_on is not None:
            third_party_reply = _days(
                rule, "third party's representation", facts.third_party_received_on,
                f"{rule.period} days from the third party's receipt of the notice on {format_day(facts.third_party_received_on)}", timelines, filer=True,
            )
        else:
            third_party_reply = Deadline(rule.id, "third party's representation", rule.actor, rule.cite, "counted from the day the third party received the notice, not yet recorded")
    if facts.third_party and decided is not None and facts.discloses_third_party:
        rule = timelines.rule("third_party_appeal")
        order_on = ist_day(decided)
        third_party_appeal = _days(rule, "third party's appeal against the order to disclose", order_on, f"{rule.period} days from the order of {format_day(order_on)}", timelines, filer=True)

    first_appeal = _first_appeal(facts, timelines, reply, expired_undecided)
    faa_disposal = second_appeal = None
    if facts.first_appeal_at is not None:
        faa_disposal = _faa_disposal(facts, timelines)
        second_appeal = _second_appeal(facts, timelines, faa_disposal)

    late_is_free = expired_undecided and reply.rule in timelines.deemed_refusal_on
    notes: list[str] = []
    if facts.via_apio and reply.rule == "reply_life_liberty" and not settings.apio_extends_life_liberty:
        notes.append("received via an APIO: the 5 days of s.5(2) are not added to the 48 hours (setting apio_extends_life_liberty)")
    return Deadlines(
        reply=reply,
        transfer=transfer,
        third_party_notice=third_party_notice,
        third_party_reply=third_party_reply,
        third_party_appeal=third_party_appeal,
        first_appeal=first_appeal,
        faa_disposal=faa_disposal,
        second_appeal=second_appeal,
        deemed_refusal_at=deemed_at,
        deemed_refusal_cite=timelines.deemed_refusal_cite,
        late_is_free=late_is_free,
        late_is_free_cite=timelines.late_is_free_cite,
        paused_days=paused_days,
        notes=tuple(notes),
    )


# -- the reply ------------------------------------------------------------------------------------
def _reply_rule(facts: CaseFacts, timelines: Timelines) -> tuple[PeriodRule, int, str]:
    """The rule the reply is due under, the APIO's extra days, and how the period was chosen."""
    settings = timelines.settings
    if facts.life_liberty:
        rule = timelines.rule("reply_life_liberty")
        extra = timelines.apio_days if facts.via_apio and (settings.apio_extends_life_liberty or rule.id in timelines.apio_adds_to) else 0
        return rule, extra, "life or liberty"
    if facts.third_party:
        rule = timelines.rule("third_party_decision")
        extra = timelines.apio_days if facts.via_apio and (settings.apio_extends_third_party_decision or rule.id in timelines.apio_adds_to) else 0
        return rule, extra, "third party consulted"
    rule = timelines.rule("reply_standard")
    extra = timelines.apio_days if facts.via_apio and rule.id in timelines.apio_adds_to else 0
    return rule, extra, ""


def _reply(facts: CaseFacts, timelines: Timelines) -> tuple[Deadline, int]:
    rule, apio_days, why = _reply_rule(facts, timelines)
    what = "decide on the request" if rule.id == "third_party_decision" else "reply to the applicant"
    cite = rule.cite + (f"; {timelines.apio_cite}" if apio_days else "")
    pauses = facts.fee_pauses if rule.id in timelines.fee_pause_applies_to else ()
    parts = [f"{rule.period} {rule.unit}s from receipt on {format_instant(facts.received_at) if rule.unit == 'hour' else format_day(ist_day(facts.received_at))}"]
    if why:
        parts[0] += f" ({why})"
    if apio_days:
        parts.append(f"{apio_days} days for an APIO")
    if rule.unit == "hour":
        return _reply_in_hours(facts, rule, what, cite, apio_days, pauses, parts, timelines)
    due_on = ist_day(facts.received_at) + timedelta(days=rule.period + apio_days)
    paused_days = 0
    for pause in sorted(pauses, key=lambda p: p.start_at):
        start_on = max(ist_day(pause.start_at), ist_day(facts.received_at))
        if start_on > due_on:
            continue  # an intimation sent after the period ran out pauses nothing
        if pause.end_at is None:
            remaining = (due_on - start_on).days
            parts.append(f"paused since the fee intimation of {format_day(start_on)} ({timelines.fee_pause_cite}); {remaining} days remain once the fee is paid")
            return Deadline(rule.id, what, rule.actor, f"{cite}; {timelines.fee_pause_cite}", "; ".join(parts), paused=True, met_at=facts.decided_at), paused_days
        days = max((ist_day(pause.end_at) - start_on).days, 0)
        paused_days += days
        due_on += timedelta(days=days)
        parts.append(f"{days} days of fee pause, {format_day(start_on)} to {format_day(ist_day(pause.end_at))}")
    if paused_days:
        cite += f"; {timelines.fee_pause_cite}"
    deadline = _last_day(rule, what, cite, due_on, "; ".join(parts), timelines, filer=False)
    return _with(deadline, met_at=facts.decided_at), paused_days


def _reply_in_hours(
    facts: CaseFacts, rule: PeriodRule, what: str, cite: str, apio_days: int, pauses: tuple[Pause, ...], parts: list[str], timelines: Timelines,
) -> tuple[Deadline, int]:
    expires_at = facts.received_at + timedelta(hours=rule.period) + timedelta(days=apio_days)
    paused = timedelta(0)
    for pause in sorted(pauses, key=lambda p: p.start_at):
        start_at = max(pause.start_at, facts.received_at)
        if start_at >= expires_at:
            continue
        if pause.end_at is None:
            remaining = expires_at - start_at
            parts.append(f"paused since the fee intimation of {format_instant(start_at)} ({timelines.fee_pause_cite}); {_hours(remaining)} remain once the fee is paid")
            return Deadline(rule.id, what, rule.actor, f"{cite}; {timelines.fee_pause_cite}", "; ".join(parts), paused=True, met_at=facts.decided_at), 0
        length = max(pause.end_at - start_at, timedelta(0))
        paused += length
        expires_at += length
        parts.append(f"{_hours(length)} of fee pause, {format_instant(start_at)} to {format_instant(pause.end_at)}")
    if paused:
        cite += f"; {timelines.fee_pause_cite}"
    expires_at = expires_at.astimezone(timezone.utc)
    due_on = ist_day(expires_at - timedelta(microseconds=1))
    return Deadline(rule.id, what, rule.actor, cite, "; ".join(parts) + f": by {format_instant(expires_at)}", due_on=due_on, expires_at=expires_at, met_at=facts.decided_at), 0


def _hours(length: timedelta) -> str:
    minutes = int(length.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if minutes else f"{hours} h"


# -- appeals --------------------------------------------------------------------------------------
def _first_appeal(facts: CaseFacts, timelines: Timelines, reply: Deadline, expired_undecided: bool) -> Deadline | None:
    rule = timelines.rule("first_appeal")
    what = "applicant's first appeal to the FAA"
    candidates: list[tuple[date, str]] = []
    if facts.decided_at is not None:
        if facts.decision_received_on is not None:
            candidates.append((facts.decision_received_on, f"{rule.period} days from the applicant's receipt of the decision on {format_day(facts.decision_received_on)}"))
        else:
            decided_on = ist_day(facts.decided_at)
            candidates.append((decided_on, f"{rule.period} days from the decision of {format_day(decided_on)} (its receipt by the applicant is not recorded)"))
    if reply.due_on is not None and (expired_undecided or facts.decided_at is None):
        candidates.append((reply.due_on, f"{rule.period} days from the expiry of the reply period on {format_day(reply.due_on)} ({timelines.deemed_refusal_cite})"))
    if not candidates:
        return None  # paused: the period has no end yet
    anchor, basis = max(candidates)
    deadline = _days(rule, what, anchor, basis, timelines, filer=True)
    # before any decision or expiry, an appeal is only possible once the reply period runs out
    conditional = facts.decided_at is None and not expired_undecided
    return _with(deadline, met_at=facts.first_appeal_at, conditional=conditional)


def _faa_disposal(facts: CaseFacts, timelines: Timelines) -> Deadline:
    assert facts.first_appeal_at is not None
    rule = timelines.rule("faa_disposal")
    received_on = ist_day(facts.first_appeal_at)
    apio = timelines.apio_days if facts.first_appeal_via_apio and timelines.settings.apio_extends_faa_disposal else 0
    if facts.faa_reasons_recorded:
        extended = timelines.faa_extended
        filed_on = min(facts.first_appeal_filed_on or received_on, received_on)
        basis = f"{extended.period} days from the filing of the appeal on {format_day(filed_on)}, the reasons for the delay recorded in writing"
        deadline = _last_day(extended, "FAA's decision on the first appeal", extended.cite, filed_on + timedelta(days=extended.period + apio), basis, timelines, filer=False)
    else:
        basis = f"{rule.period} days from the receipt of the appeal on {format_day(received_on)}"
        deadline = _last_day(rule, "FAA's decision on the first appeal", rule.cite, received_on + timedelta(days=rule.period + apio), basis, timelines, filer=False)
    return _with(deadline, met_at=facts.faa_decided_at)


def _second_appeal(facts: CaseFacts, timelines: Timelines, faa: Deadline) -> Deadline | None:
    rule = timelines.rule("second_appeal")
    what = "applicant's second appeal to the Information Commission"
    if facts.faa_decided_at is not None:
        anchor = facts.faa_decision_received_on or ist_day(facts.faa_decided_at)
        received = "the applicant's receipt of" if facts.faa_decision_received_on else "the date of"
        basis = f"{rule.period} days from {received} the FAA's decision, {format_day(anchor)}"
    elif faa.due_on is not None:
        anchor = faa.due_on
        basis = f"{rule.period} days from {format_day(anchor)}, when the FAA's decision should have been made"
    else:
        return None
    return _with(_days(rule, what, anchor, basis, timelines, filer=True), met_at=facts.second_appeal_at)


def filer_window(timelines: Timelines, rule_id: str, anchor: date, basis: str, what: str) -> Deadline:
    """A filer's period of ``rule_id`` counted from the day ``anchor`` (moved past closed days).

    For a notice that states the appeal window from its own date, e.g. a fee intimation: a
    first appeal against the fee lies within 30 days of receiving it.
    """
    return _days(timelines.rule(rule_id), what, anchor, basis, timelines, filer=True)


# -- counting -------------------------------------------------------------------------------------
def _days(rule: PeriodRule, what: str, anchor: date, basis: str, timelines: Timelines, *, filer: bool) -> Deadline:
    """``rule.period`` days from the day ``anchor``, that day excluded (GCA s.9)."""
    return _last_day(rule, what, rule.cite, anchor + timedelta(days=rule.period), basis, timelines, filer=filer)


def _last_day(rule: PeriodRule, what: str, cite: str, last: date, basis: str, timelines: Timelines, *, filer: bool) -> Deadline:
    moved_from = None
    if filer or timelines.settings.pio_deadlines_roll_forward:
        open_day = timelines.calendar.next_open(last)
        if open_day != last:
            basis += f"; {format_day(last)} is a day the office is closed ({timelines.calendar.closed(last)}), so the next open day (GCA s.10)"
            moved_from, last = last, open_day
            cite += "; GCA s.10"
    return Deadline(rule.id, what, rule.actor, cite, basis, due_on=last, expires_at=day_ends_at(last), moved_from=moved_from)


def _with(deadline: Deadline, **changes: object) -> Deadline:
    return replace(deadline, **changes)  # type: ignore[arg-type]
