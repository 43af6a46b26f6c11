"""The bare Elasticsearch 9 node, through the official ``elasticsearch`` client of the same major
version: what a search backend can rely on (mappings, bulk, full text in English and Hindi with
the standard analyzer, filters, facets, highlighting, deep pagination, updates and deletes), and
what the node lacks because Elastic publishes those modules only inside its distribution.

The node is started outside pytest by ``infra/elasticsearch.sh start``, which prints the URL to
put in ``SANGRAH_ELASTICSEARCH_URL``. Without it these tests are skipped on a developer's
machine and fail in CI, where the node is required.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

URL_ENV = "SANGRAH_ELASTICSEARCH_URL"
SERVER_VERSION = "9.5.3"

#: Hindi text as typed: nukta letters decomposed (ड + ़), as NFC leaves them.
FLOOD_HELPLINE_HI = "बाढ़ राहत हेल्पलाइन शुरू"
ROAD_REPAIR_HI = "सड़क की मरम्मत कब होगी?"

#: Six records in the shape of the archive's: instants in UTC, filters on keyword fields.
RECORDS: dict[str, dict[str, Any]] = {
    "x-1": {"platform": "x", "kind": "post", "author_role": "department", "lang": "en", "created_at": "2026-08-03T04:30:00Z", "text": "Flood relief helpline 1070 opened for the district"},
    "x-2": {"platform": "x", "kind": "reply", "author_role": "citizen", "lang": "en", "created_at": "2026-08-03T06:00:00Z", "text": "The flood helpline number is not answering"},
    "fb-1": {"platform": "facebook", "kind": "post", "author_role": "department", "lang": "hi", "created_at": "2026-08-04T05:00:00Z", "text": FLOOD_HELPLINE_HI},
    "fb-2": {"platform": "facebook", "kind": "reply", "author_role": "citizen", "lang": "hi", "created_at": "2026-08-04T07:15:00Z", "text": ROAD_REPAIR_HI},
    # 20:00 UTC on 31 July is 01:30 on 1 August in Asia/Kolkata.
    "yt-1": {"platform": "youtube", "kind": "post", "author_role": "department", "lang": "en", "created_at": "2026-07-31T20:00:00Z", "text": "Road repair work continues on NH-48"},
    "bsky-1": {"platform": "bluesky", "kind": "reply", "author_role": "citizen", "lang": "en", "created_at": "2026-08-05T09:45:00Z", "text": "Thanks for the relief update"},
}

INDEX_BODY: dict[str, Any] = {
    "settings": {
        "number_of_shards": 1,
        # A single node can hold no replica: one would stay unassigned and the index yellow.
        "number_of_replicas": 0,
    },
    "mappings": {
        "dynamic": "strict",
        "properties": {
            # A keyword copy of the id: Elasticsearch refuses to sort on _id (see below).
            "record_id": {"type": "keyword"},
            "platform": {"type": "keyword"},
            "kind": {"type": "keyword"},
            "author_role": {"type": "keyword"},
            "lang": {"type": "keyword"},
            "rti_relevant": {"type": "boolean"},
            "created_at": {"type": "date"},
            "text": {"type": "text", "analyzer": "standard"},
        },
    },
}


@pytest.fixture(scope="module")
def client() -> Any:
    url = os.environ.get(URL_ENV)
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{URL_ENV} is not set: the Elasticsearch node is required in CI; start it with infra/elasticsearch.sh start and export the URL it prints")
        pytest.skip(f"{URL_ENV} is not set; run: export {URL_ENV}=\"$(infra/elasticsearch.sh start)\"")
    from elasticsearch import Elasticsearch

    client = Elasticsearch(url, request_timeout=40)
    health = client.cluster.health(wait_for_status="yellow", timeout="30s")
    assert health["status"] in ("yellow", "green"), health
    return client


@contextmanager
def records_index(client: Any) -> Iterator[str]:
    """A fresh index holding RECORDS, deleted on exit."""
    from elasticsearch import helpers

    name = f"sangrah-test-node-{uuid.uuid4().hex[:12]}"
    client.indices.create(index=name, **INDEX_BODY)
    try:
        actions = [{"_index": name, "_id": record_id, "_source": {"record_id": record_id, **source}} for record_id, source in RECORDS.items()]
        indexed, errors = helpers.bulk(client, actions, refresh=True)
        assert (indexed, errors) == (len(RECORDS), [])
        yield name
    finally:
        client.indices.delete(index=name, ignore_unavailable=True)
    assert not client.indices.exists(index=name)


@pytest.fixture(scope="module")
def index(client: Any) -> Iterator[str]:
    """Shared by the read-only tests; a test that changes records makes its own."""
    with records_index(client) as name:
        yield name


def hit_ids(response: Any) -> list[str]:
    return [hit["_id"] for hit in response["hits"]["hits"]]


def search_ids(client: Any, index: str, query: dict[str, Any]) -> set[str]:
    return set(hit_ids(client.search(index=index, query=query, size=20)))


def analyze(client: Any, analyzer: str, text: str) -> list[str]:
    return [token["token"] for token in client.indices.analyze(analyzer=analyzer, text=text)["tokens"]]


def test_node_is_elasticsearch_of_the_clients_major_version(client: Any) -> None:
    import elasticsearch

    # The client refuses any answer without this header, so every call here proves it is sent.
    health = client.cluster.health()
    assert health.meta.headers["X-Elastic-Product"] == "Elasticsearch"
    nodes = client.nodes.info(node_id="_local")["nodes"]
    [node] = nodes.values()
    assert node["version"] == SERVER_VERSION
    assert node["settings"]["cluster"]["name"] == "sangrah-test"
    assert elasticsearch.__versionstr__.split(".")[0] == SERVER_VERSION.split(".")[0]
    assert [plugin["classname"] for plugin in node["plugins"]] == ["org.elasticsearch.transport.netty4.Netty4Plugin"]


def test_words_find_their_records_in_english_and_hindi(client: Any, index: str) -> None:
    assert search_ids(client, index, {"match": {"text": "flood"}}) == {"x-1", "x-2"}
    assert search_ids(client, index, {"match": {"text": "Helpline"}}) == {"x-1", "x-2"}
    assert search_ids(client, index, {"match": {"text": "हेल्पलाइन"}}) == {"fb-1"}
    assert search_ids(client, index, {"match": {"text": "सड़क"}}) == {"fb-2"}
    # Without a Hindi normalizer the spelling without the nukta is another word.
    assert search_ids(client, index, {"match": {"text": "सडक"}}) == set()


def test_phrases_prefixes_and_boolean_syntax(client: Any, index: str) -> None:
    assert search_ids(client, index, {"match_phrase": {"text": "relief helpline"}}) == {"x-1"}
    assert search_ids(client, index, {"match_phrase": {"text": "helpline relief"}}) == set()
    assert search_ids(client, index, {"match_phrase": {"text": "राहत हेल्पलाइन"}}) == {"fb-1"}
    assert search_ids(client, index, {"prefix": {"text": "help"}}) == {"x-1", "x-2"}
    query = {"simple_query_string": {"query": '"road repair" | (flood -answering)', "fields": ["text"], "default_operator": "and"}}
    assert search_ids(client, index, query) == {"yt-1", "x-1"}


def test_standard_analyzer_keeps_devanagari_words_whole_and_simple_breaks_them(client: Any) -> None:
    tokens = analyze(client, "standard", "बाढ़ राहत हेल्पलाइन, सड़क Flood-relief")
    assert tokens == ["बाढ़", "राहत", "हेल्पलाइन", "सड़क", "flood", "relief"]
    # बाढ़ = ब + ा (vowel sign aa) + ढ + ़ (nukta): four code points, none dropped.
    assert [f"{ord(c):04x}" for c in tokens[0]] == ["092c", "093e", "0922", "093c"]
    assert "\u094d" in tokens[2]  # the virama joining ल्प
    # The letter-based analyzers split at every vowel sign and virama: never use them for Hindi.
    assert analyze(client, "simple", "बाढ़ राहत") == ["ब", "ढ", "र", "हत"]


def test_term_filters_and_a_terms_facet_with_counts(client: Any, index: str) -> None:
    response = client.search(
        index=index,
        query={"bool": {"must": {"match": {"text": "flood relief"}}, "filter": [{"term": {"lang": "en"}}, {"terms": {"kind": ["post", "reply"]}}]}},
        aggs={"platform": {"terms": {"field": "platform"}}, "role": {"terms": {"field": "author_role"}}},
        size=20,
    )
    assert set(hit_ids(response)) == {"x-1", "x-2", "bsky-1"}
    assert response["hits"]["total"] == {"value": 3, "relation": "eq"}
    buckets = {b["key"]: b["doc_count"] for b in response["aggregations"]["platform"]["buckets"]}
    assert buckets == {"x": 2, "bluesky": 1}
    roles = {b["key"]: b["doc_count"] for b in response["aggregations"]["role"]["buckets"]}
    assert roles == {"citizen": 2, "department": 1}


def test_date_range_and_histogram_in_kolkata_time(client: Any, index: str) -> None:
    august_first = {"range": {"created_at": {"gte": "2026-08-01", "lt": "2026-08-02", "time_zone": "Asia/Kolkata"}}}
    assert search_ids(client, index, august_first) == {"yt-1"}
    response = client.search(
        index=index,
        size=0,
        aggs={"day": {"date_histogram": {"field": "created_at", "calendar_interval": "day", "time_zone": "Asia/Kolkata", "min_doc_count": 1}}},
    )
    days = {b["key_as_string"][:10]: b["doc_count"] for b in response["aggregations"]["day"]["buckets"]}
    assert days == {"2026-08-01": 1, "2026-08-03": 2, "2026-08-04": 2, "2026-08-05": 1}


def test_highlighted_snippets_in_english_and_hindi(client: Any, index: str) -> None:
    response = client.search(
        index=index,
        query={"match": {"text": "helpline हेल्पलाइन"}},
        highlight={"fields": {"text": {}}, "pre_tags": ["<mark>"], "post_tags": ["</mark>"]},
        size=20,
    )
    snippets = {hit["_id"]: hit["highlight"]["text"] for hit in response["hits"]["hits"]}
    assert snippets == {
        "x-1": ["Flood relief <mark>helpline</mark> 1070 opened for the district"],
        "x-2": ["The flood <mark>helpline</mark> number is not answering"],
        "fb-1": ["बाढ़ राहत <mark>हेल्पलाइन</mark> शुरू"],
    }


def test_sort_by_time_and_search_after_pages_through_every_record_once(client: Any, index: str) -> None:
    sort = [{"created_at": "desc"}, {"record_id": "asc"}]
    pages: list[list[str]] = []
    after: list[Any] | None = None
    while True:
        response = client.search(index=index, query={"match_all": {}}, sort=sort, size=4, search_after=after)
        hits = response["hits"]["hits"]
        if not hits:
            break
        pages.append([hit["_id"] for hit in hits])
        after = hits[-1]["sort"]
    assert pages == [["bsky-1", "fb-2", "fb-1", "x-2"], ["x-1", "yt-1"]]


def test_point_in_time_keeps_pages_stable_while_records_change(client: Any) -> None:
    with records_index(client) as index:
        pit = client.open_point_in_time(index=index, keep_alive="1m")["id"]
        try:
            client.delete(index=index, id="x-1", refresh=True)
            response = client.search(pit={"id": pit, "keep_alive": "1m"}, sort=[{"created_at": "asc"}, {"record_id": "asc"}], size=10)
            assert hit_ids(response) == ["yt-1", "x-1", "x-2", "fb-1", "fb-2", "bsky-1"]
        finally:
            client.close_point_in_time(id=pit)
        assert "x-1" not in search_ids(client, index, {"match_all": {}})


def test_sorting_on_the_id_field_is_refused(client: Any, index: str) -> None:
    from elasticsearch import BadRequestError

    # Elasticsearch 8+ disables fielddata on _id (OpenSearch allows it): sort on a keyword copy.
    with pytest.raises(BadRequestError) as raised:
        client.search(index=index, sort=[{"_id": "asc"}])
    assert "Fielddata access on the _id field is disallowed" in str(raised.value)


def test_partial_update_is_searchable_at_once(client: Any) -> None:
    with records_index(client) as index:
        assert search_ids(client, index, {"term": {"rti_relevant": True}}) == set()
        response = client.update(index=index, id="x-2", doc={"rti_relevant": True}, refresh=True)
        assert response["result"] == "updated"
        assert search_ids(client, index, {"term": {"rti_relevant": True}}) == {"x-2"}
        assert client.get(index=index, id="x-2")["_source"]["text"] == RECORDS["x-2"]["text"]


def test_deleting_records_by_id_and_by_a_search_then_bulk(client: Any) -> None:
    from elasticsearch import NotFoundError, helpers

    with records_index(client) as index:
        assert client.delete(index=index, id="yt-1", refresh=True)["result"] == "deleted"
        with pytest.raises(NotFoundError):
            client.get(index=index, id="yt-1")
        # The bare node has no _delete_by_query: find the ids, then delete them in one bulk.
        doomed = search_ids(client, index, {"term": {"author_role": "citizen"}})
        assert doomed == {"x-2", "fb-2", "bsky-1"}
        actions = [{"_op_type": "delete", "_index": index, "_id": record_id} for record_id in sorted(doomed)]
        assert helpers.bulk(client, actions, refresh=True) == (3, [])
        assert search_ids(client, index, {"match_all": {}}) == {"x-1", "fb-1"}
        assert client.count(index=index)["count"] == 2


def test_indexing_into_a_missing_index_fails_instead_of_creating_it(client: Any) -> None:
    from elasticsearch import NotFoundError

    name = f"sangrah-test-missing-{uuid.uuid4().hex[:12]}"
    with pytest.raises(NotFoundError) as raised:
        client.index(index=name, document={"text": "x"})
    assert raised.value.error == "index_not_found_exception"
    assert not client.indices.exists(index=name)


def test_best_compression_codec_runs_on_the_system_zstd(client: Any) -> None:
    from elasticsearch import helpers

    # Without a native zstd the shard fails at the first refresh; the script links libzstd.so.1.
    name = f"sangrah-test-zstd-{uuid.uuid4().hex[:12]}"
    client.indices.create(index=name, settings={"number_of_replicas": 0, "index.codec": "best_compression"})
    try:
        actions = [{"_index": name, "_id": str(n), "_source": {"text": FLOOD_HELPLINE_HI * 20}} for n in range(50)]
        assert helpers.bulk(client, actions, refresh=True) == (50, [])
        client.indices.flush(index=name)
        assert client.get(index=name, id="7")["_source"]["text"] == FLOOD_HELPLINE_HI * 20
        assert client.count(index=name)["count"] == 50
    finally:
        client.indices.delete(index=name, ignore_unavailable=True)


# What the bare node lacks. Each is asserted as the error the client raises, so that a change
# (a module becoming available, or a message changing) is seen here first.


def test_lacks_the_root_endpoint_so_info_and_ping_fail(client: Any) -> None:
    from elasticsearch import ApiError

    # GET / lives in the distribution's rest-root module; use cluster health or nodes info.
    with pytest.raises(ApiError) as raised:
        client.info()
    assert raised.value.meta.status == 405
    assert client.ping() is False


@pytest.mark.parametrize("api", ["delete_by_query", "update_by_query"])
def test_lacks_by_query_apis(client: Any, index: str, api: str) -> None:
    from elasticsearch import BadRequestError

    with pytest.raises(BadRequestError) as raised:
        getattr(client, api)(index=index, query={"term": {"lang": "en"}})
    assert raised.value.message == f"no handler found for uri [/{index}/_{api}] and method [POST]"


def test_lacks_reindex(client: Any, index: str) -> None:
    from elasticsearch import ApiError

    with pytest.raises(ApiError) as raised:
        client.reindex(source={"index": index}, dest={"index": f"{index}-copy"})
    assert raised.value.meta.status == 405


def test_lacks_painless_scripts(client: Any, index: str) -> None:
    from elasticsearch import BadRequestError

    with pytest.raises(BadRequestError) as raised:
        client.search(index=index, query={"script": {"script": {"source": "doc['lang'].value == 'en'"}}})
    assert "script_lang not supported [painless]" in str(raised.value)


@pytest.mark.parametrize(
    ("kind", "name", "request_body"),
    [
        ("analyzer", "english", {"analyzer": "english"}),
        ("analyzer", "hindi", {"analyzer": "hindi"}),
        ("tokenizer", "icu_tokenizer", {"tokenizer": "icu_tokenizer"}),
        ("tokenizer", "whitespace", {"tokenizer": "whitespace"}),
        ("filter", "asciifolding", {"tokenizer": "standard", "filter": ["asciifolding"]}),
        ("filter", "indic_normalization", {"tokenizer": "standard", "filter": ["indic_normalization"]}),
        ("filter", "hindi_normalization", {"tokenizer": "standard", "filter": ["hindi_normalization"]}),
        ("filter", "stemmer", {"tokenizer": "standard", "filter": ["stemmer"]}),
        ("filter", "synonym", {"tokenizer": "standard", "filter": [{"type": "synonym", "synonyms": ["sadak, सड़क"]}]}),
    ],
)
def test_lacks_language_analysis(client: Any, kind: str, name: str, request_body: dict[str, Any]) -> None:
    from elasticsearch import BadRequestError

    with pytest.raises(BadRequestError) as raised:
        client.indices.analyze(text="Floods सड़क", **request_body)
    expected = f"failed to find global analyzer [{name}]" if kind == "analyzer" else f"failed to find global {kind} under [{name}]"
    assert raised.value.body["error"]["reason"] == expected


def test_lacks_mapper_extras_field_types(client: Any) -> None:
    from elasticsearch import BadRequestError

    name = f"sangrah-test-mappers-{uuid.uuid4().hex[:12]}"
    with pytest.raises(BadRequestError) as raised:
        client.indices.create(index=name, settings={"number_of_replicas": 0}, mappings={"properties": {"engagement": {"type": "scaled_float", "scaling_factor": 100}}})
    assert "The mapper type [scaled_float] declared on field [engagement] does not exist" in str(raised.value)
    assert not client.indices.exists(index=name)
