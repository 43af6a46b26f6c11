"""The governed path on the local store, through the pipeline and the command line: a held file
is refused, a deletion is audited either way, and the manifest keeps the file, marked deleted."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from archiver.cli import cli
from archiver.config import Config
from archiver.errors import ObjectLocked, ObjectMissing, StoreError
from archiver.pipeline import delete_warc, harvest, open_catalog, open_store, storage_status, verify
from archiver.samples.server import SampleServer
from archiver.storage import LocalStore
from tests.conftest import add_records_officer, register_samples


def test_local_store_holds_downloads_and_audited_deletes(tmp_path: Path) -> None:
    entries: list[dict[str, object]] = []
    store = LocalStore(tmp_path / "store", audit=lambda **entry: entries.append(entry))
    source = tmp_path / "a.warc.gz"
    source.write_bytes(b"evidence" * 1000)
    sha = hashlib.sha256(source.read_bytes()).hexdigest()
    store.put_file(source, "warcs/a.warc.gz", sha256=sha)
    store.set_legal_hold("warcs/a.warc.gz", True)
    assert store.retention("warcs/a.warc.gz").legal_hold is True
    assert list(store.iter_keys()) == ["warcs/a.warc.gz"]  # the hold marker is not a key
    with pytest.raises(ObjectLocked, match="is under legal hold"):
        store.delete("warcs/a.warc.gz", actor="officer", reason="r1")
    store.download("warcs/a.warc.gz", tmp_path / "copy", sha256=sha)
    assert (tmp_path / "copy").read_bytes() == source.read_bytes()
    with pytest.raises(StoreError, match="hashes to .* not 0000"):
        store.download("warcs/a.warc.gz", tmp_path / "bad", sha256="0" * 64)
    assert not (tmp_path / "bad").exists()
    assert store.extend_retention("warcs/a.warc.gz", datetime(2040, 1, 1, tzinfo=timezone.utc)) is False  # a directory has no retention
    store.set_legal_hold("warcs/a.warc.gz", False)
    store.delete("warcs/a.warc.gz", actor="officer", reason="r2")
    assert not store.exists("warcs/a.warc.gz")
    with pytest.raises(ObjectMissing):
        store.delete("warcs/a.warc.gz", actor="officer", reason="r3")
    assert [(e["outcome"], e["details"]["reason"]) for e in entries] == [("refused", "r1"), ("ok", "r2"), ("missing", "r3")]  # type: ignore[index]


def test_delete_warc_goes_through_the_store_and_keeps_the_manifest_row(config: Config, sample_server: SampleServer, tmp_path: Path) -> None:
    register_samples(config, sample_server, ("facebook",))
    (warc,) = harvest(config).published
    store = open_store(config)
    store.set_legal_hold(f"warcs/{warc.name}", True)
    add_records_officer(config)
    runner = CliRunner()
    command = ["storage", "delete", warc.name, "--reason", "disposal order 1/2040", "--data-dir", str(config.data_dir)]
    denied = runner.invoke(cli, [*command, "--user", "admin"])
    assert denied.exit_code == 1
    assert "storage delete needs the role records_officer; 'admin' holds administrator" in denied.stderr
    refused = runner.invoke(cli, [*command, "--user", "dro"])
    assert refused.exit_code == 1
    assert f"warcs/{warc.name} is under legal hold" in refused.stderr
    (name, lock) = storage_status(config)[0]
    assert name == warc.name and not isinstance(lock, StoreError) and lock.legal_hold
    store.set_legal_hold(f"warcs/{warc.name}", False)
    with pytest.raises(Exception, match="a deletion needs a reason"):
        delete_warc(config, warc.name, actor="officer", reason=" ")
    delete_warc(config, warc.name, actor="officer", reason="disposal order 1/2040")
    assert not (config.store_dir / "warcs" / warc.name).exists()
    catalog = open_catalog(config)
    try:
        assert catalog.get_warc(warc.name).status == "deleted"  # type: ignore[union-attr]
        assert [(e["actor"], e["outcome"]) for e in catalog.audit_entries(action="storage_delete")] == [("admin", "refused")]  # no role
        assert [(e["actor"], e["outcome"]) for e in catalog.audit_entries(action="delete_object")] == [("dro", "refused"), ("officer", "ok")]
    finally:
        catalog.close()
    report = verify(config)
    assert report.ok and report.checked == 0  # a governed deletion is not a missing file
