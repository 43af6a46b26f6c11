"""The pipeline's steps as the DAGs call them (``archiver.pipeline.steps``), on a SQLite and on a
PostgreSQL catalog: one account at a time, idempotent, small JSON-able results, and fixity of
WARC and Parquet files against the manifest."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from archiver.config import Config
from archiver.errors import ArchiverError, AuthError, FixityMismatch
from archiver.pipeline import steps
from archiver.pipeline.tasks import connection_id
from archiver.samples.server import SampleServer
from tests.conftest import register_samples

X = "x:1350000000000000001"
MASTODON = "mastodon:109000000000000001"


def _no_revisit(config: Config) -> Config:
    return config.model_copy(update={"harvest": config.harvest.model_copy(update={"revisit_days": 0})})


def test_one_account_at_a_time_and_again_does_no_work_twice(both_config: Config, sample_server: SampleServer) -> None:
    config = _no_revisit(both_config)
    register_samples(config, sample_server, ("x", "mastodon"))
    assert steps.active_accounts(config) == [MASTODON, X]
    first = steps.harvest(config, X)
    json.dumps(first)  # what a task hands on is JSON
    assert [a["account"] for a in first["accounts"]] == [X] and first["status"] == "succeeded"
    assert first["accounts"][0]["coverage"]["posts_captured"] > 25
    again = steps.harvest(config, X)
    # nothing new since the cursor: one call for the listing's head (its newest post), no thread,
    # no media fetched again
    coverage = again["accounts"][0]["coverage"]
    assert (coverage["requests"], coverage["posts_captured"], coverage["replies_captured"], coverage["media_captured"]) == (1, 1, 0, 0)
    steps.harvest(config, MASTODON)

    extracted = steps.extract(config, X)
    assert list(extracted["platforms"]) == ["x"] and extracted["rows"] > 25 and extracted["warc_files"] == 2
    mastodon = steps.extract(config, MASTODON)
    assert list(mastodon["platforms"]) == ["mastodon"] and mastodon["warc_files"] == 1
    assert steps.extract(config)["warc_files"] == 0  # every file is extracted already
    json.dumps(mastodon)


def test_a_failed_account_raises_its_own_error(both_config: Config, sample_server: SampleServer) -> None:
    register_samples(both_config, sample_server, ("x", "mastodon"))
    sample_server.inject("401", platform="x", count=1)
    with pytest.raises(AuthError, match=r"^x:1350000000000000001 \(@JalShaktiDept\): 401 from GET /2/users/1350000000000000001/tweets"):
        steps.harvest(both_config, X)
    since = datetime(2000, 1, 1, tzinfo=timezone.utc)
    summary = steps.run_summary(both_config, [MASTODON, X], since)
    assert summary["failed"] == [MASTODON, X] and [a["status"] for a in summary["accounts"]] == ["not run", "failed"]
    assert "401 from GET" in summary["accounts"][1]["error"]
    # all accounts at once: one failing is in the summary, not raised
    everything = steps.harvest(both_config)
    assert everything["status"] == "succeeded"
    assert steps.run_summary(both_config, [MASTODON, X], since)["ok"]


def test_fixity_of_one_nights_files_and_of_everything(both_config: Config, sample_server: SampleServer) -> None:
    register_samples(both_config, sample_server, ("x", "mastodon"))
    before_x = datetime.now(timezone.utc)
    steps.harvest(both_config, X)
    between = datetime.now(timezone.utc)
    steps.harvest(both_config, MASTODON)
    steps.extract(both_config)
    whole = steps.verify(both_config)
    assert whole["ok"] and whole["files"] == 2 and whole["parquet_files"] >= 2
    night = steps.verify_since(both_config, between)
    assert night["files"] == 1 and night["warc_file_names"][0].startswith("sangrah-")
    assert 1 <= night["parquet_files"] < whole["parquet_files"]
    assert steps.verify_since(both_config, before_x)["files"] == 2
    # one byte of a Parquet file of X's changes: the whole check and X's night fail, Mastodon's not
    from archiver.catalog import tables as t
    from archiver.pipeline import open_catalog

    catalog = open_catalog(both_config)
    with catalog.engine.connect() as conn:
        path, warc = conn.execute(t.parquet_files.select().where(t.parquet_files.c.path.like("platform=x/%"))).first()[:5:4]  # type: ignore[index]
    catalog.close()
    target = both_config.records_dir / path
    data = bytearray(target.read_bytes())
    data[-10] ^= 0x01
    target.write_bytes(bytes(data))
    with pytest.raises(FixityMismatch, match=rf"^fixity check found 1 problem\(s\) in .*: {path}: SHA-256 [0-9a-f]{{64}} \(\d+ bytes\) does not match the Parquet manifest's"):
        steps.verify(both_config)
    with pytest.raises(ArchiverError, match="fixity check found 1 problem"):
        steps.verify(both_config, [warc])
    assert steps.verify_since(both_config, between)["ok"]
    # a file the manifest does not list is reported by the whole check
    target.write_bytes(bytes(data[:-10]) + bytes([data[-10] ^ 0x01]) + bytes(data[-9:]))
    (target.parent / "stray.parquet").write_bytes(b"PAR1")
    with pytest.raises(ArchiverError, match=r"stray.parquet: in the record dataset but not in the Parquet manifest"):
        steps.verify(both_config)


def test_connection_ids_are_valid_airflow_ids() -> None:
    assert connection_id(X) == "sangrah_x_1350000000000000001"
    assert connection_id("bluesky:did:plc:sangrahjalshakti0001") == "sangrah_bluesky_did_plc_sangrahjalshakti0001"
    assert connection_id("mastodon:1/2 3") == "sangrah_mastodon_1_2_3"


def test_the_index_step_reports_what_it_indexed(config: Config) -> None:
    summary = steps.index(config)
    assert (summary["backend"], summary["address"], summary["files"], summary["documents"], summary["total_documents"]) == ("fts5", str(config.search_index_path), 0, 0, 0)
    json.dumps(summary)  # it travels to the next task as it is
