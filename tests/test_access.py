"""Users and roles (R17): the first administrator, who may manage users, the table of commands and
roles as documented; and the credential register (R16), which never takes a password. Each test
with a catalog runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from archiver.access.credentials import add_entry, list_entries, refuse_secrets
from archiver.access.roles import COMMAND_ROLES
from archiver.catalog import Catalog
from archiver.catalog.audit import iter_entries
from archiver.config import Config
from archiver.errors import CatalogError
from archiver.pipeline import open_catalog
from tests.rti_fixtures import actor, run

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.both_catalogs


def test_the_first_user_must_be_an_administrator(rti_config: Config, rti_config_file: Path) -> None:
    first = run(rti_config_file, "cpio", "users", "add", "cpio", "--role", "pio", "--full-name", "A. K. Verma")
    assert first.exit_code == 1
    assert "this archive has no administrator yet, so the first user must be one. Run: sangrah users add cpio --role administrator" in first.stderr
    made = run(rti_config_file, "records-admin", "users", "add", "records-admin", "--role", "administrator", "--full-name", "S. Sharma", "--designation", "Deputy Secretary")
    assert made.exit_code == 0 and made.stderr == "added records-admin (S. Sharma) with administrator\n"
    # now that one exists, nobody else can make themselves one
    second = run(rti_config_file, "intruder", "users", "add", "intruder", "--role", "administrator", "--full-name", "I. N. Truder")
    assert second.exit_code == 1 and "users add: 'intruder' is not a user of this archive." in second.stderr
    added = run(rti_config_file, "records-admin", "users", "add", "cpio", "--role", "pio", "--full-name", "A. K. Verma")
    assert added.exit_code == 0
    listed = run(rti_config_file, "records-admin", "users", "list", "--json")
    assert [json.loads(line)["roles"] for line in listed.stdout.splitlines()] == [["pio"], ["administrator"]]
    catalog = open_catalog(rti_config)
    entries = [(e.actor, e.action, e.target, e.outcome) for e in iter_entries(catalog.engine)]
    catalog.close()
    assert entries == [
        ("records-admin", "users_bootstrap", "records-admin", "ok"),
        ("intruder", "users_add", "intruder", "refused"),
        ("records-admin", "users_add", "cpio", "ok"),
        ("records-admin", "users_list", None, "ok"),
    ]


def test_grant_and_revoke_and_the_last_administrator(staffed: Catalog, rti_config_file: Path) -> None:
    granted = run(rti_config_file, "admin", "users", "grant", "apio", "pio", "--reason", "designated CPIO by order of 01/03/2026")
    assert granted.exit_code == 0 and granted.stderr == "apio now holds apio, pio\n"
    assert run(rti_config_file, "apio", "rti", "list").exit_code == 0
    revoked = run(rti_config_file, "admin", "users", "revoke", "apio", "pio", "--reason", "transferred out")
    assert revoked.exit_code == 0 and revoked.stderr == "apio now holds apio\n"
    by_cpio = run(rti_config_file, "cpio", "users", "grant", "cpio", "administrator", "--reason", "because")
    assert by_cpio.exit_code == 1 and "users grant needs the role administrator; 'cpio' holds pio" in by_cpio.stderr
    last = run(rti_config_file, "admin", "users", "revoke", "admin", "administrator", "--reason", "leaving")
    assert last.exit_code == 1 and "'admin' is the only administrator; grant the role to another user first" in last.stderr


def test_the_roles_table_in_the_docs_is_the_one_the_code_applies() -> None:
    doc = (ROOT / "docs" / "rti.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `sangrah ([a-z -]+)` \| ([a-z_, ]+) \|$", doc, flags=re.MULTILINE))
    assert {command: frozenset(roles.split(", ")) for command, roles in rows.items()} == COMMAND_ROLES


# -- the credential register -----------------------------------------------------------------------
@pytest.fixture
def account(staffed: Catalog) -> str:
    staffed.add_account(platform="x", native_id="1350000000000000001", handle="JalShaktiDept")
    return "x:1350000000000000001"


def test_login_ids_and_posters_with_dates(staffed: Catalog, rti_config_file: Path, account: str) -> None:
    login = run(rti_config_file, "records", "credentials", "add", account, "--login-id", "socialmedia@dowr.example.gov.in", "--from", "2025-01-01")
    assert login.exit_code == 0 and login.stderr == f"recorded entry 1: login id socialmedia@dowr.example.gov.in of {account} from 2025-01-01\n"
    poster = run(rti_config_file, "admin", "credentials", "add", account, "--poster", "R. Kumar", "--designation", "Social media officer", "--from", "2026-01-01", "--note", "order No. A-12/2026")
    assert poster.exit_code == 0
    ended = run(rti_config_file, "records", "credentials", "end", "2", "--on", "2026-06-30")
    assert ended.exit_code == 0 and ended.stderr == "entry 2 ended on 2026-06-30\n"
    listed = run(rti_config_file, "responder", "credentials", "list", account, "--json")
    assert [json.loads(line) for line in listed.stdout.splitlines()] == [
        {"id": 1, "account": account, "kind": "login_id", "value": "socialmedia@dowr.example.gov.in", "designation": None, "from": "2025-01-01", "to": None, "note": None, "recorded_by": "records"},
        {"id": 2, "account": account, "kind": "poster", "value": "R. Kumar", "designation": "Social media officer", "from": "2026-01-01", "to": "2026-06-30", "note": "order No. A-12/2026", "recorded_by": "admin"},
    ]
    refused = run(rti_config_file, "cpio", "credentials", "add", account, "--poster", "X", "--from", "2026-01-01")
    assert refused.exit_code == 1 and "credentials add needs the role administrator or records_officer" in refused.stderr


def test_a_password_is_refused_wherever_it_is_offered(staffed: Catalog, rti_config_file: Path, account: str, tmp_path: Path) -> None:
    # a field named like a password, as a roster exported from a spreadsheet would carry it
    with pytest.raises(CatalogError) as caught:
        refuse_secrets({"value": "socialmedia@dowr.example.gov.in", "password": "Flood@2026"}, "roster line 2")
    assert caught.value.message == (
        "roster line 2: the field 'password' looks like a password or other secret, and is refused (R16: the credential register holds login IDs "
        "and authorised posters, never passwords; keep passwords in the department's vault)."
    )
    roster = tmp_path / "roster.csv"
    roster.write_text(f"account,kind,value,Password,from\n{account},login_id,socialmedia@dowr.example.gov.in,Flood@2026,2025-01-01\n", encoding="utf-8")
    imported = run(rti_config_file, "records", "credentials", "import", str(roster))
    assert imported.exit_code == 1 and "header: the field 'Password' looks like a password or other secret, and is refused (R16" in imported.stderr
    # a password written into a note
    noted = run(rti_config_file, "records", "credentials", "add", account, "--login-id", "dept", "--from", "2025-01-01", "--note", "pwd: Flood@2026")
    assert noted.exit_code == 1 and "the note looks like it writes a secret down" in noted.stderr and "Flood" not in noted.stderr
    with pytest.raises(CatalogError, match="the value looks like it writes a secret down"):
        add_entry(staffed, actor(staffed, "records", "credentials add"), account, kind="login_id", value="password=Flood@2026", from_on=__import__("datetime").date(2025, 1, 1))
    assert list_entries(staffed) == []
    # an ordinary note that mentions the vault is fine
    ok = run(rti_config_file, "records", "credentials", "add", account, "--login-id", "dept", "--from", "2025-01-01", "--note", "the password is kept in the vault")
    assert ok.exit_code == 0
    # and nothing secret-looking reached the catalog
    assert b"Flood@2026" not in _stored_bytes(staffed)


def _stored_bytes(catalog: Catalog) -> bytes:
    """What the catalog keeps: the SQLite file's bytes, or every row of every PostgreSQL table as text."""
    if catalog.engine.dialect.name == "sqlite":
        return Path(catalog.engine.url.database or "").read_bytes()
    with catalog.engine.connect() as conn:
        tables = conn.exec_driver_sql("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").scalars().all()
        assert "account_credentials" in tables
        return "\n".join(str(row) for table in tables for row in conn.exec_driver_sql(f'SELECT t::text FROM "{table}" AS t').scalars()).encode()


def test_a_roster_is_imported_all_or_nothing(staffed: Catalog, rti_config_file: Path, account: str, tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "account,kind,value,designation,from,to,note\n"
        f"{account},poster,R. Kumar,Social media officer,2026-01-01,,\n"
        f"x:999,poster,S. Rao,Consultant,2026-01-01,,\n",
        encoding="utf-8",
    )
    refused = run(rti_config_file, "records", "credentials", "import", str(roster))
    assert refused.exit_code == 1 and f"{roster}, line 3: x:999 is not a registered account" in refused.stderr
    assert list_entries(staffed) == []
    roster.write_text("account,kind,value,designation,from,to,note\n" f"{account},poster,R. Kumar,Social media officer,2026-01-01,,\n", encoding="utf-8")
    done = run(rti_config_file, "records", "credentials", "import", str(roster))
    assert done.exit_code == 0 and done.stderr == f"recorded 1 entry from {roster}\n"
