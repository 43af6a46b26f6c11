"""How long a request keeps its records from disposal, and the one place that tells the holds.

The CIC holds that a record cannot be destroyed once an RTI request is filed for it (RTI-RULES
section 2, S14), and R11 keeps an ``RTI_PENDING`` hold "until final order plus appeal windows".
``hold_window`` is that rule, pure: open (no end yet) while the request or an appeal is pending,
then up to the last day an appeal could still be filed, plus the setting ``hold_margin_days``
for appeals in the post or admitted late.

``sync_request_hold`` is the single call every change of a request goes through (inside the
same transaction as the change). Today it keeps the window on the request's row, where
disposal and search can read it; the holds on the records themselves (``RTI_PENDING`` and
``THIRD_PARTY_WINDOW`` in the catalog's annotations, with S3 legal hold) are placed from here
once they exist, and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Connection, update

from archiver.catalog import rti_tables as r
from archiver.rti.case import Case
from archiver.rti.deadlines import Deadlines, format_day, ist_day
from archiver.rti.timelines import Timelines

__all__ = ["HoldWindow", "hold_window", "sync_request_hold"]


@dataclass(frozen=True, slots=True)
class HoldWindow:
    """``open``: on hold with no end yet; else on hold up to and including ``until`` (IST)."""

    open: bool
    until: date | None
    reason: str
    cite: str = "CIC, Ashok Kr. Dixit v. DTU (2014); RTI-RULES R11"

    def describe(self) -> str:
        return f"on hold, {self.reason}" if self.open else f"on hold until {format_day(self.until)}: {self.reason}" if self.until else f"not on hold: {self.reason}"


def hold_window(case: Case, deadlines: Deadlines, timelines: Timelines) -> HoldWindow:
    margin = timedelta(days=timelines.settings.hold_margin_days)
    state = case.state
    if state in ("received", "searching", "under_review", "third_party_consultation"):
        return HoldWindow(True, None, "the request is pending")
    if state == "first_appeal" and case.last("faa_decision") is None:
        return HoldWindow(True, None, "the first appeal is pending")
    if state == "second_appeal":
        return HoldWindow(True, None, "the second appeal is pending before the Commission")
    if state == "transferred":
        transferred = case.last("advance")
        on = ist_day(transferred.happened_at) if transferred else ist_day(case.request.received_at)
        return HoldWindow(False, on, "the request was transferred to the public authority that holds the information")
    windows = [w for w in (deadlines.first_appeal, deadlines.third_party_appeal, deadlines.second_appeal) if w is not None and w.due_on is not None and w.met_at is None]
    if state == "closed" and case.decision is None and case.last("first_appeal") is None:
        closed = case.last("close")
        on = ist_day(closed.happened_at) if closed else ist_day(case.request.received_at)
        return HoldWindow(False, on, "the request was closed without a decision")
    if case.last("first_appeal") is not None:
        # after the first appeal, only the second appeal's window is still open
        windows = [w for w in windows if w.rule == "second_appeal"]
    if not windows:
        return HoldWindow(False, None, "no appeal window remains")
    last = max(w.due_on for w in windows if w.due_on is not None)
    return HoldWindow(False, last + margin, f"until the last appeal window closes ({format_day(last)}) and {margin.days} days more")


def sync_request_hold(conn: Connection, case: Case, window: HoldWindow) -> None:
    """Keep the request's hold window where disposal and search read it (see the module docstring)."""
    conn.execute(
        update(r.rti_requests).where(r.rti_requests.c.id == case.request.id).values(hold_open=window.open, hold_until=None if window.open else window.until)
    )
