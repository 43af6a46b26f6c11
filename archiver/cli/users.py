"""Users and roles (R17), and the credential register of archived accounts (R16).

``sangrah users add`` with ``--role administrator`` makes the first administrator while the
catalog has none; after that, only an administrator adds users and grants or revokes roles.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
import orjson
from rich.table import Table

from archiver.access.credentials import add_entry, end_entry, import_csv, list_entries
from archiver.access.roles import ROLES
from archiver.access.users import add_user, grant_role, list_users, revoke_role
from archiver.cli._access import DAY, acting_user, session, user_option
from archiver.cli._base import cli, data_dir_option, errors_as_click, load_for, out_console

__all__ = ["users", "credentials"]

_ROLE = click.Choice(list(ROLES))


@cli.group()
def users() -> None:
    """Users of the archive and their roles (CPIO/SPIO, APIO, FAA, records officer, responder, auditor, administrator).

    Example: sangrah users list
    """


@users.command("add")
@click.argument("name")
@click.option("--role", "roles", multiple=True, type=_ROLE, required=True, help="A role to grant (repeatable).")
@click.option("--full-name", required=True, help="The user's name, as on official letters.")
@click.option("--designation", help="The user's designation.")
@user_option
@data_dir_option
@click.pass_context
def users_add(ctx: click.Context, name: str, roles: tuple[str, ...], full_name: str, designation: str | None, user: str | None, data_dir: Path | None) -> None:
    """Add a user with roles. The first user of an archive must be an administrator.

    Example: sangrah users add records-admin --role administrator --full-name "S. Sharma" --designation "Deputy Secretary"
    """
    from archiver.pipeline import open_catalog

    config = load_for(ctx, data_dir)
    with errors_as_click():
        catalog = open_catalog(config)
        try:
            added = add_user(catalog, acting_user(user), name, full_name=full_name, roles=roles, designation=designation)
        finally:
            catalog.close()
    click.echo(f"added {added.name} ({added.full_name}) with {', '.join(sorted(added.roles))}", err=True)


@users.command("grant")
@click.argument("name")
@click.argument("role", type=_ROLE)
@click.option("--reason", required=True, help="Why: kept in the audit log.")
@user_option
@data_dir_option
@click.pass_context
def users_grant(ctx: click.Context, name: str, role: str, reason: str, user: str | None, data_dir: Path | None) -> None:
    """Grant a role to a user.

    Example: sangrah users grant cpio-dowr pio --reason "designated CPIO by order of 01/03/2026"
    """
    _change_role(ctx, data_dir, user, "users grant", name, role, reason)


@users.command("revoke")
@click.argument("name")
@click.argument("role", type=_ROLE)
@click.option("--reason", required=True, help="Why: kept in the audit log.")
@user_option
@data_dir_option
@click.pass_context
def users_revoke(ctx: click.Context, name: str, role: str, reason: str, user: str | None, data_dir: Path | None) -> None:
    """Revoke a role from a user; the grant stays in the catalog, marked revoked.

    Example: sangrah users revoke cpio-dowr pio --reason "transferred out"
    """
    _change_role(ctx, data_dir, user, "users revoke", name, role, reason)


def _change_role(ctx: click.Context, data_dir: Path | None, user: str | None, command: str, name: str, role: str, reason: str) -> None:
    change = grant_role if command == "users grant" else revoke_role
    with session(ctx, data_dir, user, command, target=name) as s:
        changed = change(s.catalog, s.actor, name, role, reason=reason)
    click.echo(f"{changed.name} now holds {', '.join(sorted(changed.roles)) or 'no role'}", err=True)


@users.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines instead of a table.")
@user_option
@data_dir_option
@click.pass_context
def users_list(ctx: click.Context, as_json: bool, user: str | None, data_dir: Path | None) -> None:
    """List the users and their roles.

    Example: sangrah users list --json
    """
    with session(ctx, data_dir, user, "users list") as s:
        found = list_users(s.catalog)
        s.catalog.audit(actor=s.actor.name, action="users_list", target=None, outcome="ok", details={"users": len(found)})
    if as_json:
        for u in found:
            click.echo(orjson.dumps({"name": u.name, "full_name": u.full_name, "designation": u.designation, "active": u.active, "roles": sorted(u.roles)}).decode())
        return
    table = Table("user", "name", "designation", "roles")
    for u in found:
        table.add_row(u.name, u.full_name, u.designation or "", ", ".join(sorted(u.roles)))
    out_console().print(table)


# -- the credential register ----------------------------------------------------------------------
@cli.group()
def credentials() -> None:
    """The credential register of archived accounts: login IDs and authorised posters, with dates. Never passwords.

    Example: sangrah credentials list x:1350000000000000001
    """


@credentials.command("add")
@click.argument("account")
@click.option("--login-id", help="A login ID of the account (an e-mail address or user name), never its password.")
@click.option("--poster", help="An official authorised to post from the account.")
@click.option("--designation", help="The poster's designation.")
@click.option("--from", "from_on", type=DAY, required=True, help="From this day (YYYY-MM-DD).")
@click.option("--to", "to_on", type=DAY, help="Until this day, if it has ended.")
@click.option("--note", help="A note, e.g. the order authorising the poster. Never a password.")
@user_option
@data_dir_option
@click.pass_context
def credentials_add(
    ctx: click.Context, account: str, login_id: str | None, poster: str | None, designation: str | None, from_on: date, to_on: date | None,
    note: str | None, user: str | None, data_dir: Path | None,
) -> None:
    """Record a login ID of an account, or an official authorised to post from it.

    Example: sangrah credentials add x:1350000000000000001 --poster "R. Kumar" --designation "Social media officer" --from 2026-01-01
    """
    if (login_id is None) == (poster is None):
        raise click.UsageError("give either --login-id or --poster")
    with session(ctx, data_dir, user, "credentials add", target=account) as s:
        kind, value = ("login_id", login_id) if login_id else ("poster", poster)
        assert value is not None
        entry = add_entry(s.catalog, s.actor, account, kind=kind, value=value, from_on=from_on, to_on=to_on, designation=designation, note=note)
    click.echo(f"recorded entry {entry.id}: {entry.kind.replace('_', ' ')} {entry.value} of {entry.account_key} from {entry.from_on.isoformat()}", err=True)


@credentials.command("import")
@click.argument("csv_file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@user_option
@data_dir_option
@click.pass_context
def credentials_import(ctx: click.Context, csv_file: Path, user: str | None, data_dir: Path | None) -> None:
    """Enter a roster from CSV (account, kind, value, designation, from, to, note); a password column is refused.

    Example: sangrah credentials import roster.csv
    """
    with session(ctx, data_dir, user, "credentials import") as s:
        entries = import_csv(s.catalog, s.actor, csv_file)
    click.echo(f"recorded {len(entries)} entr{'y' if len(entries) == 1 else 'ies'} from {csv_file}", err=True)


@credentials.command("end")
@click.argument("entry_id", type=int)
@click.option("--on", "to_on", type=DAY, required=True, help="The last day the login ID was used or the poster was authorised.")
@user_option
@data_dir_option
@click.pass_context
def credentials_end(ctx: click.Context, entry_id: int, to_on: date, user: str | None, data_dir: Path | None) -> None:
    """Record the end of a login ID or of a poster's authorisation.

    Example: sangrah credentials end 3 --on 2026-06-30
    """
    with session(ctx, data_dir, user, "credentials end") as s:
        entry = end_entry(s.catalog, s.actor, entry_id, to_on=to_on)
    click.echo(f"entry {entry.id} ended on {to_on.isoformat()}", err=True)


@credentials.command("list")
@click.argument("account", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines instead of a table.")
@user_option
@data_dir_option
@click.pass_context
def credentials_list(ctx: click.Context, account: str | None, as_json: bool, user: str | None, data_dir: Path | None) -> None:
    """List the credential register, for one account or all.

    Example: sangrah credentials list --json
    """
    with session(ctx, data_dir, user, "credentials list", target=account) as s:
        entries = list_entries(s.catalog, account)
        s.catalog.audit(actor=s.actor.name, action="credentials_list", target=account, outcome="ok", details={"entries": len(entries)})
    if as_json:
        for e in entries:
            click.echo(orjson.dumps({
                "id": e.id, "account": e.account_key, "kind": e.kind, "value": e.value, "designation": e.designation,
                "from": e.from_on.isoformat(), "to": e.to_on.isoformat() if e.to_on else None, "note": e.note, "recorded_by": e.recorded_by,
            }).decode())
        return
    table = Table("id", "account", "kind", "login ID / poster", "designation", "from", "to")
    for e in entries:
        table.add_row(str(e.id), e.account_key, e.kind.replace("_", " "), e.value, e.designation or "", e.from_on.isoformat(), e.to_on.isoformat() if e.to_on else "")
    out_console().print(table)
