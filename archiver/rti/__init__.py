"""The RTI request register: statutory deadlines, fees, the state machine, notices (issue 6);
review, redaction and disclosure packages (docs/disclosure.md).

- ``timelines`` reads the timeline table (``schemas/rti_timelines.yaml``); ``deadlines`` counts
  every time limit of a request from it, each with its rule and citation (R1).
- ``fees`` reads the fee tables per jurisdiction and itemises the fees (R3).
- ``request`` checks a request as it arrives; ``case`` folds a request's events into facts;
  ``states`` is the state machine and the checks of every event (R2); ``register`` keeps it all
  in the catalog; ``holds`` says how long a request keeps its records on hold.
- ``letters`` and ``notices`` build and render the reply, fee, rejection, s.10(2) and s.11 notices (R4).
- ``due`` lists what is owed and when.
- ``review``, ``threads``, ``patterns`` and ``redact`` are the review of a request's records and the
  redaction suggestions (R5, R6); ``package`` builds the signed disclosure package (R13, R14, R18).

docs/rti.md explains the register, the counting of days, the fees, roles and the audit chain.
"""

from __future__ import annotations

from archiver.rti.case import Case, Decision, DecisionSummary
from archiver.rti.deadlines import CaseFacts, Deadline, Deadlines, Pause, compute_deadlines
from archiver.rti.due import DueItem, due_items
from archiver.rti.fees import Copies, FeeStatement, FeeTable, further_fees, load_fee_tables
from archiver.rti.holds import HoldWindow, hold_window, sync_request_hold
from archiver.rti.notices import NOTICE_KINDS, TRUE_COPY_ENDORSEMENT, NoticeContext, build_notice, decision_letter
from archiver.rti.register import get_case, list_cases, record_event, register_request
from archiver.rti.request import EXEMPTIONS, MODES, OUTCOMES, Applicant, NewRequest
from archiver.rti.states import STATES, Event
from archiver.rti.timelines import Timelines, load_timelines

__all__ = [
    "Case", "Decision", "DecisionSummary",
    "CaseFacts", "Deadline", "Deadlines", "Pause", "compute_deadlines",
    "DueItem", "due_items",
    "Copies", "FeeStatement", "FeeTable", "further_fees", "load_fee_tables",
    "HoldWindow", "hold_window", "sync_request_hold",
    "NOTICE_KINDS", "TRUE_COPY_ENDORSEMENT", "NoticeContext", "build_notice", "decision_letter",
    "get_case", "list_cases", "record_event", "register_request",
    "EXEMPTIONS", "MODES", "OUTCOMES", "Applicant", "NewRequest",
    "STATES", "Event",
    "Timelines", "load_timelines",
]
