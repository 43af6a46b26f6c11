"""The S3 store: WARC files as objects in a bucket with Object Lock (MinIO, AWS S3, or another
S3-compatible server that implements Object Lock).

Publication is atomic, as S3 makes an object visible only once it is whole: one ``PutObject``
for a file under the multipart threshold, else a multipart upload that the server assembles on
``CompleteMultipartUpload``. Every byte is checked by the server against a SHA-256 we send: for a
single put, the file's SHA-256 from the manifest itself (``x-amz-checksum-sha256``), so a
staging file that changed after it was hashed is refused; for a multipart upload, each part's
SHA-256, while the whole file is hashed on the way and compared with the manifest before the
upload is completed. The manifest's hex SHA-256 is kept as the object's ``sha256`` metadata.

Each object is written with an Object Lock mode and a retain-until instant (the configured
default unless the caller gives one); ``extend_retention`` can only move it later, as
COMPLIANCE mode allows. ``delete`` is the governed path: it refuses an object under retention or
legal hold, S3 refuses it again on its side, and both outcomes are audited.

Building a store is cheap; the boto3 client is made on first use.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cached_property
from pathlib import Path
from typing import Any

from archiver.errors import ObjectLocked, ObjectMissing, StoreChecksumMismatch, StoreError
from archiver.storage.base import AuditFn, ObjectRetention
from archiver.storage.s3errors import Where, boundary, error_code

__all__ = ["S3Store", "BucketState", "ProgressFn", "WARC_CONTENT_TYPE", "checksum_b64"]

log = logging.getLogger(__name__)

#: what a progress callback receives: the key, bytes sent so far, bytes in all
ProgressFn = Callable[[str, int, int], None]

WARC_CONTENT_TYPE = "application/warc"
_MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class BucketState:
    """A bucket's Object Lock and versioning; the default retention is the bucket's own (Sangrah
    sets each object's retention itself, so none is needed)."""

    object_lock: bool
    versioning: str  #: Enabled, Suspended or Disabled
    default_mode: str | None = None
    default_days: int | None = None
    default_years: int | None = None


def checksum_b64(digest: bytes) -> str:
    """The form S3 takes a checksum in: base64 of the raw digest."""
    return base64.b64encode(digest).decode("ascii")


class S3Store:
    """WARC objects in ``bucket``; keys such as ``warcs/NAME.warc.gz``, as in ``LocalStore``.

    Usage::

        store = S3Store(bucket="sangrah-evidence", endpoint_url="http://127.0.0.1:9000",
                        access_key=..., secret_key=..., audit=catalog.audit)
        store.put_file(Path("staging/x.warc.gz"), "warcs/x.warc.gz", sha256=manifest_sha256)
        store.read_range("warcs/x.warc.gz", 1234, 567)   # one record by its pointer
    """

    def __init__(
        self,
        *,
        bucket: str,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key: str | None = None,
        secret_key: str | None = None,
        access_key_env: str | None = None,
        secret_key_env: str | None = None,
        lock_mode: str = "COMPLIANCE",
        default_retention: timedelta = timedelta(days=365),
        multipart_threshold_bytes: int = 1024 * _MIB,
        multipart_part_bytes: int = 16 * _MIB,
        max_concurrency: int = 4,
        timeout_seconds: float = 60.0,
        max_attempts: int = 3,
        audit: AuditFn | None = None,
        progress: ProgressFn | None = None,
    ) -> None:
        if lock_mode not in ("COMPLIANCE", "GOVERNANCE"):
            raise ValueError(f"lock_mode must be COMPLIANCE or GOVERNANCE, not {lock_mode!r}")
        if multipart_part_bytes < 5 * _MIB:
            raise ValueError("S3 parts are at least 5 MiB")
        self.bucket = bucket
        self.endpoint_url = endpoint_url
        self.region = region
        self.lock_mode = lock_mode
        self.default_retention = default_retention
        self.multipart_threshold_bytes = max(multipart_threshold_bytes, multipart_part_bytes)
        self.multipart_part_bytes = multipart_part_bytes
        self.max_concurrency = max_concurrency
        self.audit = audit
        self.progress = progress
        self._credentials = (access_key, secret_key)
        self._bucket_seen = False
        self._timeout_seconds = timeout_seconds
        self._max_attempts = max_attempts
        endpoint = endpoint_url or f"https://s3.{region}.amazonaws.com"
        self._where = Where(endpoint=endpoint, bucket=bucket, access_key_env=access_key_env, secret_key_env=secret_key_env)
        self.where = f"s3://{bucket} at {endpoint}"

    @cached_property
    def client(self) -> Any:
        import boto3
        from botocore.config import Config as BotoConfig

        access_key, secret_key = self._credentials
        config = BotoConfig(
            region_name=self.region,
            signature_version="s3v4",
            connect_timeout=self._timeout_seconds,
            read_timeout=self._timeout_seconds,
            retries={"max_attempts": self._max_attempts, "mode": "standard"},
            max_pool_connections=max(10, self.max_concurrency + 2),
            # We send our own SHA-256 where it matters; no second checksum on every request.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            # The SHA-256 checksum sent with each body is what the server verifies it by; signing
            # the body as well (SigV4 does over plain http) would hash every byte a second time.
            s3={"addressing_style": "path" if self.endpoint_url else "auto", "payload_signing_enabled": False},
        )
        session = boto3.session.Session()
        return session.client("s3", endpoint_url=self.endpoint_url, aws_access_key_id=access_key, aws_secret_access_key=secret_key, config=config)

    # -- the bucket ---------------------------------------------------------------------------
    def init_bucket(self, *, create: bool = True) -> bool:
        """Make sure the bucket exists with Object Lock enabled; True if it was created now.

        Object Lock can be turned on only when a bucket is created, so an existing bucket
        without it is refused: name a new bucket in the config.
        """
        created = False
        with boundary(self._where, action="look up the bucket"):
            try:
                self.client.head_bucket(Bucket=self.bucket)
            except Exception as exc:
                if not create or error_code(exc) not in ("404", "NoSuchBucket"):
                    raise
                extra = {} if self.region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": self.region}}
                self.client.create_bucket(Bucket=self.bucket, ObjectLockEnabledForBucket=True, **extra)
                created = True
        lock = self._lock_configuration()
        if lock.get("ObjectLockEnabled") != "Enabled":
            raise StoreError(
                f"bucket {self.bucket} at {self._where.endpoint} has no Object Lock, and it can be turned on only when a bucket is created. "
                "Name a new bucket in storage.bucket and run `sangrah storage init`, which creates it with Object Lock.",
                endpoint=self._where.endpoint,
                bucket=self.bucket,
            )
        return created

    def _lock_configuration(self) -> dict[str, Any]:
        """The bucket's Object Lock configuration; empty when it has none."""
        with boundary(self._where, action="read the bucket's Object Lock configuration"):
            try:
                return dict(self.client.get_object_lock_configuration(Bucket=self.bucket)["ObjectLockConfiguration"])
            except Exception as exc:
                if error_code(exc) not in ("ObjectLockConfigurationNotFoundError", "InvalidRequest"):
                    raise
                return {}

    def bucket_state(self) -> BucketState:
        """What the server says of the bucket (reads only): raises ``BucketMissing`` when there
        is none, ``StoreAuthError`` when the credentials are refused, ``StoreUnavailable`` when
        the endpoint cannot be reached."""
        with boundary(self._where, action="look up the bucket"):
            self.client.head_bucket(Bucket=self.bucket)
        lock = self._lock_configuration()
        with boundary(self._where, action="read the bucket's versioning"):
            versioning = str(self.client.get_bucket_versioning(Bucket=self.bucket).get("Status") or "Disabled")
        default = lock.get("Rule", {}).get("DefaultRetention", {})
        return BucketState(object_lock=lock.get("ObjectLockEnabled") == "Enabled", versioning=versioning, default_mode=default.get("Mode"), default_days=default.get("Days"), default_years=default.get("Years"))

    # -- writing ------------------------------------------------------------------------------
    def put_file(self, source: Path, key: str, *, sha256: str, retain_until: datetime | None = None) -> None:
        """Publish ``source`` under ``key``, locked until ``retain_until`` (default: now + the
        default retention). Publishing a file already there with the same SHA-256 does nothing;
        other bytes under the same key are refused."""
        until = retain_until or datetime.now(timezone.utc) + self.default_retention
        lock = {"ObjectLockMode": self.lock_mode, "ObjectLockRetainUntilDate": until}
        size = source.stat().st_size
        if size < self.multipart_threshold_bytes:
            if not self._put_single(source, key, sha256, size, lock):
                return
        else:
            if self._head(key) is not None:
                self._refuse_other_bytes(key, sha256)
                return
            self._put_multipart(source, key, sha256, size, lock)
        log.info("uploaded key=%s bucket=%s bytes=%d retain_until=%s", key, self.bucket, size, until.isoformat())

    def _refuse_other_bytes(self, key: str, sha256: str) -> None:
        """``key`` exists: fine if it holds ``sha256`` (a resumed publication), refused if not."""
        existing = self._head(key)
        if existing is not None and existing.get("Metadata", {}).get("sha256") == sha256:
            return
        raise StoreError(
            f"{key} already exists in {self.where} with different content; refusing to overwrite evidence. "
            "Run `sangrah verify` to see which copy is damaged.",
            key=key,
            endpoint=self._where.endpoint,
            bucket=self.bucket,
        )

    def _put_single(self, source: Path, key: str, sha256: str, size: int, lock: dict[str, Any], conditional: bool = True) -> bool:
        """One PUT carrying the manifest's SHA-256; False if the key already held the file.

        ``If-None-Match: *`` makes the server refuse to write over an existing key, so no
        look-up is needed first; a server that does not implement it gets the look-up instead.
        """
        extra = {"IfNoneMatch": "*"} if conditional else {}
        with boundary(self._where, action="upload", key=key), open(source, "rb") as body:
            try:
                self.client.put_object(
                    Bucket=self.bucket,
                    Key=key,
                    Body=body,
                    ContentLength=size,
                    ContentType=WARC_CONTENT_TYPE,
                    ChecksumSHA256=checksum_b64(bytes.fromhex(sha256)),
                    Metadata={"sha256": sha256},
                    **lock,
                    **extra,
                )
            except Exception as exc:
                code = error_code(exc)
                self._explain_lock_refusal(exc)
                if code == "PreconditionFailed":
                    self._refuse_other_bytes(key, sha256)
                    return False
                if code != "NotImplemented" or not conditional:
                    raise
                if self._head(key) is not None:
                    self._refuse_other_bytes(key, sha256)
                    return False
                return self._put_single(source, key, sha256, size, lock, conditional=False)
        if self.progress:
            self.progress(key, size, size)
        return True

    def _put_multipart(self, source: Path, key: str, sha256: str, size: int, lock: dict[str, Any]) -> None:
        self._abort_stale_uploads(key)
        with boundary(self._where, action="start a multipart upload of", key=key):
            try:
                upload_id = self.client.create_multipart_upload(
                    Bucket=self.bucket, Key=key, ContentType=WARC_CONTENT_TYPE, ChecksumAlgorithm="SHA256", Metadata={"sha256": sha256}, **lock
                )["UploadId"]
            except Exception as exc:
                self._explain_lock_refusal(exc)
                raise
        try:
            parts = self._upload_parts(source, key, upload_id, sha256, size)
            composite = hashlib.sha256(b"".join(base64.b64decode(p["ChecksumSHA256"]) for p in parts)).digest()
            with boundary(self._where, action="complete the multipart upload of", key=key):
                done = self.client.complete_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts})
        except BaseException:
            self._abort(key, upload_id)
            raise
        answered = str(done.get("ChecksumSHA256") or "")
        expected = f"{checksum_b64(composite)}-{len(parts)}"
        if answered and answered != expected:
            # the parts are stored, but not the ones we sent: say so rather than trust them
            raise StoreChecksumMismatch(
                f"{self._where.endpoint} stored {key} with the checksum {answered}, not {expected} as the parts sent add up to. "
                "Check the object in the bucket and run `sangrah verify`.",
                key=key,
                endpoint=self._where.endpoint,
                bucket=self.bucket,
            )

    def _upload_parts(self, source: Path, key: str, upload_id: str, sha256: str, size: int) -> list[dict[str, Any]]:
        """Upload ``source`` in parts, ``max_concurrency`` at a time, each with its SHA-256.

        The file is read once, in order, here; the whole-file SHA-256 is taken on the way and must
        equal the manifest's, or the upload is not completed.
        """
        whole = hashlib.sha256()
        slots = threading.BoundedSemaphore(self.max_concurrency)
        sent = 0
        sent_lock = threading.Lock()

        def upload(number: int, data: bytes) -> dict[str, Any]:
            nonlocal sent
            try:
                digest = checksum_b64(hashlib.sha256(data).digest())
                with boundary(self._where, action=f"upload part {number} of", key=key):
                    answer = self.client.upload_part(
                        Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data, ChecksumAlgorithm="SHA256", ChecksumSHA256=digest
                    )
                with sent_lock:
                    sent += len(data)
                    done = sent
                if self.progress:
                    self.progress(key, done, size)
                return {"PartNumber": number, "ETag": answer["ETag"], "ChecksumSHA256": digest}
            finally:
                slots.release()

        futures: list[Future[dict[str, Any]]] = []
        with ThreadPoolExecutor(max_workers=self.max_concurrency, thread_name_prefix="s3-part") as pool, open(source, "rb") as handle:
            number = 0
            while True:
                slots.acquire()
                if any(f.done() and f.exception() is not None for f in futures):
                    slots.release()
                    break  # a part failed: stop reading; its error is raised below
                data = handle.read(self.multipart_part_bytes)
                if not data:
                    slots.release()
                    break
                whole.update(data)
                number += 1
                futures.append(pool.submit(upload, number, data))
            parts = [f.result() for f in futures]  # raises the first part's error
        if whole.hexdigest() != sha256:
            raise StoreChecksumMismatch(
                f"{source.name} hashes to {whole.hexdigest()} while being uploaded, not {sha256} as the manifest says: "
                "the staging file changed after it was closed. It was not published; run `sangrah verify`.",
                key=key,
                endpoint=self._where.endpoint,
                bucket=self.bucket,
            )
        return parts

    def _explain_lock_refusal(self, exc: Exception) -> None:
        """A write with Object Lock refused for want of a lock configuration: say whether the
        bucket is missing or was made without Object Lock (``init_bucket`` raises which)."""
        if error_code(exc) == "InvalidRequest" and "ObjectLockConfiguration" in str(exc):
            self.init_bucket(create=False)

    def _abort(self, key: str, upload_id: str) -> None:
        try:
            with boundary(self._where, action="abort the multipart upload of", key=key):
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        except StoreError as exc:
            # the parts stay invisible; the next upload of this key removes them
            log.warning("multipart upload left key=%s upload_id=%s: %s", key, upload_id, exc.message)

    def _abort_stale_uploads(self, key: str) -> None:
        """Remove the parts an interrupted upload of ``key`` left (they are never visible)."""
        with boundary(self._where, action="list unfinished uploads of", key=key):
            answer = self.client.list_multipart_uploads(Bucket=self.bucket, Prefix=key)
        for upload in answer.get("Uploads", []):
            if upload.get("Key") == key:
                log.info("removing an unfinished upload key=%s upload_id=%s", key, upload["UploadId"])
                self._abort(key, upload["UploadId"])

    # -- reading ------------------------------------------------------------------------------
    def _head(self, key: str, version_id: str | None = None) -> dict[str, Any] | None:
        """The object's HEAD answer, or None when there is no such key in the bucket."""
        extra = {"VersionId": version_id} if version_id else {}
        with boundary(self._where, action="look up", key=key):
            try:
                return dict(self.client.head_object(Bucket=self.bucket, Key=key, **extra))
            except Exception as exc:
                if error_code(exc) not in ("404", "NoSuchKey", "NotFound"):
                    raise
                if not self._bucket_seen:
                    # a bare 404 does not say whether the key or the bucket is missing: ask once
                    self.client.head_bucket(Bucket=self.bucket)
                    self._bucket_seen = True
                return None

    def read_range(self, key: str, offset: int, length: int) -> bytes:
        if offset < 0 or length <= 0:
            raise StoreError(f"cannot read {key}: ({offset}, {length}) is not a byte range", key=key)
        with boundary(self._where, action=f"read bytes {offset}-{offset + length - 1} of", key=key):
            try:
                answer = self.client.get_object(Bucket=self.bucket, Key=key, Range=f"bytes={offset}-{offset + length - 1}")
            except Exception as exc:
                if error_code(exc) == "InvalidRange":
                    return b""  # the object ends before offset: the reader reports it cut short
                raise
            data: bytes = answer["Body"].read()
        return data

    def exists(self, key: str) -> bool:
        return self._head(key) is not None

    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        with boundary(self._where, action="list the objects of"):
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    yield str(item["Key"])

    def local_path(self, key: str) -> Path | None:
        return None

    def download(self, key: str, target: Path, *, sha256: str) -> None:
        """Stream the object under ``key`` to ``target``, hashing on the way; a copy whose
        SHA-256 is not ``sha256`` is removed and refused."""
        partial = target.with_name(target.name + ".part")
        digest = hashlib.sha256()
        try:
            with boundary(self._where, action="download", key=key):
                body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
                with open(partial, "wb") as out:
                    for chunk in body.iter_chunks(1 << 20):
                        digest.update(chunk)
                        out.write(chunk)
            if digest.hexdigest() != sha256:
                raise StoreChecksumMismatch(
                    f"{key} in {self.where} hashes to {digest.hexdigest()}, not {sha256} as the manifest says. "
                    "The object is not the file that was published; restore it from a copy (a locked bucket keeps the published bytes as an older version of the key).",
                    key=key,
                    endpoint=self._where.endpoint,
                    bucket=self.bucket,
                )
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)

    # -- locks --------------------------------------------------------------------------------
    def retention(self, key: str) -> ObjectRetention:
        head = self._head(key)
        if head is None:
            raise ObjectMissing(f"{key} is not in {self.where}; run `sangrah verify`.", key=key, endpoint=self._where.endpoint, bucket=self.bucket)
        return _retention_of(head)

    def extend_retention(self, key: str, retain_until: datetime) -> bool:
        """Move the object's retain-until to ``retain_until`` if that is later; True if moved.

        Never shortens: COMPLIANCE retention cannot be shortened by anyone, and Sangrah does not
        shorten GOVERNANCE retention either.
        """
        head = self._head(key)
        if head is None:
            raise ObjectMissing(f"cannot lock {key}: it is not in {self.where}.", key=key, endpoint=self._where.endpoint, bucket=self.bucket)
        current = _retention_of(head)
        if current.retain_until is not None and current.retain_until >= retain_until:
            return False
        with boundary(self._where, action="extend the retention of", key=key):
            self.client.put_object_retention(
                Bucket=self.bucket,
                Key=key,
                VersionId=head["VersionId"],
                Retention={"Mode": current.mode or self.lock_mode, "RetainUntilDate": retain_until},
            )
        log.info("retention extended key=%s until=%s", key, retain_until.isoformat())
        return True

    def set_legal_hold(self, key: str, on: bool) -> None:
        """Put the object under legal hold (``on``) or release it; a held object cannot be
        deleted whatever its retention, until the hold is released."""
        head = self._head(key)
        if head is None:
            raise ObjectMissing(f"cannot set a legal hold on {key}: it is not in {self.where}.", key=key, endpoint=self._where.endpoint, bucket=self.bucket)
        with boundary(self._where, action="set the legal hold of", key=key):
            self.client.put_object_legal_hold(Bucket=self.bucket, Key=key, VersionId=head["VersionId"], LegalHold={"Status": "ON" if on else "OFF"})

    # -- deleting -----------------------------------------------------------------------------
    def delete(self, key: str, *, actor: str, reason: str) -> None:
        """Delete every version of ``key``, unless any is under retention or legal hold.

        Audited whether done or refused. S3 enforces the same rule on its side: a refusal there
        (a clock ahead of ours) is reported as ``ObjectLocked`` too.
        """
        if self.audit is None:
            raise StoreError(f"refusing to delete {key}: deletions are audited, and this store was opened without the catalog's audit log.", key=key)
        details: dict[str, Any] = {"reason": reason, "bucket": self.bucket, "endpoint": self._where.endpoint}
        versions = self._versions(key)
        if not versions:
            self.audit(actor=actor, action="delete_object", target=key, outcome="missing", details=details)
            raise ObjectMissing(f"{key} is not in {self.where}; nothing was deleted.", key=key, endpoint=self._where.endpoint, bucket=self.bucket)
        now = datetime.now(timezone.utc)
        for version_id, is_marker in versions:
            if is_marker:
                continue
            head = self._head(key, version_id)
            lock = _retention_of(head) if head else ObjectRetention(None, None, False)
            if lock.locked_at(now):
                until = lock.retain_until.isoformat() if lock.retain_until else None
                self.audit(actor=actor, action="delete_object", target=key, outcome="refused", details={**details, "mode": lock.mode, "retain_until": until, "legal_hold": lock.legal_hold})
                why = "it is under legal hold" if lock.legal_hold else f"it is under {lock.mode} retention until {until}"
                raise ObjectLocked(
                    f"{key} in {self.where} cannot be deleted: {why}. "
                    + ("Release the hold first, if it has ended." if lock.legal_hold else "Nobody can delete it before then; disposal waits for that date."),
                    key=key,
                    endpoint=self._where.endpoint,
                    bucket=self.bucket,
                    mode=lock.mode,
                    retain_until=until,
                    legal_hold=lock.legal_hold,
                )
        try:
            for version_id, _marker in versions:
                with boundary(self._where, action="delete", key=key, locked_if_denied=True):
                    self.client.delete_object(Bucket=self.bucket, Key=key, VersionId=version_id)
        except StoreError as exc:
            self.audit(actor=actor, action="delete_object", target=key, outcome="refused" if isinstance(exc, ObjectLocked) else "failed", details={**details, "error": exc.kind})
            raise
        self.audit(actor=actor, action="delete_object", target=key, outcome="ok", details={**details, "versions": len(versions)})

    def _versions(self, key: str) -> list[tuple[str, bool]]:
        """(version id, is a delete marker) of every version of exactly ``key``."""
        found: list[tuple[str, bool]] = []
        with boundary(self._where, action="list the versions of", key=key):
            for page in self.client.get_paginator("list_object_versions").paginate(Bucket=self.bucket, Prefix=key):
                found += [(v["VersionId"], False) for v in page.get("Versions", []) if v["Key"] == key]
                found += [(m["VersionId"], True) for m in page.get("DeleteMarkers", []) if m["Key"] == key]
        return found


def _retention_of(head: dict[str, Any]) -> ObjectRetention:
    until = head.get("ObjectLockRetainUntilDate")
    if isinstance(until, datetime):
        until = until.replace(tzinfo=timezone.utc) if until.tzinfo is None else until.astimezone(timezone.utc)
    return ObjectRetention(mode=head.get("ObjectLockMode"), retain_until=until, legal_hold=head.get("ObjectLockLegalHoldStatus") == "ON")
