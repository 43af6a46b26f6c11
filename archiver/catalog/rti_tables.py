"""The catalog's tables of RTI requests: the register, its applicants and third parties, its events.

The applicant's and third parties' particulars are personal data: they sit in tables of their
own, read only for the roles that need them (``archiver.access.roles``), and never copied into
the audit log or the events. Events are append-only, as the audit log is: each transition of a
request is kept with who, when and why.
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Date, DateTime, ForeignKey, Integer, Numeric, String, Table, Text

from archiver.catalog.tables import metadata

__all__ = ["rti_requests", "rti_applicants", "rti_third_parties", "rti_events"]

rti_requests = Table(
    "rti_requests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("registration_no", String(60), nullable=False, unique=True),
    Column("received_at", DateTime(timezone=True), nullable=False),  # receipt by the public authority (the APIO's, if via one)
    Column("mode", String(20), nullable=False),  # online_portal, post, by_hand, email, via_apio
    Column("application_on", Date),  # the date written on the application
    Column("subject", Text, nullable=False),
    Column("life_liberty", Boolean, nullable=False),
    Column("bpl", Boolean, nullable=False),
    Column("fee_paid_inr", Numeric(10, 2), nullable=False),
    Column("transferred_from", String(255)),  # the public authority that transferred it here (s.6(3))
    Column("transferred_on", Date),
    Column("state", String(30), nullable=False),
    Column("outcome", String(20)),  # disclosed, partly_disclosed, refused
    Column("hold_open", Boolean, nullable=False),  # its records must stay on hold with no end yet
    Column("hold_until", Date),  # else: on hold up to and including this day (IST)
    Column("registered_at", DateTime(timezone=True), nullable=False),
    Column("registered_by", String(100), nullable=False),
)

rti_applicants = Table(
    "rti_applicants",
    metadata,
    Column("request_id", Integer, ForeignKey("rti_requests.id"), primary_key=True),
    Column("name", String(255), nullable=False),
    Column("address", Text, nullable=False),
    Column("contact", String(255)),  # e-mail or telephone, as the applicant gave it
)

rti_third_parties = Table(
    "rti_third_parties",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", Integer, ForeignKey("rti_requests.id"), nullable=False),
    Column("name", String(255), nullable=False),
    Column("address", Text, nullable=False),
    Column("information", Text, nullable=False),  # what the notice says is to be disclosed
)

rti_events = Table(
    "rti_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", Integer, ForeignKey("rti_requests.id"), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("happened_at", DateTime(timezone=True), nullable=False),  # when it happened (e.g. the fee was paid)
    Column("recorded_at", DateTime(timezone=True), nullable=False),  # when it was entered
    Column("actor", String(100), nullable=False),
    Column("from_state", String(30)),
    Column("to_state", String(30)),
    Column("reason", Text),
    Column("details", JSON),
)
