"""Holds changed through the catalog's own functions (as the RTI register does) wait for the store
step, which ``verify`` names and ``sync_legal_holds`` applies; the hold types of R11 and the
roles that may release each."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from archiver.access.users import add_user
from archiver.catalog.annotations import HOLD_TYPE_RULES, HOLD_TYPES, RELEASE_ROLES, add_to_hold, hold_type_of, place_hold, release_hold
from archiver.config import Config, load_config
from archiver.errors import AccessDenied, CatalogError
from archiver.pipeline import open_catalog, sync_legal_holds, verify
from archiver.pipeline.legal_holds import warcs_of_records
from archiver.storage import LocalStore
from tests.conftest import _WRITTEN


@pytest.fixture
def copy(archive: Path, tmp_path: Path) -> Config:
    data_dir = tmp_path / "data"
    shutil.copytree(archive, data_dir, ignore=shutil.ignore_patterns("search"))
    _WRITTEN.append(data_dir)
    return load_config(None, overrides={"data_dir": str(data_dir), "operator": "test-records-cell"})


def _some_records(config: Config, count: int) -> list[str]:
    import pyarrow.dataset as ds

    table = ds.dataset(config.records_dir, format="parquet", partitioning="hive").to_table(columns=["record_id"])
    return sorted(set(table["record_id"].to_pylist()))[:count]


def test_a_catalog_hold_waits_for_the_store_step_that_verify_names(copy: Config) -> None:
    config = copy
    records = _some_records(config, 3)
    files = warcs_of_records(config.records_dir, records)
    assert files and set().union(*files.values()) == set(records)
    store = LocalStore(config.store_dir)
    catalog = open_catalog(config)
    try:
        add_user(catalog, "admin", "admin", full_name="Archive Administrator", roles=["administrator"])
        add_user(catalog, "admin", "dro", full_name="Departmental Record Officer", roles=["records_officer"])
        add_user(catalog, "admin", "cpio", full_name="Central Public Information Officer", roles=["pio"])
        hold = place_hold(catalog, hold_type="RTI_PENDING", reference="RTI/2026/0042", reason="asked for", actor="cpio", record_ids=records[:1])
        assert add_to_hold(catalog, hold.id, records, actor="cpio") == 2
    finally:
        catalog.close()
    assert not any(store.retention(f"warcs/{name}").legal_hold for name in files)
    problems = [p for p in verify(config).problems if "legal hold" in p]
    assert problems == ["2 change(s) of hold(s) H-1 not yet applied to the store's legal holds; run: sangrah hold sync"]

    report = sync_legal_holds(config, actor="dro")
    assert (report.resolved, report.set_on, report.set_off, report.pending) == (True, sorted(files), [], [])
    assert all(store.retention(f"warcs/{name}").legal_hold for name in files)
    assert verify(config).ok
    again = sync_legal_holds(config)
    assert (again.resolved, again.set_on, again.set_off) == (False, [], [])

    catalog = open_catalog(config)
    try:
        with pytest.raises(CatalogError, match="the reason for releasing a hold is required"):
            release_hold(catalog, hold.id, actor="cpio", reason=" ")
        with pytest.raises(AccessDenied, match="hold release: 'nobody' is not a user of this archive"):
            release_hold(catalog, hold.id, actor="nobody", reason="done")
        litigation = place_hold(catalog, hold_type="litigation", reference="WP 12/2026", reason="writ", actor="dro", record_ids=records[:1])
        with pytest.raises(AccessDenied, match="a LITIGATION hold is released only by the records_officer; 'cpio' holds pio") as refused:
            release_hold(catalog, litigation.id, actor="cpio", reason="done")
        assert refused.value.roles == ["records_officer"]
        released = release_hold(catalog, hold.id, actor="cpio", reason="final order; appeal window over")
        assert (released.released_by, released.release_reason) == ("cpio", "final order; appeal window over")
        assert [e["outcome"] for e in catalog.audit_entries(action="hold_release")] == ["refused", "refused", "ok"]
    finally:
        catalog.close()
    # the litigation hold still covers the first record, so its file stays held until that ends too
    assert sync_legal_holds(config).set_off == sorted(name for name, ids in files.items() if records[0] not in ids)
    kept = {name for name, ids in files.items() if records[0] in ids}
    assert kept and {name for name in files if store.retention(f"warcs/{name}").legal_hold} == kept
    catalog = open_catalog(config)
    try:
        release_hold(catalog, litigation.id, actor="dro", reason="writ dismissed")
    finally:
        catalog.close()
    assert sync_legal_holds(config).set_off == sorted(kept)
    assert not any(store.retention(f"warcs/{name}").legal_hold for name in files)


def test_every_hold_type_of_r11_is_known_with_its_rule_and_releasing_roles() -> None:
    assert HOLD_TYPES == ("RTI_PENDING", "THIRD_PARTY_WINDOW", "LITIGATION", "AUDIT_OBJECTION", "INVESTIGATION", "APPRAISAL_PENDING", "CLASSIFIED_REVIEW")
    assert set(HOLD_TYPE_RULES) == set(RELEASE_ROLES) == set(HOLD_TYPES)
    assert {kind for kind, roles in RELEASE_ROLES.items() if "pio" in roles} == {"RTI_PENDING", "THIRD_PARTY_WINDOW"}
    assert all("records_officer" in roles for roles in RELEASE_ROLES.values())
    assert [hold_type_of(name) for name in ("INVESTIGATION/LE_PRESERVATION", "le_preservation", " audit_objection ")] == ["INVESTIGATION", "INVESTIGATION", "AUDIT_OBJECTION"]
    with pytest.raises(CatalogError, match="there is no hold type 'FOREVER'; the types are RTI_PENDING, THIRD_PARTY_WINDOW, LITIGATION"):
        hold_type_of("FOREVER")
