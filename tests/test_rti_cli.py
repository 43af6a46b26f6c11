"""The RTI commands as the RTI cell runs them: a request from receipt to close, what each role
may see and do, refusals that name the field and the rule, and the audit entry every command leaves.
Each runs on a SQLite catalog and on a PostgreSQL one."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from archiver.catalog import Catalog
from archiver.catalog.audit import iter_entries, verify_chain
from archiver.catalog.rti_tables import rti_events
from archiver.config import Config
from archiver.pipeline import rti_due
from archiver.rti.register import third_parties_of
from tests.rti_fixtures import APPLICANT, actor, run

pytestmark = pytest.mark.both_catalogs

REGNO = "DOWR/R/2026/00012"


def new(config_file: Path, *extra: str, regno: str = REGNO, user: str = "cpio") -> str:
    result = run(
        config_file, user, "rti", "new", regno, "--received-at", "2026-03-02 10:00", "--mode", "online_portal",
        "--subject", "Replies to the department's flood-relief posts of March 2026", "--name", APPLICANT["name"],
        "--address", APPLICANT["address"], "--contact", APPLICANT["contact"], "--fee-paid", "10", *extra,
    )
    assert result.exit_code == 0, result.output
    return result.stderr


def test_a_request_from_receipt_to_close(staffed: Catalog, rti_config: Config, rti_config_file: Path, tmp_path: Path) -> None:
    assert new(rti_config_file) == f"registered {REGNO}, received 02/03/2026 10:00 IST: reply to the applicant by 01/04/2026 (RTI s.7(1))\n"
    advanced = run(rti_config_file, "cpio", "rti", "advance", REGNO, "searching", "--reason", "archive search started", "--at", "2026-03-03 11:00")
    assert advanced.exit_code == 0 and advanced.stderr == f"{REGNO} is now searching\n"

    fee_file = tmp_path / "fee.html"
    fee = run(rti_config_file, "cpio", "rti", "notice", REGNO, "--kind", "fee", "--pages", "40", "--out", str(fee_file), "--at", "2026-03-10 15:00")
    assert fee.exit_code == 0, fee.output
    assert fee.stderr.startswith(f"wrote the fee notice of {REGNO} to {fee_file} (SHA-256 ")
    assert "<h2>Intimation of further fees under section 7(3) of the Right to Information Act, 2005</h2>" in fee_file.read_text()
    assert not list(tmp_path.glob(".*.part"))
    paid = run(rti_config_file, "cpio", "rti", "record", REGNO, "fee-paid", "--amount", "80", "--at", "2026-03-20")
    # 10 days paused (10/03 to 20/03): 01/04/2026 + 10 = 11/04/2026
    assert paid.exit_code == 0 and paid.stderr.endswith("reply to the applicant by 11/04/2026 (RTI s.7(1); RTI s.7(3)(a))\n")

    decided = run(
        rti_config_file, "cpio", "rti", "decide", REGNO, "--outcome", "partly_disclosed", "--section", "8(1)(j)",
        "--reasons", "names and handles of citizens who replied are personal information", "--disclosed", "12", "--redacted", "3", "--withheld", "2", "--at", "2026-03-25 16:00",
    )
    # decided 25/03/2026: 30 days end 24/04/2026 (a Friday)
    assert decided.exit_code == 0 and decided.stderr == f"{REGNO} decided: partly disclosed; a first appeal lies until 24/04/2026 (RTI s.19(1))\n"
    reply = run(rti_config_file, "cpio", "rti", "notice", REGNO, "--kind", "reply", "--at", "2026-03-25 16:05")
    assert reply.exit_code == 0
    assert "Notice under section 10(2) of the RTI Act" in reply.stdout and APPLICANT["name"] in reply.stdout

    appeal = run(rti_config_file, "faa", "rti", "appeal", REGNO, "first", "--at", "2026-04-10")
    assert appeal.exit_code == 0 and appeal.stderr == f"{REGNO}: first appeal recorded; the FAA decides by 10/05/2026 (RTI s.19(6))\n"
    extended = run(rti_config_file, "faa", "rti", "appeal", REGNO, "extend", "--reason", "the records of three platforms are to be examined", "--at", "2026-04-20")
    assert extended.exit_code == 0 and extended.stderr == f"{REGNO}: the FAA's reasons are recorded; it decides by 25/05/2026 (RTI s.19(6) (reasons recorded in writing))\n"
    faa = run(rti_config_file, "faa", "rti", "appeal", REGNO, "decided", "--outcome", "dismissed", "--at", "2026-05-20")
    # 90 days from 20/05/2026: 18/08/2026 (a Tuesday)
    assert faa.exit_code == 0 and faa.stderr == f"{REGNO}: the FAA's decision is recorded; a second appeal lies until 18/08/2026 (RTI s.19(3))\n"
    closed = run(rti_config_file, "cpio", "rti", "close", REGNO, "--reason", "the FAA dismissed the appeal", "--at", "2026-05-21")
    assert closed.exit_code == 0
    assert closed.stderr == f"{REGNO} closed; records on hold until 17/09/2026: until the last appeal window closes (18/08/2026) and 30 days more\n"

    shown = run(rti_config_file, "cpio", "rti", "show", REGNO, "--json")
    data = json.loads(shown.stdout)
    assert (data["state"], data["outcome"], data["applicant"]["name"]) == ("closed", "partly_disclosed", APPLICANT["name"])
    assert [e["kind"] for e in data["events"]] == ["registered", "advance", "fee_intimated", "fee_paid", "decision", "notice", "first_appeal", "faa_extension", "faa_decision", "close"]
    assert data["hold"] == {"open": False, "until": "2026-09-17", "reason": "until the last appeal window closes (18/08/2026) and 30 days more"}

    actions = [(e.actor, e.action, e.outcome) for e in iter_entries(staffed.engine, action="rti_*")]
    assert actions == [
        ("cpio", "rti_new", "ok"), ("cpio", "rti_advance", "ok"), ("cpio", "rti_fee_intimated", "ok"), ("cpio", "rti_fee_paid", "ok"),
        ("cpio", "rti_decision", "ok"), ("cpio", "rti_notice", "ok"), ("faa", "rti_first_appeal", "ok"), ("faa", "rti_faa_extension", "ok"),
        ("faa", "rti_faa_decision", "ok"), ("cpio", "rti_close", "ok"), ("cpio", "rti_show", "ok"),
    ]
    assert verify_chain(staffed.engine).intact


def test_what_each_role_sees_of_the_applicant(staffed: Catalog, rti_config_file: Path) -> None:
    new(rti_config_file)
    for user in ("cpio", "apio", "faa"):
        shown = run(rti_config_file, user, "rti", "show", REGNO)
        assert shown.exit_code == 0 and f"applicant: {APPLICANT['name']}, 12 Station Road, Patna 800001, {APPLICANT['contact']}" in shown.stdout
    for user in ("auditor", "records"):
        shown = run(rti_config_file, user, "rti", "show", REGNO)
        assert shown.exit_code == 0
        assert "applicant: personal data, shown to apio, faa, pio only" in shown.stdout
        assert all(value not in shown.output for value in APPLICANT.values())
        as_json = json.loads(run(rti_config_file, user, "rti", "show", REGNO, "--json").stdout)
        assert as_json["applicant"] is None
    listed = run(rti_config_file, "auditor", "rti", "list", "--json")
    assert json.loads(listed.stdout)["registration_no"] == REGNO and APPLICANT["name"] not in listed.stdout


def test_a_user_without_the_role_is_refused_and_the_refusal_audited(staffed: Catalog, rti_config_file: Path) -> None:
    result = run(
        rti_config_file, "responder", "rti", "new", REGNO, "--received-at", "2026-03-02", "--mode", "post", "--subject", "x", "--name", "y", "--address", "z",
    )
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: rti new needs the role apio or pio; 'responder' holds responder (R17, archiver/access/roles.py). "
        "An administrator grants it: sangrah users grant responder apio --reason TEXT\n"
    )
    stranger = run(rti_config_file, "visitor", "rti", "list")
    assert stranger.exit_code == 1 and "rti list: 'visitor' is not a user of this archive." in stranger.stderr
    refused = [(e.actor, e.action, e.target, e.details["needs"]) for e in iter_entries(staffed.engine) if e.outcome == "refused"]
    assert refused == [("responder", "rti_new", REGNO, ["apio", "pio"]), ("visitor", "rti_list", None, ["apio", "auditor", "faa", "pio", "records_officer"])]
    decide = run(rti_config_file, "faa", "rti", "decide", REGNO, "--outcome", "disclosed")
    assert decide.exit_code == 1 and "rti decide needs the role pio; 'faa' holds faa" in decide.stderr


def test_the_acting_user_comes_from_sangrah_user(staffed: Catalog, rti_config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANGRAH_USER", "auditor")
    result = run(rti_config_file, None, "rti", "list")
    assert result.exit_code == 0
    assert [e.actor for e in iter_entries(staffed.engine, action="rti_list")] == ["auditor"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--received-at", "2099-03-02 10:00"), "received_at 02/03/2099 10:00 IST is in the future"),
        (("--received-at", "2026-03-02", "--life-liberty"), "a life-or-liberty request is due within 48 hours of its receipt, counted in hours (RTI s.7(1) proviso): give the time of receipt too"),
    ],
    ids=["future", "life-liberty-without-time"],
)
def test_bad_receipts_are_refused(staffed: Catalog, rti_config_file: Path, args: tuple[str, ...], message: str) -> None:
    result = run(rti_config_file, "cpio", "rti", "new", REGNO, "--mode", "post", "--subject", "x", "--name", "y", "--address", "z", *args)
    assert result.exit_code == 1 and message in result.stderr
    assert run(rti_config_file, "auditor", "rti", "list", "--json").stdout == ""


def test_a_malformed_number_and_a_decision_without_its_section(staffed: Catalog, rti_config_file: Path) -> None:
    bad = run(rti_config_file, "cpio", "rti", "new", "DOWR/2026/12", "--received-at", "2026-03-02", "--mode", "post", "--subject", "x", "--name", "y", "--address", "z")
    assert bad.exit_code == 1 and bad.stderr.startswith("Error: registration_no 'DOWR/2026/12' does not match the registration pattern")
    new(rti_config_file)
    refused = run(rti_config_file, "cpio", "rti", "decide", REGNO, "--outcome", "refused", "--reasons", "personal information")
    assert refused.exit_code == 1
    assert "a decision that withholds information must name the exemption section it applies (--section, e.g. 8(1)(j)); a rejection gives its reasons (RTI s.7(8)(i))" in refused.stderr
    unknown = run(rti_config_file, "cpio", "rti", "decide", REGNO, "--outcome", "refused", "--section", "8(1)(z)")
    assert unknown.exit_code == 2 and "Invalid value for '--section'" in unknown.stderr


def test_rti_due_lists_and_escalates_in_ist_dates(staffed: Catalog, rti_config: Config, rti_config_file: Path) -> None:
    new(rti_config_file)
    new(rti_config_file, regno="DOWR/R/2026/00013")
    # as of 28/03/2026 the reply of both is due 01/04/2026: 4 days left, due soon
    soon = run(rti_config_file, "cpio", "rti", "due", "--as-of", "2026-03-28 09:00", "--json")
    report = json.loads(soon.stdout)
    assert [(i["registration_no"], i["status"], i["due_on"], i["days_left"], i["escalate"]) for i in report["items"]] == [
        ("DOWR/R/2026/00012", "due_soon", "2026-04-01", 4, False),
        ("DOWR/R/2026/00013", "due_soon", "2026-04-01", 4, False),
    ]
    run(rti_config_file, "cpio", "rti", "decide", "DOWR/R/2026/00013", "--outcome", "disclosed", "--at", "2026-03-30")
    # as of 10/04/2026 the first is 9 days overdue: deemed refused, escalated, Rs 250 x 9 at risk
    late = run(rti_config_file, "cpio", "rti", "due", "--as-of", "2026-04-10 09:00")
    assert late.exit_code == 0
    assert late.stdout == (
        "RTI due as of 10/04/2026 (IST): 1 item(s), 1 overdue\n"
        "OVERDUE   DOWR/R/2026/00012  reply to the applicant, due 01/04/2026 (9 days ago), RTI s.7(1); deemed refused (RTI s.7(2)); "
        "ESCALATE to the first appellate authority (S. Iyer); penalty risk Rs 2,250 (RTI s.20(1))\n"
    )
    data = rti_due(rti_config, now=datetime(2026, 4, 10, 3, 30, tzinfo=timezone.utc))
    (item,) = data["items"]
    assert item == {
        "registration_no": "DOWR/R/2026/00012", "state": "received", "rule": "reply_standard", "what": "reply to the applicant", "cite": "RTI s.7(1)",
        "basis": "30 days from receipt on 02/03/2026", "due_on": "2026-04-01", "expires_at": "2026-04-01T18:30:00+00:00", "days_left": -9,
        "status": "overdue", "escalate": True, "escalate_to": "the first appellate authority (S. Iyer)", "penalty_risk_inr": 2250,
        "deemed_refusal_at": "2026-04-01T18:30:00+00:00",
    }
    assert (data["as_of_ist_date"], data["overdue"], data["audit_head"]["intact"]) == ("2026-04-10", 1, True)
    assert [e.actor for e in iter_entries(staffed.engine, action="rti_due")] == ["cpio", "cpio", "test-rti-cell"]


def test_rti_due_records_deemed_refusals_only_when_asked_and_show_lists_them(staffed: Catalog, rti_config_file: Path) -> None:
    new(rti_config_file)  # received 02/03/2026 10:00 IST: its reply was due by 01/04/2026, long past
    listed = run(rti_config_file, "cpio", "rti", "due")
    assert listed.exit_code == 0 and listed.stderr == ""
    assert staffed.audit_entries(action="rti_deemed_refusal") == []  # a person listing by hand records nothing

    planning = run(rti_config_file, "cpio", "rti", "due", "--record-deemed-refusals", "--as-of", "2026-04-10")
    assert planning.exit_code == 2 and "--record-deemed-refusals records what has befallen the requests by now; --as-of is for planning" in planning.stderr
    auditor = run(rti_config_file, "auditor", "rti", "due", "--record-deemed-refusals")
    assert auditor.exit_code == 1 and "rti record needs the role pio; 'auditor' holds auditor" in auditor.stderr

    recorded = run(rti_config_file, "cpio", "rti", "due", "--record-deemed-refusals", "--json")
    assert recorded.exit_code == 0, recorded.output
    assert recorded.stderr == f"recorded: {REGNO} deemed refused at 02/04/2026 00:00 IST (RTI s.7(2))\n"
    report = json.loads(recorded.stdout)
    assert report["deemed_refusals_recorded"] == [REGNO] and [i["registration_no"] for i in report["items"]] == [REGNO]
    again = run(rti_config_file, "cpio", "rti", "due", "--record-deemed-refusals")
    assert again.exit_code == 0 and again.stderr == "" and again.stdout.startswith("RTI due as of ")

    shown = json.loads(run(rti_config_file, "faa", "rti", "show", REGNO, "--json").stdout)
    assert [(e["kind"], e["happened_at"], e["actor"], e["from_state"], e["to_state"]) for e in shown["events"]] == [
        ("registered", "2026-03-02T04:30:00+00:00", "cpio", None, "received"), ("deemed_refusal", "2026-04-01T18:30:00+00:00", "cpio", "received", "received"),
    ]
    assert shown["events"][1]["reason"].startswith("no decision within the reply period (RTI s.7(1)), whose last day was 01/04/2026: deemed refused (RTI s.7(2))")
    text = run(rti_config_file, "faa", "rti", "show", REGNO).stdout
    events = text.split("Events", 1)[1]
    assert "│ 02/04/2026 00:00 IST │ deemed        │ cpio │ received ->    │ no decision   │\n│                      │ refusal       │" in events
    # a late decision is still taken, free of charge
    decided = run(rti_config_file, "cpio", "rti", "decide", REGNO, "--outcome", "disclosed", "--at", "2026-04-05")
    assert decided.exit_code == 0 and "it was a deemed refusal (RTI s.7(2)), and the information is free of charge (RTI s.7(6))" in decided.stderr
    actions = [(e.actor, e.action) for e in iter_entries(staffed.engine, action="rti_*") if e.action in ("rti_deemed_refusal", "rti_decision")]
    assert actions == [("cpio", "rti_deemed_refusal"), ("cpio", "rti_decision")]


def test_a_request_marked_for_transfer_lists_its_five_days(staffed: Catalog, rti_config_file: Path) -> None:
    new(rti_config_file)
    missing = run(rti_config_file, "cpio", "rti", "record", REGNO, "marked-for-transfer", "--at", "2026-03-04", "--reason", "held by the Ministry")
    assert missing.exit_code == 2 and "marked-for-transfer: name the public authority that holds the information with --to-authority, and why with --reason" in missing.stderr
    marked = run(
        rti_config_file, "cpio", "rti", "record", REGNO, "marked-for-transfer", "--to-authority", "Ministry of Jal Shakti",
        "--reason", "the flood-relief accounts are the Ministry's", "--at", "2026-03-04 12:00",
    )
    assert marked.exit_code == 0, marked.output
    # received 02/03/2026: the 5 days end with 07/03/2026
    assert marked.stderr == f"{REGNO}: marked for transfer to Ministry of Jal Shakti on 04/03/2026; transfer it by 07/03/2026 (RTI s.6(3) proviso)\n"
    assert "│ 07/03/2026 (marked for transfer 04/03/2026) │" in run(rti_config_file, "cpio", "rti", "show", REGNO).stdout
    due = run(rti_config_file, "cpio", "rti", "due", "--as-of", "2026-03-08 09:00")
    assert due.stdout == (
        "RTI due as of 08/03/2026 (IST): 1 item(s), 1 overdue\n"
        f"OVERDUE   {REGNO}  transfer the request to Ministry of Jal Shakti, due 07/03/2026 (1 day ago), RTI s.6(3) proviso\n"
    )
    run(rti_config_file, "cpio", "rti", "advance", REGNO, "transferred", "--to-authority", "Ministry of Jal Shakti", "--reason", "sent on", "--at", "2026-03-08 10:00")
    assert run(rti_config_file, "cpio", "rti", "due", "--as-of", "2026-03-08 11:00").stdout == "RTI due as of 08/03/2026 (IST): 0 item(s), 0 overdue\n"


def test_a_draft_records_nothing_and_a_refused_notice_leaves_no_file(staffed: Catalog, rti_config_file: Path, tmp_path: Path) -> None:
    new(rti_config_file)
    draft = run(rti_config_file, "cpio", "rti", "notice", REGNO, "--kind", "fee", "--pages", "4", "--draft", "--at", "2026-03-10")
    assert draft.exit_code == 0 and "Rs 8" in draft.stdout
    shown = json.loads(run(rti_config_file, "cpio", "rti", "show", REGNO, "--json").stdout)
    assert [e["kind"] for e in shown["events"]] == ["registered"]
    out = tmp_path / "rejection.txt"
    refused = run(rti_config_file, "cpio", "rti", "notice", REGNO, "--kind", "rejection", "--out", str(out))
    assert refused.exit_code == 1 and "a rejection notice states a decision, and none is recorded" in refused.stderr
    assert not out.exists() and not list(tmp_path.glob(".*.part"))
    missing = run(rti_config_file, "auditor", "rti", "notice", REGNO, "--kind", "reply")
    assert missing.exit_code == 1 and "rti notice needs the role pio" in missing.stderr



def test_a_third_party_notice_records_the_s11_consultation_and_keeps_the_party_s_particulars(staffed: Catalog, rti_config: Config, rti_config_file: Path, tmp_path: Path) -> None:
    new(rti_config_file)
    party = ("Flood Relief Volunteers Trust", "Boring Road\nPatna 800001", "the direct messages the Trust sent to the department in March 2026")
    out = tmp_path / "s11-notice.txt"
    notice = run(
        rti_config_file, "cpio", "rti", "notice", REGNO, "--kind", "third-party", "--third-party-name", party[0], "--third-party-address", party[1],
        "--information", party[2], "--out", str(out), "--at", "2026-03-05 11:00",
    )
    assert notice.exit_code == 0, notice.output
    assert notice.stderr.startswith(f"wrote the third-party notice of {REGNO} to {out} (SHA-256 ")
    text = out.read_text("utf-8")
    assert "Notice to a third party under section 11(1) of the Right to Information Act, 2005" in text
    assert "    Flood Relief Volunteers Trust\n    Boring Road\n    Patna 800001\n" in text and APPLICANT["name"] not in text

    # the event: the request is in consultation, the s.11(1) notice met within 5 days of receipt
    shown = json.loads(run(rti_config_file, "cpio", "rti", "show", REGNO, "--json").stdout)
    assert shown["state"] == "third_party_consultation"
    assert [(e["kind"], e["to_state"], e["reason"]) for e in shown["events"]] == [
        ("registered", "received", "received by online portal"), ("third_party_notice", "third_party_consultation", "s.11(1) notice given")]
    deadlines = {d["rule"]: d for d in shown["deadlines"]}
    assert deadlines["third_party_notice"]["met_at"] == "2026-03-05T05:30:00+00:00"
    assert deadlines["third_party_decision"]["due_on"] == "2026-04-11"  # 40 days from receipt (s.11(3))

    # the particulars: kept in their own table, apart from the event and the audit trail
    assert [(p.name, p.address, p.information) for p in third_parties_of(staffed, actor(staffed, "cpio", "rti show"), REGNO)] == [party]
    with staffed.engine.connect() as conn:
        [details] = conn.execute(select(rti_events.c.details).where(rti_events.c.kind == "third_party_notice")).scalars().all()
    assert set(details) == {"sha256", "third_party_id"}
    [audit] = list(iter_entries(staffed.engine, action="rti_third_party_notice"))
    assert audit.actor == "cpio" and party[0] not in json.dumps(audit.details) and "Boring Road" not in json.dumps(audit.details)

    # the decision notice to the third party is addressed from the stored particulars
    early = run(rti_config_file, "cpio", "rti", "decide", REGNO, "--outcome", "disclosed", "--disclosed", "4", "--at", "2026-03-06 12:00")
    assert early.exit_code == 1
    assert f"record when it received the notice (rti record {REGNO} third-party-received --at DATE)" in early.stderr
    received = run(rti_config_file, "cpio", "rti", "record", REGNO, "third-party-received", "--at", "2026-03-07")
    assert received.exit_code == 0, received.output
    decided = run(rti_config_file, "cpio", "rti", "decide", REGNO, "--outcome", "disclosed", "--reasons", "the public interest outweighs any harm",
                  "--disclosed", "4", "--at", "2026-04-02 12:00")
    assert decided.exit_code == 0, decided.output
    to_party = run(rti_config_file, "cpio", "rti", "notice", REGNO, "--kind", "third-party-decision", "--at", "2026-04-02 12:30")
    assert to_party.exit_code == 0, to_party.output
    assert "    Flood Relief Volunteers Trust\n    Boring Road\n    Patna 800001\n" in to_party.stdout
    # without particulars given or stored, a third-party notice is refused, naming the rule
    other = "DOWR/R/2026/00013"
    new(rti_config_file, regno=other)
    partial = run(rti_config_file, "cpio", "rti", "notice", other, "--kind", "third-party", "--third-party-name", party[0])
    assert partial.exit_code == 1
    assert f"{other}: a third-party notice needs --third-party-name, --third-party-address and --information." in partial.stderr
