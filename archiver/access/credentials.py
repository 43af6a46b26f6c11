"""The credential register (R16): per archived account, its login IDs and the officials authorised
to post, each with dates. Never a password.

The 2012 social media framework asks that "a proper record of login ids and password" be kept
and that several people may be authorised to post (p.13). Sangrah keeps the record of who and
when; passwords belong in a vault and never enter the catalog, the logs or a WARC file. Every
field name and every value offered to the register is checked for a secret: a column named like
a password, or a value written ``password: ...``, is refused with the rule.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, insert, select, update

from archiver.access.users import Actor
from archiver.catalog import Catalog
from archiver.catalog import access_tables as a
from archiver.catalog import tables as t
from archiver.catalog.audit import append_entry
from archiver.errors import CatalogError

__all__ = ["KINDS", "CredentialEntry", "add_entry", "end_entry", "import_csv", "list_entries", "refuse_secrets"]

KINDS = ("login_id", "poster")

#: a field named like a secret
_SECRET_NAME = re.compile(r"pass(word|wd|phrase|code)?|pwd|secret|token|otp|\bpin\b|api[_ -]?key|private[_ -]?key|2fa|mfa", re.IGNORECASE)
#: a value that writes a secret down: "password: x", "pwd=x", "PIN - 1234"
_SECRET_VALUE = re.compile(r"\b(pass(word|wd|phrase|code)?|pwd|secret|token|otp|pin|api[_ -]?key)\b\s*(is\s*)?[:=\-]\s*\S", re.IGNORECASE)

_RULE = "R16: the credential register holds login IDs and authorised posters, never passwords; keep passwords in the department's vault"


@dataclass(frozen=True, slots=True)
class CredentialEntry:
    id: int
    account_key: str
    kind: str
    value: str
    designation: str | None
    from_on: date
    to_on: date | None
    note: str | None
    recorded_by: str


def refuse_secrets(fields: Mapping[str, object], where: str) -> None:
    """Raise ``CatalogError`` if a field is named like a secret or a value writes one down."""
    for name, value in fields.items():
        if _SECRET_NAME.search(name):
            raise CatalogError(f"{where}: the field {name!r} looks like a password or other secret, and is refused ({_RULE}).")
        if isinstance(value, str) and _SECRET_VALUE.search(value):
            raise CatalogError(f"{where}: the {name} looks like it writes a secret down (a word such as password followed by : or =), and is refused ({_RULE}).")


def add_entry(
    catalog: Catalog,
    actor: Actor,
    account_key: str,
    *,
    kind: str,
    value: str,
    from_on: date,
    to_on: date | None = None,
    designation: str | None = None,
    note: str | None = None,
) -> CredentialEntry:
    """Record a login ID (``kind="login_id"``) or an authorised poster (``kind="poster"``)."""
    fields = {"kind": kind, "value": value, "designation": designation, "note": note}
    entry_id = catalog.write(lambda conn: _insert(conn, actor, account_key, fields, from_on, to_on, f"credentials add {account_key}"))
    return _get(catalog, entry_id)


def _insert(conn: Connection, actor: Actor, account_key: str, fields: Mapping[str, str | None], from_on: date, to_on: date | None, where: str) -> int:
    refuse_secrets(fields, where)
    kind, value = fields["kind"], (fields["value"] or "").strip()
    if kind not in KINDS:
        raise CatalogError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}.")
    if not value:
        raise CatalogError(f"{where}: give the login ID, or the name of the official authorised to post.")
    if to_on is not None and to_on < from_on:
        raise CatalogError(f"{where}: the end date {to_on.isoformat()} is before the start date {from_on.isoformat()}.")
    if conn.execute(select(t.accounts.c.key).where(t.accounts.c.key == account_key)).first() is None:
        raise CatalogError(f"{where}: {account_key} is not a registered account; see: sangrah accounts list")
    now = datetime.now(timezone.utc)
    result = conn.execute(
        insert(a.account_credentials).values(
            account_key=account_key, kind=kind, value=value, designation=fields.get("designation"), from_on=from_on, to_on=to_on,
            note=fields.get("note"), recorded_at=now, recorded_by=actor.name,
        )
    )
    entry_id = int(result.inserted_primary_key[0])  # type: ignore[index]
    append_entry(
        conn, actor=actor.name, action="credentials_add", target=account_key, outcome="ok",
        details={"entry": entry_id, "kind": kind, "from_on": from_on.isoformat(), "to_on": to_on.isoformat() if to_on else None}, at=now,
    )
    return entry_id


_COLUMNS = ("account", "kind", "value", "designation", "from", "to", "note")


def import_csv(catalog: Catalog, actor: Actor, path: Path) -> list[CredentialEntry]:
    """Enter a roster from a CSV file with the columns account, kind, value, designation, from, to, note.

    All rows or none: a refused row (a password column, an unknown account) stops the import.
    """
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            header = list(reader.fieldnames or [])
            rows = list(reader)
    except OSError as exc:
        raise CatalogError(f"cannot read {path}: {exc.strerror}") from exc
    refuse_secrets({name: None for name in header}, f"{path}, header")
    unknown = [name for name in header if name not in _COLUMNS]
    if unknown or not {"account", "kind", "value", "from"} <= set(header):
        raise CatalogError(f"{path}: the columns must be {', '.join(_COLUMNS)} (account, kind, value and from are required); found {', '.join(header) or 'none'}.")

    def work(conn: Connection) -> list[int]:
        ids = []
        for number, row in enumerate(rows, start=2):
            where = f"{path}, line {number}"
            try:
                from_on = date.fromisoformat(row["from"])
                to_on = date.fromisoformat(row["to"]) if row.get("to") else None
            except ValueError:
                raise CatalogError(f"{where}: write dates as YYYY-MM-DD (found {row.get('from')!r}, {row.get('to')!r}).") from None
            fields = {"kind": row["kind"], "value": row["value"], "designation": row.get("designation") or None, "note": row.get("note") or None}
            ids.append(_insert(conn, actor, row["account"], fields, from_on, to_on, where))
        return ids

    return [_get(catalog, entry_id) for entry_id in catalog.write(work)]


def end_entry(catalog: Catalog, actor: Actor, entry_id: int, *, to_on: date) -> CredentialEntry:
    """Record that a login ID stopped being used, or a poster's authorisation ended, on ``to_on``."""

    def work(conn: Connection) -> None:
        entry = conn.execute(select(a.account_credentials).where(a.account_credentials.c.id == entry_id)).mappings().first()
        if entry is None:
            raise CatalogError(f"credentials end: there is no entry {entry_id}; see: sangrah credentials list")
        if entry["to_on"] is not None:
            raise CatalogError(f"credentials end: entry {entry_id} already ended on {entry['to_on'].isoformat()}.")
        if to_on < entry["from_on"]:
            raise CatalogError(f"credentials end: {to_on.isoformat()} is before the entry's start, {entry['from_on'].isoformat()}.")
        now = datetime.now(timezone.utc)
        conn.execute(update(a.account_credentials).where(a.account_credentials.c.id == entry_id).values(to_on=to_on, ended_at=now, ended_by=actor.name))
        append_entry(conn, actor=actor.name, action="credentials_end", target=entry["account_key"], outcome="ok", details={"entry": entry_id, "to_on": to_on.isoformat()}, at=now)

    catalog.write(work)
    return _get(catalog, entry_id)


def list_entries(catalog: Catalog, account_key: str | None = None) -> list[CredentialEntry]:
    c = a.account_credentials.c
    query = select(a.account_credentials).order_by(c.account_key, c.kind, c.from_on, c.id)
    if account_key:
        query = query.where(c.account_key == account_key)
    with catalog.engine.connect() as conn:
        return [_entry(row) for row in conn.execute(query).mappings()]


def _get(catalog: Catalog, entry_id: int) -> CredentialEntry:
    with catalog.engine.connect() as conn:
        row = conn.execute(select(a.account_credentials).where(a.account_credentials.c.id == entry_id)).mappings().one()
    return _entry(row)


def _entry(row: Any) -> CredentialEntry:
    return CredentialEntry(
        id=row["id"], account_key=row["account_key"], kind=row["kind"], value=row["value"], designation=row["designation"],
        from_on=row["from_on"], to_on=row["to_on"], note=row["note"], recorded_by=row["recorded_by"],
    )
