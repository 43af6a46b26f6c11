"""The RTI timeline table (``schemas/rti_timelines.yaml``), read and checked.

The file holds each time limit of the RTI Act the register counts (period, unit, anchor, actor,
citation, notes), the uncertain items of the rule book as settings with conservative defaults,
and the days the office is closed. This module reads it, reports every problem at once with its
line (``archiver.datafile``), and hands back a typed ``Timelines`` for the calculator in
``deadlines``. Nothing here counts days.

Usage::

    timelines = load_timelines()
    timelines.rule("reply_standard").period   # 30
    timelines.settings.pio_deadlines_roll_forward   # False
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Literal

from archiver.datafile import FileKind, Problem, describe, duplicate_keys, field_of, parse_yaml, read_json_schema, read_text, schema_problems, show
from archiver.errors import ConfigError
from archiver.model import content_hash

__all__ = ["DEFAULT_TIMELINES_PATH", "TIMELINES_SCHEMA_PATH", "PERIOD_RULES", "PeriodRule", "Settings", "OfficeCalendar", "Timelines", "load_timelines", "parse_timelines"]

_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TIMELINES_PATH = _ROOT / "schemas" / "rti_timelines.yaml"
TIMELINES_SCHEMA_PATH = _ROOT / "schemas" / "rti_timelines.schema.json"

#: the rules with a period of their own, by id
PERIOD_RULES = (
    "reply_standard",
    "reply_life_liberty",
    "transfer",
    "third_party_notice",
    "third_party_reply",
    "third_party_decision",
    "first_appeal",
    "third_party_appeal",
    "faa_disposal",
    "second_appeal",
    "human_rights_s24",
)

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

_FILE = FileKind(
    what="the RTI timelines",
    noun="timelines file",
    short="the timelines",
    needs="the RTI timelines need version, rules, settings and office_closed",
    shape="version, rules, settings and office_closed",
    layout="each rule is a key under rules:, its fields indented under it",
    default=DEFAULT_TIMELINES_PATH,
)


@dataclass(frozen=True, slots=True)
class PeriodRule:
    """One time limit: ``period`` ``unit``s counted from ``anchor``, for ``actor`` to act."""

    id: str
    period: int
    unit: Literal["day", "hour"]
    anchor: str
    actor: str
    cite: str
    status: str
    notes: str | None = None


@dataclass(frozen=True, slots=True)
class Settings:
    """The [U] items of the rule book, as the department settles them (defaults: the earlier date)."""

    pio_deadlines_roll_forward: bool
    apio_extends_life_liberty: bool
    apio_extends_third_party_decision: bool
    apio_extends_faa_disposal: bool
    hold_margin_days: int


@dataclass(frozen=True, slots=True)
class OfficeCalendar:
    """Days the office is closed: used to move a filer's last day to the next open day (GCA s.10)."""

    weekly_closed: frozenset[int]  #: date.weekday() numbers, Monday 0
    holidays: Mapping[date, str]

    def closed(self, day: date) -> str | None:
        """Why the office is closed on ``day`` (the holiday's name, or the weekday), or None."""
        if day in self.holidays:
            return self.holidays[day]
        if day.weekday() in self.weekly_closed:
            return _WEEKDAYS[day.weekday()].capitalize()
        return None

    def next_open(self, day: date) -> date:
        """``day`` itself when the office is open, else the next day it is."""
        for _ in range(370):
            if self.closed(day) is None:
                return day
            day += timedelta(days=1)
        raise ConfigError("office_closed closes the office for more than a year in a row; check its weekly days and dates")


@dataclass(frozen=True, slots=True)
class Timelines:
    """A checked timeline table. Build it with ``load_timelines``."""

    version: int
    rules: Mapping[str, PeriodRule]
    apio_days: int
    apio_adds_to: frozenset[str]
    apio_cite: str
    fee_pause_applies_to: frozenset[str]
    fee_pause_cite: str
    deemed_refusal_on: frozenset[str]
    deemed_refusal_cite: str
    late_is_free_cite: str
    faa_extended: PeriodRule
    penalty_inr_per_day: int
    penalty_cap_inr: int
    penalty_cite: str
    settings: Settings
    calendar: OfficeCalendar
    source: str
    fingerprint: str

    def rule(self, rule_id: str) -> PeriodRule:
        return self.rules[rule_id]


def load_timelines(path: Path | None = None) -> Timelines:
    """Read and check the timelines at ``path`` (``schemas/rti_timelines.yaml`` when None).

    Raises ``ConfigError`` naming every problem in the file at once.
    """
    path = DEFAULT_TIMELINES_PATH if path is None else Path(path)
    return parse_timelines(read_text(path, _FILE), source=str(path))


# a command reads the file more than once; the same text is checked once (the result is frozen)
@lru_cache(maxsize=16)
def parse_timelines(text: str, source: str = "the RTI timelines") -> Timelines:
    data, node = parse_yaml(text, source, _FILE)
    problems = [*duplicate_keys(node), *schema_problems(data, _schema(), _FIELDS, "docs/rti.md", special=_special)]
    if problems:
        raise ConfigError(describe(source, problems, node))
    return _build(data, source)


@cache
def _schema() -> dict[str, Any]:
    return read_json_schema(TIMELINES_SCHEMA_PATH)


def _special(error: Any, path: tuple[str | int, ...]) -> list[Problem] | None:
    # a fixed value (the anchor a rule is counted from, its actor): name it
    if error.validator == "const":
        expected = error.validator_value
        wanted = ", ".join(expected) if isinstance(expected, list) else str(expected)
        return [Problem(path, show(error.instance), wanted, f"The calculator counts this rule as the Act does; write {field_of(path)}: {wanted} (docs/rti.md).")]
    return None


def _build(data: dict[str, Any], source: str) -> Timelines:
    rules = data["rules"]
    settings = {name: item["value"] for name, item in data["settings"].items()}
    faa = rules["faa_disposal"]["extended"]
    closed = data["office_closed"]
    return Timelines(
        version=data["version"],
        rules={rule_id: _period_rule(rule_id, rules[rule_id]) for rule_id in PERIOD_RULES},
        apio_days=rules["apio_extension"]["period"],
        apio_adds_to=frozenset(rules["apio_extension"]["adds_to"]),
        apio_cite=rules["apio_extension"]["cite"],
        fee_pause_applies_to=frozenset(rules["fee_clock_pause"]["applies_to"]),
        fee_pause_cite=rules["fee_clock_pause"]["cite"],
        deemed_refusal_on=frozenset(rules["deemed_refusal"]["on_expiry_of"]),
        deemed_refusal_cite=rules["deemed_refusal"]["cite"],
        late_is_free_cite=rules["late_is_free"]["cite"],
        faa_extended=PeriodRule(
            id="faa_disposal_extended",
            period=faa["period"],
            unit=faa["unit"],
            anchor=faa["anchor"],
            actor="faa",
            cite=f"{rules['faa_disposal']['cite']} (reasons recorded in writing)",
            status=rules["faa_disposal"]["status"],
        ),
        penalty_inr_per_day=rules["pio_penalty"]["rate_inr_per_day"],
        penalty_cap_inr=rules["pio_penalty"]["cap_inr"],
        penalty_cite=rules["pio_penalty"]["cite"],
        settings=Settings(**settings),
        calendar=OfficeCalendar(
            weekly_closed=frozenset(_WEEKDAYS.index(day) for day in closed["weekly"]),
            holidays={date.fromisoformat(item["date"]): item["name"] for item in closed["dates"]},
        ),
        source=source,
        fingerprint=content_hash(data),
    )


def _period_rule(rule_id: str, item: dict[str, Any]) -> PeriodRule:
    return PeriodRule(
        id=rule_id,
        period=item["period"],
        unit=item["unit"],
        anchor=item["anchor"],
        actor=item["actor"],
        cite=item["cite"],
        status=item["status"],
        notes=" ".join(item["notes"].split()) if item.get("notes") else None,
    )


#: per key of the file: what is allowed, and the hint when nothing more specific applies
_FIELDS: dict[str, tuple[str, str]] = {
    "version": ("a whole number from 1 upward", "The edition of the file; raise it by one with each change."),
    "rules": ("a mapping of every rule id of the default file", "Keep every rule of the default file; change a period, never remove a rule."),
    "settings": ("a mapping of every setting of the default file", "Keep every setting; change its value."),
    "office_closed": ("a mapping with weekly and dates", "List the weekly days off and the holidays, as the default file does."),
    "period": ("a whole number from 1 upward", "Write the number alone, without units: period: 30."),
    "unit": ("day, hour", "Periods are counted in calendar days (day) or, for the 48-hour rule, in hours (hour)."),
    "anchor": ("the anchor of the default file", "Each rule is counted from the event the Act names; keep the default's anchor."),
    "actor": ("the actor of the default file", "Keep the default's actor: who must act within the period."),
    "cite": ("text citing the provision", "Cite the section as notices do, e.g. RTI s.7(1)."),
    "status": ("V, S, U", "V: checked against the statute; S: secondary source; U: uncertain."),
    "source": ("text", "Name the rule book's source, e.g. S1."),
    "notes": ("text", "Write notes as plain text."),
    "adds_to": ("a list of rule ids: reply_standard", "The APIO's days are added to the s.7(1) period; the other periods follow the settings."),
    "applies_to": ("a list of reply_standard, reply_life_liberty, third_party_decision", "Name each period once."),
    "on_expiry_of": ("a list of reply_standard, reply_life_liberty, third_party_decision", "Name each period once."),
    "pause_between": ("[fee_intimation_despatched, fee_paid]", "The clock stops between these two events (s.7(3)(a)); keep them."),
    "extended": ("a mapping with period, unit, anchor and needs", "The FAA's longer period (45 days from filing, with reasons in writing)."),
    "needs": ("reasons_in_writing", "Keep the default."),
    "rate_inr_per_day": ("a whole number of rupees", "Write rupees without the sign: 250."),
    "cap_inr": ("a whole number of rupees", "Write rupees without the sign: 25000."),
    "value": ("true, false (hold_margin_days: a whole number of days)", "Write true or false without quotes, or a number of days."),
    "question": ("text", "State the open question."),
    "default_because": ("text", "Say why the chosen value is the conservative one."),
    "weekly": ("a list of weekday names in lower case, e.g. [saturday, sunday]", "Write the days the office is closed every week."),
    "dates": ("a list of {date, name}", "Write each holiday as {date: 2026-08-15, name: Independence Day}."),
    "date": ("a date written YYYY-MM-DD", "Write the date as year-month-day, e.g. 2026-08-15 (not 15-08-2026)."),
    "name": ("text", "Name the holiday."),
}
for _rule in (*PERIOD_RULES, "apio_extension", "fee_clock_pause", "deemed_refusal", "late_is_free", "pio_penalty"):
    _FIELDS.setdefault(_rule, ("the rule as the default file writes it", "Keep every rule of the default file; change a period, never remove a rule."))
for _setting in Settings.__dataclass_fields__:
    _FIELDS.setdefault(_setting, ("the setting as the default file writes it", "Keep every setting of the default file; change its value."))
