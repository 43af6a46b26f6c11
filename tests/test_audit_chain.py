"""The audit log's hash chain: intact when written by Sangrah, broken where someone with the file
changed it (the append-only triggers dropped first, as an attacker would), and the entries of a
catalog from before the chain chained by the migration.

Every test runs on SQLite and on PostgreSQL (the ``catalog_url`` fixture, and ``staffed`` for the
commands), where writers queue for the chain's head in different ways (``append_entry``)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import create_engine, insert
from sqlalchemy.pool import NullPool

from archiver.catalog import Catalog
from archiver.catalog import tables as t
from archiver.catalog.audit import GENESIS, entry_hash, iter_entries, verify_chain
from archiver.config import Config
from tests.rti_fixtures import run

pytestmark = pytest.mark.both_catalogs


@pytest.fixture
def catalog(catalog_url: str) -> Iterator[Catalog]:
    cat = Catalog(catalog_url)
    cat.migrate()
    yield cat
    cat.close()


def _fill(catalog: Catalog, count: int = 5) -> None:
    for n in range(count):
        catalog.audit(actor="records-cell", action="harvest_start", target=f"h{n}", outcome="ok", details={"accounts": [f"x:{n}"], "n": n})


def _tamper(url: str, *statements: str) -> None:
    """What an attacker with the database's owner rights does: drop the append-only triggers
    (migration 0001: two on SQLite, one on PostgreSQL), change the rows."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            if engine.dialect.name == "sqlite":
                conn.exec_driver_sql("DROP TRIGGER audit_log_no_update")
                conn.exec_driver_sql("DROP TRIGGER audit_log_no_delete")
            else:
                conn.exec_driver_sql("DROP TRIGGER audit_log_append_only ON audit_log")
            for statement in statements:
                conn.exec_driver_sql(statement)
    finally:
        engine.dispose()


def test_entries_chain_from_the_genesis(catalog: Catalog) -> None:
    _fill(catalog, 3)
    entries = list(iter_entries(catalog.engine))
    assert [e.id for e in entries] == [1, 2, 3]
    assert entries[0].prev_hash == GENESIS
    assert entries[1].prev_hash == entries[0].entry_hash and entries[2].prev_hash == entries[1].entry_hash
    first = entries[0]
    assert first.entry_hash == entry_hash(GENESIS, id=1, at=first.at, actor="records-cell", action="harvest_start", target="h0", outcome="ok", details={"accounts": ["x:0"], "n": 0})
    report = verify_chain(catalog.engine)
    assert (report.intact, report.entries, report.head_id, report.head_hash) == (True, 3, 3, entries[2].entry_hash)


def test_an_altered_entry_is_named(catalog: Catalog, catalog_url: str) -> None:
    _fill(catalog)
    catalog.close()
    _tamper(catalog_url, "UPDATE audit_log SET outcome = 'failed' WHERE id = 3")
    report = verify_chain(catalog.engine)
    assert (report.intact, report.broken_id, report.head_id) == (False, 3, 2)
    assert report.problem is not None and report.problem.startswith("entry 3 (harvest_start by records-cell at ")
    assert report.problem.endswith("no longer matches its hash: it was changed after it was written")


def test_an_altered_entry_with_its_hash_recomputed_breaks_the_next_link(catalog: Catalog, catalog_url: str) -> None:
    _fill(catalog)
    entry = next(e for e in iter_entries(catalog.engine) if e.id == 2)
    forged = entry_hash(entry.prev_hash or "", id=2, at=entry.at, actor="someone-else", action=entry.action, target=entry.target, outcome=entry.outcome, details=entry.details)
    catalog.close()
    _tamper(catalog_url, f"UPDATE audit_log SET actor = 'someone-else', entry_hash = '{forged}' WHERE id = 2")
    report = verify_chain(catalog.engine)
    assert report.broken_id == 3
    assert report.problem is not None and report.problem.endswith("does not chain to entry 2: an entry before it was changed, removed or inserted")


def test_a_removed_entry_is_named(catalog: Catalog, catalog_url: str) -> None:
    _fill(catalog)
    catalog.close()
    _tamper(catalog_url, "DELETE FROM audit_log WHERE id = 2")
    report = verify_chain(catalog.engine)
    assert report.broken_id == 3
    assert report.problem is not None and "follows entry 1: entry 2 is missing (removed from the log)" in report.problem


def test_sangrah_audit_verify_exits_1_naming_the_entry(staffed: Catalog, rti_config: Config, rti_config_file: Path) -> None:
    ok = run(rti_config_file, "auditor", "audit", "verify")
    assert ok.exit_code == 0, ok.output
    assert ok.stdout.startswith("checked 7 audit entries: the chain is intact; head entry 7, ")
    staffed.close()
    _tamper(staffed.url, "UPDATE audit_log SET details = '{\"roles\": [\"administrator\", \"pio\"]}' WHERE id = 2")
    broken = run(rti_config_file, "auditor", "audit", "verify")
    assert broken.exit_code == 1
    assert broken.stdout.startswith("BROKEN at entry 2: entry 2 (users_add by admin at ")
    assert "no longer matches its hash: it was changed after it was written\nthe chain holds up to entry 1; entries from 2 on cannot be trusted." in broken.stdout
    as_json = run(rti_config_file, "auditor", "audit", "verify", "--json")
    assert as_json.exit_code == 1 and '"intact":false,"head_id":1' in as_json.stdout and '"broken_id":2' in as_json.stdout


def test_audit_list_filters_and_needs_the_role(staffed: Catalog, rti_config_file: Path) -> None:
    listed = run(rti_config_file, "auditor", "audit", "list", "--action", "users_*", "--json")
    assert listed.exit_code == 0, listed.output
    lines = listed.stdout.splitlines()
    assert len(lines) == 7 and '"action":"users_bootstrap"' in lines[0] and '"target":"responder"' in lines[-1]
    refused = run(rti_config_file, "cpio", "audit", "list")
    assert refused.exit_code == 1
    assert "audit list needs the role administrator or auditor; 'cpio' holds pio (R17" in refused.stderr
    mine = run(rti_config_file, "auditor", "audit", "list", "--actor", "cpio", "--json")
    assert [line for line in mine.stdout.splitlines() if '"outcome":"refused"' in line and '"action":"audit_list"' in line]


def test_the_migration_chains_the_entries_written_before_it(catalog_url: str) -> None:
    catalog = Catalog(catalog_url)
    alembic = AlembicConfig()
    alembic.set_main_option("script_location", str(Path(__file__).resolve().parents[1] / "archiver" / "catalog" / "migrations"))
    with catalog.engine.begin() as connection:
        alembic.attributes["connection"] = connection
        command.upgrade(alembic, "0002")
    with catalog.engine.begin() as connection:
        for n in range(3):
            # only the columns revision 0002 has: no hashes yet
            at = datetime(2026, 11, 20 + n, 10, tzinfo=timezone.utc)
            connection.execute(insert(t.audit_log).values(at=at, actor="records-cell", action="harvest_start", target=f"h{n}", outcome="ok", details={"n": n}))
    catalog.migrate()
    report = verify_chain(catalog.engine)
    assert (report.intact, report.entries) == (True, 3)
    catalog.audit(actor="records-cell", action="harvest_start", target="h3", outcome="ok")
    assert verify_chain(catalog.engine).entries == 4
    with pytest.raises(Exception, match="append-only"), catalog.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE audit_log SET outcome = 'x'")
    catalog.close()


def test_concurrent_writers_keep_one_chain(catalog: Catalog, catalog_url: str) -> None:
    def write(worker: int) -> None:
        own = Catalog(catalog_url)
        for n in range(15):
            own.audit(actor=f"worker-{worker}", action="harvest_start", target=str(n), outcome="ok")
        own.close()

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    report = verify_chain(catalog.engine)
    assert (report.intact, report.entries) == (True, 60)
