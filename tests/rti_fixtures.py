"""What the RTI tests share: a configuration with the public authority's particulars, a catalog
with users in each role, a command runner that acts as one of them, and helpers that register a
request and record its events. Loaded as a plugin by tests/conftest.py.

The catalog is SQLite in the config's data_dir. A test marked ``both_catalogs`` (or a module with
``pytestmark = pytest.mark.both_catalogs``) runs twice: on SQLite, then on a database of its own
on the PostgreSQL server (tests/postgres.py), whose URL the config file names without the
password, which the process takes from PGPASSWORD as a deployment does."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import click.testing
import pytest
import yaml
from click.testing import CliRunner

from archiver.access.users import Actor, add_user, authorize
from archiver.catalog import Catalog
from archiver.cli import cli
from archiver.config import Config, load_config
from archiver.pipeline import open_catalog, rti_rules
from archiver.rti.deadlines import IST
from archiver.rti.register import Change, record_event, register_request
from archiver.rti.request import Applicant, NewRequest
from archiver.rti.states import Event
from tests.conftest import _SECRETS, _WRITTEN

RTI_SETTINGS = {
    "public_authority": "Department of Water Resources",
    "address": "Shram Shakti Bhawan, New Delhi 110001",
    "cpio": {"name": "A. K. Verma", "designation": "Under Secretary and CPIO", "phone": "011-23710000", "email": "cpio-dowr@example.gov.in"},
    "faa": {
        "name": "S. Iyer", "designation": "Director and First Appellate Authority", "address": "Room 210, Shram Shakti Bhawan, New Delhi 110001",
        "phone": "011-23710001", "email": "faa-dowr@example.gov.in",
    },
}

#: user -> roles, as the tests' catalog has them
USERS = {
    "admin": ("administrator",),
    "cpio": ("pio",),
    "apio": ("apio",),
    "faa": ("faa",),
    "records": ("records_officer",),
    "auditor": ("auditor",),
    "responder": ("responder",),
}

#: the applicant of the tests' requests: these strings must never reach a log or the audit log
APPLICANT = {"name": "Kavita Iyengar", "address": "12 Station Road, Patna 800001", "contact": "kavita.iyengar@example.net"}


def ist(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=IST).astimezone(timezone.utc)


#: the catalogs a test marked ``both_catalogs`` runs on
BOTH_CATALOGS = ("sqlite", "postgresql")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "both_catalogs: run the RTI fixtures' catalog (rti_config, staffed) on SQLite, then on PostgreSQL")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "rti_catalog" in metafunc.fixturenames and metafunc.definition.get_closest_marker("both_catalogs"):
        metafunc.parametrize("rti_catalog", BOTH_CATALOGS, indirect=True)


@pytest.fixture
def rti_catalog(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str | None]:
    """The catalog URL the RTI config names: None (SQLite in data_dir) unless the test is marked
    ``both_catalogs``, then a new database on the PostgreSQL server, without its password
    (exported as PGPASSWORD for the test's process)."""
    if getattr(request, "param", "sqlite") == "sqlite":
        yield None
        return
    from tests.postgres import fresh_database, password, without_password

    _SECRETS.add(password())
    monkeypatch.setenv("PGPASSWORD", password())
    with fresh_database("rti") as url:
        yield without_password(url)


@pytest.fixture
def rti_config_file(tmp_path: Path, rti_catalog: str | None) -> Path:
    data_dir = tmp_path / "data"
    _WRITTEN.append(data_dir)
    path = tmp_path / "sangrah.yaml"
    catalog = {"catalog_url": rti_catalog} if rti_catalog else {}
    path.write_text(yaml.safe_dump({"data_dir": str(data_dir), **catalog, "operator": "test-rti-cell", "rti": RTI_SETTINGS}), encoding="utf-8")
    return path


@pytest.fixture
def rti_config(rti_config_file: Path) -> Config:
    return load_config(rti_config_file)


def _staff(catalog: Catalog) -> None:
    """Migrate ``catalog`` and add one user in each role of ``USERS``, the administrator first."""
    catalog.migrate()
    add_user(catalog, "admin", "admin", full_name="Records Administrator", roles=USERS["admin"])
    for name, roles in USERS.items():
        if name != "admin":
            add_user(catalog, "admin", name, full_name=f"{name.title()} Officer", roles=roles)


@pytest.fixture(scope="session")
def _staffed_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A staffed SQLite catalog, built once and copied per test."""
    path = tmp_path_factory.mktemp("staffed") / "catalog.sqlite"
    catalog = Catalog(f"sqlite:///{path}")
    _staff(catalog)
    with catalog.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    catalog.close()
    return path


@pytest.fixture
def staffed(rti_config: Config, request: pytest.FixtureRequest) -> Iterator[Catalog]:
    """The catalog of ``rti_config`` with one user in each role of ``USERS`` (added by admin)."""
    if rti_config.catalog_url is None:
        rti_config.data_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(request.getfixturevalue("_staffed_template"), rti_config.data_dir / "catalog.sqlite")
    catalog = open_catalog(rti_config)
    if rti_config.catalog_url is not None:
        _staff(catalog)  # PostgreSQL (rti_catalog): staffing a new database takes no longer than copying one
    try:
        yield catalog
    finally:
        catalog.close()


def actor(catalog: Catalog, user: str, command: str) -> Actor:
    return authorize(catalog, user, command)


def run(config_file: Path, user: str | None, *args: str) -> click.testing.Result:
    """``sangrah --config FILE ARGS --user USER`` as a user runs it."""
    extra = ["--user", user] if user else []
    return CliRunner().invoke(cli, ["--config", str(config_file), *args, *extra], obj={})


NOW = ist(2026, 6, 1)  # the register's "now" in these tests: after every date they use


def new_request(regno: str = "DOWR/R/2026/00012", **changes: object) -> NewRequest:
    values: dict[str, object] = dict(
        registration_no=regno, received_at=ist(2026, 3, 2), mode="online_portal", subject="Replies to the department's flood-relief posts of March 2026",
        applicant=Applicant(**APPLICANT), fee_paid_inr=Decimal(10),
    )
    values.update(changes)
    return NewRequest(**values)  # type: ignore[arg-type]


def register(catalog: Catalog, config: Config, new: NewRequest | None = None, now: datetime = NOW) -> Change:
    rules = rti_rules(config)
    return register_request(catalog, actor(catalog, "cpio", "rti new"), new or new_request(), now=now, pattern=config.rti.registration_pattern, fee_table=rules.fee_table, timelines=rules.timelines)


def event(catalog: Catalog, config: Config, kind: str, at: datetime, reason: str | None = None, *, user: str = "cpio", command: str = "rti decide", now: datetime = NOW, regno: str = "DOWR/R/2026/00012", **details: object) -> Change:
    to_state = details.pop("to_state", None)
    third_party = details.pop("third_party", None)
    return record_event(
        catalog, actor(catalog, user, command), regno, Event(kind, at, reason, to_state, details),  # type: ignore[arg-type]
        now=now, timelines=rti_rules(config).timelines, third_party=third_party,  # type: ignore[arg-type]
    )
