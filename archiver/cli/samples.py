"""The sample platforms and the demo: ``samples serve`` and ``demo``."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from archiver.cli._base import IST, cli, errors_as_click, load_for, out_console
from archiver.cli.capture import print_report, run_harvest
from archiver.cli.tables import print_extract
from archiver.config import Config
from archiver.model import PLATFORMS

__all__ = ["samples", "samples_serve", "demo"]


# -- the sample platforms and the demo -----------------------------------------------------------
@cli.group()
def samples() -> None:
    """The sample platforms: generated conversations in each platform's API shape.

    Example: sangrah samples serve --port 8765
    """


@samples.command("serve")
@click.option("--port", type=int, default=8765, show_default=True, help="Port on 127.0.0.1.")
@click.option("--seed", type=int, default=7, show_default=True, help="Seed of the generated world.")
@click.option("--posts", type=click.IntRange(min=1), default=200, show_default=True, help="Posts per account.")
@click.option("--night", type=click.IntRange(min=0), default=0, show_default=True, help="Later nights add posts, edits and deletions.")
@click.option("--throttle-every", type=click.IntRange(min=0), default=0, show_default=True, help="Answer every Nth call with a 429 (0: never).")
def samples_serve(port: int, seed: int, posts: int, night: int, throttle_every: int) -> None:
    """Serve the sample platforms in the foreground until interrupted.

    Example: sangrah samples serve --port 8765 --posts 1000
    """
    from archiver.samples.server import SampleServer, serve_forever
    from archiver.samples.world import World

    def ready(server: SampleServer) -> None:
        click.echo(f"sample platforms at {server.url}/<platform> for {', '.join(PLATFORMS)}", err=True)
        for platform in PLATFORMS:
            account = server.world.account(platform)
            click.echo(f"  {platform}: account {account.native_id} (@{account.handle}); credential {server.world.token(platform)}", err=True)

    serve_forever(World(seed=seed, posts_per_account=posts, epoch=night), port=port, throttle_every=throttle_every, on_ready=ready)


@cli.command()
@click.option("--data-dir", type=click.Path(path_type=Path, file_okay=False), default=Path("sangrah-data"), show_default=True, help="Where the demo archive goes.")
@click.option("--posts", type=click.IntRange(min=1), default=200, show_default=True, help="Posts per sample account (six accounts).")
@click.option("--seed", type=int, default=7, show_default=True, help="Seed of the generated world.")
@click.option("--night", type=click.IntRange(min=0), default=0, show_default=True, help="Harvest the world as it is on a later night (new posts, edits, deletions).")
@click.option("--json", "as_json", is_flag=True, help="Print the harvest report as JSON.")
@click.pass_context
def demo(ctx: click.Context, data_dir: Path, posts: int, seed: int, night: int, as_json: bool) -> None:
    """Harvest six sample accounts into a local archive, with no network and no credentials.

    Starts the sample platforms on localhost, registers one department account on each of the
    six platforms, harvests them into DATA_DIR (WARC files, SQLite catalog) and prints what was
    captured and where. Run it again with --night 1 to see an incremental harvest.

    Example: sangrah demo --posts 200
    """
    from archiver.pipeline import open_catalog
    from archiver.samples.accounts import register_sample_accounts
    from archiver.samples.server import SampleServer
    from archiver.samples.world import World

    config = load_for(ctx, data_dir)
    world = World(seed=seed, posts_per_account=posts, epoch=night)
    with SampleServer(world, throttle_every=97) as server:
        with errors_as_click():
            catalog = open_catalog(config)
            try:
                register_sample_accounts(catalog, server)
            finally:
                catalog.close()
        click.echo(f"sample platforms at {server.url}; harvesting six accounts into {config.data_dir}/", err=True)
        report = run_harvest(config, None, quiet=ctx.obj["quiet"])
    print_report(report, as_json)
    if not as_json:
        from archiver import pipeline

        with errors_as_click():
            extracted = pipeline.extract(config)
        print_extract(extracted, config, False)
        _print_sample_rows(config)
        _index_and_search(config)
        _rti_request(config)
        store = config.store_dir.resolve()
        click.echo(f"\nWARC files are in {store}/warcs/ ; catalog: {config.resolved_catalog_url}")
        if report.published:
            click.echo(f"check one with: warcio check {store}/warcs/{report.published[0].name}")
        click.echo("verify them all with: sangrah verify --data-dir " + str(config.data_dir))
    if report.failed:
        raise SystemExit(1)


def _index_and_search(config: Config) -> None:
    """Index the dataset and run two example searches, one in English and one in Hindi."""
    from archiver import pipeline
    from archiver.cli.search import print_hits
    from archiver.search.query import SearchRequest, parse_filters, parse_query

    with errors_as_click():
        report = pipeline.index(config)
        click.echo(f"\nIndexed {report.documents:,} versions into the {report.backend} index at {report.address}")
        for text, filters in (('"flood relief" helpline', ["by=citizen"]), ("सड़क", ["by=citizen", "kind=reply,comment"])):
            result = pipeline.search(config, SearchRequest(parse_query(text), parse_filters(filters), size=3))
            click.echo(f"\n$ sangrah search '{text}'" + "".join(f" --filter {f}" for f in filters) + f"   ({result.total:,}{'' if result.total_exact else '+'} hits; the first 3)")
            print_hits(result.hits)


def _rti_request(config: Config) -> None:
    """One RTI request over the sample archive, reviewed and packaged (``archiver.samples.rti_demo``)."""
    from archiver.samples.rti_demo import DEMO_CPIO, DEMO_QUERY, run_rti_demo

    with errors_as_click():
        done = run_rti_demo(config)
    result = done.package.result
    regno = done.registration_no
    click.echo(f"\nRTI request {regno}: scope = the search {DEMO_QUERY!r} ({done.scope_records:,} records), held by "
               + ", ".join(f"H-{h.id} {h.hold_type}" for h in done.holds.holds) + f"; review of {done.package.records:,} records (threads expanded), "
               f"{done.suggestions_accepted:,} redaction suggestions accepted, {done.package.withheld} withheld under 8(1)(j)")
    click.echo(f"disclosure package: {result.folder}")
    click.echo(f"  applicant's copy {result.applicant.zip_path.name}, internal copy {result.internal.zip_path.name}; signed, key fingerprint {result.fingerprint[:16]}…")
    click.echo(f"  check it offline: python3 {result.folder}/applicant/verify/verify_package.py {result.folder}/applicant")
    click.echo(f"  go on as the CPIO: sangrah --config {done.config_file} rti review status {regno} --user {DEMO_CPIO}")


def _print_sample_rows(config: Config) -> None:
    """A few rows of the record dataset, one per platform, read back with pyarrow."""
    import pyarrow.dataset as ds

    dataset = ds.dataset(config.records_dir, format="parquet", partitioning="hive")
    columns = ["record_id", "kind", "by_department", "created_at", "retention_class", "text"]
    table = Table("record", "kind", "by", "posted", "kept", "text", title="A few rows of the record dataset")
    for platform in PLATFORMS:
        rows = dataset.to_table(columns=columns, filter=(ds.field("platform") == platform) & (ds.field("kind") != "post")).slice(0, 1).to_pylist()
        for row in rows:
            when = row["created_at"].astimezone(IST).strftime("%Y-%m-%d") if row["created_at"] else ""
            who = "department" if row["by_department"] else "citizen"
            table.add_row(row["record_id"][:26], row["kind"], who, when, row["retention_class"] or "", row["text"][:48])
    out_console().print(table)
    click.echo(f"query it with DuckDB: SELECT * FROM read_parquet('{config.records_dir}/**/*.parquet', hive_partitioning = true)")
