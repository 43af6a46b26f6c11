"""Reading leaves a trail: each search, thread, view and export is entered in the hash-chained
audit log with who read, what was asked and how many hits it had, and the chain still verifies."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import orjson
import yaml
from click.testing import CliRunner

from archiver.cli import cli
from archiver.config import Config
from archiver.pipeline import index, open_catalog
from tests.conftest import _WRITTEN
from tests.search.conftest import backend_config
from tests.users import add_users


def test_search_show_and_export_are_audited_with_who_what_and_hits(archive: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(archive, data_dir, ignore=shutil.ignore_patterns("search"))
    _WRITTEN.append(data_dir)
    config: Config = backend_config(data_dir, "fts5")
    index(config)
    config_file = tmp_path / "sangrah.yaml"
    config_file.write_text(yaml.safe_dump({"data_dir": str(data_dir), "operator": "test-records-cell"}))
    runner = CliRunner()
    base = ["--config", str(config_file)]
    add_users(config, auditor="auditor")
    catalog = open_catalog(config)
    try:
        before = len(catalog.audit_entries())
    finally:
        catalog.close()

    found = runner.invoke(cli, [*base, "search", "baarish", "--filter", "platform=x", "--size", "3", "--json"], obj={}, env={"SANGRAH_USER": "cpio.sharma"})
    assert found.exit_code == 0, found.output
    page = orjson.loads(found.stdout)
    ids = [h["record_id"] for h in page["hits"]]
    assert len(ids) == 3 and page["total"] > 3
    thread = runner.invoke(cli, [*base, "search", "--thread", ids[0], "--json", "--user", "apio.rao"], obj={})
    assert thread.exit_code == 0, thread.output
    in_thread = [h["record_id"] for h in orjson.loads(thread.stdout)["hits"]]
    out = tmp_path / "one.warc"
    shown = runner.invoke(cli, [*base, "show", ids[0], "--warc", str(out), "--user", "cpio.sharma"], obj={})
    assert shown.exit_code == 0, shown.output
    nothing = runner.invoke(cli, [*base, "search", "zzqqxx", "--user", "cpio.sharma"], obj={})
    assert nothing.exit_code == 0, nothing.output

    catalog = open_catalog(config)
    try:
        entries = catalog.audit_entries()[before:]
    finally:
        catalog.close()
    assert [(e["actor"], e["action"], e["target"]) for e in entries] == [
        ("cpio.sharma", "search", "baarish"),
        ("apio.rao", "view", ids[0]),
        ("cpio.sharma", "view", ids[0]),
        ("cpio.sharma", "export", ids[0]),
        ("cpio.sharma", "search", "zzqqxx"),
    ]
    searched = entries[0]["details"]
    assert searched == {
        "query": "baarish", "filters": ["platform=x"], "sort": "relevance", "size": 3, "cursor": None, "facets": False,
        "total": page["total"], "total_exact": True, "hits": 3, "records": ids,
    }  # fmt: skip
    assert entries[1]["details"] == {"thread": True, "hits": len(in_thread), "records": in_thread}
    viewed, exported = entries[2]["details"], entries[3]["details"]
    raw = out.read_bytes()
    assert (viewed["warc_file"], viewed["offset"], viewed["length"], viewed["hits"]) == (page["hits"][0]["pointer"]["warc_file"], page["hits"][0]["pointer"]["offset"], len(raw), 1)
    assert (exported["to"], exported["bytes"], exported["sha256"]) == (str(out), len(raw), hashlib.sha256(raw).hexdigest())
    assert (entries[4]["details"]["hits"], entries[4]["details"]["total"]) == (0, 0)
    assert all(e["outcome"] == "ok" for e in entries)

    verified = runner.invoke(cli, [*base, "audit", "verify", "--json", "--user", "auditor"], obj={})
    assert verified.exit_code == 0, verified.output
    assert orjson.loads(verified.stdout)["intact"] is True
