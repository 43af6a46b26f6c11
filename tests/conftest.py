"""Fixtures that build real things: a SQLite catalog in a temporary directory, the sample
platforms on a local port, a configuration pointing at both.

Every WARC file and log the suite writes is scanned for the sample platforms' credentials at
the end of the session: none may appear (``pytest_sessionfinish``).
"""

from __future__ import annotations

import zlib
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from archiver.config import Config, load_config
from archiver.model import PLATFORMS
from archiver.samples.accounts import credential_variable, register_sample_accounts
from archiver.samples.server import SampleServer
from archiver.samples.world import World

#: the RTI register's fixtures (a configured public authority, a catalog with a user in each role)
pytest_plugins = ["tests.rti_fixtures"]

ROOT = Path(__file__).resolve().parents[1]
REALDATA = ROOT.parent / "shared" / "realdata"

#: every directory a test wrote an archive or a log into, scanned at session end
_WRITTEN: list[Path] = []
#: every credential handed to the code under test
_SECRETS: set[str] = set()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    _WRITTEN.append(path)
    return path


@pytest.fixture
def config(data_dir: Path) -> Config:
    return load_config(None, overrides={"data_dir": str(data_dir), "operator": "test-records-cell", "harvest": {"backoff_base_seconds": 0.01, "max_sleep_seconds": 2, "timeout_seconds": 5, "max_retries": 3}})


@pytest.fixture(params=["sqlite", "postgresql"])
def catalog_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new, empty catalog database: SQLite in a temporary file, or a database of its own on
    the PostgreSQL server (tests/postgres.py)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'catalog.sqlite'}"
        return
    from tests.postgres import fresh_database, password

    _SECRETS.add(password())
    with fresh_database() as url:
        yield url


@pytest.fixture
def both_config(config: Config, catalog_url: str) -> Config:
    """``config`` with its catalog on SQLite, then on PostgreSQL."""
    return config.model_copy(update={"catalog_url": catalog_url})


sample_credential_env = credential_variable


def register_samples(config: Config, server: SampleServer, platforms: tuple[str, ...] = PLATFORMS) -> None:
    """Register the sample accounts in the catalog and hand over their test credentials."""
    from archiver.pipeline import open_catalog

    catalog = open_catalog(config)
    try:
        register_sample_accounts(catalog, server, platforms)
        _SECRETS.update(server.world.token(p) for p in platforms)
    finally:
        catalog.close()


def add_records_officer(config: Config, user: str = "dro") -> None:
    """An administrator, and ``user`` with the records officer's role (who may ask for a deletion)."""
    from archiver.access.users import add_user
    from archiver.pipeline import open_catalog

    catalog = open_catalog(config)
    try:
        add_user(catalog, "admin", "admin", full_name="Records Administrator", roles=["administrator"])
        add_user(catalog, "admin", user, full_name="Departmental Record Officer", roles=["records_officer"])
    finally:
        catalog.close()


@pytest.fixture
def small_world() -> World:
    return World(seed=11, posts_per_account=25)


@pytest.fixture
def sample_server(small_world: World) -> Iterator[SampleServer]:
    with SampleServer(small_world, timeout_fault_seconds=8) as server:
        for platform in PLATFORMS:
            _SECRETS.add(server.world.token(platform))
        yield server


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    """Everything the archiver logs during the test, at DEBUG, into a file that is scanned."""
    path = tmp_path / "archiver.log"
    handler = logging.FileHandler(path)
    handler.setLevel(logging.DEBUG)
    logger = logging.getLogger("archiver")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    _WRITTEN.append(path)
    try:
        yield path
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
        handler.close()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    leaks = find_secrets(_WRITTEN, _SECRETS)
    if leaks:
        session.exitstatus = 1
        print("\nCREDENTIAL LEAK: test credentials were found in files the suite wrote:")
        for leak in leaks[:20]:
            print("  ", leak)


def _decompress_members(data: bytes) -> bytes:
    """Every gzip member that decompresses, concatenated (a damaged member is skipped)."""
    out: list[bytes] = []
    rest = data
    while rest:
        inflater = zlib.decompressobj(31)
        try:
            out.append(inflater.decompress(rest))
        except zlib.error:
            # damaged here: keep the raw bytes of this member and look for the next one
            out.append(rest[:1])
            nxt = rest.find(b"\x1f\x8b\x08", 1)
            if nxt == -1:
                out.append(rest[1:])
                break
            rest = rest[nxt:]
            continue
        rest = inflater.unused_data
    return b"".join(out)


def find_secrets(paths: list[Path], secrets: set[str]) -> list[str]:
    """Every file under ``paths`` (WARC members decompressed) that contains one of ``secrets``."""
    needles = [s.encode() for s in secrets if s]
    found: list[str] = []
    for base in paths:
        files = [base] if base.is_file() else (sorted(p for p in base.rglob("*") if p.is_file()) if base.exists() else [])
        for file in files:
            data = file.read_bytes()
            if file.name.endswith(".gz") or ".warc.gz" in file.name:
                data = _decompress_members(data)
            for needle in needles:
                if needle in data:
                    found.append(f"{file}: {needle.decode()[:12]}…")
    return found
