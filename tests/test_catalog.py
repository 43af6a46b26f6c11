"""The catalog on real SQLite and PostgreSQL databases: migrations, accounts, manifest with
cursors, the audit log, locks, and what a step sees when the database goes away.

Every test here runs twice, once per database (the ``catalog_url`` fixture): a fresh SQLite file,
then a database of its own on the PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from archiver.catalog import _MIGRATIONS, SCHEMA_HEAD, Catalog
from archiver.errors import CatalogError


@pytest.fixture
def catalog(catalog_url: str) -> Iterator[Catalog]:
    cat = Catalog(catalog_url)
    cat.migrate()
    yield cat
    cat.close()


def test_migrate_twice_is_harmless(catalog: Catalog) -> None:
    catalog.migrate()
    assert catalog.list_accounts() == []


def test_the_schema_head_is_the_newest_migration() -> None:
    from alembic.script import ScriptDirectory

    assert ScriptDirectory(str(_MIGRATIONS)).get_heads() == [SCHEMA_HEAD]


def test_a_catalog_at_the_newest_migration_is_left_as_it_is(catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    from alembic import command

    upgrades: list[str] = []
    monkeypatch.setattr(command, "upgrade", lambda _config, revision: upgrades.append(revision))
    catalog.migrate()
    assert upgrades == []
    with catalog.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0006_holdsync'"))
    catalog.migrate()  # one migration behind: they run
    assert upgrades == ["head"]


def test_account_registered_once_unless_replaced(catalog: Catalog) -> None:
    catalog.add_account(platform="x", native_id="1234", handle="dept")
    with pytest.raises(CatalogError, match="already registered. Use --replace"):
        catalog.add_account(platform="x", native_id="1234")
    row = catalog.add_account(platform="x", native_id="1234", handle="dept_new", replace=True)
    assert row.key == "x:1234"
    assert row.handle == "dept_new"
    assert row.added_at.tzinfo is not None
    assert [a.key for a in catalog.list_accounts()] == ["x:1234"]


def test_manifest_row_and_cursor_move_together(catalog: Catalog) -> None:
    catalog.add_account(platform="x", native_id="1")
    at = datetime(2026, 11, 25, 6, 30, tzinfo=timezone.utc)
    catalog.record_warc(
        name="a.warc.gz", store_key="warcs/a.warc.gz", size_bytes=10, sha256="0" * 64, record_count=3,
        first_at=at, last_at=at, harvest_id="h1", cursor_updates={("x:1", "timeline"): {"newest_at": "2026-11-24T00:00:00+00:00"}},
    )
    assert catalog.get_warc("a.warc.gz").status == "pending"  # type: ignore[union-attr]
    assert catalog.get_cursor("x:1", "timeline") == {"newest_at": "2026-11-24T00:00:00+00:00"}
    catalog.mark_published("a.warc.gz")
    row = catalog.get_warc("a.warc.gz")
    assert row is not None and row.status == "published" and row.first_at == at


def test_a_duplicate_manifest_entry_moves_no_cursor(catalog: Catalog) -> None:
    catalog.add_account(platform="x", native_id="1")
    kwargs = dict(name="a.warc.gz", store_key="warcs/a.warc.gz", size_bytes=10, sha256="0" * 64, record_count=3, first_at=None, last_at=None, harvest_id="h1")
    catalog.record_warc(**kwargs)  # type: ignore[arg-type]
    with pytest.raises(CatalogError, match="already lists a WARC named a.warc.gz"):
        catalog.record_warc(**kwargs, cursor_updates={("x:1", "timeline"): {"newest_at": "x"}})  # type: ignore[arg-type]
    assert catalog.get_cursor("x:1", "timeline") is None  # the transaction rolled back as a whole


def test_cursor_none_removes_it(catalog: Catalog) -> None:
    catalog.add_account(platform="x", native_id="1")
    catalog.write_cursors({("x:1", "_walk"): {"stack": []}}, "h1")
    catalog.write_cursors({("x:1", "_walk"): None}, "h2")
    assert catalog.cursors_for("x:1") == {}


def test_audit_log_is_append_only(catalog: Catalog) -> None:
    catalog.audit(actor="records-cell", action="harvest_start", target="h1", outcome="ok", details={"accounts": ["x:1"]})
    (entry,) = catalog.audit_entries()
    assert entry["actor"] == "records-cell" and entry["details"] == {"accounts": ["x:1"]}
    # the database's own trigger refuses, whoever asks: SQLite's RAISE(ABORT) and PostgreSQL's
    # plpgsql RAISE EXCEPTION arrive as the driver's errors, not as a catalog failure
    for statement in ("UPDATE audit_log SET outcome = 'changed'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="the audit log is append-only"), catalog.engine.begin() as conn:
            conn.exec_driver_sql(statement)
    (after,) = catalog.audit_entries()
    assert after["outcome"] == "ok" and after["actor"] == "records-cell"


def test_unopenable_catalog_url_is_a_named_error() -> None:
    with pytest.raises(CatalogError, match="Check catalog_url"):
        Catalog("nosuchdialect://user:pw@host/db")


def test_exclusive_lock_makes_a_second_holder_wait(catalog: Catalog, catalog_url: str) -> None:
    import threading
    import time

    other = Catalog(catalog_url)
    events: list[str] = []
    try:
        with catalog.exclusive("tables"):
            def second() -> None:
                with other.exclusive("tables"):
                    events.append("second holds")

            thread = threading.Thread(target=second)
            thread.start()
            time.sleep(0.3)
            events.append("first releases")
        thread.join(timeout=10)
        with other.exclusive("another"), catalog.exclusive("another-still"):
            events.append("distinct names do not wait")
    finally:
        other.close()
    assert events == ["first releases", "second holds", "distinct names do not wait"]


def test_warcs_of_accounts_are_those_of_their_harvests_and_imports(catalog: Catalog) -> None:
    for native_id in ("1", "2"):
        catalog.add_account(platform="x", native_id=native_id)
    end = datetime(2026, 11, 25, tzinfo=timezone.utc)
    for harvest_id, account in (("h1", "x:1"), ("h2", "x:2"), ("h3", "x:1"), ("h3", "x:2")):
        catalog.record_coverage(harvest_id=harvest_id, account_key=account, endpoint="*", window_start=None, window_end=end, statement={})
    for name, harvest_id in (("a.warc.gz", "h1"), ("b.warc.gz", "h2"), ("c.warc.gz", "h3"), ("d.warc.gz", "import-1")):
        catalog.record_warc(name=name, store_key=f"warcs/{name}", size_bytes=1, sha256="0" * 64, record_count=1, first_at=None, last_at=None, harvest_id=harvest_id)
    catalog.audit(actor="cell", action="import_export", target="x:2", outcome="ok", details={"warc_files": ["d.warc.gz"]})
    assert catalog.warcs_of_accounts(["x:1"]) == {"a.warc.gz", "c.warc.gz"}
    assert catalog.warcs_of_accounts(["x:2"]) == {"b.warc.gz", "c.warc.gz", "d.warc.gz"}
    assert catalog.warcs_of_accounts(["x:3"]) == set()
