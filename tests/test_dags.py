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
import sqlite3
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

from archiver.catalog import Catalog
from archiver.config import Config
from archiver.pipeline import rti_due, verify
from archiver.pipeline.tasks import connection_id
from archiver.rti.deadlines import IST
from archiver.samples.server import SampleServer
from tests.captured import read_captured
from tests.conftest import ROOT, _WRITTEN, register_samples
from tests.minio import ACCESS_ENV, SECRET_ENV, MinioServer, boto_client, bucket, minio  # noqa: F401  (fixtures)

pytestmark = pytest.mark.slow

PLATFORMS = ("bluesky", "mastodon", "x")  # the order the plan maps them in (by platform)
MASTODON_LISTING = r"/api/v1/accounts/[0-9]+/statuses"


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

    def __init__(self, dag_id: str, runs: int, env: dict[str, str], log: Path, *, retry_delay_seconds: float | None = None) -> None:
        self.log = open(log, "w")
        retry = ["--retry-delay-seconds", str(retry_delay_seconds)] if retry_delay_seconds is not None else []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.airflow_dag_run", dag_id, str(runs), *retry],
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
    # index, verify and report run whatever became of the accounts
    expected = {"begin": "success", "plan": "success", "index": "success", "verify": "success", "report": "failed"}
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


def test_nightly_dag_retries_a_platform_outage_and_the_retry_captures_the_account(config: Config, sample_server: SampleServer, airflow_home: Path, tmp_path: Path) -> None:
    """X answers 503 to every call of the harvest's first try (its own retries included): Airflow
    puts the task up for retry, and the second try captures the account whole. The DAG's retry
    delay (5 minutes, doubling) is made 1 s for the test; its retries and backoff are its own."""
    config = config.model_copy(update={"catalog_url": f"sqlite:///{config.data_dir.resolve()}/catalog.sqlite"})
    register_samples(config, sample_server, ("x",))
    config_file = tmp_path / "sangrah.yaml"
    _write_config(config, config_file)  # the harvest's own retries: 2 after the first call
    world = sample_server.world
    x = world.account("x")
    env = {
        **_airflow_env(airflow_home, f"sqlite:///{airflow_home}/airflow.db"), "SANGRAH_CONFIG": str(config_file),
        "AIRFLOW_CONN_" + connection_id(f"x:{x.native_id}").upper(): json.dumps({"conn_type": "generic", "password": world.token("x")}),
    }
    sample_server.inject("503", platform="x", path_pattern=r"/2/users/[0-9]+/tweets", count=3)

    driver = _Driver("sangrah_nightly", 1, env, airflow_home / "dag-test.log", retry_delay_seconds=1)
    run = driver.next_event()
    driver.finish()
    assert (run["state"], set(run["tasks"].values())) == ("success", {"success"}), run["tasks"]
    assert run["tries"]["account.harvest[0]"] == 2
    assert {task: tries for task, tries in run["tries"].items() if tries != 1} == {"account.harvest[0]": 2}
    log_text = (airflow_home / "dag-test.log").read_text()
    # the first try's failure, with what the harvest says to do, then the retry that succeeded
    failure = f"PlatformUnavailable: x:{x.native_id} (@{x.handle}): 503 from GET /2/users/{x.native_id}/tweets after retries"
    assert failure in log_text and "The walk stops here and resumes from" in log_text
    assert "Task instance state updated" in log_text and "new_state=up_for_retry" in log_text.split(failure, 1)[1]
    truth = importlib.import_module("archiver.samples.x").ground_truth(world)
    assert truth <= read_captured(config.store_dir / "warcs").posts["x"]
    versions = Counter((row["record_id"], row["version_id"]) for row in _dataset_rows(config))
    assert versions and [key for key, n in versions.items() if n > 1] == []
    assert verify(config).ok


def test_weekly_fixity_passes_then_fails_loudly_naming_a_changed_warc_or_parquet_file(
    backend: tuple[str, Config, dict[str, str]], sample_server: SampleServer, airflow_home: Path, tmp_path: Path
) -> None:
    from archiver.pipeline import extract, harvest

    name, config, env = backend
    register_samples(config, sample_server, ("x",))
    harvest(config)
    extract(config)
    config_file = tmp_path / "sangrah.yaml"
    _write_config(config, config_file)
    env = {**env, "SANGRAH_CONFIG": str(config_file)}
    log = airflow_home / "dag-test.log"
    driver = _Driver("sangrah_verify_weekly", 3, env, log)
    first = driver.next_event()
    assert (first["state"], first["tasks"]) == ("success", {"fixity": "success"}), name

    # one byte of a published WARC file changes: the run fails, every problem naming that file
    warc = sorted((config.store_dir / "warcs").glob("*.warc.gz"))[0]
    original = warc.read_bytes()
    _flip_middle_byte(warc)
    seen = len(log.read_text())
    driver.go_on({})
    second = driver.next_event()
    assert (second["state"], second["tasks"]) == ("failed", {"fixity": "failed"}), name
    warc_run = log.read_text()[seen:]
    assert f"fixity mismatch {warc.name}: SHA-256 " in warc_run
    assert "does not match the manifest's" in warc_run and "the file changed after publication. Restore it from a copy." in warc_run
    mismatches = [line for line in warc_run.splitlines() if "] fixity mismatch " in line]
    assert mismatches and all(f"fixity mismatch {warc.name}" in line for line in mismatches), mismatches
    assert f"FixityMismatch: fixity check found {len(mismatches)} problem(s) in {config.data_dir}: {warc.name}: SHA-256 " in warc_run

    # the WARC file restored, one byte of a Parquet file changes instead
    warc.write_bytes(original)
    changed = sorted(config.records_dir.rglob("*.parquet"))[0]
    _flip_middle_byte(changed)
    seen = len(log.read_text())
    driver.go_on({})
    third = driver.next_event()
    driver.finish()
    assert (third["state"], third["tasks"]) == ("failed", {"fixity": "failed"}), name
    parquet_run = log.read_text()[seen:]
    relative = changed.relative_to(config.records_dir).as_posix()
    assert f"fixity mismatch {relative}: SHA-256 " in parquet_run
    assert "does not match the Parquet manifest's" in parquet_run
    assert "fixity check found 1 problem(s)" in parquet_run and warc.name not in parquet_run


def _flip_middle_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def test_nightly_dag_harvests_into_minio_with_object_lock_and_a_postgresql_catalog_and_nobody_can_delete_a_warc(
    config: Config, sample_server: SampleServer, minio: MinioServer, bucket: str, airflow_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The production set-up, in one night: PostgreSQL holds Airflow's metadata and the catalog,
    the WARC files go to MinIO with Object Lock, the S3 key pair comes from the Airflow
    Connection ``sangrah_s3`` and the platforms' credentials from one connection per account."""
    import boto3  # noqa: F401  (the client below is boto3's)
    from botocore.exceptions import ClientError

    from archiver.cli import cli
    from archiver.pipeline import open_catalog
    from archiver.pipeline.storage import retain_until_by_warc
    from click.testing import CliRunner
    from tests.conftest import _SECRETS, add_records_officer, find_secrets
    from tests.postgres import fresh_database, password, without_password

    _SECRETS.add(password())
    monkeypatch.setenv("PGPASSWORD", password())  # for this process's own look at the catalog
    with fresh_database("airflow") as metadata_url, fresh_database() as catalog_url:
        storage = {"kind": "s3", "bucket": bucket, "endpoint_url": minio.endpoint, "max_attempts": 2, "timeout_seconds": 10}
        settings = {
            "data_dir": str(config.data_dir), "catalog_url": without_password(catalog_url), "operator": "nightly-dag",
            "harvest": {"backoff_base_seconds": 0.01, "max_retries": 2, "timeout_seconds": 5}, "storage": storage,
        }
        config_file = tmp_path / "sangrah.yaml"
        config_file.write_text(yaml.safe_dump(settings))
        from archiver.config import load_config

        config = load_config(config_file)
        register_samples(config, sample_server, PLATFORMS)
        # the Airflow process has no S3 variables: its key pair is the connection's alone
        env = {k: v for k, v in _airflow_env(airflow_home, metadata_url).items() if k not in (ACCESS_ENV, SECRET_ENV)}
        env.update({
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": make_url(metadata_url).set(drivername="postgresql+psycopg_async").render_as_string(hide_password=False),
            "PGPASSWORD": password(), "SANGRAH_CONFIG": str(config_file),
            "AIRFLOW_CONN_SANGRAH_S3": json.dumps({"conn_type": "aws", "login": minio.access_key, "password": minio.secret_key, "extra": {"endpoint_url": minio.endpoint, "region_name": "us-east-1"}}),
        })
        for platform in PLATFORMS:
            account = sample_server.world.account(platform)
            env["AIRFLOW_CONN_" + connection_id(f"{platform}:{account.native_id}").upper()] = json.dumps({"conn_type": "generic", "password": sample_server.world.token(platform)})

        driver = _Driver("sangrah_nightly", 1, env, airflow_home / "dag-test.log")
        night = driver.next_event()
        driver.finish()
        assert night["state"] == "success", night["tasks"]
        assert set(night["tasks"]) == {"begin", "plan", "index", "verify", "report", *(f"account.{t}[{i}]" for t in ("harvest", "extract") for i in range(3))}
        assert set(night["tasks"].values()) == {"success"}
        log_text = (airflow_home / "dag-test.log").read_text()
        assert "s3 credentials source=airflow-connection conn_id=sangrah_s3" in log_text

        # every WARC file is an object in the bucket, under COMPLIANCE retention until the
        # latest disposal day of its records, and holds each platform's posts
        catalog = open_catalog(config)
        try:
            warcs = {row.name: row for row in catalog.iter_warcs()}
        finally:
            catalog.close()
        assert warcs and {row.status for row in warcs.values()} == {"published"}
        client = boto_client(minio)
        keys = sorted(item["Key"] for item in client.list_objects_v2(Bucket=bucket)["Contents"])
        assert keys == sorted(row.store_key for row in warcs.values())
        needed = retain_until_by_warc(config.records_dir)
        downloaded = tmp_path / "warcs"
        downloaded.mkdir()
        for name, row in warcs.items():
            head = client.head_object(Bucket=bucket, Key=row.store_key)
            assert (head["ObjectLockMode"], head["Metadata"]["sha256"], head["ContentLength"]) == ("COMPLIANCE", row.sha256, row.size_bytes)
            assert head["ObjectLockRetainUntilDate"] >= needed[name]
            client.download_file(bucket, row.store_key, str(downloaded / name))
        captured = read_captured(downloaded)
        for platform in PLATFORMS:
            truth = importlib.import_module(f"archiver.samples.{platform}").ground_truth(sample_server.world)
            assert truth <= captured.posts[platform], platform
        assert not any(config.store_dir.glob("warcs/*"))  # nothing published locally

        # the dataset extracted, the index built from all of it, the night verified
        rows = _dataset_rows(config)
        by_platform = Counter(row["platform"] for row in rows)
        assert sorted(by_platform) == sorted(PLATFORMS) and min(by_platform.values()) > 25
        with sqlite3.connect(f"file:{config.search_index_path}?mode=ro", uri=True) as index_db:
            assert index_db.execute("SELECT count(*) FROM docs").fetchone()[0] == len({row["version_id"] for row in rows})
        index_summary = _summary(log_text, "index")
        assert (index_summary["backend"], index_summary["documents"], index_summary["total_documents"]) == ("fts5", len(rows), len({row["version_id"] for row in rows}))
        verify_summary = _summary(log_text, "verify")
        assert verify_summary["ok"] is True and sorted(verify_summary["warc_file_names"]) == sorted(warcs)
        assert verify(config).ok
        # no credential anywhere Airflow or Sangrah wrote: WARC files, task logs, data, metadata
        assert find_secrets([airflow_home, config.data_dir, downloaded], {minio.secret_key, password(), *(sample_server.world.token(p) for p in PLATFORMS)}) == []

        # a locked WARC file cannot be deleted by anyone: not through Sangrah's governed path...
        name, row = sorted(warcs.items())[0]
        add_records_officer(config)
        refused = CliRunner().invoke(cli, ["--config", str(config_file), "storage", "delete", name, "--reason", "disposal test", "--user", "dro"], obj={})
        assert refused.exit_code == 1
        assert f"{row.store_key} in s3://{bucket} at {minio.endpoint} cannot be deleted: it is under COMPLIANCE retention until" in refused.stderr
        catalog = open_catalog(config)
        try:
            entry = catalog.audit_entries(action="delete_object")[-1]
            assert (entry["actor"], entry["target"], entry["outcome"], entry["details"]["reason"]) == ("dro", row.store_key, "refused", "disposal test")
        finally:
            catalog.close()
        # ...nor directly through S3 with the root credentials, bypass of governance or not
        version = client.list_object_versions(Bucket=bucket, Prefix=row.store_key)["Versions"][0]["VersionId"]
        for bypass in (False, True):
            with pytest.raises(ClientError) as denied:
                client.delete_object(Bucket=bucket, Key=row.store_key, VersionId=version, BypassGovernanceRetention=bypass)
            # MinIO refuses it as InvalidRequest (HTTP 400), "WORM protected"; AWS S3 says AccessDenied
            refusal = denied.value.response
            assert (refusal["Error"]["Code"], refusal["Error"]["Message"], refusal["ResponseMetadata"]["HTTPStatusCode"]) == ("InvalidRequest", "Object is WORM protected and cannot be overwritten", 400)
        head = client.head_object(Bucket=bucket, Key=row.store_key, VersionId=version)
        assert (head["ContentLength"], head["Metadata"]["sha256"]) == (row.size_bytes, row.sha256)


def test_rti_daily_dag_raises_the_list_escalates_what_is_overdue_and_fails_until_it_is_acted_on(
    rti_config_file: Path, rti_config: Config, staffed: Catalog, airflow_home: Path
) -> None:
    from datetime import datetime, time, timedelta, timezone

    from archiver.rti.register import get_case
    from tests.rti_fixtures import APPLICANT, event, new_request, register

    now = datetime.now(timezone.utc)
    register(staffed, rti_config, new_request("DOWR/R/2026/00012", received_at=now - timedelta(days=40)), now=now)
    register(staffed, rti_config, new_request("DOWR/R/2026/00013", received_at=now - timedelta(days=27)), now=now)
    expected = rti_due(rti_config, now=now)["items"]
    assert [(i["registration_no"], i["status"]) for i in expected] == [("DOWR/R/2026/00012", "overdue"), ("DOWR/R/2026/00013", "due_soon")]
    overdue, soon = expected
    # 00012: received on day R (IST), its 30 days end with R + 30, and it is deemed refused at 00:00 IST the day after
    received_on = (now - timedelta(days=40)).astimezone(IST).date()
    fell_at = datetime.combine(received_on + timedelta(days=31), time(0), IST).astimezone(timezone.utc)
    assert overdue["due_on"] == (received_on + timedelta(days=30)).isoformat() and overdue["deemed_refusal_at"] == fell_at.isoformat()
    env = {**_airflow_env(airflow_home, f"sqlite:///{airflow_home}/airflow.db"), "SANGRAH_CONFIG": str(rti_config_file)}

    driver = _Driver("sangrah_rti_daily", 3, env, airflow_home / "dag-test.log")
    first = driver.next_event()
    assert (first["state"], first["tasks"]) == ("failed", {"deemed_refusals": "success", "due": "success", "escalate": "failed"})
    log_text = (airflow_home / "dag-test.log").read_text()
    assert (
        f"[warning  ] rti overdue registration_no=DOWR/R/2026/00012 rule={overdue['rule']} due_on={overdue['due_on']} days_overdue={-overdue['days_left']} "
        f"escalate_to=the first appellate authority (S. Iyer) penalty_risk_inr={overdue['penalty_risk_inr']} cite={overdue['cite']}"
    ) in log_text
    assert f"[info     ] rti due_soon registration_no=DOWR/R/2026/00013 rule={soon['rule']} due_on={soon['due_on']} days_left={soon['days_left']}" in log_text
    assert log_text.index("registration_no=DOWR/R/2026/00012") < log_text.index("registration_no=DOWR/R/2026/00013")  # most urgent first
    assert (
        f"1 RTI item(s) overdue as of {now.astimezone(IST).date().isoformat()} (IST): "
        f"DOWR/R/2026/00012 (reply to the applicant, due {overdue['due_on']}, escalate to the first appellate authority (S. Iyer))"
    ) in log_text
    assert APPLICANT["name"] not in log_text and APPLICANT["contact"] not in log_text  # the list names requests, not applicants
    # the timer of R2: the deemed refusal is an event of 00012, dated when it fell, audited as the operator; 00013 has none
    assert f"rti_deemed_refusal request=DOWR/R/2026/00012 fell_at={fell_at.isoformat()}" in log_text
    (deemed,) = get_case(staffed, "DOWR/R/2026/00012").of("deemed_refusal")
    assert (deemed.happened_at, deemed.actor, deemed.details["cite"], deemed.details["due_on"]) == (fell_at, "test-rti-cell", "RTI s.7(2)", overdue["due_on"])
    assert get_case(staffed, "DOWR/R/2026/00013").of("deemed_refusal") == []

    # the next morning, nothing done: still overdue, and the deemed refusal is not recorded again
    driver.go_on({})
    second = driver.next_event()
    assert (second["state"], second["tasks"]) == ("failed", {"deemed_refusals": "success", "due": "success", "escalate": "failed"})
    assert [(e["actor"], e["target"]) for e in _audit(staffed, "rti_deemed_refusal")] == [("test-rti-cell", "DOWR/R/2026/00012")]

    # the reply is decided, late, and recorded: the deemed refusal does not stand in its way; the next morning nothing is overdue
    event(staffed, rti_config, "decision", now - timedelta(hours=1), "information supplied", now=datetime.now(timezone.utc), outcome="disclosed")
    driver.go_on({})
    third = driver.next_event()
    driver.finish()
    assert (third["state"], third["tasks"]) == ("success", {"deemed_refusals": "success", "due": "success", "escalate": "success"})
    log_text = (airflow_home / "dag-test.log").read_text()
    assert "rti nothing overdue" in log_text
    assert [e["outcome"] for e in _audit(staffed, "rti_due")] == ["ok", "ok", "ok", "ok"]  # this test's own look, then each morning
    assert [e.kind for e in get_case(staffed, "DOWR/R/2026/00012").events] == ["registered", "deemed_refusal", "decision"]
    assert len(_audit(staffed, "rti_deemed_refusal")) == 1


def _summary(log_text: str, step: str) -> dict[str, Any]:
    """The JSON summary a task logged for ``step`` (the first, of a task's log and its echo)."""
    summary, _end = json.JSONDecoder().raw_decode(log_text.split(f"summary step={step} ", 1)[1])
    assert isinstance(summary, dict)
    return summary


def _audit(catalog: Catalog, action: str) -> list[dict[str, Any]]:
    return catalog.audit_entries(action=action)


def test_the_s3_connection_gives_the_key_pair_and_is_refused_when_incomplete_or_pointing_elsewhere(airflow_home: Path) -> None:
    env = {k: v for k, v in _airflow_env(airflow_home, f"sqlite:///{airflow_home}/airflow.db").items() if k not in (ACCESS_ENV, SECRET_ENV)}
    done = subprocess.run([sys.executable, "-c", _S3_CONNECTION_CASES], env=env, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    outcomes = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcomes == {
        "connection": ["connection sangrah_s3", "AKIDCONN", True],
        "no password": "the Airflow connection sangrah_s3 has no password (the secret key). Set both: airflow connections add sangrah_s3 --conn-type aws --conn-login '<access key id>' --conn-password '<secret key>', then clear this task.",
        "elsewhere": "the Airflow connection sangrah_s3 names the endpoint http://other:9000, but storage.endpoint_url in the config is http://minio.internal:9000; the config chooses where the WARC files go and the connection only who writes them: make them agree, or drop endpoint_url from the connection's extra.",
        "neither": "the configuration has 2 problem(s):\n"
        "  - storage.access_key_env: found SANGRAH_S3_ACCESS_KEY, which is not set; allowed: the name of a variable set in the environment. Export the S3 access key id as SANGRAH_S3_ACCESS_KEY (under Airflow, the Connection sangrah_s3 holds it instead), or name the variable that holds it; the value never goes in this file.\n"
        "  - storage.secret_key_env: found SANGRAH_S3_SECRET_KEY, which is not set; allowed: the name of a variable set in the environment. Export the S3 secret access key as SANGRAH_S3_SECRET_KEY (under Airflow, the Connection sangrah_s3 holds it instead), or name the variable that holds it; the value never goes in this file.",
    }


_S3_CONNECTION_CASES = """
import json, os
from archiver.config import check_secrets, load_config
from archiver.errors import ConfigError
from archiver.pipeline.tasks import S3Connection

config = load_config(None, overrides={"storage": {"kind": "s3", "bucket": "evidence", "endpoint_url": "http://minio.internal:9000"}}, require_secrets=False)
out = {}
def attempt(name, connection):
    if connection is None:
        os.environ.pop("AIRFLOW_CONN_SANGRAH_S3", None)
    else:
        os.environ["AIRFLOW_CONN_SANGRAH_S3"] = json.dumps({"conn_type": "aws", **connection})
    try:
        source = S3Connection("sangrah_s3").provide(config)
        check_secrets(config)
        out[name] = [source, config.secret("SANGRAH_S3_ACCESS_KEY"), config.secret("SANGRAH_S3_SECRET_KEY") == "conn-secret"]
    except ConfigError as exc:
        out[name] = exc.message
attempt("no password", {"login": "AKIDCONN"})
attempt("elsewhere", {"login": "AKIDCONN", "password": "conn-secret", "extra": {"endpoint_url": "http://other:9000"}})
attempt("neither", None)
attempt("connection", {"login": "AKIDCONN", "password": "conn-secret", "extra": {"endpoint_url": "http://minio.internal:9000/"}})
print(json.dumps(out))
"""


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
    assert nightly["tasks"]["index"]["upstream"] == ["account.extract"] and nightly["tasks"]["verify"]["upstream"] == ["begin", "index"]
    assert weekly["tasks"]["fixity"]["retries"] == 0
    # 09:00 in Asia/Kolkata is 03:30 UTC
    rti = dags["sangrah_rti_daily"]
    assert (rti["cron"], rti["timezone"], rti["next_after_2026_12_01_noon_utc"]) == ("0 9 * * *", "Asia/Kolkata", "2026-12-02T03:30:00+00:00")
    assert rti["tasks"]["escalate"] == {"retries": 0, "exponential": True, "mapped": False, "trigger_rule": "all_success", "upstream": ["due"], "fails_at_once_on": []}
    assert rti["tasks"]["deemed_refusals"] == {"retries": 2, "exponential": True, "mapped": False, "trigger_rule": "all_success", "upstream": [], "fails_at_once_on": []}


_DAG_SHAPE = """
import json
from datetime import datetime, timezone
from airflow.dag_processing.dagbag import DagBag
from airflow.sdk.definitions.mappedoperator import MappedOperator

bag = DagBag()
assert not bag.import_errors, bag.import_errors
out = {}
for dag_id in ("sangrah_nightly", "sangrah_verify_weekly", "sangrah_rti_daily"):
    dag = bag.get_dag(dag_id)
    timetable = dag.timetable
    after = datetime(2026, 12, 1, 12, tzinfo=timezone.utc)
    from airflow.timetables.base import TimeRestriction
    from airflow.serialization.encoders import coerce_to_core_timetable
    core = coerce_to_core_timetable(timetable)
    nxt = core.next_dagrun_info(last_automated_data_interval=None, restriction=TimeRestriction(earliest=after, latest=None, catchup=True))  # catchup: from `after`, not from today
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
