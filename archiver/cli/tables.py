"""Record dataset commands: ``extract``, ``rebuild tables`` and ``retag``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import orjson
from rich.table import Table

from archiver.cli._base import cli, data_dir_option, errors_as_click, load_for, out_console, rebuild, with_progress
from archiver.config import Config

__all__ = ["extract", "rebuild_tables", "retag", "print_extract"]


# -- tables ------------------------------------------------------------------------------------
@cli.command()
@click.option("--account", "accounts", multiple=True, metavar="PLATFORM:ID", help="Only the WARC files holding this account's captures (repeatable; default: every file).")
@data_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
def extract(ctx: click.Context, accounts: tuple[str, ...], data_dir: Path | None, as_json: bool) -> None:
    """Turn the published WARC files into the record dataset (Parquet), one row per version.

    Only WARC files not yet extracted are read; running it twice gives the same dataset.
    Records that cannot be read or parsed are listed for follow-up, and the run exits 1.

    Example: sangrah extract --account x:1350000000000000001
    """
    from archiver import pipeline

    config = load_for(ctx, data_dir)
    with errors_as_click():
        report = with_progress(ctx, "extracting", lambda progress: pipeline.extract(config, account_keys=list(accounts) or None, progress=progress))
    print_extract(report, config, as_json)


@rebuild.command("tables")
@data_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
def rebuild_tables(ctx: click.Context, data_dir: Path | None, as_json: bool) -> None:
    """Regenerate the whole record dataset from the WARC files.

    The old dataset is kept aside until the new one is complete.

    Example: sangrah rebuild tables
    """
    from archiver import pipeline

    config = load_for(ctx, data_dir)
    with errors_as_click():
        report = with_progress(ctx, "rebuilding", lambda progress: pipeline.rebuild_tables(config, progress=progress))
    print_extract(report, config, as_json)


@cli.command()
@data_dir_option
@click.pass_context
def retag(ctx: click.Context, data_dir: Path | None) -> None:
    """Re-tag the record dataset with the retention schedule in force, reading no WARC file.

    The schedule is `retention_schedule` in the config (default schemas/retention.yaml); it is
    checked first, and every problem in it is listed.

    Example: sangrah retag
    """
    from archiver import pipeline

    config = load_for(ctx, data_dir)
    with errors_as_click():
        report = pipeline.retag_tables(config)
    click.echo(f"checked {report.files_checked} Parquet files: re-tagged {report.files_retagged}, {report.rows_changed} rows changed retention")


def print_extract(report: Any, config: Config, as_json: bool) -> None:
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
        out_console().print(table)
        for note in report.recovered:
            click.echo(f"recovered: {note}", err=True)
    for problem in report.problems:
        click.echo(f"problem: {problem.warc_file} at offset {problem.offset}: {problem.message}", err=True)
    if report.problems:
        click.echo(f"{len(report.problems)} record(s) could not be extracted; they are listed above and kept in the catalog for follow-up.", err=True)
        raise SystemExit(1)
