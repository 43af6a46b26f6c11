"""The catalog on a real SQLite database: migrations, accounts, manifest with cursors, audit log."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from archiver.catalog import Catalog
from archiver.errors import CatalogError


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    cat = Catalog(f"sqlite:///{tmp_path / 'catalog.sqlite'}")
    cat.migrate()
    return cat


def test_migrate_twice_is_harmless(catalog: Catalog) -> None:
    catalog.migrate()
    assert catalog.list_accounts() == []


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
    for statement in ("UPDATE audit_log SET outcome = 'changed'", "DELETE FROM audit_log"):
        with pytest.raises(IntegrityError, match="append-only"), catalog.engine.begin() as conn:
            conn.exec_driver_sql(statement)
    assert len(catalog.audit_entries()) == 1


def test_unopenable_catalog_url_is_a_named_error() -> None:
    with pytest.raises(CatalogError, match="Check catalog_url"):
        Catalog("nosuchdialect://user:pw@host/db")
