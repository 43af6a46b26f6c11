"""What ``sangrah rti package`` takes from the register and the command line, on a copy of the
sample archive: the third party's s.19(2) window after a s.11(3) order to disclose (refused
until it lapses), the fees recorded in the letter's s.10(2)(d), the s.7(8) notice of a refusal,
and the certificate's Part B expert and law (BSA s.63 or IEA s.65B)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from click.testing import Result

from archiver.access.users import authorize
from archiver.catalog import Catalog
from archiver.catalog.audit import iter_entries
from archiver.config import Config
from archiver.errors import RtiError
from archiver.pipeline import open_catalog, render_decision_letter, rti_rules
from archiver.rti.case import DecisionSummary
from archiver.rti.deadlines import format_day, ist_day
from archiver.rti.disclose import package_request, recorded_fees
from archiver.rti.fees import Copies, format_inr, further_fees
from archiver.rti.package import generate_signing_key
from archiver.rti.register import get_case
from tests.rti.conftest import Archive, staffed_copy
from tests.rti_fixtures import APPLICANT, event, ist, register, run

NOW = datetime.now(timezone.utc)
EXPERT = {"name": "C. Menon", "designation": "Scientist-D, Electronic Evidence Laboratory", "relation": "son of D. Menon", "address": "CGO Complex, New Delhi"}
PARTLY, REFUSED, THIRD_PARTY = "DOWR/R/2026/00041", "DOWR/R/2026/00042", "DOWR/R/2026/00043"


@dataclass(frozen=True)
class Desk:
    config: Config
    config_file: Path
    posts: tuple[str, ...]

    def rti(self, *args: str, user: str = "cpio") -> Result:
        return run(self.config_file, user, "rti", *args)

    def ok(self, *args: str) -> Result:
        result = self.rti(*args)
        assert result.exit_code == 0, result.output
        return result

    def package(self, regno: str, out: Path, *args: str) -> dict[str, object]:
        result = self.ok("package", regno, "--out", str(out), *args, "--json")
        built = json.loads(result.stdout)
        assert isinstance(built, dict)
        return built


def _at(days_ago: float) -> str:
    return (NOW - timedelta(days=days_ago)).isoformat(timespec="seconds")


@pytest.fixture(scope="module")
def desk(archive: Archive, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    """A copy of the sample archive with users, the public authority's particulars, a key and a Part B expert."""
    root = tmp_path_factory.mktemp("disclose")
    key = root / "keys" / "rti.pem"
    generate_signing_key(key)
    config, config_file = staffed_copy(archive, root, {"signing_key_file": str(key), "expert": EXPERT})
    posts = tuple(dict.fromkeys(str(r["record_id"]) for r in archive.rows(["record_id", "kind"]) if r["kind"] == "post"))
    yield Desk(config, config_file, posts)


def _open(desk: Desk, regno: str, post: str) -> None:
    """Register ``regno`` twenty days ago, hold one post (its thread joins the review) and suggest redactions."""
    desk.ok("new", regno, "--received-at", _at(20), "--mode", "online_portal", "--subject", "Replies to the flood relief posts",
            "--name", APPLICANT["name"], "--address", APPLICANT["address"], "--fee-paid", "10")
    desk.ok("hold", regno, "--records", post)
    desk.ok("review", "suggest", regno)


def _accept_all(desk: Desk, regno: str) -> None:
    """Accept every open redaction suggestion, if the thread has any."""
    if desk.ok("review", "list", regno, "--suggestions", "--open", "--json").stdout.strip():
        desk.ok("review", "accept", regno, "--all")


def _summary(desk: Desk, regno: str) -> dict[str, int]:
    result = desk.ok("review", "status", regno, "--json")
    status = json.loads(result.stdout)
    assert status["ready"], status
    return {"disclose": status["disclose"], "redact": status["redact"], "withhold": status["withhold"]}


def _letter(folder: Path) -> str:
    return (folder / "applicant" / "data" / "letter" / "decision-letter.html").read_text("utf-8")


def _certificate(folder: Path, copy: str = "applicant") -> str:
    return (folder / copy / "data" / "certificate" / "certificate.html").read_text("utf-8")


# -- s.10(2) with the fee recorded, and the certificate through the command line -------------------
@pytest.fixture(scope="module")
def partly(desk: Desk) -> str:
    """A request partly disclosed after a fee of Rs 8 was asked (s.7(3)) and paid."""
    _open(desk, PARTLY, desk.posts[0])
    _accept_all(desk, PARTLY)
    records = [json.loads(line) for line in desk.ok("review", "list", PARTLY, "--json").stdout.splitlines()]
    citizen = next(r["record_id"] for r in records if not r["by_department"])
    desk.ok("review", "decide", PARTLY, citizen, "--as", "withhold", "--section", "8(1)(j)", "--reasons", "names a patient")
    desk.ok("review", "decide", PARTLY, "--undecided", "--as", "disclose")
    desk.ok("notice", PARTLY, "--kind", "fee", "--pages", "4", "--at", _at(15))
    desk.ok("record", PARTLY, "fee-paid", "--amount", "8", "--at", _at(12))
    counts = _summary(desk, PARTLY)
    desk.ok("decide", PARTLY, "--outcome", "partly_disclosed", "--section", "8(1)(j)", "--reasons", "personal information of citizens who replied",
            "--findings", "the withheld reply names a patient of the relief camp, as its text shows",
            "--disclosed", str(counts["disclose"]), "--redacted", str(counts["redact"]), "--withheld", str(counts["withhold"]), "--at", _at(2))
    return PARTLY


def test_the_letter_in_the_package_gives_the_s_10_2_fields_with_the_fee_paid(desk: Desk, partly: str, tmp_path: Path) -> None:
    built = desk.package(partly, tmp_path)
    letter = _letter(Path(str(built["folder"])))
    paid_on = format_day(ist_day(NOW - timedelta(days=12)))
    assert "<li>(a) only part of the record requested is being provided, after severance of the record containing information that is exempt from disclosure;</li>" in letter
    assert "<li>(b) the reasons for the decision: the severed part is exempt under RTI s.8(1)(j). Personal information of citizens who replied. " in letter
    assert "Findings on material questions of fact, with the material on which they are based: The withheld reply names a patient of the relief camp, as its text shows.</li>" in letter
    assert "<li>(c) the decision is given by A. K. Verma, Under Secretary and CPIO;</li>" in letter
    assert f"<li>(d) the fees of Rs 8, calculated as shown below, were paid on {paid_on}, and no further fee is payable;</li>" in letter
    assert "<h3>Calculation of the fees</h3>" in letter and (
        _ROW.format("copies on paper (A-4/A-3)", "4 pages", "Rs 2 per page", "Rs 8", "RTI Rules 2012 r.4(a): each page of A-4 or A-3 paper")
        + _ROW.format("Fees calculated", "", "", "Rs 8", "") + _ROW.format(f"less: paid on {paid_on}", "", "", "Rs 8", "RTI s.7(3)(a)")
        + _ROW.format("Balance payable", "", "", "nil", "")
    ) in letter
    assert "Rs -" not in letter and "no fee is payable:" not in letter
    assert "<li>(e) you may seek a review of the decision not to disclose the severed part, of the fee charged, or of the form of access, by a first appeal to S. Iyer, " in letter
    assert "no further fee is payable for the part provided" not in letter
    # the certificate: Part B signed by the configured expert, under the BSA (no proceeding named)
    html = _certificate(Path(str(built["folder"])))
    assert built["certificate"] == {"law": "BSA s.63", "proceeding_began": None, "expert": "C. Menon"}
    assert "Certificate under section 63(4)(c) of the Bharatiya Sakshya Adhiniyam, 2023" in html
    part_b = html[html.index("<h2>Part B (expert)</h2>"):html.index("<h2>Annexure")]
    assert "<tr><th>Name</th><td>C. Menon</td></tr><tr><th>son/daughter/spouse of</th><td>son of D. Menon</td></tr>" in part_b
    assert "<tr><th>residing/employed at</th><td>CGO Complex, New Delhi</td></tr>" in part_b
    assert "<th>Name, designation and signature</th><td>C. Menon, Scientist-D, Electronic Evidence Laboratory — ______________________</td>" in part_b
    assert "no expert is named" not in html
    # the Schedule's fixed sentences are still not in the rule book: Part A's and Part B's statements are marked
    assert html.count("NOT READY TO SIGN") == 2 and part_b.count("NOT READY TO SIGN") == 1
    assert isinstance(built["warnings"], list) and not [w for w in built["warnings"] if "expert" in str(w)]


def test_the_expert_and_the_schedule_text_given_make_a_certificate_ready_to_sign(desk: Desk, partly: str, tmp_path: Path) -> None:
    # the sentences below stand in for the Schedule's, which the department copies from the India Code
    schedule = tmp_path / "schedule.yaml"
    schedule.write_text(yaml.safe_dump({
        "part_a_statement": "Test wording standing in for the Schedule's Part A statement.",
        "part_b_statement": "Test wording standing in for the Schedule's Part B statement.",
        "hash_line_verbatim": "Test hash line: {hash}",
    }), encoding="utf-8")
    settings = yaml.safe_load(desk.config_file.read_text("utf-8"))
    settings["disclosure"] = {**settings["disclosure"], "bsa_schedule_file": str(schedule)}
    del settings["disclosure"]["expert"]
    config_file = tmp_path / "sangrah.yaml"
    config_file.write_text(yaml.safe_dump(settings), encoding="utf-8")
    # no expert in the config: Part B is marked, and the command says how to name one
    bare = run(config_file, "cpio", "rti", "package", partly, "--out", str(tmp_path / "bare"))
    assert bare.exit_code == 0, bare.output
    assert "warning: the certificate's Part B names no expert: it is marked not ready to sign; name one in disclosure.expert or with sangrah rti package --expert\n" in bare.stderr
    assert "  certificate under BSA s.63; Part B names no expert\n" in bare.stdout
    [folder] = [p for p in (tmp_path / "bare").iterdir() if p.is_dir()]
    assert _certificate(folder).count("NOT READY TO SIGN") == 1 and "Part B (expert): no expert is named" in _certificate(folder)
    # the expert named on the command line
    signed = run(config_file, "cpio", "rti", "package", partly, "--out", str(tmp_path / "signed"), "--expert", "R. Pillai",
                 "--expert-designation", "Examiner of Electronic Evidence", "--expert-relation", "daughter of K. Pillai", "--expert-address", "Hyderabad",
                 "--proceeding-began", "2024-07-01")
    assert signed.exit_code == 0, signed.output
    assert "  certificate under BSA s.63 (proceeding began 01/07/2024); Part B signed by R. Pillai\n" in signed.stdout and "warning" not in signed.stderr
    [folder] = [p for p in (tmp_path / "signed").iterdir() if p.is_dir()]
    for copy in ("applicant", "internal"):
        html = _certificate(folder, copy)
        assert "NOT READY TO SIGN" not in html and "Law applied: BSA s.63" in html and "Proceeding commenced: 01/07/2024" in html
        assert "<p>Test wording standing in for the Schedule&#x27;s Part B statement.</p>" in html
        assert "<th>Name, designation and signature</th><td>R. Pillai, Examiner of Electronic Evidence — ______________________</td>" in html
        assert "<tr><th>son/daughter/spouse of</th><td>daughter of K. Pillai</td></tr><tr><th>residing/employed at</th><td>Hyderabad</td></tr>" in html
    catalog = open_catalog(desk.config)
    try:
        [entry] = [e for e in iter_entries(catalog.engine, action="rti_package") if e.outcome == "ok" and e.details["folder"] == str(folder)]
    finally:
        catalog.close()
    assert (entry.details["certificate_law"], entry.details["proceeding_began_on"], entry.details["expert"]) == ("BSA s.63", "2024-07-01", "R. Pillai")


def test_a_proceeding_begun_before_1_july_2024_gets_the_s_65b_certificate(desk: Desk, partly: str, tmp_path: Path) -> None:
    built = desk.package(partly, tmp_path, "--proceeding-began", "2024-06-30")
    assert built["certificate"] == {"law": "IEA s.65B", "proceeding_began": "2024-06-30", "expert": None}
    assert built["warnings"] == ["the proceeding began before 01/07/2024: the certificate is under IEA s.65B, which has no Part B, so the expert named is not in it"]
    for copy in ("applicant", "internal"):
        html = _certificate(Path(str(built["folder"])), copy)
        assert "<h1>Certificate under section 65B(4) of the Indian Evidence Act, 1872</h1>" in html
        assert "Proceeding commenced: 30/06/2024. Law applied: IEA s.65B" in html
        assert "Bharatiya Sakshya Adhiniyam, 2023</h1>" not in html and "Part B" not in html and "NOT READY TO SIGN" not in html
        assert "<tr><th>Signed by</th><td>A. K. Verma, Under Secretary and CPIO — ______________________</td></tr>" in html


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--expert", "R. Pillai"), "--expert needs a name and --expert-designation: Part B of the BSA s.63 Schedule asks for the expert's name, designation and signature"),
        (("--expert-designation", "Examiner"), "--expert-designation without --expert NAME: give the expert's name too, or leave the expert's particulars out to use disclosure.expert"),
        (("--proceeding-began", "2024-13-01"), "'2024-13-01' is not a date: write it as YYYY-MM-DD"),
        (("--proceeding-began", (NOW + timedelta(days=3)).date().isoformat()), "is after today"),
    ],
)
def test_certificate_options_are_checked_before_anything_is_built(desk: Desk, args: tuple[str, ...], message: str, tmp_path: Path) -> None:
    result = desk.rti("package", PARTLY, "--out", str(tmp_path / "out"), *args)
    assert result.exit_code == 2 and message in result.stderr
    assert not (tmp_path / "out").exists()


# -- s.7(8) --------------------------------------------------------------------------------------------
def test_the_letter_of_a_refusal_in_the_package_gives_the_s_7_8_notice(desk: Desk, tmp_path: Path) -> None:
    _open(desk, REFUSED, desk.posts[1])
    desk.ok("review", "decide", REFUSED, "--undecided", "--as", "withhold", "--section", "8(1)(g)", "--reasons", "identifies a source of information given in confidence")
    counts = _summary(desk, REFUSED)
    desk.ok("decide", REFUSED, "--outcome", "refused", "--section", "8(1)(g)", "--reasons", "the replies identify a source of information given in confidence to the police",
            "--withheld", str(counts["withhold"]), "--at", _at(1))
    built = desk.package(REFUSED, tmp_path)
    assert built["withheld"] == counts["withhold"] and built["records"] == counts["withhold"]
    letter = _letter(Path(str(built["folder"])))
    # nothing is enclosed with a refusal, and the letter says so instead of counting 0 records disclosed
    assert (
        f"<p>The information sought cannot be provided. No record is disclosed: the {counts['withhold']} record(s) concerned are withheld, under RTI s.8(1)(g).</p>"
    ) in letter
    assert "enclosed" not in letter and "record(s) disclosed" not in letter
    assert "<p>Your request is rejected, for the reasons below (RTI s.7(8)(i)).</p>" in letter
    assert "<li>Withheld under RTI s.8(1)(g): The replies identify a source of information given in confidence to the police.</li>" in letter
    assert "You may appeal against this decision (RTI s.7(8)(ii)): a first appeal lies to the First Appellate Authority named below (s.7(8)(iii)), within thirty days of the receipt of this letter (RTI s.19(1))" in letter
    assert "<h3>First Appellate Authority</h3><dl><dt>Name</dt><dd>S. Iyer</dd><dt>Designation</dt><dd>Director and First Appellate Authority</dd>" in letter
    assert "section 10(2)" not in letter and "(d)" not in letter


# -- s.11(3) and s.19(2) ----------------------------------------------------------------------------------
def test_a_third_party_s_information_waits_for_its_appeal_window(desk: Desk, tmp_path: Path) -> None:
    _open(desk, THIRD_PARTY, desk.posts[2])
    _accept_all(desk, THIRD_PARTY)
    desk.ok("review", "decide", THIRD_PARTY, "--undecided", "--as", "disclose")
    desk.ok("notice", THIRD_PARTY, "--kind", "third-party", "--third-party-name", "Relief Camp Trust", "--third-party-address", "Patna",
            "--information", "the Trust's replies to the department's posts", "--at", _at(18))
    desk.ok("record", THIRD_PARTY, "third-party-received", "--at", _at(17))
    desk.ok("record", THIRD_PARTY, "representation-received", "--at", _at(10))
    counts = _summary(desk, THIRD_PARTY)
    desk.ok("decide", THIRD_PARTY, "--outcome", "partly_disclosed", "--section", "8(1)(j)", "--reasons", "personal information of citizens who replied",
            "--disclosed", str(counts["disclose"]), "--redacted", str(counts["redact"]), "--at", _at(3))
    catalog = open_catalog(desk.config)
    try:
        case = get_case(catalog, THIRD_PARTY)
        window = case.deadlines(rti_rules(desk.config).timelines, NOW).third_party_appeal
        assert window is not None and window.due_on is not None
        order_on = ist_day(NOW - timedelta(days=3))
        assert window.due_on >= order_on + timedelta(days=30)  # 30 days from the order, moved past a closed last day
        records = sorted(json.loads(line)["record_id"] for line in desk.ok("review", "list", THIRD_PARTY, "--json").stdout.splitlines())
    finally:
        catalog.close()

    out = tmp_path / "out"
    refused = desk.rti("package", THIRD_PARTY, "--out", str(out))
    assert refused.exit_code == 1
    assert refused.stderr.startswith(
        f"Error: {THIRD_PARTY}: the s.11(3) order of {format_day(order_on)} discloses information of a third party, who may appeal against it "
        f"until {format_day(window.due_on)} (RTI s.19(2)), and nothing is disclosed before that day has passed (RTI s.11(3), R11 THIRD_PARTY_WINDOW). "
        f"The package would disclose {len(records)} record(s) under the request's third-party hold: {', '.join(records[:5])}"
    )
    assert f"Package it on or after {format_day(window.due_on + timedelta(days=1))}: sangrah rti package {THIRD_PARTY}\n" in refused.stderr
    assert not out.exists() or not list(out.iterdir())

    catalog = open_catalog(desk.config)
    try:
        actor = authorize(catalog, "cpio", "rti package", target=THIRD_PARTY)
        last_day = ist(window.due_on.year, window.due_on.month, window.due_on.day, 17)
        with pytest.raises(RtiError) as caught:
            package_request(catalog, actor, desk.config, THIRD_PARTY, out, now=last_day)
        assert (caught.value.field, caught.value.rule, caught.value.request) == ("third_party_appeal", "RTI s.11(3), s.19(2)", THIRD_PARTY)
        run_after = package_request(catalog, actor, desk.config, THIRD_PARTY, out, now=last_day + timedelta(days=1))
    finally:
        catalog.close()
    assert run_after.records == len(records) and (run_after.result.folder / "applicant" / "data" / "letter" / "decision-letter.html").exists()


# -- the fees the register recorded -------------------------------------------------------------------------
def _fee_letter(
    staffed: Catalog, rti_config: Config, *, asked: Copies | None, paid: Decimal | None = None, decided: datetime = ist(2026, 3, 20),
    then: tuple[Copies, Decimal] | None = None,
) -> str:
    """The decision letter of a request partly disclosed after the fee for ``asked`` was intimated and ``paid`` paid;
    ``then``, a second intimation (12/03/2026) and what was paid for it (16/03/2026)."""
    rules = rti_rules(rti_config)
    register(staffed, rti_config)
    rounds = [(ist(2026, 3, 5), asked, ist(2026, 3, 9), paid)] + ([(ist(2026, 3, 12), then[0], ist(2026, 3, 16), then[1])] if then else [])
    for asked_at, copies, paid_at, amount in rounds:
        if copies is not None:
            statement = further_fees(rules.fee_table, copies, bpl=False, late=False)
            event(staffed, rti_config, "fee_intimated", asked_at, "fee intimation", command="rti notice", statement=statement.to_json())
        if amount is not None:
            event(staffed, rti_config, "fee_paid", paid_at, "paid", command="rti record", amount_inr=str(amount), on=ist_day(paid_at).isoformat())
    event(staffed, rti_config, "decision", decided, outcome="partly_disclosed", sections=["8(1)(j)"], reasons="personal information of citizens who replied")
    case = get_case(staffed, "DOWR/R/2026/00012")
    fees = recorded_fees(case, case.deadlines(rules.timelines, ist(2026, 6, 1)), "central")
    assert (fees is None) == (asked is None)
    summary = DecisionSummary(disclosed=4, withheld=1, sections=("8(1)(j)",))
    return render_decision_letter(rti_config, authorize(staffed, "cpio", "rti package"), "DOWR/R/2026/00012", summary, fmt="html", statement=fees, now=decided)


_ROW = "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"
_PAGES = _ROW.format("copies on paper (A-4/A-3)", "40 pages", "Rs 2 per page", "Rs 80", "RTI Rules 2012 r.4(a): each page of A-4 or A-3 paper")


def test_a_fee_asked_and_not_paid_is_stated_with_its_calculation(staffed: Catalog, rti_config: Config) -> None:
    letter = _fee_letter(staffed, rti_config, asked=Copies(pages=40, media=1))
    assert "<li>(d) the fees calculated are Rs 130, as set out below; please deposit that amount by Indian Postal Order, demand draft or banker&#x27;s cheque" in letter
    assert "<h3>Calculation of the fees</h3>" in letter and _PAGES in letter and _ROW.format("Total payable", "", "", "Rs 130", "") in letter


def test_a_fee_paid_in_part_leaves_the_rest_to_deposit(staffed: Catalog, rti_config: Config) -> None:
    letter = _fee_letter(staffed, rti_config, asked=Copies(pages=40, media=1), paid=Decimal(80))
    # s.10(2)(d): the fee calculated, what was paid and when, and the balance to deposit, every amount positive
    assert (
        "<li>(d) the fees calculated are Rs 130, as set out below; Rs 80 was paid on 09/03/2026, and the balance of Rs 50 is payable: "
        "please deposit that amount by Indian Postal Order"
    ) in letter
    assert _PAGES + _ROW.format("CD, DVD or USB drive", "1 item", "Rs 50 per item", "Rs 50", "RTI Rules 2012 r.4(d): per diskette or floppy; a CD, DVD or USB drive is charged the same") in letter
    assert (
        _ROW.format("Fees calculated", "", "", "Rs 130", "") + _ROW.format("less: paid on 09/03/2026", "", "", "Rs 80", "RTI s.7(3)(a)")
        + _ROW.format("Balance payable", "", "", "Rs 50", "")
    ) in letter
    assert "Rs -" not in letter and "Total payable" not in letter


def test_a_fee_paid_in_full_is_stated_with_its_calculation_and_nothing_more_to_pay(staffed: Catalog, rti_config: Config) -> None:
    letter = _fee_letter(staffed, rti_config, asked=Copies(pages=40), paid=Decimal(80))
    assert "<li>(d) the fees of Rs 80, calculated as shown below, were paid on 09/03/2026, and no further fee is payable;</li>" in letter
    assert _PAGES + _ROW.format("Fees calculated", "", "", "Rs 80", "") + _ROW.format("less: paid on 09/03/2026", "", "", "Rs 80", "RTI s.7(3)(a)") in letter
    assert _ROW.format("Balance payable", "", "", "nil", "") in letter
    assert "Rs -" not in letter and "please deposit" not in letter and "no fee is payable:" not in letter


def test_without_a_fee_asked_no_further_fee_is_payable(staffed: Catalog, rti_config: Config) -> None:
    letter = _fee_letter(staffed, rti_config, asked=None)
    assert "<li>(d) no further fee is payable for the part provided;</li>" in letter and "Calculation of the fees" not in letter


def test_a_fee_paid_before_a_late_reply_is_refundable(staffed: Catalog, rti_config: Config) -> None:
    # paid, so that the reply clock ran again (s.7(3)(a)); decided after its last day, so nothing is chargeable (s.7(6))
    letter = _fee_letter(staffed, rti_config, asked=Copies(pages=40), paid=Decimal(80), decided=ist(2026, 4, 30))
    assert (
        "<li>(d) no fee is payable: the information is free of charge: the time limit of s.7(1) was not met (RTI s.7(6)); "
        "the Rs 80 paid on 09/03/2026 is refundable, as no fee is chargeable (RTI s.7(6));</li>"
    ) in letter
    assert "<h3>Calculation of the fees</h3>" in letter and (
        _PAGES + _ROW.format("Fees calculated", "", "", "Rs 80", "")
        + _ROW.format("Fee chargeable", "", "", "nil", "the information is free of charge: the time limit of s.7(1) was not met (RTI s.7(6))")
        + _ROW.format("paid on 09/03/2026", "", "", "Rs 80", "RTI s.7(3)(a)") + _ROW.format("Refundable", "", "", "Rs 80", "RTI s.7(6)")
    ) in letter
    assert "The reply is given after the time limit of section 7(1): the information is provided free of charge (RTI s.7(6)).</p>" in letter
    assert "please deposit" not in letter and "Balance payable" not in letter and "no further fee is payable" not in letter and "Rs -" not in letter


@pytest.mark.parametrize(
    ("second", "stated", "balance"),
    [
        (Decimal(30), "the fees calculated are Rs 150, as set out below; Rs 80 was paid on 09/03/2026 and Rs 30 was paid on 16/03/2026, "
         "and the balance of Rs 40 is payable: please deposit that amount by Indian Postal Order", "Rs 40"),
        (Decimal(70), "the fees of Rs 150, calculated as shown below, were paid, Rs 80 on 09/03/2026 and Rs 70 on 16/03/2026, and no further fee is payable;</li>", "nil"),
    ],
    ids=["in part", "in full"],
)
def test_each_payment_is_stated_with_its_amount_and_day_then_the_balance(staffed: Catalog, rti_config: Config, second: Decimal, stated: str, balance: str) -> None:
    # Rs 80 asked and paid, then Rs 70 more asked (a drive and 10 pages) and ``second`` paid
    letter = _fee_letter(staffed, rti_config, asked=Copies(pages=40), paid=Decimal(80), then=(Copies(pages=10, media=1), second))
    assert f"<li>(d) {stated}" in letter
    assert (
        _ROW.format("Fees calculated", "", "", "Rs 150", "") + _ROW.format("less: paid on 09/03/2026", "", "", "Rs 80", "RTI s.7(3)(a)")
        + _ROW.format("less: paid on 16/03/2026", "", "", format_inr(second), "RTI s.7(3)(a)") + _ROW.format("Balance payable", "", "", balance, "")
    ) in letter
    assert "09/03/2026, 16/03/2026" not in letter and "Rs -" not in letter
