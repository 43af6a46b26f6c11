"""The one interface every search backend implements, and the choice of backend by configuration.

A backend holds *documents*: one per version of a record (its id is the ``version_id``), with the
fields ``documents.document`` builds. It never parses a user's query: it compiles the typed
``SearchRequest`` (``query``) to its own language. Everything a backend raises is a
``SearchError`` naming the backend and its address.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from archiver.config import Config
from archiver.errors import SearchError
from archiver.search.query import SearchRequest

__all__ = ["SearchBackend", "Page", "FACET_SIZE", "TOTAL_LIMIT", "open_backend"]

#: values counted per facet, the most frequent first (ties by value)
FACET_SIZE = 20
#: totals are exact up to this many hits; beyond, a total says "at least" this many
TOTAL_LIMIT = 10_000


@dataclass(slots=True)
class Page:
    """One page of hits: each a document's stored fields plus ``score``; the sort values of the
    last hit, for the next page's cursor; the total (first page only) and facet counts."""

    hits: list[dict[str, Any]]
    last_sort: list[Any] | None
    total: int | None = None
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    total_exact: bool = True  #: False: there are more hits than ``total`` (TOTAL_LIMIT)


class SearchBackend(Protocol):
    name: str  #: fts5, opensearch or elasticsearch
    address: str  #: where it is: a file or a URL (never with a credential)

    def create(self) -> None:
        """Create the index if it does not exist (idempotent)."""

    def drop(self) -> None:
        """Delete the index and everything in it."""

    #: how indexing overlaps its work with this backend's writes: "process" (the writes keep this
    #: process busy, so documents are built in a second one) or "thread" (a write mostly waits on
    #: the network, so a thread sends it while the next batch is built)
    overlap: str

    def write(self, documents: Sequence[Mapping[str, Any]]) -> None:
        """Add or replace documents by ``version_id``."""

    def prepare(self, documents: Sequence[Mapping[str, Any]]) -> Any:
        """Documents in the form ``write_prepared`` takes, cheap to send to another process.
        Pure: it touches neither connection nor index."""

    def write_prepared(self, prepared: Any) -> None:
        """``write`` of what ``prepare`` made."""

    def versions(self, record_ids: Iterable[str]) -> list[dict[str, Any]]:
        """``version_id``, ``record_id``, ``captured_ms``, ``current`` and ``deleted`` of every
        indexed version of these records."""

    def update(self, changes: Mapping[str, Mapping[str, Any]]) -> None:
        """Set fields of documents, by ``version_id`` (a partial update)."""

    def update_records(self, changes: Mapping[str, Mapping[str, Any]]) -> None:
        """Set fields of every version of records, by ``record_id``; visible to the next search."""

    def search(self, request: SearchRequest) -> Page: ...

    def count(self) -> int: ...

    def get_meta(self, key: str) -> str | None: ...

    def set_meta(self, key: str, value: str) -> None: ...

    def refresh(self) -> None:
        """Make every write so far visible to searches."""

    def close(self) -> None: ...


def open_backend(config: Config) -> SearchBackend:
    """The backend ``config.search`` names. Cheap: nothing is connected until first use."""
    settings = config.search
    if settings.backend == "fts5":
        from archiver.search.fts5 import Fts5Backend

        return Fts5Backend(config.search_index_path)
    credential = config.secret(settings.credential_env) if settings.credential_env else None
    if settings.credential_env and credential is None:
        raise SearchError(
            f"search.credential_env names {settings.credential_env}, but it is not set; export the {settings.backend} credential "
            f"(user:password or an API key) as {settings.credential_env}, or remove credential_env from the config."
        )
    url = settings.url or "http://127.0.0.1:9200"
    if settings.backend == "opensearch":
        from archiver.search.opensearch import OpenSearchBackend

        return OpenSearchBackend(url, settings.index, credential=credential, timeout_seconds=settings.timeout_seconds, verify_certs=settings.verify_certs, ca_certs=settings.ca_certs)
    from archiver.search.elasticsearch import ElasticsearchBackend

    return ElasticsearchBackend(url, settings.index, credential=credential, timeout_seconds=settings.timeout_seconds, verify_certs=settings.verify_certs, ca_certs=settings.ca_certs)
