"""What the RTI tests share: a configuration with the public authority's particulars, a catalog
with users in each role, a command runner that acts as one of them, and helpers that register a
request and record its events. Loaded as a plugin by tests/conftest.py."""

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
from tests.conftest import _WRITTEN

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


@pytest.fixture
def rti_config_file(tmp_path: Path) -> Path:
    data_dir = tmp_path / "data"
    _WRITTEN.append(data_dir)
    path = tmp_path / "sangrah.yaml"
    path.write_text(yaml.safe_dump({"data_dir": str(data_dir), "operator": "test-rti-cell", "rti": RTI_SETTINGS}), encoding="utf-8")
    return path


@pytest.fixture
def rti_config(rti_config_file: Path) -> Config:
    return load_config(rti_config_file)


@pytest.fixture(scope="session")
def _staffed_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated catalog with one user in each role of ``USERS``, built once and copied per test."""
    path = tmp_path_factory.mktemp("staffed") / "catalog.sqlite"
    catalog = Catalog(f"sqlite:///{path}")
    catalog.migrate()
    add_user(catalog, "admin", "admin", full_name="Records Administrator", roles=USERS["admin"])
    for name, roles in USERS.items():
        if name != "admin":
            add_user(catalog, "admin", name, full_name=f"{name.title()} Officer", roles=roles)
    with catalog.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    catalog.close()
    return path


@pytest.fixture
def staffed(rti_config: Config, _staffed_template: Path) -> Iterator[Catalog]:
    """The catalog of ``rti_config`` with one user in each role of ``USERS`` (added by admin)."""
    rti_config.data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_staffed_template, rti_config.data_dir / "catalog.sqlite")
    catalog = open_catalog(rti_config)
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
