"""The search backend's check for ``sangrah config check``: the FTS5 file, or the cluster.

FTS5: this Python's SQLite has FTS5, and the index file is there and readable (read-only). A
cluster: reachable at ``search.url``, the product the config names (OpenSearch 2, or
Elasticsearch 9, the major version of the client Sangrah uses), the credential accepted, and the
index present. A CA file (``search.ca_certs``) is read first, and the certificate checked
against it. It asks the cluster over plain HTTP (``GET /``, ``GET /INDEX/_count``) rather
than through a search client, so that each failure is reported as the server gave it. An index
not made yet is a failure once there is a record dataset to fill it from: the next step is
``sangrah index``.
"""

from __future__ import annotations

import ssl
import sqlite3
from typing import Any

from archiver.config import Config
from archiver.pipeline.checks import Check

__all__ = ["check_search", "SUPPORTED_MAJORS"]

#: the major versions Sangrah's clients speak to, and its tests run against
SUPPORTED_MAJORS = {"opensearch": (2,), "elasticsearch": (9,)}


def _has_dataset(config: Config) -> bool:
    return config.records_dir.exists() and next(config.records_dir.rglob("*.parquet"), None) is not None


def _missing_index(config: Config, name: str, what: str) -> Check:
    if _has_dataset(config):
        return Check("search", name, False, f"{what} does not exist yet, and the record dataset has files to index", "Build it from the record dataset: sangrah index")
    return Check("search", name, True, f"{what} does not exist yet, and there is no record dataset to fill it: sangrah index builds it after the first extraction")


def check_search(config: Config) -> Check:
    if config.search.backend == "fts5":
        return _check_fts5(config)
    return _check_cluster(config)


def _check_fts5(config: Config) -> Check:
    path = config.search_index_path.resolve()
    name = f"fts5 {path}"
    probe = sqlite3.connect(":memory:")
    try:
        probe.execute("CREATE VIRTUAL TABLE probe USING fts5(text)")
    except sqlite3.Error as exc:
        return Check("search", name, False, f"this Python's SQLite {sqlite3.sqlite_version} has no FTS5 ({exc})", "Use a Python built with FTS5 (Debian's and python.org's are), or set search.backend to opensearch or elasticsearch.")
    finally:
        probe.close()
    if not path.exists():
        return _missing_index(config, name, "the index file")
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            documents = int(db.execute("SELECT count(*) FROM docs").fetchone()[0])
        finally:
            db.close()
    except sqlite3.Error as exc:
        return Check("search", name, False, f"cannot read the index file: {exc}", "Rebuild it from the record dataset: sangrah rebuild index")
    return Check("search", name, True, f"the index file is readable: {documents:,} documents")


def _check_cluster(config: Config) -> Check:
    import httpx

    settings = config.search
    backend = settings.backend
    url = (settings.url or "http://127.0.0.1:9200").rstrip("/")
    name = f"{backend} {url} (index {settings.index})"
    headers: dict[str, str] = {"Accept": "application/json"}
    auth: tuple[str, str] | None = None
    credential = config.secret(settings.credential_env) if settings.credential_env else None
    if settings.credential_env and credential is None:
        return Check("search", name, False, f"not checked: {settings.credential_env} is not set", f"Export the {backend} credential (user:password or an API key) as {settings.credential_env}.")
    if credential and ":" in credential:
        user, _, password = credential.partition(":")
        auth = (user, password)
    elif credential:
        headers["Authorization"] = f"ApiKey {credential}"
    verify: bool | ssl.SSLContext = settings.verify_certs
    if settings.ca_certs is not None:
        ca = settings.ca_certs.resolve()
        reason = None
        try:
            verify = ssl.create_default_context(cafile=str(ca))
        except ssl.SSLError:
            reason = "it holds no PEM certificate"
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
        if reason is not None:
            return Check("search", name, False, f"not checked: the CA file search.ca_certs {ca} cannot be read ({reason})", f"Put the PEM certificate of the CA that signs the cluster's certificate at {ca}, readable by this user, or correct search.ca_certs.")
    try:
        with httpx.Client(timeout=settings.timeout_seconds, verify=verify, headers=headers, auth=auth) as client:
            product, version = _identify(client, url, backend)
            _check_product(product, version, backend)
            count = client.get(f"{url}/{settings.index}/_count")
            if count.status_code == 404:
                return _missing_index(config, name, f"{backend} {version} answers; the index {settings.index}")
            _check_answer(count, backend, url)
    except _Unfit as unfit:
        return Check("search", name, False, unfit.detail, unfit.next_step)
    except httpx.HTTPError as exc:
        return Check("search", name, False, f"cannot reach {url}: {type(exc).__name__}: {exc}", _unreachable_next_step(exc, backend))
    accepted = ", the credential accepted" if credential else ""
    return Check("search", name, True, f"{backend} {version} answers{accepted}; the index {settings.index} holds {int(count.json()['count']):,} documents")


def _unreachable_next_step(exc: Exception, backend: str) -> str:
    if "CERTIFICATE_VERIFY_FAILED" in str(exc):
        return "Name the PEM file of the CA that signs the cluster's certificate in search.ca_certs (or correct search.url to the name the certificate is for)."
    return f"Is {backend} running there? Start it, or correct search.url (and search.ca_certs for a certificate signed by your own CA)."


class _Unfit(Exception):
    """The server's answer does not let the check go on: what it said, and the next step."""

    def __init__(self, detail: str, next_step: str) -> None:
        super().__init__(detail)
        self.detail, self.next_step = detail, next_step


def _identify(client: Any, url: str, backend: str) -> tuple[str, str]:
    """(product, version) of the server; ``_Unfit`` when it cannot be told.

    ``GET /`` says both; an Elasticsearch node without its root handler (a bare node) answers it
    405 but says it is Elasticsearch in a header on every answer, and its version in ``_nodes``.
    """
    root = client.get(url + "/")
    elastic = root.headers.get("x-elastic-product") == "Elasticsearch"
    if root.status_code in (404, 405) and elastic:
        nodes = client.get(f"{url}/_nodes/_local", params={"filter_path": "nodes.*.version"})
        _check_answer(nodes, backend, url)
        return "elasticsearch", str(next(iter(nodes.json()["nodes"].values()))["version"])
    _check_answer(root, backend, url)
    try:
        version = root.json()["version"]
        number = str(version["number"])
    except (ValueError, KeyError, TypeError):
        raise _Unfit(f"the answer to GET / is not a search cluster's: {root.text[:200]!r}", "Check that search.url is the cluster's address (its HTTP port, usually 9200).") from None
    if version.get("distribution") == "opensearch":
        return "opensearch", number
    if elastic:
        return "elasticsearch", number
    raise _Unfit(f"the server says version {number}, but neither OpenSearch nor Elasticsearch", "Point search.url at an OpenSearch 2 or Elasticsearch 9 cluster.")


def _check_answer(answer: Any, backend: str, url: str) -> None:
    """``_Unfit`` for an answer that is not a success."""
    if answer.status_code < 400:
        return
    text = answer.text.strip().replace("\n", " ")[:200]
    if answer.status_code in (401, 403):
        raise _Unfit(f"{url} refused the credential: {answer.status_code} {text}", "Check the value of the variable search.credential_env names, and the user's rights on the index.")
    raise _Unfit(f"{url} answered {answer.status_code}: {text}", f"See the {backend} log.")


def _check_product(product: str, number: str, backend: str) -> None:
    """``_Unfit`` when the server is not the product, or major version, the config names."""
    if product != backend:
        raise _Unfit(f"the server is {_label(product)} {number}, not {_label(backend)}", f"Set search.backend: {product}, or point search.url at the {_label(backend)} cluster.")
    major = int(number.split(".", 1)[0]) if number.split(".", 1)[0].isdigit() else None
    if major not in SUPPORTED_MAJORS[backend]:
        wanted = " or ".join(str(m) for m in SUPPORTED_MAJORS[backend])
        raise _Unfit(f"the server is {_label(product)} {number}; Sangrah works with {_label(backend)} {wanted}", f"Use an {_label(backend)} {wanted} cluster.")


def _label(product: str) -> str:
    return {"opensearch": "OpenSearch", "elasticsearch": "Elasticsearch"}[product]
