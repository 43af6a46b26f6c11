"""The pipeline with its WARC files on a real MinIO bucket with Object Lock: harvest publishes
there, extraction downloads and checks, ``sangrah show`` reads one record by a ranged read,
``verify`` re-hashes, each object's retention follows its records' tags, and the governed
deletion refuses a locked file through the command line, audited."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import orjson
import yaml
from click.testing import CliRunner

from archiver.cli import cli
from archiver.config import Config
from archiver.pipeline import extract, find_capture, harvest, open_catalog, rebuild_tables, verify
from archiver.pipeline.storage import retain_until_by_warc
from archiver.samples.server import SampleServer
from tests.conftest import add_records_officer, register_samples
from tests.minio import MinioServer, boto_client, bucket, minio, s3_config  # noqa: F401  (fixtures)

IST = ZoneInfo("Asia/Kolkata")


def _one(query: str) -> tuple[Any, ...]:
    """The one row of a DuckDB query, read by DuckDB's own Parquet reader."""
    row = duckdb.connect().execute(query).fetchone()
    assert row is not None
    return row


def _config_file(config: Config, tmp_path: Path) -> Path:
    path = tmp_path / "sangrah.yaml"
    path.write_text(yaml.safe_dump(orjson.loads(config.model_dump_json())))
    return path


def test_harvest_extract_show_verify_and_lock_on_s3(s3_config: Config, minio: MinioServer, sample_server: SampleServer, tmp_path: Path) -> None:
    config = s3_config
    register_samples(config, sample_server, ("x", "mastodon"))
    report = harvest(config)
    assert report.status == "succeeded" and len(report.published) == 1
    warc = report.published[0]
    client = boto_client(minio)
    head = client.head_object(Bucket=config.storage.bucket, Key=f"warcs/{warc.name}")
    assert head["Metadata"]["sha256"] == warc.sha256 and head["ContentLength"] == warc.size_bytes
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert not (config.store_dir / "warcs").exists()  # nothing published locally
    assert not config.staging_dir.exists() or not any(config.staging_dir.iterdir())
    catalog = open_catalog(config)
    try:
        assert [(r.name, r.status) for r in catalog.iter_warcs()] == [(warc.name, "published")]
    finally:
        catalog.close()

    extracted = extract(config)
    assert extracted.warc_files == 1 and extracted.rows > 100 and not extracted.problems
    assert not any((config.cache_dir / "warcs").iterdir())  # the downloaded copy is gone again
    # retention: until the latest disposal day of the records in it, from 00:00 IST, or the
    # review date of a permanent record (1 January, 26 years after the year it was created)
    glob = f"{config.records_dir}/**/*.parquet"
    latest_until, permanent_year = _one(
        f"SELECT max(retention_until), max(CASE WHEN retention_until IS NULL AND retention_class IN ('A', 'B') THEN year(timezone('Asia/Kolkata', coalesce(created_at, captured_at))) END) "
        f"FROM read_parquet('{glob}', hive_partitioning = true) WHERE warc_file = '{warc.name}'"
    )
    needed = max(d for d in (latest_until, date(permanent_year + 26, 1, 1) if permanent_year else None) if d is not None)
    expected = datetime.combine(needed, time(0), IST).astimezone(timezone.utc)
    assert retain_until_by_warc(config.records_dir) == {warc.name: expected}
    assert extracted.locked.extended == [warc.name]
    head = client.head_object(Bucket=config.storage.bucket, Key=f"warcs/{warc.name}")
    assert head["ObjectLockRetainUntilDate"] == expected
    assert extract(config).locked is None  # nothing new, nothing to lock again
    rebuilt = rebuild_tables(config)  # from the bucket's copy, downloaded and checked again
    assert (rebuilt.rows, rebuilt.locked.checked, rebuilt.locked.extended) == (extracted.rows, 1, [])

    # one record, read with one ranged read, digests checked; its bytes as archived
    (record_id,) = _one(f"SELECT record_id FROM read_parquet('{glob}', hive_partitioning = true) WHERE platform = 'x' AND kind = 'reply' ORDER BY record_id LIMIT 1")
    capture = find_capture(config, record_id)
    data_file = tmp_path / "whole.warc.gz"
    client.download_file(config.storage.bucket, f"warcs/{warc.name}", str(data_file))
    whole = data_file.read_bytes()
    offset, length = capture.row["warc_offset"], capture.row["warc_length"]
    assert capture.raw == whole[offset : offset + length]
    assert capture.record.rec_type == "response" and record_id.split(":", 1)[1].encode() in capture.record.payload
    runner = CliRunner()
    config_path = _config_file(config, tmp_path)
    shown = runner.invoke(cli, ["--config", str(config_path), "show", record_id, "--warc", str(tmp_path / "one.warc.gz")])
    assert shown.exit_code == 0, shown.output
    assert f"{warc.name} offset {offset} length {length}: digests verified" in shown.stderr
    assert "WARC-Type: response" in shown.stdout
    assert (tmp_path / "one.warc.gz").read_bytes() == whole[offset : offset + length]

    checked = verify(config)
    assert (checked.ok, checked.checked, checked.records) == (True, 1, warc.record_count)
    assert hashlib.sha256(whole).hexdigest() == warc.sha256

    status = runner.invoke(cli, ["--config", str(config_path), "storage", "status", "--json"])
    assert status.exit_code == 0, status.output
    assert orjson.loads(status.stdout) == [{"warc_file": warc.name, "mode": "COMPLIANCE", "retain_until": expected.isoformat(), "legal_hold": False, "locked": True}]
    add_records_officer(config)
    refused = runner.invoke(cli, ["--config", str(config_path), "storage", "delete", warc.name, "--reason", "test of the governed path", "--user", "dro"])
    assert refused.exit_code == 1
    assert f"warcs/{warc.name} in s3://{config.storage.bucket} at {minio.endpoint} cannot be deleted: it is under COMPLIANCE retention until {expected.isoformat()}" in refused.stderr
    catalog = open_catalog(config)
    try:
        entry = catalog.audit_entries(action="delete_object")[-1]
        assert (entry["actor"], entry["target"], entry["outcome"]) == ("dro", f"warcs/{warc.name}", "refused")
        assert entry["details"]["reason"] == "test of the governed path"
        assert catalog.get_warc(warc.name).status == "published"  # type: ignore[union-attr]
    finally:
        catalog.close()
    assert client.head_object(Bucket=config.storage.bucket, Key=f"warcs/{warc.name}")["ContentLength"] == warc.size_bytes

    # a new version put over the key by someone with write access hides the locked one: verify says so
    client.put_object(Bucket=config.storage.bucket, Key=f"warcs/{warc.name}", Body=b"not the evidence")
    tampered = verify(config)
    assert not tampered.ok
    assert tampered.problems == [
        f"{warc.name}: warcs/{warc.name} in s3://{config.storage.bucket} at {minio.endpoint} hashes to {hashlib.sha256(b'not the evidence').hexdigest()}, "
        f"not {warc.sha256} as the manifest says. The object is not the file that was published; restore it from a copy (a locked bucket keeps the published bytes as an older version of the key)."
    ]
    assert not any((config.cache_dir / "warcs").iterdir())

    # a misspelt bucket: every command that reads the store names it and says what to do
    typo = yaml.safe_load(config_path.read_text())
    typo["storage"]["bucket"] += "-typo"
    config_path.write_text(yaml.safe_dump(typo))
    missing = runner.invoke(cli, ["--config", str(config_path), "verify"])
    assert missing.exit_code == 1
    assert f"there is no bucket {config.storage.bucket}-typo at {minio.endpoint}" in missing.stderr
    assert "Check storage.bucket and storage.endpoint_url in the config, or create the bucket with Object Lock: sangrah storage init" in " ".join(missing.stderr.split())
