"""A request's disclosure package from the catalog: its finished review, its decision letter, the
public authority's signing key, and ``build_package`` (``archiver.rti.package``).

``package_request`` refuses what must not be packaged, before anything is written: a review with
anything open (``LoadedReview.problems``: each undecided record, each redaction without its
clause, each unanswered suggestion, by name), a request with no decision recorded (the package
carries the reply), records of a third party while its appeal window after a s.11(3) order to
disclose is open (``require_third_party_window_lapsed``), a missing or loose signing key.
``build_package`` builds in a hidden directory beside the target and renames it into place at
the end, so a failed run leaves nothing that looks like a package. The export is audited with
what it holds and its digests.

The decision letter states the fees the register recorded (``recorded_fees``: the s.7(3)
intimations and their payments), and the certificate names the Part B expert and follows the
proceeding's start date (``certificate_inputs``), from the config or the command line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from archiver.access.users import Actor
from archiver.catalog import Catalog
from archiver.catalog.annotations import records_of_hold
from archiver.config import Config
from archiver.errors import ConfigError, ReviewIncomplete, RtiError
from archiver.rti.case import Case
from archiver.rti.deadlines import Deadlines, format_day, ist_day
from archiver.rti.fees import FeeLine, FeeStatement
from archiver.rti.holds import request_holds
from archiver.rti.package import CertificateInputs, Device, LetterDocument, PackageInputs, PackageResult, Signatory, WarcSource, build_package, law_for, load_schedule_text, load_signing_key
from archiver.rti.register import get_case
from archiver.rti.review_catalog import LoadedReview, load_review, problem_lines, request_ref_for, summary_of

__all__ = ["PackageRun", "certificate_inputs", "recorded_fees", "require_packageable", "require_third_party_window_lapsed", "package_request"]

#: the s.7(3)(a) rule a recorded fee and its payment come under
_FEE_CITE = "RTI s.7(3)(a)"


@dataclass(frozen=True)
class PackageRun:
    result: PackageResult
    records: int
    withheld: int
    redacted: int


def certificate_inputs(config: Config, *, proceeding_began_on: date | None = None, expert: Signatory | None = None) -> CertificateInputs:
    """The certificate's signatory (the CPIO), the device (the archive's store), the Part B expert
    (``expert``, else ``disclosure.expert``) and the Schedule's text, from the config.

    ``proceeding_began_on`` is when the proceeding the package is tendered in began: before
    1 July 2024 the certificate is under IEA s.65B (BSA s.170(2)); None names no proceeding (BSA s.63).
    """
    rti = config.rti
    assert rti.cpio is not None  # request_ref_for has refused a config without it
    storage = config.storage
    device = Device("Cloud", make_model="Sangrah archive, S3 object store with Object Lock", cloud_id=f"s3://{storage.bucket}/") if storage.kind == "s3" else Device(
        "Server", make_model="Sangrah archive server", cloud_id=f"file://{(config.store_dir / 'warcs').resolve()}/"
    )
    place = (rti.address or "").split(",")[-1].strip()
    schedule = load_schedule_text(config.disclosure.bsa_schedule_file)
    configured = config.disclosure.expert
    if expert is None and configured is not None:
        expert = Signatory(configured.name, configured.relation or "", configured.address or "", configured.designation)
    return CertificateInputs(
        party=Signatory(rti.cpio.name, "", rti.cpio.address or rti.address or "", rti.cpio.designation), device=device, expert=expert,
        proceeding_commenced_on=proceeding_began_on, place=place, schedule=schedule,
    )


def recorded_fees(case: Case, deadlines: Deadlines, jurisdiction: str) -> FeeStatement | None:
    """The further fees the register recorded for ``case``, as the decision letter states them (s.10(2)(d)).

    None when no fee was asked (no s.7(3) intimation, or one of Rs 0). Otherwise every line of every
    intimation, then one line per payment (``fee_paid`` events), "less: paid on DD/MM/YYYY" with
    its own amount taken off; the total is the balance still to deposit, never below nothing. A
    reply after the time limit is free (s.7(6)): nothing is payable, the waiver says why, and the
    payments stay in the statement so that the letter can say they are refundable.
    """
    intimated = [event.details.get("statement") or {} for event in case.of("fee_intimated")]
    if not intimated:
        return None
    lines = [
        FeeLine(line["item"], line["quantity"], line["rate"], Decimal(line["amount_inr"]), line["cite"], line["status"])
        for statement in intimated for line in statement.get("lines", ())
    ]
    charged = sum((Decimal(statement.get("total_inr", "0")) for statement in intimated), Decimal(0))
    if not charged:  # an intimation of nothing asks no fee
        return None
    payments = [(ist_day(event.happened_at), Decimal(event.details.get("amount_inr", "0"))) for event in case.of("fee_paid")]
    lines += [FeeLine(f"less: paid on {format_day(day)}", "", "", -amount, _FEE_CITE, "V") for day, amount in payments if amount]
    if deadlines.late_is_free:
        waiver = f"the information is free of charge: the time limit of s.7(1) was not met ({deadlines.late_is_free_cite})"
        return FeeStatement(jurisdiction, tuple(lines), charged, waiver, Decimal(0))
    paid = sum((amount for _, amount in payments), Decimal(0))
    return FeeStatement(jurisdiction, tuple(lines), charged, None, max(charged - paid, Decimal(0)))


def require_packageable(loaded: LoadedReview) -> None:
    """Raise ``ReviewIncomplete`` naming every open item (undecided records first)."""
    problems = loaded.problems()
    if not problems:
        return
    undecided = loaded.undecided()
    head = f"{len(undecided):,} record(s) undecided, e.g. {', '.join(undecided[:3])}; " if undecided else ""
    raise ReviewIncomplete(
        f"{loaded.registration_no}: the review is unfinished, so no package is made: {head}{len(problems):,} open item(s):\n{problem_lines(problems)}\n"
        f"See them with: sangrah rti review status {loaded.registration_no}",
        problems=tuple(str(p) for p in problems), record_id=problems[0].record_id, rule=problems[0].rule, request=loaded.registration_no,
    )


def require_third_party_window_lapsed(catalog: Catalog, case: Case, loaded: LoadedReview, deadlines: Deadlines, today: date) -> None:
    """Raise ``RtiError`` while the third party may still appeal a s.11(3) order to disclose (s.19(2)),
    naming the records the package would disclose that are under the request's THIRD_PARTY_WINDOW hold.

    The rule book's ``THIRD_PARTY_WINDOW`` withholds disclosure for that window (R11), and the
    s.11(3) notice tells the third party nothing is disclosed before its last day: so the package,
    which is the disclosure, waits, rather than go out without records the decision disclosed.
    Without the hold in force (its step has not run yet) every record disclosed is concerned.
    """
    window = deadlines.third_party_appeal
    if window is None or window.due_on is None or today > window.due_on:
        return
    disclosed = {rid for rid, decision in loaded.review.decisions.items() if decision.kind != "withhold"}
    holds = [h for h in request_holds(catalog, case.registration_no) if h.hold_type == "THIRD_PARTY_WINDOW"]
    concerned = sorted(disclosed & {rid for h in holds for rid in records_of_hold(catalog, h.id)}) if holds else sorted(disclosed)
    if not concerned:
        return
    regno = case.registration_no
    order = case.of("decision")[0]
    raise RtiError(
        f"{regno}: the s.11(3) order of {format_day(ist_day(order.happened_at))} discloses information of a third party, who may appeal against it "
        f"until {format_day(window.due_on)} (RTI s.19(2)), and nothing is disclosed before that day has passed (RTI s.11(3), R11 THIRD_PARTY_WINDOW). "
        f"The package would disclose {len(concerned):,} record(s) under the request's third-party hold: {', '.join(concerned[:5])}"
        f"{', ...' if len(concerned) > 5 else ''}. Package it on or after {format_day(window.due_on + timedelta(days=1))}: sangrah rti package {regno}",
        request=regno, field="third_party_appeal", rule="RTI s.11(3), s.19(2)",
    )


def package_request(
    catalog: Catalog, actor: Actor, config: Config, registration_no: str, out_dir: Path, *, now: datetime,
    proceeding_began_on: date | None = None, expert: Signatory | None = None,
) -> PackageRun:
    """Build, publish and audit the disclosure package of ``registration_no`` under ``out_dir``.

    ``proceeding_began_on`` and ``expert`` go to the certificate (``certificate_inputs``).
    """
    from archiver.pipeline import render_decision_letter, rti_rules

    case = get_case(catalog, registration_no)
    loaded = load_review(catalog, registration_no, config.records_dir, request_ref_for(config.rti, case))
    require_packageable(loaded)
    if case.decision is None:
        summary = summary_of(loaded)
        raise RtiError(
            f"{registration_no}: no decision is recorded, and the package carries the reply; record it first, e.g. sangrah rti decide {registration_no} "
            f"--outcome {'partly_disclosed' if summary.withheld or summary.redacted else 'disclosed'} --disclosed {summary.disclosed} --redacted {summary.redacted} "
            f"--withheld {summary.withheld}" + "".join(f' --section "{c}"' for c in summary.sections) + ' --reasons "..."',
            request=registration_no, field="outcome", rule="RTI s.7(1)",
        )
    rules = rti_rules(config)
    deadlines = case.deadlines(rules.timelines, now)
    require_third_party_window_lapsed(catalog, case, loaded, deadlines, ist_day(now))
    key_file = config.disclosure.signing_key_file
    if key_file is None:
        raise ConfigError("disclosure.signing_key_file is not set: packages are signed with the public authority's Ed25519 key; set it in the configuration file, then run: sangrah rti keygen")
    from archiver.pipeline.stores import open_store  # the pipeline imports the RTI modules

    key = load_signing_key(key_file)
    fees = recorded_fees(case, deadlines, rules.fee_table.key)
    letter_html = render_decision_letter(config, actor, registration_no, summary_of(loaded), fmt="html", statement=fees, now=now)
    digests = {w.name: w.sha256 for w in catalog.iter_warcs() if w.sha256}
    certificate = certificate_inputs(config, proceeding_began_on=proceeding_began_on, expert=expert)
    inputs = PackageInputs(
        loaded.review, loaded.co_captured, WarcSource(store=open_store(config), file_sha256=digests), certificate, key,
        LetterDocument("decision-letter.html", letter_html.encode("utf-8")), now,
    )
    try:
        result = build_package(inputs, out_dir)
    except BaseException as exc:
        catalog.audit(actor=actor.name, action="rti_package", target=registration_no, outcome="failed", details={"error": type(exc).__name__, "out_dir": str(out_dir)})
        raise
    summary = summary_of(loaded)
    catalog.audit(
        actor=actor.name, action="rti_package", target=registration_no, outcome="ok",
        details={
            "folder": str(result.folder), "fingerprint": result.fingerprint, "records": len(loaded.review.record_ids()),
            "disclosed": summary.disclosed, "redacted": summary.redacted, "withheld": summary.withheld, "sections": list(summary.sections),
            "applicant_zip_sha256": result.applicant.zip_sha256, "internal_zip_sha256": result.internal.zip_sha256,
            "applicant_tagmanifest_sha256": result.applicant.tagmanifest_sha256, "captures_in_applicant_wacz": result.applicant.captures_in_wacz,
            "certificate_law": law_for(proceeding_began_on), "proceeding_began_on": proceeding_began_on.isoformat() if proceeding_began_on else None,
            "expert": certificate.expert.name if certificate.expert else None,
        },
    )
    return PackageRun(result, len(loaded.review.record_ids()), summary.withheld, summary.redacted)
