"""The demo's RTI request: one request over the sample archive, from receipt to its package.

``run_rti_demo`` does with the library what the RTI cell does with ``sangrah rti``: it adds the
demo's users (an administrator and a CPIO), a signing key, a configuration file naming the
public authority (``DATA_DIR/sangrah-rti-demo.yaml``, for the commands printed afterwards),
registers the request, saves a search in its scope (its records go on hold), builds the review
set, accepts every redaction suggestion, withholds one citizen's reply under s.8(1)(j),
discloses the rest, records the decision and builds the package. Run again (``demo --night
1``), it keeps the request and its review, decides what is new, and builds a new package.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from archiver.access.users import add_user, authorize, get_user
from archiver.config import Config, DisclosureSettings, OfficerSettings, RtiSettings
from archiver.errors import RtiError
from archiver.rti.deadlines import ist_day
from archiver.rti.disclose import PackageRun, package_request
from archiver.rti.holds import HoldSync, hold_window, sync_request_hold
from archiver.rti.register import get_case, record_event, register_request
from archiver.rti.request import Applicant, NewRequest
from archiver.rti.review_catalog import accept_suggestions, build_review_set, decide, load_review, request_ref_for, summary_of
from archiver.rti.scope import add_search, list_scope
from archiver.rti.states import Event

__all__ = ["SAMPLE_RTI", "DEMO_QUERY", "DEMO_FILTERS", "DEMO_CPIO", "DemoRequest", "demo_config", "run_rti_demo"]

DEMO_QUERY = '"flood relief" OR helpline'
DEMO_FILTERS: tuple[str, ...] = ()
DEMO_ADMIN = "demo-admin"
DEMO_CPIO = "demo-cpio"

#: the sample public authority's particulars, as ``rti:`` in a config file
SAMPLE_RTI: dict[str, Any] = {
    "public_authority": "Department of Water Resources (sample)",
    "address": "Shram Shakti Bhawan, Rafi Marg, New Delhi",
    "cpio": {"name": "A. K. Verma", "designation": "Under Secretary and CPIO", "phone": "011-23710000", "email": "cpio@example.gov.in"},
    "faa": {"name": "S. Iyer", "designation": "Director and First Appellate Authority", "address": "Room 210, Shram Shakti Bhawan, New Delhi", "phone": "011-23710001", "email": "faa@example.gov.in"},
}


@dataclass(frozen=True)
class DemoRequest:
    registration_no: str
    config_file: Path
    scope_records: int
    holds: HoldSync
    suggestions_accepted: int
    withheld: str | None
    package: PackageRun


def demo_config(config: Config) -> Config:
    """``config`` with the sample public authority and a signing key under DATA_DIR, where unset."""
    rti = config.rti if config.rti.public_authority and config.rti.cpio else RtiSettings(
        **{**config.rti.model_dump(), **SAMPLE_RTI, "cpio": OfficerSettings(**SAMPLE_RTI["cpio"]), "faa": OfficerSettings(**SAMPLE_RTI["faa"])}
    )
    key = config.disclosure.signing_key_file or (config.data_dir / "keys" / "rti-signing.pem").resolve()
    disclosure = DisclosureSettings(**{**config.disclosure.model_dump(), "signing_key_file": key})
    return config.model_copy(update={"rti": rti, "disclosure": disclosure})


def _write_config(config: Config) -> Path:
    path = config.data_dir / "sangrah-rti-demo.yaml"
    data: dict[str, Any] = {
        "data_dir": str(config.data_dir.resolve()),
        "rti": config.rti.model_dump(mode="json", exclude_none=True),
        "disclosure": config.disclosure.model_dump(mode="json", exclude_none=True),
    }
    if config.catalog_url:
        data["catalog_url"] = config.catalog_url
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def run_rti_demo(config: Config, *, now: datetime | None = None) -> DemoRequest:
    from archiver.pipeline import open_catalog, rti_rules, search_all_ids
    from archiver.pipeline.legal_holds import sync_legal_holds
    from archiver.rti.package import generate_signing_key
    from archiver.search.query import parse_filters, parse_query

    now = now or datetime.now(timezone.utc)
    config = demo_config(config)
    config_file = _write_config(config)
    key = config.disclosure.signing_key_file
    assert key is not None
    if not key.exists():
        generate_signing_key(key)
    rules = rti_rules(config)
    regno = f"SMPL/R/{now.year}/00001"
    catalog = open_catalog(config)
    try:
        if get_user(catalog, DEMO_ADMIN) is None:
            add_user(catalog, DEMO_ADMIN, DEMO_ADMIN, full_name="Demo Administrator", roles=("administrator",))
        if get_user(catalog, DEMO_CPIO) is None:
            add_user(catalog, DEMO_ADMIN, DEMO_CPIO, full_name="A. K. Verma", designation="Under Secretary and CPIO", roles=("pio",))
        try:
            case = get_case(catalog, regno)
        except RtiError:
            new = NewRequest(
                registration_no=regno, received_at=now - timedelta(days=3), mode="online_portal",
                subject="Copies of the replies of citizens to the department's posts on flood relief and its helpline",
                applicant=Applicant("Sample Applicant", "1 Sample Road, New Delhi 110001", None), fee_paid_inr=Decimal(10),
            )
            case = register_request(
                catalog, authorize(catalog, DEMO_CPIO, "rti new"), new, now=now, pattern=config.rti.registration_pattern, fee_table=rules.fee_table, timelines=rules.timelines,
            ).case
        holder = authorize(catalog, DEMO_CPIO, "rti hold", target=regno)
        found = search_all_ids(config, parse_query(DEMO_QUERY), parse_filters(DEMO_FILTERS))
        if not any(e.kind == "search" and e.query == DEMO_QUERY for e in list_scope(catalog, regno)):
            add_search(catalog, holder, regno, DEMO_QUERY, DEMO_FILTERS, found, now=now)
        scope = len(found)
        reviewer = authorize(catalog, DEMO_CPIO, "rti review decide", target=regno)
        build_review_set(catalog, reviewer, regno, config.records_dir, now=now)
        case = get_case(catalog, regno)
        holds = sync_request_hold(catalog, case, hold_window(case, case.deadlines(rules.timelines, now), rules.timelines), actor=holder.name, today=ist_day(now))
        request = request_ref_for(config.rti, case)
        loaded = load_review(catalog, regno, config.records_dir, request)
        accepted, _ = accept_suggestions(catalog, reviewer, loaded, None, now=now) if any(s.status == "open" for s in loaded.suggestions) else (0, 0)
        loaded = load_review(catalog, regno, config.records_dir, request)
        citizens = [r for r in loaded.review.records if not r.by_department and r.text]
        withheld = citizens[0].record_id if citizens and case.decision is None else None
        if withheld:
            decide(catalog, reviewer, loaded, [withheld], "withhold", clauses=("8(1)(j)",), reasons="a complaint that names the writer's family and their illness", now=now)
            loaded = load_review(catalog, regno, config.records_dir, request)
        if loaded.undecided():
            decide(catalog, reviewer, loaded, loaded.undecided(), "disclose", reasons="the department's posts and the replies to them, as published", now=now)
            loaded = load_review(catalog, regno, config.records_dir, request)
        if case.decision is None:
            summary = summary_of(loaded)
            details = {"outcome": "partly_disclosed", "sections": list(summary.sections), "reasons": "personal information of third parties who replied (s.8(1)(j))", "findings": None, "summary": summary.to_json()}
            record_event(catalog, authorize(catalog, DEMO_CPIO, "rti decide", target=regno), regno, Event("decision", now, details["reasons"], None, details), now=now, timelines=rules.timelines)  # type: ignore[arg-type]
        run = package_request(catalog, authorize(catalog, DEMO_CPIO, "rti package", target=regno), config, regno, config.packages_dir, now=now)
        sync_legal_holds(config, actor=DEMO_CPIO, catalog=catalog)  # the store step of the holds placed above
    finally:
        catalog.close()
    return DemoRequest(regno, config_file, scope, holds, accepted, withheld, run)
