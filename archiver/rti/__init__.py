"""The RTI request register: statutory deadlines and fees (issue 6).

- ``timelines`` reads the timeline table (``schemas/rti_timelines.yaml``); ``deadlines`` counts
  every time limit of a request from it, each with its rule and citation (R1).
- ``fees`` reads the fee tables per jurisdiction and itemises the fees (R3).
"""

from __future__ import annotations

from archiver.rti.deadlines import CaseFacts, Deadline, Deadlines, Pause, compute_deadlines
from archiver.rti.fees import Copies, FeeStatement, FeeTable, further_fees, load_fee_tables
from archiver.rti.timelines import Timelines, load_timelines

__all__ = [
    "CaseFacts", "Deadline", "Deadlines", "Pause", "compute_deadlines",
    "Copies", "FeeStatement", "FeeTable", "further_fees", "load_fee_tables",
    "Timelines", "load_timelines",
]
