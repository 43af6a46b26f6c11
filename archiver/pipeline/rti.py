"""RTI steps used by the CLI, the daily DAG and the disclosure package.

- ``rti_due``: what is due or overdue, as JSON-able data (the DAG ``sangrah_rti_daily`` raises
  it each morning; ``sangrah rti due`` prints the same list).
- ``rti_rules``: the configured timelines and fee table, read and checked.
- ``render_decision_letter``: the decision letter of a request, for the disclosure package.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from archiver.access.users import Actor
from archiver.catalog.audit import verify_chain
from archiver.config import Config
from archiver.pipeline.capture import open_catalog
from archiver.rti.case import DecisionSummary
from archiver.rti.deadlines import ist_day
from archiver.rti.due import due_items
from archiver.rti.fees import FeeStatement, FeeTable, load_fee_tables
from archiver.rti.letters import render
from archiver.rti.notices import NoticeContext, decision_letter
from archiver.rti.register import applicant_of, get_case, list_cases, record_deemed_refusals
from archiver.rti.states import OPEN_STATES
from archiver.rti.timelines import Timelines, load_timelines

__all__ = ["RtiRules", "rti_rules", "rti_deemed_refusals", "rti_due", "render_decision_letter"]


@dataclass(frozen=True, slots=True)
class RtiRules:
    timelines: Timelines
    fee_table: FeeTable


def rti_rules(config: Config) -> RtiRules:
    """The timelines and the jurisdiction's fee table the config names, checked."""
    return RtiRules(load_timelines(config.rti.timelines), load_fee_tables(config.rti.fees).table(config.rti.jurisdiction))


def rti_deemed_refusals(config: Config, *, now: datetime | None = None) -> list[str]:
    """Record the deemed refusal (RTI s.7(2)) of every request whose reply period ran out with no
    decision, once each, audited as the operator; the registration numbers recorded now."""
    catalog = open_catalog(config)
    try:
        recorded = record_deemed_refusals(catalog, config.operator_name, now=now or datetime.now(timezone.utc), timelines=rti_rules(config).timelines)
    finally:
        catalog.close()
    return [case.registration_no for case in recorded]


def rti_due(config: Config, *, now: datetime | None = None, within_days: int = 7, actor: str | None = None) -> dict[str, Any]:
    """What is due or overdue, most urgent first, with the audit chain's head for the record.

    Returns ``{"as_of", "as_of_ist_date", "items": [...], "overdue", "audit_head"}``; each item
    is ``DueItem.to_json()``. The run is audited as ``actor`` (the operator when None: the DAG).
    """
    now = now or datetime.now(timezone.utc)
    rules = rti_rules(config)
    catalog = open_catalog(config)
    try:
        cases = list_cases(catalog, states=OPEN_STATES | {"decided"})
        faa = config.rti.faa.name if config.rti.faa else None
        items = [item.to_json() for item in due_items(cases, rules.timelines, now, within_days=within_days, faa_name=faa)]
        chain = verify_chain(catalog.engine)
        overdue = sum(1 for item in items if item["status"] == "overdue")
        catalog.audit(actor=actor or config.operator_name, action="rti_due", target=None, outcome="ok", details={"items": len(items), "overdue": overdue})
    finally:
        catalog.close()
    return {
        "as_of": now.isoformat(),
        "as_of_ist_date": ist_day(now).isoformat(),
        "items": items,
        "overdue": overdue,
        "audit_head": {"entries": chain.entries, "hash": chain.head_hash, "intact": chain.intact, "problem": chain.problem},
    }


def render_decision_letter(
    config: Config,
    actor: Actor,
    registration_no: str,
    summary: DecisionSummary,
    *,
    fmt: str = "html",
    statement: FeeStatement | None = None,
    now: datetime | None = None,
) -> str:
    """The decision letter of ``registration_no`` in ``fmt`` (html or text), for the disclosure package.

    ``summary`` counts the records disclosed, withheld and redacted and names the sections
    applied. ``actor`` must be one who may see the applicant (the letter is addressed to them).
    """
    now = now or datetime.now(timezone.utc)
    rules = rti_rules(config)
    catalog = open_catalog(config)
    try:
        case = get_case(catalog, registration_no)
        applicant = applicant_of(catalog, actor, registration_no)
        letter = decision_letter(NoticeContext(config.rti, rules.timelines, case, applicant, ist_day(now), now), summary, statement)
    finally:
        catalog.close()
    return render(letter, fmt)
