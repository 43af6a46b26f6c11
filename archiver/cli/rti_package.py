"""``rti package`` and ``rti keygen``: a request's disclosure package, and the key that signs it."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import click
import orjson

from archiver.cli._access import DAY, session, user_option
from archiver.cli._base import data_dir_option
from archiver.cli.rti import rti
from archiver.errors import ConfigError
from archiver.rti.deadlines import format_day, ist_day

if TYPE_CHECKING:
    from archiver.rti.package import Signatory

__all__ = ["rti_package", "rti_keygen"]


@rti.command("package")
@click.argument("registration_no")
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), help="Where the package folder goes (default: disclosure.packages_dir, else DATA_DIR/packages).")
@click.option(
    "--proceeding-began", "proceeding_began", type=DAY, metavar="DATE",
    help="When the proceeding the package is tendered in began (YYYY-MM-DD): before 2024-07-01 the certificate is under IEA s.65B, else BSA s.63 (BSA s.170(2)). Default: no proceeding named (BSA s.63).",
)
@click.option("--expert", "expert_name", metavar="NAME", help="The expert who signs Part B of the BSA s.63 certificate (default: disclosure.expert); needs --expert-designation.")
@click.option("--expert-designation", metavar="TEXT", help="The expert's designation, as Part B asks for it.")
@click.option("--expert-relation", metavar="TEXT", help="The expert's son/daughter/spouse of, as Part B asks for it.")
@click.option("--expert-address", metavar="TEXT", help="Where the expert resides or is employed, as Part B asks for it.")
@click.option("--json", "as_json", is_flag=True, help="Print where the package is and its digests as JSON.")
@user_option
@data_dir_option
@click.pass_context
def rti_package(
    ctx: click.Context, registration_no: str, out_dir: Path | None, proceeding_began: date | None, expert_name: str | None, expert_designation: str | None,
    expert_relation: str | None, expert_address: str | None, as_json: bool, user: str | None, data_dir: Path | None,
) -> None:
    """Build the request's disclosure package: the applicant's copy and the internal copy, signed.

    Refused while the review is unfinished (each open item named; see sangrah rti review status),
    before the decision is recorded (sangrah rti decide), and while a third party may still appeal
    a s.11(3) order to disclose its information (RTI s.19(2)). A failed run leaves nothing that
    looks like a package: it is built in a hidden folder and renamed into place at the end.

    The certificate's Part B is signed by the expert of --expert, else of disclosure.expert;
    --proceeding-began picks its law.

    Example: sangrah rti package DOWR/R/2026/00012 --proceeding-began 2024-05-10
    """
    from archiver.rti.disclose import package_request
    from archiver.rti.package import law_for

    now = datetime.now(timezone.utc)
    expert = _expert(expert_name, expert_designation, expert_relation, expert_address)
    if proceeding_began is not None and proceeding_began > ist_day(now):
        raise click.BadParameter(f"{proceeding_began.isoformat()} is after today ({ist_day(now).isoformat()}, IST): give the day the proceeding began", param_hint="--proceeding-began")
    with session(ctx, data_dir, user, "rti package", target=registration_no) as s:
        run = package_request(
            s.catalog, s.actor, s.config, registration_no, out_dir or s.config.packages_dir, now=now, proceeding_began_on=proceeding_began,
            expert=expert,
        )
        signer = expert.name if expert else s.config.disclosure.expert.name if s.config.disclosure.expert else None
    result = run.result
    law = law_for(proceeding_began)
    if as_json:
        click.echo(orjson.dumps({
            "folder": str(result.folder), "applicant_zip": str(result.applicant.zip_path), "applicant_zip_sha256": result.applicant.zip_sha256,
            "internal_zip": str(result.internal.zip_path), "internal_zip_sha256": result.internal.zip_sha256, "fingerprint": result.fingerprint,
            "records": run.records, "withheld": run.withheld, "redacted": run.redacted, "warnings": list(result.warnings),
            "certificate": {"law": law, "proceeding_began": proceeding_began.isoformat() if proceeding_began else None, "expert": signer if law == "BSA s.63" else None},
        }).decode())
    else:
        click.echo(f"{registration_no}: package of {run.records:,} record(s) ({run.redacted:,} with redactions, {run.withheld:,} withheld) published in {result.folder}")
        click.echo(f"  applicant's copy: {result.applicant.zip_path} (SHA-256 {result.applicant.zip_sha256})")
        click.echo(f"  internal copy:    {result.internal.zip_path} (SHA-256 {result.internal.zip_sha256})")
        click.echo(f"  signed by the key with fingerprint {result.fingerprint}")
        part_b = "" if law != "BSA s.63" else f"; Part B signed by {signer}" if signer else "; Part B names no expert"
        click.echo(f"  certificate under {law}" + (f" (proceeding began {format_day(proceeding_began)})" if proceeding_began else "") + part_b)
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)


def _expert(name: str | None, designation: str | None, relation: str | None, address: str | None) -> Signatory | None:
    """Part B's expert from the options; None: the one of disclosure.expert, if any."""
    from archiver.rti.package import Signatory

    if name is None:
        given = [option for option, value in (("--expert-designation", designation), ("--expert-relation", relation), ("--expert-address", address)) if value]
        if given:
            raise click.UsageError(f"{', '.join(given)} without --expert NAME: give the expert's name too, or leave the expert's particulars out to use disclosure.expert")
        return None
    if not name.strip() or not (designation or "").strip():
        raise click.UsageError("--expert needs a name and --expert-designation: Part B of the BSA s.63 Schedule asks for the expert's name, designation and signature")
    return Signatory(name.strip(), (relation or "").strip(), (address or "").strip(), (designation or "").strip())


@rti.command("keygen")
@user_option
@data_dir_option
@click.pass_context
def rti_keygen(ctx: click.Context, user: str | None, data_dir: Path | None) -> None:
    """Create the Ed25519 key pair that signs disclosure packages, at disclosure.signing_key_file.

    The private key is written readable by its owner only and never printed; the public key
    goes beside it (NAME.pub.pem) and into every package. An existing key is never overwritten.

    Example: sangrah rti keygen
    """
    from archiver.rti.package.signing import generate_signing_key, load_signing_key, public_key_path

    with session(ctx, data_dir, user, "rti keygen") as s:
        path = s.config.disclosure.signing_key_file
        if path is None:
            raise ConfigError("disclosure.signing_key_file is not set; name the file the key goes to in the configuration file (disclosure: signing_key_file: /etc/sangrah/rti-signing.pem)")
        generate_signing_key(path)
        fingerprint = load_signing_key(path).fingerprint
        s.catalog.audit(actor=s.actor.name, action="rti_keygen", target=str(path), outcome="ok", details={"fingerprint": fingerprint, "public_key": str(public_key_path(path))})
    click.echo(f"created the signing key {path} (owner-only) and its public key {public_key_path(path)}", err=True)
    click.echo(f"fingerprint {fingerprint}: publish it, so that applicants and courts can check a package's signature")
