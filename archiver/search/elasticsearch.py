"""The Elasticsearch backend through the official ``elasticsearch`` client, whose major version
must be the server's (9.x). It refuses a server that is not Elasticsearch, so OpenSearch is never
tested through it. It uses the engine-neutral analysis of schemas/search-index.json (the standard
analyzer: a bare node has neither ICU nor analysis-common); text reaches it already analysed by
Sangrah, so its hits are the same as the other backends'."""

from __future__ import annotations

from typing import Any

from archiver.search.lucene import LuceneBackend

__all__ = ["ElasticsearchBackend"]


class ElasticsearchBackend(LuceneBackend):
    name = "elasticsearch"
    english = False

    def _make_client(self) -> Any:
        from elasticsearch import Elasticsearch

        auth: dict[str, Any] = {}
        if self._credential and ":" in self._credential:
            user, _, password = self._credential.partition(":")
            auth = {"basic_auth": (user, password)}
        elif self._credential:
            auth = {"api_key": self._credential}
        trust: dict[str, Any] = {"ca_certs": self._ca_certs} if self._ca_certs else {}
        return Elasticsearch(self.url, request_timeout=self._timeout, max_retries=1, retry_on_timeout=False, verify_certs=self._verify, **trust, **auth)

    def _helpers(self) -> Any:
        from elasticsearch import helpers

        return helpers

    def _failures(self) -> tuple[type[BaseException], ...]:
        from elastic_transport import TransportError
        from elasticsearch import ApiError

        return (ApiError, TransportError, ValueError)

    def _describe(self, exc: BaseException) -> tuple[str, int | None]:
        from elastic_transport import TransportError
        from elasticsearch import ApiError, UnsupportedProductError

        if isinstance(exc, UnsupportedProductError):
            return "the server is not Elasticsearch (for OpenSearch set search.backend: opensearch)", 0
        if isinstance(exc, ApiError) and exc.meta.status == 406 and "compatible-with" in str(exc):
            # OpenSearch, or Elasticsearch of another major version, refuses the 9.x media type
            return "the server is not Elasticsearch 9 (it refused the media type of the Elasticsearch 9 client; for OpenSearch set search.backend: opensearch)", 0
        if isinstance(exc, ApiError):
            return str(exc)[:300], int(exc.meta.status)
        if isinstance(exc, TransportError):
            return f"no connection ({type(exc).__name__})", None
        return str(exc)[:300], 0
