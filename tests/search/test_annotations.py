"""Marks and holds: kept in the catalog with who, when and why, audited, and visible in search at
once on every backend; rules applied at indexing and again when they change; errors of a backend
that is down; an index behind its dataset."""

from __future__ import annotations

import socket
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from archiver.catalog.annotations import HOLD_TYPES, latest_marks, mark_history, records_of_hold
from archiver.cli import cli
from archiver.config import Config, load_config
from archiver.errors import CatalogError, ConfigError, SearchError
from archiver.pipeline import index, index_status, mark, open_catalog, place_hold, release_hold, search, search_all_ids
from archiver.search.query import IST, SearchRequest, parse_filters, parse_query
from archiver.storage import LocalStore
from tests.users import add_users


def _ids(config: Config, query: str, filters: list[str]) -> set[str]:
    request = SearchRequest(parse_query(query), parse_filters(filters), sort="newest", size=500)
    return {h.record_id for h in search(config, request).hits}


def test_a_mark_is_in_search_at_once_and_the_latest_wins(own_archive: Config) -> None:
    config = own_archive
    target = sorted(_ids(config, "baarish", ["by=citizen"]))[:3]
    assert len(target) == 3 and not (_ids(config, "", ["rti=no"]) & set(target))
    assert mark(config, target, relevant=False, reason="RTI/2026/0042: not the subject asked for") == 3
    assert _ids(config, "", ["rti=no"]) == set(target)  # no re-index, no wait
    mark(config, target[:1], relevant=True, reason="RTI/2026/0042: on appeal, relevant")
    assert _ids(config, "", ["rti=no"]) == set(target[1:])
    hit = search(config, SearchRequest(filters=parse_filters([f"record={target[0]}"]))).hits[0]
    assert hit.mark is not None
    assert (hit.rti, hit.mark.source, hit.mark.reason, hit.mark.actor) == ("yes", "manual", "RTI/2026/0042: on appeal, relevant", "test-records-cell")
    catalog = open_catalog(config)
    try:
        assert [m.relevant for m in mark_history(catalog, target[0])] == [False, True]
        assert latest_marks(catalog, [target[0]])[target[0]].relevant is True
        entries = catalog.audit_entries(action="rti_mark")
        assert [e["details"]["count"] for e in entries] == [3, 1]
    finally:
        catalog.close()


def test_a_hold_covers_what_its_saved_query_finds_and_ends_only_when_released(own_archive: Config) -> None:
    config = own_archive
    wanted = _ids(config, "सड़क", ["platform=x"])
    change = place_hold(config, hold_type="RTI_PENDING", reference="RTI/2026/0042", reason="road repair replies asked for", query="सड़क", filters=["platform=x"])
    hold = change.hold
    assert change.covered == len(wanted) > 0
    assert _ids(config, "", ["hold=RTI_PENDING"]) == wanted == _ids(config, "", ["hold=yes"])
    hit = search(config, SearchRequest(filters=parse_filters(["hold=RTI_PENDING"]), size=1)).hits[0]
    assert [(h.hold_type, h.reference, h.placed_by) for h in hit.holds] == [("RTI_PENDING", "RTI/2026/0042", "test-records-cell")]
    # the local store keeps a hold marker on each WARC file with a capture of a held record
    warcs = {h.pointer.file for h in search(config, SearchRequest(filters=parse_filters(["hold=yes", "versions=all"]), size=500)).hits}
    assert change.legal.set_on == sorted(warcs) and not change.legal.pending
    store = LocalStore(config.store_dir)
    assert all(store.retention(f"warcs/{name}").legal_hold for name in warcs)
    facets = search(config, SearchRequest(filters=parse_filters(["platform=x"]), facets=True)).facets
    assert dict(facets["hold_type"]) == {"RTI_PENDING": len({v for v in wanted})}
    add_users(config, cpio="pio")
    released = release_hold(config, hold.id, reason="final order of the FAA; appeal window over", actor="cpio")
    assert not released.hold.active and released.hold.release_reason == "final order of the FAA; appeal window over"
    assert released.legal.set_off == sorted(warcs) and not any(store.retention(f"warcs/{name}").legal_hold for name in warcs)
    assert _ids(config, "", ["hold=yes"]) == set()
    catalog = open_catalog(config)
    try:
        assert sorted(records_of_hold(catalog, hold.id)) == sorted(wanted)  # the release keeps the list
        actions = [e["action"] for e in catalog.audit_entries() if e["action"].startswith("hold_")]
        assert actions == ["hold_place", "hold_add", "hold_release"]
        from archiver.catalog.audit import verify_chain

        assert verify_chain(catalog.engine).intact  # each change is chained onto the audit log
        with pytest.raises(CatalogError, match="already released"):
            release_hold(config, hold.id, reason="again", actor="cpio")
    finally:
        catalog.close()


def test_hold_types_and_reasons_are_checked(own_archive: Config) -> None:
    assert HOLD_TYPES == ("RTI_PENDING", "THIRD_PARTY_WINDOW", "LITIGATION", "AUDIT_OBJECTION", "INVESTIGATION", "APPRAISAL_PENDING", "CLASSIFIED_REVIEW")
    with pytest.raises(CatalogError, match="there is no hold type 'FOREVER'"):
        place_hold(own_archive, hold_type="FOREVER", reference="x", reason="y", record_ids=["x:1"])
    with pytest.raises(CatalogError, match="the reason of a hold is required"):
        place_hold(own_archive, hold_type="LITIGATION", reference="WP 12/2026", reason=" ", record_ids=["x:1"])
    with pytest.raises(CatalogError, match="the reason of an RTI relevance mark is required"):
        mark(own_archive, ["x:1"], relevant=True, reason="")


def test_the_cli_marks_by_query_and_lists_holds(own_archive: Config) -> None:
    runner = CliRunner()
    data = ["--data-dir", str(own_archive.data_dir)]
    env = {"SANGRAH_CONFIG": ""}
    config_file = own_archive.data_dir / "sangrah.yaml"
    import yaml

    config_file.write_text(yaml.safe_dump({"search": own_archive.search.model_dump(mode="json", exclude_none=True), "operator": "test-records-cell"}))
    base = ["--config", str(config_file)]
    result = runner.invoke(cli, [*base, "mark", "rti-relevant", "water", "supply", "--filter", "platform=youtube", "--reason", "RTI/2026/0007", *data], obj={}, env=env)
    assert result.exit_code == 0, result.output
    expected = _ids(own_archive, "water supply", ["platform=youtube"])
    assert result.output.strip() == f"marked {len(expected)} record(s) RTI-relevant: RTI/2026/0007"
    shown = runner.invoke(cli, [*base, "search", "water supply", "--filter", "platform=youtube", "--filter", "rti=yes", "--json", "--size", "500", *data], obj={})
    import orjson

    page = orjson.loads(shown.stdout)
    assert {h["record_id"] for h in page["hits"]} == expected
    assert all(h["mark"]["source"] == "manual" and h["pointer"]["warc_file"].endswith(".warc.gz") for h in page["hits"])
    placed = runner.invoke(cli, [*base, "hold", "place", "LITIGATION", *sorted(expected)[:2], "--reference", "WP 12/2026", "--reason", "writ petition", *data], obj={})
    assert placed.exit_code == 0 and placed.output.startswith("placed hold H-1 (LITIGATION WP 12/2026) on 2 record(s)")
    listed = runner.invoke(cli, [*base, "hold", "list", "--json", *data], obj={})
    assert orjson.loads(listed.stdout.splitlines()[0])["records"] == 2


def test_rules_mark_at_indexing_and_are_applied_again_when_they_change(own_archive: Config, tmp_path: Path) -> None:
    config = own_archive
    before = _ids(config, "", ["rti=yes"])
    flood_relief = _ids(config, '"flood relief"', [])
    assert flood_relief and flood_relief <= before  # the flood-relief rule of schemas/rti_rules.yaml
    rules = tmp_path / "rules.yaml"
    rules.write_text('version: 1\nrules:\n  - id: water\n    description: Water supply complaints\n    keywords: ["water", "पानी", "paani"]\n')
    changed = load_config(None, overrides={**config.model_dump(mode="json"), "search": {**config.search.model_dump(mode="json"), "rti_rules": str(rules)}})
    assert index_status(changed).rules_changed
    report = index(changed)
    assert report.rules_reapplied and report.documents > 0
    water = _ids(changed, "water OR पानी OR paani", [])
    assert _ids(changed, "", ["rti=yes"]) == water
    hit = search(changed, SearchRequest(parse_query("water"), size=1)).hits[0]
    assert hit.mark is not None
    assert (hit.mark.source, hit.mark.reason) == ("rule:water", "Water supply complaints")
    rules.write_text("version: 1\nrules:\n  - id: water\n    description: x\n    accounts: [twitter:1]\n")
    with pytest.raises(ConfigError, match=r"rules\[0\].accounts\[0\] \(line 5\): 'twitter:1' is not an account"):
        index(changed)


#: hashtag, account and date-range rules, in the order they are tried (the first match is the mark's source)
CONDITION_RULES = """version: 1
rules:
  - id: tag-en
    description: Tagged for flood relief, in whatever case
    hashtags: ["#floodrelief"]
  - id: tag-hi
    description: Tagged बाढ़राहत (here with the one-character ढ़, the archive's tags have ढ and a nukta sign)
    hashtags: ["#बा\u095dराहत"]
  - id: youtube-since-june
    description: The YouTube channel from June 2026
    accounts: ["youtube:UCsangrahJalShaktiDept01"]
    from: "2026-06-01"
  - id: winter
    description: Everything posted from 20 January to 25 February 2026, IST days
    from: "2026-01-20"
    to: "2026-02-25"
"""


def _first_condition_rule(row: dict[str, Any]) -> str | None:
    """The CONDITION_RULES rule a current row matches first, computed from the dataset alone."""
    tags = {unicodedata.normalize("NFD", t).replace("\u093c", "").lower().lstrip("#") for t in row["hashtags"] or ()}
    day = row["created_at"].astimezone(IST).date().isoformat()
    if "floodrelief" in tags:
        return "tag-en"
    if "बाढराहत" in tags:
        return "tag-hi"
    if (row["platform"], row["account"]) == ("youtube", "UCsangrahJalShaktiDept01") and day >= "2026-06-01":
        return "youtube-since-june"
    if "2026-01-20" <= day <= "2026-02-25":
        return "winter"
    return None


def test_hashtag_account_and_date_rules_mark_the_records_they_match_and_no_other(own_archive: Config, tmp_path: Path) -> None:
    from tests.search.test_conformance import _current_rows

    rules = tmp_path / "rules.yaml"
    rules.write_text(CONDITION_RULES, encoding="utf-8")
    config = load_config(None, overrides={**own_archive.model_dump(mode="json"), "search": {**own_archive.search.model_dump(mode="json"), "rti_rules": str(rules)}})
    assert index(config).rules_reapplied
    rows = _current_rows(str(config.records_dir))
    expected = {r["record_id"]: rule for r in rows if (rule := _first_condition_rule(r))}
    # each rule is the first to match some record, and the date range has records on both sides of
    # its IST edges that a range of UTC days would get wrong
    assert set(expected.values()) == {"tag-en", "tag-hi", "youtube-since-june", "winter"}
    utc_day = {r["record_id"]: r["created_at"].date().isoformat() for r in rows}
    assert any(utc_day[rid] == "2026-01-19" for rid, rule in expected.items() if rule == "winter")
    assert any(utc_day[r["record_id"]] == "2026-02-25" and r["record_id"] not in expected for r in rows)
    assert sorted(search_all_ids(config, None, parse_filters(["rti=yes"]))) == sorted(expected)
    unmarked = search_all_ids(config, None, parse_filters(["rti=unmarked"]))
    assert len(unmarked) == len(rows) - len(expected) and not set(unmarked) & set(expected)
    request = SearchRequest(filters=parse_filters(["rti=yes"]), size=500)
    hits = search(config, request).hits
    assert len(hits) == len(expected) and all(h.mark is not None and h.rti == "yes" for h in hits)
    assert {h.record_id: h.mark.source for h in hits if h.mark} == {rid: f"rule:{rule}" for rid, rule in expected.items()}


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("backend", ["opensearch", "elasticsearch"])
def test_a_backend_that_is_down_is_named_with_its_address(backend: str, data_dir: Path) -> None:
    port = _closed_port()
    config = load_config(None, overrides={"data_dir": str(data_dir), "search": {"backend": backend, "url": f"http://127.0.0.1:{port}", "timeout_seconds": 2}})
    # a config file refuses credentials in a URL; a backend given one anyway never shows them
    config = config.model_copy(update={"search": config.search.model_copy(update={"url": f"http://user:secret@127.0.0.1:{port}"})})
    with pytest.raises(SearchError) as raised:
        search(config, SearchRequest(parse_query("flood")))
    message = raised.value.message
    assert message.startswith(f"{backend} at http://127.0.0.1:{port} (index sangrah-records): ")
    assert "no connection" in message and "correct search.url" in message and "secret" not in message


def test_searching_before_indexing_says_how_to_index(data_dir: Path) -> None:
    config = load_config(None, overrides={"data_dir": str(data_dir)})
    with pytest.raises(SearchError, match=r"fts5 index at .*index.sqlite: there is no index yet; build it from the record dataset with: sangrah index"):
        search(config, SearchRequest(parse_query("flood")))
    assert not config.search_index_path.exists()


def test_a_missing_cluster_index_says_how_to_make_it(data_dir: Path) -> None:
    import os

    url = os.environ.get("SANGRAH_OPENSEARCH_URL")
    if not url:
        pytest.skip("SANGRAH_OPENSEARCH_URL is not set")
    config = load_config(None, overrides={"data_dir": str(data_dir), "search": {"backend": "opensearch", "url": url, "index": "sangrah-test-never-made"}})
    with pytest.raises(SearchError, match=r"^opensearch at .* \(index sangrah-test-never-made\): searching failed: NotFoundError\(404, 'index_not_found_exception'.*the index does not exist yet; create and fill it with: sangrah index\.$"):
        search(config, SearchRequest(parse_query("flood")))


def test_a_credential_variable_that_is_not_set_is_named(data_dir: Path) -> None:
    config = load_config(None, overrides={"data_dir": str(data_dir), "search": {"backend": "opensearch", "credential_env": "SANGRAH_TEST_UNSET_SEARCH_CREDENTIAL"}}, require_secrets=False)
    with pytest.raises(SearchError, match="search.credential_env names SANGRAH_TEST_UNSET_SEARCH_CREDENTIAL, but it is not set; export the opensearch credential"):
        search(config, SearchRequest(parse_query("flood")))


def test_an_unreadable_fts5_index_is_a_search_error(data_dir: Path) -> None:
    broken = data_dir / "search" / "index.sqlite"
    broken.parent.mkdir(parents=True)
    broken.write_bytes(b"this is not an SQLite file" * 100)
    config = load_config(None, overrides={"data_dir": str(data_dir)})
    with pytest.raises(SearchError, match=r"fts5 index at .*index.sqlite: opening the index failed: file is not a database; the index file is damaged; rebuild it"):
        search(config, SearchRequest(parse_query("flood")))


def test_the_elasticsearch_client_refuses_opensearch_and_says_which_to_use(data_dir: Path) -> None:
    import os

    url = os.environ.get("SANGRAH_OPENSEARCH_URL")
    if not url:
        pytest.skip("SANGRAH_OPENSEARCH_URL is not set")
    config = load_config(None, overrides={"data_dir": str(data_dir), "search": {"backend": "elasticsearch", "url": url}})
    with pytest.raises(SearchError, match=r"the server is not Elasticsearch 9 \(it refused the media type of the Elasticsearch 9 client; for OpenSearch set search.backend: opensearch\)"):
        search(config, SearchRequest(parse_query("flood")))


def test_a_lost_parquet_file_is_named_with_the_next_step(own_archive: Config) -> None:
    from archiver.catalog import tables as t

    catalog = open_catalog(own_archive)
    try:
        with catalog.engine.begin() as conn:
            path = conn.execute(t.parquet_files.select().limit(1)).first().path  # type: ignore[union-attr]
            conn.execute(t.parquet_files.update().where(t.parquet_files.c.path == path).values(sha256="f" * 64))
    finally:
        catalog.close()
    (own_archive.records_dir / path).unlink()
    with pytest.raises(SearchError, match=r"cannot read .*\.parquet of the record dataset .*Regenerate the dataset with: sangrah rebuild tables"):
        index(own_archive)


def test_verify_reports_an_index_behind_its_dataset(own_archive: Config) -> None:
    import json

    from archiver.pipeline import verify
    from archiver.search.backend import open_backend

    assert index_status(own_archive).current and verify(own_archive).ok
    # as if the last extraction published a file after the index was built: the index lacks it
    backend = open_backend(own_archive)
    try:
        files = json.loads(backend.get_meta("files") or "{}")
        files.pop(sorted(files)[0])
        backend.set_meta("files", json.dumps(files))
    finally:
        backend.close()
    status = index_status(own_archive)
    assert len(status.behind) == 1 and status.rows_behind > 0
    report = verify(own_archive)
    assert any(p.startswith(f"search index ({own_archive.search.backend}") and "1 Parquet file(s)" in p and "run: sangrah index" in p for p in report.problems)
    index(own_archive)
    assert index_status(own_archive).current and verify(own_archive).ok
