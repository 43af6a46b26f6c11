"""Faults of the object store, on a real MinIO server that the test stops: a WARC file whose
upload is cut off stays in staging, pending in the manifest, invisible in the bucket, and the
next run publishes it, whole and once. Configuration faults are named with the next step."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from archiver.capture.writer import WarcWriter
from archiver.cli import cli
from archiver.config import Config
from archiver.errors import StoreUnavailable
from archiver.pipeline import harvest, open_catalog, verify
from archiver.pipeline.capture import Publisher, run_staging
from archiver.pipeline.stores import open_s3_store
from archiver.samples.server import SampleServer
from tests.conftest import register_samples
from tests.minio import MinioServer, boto_client, make_store, minio, outage_minio  # noqa: F401  (fixtures)

MIB = 1024 * 1024
ACCESS_ENV = "SANGRAH_TEST_OUTAGE_ACCESS_KEY"
SECRET_ENV = "SANGRAH_TEST_OUTAGE_SECRET_KEY"


@pytest.fixture
def outage_config(config: Config, outage_minio: MinioServer, monkeypatch: pytest.MonkeyPatch) -> Config:
    """The test configuration publishing to a new bucket on the server the test will stop."""
    name = f"sangrah-outage-{uuid.uuid4().hex[:8]}"
    make_store(outage_minio, name).init_bucket(create=True)
    monkeypatch.setenv(ACCESS_ENV, outage_minio.access_key)
    monkeypatch.setenv(SECRET_ENV, outage_minio.secret_key)
    storage = config.storage.model_copy(
        update={
            "kind": "s3",
            "bucket": name,
            "endpoint_url": outage_minio.endpoint,
            "access_key_env": ACCESS_ENV,
            "secret_key_env": SECRET_ENV,
            "multipart_threshold_bytes": 5 * MIB,
            "multipart_part_bytes": 5 * MIB,
            "max_concurrency": 1,
            "max_attempts": 2,
            "timeout_seconds": 5,
        }
    )
    return config.model_copy(update={"storage": storage})


def _objects(server: MinioServer, bucket: str) -> list[str]:
    return [v["Key"] for v in boto_client(server).list_object_versions(Bucket=bucket).get("Versions", [])]


def test_minio_stopped_in_the_middle_of_an_upload_leaves_the_warc_pending_and_the_next_run_publishes_it(
    outage_config: Config, outage_minio: MinioServer
) -> None:
    config = outage_config
    bucket = config.storage.bucket
    assert bucket is not None
    sent: list[int] = []

    def stop_after_first_part(key: str, done: int, total: int) -> None:
        sent.append(done)
        if len(sent) == 1:
            outage_minio.script("stop")

    catalog = open_catalog(config)
    run_id = f"test-{uuid.uuid4().hex[:8]}"
    publisher = Publisher(catalog, open_s3_store(config, progress=stop_after_first_part), run_id, config.operator_name)
    with pytest.raises(StoreUnavailable) as caught, run_staging(config, run_id) as staging:
        with WarcWriter(staging, prefix="sangrah", warcinfo={"operator": "test"}, on_close=publisher) as writer:
            for n in range(3):  # incompressible bodies: about 12 MiB, three parts of 5 MiB
                writer.write_resource(uri=f"urn:test:{n}", content_type="application/octet-stream", body=os.urandom(4 * MIB), created_at=datetime.now(timezone.utc))
    message = caught.value.message
    assert f"cannot reach the S3 endpoint {outage_minio.endpoint} to upload part 2 of warcs/sangrah-" in message
    assert "stays in staging, pending, and the next `sangrah harvest` publishes it" in message
    assert sent == [5 * MIB]

    # never lost: the closed file is in staging and pending in the manifest, its hash unchanged
    (row,) = list(catalog.iter_warcs())
    assert row.status == "pending"
    (left,) = [p for p in (config.staging_dir / run_id).iterdir() if p.name != ".lock"]
    assert left.name == row.name and left.stat().st_size == row.size_bytes > 10 * MIB
    catalog.close()

    # never half-published: back up, the bucket shows no object, only the unfinished upload's parts
    outage_minio.script("resume")
    client = boto_client(outage_minio)
    assert _objects(outage_minio, bucket) == []
    # (MinIO lists the uploads of a key after a restart when asked for that key)
    assert [u["Key"] for u in client.list_multipart_uploads(Bucket=bucket, Prefix=row.store_key).get("Uploads", [])] == [row.store_key]

    # the next run (a harvest with nothing to harvest here) publishes it, once, and cleans up
    report = harvest(config)
    assert report.recovered == [f"published {row.name}, closed by an interrupted harvest"]
    assert _objects(outage_minio, bucket) == [row.store_key]
    head = client.head_object(Bucket=bucket, Key=row.store_key)
    assert head["Metadata"]["sha256"] == row.sha256 and head["ContentLength"] == row.size_bytes and head["ObjectLockMode"] == "COMPLIANCE"
    assert client.list_multipart_uploads(Bucket=bucket, Prefix=row.store_key).get("Uploads") is None  # the stale parts removed
    assert not (config.staging_dir / run_id).exists()
    checked = verify(config)
    assert (checked.ok, checked.checked, checked.records) == (True, 1, 4)  # warcinfo and three resources
    catalog = open_catalog(config)
    try:
        assert catalog.get_warc(row.name).status == "published"  # type: ignore[union-attr]
        assert [(e["action"], e["target"], e["outcome"]) for e in catalog.audit_entries(action="recover_publish")] == [("recover_publish", row.name, "ok")]
    finally:
        catalog.close()


def test_a_harvest_while_the_store_is_down_fails_named_and_the_next_one_publishes_everything(
    outage_config: Config, outage_minio: MinioServer, sample_server: SampleServer
) -> None:
    config = outage_config
    bucket = config.storage.bucket
    assert bucket is not None
    register_samples(config, sample_server, ("youtube",))
    outage_minio.script("stop")
    with pytest.raises(StoreUnavailable, match=f"cannot reach the S3 endpoint {outage_minio.endpoint} to upload warcs/sangrah-"):
        harvest(config)
    catalog = open_catalog(config)
    try:
        (pending,) = list(catalog.iter_warcs())
        assert pending.status == "pending"
        assert catalog.cursors_for("youtube:" + catalog.list_accounts()[0].native_id)  # the cursors moved with the manifest entry
    finally:
        catalog.close()

    outage_minio.script("resume")
    report = harvest(config)
    assert report.status == "succeeded"
    assert report.recovered == [f"published {pending.name}, closed by an interrupted harvest"]
    assert sorted(_objects(outage_minio, bucket)) == sorted([pending.store_key] + [f"warcs/{w.name}" for w in report.published])
    assert verify(config).ok


def _run(config_path: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--config", str(config_path), *args])
    return result.exit_code, result.stderr


@pytest.mark.parametrize(
    ("change", "exit_code", "says"),
    [
        (lambda s, m: {**s, "endpoint_url": "http://127.0.0.1:9"}, 1, "cannot reach the S3 endpoint http://127.0.0.1:9 to look up the bucket"),
        (lambda s, m: {**s, "secret_key_env": "SANGRAH_TEST_WRONG_SECRET"}, 1, "refused access to bucket {bucket} while trying to look up the bucket (SignatureDoesNotMatch"),
        (lambda s, m: {**s, "access_key_env": "SANGRAH_TEST_UNSET_KEY"}, 2, "storage.access_key_env (line 3): found SANGRAH_TEST_UNSET_KEY, which is not set; allowed: the name of a variable set in the environment. Export the S3 access key id as SANGRAH_TEST_UNSET_KEY"),
        (lambda s, m: {**s, "endpoint_url": "minio:9000"}, 2, "storage.endpoint_url (line 4): found 'minio:9000'; allowed: an http:// or https:// URL with a host"),
    ],
    ids=["bad endpoint", "bad credentials", "unset variable", "not a URL"],
)
def test_storage_init_names_a_wrong_endpoint_bucket_or_credential(
    minio: MinioServer, config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: Callable[[dict[str, object], MinioServer], dict[str, object]], exit_code: int, says: str
) -> None:
    import yaml

    monkeypatch.setenv("SANGRAH_TEST_WRONG_SECRET", "not-the-secret")
    bucket = f"sangrah-init-{uuid.uuid4().hex[:8]}"
    storage: dict[str, object] = {"kind": "s3", "bucket": bucket, "endpoint_url": minio.endpoint, "max_attempts": 1, "timeout_seconds": 3}
    path = tmp_path / "sangrah.yaml"
    path.write_text(yaml.safe_dump({"data_dir": str(config.data_dir), "storage": change(storage, minio)}))
    code, stderr = _run(path, "storage", "init")
    assert code == exit_code, stderr
    assert says.format(bucket=bucket) in " ".join(stderr.split()), stderr
    assert minio.secret_key not in stderr and "not-the-secret" not in stderr
