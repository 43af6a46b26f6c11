"""The request register in the catalog: register a request, record its events, read it back.

Each change is one transaction holding the change, its event (who, when, why), the request's
new state, its hold window (``holds.keep_hold_window``) and its audit entry, so that all of them
are kept or none; then ``holds.sync_request_hold`` brings the holds on its records level. The
applicant's and third parties' particulars are written to their own tables and read only
through ``applicant_of`` and ``third_parties_of``, for the roles of ``APPLICANT_ROLES``; nothing
here logs or audits them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from archiver.access.roles import APPLICANT_ROLES
from archiver.access.users import Actor
from archiver.catalog import Catalog
from archiver.catalog import rti_tables as r
from archiver.catalog.audit import append_entry
from archiver.errors import AccessDenied, RtiError
from archiver.model import utc
from archiver.rti.case import Case, EventRow, RequestRow
from archiver.rti.fees import FeeTable
from archiver.rti.deadlines import format_day, ist_day
from archiver.rti.holds import hold_window, keep_hold_window, sync_request_hold
from archiver.rti.request import Applicant, NewRequest, check_new_request
from archiver.rti.states import Event, check_event, next_state
from archiver.rti.timelines import Timelines

__all__ = [
    "ThirdParty", "Change", "register_request", "record_event", "record_deemed_refusals", "deemed_refusal_event", "deemed_refusal_audit",
    "get_case", "list_cases", "applicant_of", "third_parties_of",
]

log = logging.getLogger(__name__)

#: the states of a request not yet decided: its reply is owed, and a deemed refusal can befall it
_UNDECIDED = frozenset({"received", "searching", "under_review", "third_party_consultation"})


@dataclass(frozen=True, slots=True)
class ThirdParty:
    id: int
    name: str = ""
    address: str = ""
    information: str = ""

    def __repr__(self) -> str:  # personal data stays out of logs and tracebacks
        return f"ThirdParty(id={self.id})"


@dataclass(frozen=True, slots=True)
class Change:
    """What a change did: the case after it, and the warnings to show."""

    case: Case
    warnings: tuple[str, ...]


def _now() -> datetime:
    return datetime.now(timezone.utc)


def register_request(catalog: Catalog, actor: Actor, new: NewRequest, *, now: datetime, pattern: str, fee_table: FeeTable, timelines: Timelines) -> Change:
    """Enter ``new`` in the register, state ``received``."""
    warnings = check_new_request(new, now=now, pattern=pattern, fee_table=fee_table)

    def work(conn: Connection) -> int:
        if conn.execute(select(r.rti_requests.c.id).where(r.rti_requests.c.registration_no == new.registration_no)).first():
            raise RtiError(
                f"{new.registration_no} is already in the register; see it with: sangrah rti show {new.registration_no}",
                request=new.registration_no, field="registration_no", rule="rti.registration_pattern",
            )
        recorded = _now()
        result = conn.execute(
            insert(r.rti_requests).values(
                registration_no=new.registration_no, received_at=utc(new.received_at), mode=new.mode, application_on=new.application_on,
                subject=new.subject.strip(), life_liberty=new.life_liberty, bpl=new.bpl, fee_paid_inr=new.fee_paid_inr,
                transferred_from=new.transferred_from, transferred_on=new.transferred_on, state="received", outcome=None,
                hold_open=True, hold_until=None, registered_at=recorded, registered_by=actor.name,
            )
        )
        request_id = int(result.inserted_primary_key[0])  # type: ignore[index]
        conn.execute(insert(r.rti_applicants).values(request_id=request_id, name=new.applicant.name.strip(), address=new.applicant.address.strip(), contact=new.applicant.contact))
        conn.execute(
            insert(r.rti_events).values(
                request_id=request_id, kind="registered", happened_at=utc(new.received_at), recorded_at=recorded, actor=actor.name,
                from_state=None, to_state="received", reason=f"received by {new.mode.replace('_', ' ')}", details={"mode": new.mode},
            )
        )
        case = _case(conn, request_id)
        keep_hold_window(conn, case, hold_window(case, case.deadlines(timelines, now), timelines))
        append_entry(
            conn, actor=actor.name, action="rti_new", target=new.registration_no, outcome="ok",
            details={"mode": new.mode, "received_at": utc(new.received_at).isoformat(), "life_liberty": new.life_liberty, "warnings": len(warnings)}, at=recorded,
        )
        return request_id

    try:
        request_id = catalog.write(work)
    except IntegrityError as exc:
        raise RtiError(f"{new.registration_no} is already in the register.", request=new.registration_no, field="registration_no", rule="rti.registration_pattern") from exc
    log.info("rti_registered request=%s mode=%s", new.registration_no, new.mode)
    return _synced(catalog, actor, request_id, warnings, now, timelines)


def record_event(
    catalog: Catalog,
    actor: Actor,
    registration_no: str,
    event: Event,
    *,
    now: datetime,
    timelines: Timelines,
    audit_details: Mapping[str, Any] | None = None,
    third_party: tuple[str, str, str] | None = None,
) -> Change:
    """Check ``event`` against the rules and the request's state, then record it.

    ``third_party`` (name, address, information) is stored with a third-party notice, apart
    from the event, whose details then carry only its id. ``audit_details`` go to the audit
    entry with the event's kind; never personal data.
    """

    def work(conn: Connection) -> tuple[int, list[str]]:
        case = _case_by_number(conn, registration_no)
        details = dict(event.details)
        if third_party is not None:
            name, address, information = third_party
            result = conn.execute(insert(r.rti_third_parties).values(request_id=case.request.id, name=name, address=address, information=information))
            details["third_party_id"] = int(result.inserted_primary_key[0])  # type: ignore[index]
        checked = Event(event.kind, utc(event.happened_at), event.reason, event.to_state, details)
        if checked.kind != "deemed_refusal":
            # the timer's event first, if the daily check has not run since the period ran out:
            # the history then reads in the order things befell the request
            deemed = deemed_refusal_event(case, timelines, checked.happened_at)
            if deemed is not None:
                _append(conn, case, deemed, actor.name, now, timelines, deemed_refusal_audit(deemed))
                case = _case(conn, case.request.id)
        return case.request.id, _append(conn, case, checked, actor.name, now, timelines, audit_details)

    request_id, warnings = catalog.write(work)
    log.info("rti_event request=%s kind=%s", registration_no, event.kind)
    return _synced(catalog, actor, request_id, warnings, now, timelines)


def _append(conn: Connection, case: Case, event: Event, actor: str, now: datetime, timelines: Timelines, audit_details: Mapping[str, Any] | None) -> list[str]:
    """Check ``event`` on ``case`` and write it, the request's new state, its hold window and its audit entry; the warnings."""
    warnings = check_event(case, event, case.deadlines(timelines, event.happened_at), now=now)
    target = next_state(case, event)
    recorded = _now()
    conn.execute(
        insert(r.rti_events).values(
            request_id=case.request.id, kind=event.kind, happened_at=event.happened_at, recorded_at=recorded, actor=actor,
            from_state=case.state, to_state=target, reason=event.reason, details=_plain(event.details),
        )
    )
    changes: dict[str, Any] = {"state": target}
    if event.kind == "decision":
        changes["outcome"] = event.details["outcome"]
    conn.execute(update(r.rti_requests).where(r.rti_requests.c.id == case.request.id).values(**changes))
    after = _case(conn, case.request.id)
    keep_hold_window(conn, after, hold_window(after, after.deadlines(timelines, now), timelines))
    append_entry(
        conn, actor=actor, action=f"rti_{event.kind}", target=case.registration_no, outcome="ok",
        details={"from": case.state, "to": target, "at": event.happened_at.isoformat(), **dict(audit_details or {})}, at=recorded,
    )
    return warnings


def deemed_refusal_event(case: Case, timelines: Timelines, upto: datetime) -> Event | None:
    """The ``deemed_refusal`` event ``case`` is owed by ``upto``, or None.

    Owed once, by a request still undecided (received, searching, under review, in third-party
    consultation) whose own reply period (30 days, 48 hours, 40 days, with the APIO's days and
    the fee pauses) ran out at or before ``upto``; dated the instant it ran out (s.7(2)).
    """
    if case.state not in _UNDECIDED or case.last("deemed_refusal") is not None:
        return None
    deadlines = case.deadlines(timelines, upto)
    deemed_at, reply = deadlines.deemed_refusal_at, deadlines.reply
    if deemed_at is None or reply.due_on is None:
        return None
    reason = (
        f"no decision within the reply period ({reply.cite}), whose last day was {format_day(reply.due_on)}: deemed refused ({deadlines.deemed_refusal_cite}); "
        f"the information is now free of charge ({deadlines.late_is_free_cite})"
    )
    details = {"rule": "deemed_refusal", "cite": deadlines.deemed_refusal_cite, "reply_rule": reply.rule, "reply_cite": reply.cite, "due_on": reply.due_on, "fell_at": deemed_at}
    return Event("deemed_refusal", deemed_at, reason, None, details)


def deemed_refusal_audit(event: Event) -> dict[str, Any]:
    """What the audit entry of a deemed refusal keeps: the rule, the reply rule and the day it fell."""
    details = _plain(event.details)
    return {key: details[key] for key in ("cite", "reply_rule", "reply_cite", "due_on", "fell_at")}


def record_deemed_refusals(catalog: Catalog, actor: str, *, now: datetime, timelines: Timelines) -> list[Case]:
    """Record the ``deemed_refusal`` every undecided request is owed at ``now``; the requests it was recorded on.

    The timer of R2, run by the daily DAG (``sangrah_rti_daily``) and by ``sangrah rti due
    --record-deemed-refusals``: each request gets the event once, dated the instant its reply
    period ran out, with its audit entry (``rti_deemed_refusal``) kept by ``actor``; running
    again records nothing new. A decision may still follow, free of charge (s.7(6)).
    """
    recorded: list[Case] = []
    for case in list_cases(catalog, states=_UNDECIDED):
        if deemed_refusal_event(case, timelines, now) is None:
            continue

        def work(conn: Connection, request_id: int = case.request.id) -> tuple[Case, Event] | None:
            current = _case(conn, request_id)  # as it stands inside the transaction: another run may have recorded it
            event = deemed_refusal_event(current, timelines, now)
            if event is None:
                return None
            _append(conn, current, event, actor, now, timelines, deemed_refusal_audit(event))
            return _case(conn, request_id), event

        done = catalog.write(work)
        if done is not None:
            after, event = done
            log.info("rti_deemed_refusal request=%s fell_at=%s", after.registration_no, event.happened_at.isoformat())
            recorded.append(after)
    return recorded


def _synced(catalog: Catalog, actor: Actor, request_id: int, warnings: list[str], now: datetime, timelines: Timelines) -> Change:
    """The change as committed, once the holds on its records follow it (``holds.sync_request_hold``)."""
    case = _load(catalog, request_id)
    sync_request_hold(catalog, case, hold_window(case, case.deadlines(timelines, now), timelines), actor=actor.name, today=ist_day(now))
    return Change(case, tuple(warnings))


def get_case(catalog: Catalog, registration_no: str) -> Case:
    with catalog.engine.connect() as conn:
        return _case_by_number(conn, registration_no)


def list_cases(catalog: Catalog, *, states: frozenset[str] | None = None) -> list[Case]:
    query = select(r.rti_requests.c.id).order_by(r.rti_requests.c.received_at, r.rti_requests.c.id)
    if states:
        query = query.where(r.rti_requests.c.state.in_(sorted(states)))
    with catalog.engine.connect() as conn:
        return [_case(conn, row[0]) for row in conn.execute(query)]


def applicant_of(catalog: Catalog, actor: Actor, registration_no: str) -> Applicant:
    """The applicant's particulars, for the roles that need them to reply (personal data)."""
    _may_see_people(actor, registration_no)
    with catalog.engine.connect() as conn:
        case = _case_by_number(conn, registration_no)
        row = conn.execute(select(r.rti_applicants).where(r.rti_applicants.c.request_id == case.request.id)).mappings().one()
    return Applicant(row["name"], row["address"], row["contact"])


def third_parties_of(catalog: Catalog, actor: Actor, registration_no: str) -> list[ThirdParty]:
    _may_see_people(actor, registration_no)
    with catalog.engine.connect() as conn:
        case = _case_by_number(conn, registration_no)
        rows = conn.execute(select(r.rti_third_parties).where(r.rti_third_parties.c.request_id == case.request.id).order_by(r.rti_third_parties.c.id)).mappings()
        return [ThirdParty(row["id"], row["name"], row["address"], row["information"]) for row in rows]


def _may_see_people(actor: Actor, registration_no: str) -> None:
    if not actor.has(APPLICANT_ROLES):
        raise AccessDenied(
            f"{registration_no}: the applicant's and third parties' particulars are personal data, shown only to the {', '.join(sorted(APPLICANT_ROLES))} "
            f"(RTI s.6(2); R17); {actor.name!r} holds {', '.join(sorted(actor.roles))}.",
            user=actor.name, command=actor.command, roles=tuple(sorted(APPLICANT_ROLES)),
        )


# -- reading rows ----------------------------------------------------------------------------------
def _load(catalog: Catalog, request_id: int) -> Case:
    with catalog.engine.connect() as conn:
        return _case(conn, request_id)


def _case_by_number(conn: Connection, registration_no: str) -> Case:
    row = conn.execute(select(r.rti_requests.c.id).where(r.rti_requests.c.registration_no == registration_no)).first()
    if row is None:
        raise RtiError(f"{registration_no} is not in the register; list the requests with: sangrah rti list", request=registration_no, field="registration_no", rule="R2")
    return _case(conn, row[0])


def _case(conn: Connection, request_id: int) -> Case:
    row = conn.execute(select(r.rti_requests).where(r.rti_requests.c.id == request_id)).mappings().one()
    events = conn.execute(select(r.rti_events).where(r.rti_events.c.request_id == request_id).order_by(r.rti_events.c.id)).mappings()
    return Case(_request(row), tuple(_event(e) for e in events))


def _request(row: Any) -> RequestRow:
    return RequestRow(
        id=row["id"], registration_no=row["registration_no"], received_at=utc(row["received_at"]), mode=row["mode"],
        application_on=row["application_on"], subject=row["subject"], life_liberty=row["life_liberty"], bpl=row["bpl"],
        fee_paid_inr=Decimal(row["fee_paid_inr"]), transferred_from=row["transferred_from"], transferred_on=row["transferred_on"],
        state=row["state"], outcome=row["outcome"], hold_open=row["hold_open"], hold_until=row["hold_until"],
        registered_at=utc(row["registered_at"]), registered_by=row["registered_by"],
    )


def _event(row: Any) -> EventRow:
    return EventRow(
        id=row["id"], kind=row["kind"], happened_at=utc(row["happened_at"]), recorded_at=utc(row["recorded_at"]), actor=row["actor"],
        from_state=row["from_state"], to_state=row["to_state"], reason=row["reason"], details=dict(row["details"] or {}),
    )


def _plain(value: Any) -> Any:
    """Event details as JSON holds them: dates and instants written in ISO 8601."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, datetime):
        return utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value
