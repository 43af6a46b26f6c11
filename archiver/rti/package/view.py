"""What each copy of a package shows of each record: pure, shared by the HTML, PDF, CSV and
JSON writers, so that every format severs exactly the same thing.

Two copies are made of a package:

- ``applicant``: withheld records appear only as a line saying so, with their clauses; each
  severed span is a box (``Segment.clause`` set, ``text`` empty) with its clause, and every other
  occurrence of a severed string anywhere (``Masker``) is boxed too;
- ``internal`` (for the first appellate authority, the Commission and the court): everything, the
  severed spans shown highlighted with their clause, withheld records shown with their clauses.

Records are numbered for reference in the reply: thread ``T3``, item ``T3.2`` (and ``T3.2v2`` for
a second captured version), so that a record can be named without its platform id, which may
itself embed a citizen's id.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Literal

from archiver.rti.redact import Masker, Segment
from archiver.rti.review import CLAUSES, Decision, ReviewRecord, ReviewSet, record_fields

__all__ = ["Copy", "ItemView", "ThreadView", "build_views", "plain", "clause_text", "IDENTITY_FIELDS"]

Copy = Literal["applicant", "internal"]
#: fields shown for a record besides those a redaction can sever
IDENTITY_FIELDS = ("record_id", "parent_id", "root_id")
_EARLY = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class ItemView:
    item: str
    record: ReviewRecord
    decision: Decision
    depth: int
    #: field name → segments; empty for a record withheld in this copy
    fields: dict[str, list[Segment]]
    withheld: bool

    @property
    def clauses(self) -> list[str]:
        """Every clause this item's severances and withholding rest on."""
        found = list(self.decision.clauses) if self.decision.kind == "withhold" else []
        for segments in self.fields.values():
            for seg in segments:
                if seg.clause:
                    found.extend(c for c in seg.clause.split(", ") if c not in found)
        return list(dict.fromkeys(found))

    @property
    def boxes(self) -> int:
        return sum(1 for segments in self.fields.values() for seg in segments if seg.clause)

    def value(self, name: str, box: str = "[redacted s.{clause}]") -> str:
        return plain(self.fields.get(name, []), box)


@dataclass(frozen=True)
class ThreadView:
    number: int
    items: list[ItemView]

    @property
    def title(self) -> str:
        return f"T{self.number}"


def plain(segments: list[Segment], box: str = "[redacted s.{clause}]") -> str:
    """The segments as text: plain parts as they are, each severed part as ``box``."""
    return "".join(box.format(clause=s.clause) if s.clause and not s.text else s.text for s in segments)


def _order(records: list[ReviewRecord]) -> list[tuple[ReviewRecord, int]]:
    """A thread's versions depth-first from its root, replies by time, with each one's depth."""
    ids = {r.record_id for r in records}
    children: dict[str | None, list[str]] = defaultdict(list)
    versions: dict[str, list[ReviewRecord]] = defaultdict(list)
    for r in records:
        versions[r.record_id].append(r)
    first_at = {rid: min(v.created_at or v.captured_at or _EARLY for v in vs) for rid, vs in versions.items()}
    for rid, vs in versions.items():
        parent = vs[0].parent_id if vs[0].parent_id in ids else None
        children[parent].append(rid)
    out: list[tuple[ReviewRecord, int]] = []
    stack = [(rid, 0) for rid in sorted(children[None], key=lambda r: (first_at[r], r), reverse=True)]
    seen: set[str] = set()
    while stack:
        rid, depth = stack.pop()
        if rid in seen:
            continue
        seen.add(rid)
        out.extend((v, depth) for v in sorted(versions[rid], key=lambda v: v.captured_at))
        stack.extend((c, depth + 1) for c in sorted(children[rid], key=lambda r: (first_at[r], r), reverse=True))
    # a cycle in the parent links would hide records: show any left over at the top level
    out.extend((v, 0) for rid in versions if rid not in seen for v in versions[rid])
    return out


def _fields(record: ReviewRecord, decision: Decision, copy: Copy, masker: Masker) -> dict[str, list[Segment]]:
    values = record_fields(record)
    values.update({"record_id": record.record_id, "parent_id": record.parent_id or "", "root_id": record.root_id or ""})
    spans: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    for red in decision.redactions:
        if red.version_id == record.version_id and red.clause:
            spans[red.field].append((red.start, red.end, red.clause))
    out: dict[str, list[Segment]] = {}
    for name, value in values.items():
        if copy == "applicant":
            out[name] = masker.segments(value, spans.get(name, ()))
        else:
            out[name] = _highlight(value, spans.get(name, []))
    return out


def _highlight(value: str, spans: list[tuple[int, int, str]]) -> list[Segment]:
    """The internal copy: the whole value, severed spans kept readable but marked."""
    out: list[Segment] = []
    at = 0
    for start, end, clause in sorted(spans):
        if start > at:
            out.append(Segment(value[at:start]))
        out.append(Segment(value[start:end], clause, 0))
        at = max(at, end)
    if at < len(value):
        out.append(Segment(value[at:]))
    return out


def build_views(review: ReviewSet, copy: Copy, masker: Masker) -> list[ThreadView]:
    """Every thread of the review set as ``copy`` shows it, numbered."""
    by_thread: dict[str, list[ReviewRecord]] = defaultdict(list)
    for record in review.records:
        by_thread[record.thread_id].append(record)
    ordered = sorted(by_thread.values(), key=lambda rs: (min(r.created_at or r.captured_at or _EARLY for r in rs), rs[0].thread_id))
    threads: list[ThreadView] = []
    for number, records in enumerate(ordered, 1):
        items: list[ItemView] = []
        numbers: dict[str, int] = {}
        seen_versions: dict[str, int] = defaultdict(int)
        for record, depth in _order(records):
            decision = review.decisions[record.record_id]
            numbers.setdefault(record.record_id, len(numbers) + 1)
            seen_versions[record.record_id] += 1
            version = seen_versions[record.record_id]
            label = f"T{number}.{numbers[record.record_id]}" + (f"v{version}" if version > 1 else "")
            withheld = decision.kind == "withhold" and copy == "applicant"
            fields = {} if withheld else _fields(record, decision, copy, masker)
            items.append(ItemView(label, record, decision, depth, fields, withheld))
        threads.append(ThreadView(number, items))
    return threads


def clause_text(clause: str) -> str:
    """``s.8(1)(j): information which relates to personal information``."""
    return f"s.{clause}: {CLAUSES.get(clause, '')}"
