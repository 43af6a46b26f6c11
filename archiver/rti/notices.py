"""The notices and letters of an RTI request (R4), built from the register.

- ``reply``: the reply in the DoPT format (OM 10/1/2013-IR, 06-10-2015): RTI number, its date
  and the date of receipt; the CPIO's name, designation, phone and e-mail; the reasons for any
  denial quoting the sections; transfer details; and the closing line that a first appeal lies
  to the FAA within 30 days, with the FAA's particulars. A partial disclosure carries the
  s.10(2) notice (a)-(e), a refusal the s.7(8) particulars.
- ``fee``: the s.7(3) intimation of further fees, with the calculation and the right to review.
- ``rejection``: the s.7(8) notice; ``partial``: the s.10(2) notice alone.
- ``third-party``: the s.11(1) notice; ``third-party-decision``: the s.11(3) decision with the
  s.11(4) statement of the third party's right of appeal.

Every appeal time limit is computed by the calculator (``deadlines``), counted from the date of
the notice, since the applicant's receipt is not yet known. The public authority's, CPIO's and
FAA's particulars come from the ``rti:`` section of the configuration.

``decision_letter`` is what the disclosure package includes: the reply, from the request and a
``DecisionSummary`` (records disclosed, withheld, redacted, and the sections applied).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from archiver.config import OfficerSettings, RtiSettings
from archiver.errors import ConfigError, RtiError
from archiver.rti.case import Case, Decision, DecisionSummary
from archiver.rti.deadlines import Deadlines, filer_window, format_day, ist_day
from archiver.rti.fees import FeeLine, FeeStatement, format_inr
from archiver.rti.letters import Block, Fields, Items, Letter, Para, TableBlock
from archiver.rti.request import Applicant, cite_section
from archiver.rti.timelines import Timelines

__all__ = ["NOTICE_KINDS", "TRUE_COPY_ENDORSEMENT", "NoticeContext", "ThirdPartyParticulars", "build_notice", "decision_letter", "check_particulars"]

NOTICE_KINDS = ("reply", "fee", "rejection", "partial", "third-party", "third-party-decision")

#: the endorsement on each certified copy (DoPT 2015), signed and dated over the CPIO's name and seal
TRUE_COPY_ENDORSEMENT = "True copy of the document/record supplied under RTI Act"


@dataclass(frozen=True, slots=True)
class ThirdPartyParticulars:
    name: str
    address: str
    information: str

    def __repr__(self) -> str:  # personal data stays out of logs and tracebacks
        return "ThirdPartyParticulars(...)"


@dataclass(frozen=True, slots=True)
class NoticeContext:
    """Everything a notice is built from. ``dated`` is the notice's date (IST)."""

    settings: RtiSettings
    timelines: Timelines
    case: Case
    applicant: Applicant
    dated: date
    now: datetime

    @property
    def deadlines(self) -> Deadlines:
        return self.case.deadlines(self.timelines, self.now)

    @property
    def cpio(self) -> OfficerSettings:
        assert self.settings.cpio is not None
        return self.settings.cpio

    @property
    def faa(self) -> OfficerSettings:
        assert self.settings.faa is not None
        return self.settings.faa


def check_particulars(settings: RtiSettings) -> None:
    """Every notice names the public authority, the CPIO and the FAA; say which settings are missing."""
    missing = []
    if not settings.public_authority:
        missing.append("rti.public_authority")
    for role, officer, needed in (("cpio", settings.cpio, ("phone", "email")), ("faa", settings.faa, ("address", "phone", "email"))):
        if officer is None:
            missing.append(f"rti.{role} (name, designation, {', '.join(needed)})")
            continue
        missing += [f"rti.{role}.{name}" for name in needed if not getattr(officer, name)]
    if missing:
        raise ConfigError(
            f"RTI notices carry the public authority's name and the CPIO's and FAA's particulars (DoPT OM of 06-10-2015; RTI s.7(8), s.10(2)); "
            f"the configuration lacks {', '.join(missing)}. Add them under rti: in the config file (docs/configuration.md)."
        )


def build_notice(
    kind: str,
    ctx: NoticeContext,
    *,
    statement: FeeStatement | None = None,
    summary: DecisionSummary | None = None,
    third_party: ThirdPartyParticulars | None = None,
) -> Letter:
    """The notice ``kind`` for the request in ``ctx``; refused when the request is not in the state it needs."""
    check_particulars(ctx.settings)
    regno = ctx.case.registration_no
    decision = ctx.case.decision
    if kind == "fee":
        if statement is None:
            raise RtiError(f"{regno}: a fee intimation states the fees: give what is to be supplied (--pages, --media, --inspection-minutes, --postage).", request=regno, field="fees", rule="RTI s.7(3)(a)")
        return _fee_intimation(ctx, statement)
    if kind in ("third-party", "third-party-decision") and third_party is None:
        raise RtiError(f"{regno}: name the third party (--third-party-name, --third-party-address).", request=regno, field="third_party", rule="RTI s.11(1)")
    if kind == "third-party":
        assert third_party is not None
        return _third_party_notice(ctx, third_party)
    if decision is None:
        raise RtiError(f"{regno}: a {kind} notice states a decision, and none is recorded; decide first: sangrah rti decide {regno} --outcome ...", request=regno, field="outcome", rule="RTI s.7(1)")
    if kind == "third-party-decision":
        assert third_party is not None
        return _third_party_decision(ctx, third_party, decision)
    wanted = {"rejection": ("refused", "RTI s.7(8)"), "partial": ("partly_disclosed", "RTI s.10(2)")}
    if kind in wanted and decision.outcome != wanted[kind][0]:
        outcome, rule = wanted[kind]
        raise RtiError(
            f"{regno}: a {kind} notice ({rule}) follows a decision {outcome.replace('_', ' ')}; this request was decided {decision.outcome.replace('_', ' ')}. "
            "Write the reply instead: --kind reply.",
            request=regno, field="outcome", rule=rule,
        )
    if kind == "reply":
        return decision_letter(ctx, summary or decision.summary, statement)
    if kind == "rejection":
        return _letter(ctx, "rejection", "Rejection of the request under section 7(8) of the Right to Information Act, 2005", _reference_fields(ctx), _rejection_blocks(ctx, decision))
    if kind == "partial":
        return _letter(ctx, "partial", "Notice under section 10(2) of the Right to Information Act, 2005", _reference_fields(ctx), _partial_blocks(ctx, decision, summary or decision.summary, statement))
    raise RtiError(f"{regno}: {kind!r} is not a notice; the notices are {', '.join(NOTICE_KINDS)}.", request=regno, field="kind", rule="R4")


def decision_letter(ctx: NoticeContext, summary: DecisionSummary | None, statement: FeeStatement | None = None) -> Letter:
    """The reply in the DoPT format, with the s.10(2) or s.7(8) particulars its outcome needs."""
    check_particulars(ctx.settings)
    decision = ctx.case.decision
    if decision is None:
        raise RtiError(f"{ctx.case.registration_no}: no decision is recorded.", request=ctx.case.registration_no, field="outcome", rule="RTI s.7(1)")
    blocks: list[Block] = [Para(_information_given(decision, summary))]
    if decision.outcome == "refused":
        blocks += _rejection_blocks(ctx, decision)
    elif decision.outcome == "partly_disclosed":
        blocks += _partial_blocks(ctx, decision, summary, statement)
    else:
        if statement is not None and (statement.total or _payments(statement)):
            blocks += [Para(_sentence(_fees_stated(ctx, statement))), _fee_table(ctx, statement)]
        blocks.append(_appeal_line(ctx))
        blocks.append(_faa_fields(ctx))
    if ctx.deadlines.late_is_free:
        blocks.append(Para(f"The reply is given after the time limit of section 7(1): the information is provided free of charge ({ctx.deadlines.late_is_free_cite})."))
    return _letter(ctx, "reply", "Reply under the Right to Information Act, 2005", _reference_fields(ctx), blocks)


# -- the pieces --------------------------------------------------------------------------------------
def _letter(ctx: NoticeContext, kind: str, title: str, reference: Fields, blocks: list[Block], *, to: tuple[str, ...] | None = None, subject: str | None = None) -> Letter:
    settings = ctx.settings
    return Letter(
        kind=kind,
        title=title,
        authority=settings.public_authority or "",
        authority_address=settings.address,
        reference=ctx.case.registration_no,
        dated=ctx.dated,
        to=to or (ctx.applicant.name, *ctx.applicant.address.splitlines()),
        subject=subject or f"Your application under the RTI Act, 2005, registration number {ctx.case.registration_no}",
        blocks=(reference, *blocks),
        signatory=_officer_lines(ctx.cpio, "Central Public Information Officer" if settings.jurisdiction == "central" else "State Public Information Officer"),
    )


def _officer_lines(officer: OfficerSettings, role: str) -> tuple[str, ...]:
    lines = [f"({officer.name})", officer.designation, role]
    if officer.address:
        lines.append(officer.address)
    if officer.phone:
        lines.append(f"Tel: {officer.phone}")
    if officer.email:
        lines.append(f"E-mail: {officer.email}")
    return tuple(lines)


def _reference_fields(ctx: NoticeContext) -> Fields:
    request = ctx.case.request
    rows = [
        ("RTI registration number", request.registration_no),
        ("Date of the application", format_day(request.application_on) if request.application_on else "not dated"),
        ("Date of receipt", format_day(ist_day(request.received_at))),
        ("Received", request.mode.replace("_", " ")),
    ]
    if request.transferred_from and request.transferred_on:
        rows.append(("Transferred", f"from {request.transferred_from} on {format_day(request.transferred_on)}, under section 6(3)"))
    transfer = ctx.case.last("advance")
    if request.state == "transferred" and transfer is not None:
        rows.append(("Transferred to", f"{transfer.details.get('to_authority')} on {format_day(ist_day(transfer.happened_at))}, under section 6(3)"))
    cpio = ctx.cpio
    rows += [("CPIO", f"{cpio.name}, {cpio.designation}"), ("CPIO's telephone", cpio.phone or ""), ("CPIO's e-mail", cpio.email or "")]
    return Fields(tuple(rows))


def _faa_fields(ctx: NoticeContext) -> Fields:
    faa = ctx.faa
    return Fields(
        (("Name", faa.name), ("Designation", faa.designation), ("Address", faa.address or ""), ("Telephone", faa.phone or ""), ("E-mail", faa.email or "")),
        heading="First Appellate Authority",
    )


def _appeal_window(ctx: NoticeContext, anchor: date | None = None) -> str:
    day = anchor or ctx.dated
    window = filer_window(ctx.timelines, "first_appeal", day, f"30 days from {format_day(day)}", "first appeal")
    moved = f" (the office is closed on {format_day(window.moved_from)})" if window.moved_from else ""
    return (
        f"within thirty days of the receipt of this letter ({window.cite.split(';')[0]}): if you receive it on {format_day(day)}, "
        f"the last day is {format_day(window.due_on) if window.due_on else '?'}{moved}"
    )


def _appeal_line(ctx: NoticeContext) -> Para:
    return Para(
        f"If you are not satisfied with this reply, a first appeal lies to the First Appellate Authority named below, {_appeal_window(ctx)}. "
        f"No fee is payable for a first appeal. A second appeal lies to the {ctx.settings.commission_name} within ninety days of the "
        "First Appellate Authority's decision, or of the date by which it should have been made (RTI s.19(3))."
    )


def _information_given(decision: Decision, summary: DecisionSummary | None) -> str:
    outcome = {"disclosed": "The information sought is provided", "partly_disclosed": "The information sought is provided in part", "refused": "The information sought cannot be provided"}[decision.outcome]
    if summary is None:
        return f"{outcome}."
    sections = f", under {', '.join(cite_section(s) for s in summary.sections)}" if summary.sections else ""
    if decision.outcome == "refused":
        # nothing is enclosed with a refusal: it carries the s.7(8) notice instead, and claims no enclosure
        withheld = f": the {summary.withheld} record(s) concerned are withheld{sections}" if summary.withheld else sections
        return f"{outcome}. No record is disclosed{withheld}."
    counts = f"{summary.disclosed} record(s) disclosed, {summary.redacted} disclosed with parts severed, {summary.withheld} withheld"
    enclosed = " The records disclosed are enclosed." if summary.disclosed + summary.redacted else ""
    return f"{outcome}: {counts}{sections}.{enclosed}"


def _sentence(text: str) -> str:
    """``text`` with a capital first letter and a closing full stop."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


def _reasons_rows(decision: Decision) -> Items:
    items = [f"{cite_section(section)}" for section in decision.sections]
    return Items((f"Withheld under {', '.join(items)}: {_sentence(decision.reasons)}",), heading="Reasons")


def _rejection_blocks(ctx: NoticeContext, decision: Decision) -> list[Block]:
    return [
        Para("Your request is rejected, for the reasons below (RTI s.7(8)(i))."),
        _reasons_rows(decision),
        Para(f"You may appeal against this decision (RTI s.7(8)(ii)): a first appeal lies to the First Appellate Authority named below (s.7(8)(iii)), {_appeal_window(ctx)}."),
        _faa_fields(ctx),
    ]


def _partial_blocks(ctx: NoticeContext, decision: Decision, summary: DecisionSummary | None, statement: FeeStatement | None) -> list[Block]:
    cpio = ctx.cpio
    sections = ", ".join(cite_section(s) for s in decision.sections)
    findings = _sentence(decision.findings or "no finding on a question of fact was needed beyond the reasons stated")
    fees = f"{_fees_stated(ctx, statement)};" if statement is not None else "no further fee is payable for the part provided;"
    faa = ctx.faa
    items = (
        "only part of the record requested is being provided, after severance of the record containing information that is exempt from disclosure;",
        f"the reasons for the decision: the severed part is exempt under {sections}. {_sentence(decision.reasons)} Findings on material questions "
        f"of fact, with the material on which they are based: {findings}",
        f"the decision is given by {cpio.name}, {cpio.designation};",
        fees,
        f"you may seek a review of the decision not to disclose the severed part, of the fee charged, or of the form of access, by a first appeal to "
        f"{faa.name}, {faa.designation}, {faa.address} (Tel: {faa.phone}, e-mail: {faa.email}), {_appeal_window(ctx)}; the appeal is made in writing, "
        f"stating the registration number and the grounds; a second appeal lies to the {ctx.settings.commission_name} (RTI s.19(3)). "
        "The records may also be inspected, or supplied in another form, on request.",
    )
    blocks: list[Block] = [Items(items, heading="Notice under section 10(2) of the RTI Act", labels=("a", "b", "c", "d", "e"))]
    if statement is not None and (statement.total or _payments(statement)):
        blocks.append(_fee_table(ctx, statement))
    return blocks


def _payments(statement: FeeStatement) -> tuple[FeeLine, ...]:
    """The lines of ``statement`` that take off what was paid ("less: paid on ...", ``recorded_fees``): a negative amount, one per payment."""
    return tuple(line for line in statement.lines if line.amount < 0)


def _on(line: FeeLine) -> str:
    """When a payment was made: "paid on 09/03/2026"."""
    return line.item.removeprefix("less: ")


def _paid(line: FeeLine) -> str:
    """A payment line as a letter says it: "Rs 80 was paid on 09/03/2026"."""
    return f"{format_inr(-line.amount)} was {_on(line)}"


def _refunded(ctx: NoticeContext, payments: tuple[FeeLine, ...]) -> str:
    """What was paid before a reply that is free (s.7(6)): "the Rs 80 paid on 09/03/2026 is refundable, ..."."""
    each = " and ".join(f"the {format_inr(-line.amount)} {_on(line)}" for line in payments)
    return f"{each} {'is' if len(payments) == 1 else 'are'} refundable, as no fee is chargeable ({ctx.deadlines.late_is_free_cite})"


def _fees_stated(ctx: NoticeContext, statement: FeeStatement) -> str:
    """The fees calculated, each payment with its amount and day, and what is still to deposit (s.10(2)(d)): never a negative amount.

    Waived with payments made (a late reply, s.7(6)), nothing is chargeable and each payment is said to be refundable.
    """
    payments = _payments(statement)
    if not payments:
        if statement.total:
            return f"the fees calculated are {format_inr(statement.total)}, as set out below; please deposit that amount {ctx.settings.fee_payment}"
        return f"no fee is payable: {statement.waiver}" if statement.waiver else "no further fee is payable for the part provided"
    if statement.waiver:
        return f"no fee is payable: {statement.waiver}; {_refunded(ctx, payments)}"
    if statement.total:
        paid = " and ".join(_paid(line) for line in payments)
        return (
            f"the fees calculated are {format_inr(statement.subtotal)}, as set out below; {paid}, and the balance of {format_inr(statement.total)} "
            f"is payable: please deposit that amount {ctx.settings.fee_payment}"
        )
    if len(payments) == 1:
        when = _on(payments[0])
    else:
        when = "paid, " + " and ".join(f"{format_inr(-line.amount)} {_on(line).removeprefix('paid ')}" for line in payments)
    return f"the fees of {format_inr(statement.subtotal)}, calculated as shown below, were {when}, and no further fee is payable"


def _fee_table(ctx: NoticeContext, statement: FeeStatement) -> TableBlock:
    """The calculation, line by line; each payment is shown as the positive amount it takes off, then the balance.

    Waived with payments made (s.7(6)), nothing is chargeable: the payments are listed, then what is refundable.
    """
    payments = _payments(statement)
    rows = [(line.item, line.quantity, line.rate, format_inr(line.amount), line.cite) for line in statement.lines if line.amount >= 0]
    if payments and statement.waiver:
        rows.append(("Fees calculated", "", "", format_inr(statement.subtotal), ""))
        rows.append(("Fee chargeable", "", "", "nil", statement.waiver))
        rows += [(_on(line), "", "", format_inr(-line.amount), line.cite) for line in payments]
        rows.append(("Refundable", "", "", format_inr(-sum((line.amount for line in payments), Decimal(0))), ctx.deadlines.late_is_free_cite))
    elif payments:
        rows.append(("Fees calculated", "", "", format_inr(statement.subtotal), ""))
        rows += [(line.item, line.quantity, line.rate, format_inr(-line.amount), line.cite) for line in payments]
        rows.append(("Balance payable", "", "", format_inr(statement.total) if statement.total else "nil", ""))
    else:
        rows.append(("Total payable", "", "", format_inr(statement.total), statement.waiver or ""))
    return TableBlock(("Item", "Quantity", "Rate", "Amount", "Rule"), tuple(rows), heading="Calculation of the fees")


def _fee_intimation(ctx: NoticeContext, statement: FeeStatement) -> Letter:
    pause = ctx.timelines.fee_pause_cite
    blocks: list[Block] = [
        Para(
            f"The information you asked for can be provided on payment of further fees of {format_inr(statement.total)}, calculated as below "
            f"(RTI s.7(3)(a)). Please deposit the amount {ctx.settings.fee_payment}, quoting the registration number."
        ),
        _fee_table(ctx, statement),
        Para(f"The period from the despatch of this letter to the payment of the fees is excluded from the thirty days within which the reply is due ({pause})."),
        Para(
            "You may seek a review of the amount of the fees, or of the form of access, by a first appeal to the First Appellate Authority named below "
            f"(RTI s.7(3)(b)), {_appeal_window(ctx)}; the appeal is made in writing, stating the registration number and the grounds."
        ),
        _faa_fields(ctx),
    ]
    return _letter(ctx, "fee", "Intimation of further fees under section 7(3) of the Right to Information Act, 2005", _reference_fields(ctx), blocks)


def _third_party_notice(ctx: NoticeContext, third_party: ThirdPartyParticulars) -> Letter:
    request = ctx.case.request
    rule = ctx.timelines.rule("third_party_reply")
    blocks: list[Block] = [
        Fields((("RTI registration number", request.registration_no), ("Date of receipt of the request", format_day(ist_day(request.received_at))))),
        Para(
            f"A request under the RTI Act, 2005 asks for the following information, which relates to you or was supplied by you, and which you "
            f"may have treated as confidential: {third_party.information}"
        ),
        Para("The Public Information Officer intends to disclose this information, and gives you this notice under section 11(1) of the Act."),
        Para(
            f"You may make a submission, in writing or orally, on whether the information should be disclosed, within {rule.period} days of the receipt "
            f"of this notice ({rule.cite}). Your submission will be kept in view in deciding on the request. Except in the case of trade or commercial "
            "secrets protected by law, disclosure may be allowed if the public interest in it outweighs any possible harm to your interests (s.11(1) proviso)."
        ),
    ]
    return _letter(
        ctx, "third-party", "Notice to a third party under section 11(1) of the Right to Information Act, 2005",
        Fields((("Reference", request.registration_no),)), blocks,
        to=(third_party.name, *third_party.address.splitlines()),
        subject=f"Notice under section 11(1) of the RTI Act, 2005 regarding request {request.registration_no}",
    )


def _third_party_decision(ctx: NoticeContext, third_party: ThirdPartyParticulars, decision: Decision) -> Letter:
    regno = ctx.case.registration_no
    if not ctx.case.third_party:
        raise RtiError(f"{regno}: no third party was given notice under s.11(1), so there is no s.11(3) decision to give it.", request=regno, field="third_party", rule="RTI s.11(3)")
    order_on = ist_day(decision.decided_at)
    window = filer_window(ctx.timelines, "third_party_appeal", order_on, f"30 days from the order of {format_day(order_on)}", "third party's appeal")
    disclose = decision.outcome != "refused"
    what = "to disclose" if disclose else "not to disclose"
    blocks: list[Block] = [
        Para(f"Further to the notice under section 11(1) of the Act, the Public Information Officer decided on {format_day(order_on)} {what} the information: {third_party.information}"),
        Para(f"Reasons: {decision.reasons}" if decision.reasons else "Your submission, if any, was kept in view."),
        Para(
            f"You are entitled to prefer an appeal under section 19 against this decision (RTI s.11(4)): a first appeal lies to the First Appellate Authority "
            f"named below within thirty days of the date of this order ({window.cite}), that is by {format_day(window.due_on) if window.due_on else '?'}."
            + (" The information will not be disclosed before that day has passed." if disclose else "")
        ),
        _faa_fields(ctx),
    ]
    return _letter(
        ctx, "third-party-decision", "Decision under section 11(3) of the Right to Information Act, 2005",
        Fields((("Reference", regno), ("Date of the order", format_day(order_on)))), blocks,
        to=(third_party.name, *third_party.address.splitlines()),
        subject=f"Decision under section 11(3) of the RTI Act, 2005 regarding request {regno}",
    )

