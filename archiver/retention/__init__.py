"""Retention: which records are kept how long, under which rule.

``schedule`` reads the department's retention schedule (``schemas/retention.yaml``) and tags each
record with its series, CSMOP class, review date and action. docs/retention.md explains the
schedule and the date rules.
"""

from __future__ import annotations

from archiver.retention.schedule import (
    ACTIONS,
    DEFAULT_SCHEDULE_PATH,
    RECORD_KINDS,
    RETENTION_CLASSES,
    Authority,
    RecordFacts,
    RetentionTag,
    Schedule,
    Series,
    load_schedule,
    parse_schedule,
)

__all__ = [
    "ACTIONS",
    "DEFAULT_SCHEDULE_PATH",
    "RECORD_KINDS",
    "RETENTION_CLASSES",
    "Authority",
    "RecordFacts",
    "RetentionTag",
    "Schedule",
    "Series",
    "load_schedule",
    "parse_schedule",
]
