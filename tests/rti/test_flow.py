"""A request's scope, holds, review and package through ``sangrah rti``, on a copy of the sample
archive with its search index and a catalog with one user per role: what the RTI cell relies on,
refusals that name the field and the rule, and the audit entry of every step."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import bagit
import pytest
from click.testing import Result
from sqlalchemy import select

from archiver.access.users import authorize
from archiver.catalog.annotations import active_holds, records_of_hold
from archiver.catalog.audit import iter_entries, verify_chain
from archiver.catalog.rti_review_tables import rti_decisions, rti_suggestions
from archiver.config import Config
from archiver.pipeline import index, open_catalog, rti_rules
from archiver.pipeline.legal_holds import legal_hold_problems
from archiver.rti.deadlines import ist_day
from archiver.rti.holds import hold_window, release_request_holds, request_holds
from archiver.rti.register import get_case
from archiver.rti.review_catalog import load_review, request_ref_for
from tests.rti.conftest import Archive, staffed_copy
from tests.rti.leaks import find_leaks
from tests.rti_fixtures import APPLICANT, run

REGNO = "DOWR/R/2026/00031"
QUERY = "flood relief"


@dataclass(frozen=True)
class Flow:
    config: Config
    config_file: Path
    archive: Archive

    def rti(self, user: str, *args: str) -> Result:
        return run(self.config_file, user, "rti", *args)

    def json(self, user: str, *args: str) -> object:
        result = self.rti(user, *args, "--json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)


@pytest.fixture(scope="module")
def flow(archive: Archive, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flow]:
    """A copy of the sample archive, indexed, with users, the public authority's particulars and a key."""
    root = tmp_path_factory.mktemp("flow")
    config, config_file = staffed_copy(archive, root, {"signing_key_file": str(root / "keys" / "rti.pem")})
    index(config)
    flow = Flow(config, config_file, archive)
    registered = flow.rti(
        "cpio", "new", REGNO, "--received-at", "2026-11-20 10:00", "--mode", "online_portal", "--subject", "Replies to the flood relief posts",
        "--name", APPLICANT["name"], "--address", APPLICANT["address"], "--fee-paid", "10",
    )
    assert registered.exit_code == 0, registered.output
    yield flow


def _held(flow: Flow) -> dict[str, list[str]]:
    catalog = open_catalog(flow.config)
    try:
        return {h.hold_type: records_of_hold(catalog, h.id) for h in request_holds(catalog, REGNO)}
    finally:
        catalog.close()


def test_a_search_in_the_scope_puts_its_records_on_an_rti_pending_hold(flow: Flow) -> None:
    added = flow.rti("cpio", "hold", REGNO, "--search", QUERY, "--filter", "by=citizen")
    assert added.exit_code == 0, added.output
    listed = flow.json("auditor", "hold", REGNO, "--list")
    assert isinstance(listed, dict)
    [entry] = listed["scope"]
    assert entry["id"] == "Q-1" and entry["query"] == QUERY and entry["filters"] == ["by=citizen"] and entry["added_by"] == "cpio"
    found = listed["records"]
    assert len(found) == entry["found"] > 0
    assert added.stderr.startswith(f"{REGNO}: Q-1 search 'flood relief' --filter by=citizen: {len(found)} record(s), {len(found)} new to the scope ({len(found)} in all)\n")
    held = _held(flow)
    assert list(held) == ["RTI_PENDING"] and held["RTI_PENDING"] == sorted(found)
    [hold] = listed["holds"]
    assert hold["type"] == "RTI_PENDING" and hold["reference"] == REGNO and hold["placed_by"] == "cpio" and hold["released_at"] is None
    # picked records join the same hold; a malformed id is refused naming it
    picked = next(r["record_id"] for r in flow.archive.rows(["record_id", "kind"]) if r["kind"] == "post")
    assert flow.rti("cpio", "hold", REGNO, "--records", str(picked)).exit_code == 0
    assert str(picked) in _held(flow)["RTI_PENDING"]
    bad = flow.rti("cpio", "hold", REGNO, "--records", "tweet-123")
    assert bad.exit_code == 1 and "'tweet-123' is not a record id; write it as platform:native_id" in bad.stderr
    # the store step followed: no change of the request's holds is left for the WARC objects' legal hold
    catalog = open_catalog(flow.config)
    try:
        assert legal_hold_problems(catalog) == []
    finally:
        catalog.close()
    # the hold shows in search, on each record it covers
    shown = run(flow.config_file, None, "search", QUERY, "--filter", "by=citizen", "--json")
    hits = json.loads(shown.stdout)["hits"]
    assert shown.exit_code == 0 and hits
    assert all(("RTI_PENDING", REGNO) in [(h["type"], h["reference"]) for h in hit["holds"]] for hit in hits)


def test_the_holds_are_released_only_by_the_role_and_only_when_the_law_lets_go(flow: Flow) -> None:
    refused = flow.rti("responder", "hold", REGNO, "--release", "--reason", "done")
    assert refused.exit_code == 1 and "rti hold release needs the role pio or records_officer; 'responder' holds responder" in refused.stderr
    pending = flow.rti("records", "hold", REGNO, "--release", "--reason", "done")
    assert pending.exit_code == 1 and f"{REGNO}: the request is received, not closed; its records stay on hold until it is closed" in pending.stderr
    assert _held(flow)["RTI_PENDING"]  # still in force
    audit = [(e.actor, e.action, e.outcome) for e in iter_entries(open_catalog(flow.config).engine, target=REGNO) if e.action.startswith("rti_hold")]
    assert ("responder", "rti_hold_release", "refused") in audit


def test_review_decisions_are_checked_before_they_are_written(flow: Flow) -> None:
    suggested = flow.rti("cpio", "review", "suggest", REGNO)
    assert suggested.exit_code == 0, suggested.output
    records = [json.loads(line) for line in flow.rti("auditor", "review", "list", REGNO, "--json").stdout.splitlines()]
    suggestions = [json.loads(line) for line in flow.rti("auditor", "review", "list", REGNO, "--suggestions", "--json").stdout.splitlines()]
    by_department = {r["record_id"]: r["by_department"] for r in records}
    assert any(by_department.values()) and not all(by_department.values())  # threads expanded: the department's posts came in
    assert suggestions and not [s for s in suggestions if by_department[s["record_id"]]]  # never the department's own posts
    # threads expanded: the review set holds every record on hold
    assert set(by_department) == set(_held(flow)["RTI_PENDING"])
    citizen = next(rid for rid, dept in by_department.items() if not dept)

    no_section = flow.rti("cpio", "review", "decide", REGNO, citizen, "--as", "withhold")
    assert no_section.exit_code == 1 and "--section is required to withhold a record: the exemption, 8(1)(a)-(j), 9 or 11 (RTI ss.8-10, R5)" in no_section.stderr
    unknown = flow.rti("cpio", "review", "decide", REGNO, citizen, "--as", "withhold", "--section", "8(1)(z)")
    assert unknown.exit_code == 1 and f"{citizen}: is withheld under '8(1)(z)', which is not an exemption" in unknown.stderr and "[RTI ss.8-10 (R5)]" in unknown.stderr
    bad_clause = flow.rti("cpio", "review", "decide", REGNO, citizen, "--as", "redact", "--sever", "text:0:4:8(1)(q)")
    assert bad_clause.exit_code == 1 and "--sever cites '8(1)(q)', which is not an exemption" in bad_clause.stderr
    outside = flow.rti("cpio", "review", "decide", REGNO, citizen, "--as", "redact", "--sever", "text:0:99999:8(1)(j)")
    assert outside.exit_code == 1 and "--sever text:0:99999 lies outside text" in outside.stderr
    bare_override = flow.rti("cpio", "review", "decide", REGNO, citizen, "--as", "disclose", "--override", "8(1)(j)")
    assert bare_override.exit_code == 1 and "--override-reasons is required with --override" in bare_override.stderr
    not_pio = flow.rti("auditor", "review", "decide", REGNO, citizen, "--as", "disclose")
    assert not_pio.exit_code == 1 and "rti review decide needs the role pio" in not_pio.stderr
    catalog = open_catalog(flow.config)
    with catalog.engine.connect() as conn:
        assert conn.execute(select(rti_decisions.c.id)).first() is None  # nothing of a refused decision was written
    catalog.close()


def test_an_unfinished_review_is_not_packaged_and_leaves_nothing(flow: Flow, tmp_path: Path) -> None:
    out = tmp_path / "out"
    refused = flow.rti("cpio", "package", REGNO, "--out", str(out))
    assert refused.exit_code == 1
    assert f"{REGNO}: the review is unfinished, so no package is made: " in refused.stderr and "record(s) undecided, e.g. " in refused.stderr
    assert "has no decision yet; decide disclose, withhold or redact [RTI s.7(1) (R5: every record decided before the reply)]" in refused.stderr
    assert not out.exists() or not list(out.iterdir())
    status = flow.rti("auditor", "review", "status", REGNO)
    assert status.exit_code == 1 and "undecided" in status.stdout


def test_the_review_is_finished_and_packaged(flow: Flow, tmp_path: Path) -> None:
    suggestions = [json.loads(line) for line in flow.rti("cpio", "review", "list", REGNO, "--suggestions", "--open", "--json").stdout.splitlines()]
    first, second = suggestions[0], next(s for s in suggestions[1:] if s["end"] - s["start"] > 2)
    rejected = flow.rti("cpio", "review", "reject", REGNO, first["id"], "--reason", "the name of a public official acting as such")
    assert rejected.exit_code == 0 and rejected.stderr == f"{REGNO}: 1 suggestion(s) rejected\n"
    edited = flow.rti("cpio", "review", "accept", REGNO, second["id"], "--span", f"{second['start']}-{second['end'] - 1}")
    assert edited.exit_code == 0, edited.output
    again = flow.rti("cpio", "review", "accept", REGNO, second["id"])
    assert again.exit_code == 1 and f"{second['id']} (edited) already answered" in again.stderr
    accepted = flow.rti("cpio", "review", "accept", REGNO, "--all")
    assert accepted.exit_code == 0 and accepted.stderr.startswith(f"{REGNO}: {len(suggestions) - 2} suggestion(s) accepted; ")
    records = [json.loads(line) for line in flow.rti("cpio", "review", "list", REGNO, "--json").stdout.splitlines()]
    redacted = [r for r in records if r["decision"] == "redact" and r["record_id"] not in (first["record_id"], second["record_id"])]
    # withhold one, override for another (reasons recorded), disclose the rest
    withheld = redacted[0]["record_id"]
    assert flow.rti("cpio", "review", "decide", REGNO, withheld, "--as", "withhold", "--section", "8(1)(j)", "--reasons", "names a patient").exit_code == 0
    overridden = redacted[1]["record_id"]
    override = flow.rti("cpio", "review", "decide", REGNO, overridden, "--as", "disclose", "--override", "8(1)(j)", "--override-reasons", "the relief camp's failures are a public interest")
    assert override.exit_code == 0, override.output
    rest = flow.rti("cpio", "review", "decide", REGNO, "--undecided", "--as", "disclose")
    assert rest.exit_code == 0, rest.output
    status = flow.json("auditor", "review", "status", REGNO)
    assert isinstance(status, dict) and status["ready"] and status["undecided"] == 0 and status["withhold"] == 1

    no_decision = flow.rti("cpio", "package", REGNO, "--out", str(tmp_path))
    assert no_decision.exit_code == 1 and f"{REGNO}: no decision is recorded, and the package carries the reply" in no_decision.stderr
    decided = flow.rti(
        "cpio", "decide", REGNO, "--outcome", "partly_disclosed", "--section", "8(1)(j)", "--reasons", "personal information of citizens who replied",
        "--disclosed", str(status["disclose"]), "--redacted", str(status["redact"]), "--withheld", "1",
    )
    assert decided.exit_code == 0, decided.output
    no_key = flow.rti("cpio", "package", REGNO, "--out", str(tmp_path))
    assert no_key.exit_code == 2 and "rti.pem: cannot be read" in no_key.stderr  # a configuration error
    assert flow.rti("responder", "keygen").exit_code == 1
    key = flow.rti("admin", "keygen")
    assert key.exit_code == 0 and key.stdout.startswith("fingerprint ")
    key_file = Path(flow.config.disclosure.signing_key_file or "")
    assert key_file.stat().st_mode & 0o077 == 0 and key_file.read_text()[:10] not in key.output + key.stderr
    assert flow.rti("admin", "keygen").exit_code == 2  # never overwritten

    built = flow.json("cpio", "package", REGNO, "--out", str(tmp_path / "packages"))
    assert isinstance(built, dict)
    folder = Path(built["folder"])
    assert [p.name for p in (tmp_path / "packages").iterdir()] == [folder.name]
    for copy in ("applicant", "internal"):
        bagit.Bag(str(folder / copy)).validate()
    catalog = open_catalog(flow.config)
    loaded = load_review(catalog, REGNO, flow.config.records_dir, request_ref_for(flow.config.rti, get_case(catalog, REGNO)))
    severed = [r.text for d in loaded.review.decisions.values() for r in d.redactions] + [r.text for r in loaded.versions(withheld)]
    assert len(severed) > 50
    with catalog.engine.connect() as conn:
        answers = dict(conn.execute(select(rti_suggestions.c.status, rti_suggestions.c.answer_reason).where(rti_suggestions.c.status == "rejected")).all())
    assert answers == {"rejected": "the name of a public official acting as such"}
    assert find_leaks(folder / "applicant", severed) == []
    internal_log = (folder / "internal" / "data").rglob("*.csv")
    assert any("the name of a public official acting as such" in p.read_text("utf-8-sig") for p in internal_log)
    actions = [e.action for e in iter_entries(catalog.engine, target=REGNO) if e.outcome == "ok"]
    for action in ("rti_scope_add", "rti_review_build", "rti_redaction_reject", "rti_redaction_accept", "rti_review_decide", "rti_decision", "rti_package"):
        assert action in actions, action
    [export] = [e for e in iter_entries(catalog.engine, action="rti_package") if e.outcome == "ok"]
    assert export.actor == "cpio" and export.details["applicant_zip_sha256"] == built["applicant_zip_sha256"] and export.details["withheld"] == 1
    assert verify_chain(catalog.engine).intact
    catalog.close()


def test_after_the_close_the_holds_are_released_once_the_window_has_lapsed(flow: Flow) -> None:
    closed = flow.rti("cpio", "close", REGNO, "--reason", "information supplied")
    assert closed.exit_code == 0, closed.output
    early = flow.rti("records", "hold", REGNO, "--release", "--reason", "appeal windows over")
    assert early.exit_code == 1 and f"{REGNO}: the records are on hold until " in early.stderr and "they cannot be released before that" in early.stderr
    catalog = open_catalog(flow.config)
    try:
        rules = rti_rules(flow.config)
        case = get_case(catalog, REGNO)
        from datetime import datetime, timezone

        now = datetime.now(timezone.utc)
        window = hold_window(case, case.deadlines(rules.timelines, now), rules.timelines)
        assert window.until is not None and not window.open
        actor = authorize(catalog, "records", "rti hold release", target=REGNO)
        held = records_of_hold(catalog, request_holds(catalog, REGNO)[0].id)
        released = release_request_holds(catalog, case, window, actor=actor.name, reason="second appeal window over, no appeal filed", today=window.until + timedelta(days=1))
        assert [(h.hold_type, h.released_by, h.release_reason) for h in released] == [("RTI_PENDING", "records", "second appeal window over, no appeal filed")]
        assert active_holds(catalog, held) == {}
        assert [e.details["reason"] for e in iter_entries(catalog.engine, action="hold_release")] == ["second appeal window over, no appeal filed"]
        assert ist_day(now) <= window.until
    finally:
        catalog.close()
