"""``sangrah config check`` against the real services: each check OK, and each failure with its
exact error and next step (MinIO stopped, a wrong bucket or key, PostgreSQL down, a closed port
for search, an unset variable), never with a credential in its output."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import yaml
from click.testing import CliRunner, Result
from sqlalchemy import text

from archiver.catalog import Catalog
from archiver.cli import cli
from archiver.pipeline import open_catalog
from tests.conftest import _SECRETS, _WRITTEN, ROOT
from tests.minio import ACCESS_ENV, SECRET_ENV, MinioServer, boto_client, bucket, minio, outage_minio  # noqa: F401  (fixtures)

FILES = ["retention.yaml", "rti_rules.yaml", "rti_timelines.yaml", "rti_fees.yaml"]


@pytest.fixture(autouse=True)
def _no_airflow(monkeypatch: pytest.MonkeyPatch) -> None:
    """Checks in this process look at variables alone: Airflow, once imported, keeps the
    settings it read, so the tests under Airflow run the check in a process of its own."""
    monkeypatch.delenv("AIRFLOW_HOME", raising=False)
    monkeypatch.delenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", raising=False)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    _WRITTEN.append(path)
    return path


def _check(tmp_path: Path, settings: dict[str, Any], *, json: bool = True) -> tuple[Result, dict[str, Any]]:
    path = tmp_path / "sangrah.yaml"
    path.write_text(yaml.safe_dump(settings))
    result = CliRunner().invoke(cli, ["--config", str(path), "config", "check", *(["--json"] if json else [])], obj={})
    report = orjson.loads(result.stdout) if json and result.exit_code in (0, 1) else {}
    return result, report


def _by_service(report: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for check in report["checks"]:
        out.setdefault(check["service"], []).append(check)
    return out


def _one(report: dict[str, Any], service: str) -> dict[str, Any]:
    (check,) = _by_service(report)[service]
    return check


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- local: the data directory, a SQLite catalog, FTS5, the rule files ---------------------------
def test_a_fresh_local_setup_is_ok_and_changes_nothing(tmp_path: Path, data: Path) -> None:
    result, report = _check(tmp_path, {"data_dir": str(data)}, json=False)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"Checked {tmp_path / 'sangrah.yaml'}:"
    assert lines[1:5] == [
        f"OK     data       {data}: writable: staging, record dataset and caches (it does not exist yet; the first command makes it)",
        f"OK     catalog    sqlite:///{data}/catalog.sqlite: no catalog yet: the first command that opens it creates it, with every migration",
        f"OK     store      {data}/store: local directory, writable; no Object Lock (storage.kind: s3 keeps WARC files on WORM storage)",
        f"OK     search     fts5 {data}/search/index.sqlite: the index file does not exist yet, and there is no record dataset to fill it: sangrah index builds it after the first extraction",
    ]
    assert [line.split()[0:2] for line in lines[5:9]] == [["OK", "file"]] * 4
    assert "the retention schedule (default): read and checked, 6 series" in lines[5]
    assert lines[-1] == "8 of 8 checks OK"
    assert not data.exists()  # a check makes nothing


def test_a_sqlite_catalog_behind_its_migrations_and_an_account_without_its_credential(tmp_path: Path, data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SANGRAH_TEST_DEPT_X_TOKEN", raising=False)
    config = {"data_dir": str(data)}
    catalog = open_catalog(_load(tmp_path, config))
    try:
        catalog.add_account(platform="x", native_id="1350000000000000001", handle="JalShaktiDept", credential_env="SANGRAH_TEST_DEPT_X_TOKEN")
        with catalog.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '0002'"))
    finally:
        catalog.close()
    result, report = _check(tmp_path, config)
    assert result.exit_code == 1
    assert _one(report, "catalog") == {
        "service": "catalog", "name": f"sqlite:///{data}/catalog.sqlite", "status": "ok",
        "detail": "reachable, at revision 0002; 4 migration(s) pending (0003_rti, 0004_annotations, 0006_holdsync, 0005_review), applied by the next command that opens the catalog; 1 active account(s)", "next_step": None,
    }
    assert _by_service(report)["credential"] == [{
        "service": "credential", "name": "SANGRAH_TEST_DEPT_X_TOKEN", "status": "failed", "detail": "not set: the credential of x:1350000000000000001 (@JalShaktiDept)",
        "next_step": "Export it as SANGRAH_TEST_DEPT_X_TOKEN where sangrah harvest runs; under Airflow, the connection sangrah_x_1350000000000000001 holds it instead "
        "(airflow connections add sangrah_x_1350000000000000001 --conn-type generic --conn-password '<credential>').",
    }]
    assert (report["ok"], report["failed"]) == (False, 1)
    monkeypatch.setenv("SANGRAH_TEST_DEPT_X_TOKEN", "dept-token-never-printed")
    _SECRETS.add("dept-token-never-printed")
    result, report = _check(tmp_path, config)
    assert result.exit_code == 0
    assert _by_service(report)["credential"][0]["detail"] == "set: the credential of x:1350000000000000001 (@JalShaktiDept)"
    assert "dept-token-never-printed" not in result.output
    # a catalog migrated by a newer Sangrah
    with sqlite3.connect(data / "catalog.sqlite") as db:
        db.execute("UPDATE alembic_version SET version_num = '0099_future'")
    result, report = _check(tmp_path, config)
    assert result.exit_code == 1
    catalog_check = _one(report, "catalog")
    assert catalog_check["detail"].startswith("the catalog is at revision 0099_future, which this Sangrah does not know")
    assert _by_service(report)["credential"][-1]["detail"] == "not checked: the catalog could not be read"


def _load(tmp_path: Path, settings: dict[str, Any]) -> Any:
    from archiver.config import load_config

    path = tmp_path / "base.yaml"
    path.write_text(yaml.safe_dump(settings))
    return load_config(path)


def test_fts5_index_present_damaged_or_missing_with_a_dataset_to_index(tmp_path: Path, data: Path) -> None:
    from archiver.search.fts5 import Fts5Backend

    index = data / "search" / "index.sqlite"
    backend = Fts5Backend(index)
    backend.create()
    backend.close()  # the last connection: its write-ahead log is folded into the file and removed
    result, report = _check(tmp_path, {"data_dir": str(data)})
    assert _one(report, "search") == {"service": "search", "name": f"fts5 {index}", "status": "ok", "detail": "the index file is readable: 0 documents", "next_step": None}
    index.write_bytes(b"not an index" * 100)
    result, report = _check(tmp_path, {"data_dir": str(data)})
    assert result.exit_code == 1
    assert _one(report, "search")["detail"] == "cannot read the index file: file is not a database"
    assert _one(report, "search")["next_step"] == "Rebuild it from the record dataset: sangrah rebuild index"
    index.unlink()
    partition = data / "tables" / "records" / "platform=x"
    partition.mkdir(parents=True)
    (partition / "part-0.parquet").write_bytes(b"PAR1")
    result, report = _check(tmp_path, {"data_dir": str(data)})
    assert result.exit_code == 1
    assert (_one(report, "search")["detail"], _one(report, "search")["next_step"]) == ("the index file does not exist yet, and the record dataset has files to index", "Build it from the record dataset: sangrah index")


def test_an_unwritable_data_dir_and_a_broken_rule_file(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    schedule = tmp_path / "retention.yaml"
    schedule.write_text("version: 1\nseries: nope\n")
    result, report = _check(tmp_path, {"data_dir": str(blocker / "data"), "retention_schedule": str(schedule), "rti": {"fees": str(tmp_path / "missing-fees.yaml")}})
    assert result.exit_code == 1
    assert _one(report, "data")["detail"] == f"{blocker} is a file, not a directory"
    files = {check["name"]: check for check in _by_service(report)["file"]}
    assert files[str(schedule)]["status"] == "failed" and files[str(schedule)]["detail"].startswith(f"{schedule} has ")
    assert files[str(schedule)]["next_step"] == "Correct the file, or the path in retention_schedule."
    missing = files[str(tmp_path / "missing-fees.yaml")]
    assert missing["detail"].startswith(f"cannot read the RTI fee tables {tmp_path / 'missing-fees.yaml'}: No such file or directory")


def test_the_signing_key_must_be_its_owners_alone_and_is_never_shown(tmp_path: Path, data: Path) -> None:
    from archiver.rti.package.signing import generate_signing_key

    key = tmp_path / "keys" / "rti-signing.pem"
    generate_signing_key(key)
    private = key.read_text()
    settings = {"data_dir": str(data), "disclosure": {"signing_key_file": str(key)}}
    result, report = _check(tmp_path, settings)
    assert result.exit_code == 0, result.output
    check = {c["name"]: c for c in _by_service(report)["file"]}[str(key)]
    assert check["status"] == "ok" and check["detail"].startswith("the signing key: readable by its owner only, an Ed25519 key (public key fingerprint ")
    key.chmod(0o644)
    result, report = _check(tmp_path, settings, json=False)
    assert result.exit_code == 1
    assert f"FAILED file       {key}: disclosure.signing_key_file {key}: readable by others (mode 644); run: chmod 600 {key}" in result.stdout
    body = "".join(line for line in private.splitlines() if not line.startswith("-----"))
    assert body not in result.output
    key.unlink()
    result, report = _check(tmp_path, settings)
    assert {c["name"]: c for c in _by_service(report)["file"]}[str(key)]["detail"].startswith(f"disclosure.signing_key_file {key}: cannot be read (No such file or directory)")


def test_a_wrong_config_file_is_one_message_and_exit_2(tmp_path: Path) -> None:
    result, _ = _check(tmp_path, {"storage": {"kind": "s3", "bucket": "evidence", "endpoint_url": "minio:9000"}, "harvest": {"revisit_dayz": 3}}, json=False)
    assert result.exit_code == 2
    assert f"Error: {tmp_path / 'sangrah.yaml'} has 2 problem(s):" in result.stderr
    assert "harvest.revisit_dayz (line 2): found an unknown setting" in result.stderr
    assert "storage.endpoint_url (line 5): found 'minio:9000'" in result.stderr


# -- PostgreSQL ----------------------------------------------------------------------------------
@pytest.fixture
def pg_catalog(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh database on the PostgreSQL server; its URL without the password, which libpq
    takes from PGPASSWORD, as a deployment does."""
    from tests.postgres import fresh_database, password, without_password

    _SECRETS.add(password())
    monkeypatch.setenv("PGPASSWORD", password())
    with fresh_database() as url:
        yield without_password(url)


@pytest.mark.slow
def test_postgresql_at_the_newest_migration_then_down(tmp_path: Path, data: Path, pg_catalog: str) -> None:
    from tests.postgres import password, server_down

    Catalog(pg_catalog).migrate()
    config = {"data_dir": str(data), "catalog_url": pg_catalog}
    result, report = _check(tmp_path, config)
    assert result.exit_code == 0, result.output
    assert _one(report, "catalog")["detail"] == "reachable, at revision 0005_review (the newest); 0 active account(s)"
    with server_down():
        result, report = _check(tmp_path, config)
    assert result.exit_code == 1
    check = _one(report, "catalog")
    assert check["status"] == "failed" and check["detail"].startswith("cannot connect: connection failed: ")
    assert "Connection refused" in check["detail"]
    assert check["next_step"] == "Start PostgreSQL, or correct the host and port in catalog_url; then run sangrah config check again."
    assert password() not in result.output
    # the password refused
    os.environ["PGPASSWORD"] = "not-the-password"
    result, report = _check(tmp_path, config)
    assert "password authentication failed" in _one(report, "catalog")["detail"]
    assert _one(report, "catalog")["next_step"] == "Export the database password as PGPASSWORD (or put it in ~/.pgpass) for the user catalog_url names."


# -- S3 on MinIO ---------------------------------------------------------------------------------
def _s3(data: Path, server: MinioServer, bucket_name: str, **extra: Any) -> dict[str, Any]:
    return {"data_dir": str(data), "storage": {"kind": "s3", "bucket": bucket_name, "endpoint_url": server.endpoint, "max_attempts": 1, "timeout_seconds": 5, **extra}}


def test_s3_bucket_with_object_lock_is_ok_and_each_wrong_bucket_or_key_is_named(tmp_path: Path, data: Path, minio: MinioServer, bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    result, report = _check(tmp_path, _s3(data, minio, bucket))
    assert result.exit_code == 0, result.output
    assert _one(report, "store") == {
        "service": "store", "name": f"s3://{bucket} at {minio.endpoint}", "status": "ok",
        "detail": "credentials accepted; bucket exists with Object Lock and versioning enabled; WARC objects get COMPLIANCE retention, 365 days from publication until extraction extends it",
        "next_step": None,
    }
    assert [(c["name"], c["status"], c["detail"]) for c in _by_service(report)["credential"]] == [
        (ACCESS_ENV, "ok", "set: the S3 access key id (storage.access_key_env)"),
        (SECRET_ENV, "ok", "set: the S3 secret access key (storage.secret_key_env)"),
    ]

    missing = f"{bucket}-typo"
    result, report = _check(tmp_path, _s3(data, minio, missing))
    assert result.exit_code == 1
    assert _one(report, "store")["detail"].startswith(f"there is no bucket {missing} at {minio.endpoint} (while trying to look up the bucket).")
    assert _one(report, "store")["next_step"] == "Create it with Object Lock: sangrah storage init (or correct storage.bucket)."

    plain = f"sangrah-plain-{uuid.uuid4().hex[:8]}"
    boto_client(minio).create_bucket(Bucket=plain)
    result, report = _check(tmp_path, _s3(data, minio, plain))
    assert _one(report, "store")["detail"] == "the bucket exists but has no Object Lock, which can be turned on only when a bucket is created"

    monkeypatch.setenv("SANGRAH_TEST_WRONG_SECRET", "wrong-secret-never-printed")
    _SECRETS.add("wrong-secret-never-printed")
    result, report = _check(tmp_path, _s3(data, minio, bucket, secret_key_env="SANGRAH_TEST_WRONG_SECRET"))
    assert result.exit_code == 1
    store = _one(report, "store")
    assert store["detail"].startswith(f"{minio.endpoint} refused access to bucket {bucket} while trying to look up the bucket (SignatureDoesNotMatch")
    assert store["next_step"] == f"Check the key pair in {ACCESS_ENV} and SANGRAH_TEST_WRONG_SECRET, and its rights on the bucket."
    assert "wrong-secret-never-printed" not in result.output and minio.secret_key not in result.output

    monkeypatch.delenv(SECRET_ENV)
    result, report = _check(tmp_path, _s3(data, minio, bucket), json=False)
    assert result.exit_code == 1
    assert f"FAILED store      s3://{bucket} at {minio.endpoint}: not checked: {SECRET_ENV} is not set" in result.stdout
    assert f"FAILED credential {SECRET_ENV}: not set: the S3 secret access key (storage.secret_key_env)" in result.stdout
    assert f"next: Export the S3 secret access key as {SECRET_ENV}; under Airflow, the connection sangrah_s3 holds it instead." in result.stdout


@pytest.mark.slow
def test_a_stopped_minio_is_named_with_the_next_step(tmp_path: Path, data: Path, outage_minio: MinioServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from archiver.storage.s3 import S3Store

    name = f"sangrah-outage-{uuid.uuid4().hex[:8]}"
    S3Store(bucket=name, endpoint_url=outage_minio.endpoint, access_key=outage_minio.access_key, secret_key=outage_minio.secret_key).init_bucket(create=True)
    monkeypatch.setenv(ACCESS_ENV, outage_minio.access_key)
    monkeypatch.setenv(SECRET_ENV, outage_minio.secret_key)
    result, report = _check(tmp_path, _s3(data, outage_minio, name))
    assert _one(report, "store")["status"] == "ok", result.output
    outage_minio.script("stop")
    result, report = _check(tmp_path, _s3(data, outage_minio, name))
    assert result.exit_code == 1
    store = _one(report, "store")
    assert store["detail"].startswith(f"cannot reach the S3 endpoint {outage_minio.endpoint} to look up the bucket bucket {name} (EndpointConnectionError)")
    assert store["next_step"] == "Start the S3 server, or correct storage.endpoint_url."


# -- under Airflow: credentials in its Connections ---------------------------------------------
class _Airflow:
    """An Airflow home with a fresh SQLite metadata database, and the environment of a worker
    using it: no credential variable, a Fernet key so that Connections are stored encrypted."""

    def __init__(self, tmp_path: Path) -> None:
        from cryptography.fernet import Fernet

        self.home = tmp_path / "airflow"
        self.home.mkdir()
        _WRITTEN.append(self.home)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "SANGRAH_"))}
        self.env.update({
            "AIRFLOW_HOME": str(self.home), "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.home}/airflow.db",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(), "PYTHONWARNINGS": "ignore",
        })
        self.airflow("db", "migrate")

    def airflow(self, *arguments: str) -> None:
        done = subprocess.run([sys.executable, "-m", "airflow", *arguments], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]

    def check(self, config_file: Path) -> tuple[int, dict[str, Any], str]:
        """``sangrah config check --json`` run in the worker's environment: exit code, report, all output."""
        done = subprocess.run([sys.executable, "-m", "archiver.cli", "--config", str(config_file), "config", "check", "--json"], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=300)
        assert done.returncode in (0, 1), done.stderr[-2000:]
        return done.returncode, orjson.loads(done.stdout), done.stdout + done.stderr


@pytest.mark.slow
def test_under_airflow_a_credential_comes_from_its_connection_and_a_missing_one_names_both(tmp_path: Path, data: Path, minio: MinioServer, bucket: str) -> None:
    settings = _s3(data, minio, bucket)
    catalog = open_catalog(_load(tmp_path, {"data_dir": str(data)}))
    try:
        catalog.add_account(platform="x", native_id="1350000000000000001", handle="JalShaktiDept", credential_env="SANGRAH_TEST_DEPT_X_TOKEN")
    finally:
        catalog.close()
    config_file = tmp_path / "sangrah.yaml"
    config_file.write_text(yaml.safe_dump(settings))
    airflow = _Airflow(tmp_path)
    conn = "sangrah_x_1350000000000000001"

    code, report, output = airflow.check(config_file)
    assert code == 1
    assert _one(report, "airflow") == {
        "service": "airflow", "name": f"sqlite:///{airflow.home}/airflow.db", "status": "ok",
        "detail": "the metadata database holds 0 Connection(s); each credential is looked up first in the Airflow Connections, as the tasks do", "next_step": None,
    }
    assert _by_service(report)["credential"] == [
        {
            "service": "credential", "name": ACCESS_ENV, "status": "failed",
            "detail": f"not set: the S3 access key id (storage.access_key_env); the Airflow Connection sangrah_s3 does not exist, and {ACCESS_ENV} is not set",
            "next_step": f"Add it: airflow connections add sangrah_s3 --conn-type aws --conn-login '<access key id>' --conn-password '<secret key>'; or export the S3 access key id as {ACCESS_ENV}.",
        },
        {
            "service": "credential", "name": SECRET_ENV, "status": "failed",
            "detail": f"not set: the S3 secret access key (storage.secret_key_env); the Airflow Connection sangrah_s3 does not exist, and {SECRET_ENV} is not set",
            "next_step": f"Add it: airflow connections add sangrah_s3 --conn-type aws --conn-login '<access key id>' --conn-password '<secret key>'; or export the S3 secret access key as {SECRET_ENV}.",
        },
        {
            "service": "credential", "name": "SANGRAH_TEST_DEPT_X_TOKEN", "status": "failed",
            "detail": f"not set: the credential of x:1350000000000000001 (@JalShaktiDept); the Airflow Connection {conn} does not exist, and SANGRAH_TEST_DEPT_X_TOKEN is not set",
            "next_step": f"Add it: airflow connections add {conn} --conn-type generic --conn-password '<credential>'; or export it as SANGRAH_TEST_DEPT_X_TOKEN where the tasks run.",
        },
    ]
    assert _one(report, "store")["detail"] == f"not checked: {ACCESS_ENV} and {SECRET_ENV} are not set"

    # a Connection without a password is no credential, for the check as for the task
    airflow.airflow("connections", "add", conn, "--conn-type", "generic")
    code, report, output = airflow.check(config_file)
    account = _by_service(report)["credential"][-1]
    assert (account["status"], account["detail"]) == ("failed", f"not set: the credential of x:1350000000000000001 (@JalShaktiDept); the Airflow Connection {conn} has no password, and SANGRAH_TEST_DEPT_X_TOKEN is not set")
    assert account["next_step"].startswith(f"Give the Connection {conn} the credential as its password (airflow connections delete {conn}, then airflow connections add {conn} ")

    token = f"dept-token-{uuid.uuid4().hex}"
    _SECRETS.add(token)
    airflow.airflow("connections", "delete", conn)
    airflow.airflow("connections", "add", conn, "--conn-type", "generic", "--conn-password", token)
    airflow.airflow("connections", "add", "sangrah_s3", "--conn-type", "aws", "--conn-login", minio.access_key, "--conn-password", minio.secret_key)
    code, report, output = airflow.check(config_file)
    assert code == 0, output
    assert _one(report, "airflow")["detail"].startswith("the metadata database holds 2 Connection(s);")
    assert [(c["name"], c["status"], c["detail"]) for c in _by_service(report)["credential"]] == [
        (ACCESS_ENV, "ok", "from Airflow Connection sangrah_s3: the S3 access key id (storage.access_key_env)"),
        (SECRET_ENV, "ok", "from Airflow Connection sangrah_s3: the S3 secret access key (storage.secret_key_env)"),
        ("SANGRAH_TEST_DEPT_X_TOKEN", "ok", f"from Airflow Connection {conn}: the credential of x:1350000000000000001 (@JalShaktiDept)"),
    ]
    assert _one(report, "store")["detail"].startswith("credentials accepted; bucket exists with Object Lock")
    assert token not in output and minio.secret_key not in output
    # stored encrypted, as Airflow keeps Connections with a Fernet key
    assert token.encode() not in (airflow.home / "airflow.db").read_bytes()

    # a Connection naming another endpoint than the config's is refused as the task refuses it
    airflow.airflow("connections", "delete", "sangrah_s3")
    airflow.airflow("connections", "add", "sangrah_s3", "--conn-type", "aws", "--conn-login", minio.access_key, "--conn-password", minio.secret_key, "--conn-extra", '{"endpoint_url": "http://minio.elsewhere:9000"}')
    code, report, output = airflow.check(config_file)
    assert code == 1
    assert _by_service(report)["credential"][0] == {
        "service": "credential", "name": "sangrah_s3", "status": "failed",
        "detail": f"the Airflow connection sangrah_s3 names the endpoint http://minio.elsewhere:9000, but storage.endpoint_url in the config is {minio.endpoint}; "
        "the config chooses where the WARC files go and the connection only who writes them: make them agree, or drop endpoint_url from the connection's extra.",
        "next_step": "Correct the Airflow Connection as the error says, then run sangrah config check again.",
    }
    assert minio.secret_key not in output


@pytest.mark.slow
def test_under_airflow_an_unreadable_metadata_database_is_named(tmp_path: Path, data: Path) -> None:
    from cryptography.fernet import Fernet

    home = tmp_path / "airflow"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "SANGRAH_"))}
    # a database Airflow was never set up in
    env.update({"AIRFLOW_HOME": str(home), "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db", "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(), "PYTHONWARNINGS": "ignore"})
    config_file = tmp_path / "sangrah.yaml"
    config_file.write_text(yaml.safe_dump({"data_dir": str(data)}))
    done = subprocess.run([sys.executable, "-m", "archiver.cli", "--config", str(config_file), "config", "check", "--json"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr[-2000:]
    assert _one(orjson.loads(done.stdout), "airflow") == {
        "service": "airflow", "name": f"sqlite:///{home}/airflow.db", "status": "failed", "detail": "cannot read the Airflow Connections: no such table: connection",
        "next_step": "Start Airflow's metadata database or correct AIRFLOW__DATABASE__SQL_ALCHEMY_CONN (airflow db check tells); a new database is made with: airflow db migrate",
    }


# -- search clusters ----------------------------------------------------------------------------
def _cluster(variable: str) -> str:
    url = os.environ.get(variable)
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{variable} is not set: the cluster is required in CI")
        pytest.skip(f"{variable} is not set")
    return url


@pytest.mark.parametrize(("backend", "variable", "product"), [("opensearch", "SANGRAH_OPENSEARCH_URL", "OpenSearch 2."), ("elasticsearch", "SANGRAH_ELASTICSEARCH_URL", "Elasticsearch 9.")], ids=["opensearch", "elasticsearch"])
def test_a_cluster_with_its_index_then_without_then_the_wrong_product_then_a_closed_port(tmp_path: Path, data: Path, backend: str, variable: str, product: str) -> None:
    url = _cluster(variable)
    index = f"sangrah-check-{uuid.uuid4().hex[:8]}"
    settings: dict[str, Any] = {"data_dir": str(data), "search": {"backend": backend, "url": url, "index": index, "timeout_seconds": 5}}
    result, report = _check(tmp_path, settings)
    search = _one(report, "search")
    assert search["status"] == "ok", search
    major = product.split()[1]
    assert search["detail"].startswith(f"{backend} {major}") and search["detail"].endswith(f"; the index {index} does not exist yet, and there is no record dataset to fill it: sangrah index builds it after the first extraction")
    created = httpx.put(f"{url}/{index}", json={"settings": {"number_of_shards": 1, "number_of_replicas": 0}})
    assert created.status_code == 200, created.text
    try:
        result, report = _check(tmp_path, settings)
        assert result.exit_code == 0, result.output
        assert _one(report, "search")["detail"].endswith(f"answers; the index {index} holds 0 documents")
    finally:
        httpx.delete(f"{url}/{index}")
    other = "elasticsearch" if backend == "opensearch" else "opensearch"
    result, report = _check(tmp_path, {**settings, "search": {**settings["search"], "backend": other}})
    wrong = _one(report, "search")
    assert wrong["status"] == "failed" and wrong["detail"].startswith(f"the server is {product}")
    assert wrong["next_step"] == f"Set search.backend: {backend}, or point search.url at the {'Elasticsearch' if other == 'elasticsearch' else 'OpenSearch'} cluster."
    port = _closed_port()
    result, report = _check(tmp_path, {**settings, "search": {**settings["search"], "url": f"http://127.0.0.1:{port}"}})
    closed = _one(report, "search")
    assert closed["detail"] == f"cannot reach http://127.0.0.1:{port}: ConnectError: [Errno 111] Connection refused"
    assert closed["next_step"] == f"Is {backend} running there? Start it, or correct search.url (and search.ca_certs for a certificate signed by your own CA)."
    assert result.exit_code == 1


def test_a_ca_file_that_cannot_be_read_is_named_with_its_path(tmp_path: Path, data: Path) -> None:
    ca = tmp_path / "dept-ca.pem"
    settings: dict[str, Any] = {"data_dir": str(data), "search": {"backend": "opensearch", "url": f"https://127.0.0.1:{_closed_port()}", "ca_certs": str(ca)}}
    result, report = _check(tmp_path, settings, json=False)
    assert result.exit_code == 1
    assert f"FAILED search     opensearch {settings['search']['url']} (index sangrah-records): not checked: the CA file search.ca_certs {ca} cannot be read (No such file or directory)" in result.stdout
    assert f"next: Put the PEM certificate of the CA that signs the cluster's certificate at {ca}, readable by this user, or correct search.ca_certs." in result.stdout
    ca.write_text("not a certificate\n")
    result, report = _check(tmp_path, settings)
    assert _one(report, "search")["detail"] == f"not checked: the CA file search.ca_certs {ca} cannot be read (it holds no PEM certificate)"
