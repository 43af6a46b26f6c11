"""Search commands: ``index``, ``rebuild index``, ``search``, ``mark`` and ``hold``.

Every search (and every thread shown) is entered in the audit log with who searched, for what,
and how many hits it had; a hold's release is refused unless the acting user holds the role its
type needs (R17).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import click
import orjson
from rich.markup import escape
from rich.table import Table

from archiver.catalog.annotations import HOLD_TYPE_ALIASES, HOLD_TYPES
from archiver.cli._access import acting_user, user_option
from archiver.cli._base import IST, cli, data_dir_option, err_console, errors_as_click, load_for, out_console, rebuild, with_progress
from archiver.config import Config
from archiver.model import PLATFORMS

__all__ = ["index", "rebuild_index", "search", "mark", "hold", "hold_sync", "print_hits", "print_index_report"]

_RECORD_ID = re.compile(rf"^({'|'.join(PLATFORMS)}):\S+$")


# -- indexing --------------------------------------------------------------------------------------
@cli.command()
@data_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
def index(ctx: click.Context, data_dir: Path | None, as_json: bool) -> None:
    """Bring the search index up to date with the record dataset.

    Only Parquet files not yet indexed (or re-tagged since) are read, in batches; indexing
    twice changes nothing. Changed RTI rules are applied to every record again.

    Example: sangrah index
    """
    from archiver import pipeline

    config = load_for(ctx, data_dir)
    with errors_as_click():
        report = with_progress(ctx, "indexing", lambda progress: pipeline.index(config, progress=progress))
    print_index_report(report, as_json)


@rebuild.command("index")
@data_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
def rebuild_index(ctx: click.Context, data_dir: Path | None, as_json: bool) -> None:
    """Drop the search index and build it again from the record dataset.

    Example: sangrah rebuild index
    """
    from archiver import pipeline

    config = load_for(ctx, data_dir)
    with errors_as_click():
        report = with_progress(ctx, "rebuilding the index", lambda progress: pipeline.rebuild_index(config, progress=progress))
    print_index_report(report, as_json)


def print_index_report(report: Any, as_json: bool) -> None:
    if as_json:
        click.echo(orjson.dumps(vars(report)).decode())
        return
    rules = " (RTI rules changed: applied to every record again)" if report.rules_reapplied else ""
    click.echo(
        f"indexed {report.documents:,} versions from {report.files} Parquet file(s) into {report.backend} at {report.address}{rules}; "
        f"the index holds {report.total_documents:,} versions"
    )


# -- searching -------------------------------------------------------------------------------------
@cli.command()
@click.argument("query", default="")
@click.option("--filter", "filters", multiple=True, metavar="KEY=VALUE", help="Keep only matching records (repeatable): platform, account, author, by, kind, from, to, language, rti, hold, retention, deleted, versions, record.")
@click.option("--sort", type=click.Choice(["relevance", "newest", "oldest"]), default="relevance", show_default=True, help="Order of the hits.")
@click.option("--size", type=click.IntRange(1, 500), default=10, show_default=True, help="Hits per page.")
@click.option("--cursor", help="Continue after the page that printed this cursor.")
@click.option("--facets", is_flag=True, help="Also count the hits by platform, account, kind, language, RTI mark, hold, ...")
@click.option("--thread", "thread_id", metavar="RECORD_ID", help="Show the whole thread this record belongs to, replies in order with their depth.")
@click.option("--json", "as_json", is_flag=True, help="Print the page as JSON.")
@user_option
@data_dir_option
@click.pass_context
def search(
    ctx: click.Context, query: str, filters: tuple[str, ...], sort: str, size: int, cursor: str | None, facets: bool, thread_id: str | None, as_json: bool, user: str | None, data_dir: Path | None,
) -> None:
    """Search the archive: words, "phrases", prefix*, OR, -word; dates in Asia/Kolkata.

    Every hit shows its record id, when it was posted (IST), who wrote it, a snippet, its RTI
    mark and holds, and the WARC pointer of its capture (open it with sangrah show). Each search
    is entered in the audit log: who, the query and filters, and the hits it had.

    Example: sangrah search "flood relief" --filter from=2025-08-01 --filter to=2025-08-31 --facets
    """
    from archiver import pipeline
    from archiver.search.query import SearchRequest, parse_filters, parse_query

    config = load_for(ctx, data_dir)
    who = acting_user(user)
    with errors_as_click():
        if thread_id:
            hits = pipeline.thread(config, thread_id)
            pipeline.audit_reading(config, actor=who, action="view", target=thread_id, details={"thread": True, "hits": len(hits), "records": [h.record_id for h in hits][:500]})
            if as_json:
                click.echo(orjson.dumps({"thread": thread_id, "hits": [h.to_json() for h in hits]}).decode())
            else:
                print_hits(hits, thread=True)
            return
        request = SearchRequest(query=parse_query(query), filters=parse_filters(filters), sort=sort, size=size, cursor=cursor, facets=facets, text=query)  # type: ignore[arg-type]
        result = pipeline.search(config, request)
        pipeline.audit_reading(
            config, actor=who, action="search", target=query or None,
            details={
                "query": query, "filters": list(filters), "sort": sort, "size": size, "cursor": cursor, "facets": facets,
                "total": result.total, "total_exact": result.total_exact, "hits": len(result.hits), "records": [h.record_id for h in result.hits],
            },
        )  # fmt: skip
    if as_json:
        click.echo(orjson.dumps(result.to_json()).decode())
        return
    if result.total is not None:
        count = f"{result.total:,}" if result.total_exact else f"more than {result.total:,}"
        click.echo(f"{count} hit(s) for {query or '(every record)'} in the {result.backend} index", err=True)
    print_hits(result.hits)
    if result.facets:
        table = Table("facet", "values (count)", title="Facets")
        for name, items in result.facets.items():
            table.add_row(name, ", ".join(f"{v} ({n:,})" for v, n in items) or "—")
        out_console().print(table)
    if result.next_cursor:
        click.echo(f"more: add --cursor {result.next_cursor}", err=True)


def _snippet_markup(snippet: str) -> str:
    return escape(snippet).replace("&lt;mark&gt;", "<mark>").replace("<mark>", "[bold yellow]").replace("</mark>", "[/bold yellow]")


def print_hits(hits: list[Any], *, thread: bool = False) -> None:
    console = out_console()
    for hit in hits:
        when = hit.created_at.astimezone(IST).strftime("%Y-%m-%d %H:%M IST") if hit.created_at else "undated"
        who = "department" if hit.by_department else "citizen"
        author = f"@{hit.author_handle}" if hit.author_handle else "(unknown author)"
        indent = "  " * hit.depth if thread else ""
        flags = []
        if hit.mark is not None:
            flags.append(f"RTI {'relevant' if hit.mark.relevant else 'not relevant'} ({hit.mark.source})")
        flags.extend(f"HOLD {h.label}" for h in hit.holds)
        if hit.deleted_on_platform:
            flags.append("deleted on platform")
        if not hit.current:
            flags.append("earlier version")
        console.print(f"{indent}[bold]{escape(hit.record_id)}[/bold] {hit.kind} by {escape(author)} ({who}) · {when}" + (f" · {escape(' · '.join(flags))}" if flags else ""))
        console.print(f"{indent}  {_snippet_markup(hit.snippet)}")
        console.print(f"{indent}  [dim]{escape(str(hit.pointer))} · sangrah show {escape(hit.record_id)}[/dim]")


# -- annotations -----------------------------------------------------------------------------------
def _targets(config: Config, items: tuple[str, ...], filters: tuple[str, ...]) -> list[str]:
    """Record ids given as such, or the records a query (with filters) finds."""
    from archiver import pipeline
    from archiver.search.query import parse_filters, parse_query

    if items and all(_RECORD_ID.match(item) for item in items) and not filters:
        return list(items)
    return pipeline.search_all_ids(config, parse_query(" ".join(items)), parse_filters(filters))


@cli.command()
@click.argument("decision", type=click.Choice(["rti-relevant", "not-relevant"]))
@click.argument("targets", nargs=-1, required=True, metavar="QUERY_OR_IDS")
@click.option("--reason", required=True, help="Why: an RTI registration number, the subject asked for.")
@click.option("--filter", "filters", multiple=True, metavar="KEY=VALUE", help="With a query: keep only matching records (as in sangrah search).")
@data_dir_option
@click.pass_context
def mark(ctx: click.Context, decision: str, targets: tuple[str, ...], reason: str, filters: tuple[str, ...], data_dir: Path | None) -> None:
    """Mark records RTI-relevant or not relevant: record ids, or every record a query finds.

    The mark is kept in the catalog with who, when and why (earlier marks stay in its history)
    and shows in search at once. A person's mark beats any rule.

    Example: sangrah mark rti-relevant "flood relief" --filter from=2025-08-01 --reason "RTI/2026/0042"
    """
    from archiver import pipeline

    config = load_for(ctx, data_dir)
    with errors_as_click():
        ids = _targets(config, targets, filters)
        if not ids:
            raise click.ClickException(f"no record matches {' '.join(targets)!r}; nothing was marked.")
        count = pipeline.mark(config, ids, relevant=decision == "rti-relevant", reason=reason)
    click.echo(f"marked {count} record(s) {'RTI-relevant' if decision == 'rti-relevant' else 'not relevant'}: {reason}")


@cli.group()
def hold() -> None:
    """Holds: records that must not be disposed of (RTI request, litigation, audit, ...).

    Example: sangrah hold list
    """


def _print_legal(legal: Any) -> None:
    """The store step's outcome: a line on stderr, a warning when objects are left pending."""
    if legal.set_on or legal.set_off or legal.pending:
        click.echo(("warning: " if legal.pending else "") + legal.describe(), err=True)


@hold.command("place")
@click.argument("hold_type", type=click.Choice([*HOLD_TYPES, *HOLD_TYPE_ALIASES], case_sensitive=False))
@click.argument("record_ids", nargs=-1)
@click.option("--reference", required=True, help="The RTI registration number, case number or audit para.")
@click.option("--reason", required=True, help="Why the records are held.")
@click.option("--query", help="A saved search: what it finds now, and at every sangrah index, is held too.")
@click.option("--filter", "filters", multiple=True, metavar="KEY=VALUE", help="Filters of the saved search.")
@user_option
@data_dir_option
@click.pass_context
def hold_place(
    ctx: click.Context, hold_type: str, record_ids: tuple[str, ...], reference: str, reason: str, query: str | None, filters: tuple[str, ...], user: str | None, data_dir: Path | None,
) -> None:
    """Place a hold on records, and on what a saved search finds.

    Types (RTI-RULES R11): RTI_PENDING, THIRD_PARTY_WINDOW, LITIGATION, AUDIT_OBJECTION,
    INVESTIGATION (law-enforcement preservation), APPRAISAL_PENDING, CLASSIFIED_REVIEW. Every
    WARC file holding a capture of a held record is then put under legal hold in the store
    (S3 Object Lock legal hold; a hold marker in a local store).

    Example: sangrah hold place RTI_PENDING --reference RTI/2026/0042 --reason "flood relief replies" --query "flood relief"
    """
    from archiver import pipeline

    config = load_for(ctx, data_dir)
    with errors_as_click():
        change = pipeline.place_hold(config, hold_type=hold_type, reference=reference, reason=reason, record_ids=record_ids, query=query, filters=filters, actor=acting_user(user))
    placed = change.hold
    click.echo(f"placed hold H-{placed.id} ({placed.hold_type} {placed.reference}) on {change.covered} record(s)")
    _print_legal(change.legal)


@hold.command("release")
@click.argument("hold_id")
@click.option("--reason", required=True, help="Why the hold ends: the final order, the end of the appeal window.")
@user_option
@data_dir_option
@click.pass_context
def hold_release(ctx: click.Context, hold_id: str, reason: str, user: str | None, data_dir: Path | None) -> None:
    """Release a hold, recording who, when and why.

    Only the records officer releases a hold; the CPIO/SPIO may also release the holds of a
    request (RTI_PENDING, THIRD_PARTY_WINDOW). Anyone else is refused, and the refusal is
    audited. The legal hold of a WARC file in the store is released only when no record in it
    is still under another active hold.

    Example: sangrah hold release H-1 --reason "FAA order of 2026-03-02; appeal window over"
    """
    from archiver import pipeline

    number = hold_id.upper().removeprefix("H-")
    if not number.isdigit():
        raise click.UsageError(f"{hold_id!r} is not a hold id; write it as H-12 (see sangrah hold list).")
    config = load_for(ctx, data_dir)
    with errors_as_click():
        change = pipeline.release_hold(config, int(number), reason=reason, actor=acting_user(user))
    released = change.hold
    click.echo(f"released hold H-{released.id} ({released.hold_type} {released.reference})")
    _print_legal(change.legal)


@hold.command("sync")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@user_option
@data_dir_option
@click.pass_context
def hold_sync(ctx: click.Context, as_json: bool, user: str | None, data_dir: Path | None) -> None:
    """Set (or release) the store's legal hold wherever the holds need it and it is not yet so.

    Run it when a hold command warned that the store could not be reached; running it again
    changes nothing. Exits 1 while any object is still pending.

    Example: sangrah hold sync
    """
    from archiver.pipeline.legal_holds import sync_legal_holds

    config = load_for(ctx, data_dir)
    with errors_as_click():
        report = sync_legal_holds(config, actor=acting_user(user))
    if as_json:
        click.echo(orjson.dumps(report.to_json()).decode())
    else:
        click.echo(("warning: " if report.pending else "") + report.describe(), err=bool(report.pending))
    if report.pending:
        raise SystemExit(1)


@hold.command("list")
@click.option("--all", "show_all", is_flag=True, help="Released holds too.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines.")
@data_dir_option
@click.pass_context
def hold_list(ctx: click.Context, show_all: bool, as_json: bool, data_dir: Path | None) -> None:
    """List the holds in force (or all of them), with the WARC files each keeps under legal hold.

    The WARC column counts the files under legal hold for the hold, and those still pending in
    the store (see sangrah hold sync).

    Example: sangrah hold list --all
    """
    from archiver.catalog.annotations import list_holds, records_of_hold
    from archiver.catalog.legal_holds import object_holds
    from archiver.pipeline import open_catalog

    config = load_for(ctx, data_dir)
    with errors_as_click():
        catalog = open_catalog(config)
        try:
            holds = [(h, len(records_of_hold(catalog, h.id))) for h in list_holds(catalog, active_only=not show_all)]
            objects = list(object_holds(catalog).values())
        finally:
            catalog.close()
    files: dict[int, dict[str, list[str]]] = {}
    for item in objects:
        for hold_id in item.hold_ids if item.wanted else ():
            files.setdefault(hold_id, {"held": [], "pending": []})["pending" if item.pending else "held"].append(item.warc_file)
    if as_json:
        for h, n in holds:
            click.echo(orjson.dumps({**h.to_json(), "records": n, "warc_files": files.get(h.id, {"held": [], "pending": []})}).decode())
        return
    table = Table("hold", "type", "reference", "records", "WARC held", "placed (IST)", "by", "released")
    for h, n in holds:
        released = f"{h.released_at.astimezone(IST):%Y-%m-%d} by {h.released_by}" if h.released_at else ""
        mine = files.get(h.id, {"held": [], "pending": []})
        held = f"{len(mine['held'])}" + (f" (+{len(mine['pending'])} pending)" if mine["pending"] else "")
        table.add_row(f"H-{h.id}", h.hold_type, h.reference, str(n), held, h.placed_at.astimezone(IST).strftime("%Y-%m-%d %H:%M"), h.placed_by, released)
    (out_console() if holds else err_console()).print(table if holds else "no holds in force")
