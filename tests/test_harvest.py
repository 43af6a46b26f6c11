"""Harvests of the sample platforms, end to end: WARC files, catalog, cursors, coverage."""

from __future__ import annotations

import importlib
from pathlib import Path

import orjson
import pytest

from archiver.catalog import Catalog
from archiver.config import Config
from archiver.harvest import WALK
from archiver.model import PLATFORMS
from archiver.pipeline import harvest, open_catalog, verify
from archiver.samples.server import SampleServer
from tests.captured import read_captured
from tests.conftest import register_samples


def ground_truth(server: SampleServer, platform: str) -> set[str]:
    renderer = importlib.import_module(f"archiver.samples.{platform}")
    return set(renderer.ground_truth(server.world))


def test_harvest_captures_every_post_and_reply_of_six_platforms(config: Config, sample_server: SampleServer, log_file: Path) -> None:
    register_samples(config, sample_server)
    report = harvest(config)
    assert report.status == "succeeded", [a.error for a in report.failed]
    assert {a.account.platform for a in report.accounts} == set(PLATFORMS)
    captured = read_captured(config.store_dir / "warcs")
    for platform in PLATFORMS:
        missing = ground_truth(sample_server, platform) - captured.posts.get(platform, set())
        assert not missing, f"{platform}: {len(missing)} records not captured, e.g. {sorted(missing)[:3]}"
    # every published file is in the manifest, verified, and nothing is left in staging
    assert verify(config).ok
    assert list(config.staging_dir.iterdir()) == []
    catalog = open_catalog(config)
    try:
        rows = list(catalog.iter_warcs())
        assert {r.name for r in rows} == {w.name for w in report.published}
        assert all(r.status == "published" for r in rows)
        for account in report.accounts:
            cursors = catalog.cursors_for(account.account.key)
            assert WALK not in cursors  # the walk finished
            assert cursors, f"{account.account.key} has no cursor"
        assert [e["action"] for e in catalog.audit_entries()][:1] == ["harvest_start"]
    finally:
        catalog.close()


def test_window_metadata_states_coverage(config: Config, sample_server: SampleServer) -> None:
    register_samples(config, sample_server, ("mastodon",))
    report = harvest(config)
    captured = read_captured(config.store_dir / "warcs")
    windows = [orjson.loads(m) for m in captured.metadata if b'"harvest-window"' in m]
    (window,) = windows
    coverage = report.accounts[0].coverage
    assert window["account"] == "mastodon:109000000000000001"
    assert window["window"]["start"] is None  # a first harvest: everything the platform lists
    assert window["cursor_before"] == {}
    assert window["cursor_after"]["statuses"]["newest_at"].startswith("2026-11-")
    assert window["coverage"]["complete"] is True and window["coverage"]["gaps"] == []
    assert window["coverage"]["posts_captured"] == coverage.posts_captured > 0
    assert window["coverage"]["replies_captured"] == coverage.replies_captured > 0
    assert window["coverage"]["media_captured"] == window["coverage"]["media_expected"]


def test_second_night_fetches_only_new_and_recent_posts(config: Config, sample_server: SampleServer) -> None:
    register_samples(config, sample_server, ("x", "mastodon"))
    first = harvest(config)
    calls_first = {a.account.platform: a.coverage.requests for a in first.accounts}
    sample_server.set_epoch(1)
    second = harvest(config)
    assert second.status == "succeeded"
    for item in second.accounts:
        assert item.window_start is not None
        assert item.coverage.requests < calls_first[item.account.platform]
    # the second night sees the posts the world added on that night
    captured = read_captured(config.store_dir / "warcs")
    for platform in ("x", "mastodon"):
        missing = ground_truth(sample_server, platform) - captured.posts[platform]
        assert not missing, f"{platform}: {sorted(missing)[:3]}"


def test_rollover_publishes_several_files_and_each_verifies(config: Config, sample_server: SampleServer) -> None:
    small = config.model_copy(update={"harvest": config.harvest.model_copy(update={"max_file_bytes": 64 * 1024})})
    register_samples(small, sample_server)
    report = harvest(small)
    assert len(report.published) >= 3
    assert verify(small).ok
    import subprocess
    import sys

    for closed in report.published:
        path = small.store_dir / "warcs" / closed.name
        result = subprocess.run([sys.executable, "-m", "warcio.cli", "check", str(path)], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


def test_missing_credential_fails_that_account_only(config: Config, sample_server: SampleServer) -> None:
    register_samples(config, sample_server, ("x", "mastodon"))
    catalog = open_catalog(config)
    catalog.add_account(platform="bluesky", native_id="did:plc:nobody", handle="nobody", base_url=sample_server.base_url("bluesky"), credential_env="SANGRAH_TEST_UNSET_VARIABLE", replace=True)
    catalog.close()
    report = harvest(config)
    assert report.status == "partial"
    (failed,) = report.failed
    assert failed.error is not None
    assert failed.error.message == (
        "bluesky:did:plc:nobody (@nobody): no credential; the variable SANGRAH_TEST_UNSET_VARIABLE is not set. "
        "Export it (see docs/platforms.md for how to get one), then run: sangrah harvest --account bluesky:did:plc:nobody"
    )


def test_catalog_records_the_run(config: Config, sample_server: SampleServer) -> None:
    register_samples(config, sample_server, ("facebook",))
    report = harvest(config)
    catalog = Catalog(config.resolved_catalog_url)
    try:
        run = catalog.get_run(report.harvest_id)
        assert run is not None and run["status"] == "succeeded" and run["operator"] == "test-records-cell"
        (coverage,) = catalog.coverage_for(report.harvest_id)
        assert coverage["account_key"] == "facebook:104000000000001"
        assert coverage["statement"]["posts_captured"] == report.accounts[0].coverage.posts_captured
    finally:
        catalog.close()


@pytest.mark.parametrize("platform", PLATFORMS)
def test_no_api_page_is_captured_twice_in_one_harvest(config: Config, sample_server: SampleServer, platform: str) -> None:
    register_samples(config, sample_server, (platform,))
    harvest(config)
    captured = read_captured(config.store_dir / "warcs")
    repeated = [url for url, n in captured.api_urls.items() if n > 1]
    assert not repeated


def test_parallel_runs_keep_to_their_own_staging_and_accounts(config: Config, sample_server: SampleServer) -> None:
    """Two runs at once (Airflow maps one task per account): neither touches the other's files,
    and one account is never walked by both."""
    from archiver.pipeline.capture import account_lock as _account_lock, run_staging as _run_staging

    register_samples(config, sample_server, ("x", "mastodon"))
    with _run_staging(config, "other-run") as other_dir:
        unfinished = other_dir / "sangrah-other-00000.warc.gz.open"
        unfinished.write_bytes(b"being written")
        with _account_lock(config, "mastodon:109000000000000001") as held:
            assert held
            report = harvest(config)
        assert unfinished.exists()  # the live run's file was left alone by recovery
    by_platform = {a.account.platform: a for a in report.accounts}
    assert by_platform["x"].status == "ok"
    busy = by_platform["mastodon"]
    assert busy.status == "failed" and busy.error is not None
    assert "another harvest of this account is running now" in busy.error.message
    # the other run has gone, leaving its file: the next harvest discards it
    again = harvest(config)
    assert [n for n in again.recovered if "sangrah-other-00000.warc.gz.open" in n]
    assert list(config.staging_dir.iterdir()) == []
