"""BagIt (RFC 8493) bags: SHA-256 payload manifest, bag-info with Payload-Oxum, tag files, the
tag manifest and its Ed25519 signature; and the ZIP of a bag.

A bag here is ``bagit.txt``, ``bag-info.txt``, ``manifest-sha256.txt``, the verifier in
``verify/``, ``tagmanifest-sha256.txt`` over all of those, ``tagmanifest-sha256.txt.sig`` (the
signature, which cannot list itself) and the payload under ``data/``.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from archiver.rti.package.signing import SigningKey
from archiver.rti.package.verifier import SIGNATURE, SIGNED, sha256_file

__all__ = ["finish_bag", "zip_bag", "sha256_file"]

_STORED = (".wacz", ".gz", ".zip", ".pdf", ".png", ".jpg")


def _encode(rel: str) -> str:
    return rel.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _manifest(bag: Path, paths: list[Path]) -> tuple[bytes, int]:
    lines, size = [], 0
    for path in sorted(paths, key=lambda p: p.relative_to(bag).as_posix()):
        lines.append(f"{sha256_file(path)}  {_encode(path.relative_to(bag).as_posix())}\n")
        size += path.stat().st_size
    return "".join(lines).encode("utf-8"), size


def finish_bag(bag: Path, info: Mapping[str, str], tag_files: Mapping[str, bytes], key: SigningKey, *, bagged_at: datetime) -> str:
    """Write the manifests, bag-info and tag files of the bag whose payload is in ``bag/data``,
    sign the tag manifest; return the tag manifest's SHA-256."""
    payload = [p for p in (bag / "data").rglob("*") if p.is_file()]
    manifest, size = _manifest(bag, payload)
    (bag / "manifest-sha256.txt").write_bytes(manifest)
    (bag / "bagit.txt").write_bytes(b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")
    fields = {
        **info,
        "Bagging-Date": bagged_at.date().isoformat(),
        "Payload-Oxum": f"{size}.{len(payload)}",
        "Bag-Size": f"{size:,} bytes",
    }
    (bag / "bag-info.txt").write_bytes("".join(f"{k}: {' '.join(str(v).split())}\n" for k, v in fields.items()).encode("utf-8"))
    for rel, data in tag_files.items():
        target = bag / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    tags = [bag / "bagit.txt", bag / "bag-info.txt", bag / "manifest-sha256.txt", *(bag / rel for rel in tag_files)]
    tagmanifest, _ = _manifest(bag, tags)
    (bag / SIGNED).write_bytes(tagmanifest)
    (bag / SIGNATURE).write_bytes(key.sign(tagmanifest))
    return hashlib.sha256(tagmanifest).hexdigest()


def zip_bag(bag: Path, target: Path) -> str:
    """ZIP the bag under its own folder name; return the ZIP's SHA-256."""
    with zipfile.ZipFile(target, "w") as zf:
        for path in sorted(p for p in bag.rglob("*") if p.is_file()):
            arc = f"{bag.name}/{path.relative_to(bag).as_posix()}"
            zf.write(path, arc, compress_type=zipfile.ZIP_STORED if path.name.endswith(_STORED) else zipfile.ZIP_DEFLATED)
    return sha256_file(target)
