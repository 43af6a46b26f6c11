"""Configuration commands: ``config check``."""

from __future__ import annotations

from pathlib import Path

import click
import orjson

from archiver.cli._base import cli, data_dir_option, errors_as_click
from archiver.config import load_config

__all__ = ["config", "config_check"]


@cli.group()
def config() -> None:
    """The configuration file and the services it names.

    Example: sangrah --config sangrah.yaml config check
    """


@config.command("check")
@data_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print the checks as JSON.")
@click.pass_context
def config_check(ctx: click.Context, data_dir: Path | None, as_json: bool) -> None:
    """Connect to each configured service and report each as OK, or with the error and the next step.

    Checks the data directory, the catalog (reachable; its migrations at the newest, or which are
    pending), the store (a writable directory, or the S3 endpoint, credentials, bucket, Object Lock
    and versioning), the search backend (the FTS5 file, or the cluster: product, version, index),
    the credential variables of the services and of each active account (names only, never
    values), and the rule files the configuration names. Changes nothing. Exit 1 if any check
    fails; 2 if the configuration file itself is wrong (every problem listed).

    Example: sangrah --config /etc/sangrah/sangrah.yaml config check --json
    """
    from archiver.pipeline.checks import check_config

    path = ctx.obj["config_path"]
    with errors_as_click():
        # an unset credential variable is reported below, as a check, with the others
        settings = load_config(path, overrides={"data_dir": str(data_dir)} if data_dir else None, require_secrets=False)
    report = check_config(settings, source=str(path) if path else "built-in defaults")
    if as_json:
        click.echo(orjson.dumps(report.to_json()).decode())
    else:
        click.echo(f"Checked {report.source}:")
        for check in report.checks:
            click.echo(f"{'OK' if check.ok else 'FAILED':<7}{check.service:<11}{check.name}: {check.detail}")
            if check.next_step:
                click.echo(f"{'':<18}next: {check.next_step}")
        click.echo(f"{len(report.checks) - len(report.failed)} of {len(report.checks)} checks OK" + (f"; {len(report.failed)} failed" if report.failed else ""))
    if not report.ok:
        ctx.exit(1)
