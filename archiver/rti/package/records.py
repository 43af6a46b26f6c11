"""The records as CSV and JSON, one row per captured version, severed as the copy requires.

The applicant's rows hold no trace of a withheld record but its item number, kind, decision and
clauses; a severed part reads ``[redacted s.CLAUSE]``. The internal rows add the version, the
WARC pointer, the reasons and every redaction with its text.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import orjson

from archiver.rti.package.evidence import ist, utc_text
from archiver.rti.package.view import Copy, ThreadView

__all__ = ["record_rows", "write_csv", "write_json", "redaction_log_rows"]

_COLUMNS = [
    "item", "thread", "platform", "kind", "by_department", "decision", "clauses", "author_name", "author_handle", "author_id",
    "created_at_utc", "created_at_ist", "captured_at_utc", "captured_at_ist", "edited", "deleted_on_platform", "text", "url",
    "media", "record_id", "parent_item",
]
_INTERNAL = ["version_id", "warc_file", "warc_offset", "warc_length", "warc_record_id", "reasons", "decided_by", "override"]


def record_rows(threads: list[ThreadView], copy: Copy) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for thread in threads:
        item_of = {i.record.record_id: i.item for i in thread.items}
        for item in thread.items:
            r, d = item.record, item.decision
            row: dict[str, Any] = {name: "" for name in _COLUMNS}
            row.update(item=item.item, thread=thread.title, platform=r.platform, kind=r.kind, by_department=r.by_department,
                       decision={"disclose": "disclosed", "withhold": "withheld", "redact": "disclosed in part"}[d.kind],
                       clauses=", ".join(item.clauses), parent_item=item_of.get(r.parent_id or "", ""))
            if not item.withheld:
                row.update(
                    author_name=item.value("author_name"), author_handle=item.value("author_handle"), author_id=item.value("author_id"),
                    created_at_utc=utc_text(r.created_at), created_at_ist=ist(r.created_at),
                    captured_at_utc=utc_text(r.captured_at), captured_at_ist=ist(r.captured_at),
                    edited=utc_text(r.edited_at), deleted_on_platform=r.deleted_on_platform, text=item.value("text"), url=item.value("url"),
                    media="; ".join(f"{m.kind}: {item.value(f'media.{n}.alt_text')} {item.value(f'media.{n}.url')}".strip() for n, m in enumerate(r.media)),
                    record_id=item.value("record_id"),
                )
            if copy == "internal":
                row.update(
                    version_id=r.version_id, warc_file=r.pointer.file, warc_offset=r.pointer.offset, warc_length=r.pointer.length,
                    warc_record_id=r.warc_record_id, reasons=d.reasons, decided_by=d.decided_by,
                    override=(f"s.8(2) over {', '.join(d.override.clauses)}: {d.override.reasons} ({d.override.recorded_by})" if d.override else ""),
                )
            rows.append(row)
    return rows


def write_csv(rows: list[dict[str, Any]], copy: Copy) -> bytes:
    columns = _COLUMNS + (_INTERNAL if copy == "internal" else [])
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    # a byte-order mark so that spreadsheet programs read the Devanagari as UTF-8
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def write_json(rows: list[dict[str, Any]], meta: dict[str, Any]) -> bytes:
    return orjson.dumps({**meta, "records": rows}, option=orjson.OPT_INDENT_2, default=str) + b"\n"


def redaction_log_rows(threads: list[ThreadView], copy: Copy) -> list[dict[str, Any]]:
    """Every severance (the redaction log of R5); the applicant's leaves out the severed text."""
    rows: list[dict[str, Any]] = []
    for thread in threads:
        for item in thread.items:
            d = item.decision
            if d.kind == "withhold":
                rows.append({"item": item.item, "field": "(whole record)", "clause": ", ".join(d.clauses), "origin": "withheld", "kind": "", "characters": "", "text": "", "reason": d.reasons if copy == "internal" else ""})
                continue
            for red in d.redactions:
                if red.version_id != item.record.version_id:
                    continue
                rows.append({
                    "item": item.item, "field": red.field, "clause": red.clause or "", "origin": red.origin, "kind": red.kind or "",
                    "characters": red.end - red.start, "text": red.text if copy == "internal" else "", "reason": red.reason if copy == "internal" else "",
                })
            if copy == "internal":
                for rej in d.rejected:
                    if rej.version_id == item.record.version_id:
                        rows.append({"item": item.item, "field": rej.field, "clause": "", "origin": "rejected suggestion", "kind": rej.kind,
                                     "characters": rej.end - rej.start, "text": "", "reason": rej.reason})
    return rows
