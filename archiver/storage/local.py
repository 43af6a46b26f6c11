"""The local-directory store: the embedded default.

A directory has no Object Lock: nothing but file permissions keeps an administrator from deleting
a file, so evidence that must survive one belongs on S3 with Object Lock (``S3Store``). What it
does keep is the governed path: legal holds (a marker file under ``.holds/``) make ``delete``
refuse, and every deletion, done or refused, is audited.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from archiver.errors import ObjectLocked, ObjectMissing, StoreError
from archiver.storage.base import AuditFn, ObjectRetention, Store, sha256_of_file

__all__ = ["Store", "LocalStore", "fsync_dir"]

_HOLDS = ".holds"


class LocalStore:
    """Files under ``root``; keys are relative POSIX paths such as ``warcs/NAME.warc.gz``.

    Publication copies (or renames, on the same file system) into a hidden temporary name beside
    the target, fsyncs, checks the SHA-256, then renames into place: a reader never sees half a file.
    """

    def __init__(self, root: Path, *, audit: AuditFn | None = None) -> None:
        self.root = Path(root)
        self.where = str(self.root)
        self.audit = audit

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise StoreError(f"store key {key!r} escapes the store root {self.root}", key=key)
        return path

    def put_file(self, source: Path, key: str, *, sha256: str) -> None:
        target = self._path(key)
        if target.exists():
            if sha256_of_file(target) == sha256:
                return  # already published (a resumed publication)
            raise StoreError(
                f"{key} already exists in the store with different content; refusing to overwrite evidence. "
                "Run `sangrah verify` to see which copy is damaged.",
                key=key,
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_name(f".{target.name}.part")
        try:
            if temp.exists():
                temp.unlink()  # left by a publication that was killed
            if source.stat().st_dev == target.parent.stat().st_dev:
                os.link(source, temp)  # same file system: no copy needed
            else:
                shutil.copyfile(source, temp)
            with open(temp, "rb+") as handle:
                os.fsync(handle.fileno())
            actual = sha256_of_file(temp)
            if actual != sha256:
                raise StoreError(
                    f"{key}: the copy in the store hashes to {actual}, not {sha256} as the manifest says; "
                    "the staging file changed after it was closed. It was not published.",
                    key=key,
                )
            os.replace(temp, target)
            fsync_dir(target.parent)
        except OSError as exc:
            raise StoreError(f"cannot publish {key} to {self.root}: {exc}. Check free space and permissions.", key=key) from exc
        finally:
            if temp.exists():
                temp.unlink()

    def read_range(self, key: str, offset: int, length: int) -> bytes:
        try:
            with open(self._path(key), "rb") as handle:
                handle.seek(offset)
                return handle.read(length)
        except OSError as exc:
            raise StoreError(f"cannot read {key} at offset {offset} from {self.root}: {exc}", key=key) from exc

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        base = self.root / prefix if prefix else self.root
        if not base.exists():
            return
        for path in sorted(base.rglob("*")):
            relative = path.relative_to(self.root)
            if path.is_file() and not any(part.startswith(".") for part in relative.parts):
                yield relative.as_posix()

    def local_path(self, key: str) -> Path | None:
        return self._path(key)

    def download(self, key: str, target: Path, *, sha256: str) -> None:
        """Copy the file under ``key`` to ``target``, checked against ``sha256``."""
        source = self._path(key)
        if not source.is_file():
            raise ObjectMissing(f"{key} is not in the store at {self.root}; run `sangrah verify` to see what else is missing.", key=key)
        partial = target.with_name(target.name + ".part")
        shutil.copyfile(source, partial)
        actual = sha256_of_file(partial)
        if actual != sha256:
            partial.unlink()
            raise StoreError(f"{key} in {self.root} hashes to {actual}, not {sha256} as the manifest says; restore it from a copy.", key=key)
        os.replace(partial, target)

    def retention(self, key: str) -> ObjectRetention:
        return ObjectRetention(mode=None, retain_until=None, legal_hold=self._hold_marker(key).exists())

    def extend_retention(self, key: str, retain_until: datetime) -> bool:
        """A directory has no retention to extend: always False."""
        return False

    def set_legal_hold(self, key: str, on: bool) -> None:
        if not self._path(key).is_file():
            raise ObjectMissing(f"cannot put {key} under legal hold: it is not in the store at {self.root}.", key=key)
        marker = self._hold_marker(key)
        if on:
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.touch()
        else:
            marker.unlink(missing_ok=True)

    def delete(self, key: str, *, actor: str, reason: str) -> None:
        """Delete the file under ``key`` unless it is held; audited whether done or refused."""
        if self.audit is None:
            raise StoreError(f"refusing to delete {key}: deletions are audited, and this store was opened without the catalog's audit log.", key=key)
        path = self._path(key)
        details = {"reason": reason, "store": self.where}
        if self._hold_marker(key).exists():
            self.audit(actor=actor, action="delete_object", target=key, outcome="refused", details={**details, "legal_hold": True})
            raise ObjectLocked(
                f"{key} is under legal hold in {self.root}; it cannot be deleted until the hold is released.",
                key=key,
                legal_hold=True,
            )
        if not path.is_file():
            self.audit(actor=actor, action="delete_object", target=key, outcome="missing", details=details)
            raise ObjectMissing(f"{key} is not in the store at {self.root}; nothing was deleted.", key=key)
        path.unlink()
        fsync_dir(path.parent)
        self.audit(actor=actor, action="delete_object", target=key, outcome="ok", details=details)

    def _hold_marker(self, key: str) -> Path:
        return self.root / _HOLDS / self._path(key).relative_to(self.root.resolve())


def fsync_dir(path: Path) -> None:
    """Make a rename in ``path`` durable: it is on disk only once the directory entry is."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
