"""The real OpenSearch node the search backend will run on: Hindi and English text through the
ICU and Indic analyzers, bulk indexing, search, and delete_by_query.

The node is started outside pytest by ``infra/opensearch.sh start``, which prints the URL to put
in ``SANGRAH_OPENSEARCH_URL``. Without it these tests are skipped on a developer's machine and
fail in CI, where the node is required.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

URL_ENV = "SANGRAH_OPENSEARCH_URL"

#: Hindi text as typed: nukta letters decomposed (ड + ़), as NFC leaves them.
FLOOD_HELPLINE = "बाढ़ राहत हेल्पलाइन शुरू"
ROAD_REPAIR = "सड़क की मरम्मत का काम जारी"
RAIN_ALERT = "भारी बारिश की चेतावनी"

RECORDS: dict[str, dict[str, str]] = {
    "hi-flood": {"lang": "hi", "text": FLOOD_HELPLINE},
    "hi-road": {"lang": "hi", "text": ROAD_REPAIR},
    "hi-rain": {"lang": "hi", "text": RAIN_ALERT},
    "en-flood": {"lang": "en", "text": "Flood relief helpline opened for the district"},
    "en-road": {"lang": "en", "text": "Road repair work continues on NH-48"},
}

INDEX_BODY: dict[str, Any] = {
    "settings": {
        "number_of_shards": 1,
        # A single node can hold no replica: one would stay unassigned and the index yellow.
        "number_of_replicas": 0,
        "analysis": {
            "analyzer": {
                # For search: recall over spelling, so nukta, virama and case are folded away.
                "sangrah_text": {
                    "type": "custom",
                    "tokenizer": "icu_tokenizer",
                    "filter": ["indic_normalization", "hindi_normalization", "icu_folding"],
                },
                # For exact phrases: words split on Unicode rules, every mark kept.
                "sangrah_exact": {
                    "type": "custom",
                    "tokenizer": "icu_tokenizer",
                    "filter": ["icu_normalizer"],
                },
            }
        },
    },
    "mappings": {
        "properties": {
            "lang": {"type": "keyword"},
            "text": {
                "type": "text",
                "analyzer": "sangrah_text",
                "fields": {"exact": {"type": "text", "analyzer": "sangrah_exact"}},
            },
        }
    },
}


@pytest.fixture(scope="module")
def client() -> Any:
    url = os.environ.get(URL_ENV)
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{URL_ENV} is not set: the OpenSearch node is required in CI; start it with infra/opensearch.sh start and export the URL it prints")
        pytest.skip(f"{URL_ENV} is not set; run: export {URL_ENV}=\"$(infra/opensearch.sh start)\"")
    from opensearchpy import OpenSearch

    client = OpenSearch(hosts=[url], timeout=30)
    # opensearch-py reads `timeout` as its own socket timeout unless `request_timeout` is given;
    # with both, `timeout` reaches the server as the health API's wait.
    health = client.cluster.health(wait_for_status="yellow", timeout="30s", request_timeout=40)
    assert health["status"] in ("yellow", "green"), health
    return client


@contextmanager
def records_index(client: Any) -> Iterator[str]:
    """A fresh index holding RECORDS, deleted on exit."""
    from opensearchpy import helpers

    name = f"sangrah-test-node-{uuid.uuid4().hex[:12]}"
    client.indices.create(index=name, body=INDEX_BODY)
    try:
        actions = [{"_index": name, "_id": record_id, "_source": source} for record_id, source in RECORDS.items()]
        indexed, errors = helpers.bulk(client, actions, refresh="wait_for")
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


def search_ids(client: Any, index: str, field: str, query: str) -> set[str]:
    response = client.search(index=index, body={"query": {"match": {field: query}}, "size": 20})
    return {hit["_id"] for hit in response["hits"]["hits"]}


def analyze(client: Any, index: str, analyzer: str, text: str) -> list[str]:
    response = client.indices.analyze(index=index, body={"analyzer": analyzer, "text": text})
    return [token["token"] for token in response["tokens"]]


def test_node_runs_the_expected_server(client: Any) -> None:
    info = client.info()
    assert info["version"]["distribution"] == "opensearch"
    assert info["version"]["number"] == "2.19.6"
    assert info["cluster_name"] == "sangrah-test"


def test_hindi_words_find_their_records(client: Any, index: str) -> None:
    assert search_ids(client, index, "text", "सड़क") == {"hi-road"}
    assert search_ids(client, index, "text", "बारिश") == {"hi-rain"}
    assert search_ids(client, index, "text", "हेल्पलाइन") == {"hi-flood"}
    assert search_ids(client, index, "text", "helpline") == {"en-flood"}


def test_search_analyzer_folds_nukta_so_spellings_without_it_match(client: Any, index: str) -> None:
    # "सडक" is "सड़क" typed without the nukta, a common spelling in posts.
    assert search_ids(client, index, "text", "सडक") == {"hi-road"}
    assert search_ids(client, index, "text.exact", "सडक") == set()
    assert search_ids(client, index, "text.exact", "सड़क") == {"hi-road"}


def test_exact_analyzer_keeps_vowel_signs_nukta_and_virama(client: Any, index: str) -> None:
    tokens = analyze(client, index, "sangrah_exact", "बाढ़ राहत हेल्पलाइन, सड़क")
    assert tokens == ["बाढ़", "राहत", "हेल्पलाइन", "सड़क"]
    # बाढ़ = ब + ा (vowel sign aa) + ढ + ़ (nukta): four code points, none dropped.
    assert [f"{ord(c):04x}" for c in tokens[0]] == ["092c", "093e", "0922", "093c"]
    assert "\u094d" in tokens[2]  # the virama joining ल्प


def test_search_analyzer_keeps_vowel_signs_and_drops_only_nukta_and_virama(client: Any, index: str) -> None:
    tokens = analyze(client, index, "sangrah_text", "बाढ़ राहत हेल्पलाइन, सड़क बारिश Café")
    assert tokens == ["बाढ", "राहत", "हेलपलाइन", "सडक", "बारिश", "cafe"]
    assert [f"{ord(c):04x}" for c in tokens[0]] == ["092c", "093e", "0922"]


def test_delete_by_query_removes_only_the_matching_records(client: Any) -> None:
    with records_index(client) as index:
        response = client.delete_by_query(index=index, body={"query": {"term": {"lang": "en"}}}, refresh=True)
        assert (response["deleted"], response["failures"]) == (2, [])
        remaining = client.search(index=index, body={"query": {"match_all": {}}, "size": 20})
        assert {hit["_id"] for hit in remaining["hits"]["hits"]} == {"hi-flood", "hi-road", "hi-rain"}


def test_indexing_into_a_missing_index_fails_instead_of_creating_it(client: Any) -> None:
    from opensearchpy.exceptions import NotFoundError

    name = f"sangrah-test-missing-{uuid.uuid4().hex[:12]}"
    with pytest.raises(NotFoundError) as raised:
        client.index(index=name, body={"text": "x"})
    assert raised.value.error == "index_not_found_exception"
    assert not client.indices.exists(index=name)


def test_painless_runs_with_the_whitelists_of_other_modules(client: Any, index: str) -> None:
    # A script query: Painless itself.
    response = client.search(
        index=index,
        body={"query": {"script": {"script": {"source": "doc['lang'].value == params.lang", "params": {"lang": "en"}}}}},
    )
    assert {hit["_id"] for hit in response["hits"]["hits"]} == {"en-flood", "en-road"}
    # A script token filter: the whitelist analysis-common adds to Painless.
    tokens = client.indices.analyze(
        body={
            "tokenizer": "icu_tokenizer",
            "filter": [{"type": "predicate_token_filter", "script": {"source": "token.getTerm().length() > 3"}}],
            "text": "भारी बारिश की चेतावनी",
        }
    )["tokens"]
    assert [token["token"] for token in tokens] == ["भारी", "बारिश", "चेतावनी"]


def test_mapper_plugins_accept_their_field_types(client: Any) -> None:
    name = f"sangrah-test-mappers-{uuid.uuid4().hex[:12]}"
    mappings = {
        "properties": {
            "engagement": {"type": "scaled_float", "scaling_factor": 100},  # mapper-extras
            "handle_sort": {"type": "icu_collation_keyword", "language": "hi"},  # analysis-icu
        }
    }
    client.indices.create(index=name, body={"settings": {"number_of_replicas": 0}, "mappings": mappings})
    try:
        client.index(index=name, id="1", body={"engagement": 12.345, "handle_sort": "बारिश"}, refresh=True)
        found = client.search(index=name, body={"query": {"range": {"engagement": {"gte": 12.34, "lte": 12.35}}}})
        assert [hit["_id"] for hit in found["hits"]["hits"]] == ["1"]
    finally:
        client.indices.delete(index=name, ignore_unavailable=True)
