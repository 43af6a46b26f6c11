"""A request's disclosure package from the catalog: its finished review, its decision letter, the
public authority's signing key, and ``build_package`` (``archiver.rti.package``).

``package_request`` refuses what must not be packaged, before anything is written: a review with
anything open (``LoadedReview.problems``: each undecided record, each redaction without its
clause, each unanswered suggestion, by name), a request with no decision recorded (the package
carries the reply), a missing or loose signing key. ``build_package`` builds in a hidden
directory beside the target and renames it into place at the end, so a failed run leaves
nothing that looks like a package. The export is audited with what it holds and its digests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from archiver.access.users import Actor
from archiver.catalog import Catalog
from archiver.config import Config
from archiver.errors import ConfigError, ReviewIncomplete, RtiError
from archiver.rti.package import CertificateInputs, Device, LetterDocument, PackageInputs, PackageResult, Signatory, WarcSource, build_package, load_schedule_text, load_signing_key
from archiver.rti.register import get_case
from archiver.rti.review_catalog import LoadedReview, load_review, problem_lines, request_ref_for, summary_of

__all__ = ["PackageRun", "certificate_inputs", "require_packageable", "package_request"]


@dataclass(frozen=True)
class PackageRun:
    result: PackageResult
    records: int
    withheld: int
    redacted: int


def certificate_inputs(config: Config) -> CertificateInputs:
    """The certificate's signatory (the CPIO), the device (the archive's store) and the Schedule's text, from the config."""
    rti = config.rti
    assert rti.cpio is not None  # request_ref_for has refused a config without it
    storage = config.storage
    device = Device("Cloud", make_model="Sangrah archive, S3 object store with Object Lock", cloud_id=f"s3://{storage.bucket}/") if storage.kind == "s3" else Device(
        "Server", make_model="Sangrah archive server", cloud_id=f"file://{(config.store_dir / 'warcs').resolve()}/"
    )
    place = (rti.address or "").split(",")[-1].strip()
    schedule = load_schedule_text(config.disclosure.bsa_schedule_file)
    return CertificateInputs(party=Signatory(rti.cpio.name, "", rti.cpio.address or rti.address or "", rti.cpio.designation), device=device, place=place, schedule=schedule)


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


def package_request(catalog: Catalog, actor: Actor, config: Config, registration_no: str, out_dir: Path, *, now: datetime) -> PackageRun:
    """Build, publish and audit the disclosure package of ``registration_no`` under ``out_dir``."""
    from archiver.pipeline import render_decision_letter

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
    key_file = config.disclosure.signing_key_file
    if key_file is None:
        raise ConfigError("disclosure.signing_key_file is not set: packages are signed with the public authority's Ed25519 key; set it in the configuration file, then run: sangrah rti keygen")
    from archiver.pipeline.stores import open_store  # the pipeline imports the RTI modules

    key = load_signing_key(key_file)
    letter_html = render_decision_letter(config, actor, registration_no, summary_of(loaded), fmt="html", now=now)
    digests = {w.name: w.sha256 for w in catalog.iter_warcs() if w.sha256}
    inputs = PackageInputs(
        loaded.review, loaded.co_captured, WarcSource(store=open_store(config), file_sha256=digests), certificate_inputs(config), key,
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
        },
    )
    return PackageRun(result, len(loaded.review.record_ids()), summary.withheld, summary.redacted)
