"""``rti package`` and ``rti keygen``: a request's disclosure package, and the key that signs it."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import click
import orjson

from archiver.cli._access import session, user_option
from archiver.cli._base import data_dir_option
from archiver.cli.rti import rti
from archiver.errors import ConfigError

__all__ = ["rti_package", "rti_keygen"]


@rti.command("package")
@click.argument("registration_no")
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), help="Where the package folder goes (default: disclosure.packages_dir, else DATA_DIR/packages).")
@click.option("--json", "as_json", is_flag=True, help="Print where the package is and its digests as JSON.")
@user_option
@data_dir_option
@click.pass_context
def rti_package(ctx: click.Context, registration_no: str, out_dir: Path | None, as_json: bool, user: str | None, data_dir: Path | None) -> None:
    """Build the request's disclosure package: the applicant's copy and the internal copy, signed.

    Refused while the review is unfinished (each open item named; see sangrah rti review status)
    or before the decision is recorded (sangrah rti decide). A failed run leaves nothing that
    looks like a package: it is built in a hidden folder and renamed into place at the end.

    Example: sangrah rti package DOWR/R/2026/00012 --out /srv/rti/packages
    """
    from archiver.rti.disclose import package_request

    now = datetime.now(timezone.utc)
    with session(ctx, data_dir, user, "rti package", target=registration_no) as s:
        run = package_request(s.catalog, s.actor, s.config, registration_no, out_dir or s.config.packages_dir, now=now)
    result = run.result
    if as_json:
        click.echo(orjson.dumps({
            "folder": str(result.folder), "applicant_zip": str(result.applicant.zip_path), "applicant_zip_sha256": result.applicant.zip_sha256,
            "internal_zip": str(result.internal.zip_path), "internal_zip_sha256": result.internal.zip_sha256, "fingerprint": result.fingerprint,
            "records": run.records, "withheld": run.withheld, "redacted": run.redacted, "warnings": list(result.warnings),
        }).decode())
    else:
        click.echo(f"{registration_no}: package of {run.records:,} record(s) ({run.redacted:,} with redactions, {run.withheld:,} withheld) published in {result.folder}")
        click.echo(f"  applicant's copy: {result.applicant.zip_path} (SHA-256 {result.applicant.zip_sha256})")
        click.echo(f"  internal copy:    {result.internal.zip_path} (SHA-256 {result.internal.zip_sha256})")
        click.echo(f"  signed by the key with fingerprint {result.fingerprint}")
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)


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
