"""The PostgreSQL server the tests use: a fresh database per test, and restarts for the faults.

The server is started outside pytest by ``infra/postgres.sh start``, which prints the DSN to put
in ``SANGRAH_PG_DSN`` (``infra/test.sh`` does both). Without it the tests that need it are skipped
on a developer's machine and fail in CI, where the server is required.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

DSN_ENV = "SANGRAH_PG_DSN"
SCRIPT = Path(__file__).resolve().parents[1] / "infra" / "postgres.sh"


def server_dsn() -> str:
    """The DSN ``infra/postgres.sh start`` printed; skips (fails in CI) when it is not set."""
    dsn = os.environ.get(DSN_ENV)
    if not dsn:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{DSN_ENV} is not set: PostgreSQL is required in CI; start it with infra/postgres.sh start and export the DSN it prints")
        pytest.skip(f'{DSN_ENV} is not set; run: export {DSN_ENV}="$(infra/postgres.sh start)"')
    return dsn


def without_password(url: str) -> str:
    """``url`` without its password (libpq then takes it from PGPASSWORD or ~/.pgpass)."""
    return make_url(url)._replace(password=None).render_as_string(hide_password=False)


def password() -> str:
    return str(make_url(server_dsn()).password or "")


@contextmanager
def fresh_database(prefix: str = "t") -> Iterator[str]:
    """A new, empty database on the server for one test, dropped afterwards; yields its URL."""
    dsn = server_dsn()
    name = f"sangrah_{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(dsn, isolation_level="AUTOCOMMIT", poolclass=NullPool)  # a restart may come between
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(dsn).set(database=name).render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def started_at() -> datetime:
    """When the server's postmaster started (a restart changes it)."""
    engine = create_engine(server_dsn())
    try:
        with engine.connect() as conn:
            value = conn.execute(text("SELECT pg_postmaster_start_time()")).scalar_one()
            assert isinstance(value, datetime)
            return value
    finally:
        engine.dispose()


def manage(action: str) -> None:
    """``infra/postgres.sh start|stop|restart`` on the server the DSN names (checked first)."""
    if action != "start":
        status = subprocess.run([str(SCRIPT), "status"], capture_output=True, text=True, timeout=60)
        if status.stdout.strip() != server_dsn():
            pytest.fail(f"{DSN_ENV} does not name the server infra/postgres.sh manages ({status.stderr.strip()}); a restart test needs that one")
    done = subprocess.run([str(SCRIPT), action], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


@contextmanager
def server_down() -> Iterator[None]:
    """The server stopped for the block, and started again whatever happens in it."""
    manage("stop")
    try:
        yield
    finally:
        manage("start")
