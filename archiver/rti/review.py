"""A request's review set: its records, a decision on each, the redactions, and their checks.

A ``ReviewSet`` holds the records a request touches (threads expanded, every captured version;
``archiver.rti.threads`` reads them from the record dataset) and one ``Decision`` per record:

- ``disclose``: given whole;
- ``withhold``: not given, under one or more exemptions (``clauses``);
- ``redact``: given with parts severed under s.10, each ``Redaction`` carrying its clause.

``validate_review`` reports every problem at once, each naming the record and the rule
(RTI-RULES R5); ``require_complete`` raises ``ReviewIncomplete`` when there is any, so that no
package is built from an unfinished review or from a redaction without its clause. The 20-year
rule of s.8(3) is checked on each record's event date: for a record about an event more than
twenty years before the request, only s.8(1)(a), (c) and (i) can still be claimed. A s.8(2)
public-interest override records the exemptions it sets aside, its reasons and who recorded it.

Usage::

    review = ReviewSet(request, records, {d.record_id: d for d in decisions})
    for problem in validate_review(review):
        print(problem.record_id, problem.rule, problem.message)
    require_complete(review)          # raises ReviewIncomplete naming each record and rule
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from archiver.errors import ReviewIncomplete
from archiver.model import WarcPointer

__all__ = [
    "CLAUSES",
    "SURVIVE_TWENTY_YEARS",
    "IST",
    "RequestRef",
    "MediaRef",
    "ReviewRecord",
    "Redaction",
    "RejectedSuggestion",
    "PublicInterestOverride",
    "Decision",
    "ReviewSet",
    "ReviewProblem",
    "field_value",
    "record_fields",
    "twenty_years_before",
    "validate_review",
    "require_complete",
    "decisions_by_record",
]

IST = ZoneInfo("Asia/Kolkata")

#: the clauses a withheld or severed item may carry (RTI-RULES §2, R5), with what each protects
CLAUSES: dict[str, str] = {
    "8(1)(a)": "sovereignty, integrity, security, strategic, scientific or economic interests, foreign relations, incitement of an offence",
    "8(1)(b)": "expressly forbidden by a court or tribunal, or contempt of court",
    "8(1)(c)": "breach of privilege of Parliament or a State Legislature",
    "8(1)(d)": "commercial confidence, trade secrets or intellectual property harming a third party's competitive position",
    "8(1)(e)": "information available in a fiduciary relationship",
    "8(1)(f)": "information received in confidence from a foreign government",
    "8(1)(g)": "endangers the life or physical safety of a person, or identifies a confidential source",
    "8(1)(h)": "impedes investigation, apprehension or prosecution of offenders",
    "8(1)(i)": "cabinet papers, including deliberations of the Council of Ministers",
    "8(1)(j)": "information which relates to personal information",
    "9": "would infringe copyright subsisting in a person other than the State",
    "11": "third-party information treated as confidential by the third party (s.11 procedure)",
}
#: what s.8(3) still allows for events more than twenty years before the request
SURVIVE_TWENTY_YEARS = frozenset({"8(1)(a)", "8(1)(c)", "8(1)(i)"})

DecisionKind = Literal["disclose", "withhold", "redact"]
SpanOrigin = Literal["accepted", "edited", "added"]

_R5 = "RTI ss.8-10 (R5)"
_DECIDE = "RTI s.7(1) (R5: every record decided before the reply)"
_SEVER = "RTI s.10(1) (R5: a severed part carries its exemption)"
_TWENTY = "RTI s.8(3)"
_OVERRIDE = "RTI s.8(2)"


@dataclass(frozen=True, slots=True)
class RequestRef:
    """What a disclosure package needs to know of the request (the register owns the rest)."""

    registration_number: str
    received_on: date
    public_authority: str
    cpio_name: str
    cpio_designation: str
    subject: str = ""
    #: where the certified copies are signed (the CPIO's office)
    place: str = ""


@dataclass(frozen=True, slots=True)
class MediaRef:
    kind: str
    url: str | None
    native_id: str | None
    alt_text: str | None
    pointer: WarcPointer | None
    warc_record_id: str | None


@dataclass(frozen=True, slots=True)
class ReviewRecord:
    """One captured version of a record, with what the review and the package need of it."""

    record_id: str
    version_id: str
    platform: str
    account: str
    by_department: bool
    kind: str
    text: str
    captured_at: datetime
    pointer: WarcPointer
    warc_record_id: str
    author_id: str | None = None
    author_handle: str | None = None
    author_name: str | None = None
    parent_id: str | None = None
    root_id: str | None = None
    created_at: datetime | None = None
    edited_at: datetime | None = None
    deleted_on_platform: bool = False
    language: str | None = None
    url: str | None = None
    media: tuple[MediaRef, ...] = ()
    harvest_id: str | None = None

    @property
    def thread_id(self) -> str:
        return self.root_id or self.record_id

    @property
    def event_date(self) -> date | None:
        """The day (IST) the event happened: when it was posted, else when it was first captured."""
        when = self.created_at or self.captured_at
        return when.astimezone(IST).date() if when else None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> ReviewRecord:
        """From a row of the record dataset (``docs/record-schema.md``)."""
        media = tuple(
            MediaRef(
                kind=m["kind"],
                url=m.get("url"),
                native_id=m.get("native_id"),
                alt_text=m.get("alt_text"),
                pointer=WarcPointer(m["warc_file"], m["warc_offset"], m["warc_length"]) if m.get("warc_file") else None,
                warc_record_id=m.get("warc_record_id"),
            )
            for m in row.get("media") or ()
        )
        return cls(
            record_id=row["record_id"],
            version_id=row["version_id"],
            platform=row["platform"],
            account=row["account"],
            by_department=bool(row["by_department"]),
            kind=row["kind"],
            text=row["text"] or "",
            captured_at=row["captured_at"],
            pointer=WarcPointer(row["warc_file"], row["warc_offset"], row["warc_length"]),
            warc_record_id=row["warc_record_id"],
            author_id=row.get("author_id"),
            author_handle=row.get("author_handle"),
            author_name=row.get("author_name"),
            parent_id=row.get("parent_id"),
            root_id=row.get("root_id"),
            created_at=row.get("created_at"),
            edited_at=row.get("edited_at"),
            deleted_on_platform=bool(row.get("deleted_on_platform")),
            language=row.get("language"),
            url=row.get("url"),
            media=media,
            harvest_id=row.get("harvest_id"),
        )


def record_fields(record: ReviewRecord) -> dict[str, str]:
    """Every text field of ``record`` a redaction can sever, by name, with its value."""
    fields = {
        "text": record.text,
        "author_name": record.author_name or "",
        "author_handle": record.author_handle or "",
        "author_id": record.author_id or "",
        "url": record.url or "",
    }
    for n, item in enumerate(record.media):
        fields[f"media.{n}.url"] = item.url or ""
        fields[f"media.{n}.alt_text"] = item.alt_text or ""
    return fields


def field_value(record: ReviewRecord, name: str) -> str | None:
    """The value of the field ``name`` (see ``record_fields``), or None if there is no such field."""
    return record_fields(record).get(name)


@dataclass(frozen=True, slots=True)
class Redaction:
    """A severed span: ``text`` is ``field_value(record, field)[start:end]`` of that version.

    ``origin`` says how it came: a suggestion ``accepted`` as it was, a suggestion whose span
    the reviewer ``edited``, or a span the reviewer ``added``.
    """

    record_id: str
    version_id: str
    field: str
    start: int
    end: int
    text: str
    clause: str | None
    origin: SpanOrigin = "added"
    kind: str | None = None  #: what the suggestion called it (phone, address, ...)
    reason: str = ""


@dataclass(frozen=True, slots=True)
class RejectedSuggestion:
    """A suggestion the reviewer turned down, kept for the redaction log."""

    record_id: str
    version_id: str
    field: str
    start: int
    end: int
    kind: str
    reason: str


@dataclass(frozen=True, slots=True)
class PublicInterestOverride:
    """s.8(2): access allowed although ``clauses`` would exempt, for the ``reasons`` recorded."""

    clauses: tuple[str, ...]
    reasons: str
    recorded_by: str
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class Decision:
    record_id: str
    kind: DecisionKind
    clauses: tuple[str, ...] = ()  #: why it is withheld (withhold only)
    reasons: str = ""
    redactions: tuple[Redaction, ...] = ()
    rejected: tuple[RejectedSuggestion, ...] = ()
    override: PublicInterestOverride | None = None
    decided_by: str = ""


@dataclass(frozen=True)
class ReviewSet:
    request: RequestRef
    records: tuple[ReviewRecord, ...]
    decisions: Mapping[str, Decision] = field(default_factory=dict)

    def record_ids(self) -> list[str]:
        """Each record once, in the order first met."""
        return list(dict.fromkeys(r.record_id for r in self.records))

    def versions(self, record_id: str) -> list[ReviewRecord]:
        return [r for r in self.records if r.record_id == record_id]

    def decision(self, record_id: str) -> Decision | None:
        return self.decisions.get(record_id)


@dataclass(frozen=True, slots=True)
class ReviewProblem:
    record_id: str | None
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.record_id or 'review'}: {self.message} [{self.rule}]"


def twenty_years_before(day: date) -> date:
    """The same day twenty years earlier (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year - 20)
    except ValueError:
        return day.replace(year=day.year - 20, day=28)


def _check_redaction(red: Redaction, by_version: Mapping[str, ReviewRecord]) -> list[str]:
    if not red.clause:
        return ["has no exemption clause; give the s.8(1)(a)-(j), s.9 or s.11 clause it is severed under"]
    problems = []
    if red.clause not in CLAUSES:
        problems.append(f"cites {red.clause!r}, which is not an exemption; use one of {', '.join(CLAUSES)}")
    record = by_version.get(red.version_id)
    if record is None:
        return problems + [f"names version {red.version_id[:12]}…, which is not in the review set"]
    value = field_value(record, red.field)
    if value is None:
        return problems + [f"names field {red.field!r}, which the record does not have"]
    if not 0 <= red.start < red.end <= len(value):
        return problems + [f"span {red.start}-{red.end} lies outside {red.field} ({len(value)} characters)"]
    if value[red.start : red.end] != red.text:
        problems.append(f"span {red.start}-{red.end} of {red.field} reads {value[red.start:red.end]!r}, not {red.text!r}; review it again")
    return problems


def _check_decision(decision: Decision, versions: list[ReviewRecord], received_on: date) -> list[ReviewProblem]:
    rid = decision.record_id
    out: list[ReviewProblem] = []

    def problem(rule: str, message: str) -> None:
        out.append(ReviewProblem(rid, rule, message))

    if decision.kind not in ("disclose", "withhold", "redact"):
        problem(_R5, f"decision {decision.kind!r} is not disclose, withhold or redact")
        return out
    if decision.kind == "withhold":
        if not decision.clauses:
            problem(_R5, "is withheld without an exemption section; give the clause (8(1)(a)-(j), 9 or 11)")
        for clause in decision.clauses:
            if clause not in CLAUSES:
                problem(_R5, f"is withheld under {clause!r}, which is not an exemption; use one of {', '.join(CLAUSES)}")
        if decision.override is not None:
            problem(_OVERRIDE, "is withheld but carries a s.8(2) override, which allows access; decide disclose or redact instead")
    elif decision.kind == "redact" and not decision.redactions:
        problem(_SEVER, "is to be disclosed with redactions, but none is given; add them or decide disclose")
    elif decision.kind == "disclose" and decision.redactions:
        problem(_SEVER, f"is to be disclosed whole but carries {len(decision.redactions)} redaction(s); decide redact instead")
    by_version = {v.version_id: v for v in versions}
    spans: dict[tuple[str, str], list[Redaction]] = defaultdict(list)
    for red in decision.redactions:
        for message in _check_redaction(red, by_version):
            problem(_SEVER, f"redaction {red.field}[{red.start}:{red.end}] {message}")
        spans[(red.version_id, red.field)].append(red)
    for (version, name), items in spans.items():
        items.sort(key=lambda r: r.start)
        for a, b in zip(items, items[1:]):
            if b.start < a.end:
                problem(_SEVER, f"redactions {name}[{a.start}:{a.end}] and [{b.start}:{b.end}] overlap; merge them into one span")
    used = set(decision.clauses) | {r.clause for r in decision.redactions if r.clause}
    override = decision.override
    if override is not None:
        if not override.reasons.strip():
            problem(_OVERRIDE, "has a s.8(2) override without reasons; record why the public interest outweighs the harm")
        if not override.recorded_by.strip():
            problem(_OVERRIDE, "has a s.8(2) override that names no one; record who took it")
        if not override.clauses:
            problem(_OVERRIDE, "has a s.8(2) override that names no exemption it sets aside")
        for clause in override.clauses:
            if not clause.startswith("8(1)("):
                problem(_OVERRIDE, f"overrides {clause!r}; s.8(2) sets aside only the exemptions of s.8(1)")
            if clause in used:
                problem(_OVERRIDE, f"both claims and overrides {clause}; keep one")
    event = min((v.event_date for v in versions if v.event_date), default=None)
    if event is not None and event < twenty_years_before(received_on):
        for clause in sorted(used):
            if clause.startswith("8(1)(") and clause not in SURVIVE_TWENTY_YEARS:
                problem(
                    _TWENTY,
                    f"is about an event of {event.strftime('%d/%m/%Y')}, more than twenty years before the request "
                    f"({received_on.strftime('%d/%m/%Y')}): only 8(1)(a), (c) and (i) survive, not {clause}; disclose it or cite one of those",
                )
    return out


def validate_review(review: ReviewSet) -> tuple[ReviewProblem, ...]:
    """Every problem of the review set, each naming its record and rule; empty when done."""
    problems: list[ReviewProblem] = []
    by_record: dict[str, list[ReviewRecord]] = defaultdict(list)
    for record in review.records:
        by_record[record.record_id].append(record)
    if not by_record:
        problems.append(ReviewProblem(None, _DECIDE, "the review set holds no records; add the records the request concerns"))
    for rid, versions in by_record.items():
        decision = review.decisions.get(rid)
        if decision is None:
            problems.append(ReviewProblem(rid, _DECIDE, "has no decision yet; decide disclose, withhold or redact"))
            continue
        if decision.record_id != rid:
            problems.append(ReviewProblem(rid, _R5, f"its decision names another record ({decision.record_id})"))
        problems.extend(_check_decision(decision, versions, review.request.received_on))
    for rid in review.decisions:
        if rid not in by_record:
            problems.append(ReviewProblem(rid, _R5, "has a decision but is not in the review set; add the record or drop the decision"))
    return tuple(problems)


def require_complete(review: ReviewSet) -> None:
    """Raise ``ReviewIncomplete`` (every problem listed) unless the review can be packaged."""
    problems = validate_review(review)
    if not problems:
        return
    shown = "\n".join(f"  - {p}" for p in problems[:20])
    more = f"\n  … and {len(problems) - 20} more" if len(problems) > 20 else ""
    first = problems[0]
    raise ReviewIncomplete(
        f"request {review.request.registration_number}: the review cannot be packaged yet, {len(problems)} problem(s):\n{shown}{more}\n"
        "Finish the review (each record decided, each redaction with its clause), then package again.",
        problems=tuple(str(p) for p in problems),
        record_id=first.record_id,
        rule=first.rule,
    )


def decisions_by_record(decisions: Iterable[Decision]) -> dict[str, Decision]:
    """The mapping ``ReviewSet.decisions`` takes."""
    return {d.record_id: d for d in decisions}
