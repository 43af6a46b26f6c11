"""Indexing: idempotent by version id, rebuilt from the dataset alone, incremental as the archive
grows, with edits (one current version per record) and deletions carried into every backend."""

from __future__ import annotations

import importlib
import multiprocessing
import sqlite3
from pathlib import Path
from typing import Any

import orjson
import pytest
import pyarrow.dataset as ds
from click.testing import CliRunner

from archiver.cli import cli
from archiver.config import Config
from archiver.errors import SearchError
from archiver.pipeline import extract, harvest, index, rebuild_index, search
from archiver.samples.server import SampleServer
from archiver.samples.world import World
from archiver.search.query import SearchRequest, parse_filters
from tests.conftest import register_samples


def _all(config: Config, filters: list[str]) -> list[str]:
    request = SearchRequest(filters=parse_filters(filters), sort="oldest", size=500)
    ids: list[str] = []
    while True:
        result = search(config, request)
        ids.extend(h.version_id for h in result.hits)
        if result.next_cursor is None:
            return ids
        request = request.with_cursor(result.next_cursor)


def test_indexing_again_changes_nothing_and_a_rebuild_gives_the_same_index(own_archive: Config) -> None:
    before = sorted(_all(own_archive, []))
    again = index(own_archive)
    assert (again.files, again.documents) == (0, 0)
    assert sorted(_all(own_archive, [])) == before
    rebuilt = rebuild_index(own_archive)
    assert rebuilt.total_documents == again.total_documents and rebuilt.documents == rebuilt.total_documents
    assert sorted(_all(own_archive, [])) == before


def test_the_cli_indexes_and_reports_in_json(own_archive: Config) -> None:
    import yaml

    config_file = own_archive.data_dir / "sangrah.yaml"
    config_file.write_text(yaml.safe_dump({"search": own_archive.search.model_dump(mode="json", exclude_none=True)}))
    result = CliRunner().invoke(cli, ["--config", str(config_file), "index", "--json", "--data-dir", str(own_archive.data_dir)], obj={})
    assert result.exit_code == 0, result.output
    report = orjson.loads(result.stdout)
    assert (report["backend"], report["documents"], report["files"]) == (own_archive.search.backend, 0, 0)
    assert report["total_documents"] > 500


def test_a_later_night_adds_versions_and_deletions_to_the_index(own_archive: Config) -> None:
    config = own_archive
    with SampleServer(World(seed=23, posts_per_account=30, epoch=2)) as server:
        register_samples(config, server)
        assert harvest(config).status == "succeeded"
    assert not extract(config).problems
    report = index(config)
    assert report.documents > 0
    rows = ds.dataset(config.records_dir, format="parquet", partitioning="hive").to_table(columns=["record_id", "version_id", "captured_at", "deleted_on_platform"]).to_pylist()
    by_record: dict[str, list[dict[str, object]]] = {}
    for row in rows:
        by_record.setdefault(str(row["record_id"]), []).append(row)
    edited = {rid for rid, versions in by_record.items() if sum(not v["deleted_on_platform"] for v in versions) > 1}
    deleted = {rid for rid, versions in by_record.items() if max(versions, key=lambda v: v["captured_at"])["deleted_on_platform"]}  # type: ignore[arg-type,return-value]
    assert edited and deleted
    latest_content: set[str] = set()
    for versions in by_record.values():
        content = [v for v in versions if not v["deleted_on_platform"]]
        if content:
            latest_content.add(str(max(content, key=lambda v: v["captured_at"])["version_id"]))  # type: ignore[arg-type,return-value]
    current = _all(config, [])
    assert sorted(current) == sorted(latest_content)  # one current version per record: its latest capture
    every = _all(config, ["versions=all"])
    assert len(every) == sum(1 for r in rows if not r["deleted_on_platform"])
    hits = {h.record_id for h in search(config, SearchRequest(filters=parse_filters(["deleted=yes"]), size=500)).hits}
    assert hits == {rid for rid in deleted if any(not v["deleted_on_platform"] for v in by_record[rid])}


pipeline_search = importlib.import_module("archiver.pipeline.search")  # the package exports a function of that name


def _fts5_config(archive: Path, name: str) -> Config:
    from archiver.config import load_config

    return load_config(None, overrides={"data_dir": str(archive), "operator": "test-records-cell", "search": {"backend": "fts5", "batch_rows": 200, "fts5_path": str(archive / "search" / name)}})


def _rows(config: Config) -> list[tuple[object, ...]]:
    db = sqlite3.connect(config.search_index_path)
    try:
        return db.execute("SELECT * FROM docs ORDER BY rowid").fetchall() + db.execute(
            "SELECT rowid FROM docs_fts WHERE docs_fts MATCH 'terms : helpline OR latn_keys : sadak OR deva_keys : barish' ORDER BY rowid"
        ).fetchall()
    finally:
        db.close()


def test_analysing_in_a_second_process_writes_the_same_index_as_in_one(archive: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    forked = _fts5_config(archive, "forked.sqlite")
    started: list[int] = []
    real = pipeline_search._from_child

    def from_child(*args: Any, **kwargs: Any) -> Any:
        started.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline_search, "_from_child", from_child)
    report = index(forked)
    assert started and report.documents > 500 and report.files > 5
    assert multiprocessing.active_children() == []
    monkeypatch.setattr(pipeline_search, "_can_fork", lambda: False)
    alone = _fts5_config(archive, "alone.sqlite")
    assert index(alone).documents == report.documents
    assert _rows(forked) == _rows(alone) and len(_rows(alone)) > report.documents


@pytest.fixture
def fts5_archive(archive: Path, tmp_path: Path) -> Config:
    """A copy of the archive (catalog included), indexed into FTS5: the backend whose analysis
    runs in a second process."""
    import shutil

    data_dir = tmp_path / "data"
    shutil.copytree(archive, data_dir, ignore=shutil.ignore_patterns("search"))
    config = _fts5_config(data_dir, "own.sqlite")
    assert index(config).documents > 500
    return config


def test_a_file_the_second_process_cannot_read_is_named(fts5_archive: Config) -> None:
    parquet = sorted(fts5_archive.records_dir.rglob("*.parquet"))
    parquet[len(parquet) // 2].write_bytes(b"not parquet")
    with pytest.raises(SearchError, match=r"cannot read .*\.parquet of the record dataset .*Regenerate the dataset with: sangrah rebuild tables"):
        rebuild_index(fts5_archive)
    assert multiprocessing.active_children() == []


def test_a_second_process_that_dies_is_reported_with_the_next_step(fts5_archive: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    monkeypatch.setattr(pipeline_search, "_analyse_in_child", lambda *args: os._exit(3))
    with pytest.raises(SearchError, match=r"stopped unexpectedly \(exit code 3\); run sangrah index again: it carries on after the files already indexed"):
        rebuild_index(fts5_archive)
    monkeypatch.undo()
    assert index(fts5_archive).documents > 500  # the next run indexes everything
