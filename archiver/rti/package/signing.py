"""The package signature: Ed25519 (``cryptography``) over the bag's tag manifest.

The private key is a PKCS#8 PEM file named in the configuration (``disclosure.signing_key_file``),
readable by its owner alone; ``generate_signing_key`` makes one with its public key beside it
(``NAME.pub.pem``) and never prints or logs the private key. The signature covers
``tagmanifest-sha256.txt``, which holds the SHA-256 of the payload manifest, ``bag-info.txt``
and every tag file, so one signature covers every byte of the package.

Usage::

    public_pem = generate_signing_key(Path("/etc/sangrah/rti-signing.pem"))
    key = load_signing_key(Path("/etc/sangrah/rti-signing.pem"))
    signature = key.sign(data)          # 64 bytes
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from archiver.errors import ConfigError
from archiver.rti.package.verifier import fingerprint

__all__ = ["SigningKey", "generate_signing_key", "load_signing_key", "public_key_path"]


def public_key_path(private: Path) -> Path:
    return private.with_name(private.name.removesuffix(".pem") + ".pub.pem")


class SigningKey:
    def __init__(self, key: Ed25519PrivateKey, source: Path) -> None:
        self._key = key
        self.source = source

    def __repr__(self) -> str:  # never the key itself
        return f"SigningKey({self.source}, fingerprint={self.fingerprint[:16]}…)"

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data)

    @property
    def public_pem(self) -> bytes:
        return self._key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_pem)


def generate_signing_key(path: Path) -> bytes:
    """Create an Ed25519 key pair at ``path`` (owner-only) and ``NAME.pub.pem``; the public PEM."""
    path = Path(path)
    if path.exists():
        raise ConfigError(f"{path} already exists; a signing key is never overwritten. Choose another path, or remove the old key yourself.")
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(private)
    public = SigningKey(key, path).public_pem
    public_key_path(path).write_bytes(public)
    return public


def load_signing_key(path: Path) -> SigningKey:
    path = Path(path)
    try:
        mode = path.stat().st_mode
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"disclosure.signing_key_file {path}: cannot be read ({exc.strerror}). Create a key with "
            "archiver.rti.package.generate_signing_key, or name the right file in the config."
        ) from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"disclosure.signing_key_file {path}: readable by others (mode {stat.S_IMODE(mode):o}); run: chmod 600 {path}")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"disclosure.signing_key_file {path}: not an unencrypted PKCS#8 PEM private key. Create one with generate_signing_key.") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"disclosure.signing_key_file {path}: holds a {type(key).__name__.removeprefix('_')}, not an Ed25519 key.")
    return SigningKey(key, path)
