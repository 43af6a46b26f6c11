"""The command line: ``sangrah``. Thin: it parses input, calls ``pipeline``, renders results.

Data goes to stdout; messages and progress go to stderr. Exit 0 means done, 1 means the work
failed (an account failed, or verify found a mismatch; a summary is printed first), 2 means a
usage or configuration error.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click
import orjson
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from archiver import __version__
from archiver.config import Config, load_config
from archiver.errors import ArchiverError, ConfigError
from archiver.harvest import Coverage
from archiver.model import PLATFORMS
from archiver.platforms import AccountRef

__all__ = ["main", "cli"]

IST = ZoneInfo("Asia/Kolkata")
log = logging.getLogger("archiver")


class _KeyValueFormatter(logging.Formatter):
    """``2026-11-25 19:02:11 IST INFO fetched account=x:1 ...``: readable on a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created, IST).strftime("%Y-%m-%d %H:%M:%S IST")
        return f"{when} {record.levelname} {record.getMessage()}"


def _setup_logging(verbose: int, quiet: bool) -> None:
    level = logging.WARNING if quiet or verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_KeyValueFormatter())
    root = logging.getLogger("archiver")
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _err_console() -> Console:
    return Console(stderr=True, highlight=False)


def _out_console() -> Console:
    return Console(highlight=False, soft_wrap=True)


@contextmanager
def _errors_as_click() -> Iterator[None]:
    """Every ``ArchiverError`` becomes a click error in this one place."""
    try:
        yield
    except ConfigError as exc:
        raise click.UsageError(exc.message) from exc
    except ArchiverError as exc:
        raise click.ClickException(exc.message) from exc


def _load(ctx: click.Context, data_dir: Path | None = None) -> Config:
    with _errors_as_click():
        overrides: dict[str, Any] = {"data_dir": str(data_dir)} if data_dir else {}
        return load_config(ctx.obj["config_path"], overrides=overrides)


@click.group()
@click.version_option(__version__, prog_name="sangrah")
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False), envvar="SANGRAH_CONFIG", help="YAML configuration file (default: built-in defaults). Env: SANGRAH_CONFIG.")
@click.option("-v", "--verbose", count=True, help="Log each page fetched (-v) or more (-vv) to stderr.")
@click.option("-q", "--quiet", is_flag=True, help="No progress display; warnings and errors only.")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None, verbose: int, quiet: bool) -> None:
    """Sangrah: an evidence-grade archive of a department's social media conversations.

    Example: sangrah demo
    """
    ctx.ensure_object(dict)
    ctx.obj.update(config_path=config_path, quiet=quiet)
    _setup_logging(verbose, quiet)


# -- accounts ----------------------------------------------------------------------------------
@cli.group()
def accounts() -> None:
    """Register the platform accounts to harvest.

    Example: sangrah accounts list
    """


@accounts.command("add")
@click.argument("platform", type=click.Choice(PLATFORMS))
@click.argument("native_id")
@click.option("--handle", help="The account's handle, for messages and the WARC metadata.")
@click.option("--name", "display_name", help="The account's display name.")
@click.option("--base-url", help="API base URL, e.g. a Mastodon instance (default: the platform's).")
@click.option("--credential-env", help="Environment variable holding this account's credential (default: the platform's, see docs/platforms.md).")
@click.option("--replace", is_flag=True, help="Change the settings of an account already registered.")
@click.option("--data-dir", type=click.Path(path_type=Path, file_okay=False), help="Data directory (overrides the config).")
@click.pass_context
def accounts_add(ctx: click.Context, platform: str, native_id: str, handle: str | None, display_name: str | None, base_url: str | None, credential_env: str | None, replace: bool, data_dir: Path | None) -> None:
    """Register an account by its platform and native id.

    Example: sangrah accounts add x 1350000000000000001 --handle JalShaktiDept
    """
    from archiver.pipeline import open_catalog

    config = _load(ctx, data_dir)
    with _errors_as_click():
        catalog = open_catalog(config)
        try:
            row = catalog.add_account(platform=platform, native_id=native_id, handle=handle, display_name=display_name, base_url=base_url, credential_env=credential_env, replace=replace)
            catalog.audit(actor=config.operator_name, action="account_add", target=row.key, outcome="ok", details={"replace": replace, "base_url": base_url, "credential_env": credential_env})
        finally:
            catalog.close()
    env = row.credential_env or config.platforms[platform].credential_env
    click.echo(f"registered {row.key}" + (f" (@{row.handle})" if row.handle else "") + f"; its credential is read from {env}", err=True)


@accounts.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines instead of a table.")
@click.option("--data-dir", type=click.Path(path_type=Path, file_okay=False), help="Data directory (overrides the config).")
@click.pass_context
def accounts_list(ctx: click.Context, as_json: bool, data_dir: Path | None) -> None:
    """List the registered accounts.

    Example: sangrah accounts list --json
    """
    from archiver.pipeline import open_catalog

    config = _load(ctx, data_dir)
    with _errors_as_click():
        catalog = open_catalog(config)
        try:
            rows = catalog.list_accounts()
        finally:
            catalog.close()
    if as_json:
        for row in rows:
            click.echo(orjson.dumps({"key": row.key, "platform": row.platform, "handle": row.handle, "base_url": row.base_url, "credential_env": row.credential_env, "active": row.active}).decode())
        return
    table = Table("account", "handle", "credential from", "API base", "added (IST)")
    for row in rows:
        table.add_row(row.key, row.handle or "", row.credential_env or config.platforms[row.platform].credential_env, row.base_url or "(platform default)", row.added_at.astimezone(IST).strftime("%Y-%m-%d %H:%M"))
    _out_console().print(table)


# -- harvest -----------------------------------------------------------------------------------
@cli.command()
@click.option("--account", "account_keys", multiple=True, metavar="PLATFORM:ID", help="Harvest only this account (repeatable). Default: every active account.")
@click.option("--json", "as_json", is_flag=True, help="Print the run's report as JSON.")
@click.option("--data-dir", type=click.Path(path_type=Path, file_okay=False), help="Data directory (overrides the config).")
@click.pass_context
def harvest(ctx: click.Context, account_keys: tuple[str, ...], as_json: bool, data_dir: Path | None) -> None:
    """Capture accounts' posts and replies into WARC files and publish them.

    Each account resumes from its cursor; an interrupted harvest resumes from the last
    published page. Exits 1 if any account failed (after a summary).

    Example: sangrah harvest --account x:1350000000000000001
    """
    config = _load(ctx, data_dir)
    report = _run_harvest(config, list(account_keys) or None, quiet=ctx.obj["quiet"])
    _print_report(report, as_json)
    if report.failed:
        raise SystemExit(1)


def _run_harvest(config: Config, keys: list[str] | None, *, quiet: bool) -> Any:
    from archiver import pipeline

    console = _err_console()
    show = not quiet and console.is_terminal
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console, transient=False, disable=not show) as bar:
        tasks: dict[str, Any] = {}

        def progress(account: AccountRef, endpoint: str, coverage: Coverage, oldest: datetime | None) -> None:
            back_to = f" · back to {oldest.astimezone(IST):%Y-%m-%d}" if oldest else ""
            text = f"{account.label()} {endpoint}: {coverage.posts_captured} posts · {coverage.replies_captured} replies · {coverage.media_captured} media{back_to}"
            if account.key not in tasks:
                tasks[account.key] = bar.add_task(text, total=None)
            bar.update(tasks[account.key], description=text)

        with _errors_as_click():
            return pipeline.harvest(config, account_keys=keys, progress=progress)


def _print_report(report: Any, as_json: bool) -> None:
    if as_json:
        click.echo(orjson.dumps(report.to_json(), option=orjson.OPT_INDENT_2).decode())
    else:
        out = _out_console()
        for note in report.recovered:
            out.print(f"recovered: {note}")
        table = Table("platform", "account", "status", "posts", "replies", "media", "calls", "gaps", title=f"Harvest {report.harvest_id}")
        for item in report.accounts:
            cov = item.coverage
            table.add_row(
                item.account.platform,
                f"@{item.account.handle}" if item.account.handle else item.account.native_id,
                item.status + (" (resumed)" if item.resumed else ""),
                str(cov.posts_captured),
                str(cov.replies_captured),
                f"{cov.media_captured}/{cov.media_expected}",
                str(cov.requests),
                ", ".join(sorted({g.cause for g in cov.gaps})) or "none",
            )
        out.print(table)
        totals = [a.coverage for a in report.accounts]
        out.print(
            f"Captured {sum(c.posts_captured for c in totals):,} posts by the accounts and {sum(c.replies_captured for c in totals):,} "
            f"replies to them, and {sum(c.media_captured for c in totals):,} media files, in {sum(c.requests for c in totals):,} API calls."
        )
        files = Table("WARC file", "size", "records", "SHA-256", title="Published")
        for closed in report.published:
            files.add_row(closed.name, f"{closed.size_bytes:,} B", str(closed.record_count), closed.sha256[:16] + "…")
        out.print(files)
    for item in report.failed:
        click.echo(f"error: {item.error.message if item.error else 'failed'}", err=True)
    if report.failed:
        click.echo(f"{len(report.failed)} of {len(report.accounts)} accounts failed; the others were captured and published.", err=True)


# -- account exports ---------------------------------------------------------------------------
@cli.command("import")
@click.argument("kind", type=click.Choice(["x-archive", "facebook-export"]))
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--account", "account_key", required=True, metavar="PLATFORM:ID", help="The registered account the export belongs to.")
@click.option("--again", is_flag=True, help="Import an export that was imported before (stores a second copy).")
@click.option("--data-dir", type=click.Path(path_type=Path, file_okay=False), help="Data directory (overrides the config).")
@click.pass_context
def import_(ctx: click.Context, kind: str, path: Path, account_key: str, again: bool, data_dir: Path | None) -> None:
    """Archive an account export: an X archive zip or a Facebook "Download your information" zip.

    Each member file holding posts is checked, then stored unchanged as a WARC resource record,
    with a metadata record naming the export, its SHA-256 and date range.

    Example: sangrah import x-archive twitter-2026.zip --account x:1350000000000000001
    """
    from archiver import pipeline

    config = _load(ctx, data_dir)
    with _errors_as_click():
        report = pipeline.import_export(config, kind=kind, path=path, account_key=account_key, again=again)
    span = f"{report.earliest.astimezone(IST):%Y-%m-%d} to {report.latest.astimezone(IST):%Y-%m-%d}" if report.earliest and report.latest else "no dated posts"
    click.echo(f"imported {report.posts} posts ({span}) from {len(report.members)} file(s) of {report.source} into {', '.join(w.name for w in report.published)}")


# -- tables ------------------------------------------------------------------------------------
@cli.command()
@click.option("--data-dir", type=click.Path(path_type=Path, file_okay=False), help="Data directory (overrides the config).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
def extract(ctx: click.Context, data_dir: Path | None, as_json: bool) -> None:
    """Turn the published WARC files into the record dataset (Parquet), one row per version.

    Only WARC files not yet extracted are read; running it twice gives the same dataset.
    Records that cannot be read or parsed are listed for follow-up, and the run exits 1.

    Example: sangrah extract
    """
    from archiver import pipeline

    config = _load(ctx, data_dir)
    with _errors_as_click():
        report = _with_progress(ctx, "extracting", lambda progress: pipeline.extract(config, progress=progress))
    _print_extract(report, config, as_json)


@cli.group()
def rebuild() -> None:
    """Regenerate derived data from the WARC files.

    Example: sangrah rebuild tables
    """


@rebuild.command("tables")
@click.option("--data-dir", type=click.Path(path_type=Path, file_okay=False), help="Data directory (overrides the config).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
def rebuild_tables(ctx: click.Context, data_dir: Path | None, as_json: bool) -> None:
    """Regenerate the whole record dataset from the WARC files.

    The old dataset is kept aside until the new one is complete.

    Example: sangrah rebuild tables
    """
    from archiver import pipeline

    config = _load(ctx, data_dir)
    with _errors_as_click():
        report = _with_progress(ctx, "rebuilding", lambda progress: pipeline.rebuild_tables(config, progress=progress))
    _print_extract(report, config, as_json)


@cli.command()
@click.option("--data-dir", type=click.Path(path_type=Path, file_okay=False), help="Data directory (overrides the config).")
@click.pass_context
def retag(ctx: click.Context, data_dir: Path | None) -> None:
    """Re-tag the record dataset with the retention schedule in force, reading no WARC file.

    The schedule is `retention_schedule` in the config (default schemas/retention.yaml); it is
    checked first, and every problem in it is listed.

    Example: sangrah retag
    """
    from archiver import pipeline

    config = _load(ctx, data_dir)
    with _errors_as_click():
        report = pipeline.retag_tables(config)
    click.echo(f"checked {report.files_checked} Parquet files: re-tagged {report.files_retagged}, {report.rows_changed} rows changed retention")


def _with_progress(ctx: click.Context, verb: str, work: Any) -> Any:
    console = _err_console()
    show = not ctx.obj["quiet"] and console.is_terminal
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console, disable=not show) as bar:
        task = bar.add_task(verb, total=None)

        def progress(warc_file: str, rows: int, _report: Any) -> None:
            bar.update(task, description=f"{verb}: {warc_file} · {rows:,} rows")

        return work(progress)


def _print_extract(report: Any, config: Config, as_json: bool) -> None:
    if as_json:
        click.echo(orjson.dumps({
            "warc_files": report.warc_files,
            "rows": report.rows,
            "parquet_files": report.parquet_files,
            "platforms": {k: {"records": v.records, "new_versions": v.new_versions, "deletions": v.deletions} for k, v in sorted(report.platforms.items())},
            "problems": [p.to_json() for p in report.problems],
            "recovered": report.recovered,
        }).decode())
    else:
        table = Table("platform", "records read", "new versions", "deletions", title=f"Extracted {report.warc_files} WARC file(s) into {config.records_dir}")
        for name, counts in sorted(report.platforms.items()):
            table.add_row(name, f"{counts.records:,}", f"{counts.new_versions:,}", f"{counts.deletions:,}")
        _out_console().print(table)
        for note in report.recovered:
            click.echo(f"recovered: {note}", err=True)
    for problem in report.problems:
        click.echo(f"problem: {problem.warc_file} at offset {problem.offset}: {problem.message}", err=True)
    if report.problems:
        click.echo(f"{len(report.problems)} record(s) could not be extracted; they are listed above and kept in the catalog for follow-up.", err=True)
        raise SystemExit(1)


@cli.command()
@click.argument("record_id")
@click.option("--version", "version_id", help="A version_id of the record (default: its latest version).")
@click.option("--warc", "warc_out", type=click.Path(path_type=Path, dir_okay=False), help="Also write the capture as a one-record WARC file, byte for byte.")
@click.option("--data-dir", type=click.Path(path_type=Path, file_okay=False), help="Data directory (overrides the config).")
@click.pass_context
def show(ctx: click.Context, record_id: str, version_id: str | None, warc_out: Path | None, data_dir: Path | None) -> None:
    """Print the exact capture a record came from: its WARC headers and the platform's response.

    The record is read by its pointer (file, offset, length) and its digests are checked; a
    capture that fails the check is refused, with the file and offset.

    Example: sangrah show x:1350000000000000001
    """
    from archiver import pipeline
    from archiver.capture.reader import read_record

    config = _load(ctx, data_dir)
    with _errors_as_click():
        row, path = pipeline.find_capture(config, record_id, version_id)
        record = read_record(path, row["warc_offset"], row["warc_length"])
    when = row["captured_at"].astimezone(IST).strftime("%Y-%m-%d %H:%M:%S IST")
    click.echo(f"{row['record_id']} ({row['kind']}, version {row['version_id'][:16]}…) captured {when}", err=True)
    click.echo(f"{row['warc_file']} offset {row['warc_offset']} length {row['warc_length']}: digests verified", err=True)
    for name, value in record.headers:
        click.echo(f"{name}: {value}")
    click.echo("")
    if record.http_line:
        click.echo(record.http_line)
        for name, value in record.http_headers:
            click.echo(f"{name}: {value}")
        click.echo("")
    payload = record.payload
    try:
        click.echo(orjson.dumps(orjson.loads(payload), option=orjson.OPT_INDENT_2).decode())
    except orjson.JSONDecodeError:
        click.echo(payload.decode("utf-8", "replace"))
    if warc_out is not None:
        with open(path, "rb") as source:
            source.seek(row["warc_offset"])
            warc_out.write_bytes(source.read(row["warc_length"]))
        click.echo(f"wrote the capture to {warc_out} (one record, byte for byte as archived)", err=True)


# -- verify ------------------------------------------------------------------------------------
@cli.command()
@click.option("--data-dir", type=click.Path(path_type=Path, file_okay=False), help="Data directory (overrides the config).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def verify(ctx: click.Context, data_dir: Path | None, as_json: bool) -> None:
    """Re-hash every published WARC against the manifest and re-read every record.

    Exits 1 on any mismatch, after listing each problem.

    Example: sangrah verify
    """
    from archiver import pipeline

    config = _load(ctx, data_dir)
    with _errors_as_click():
        report = pipeline.verify(config)
    if as_json:
        click.echo(orjson.dumps({"ok": report.ok, "files": report.checked, "records": report.records, "problems": report.problems}).decode())
    else:
        for problem in report.problems:
            click.echo(f"MISMATCH {problem}")
        click.echo(f"checked {report.checked} WARC files, {report.records} records: " + ("all match the manifest" if report.ok else f"{len(report.problems)} problem(s)"))
    if not report.ok:
        raise SystemExit(1)


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

    config = _load(ctx, data_dir)
    world = World(seed=seed, posts_per_account=posts, epoch=night)
    with SampleServer(world, throttle_every=97) as server:
        with _errors_as_click():
            catalog = open_catalog(config)
            try:
                register_sample_accounts(catalog, server)
            finally:
                catalog.close()
        click.echo(f"sample platforms at {server.url}; harvesting six accounts into {config.data_dir}/", err=True)
        report = _run_harvest(config, None, quiet=ctx.obj["quiet"])
    _print_report(report, as_json)
    if not as_json:
        from archiver import pipeline

        with _errors_as_click():
            extracted = pipeline.extract(config)
        _print_extract(extracted, config, False)
        _print_sample_rows(config)
        store = config.store_dir.resolve()
        click.echo(f"\nWARC files are in {store}/warcs/ ; catalog: {config.resolved_catalog_url}")
        if report.published:
            click.echo(f"check one with: warcio check {store}/warcs/{report.published[0].name}")
        click.echo("verify them all with: sangrah verify --data-dir " + str(config.data_dir))
    if report.failed:
        raise SystemExit(1)


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
    _out_console().print(table)
    click.echo(f"query it with DuckDB: SELECT * FROM read_parquet('{config.records_dir}/**/*.parquet', hive_partitioning = true)")


def main() -> None:
    cli(obj={})


if __name__ == "__main__":
    main()
