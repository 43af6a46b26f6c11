"""The FTS5 backend on its own: what a user types never becomes SQL, Hindi words are indexed whole,
and a query plan that would probe FTS5 once per row is never chosen."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archiver.errors import SearchError
from archiver.search.documents import document
from archiver.search.fts5 import Fts5Backend
from archiver.search.query import SearchRequest, parse_filters, parse_query
from archiver.search.rules import load_rules

TEXTS = [
    ("en", "Flood relief helpline opened for the district"),
    ("hi", "बारिश से हमारे गाँव की सड़क टूट गई है, कब ठीक होगी?"),
    ("hi", "प्रधानमंत्री आवास योजना: ज़िला क्षेत्र में शिकायत दर्ज"),
    ("hi-Latn", "Baarish ki wajah se sadak kharab hai"),
    ("en", 'Quotes " and \'apostrophes\' and ; -- DROP TABLE docs'),
]


def _row(i: int, language: str, text: str) -> dict[str, Any]:
    return {
        "record_id": f"x:{1000 + i}", "version_id": f"{i:064x}", "platform": "x", "account": "x:1", "author_id": str(i),
        "author_handle": f"user{i}", "author_name": None, "by_department": i == 0, "kind": "post" if i == 0 else "reply",
        "parent_id": None if i == 0 else "x:1000", "root_id": None if i == 0 else "x:1000", "created_ms": 1_750_000_000_000 + i * 60_000,
        "captured_ms": 1_760_000_000_000, "text": text, "language": language, "hashtags": [], "url": None,
        "warc_file": "a.warc.gz", "warc_offset": i * 100, "warc_length": 100, "warc_record_id": f"<urn:uuid:{i}>", "retention_class": "C-3",
    }  # fmt: skip


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fts5Backend]:
    rules = load_rules()
    fts5 = Fts5Backend(tmp_path_factory.mktemp("fts5") / "index.sqlite")
    fts5.write([document(_row(i, lang, text), rules, current=True, deleted=False) for i, (lang, text) in enumerate(TEXTS)])
    yield fts5
    fts5.close()


def _ids(backend: Fts5Backend, query: str) -> list[str]:
    return sorted(h["record_id"] for h in backend.search(SearchRequest(parse_query(query), sort="oldest", size=50)).hits)


def test_hindi_words_are_found_whole_and_across_scripts(backend: Fts5Backend) -> None:
    assert _ids(backend, "सड़क") == ["x:1001", "x:1003"]
    assert _ids(backend, "सडक") == ["x:1001", "x:1003"]  # typed without the nukta
    assert _ids(backend, "प्रधानमंत्री") == ["x:1002"]
    assert _ids(backend, "pradhanmantri") == ["x:1002"]
    assert _ids(backend, "क्षेत्र") == ["x:1002"]
    assert _ids(backend, "जिला") == ["x:1002"]
    assert _ids(backend, "बारिश") == ["x:1001", "x:1003"]
    assert _ids(backend, "शिका*") == ["x:1002"]
    assert _ids(backend, "सड") == []  # a piece of a word is no word


def test_sql_and_fts5_syntax_in_a_query_is_text(backend: Fts5Backend, tmp_path: Path) -> None:
    assert _ids(backend, "DROP TABLE docs") == ["x:1004"]
    assert _ids(backend, "x\" OR 1=1; DROP TABLE docs; --") == []
    assert _ids(backend, "terms:flood") == []  # column syntax is text: "terms flood" is not in any record
    assert _ids(backend, "{terms}: flood") == []
    assert _ids(backend, "apostrophes'") == ["x:1004"]
    filters = parse_filters(["author=user1' OR '1'='1"])
    assert backend.search(SearchRequest(filters=filters)).hits == []
    assert backend.count() == len(TEXTS)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(['"', "(", ")", "*", "-", ":", "^", "{", "}", "'", ";", " ", "OR", "AND", "NOT", "NEAR", "flood", "सड़क", "x", "\u094d", "\u093c", "1=1"]), max_size=30).map("".join))
def test_any_query_either_searches_or_says_why_not(backend: Fts5Backend, typed: str) -> None:
    try:
        request = SearchRequest(parse_query(typed), size=10)
    except SearchError:
        return
    try:
        page = backend.search(request)  # never an sqlite3 error: compile_match only writes quoted literals
    except SearchError as exc:
        assert "exclude" in exc.message
        return
    assert all(h["record_id"].startswith("x:") for h in page.hits)
    assert backend.count() == len(TEXTS)


def test_text_queries_are_driven_by_the_fts5_index(backend: Fts5Backend) -> None:
    request = SearchRequest(parse_query("सड़क"), parse_filters(["platform=x", "by=citizen"]), sort="newest")
    sql, args, _ranked = backend._matching(request)
    plan = [row[-1] for row in backend.db.execute("EXPLAIN QUERY PLAN " + sql, args)]
    assert plan[0].startswith("SCAN docs_fts VIRTUAL TABLE") and "INTEGER PRIMARY KEY" in plan[1]


@pytest.fixture(scope="module")
def common_word(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fts5Backend]:
    """40 posts with "flood", one a minute, each saying it 1 to 4 times in texts of different
    lengths (so their BM25 scores differ), every other one on Facebook."""
    rules = load_rules()
    fts5 = Fts5Backend(tmp_path_factory.mktemp("fts5-common") / "index.sqlite")
    rows = []
    for i in range(40):
        row = _row(i, "en", " ".join(["flood"] * (1 + i % 4) + ["news"] * (i % 7)))
        rows.append(document({**row, "platform": "facebook" if i % 2 else "x"}, rules, current=True, deleted=False))
    fts5.write(rows)
    yield fts5
    fts5.close()


def _relevance_pages(backend: Fts5Backend, filters: list[str], size: int) -> list[dict[str, Any]]:
    from archiver.search.query import encode_cursor

    request = SearchRequest(parse_query("flood"), parse_filters(filters), sort="relevance", size=size)
    hits: list[dict[str, Any]] = []
    while True:
        page = backend.search(request)
        hits += page.hits
        if page.last_sort is None:
            return hits
        request = request.with_cursor(encode_cursor(request.fingerprint(), page.last_sort))


def test_relevance_is_bm25_over_every_hit_up_to_the_window(common_word: Fts5Backend) -> None:
    hits = _relevance_pages(common_word, [], size=7)
    assert len(hits) == 40 == len({h["version_id"] for h in hits})
    assert [(h["score"], h["version_id"]) for h in hits] == sorted((h["score"], h["version_id"]) for h in hits)
    assert len({h["score"] for h in hits}) > 4  # the scores differ: the order is by score, not by time


def test_past_the_window_relevance_ranks_window_by_window_newest_first(common_word: Fts5Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    import archiver.search.fts5 as fts5_module

    every = sorted(_relevance_pages(common_word, [], size=50), key=lambda h: -h["created_ms"])  # every match, newest first
    monkeypatch.setattr(fts5_module, "RANK_WINDOW", 10)
    hits = _relevance_pages(common_word, [], size=7)  # pages of 7 cross the windows' edges
    windows = [every[k : k + 10] for k in range(0, 40, 10)]
    assert [h["version_id"] for h in hits] == [h["version_id"] for w in windows for h in sorted(w, key=lambda h: (h["score"], h["version_id"]))]
    assert [h["version_id"] for h in hits] != [h["version_id"] for h in sorted(every, key=lambda h: (h["score"], h["version_id"]))]
    # a filter keeps the windows of the matches: the Facebook posts among the 10 newest matches come first
    facebook = _relevance_pages(common_word, ["platform=facebook"], size=3)
    assert len(facebook) == 20 and all(h["platform"] == "facebook" for h in facebook)
    assert [h["version_id"] for h in facebook] == [h["version_id"] for w in windows for h in sorted((h for h in w if h["platform"] == "facebook"), key=lambda h: (h["score"], h["version_id"]))]
