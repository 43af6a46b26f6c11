"""botocore's exceptions, turned into Sangrah's once, at the S3 boundary.

Every call ``S3Store`` makes to the endpoint runs inside ``boundary``; what comes out is a
``StoreError`` subclass whose message names the endpoint, the bucket, the key and the next
step, and whose cause (``__cause__``) is the botocore exception. No botocore exception leaves
the store.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    HTTPClientError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
)

from archiver.errors import (
    BucketMissing,
    ObjectLocked,
    ObjectMissing,
    StoreAuthError,
    StoreChecksumMismatch,
    StoreError,
    StoreUnavailable,
)

__all__ = ["Where", "boundary", "map_error", "error_code", "AUTH_CODES", "CHECKSUM_CODES"]

#: the endpoint did not accept who we are, or what we may do
AUTH_CODES = frozenset({"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "ExpiredToken", "InvalidToken", "InvalidClientTokenId", "AuthorizationHeaderMalformed", "403"})
#: the bytes that arrived are not the bytes whose checksum was sent
CHECKSUM_CODES = frozenset({"BadDigest", "InvalidDigest", "XAmzContentSHA256Mismatch", "XAmzContentChecksumMismatch", "InvalidChecksum"})
#: an object under retention or legal hold (MinIO says AccessDenied, "Object is WORM protected")
_LOCK_CODES = frozenset({"ObjectLocked", "AccessDenied", "InvalidRequest"})
_MISSING_KEY_CODES = frozenset({"NoSuchKey", "NoSuchVersion", "404"})


@dataclass(frozen=True, slots=True)
class Where:
    """The endpoint and bucket a store talks to, and the variables its credentials come from."""

    endpoint: str
    bucket: str
    access_key_env: str | None
    secret_key_env: str | None

    def credentials_hint(self) -> str:
        if self.access_key_env and self.secret_key_env:
            return f"the access key in {self.access_key_env} and the secret key in {self.secret_key_env} (they must be one key pair with access to the bucket)"
        return "the credentials boto3 found in its default chain (environment, ~/.aws, instance role)"


def error_code(exc: BaseException) -> str:
    """The S3 error code of a ``ClientError`` (``"404"`` for a bodiless HEAD); "" for others."""
    if not isinstance(exc, ClientError):
        return ""
    metadata = exc.response.get("ResponseMetadata", {})
    code = str(exc.response.get("Error", {}).get("Code") or metadata.get("HTTPStatusCode") or "")
    if code.isdigit():
        # A HEAD answer has no body to say why; MinIO says it in a header (a missing bucket or key).
        code = str(metadata.get("HTTPHeaders", {}).get("x-minio-error-code") or code)
    return code


def _message(exc: ClientError) -> str:
    text = str(exc.response.get("Error", {}).get("Message") or "").strip()
    return text[:200]


def map_error(exc: Exception, where: Where, *, action: str, key: str | None = None, locked_if_denied: bool = False) -> StoreError:
    """Our error for botocore's ``exc``, raised while trying to ``action`` (a verb phrase)."""
    fields: dict[str, Any] = {"key": key, "endpoint": where.endpoint, "bucket": where.bucket}
    target = f"{key} in bucket {where.bucket}" if key else f"bucket {where.bucket}"
    if isinstance(exc, ClientError):
        code = error_code(exc)
        said = f"{code}: {_message(exc)}" if _message(exc) else code
        if code in ("NoSuchBucket",) or (code == "404" and key is None):
            return BucketMissing(
                f"there is no bucket {where.bucket} at {where.endpoint} (while trying to {action}). "
                "Check storage.bucket and storage.endpoint_url in the config, or create the bucket with Object Lock: sangrah storage init",
                **fields,
            )
        if code in _MISSING_KEY_CODES:
            return ObjectMissing(
                f"{target} at {where.endpoint} does not exist (while trying to {action}). If the manifest lists it, "
                "run `sangrah verify`; a delete marker made by a plain S3 delete hides an object's locked versions without removing them.",
                **fields,
            )
        if locked_if_denied and code in _LOCK_CODES:
            return ObjectLocked(
                f"{where.endpoint} refused to {action} {target}: it is under Object Lock retention or a legal hold ({said}). "
                "Locked evidence cannot be deleted before its retain-until date, by anyone; see `sangrah storage status`.",
                **fields,
            )
        if code in CHECKSUM_CODES:
            return StoreChecksumMismatch(
                f"{where.endpoint} refused {target} while trying to {action}: the bytes it received do not match the SHA-256 sent with them ({said}). "
                "The staging file changed after it was closed, or was damaged on the way; nothing was published. Run `sangrah verify`, then the harvest again.",
                **fields,
            )
        if code in AUTH_CODES:
            return StoreAuthError(
                f"{where.endpoint} refused access to {target} while trying to {action} ({said}). "
                f"Check {where.credentials_hint()}, export them, then run the command again.",
                **fields,
            )
        if code == "InvalidBucketName":
            return BucketMissing(f"{where.endpoint} says {where.bucket!r} is not a valid bucket name ({said}); fix storage.bucket in the config.", **fields)
        return StoreError(f"{where.endpoint} answered {said} while trying to {action} {target}. See the endpoint's logs; then run the command again.", **fields)
    if isinstance(exc, (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError, ConnectionClosedError, HTTPClientError)):
        return StoreUnavailable(
            f"cannot reach the S3 endpoint {where.endpoint} to {action} {target} ({type(exc).__name__}). "
            "Check storage.endpoint_url and that the server is running; a WARC file not yet uploaded stays in staging, "
            "pending, and the next `sangrah harvest` publishes it.",
            **fields,
        )
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return StoreAuthError(f"no S3 credentials for {where.endpoint} (while trying to {action}). Export {where.credentials_hint()}.", **fields)
    if isinstance(exc, BotoCoreError):
        return StoreError(f"S3 client error while trying to {action} {target} at {where.endpoint}: {exc}", **fields)
    raise TypeError(f"not a botocore exception: {exc!r}")


@contextmanager
def boundary(where: Where, *, action: str, key: str | None = None, locked_if_denied: bool = False) -> Iterator[None]:
    """Run S3 calls; a botocore exception leaves as our ``StoreError``, ``from`` the original."""
    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        raise map_error(exc, where, action=action, key=key, locked_if_denied=locked_if_denied) from exc
