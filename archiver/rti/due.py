"""What the RTI cell owes and when: the list behind ``sangrah rti due`` and the daily DAG.

Pure: the cases in, the deadlines that bind the public authority now out, each with its days
left in Asia/Kolkata dates and, once overdue, whom it escalates to. An overdue reply is a
deemed refusal (s.7(2)) and exposes the PIO to a penalty (s.20(1)), shown as a figure of risk.
A request the PIO marked for transfer (the ``marked_for_transfer`` event) owes its transfer to
the public authority that holds the information within 5 days of receipt (s.6(3) proviso) until
it is transferred or decided; the register knows of no transfer before it is marked.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from archiver.rti.case import Case
from archiver.rti.deadlines import Deadline, format_day, ist_day
from archiver.rti.timelines import Timelines

__all__ = ["DueItem", "due_items", "STATUSES"]

#: most urgent first
STATUSES = ("overdue", "due_today", "due_soon", "paused", "later")


@dataclass(frozen=True, slots=True)
class DueItem:
    registration_no: str
    state: str
    rule: str
    what: str
    cite: str
    basis: str
    due_on: date | None
    expires_at: datetime | None
    days_left: int | None
    status: str
    escalate_to: str | None
    penalty_risk_inr: int | None
    deemed_refusal_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {
            "registration_no": self.registration_no,
            "state": self.state,
            "rule": self.rule,
            "what": self.what,
            "cite": self.cite,
            "basis": self.basis,
            "due_on": self.due_on.isoformat() if self.due_on else None,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "days_left": self.days_left,
            "status": self.status,
            "escalate": self.escalate_to is not None,
            "escalate_to": self.escalate_to,
            "penalty_risk_inr": self.penalty_risk_inr,
            "deemed_refusal_at": self.deemed_refusal_at.isoformat() if self.deemed_refusal_at else None,
        }


_PRE_DECISION = frozenset({"received", "searching", "under_review", "third_party_consultation"})


def due_items(cases: Iterable[Case], timelines: Timelines, now: datetime, *, within_days: int = 7, faa_name: str | None = None, include_later: bool = False) -> list[DueItem]:
    """Every binding deadline of ``cases`` that is overdue or due within ``within_days``, most urgent first."""
    today = ist_day(now)
    items: list[DueItem] = []
    for case in cases:
        deadlines = case.deadlines(timelines, now)
        owed: list[tuple[Deadline, str | None]] = []
        if case.state in _PRE_DECISION:
            owed.append((deadlines.reply, f"the first appellate authority{f' ({faa_name})' if faa_name else ''}"))
            marked = case.last("marked_for_transfer")
            if marked is not None:
                to = marked.details.get("to_authority")
                transfer = replace(
                    deadlines.transfer, what=f"transfer the request to {to}", conditional=False,
                    basis=f"{deadlines.transfer.basis}; marked for transfer on {format_day(ist_day(marked.happened_at))}",
                )
                owed.append((transfer, None))
            notice = deadlines.third_party_notice
            if notice is not None and notice.met_at is None:
                owed.append((notice, None))
        elif case.state == "first_appeal" and deadlines.faa_disposal is not None:
            owed.append((deadlines.faa_disposal, "the head of the public authority"))
        if case.state == "decided" and deadlines.third_party_appeal is not None and deadlines.third_party_appeal.met_at is None:
            owed.append((deadlines.third_party_appeal, None))
        for deadline, escalation in owed:
            item = _item(case, deadline, escalation, now, today, within_days, timelines, deadlines.deemed_refusal_at)
            if item is not None and (item.status != "later" or include_later):
                items.append(item)
    return sorted(items, key=lambda i: (STATUSES.index(i.status), i.due_on or date.max, i.registration_no))


def _item(case: Case, deadline: Deadline, escalation: str | None, now: datetime, today: date, within_days: int, timelines: Timelines, deemed: datetime | None) -> DueItem | None:
    days_left = (deadline.due_on - today).days if deadline.due_on else None
    expired = deadline.expires_at is not None and now >= deadline.expires_at
    if deadline.actor == "third_party" and expired:
        return None  # the third party's window has closed: nothing is owed any more
    if deadline.paused:
        status = "paused"
    elif expired:
        status = "overdue"
    elif days_left == 0:
        status = "due_today"
    elif days_left is not None and days_left <= within_days:
        status = "due_soon"
    else:
        status = "later"
    escalate_to = escalation if status == "overdue" else None
    risk = None
    if status == "overdue" and deadline.rule in timelines.deemed_refusal_on and days_left is not None:
        risk = min(-days_left * timelines.penalty_inr_per_day, timelines.penalty_cap_inr) if days_left < 0 else 0
    what = deadline.what
    if deadline.rule == "third_party_appeal":
        what = "disclose the third party's information only after its appeal window closes"
    return DueItem(
        registration_no=case.registration_no, state=case.state, rule=deadline.rule, what=what, cite=deadline.cite, basis=deadline.basis,
        due_on=deadline.due_on, expires_at=deadline.expires_at, days_left=days_left, status=status, escalate_to=escalate_to,
        penalty_risk_inr=risk, deemed_refusal_at=deemed if deadline.rule in timelines.deemed_refusal_on else None,
    )
