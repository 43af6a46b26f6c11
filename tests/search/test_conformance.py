"""The same questions get the same answers on every backend that runs here.

Each query runs on the shared sample archive indexed into FTS5, OpenSearch and (when its node is
up) Elasticsearch, paging through every hit; the hits must equal, id for id and in order, what
an oracle computes from the Parquet dataset with plain regular expressions, independent of
Sangrah's analysis code."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timezone
from functools import cache
from pathlib import Path
from typing import Any

import pyarrow.dataset as ds
import pytest

from archiver.config import Config
from archiver.pipeline import search, thread
from archiver.search.backend import FACET_SIZE
from archiver.search.query import FACETS, IST, SearchRequest, parse_filters, parse_query


@cache
def _current_rows(records_dir: str) -> tuple[dict[str, Any], ...]:
    """The latest content version of every record, with whether the platform deleted it."""
    rows = ds.dataset(records_dir, format="parquet", partitioning="hive").to_table().drop_columns(["month"]).to_pylist()
    by_record: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_record.setdefault(row["record_id"], []).append(row)
    out = []
    for versions in by_record.values():
        content = [r for r in versions if not r["deleted_on_platform"]]
        if content:
            newest = max(content, key=lambda r: (r["captured_at"], r["version_id"]))
            out.append({**newest, "deleted": max(versions, key=lambda r: r["captured_at"])["deleted_on_platform"]})
    return tuple(out)


def _word(pattern: str) -> re.Pattern[str]:
    # a whole word: not inside a run of letters, marks or digits (Devanagari included)
    return re.compile(rf"(?<![\w\u0900-\u097f]){pattern}(?![\w\u0900-\u097f])", re.IGNORECASE)


SADAK = _word("(sadak|सड़क|सड़क|सडक)")
BAARISH = _word("(baarish|barish|बारिश)")
WATER = _word("water")
SUPPLY = _word("supply")
HELPLINE = _word("helpline")
PHRASE = re.compile(r"(?<!\w)flood\W+relief(?!\w)", re.IGNORECASE)
PREFIX = re.compile(r"(?<![\w\u0900-\u097f])vaccinat", re.IGNORECASE)
PENSION = _word("pension")  # not पेंशन: its key is "penshan" (docs/search.md, the precision trade-off)


def _day(row: dict[str, Any]) -> str:
    return row["created_at"].astimezone(IST).date().isoformat() if row["created_at"] else ""


def _account(row: dict[str, Any]) -> str:
    return f"{row['platform']}:{row['account']}"


def _folded(text: str) -> str:
    # case and the nukta folded away, as the rules' matching folds them (schemas/rti_rules.yaml)
    return unicodedata.normalize("NFD", text).replace("\u093c", "").lower()


_GAP = r"[^\w\u0900-\u097f]+"
#: the keywords and hashtags of the rules in schemas/rti_rules.yaml, over folded text
FLOOD_RULE = _word("(" + "|".join(_GAP.join(phrase.split()) for phrase in ("flood relief", "relief helpline", "बाढ राहत", "baadh rahat")) + ")")
FLOOD_TAGS = {"floodrelief", "बाढराहत"}
MONSOON_RULE = _word("(monsoon|मानसून|बारिश|baarish)")


def _rti(row: dict[str, Any]) -> str:
    """What the default rules make of a record: yes, or unmarked (the suite's archive has no manual mark)."""
    text = _folded(row["text"])
    tags = {_folded(tag).lstrip("#") for tag in row["hashtags"] or ()}
    monsoon_2025 = "2025-06-01" <= _day(row) <= "2025-09-30" and MONSOON_RULE.search(text)
    return "yes" if FLOOD_RULE.search(text) or tags & FLOOD_TAGS or monsoon_2025 else "unmarked"


#: the department's own X and YouTube accounts
X_AND_YOUTUBE = {"x:1350000000000000001", "youtube:UCsangrahJalShaktiDept01"}
#: the department's handle on X and YouTube, a citizen's handle, a Facebook citizen's id (no handle there)
AUTHORS = {"JalShaktiDept", "arjunpatel1315", "100000000000421"}


#: query, filters, and the oracle: which current rows must be hits
CASES: dict[str, tuple[str, list[str], Any]] = {
    "english word": ("helpline", [], lambda r: HELPLINE.search(r["text"])),
    "english phrase": ('"flood relief"', [], lambda r: PHRASE.search(r["text"])),
    "prefix": ("vaccinat*", [], lambda r: PREFIX.search(r["text"])),
    "hindi word finds romanised": ("सड़क", [], lambda r: SADAK.search(r["text"])),
    "romanised finds hindi": ("sadak", [], lambda r: SADAK.search(r["text"])),
    "hinglish rain": ("baarish", [], lambda r: BAARISH.search(r["text"])),
    "boolean and-not": ("water -supply", [], lambda r: WATER.search(r["text"]) and not SUPPLY.search(r["text"])),
    "boolean or": ("सड़क OR pension", [], lambda r: SADAK.search(r["text"]) or PENSION.search(r["text"])),
    "only excluding": ("-helpline", ["platform=x"], lambda r: r["platform"] == "x" and not HELPLINE.search(r["text"])),
    "filters": ("helpline", ["by=citizen", "kind=reply,comment", "platform=facebook,youtube"], lambda r: HELPLINE.search(r["text"]) and not r["by_department"] and r["kind"] in ("reply", "comment") and r["platform"] in ("facebook", "youtube")),
    "hindi replies in hindi": ("सड़क", ["language=hi", "by=citizen"], lambda r: SADAK.search(r["text"]) and r["language"] == "hi" and not r["by_department"]),
    "ist date range": ("", ["from=2026-10-01", "to=2026-10-31", "platform=mastodon"], lambda r: r["platform"] == "mastodon" and "2026-10-01" <= _day(r) <= "2026-10-31"),
    "retention class": ("", ["retention=A", "platform=bluesky"], lambda r: r["platform"] == "bluesky" and r["retention_class"] == "A"),
    "accounts": ("helpline OR सड़क", ["account=" + ",".join(sorted(X_AND_YOUTUBE))], lambda r: (HELPLINE.search(r["text"]) or SADAK.search(r["text"])) and _account(r) in X_AND_YOUTUBE),
    "account's own replies": ("", ["account=mastodon:109000000000000001", "by=department", "kind=reply"], lambda r: _account(r) == "mastodon:109000000000000001" and r["by_department"] and r["kind"] == "reply"),
    "authors by handle or id": ("", ["author=@JalShaktiDept,arjunpatel1315", "author=100000000000421"], lambda r: r["author_handle"] in AUTHORS or r["author_id"] in AUTHORS),
    "hinglish by language": ("", ["language=hi-Latn", "platform=bluesky"], lambda r: r["platform"] == "bluesky" and r["language"] == "hi-Latn"),
    "rti by the rules": ("", ["rti=yes"], lambda r: _rti(r) == "yes"),
    "rti unmarked": ("helpline", ["rti=unmarked"], lambda r: HELPLINE.search(r["text"]) and _rti(r) == "unmarked"),
    "not held": ("baarish", ["hold=no"], lambda r: BAARISH.search(r["text"])),  # the suite's archive has no hold
    "not deleted": ("sadak", ["deleted=no", "platform=x,bluesky"], lambda r: SADAK.search(r["text"]) and not r["deleted"] and r["platform"] in ("x", "bluesky")),
}


def _all_hits(config: Config, query: str, filters: list[str], sort: str, size: int = 7) -> list[Any]:
    request = SearchRequest(parse_query(query), parse_filters(filters), sort=sort, size=size)  # type: ignore[arg-type]
    hits: list[Any] = []
    while True:
        result = search(config, request)
        hits.extend(result.hits)
        if result.next_cursor is None:
            return hits
        assert len(hits) < 5_000
        request = request.with_cursor(result.next_cursor)


@pytest.mark.parametrize("case", list(CASES))
def test_every_backend_finds_exactly_what_the_oracle_finds_in_time_order(case: str, indexed: Config) -> None:
    query, filters, wanted = CASES[case]
    expected_rows = [r for r in _current_rows(str(indexed.records_dir)) if wanted(r)]
    assert expected_rows, f"the sample archive has no record for {case!r}; the case tests nothing"
    created = lambda r: r["created_at"] or r["captured_at"]  # noqa: E731
    expected = [r["version_id"] for r in sorted(expected_rows, key=lambda r: (-created(r).timestamp(), r["version_id"]))]
    newest = _all_hits(indexed, query, filters, "newest")
    assert [h.version_id for h in newest] == expected
    oldest = _all_hits(indexed, query, filters, "oldest")
    assert sorted(h.version_id for h in oldest) == sorted(expected)
    assert [h.created_at for h in oldest] == sorted(h.created_at for h in oldest)
    relevance = _all_hits(indexed, query, filters, "relevance", size=11)
    assert sorted(h.version_id for h in relevance) == sorted(expected)  # pages neither lose nor repeat a hit


def test_a_romanised_query_finds_devanagari_and_marks_it(indexed: Config) -> None:
    hits = _all_hits(indexed, "sadak", ["language=hi"], "newest", size=50)
    devanagari = [h for h in hits if not re.search("sadak", h.text, re.IGNORECASE)]
    assert devanagari and all(SADAK.search(h.text) for h in hits)
    assert all("<mark>सड़क</mark>" in h.snippet or "<mark>सड़क</mark>" in h.snippet for h in devanagari)


#: what each facet counts, in a current row of the dataset (None: not counted)
FACET_VALUES: dict[str, Callable[[dict[str, Any]], str | None]] = {
    "platform": lambda r: r["platform"],
    "account": _account,
    "by": lambda r: "department" if r["by_department"] else "citizen",
    "kind": lambda r: r["kind"],
    "author": lambda r: r["author_handle"],
    "language": lambda r: r["language"],
    "retention_class": lambda r: r["retention_class"],
    "rti": _rti,
    "hold_type": lambda r: None,  # the suite's archive has no hold
    "deleted": lambda r: "yes" if r["deleted"] else "no",
}
FACET_CASES = {"every record": ("", [], lambda r: True), **{name: CASES[name] for name in ("hindi word finds romanised", "filters", "accounts")}}


@pytest.mark.parametrize("case", list(FACET_CASES))
def test_every_facet_counts_the_same_on_every_backend(case: str, indexed: Config) -> None:
    query, filters, wanted = FACET_CASES[case]
    result = search(indexed, SearchRequest(parse_query(query), parse_filters(filters), facets=True, size=1))
    rows = [r for r in _current_rows(str(indexed.records_dir)) if wanted(r)]
    assert (result.total, result.total_exact) == (len(rows), True)
    assert set(FACET_VALUES) == set(FACETS) == set(result.facets)
    for facet, value_of in FACET_VALUES.items():
        counts = Counter(v for v in map(value_of, rows) if v is not None)
        expected = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:FACET_SIZE]  # the most frequent, ties by value
        assert result.facets[facet] == expected, facet
    if case == "every record":
        assert len(result.facets["author"]) == FACET_SIZE  # more authors than that: the cut is tested too


def test_a_thread_is_its_post_then_every_reply_in_order_with_depth(indexed: Config) -> None:
    rows = _current_rows(str(indexed.records_dir))
    deep = max((r for r in rows if r["root_id"]), key=lambda r: sum(1 for x in rows if x["root_id"] == r["root_id"]))
    root = deep["root_id"]
    view = thread(indexed, deep["record_id"])
    members = [r for r in rows if r["record_id"] == root or r["root_id"] == root]
    assert view[0].record_id == root and view[0].depth == 0 and view[0].kind == "post"
    assert sorted(h.record_id for h in view) == sorted(r["record_id"] for r in members)
    depth = {h.record_id: h.depth for h in view}
    position = {h.record_id: i for i, h in enumerate(view)}
    for hit in view[1:]:
        parent = hit.parent_id if hit.parent_id in depth else root
        assert depth[hit.record_id] == depth[parent] + 1
        assert position[parent] < position[hit.record_id]
    assert max(depth.values()) >= 2


def test_every_hit_carries_the_pointer_of_its_capture(indexed: Config) -> None:
    rows = {r["version_id"]: r for r in _current_rows(str(indexed.records_dir))}
    for hit in _all_hits(indexed, "helpline", [], "newest", size=100):
        row = rows[hit.version_id]
        assert (hit.pointer.file, hit.pointer.offset, hit.pointer.length, hit.warc_record_id) == (row["warc_file"], row["warc_offset"], row["warc_length"], row["warc_record_id"])
        assert hit.created_at == row["created_at"].astimezone(timezone.utc)
        assert isinstance(hit.captured_at, datetime)


def test_show_opens_every_hit_of_a_query_with_its_digest_verified(indexed: Config) -> None:
    from click.testing import CliRunner

    from archiver.capture.reader import read_record
    from archiver.cli import cli

    hits = _all_hits(indexed, "सड़क", ["platform=mastodon,bluesky"], "newest", size=50)
    assert hits
    runner = CliRunner()
    for hit in hits:
        record = read_record(Path(indexed.store_dir) / "warcs" / hit.pointer.file, hit.pointer.offset, hit.pointer.length)  # checks the digests
        assert record.headers and record.payload
        result = runner.invoke(cli, ["show", hit.record_id, "--data-dir", str(indexed.data_dir)], obj={})
        assert result.exit_code == 0, result.output
        assert f"{hit.pointer.file} offset {hit.pointer.offset} length {hit.pointer.length}: digests verified" in result.stderr
        assert hit.record_id.split(":", 1)[1].split("/")[-1] in result.stdout


@pytest.mark.parametrize("backend", ["opensearch", "elasticsearch"])
def test_in_ci_a_cluster_without_its_url_fails_the_suite_rather_than_skipping(backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.search.conftest import BACKEND_URLS, available_backends, backend_config

    variable = BACKEND_URLS[backend]
    monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("CI", "false")
    [skipped] = [p for p in available_backends() if getattr(p, "values", None) == (backend,)]
    assert [m.kwargs["reason"] for m in skipped.marks] == [f"{variable} is not set"]
    monkeypatch.setenv("CI", "true")
    assert backend in available_backends()  # not skipped: its tests run, and fail in the fixture
    with pytest.raises(pytest.fail.Exception, match=rf"^{variable} is not set: the {backend} node is required in CI; start it with infra/{backend}.sh start"):
        backend_config(tmp_path, backend)
