"""RTI fees per jurisdiction (R3): the tables (``schemas/rti_fees.yaml``) and the calculator.

The calculator is pure: what is to be supplied (``Copies``) and the applicant's standing in,
an itemised ``FeeStatement`` out, each line with the rule it is charged under. Two waivers come
from the Act itself and apply in every jurisdiction: no fee from an applicant below the poverty
line (s.7(5) proviso), and nothing to pay when the time limit was missed (s.7(6)). A statement
drawn from a rate marked U (uncertain) says so (``uncertain``), and the fee intimation prints it.

Usage::

    table = load_fee_tables().table("central")
    statement = further_fees(table, Copies(pages=40, media=1, inspection_minutes=150, postage_inr=Decimal(60)), bpl=False, late=False)
    statement.total    # Decimal('200')
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from archiver.datafile import FileKind, describe, duplicate_keys, parse_yaml, read_json_schema, read_text, schema_problems
from archiver.errors import ConfigError

__all__ = ["DEFAULT_FEES_PATH", "FEES_SCHEMA_PATH", "Rate", "FeeTable", "FeeTables", "Copies", "FeeLine", "FeeStatement", "further_fees", "application_fee_due", "format_inr", "load_fee_tables", "parse_fee_tables"]

_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_FEES_PATH = _ROOT / "schemas" / "rti_fees.yaml"
FEES_SCHEMA_PATH = _ROOT / "schemas" / "rti_fees.schema.json"

_FILE = FileKind(
    what="the RTI fee tables",
    noun="fee tables file",
    short="the fee tables",
    needs="the RTI fee tables need version and jurisdictions",
    shape="version and jurisdictions",
    layout="each jurisdiction is a key under jurisdictions:, its rates indented under it",
    default=DEFAULT_FEES_PATH,
)


def format_inr(amount: Decimal) -> str:
    """Rs 80, or Rs 80.50 when there are paise."""
    if amount == amount.to_integral_value():
        return f"Rs {int(amount)}"
    return f"Rs {amount.quantize(Decimal('0.01'))}"


@dataclass(frozen=True, slots=True)
class Rate:
    inr: Decimal
    cite: str
    status: str


@dataclass(frozen=True, slots=True)
class FeeTable:
    """One jurisdiction's fees."""

    key: str
    name: str
    rules: str
    application_fee: Rate
    first_appeal_fee: Rate
    page: Rate
    media: Rate
    publication_extract_page: Rate
    actual_cost_cite: str
    inspection_free_minutes: int
    inspection_per_hour: Rate
    postage_above: Rate  #: postal charges are charged in full above ``postage_above.inr``
    bpl_cite: str


@dataclass(frozen=True, slots=True)
class FeeTables:
    tables: Mapping[str, FeeTable]
    source: str

    def table(self, key: str) -> FeeTable:
        try:
            return self.tables[key]
        except KeyError:
            raise ConfigError(
                f"rti.jurisdiction is {key!r}, but {self.source} has fee tables for {', '.join(sorted(self.tables))} only. "
                "Write one of those, or add the jurisdiction's table from its RTI rules (docs/rti.md)."
            ) from None


@dataclass(frozen=True, slots=True)
class Copies:
    """What is to be supplied, and how."""

    pages: int = 0  #: A-4 or A-3 pages
    media: int = 0  #: CDs, DVDs or USB drives
    publication_extract_pages: int = 0
    actual_cost_inr: Decimal = Decimal(0)  #: larger paper, samples or models, a publication's price
    inspection_minutes: int = 0
    postage_inr: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        for name in ("pages", "media", "publication_extract_pages", "inspection_minutes"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} cannot be negative ({getattr(self, name)})")
        for name in ("actual_cost_inr", "postage_inr"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} cannot be negative ({getattr(self, name)})")


@dataclass(frozen=True, slots=True)
class FeeLine:
    item: str
    quantity: str
    rate: str
    amount: Decimal
    cite: str
    status: str


@dataclass(frozen=True, slots=True)
class FeeStatement:
    """An itemised fee: what each line would cost, the waiver that applies, and what is payable."""

    jurisdiction: str
    lines: tuple[FeeLine, ...]
    subtotal: Decimal
    waiver: str | None  #: why nothing is payable, with its citation
    total: Decimal

    @property
    def uncertain(self) -> bool:
        """Some line is charged at a rate not confirmed against the rules."""
        return any(line.status == "U" for line in self.lines if line.amount)

    def to_json(self) -> dict[str, Any]:
        return {
            "jurisdiction": self.jurisdiction,
            "lines": [
                {"item": line.item, "quantity": line.quantity, "rate": line.rate, "amount_inr": str(line.amount), "cite": line.cite, "status": line.status}
                for line in self.lines
            ],
            "subtotal_inr": str(self.subtotal),
            "waiver": self.waiver,
            "total_inr": str(self.total),
            "uncertain": self.uncertain,
        }


def further_fees(table: FeeTable, copies: Copies, *, bpl: bool, late: bool, late_cite: str = "RTI s.7(6)") -> FeeStatement:
    """The further fees of s.7(3) for ``copies``, itemised, with the waivers of s.7(5) and s.7(6)."""
    lines: list[FeeLine] = []

    def add(item: str, count: int, rate: Rate, unit: str) -> None:
        if count:
            lines.append(FeeLine(item, f"{count} {unit}{'s' if count != 1 else ''}", f"{format_inr(rate.inr)} per {unit}", rate.inr * count, rate.cite, rate.status))

    add("copies on paper (A-4/A-3)", copies.pages, table.page, "page")
    add("CD, DVD or USB drive", copies.media, table.media, "item")
    add("extracts from a publication", copies.publication_extract_pages, table.publication_extract_page, "page")
    if copies.actual_cost_inr:
        lines.append(FeeLine("larger paper, samples, models or a publication", "at cost", "actual cost", copies.actual_cost_inr, table.actual_cost_cite, "V"))
    if copies.inspection_minutes:
        # the first hour is free, then each hour or part of one is charged
        extra_hours = math.ceil(max(copies.inspection_minutes - table.inspection_free_minutes, 0) / 60)
        rate = table.inspection_per_hour
        lines.append(FeeLine(
            "inspection of records", f"{copies.inspection_minutes} minutes ({extra_hours} charged hour{'s' if extra_hours != 1 else ''} after the first {table.inspection_free_minutes} minutes)",
            f"{format_inr(rate.inr)} per hour or part", rate.inr * extra_hours, rate.cite, rate.status,
        ))
    if copies.postage_inr:
        threshold = table.postage_above
        charged = copies.postage_inr if copies.postage_inr > threshold.inr else Decimal(0)
        note = "charged: above" if charged else "not charged: not above"
        lines.append(FeeLine("postal charges", f"{format_inr(copies.postage_inr)} ({note} {format_inr(threshold.inr)})", "actual cost", charged, threshold.cite, threshold.status))
    subtotal = sum((line.amount for line in lines), Decimal(0))
    waiver = None
    if bpl:
        waiver = f"no fee is payable by an applicant below the poverty line ({table.bpl_cite})"
    elif late:
        waiver = f"the information is free of charge: the time limit of s.7(1) was not met ({late_cite})"
    return FeeStatement(table.key, tuple(lines), subtotal, waiver, Decimal(0) if waiver else subtotal)


def application_fee_due(table: FeeTable, paid_inr: Decimal, *, bpl: bool) -> Decimal:
    """What remains of the application fee (0 for a BPL applicant or a fee paid in full)."""
    if bpl:
        return Decimal(0)
    return max(table.application_fee.inr - paid_inr, Decimal(0))


# -- reading the tables ----------------------------------------------------------------------------
def load_fee_tables(path: Path | None = None) -> FeeTables:
    """Read and check the fee tables at ``path`` (``schemas/rti_fees.yaml`` when None)."""
    path = DEFAULT_FEES_PATH if path is None else Path(path)
    return parse_fee_tables(read_text(path, _FILE), source=str(path))


# a command reads the file more than once; the same text is checked once (the result is frozen)
@lru_cache(maxsize=16)
def parse_fee_tables(text: str, source: str = "the RTI fee tables") -> FeeTables:
    data, node = parse_yaml(text, source, _FILE)
    problems = [*duplicate_keys(node), *schema_problems(data, _schema(), _FIELDS, "docs/rti.md")]
    if problems:
        raise ConfigError(describe(source, problems, node))
    return FeeTables({key: _table(key, item) for key, item in data["jurisdictions"].items()}, source)


@cache
def _schema() -> dict[str, Any]:
    return read_json_schema(FEES_SCHEMA_PATH)


def _rate(item: dict[str, Any]) -> Rate:
    return Rate(Decimal(str(item["inr"])), item["cite"], item["status"])


def _table(key: str, item: dict[str, Any]) -> FeeTable:
    inspection = item["inspection"]
    postage = item["postage"]
    return FeeTable(
        key=key,
        name=item["name"],
        rules=item["rules"],
        application_fee=_rate(item["application_fee"]),
        first_appeal_fee=_rate(item["first_appeal_fee"]),
        page=_rate(item["page"]),
        media=_rate(item["media"]),
        publication_extract_page=_rate(item["publication_extract_page"]),
        actual_cost_cite=item["actual_cost_cite"],
        inspection_free_minutes=inspection["free_minutes"],
        inspection_per_hour=Rate(Decimal(str(inspection["inr_per_hour"])), inspection["cite"], inspection["status"]),
        postage_above=Rate(Decimal(str(postage["charged_above_inr"])), postage["cite"], postage["status"]),
        bpl_cite=item["bpl"]["cite"],
    )


_FIELDS: dict[str, tuple[str, str]] = {
    "version": ("a whole number from 1 upward", "The edition of the file; raise it by one with each change."),
    "jurisdictions": ("a mapping of jurisdiction keys (central, or a State in lower case) to fee tables", "See the default file."),
    "name": ("text", "Name the Government whose rules these are."),
    "rules": ("text", "Name the rules, with their number and date."),
    "source": ("text", "Name the rule book's source, e.g. S5."),
    "inr": ("a number of rupees, 0 or more", "Write rupees without the sign: 10, or 2.50."),
    "cite": ("text citing the rule", "Cite the rule as a notice does, e.g. RTI Rules 2012 r.4(a)."),
    "status": ("V, S, U", "V: checked against the rules; S: secondary source; U: uncertain (the fee intimation marks it)."),
    "actual_cost_cite": ("text citing the rule", "Cite the rule for what is charged at cost."),
    "free_minutes": ("a whole number of minutes", "Write the free minutes of inspection: 60."),
    "inr_per_hour": ("a number of rupees, 0 or more", "Write rupees without the sign: 5."),
    "charged_above_inr": ("a number of rupees, 0 or more", "Write rupees without the sign: 50."),
    **{name: ("a mapping with inr, cite and status", "Write it as {inr: 10, cite: \"...\", status: V}.") for name in ("application_fee", "first_appeal_fee", "page", "media", "publication_extract_page")},
    "inspection": ("a mapping with free_minutes, inr_per_hour, cite and status", "See the central table."),
    "postage": ("a mapping with charged_above_inr, cite and status", "See the central table."),
    "bpl": ("a mapping with cite and status", "Cite the BPL exemption: RTI s.7(5) proviso."),
}
