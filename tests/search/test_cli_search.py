"""The search commands as a user meets them, on every backend: ``sangrah rebuild index`` gives
back the index that was built and annotated bit by bit, and a query far too long to search gets
one line that says what to do, never a traceback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from click.testing import CliRunner, Result

from archiver.cli import cli
from archiver.config import Config
from archiver.pipeline import mark, place_hold, search
from archiver.search.query import SearchRequest, parse_filters, parse_query

EVERY_VERSION = ("", ("versions=all",))
#: queries and filters whose hits, id for id and in order, must survive a rebuild
QUERIES = [
    EVERY_VERSION,
    ("सड़क", ()),
    ("baarish", ("by=citizen",)),
    ('"flood relief" OR helpline', ()),
    ("vaccinat*", ()),
    ("", ("rti=no",)),
    ("", ("rti=yes",)),
    ("", ("hold=RTI_PENDING",)),
]


def _run(config: Config, tmp_path: Path, *args: str) -> Result:
    """A sangrah command on ``config``'s archive, its search settings given in a config file."""
    config_file = tmp_path / "sangrah.yaml"
    config_file.write_text(yaml.safe_dump({"search": config.search.model_dump(mode="json", exclude_none=True), "operator": "test-records-cell"}))
    return CliRunner().invoke(cli, ["--config", str(config_file), *args, "--data-dir", str(config.data_dir)], obj={})


def _hit_fields(hit: Any) -> tuple[Any, ...]:
    mark_fields = (hit.mark.relevant, hit.mark.source, hit.mark.reason) if hit.mark else None
    return (hit.version_id, hit.record_id, hit.current, hit.deleted_on_platform, hit.rti, mark_fields, tuple(h.id for h in hit.holds),
            hit.pointer, hit.warc_record_id, hit.created_at, hit.text, hit.snippet)  # fmt: skip


def _snapshot(config: Config) -> dict[tuple[str, tuple[str, ...]], list[tuple[Any, ...]]]:
    """The hits of QUERIES (every version the index holds among them), as a user sees them."""
    out: dict[tuple[str, tuple[str, ...]], list[tuple[Any, ...]]] = {}
    for query, filters in QUERIES:
        request = SearchRequest(parse_query(query), parse_filters(filters), sort="newest", size=500)
        hits: list[Any] = []
        while True:
            result = search(config, request)
            hits.extend(result.hits)
            if result.next_cursor is None:
                break
            request = request.with_cursor(result.next_cursor)
        out[query, filters] = [_hit_fields(h) for h in hits]
    return out


def test_rebuild_index_gives_back_every_version_with_the_same_hits_marks_and_holds(own_archive: Config, tmp_path: Path) -> None:
    config = own_archive
    # after indexing, the catalog changes and the index follows by partial updates
    not_relevant = [h.record_id for h in search(config, SearchRequest(parse_query("helpline"), sort="newest", size=4)).hits]
    assert mark(config, not_relevant, relevant=False, reason="RTI/2026/0042: not the subject asked for") == 4
    assert place_hold(config, hold_type="RTI_PENDING", reference="RTI/2026/0042", reason="road repair replies", query="सड़क", filters=["platform=x"]).covered > 0
    before = _snapshot(config)
    versions = len(before[EVERY_VERSION])
    assert all(before.values()) and versions > 500

    result = _run(config, tmp_path, "rebuild", "index", "--json")
    assert result.exit_code == 0, result.output
    report = orjson.loads(result.stdout)
    assert (report["backend"], report["documents"], report["total_documents"]) == (config.search.backend, versions, versions)
    assert _snapshot(config) == before


@pytest.mark.parametrize(
    "typed",
    ["x" * 10_000, ('"सड़क NEAR(nh-48) OR (-relief* ^{terms}: \'; DROP TABLE docs; -- ' * 200)[:10_000]],
    ids=["one word", "syntax of every kind"],
)
def test_a_query_of_ten_thousand_characters_gets_one_line_saying_what_to_do(typed: str, indexed: Config, tmp_path: Path) -> None:
    result = _run(indexed, tmp_path, "search", typed, "--filter", "platform=x")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == "Error: the query is 10,000 characters long; the limit is 1,000. Search for a few telling words, and use --filter for the rest.\n"
