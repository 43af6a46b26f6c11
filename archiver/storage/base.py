"""What every store offers, and the types its methods share.

A store publishes a closed WARC file atomically (wholly there under its key, or not at all),
serves ranged reads for opening one record by its pointer, lists its keys, copies a file out
with its SHA-256 checked, puts an object under legal hold, and deletes only through one governed
path that refuses what is locked or held and leaves an audit entry either way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

__all__ = ["Store", "AuditFn", "ObjectRetention", "WARC_PREFIX", "sha256_of_file"]


class AuditFn(Protocol):
    """Where a store writes its audit entries: ``Catalog.audit`` has this shape."""

    def __call__(self, *, actor: str, action: str, target: str | None, outcome: str, details: Mapping[str, Any] | None = None) -> None: ...


@dataclass(frozen=True, slots=True)
class ObjectRetention:
    """The lock on one stored object: its Object Lock mode and retain-until instant (both None
    when it has no retention) and whether a legal hold is on."""

    mode: str | None
    retain_until: datetime | None
    legal_hold: bool

    def locked_at(self, now: datetime) -> bool:
        """True when nobody may delete the object at ``now``."""
        return self.legal_hold or (self.retain_until is not None and self.retain_until > now)


#: where every store keeps the WARC files: objects (or files) under this key prefix
WARC_PREFIX = "warcs/"


class Store(Protocol):
    #: where the store is, for messages: a directory, or ``s3://bucket at endpoint``
    where: str

    def put_file(self, source: Path, key: str, *, sha256: str) -> None: ...

    def read_range(self, key: str, offset: int, length: int) -> bytes: ...

    def exists(self, key: str) -> bool: ...

    def iter_keys(self, prefix: str = "") -> Iterator[str]: ...

    def local_path(self, key: str) -> Path | None: ...

    def download(self, key: str, target: Path, *, sha256: str) -> None: ...

    def retention(self, key: str) -> ObjectRetention: ...

    def extend_retention(self, key: str, retain_until: datetime) -> bool: ...

    def set_legal_hold(self, key: str, on: bool) -> None: ...

    def delete(self, key: str, *, actor: str, reason: str) -> None: ...


def sha256_of_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
