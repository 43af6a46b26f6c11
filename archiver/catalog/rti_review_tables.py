"""The catalog's tables of a request's scope and review: what it concerns, and what is decided.

- ``rti_scope``: each saved search (query text and filters) and each pick of record ids added to
  a request, with who and when; ``rti_scope_records``: the records they resolved to (a saved
  search adds what it finds each time it is run again).
- ``rti_review_records``: the review set, the scope with its threads expanded.
- ``rti_suggestions``: the redaction suggestions made for the review set, and the reviewer's
  answer to each (accepted, edited, rejected).
- ``rti_decisions`` and ``rti_redactions``: one decision per record in force, the latest;
  decisions are appended, never changed, so the history of a review stays readable.

These tables hold citizens' text where a redaction names it (as the record dataset does); the
audit log never does: it records counts, record ids and clauses.
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, DateTime, ForeignKey, Integer, PrimaryKeyConstraint, String, Table, Text

from archiver.catalog.tables import metadata

__all__ = ["rti_scope", "rti_scope_records", "rti_review_records", "rti_suggestions", "rti_decisions", "rti_redactions", "REVIEW_TABLES"]

rti_scope = Table(
    "rti_scope",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", Integer, ForeignKey("rti_requests.id"), nullable=False, index=True),
    Column("kind", String(10), nullable=False),  # search, or records
    Column("query", Text),  # a saved search's text (search only)
    Column("filters", JSON),  # its filters, KEY=VALUE as given (search only)
    Column("found", Integer, nullable=False),  # records it resolved to when last run
    Column("added_by", String(100), nullable=False),
    Column("added_at", DateTime(timezone=True), nullable=False),
    Column("run_at", DateTime(timezone=True), nullable=False),  # when it was last run
)

rti_scope_records = Table(
    "rti_scope_records",
    metadata,
    Column("request_id", Integer, ForeignKey("rti_requests.id"), nullable=False),
    Column("record_id", String(600), nullable=False),
    Column("scope_id", Integer, ForeignKey("rti_scope.id"), nullable=False),  # what first brought it in
    Column("added_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("request_id", "record_id", name="pk_rti_scope_records"),
)

rti_review_records = Table(
    "rti_review_records",
    metadata,
    Column("request_id", Integer, ForeignKey("rti_requests.id"), nullable=False),
    Column("record_id", String(600), nullable=False),
    Column("thread_id", String(600), nullable=False),
    Column("by_department", Boolean, nullable=False),
    Column("in_scope", Boolean, nullable=False),  # false: brought in by its thread
    Column("added_by", String(100), nullable=False),
    Column("added_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("request_id", "record_id", name="pk_rti_review_records"),
)

rti_suggestions = Table(
    "rti_suggestions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", Integer, ForeignKey("rti_requests.id"), nullable=False, index=True),
    Column("record_id", String(600), nullable=False),
    Column("version_id", String(100), nullable=False),
    Column("field", String(60), nullable=False),
    Column("span_start", Integer, nullable=False),
    Column("span_end", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("confidence", String(10), nullable=False),
    Column("reason", Text, nullable=False),
    Column("clause", String(20), nullable=False),
    Column("status", String(10), nullable=False),  # open, accepted, edited, rejected
    Column("answered_by", String(100)),
    Column("answered_at", DateTime(timezone=True)),
    Column("answer_reason", Text),
    Column("made_at", DateTime(timezone=True), nullable=False),
)

rti_decisions = Table(
    "rti_decisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", Integer, ForeignKey("rti_requests.id"), nullable=False, index=True),
    Column("record_id", String(600), nullable=False),
    Column("kind", String(10), nullable=False),  # disclose, withhold, redact
    Column("clauses", JSON, nullable=False),  # the exemptions a record is withheld under
    Column("reasons", Text, nullable=False),
    Column("override", JSON),  # s.8(2): {"clauses": [...], "reasons": ..., "recorded_by": ..., "recorded_at": ...}
    Column("decided_by", String(100), nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=False),
)

rti_redactions = Table(
    "rti_redactions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("decision_id", Integer, ForeignKey("rti_decisions.id"), nullable=False, index=True),
    Column("version_id", String(100), nullable=False),
    Column("field", String(60), nullable=False),
    Column("span_start", Integer, nullable=False),
    Column("span_end", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("clause", String(20), nullable=False),
    Column("origin", String(10), nullable=False),  # accepted, edited, added
    Column("kind", String(40)),
    Column("reason", Text, nullable=False),
    Column("suggestion_id", Integer, ForeignKey("rti_suggestions.id")),
)

#: in the order they are created (and dropped in reverse)
REVIEW_TABLES = (rti_scope, rti_scope_records, rti_review_records, rti_suggestions, rti_decisions, rti_redactions)
