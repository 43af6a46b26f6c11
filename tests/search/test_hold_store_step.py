"""Holds changed through the catalog's own functions (as the RTI register does) wait for the store
step, which ``verify`` names and ``sync_legal_holds`` applies; new captures of held records are
held at the next index; the hold types of R11 and the roles that may release each."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from archiver.catalog.annotations import HOLD_TYPE_RULES, HOLD_TYPES, RELEASE_ROLES, add_to_hold, hold_type_of, place_hold, release_hold
from archiver.config import Config, load_config
from archiver.errors import AccessDenied, CatalogError
from archiver.pipeline import HoldChange, extract, harvest, index, open_catalog, sync_legal_holds, verify
from archiver.pipeline import place_hold as pipeline_place_hold
from archiver.pipeline.legal_holds import warcs_of_records
from archiver.samples.server import SampleServer
from archiver.storage import LocalStore
from tests.conftest import _WRITTEN, register_samples
from tests.users import add_users


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
    add_users(config, dro="records_officer", cpio="pio")
    catalog = open_catalog(config)
    try:
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


def test_new_captures_of_held_records_are_held_at_the_next_index(config: Config, sample_server: SampleServer) -> None:
    """A later harvest captures new versions of held records into new WARC files (edits, replies
    that changed): ``sangrah index`` puts those files under legal hold too."""
    register_samples(config, sample_server, ("x", "mastodon"))
    assert harvest(config).status == "succeeded"
    extract(config)
    index(config)
    first = {name for name, _ in _pairs(config)}
    held = sorted({record for _, record in _pairs(config)})
    change = place_hold_of(config, held)
    assert change.legal.set_on == sorted(first)
    for epoch in (1, 2, 3):
        sample_server.set_epoch(epoch)
        assert harvest(config).status == "succeeded"
        extract(config)
    index(config)
    pairs = _pairs(config)
    wanted = {name for name, record in pairs if record in set(held)}
    assert wanted - first, "the sample world re-captures some held records in later files"
    assert {name for name, _ in pairs} - wanted, "and some later files hold only new records"
    store = LocalStore(config.store_dir)
    assert {name for name, _ in pairs if store.retention(f"warcs/{name}").legal_hold} == wanted
    assert verify(config).ok


def _pairs(config: Config) -> set[tuple[str, str]]:
    """(WARC file, record id) of every version in the dataset, read by DuckDB."""
    import duckdb

    glob = f"{config.records_dir}/**/*.parquet"
    return {(str(w), str(r)) for w, r in duckdb.connect().execute(f"SELECT warc_file, record_id FROM read_parquet('{glob}', hive_partitioning = true)").fetchall()}


def place_hold_of(config: Config, record_ids: list[str]) -> HoldChange:
    return pipeline_place_hold(config, hold_type="APPRAISAL_PENDING", reference="APPR/2026/3", reason="appraisal of the first year's posts", record_ids=record_ids)
