"""The signing key: created owner-only, never overwritten, refused when others can read it,
never shown."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from archiver.errors import ConfigError
from archiver.rti.package import generate_signing_key, load_signing_key
from archiver.rti.package.signing import public_key_path


def test_a_key_pair_is_created_owner_only_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "rti-signing.pem"
    public = generate_signing_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert public_key_path(path).read_bytes() == public and public.startswith(b"-----BEGIN PUBLIC KEY-----")
    private = path.read_bytes()
    key = load_signing_key(path)
    assert private.decode().split("\n")[1] not in repr(key) and "BEGIN" not in repr(key)
    assert repr(key).startswith(f"SigningKey({path}, fingerprint={key.fingerprint[:16]}")
    assert len(key.sign(b"manifest")) == 64 and key.public_pem == public
    with pytest.raises(ConfigError, match="already exists; a signing key is never overwritten"):
        generate_signing_key(path)
    assert path.read_bytes() == private


def test_a_key_others_can_read_or_that_is_not_ed25519_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "rti-signing.pem"
    generate_signing_key(path)
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError) as caught:
        load_signing_key(path)
    assert caught.value.message == f"disclosure.signing_key_file {path}: readable by others (mode 644); run: chmod 600 {path}"
    missing = tmp_path / "none.pem"
    with pytest.raises(ConfigError, match="cannot be read"):
        load_signing_key(missing)
    junk = tmp_path / "junk.pem"
    junk.write_bytes(b"not a key")
    os.chmod(junk, 0o600)
    with pytest.raises(ConfigError, match="not an unencrypted PKCS#8 PEM private key"):
        load_signing_key(junk)
