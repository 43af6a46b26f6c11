"""PostgreSQL restarted under the catalog, for real (``infra/postgres.sh stop|start|restart``):
between two calls, between steps, and in the middle of a harvest and of an extraction running
as separate processes. A step the server fails under stops with a ``CatalogError`` that names
the catalog (never its password) and the command to run next; the rerun completes, with nothing
lost and nothing twice."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson
import pyarrow.dataset as ds
import pytest
import yaml
from sqlalchemy.engine import make_url

from archiver.capture.reader import iter_records
from archiver.catalog import Catalog
from archiver.config import Config, load_config
from archiver.errors import CatalogError
from archiver.pipeline import extract, harvest, open_catalog, rebuild_tables, verify
from archiver.samples.server import SampleServer
from archiver.samples.world import World
from archiver.tables.extract import dataset_files
from tests.captured import read_captured
from tests.conftest import _SECRETS, _WRITTEN, register_samples, sample_credential_env
from tests.postgres import fresh_database, manage, password, server_down, started_at, without_password

pytestmark = pytest.mark.slow

PLATFORMS = ("bluesky", "mastodon", "x")


@pytest.fixture
def pg_url() -> Iterator[str]:
    _SECRETS.add(password())
    with fresh_database() as url:
        yield url


def _assert_names_catalog_not_password(error: CatalogError, url: str, next_step: str) -> None:
    safe = make_url(url).render_as_string(hide_password=True)
    assert error.message.startswith(f"the catalog at {safe} failed: ")
    assert error.message.endswith(f"Check that the database is up and reachable, then run: {next_step}")
    assert error.catalog == safe and error.reason
    assert password() not in repr(error.to_dict())


def test_a_restart_between_calls_goes_unnoticed(pg_url: str) -> None:
    catalog = Catalog(pg_url)
    catalog.migrate()
    try:
        catalog.add_account(platform="x", native_id="1")
        before = started_at()
        manage("restart")
        assert started_at() > before
        # the pooled connection died with the server; it is checked before use and replaced
        assert [a.key for a in catalog.list_accounts()] == ["x:1"]
    finally:
        catalog.close()


def test_a_step_run_while_the_server_is_down_fails_by_name_and_the_rerun_completes(config: Config, sample_server: SampleServer, pg_url: str) -> None:
    config = config.model_copy(update={"catalog_url": pg_url})
    register_samples(config, sample_server, ("mastodon",))
    with server_down():
        for step, next_step in ((lambda: harvest(config, account_keys=["mastodon:109000000000000001"]), "sangrah harvest --account mastodon:109000000000000001"), (lambda: extract(config), "sangrah extract"), (lambda: verify(config), "sangrah verify")):
            with pytest.raises(CatalogError) as caught:
                step()
            _assert_names_catalog_not_password(caught.value, pg_url, next_step)
            assert "Connection refused" in caught.value.message
    assert harvest(config).status == "succeeded"
    assert extract(config).rows > 0
    assert verify(config).ok


def _run(config_path: Path, env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "archiver.cli", "--config", str(config_path), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _stop_when(process: subprocess.Popen[bytes], ready: Callable[[], bool]) -> tuple[int, str]:
    """Stop the server as soon as ``ready()``, while ``process`` runs; its exit code and stderr."""
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline and not ready():
        time.sleep(0.002)
    assert process.poll() is None, "the step finished before the server could be stopped under it; make the world larger"
    with server_down():
        _, stderr = process.communicate(timeout=60)
    return process.returncode, stderr.decode()


def _published(config: Config) -> int:
    warcs = config.store_dir / "warcs"
    return len(list(warcs.glob("*.warc.gz"))) if warcs.exists() else 0


def _rows(config: Config) -> list[dict[str, Any]]:
    rows = ds.dataset(config.records_dir, format="parquet", partitioning="hive").to_table().drop_columns(["month"]).to_pylist()
    return sorted(rows, key=lambda r: (r["record_id"], r["captured_at"], r["version_id"]))


def test_server_stopped_mid_harvest_and_mid_extraction(tmp_path: Path, pg_url: str) -> None:
    _WRITTEN.append(tmp_path)
    url = make_url(pg_url)
    # the config file holds no password: libpq reads it from PGPASSWORD
    config_path = tmp_path / "sangrah.yaml"
    config_path.write_text(yaml.safe_dump({
        "data_dir": str(tmp_path / "data"), "catalog_url": without_password(pg_url), "operator": "restart-test",
        "harvest": {"max_file_bytes": 64 * 1024, "revisit_days": 0, "backoff_base_seconds": 0.01}, "tables": {"chunk_rows": 100},
    }))
    secret = str(url.password)
    env = {**os.environ, "PGPASSWORD": secret}
    config = load_config(config_path).model_copy(update={"catalog_url": pg_url})
    with SampleServer(World(seed=21, posts_per_account=120)) as server:
        register_samples(config, server, PLATFORMS)
        env.update({sample_credential_env(p): server.world.token(p) for p in PLATFORMS})
        _SECRETS.update(server.world.token(p) for p in PLATFORMS)

        # the server goes away once the first WARC file is published
        code, stderr = _stop_when(_run(config_path, env, "-v", "harvest"), lambda: _published(config) > 0)
        assert code == 1, stderr[-2000:]
        assert f"Error: the catalog at {without_password(pg_url)} failed: " in stderr
        assert stderr.rstrip().endswith("Check that the database is up and reachable, then run: sangrah harvest")
        assert secret not in stderr and "Traceback" not in stderr
        interrupted = _published(config)
        final = subprocess.run([sys.executable, "-m", "archiver.cli", "--config", str(config_path), "-q", "harvest", "--json"], env=env, capture_output=True, timeout=120)
        assert final.returncode == 0, final.stderr.decode()[-2000:]
        assert orjson.loads(final.stdout)["status"] == "succeeded"
        truths = {p: importlib.import_module(f"archiver.samples.{p}").ground_truth(server.world) for p in PLATFORMS}

    # nothing lost: every post and reply of the world is in the published WARC files
    captured = read_captured(config.store_dir / "warcs")
    for platform in PLATFORMS:
        assert truths[platform] <= captured.posts.get(platform, set()), platform
    # nothing half-published: the store holds exactly the manifest's files, each verified
    catalog = open_catalog(config)
    try:
        manifest = {row.name for row in catalog.iter_warcs(status="published")}
        assert [row.name for row in catalog.iter_warcs() if row.status != "published"] == []
        statuses = sorted(run["status"] for run in catalog.runs_since(datetime(2000, 1, 1, tzinfo=timezone.utc)))
    finally:
        catalog.close()
    assert manifest == {p.name for p in (config.store_dir / "warcs").iterdir()} and len(manifest) > interrupted
    assert statuses == ["interrupted", "succeeded"]  # the run the server died under says so
    assert verify(config).ok
    # nothing twice: no walk captured a page twice, however it was interrupted
    pages: Counter[tuple[str, str]] = Counter()
    for path in sorted((config.store_dir / "warcs").glob("*.warc.gz")):
        for record in iter_records(path):
            if record.rec_type == "response" and record.http_status == 200 and record.header("X-Sangrah-Endpoint") != "_media":
                pages[(record.header("X-Sangrah-Walk") or "", record.target_uri or "")] += 1
    assert [key for key, n in pages.items() if n > 1] == []

    # the server goes away again once the extraction has put its first files in place
    code, stderr = _stop_when(_run(config_path, env, "extract"), lambda: config.records_dir.exists() and len(dataset_files(config.records_dir)) > 2)
    assert code == 1, stderr[-2000:]
    assert stderr.rstrip().endswith("then run: sangrah extract") and secret not in stderr
    assert extract(config).rows > 0
    resumed = _rows(config)
    assert len({(r["record_id"], r["version_id"]) for r in resumed}) == len(resumed)
    rebuild_tables(config)
    assert _rows(config) == resumed  # the interrupted extraction, finished, is the one a rebuild gives
    assert not list(config.records_dir.rglob("*.part"))
    assert verify(config).ok
