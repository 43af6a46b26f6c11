"""The real MinIO server the S3 tests write to, and a bucket with Object Lock per test.

The server is started outside pytest by ``infra/minio.sh start`` (``infra/test.sh`` does it and
exports ``SANGRAH_S3_ENDPOINT``, ``SANGRAH_S3_ACCESS_KEY`` and ``SANGRAH_S3_SECRET_KEY``).
Without them the S3 tests are skipped on a developer's machine and fail in CI, where the server
is required. ``outage_minio`` starts a second server of the same binary on the next ports, for
tests that stop it in the middle of their work.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from archiver.config import Config
from archiver.storage.s3 import S3Store
from tests.conftest import _SECRETS

__all__ = ["MinioServer", "minio", "outage_minio", "bucket", "s3_config", "make_store", "boto_client"]

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "infra" / "minio.sh"
ENDPOINT_ENV = "SANGRAH_S3_ENDPOINT"
ACCESS_ENV = "SANGRAH_S3_ACCESS_KEY"
SECRET_ENV = "SANGRAH_S3_SECRET_KEY"


@dataclass(frozen=True)
class MinioServer:
    endpoint: str
    access_key: str
    secret_key: str
    instance: str = "main"

    @property
    def port(self) -> int:
        port = urlparse(self.endpoint).port
        assert port is not None
        return port

    def script(self, command: str) -> str:
        """Run ``infra/minio.sh command`` for this instance; its stdout."""
        env = {**os.environ, "SANGRAH_MINIO_INSTANCE": self.instance, "SANGRAH_MINIO_PORT": str(self.port)}
        done = subprocess.run([str(SCRIPT), command], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"infra/minio.sh {command} failed: {done.stderr[-2000:]}"
        return done.stdout.strip()


@pytest.fixture(scope="session")
def minio() -> MinioServer:
    endpoint = os.environ.get(ENDPOINT_ENV)
    if not endpoint:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{ENDPOINT_ENV} is not set: the MinIO server is required in CI; infra/test.sh starts it with infra/minio.sh start")
        pytest.skip(f"{ENDPOINT_ENV} is not set; run ./infra/test.sh, or: export {ENDPOINT_ENV}=\"$(infra/minio.sh start)\" and the variables in .cache/minio/main/credentials")
    access_key, secret_key = os.environ.get(ACCESS_ENV), os.environ.get(SECRET_ENV)
    assert access_key and secret_key, f"{ENDPOINT_ENV} is set but {ACCESS_ENV} or {SECRET_ENV} is not"
    _SECRETS.add(secret_key)  # no file the suite writes (WARC, catalog, logs) may hold it
    return MinioServer(endpoint, access_key, secret_key)


def _credentials_of(instance: str) -> dict[str, str]:
    cache = Path(os.environ.get("SANGRAH_CACHE") or ROOT / ".cache")
    lines = (cache / "minio" / instance / "credentials").read_text().split()
    return dict(line.split("=", 1) for line in lines)


@pytest.fixture
def outage_minio(minio: MinioServer) -> Iterator[MinioServer]:
    """A second, fresh server on the main one's port + 2 (console + 3), removed after the test."""
    server = MinioServer(f"http://127.0.0.1:{minio.port + 2}", "", "", instance="outage")
    endpoint = server.script("start")
    credentials = _credentials_of("outage")
    _SECRETS.add(credentials[SECRET_ENV])
    server = MinioServer(endpoint, credentials[ACCESS_ENV], credentials[SECRET_ENV], instance="outage")
    try:
        yield server
    finally:
        server.script("clean")


def make_store(server: MinioServer, bucket_name: str, **options: Any) -> S3Store:
    settings: dict[str, Any] = {"access_key_env": ACCESS_ENV, "secret_key_env": SECRET_ENV, "default_retention": timedelta(days=1)}
    settings.update(options)
    return S3Store(bucket=bucket_name, endpoint_url=server.endpoint, access_key=server.access_key, secret_key=server.secret_key, **settings)


def boto_client(server: MinioServer) -> Any:
    """A plain boto3 client with the root credentials: what an administrator would use."""
    import boto3

    return boto3.client("s3", endpoint_url=server.endpoint, aws_access_key_id=server.access_key, aws_secret_access_key=server.secret_key, region_name="us-east-1")


@pytest.fixture
def bucket(minio: MinioServer) -> str:
    """A new bucket with Object Lock; locked objects stay until the server's next fresh start."""
    name = f"sangrah-test-{uuid.uuid4().hex[:12]}"
    assert make_store(minio, name).init_bucket(create=True) is True
    return name


@pytest.fixture
def s3_config(config: Config, minio: MinioServer, bucket: str) -> Config:
    """The test configuration with WARC files published to ``bucket`` on the real MinIO."""
    storage = config.storage.model_copy(update={"kind": "s3", "bucket": bucket, "endpoint_url": minio.endpoint, "max_attempts": 2, "timeout_seconds": 10})
    return config.model_copy(update={"storage": storage})
