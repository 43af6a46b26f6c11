"""The request register on a real catalog, SQLite and PostgreSQL: registering, the state machine,
refusals with the field and the rule, the hold window, and personal data kept out of logs and the
audit log."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from archiver.catalog import Catalog
from archiver.config import Config
from archiver.errors import AccessDenied, RtiError
from archiver.pipeline import rti_rules
from archiver.rti.due import due_items
from archiver.rti.register import applicant_of, get_case, list_cases, record_deemed_refusals
from archiver.rti.request import Applicant
from tests.rti_fixtures import APPLICANT, NOW, actor, event, ist, new_request, register

pytestmark = pytest.mark.both_catalogs


# -- registering ---------------------------------------------------------------------------------
def test_a_registered_request_has_its_deadline_and_hold(staffed: Catalog, rti_config: Config) -> None:
    change = register(staffed, rti_config)
    case = change.case
    assert (case.registration_no, case.state, case.request.mode, case.request.registered_by) == ("DOWR/R/2026/00012", "received", "online_portal", "cpio")
    assert case.request.received_at == datetime(2026, 3, 2, 4, 30, tzinfo=timezone.utc)
    assert case.deadlines(rti_rules(rti_config).timelines, ist(2026, 3, 3)).reply.due_on == date(2026, 4, 1)
    assert (case.request.hold_open, case.request.hold_until) == (True, None)
    assert change.warnings == ()
    assert [(e.kind, e.to_state, e.actor) for e in case.events] == [("registered", "received", "cpio")]


def test_a_request_received_in_the_future_is_refused(staffed: Catalog, rti_config: Config) -> None:
    with pytest.raises(RtiError) as caught:
        register(staffed, rti_config, new_request(received_at=ist(2026, 6, 2)), now=NOW)
    assert (caught.value.field, caught.value.rule) == ("received_at", "RTI s.7(1)")
    assert caught.value.message.startswith("DOWR/R/2026/00012: received_at 02/06/2026 10:00 IST is in the future (now 01/06/2026 10:00 IST).")


@pytest.mark.parametrize("regno", ["DOWR-R-2026-00012", "dowr/R/2026/00012", "DOWR/R/26/00012", "DOWR/R/2026/0012", "DOWR/R/2026/00012/"])
def test_a_malformed_registration_number_is_refused(staffed: Catalog, rti_config: Config, regno: str) -> None:
    with pytest.raises(RtiError) as caught:
        register(staffed, rti_config, new_request(regno))
    assert (caught.value.field, caught.value.rule) == ("registration_no", "rti.registration_pattern")
    assert caught.value.message.startswith(f"registration_no {regno!r} does not match the registration pattern ^[A-Z][A-Z&]{{1,11}}/[RE]/20[0-9]{{2}}/[0-9]{{5}}$")


def test_the_same_number_is_registered_once(staffed: Catalog, rti_config: Config) -> None:
    register(staffed, rti_config)
    with pytest.raises(RtiError, match=r"DOWR/R/2026/00012 is already in the register; see it with: sangrah rti show DOWR/R/2026/00012"):
        register(staffed, rti_config)


def test_a_transfer_after_the_receipt_and_an_empty_applicant_are_refused(staffed: Catalog, rti_config: Config) -> None:
    with pytest.raises(RtiError) as caught:
        register(staffed, rti_config, new_request(transferred_from="Ministry of Jal Shakti", transferred_on=date(2026, 3, 5)))
    assert (caught.value.field, caught.value.rule) == ("transferred_on", "RTI s.6(3)")
    with pytest.raises(RtiError) as caught:
        register(staffed, rti_config, new_request(applicant=Applicant(" ", "Patna")))
    assert (caught.value.field, caught.value.rule) == ("applicant", "RTI s.6(2)")


def test_an_unpaid_application_fee_is_registered_with_a_warning(staffed: Catalog, rti_config: Config) -> None:
    change = register(staffed, rti_config, new_request(fee_paid_inr=Decimal(0)))
    assert change.warnings == (
        "DOWR/R/2026/00012: Rs 10 of the application fee (RTI Rules 2012 r.3) is not recorded as paid and the applicant is not marked below the "
        "poverty line: without the fee or BPL proof the application is not valid (RTI s.6(1), s.7(5)); ask for it.",
    )
    assert register(staffed, rti_config, new_request("DOWR/R/2026/00013", fee_paid_inr=Decimal(0), bpl=True)).warnings == ()


# -- the state machine ---------------------------------------------------------------------------
def test_a_request_through_decision_first_appeal_second_appeal_and_close(staffed: Catalog, rti_config: Config) -> None:
    register(staffed, rti_config)
    event(staffed, rti_config, "advance", ist(2026, 3, 3), "archive search started", to_state="searching", command="rti advance")
    event(staffed, rti_config, "advance", ist(2026, 3, 9), "records found; review of citizens' replies", to_state="under_review", command="rti advance")
    decided = event(staffed, rti_config, "decision", ist(2026, 3, 20), "names of citizens withheld", outcome="partly_disclosed", sections=["8(1)(j)"], reasons="names of citizens withheld")
    assert (decided.case.state, decided.case.request.outcome) == ("decided", "partly_disclosed")
    # decided 20/03, receipt not recorded: 30 days end 19/04 (Sunday), so 20/04/2026, plus 30 days: 20/05/2026
    assert decided.case.request.hold_until == date(2026, 5, 20)
    appeal = event(staffed, rti_config, "first_appeal", ist(2026, 4, 10), user="faa", command="rti appeal first")
    assert (appeal.case.state, appeal.case.request.hold_open) == ("first_appeal", True)
    # the FAA decided 04/05; a second appeal lies 90 days from then: 02/08/2026 is a Sunday, so 03/08, and 30 days more: 02/09/2026
    faa = event(staffed, rti_config, "faa_decision", ist(2026, 5, 4), user="faa", command="rti appeal decided", outcome="dismissed")
    assert (faa.case.state, faa.case.request.hold_open, faa.case.request.hold_until) == ("first_appeal", False, date(2026, 9, 2))
    second = event(staffed, rti_config, "second_appeal", ist(2026, 5, 20), command="rti appeal second")
    assert (second.case.state, second.case.request.hold_open) == ("second_appeal", True)
    closed = event(staffed, rti_config, "close", ist(2026, 5, 30), "the Commission's final order of 29/05/2026", command="rti close")
    assert closed.case.state == "closed"
    assert [(e.kind, e.from_state, e.to_state, e.actor) for e in closed.case.events] == [
        ("registered", None, "received", "cpio"),
        ("advance", "received", "searching", "cpio"),
        ("advance", "searching", "under_review", "cpio"),
        ("decision", "under_review", "decided", "cpio"),
        ("first_appeal", "decided", "first_appeal", "faa"),
        ("faa_decision", "first_appeal", "first_appeal", "faa"),
        ("second_appeal", "first_appeal", "second_appeal", "cpio"),
        ("close", "second_appeal", "closed", "cpio"),
    ]


def test_a_transition_the_machine_does_not_have_is_refused_naming_the_rule(staffed: Catalog, rti_config: Config) -> None:
    register(staffed, rti_config)
    event(staffed, rti_config, "decision", ist(2026, 3, 20), outcome="disclosed", sections=[])
    with pytest.raises(RtiError) as caught:
        event(staffed, rti_config, "advance", ist(2026, 3, 21), "look again", to_state="searching", command="rti advance")
    assert caught.value.message == (
        "DOWR/R/2026/00012: a request in state 'decided' cannot move to 'searching'; from 'decided' it may go to closed, first_appeal "
        "(R2: the register's states, docs/rti.md)."
    )
    assert (caught.value.field, caught.value.rule) == ("state", "R2")
    with pytest.raises(RtiError, match="a fresh decision follows an appellate order"):
        event(staffed, rti_config, "decision", ist(2026, 3, 22), outcome="disclosed", sections=[])


def test_a_decision_that_withholds_without_a_section_is_refused(staffed: Catalog, rti_config: Config) -> None:
    register(staffed, rti_config)
    with pytest.raises(RtiError) as caught:
        event(staffed, rti_config, "decision", ist(2026, 3, 20), outcome="refused", sections=[], reasons="personal information")
    assert (caught.value.field, caught.value.rule) == ("sections", "RTI s.7(8)(i)")
    assert "must name the exemption section it applies (--section, e.g. 8(1)(j))" in caught.value.message
    with pytest.raises(RtiError) as caught:
        event(staffed, rti_config, "decision", ist(2026, 3, 20), outcome="partly_disclosed", sections=[], reasons="x")
    assert (caught.value.field, caught.value.rule) == ("sections", "RTI s.10(2)(b)")
    with pytest.raises(RtiError) as caught:
        event(staffed, rti_config, "decision", ist(2026, 3, 20), outcome="refused", sections=["8(1)(j)"], reasons="")
    assert (caught.value.field, caught.value.rule) == ("reasons", "RTI s.7(8)(i)")
    with pytest.raises(RtiError) as caught:
        event(staffed, rti_config, "decision", ist(2026, 3, 20), outcome="refused", sections=["8(1)(k)"], reasons="x")
    assert caught.value.field == "sections" and "8(1)(k) is not a section" in caught.value.message
    assert get_case(staffed, "DOWR/R/2026/00012").state == "received"  # nothing was recorded


def test_a_first_appeal_before_any_decision_or_expiry_is_refused(staffed: Catalog, rti_config: Config) -> None:
    register(staffed, rti_config)
    with pytest.raises(RtiError) as caught:
        event(staffed, rti_config, "first_appeal", ist(2026, 3, 25), user="faa", command="rti appeal first")
    assert (caught.value.field, caught.value.rule) == ("state", "RTI s.19(1)")
    assert "this request is received and its reply is due by 01/04/2026 (RTI s.19(1))" in caught.value.message
    # after the period ran out, undecided, it is a deemed refusal and the appeal lies
    appeal = event(staffed, rti_config, "first_appeal", ist(2026, 4, 6), user="faa", command="rti appeal first")
    assert appeal.case.state == "first_appeal"


def test_a_late_first_appeal_needs_the_cause_shown(staffed: Catalog, rti_config: Config) -> None:
    register(staffed, rti_config)
    event(staffed, rti_config, "decision", ist(2026, 3, 20), outcome="disclosed", sections=[])
    with pytest.raises(RtiError) as caught:
        event(staffed, rti_config, "first_appeal", ist(2026, 4, 22), user="faa", command="rti appeal first")
    assert caught.value.rule == "RTI s.19(1) proviso" and "after its last day, 20/04/2026" in caught.value.message
    admitted = event(staffed, rti_config, "first_appeal", ist(2026, 4, 22), "the applicant was in hospital (certificate on file)", user="faa", command="rti appeal first")
    assert admitted.case.state == "first_appeal"


def test_a_second_appeal_waits_for_the_faa(staffed: Catalog, rti_config: Config) -> None:
    register(staffed, rti_config)
    event(staffed, rti_config, "decision", ist(2026, 3, 20), outcome="disclosed", sections=[])
    event(staffed, rti_config, "first_appeal", ist(2026, 4, 10), user="faa", command="rti appeal first")
    with pytest.raises(RtiError) as caught:
        event(staffed, rti_config, "second_appeal", ist(2026, 5, 5), command="rti appeal second")
    assert caught.value.rule == "RTI s.19(3)" and "the FAA has until 10/05/2026 to decide" in caught.value.message
    assert event(staffed, rti_config, "second_appeal", ist(2026, 5, 11), command="rti appeal second").case.state == "second_appeal"


def test_fee_pause_events_move_the_reply_date(staffed: Catalog, rti_config: Config) -> None:
    register(staffed, rti_config)
    timelines = rti_rules(rti_config).timelines
    paused = event(staffed, rti_config, "fee_intimated", ist(2026, 3, 10), "fee intimation", command="rti notice", statement={})
    assert paused.case.deadlines(timelines, ist(2026, 3, 12)).reply.paused
    with pytest.raises(RtiError, match="is still unpaid; record its payment first"):
        event(staffed, rti_config, "fee_intimated", ist(2026, 3, 11), "again", command="rti notice")
    paid = event(staffed, rti_config, "fee_paid", ist(2026, 3, 20), "paid", command="rti record", amount_inr="80")
    assert paid.case.deadlines(timelines, ist(2026, 3, 21)).reply.due_on == date(2026, 4, 11)
    with pytest.raises(RtiError, match="no fee intimation is waiting for payment"):
        event(staffed, rti_config, "fee_paid", ist(2026, 3, 21), "paid twice", command="rti record")


def test_no_fee_is_asked_of_a_bpl_applicant_or_after_the_period(staffed: Catalog, rti_config: Config) -> None:
    register(staffed, rti_config, new_request(bpl=True, fee_paid_inr=Decimal(0)))
    with pytest.raises(RtiError) as caught:
        event(staffed, rti_config, "fee_intimated", ist(2026, 3, 10), "fee", command="rti notice")
    assert caught.value.rule == "RTI s.7(5)"
    register(staffed, rti_config, new_request("DOWR/R/2026/00013"))
    with pytest.raises(RtiError) as caught:
        event(staffed, rti_config, "fee_intimated", ist(2026, 4, 5), "fee", command="rti notice", regno="DOWR/R/2026/00013")
    assert caught.value.rule == "RTI s.7(6)" and "the information is now free of charge" in caught.value.message


def test_a_decision_waits_for_the_third_partys_ten_days(staffed: Catalog, rti_config: Config) -> None:
    register(staffed, rti_config)
    notice = event(
        staffed, rti_config, "third_party_notice", ist(2026, 3, 5), "s.11(1) notice", command="rti notice",
        third_party=("Flood Relief Volunteers Trust", "Boring Road, Patna", "their messages to the department"),
    )
    assert notice.case.state == "third_party_consultation"
    assert "third_party_id" in notice.case.events[-1].details and "Flood Relief" not in str(notice.case.events[-1].details)
    with pytest.raises(RtiError) as caught:
        event(staffed, rti_config, "decision", ist(2026, 3, 12), outcome="disclosed", sections=[])
    assert caught.value.field == "third_party_received" and caught.value.rule == "RTI s.11(2)"
    event(staffed, rti_config, "third_party_received", ist(2026, 3, 9), command="rti record", on="2026-03-09")
    with pytest.raises(RtiError) as caught:
        event(staffed, rti_config, "decision", ist(2026, 3, 18), outcome="disclosed", sections=[])
    assert "may make its representation until 19/03/2026 (RTI s.11(2))" in caught.value.message
    decided = event(staffed, rti_config, "decision", ist(2026, 3, 20), outcome="disclosed", sections=[])
    deadlines = decided.case.deadlines(rti_rules(rti_config).timelines, ist(2026, 3, 21))
    assert deadlines.reply.rule == "third_party_decision" and not deadlines.reply.met_late
    # the third party may appeal the order to disclose until 19/04/2026 (a Sunday), so 20/04/2026
    assert deadlines.third_party_appeal is not None and deadlines.third_party_appeal.due_on == date(2026, 4, 20)


def test_events_in_the_future_or_before_receipt_are_refused(staffed: Catalog, rti_config: Config) -> None:
    register(staffed, rti_config)
    with pytest.raises(RtiError) as caught:
        event(staffed, rti_config, "advance", ist(2026, 6, 2), "later", to_state="searching", command="rti advance")
    assert caught.value.field == "at" and "in the future" in caught.value.message
    with pytest.raises(RtiError) as caught:
        event(staffed, rti_config, "advance", ist(2026, 3, 1), "earlier", to_state="searching", command="rti advance")
    assert caught.value.message == "DOWR/R/2026/00012: the advance is dated 01/03/2026, before the request was received (02/03/2026)."
    with pytest.raises(RtiError, match="give the reason"):
        event(staffed, rti_config, "close", ist(2026, 3, 3), "", command="rti close")


def test_a_transfer_names_the_authority_and_a_late_one_is_flagged(staffed: Catalog, rti_config: Config) -> None:
    register(staffed, rti_config)
    with pytest.raises(RtiError) as caught:
        event(staffed, rti_config, "advance", ist(2026, 3, 4), "held by another ministry", to_state="transferred", command="rti advance")
    assert (caught.value.field, caught.value.rule) == ("to_authority", "RTI s.6(3)")
    late = event(staffed, rti_config, "advance", ist(2026, 3, 9), "held by the Ministry of Jal Shakti", to_state="transferred", command="rti advance", to_authority="Ministry of Jal Shakti")
    assert late.warnings == ("DOWR/R/2026/00012: transferred on 09/03/2026, after the 07/03/2026 limit of RTI s.6(3) proviso (5 days from receipt).",)
    assert (late.case.state, late.case.request.hold_open, late.case.request.hold_until) == ("transferred", False, date(2026, 3, 9))


# -- the deemed refusal (R2, s.7(2)) and the marked transfer (s.6(3)) -------------------------------
def _deemed(catalog: Catalog, rti_config: Config, at: datetime) -> list[str]:
    """The daily check at ``at``: the requests it recorded a deemed refusal on."""
    return [case.registration_no for case in record_deemed_refusals(catalog, "test-rti-cell", now=at, timelines=rti_rules(rti_config).timelines)]


@pytest.mark.parametrize(
    ("changes", "day_before", "day_after", "fell_at", "due_on", "reply_rule", "reply_cite"),
    [
        # received 02/03/2026: 30 days, 02/03 excluded, end with 01/04/2026; it falls at midnight IST, 18:30 UTC on 01/04
        ({}, ist(2026, 4, 1, 23, 59), ist(2026, 4, 2, 9, 0), datetime(2026, 4, 1, 18, 30, tzinfo=timezone.utc), "2026-04-01", "reply_standard", "RTI s.7(1)"),
        # given to an APIO on 02/03/2026: 30 + 5 days, to 06/04/2026; falls at 00:00 IST on 07/04
        ({"mode": "via_apio"}, ist(2026, 4, 6, 23, 59), ist(2026, 4, 7, 9, 0), datetime(2026, 4, 6, 18, 30, tzinfo=timezone.utc), "2026-04-06", "reply_standard", "RTI s.7(1); RTI s.5(2) proviso"),
        # life or liberty, received 14:05 IST on 10/03/2026: 48 hours, to 14:05 IST on 12/03 (08:35 UTC)
        ({"life_liberty": True, "received_at": ist(2026, 3, 10, 14, 5)}, ist(2026, 3, 12, 14, 4), ist(2026, 3, 13, 9, 0), datetime(2026, 3, 12, 8, 35, tzinfo=timezone.utc), "2026-03-12", "reply_life_liberty", "RTI s.7(1) proviso"),
    ],
    ids=["30-days", "apio-35-days", "48-hours"],
)
def test_the_daily_check_records_the_deemed_refusal_once_when_the_reply_period_runs_out(
    staffed: Catalog, rti_config: Config, changes: dict[str, Any], day_before: datetime, day_after: datetime, fell_at: datetime, due_on: str, reply_rule: str, reply_cite: str,
) -> None:
    register(staffed, rti_config, new_request(**changes))
    assert _deemed(staffed, rti_config, day_before) == []  # the last minute of the period: nothing yet
    assert _deemed(staffed, rti_config, day_after) == ["DOWR/R/2026/00012"]
    assert _deemed(staffed, rti_config, day_after) == [] and _deemed(staffed, rti_config, day_after + timedelta(days=3)) == []  # once
    case = get_case(staffed, "DOWR/R/2026/00012")
    (deemed,) = case.of("deemed_refusal")
    assert (deemed.happened_at, deemed.actor, deemed.from_state, deemed.to_state, case.state) == (fell_at, "test-rti-cell", "received", "received", "received")
    assert deemed.details == {"rule": "deemed_refusal", "cite": "RTI s.7(2)", "reply_rule": reply_rule, "reply_cite": reply_cite, "due_on": due_on, "fell_at": fell_at.isoformat()}
    assert deemed.reason == (
        f"no decision within the reply period ({reply_cite}), whose last day was {date.fromisoformat(due_on).strftime('%d/%m/%Y')}: deemed refused (RTI s.7(2)); "
        "the information is now free of charge (RTI s.7(6))"
    )
    (audit,) = staffed.audit_entries(action="rti_deemed_refusal")
    assert (audit["actor"], audit["target"], audit["outcome"]) == ("test-rti-cell", "DOWR/R/2026/00012", "ok")
    assert audit["details"] == {
        "from": "received", "to": "received", "at": fell_at.isoformat(), "cite": "RTI s.7(2)", "reply_rule": reply_rule, "reply_cite": reply_cite,
        "due_on": due_on, "fell_at": fell_at.isoformat(),
    }


def test_a_deemed_refusal_does_not_block_the_late_decision_which_is_free(staffed: Catalog, rti_config: Config) -> None:
    register(staffed, rti_config)
    assert _deemed(staffed, rti_config, ist(2026, 4, 2, 9, 0)) == ["DOWR/R/2026/00012"]
    # s.7(6): no fee may be asked once the period was missed
    with pytest.raises(RtiError) as caught:
        event(staffed, rti_config, "fee_intimated", ist(2026, 4, 3), "fee", command="rti notice")
    assert caught.value.rule == "RTI s.7(6)"
    decided = event(staffed, rti_config, "decision", ist(2026, 4, 5), "information supplied", outcome="disclosed", sections=[])
    assert decided.case.state == "decided"
    assert decided.warnings == (
        "DOWR/R/2026/00012: decided after the reply period ran out (01/04/2026): it was a deemed refusal (RTI s.7(2)), and the information is free of charge (RTI s.7(6)).",
    )
    deadlines = decided.case.deadlines(rti_rules(rti_config).timelines, ist(2026, 4, 6))
    assert deadlines.late_is_free and deadlines.reply.met_late
    assert [e.kind for e in decided.case.events] == ["registered", "deemed_refusal", "decision"]
    assert _deemed(staffed, rti_config, ist(2026, 4, 7)) == []


def test_an_event_after_the_period_ran_out_records_the_deemed_refusal_first(staffed: Catalog, rti_config: Config) -> None:
    register(staffed, rti_config)
    register(staffed, rti_config, new_request("DOWR/R/2026/00013"))
    # no daily check ran: the late decision, and the appeal against the undecided request, come after their deemed refusal
    decided = event(staffed, rti_config, "decision", ist(2026, 4, 5), "information supplied", outcome="disclosed", sections=[])
    appealed = event(staffed, rti_config, "first_appeal", ist(2026, 4, 6), user="faa", command="rti appeal first", regno="DOWR/R/2026/00013")
    for change, kind, actor_name in ((decided, "decision", "cpio"), (appealed, "first_appeal", "faa")):
        assert [(e.kind, e.happened_at, e.actor) for e in change.case.events[1:]] == [
            ("deemed_refusal", datetime(2026, 4, 1, 18, 30, tzinfo=timezone.utc), actor_name), (kind, change.case.events[-1].happened_at, actor_name),
        ]
    assert len(staffed.audit_entries(action="rti_deemed_refusal")) == 2
    assert _deemed(staffed, rti_config, ist(2026, 4, 7)) == []


def test_no_deemed_refusal_for_a_request_decided_in_time_or_paused_for_its_fee(staffed: Catalog, rti_config: Config) -> None:
    register(staffed, rti_config)
    event(staffed, rti_config, "decision", ist(2026, 3, 31), "information supplied", outcome="disclosed", sections=[])
    register(staffed, rti_config, new_request("DOWR/R/2026/00013"))
    event(staffed, rti_config, "fee_intimated", ist(2026, 3, 10), "fee intimation", command="rti notice", regno="DOWR/R/2026/00013")
    assert _deemed(staffed, rti_config, ist(2026, 5, 1)) == []
    # the fee is paid on 20/03: 10 days of pause, so the period ends 11/04/2026 and falls at 00:00 IST on 12/04
    event(staffed, rti_config, "fee_paid", ist(2026, 3, 20), "paid", command="rti record", regno="DOWR/R/2026/00013", amount_inr="80")
    assert _deemed(staffed, rti_config, ist(2026, 4, 11, 23, 0)) == []
    assert _deemed(staffed, rti_config, ist(2026, 4, 12, 9, 0)) == ["DOWR/R/2026/00013"]
    assert get_case(staffed, "DOWR/R/2026/00013").last("deemed_refusal").happened_at == datetime(2026, 4, 11, 18, 30, tzinfo=timezone.utc)  # type: ignore[union-attr]


def test_a_deemed_refusal_is_never_entered_by_hand_at_another_instant_nor_twice(staffed: Catalog, rti_config: Config) -> None:
    register(staffed, rti_config)
    with pytest.raises(RtiError) as caught:
        event(staffed, rti_config, "deemed_refusal", ist(2026, 3, 20), "early", command="rti record")
    assert (caught.value.field, caught.value.rule) == ("at", "RTI s.7(2)")
    assert caught.value.message == (
        "DOWR/R/2026/00012: a deemed refusal falls when the reply period runs out undecided; the reply period (RTI s.7(1)) runs out at 02/04/2026 00:00 IST, "
        "not at 20/03/2026 10:00 IST."
    )
    _deemed(staffed, rti_config, ist(2026, 4, 2))
    with pytest.raises(RtiError, match=r"the deemed refusal is already recorded, at 02/04/2026 00:00 IST\."):
        event(staffed, rti_config, "deemed_refusal", datetime(2026, 4, 1, 18, 30, tzinfo=timezone.utc), "again", command="rti record")


def test_a_request_marked_for_transfer_owes_its_transfer_within_five_days(staffed: Catalog, rti_config: Config) -> None:
    timelines = rti_rules(rti_config).timelines
    register(staffed, rti_config)
    register(staffed, rti_config, new_request("DOWR/R/2026/00013"))
    with pytest.raises(RtiError) as caught:
        event(staffed, rti_config, "marked_for_transfer", ist(2026, 3, 4), "held elsewhere", command="rti record")
    assert (caught.value.field, caught.value.rule) == ("to_authority", "RTI s.6(3)")
    event(staffed, rti_config, "marked_for_transfer", ist(2026, 3, 4), "the flood-relief accounts are the Ministry's", command="rti record", to_authority="Ministry of Jal Shakti")
    with pytest.raises(RtiError, match=r"already marked for transfer to Ministry of Jal Shakti on 04/03/2026"):
        event(staffed, rti_config, "marked_for_transfer", ist(2026, 3, 5), "again", command="rti record", to_authority="Ministry of Jal Shakti")

    def listed(at: datetime) -> list[tuple[str, str, str, str | None, int | None, str]]:
        items = due_items(list_cases(staffed), timelines, at, within_days=3)
        return [(i.registration_no, i.rule, i.what, i.due_on.isoformat() if i.due_on else None, i.days_left, i.status) for i in items]

    # received 02/03/2026: 5 days, 02/03 excluded, end with 07/03/2026; the unmarked request owes no transfer
    assert listed(ist(2026, 3, 5, 9, 0)) == [("DOWR/R/2026/00012", "transfer", "transfer the request to Ministry of Jal Shakti", "2026-03-07", 2, "due_soon")]
    (item,) = [i for i in due_items(list_cases(staffed), timelines, ist(2026, 3, 8, 9, 0)) if i.rule == "transfer"]
    assert (item.status, item.days_left, item.cite, item.basis, item.escalate_to, item.penalty_risk_inr, item.deemed_refusal_at) == (
        "overdue", -1, "RTI s.6(3) proviso", "5 days from receipt on 02/03/2026; marked for transfer on 04/03/2026", None, None, None,
    )
    transferred = event(staffed, rti_config, "advance", ist(2026, 3, 8), "sent on", to_state="transferred", command="rti advance", to_authority="Ministry of Jal Shakti")
    assert transferred.case.state == "transferred"
    assert [i for i in due_items(list_cases(staffed), timelines, ist(2026, 3, 8, 9, 0)) if i.rule == "transfer"] == []


# -- personal data ---------------------------------------------------------------------------------
def test_the_applicant_is_shown_only_to_the_roles_that_need_it(staffed: Catalog, rti_config: Config) -> None:
    register(staffed, rti_config)
    shown = applicant_of(staffed, actor(staffed, "cpio", "rti show"), "DOWR/R/2026/00012")
    assert (shown.name, shown.address, shown.contact) == (APPLICANT["name"], APPLICANT["address"], APPLICANT["contact"])
    assert APPLICANT["name"] not in repr(shown)
    with pytest.raises(AccessDenied) as caught:
        applicant_of(staffed, actor(staffed, "auditor", "rti show"), "DOWR/R/2026/00012")
    assert caught.value.message.startswith("DOWR/R/2026/00012: the applicant's and third parties' particulars are personal data, shown only to the apio, faa, pio")


def test_personal_data_never_reaches_the_logs_or_the_audit_log(staffed: Catalog, rti_config: Config, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="archiver")
    register(staffed, rti_config)
    event(staffed, rti_config, "advance", ist(2026, 3, 3), "search", to_state="searching", command="rti advance")
    event(staffed, rti_config, "decision", ist(2026, 3, 20), "withheld", outcome="partly_disclosed", sections=["8(1)(j)"], reasons="names withheld")
    assert "rti_registered request=DOWR/R/2026/00012 mode=online_portal" in caplog.text
    audit_text = str(staffed.audit_entries())
    events_text = str(get_case(staffed, "DOWR/R/2026/00012").events)
    for value in APPLICANT.values():
        assert value not in caplog.text and value not in audit_text and value not in events_text


def test_events_are_append_only_in_the_database(staffed: Catalog, rti_config: Config) -> None:
    register(staffed, rti_config)
    for statement in ("UPDATE rti_events SET actor = 'someone else'", "DELETE FROM rti_events"):
        # the trigger's refusal: IntegrityError from SQLite's RAISE(ABORT), the trigger function's
        # exception (SQLSTATE P0001) from PostgreSQL
        with pytest.raises(DBAPIError, match="the RTI events are append-only"), staffed.engine.begin() as conn:
            conn.execute(text(statement))


def test_the_rti_settings_are_checked(tmp_path: Path) -> None:
    from archiver.config import load_config
    from archiver.errors import ConfigError

    path = tmp_path / "sangrah.yaml"
    path.write_text("rti:\n  registration_pattern: '^DOWR/[R/20'\n  jurisdiction: Haryana\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert "rti.registration_pattern (line 2): found '^DOWR/[R/20'; allowed: a regular expression. This one does not compile (unterminated character set at position 6)" in caught.value.message
    assert "rti.jurisdiction (line 3): found 'Haryana'; allowed: text matching ^[a-z][a-z_]*$" in caught.value.message
    path.write_text("rti:\n  jurisdiction: haryana\n", encoding="utf-8")
    assert load_config(path).rti.commission_name == "Haryana State Information Commission"
