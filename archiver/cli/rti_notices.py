"""``sangrah rti notice``: the notices and letters of a request, written from the register.

A fee intimation starts the s.7(3)(a) pause and a third-party notice the s.11 consultation, as
one transaction with the event and its audit entry; a notice that the rules refuse leaves no
file behind (it is written beside its place and moved there only once recorded).
"""

from __future__ import annotations

import hashlib
import os
from datetime import datetime, timezone
from pathlib import Path

import click

from archiver.cli._access import WHEN, Session, When, session, user_option
from archiver.cli._base import data_dir_option
from archiver.cli.rti import record_change, rti, rules_of, rupees
from archiver.errors import RtiError
from archiver.rti.deadlines import ist_day
from archiver.rti.fees import Copies, further_fees
from archiver.rti.letters import render
from archiver.rti.notices import NOTICE_KINDS, NoticeContext, ThirdPartyParticulars, build_notice
from archiver.rti.register import applicant_of, get_case, third_parties_of
from archiver.rti.states import Event

__all__ = ["rti_notice"]


@rti.command("notice")
@click.argument("registration_no")
@click.option("--kind", type=click.Choice(NOTICE_KINDS), required=True, help="Which notice or letter.")
@click.option("--out", "out_path", type=click.Path(path_type=Path, dir_okay=False), help="Write it to this file (default: standard output).")
@click.option("--format", "fmt", type=click.Choice(["text", "html"]), help="text or html (default: from --out's extension, else text).")
@click.option("--at", "when", type=WHEN, help="The notice's date and despatch (default: now).")
@click.option("--draft", is_flag=True, help="Render only: record no despatch (no fee pause, no third-party notice).")
@click.option("--pages", type=click.IntRange(0), default=0, help="Fee: A-4/A-3 pages to supply.")
@click.option("--media", type=click.IntRange(0), default=0, help="Fee: CDs, DVDs or USB drives to supply.")
@click.option("--inspection-minutes", type=click.IntRange(0), default=0, help="Fee: minutes of inspection.")
@click.option("--postage", default="0", metavar="RUPEES", help="Fee: postal charges.")
@click.option("--third-party-name", help="Third-party notice: the third party's name.")
@click.option("--third-party-address", help="Third-party notice: its address.")
@click.option("--information", help="Third-party notice: the information that relates to it or that it supplied.")
@user_option
@data_dir_option
@click.pass_context
def rti_notice(
    ctx: click.Context, registration_no: str, kind: str, out_path: Path | None, fmt: str | None, when: When | None, draft: bool, pages: int,
    media: int, inspection_minutes: int, postage: str, third_party_name: str | None, third_party_address: str | None, information: str | None,
    user: str | None, data_dir: Path | None,
) -> None:
    """Write a notice or letter of a request: the reply, a fee intimation, a rejection, a s.10(2) notice, third-party notices.

    A fee intimation starts the s.7(3)(a) pause and a third-party notice the s.11 consultation,
    unless --draft. Appeal time limits in the notice are counted from its date.

    Example: sangrah rti notice DOWR/R/2026/00012 --kind fee --pages 40 --out fee-intimation.html
    """
    fmt = fmt or ("html" if out_path and out_path.suffix.lower() in (".html", ".htm") else "text")
    at = when.at if when else datetime.now(timezone.utc)
    with session(ctx, data_dir, user, "rti notice", target=registration_no) as s:
        rules = rules_of(s)
        case = get_case(s.catalog, registration_no)
        applicant = applicant_of(s.catalog, s.actor, registration_no)
        notice_ctx = NoticeContext(s.config.rti, rules.timelines, case, applicant, ist_day(at), at)
        statement = None
        if kind == "fee" or pages or media or inspection_minutes:
            copies = Copies(pages=pages, media=media, inspection_minutes=inspection_minutes, postage_inr=rupees(postage, "--postage"))
            statement = further_fees(rules.fee_table, copies, bpl=case.request.bpl, late=notice_ctx.deadlines.late_is_free, late_cite=rules.timelines.late_is_free_cite)
        third_party = _third_party(s, registration_no, kind, third_party_name, third_party_address, information)
        letter = build_notice(kind, notice_ctx, statement=statement, third_party=third_party)
        text = render(letter, fmt)
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        audit = {"notice": kind, "format": fmt, "sha256": digest, "draft": draft}
        staged = _stage(out_path, text)
        try:
            if draft:
                s.catalog.audit(actor=s.actor.name, action="rti_notice", target=registration_no, outcome="ok", details=audit)
            elif kind == "fee":
                assert statement is not None
                record_change(s, registration_no, Event("fee_intimated", at, f"fee intimation of {statement.total} rupees", None, {"statement": statement.to_json(), "sha256": digest}), audit_details=audit)
            elif kind == "third-party" and third_party_name:
                assert third_party is not None
                record_change(s, registration_no, Event("third_party_notice", at, "s.11(1) notice given", None, {"sha256": digest}), audit_details=audit, third_party=(third_party.name, third_party.address, third_party.information))
            else:
                record_change(s, registration_no, Event("notice", at, f"{kind} notice written", None, {"notice": kind, "sha256": digest}), audit_details=audit)
        except BaseException:
            if staged is not None:
                staged.unlink(missing_ok=True)
            raise
    if staged is not None and out_path is not None:
        os.replace(staged, out_path)
        click.echo(f"wrote the {kind} notice of {registration_no} to {out_path} (SHA-256 {digest[:16]}…){' as a draft' if draft else ''}", err=True)
    else:
        click.echo(text, nl=False)
    if statement is not None and statement.uncertain:
        click.echo(f"warning: a rate in this fee statement is not confirmed against {rules.fee_table.rules} (status U in the fee tables); check it before despatch.", err=True)


def _stage(out_path: Path | None, text: str) -> Path | None:
    if out_path is None:
        return None
    staged = out_path.with_name(f".{out_path.name}.part")
    staged.write_text(text, encoding="utf-8")
    return staged


def _third_party(s: Session, registration_no: str, kind: str, name: str | None, address: str | None, information: str | None) -> ThirdPartyParticulars | None:
    if kind == "third-party" and (name or address or information):
        if not (name and address and information):
            raise RtiError(f"{registration_no}: a third-party notice needs --third-party-name, --third-party-address and --information.", request=registration_no, field="third_party", rule="RTI s.11(1)")
        return ThirdPartyParticulars(name, address, information)
    if kind in ("third-party", "third-party-decision"):
        known = third_parties_of(s.catalog, s.actor, registration_no)
        if known:
            last = known[-1]
            return ThirdPartyParticulars(last.name, last.address, last.information)
    return None

