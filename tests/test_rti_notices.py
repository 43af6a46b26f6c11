"""The notices of a request, rendered from the register: every field the rule book requires, the
appeal time limits computed by the calculator, and refusals when the request is not ready."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from archiver.catalog import Catalog
from archiver.config import Config, RtiSettings
from archiver.errors import ConfigError, RtiError
from archiver.pipeline import rti_rules
from archiver.rti.case import DecisionSummary
from archiver.rti.deadlines import ist_day
from archiver.rti.disclose import recorded_fees
from archiver.rti.fees import Copies, further_fees
from archiver.rti.letters import render_html, render_text
from archiver.rti.notices import NoticeContext, ThirdPartyParticulars, build_notice, check_particulars, decision_letter
from archiver.rti.register import applicant_of, get_case
from tests.rti_fixtures import APPLICANT, actor, event, ist, register


def context(catalog: Catalog, config: Config, at: datetime) -> NoticeContext:
    case = get_case(catalog, "DOWR/R/2026/00012")
    applicant = applicant_of(catalog, actor(catalog, "cpio", "rti notice"), "DOWR/R/2026/00012")
    return NoticeContext(config.rti, rti_rules(config).timelines, case, applicant, ist_day(at), at)


def test_the_reply_carries_the_dopt_fields(staffed: Catalog, rti_config: Config) -> None:
    register(staffed, rti_config)
    event(staffed, rti_config, "decision", ist(2026, 3, 20), outcome="disclosed", sections=[])
    letter = decision_letter(context(staffed, rti_config, ist(2026, 3, 20)), DecisionSummary(disclosed=17))
    text = render_text(letter)
    for line in (
        "DEPARTMENT OF WATER RESOURCES",
        "Reply under the Right to Information Act, 2005",
        "Dated 20/03/2026",
        f"    {APPLICANT['name']}",
        "RTI registration number: DOWR/R/2026/00012",
        "Date of receipt:         02/03/2026",
        "CPIO:                    A. K. Verma, Under Secretary and CPIO",
        "CPIO's telephone:        011-23710000",
        "CPIO's e-mail:           cpio-dowr@example.gov.in",
        "Designation: Director and First Appellate Authority",
        "Address:     Room 210, Shram Shakti Bhawan, New Delhi 110001",
        "E-mail:      faa-dowr@example.gov.in",
        "(A. K. Verma)",
    ):
        assert line in text, line
    # the closing line: a first appeal within 30 days; counted from 20/03/2026 the last day is
    # 19/04/2026, a Sunday, so Monday 20/04/2026
    flat = " ".join(text.split())
    assert "The information sought is provided: 17 record(s) disclosed, 0 disclosed with parts severed, 0 withheld. The records disclosed are enclosed." in flat
    assert "a first appeal lies to the First Appellate Authority named below, within thirty days of the receipt of this letter (RTI s.19(1)): if you receive it on 20/03/2026, the last day is 20/04/2026 (the office is closed on 19/04/2026)." in flat
    assert "A second appeal lies to the Central Information Commission within ninety days" in flat


def test_a_partial_disclosure_carries_the_s10_2_notice_a_to_e(staffed: Catalog, rti_config: Config) -> None:
    register(staffed, rti_config)
    event(
        staffed, rti_config, "decision", ist(2026, 3, 20), outcome="partly_disclosed", sections=["8(1)(j)"],
        reasons="the names and handles of citizens who replied are personal information", findings="the three replies are by private citizens (captures 14 to 16)",
    )
    ctx = context(staffed, rti_config, ist(2026, 3, 20))
    statement = further_fees(rti_rules(rti_config).fee_table, Copies(pages=12), bpl=False, late=False)
    flat = " ".join(render_text(build_notice("partial", ctx, summary=DecisionSummary(12, 2, 3, ("8(1)(j)",)), statement=statement)).split())
    assert "(a) only part of the record requested is being provided, after severance of the record containing information that is exempt from disclosure;" in flat
    assert ("(b) the reasons for the decision: the severed part is exempt under RTI s.8(1)(j). The names and handles of citizens who replied are personal information. "
            "Findings on material questions of fact, with the material on which they are based: The three replies are by private citizens (captures 14 to 16).") in flat
    assert "(c) the decision is given by A. K. Verma, Under Secretary and CPIO;" in flat
    assert "(d) the fees calculated are Rs 24, as set out below; please deposit that amount by Indian Postal Order" in flat
    assert "(e) you may seek a review of the decision not to disclose the severed part, of the fee charged, or of the form of access, by a first appeal to S. Iyer, Director and First Appellate Authority, Room 210" in flat
    assert "the last day is 20/04/2026" in flat and "a second appeal lies to the Central Information Commission (RTI s.19(3))" in flat
    assert "copies on paper (A-4/A-3) 12 pages Rs 2 per page Rs 24 RTI Rules 2012 r.4(a)" in flat


def test_a_refusal_carries_the_s7_8_particulars(staffed: Catalog, rti_config: Config) -> None:
    register(staffed, rti_config)
    event(staffed, rti_config, "decision", ist(2026, 3, 25), outcome="refused", sections=["8(1)(g)"], reasons="the messages identify a source of information given in confidence to the police")
    flat = " ".join(render_text(build_notice("rejection", context(staffed, rti_config, ist(2026, 3, 25)))).split())
    assert "Your request is rejected, for the reasons below (RTI s.7(8)(i))." in flat
    assert "1. Withheld under RTI s.8(1)(g): The messages identify a source of information given in confidence to the police." in flat
    # 25/03/2026 + 30 days = 24/04/2026, a Friday
    assert "You may appeal against this decision (RTI s.7(8)(ii)): a first appeal lies to the First Appellate Authority named below (s.7(8)(iii)), within thirty days" in flat
    assert "the last day is 24/04/2026." in flat
    with pytest.raises(RtiError) as caught:
        build_notice("partial", context(staffed, rti_config, ist(2026, 3, 25)))
    assert caught.value.rule == "RTI s.10(2)" and "this request was decided refused" in caught.value.message


def test_the_reply_to_a_refused_request_claims_no_enclosure(staffed: Catalog, rti_config: Config) -> None:
    register(staffed, rti_config)
    event(staffed, rti_config, "decision", ist(2026, 3, 25), outcome="refused", sections=["8(1)(g)"], reasons="the messages identify a source of information given in confidence to the police")
    text = render_text(decision_letter(context(staffed, rti_config, ist(2026, 3, 25)), DecisionSummary(withheld=5, sections=("8(1)(g)",))))
    flat = " ".join(text.split())
    assert "The information sought cannot be provided. No record is disclosed: the 5 record(s) concerned are withheld, under RTI s.8(1)(g)." in flat
    assert "enclosed" not in flat and "record(s) disclosed" not in flat
    # the s.7(8) notice: the reasons, the period for an appeal, the appellate authority's particulars
    assert "Your request is rejected, for the reasons below (RTI s.7(8)(i))." in flat
    assert "1. Withheld under RTI s.8(1)(g): The messages identify a source of information given in confidence to the police." in flat
    assert "(s.7(8)(iii)), within thirty days of the receipt of this letter (RTI s.19(1)): if you receive it on 25/03/2026, the last day is 24/04/2026." in flat
    assert "Name:        S. Iyer" in text and "Designation: Director and First Appellate Authority" in text


def test_the_reply_states_a_part_payment_and_the_balance_as_positive_amounts(staffed: Catalog, rti_config: Config) -> None:
    rules = rti_rules(rti_config)
    register(staffed, rti_config)
    asked = further_fees(rules.fee_table, Copies(pages=40, media=1), bpl=False, late=False)
    event(staffed, rti_config, "fee_intimated", ist(2026, 3, 5), "fee intimation", command="rti notice", statement=asked.to_json())
    event(staffed, rti_config, "fee_paid", ist(2026, 3, 9), "paid", command="rti record", amount_inr="80", on="2026-03-09")
    event(staffed, rti_config, "decision", ist(2026, 3, 20), outcome="disclosed", sections=[])
    case = get_case(staffed, "DOWR/R/2026/00012")
    statement = recorded_fees(case, case.deadlines(rules.timelines, ist(2026, 3, 20)), "central")
    text = render_text(decision_letter(context(staffed, rti_config, ist(2026, 3, 20)), DecisionSummary(disclosed=3), statement))
    flat = " ".join(text.split())
    assert "The fees calculated are Rs 130, as set out below; Rs 80 was paid on 09/03/2026, and the balance of Rs 50 is payable: please deposit that amount by Indian Postal Order" in flat
    assert "Fees calculated Rs 130 less: paid on 09/03/2026 Rs 80 RTI s.7(3)(a) Balance payable Rs 50" in flat
    assert "Rs -" not in text


def test_a_late_reply_refunds_each_payment_made_before_it(staffed: Catalog, rti_config: Config) -> None:
    rules = rti_rules(rti_config)
    register(staffed, rti_config)
    for asked_at, copies, paid_at, amount in ((ist(2026, 3, 5), Copies(pages=40), ist(2026, 3, 9), "80"), (ist(2026, 3, 12), Copies(media=1), ist(2026, 3, 16), "50")):
        asked = further_fees(rules.fee_table, copies, bpl=False, late=False)
        event(staffed, rti_config, "fee_intimated", asked_at, "fee intimation", command="rti notice", statement=asked.to_json())
        event(staffed, rti_config, "fee_paid", paid_at, "paid", command="rti record", amount_inr=amount, on=ist_day(paid_at).isoformat())
    # the reply was due on 09/04/2026 (30 days and the two pauses of 4 days each); it is given on 30/04/2026
    event(staffed, rti_config, "decision", ist(2026, 4, 30), outcome="disclosed", sections=[])
    case = get_case(staffed, "DOWR/R/2026/00012")
    statement = recorded_fees(case, case.deadlines(rules.timelines, ist(2026, 4, 30)), "central")
    assert statement is not None and statement.total == 0
    text = render_text(decision_letter(context(staffed, rti_config, ist(2026, 4, 30)), DecisionSummary(disclosed=3), statement))
    flat = " ".join(text.split())
    assert (
        "No fee is payable: the information is free of charge: the time limit of s.7(1) was not met (RTI s.7(6)); "
        "the Rs 80 paid on 09/03/2026 and the Rs 50 paid on 16/03/2026 are refundable, as no fee is chargeable (RTI s.7(6))."
    ) in flat
    assert "Fees calculated Rs 130 Fee chargeable nil" in flat
    assert "paid on 09/03/2026 Rs 80 RTI s.7(3)(a) paid on 16/03/2026 Rs 50 RTI s.7(3)(a) Refundable Rs 130 RTI s.7(6)" in flat
    assert "The reply is given after the time limit of section 7(1): the information is provided free of charge (RTI s.7(6))." in flat
    assert "please deposit" not in flat and "Balance payable" not in flat and "Rs -" not in text


def test_the_fee_intimation_gives_the_calculation_and_the_pause(staffed: Catalog, rti_config: Config) -> None:
    register(staffed, rti_config)
    statement = further_fees(rti_rules(rti_config).fee_table, Copies(pages=40, media=1, postage_inr=Decimal(60)), bpl=False, late=False)
    flat = " ".join(render_text(build_notice("fee", context(staffed, rti_config, ist(2026, 3, 10)), statement=statement)).split())
    assert "Intimation of further fees under section 7(3) of the Right to Information Act, 2005" in flat
    assert "can be provided on payment of further fees of Rs 190, calculated as below (RTI s.7(3)(a))." in flat
    assert "Total payable Rs 190" in flat
    assert "The period from the despatch of this letter to the payment of the fees is excluded from the thirty days within which the reply is due (RTI s.7(3)(a))." in flat
    # the right to review the fee: 10/03/2026 + 30 = 09/04/2026, a Thursday
    assert "(RTI s.7(3)(b)), within thirty days of the receipt of this letter (RTI s.19(1)): if you receive it on 10/03/2026, the last day is 09/04/2026" in flat


def test_third_party_notice_and_decision(staffed: Catalog, rti_config: Config) -> None:
    register(staffed, rti_config)
    party = ThirdPartyParticulars("Flood Relief Volunteers Trust", "Boring Road\nPatna 800001", "the direct messages the Trust sent to the department in March 2026")
    event(staffed, rti_config, "third_party_notice", ist(2026, 3, 5), "notice", command="rti notice", third_party=(party.name, party.address, party.information))
    text = render_text(build_notice("third-party", context(staffed, rti_config, ist(2026, 3, 5)), third_party=party))
    flat = " ".join(text.split())
    assert "    Flood Relief Volunteers Trust\n    Boring Road\n    Patna 800001\n" in text
    assert APPLICANT["name"] not in text  # the third party is not told who asked
    assert "within 10 days of the receipt of this notice (RTI s.11(2))" in flat
    assert "The Public Information Officer intends to disclose this information, and gives you this notice under section 11(1) of the Act." in flat
    event(staffed, rti_config, "representation_received", ist(2026, 3, 12), "received", command="rti record")
    event(staffed, rti_config, "decision", ist(2026, 4, 2), "the public interest in the Trust's messages outweighs any harm", outcome="disclosed", sections=[], reasons="the public interest outweighs any harm")
    flat = " ".join(render_text(build_notice("third-party-decision", context(staffed, rti_config, ist(2026, 4, 2)), third_party=party)).split())
    # order of 02/04/2026: the third party's appeal within 30 days, 02/05/2026 a Saturday, so Monday 04/05/2026
    assert "the Public Information Officer decided on 02/04/2026 to disclose the information" in flat
    assert "You are entitled to prefer an appeal under section 19 against this decision (RTI s.11(4))" in flat
    assert "by 04/05/2026. The information will not be disclosed before that day has passed." in flat


def test_html_escapes_every_value(staffed: Catalog, rti_config: Config) -> None:
    register(staffed, rti_config)
    event(staffed, rti_config, "decision", ist(2026, 3, 20), outcome="refused", sections=["9"], reasons="<b>copyright</b> of a photographer & others")
    page = render_html(build_notice("reply", context(staffed, rti_config, ist(2026, 3, 20))))
    assert page.startswith("<!DOCTYPE html>")
    assert "&lt;b&gt;copyright&lt;/b&gt; of a photographer &amp; others." in page and "<b>copyright" not in page
    assert "<dt>RTI registration number</dt><dd>DOWR/R/2026/00012</dd>" in page


def test_a_notice_needs_the_officers_particulars_and_a_decision(staffed: Catalog, rti_config: Config) -> None:
    with pytest.raises(ConfigError) as caught:
        check_particulars(RtiSettings.model_validate({}))
    assert "the configuration lacks rti.public_authority, rti.cpio (name, designation, phone, email), rti.faa (name, designation, address, phone, email)" in caught.value.message
    register(staffed, rti_config)
    with pytest.raises(RtiError) as refused:
        build_notice("reply", context(staffed, rti_config, ist(2026, 3, 5)))
    assert refused.value.message.startswith("DOWR/R/2026/00012: a reply notice states a decision, and none is recorded")


def test_the_late_reply_says_it_is_free(staffed: Catalog, rti_config: Config) -> None:
    register(staffed, rti_config)
    event(staffed, rti_config, "decision", ist(2026, 4, 6), outcome="disclosed", sections=[])
    flat = " ".join(render_text(decision_letter(context(staffed, rti_config, ist(2026, 4, 6)), None)).split())
    assert "The reply is given after the time limit of section 7(1): the information is provided free of charge (RTI s.7(6))." in flat
    assert date(2026, 4, 6) == ist_day(ist(2026, 4, 6))
