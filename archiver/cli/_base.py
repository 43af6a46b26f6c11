"""What every command shares: the ``sangrah`` group, logging, consoles, and errors as click errors.

Data goes to stdout; messages and progress go to stderr. Exit 0 means done, 1 means the work
failed (an account failed, or verify found a mismatch; a summary is printed first), 2 means a
usage or configuration error.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from archiver import __version__
from archiver.config import Config, load_config
from archiver.errors import ArchiverError, ConfigError

__all__ = ["cli", "rebuild", "IST", "errors_as_click", "load_for", "err_console", "out_console", "with_progress", "data_dir_option"]

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


def err_console() -> Console:
    return Console(stderr=True, highlight=False)


def out_console() -> Console:
    return Console(highlight=False, soft_wrap=True)


@contextmanager
def errors_as_click() -> Iterator[None]:
    """Every ``ArchiverError`` becomes a click error in this one place."""
    try:
        yield
    except ConfigError as exc:
        raise click.UsageError(exc.message) from exc
    except ArchiverError as exc:
        raise click.ClickException(exc.message) from exc


def load_for(ctx: click.Context, data_dir: Path | None = None) -> Config:
    with errors_as_click():
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



@cli.group()
def rebuild() -> None:
    """Regenerate derived data from the WARC files.

    Example: sangrah rebuild tables
    """


def data_dir_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """The ``--data-dir`` option every command that opens an archive takes."""
    return click.option("--data-dir", type=click.Path(path_type=Path, file_okay=False), help="Data directory (overrides the config).")(func)


def with_progress(ctx: click.Context, verb: str, work: Callable[[Callable[..., None]], Any]) -> Any:
    """Run ``work(progress)`` under a spinner on stderr; ``progress(where, count, report)`` updates it."""
    console = err_console()
    show = not ctx.obj["quiet"] and console.is_terminal
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console, disable=not show) as bar:
        task = bar.add_task(verb, total=None)

        def progress(where: str, count: int, _report: Any = None) -> None:
            bar.update(task, description=f"{verb}: {where} · {count:,} rows")

        return work(progress)
