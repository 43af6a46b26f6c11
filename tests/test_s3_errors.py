"""Every botocore error the S3 store can meet arrives as one of ours, naming the endpoint, the
bucket and the next step: first provoked on the real MinIO server, then the whole table."""

from __future__ import annotations

import hashlib
import re
import socket
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)

from archiver.errors import (
    ArchiverError,
    BucketMissing,
    ObjectLocked,
    ObjectMissing,
    StoreAuthError,
    StoreChecksumMismatch,
    StoreError,
    StoreUnavailable,
)
from archiver.storage.s3 import S3Store
from archiver.storage.s3errors import Where, boundary, map_error
from tests.minio import MinioServer, bucket, make_store, minio  # noqa: F401  (fixtures)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


Operation = Callable[[S3Store, Path], object]

OPERATIONS: dict[str, Operation] = {
    "put_file": lambda store, path: store.put_file(path, "warcs/a.warc.gz", sha256=hashlib.sha256(path.read_bytes()).hexdigest()),
    "read_range": lambda store, path: store.read_range("warcs/a.warc.gz", 0, 10),
    "exists": lambda store, path: store.exists("warcs/a.warc.gz"),
    "iter_keys": lambda store, path: list(store.iter_keys("warcs/")),
}


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize(
    ("fault", "expected", "says"),
    [
        ("bad endpoint", StoreUnavailable, "cannot reach the S3 endpoint http://127.0.0.1:{port} to .* Check storage.endpoint_url and that the server is running"),
        ("bad credentials", StoreAuthError, "refused access to .*bucket {bucket}.* Check the access key in SANGRAH_S3_ACCESS_KEY and the secret key in SANGRAH_S3_SECRET_KEY"),
        ("wrong bucket", BucketMissing, "there is no bucket {bucket}-missing at {endpoint} .* or create the bucket with Object Lock: sangrah storage init"),
    ],
)
def test_a_wrong_endpoint_bucket_or_credential_is_named_with_the_next_step(
    minio: MinioServer, bucket: str, tmp_path: Path, operation: str, fault: str, expected: type[StoreError], says: str
) -> None:
    path = tmp_path / "a.warc.gz"
    path.write_bytes(b"WARC" * 100)
    port = _closed_port()
    if fault == "bad endpoint":
        store = make_store(MinioServer(f"http://127.0.0.1:{port}", minio.access_key, minio.secret_key), bucket, max_attempts=1, timeout_seconds=2)
    elif fault == "bad credentials":
        store = make_store(MinioServer(minio.endpoint, minio.access_key, "not-the-secret"), bucket)
    else:
        store = make_store(minio, bucket + "-missing")
    with pytest.raises(expected) as caught:
        OPERATIONS[operation](store, path)
    error = caught.value
    assert re.search(says.format(port=port, bucket=bucket, endpoint=minio.endpoint), error.message), error.message
    assert error.endpoint == store._where.endpoint
    assert error.bucket == store.bucket
    assert isinstance(error.__cause__, (ClientError, EndpointConnectionError))
    assert minio.secret_key not in error.message and "not-the-secret" not in error.message


def test_a_missing_object_and_a_range_past_its_end(minio: MinioServer, bucket: str, tmp_path: Path) -> None:
    store = make_store(minio, bucket)
    with pytest.raises(ObjectMissing, match=f"warcs/none.warc.gz in bucket {bucket} at {minio.endpoint} does not exist .*run `sangrah verify`"):
        store.read_range("warcs/none.warc.gz", 0, 10)
    with pytest.raises(ObjectMissing):
        store.download("warcs/none.warc.gz", tmp_path / "copy", sha256="0" * 64)
    assert not (tmp_path / "copy").exists() and not (tmp_path / "copy.part").exists()
    path = tmp_path / "a"
    path.write_bytes(b"0123456789")
    store.put_file(path, "warcs/a", sha256=hashlib.sha256(b"0123456789").hexdigest())
    assert store.read_range("warcs/a", 20, 5) == b""  # the reader then reports the file cut short


WHERE = Where(endpoint="http://s3.example:9000", bucket="evidence", access_key_env="SANGRAH_S3_ACCESS_KEY", secret_key_env="SANGRAH_S3_SECRET_KEY")


def _client_error(code: str, message: str = "", status: int = 400) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}, "PutObject")


TABLE: list[tuple[str, Exception, dict[str, Any], type[StoreError]]] = [
    ("NoSuchBucket", _client_error("NoSuchBucket", "The specified bucket does not exist", 404), {}, BucketMissing),
    ("404 on a bucket", _client_error("404", status=404), {}, BucketMissing),
    ("MinIO's 404 on HEAD of a key in a missing bucket", ClientError({"Error": {"Code": "404"}, "ResponseMetadata": {"HTTPStatusCode": 404, "HTTPHeaders": {"x-minio-error-code": "NoSuchBucket"}}}, "HeadObject"), {"key": "warcs/a"}, BucketMissing),
    ("NoSuchKey", _client_error("NoSuchKey", "The specified key does not exist.", 404), {"key": "warcs/a"}, ObjectMissing),
    ("404 on a key", _client_error("404", status=404), {"key": "warcs/a"}, ObjectMissing),
    ("NoSuchVersion", _client_error("NoSuchVersion", status=404), {"key": "warcs/a"}, ObjectMissing),
    ("InvalidAccessKeyId", _client_error("InvalidAccessKeyId", "The Access Key Id you provided does not exist", 403), {}, StoreAuthError),
    ("SignatureDoesNotMatch", _client_error("SignatureDoesNotMatch", status=403), {}, StoreAuthError),
    ("AccessDenied", _client_error("AccessDenied", "Access Denied.", 403), {"key": "warcs/a"}, StoreAuthError),
    ("403 on HEAD", _client_error("403", status=403), {"key": "warcs/a"}, StoreAuthError),
    ("ExpiredToken", _client_error("ExpiredToken", status=400), {}, StoreAuthError),
    ("WORM on delete", _client_error("InvalidRequest", "Object is WORM protected and cannot be overwritten"), {"key": "warcs/a", "locked_if_denied": True}, ObjectLocked),
    ("AccessDenied on delete", _client_error("AccessDenied", status=403), {"key": "warcs/a", "locked_if_denied": True}, ObjectLocked),
    ("XAmzContentChecksumMismatch", _client_error("XAmzContentChecksumMismatch"), {"key": "warcs/a"}, StoreChecksumMismatch),
    ("BadDigest", _client_error("BadDigest"), {"key": "warcs/a"}, StoreChecksumMismatch),
    ("XAmzContentSHA256Mismatch", _client_error("XAmzContentSHA256Mismatch"), {"key": "warcs/a"}, StoreChecksumMismatch),
    ("InvalidBucketName", _client_error("InvalidBucketName"), {}, BucketMissing),
    ("SlowDown", _client_error("SlowDown", "Please reduce your request rate.", 503), {"key": "warcs/a"}, StoreError),
    ("EndpointConnectionError", EndpointConnectionError(endpoint_url="http://s3.example:9000/evidence"), {}, StoreUnavailable),
    ("ConnectTimeoutError", ConnectTimeoutError(endpoint_url="http://s3.example:9000/evidence"), {}, StoreUnavailable),
    ("ReadTimeoutError", ReadTimeoutError(endpoint_url="http://s3.example:9000/evidence"), {"key": "warcs/a"}, StoreUnavailable),
    ("ConnectionClosedError", ConnectionClosedError(endpoint_url="http://s3.example:9000/evidence"), {}, StoreUnavailable),
    ("NoCredentialsError", NoCredentialsError(), {}, StoreAuthError),
]


@pytest.mark.parametrize(("name", "exc", "context", "expected"), TABLE, ids=[row[0] for row in TABLE])
def test_each_botocore_error_arrives_as_ours(name: str, exc: Exception, context: dict[str, Any], expected: type[StoreError]) -> None:
    with pytest.raises(StoreError) as caught, boundary(WHERE, action="upload", **context):
        raise exc
    assert type(caught.value) is expected
    assert caught.value.__cause__ is exc
    assert caught.value.endpoint == "http://s3.example:9000" and caught.value.bucket == "evidence"
    assert "http://s3.example:9000" in caught.value.message
    assert isinstance(caught.value, ArchiverError) and caught.value.to_dict()["error"] == expected.kind


def test_a_foreign_exception_is_not_ours_to_map() -> None:
    with pytest.raises(TypeError):
        map_error(ValueError("not from botocore"), WHERE, action="upload")


def test_the_store_object_is_cheap_and_connects_on_first_use() -> None:
    store = S3Store(bucket="evidence", endpoint_url=f"http://127.0.0.1:{_closed_port()}", access_key="a", secret_key="b", default_retention=timedelta(days=1))
    assert "client" not in vars(store)  # nothing connected, nothing built
    assert store.where.startswith("s3://evidence at http://127.0.0.1:")
