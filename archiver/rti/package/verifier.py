#!/usr/bin/env python3
"""Check a Sangrah disclosure package offline: every hash, then the signature.

This file is copied into every package as ``verify/verify_package.py``. It needs Python 3.8 or
newer and nothing else for the hashes. The signature (Ed25519, over ``tagmanifest-sha256.txt``)
is checked with the ``cryptography`` package if it is installed, or with the ``openssl``
command (OpenSSL 3.0 or newer).

    python3 verify/verify_package.py                 # the package this script is in
    python3 verify_package.py PATH/TO/PACKAGE --using openssl
    python3 verify_package.py PACKAGE --public-key department-key.pem

Exit status: 0 every hash and the signature are good; 1 something does not match (each problem
is printed); 3 the hashes are good but the signature could not be checked here.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

__all__ = ["main", "check_hashes", "check_signature", "fingerprint", "sha256_file"]

SIGNED = "tagmanifest-sha256.txt"
SIGNATURE = "tagmanifest-sha256.txt.sig"
PUBLIC_KEY = "verify/public-key.pem"


def _decode_path(text: str) -> str:
    # RFC 8493 §2.1.3: CR, LF and % in file names are percent-encoded in manifests
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def sha256_file(path: Path) -> str:
    """SHA-256 (hex) of a file, read a megabyte at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _manifest(bag: Path, name: str, problems: list[str]) -> dict[str, str]:
    entries: dict[str, str] = {}
    path = bag / name
    if not path.is_file():
        problems.append(f"{name} is missing")
        return entries
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        digest, sep, rel = line.partition(" ")
        rel = rel.lstrip(" ")
        if not sep or len(digest) != 64:
            problems.append(f"{name} line {number} is not 'SHA256 PATH'")
            continue
        entries[_decode_path(rel)] = digest.lower()
    return entries


def check_hashes(bag: Path) -> tuple[list[str], int]:
    """Every problem with the bag's hashes, and how many files were checked."""
    problems: list[str] = []
    checked = 0
    if not (bag / "bagit.txt").is_file():
        problems.append("bagit.txt is missing: this is not a BagIt bag")
    payload = _manifest(bag, "manifest-sha256.txt", problems)
    tags = _manifest(bag, SIGNED, problems)
    for listing, what in ((payload, "payload file"), (tags, "tag file")):
        for rel, expected in sorted(listing.items()):
            target = bag / rel
            if ".." in Path(rel).parts or not target.is_file():
                problems.append(f"{what} {rel} is listed but missing")
                continue
            checked += 1
            actual = sha256_file(target)
            if actual != expected:
                problems.append(f"{what} {rel}: SHA-256 is {actual}, the manifest says {expected}")
    data = bag / "data"
    if data.is_dir():
        for path in sorted(p for p in data.rglob("*") if p.is_file()):
            rel = path.relative_to(bag).as_posix()
            if rel not in payload:
                problems.append(f"payload file {rel} is not in manifest-sha256.txt")
    for required in ("manifest-sha256.txt", "bagit.txt", "bag-info.txt"):
        if tags and required not in tags:
            problems.append(f"{SIGNED} does not cover {required}")
    oxum = ""
    info = bag / "bag-info.txt"
    if info.is_file():
        for line in info.read_text(encoding="utf-8").splitlines():
            if line.startswith("Payload-Oxum:"):
                oxum = line.split(":", 1)[1].strip()
    if oxum:
        size = sum((bag / rel).stat().st_size for rel in payload if (bag / rel).is_file())
        if oxum != f"{size}.{len(payload)}":
            problems.append(f"Payload-Oxum says {oxum}, the payload is {size}.{len(payload)}")
    return problems, checked


def _raw_public_key(pem: bytes) -> bytes:
    body = b"".join(line for line in pem.splitlines() if line and not line.startswith(b"-----"))
    der = base64.b64decode(body)
    # SubjectPublicKeyInfo of Ed25519 (RFC 8410): a 12-byte prefix, then the 32-byte key
    if len(der) != 44 or not der.startswith(bytes.fromhex("302a300506032b6570032100")):
        raise ValueError("not an Ed25519 public key in PEM (RFC 8410)")
    return der[12:]


def fingerprint(pem: bytes) -> str:
    """SHA-256 of the raw public key, the value a department publishes to identify its key."""
    return hashlib.sha256(_raw_public_key(pem)).hexdigest()


def check_signature(bag: Path, public_key: Path, using: str = "auto") -> tuple[bool | None, str]:
    """(True, how) for a good signature, (False, why) for a bad one, (None, why) if unchecked."""
    signed, signature = bag / SIGNED, bag / SIGNATURE
    if not signature.is_file():
        return False, f"{SIGNATURE} is missing: the package is not signed"
    pem = public_key.read_bytes()
    if using in ("auto", "cryptography"):
        try:
            from cryptography.exceptions import InvalidSignature
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
        except ImportError:
            if using == "cryptography":
                return None, "the cryptography package is not installed"
        else:
            key = Ed25519PublicKey.from_public_bytes(_raw_public_key(pem))
            try:
                key.verify(signature.read_bytes(), signed.read_bytes())
            except InvalidSignature:
                return False, "the signature does not match tagmanifest-sha256.txt (checked with cryptography)"
            return True, "cryptography"
    openssl = shutil.which("openssl")
    if openssl is None:
        return None, "neither the cryptography package nor the openssl command is available"
    run = subprocess.run(
        [openssl, "pkeyutl", "-verify", "-pubin", "-inkey", str(public_key), "-rawin", "-in", str(signed), "-sigfile", str(signature)],
        capture_output=True,
        text=True,
    )
    out = (run.stdout + run.stderr).strip()
    if run.returncode == 0 and "Signature Verified Successfully" in out:
        return True, "openssl"
    if "Verification failure" in out or "Signature Verification Failure" in out:
        return False, "the signature does not match tagmanifest-sha256.txt (checked with openssl)"
    return None, f"openssl could not check it: {out.splitlines()[-1] if out else run.returncode}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check a Sangrah disclosure package: hashes, then signature.")
    parser.add_argument("package", nargs="?", default=str(Path(__file__).resolve().parents[1]), help="the package folder (default: the one holding this script)")
    parser.add_argument("--public-key", help=f"the department's public key (default: {PUBLIC_KEY} in the package)")
    parser.add_argument("--using", choices=("auto", "cryptography", "openssl"), default="auto")
    args = parser.parse_args(argv)
    bag = Path(args.package)
    problems, checked = check_hashes(bag)
    for problem in problems:
        print(f"PROBLEM {problem}")
    print(f"hashes: {checked} files checked, {len(problems)} problem(s)")
    key = Path(args.public_key) if args.public_key else bag / PUBLIC_KEY
    if not key.is_file():
        print(f"PROBLEM public key {key} not found")
        return 1
    verdict, how = check_signature(bag, key, args.using)
    print(f"public key fingerprint (SHA-256): {fingerprint(key.read_bytes())}")
    if not args.public_key:
        print("compare it with the fingerprint the department publishes: a key inside the package proves nothing alone")
    print(f"signature: {'good' if verdict else 'BAD' if verdict is False else 'not checked'} ({how})")
    if problems or verdict is False:
        return 1
    return 0 if verdict else 3


if __name__ == "__main__":
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    sys.exit(main())
