"""The record dataset: WARC → Parquet, one row per version, read back by DuckDB and pyarrow."""

from __future__ import annotations

import contextlib
import gc
import gzip
import importlib
import io
import re
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import psutil
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import select, update

from archiver.capture.reader import ReadRecord, iter_records, read_record
from archiver.catalog import tables as t
from archiver.cli import cli
from archiver.config import Config, load_config
from archiver.errors import ExtractionError
from archiver.model import PLATFORMS
from archiver.pipeline import extract, harvest, open_catalog, rebuild_tables
from archiver.retention import load_schedule
from archiver.samples.server import SampleServer
from archiver.samples.world import World
from archiver.pipeline.stores import WarcFiles, open_store
from archiver.tables.extract import dataset_files, extract_all
from archiver.tables.workers import Workers
from archiver.tables.schema import SCHEMA_VERSION
from tests.conftest import _SECRETS, _WRITTEN, register_samples, sample_credential_env


def _revisit_all(config: Config) -> Config:
    return config.model_copy(update={"harvest": config.harvest.model_copy(update={"revisit_days": 4000})})


def _glob(config: Config) -> str:
    return f"{config.records_dir}/**/*.parquet"


def _rows(config: Config) -> list[dict[str, Any]]:
    table = ds.dataset(config.records_dir, format="parquet", partitioning="hive").to_table()
    rows = table.drop_columns(["month"]).to_pylist()
    return sorted(rows, key=lambda r: (r["record_id"], r["captured_at"], r["version_id"]))


def _sql(query: str) -> list[tuple[Any, ...]]:
    """Rows of a DuckDB query, run by DuckDB's own Parquet reader."""
    return duckdb.connect().execute(query).fetchall()


def _truth(world: World, platform: str) -> set[str]:
    return {f"{platform}:{i}" for i in importlib.import_module(f"archiver.samples.{platform}").ground_truth(world)}


def test_every_captured_record_has_a_row_readable_by_duckdb_and_pyarrow(config: Config, sample_server: SampleServer) -> None:
    register_samples(config, sample_server)
    harvest(config)
    report = extract(config)
    assert not report.problems
    for platform in PLATFORMS:
        ids = {r[0] for r in _sql(f"SELECT record_id FROM read_parquet('{_glob(config)}', hive_partitioning = true) WHERE platform = '{platform}'")}
        assert _truth(sample_server.world, platform) <= ids, platform
        assert report.platforms[platform].new_versions == len(ids)  # a first capture: one version each
    dataset = ds.dataset(config.records_dir, format="parquet", partitioning="hive")
    assert {f.name for f in dataset.partitioning.schema} == {"platform", "account", "month"}
    hindi = dataset.to_table(filter=ds.field("language") == "hi", columns=["text"]).column("text").to_pylist()
    assert hindi and any("\u0900" <= ch <= "\u097f" for ch in hindi[0])
    assert _sql(f"SELECT count(*) FROM read_parquet('{_glob(config)}') WHERE warc_file IS NULL OR warc_offset IS NULL") == [(0,)]
    row = _rows(config)[0]
    assert row["schema_version"] == 2 and row["captured_at"].tzinfo is not None


def test_every_row_points_at_its_capture(config: Config, sample_server: SampleServer) -> None:
    register_samples(config, sample_server, ("youtube",))
    harvest(config)
    extract(config)
    for row in _rows(config)[:20]:
        record = read_record(config.store_dir / "warcs" / row["warc_file"], row["warc_offset"], row["warc_length"])
        assert record.record_id == row["warc_record_id"]
        assert record.rec_type == "response"


def test_extracting_twice_gives_the_same_dataset(config: Config, sample_server: SampleServer) -> None:
    register_samples(config, sample_server, ("x", "facebook"))
    harvest(config)
    extract(config)
    before = {p: p.read_bytes() for p in dataset_files(config.records_dir)}
    again = extract(config)
    assert again.rows == 0 and again.warc_files == 0
    assert {p: p.read_bytes() for p in dataset_files(config.records_dir)} == before


def test_later_nights_add_versions_and_deletions_beside_earlier_copies(config: Config, sample_server: SampleServer) -> None:
    config = _revisit_all(config)
    register_samples(config, sample_server)
    first_world = sample_server.world
    harvest(config)
    extract(config)
    sample_server.set_epoch(1)
    harvest(config)
    report = extract(config)
    rows = _rows(config)
    for platform in PLATFORMS:
        gone = _truth(first_world, platform) - _truth(sample_server.world, platform)
        deleted = {r["record_id"] for r in rows if r["deleted_on_platform"] and r["platform"] == platform}
        assert deleted == gone, platform
        assert report.platforms[platform].deletions == len(gone)
        for record_id in gone:  # the earlier copy stays beside the deletion row
            assert any(r["record_id"] == record_id and not r["deleted_on_platform"] and r["text"] for r in rows)
    # a post seen again unchanged is not a new row; one edited on the platform is
    versions: dict[str, set[str]] = {}
    for r in rows:
        versions.setdefault(r["record_id"], set()).add(r["version_id"])
    assert sum(1 for v in versions.values() if len(v) > 1) > 0
    assert sum(1 for v in versions.values() if len(v) == 1) > len(versions) * 0.8


def test_rebuild_equals_the_incremental_dataset(config: Config, sample_server: SampleServer) -> None:
    config = _revisit_all(config)
    register_samples(config, sample_server, ("mastodon", "bluesky", "youtube"))
    harvest(config)
    extract(config)
    sample_server.set_epoch(1)
    harvest(config)
    extract(config)
    incremental = _rows(config)
    result = CliRunner().invoke(cli, ["rebuild", "tables", "--data-dir", str(config.data_dir), "--json"], obj={})
    assert result.exit_code == 0, result.output
    rebuilt = _rows(config)
    assert len(rebuilt) == len(incremental)
    assert rebuilt == incremental


#: records of each kind extraction reads: pages it parses, and records it passes over unparsed
_DAMAGED: dict[str, Callable[[ReadRecord], bool]] = {
    "page": lambda r: r.rec_type == "response" and r.header("X-Sangrah-Endpoint") not in (None, "_media"),
    "request": lambda r: r.rec_type == "request",
    "media file": lambda r: r.rec_type == "response" and r.header("X-Sangrah-Endpoint") == "_media",
    "media link": lambda r: r.rec_type == "metadata" and (r.target_uri or "").startswith("urn:sangrah:media-of:"),
}


def _flip_inside_a_response(warc: Path) -> int:
    record = next(r for r in iter_records(warc) if _DAMAGED["page"](r))
    data = bytearray(warc.read_bytes())
    data[record.pointer.offset + record.pointer.length // 2] ^= 0x55
    warc.write_bytes(bytes(data))
    return record.pointer.offset


def _damage(warc: Path, kind: str) -> int:
    """A page's gzip member rotted on disk, or another record's block edited and compressed again
    (a whole, readable member whose digest no longer matches); the offset of the record."""
    if kind == "page":
        return _flip_inside_a_response(warc)
    p = next(r for r in iter_records(warc) if _DAMAGED[kind](r)).pointer
    data = warc.read_bytes()
    raw = bytearray(gzip.decompress(data[p.offset : p.offset + p.length]))
    raw[-5] ^= 0x01  # the block's last byte
    warc.write_bytes(data[: p.offset] + gzip.compress(bytes(raw)) + data[p.offset + p.length :])
    return p.offset


@pytest.mark.parametrize("kind", list(_DAMAGED))
def test_a_damaged_record_is_named_and_the_rest_extracted(config: Config, sample_server: SampleServer, data_dir: Path, kind: str) -> None:
    register_samples(config, sample_server, ("mastodon", "x"))
    harvest(config)
    warc = sorted((config.store_dir / "warcs").glob("*.warc.gz"))[0]
    offset = _damage(warc, kind)
    result = CliRunner().invoke(cli, ["extract", "--data-dir", str(data_dir)], obj={})
    assert result.exit_code == 1
    assert f"problem: {warc.name} at offset {offset}: " in result.stderr
    assert "1 record(s) could not be extracted; they are listed above and kept in the catalog for follow-up." in result.stderr
    ids = {r["record_id"] for r in _rows(config)}
    assert len(ids) > 100  # everything else in the file was extracted


def test_a_page_of_unknown_shape_is_quarantined_with_its_pointer(config: Config, sample_server: SampleServer) -> None:
    register_samples(config, sample_server, ("mastodon",))
    sample_server.inject("malformed", platform="mastodon", path_pattern=r"/context", count=1)
    harvest(config)
    report = extract(config)
    (problem,) = report.problems
    assert problem.platform == "mastodon" and problem.endpoint == "context"
    assert problem.message.startswith("mastodon context /mastodon/api/v1/statuses/")
    assert "malformed or truncated JSON" in problem.message
    assert report.rows > 0


def test_killed_extraction_resumes_without_loss_or_duplicates(tmp_path: Path) -> None:
    _WRITTEN.append(tmp_path)
    config_path = tmp_path / "sangrah.yaml"
    config_path.write_text(yaml.safe_dump({"data_dir": str(tmp_path / "data"), "tables": {"chunk_rows": 25}}))
    config = load_config(config_path)
    with SampleServer(World(seed=4, posts_per_account=60)) as server:
        register_samples(config, server)
        _SECRETS.update(server.world.token(p) for p in PLATFORMS)
        harvest(config)
    env = {**os.environ, **{sample_credential_env(p): "unused" for p in PLATFORMS}}
    kills = 0
    for _ in range(3):
        process = subprocess.Popen([sys.executable, "-m", "archiver.cli", "--config", str(config_path), "-q", "extract"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        seen = len(dataset_files(config.records_dir)) if config.records_dir.exists() else 0
        deadline = time.monotonic() + 60
        while process.poll() is None and time.monotonic() < deadline:
            if config.records_dir.exists() and len(dataset_files(config.records_dir)) > seen + 3:
                process.send_signal(signal.SIGKILL)
                kills += 1
                break
            time.sleep(0.002)
        process.wait(timeout=30)
        # whatever is visible is whole: every Parquet file a reader can see opens and matches the schema
        for path in dataset_files(config.records_dir):
            assert ds.dataset(path, format="parquet").count_rows() > 0
    assert kills >= 1
    final = extract(config)
    assert not final.problems
    resumed = _rows(config)
    rebuild_tables(config)
    assert resumed == _rows(config)
    assert len({(r["record_id"], r["version_id"]) for r in resumed}) == len(resumed)
    assert not list(config.records_dir.rglob("*.part"))


def _tables(config: Config, **settings: int) -> Config:
    return config.model_copy(update={"tables": config.tables.model_copy(update=settings)})


def _catalog_rows(config: Config, query: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(config.data_dir / "catalog.sqlite") as db:
        return sorted(db.execute(query))


def test_worker_processes_give_the_dataset_of_one_process_byte_for_byte(config: Config, sample_server: SampleServer, tmp_path: Path) -> None:
    config = _revisit_all(config)
    register_samples(config, sample_server)
    harvest(config)
    sample_server.set_epoch(1)
    harvest(config)  # a second WARC file: new versions and deletions
    copy = tmp_path / "copy"
    shutil.copytree(config.data_dir, copy)
    _WRITTEN.append(copy)
    # small chunks: many chunk ends, some between a page and the media stored after it
    one = _tables(config, chunk_rows=150, workers=0)
    many = _tables(config.model_copy(update={"data_dir": copy}), chunk_rows=150, workers=2)
    serial, parallel = extract(one), extract(many)
    assert serial.warc_files == parallel.warc_files == 2 and not serial.problems and not parallel.problems
    assert {k: (v.records, v.new_versions, v.deletions) for k, v in parallel.platforms.items()} == {k: (v.records, v.new_versions, v.deletions) for k, v in serial.platforms.items()}
    assert sum(v.deletions for v in parallel.platforms.values()) > 0
    files = {p.relative_to(one.records_dir): p.read_bytes() for p in dataset_files(one.records_dir)}
    assert len(files) > 10 and {p.relative_to(many.records_dir): p.read_bytes() for p in dataset_files(many.records_dir)} == files
    for query in ("SELECT * FROM record_versions", "SELECT warc_file, offset_done, complete, rows, problems FROM extractions", "SELECT path, rows, sha256 FROM parquet_files"):
        assert _catalog_rows(many, query) == _catalog_rows(one, query)
    # every image points at the response that stored it, wherever in the file that is
    images = [m for r in _rows(many) for m in r["media"] if m["kind"] == "image"]
    assert len(images) > 20 and all(m["warc_offset"] is not None for m in images)
    for media in images[::7]:
        record = read_record(many.store_dir / "warcs" / media["warc_file"], media["warc_offset"], media["warc_length"])
        assert (record.target_uri, record.record_id, record.header("X-Sangrah-Endpoint")) == (media["url"], media["warc_record_id"], "_media")


def test_a_worker_writing_a_media_index_takes_no_page_until_it_is_done(tmp_path: Path) -> None:
    """A media index is a pass over a whole WARC file, seconds long: a page queued behind it on
    the same worker would hold up the extraction, which takes the pages' rows in order."""
    arriving = tmp_path / "arriving.warc.gz"
    os.mkfifo(arriving)  # the pass waits here until the test lets it end
    with Workers(2, load_schedule()) as workers:
        indexing = workers.write_media_index(arriving, tmp_path / "media.sqlite")
        try:
            pages = [workers.parse([], "harvest") for _ in range(6)]
            for page in pages:
                assert page.result(timeout=30).record_ids == []
            assert not indexing.done()
        finally:
            with open(arriving, "wb"):
                pass  # the pass goes on, and ends: a pipe is no WARC file it can read
        assert isinstance(indexing.exception(timeout=30), io.UnsupportedOperation)


def test_the_next_files_media_index_is_written_while_a_file_is_read(config: Config, sample_server: SampleServer) -> None:
    config = _revisit_all(_tables(config, chunk_rows=150, workers=2))
    register_samples(config, sample_server)
    harvest(config)
    sample_server.set_epoch(1)
    harvest(config)
    catalog = open_catalog(config)
    store = open_store(config)
    names = [w.name for w in catalog.iter_warcs(status="published")]
    events: list[tuple[str, str]] = []

    def local_path(key: str) -> Path | None:
        events.append(("read ahead", key.rsplit("/", 1)[-1]))
        return store.local_path(key)

    def progress(name: str, _rows: int, report: Any) -> None:
        if report.warc_files and ("finished", names[report.warc_files - 1]) not in events:
            events.append(("finished", names[report.warc_files - 1]))

    try:
        with WarcFiles(store, catalog, config.cache_dir) as files:
            report = extract_all(catalog, files.path, config.records_dir, load_schedule(config.retention_schedule), chunk_rows=150, workers=2, progress=progress, local_path=local_path)
    finally:
        catalog.close()
    assert len(names) == 2 and report.warc_files == 2 and not report.problems
    assert events == [("read ahead", names[1]), ("finished", names[0]), ("finished", names[1])]
    # the second file's rows have their media pointers all the same
    images = [m for r in _rows(config) if r["warc_file"] == names[1] for m in r["media"] if m["kind"] == "image"]
    assert images and all(m["warc_file"] == names[1] and m["warc_offset"] is not None for m in images)


def _extract_counting_garbage(config: Config) -> tuple[Any, list[str]]:
    """Extract with the garbage collector off; the report, and the types of the objects that
    were then left in reference cycles (which only a collection frees)."""
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        report = extract(config)
        gc.collect()
        return report, [type(o).__module__ + "." + type(o).__qualname__ for o in gc.garbage]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


def test_extraction_leaves_no_garbage_that_grows_with_the_rows(config: Config, sample_server: SampleServer, tmp_path: Path) -> None:
    """What an extraction drops must be freed at once, by reference counting. Objects in reference
    cycles wait for a full collection, which during an extraction comes only every few hundred
    thousand rows: whatever they hold piles up meanwhile, and the extracting process's memory grew
    with the size of the WARC file (each catalog look-up left the record ids it looked up so)."""
    register_samples(config, sample_server)
    harvest(config)
    copies = []
    for name in ("warm", "one-chunk", "small-chunks"):
        copies.append(tmp_path / name)
        shutil.copytree(config.data_dir, copies[-1])
        _WRITTEN.append(copies[-1])
    warm, one, small = (_tables(config.model_copy(update={"data_dir": copy}), chunk_rows=rows, workers=0) for copy, rows in zip(copies, (100_000, 100_000, 50)))
    extract(warm)  # first, what is imported and built once per process
    once, left_once = _extract_counting_garbage(one)
    chunked, left_chunked = _extract_counting_garbage(small)
    assert once.rows == chunked.rows > 500 and chunked.parquet_files > 80 > once.parquet_files
    # the same few objects (the run's own set-up) whether 581 rows make one chunk or a hundred, with
    # a catalog look-up and write for each
    assert len(left_chunked) - len(left_once) < 20, Counter(left_chunked).most_common(10)
    assert not [name for name in left_chunked if name.startswith("sqlalchemy.sql.elements")], Counter(left_chunked).most_common(10)


def test_a_killed_worker_process_stops_the_extraction_with_its_place_and_the_next_run_resumes(tmp_path: Path) -> None:
    _WRITTEN.append(tmp_path)
    config = load_config(None, overrides={"data_dir": str(tmp_path / "data"), "tables": {"chunk_rows": 100, "workers": 2}})
    # enough pages for more tasks than are sent ahead: some are still to be sent when a worker dies
    with SampleServer(World(seed=5, posts_per_account=400)) as server:
        register_samples(config, server)
        harvest(config)
    killed: list[int] = []

    def kill_a_worker(where: str, rows: int, _report: Any) -> None:
        if not killed:
            worker = next(p for p in psutil.Process().children() if "archiver.tables.parse_worker" in p.cmdline())
            worker.kill()
            killed.append(worker.pid)
            # not ``worker.wait()``: that would reap it, and the extraction could not tell how it ended
            deadline = time.monotonic() + 10
            with contextlib.suppress(psutil.NoSuchProcess):
                while time.monotonic() < deadline and worker.status() != psutil.STATUS_ZOMBIE:
                    time.sleep(0.01)
            time.sleep(0.2)  # the extraction notices before it sends the next task

    with pytest.raises(ExtractionError) as caught:
        extract(config, progress=kill_a_worker)
    warc = next((config.store_dir / "warcs").glob("*.warc.gz")).name
    assert caught.value.warc_file == warc and caught.value.offset is not None and caught.value.offset > 0
    assert caught.value.message.startswith(f"{warc}: the worker process {killed[0]} was killed by signal 9 while parsing pages after offset {caught.value.offset}.")
    assert "run `sangrah extract` again to resume from there" in caught.value.message
    committed = _rows(config)
    assert len(committed) >= 100 and not list(config.records_dir.rglob("*.part"))
    assert not [p for p in psutil.Process().children() if "archiver.tables.parse_worker" in p.cmdline()]
    final = extract(config)
    assert not final.problems and final.rows > 0
    resumed = _rows(config)
    assert len(resumed) == len(committed) + final.rows
    assert len({(r["record_id"], r["version_id"]) for r in resumed}) == len(resumed)
    rebuild_tables(config)
    assert resumed == _rows(config)


def test_schema_doc_is_current() -> None:
    from archiver.tables.schema import render_schema_doc

    doc = (Path(__file__).resolve().parents[1] / "docs" / "record-schema.md").read_text()
    assert doc == render_schema_doc(), "regenerate with: python -m archiver.tables.schema > docs/record-schema.md"


def test_rows_carry_their_retention_tags(config: Config, sample_server: SampleServer) -> None:
    register_samples(config, sample_server, ("x",))
    harvest(config)
    extract(config)
    rows = _rows(config)
    own_posts = [r for r in rows if r["by_department"] and r["kind"] == "post"]
    replies = [r for r in rows if not r["by_department"] and r["kind"] == "reply"]
    assert own_posts and {r["retention_series"] for r in own_posts} == {"department-posts"}
    assert {(r["retention_class"], r["retention_until"]) for r in own_posts} == {("A", None)}
    reply = replies[0]
    assert reply["retention_series"] == "citizen-replies" and reply["retention_class"] == "C-3"
    assert (reply["rrs_item"], reply["purpose"]) == ("SM-3", "Citizens' queries and grievances addressed to the department")
    assert {(r["rrs_item"], r["purpose"]) for r in own_posts} == {("SM-1", "Information to the public by the department")}
    ist_year = reply["created_at"].astimezone(__import__("zoneinfo").ZoneInfo("Asia/Kolkata")).year
    assert reply["retention_until"] == __import__("datetime").date(ist_year + 4, 1, 1)


def test_a_changed_schedule_retags_without_reading_any_warc(config: Config, sample_server: SampleServer, tmp_path: Path) -> None:
    from archiver.retention import DEFAULT_SCHEDULE_PATH

    register_samples(config, sample_server, ("mastodon",))
    harvest(config)
    extract(config)
    # the WARC files go away: re-tagging must not need them
    (config.store_dir / "warcs").rename(tmp_path / "warcs-elsewhere")
    text = DEFAULT_SCHEDULE_PATH.read_text()
    changed = tmp_path / "retention.yaml"
    changed.write_text(text.replace("class: C-3\n    retention: 3", "class: C-5\n    retention: 5"))
    config_file = tmp_path / "sangrah.yaml"
    config_file.write_text(yaml.safe_dump({"data_dir": str(config.data_dir), "retention_schedule": str(changed)}))
    result = CliRunner().invoke(cli, ["--config", str(config_file), "retag"], obj={})
    assert result.exit_code == 0, result.output
    assert re.fullmatch(r"checked \d+ Parquet files: re-tagged \d+, [1-9]\d* rows changed retention\n", result.stdout)
    classes = {r["retention_class"] for r in _rows(config) if r["retention_series"] == "citizen-replies"}
    assert classes == {"C-5"}
    again = CliRunner().invoke(cli, ["--config", str(config_file), "retag"], obj={})
    assert ", 0 rows changed retention" in again.stdout and "re-tagged 0" in again.stdout


def test_retag_brings_a_file_of_the_earlier_record_schema_up_to_date(config: Config, sample_server: SampleServer) -> None:
    register_samples(config, sample_server, ("mastodon",))
    harvest(config)
    extract(config)
    path = sorted(config.records_dir.rglob("*.parquet"))[0]
    relative = path.relative_to(config.records_dir).as_posix()
    # the file as schema version 1 wrote it: no rrs_item or purpose, under the same schedule
    old = pq.read_table(path).drop_columns(["rrs_item", "purpose"])
    old = old.set_column(old.schema.get_field_index("schema_version"), "schema_version", pa.array([1] * old.num_rows, pa.int32()))
    pq.write_table(old, path)
    catalog = open_catalog(config)
    try:
        with catalog.engine.begin() as conn:
            conn.execute(update(t.parquet_files).where(t.parquet_files.c.path == relative).values(schema_version=1))
    finally:
        catalog.close()
    result = CliRunner().invoke(cli, ["retag", "--data-dir", str(config.data_dir)], obj={})
    assert result.exit_code == 0, result.output
    assert re.fullmatch(rf"checked \d+ Parquet files: re-tagged 1, {old.num_rows} rows changed retention\n", result.stdout)
    rows = pq.read_table(path).to_pylist()
    assert {r["schema_version"] for r in rows} == {SCHEMA_VERSION}
    schedule = {s.id: s for s in load_schedule().series}
    assert all((r["rrs_item"], r["purpose"]) == (schedule[r["retention_series"]].rrs_item, schedule[r["retention_series"]].purpose) for r in rows)
    catalog = open_catalog(config)
    try:
        with catalog.engine.connect() as conn:
            assert conn.execute(select(t.parquet_files.c.schema_version).where(t.parquet_files.c.path == relative)).scalar_one() == SCHEMA_VERSION
    finally:
        catalog.close()


def test_a_broken_schedule_is_a_usage_error_with_its_place(config: Config, tmp_path: Path) -> None:
    broken = tmp_path / "retention.yaml"
    broken.write_text("version: [\n")
    config_file = tmp_path / "sangrah.yaml"
    config_file.write_text(yaml.safe_dump({"data_dir": str(config.data_dir), "retention_schedule": str(broken)}))
    result = CliRunner().invoke(cli, ["--config", str(config_file), "retag"], obj={})
    assert result.exit_code == 2
    assert str(broken) in result.stderr


def test_a_thread_that_answers_404_marks_its_post_deleted(config: Config, sample_server: SampleServer) -> None:
    register_samples(config, sample_server, ("mastodon",))
    harvest(config)
    extract(config)
    status = next(r for r in _rows(config) if r["by_department"] and (r["reply_count"] or 0) > 0 and r["kind"] == "post")
    native = status["record_id"].split(":", 1)[1]
    sample_server.inject("404", platform="mastodon", path_pattern=rf"/statuses/{native}/context", count=1)
    harvest(_revisit_all(config))
    report = extract(config)
    assert report.platforms["mastodon"].deletions >= 1
    deleted = [r for r in _rows(config) if r["record_id"] == status["record_id"] and r["deleted_on_platform"]]
    assert len(deleted) == 1 and deleted[0]["deleted_seen_at"] is not None
    assert deleted[0]["retention_series"] == "department-posts"
    assert (deleted[0]["rrs_item"], deleted[0]["purpose"]) == ("SM-1", "Information to the public by the department")


def test_show_prints_the_verified_capture_and_writes_it_as_a_warc(config: Config, sample_server: SampleServer, tmp_path: Path) -> None:
    register_samples(config, sample_server, ("youtube",))
    harvest(config)
    extract(config)
    row = next(r for r in _rows(config) if r["kind"] == "comment")
    out = tmp_path / "capture.warc.gz"
    result = CliRunner().invoke(cli, ["show", row["record_id"], "--warc", str(out), "--data-dir", str(config.data_dir)], obj={})
    assert result.exit_code == 0, result.output
    assert f"WARC-Record-ID: {row['warc_record_id']}" in result.stdout
    assert "HTTP/1.1 200 OK" in result.stdout
    assert row["record_id"].split(":", 1)[1] in result.stdout  # the platform's own response names it
    assert "digests verified" in result.stderr
    check = subprocess.run([sys.executable, "-m", "warcio.cli", "check", str(out)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
    # a capture altered after archiving is refused, with its place
    warc = config.store_dir / "warcs" / row["warc_file"]
    data = bytearray(warc.read_bytes())
    data[row["warc_offset"] + row["warc_length"] // 2] ^= 0x20
    warc.write_bytes(bytes(data))
    refused = CliRunner().invoke(cli, ["show", row["record_id"], "--data-dir", str(config.data_dir)], obj={})
    assert refused.exit_code == 1
    assert f"{row['warc_file']} at offset {row['warc_offset']}" in refused.stderr
    missing = CliRunner().invoke(cli, ["show", "youtube:nope", "--data-dir", str(config.data_dir)], obj={})
    assert missing.exit_code == 1 and "youtube:nope is not in the record dataset" in missing.stderr
