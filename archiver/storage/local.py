"""The local-directory store: the embedded default."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from archiver.errors import StoreError

__all__ = ["Store", "LocalStore", "fsync_dir"]


class Store(Protocol):
    def put_file(self, source: Path, key: str, *, sha256: str) -> None: ...

    def read_range(self, key: str, offset: int, length: int) -> bytes: ...

    def exists(self, key: str) -> bool: ...

    def iter_keys(self, prefix: str = "") -> Iterator[str]: ...

    def local_path(self, key: str) -> Path | None: ...


class LocalStore:
    """Files under ``root``; keys are relative POSIX paths such as ``warcs/NAME.warc.gz``.

    Publication copies (or renames, on the same file system) into a hidden temporary name beside
    the target, fsyncs, checks the SHA-256, then renames into place: a reader never sees half a file.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise StoreError(f"store key {key!r} escapes the store root {self.root}", key=key)
        return path

    def put_file(self, source: Path, key: str, *, sha256: str) -> None:
        target = self._path(key)
        if target.exists():
            if _sha256_of(target) == sha256:
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
            actual = _sha256_of(temp)
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
            if path.is_file() and not path.name.startswith("."):
                yield path.relative_to(self.root).as_posix()

    def local_path(self, key: str) -> Path | None:
        return self._path(key)


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fsync_dir(path: Path) -> None:
    """Make a rename in ``path`` durable: it is on disk only once the directory entry is."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
