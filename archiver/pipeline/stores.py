"""The store the configuration names, and local copies of its WARC files for whole-file readers.

``open_store`` gives a ``LocalStore`` (``storage.kind: local``) or an ``S3Store`` (``s3``);
nothing else chooses. Readers of one record (``sangrah show``) use ranged reads on either;
readers of a whole file (extraction, ``verify``) go through ``WarcFiles``, which hands out the
store's own file when it has one, and otherwise streams the object into the cache directory,
checked against the manifest's SHA-256, keeping one download at a time.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from archiver.catalog import Catalog
from archiver.config import Config
from archiver.errors import CatalogError, ConfigError
from archiver.storage import AuditFn, LocalStore, Store

if TYPE_CHECKING:
    from archiver.storage.s3 import ProgressFn, S3Store

__all__ = ["open_store", "open_s3_store", "WarcFiles"]

log = logging.getLogger(__name__)


def open_store(config: Config, *, audit: AuditFn | None = None) -> Store:
    """The configured store; ``audit`` (the catalog's ``audit``) is needed only to delete."""
    if config.storage.kind == "s3":
        return open_s3_store(config, audit=audit)
    config.store_dir.mkdir(parents=True, exist_ok=True)
    return LocalStore(config.store_dir, audit=audit)


def open_s3_store(config: Config, *, audit: AuditFn | None = None, progress: ProgressFn | None = None) -> S3Store:
    """The ``S3Store`` of ``config.storage``, with its credentials read from the variables it names."""
    settings = config.storage
    if settings.bucket is None:
        raise ConfigError("storage.bucket is not set; name the bucket that holds the WARC files (docs/configuration.md, storage).")
    try:
        from archiver.storage.s3 import S3Store
    except ImportError as exc:
        raise ConfigError(f"storage.kind is s3, but boto3 is not installed ({exc}). Install it: pip install 'sangrah[s3]'") from exc
    access_key = secret_key = None
    if settings.access_key_env and settings.secret_key_env:
        access_key = config.secret(settings.access_key_env)
        secret_key = config.secret(settings.secret_key_env)
        unset = [name for name, value in ((settings.access_key_env, access_key), (settings.secret_key_env, secret_key)) if value is None]
        if unset:
            raise ConfigError(
                f"the S3 credentials for bucket {settings.bucket} are read from {settings.access_key_env} and {settings.secret_key_env}, "
                f"but {' and '.join(unset)} {'is' if len(unset) == 1 else 'are'} not set. Export the access key pair there (or name other variables in storage.access_key_env and storage.secret_key_env)."
            )
    return S3Store(
        bucket=settings.bucket,
        endpoint_url=settings.endpoint_url,
        region=settings.region,
        access_key=access_key,
        secret_key=secret_key,
        access_key_env=settings.access_key_env,
        secret_key_env=settings.secret_key_env,
        lock_mode=settings.object_lock_mode,
        default_retention=timedelta(days=settings.default_retention_days),
        multipart_threshold_bytes=settings.multipart_threshold_bytes,
        multipart_part_bytes=settings.multipart_part_bytes,
        max_concurrency=settings.max_concurrency,
        timeout_seconds=settings.timeout_seconds,
        max_attempts=settings.max_attempts,
        audit=audit,
        progress=progress,
    )


class WarcFiles:
    """Local paths of published WARC files, for readers that need the whole file.

    Use as a context manager: downloaded copies are removed on exit, and each one as soon as
    the next is asked for, so the cache holds at most one WARC file. ``keys`` lists the keys
    handed out, in order.
    """

    def __init__(self, store: Store, catalog: Catalog, cache_dir: Path) -> None:
        self.store = store
        self.catalog = catalog
        self.cache_dir = cache_dir / "warcs"
        self.keys: list[str] = []
        self._downloaded: Path | None = None

    def __enter__(self) -> WarcFiles:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Remove the downloaded copy, if any."""
        self._drop()

    def local(self, key: str) -> Path | None:
        """The WARC file published under ``key`` where it already is on this machine, without
        fetching it (None on an object store)."""
        return self.store.local_path(key)

    def path(self, key: str) -> Path:
        """A local path holding the WARC file published under ``key``."""
        self.keys.append(key)
        local = self.store.local_path(key)
        if local is not None:
            return local
        self._drop()
        name = key.rsplit("/", 1)[-1]
        row = self.catalog.get_warc(name)
        if row is None or row.store_key != key:
            raise CatalogError(f"{key} is not in the manifest, so its copy cannot be checked; run `sangrah verify`.")
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        target = self.cache_dir / name
        started = time.monotonic()
        self.store.download(key, target, sha256=row.sha256)
        self._downloaded = target
        log.info("downloaded warc_file=%s bytes=%d seconds=%.1f from=%s", name, row.size_bytes, time.monotonic() - started, self.store.where)
        return target

    def _drop(self) -> None:
        if self._downloaded is not None:
            self._downloaded.unlink(missing_ok=True)
            self._downloaded = None
