"""One request as the register holds it: its row and its events, folded into what the rules need.

Pure: built from catalog rows by ``register``, read by the state machine (``states``), the
calculator (``deadlines``), the notices and the hold window. A request's facts are never stored
twice: the fee pauses, the third party's receipt of notice, the decision and the appeals are
events, and ``Case.facts`` reads them back for the calculator.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from archiver.rti.deadlines import CaseFacts, Deadlines, Pause, compute_deadlines
from archiver.rti.timelines import Timelines

__all__ = ["RequestRow", "EventRow", "Decision", "DecisionSummary", "Case"]


@dataclass(frozen=True, slots=True)
class RequestRow:
    id: int
    registration_no: str
    received_at: datetime
    mode: str
    application_on: date | None
    subject: str
    life_liberty: bool
    bpl: bool
    fee_paid_inr: Decimal
    transferred_from: str | None
    transferred_on: date | None
    state: str
    outcome: str | None
    hold_open: bool
    hold_until: date | None
    registered_at: datetime
    registered_by: str

    @property
    def via_apio(self) -> bool:
        return self.mode == "via_apio"


@dataclass(frozen=True, slots=True)
class EventRow:
    id: int
    kind: str
    happened_at: datetime
    recorded_at: datetime
    actor: str
    from_state: str | None
    to_state: str | None
    reason: str | None
    details: Mapping[str, Any]

    def day(self, key: str) -> date | None:
        value = self.details.get(key)
        return date.fromisoformat(value) if isinstance(value, str) else None


@dataclass(frozen=True, slots=True)
class DecisionSummary:
    """What a decision did to the records: for the decision letter and the disclosure package."""

    disclosed: int = 0
    withheld: int = 0
    redacted: int = 0
    sections: tuple[str, ...] = ()  #: every section applied, e.g. ("8(1)(j)", "9")

    def to_json(self) -> dict[str, Any]:
        return {"disclosed": self.disclosed, "withheld": self.withheld, "redacted": self.redacted, "sections": list(self.sections)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> DecisionSummary | None:
        if not data:
            return None
        return cls(int(data.get("disclosed", 0)), int(data.get("withheld", 0)), int(data.get("redacted", 0)), tuple(data.get("sections", ())))


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: str
    sections: tuple[str, ...]
    reasons: str
    findings: str | None
    decided_at: datetime
    decided_by: str
    summary: DecisionSummary | None


@dataclass(frozen=True, slots=True)
class Case:
    request: RequestRow
    events: tuple[EventRow, ...]

    @property
    def registration_no(self) -> str:
        return self.request.registration_no

    @property
    def state(self) -> str:
        return self.request.state

    def of(self, kind: str) -> list[EventRow]:
        return [event for event in self.events if event.kind == kind]

    def last(self, kind: str) -> EventRow | None:
        found = self.of(kind)
        return found[-1] if found else None

    @property
    def third_party(self) -> bool:
        return bool(self.of("third_party_notice"))

    @property
    def open_pause(self) -> EventRow | None:
        """The fee intimation still waiting for its payment, if any."""
        intimations, paid = self.of("fee_intimated"), self.of("fee_paid")
        return intimations[-1] if len(intimations) > len(paid) else None

    @property
    def decision(self) -> Decision | None:
        event = self.last("decision")
        if event is None:
            return None
        details = event.details
        return Decision(
            outcome=details["outcome"],
            sections=tuple(details.get("sections", ())),
            reasons=details.get("reasons", ""),
            findings=details.get("findings"),
            decided_at=event.happened_at,
            decided_by=event.actor,
            summary=DecisionSummary.from_json(details.get("summary")),
        )

    def facts(self) -> CaseFacts:
        pauses = [Pause(event.happened_at) for event in self.of("fee_intimated")]
        for index, paid in enumerate(self.of("fee_paid")):
            if index < len(pauses):
                pauses[index] = Pause(pauses[index].start_at, paid.happened_at)
        notice = self.last("third_party_notice")
        received = self.last("third_party_received")
        decision = self.decision
        # the reply is the first decision; a later one follows an appellate order
        replied = self.of("decision")[0] if self.of("decision") else None
        decision_received = self.last("decision_received")
        appeal = self.last("first_appeal")
        faa = self.last("faa_decision")
        faa_received = self.last("faa_decision_received")
        second = self.last("second_appeal")
        return CaseFacts(
            received_at=self.request.received_at,
            life_liberty=self.request.life_liberty,
            via_apio=self.request.via_apio,
            fee_pauses=tuple(pauses),
            third_party=notice is not None,
            third_party_notice_at=notice.happened_at if notice else None,
            third_party_received_on=received.day("on") if received else None,
            decided_at=replied.happened_at if replied else None,
            decision_received_on=decision_received.day("on") if decision_received else None,
            discloses_third_party=notice is not None and decision is not None and decision.outcome != "refused",
            first_appeal_at=appeal.happened_at if appeal else None,
            first_appeal_filed_on=appeal.day("filed_on") if appeal else None,
            first_appeal_via_apio=bool(appeal and appeal.details.get("via_apio")),
            faa_reasons_recorded=self.last("faa_extension") is not None,
            faa_decided_at=faa.happened_at if faa else None,
            faa_decision_received_on=faa_received.day("on") if faa_received else None,
            second_appeal_at=second.happened_at if second else None,
        )

    def deadlines(self, timelines: Timelines, now: datetime) -> Deadlines:
        return compute_deadlines(self.facts(), timelines, now)
