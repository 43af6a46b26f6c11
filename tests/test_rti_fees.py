"""The fee calculator on the central and Haryana tables, the waivers, and the fee file's errors."""

from __future__ import annotations

from decimal import Decimal

import pytest

from archiver.errors import ConfigError
from archiver.rti.fees import DEFAULT_FEES_PATH, Copies, application_fee_due, further_fees, load_fee_tables, parse_fee_tables

TABLES = load_fee_tables()
CENTRAL = TABLES.table("central")
HARYANA = TABLES.table("haryana")


def test_central_fees_itemised_with_their_rules() -> None:
    # 40 pages x Rs 2 = 80; 1 CD = 50; 150 minutes of inspection: the first 60 free, then 90
    # minutes = 2 hours or part at Rs 5 = 10; postage Rs 60 > Rs 50, so charged in full = 60.
    statement = further_fees(CENTRAL, Copies(pages=40, media=1, inspection_minutes=150, postage_inr=Decimal(60)), bpl=False, late=False)
    assert [(line.item, line.amount, line.cite.split(":")[0]) for line in statement.lines] == [
        ("copies on paper (A-4/A-3)", Decimal(80), "RTI Rules 2012 r.4(a)"),
        ("CD, DVD or USB drive", Decimal(50), "RTI Rules 2012 r.4(d)"),
        ("inspection of records", Decimal(10), "RTI Rules 2012 r.4(f)"),
        ("postal charges", Decimal(60), "RTI Rules 2012 r.4(g)"),
    ]
    assert statement.total == Decimal(200) and statement.waiver is None
    assert statement.lines[2].quantity == "150 minutes (2 charged hours after the first 60 minutes)"
    # the media rate is the floppy rate applied to a CD: uncertain, and the statement says so
    assert statement.uncertain


def test_postage_up_to_50_and_the_first_hour_are_free() -> None:
    statement = further_fees(CENTRAL, Copies(pages=3, inspection_minutes=60, postage_inr=Decimal(50)), bpl=False, late=False)
    assert [line.amount for line in statement.lines] == [Decimal(6), Decimal(0), Decimal(0)]
    assert statement.lines[2].quantity == "Rs 50 (not charged: not above Rs 50)"
    assert statement.total == Decimal(6) and not statement.uncertain


def test_an_hour_and_a_minute_of_inspection_is_charged_one_hour() -> None:
    assert further_fees(CENTRAL, Copies(inspection_minutes=61), bpl=False, late=False).total == Decimal(5)


def test_bpl_and_late_replies_pay_nothing() -> None:
    copies = Copies(pages=40)
    bpl = further_fees(CENTRAL, copies, bpl=True, late=False)
    assert (bpl.subtotal, bpl.total) == (Decimal(80), Decimal(0))
    assert bpl.waiver == "no fee is payable by an applicant below the poverty line (RTI s.7(5) proviso; RTI Rules 2012 r.5)"
    late = further_fees(CENTRAL, copies, bpl=False, late=True)
    assert late.total == Decimal(0)
    assert late.waiver == "the information is free of charge: the time limit of s.7(1) was not met (RTI s.7(6))"


def test_application_fee_per_jurisdiction() -> None:
    assert (CENTRAL.application_fee.inr, CENTRAL.application_fee.cite) == (Decimal(10), "RTI Rules 2012 r.3")
    assert HARYANA.application_fee.inr == Decimal(50)
    assert application_fee_due(CENTRAL, Decimal(10), bpl=False) == 0
    assert application_fee_due(HARYANA, Decimal(10), bpl=False) == Decimal(40)
    assert application_fee_due(HARYANA, Decimal(0), bpl=True) == 0


def test_unconfirmed_state_rates_are_marked() -> None:
    statement = further_fees(HARYANA, Copies(pages=2), bpl=False, late=False)
    assert statement.total == Decimal(4) and statement.uncertain
    assert statement.to_json()["lines"][0] == {
        "item": "copies on paper (A-4/A-3)", "quantity": "2 pages", "rate": "Rs 2 per page", "amount_inr": "4",
        "cite": "Haryana RTI Rules (per page; rate not confirmed)", "status": "U",
    }


def test_an_unknown_jurisdiction_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"rti.jurisdiction is 'kerala', but .* has fee tables for central, haryana only"):
        TABLES.table("kerala")


def test_negative_quantities_are_refused() -> None:
    with pytest.raises(ValueError, match="pages cannot be negative"):
        Copies(pages=-1)


def test_fee_file_problems_are_named_with_their_line() -> None:
    text = DEFAULT_FEES_PATH.read_text(encoding="utf-8").replace("application_fee: {inr: 10,", "application_fee: {inr: ten,", 1).replace("    page: {inr: 2,", "    pages: {inr: 2,", 1)
    with pytest.raises(ConfigError) as caught:
        parse_fee_tables(text, "rti_fees.yaml")
    message = caught.value.message
    assert message.startswith("rti_fees.yaml has 3 problem(s):\n")
    assert "  - jurisdictions.central.application_fee.inr (line 23): found 'ten'; allowed: a number of rupees, 0 or more. Write rupees without the sign: 10, or 2.50." in message
    assert "  - jurisdictions.central.page (line 19): found nothing; allowed: a mapping with inr, cite and status. Add page." in message
    assert "  - jurisdictions.central.pages (line 25): found an unknown key" in message and "Did you mean page?" in message
