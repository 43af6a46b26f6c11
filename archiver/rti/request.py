"""A request as it arrives, and the checks it must pass to enter the register.

Pure: ``check_new_request`` refuses what the rule book refuses (a receipt in the future, a
malformed registration number, a transfer dated after the receipt) with an ``RtiError`` naming
the field and the rule, and returns warnings for what is allowed but needs a follow-up (an
application fee not yet paid).

The applicant's particulars are personal data: the Act asks for no more than is needed to reply
(s.6(2)), so the register keeps name, address and one contact, and ``Applicant`` never shows
them in its ``repr`` (so that a log line or a traceback cannot carry them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from archiver.errors import RtiError
from archiver.rti.deadlines import format_instant, ist_day
from archiver.rti.fees import FeeTable, application_fee_due, format_inr

__all__ = ["MODES", "OUTCOMES", "EXEMPTIONS", "Applicant", "NewRequest", "check_new_request", "check_registration_no", "cite_section"]

#: how a request reaches the public authority
MODES = ("online_portal", "post", "by_hand", "email", "via_apio")
#: what a decision does
OUTCOMES = ("disclosed", "partly_disclosed", "refused")
#: sections under which information may be withheld: s.8(1)(a)..(j), s.9 (copyright of a
#: person other than the State), s.11 (third-party information), s.24 (excluded organisations)
EXEMPTIONS = (*(f"8(1)({letter})" for letter in "abcdefghij"), "9", "11", "24")


def cite_section(section: str) -> str:
    """``8(1)(j)`` -> ``RTI s.8(1)(j)``."""
    return f"RTI s.{section}"


@dataclass(frozen=True, slots=True)
class Applicant:
    """Name, address and contact, as the applicant gave them. Never shown in ``repr``."""

    name: str = field(repr=False)
    address: str = field(repr=False)
    contact: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class NewRequest:
    registration_no: str
    received_at: datetime
    mode: str
    subject: str
    applicant: Applicant
    life_liberty: bool = False
    bpl: bool = False
    fee_paid_inr: Decimal = Decimal(0)
    application_on: date | None = None
    transferred_from: str | None = None
    transferred_on: date | None = None

    @property
    def via_apio(self) -> bool:
        return self.mode == "via_apio"


def check_registration_no(registration_no: str, pattern: str) -> None:
    if not re.fullmatch(pattern, registration_no):
        raise RtiError(
            f"registration_no {registration_no!r} does not match the registration pattern {pattern} "
            "(rti.registration_pattern in the config; e.g. DOWR/R/2026/00012 for the default). "
            "Copy the number from the application or the RTI Online portal, or set the department's own pattern (docs/rti.md).",
            request=registration_no, field="registration_no", rule="rti.registration_pattern",
        )


def check_new_request(new: NewRequest, *, now: datetime, pattern: str, fee_table: FeeTable) -> list[str]:
    """Refuse what cannot be registered; return warnings for what can but needs a follow-up."""
    regno = new.registration_no
    check_registration_no(regno, pattern)
    if new.received_at.utcoffset() is None:
        raise RtiError(f"{regno}: received_at has no time zone; give the instant of receipt in IST or UTC.", request=regno, field="received_at", rule="RTI s.7(1)")
    if new.received_at > now:
        raise RtiError(
            f"{regno}: received_at {format_instant(new.received_at)} is in the future (now {format_instant(now)}). The 30 days of RTI s.7(1) run "
            "from the day the public authority received the request, stamped on receipt: give the date and time it was received.",
            request=regno, field="received_at", rule="RTI s.7(1)",
        )
    if new.mode not in MODES:
        raise RtiError(f"{regno}: mode {new.mode!r} is not one of {', '.join(MODES)}.", request=regno, field="mode", rule="RTI s.6(1)")
    if not new.subject.strip():
        raise RtiError(f"{regno}: the subject is empty; write the information the applicant asks for, as in the application.", request=regno, field="subject", rule="RTI s.6(1)")
    if not new.applicant.name.strip() or not new.applicant.address.strip():
        raise RtiError(
            f"{regno}: the applicant's name and address are needed to reply; nothing more may be asked (RTI s.6(2)).",
            request=regno, field="applicant", rule="RTI s.6(2)",
        )
    received_on = ist_day(new.received_at)
    if new.application_on is not None and new.application_on > received_on:
        raise RtiError(
            f"{regno}: application_on {new.application_on.isoformat()} is after the receipt on {received_on.isoformat()}; an application is dated on or before it arrives.",
            request=regno, field="application_on", rule="RTI s.6(1)",
        )
    if (new.transferred_from is None) != (new.transferred_on is None):
        raise RtiError(
            f"{regno}: a transferred request needs both the public authority it came from (--transferred-from) and the date of the transfer (--transferred-on).",
            request=regno, field="transferred_from", rule="RTI s.6(3)",
        )
    if new.transferred_on is not None and new.transferred_on > received_on:
        raise RtiError(
            f"{regno}: transferred_on {new.transferred_on.isoformat()} is after this authority's receipt on {received_on.isoformat()}; "
            "the transfer precedes the receipt, from which this authority's 30 days run (RTI s.6(3)).",
            request=regno, field="transferred_on", rule="RTI s.6(3)",
        )
    if new.fee_paid_inr < 0:
        raise RtiError(f"{regno}: fee_paid_inr cannot be negative.", request=regno, field="fee_paid_inr", rule=fee_table.application_fee.cite)
    warnings = []
    due = application_fee_due(fee_table, new.fee_paid_inr, bpl=new.bpl)
    if due:
        warnings.append(
            f"{regno}: {format_inr(due)} of the application fee ({fee_table.application_fee.cite}) is not recorded as paid and the applicant "
            "is not marked below the poverty line: without the fee or BPL proof the application is not valid (RTI s.6(1), s.7(5)); ask for it."
        )
    return warnings
