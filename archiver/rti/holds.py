"""How long a request keeps its records from disposal, and the one place that tells the holds.

The CIC holds that a record cannot be destroyed once an RTI request is filed for it (RTI-RULES
section 2, S14), and R11 keeps an ``RTI_PENDING`` hold "until final order plus appeal windows".
``hold_window`` is that rule, pure: open (no end yet) while the request or an appeal is pending,
then up to the last day an appeal could still be filed, plus the setting ``hold_margin_days``
for appeals in the post or admitted late.

Two calls follow every change of a request:

- ``keep_hold_window``, inside the change's own transaction: the window on the request's row,
  where disposal and search read it;
- ``sync_request_hold``, right after that transaction: the holds on the records themselves, in
  the catalog's annotations, through their API only (``archiver.catalog.annotations``, so that
  whatever follows a hold there, such as S3 legal hold, follows these). While the window is
  open or not yet lapsed, an ``RTI_PENDING`` hold (reference: the registration number) covers
  every record of the request's scope and review set; once a s.11 consultation has begun, a ``THIRD_PARTY_WINDOW`` hold covers them too. It
  only ever adds: it never releases a hold, and it places each hold once (later records are
  added to it). The annotations API writes in transactions of its own, hence the two steps; a
  run that stops between them leaves the row right and the holds behind, and the next change
  or ``sangrah rti hold REQUEST --sync`` brings them level.

Holds end only by ``release_request_holds``, an explicit act with its reason (``sangrah rti hold
REQUEST --release``), refused while the window is open or not lapsed and before the request is
closed; ``annotations.release_hold`` audits each release.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Connection, select, union, update

from archiver.catalog import Catalog
from archiver.catalog import rti_review_tables as v
from archiver.catalog import rti_tables as r
from archiver.catalog.annotations import Hold, add_to_hold, list_holds, place_hold, release_hold
from archiver.errors import RtiError
from archiver.rti.case import Case
from archiver.rti.deadlines import Deadlines, format_day, ist_day
from archiver.rti.timelines import Timelines

__all__ = ["REQUEST_HOLD_TYPES", "HoldWindow", "HoldSync", "hold_window", "keep_hold_window", "lapsed", "held_record_ids", "request_holds", "sync_request_hold", "release_request_holds"]

#: the hold types a request places on its records (RTI-RULES R11)
REQUEST_HOLD_TYPES = ("RTI_PENDING", "THIRD_PARTY_WINDOW")


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


def keep_hold_window(conn: Connection, case: Case, window: HoldWindow) -> None:
    """Keep the request's hold window on its row, in the change's transaction (see the module docstring)."""
    conn.execute(
        update(r.rti_requests).where(r.rti_requests.c.id == case.request.id).values(hold_open=window.open, hold_until=None if window.open else window.until)
    )


def lapsed(window: HoldWindow, today: date) -> bool:
    """Whether the window is over on ``today`` (IST): not open, and its last day has passed."""
    return not window.open and (window.until is None or today > window.until)


@dataclass(frozen=True, slots=True)
class HoldSync:
    """What ``sync_request_hold`` did: the request's holds in force, and the records it added."""

    holds: tuple[Hold, ...]
    records: int  #: records of the scope and review set
    added: int  #: records newly put on a hold (a new hold's records count too)
    lapsed: bool


def held_record_ids(catalog: Catalog, case: Case) -> list[str]:
    """Every record the request concerns: its scope and its review set (threads expanded)."""
    request_id = case.request.id
    query = union(
        select(v.rti_scope_records.c.record_id).where(v.rti_scope_records.c.request_id == request_id),
        select(v.rti_review_records.c.record_id).where(v.rti_review_records.c.request_id == request_id),
    )
    with catalog.engine.connect() as conn:
        return sorted(conn.execute(query).scalars())


def request_holds(catalog: Catalog, registration_no: str, *, active_only: bool = True) -> list[Hold]:
    """The holds a request placed (types ``REQUEST_HOLD_TYPES``, reference its registration number)."""
    return [h for h in list_holds(catalog, active_only=active_only) if h.reference == registration_no and h.hold_type in REQUEST_HOLD_TYPES]


def _reason(hold_type: str, case: Case, window: HoldWindow) -> str:
    if hold_type == "THIRD_PARTY_WINDOW":
        return f"RTI {case.registration_no}: third-party consultation under s.11; kept through the third party's appeal window (s.11(4), s.19(2))"
    return f"RTI {case.registration_no}: the records the request concerns, {window.reason}; kept until the final order and the appeal windows have lapsed"


def sync_request_hold(catalog: Catalog, case: Case, window: HoldWindow, *, actor: str, today: date) -> HoldSync:
    """Place or keep the request's holds on its records (see the module docstring); never releases."""
    ids = held_record_ids(catalog, case)
    current = {h.hold_type: h for h in reversed(request_holds(catalog, case.registration_no))}
    over = lapsed(window, today)
    if over or not ids:
        return HoldSync(tuple(current.values()), len(ids), 0, over)
    wanted = ["RTI_PENDING"] + (["THIRD_PARTY_WINDOW"] if case.third_party else [])
    added = 0
    for hold_type in wanted:
        hold = current.get(hold_type)
        if hold is None:
            current[hold_type] = place_hold(catalog, hold_type=hold_type, reference=case.registration_no, reason=_reason(hold_type, case, window), actor=actor, record_ids=ids)
            added += len(ids)
        else:
            added += add_to_hold(catalog, hold.id, ids, actor=actor, via="ids")
    return HoldSync(tuple(sorted(current.values(), key=lambda h: h.id)), len(ids), added, over)


def release_request_holds(catalog: Catalog, case: Case, window: HoldWindow, *, actor: str, reason: str, today: date) -> list[Hold]:
    """End the request's holds by a recorded act; refused while they must stay (R11)."""
    regno = case.registration_no
    if not reason.strip():
        raise RtiError(f"{regno}: a hold is released only with its reason; give --reason, e.g. \"second appeal window over, no appeal filed\".", request=regno, field="reason", rule="R11")
    if case.state != "closed":
        raise RtiError(
            f"{regno}: the request is {case.state.replace('_', ' ')}, not closed; its records stay on hold until it is closed and its appeal windows "
            f"have lapsed (close it with: sangrah rti close {regno}).", request=regno, field="state", rule="R11; CIC, Ashok Kr. Dixit v. DTU (2014)",
        )
    if not lapsed(window, today):
        raise RtiError(
            f"{regno}: the records are {window.describe()}; they cannot be released before that "
            f"(today is {format_day(today)}).", request=regno, field="hold_window", rule="R11; CIC, Ashok Kr. Dixit v. DTU (2014)",
        )
    holds = request_holds(catalog, regno)
    if not holds:
        raise RtiError(f"{regno}: no hold of the request is in force; see them with: sangrah hold list --all", request=regno, field="holds", rule="R11")
    return [release_hold(catalog, h.id, actor=actor, reason=reason.strip()) for h in holds]
