"""The compose stack (infra/compose.yaml), which CI cannot run (the test machines have no container
runtime), checked for what goes stale without a run: the Sangrah config it mounts validates with
the project's loader and chooses PostgreSQL, S3 with Object Lock and OpenSearch; each service that
config names is a service of the stack; the variables it names for secrets reach the Airflow worker
as references to infra/compose/.env, never as values; the bucket the stack creates is the config's;
and the Airflow image installs what the config needs."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from sqlalchemy.engine import make_url

from archiver.config import Config, demanded_secrets, load_config
from archiver.errors import ConfigError
from tests.conftest import ROOT

COMPOSE = ROOT / "infra" / "compose.yaml"
STACK = ROOT / "infra" / "compose"
SANGRAH_CONFIG = STACK / "sangrah.yaml"
#: a value taken from .env: ${NAME}, ${NAME:-default} or ${NAME:?message}
ENV_REFERENCE = re.compile(r"\$\{([A-Z][A-Z0-9_]*)(?::[-?][^}]*)?\}")


def _services() -> dict[str, Any]:
    compose = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(compose, dict) and isinstance(compose.get("services"), dict), f"{COMPOSE} has no services"
    services: dict[str, Any] = compose["services"]
    return services


def _config() -> Config:
    return load_config(SANGRAH_CONFIG, require_secrets=False)


def test_the_stack_s_config_validates_and_chooses_postgresql_s3_with_object_lock_and_opensearch(monkeypatch: pytest.MonkeyPatch) -> None:
    config = _config()
    assert config.catalog_url is not None and make_url(config.catalog_url).get_backend_name() == "postgresql"
    assert (config.storage.kind, config.storage.bucket, config.storage.object_lock_mode, config.storage.airflow_conn_id) == ("s3", "sangrah-evidence", "COMPLIANCE", "sangrah_s3")
    assert (config.search.backend, config.search.index) == ("opensearch", "sangrah-records")
    # the file names the variables that hold the secrets; without them set, the loader says so
    for variable in ("SANGRAH_S3_ACCESS_KEY", "SANGRAH_S3_SECRET_KEY", "SANGRAH_SEARCH_CREDENTIAL"):
        monkeypatch.delenv(variable, raising=False)
    with pytest.raises(ConfigError) as unset:
        load_config(SANGRAH_CONFIG)
    assert unset.value.message.startswith(f"{SANGRAH_CONFIG} has 3 problem(s):")
    for setting, variable in (("storage.access_key_env", "SANGRAH_S3_ACCESS_KEY"), ("storage.secret_key_env", "SANGRAH_S3_SECRET_KEY"), ("search.credential_env", "SANGRAH_SEARCH_CREDENTIAL")):
        assert f"  - {setting} (line " in unset.value.message and f"found {variable}, which is not set" in unset.value.message


def test_every_service_the_config_names_is_in_the_stack_and_every_airflow_container_has_the_config() -> None:
    config, services = _config(), _services()
    assert config.catalog_url is not None and config.storage.endpoint_url and config.search.url
    named = {
        "catalog": make_url(config.catalog_url).host,
        "storage": urlsplit(config.storage.endpoint_url).hostname,
        "search": urlsplit(config.search.url).hostname,
    }
    assert named == {"catalog": "postgres", "storage": "minio", "search": "opensearch"}
    assert set(named.values()) <= set(services)
    # the catalog's database is the one the stack's PostgreSQL makes for Sangrah, owned by its user
    catalog = make_url(config.catalog_url)
    assert f"CREATE DATABASE {catalog.database} OWNER {catalog.username};" in (STACK / "postgres-init.sh").read_text(encoding="utf-8")
    airflow = {name: service for name, service in services.items() if name.startswith("airflow-")}
    assert sorted(airflow) == ["airflow-api-server", "airflow-dag-processor", "airflow-init", "airflow-scheduler", "airflow-worker"]
    for name, service in airflow.items():
        assert service["environment"]["SANGRAH_CONFIG"] == "/opt/sangrah/sangrah.yaml", name
        assert "./compose/sangrah.yaml:/opt/sangrah/sangrah.yaml:ro" in service["volumes"], name
        assert f"sangrah-data:{config.data_dir}" in service["volumes"], name
    worker = services["airflow-worker"]
    assert worker["environment"]["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor" and worker["command"] == ["celery", "worker"]
    assert {service: condition["condition"] for service, condition in worker["depends_on"].items()} == {
        "postgres": "service_healthy", "redis": "service_healthy", "airflow-init": "service_completed_successfully",
        "minio-init": "service_completed_successfully", "opensearch": "service_healthy",
    }


def test_the_secrets_reach_only_the_worker_and_only_as_references_to_the_env_file() -> None:
    config, services = _config(), _services()
    demanded = {secret.variable for secret in demanded_secrets(config)}
    assert demanded == {"SANGRAH_S3_ACCESS_KEY", "SANGRAH_S3_SECRET_KEY", "SANGRAH_SEARCH_CREDENTIAL"}
    sangrah_secrets = demanded | {"PGPASSWORD"}
    worker = services["airflow-worker"]["environment"]
    for variable in sorted(sangrah_secrets):
        assert ENV_REFERENCE.search(str(worker.get(variable, ""))), f"airflow-worker does not take {variable} from .env"
    for name, service in services.items():
        environment = service.get("environment") or {}
        if name.startswith("airflow-") and name != "airflow-worker":
            assert not sangrah_secrets & set(environment), f"{name} has Sangrah's credentials; only the worker runs tasks"
        for key, value in environment.items():
            if re.search(r"PASSWORD|SECRET|ACCESS_KEY|CREDENTIAL|_CONN", key):
                assert ENV_REFERENCE.search(str(value)), f"{name}: {key} holds a value instead of a reference to .env"
    # every variable the stack takes from .env is listed in env.example, whose secrets are empty
    example = dict(line.split("=", 1) for line in (STACK / "env.example").read_text(encoding="utf-8").splitlines() if line and not line.startswith("#"))
    referenced = {name for name in ENV_REFERENCE.findall(COMPOSE.read_text(encoding="utf-8")) if not name.endswith("_IMAGE")}  # images have defaults
    assert referenced == set(example)
    assert {name for name, value in example.items() if value} == {"MINIO_ROOT_USER", "SANGRAH_S3_ACCESS_KEY"}  # user names, not secrets
    # and the config file itself holds no secret: the loader refuses a password in the catalog URL
    assert make_url(config.catalog_url or "").password is None


def test_the_stack_creates_the_config_s_bucket_with_object_lock_and_a_user_without_bypass() -> None:
    config, services = _config(), _services()
    init = services["minio-init"]
    assert init["environment"]["SANGRAH_BUCKET"] == config.storage.bucket
    # the user minio-init creates is the key pair the worker uses
    for variable in ("SANGRAH_S3_ACCESS_KEY", "SANGRAH_S3_SECRET_KEY"):
        assert ENV_REFERENCE.findall(init["environment"][variable]) == ENV_REFERENCE.findall(services["airflow-worker"]["environment"][variable]) == [variable]
    script = (STACK / "minio-init.sh").read_text(encoding="utf-8")
    assert 'mc mb --ignore-existing --with-lock "local/$SANGRAH_BUCKET"' in script
    assert "./compose/minio-init.sh:/etc/sangrah/minio-init.sh:ro" in init["volumes"] and "./compose/minio-policy.json:/etc/sangrah/minio-policy.json:ro" in init["volumes"]
    policy = json.loads((STACK / "minio-policy.json").read_text(encoding="utf-8"))
    resources = {resource for statement in policy["Statement"] for resource in statement["Resource"]}
    assert resources == {f"arn:aws:s3:::{config.storage.bucket}", f"arn:aws:s3:::{config.storage.bucket}/*"}
    actions = {action for statement in policy["Statement"] for action in statement["Action"]}
    # the rights docs/deploy.md gives Sangrah's user, less s3:CreateBucket (minio-init makes the bucket)
    documented = {action for row in (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8").splitlines() if row.startswith("| `s3:") for action in re.findall(r"`(s3:[A-Za-z]+)`", row.split(" | ")[0])}
    assert {"s3:PutObjectRetention", "s3:GetBucketVersioning", "s3:CreateBucket"} <= documented
    assert actions == documented - {"s3:CreateBucket"}
    assert not actions & {"s3:*", "s3:BypassGovernanceRetention", "s3:PutBucketObjectLockConfiguration"}


def test_the_airflow_image_installs_what_the_config_needs_under_the_project_s_constraints() -> None:
    dockerfile = (STACK / "airflow.Dockerfile").read_text(encoding="utf-8")
    constraints = re.search(r"-c /opt/sangrah/src/(infra/constraints/\S+)", dockerfile)
    assert constraints and (ROOT / constraints.group(1)).is_file(), "the image's constraints file is not in infra/constraints/"
    extras = re.search(r'"/opt/sangrah/src\[([a-z0-9,]+)\]"', dockerfile)
    assert extras is not None
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    # Airflow, the PostgreSQL driver (catalog), boto3 (s3) and the cluster clients (opensearch)
    assert set(extras.group(1).split(",")) == {"airflow", "postgres", "s3", "clusters"} and set(extras.group(1).split(",")) <= set(declared)
    # the Celery provider, which the constraints file lacks (the test virtualenv has no Celery
    # executor), is pinned by the image, at the version docs/deploy.md gives
    provider = re.search(r"apache-airflow-providers-celery==\d+\.\d+\.\d+", dockerfile)
    assert provider and provider.group(0) in (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    # the build context leaves out the virtualenv, the caches and the stack's secrets
    ignored = (STACK / "airflow.Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()
    assert {".venv", ".cache", ".git", "infra/compose/.env"} <= set(ignored)
