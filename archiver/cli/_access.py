"""What the role-checked commands share: the acting user, the gate, times given on the command line.

The acting user is ``--user``, else ``SANGRAH_USER``, else the login name; ``session`` opens the
catalog, passes the user through ``authorize`` for the command (a refusal is audited and exits
1 with the role it needs), and closes the catalog afterwards.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Any

import click

from archiver.access.users import Actor, authorize
from archiver.catalog import Catalog
from archiver.cli._base import IST, errors_as_click, load_for
from archiver.config import Config, login_name

__all__ = ["Session", "session", "user_option", "acting_user", "When", "WHEN", "DAY", "parse_when"]


def user_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--user", "user", envvar="SANGRAH_USER", metavar="NAME",
        help="Acting user, who must hold a role the command needs (default: SANGRAH_USER, else the login name).",
    )(func)


def acting_user(user: str | None) -> str:
    name = user or login_name()
    if not name:
        raise click.UsageError("cannot tell who is acting: give --user NAME or set SANGRAH_USER")
    return name


@dataclass(frozen=True, slots=True)
class Session:
    config: Config
    catalog: Catalog
    actor: Actor


@contextmanager
def session(ctx: click.Context, data_dir: Path | None, user: str | None, command: str, *, target: str | None = None) -> Iterator[Session]:
    """The config, an open catalog and the authorised actor for ``command``; errors become click errors."""
    from archiver.pipeline import open_catalog

    config = load_for(ctx, data_dir)
    with errors_as_click():
        catalog = open_catalog(config)
        try:
            actor = authorize(catalog, acting_user(user), command, target=target)
            yield Session(config, catalog, actor)
        finally:
            catalog.close()


@dataclass(frozen=True, slots=True)
class When:
    """An instant given on the command line, and whether a time of day was given with it."""

    at: datetime
    has_time: bool


_DAY_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_when(text: str, now: datetime | None = None) -> When:
    """``now``; ``2026-03-02`` (the start of that day in IST); ``2026-03-02 14:05`` (IST); ISO 8601 with an offset."""
    value = text.strip()
    if value == "now":
        return When(now or datetime.now(timezone.utc), True)
    if _DAY_ONLY.fullmatch(value):
        return When(datetime.combine(date.fromisoformat(value), time(0), IST).astimezone(timezone.utc), False)
    parsed = datetime.fromisoformat(value.replace(" ", "T", 1))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=IST)
    return When(parsed.astimezone(timezone.utc), True)


class _WhenType(click.ParamType):
    name = "WHEN"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> When:
        if isinstance(value, When):
            return value
        try:
            return parse_when(str(value))
        except ValueError:
            self.fail(f"{value!r} is not a date or time: write 2026-03-02, 2026-03-02 14:05 (IST), or an ISO 8601 instant with its offset", param, ctx)


class _DayType(click.ParamType):
    name = "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value).strip())
        except ValueError:
            self.fail(f"{value!r} is not a date: write it as YYYY-MM-DD, e.g. 2026-03-02", param, ctx)


WHEN = _WhenType()
DAY = _DayType()
