"""The catalogue of the records held (RTI s.4(1)(a)): ``catalogue categories``, the statement of
the categories of documents held under s.4(1)(b)(vi)."""

from __future__ import annotations

from pathlib import Path

import click
import orjson

from archiver.cli._base import cli, data_dir_option, errors_as_click, load_for

__all__ = ["catalogue", "categories"]


@cli.group()
def catalogue() -> None:
    """The catalogue of the records held (RTI s.4(1)(a)), made from the record dataset and the retention schedule.

    Example: sangrah catalogue categories --out categories.md
    """


@catalogue.command("categories")
@data_dir_option
@click.option("--json", "as_json", is_flag=True, help="Write the statement as JSON instead of Markdown.")
@click.option("--out", "out_file", type=click.Path(path_type=Path, dir_okay=False), help="Write the statement to this file instead of stdout.")
@click.pass_context
def categories(ctx: click.Context, data_dir: Path | None, as_json: bool, out_file: Path | None) -> None:
    """Write the statement of the categories of documents held (RTI s.4(1)(b)(vi)).

    One category per series of the retention schedule: its file/series number (RRS item),
    purpose, platforms and accounts, records held (each counted once, in its current version),
    the days they were made (IST), and its retention class, period and the action at its end.
    The dataset must be tagged with the schedule in force (run `sangrah retag` after a change);
    no WARC file is read.

    Example: sangrah catalogue categories --out categories.md
    """
    from archiver import pipeline
    from archiver.tables.categories import render_categories

    config = load_for(ctx, data_dir)
    with errors_as_click():
        statement = pipeline.categories(config)
    text = orjson.dumps(statement.to_json(), option=orjson.OPT_INDENT_2).decode() + "\n" if as_json else render_categories(statement)
    if out_file is None:
        click.echo(text, nl=False)
        return
    try:
        out_file.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"cannot write the statement to {out_file}: {exc.strerror}. Give a path in a directory you can write to.") from exc
    click.echo(f"wrote the statement of {len(statement.categories)} categories, {statement.records:,} records, to {out_file}", err=True)
