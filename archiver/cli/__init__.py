"""The command line: ``sangrah``. Thin: it parses input, calls ``pipeline``, renders results.

Data goes to stdout; messages and progress go to stderr. Exit 0 means done, 1 means the work
failed (an account failed, or verify found a mismatch; a summary is printed first), 2 means a
usage or configuration error.

One module per family of commands; each attaches its commands to the ``cli`` group of
``_base`` when imported here.
"""

from __future__ import annotations

from archiver.cli import audit, capture, catalogue, config, rti, rti_changes, rti_hold, rti_notices, rti_package, rti_review, samples, search, storage, tables, users  # noqa: F401  (they register their commands)
from archiver.cli._base import cli

__all__ = ["main", "cli"]


def main() -> None:
    cli(obj={})
