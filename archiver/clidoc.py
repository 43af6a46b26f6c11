"""Render docs/cli.md from the commands' own ``--help``: ``python -m archiver.clidoc > docs/cli.md``."""

from __future__ import annotations

import click

from archiver.cli import cli

__all__ = ["render_cli_reference"]


def _walk(group: click.Group, path: list[str]) -> list[tuple[list[str], click.Command]]:
    out: list[tuple[list[str], click.Command]] = [(path, group)]
    for name in sorted(group.commands):
        command = group.commands[name]
        if isinstance(command, click.Group):
            out.extend(_walk(command, [*path, name]))
        else:
            out.append(([*path, name], command))
    return out


def render_cli_reference() -> str:
    parts = ["# Command reference\n", "Generated from each command's `--help` by `python -m archiver.clidoc`; a test keeps it current.\n"]
    for path, command in _walk(cli, []):
        name = " ".join(["sangrah", *path])
        with click.Context(command, info_name=name, terminal_width=100) as ctx:
            text = command.get_help(ctx)
        parts.append(f"## {name}\n\n```\n{text}\n```\n")
    return "\n".join(parts)


if __name__ == "__main__":
    print(render_cli_reference(), end="")
