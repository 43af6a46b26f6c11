"""The OpenSearch backend (2.x) through ``opensearch-py``. Everything but the client, the bulk
helper and the exceptions is shared with Elasticsearch (``lucene``); OpenSearch gets the
engine-specific analysis of schemas/search-index.json (ICU, English)."""

from __future__ import annotations

from typing import Any

from archiver.errors import SearchError
from archiver.search.lucene import LuceneBackend

__all__ = ["OpenSearchBackend"]


def _serializer() -> Any:
    """The client's JSON serializer with orjson underneath: the bulk helper serializes every
    document and reads every answer through it, and the standard library's json is several times
    slower. What orjson cannot encode goes to the client's own serializer."""
    import orjson
    from opensearchpy.serializer import JSONSerializer

    class OrjsonSerializer(JSONSerializer):
        def dumps(self, data: Any) -> Any:
            if isinstance(data, str):
                return data
            try:
                return orjson.dumps(data).decode()
            except TypeError:
                return super().dumps(data)

        def loads(self, s: str) -> Any:
            try:
                return orjson.loads(s)
            except orjson.JSONDecodeError:
                return super().loads(s)

    return OrjsonSerializer()


class OpenSearchBackend(LuceneBackend):
    name = "opensearch"
    english = True

    def _make_client(self) -> Any:
        from opensearchpy import OpenSearch

        return OpenSearch(
            hosts=[self.url], timeout=self._timeout, max_retries=1, retry_on_timeout=False, verify_certs=self._verify, ca_certs=self._ca_certs, serializer=_serializer(), **self._auth()
        )

    def _helpers(self) -> Any:
        from opensearchpy import helpers

        return helpers

    def _failures(self) -> tuple[type[BaseException], ...]:
        from opensearchpy.exceptions import ImproperlyConfigured, OpenSearchException

        return (OpenSearchException, ImproperlyConfigured)

    def _describe(self, exc: BaseException) -> tuple[str, int | None]:
        from opensearchpy.exceptions import ConnectionError, TransportError

        if isinstance(exc, ConnectionError):
            return f"no connection ({type(exc.info).__name__ if exc.info else 'refused'})", None
        if isinstance(exc, TransportError):
            status = exc.status_code if isinstance(exc.status_code, int) else None
            return str(exc)[:300], status
        return str(exc)[:300], 0

    def _engine_check(self) -> None:
        """Say so when the URL is an Elasticsearch server (its answers differ in detail)."""
        with self._guard("asking the server what it is"):
            info = self._client.info()
        distribution = (info.get("version") or {}).get("distribution")
        if distribution != "opensearch":
            raise SearchError(f"the server at {self.address} is not OpenSearch (it says version {info.get('version', {}).get('number')}, distribution {distribution}); set search.backend: elasticsearch for Elasticsearch.")
