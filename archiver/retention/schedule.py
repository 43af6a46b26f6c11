"""The retention schedule: which records are kept how long, and the tag each record gets.

The schedule is data a records officer edits (``schemas/retention.yaml``, checked against
``schemas/retention.schema.json``). This module reads it, reports every problem in it at once
(with its place and line in the file, the value found, what is allowed and a hint), and applies
it. Applying is pure and cheap because the extract step tags millions of rows, and tags them all
again whenever the schedule changes: at load the series are compiled into a table from every
combination of facts to its series, so ``Schedule.tag`` is one dictionary look-up plus date
arithmetic, and never reads a WARC file.

Dates follow CSMOP's review rules (RTI-RULES §3, row R8), counted in the Asia/Kolkata calendar
from the day the record was created:

- C-n: reviewable, and disposable, from 1 January of (year + n + 1): n complete calendar years
  after the year of closure, which for a post is the year it was created;
- A and B: permanent; reviewed (appraised for transfer) from 1 January of (year + 26), after 25
  complete years, the reading R8 marks "by analogy";
- ephemeral: disposable one year after the record, on its first anniversary.

Usage::

    schedule = load_schedule()
    facts = RecordFacts(platform="x", kind="reply", by_department=False, is_media=False,
                        created_at=datetime(2026, 6, 15, 9, 30, tzinfo=timezone.utc))
    schedule.tag(facts)   # RetentionTag(series='citizen-replies', retention_class='C-3', ...)

Each series also carries its ``rrs_item``, the file/series number of its records (the item of
the departmental Record Retention Schedule), and its ``purpose``: why the department holds them.
Both are written into every tagged row (RTI-RULES R7), and the statement of the categories of
documents held (RTI s.4(1)(b)(vi), ``archiver.tables.categories``) is made from them.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo

from archiver.datafile import FileKind, Problem, describe, duplicate_keys, field_of, parse_yaml, read_json_schema, read_text, schema_problems, show
from archiver.errors import ConfigError
from archiver.model import PLATFORMS, content_hash

__all__ = [
    "ACTIONS",
    "DATE_RULES_VERSION",
    "DEFAULT_SCHEDULE_PATH",
    "IST",
    "RECORD_KINDS",
    "RETENTION_CLASSES",
    "SCHEMA_PATH",
    "Authority",
    "Match",
    "RecordFacts",
    "RetentionTag",
    "Schedule",
    "Series",
    "load_schedule",
    "parse_schedule",
]

_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SCHEDULE_PATH = _ROOT / "schemas" / "retention.yaml"
SCHEMA_PATH = _ROOT / "schemas" / "retention.schema.json"

IST = ZoneInfo("Asia/Kolkata")

RecordKind = Literal["post", "reply", "comment", "quote", "repost", "export"]
Action = Literal["destroy", "transfer", "review"]
RECORD_KINDS: tuple[str, ...] = get_args(RecordKind)
ACTIONS: tuple[str, ...] = get_args(Action)
RETENTION_CLASSES: tuple[str, ...] = ("A", "B", *(f"C-{n}" for n in range(1, 11)), "ephemeral")

#: part of the fingerprint: raise it whenever the date rules of ``Series.dates`` change, so that
#: datasets tagged under the old rules are tagged again
DATE_RULES_VERSION = 1

# beyond this, review dates (year + 26) would run past the calendar's year 9999
_LATEST_YEAR = 9000


@dataclass(frozen=True, slots=True)
class RecordFacts:
    """What the schedule needs to know about one row.

    A media row carries the facts of the post it is attached to, with ``is_media=True``: that is
    how media follows its post. ``kind="export"`` is an account export file itself. When the
    platform gives no creation time, pass the capture time: the dates then come out later, so the
    record is kept longer, never shorter.
    """

    platform: str
    kind: RecordKind
    by_department: bool
    is_media: bool
    created_at: datetime
    #: the calendar day of ``created_at`` in Asia/Kolkata, from which every date is counted
    created_on: date = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in RECORD_KINDS:
            raise ValueError(f"kind {self.kind!r} is not one of {', '.join(RECORD_KINDS)}")
        if type(self.by_department) is not bool or type(self.is_media) is not bool:
            raise ValueError(f"by_department and is_media must be True or False, not {self.by_department!r} and {self.is_media!r}")
        if self.created_at.utcoffset() is None:
            raise ValueError(f"created_at {self.created_at.isoformat()} has no time zone; give the instant in UTC")
        try:
            created_on = self.created_at.astimezone(IST).date()
        except OverflowError:
            raise ValueError(f"created_at {self.created_at.isoformat()} is outside the calendar") from None
        if created_on.year > _LATEST_YEAR:
            raise ValueError(f"created_at {self.created_at.isoformat()} is past the year {_LATEST_YEAR}; no record is that late")
        object.__setattr__(self, "created_on", created_on)


@dataclass(frozen=True, slots=True)
class RetentionTag:
    """The retention of one row, as written into the dataset.

    ``retention_until`` is the first day the record may be disposed of (after review), and None
    for permanent records; ``review_on`` is the day it comes before the records officer.
    ``rrs_item`` is the file/series number and ``purpose`` why the department holds the record,
    both from its series.
    """

    series: str
    retention_class: str
    retention_until: date | None
    review_on: date
    action: Action
    rule: str
    rrs_item: str
    purpose: str


@dataclass(frozen=True, slots=True)
class Match:
    """Conditions over a record's facts; None accepts every value. All None is the catch-all."""

    by_department: bool | None = None
    kinds: frozenset[str] | None = None
    platforms: frozenset[str] | None = None
    is_media: bool | None = None

    @property
    def is_catch_all(self) -> bool:
        return self.by_department is None and self.kinds is None and self.platforms is None and self.is_media is None

    def accepts(self, platform: str | None, kind: str, by_department: bool, is_media: bool) -> bool:
        """``platform`` is None for a platform that no series names."""
        return (
            (self.by_department is None or self.by_department == by_department)
            and (self.kinds is None or kind in self.kinds)
            and (self.platforms is None or platform in self.platforms)
            and (self.is_media is None or self.is_media == is_media)
        )


@dataclass(frozen=True, slots=True)
class Series:
    id: str
    description: str
    match: Match
    retention_class: str
    #: None for permanent records (classes A and B)
    retention_years: int | None
    action: Action
    rule: str
    #: the file/series number: the item of the departmental Record Retention Schedule
    rrs_item: str
    #: why the department holds these records, in a sentence of English
    purpose: str

    def dates(self, created_on: date) -> tuple[date | None, date]:
        """(retention_until, review_on) of a record created on ``created_on``, an IST day."""
        year = created_on.year
        if self.retention_years is None:
            return None, date(year + 26, 1, 1)
        if self.retention_class == "ephemeral":
            anniversary = _anniversary(created_on)
            return anniversary, anniversary
        first_day = date(year + self.retention_years + 1, 1, 1)
        return first_day, first_day


@dataclass(frozen=True, slots=True)
class Authority:
    records_creating_agency: str
    reference: str
    status: Literal["draft", "approved"]
    approved_by: str | None = None
    approved_on: date | None = None
    notes: str | None = None


_FactsKey = tuple[str | None, str, bool, bool]


@dataclass(frozen=True, slots=True)
class Schedule:
    """A checked retention schedule, compiled for tagging. Build it with ``load_schedule``.

    ``fingerprint`` is the SHA-256 of the canonical schedule and of the date rules: a dataset
    stores it beside its tags, and tags again when it differs from the current schedule's.
    """

    version: int
    authority: Authority
    series: tuple[Series, ...]
    fingerprint: str
    source: str
    _table: dict[_FactsKey, Series] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        table = {}
        for key in _fact_keys():
            series = next((s for s in self.series if s.match.accepts(*key)), None)
            if series is None:
                raise ValueError(f"no series takes the facts {key}; the last series must be a catch-all")
            table[key] = series
        object.__setattr__(self, "_table", table)

    def tag(self, facts: RecordFacts) -> RetentionTag:
        platform = facts.platform if facts.platform in PLATFORMS else None
        series = self._table[(platform, facts.kind, facts.by_department, facts.is_media)]
        retention_until, review_on = series.dates(facts.created_on)
        return RetentionTag(series.id, series.retention_class, retention_until, review_on, series.action, series.rule, series.rrs_item, series.purpose)

    def iter_tags(self, rows: Iterable[RecordFacts]) -> Iterator[RetentionTag]:
        """The tag of each row in turn: how a dataset is tagged again when the schedule changes."""
        tag = self.tag
        for facts in rows:
            yield tag(facts)


def _fact_keys() -> Iterator[_FactsKey]:
    for platform in (*PLATFORMS, None):
        for kind in RECORD_KINDS:
            for by_department in (True, False):
                for is_media in (True, False):
                    yield platform, kind, by_department, is_media


def _anniversary(day: date) -> date:
    # a year from 29 February ends on 28 February, so the record may go from 1 March
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return date(day.year + 1, 3, 1)


# -- reading and checking ------------------------------------------------------------------------
_FILE = FileKind(
    what="the retention schedule",
    noun="schedule file",
    short="the schedule",
    needs="a retention schedule needs version, authority and series",
    shape="version, authority and series",
    layout="each series starts with '- id:', its keys indented under it",
    default=DEFAULT_SCHEDULE_PATH,
)


def load_schedule(path: Path | None = None) -> Schedule:
    """Read and check the schedule at ``path`` (the default ``schemas/retention.yaml`` when None).

    Raises ``ConfigError`` naming every problem in the file at once.
    """
    path = DEFAULT_SCHEDULE_PATH if path is None else Path(path)
    return parse_schedule(read_text(path, _FILE), source=str(path))


def parse_schedule(text: str, source: str = "the retention schedule") -> Schedule:
    """Check and compile a schedule from its YAML text; ``source`` names it in messages."""
    data, node = parse_yaml(text, source, _FILE)
    problems = [*duplicate_keys(node), *_schema_problems(data), *_semantic_problems(data)]
    if problems:
        raise ConfigError(describe(source, problems, node))
    # only a well-formed schedule can be compiled, and only a compiled one tells which series are unreachable
    schedule = _build(data, source)
    problems = _unreachable_series(schedule.series)
    if problems:
        raise ConfigError(describe(source, problems, node))
    return schedule


@cache
def _schema() -> dict[str, Any]:
    return read_json_schema(SCHEMA_PATH)


def _schema_problems(data: dict[str, Any]) -> Iterator[Problem]:
    return schema_problems(data, _schema(), _FIELDS, "docs/retention.md", special=_special, name_of=_name_of, hint_for=_hint_for)


def _special(error: Any, path: tuple[str | int, ...]) -> list[Problem] | None:
    instance = error.instance
    if error.validator == "contains":
        return [Problem(
            path,
            f"{len(instance)} series, none of them a catch-all",
            "a last series with match: any",
            "Add at the end a series that takes every record no other series takes (match: any), "
            "as the default schedule's unclassified series does, so that every record gets a class.",
        )]
    if error.validator == "minProperties":
        return [Problem(path, "an empty mapping", "match: any, or at least one of by_department, kind, platform, is_media", "Write match: any for the catch-all series, or name the conditions.")]
    if error.validator in ("minItems", "uniqueItems"):
        name = field_of(path)
        return [Problem(path, show(instance), _FIELDS[name][0], f"Name each value once, or leave {name} out to accept every value.")]
    return None


def _name_of(path: tuple[str | int, ...]) -> str:
    return "series entry" if len(path) == 2 and path[0] == "series" else field_of(path)


def _semantic_problems(data: dict[str, Any]) -> Iterator[Problem]:
    """What the JSON Schema cannot say: unique ids, class against retention and action, catch-all
    last, the RRS item against the rule, one retention per RRS item."""
    series = data.get("series")
    if not isinstance(series, list):
        return
    first_with_id: dict[str, int] = {}
    first_with_item: dict[str, int] = {}
    for index, item in enumerate(series):
        if not isinstance(item, dict):
            continue
        series_id = item.get("id")
        if isinstance(series_id, str):
            if series_id in first_with_id:
                yield Problem(
                    ("series", index, "id"),
                    repr(series_id),
                    "an id no other series has",
                    f"series[{first_with_id[series_id]}] already has this id, and each tagged row names its series by id. Rename one of them.",
                )
            else:
                first_with_id[series_id] = index
        if item.get("class") in RETENTION_CLASSES:
            yield from _class_problems(index, item["class"], item.get("retention"), item.get("action"))
        rrs_item = item.get("rrs_item")
        if isinstance(rrs_item, str) and rrs_item.strip():
            yield from _item_problems(index, item, series, first_with_item.setdefault(rrs_item, index))
        if item.get("match") == "any" and index < len(series) - 1:
            yield Problem(
                ("series", index, "match"),
                "'any' (a catch-all)",
                "match: any in the last series only",
                f"A catch-all takes every record, so series[{index + 1}] and those after it would never apply. Move this series to the end of the list.",
            )


#: an RRS item cited in a series' rule: "RRS item SM-3"
_CITED_ITEM = re.compile(r"\bRRS item\s+([^\s;,()]+)")


def _item_problems(index: int, item: dict[str, Any], series: list[Any], first: int) -> Iterator[Problem]:
    """The series' ``rrs_item`` against the items its rule cites, and against an earlier series with the same item."""
    rrs_item = item["rrs_item"]
    rule = item.get("rule")
    cited = _CITED_ITEM.findall(rule) if isinstance(rule, str) else []
    if cited and rrs_item not in cited:
        yield Problem(
            ("series", index, "rrs_item"),
            repr(rrs_item),
            f"the item its rule cites: {', '.join(cited)}",
            f"Each tagged row carries both, so they must agree: write rrs_item: {cited[0]}, or correct the RRS item in the rule.",
        )
    if first == index:
        return
    earlier = series[first]
    keys = ("class", "retention", "action")
    if isinstance(earlier, dict) and any(earlier.get(k) != item.get(k) for k in keys):
        had = ", ".join(f"{k} {show(earlier.get(k))}" for k in keys)
        yield Problem(
            ("series", index, "rrs_item"),
            repr(rrs_item),
            f"an item of its own, or {had} as series[{first}] ({earlier.get('id')}) has",
            "An item of the Record Retention Schedule fixes one retention for its records. "
            "Give this series its own item, or the class, retention and action of the other series.",
        )


def _class_problems(index: int, retention_class: str, retention: Any, action: Any) -> Iterator[Problem]:
    at = ("series", index)
    years = retention if type(retention) is int and retention >= 1 else None
    permanent = retention == "permanent"
    if retention_class in ("A", "B"):
        if years is not None:
            yield Problem(
                (*at, "retention"), str(years), f"permanent (class {retention_class} records are permanent)",
                "To keep these records for a period instead, choose class C-n, where n is the years (10 at most).",
            )
        if action == "destroy":
            yield Problem(
                (*at, "action"), "'destroy'", f"transfer, review (class {retention_class} is permanent)",
                "Permanent records are not destroyed: they go to the National Archives after 25 years (PRR r.5), "
                "or are kept with the reasons recorded. Write transfer or review.",
            )
        return
    if retention_class == "ephemeral":
        if permanent or (years is not None and years != 1):
            yield Problem(
                (*at, "retention"), show(retention), "1 (ephemeral records may be destroyed after 1 year, CSMOP)",
                "To keep these records longer, choose class C-n for n years (10 at most), or A or B to keep them permanently.",
            )
    else:
        n = int(retention_class[2:])
        allowed = f"{n} (class {retention_class} keeps a record {n} year{'s' if n > 1 else ''})"
        if permanent:
            yield Problem(
                (*at, "retention"), "'permanent'", allowed,
                "C records are kept for a specified period only (CSMOP); to keep these permanently, write class: A or class: B.",
            )
        elif years is not None and years > 10:
            yield Problem(
                (*at, "retention"), str(years), allowed,
                "CSMOP: a C record kept beyond 10 years must be upgraded to A or B; write class: A or class: B with retention: permanent.",
            )
        elif years is not None and years != n:
            yield Problem(
                (*at, "retention"), str(years), allowed,
                f"Make the class and the years agree: retention: {n}, or class: C-{years}.",
            )
    if action == "transfer":
        yield Problem(
            (*at, "action"), "'transfer'", f"destroy, review (class {retention_class} is not permanent)",
            "The National Archives take permanent records (classes A and B) after 25 years (PRR r.5). "
            "Write destroy or review, or upgrade the class to A or B.",
        )


def _unreachable_series(series: tuple[Series, ...]) -> list[Problem]:
    """Series that no record can reach because earlier series take all of their records."""
    taken_by = {key: next(i for i, s in enumerate(series) if s.match.accepts(*key)) for key in _fact_keys()}
    problems = []
    for index, candidate in enumerate(series):
        if candidate.match.is_catch_all or index in taken_by.values():
            continue
        earlier = sorted({taken_by[key] for key in taken_by if candidate.match.accepts(*key)})
        names = ", ".join(f"series[{i}] ({series[i].id})" for i in earlier)
        problems.append(
            Problem(
                ("series", index, "match"),
                "a match no record reaches",
                "a match that takes at least one kind of record",
                f"Every record it accepts is taken first by {names}. Move this series above them, or narrow their match.",
            )
        )
    return problems


def _build(data: dict[str, Any], source: str) -> Schedule:
    authority = data["authority"]
    approved_on = authority.get("approved_on")
    series = tuple(_series(item) for item in data["series"])
    return Schedule(
        version=data["version"],
        authority=Authority(
            records_creating_agency=authority["records_creating_agency"],
            reference=authority["reference"],
            status=authority["status"],
            approved_by=authority.get("approved_by"),
            approved_on=date.fromisoformat(approved_on) if approved_on else None,
            notes=authority.get("notes"),
        ),
        series=series,
        fingerprint=content_hash({"date_rules": DATE_RULES_VERSION, "schedule": data}),
        source=source,
    )


def _series(item: dict[str, Any]) -> Series:
    match = item["match"]
    if match == "any":
        compiled = Match()
    else:
        compiled = Match(
            by_department=match.get("by_department"),
            kinds=frozenset(match["kind"]) if "kind" in match else None,
            platforms=frozenset(match["platform"]) if "platform" in match else None,
            is_media=match.get("is_media"),
        )
    retention = item["retention"]
    return Series(
        id=item["id"],
        description=" ".join(item["description"].split()),
        match=compiled,
        retention_class=item["class"],
        retention_years=None if retention == "permanent" else retention,
        action=item["action"],
        rule=item["rule"],
        rrs_item=item["rrs_item"],
        purpose=" ".join(item["purpose"].split()),
    )


# -- messages --------------------------------------------------------------------------------------
#: per key of the file: what is allowed, and the hint when nothing more specific applies
_FIELDS: dict[str, tuple[str, str]] = {
    "version": ("a whole number from 1 upward", "The edition of the schedule; raise it by one with each approved change."),
    "authority": ("a mapping with records_creating_agency, reference and status", "Say where the schedule's authority comes from; see the default schedule."),
    "series": ("a list of series, the last one with match: any", "List the record series in the order they are matched."),
    "series entry": (
        "a mapping of id, rrs_item, description, purpose, match, class, retention, action, rule",
        "Start each series with '- id:' and indent its other keys under it, as the default schedule does.",
    ),
    "records_creating_agency": ("text", "Name the department, as on its records."),
    "reference": ("text", "Cite the departmental Record Retention Schedule and its items, settled with the National Archives (PRA s.6(1)(e))."),
    "status": ("draft, approved", "Write approved once the records officer has approved the schedule, with approved_by and approved_on."),
    "approved_by": ("text: name and designation", "An approved schedule names the records officer who approved it (PRA s.5)."),
    "approved_on": ("a date written YYYY-MM-DD", "Write the date of approval as year-month-day, e.g. 2026-11-25."),
    "notes": ("text", "Write notes as plain text."),
    "id": ("lower-case letters and digits in words joined by hyphens, e.g. citizen-replies", "Each tagged row names its series by this id; keep it short and stable."),
    "rrs_item": (
        "text: the item of the departmental Record Retention Schedule, e.g. SM-3",
        "The file/series number of the series' records, written into every tagged row; cite the same item in the rule.",
    ),
    "description": ("text", "Say in a sentence which records the series holds."),
    "purpose": (
        "text: in English, why the department holds these records",
        "Say it in a phrase a member of the public understands, e.g. Citizens' queries and grievances addressed to the department; "
        "it is written into every tagged row and into the statement of categories of documents held (RTI s.4(1)(b)(vi)).",
    ),
    "match": ("any, or a mapping of by_department, kind, platform, is_media", "Write match: any for the catch-all series, or name the conditions a record must meet."),
    "by_department": ("true, false", "true takes the department's own records, false everyone else's; leave it out to take both."),
    "kind": (", ".join(RECORD_KINDS), "Kinds are written in the singular and in lower case; leave kind out to take every kind."),
    "platform": (", ".join(PLATFORMS), "Platforms are written in lower case (X is x); leave platform out to take every platform."),
    "is_media": ("true, false", "true takes media attachment rows, false the posts themselves; leave it out to take both."),
    "class": (
        "A, B, C-1 to C-10, ephemeral",
        "A and B are permanent; C-n keeps a record n years (n from 1 to 10); ephemeral records may go after 1 year (CSMOP).",
    ),
    "retention": (
        "a whole number of years (1 or more), or permanent",
        "Write the years the class keeps a record: 3 for C-3, 1 for ephemeral, permanent for A and B.",
    ),
    "action": (
        ", ".join(ACTIONS),
        "Actions: destroy proposes the record for destruction at the January review, transfer sends it to the National "
        "Archives (permanent records, PRR r.5), review brings it before the records officer.",
    ),
    "rule": ("text citing the source", "Cite where the retention comes from, e.g. PRR r.9; CSMOP class C-3; RRS item SM-3."),
}

_CHOICES: dict[str, tuple[str, ...]] = {
    "class": RETENTION_CLASSES,
    "kind": RECORD_KINDS,
    "platform": PLATFORMS,
    "action": ACTIONS,
    "status": ("draft", "approved"),
    "retention": ("permanent",),
}

_SYNONYMS = {"twitter": "x", "tweet": "post", "retweet": "repost", "delete": "destroy", "erase": "destroy", "archive": "transfer"}


def _hint_for(name: str, value: Any) -> str | None:
    """A hint for this very value, when one is better than the key's general hint."""
    if name == "class" and isinstance(value, str):
        c_class = re.fullmatch(r"[Cc]\s*-?\s*(\d+)", value.strip())
        if c_class and int(c_class.group(1)) > 10:
            return "CSMOP: a C record kept beyond 10 years must be upgraded to A or B; write class: A or class: B with retention: permanent."
        if c_class and int(c_class.group(1)) >= 1:
            return f"Write it as CSMOP does: C-{int(c_class.group(1))}."
        if value.strip().upper() in ("A", "B"):
            return f"Write the class in capitals: {value.strip().upper()}."
    if name == "retention":
        if type(value) is int and value < 1:
            return f"A record cannot be kept {value} years. {_FIELDS['retention'][1]}"
        number = re.match(r"\s*(\d+)", value) if isinstance(value, str) else None
        if number:
            return f"Write the number of years alone, without units: retention: {number.group(1)}."
        if isinstance(value, str) and value.strip().lower() == "permanent":
            return "Write permanent in lower case."
    if name == "approved_on" and isinstance(value, str):
        return "Write the date as year-month-day, e.g. 2026-11-25 (not 25-11-2026)."
    if name in _CHOICES and isinstance(value, str):
        lowered = value.strip().lower()
        guess = _SYNONYMS.get(lowered) or next(iter(difflib.get_close_matches(lowered, _CHOICES[name], n=1)), None)
        if guess:
            return f"Did you mean {guess}? {_FIELDS[name][1]}"
    return None
