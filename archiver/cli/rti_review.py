"""``rti review``: the review of a request, record by record (``archiver.rti.review_catalog``).

``suggest`` builds the review set from the scope (threads expanded) and makes the redaction
suggestions; ``list`` shows the records and suggestions; ``accept`` and ``reject`` answer the
suggestions; ``decide`` decides records (disclose, withhold under a section, redact with
severed spans, with a s.8(2) override); ``status`` says what is still open. Every change is
checked against RTI ss.8-10 before it is written, and audited.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import click
import orjson
from rich.table import Table

from archiver.cli._access import Session, session, user_option
from archiver.cli._base import data_dir_option, out_console
from archiver.cli.rti import rti
from archiver.cli.rti_hold import sync_holds
from archiver.errors import RtiError
from archiver.rti.register import get_case
from archiver.rti.review import CLAUSES
from archiver.rti.review_catalog import LoadedReview, Sever, accept_suggestions, build_review_set, decide, load_review, reject_suggestions, request_ref_for

__all__ = ["review", "review_suggest", "review_list", "review_status", "review_accept", "review_reject", "review_decide", "loaded_review", "parse_sever"]

_SUGGESTION = re.compile(r"S-?(\d+)", re.IGNORECASE)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def loaded_review(s: Session, registration_no: str) -> LoadedReview:
    case = get_case(s.catalog, registration_no)
    return load_review(s.catalog, registration_no, s.config.records_dir, request_ref_for(s.config.rti, case))


def _suggestion_ids(values: tuple[str, ...]) -> list[int]:
    out = []
    for value in values:
        m = _SUGGESTION.fullmatch(value.strip())
        if not m:
            raise click.BadParameter(f"{value!r} is not a suggestion id; write it as S-12 (see sangrah rti review list REQUEST --suggestions)", param_hint="SUGGESTION")
        out.append(int(m.group(1)))
    return out


def parse_sever(text: str) -> Sever:
    """``FIELD:START:END:CLAUSE`` (``text:10:24:8(1)(j)``), optionally ``@VERSION`` after the field."""
    parts = text.split(":", 3)
    if len(parts) != 4 or not parts[1].isdigit() or not parts[2].isdigit():
        raise click.BadParameter(f"{text!r}: write a severed span as FIELD:START:END:CLAUSE, e.g. text:10:24:8(1)(j)", param_hint="--sever")
    field, _, version = parts[0].partition("@")
    return Sever(field, int(parts[1]), int(parts[2]), parts[3], version or None)


@rti.group("review")
def review() -> None:
    """Review a request's records: suggestions, decisions and redactions, record by record.

    Example: sangrah rti review status DOWR/R/2026/00012
    """


@review.command("suggest")
@click.argument("registration_no")
@user_option
@data_dir_option
@click.pass_context
def review_suggest(ctx: click.Context, registration_no: str, user: str | None, data_dir: Path | None) -> None:
    """Build the review set from the request's scope (threads expanded) and suggest redactions.

    Suggestions mark third parties' personal information in citizens' records (names, handles,
    phone numbers, e-mail, Aadhaar, PAN, vehicle and bank numbers, addresses), never in the
    department's own posts. Run it again after the scope grows: only new records are added.

    Example: sangrah rti review suggest DOWR/R/2026/00012
    """
    now = _now()
    with session(ctx, data_dir, user, "rti review suggest", target=registration_no) as s:
        built = build_review_set(s.catalog, s.actor, registration_no, s.config.records_dir, now=now)
        sync = sync_holds(s, registration_no, now)
    click.echo(f"{registration_no}: review set of {built.records:,} record(s) ({built.added:,} new, {built.versions:,} version(s) read); {built.suggested:,} suggestion(s) made", err=True)
    if built.missing:
        click.echo(f"warning: {len(built.missing)} record(s) of the scope are not in the record dataset, e.g. {built.missing[0]}; extract first: sangrah extract", err=True)
    if sync.holds:
        click.echo(f"{registration_no}: {', '.join(f'H-{h.id} {h.hold_type}' for h in sync.holds)} cover {sync.records:,} record(s)", err=True)


@review.command("list")
@click.argument("registration_no")
@click.option("--suggestions", "with_suggestions", is_flag=True, help="List the suggestions (S-ids) instead of the records.")
@click.option("--open", "open_only", is_flag=True, help="Only what is still open: undecided records, unanswered suggestions.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines.")
@user_option
@data_dir_option
@click.pass_context
def review_list(ctx: click.Context, registration_no: str, with_suggestions: bool, open_only: bool, as_json: bool, user: str | None, data_dir: Path | None) -> None:
    """List the review set's records with their decisions, or its suggestions.

    Example: sangrah rti review list DOWR/R/2026/00012 --suggestions --open
    """
    with session(ctx, data_dir, user, "rti review list", target=registration_no) as s:
        loaded = loaded_review(s, registration_no)
        s.catalog.audit(actor=s.actor.name, action="rti_review_list", target=registration_no, outcome="ok", details={"records": len(loaded.review.record_ids()), "suggestions": with_suggestions})
    if with_suggestions:
        items = [x for x in loaded.suggestions if not open_only or x.status == "open"]
        if as_json:
            for x in items:
                sg = x.suggestion
                click.echo(orjson.dumps({"id": x.label, "record_id": sg.record_id, "version_id": sg.version_id, "field": sg.field, "start": sg.start, "end": sg.end,
                                         "text": sg.text, "kind": sg.kind, "clause": sg.clause, "status": x.status}).decode())
            return
        table = Table("id", "record", "field", "span", "kind", "text", "status", title=f"{registration_no}: {len(items):,} suggestion(s)")
        for x in items:
            sg = x.suggestion
            table.add_row(x.label, sg.record_id, sg.field, f"{sg.start}-{sg.end}", sg.kind, sg.text, x.status)
        out_console().print(table)
        return
    records = {r.record_id: r for r in loaded.review.records}
    ids = [rid for rid in loaded.review.record_ids() if not open_only or loaded.review.decision(rid) is None]
    if as_json:
        for rid in ids:
            d = loaded.review.decision(rid)
            click.echo(orjson.dumps({"record_id": rid, "by_department": records[rid].by_department, "thread_id": records[rid].thread_id,
                                     "decision": d.kind if d else None, "clauses": list(d.clauses) if d else [], "redactions": len(d.redactions) if d else 0}).decode())
        return
    table = Table("record", "by", "thread", "decision", "sections", "redactions", "text", title=f"{registration_no}: {len(ids):,} record(s)")
    for rid in ids:
        d, r = loaded.review.decision(rid), records[rid]
        sections = sorted(set(d.clauses) | {x.clause for x in d.redactions if x.clause}) if d else []
        table.add_row(rid, "department" if r.by_department else "citizen", r.thread_id, d.kind if d else "undecided", ", ".join(sections), str(len(d.redactions)) if d else "", r.text[:40])
    out_console().print(table)


@review.command("status")
@click.argument("registration_no")
@click.option("--json", "as_json", is_flag=True, help="Print the counts and problems as JSON.")
@user_option
@data_dir_option
@click.pass_context
def review_status(ctx: click.Context, registration_no: str, as_json: bool, user: str | None, data_dir: Path | None) -> None:
    """Say what of the review is done and what is still open, each open item with its rule.

    Exit 0 when the review can be packaged, 1 when something is open.

    Example: sangrah rti review status DOWR/R/2026/00012
    """
    with session(ctx, data_dir, user, "rti review status", target=registration_no) as s:
        loaded = loaded_review(s, registration_no)
        problems = loaded.problems()
        s.catalog.audit(actor=s.actor.name, action="rti_review_status", target=registration_no, outcome="ok", details={"problems": len(problems)})
    ids = loaded.review.record_ids()
    kinds = [d.kind for d in (loaded.review.decision(r) for r in ids) if d]
    counts = {"records": len(ids), "disclose": kinds.count("disclose"), "withhold": kinds.count("withhold"), "redact": kinds.count("redact"),
              "undecided": len(loaded.undecided()), "suggestions_open": sum(1 for x in loaded.suggestions if x.status == "open")}
    if as_json:
        click.echo(orjson.dumps({**counts, "ready": not problems, "problems": [str(p) for p in problems]}).decode())
    else:
        click.echo(f"{registration_no}: {counts['records']:,} record(s): {counts['disclose']:,} disclosed, {counts['redact']:,} with redactions, "
                   f"{counts['withhold']:,} withheld, {counts['undecided']:,} undecided; {counts['suggestions_open']:,} suggestion(s) unanswered")
        for problem in problems[:50]:
            click.echo(f"  - {problem}")
        if len(problems) > 50:
            click.echo(f"  … and {len(problems) - 50} more (all of them: --json)")
        click.echo("ready to package: sangrah rti package " + registration_no if not problems else f"{len(problems):,} problem(s) before it can be packaged")
    if problems:
        raise SystemExit(1)


@review.command("accept")
@click.argument("registration_no")
@click.argument("suggestions", nargs=-1, metavar="[S-ID]...")
@click.option("--all", "accept_all", is_flag=True, help="Accept every open suggestion (those on withheld records are left).")
@click.option("--span", metavar="START-END", help="Edit the one suggestion given: sever this span of the same field instead.")
@click.option("--section", "clause", type=click.Choice(list(CLAUSES)), help="Sever under this clause instead of the suggested 8(1)(j).")
@user_option
@data_dir_option
@click.pass_context
def review_accept(ctx: click.Context, registration_no: str, suggestions: tuple[str, ...], accept_all: bool, span: str | None, clause: str | None, user: str | None, data_dir: Path | None) -> None:
    """Accept suggestions (or edit one with --span): each becomes a redaction with its clause.

    Example: sangrah rti review accept DOWR/R/2026/00012 S-3 S-4
    """
    if bool(suggestions) == accept_all:
        raise click.UsageError("give the suggestions to accept (S-3 S-4), or --all")
    parsed_span = None
    if span is not None:
        m = re.fullmatch(r"(\d+)-(\d+)", span.strip())
        if not m:
            raise click.BadParameter(f"{span!r}: write the span as START-END, e.g. 10-24", param_hint="--span")
        parsed_span = (int(m.group(1)), int(m.group(2)))
    ids = None if accept_all else _suggestion_ids(suggestions)
    now = _now()
    with session(ctx, data_dir, user, "rti review accept", target=registration_no) as s:
        accepted, records = accept_suggestions(s.catalog, s.actor, loaded_review(s, registration_no), ids, clause=clause, span=parsed_span, now=now)
    click.echo(f"{registration_no}: {accepted:,} suggestion(s) {'edited' if parsed_span else 'accepted'}; {records:,} record(s) to be disclosed with redactions", err=True)


@review.command("reject")
@click.argument("registration_no")
@click.argument("suggestions", nargs=-1, required=True, metavar="S-ID...")
@click.option("--reason", required=True, help="Why the suggestion is not severed (kept in the redaction log).")
@user_option
@data_dir_option
@click.pass_context
def review_reject(ctx: click.Context, registration_no: str, suggestions: tuple[str, ...], reason: str, user: str | None, data_dir: Path | None) -> None:
    """Reject suggestions, with the reason, kept in the internal copy's redaction log.

    Example: sangrah rti review reject DOWR/R/2026/00012 S-7 --reason "the name of a public official acting as such"
    """
    now = _now()
    with session(ctx, data_dir, user, "rti review reject", target=registration_no) as s:
        count = reject_suggestions(s.catalog, s.actor, loaded_review(s, registration_no), _suggestion_ids(suggestions), reason=reason, now=now)
    click.echo(f"{registration_no}: {count} suggestion(s) rejected", err=True)


@review.command("decide")
@click.argument("registration_no")
@click.argument("record_ids", nargs=-1, metavar="[RECORD_ID]...")
@click.option("--as", "kind", type=click.Choice(["disclose", "withhold", "redact"]), required=True, help="Give it whole, withhold it under a section, or give it with spans severed.")
@click.option("--section", "clauses", multiple=True, metavar="CLAUSE", help="With withhold: the exemption, 8(1)(a)-(j), 9 or 11 (repeatable).")
@click.option("--reasons", default="", help="Why: recorded with the decision, for the reply and an appeal.")
@click.option("--sever", "severs", multiple=True, metavar="FIELD:START:END:CLAUSE", help="With redact: a span to sever, e.g. text:10:24:8(1)(j) (repeatable).")
@click.option("--override", "override_clauses", multiple=True, metavar="CLAUSE", help="A s.8(2) public-interest override: the s.8(1) exemption it sets aside (repeatable).")
@click.option("--override-reasons", help="Why the public interest outweighs the harm (required with --override).")
@click.option("--undecided", is_flag=True, help="Decide every record still undecided (instead of RECORD_IDs).")
@click.option("--department", "department_only", is_flag=True, help="With --undecided: only the department's own records.")
@user_option
@data_dir_option
@click.pass_context
def review_decide(
    ctx: click.Context, registration_no: str, record_ids: tuple[str, ...], kind: str, clauses: tuple[str, ...], reasons: str, severs: tuple[str, ...],
    override_clauses: tuple[str, ...], override_reasons: str | None, undecided: bool, department_only: bool, user: str | None, data_dir: Path | None,
) -> None:
    """Decide records: disclose, withhold (with its section) or redact (with severed spans).

    Refused, with nothing recorded, when a decision breaks a rule: a withholding without its
    section, an unknown clause, a redaction outside its field, a s.8(2) override without
    reasons, a s.8(1) clause more than twenty years after the event (s.8(3)).

    Example: sangrah rti review decide DOWR/R/2026/00012 x:1994071213470646404 --as withhold --section "8(1)(j)" --reasons "a complaint naming the writer's family"
    """
    if bool(record_ids) == undecided:
        raise click.UsageError("give the records to decide (RECORD_ID ...), or --undecided")
    if department_only and not undecided:
        raise click.UsageError("--department goes with --undecided")
    if kind == "withhold" and not clauses:
        raise click.ClickException(f"{registration_no}: --section is required to withhold a record: the exemption, 8(1)(a)-(j), 9 or 11 (RTI ss.8-10, R5)")
    if kind != "withhold" and clauses:
        raise click.UsageError("--section goes with --as withhold; a severed span carries its clause in --sever")
    if override_clauses and not (override_reasons or "").strip():
        raise click.ClickException(f"{registration_no}: --override-reasons is required with --override: record why the public interest outweighs the harm (RTI s.8(2))")
    parsed = [parse_sever(x) for x in severs]
    now = _now()
    with session(ctx, data_dir, user, "rti review decide", target=registration_no) as s:
        loaded = loaded_review(s, registration_no)
        if undecided:
            by_department = {r.record_id: r.by_department for r in loaded.review.records}
            record_ids = tuple(r for r in loaded.undecided() if by_department[r] or not department_only)
            if not record_ids:
                raise RtiError(f"{registration_no}: no record is undecided" + (" among the department's own" if department_only else ""), request=registration_no, field="record_id", rule="R5")
        override = (override_clauses, override_reasons or "") if override_clauses else None
        decided = decide(s.catalog, s.actor, loaded, record_ids, kind, clauses=clauses, reasons=reasons, severs=parsed, override=override, now=now)
    what = {"disclose": "to be disclosed", "withhold": f"withheld under {', '.join(clauses)}", "redact": "to be disclosed with redactions"}[kind]
    click.echo(f"{registration_no}: {len(decided):,} record(s) {what}", err=True)

