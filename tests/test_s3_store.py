"""``S3Store`` against a real MinIO server with Object Lock: checked uploads (single and
multipart), ranged reads, retention and legal holds, and the governed deletion that refuses what
is locked, which S3 itself refuses to anyone, root included."""

from __future__ import annotations

import base64
import hashlib
import os
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from archiver.errors import ObjectLocked, ObjectMissing, StoreChecksumMismatch, StoreError
from archiver.storage.s3 import S3Store
from tests.minio import MinioServer, boto_client, bucket, make_store, minio  # noqa: F401  (fixtures)

MIB = 1024 * 1024


def _file(tmp_path: Path, name: str, size: int) -> tuple[Path, str]:
    path = tmp_path / name
    path.write_bytes(os.urandom(size))
    return path, hashlib.sha256(path.read_bytes()).hexdigest()


class Audit:
    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def __call__(self, **entry: Any) -> None:
        self.entries.append(entry)


def _multipart(minio: MinioServer, bucket: str, **options: Any) -> S3Store:
    return make_store(minio, bucket, multipart_threshold_bytes=5 * MIB, multipart_part_bytes=5 * MIB, **options)


def test_put_is_checked_by_the_server_locked_and_read_back(minio: MinioServer, bucket: str, tmp_path: Path) -> None:
    store = _multipart(minio, bucket)
    client = boto_client(minio)
    small, small_sha = _file(tmp_path, "small.warc.gz", 300_000)
    large, large_sha = _file(tmp_path, "large.warc.gz", 11 * MIB)  # three parts: 5 + 5 + 1 MiB
    before = datetime.now(timezone.utc)
    store.put_file(small, "warcs/small.warc.gz", sha256=small_sha)
    store.put_file(large, "warcs/large.warc.gz", sha256=large_sha)

    head = client.head_object(Bucket=bucket, Key="warcs/small.warc.gz", ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == base64.b64encode(bytes.fromhex(small_sha)).decode()  # the manifest's own SHA-256
    assert head["Metadata"] == {"sha256": small_sha}
    assert head["ContentType"] == "application/warc"
    head = client.head_object(Bucket=bucket, Key="warcs/large.warc.gz", ChecksumMode="ENABLED")
    data = large.read_bytes()
    parts = [hashlib.sha256(data[i : i + 5 * MIB]).digest() for i in range(0, len(data), 5 * MIB)]
    assert head["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(b"".join(parts)).digest()).decode() + "-3"
    assert head["Metadata"] == {"sha256": large_sha}
    for key in ("warcs/small.warc.gz", "warcs/large.warc.gz"):
        lock = store.retention(key)
        assert lock.mode == "COMPLIANCE" and not lock.legal_hold
        assert lock.retain_until is not None
        assert before + timedelta(days=1) - timedelta(seconds=5) <= lock.retain_until <= datetime.now(timezone.utc) + timedelta(days=1)

    assert store.read_range("warcs/large.warc.gz", 5 * MIB - 10, 20) == data[5 * MIB - 10 : 5 * MIB + 10]
    assert store.read_range("warcs/small.warc.gz", 299_990, 100) == small.read_bytes()[299_990:]  # cut short at the end
    store.download("warcs/large.warc.gz", tmp_path / "copy", sha256=large_sha)
    assert (tmp_path / "copy").read_bytes() == data
    assert list(store.iter_keys("warcs/")) == ["warcs/large.warc.gz", "warcs/small.warc.gz"]
    assert store.exists("warcs/small.warc.gz") and not store.exists("warcs/other.warc.gz")
    assert store.local_path("warcs/small.warc.gz") is None

    # publishing again (a resumed publication) adds nothing; other bytes under the key are refused
    store.put_file(small, "warcs/small.warc.gz", sha256=small_sha)
    assert len(client.list_object_versions(Bucket=bucket, Prefix="warcs/small.warc.gz")["Versions"]) == 1
    other, other_sha = _file(tmp_path, "other", 1000)
    with pytest.raises(StoreError, match="already exists in s3://.* with different content; refusing to overwrite evidence"):
        store.put_file(other, "warcs/small.warc.gz", sha256=other_sha)


@pytest.mark.parametrize("size", [200_000, 11 * MIB], ids=["single", "multipart"])
def test_a_file_that_is_not_what_the_manifest_hashed_is_not_published(minio: MinioServer, bucket: str, tmp_path: Path, size: int) -> None:
    store = _multipart(minio, bucket)
    path, sha = _file(tmp_path, "x.warc.gz", size)
    manifest_sha = hashlib.sha256(b"the bytes that were closed").hexdigest()  # the file changed since
    with pytest.raises(StoreChecksumMismatch) as caught:
        store.put_file(path, "warcs/x.warc.gz", sha256=manifest_sha)
    assert "It was not published" in caught.value.message or "nothing was published" in caught.value.message
    assert caught.value.key == "warcs/x.warc.gz" and caught.value.bucket == bucket
    client = boto_client(minio)
    assert "Versions" not in client.list_object_versions(Bucket=bucket, Prefix="warcs/")
    assert "Uploads" not in client.list_multipart_uploads(Bucket=bucket)  # an aborted upload leaves no parts
    store.put_file(path, "warcs/x.warc.gz", sha256=sha)  # the true hash goes through
    assert store.exists("warcs/x.warc.gz")


def test_locked_and_held_objects_cannot_be_deleted_by_sangrah_or_by_root_through_s3(minio: MinioServer, bucket: str, tmp_path: Path) -> None:
    audit = Audit()
    # long enough that the refusals below all come before it ends, even on a loaded machine
    store = make_store(minio, bucket, default_retention=timedelta(seconds=12), audit=audit)
    client = boto_client(minio)  # root credentials
    locked, locked_sha = _file(tmp_path, "locked.warc.gz", 1000)
    held, held_sha = _file(tmp_path, "held.warc.gz", 1000)
    store.put_file(locked, "warcs/locked.warc.gz", sha256=locked_sha)
    store.put_file(held, "warcs/held.warc.gz", sha256=held_sha)
    store.set_legal_hold("warcs/held.warc.gz", True)
    assert store.retention("warcs/held.warc.gz").legal_hold is True

    with pytest.raises(ObjectLocked, match=r"warcs/locked.warc.gz in s3://sangrah-test-\w+ at http://127.0.0.1:\d+ cannot be deleted: it is under COMPLIANCE retention until 20") as caught:
        store.delete("warcs/locked.warc.gz", actor="records-officer", reason="test of the lock")
    assert caught.value.mode == "COMPLIANCE" and caught.value.legal_hold is False
    version = client.list_object_versions(Bucket=bucket, Prefix="warcs/locked.warc.gz")["Versions"][0]["VersionId"]
    for bypass in (False, True):  # compliance mode: no bypass, not even for root
        with pytest.raises(ClientError) as denied:
            client.delete_object(Bucket=bucket, Key="warcs/locked.warc.gz", VersionId=version, BypassGovernanceRetention=bypass)
        assert denied.value.response["Error"]["Message"] == "Object is WORM protected and cannot be overwritten"
    with pytest.raises(ClientError) as denied:  # nor can its retention be shortened
        client.put_object_retention(Bucket=bucket, Key="warcs/locked.warc.gz", VersionId=version, Retention={"Mode": "COMPLIANCE", "RetainUntilDate": datetime.now(timezone.utc) + timedelta(seconds=1)})
    assert denied.value.response["Error"]["Message"] == "Object is WORM protected and cannot be overwritten"
    # a plain S3 delete only hides it behind a delete marker: the locked version is still there
    client.delete_object(Bucket=bucket, Key="warcs/locked.warc.gz")
    assert not store.exists("warcs/locked.warc.gz")
    assert client.get_object(Bucket=bucket, Key="warcs/locked.warc.gz", VersionId=version)["Body"].read() == locked.read_bytes()

    # past the retain-until of both; the hold still protects one
    held_until = store.retention("warcs/held.warc.gz").retain_until
    assert held_until is not None
    ends = max(held_until, client.get_object_retention(Bucket=bucket, Key="warcs/locked.warc.gz", VersionId=version)["Retention"]["RetainUntilDate"])
    time.sleep(max(0.0, (ends - datetime.now(timezone.utc)).total_seconds()) + 0.5)
    with pytest.raises(ObjectLocked, match="held.warc.gz .* cannot be deleted: it is under legal hold. Release the hold first") as caught:
        store.delete("warcs/held.warc.gz", actor="records-officer", reason="test of the hold")
    assert caught.value.legal_hold is True
    held_version = client.list_object_versions(Bucket=bucket, Prefix="warcs/held.warc.gz")["Versions"][0]["VersionId"]
    with pytest.raises(ClientError):
        client.delete_object(Bucket=bucket, Key="warcs/held.warc.gz", VersionId=held_version)

    store.delete("warcs/locked.warc.gz", actor="records-officer", reason="retention over")
    assert client.list_object_versions(Bucket=bucket, Prefix="warcs/locked.warc.gz").get("Versions") is None  # every version and the marker gone
    store.set_legal_hold("warcs/held.warc.gz", False)
    store.delete("warcs/held.warc.gz", actor="records-officer", reason="hold released")
    assert not store.exists("warcs/held.warc.gz")
    with pytest.raises(ObjectMissing):
        store.delete("warcs/held.warc.gz", actor="records-officer", reason="again")

    assert [(e["target"], e["outcome"], e["details"]["reason"]) for e in audit.entries] == [
        ("warcs/locked.warc.gz", "refused", "test of the lock"),
        ("warcs/held.warc.gz", "refused", "test of the hold"),
        ("warcs/locked.warc.gz", "ok", "retention over"),
        ("warcs/held.warc.gz", "ok", "hold released"),
        ("warcs/held.warc.gz", "missing", "again"),
    ]
    assert audit.entries[0]["actor"] == "records-officer" and audit.entries[0]["action"] == "delete_object"
    assert audit.entries[1]["details"]["legal_hold"] is True
    assert audit.entries[2]["details"]["versions"] == 2  # the version and the delete marker


def test_deletion_without_an_audit_log_is_refused(minio: MinioServer, bucket: str, tmp_path: Path) -> None:
    store = make_store(minio, bucket)
    path, sha = _file(tmp_path, "a.warc.gz", 100)
    store.put_file(path, "warcs/a.warc.gz", sha256=sha)
    with pytest.raises(StoreError, match="deletions are audited"):
        store.delete("warcs/a.warc.gz", actor="x", reason="y")


def test_retention_is_only_ever_extended(minio: MinioServer, bucket: str, tmp_path: Path) -> None:
    store = make_store(minio, bucket)
    path, sha = _file(tmp_path, "a.warc.gz", 100)
    store.put_file(path, "warcs/a.warc.gz", sha256=sha, retain_until=datetime(2031, 1, 1, tzinfo=timezone.utc))
    assert store.retention("warcs/a.warc.gz").retain_until == datetime(2031, 1, 1, tzinfo=timezone.utc)
    assert store.extend_retention("warcs/a.warc.gz", datetime(2030, 1, 1, tzinfo=timezone.utc)) is False
    assert store.extend_retention("warcs/a.warc.gz", datetime(2052, 1, 1, tzinfo=timezone.utc)) is True
    lock = store.retention("warcs/a.warc.gz")
    assert (lock.mode, lock.retain_until) == ("COMPLIANCE", datetime(2052, 1, 1, tzinfo=timezone.utc))


def test_init_refuses_a_bucket_without_object_lock(minio: MinioServer, tmp_path: Path) -> None:
    name = f"sangrah-plain-{os.urandom(4).hex()}"
    boto_client(minio).create_bucket(Bucket=name)
    store = make_store(minio, name)
    with pytest.raises(StoreError, match=f"bucket {name} at {minio.endpoint} has no Object Lock, and it can be turned on only when a bucket is created"):
        store.init_bucket(create=True)
    path, sha = _file(tmp_path, "a.warc.gz", 100)
    with pytest.raises(StoreError, match=f"bucket {name} .* has no Object Lock.* run `sangrah storage init`"):
        store.put_file(path, "warcs/a.warc.gz", sha256=sha)  # a write with a lock is refused there, and said why
    assert "Contents" not in boto_client(minio).list_objects_v2(Bucket=name)
