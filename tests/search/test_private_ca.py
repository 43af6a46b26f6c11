"""A cluster behind the department's own CA (``search.ca_certs``): the real node, reached over TLS
with a certificate signed by a CA made for the test, through a TLS front that forwards each
connection's bytes to the node unchanged. With the CA named, ``config check`` and the search
client both trust it; without it, both refuse the certificate and say what to do."""

from __future__ import annotations

import datetime
import ipaddress
import os
import socket
import ssl
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from archiver.config import load_config
from archiver.errors import SearchError
from archiver.pipeline.search_checks import check_search
from archiver.search.backend import open_backend
from tests.search.conftest import BACKEND_URLS


def _pem_pair(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(CA certificate, server certificate for 127.0.0.1, server key), as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Records Cell Test CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    server = (
        x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])).issuer_name(ca_name)
        .public_key(server_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_file, cert_file, key_file = tmp_path / "dept-ca.pem", tmp_path / "node.pem", tmp_path / "node.key"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(server_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return ca_file, cert_file, key_file


class _TlsFront:
    """Listens on 127.0.0.1 with TLS and forwards each connection to the node's plain HTTP port."""

    def __init__(self, upstream: str, cert_file: Path, key_file: Path) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 9200)
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(cert_file, key_file)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"https://127.0.0.1:{self.listener.getsockname()[1]}"
        self.refused = 0  #: handshakes the client broke off (it did not trust the certificate)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                raw, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(raw,), daemon=True).start()

    def _serve(self, raw: socket.socket) -> None:
        try:
            client = self.context.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            self.refused += 1
            raw.close()
            return
        node = socket.create_connection(self.upstream)
        threading.Thread(target=self._pump, args=(node, client), daemon=True).start()
        self._pump(client, node)

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, target):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self.listener.close()


@pytest.fixture(params=list(BACKEND_URLS))
def front(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, _TlsFront, Path]]:
    """(backend, the TLS front of its node, the CA file that signs the front's certificate)."""
    backend = request.param
    upstream = os.environ.get(BACKEND_URLS[backend])
    if not upstream:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{BACKEND_URLS[backend]} is not set: the {backend} node is required in CI")
        pytest.skip(f"{BACKEND_URLS[backend]} is not set")
    ca_file, cert_file, key_file = _pem_pair(tmp_path)
    tls = _TlsFront(upstream, cert_file, key_file)
    try:
        yield backend, tls, ca_file
    finally:
        tls.close()


def _config(tmp_path: Path, backend: str, url: str, **search: Any) -> Any:
    return load_config(None, overrides={"data_dir": str(tmp_path / "data"), "search": {"backend": backend, "url": url, "index": f"sangrah-ca-test-{uuid.uuid4().hex[:8]}", "timeout_seconds": 10, **search}})


def test_the_departments_ca_is_trusted_by_config_check_and_the_client(tmp_path: Path, front: tuple[str, _TlsFront, Path]) -> None:
    backend, tls, ca_file = front
    config = _config(tmp_path, backend, tls.url, ca_certs=str(ca_file))
    check = check_search(config)
    assert check.ok, check
    assert check.detail.startswith(f"{backend} {'2.' if backend == 'opensearch' else '9.'}")
    assert check.detail.endswith(f"the index {config.search.index} does not exist yet, and there is no record dataset to fill it: sangrah index builds it after the first extraction")
    # the search client, given the same CA, makes the index, counts it and drops it over TLS
    search = open_backend(config)
    try:
        search.create()
        try:
            assert search.count() == 0
        finally:
            search.drop()
    finally:
        search.close()
    assert tls.refused == 0


def test_without_the_ca_both_refuse_the_certificate_and_say_what_to_do(tmp_path: Path, front: tuple[str, _TlsFront, Path]) -> None:
    backend, tls, _ca_file = front
    config = _config(tmp_path, backend, tls.url)
    check = check_search(config)
    assert not check.ok
    assert check.detail.startswith(f"cannot reach {tls.url}: ConnectError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer certificate")
    assert check.next_step == "Name the PEM file of the CA that signs the cluster's certificate in search.ca_certs (or correct search.url to the name the certificate is for)."
    search = open_backend(config)
    try:
        with pytest.raises(SearchError):
            search.count()
    finally:
        search.close()
    assert tls.refused >= 2
