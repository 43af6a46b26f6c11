"""The scope, the holds and the review as the catalog keeps them, on SQLite and on PostgreSQL:
holds follow every change of the request, decisions come back as they were made, and a refused
change writes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from archiver.access.users import add_user
from archiver.catalog import Catalog
from archiver.catalog.annotations import active_holds, records_of_hold
from archiver.catalog.audit import iter_entries, verify_chain
from archiver.catalog.rti_review_tables import rti_decisions
from archiver.config import Config, load_config
from archiver.errors import DisclosureError, RtiError
from archiver.pipeline import rti_rules
from archiver.rti.holds import hold_window, lapsed, request_holds
from archiver.rti.register import get_case
from archiver.rti.review_catalog import Sever, accept_suggestions, build_review_set, decide, load_review, request_ref_for
from archiver.rti.timelines import Timelines
from archiver.rti.scope import add_records, list_scope, scope_record_ids
from tests.rti.conftest import Archive
from tests.rti_fixtures import NOW, RTI_SETTINGS, USERS, actor, event, ist, register

REGNO = "DOWR/R/2026/00012"


@pytest.fixture
def catalog(catalog_url: str, tmp_path: Path) -> Iterator[tuple[Catalog, Config]]:
    config = load_config(None, overrides={"data_dir": str(tmp_path / "data"), "rti": RTI_SETTINGS}).model_copy(update={"catalog_url": catalog_url})
    catalog = Catalog(catalog_url)
    catalog.migrate()
    add_user(catalog, "admin", "admin", full_name="Records Administrator", roles=USERS["admin"])
    add_user(catalog, "admin", "cpio", full_name="Cpio Officer", roles=USERS["cpio"])
    try:
        yield catalog, config
    finally:
        catalog.close()


def _citizen_replies(archive: Archive, count: int) -> list[str]:
    rows = archive.rows(["record_id", "kind", "by_department", "text"])
    return sorted({str(r["record_id"]) for r in rows if not r["by_department"] and r["kind"] != "post" and r["text"]})[:count]


def test_holds_follow_the_request_and_the_review_comes_back_as_decided(catalog: tuple[Catalog, Config], archive: Archive) -> None:
    cat, config = catalog
    register(cat, config)
    picked = _citizen_replies(archive, 3)
    change = add_records(cat, actor(cat, "cpio", "rti hold"), REGNO, picked + [picked[0]], now=NOW)
    assert (change.added, change.total, change.entry.label, change.entry.kind) == (3, 3, "Q-1", "records")
    assert scope_record_ids(cat, REGNO) == picked and [e.added_by for e in list_scope(cat, REGNO)] == ["cpio"]
    with pytest.raises(RtiError, match="'x-1' is not a record id") as bad:
        add_records(cat, actor(cat, "cpio", "rti hold"), REGNO, ["x-1"], now=NOW)
    assert (bad.value.field, bad.value.rule) == ("record_id", "R11")

    # the next change of the request places the hold (the scope alone waits for it, or for rti hold)
    event(cat, config, "advance", ist(2026, 3, 3), "search started", command="rti advance", to_state="searching")
    [pending] = request_holds(cat, REGNO)
    assert (pending.hold_type, pending.reference, pending.placed_by) == ("RTI_PENDING", REGNO, "cpio")
    assert records_of_hold(cat, pending.id) == picked

    # the review set brings in the threads, and they go on the same hold
    built = build_review_set(cat, actor(cat, "cpio", "rti review suggest"), REGNO, archive.records_dir, now=NOW)
    assert built.records > 3 and built.added == built.records and built.suggested > 0 and built.missing == ()
    event(cat, config, "third_party_notice", ist(2026, 3, 5), "a reply names a contractor", command="rti notice", third_party=("Contractor", "Patna", "the reply"))
    holds = {h.hold_type: h for h in request_holds(cat, REGNO)}
    assert sorted(holds) == ["RTI_PENDING", "THIRD_PARTY_WINDOW"] and holds["RTI_PENDING"].id == pending.id  # placed once, then added to
    assert len(records_of_hold(cat, pending.id)) == built.records == len(records_of_hold(cat, holds["THIRD_PARTY_WINDOW"].id))

    case = get_case(cat, REGNO)
    request = request_ref_for(config.rti, case)
    loaded = load_review(cat, REGNO, archive.records_dir, request)
    reviewer = actor(cat, "cpio", "rti review decide")
    accepted, redacted = accept_suggestions(cat, actor(cat, "cpio", "rti review accept"), loaded, None, now=NOW)
    assert accepted == sum(1 for s in loaded.suggestions) and redacted > 0
    loaded = load_review(cat, REGNO, archive.records_dir, request)
    target = picked[1]
    text = loaded.versions(target)[-1].text
    before = len(loaded.review.decision(target).redactions)  # type: ignore[union-attr]
    taken = [(r.start, r.end) for r in loaded.review.decision(target).redactions if r.field == "text"]  # type: ignore[union-attr]
    free = next(i for i in range(len(text)) if not any(a <= i < b for a, b in taken))
    decide(cat, reviewer, loaded, [target], "redact", severs=[Sever("text", free, free + 1, "8(1)(g)")], now=NOW)
    back = load_review(cat, REGNO, archive.records_dir, request)
    decision = back.review.decision(target)
    assert decision is not None and decision.kind == "redact" and decision.decided_by == "cpio"
    assert len(decision.redactions) == before + 1 and decision.redactions[-1].clause == "8(1)(g)" and decision.redactions[-1].text == text[free]
    assert {r.origin for r in decision.redactions} <= {"accepted", "added"} and all(r.clause for r in decision.redactions)

    # a refusal writes nothing: withholding without a section
    with cat.engine.connect() as conn:
        rows = conn.execute(select(func.count()).select_from(rti_decisions)).scalar_one()
    with pytest.raises(DisclosureError, match=r"is withheld without an exemption section") as refused:
        decide(cat, reviewer, back, [picked[2]], "withhold", reasons="x", now=NOW)
    assert refused.value.rule == "RTI ss.8-10 (R5)" and refused.value.record_id == picked[2]
    with cat.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(rti_decisions)).scalar_one() == rows

    # while the request is pending the window is open: the holds cannot lapse
    window = hold_window(case, case.deadlines(rti_rules_of(config), NOW), rti_rules_of(config))
    assert window.open and not lapsed(window, NOW.date() + timedelta(days=3650))
    assert set(active_holds(cat, picked)) == set(picked)
    actions = [e.action for e in iter_entries(cat.engine, target=REGNO)]
    assert {"rti_scope_add", "rti_review_build", "rti_redaction_accept", "rti_review_decide"} <= set(actions)
    assert verify_chain(cat.engine).intact


def rti_rules_of(config: Config) -> Timelines:
    return rti_rules(config).timelines


def test_a_section_8_1_clause_is_refused_twenty_years_after_the_event(catalog: tuple[Catalog, Config], archive: Archive) -> None:
    cat, config = catalog
    register(cat, config)
    [picked] = _citizen_replies(archive, 1)
    add_records(cat, actor(cat, "cpio", "rti hold"), REGNO, [picked], now=NOW)
    build_review_set(cat, actor(cat, "cpio", "rti review suggest"), REGNO, archive.records_dir, now=NOW)
    loaded = load_review(cat, REGNO, archive.records_dir, request_ref_for(config.rti, get_case(cat, REGNO)))
    # the same review as if the request had come in 2060: the records' events are then over twenty years old
    late = replace(loaded, review=replace(loaded.review, request=replace(loaded.review.request, received_on=date(2060, 1, 1))))
    reviewer = actor(cat, "cpio", "rti review decide")
    with pytest.raises(DisclosureError, match=r"more than twenty years before the request \(01/01/2060\): only 8\(1\)\(a\), \(c\) and \(i\) survive, not 8\(1\)\(j\)") as refused:
        decide(cat, reviewer, late, [picked], "withhold", clauses=("8(1)(j)",), reasons="personal information", now=NOW)
    assert refused.value.rule == "RTI s.8(3)" and refused.value.record_id == picked
    [kept] = decide(cat, reviewer, late, [picked], "withhold", clauses=("8(1)(a)",), reasons="security of the State", now=NOW)
    assert kept.clauses == ("8(1)(a)",)
