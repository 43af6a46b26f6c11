"""What the OpenSearch and Elasticsearch backends share: the index body from
``schemas/search-index.json``, the query DSL a ``SearchRequest`` compiles to, and every call,
made through either official client (their search, bulk, get and indices APIs take the same
arguments). A subclass gives the engine's name, builds its client, and names the exceptions
to map to ``SearchError``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from archiver.errors import SearchError
from archiver.search.backend import FACET_SIZE, TOTAL_LIMIT, Page
from archiver.search.documents import STORED_FIELDS
from archiver.search.query import And, Filters, Match, Node, Not, Or, SearchRequest, positive_matches

__all__ = ["INDEX_FILE", "BULK_CHUNK", "BULK_THREADS", "LuceneBackend", "index_body", "compile_query", "compile_filters", "request_body", "safe_url"]

INDEX_FILE = Path(__file__).resolve().parents[2] / "schemas" / "search-index.json"
_KEY_BOOST = 0.5
#: documents per bulk request
BULK_CHUNK = 500
#: bulk requests in flight at a time when writing documents
BULK_THREADS = 2
_FACET_FIELDS = {
    "platform": "platform",
    "account": "account",
    "by": "by_department",
    "kind": "kind",
    "author": "author_handle",
    "language": "language",
    "retention_class": "retention_class",
    "rti": "rti",
    "hold_type": "hold_types",
    "deleted": "deleted",
}


@cache
def _index_file() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(INDEX_FILE.read_text(encoding="utf-8"))
    return loaded


def index_body(engine: str) -> dict[str, Any]:
    """Settings and mappings for ``engine``: its own analysis where the file has it, the neutral one otherwise."""
    spec = _index_file()
    analysis = spec["analysis"]["engine_specific"].get(engine, spec["analysis"]["neutral"])
    text_field = spec["text_field"]["engine_specific"].get(engine, spec["text_field"]["neutral"])
    mappings = json.loads(json.dumps(spec["mappings"]))
    mappings["properties"]["text"] = text_field
    return {"settings": {**spec["settings"], "analysis": analysis}, "mappings": mappings}


def safe_url(url: str) -> str:
    """The URL without user and password, for messages."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


# -- the query DSL ---------------------------------------------------------------------------------
def _match(node: Match) -> dict[str, Any]:
    boost = {} if node.field == "terms" else {"boost": _KEY_BOOST}
    if node.prefix:
        return {"prefix": {node.field: {"value": node.tokens[0], **boost}}}
    return {"match_phrase": {node.field: {"query": " ".join(node.tokens), **boost}}}


def compile_query(node: Node) -> dict[str, Any]:
    if isinstance(node, Match):
        return _match(node)
    if isinstance(node, Or):
        return {"bool": {"should": [compile_query(c) for c in node.children], "minimum_should_match": 1}}
    if isinstance(node, Not):
        return {"bool": {"must": [{"match_all": {}}], "must_not": [compile_query(node.child)]}}
    positive = [compile_query(c) for c in node.children if not isinstance(c, Not)]
    negative = [compile_query(c.child) for c in node.children if isinstance(c, Not)]
    return {"bool": {"must": positive or [{"match_all": {}}], "must_not": negative}}


def compile_filters(filters: Filters) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []

    def terms(field: str, values: Sequence[Any]) -> None:
        if values:
            out.append({"terms": {field: list(values)}})

    terms("platform", filters.platform)
    terms("account", filters.account)
    if filters.author:
        out.append({"bool": {"should": [{"terms": {"author_handle": list(filters.author)}}, {"terms": {"author_id": list(filters.author)}}], "minimum_should_match": 1}})
    if filters.by_department is not None:
        out.append({"term": {"by_department": filters.by_department}})
    terms("kind", filters.kind)
    low, high = filters.created_range_ms()
    if low is not None or high is not None:
        out.append({"range": {"created_ms": {k: v for k, v in (("gte", low), ("lt", high)) if v is not None}}})
    terms("language", filters.language)
    terms("rti", filters.rti)
    if filters.under_hold is not None:
        out.append({"term": {"under_hold": filters.under_hold}})
    terms("hold_types", filters.hold_type)
    terms("retention_class", filters.retention_class)
    if filters.deleted is not None:
        out.append({"term": {"deleted": filters.deleted}})
    if filters.versions == "current":
        out.append({"term": {"current": True}})
    terms("record_id", filters.record_id)
    if filters.thread:
        out.append({"bool": {"should": [{"term": {"root_id": filters.thread}}, {"term": {"record_id": filters.thread}}], "minimum_should_match": 1}})
    return out


def request_body(request: SearchRequest, *, english_boost: bool) -> dict[str, Any]:
    """The ``_search`` body of a request."""
    query: dict[str, Any] = compile_query(request.query) if request.query is not None else {"match_all": {}}
    words = [t for m in positive_matches(request.query) if m.field == "terms" and not m.prefix for t in m.tokens]
    if english_boost and words and request.effective_sort == "relevance":
        # ranks English inflections (floods, flooding) higher; never adds a hit (it is only a should)
        query = {"bool": {"must": [query], "should": [{"match": {"text.en": {"query": " ".join(words)}}}]}}
    sort_field = {"relevance": "_score", "newest": "sort_ms", "oldest": "sort_ms"}[request.effective_sort]
    order = "asc" if request.effective_sort == "oldest" else "desc"
    body: dict[str, Any] = {
        "query": {"bool": {"must": [query], "filter": compile_filters(request.filters)}},
        "sort": [{sort_field: {"order": order}}, {"version_id": {"order": "asc"}}],
        "size": request.size,
        "_source": {"includes": list(STORED_FIELDS)},
        "track_total_hits": TOTAL_LIMIT,
        "track_scores": True,
    }
    after = request.after()
    if after is not None:
        body["search_after"] = after
        body["track_total_hits"] = False
    if request.facets:
        body["aggs"] = {name: {"terms": {"field": field, "size": FACET_SIZE, "order": [{"_count": "desc"}, {"_key": "asc"}]}} for name, field in _FACET_FIELDS.items()}
    return body


def _facet_value(name: str, bucket: Mapping[str, Any]) -> str:
    if name == "by":
        return "department" if bucket.get("key_as_string") == "true" or bucket["key"] in (1, True) else "citizen"
    if name == "deleted":
        return "yes" if bucket.get("key_as_string") == "true" or bucket["key"] in (1, True) else "no"
    return str(bucket["key"])


# -- the backend -----------------------------------------------------------------------------------
class LuceneBackend:
    """A cluster backend; the client is built on first use."""

    name = "lucene"
    overlap = "thread"
    #: whether this engine's index has the English subfield (engine-specific analysis)
    english = False

    def __init__(self, url: str, index: str, *, credential: str | None = None, timeout_seconds: float = 30.0, verify_certs: bool = True, ca_certs: Path | None = None) -> None:
        self.url = url
        self.index = index
        self.meta_index = f"{index}-meta"
        self.address = f"{safe_url(url)} (index {index})"
        self._credential = credential
        self._timeout = timeout_seconds
        self._verify = verify_certs
        #: the PEM file of the CA to check the cluster's certificate against (None: the client's default)
        self._ca_certs = str(ca_certs) if ca_certs is not None else None
        self._client: Any = None

    # -- what a subclass gives ----------------------------------------------------------------
    def _make_client(self) -> Any:
        raise NotImplementedError

    def _helpers(self) -> Any:
        """The client library's ``helpers`` module (bulk, parallel_bulk)."""
        raise NotImplementedError

    def _failures(self) -> tuple[type[BaseException], ...]:
        raise NotImplementedError

    def _describe(self, exc: BaseException) -> tuple[str, int | None]:
        """A short text of a client error and its HTTP status (None when no answer came)."""
        raise NotImplementedError

    def _engine_check(self) -> None:
        """Raise SearchError if the server at the URL is not this engine."""

    # -- plumbing ---------------------------------------------------------------------------
    def _bulk(self, actions: Iterable[dict[str, Any]], *, parallel: bool = False) -> None:
        """Send actions in bulk requests of BULK_CHUNK; ``parallel``: BULK_THREADS requests at a
        time (a shard indexes two requests on two cores; one leaves a core idle)."""
        helpers = self._helpers()
        if parallel:
            errors = [info for ok, info in helpers.parallel_bulk(self.client, actions, thread_count=BULK_THREADS, chunk_size=BULK_CHUNK, raise_on_error=False) if not ok]
        else:
            _count, errors = helpers.bulk(self.client, actions, chunk_size=BULK_CHUNK, raise_on_error=False, max_retries=2)
        if isinstance(errors, list) and errors:
            raise SearchError(f"{self.name} at {self.address}: {len(errors)} document(s) were refused, e.g. {str(errors[0])[:300]}; run sangrah rebuild index if the index was made by another version.")

    @property
    def client(self) -> Any:
        if self._client is None:
            try:
                self._client = self._make_client()
            except ImportError as exc:
                raise SearchError(f"the {self.name} client library is not installed ({exc.name}); install it with: pip install 'sangrah[clusters]'") from exc
            self._engine_check()
        return self._client

    def _auth(self) -> dict[str, Any]:
        if not self._credential:
            return {}
        if ":" in self._credential:
            user, _, password = self._credential.partition(":")
            return {"http_auth": (user, password)}
        return {"api_key": self._credential}

    @contextmanager
    def _guard(self, doing: str) -> Iterator[None]:
        try:
            yield
        except SearchError:
            raise
        except self._failures() as exc:
            text, status = self._describe(exc)
            if status is None:
                hint = f"is {self.name} running there? Start it, or correct search.url in the config"
            elif status in (401, 403):
                hint = "the cluster refused the credential; check the variable search.credential_env names and the user's rights on the index"
            elif status == 404:
                hint = "the index does not exist yet; create and fill it with: sangrah index"
            else:
                hint = "see the cluster's log; if the index was made by another version, rebuild it with: sangrah rebuild index"
            raise SearchError(f"{self.name} at {self.address}: {doing} failed: {text}; {hint}.") from exc

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    # -- the index ---------------------------------------------------------------------------
    def create(self) -> None:
        with self._guard("creating the index"):
            if not self.client.indices.exists(index=self.index):
                self.client.indices.create(index=self.index, body=index_body(self.name))
            if not self.client.indices.exists(index=self.meta_index):
                meta = {"settings": {"number_of_shards": 1, "number_of_replicas": 0}, "mappings": {"dynamic": "strict", "properties": {"value": {"type": "keyword", "index": False, "doc_values": False}}}}
                self.client.indices.create(index=self.meta_index, body=meta)

    def drop(self) -> None:
        with self._guard("deleting the index"):
            for name in (self.index, self.meta_index):
                if self.client.indices.exists(index=name):
                    self.client.indices.delete(index=name)

    def prepare(self, documents: Sequence[Mapping[str, Any]]) -> Any:
        return documents

    def write_prepared(self, prepared: Any) -> None:
        self.write(prepared)

    def write(self, documents: Sequence[Mapping[str, Any]]) -> None:
        with self._guard("bulk indexing"):
            self._bulk(({"_op_type": "index", "_index": self.index, "_id": d["version_id"], "_source": d} for d in documents), parallel=True)

    def versions(self, record_ids: Iterable[str]) -> list[dict[str, Any]]:
        ids = sorted(set(record_ids))
        out: list[dict[str, Any]] = []
        with self._guard("reading versions"):
            for start in range(0, len(ids), 1_000):
                part = ids[start : start + 1_000]
                after: list[Any] | None = None
                while True:
                    body: dict[str, Any] = {
                        "query": {"terms": {"record_id": part}},
                        "_source": ["version_id", "record_id", "captured_ms", "current", "deleted"],
                        "size": 5_000,
                        "sort": [{"version_id": "asc"}],
                    }
                    if after:
                        body["search_after"] = after
                    hits = self.client.search(index=self.index, body=body)["hits"]["hits"]
                    out.extend(h["_source"] for h in hits)
                    if len(hits) < 5_000:
                        break
                    after = hits[-1]["sort"]
        return out

    def update(self, changes: Mapping[str, Mapping[str, Any]]) -> None:
        with self._guard("updating documents"):
            self._bulk({"_op_type": "update", "_index": self.index, "_id": vid, "doc": dict(fields)} for vid, fields in changes.items())

    def update_records(self, changes: Mapping[str, Mapping[str, Any]]) -> None:
        by_version = {v["version_id"]: changes[v["record_id"]] for v in self.versions(changes)}
        if by_version:
            self.update(by_version)

    def refresh(self) -> None:
        with self._guard("refreshing the index"):
            self.client.indices.refresh(index=self.index)

    def count(self) -> int:
        with self._guard("counting documents"):
            return int(self.client.count(index=self.index)["count"])

    def get_meta(self, key: str) -> str | None:
        with self._guard("reading the index metadata"):
            if not self.client.indices.exists(index=self.meta_index):
                return None
            # a get is real-time: it sees a write before any refresh
            if not self.client.exists(index=self.meta_index, id=key):
                return None
            return str(self.client.get(index=self.meta_index, id=key)["_source"]["value"])

    def set_meta(self, key: str, value: str) -> None:
        with self._guard("writing the index metadata"):
            self._bulk([{"_op_type": "index", "_index": self.meta_index, "_id": key, "_source": {"value": value}}])

    # -- searching ---------------------------------------------------------------------------
    def search(self, request: SearchRequest) -> Page:
        body = request_body(request, english_boost=self.english)
        with self._guard("searching"):
            response = self.client.search(index=self.index, body=body)
        raw = response["hits"]["hits"]
        hits = [{**h["_source"], "score": h.get("_score") or 0.0} for h in raw]
        counted = response["hits"].get("total") if request.after() is None else None
        total = min(int(counted["value"]), TOTAL_LIMIT) if counted else None
        exact = not counted or (counted.get("relation") == "eq" and counted["value"] <= TOTAL_LIMIT)
        facets = {}
        for name in _FACET_FIELDS if request.facets else ():
            facets[name] = [(_facet_value(name, b), int(b["doc_count"])) for b in response["aggregations"][name]["buckets"]]
        last = list(raw[-1]["sort"]) if len(raw) == request.size else None
        return Page(hits=hits, last_sort=last, total=total, facets=facets, total_exact=exact)
