"""The Airflow DAGs of ``dags/``, run for real with ``dag.test()`` against an Airflow 3 metadata
database (SQLite, then PostgreSQL) with the sample platforms as the source.

Airflow runs in a process of its own (``tests/airflow_dag_run.py``): it reads its settings once,
at import, and takes over logging. The credentials reach it only as Airflow Connections (one per
account, ``AIRFLOW_CONN_*``), and every file it writes (WARC, catalog, metadata database, task
logs) is scanned for them at the end of the session.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pyarrow.dataset as ds
import pytest
import yaml
from sqlalchemy.engine import make_url

from archiver.config import Config
from archiver.pipeline import verify
from archiver.pipeline.tasks import connection_id
from archiver.samples.server import SampleServer
from tests.captured import read_captured
from tests.conftest import ROOT, _WRITTEN, register_samples

pytestmark = pytest.mark.slow

PLATFORMS = ("bluesky", "mastodon", "x")  # the order the plan maps them in (by platform)
MASTODON_LISTING = r"/api/v1/accounts/[0-9]+/statuses"
#: the nightly DAG has its index task once the pipeline has the search index's step
HAS_INDEX_STEP = (ROOT / "archiver" / "pipeline" / "search.py").exists()


def _airflow_env(home: Path, metadata_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "SANGRAH_SAMPLE_"))}
    return {
        **env,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_url,
        "PYTHONWARNINGS": "ignore",
    }


@pytest.fixture
def airflow_home(tmp_path: Path) -> Path:
    home = tmp_path / "airflow"
    home.mkdir()
    _WRITTEN.append(home)
    return home


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, airflow_home: Path, config: Config) -> Iterator[tuple[str, Config, dict[str, str]]]:
    """(name, Sangrah config, environment of the Airflow process): both databases on SQLite, or
    both on the PostgreSQL server, each a fresh database."""
    if request.param == "sqlite":
        yield "sqlite", config.model_copy(update={"catalog_url": f"sqlite:///{config.data_dir.resolve()}/catalog.sqlite"}), _airflow_env(airflow_home, f"sqlite:///{airflow_home}/airflow.db")
        return
    from tests.postgres import fresh_database, password

    from tests.conftest import _SECRETS

    _SECRETS.add(password())
    with fresh_database("airflow") as metadata_url, fresh_database() as catalog_url:
        # the catalog's URL goes into the config file without its password, which libpq takes
        # from PGPASSWORD, as a deployment takes it from the environment or ~/.pgpass
        url = make_url(catalog_url)
        env = {
            **_airflow_env(airflow_home, metadata_url),
            # Airflow's async engine: psycopg's own, so that no second driver (asyncpg) is needed
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": make_url(metadata_url).set(drivername="postgresql+psycopg_async").render_as_string(hide_password=False),
            "PGPASSWORD": str(url.password),
        }
        yield "postgresql", config.model_copy(update={"catalog_url": catalog_url}), env


class _Driver:
    """The Airflow process: one JSON line per event on stdout, the rest kept in a log file."""

    def __init__(self, dag_id: str, runs: int, env: dict[str, str], log: Path) -> None:
        self.log = open(log, "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.airflow_dag_run", dag_id, str(runs)],
            cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True,
        )

    def next_event(self) -> dict[str, Any]:
        out: IO[str] | None = self.process.stdout
        assert out is not None
        for line in out:
            self.log.write(line)
            if line.startswith("SANGRAH-DAG-RUN "):
                event: dict[str, Any] = json.loads(line.removeprefix("SANGRAH-DAG-RUN "))
                if event["event"] != "import errors":
                    if event["event"] == "run":
                        self.log.flush()
                        return event
                    continue
                raise AssertionError(f"the DAG files do not import: {event['errors']}")
        self.process.wait(timeout=30)
        self.log.flush()
        raise AssertionError(f"the Airflow process ended ({self.process.returncode}) before the run did; see {self.log.name}")

    def go_on(self, env: dict[str, str]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(env) + "\n")
        self.process.stdin.flush()

    def finish(self) -> None:
        assert self.process.stdout is not None
        self.log.write(self.process.stdout.read())
        assert self.process.wait(timeout=60) == 0
        self.log.close()


def _dataset_rows(config: Config) -> list[dict[str, Any]]:
    if not config.records_dir.exists():
        return []
    rows: list[dict[str, Any]] = ds.dataset(config.records_dir, format="parquet", partitioning="hive").to_table(columns=["record_id", "version_id", "platform"]).to_pylist()
    return rows


def _write_config(config: Config, path: Path) -> None:
    from tests.postgres import without_password

    assert config.catalog_url is not None
    path.write_text(yaml.safe_dump({"data_dir": str(config.data_dir), "catalog_url": without_password(config.catalog_url), "operator": "nightly-dag", "harvest": {"backoff_base_seconds": 0.01, "max_retries": 2, "timeout_seconds": 5}}))


def test_nightly_dag_captures_every_account_and_one_failure_stops_no_other(
    backend: tuple[str, Config, dict[str, str]], sample_server: SampleServer, airflow_home: Path, tmp_path: Path
) -> None:
    name, config, env = backend
    register_samples(config, sample_server, PLATFORMS)
    config_file = tmp_path / "sangrah.yaml"
    _write_config(config, config_file)
    env = {**env, "SANGRAH_CONFIG": str(config_file)}
    connections = {}
    for platform in PLATFORMS:
        account = sample_server.world.account(platform)
        conn = {"conn_type": "generic", "password": sample_server.world.token(platform)}
        connections[platform] = ("AIRFLOW_CONN_" + connection_id(f"{platform}:{account.native_id}").upper(), json.dumps(conn))
    # the first night X has no connection yet, and Mastodon refuses its credential once: those
    # two accounts fail, Bluesky is captured all the same
    env.update(connections[p] for p in PLATFORMS if p != "x")
    sample_server.inject("401", platform="mastodon", path_pattern=MASTODON_LISTING, count=1)

    driver = _Driver("sangrah_nightly", 2, env, airflow_home / "dag-test.log")
    first = driver.next_event()
    expected = {"begin": "success", "plan": "success", "verify": "success", "report": "failed"}
    if HAS_INDEX_STEP:
        expected["index"] = "success"  # it runs whatever became of the accounts
    for index, platform in enumerate(PLATFORMS):
        ok = platform == "bluesky"
        expected[f"account.harvest[{index}]"] = "success" if ok else "failed"
        expected[f"account.extract[{index}]"] = "success" if ok else "upstream_failed"
    assert (first["state"], first["tasks"]) == ("failed", expected), name
    # the other account's WARC files are published, extracted and verified
    captured = read_captured(config.store_dir / "warcs")
    assert sorted(captured.posts) == ["bluesky"]
    by_platform = Counter(row["platform"] for row in _dataset_rows(config))
    assert sorted(by_platform) == ["bluesky"] and by_platform["bluesky"] > 25
    assert verify(config).ok
    log_text = (airflow_home / "dag-test.log").read_text()
    world = sample_server.world
    # the night's summary is in the report task's log, with each failure's cause and remedy
    x_conn = connection_id(f"x:{world.account('x').native_id}")
    assert f"account=x:{world.account('x').native_id} status=failed warc_files=0 error=x:{world.account('x').native_id} (@{world.account('x').handle}): no credential; there is no Airflow connection {x_conn}" in log_text
    assert f"airflow connections add {x_conn} --conn-type generic" in log_text
    mastodon_conn = connection_id(f"mastodon:{world.account('mastodon').native_id}")
    assert f"account=mastodon:{world.account('mastodon').native_id} status=failed" in log_text
    assert f"401 from GET /api/v1/accounts/{world.account('mastodon').native_id}/statuses" in log_text
    assert f"the credential comes from the Airflow connection {mastodon_conn}: update its password" in log_text
    assert "2 of 3 accounts failed tonight" in log_text

    # the next night X has its connection and Mastodon accepts its credential: both are captured
    # whole, and nothing is captured or extracted twice
    driver.go_on(dict([connections["x"]]))
    second = driver.next_event()
    driver.finish()
    assert second["state"] == "success", second["tasks"]
    assert set(second["tasks"].values()) == {"success"}
    captured = read_captured(config.store_dir / "warcs")
    for platform in PLATFORMS:
        truth = importlib.import_module(f"archiver.samples.{platform}").ground_truth(sample_server.world)
        assert truth <= captured.posts[platform], platform
    rows = _dataset_rows(config)
    versions = Counter((row["record_id"], row["version_id"]) for row in rows)
    assert [key for key, n in versions.items() if n > 1] == []
    assert Counter(row["platform"] for row in rows)["mastodon"] > 25
    report = verify(config)
    assert report.ok and report.parquet_checked > 0 and report.checked >= 3


def test_weekly_fixity_passes_then_fails_loudly_on_a_changed_parquet_file(config: Config, sample_server: SampleServer, airflow_home: Path, tmp_path: Path) -> None:
    from archiver.pipeline import extract, harvest

    register_samples(config, sample_server, ("x",))
    harvest(config)
    extract(config)
    config_file = tmp_path / "sangrah.yaml"
    config_file.write_text(yaml.safe_dump({"data_dir": str(config.data_dir)}))
    env = {**_airflow_env(airflow_home, f"sqlite:///{airflow_home}/airflow.db"), "SANGRAH_CONFIG": str(config_file)}
    driver = _Driver("sangrah_verify_weekly", 2, env, airflow_home / "dag-test.log")
    first = driver.next_event()
    assert (first["state"], first["tasks"]) == ("success", {"fixity": "success"})
    changed = sorted(config.records_dir.rglob("*.parquet"))[0]
    data = bytearray(changed.read_bytes())
    data[len(data) // 2] ^= 0x01
    changed.write_bytes(bytes(data))
    driver.go_on({})
    second = driver.next_event()
    driver.finish()
    assert (second["state"], second["tasks"]) == ("failed", {"fixity": "failed"})
    relative = changed.relative_to(config.records_dir).as_posix()
    log_text = (airflow_home / "dag-test.log").read_text()
    assert f"fixity mismatch {relative}: SHA-256 " in log_text
    assert "does not match the Parquet manifest's" in log_text
    assert "fixity check found 1 problem(s)" in log_text


def test_dag_files_import_without_errors_and_schedule_as_documented(airflow_home: Path) -> None:
    env = _airflow_env(airflow_home, f"sqlite:///{airflow_home}/airflow.db")
    migrated = subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], env=env, capture_output=True, text=True, timeout=120)
    assert migrated.returncode == 0, migrated.stderr[-2000:]
    errors = subprocess.run([sys.executable, "-m", "airflow", "dags", "list-import-errors", "--local", "-o", "json"], env=env, capture_output=True, text=True, timeout=120)
    assert (errors.returncode, json.loads(errors.stdout)) == (0, []), errors.stderr[-2000:]
    shape = subprocess.run([sys.executable, "-c", _DAG_SHAPE], env=env, capture_output=True, text=True, timeout=120)
    assert shape.returncode == 0, shape.stderr[-2000:]
    dags = json.loads(shape.stdout.strip().splitlines()[-1])
    nightly, weekly = dags["sangrah_nightly"], dags["sangrah_verify_weekly"]
    # 02:00 in Asia/Kolkata is 20:30 UTC the day before
    assert (nightly["cron"], nightly["timezone"], nightly["next_after_2026_12_01_noon_utc"]) == ("0 2 * * *", "Asia/Kolkata", "2026-12-01T20:30:00+00:00")
    assert (weekly["cron"], weekly["timezone"], weekly["next_after_2026_12_01_noon_utc"]) == ("0 3 * * 0", "Asia/Kolkata", "2026-12-05T21:30:00+00:00")
    assert nightly["tasks"]["account.harvest"] == {"retries": 3, "exponential": True, "mapped": True, "trigger_rule": "all_success", "upstream": ["begin", "plan"], "fails_at_once_on": ["archiver.errors.AuthError", "archiver.errors.AccountGone", "archiver.errors.ConfigError", "archiver.errors.FixityMismatch"]}
    assert nightly["tasks"]["account.extract"]["mapped"] and nightly["tasks"]["account.extract"]["upstream"] == ["account.harvest"]
    assert nightly["tasks"]["verify"]["trigger_rule"] == "all_done" and nightly["tasks"]["report"]["trigger_rule"] == "all_done"
    # the search index's task joins once the pipeline has its step (archiver/pipeline/search.py)
    assert ("index" in nightly["tasks"]) == HAS_INDEX_STEP
    assert weekly["tasks"]["fixity"]["retries"] == 0


_DAG_SHAPE = """
import json
from datetime import datetime, timezone
from airflow.dag_processing.dagbag import DagBag
from airflow.sdk.definitions.mappedoperator import MappedOperator

bag = DagBag()
assert not bag.import_errors, bag.import_errors
out = {}
for dag_id in ("sangrah_nightly", "sangrah_verify_weekly"):
    dag = bag.get_dag(dag_id)
    timetable = dag.timetable
    after = datetime(2026, 12, 1, 12, tzinfo=timezone.utc)
    from airflow.timetables.base import TimeRestriction
    from airflow.serialization.encoders import coerce_to_core_timetable
    core = coerce_to_core_timetable(timetable)
    nxt = core.next_dagrun_info(last_automated_data_interval=None, restriction=TimeRestriction(earliest=after, latest=None, catchup=False))
    tasks = {}
    for task in dag.tasks:
        policy = getattr(task, "retry_policy", None)
        rules = [r.exception_path for r in getattr(policy, "rules", [])]
        tasks[task.task_id] = {
            "retries": task.retries, "exponential": bool(task.retry_exponential_backoff), "mapped": isinstance(task, MappedOperator) or task.get_closest_mapped_task_group() is not None,
            "trigger_rule": str(task.trigger_rule.value if hasattr(task.trigger_rule, "value") else task.trigger_rule),
            "upstream": sorted(task.upstream_task_ids), "fails_at_once_on": ",".join(rules).split(",") if rules else [],
        }
    out[dag_id] = {"cron": timetable.expression, "timezone": str(getattr(timetable.timezone, "name", timetable.timezone)), "next_after_2026_12_01_noon_utc": nxt.run_after.isoformat(), "tasks": tasks}
print(json.dumps(out))
"""
