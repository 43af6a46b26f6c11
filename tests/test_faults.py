"""Bad input and faults: each gives a named error, the other accounts go on, the run exits 1
with a summary, no half-written WARC is published, and the next run completes the capture."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from archiver.cli import cli
from archiver.config import Config, load_config
from archiver.harvest import WALK
from archiver.pipeline import harvest, open_catalog, verify
from archiver.samples.server import SampleServer
from archiver.samples.world import World
from tests.captured import read_captured
from tests.conftest import register_samples

LISTING = r"/api/v1/accounts/[0-9]+/statuses"


def _fast(config: Config) -> Config:
    return config.model_copy(update={"harvest": config.harvest.model_copy(update={"timeout_seconds": 0.5, "max_retries": 2})})


@pytest.mark.parametrize(
    ("fault", "count", "expected"),
    [
        ("html", 10, "502 from GET /api/v1/accounts/109000000000000001/statuses after retries (<html><head><title>502 Bad Gateway"),
        ("malformed", 1, "the response is malformed or truncated JSON, not the JSON page the API documents"),
        ("truncated", 1, "the response is malformed or truncated JSON"),
        ("401", 1, "401 from GET /api/v1/accounts/109000000000000001/statuses; the credential in SANGRAH_SAMPLE_MASTODON_TOKEN was refused"),
        ("403", 1, "403 from GET /api/v1/accounts/109000000000000001/statuses; the credential in SANGRAH_SAMPLE_MASTODON_TOKEN was refused"),
        ("404", 1, "404 from GET /api/v1/accounts/109000000000000001/statuses: the account no longer exists or was renamed"),
        ("429", 10, "still rate limited (429) on GET /api/v1/accounts/109000000000000001/statuses after 3 attempts"),
        ("500", 10, "500 from GET /api/v1/accounts/109000000000000001/statuses after retries"),
        ("503", 10, "503 from GET /api/v1/accounts/109000000000000001/statuses after retries"),
        ("timeout", 10, "ReadTimeout from GET /api/v1/accounts/109000000000000001/statuses after 3 attempts"),
        ("reset", 10, "from GET /api/v1/accounts/109000000000000001/statuses after 3 attempts"),
    ],
)
def test_fault_on_one_account_fails_it_alone_with_a_named_error(config: Config, sample_server: SampleServer, fault: str, count: int, expected: str) -> None:
    config = _fast(config)
    sample_server.timeout_fault_seconds = 3
    register_samples(config, sample_server, ("x", "mastodon"))
    sample_server.inject(fault, platform="mastodon", path_pattern=LISTING, count=count)
    report = harvest(config)
    assert report.status == "partial"
    by_platform = {a.account.platform: a for a in report.accounts}
    assert by_platform["x"].status == "ok"
    failed = by_platform["mastodon"]
    assert failed.status == "failed" and failed.error is not None
    assert failed.error.message.startswith("mastodon:109000000000000001 (@jalshakti)")
    assert expected in failed.error.message
    next_step = "sangrah accounts add mastodon NEW_ID --replace" if fault == "404" else "sangrah harvest --account mastodon:109000000000000001"
    assert failed.error.message.endswith(next_step)
    assert failed.coverage.gaps and failed.coverage.gaps[-1].endpoint == "statuses"
    # whatever was captured is published whole, verified, and nothing half-written remains
    assert verify(config).ok
    assert list(config.staging_dir.iterdir()) == []
    # the next run, with the fault gone, captures the account completely
    sample_server.clear_faults()
    again = harvest(config)
    assert again.status == "succeeded"
    captured = read_captured(config.store_dir / "warcs")
    truth = importlib.import_module("archiver.samples.mastodon").ground_truth(sample_server.world)
    assert truth <= captured.posts["mastodon"]


def test_fault_mid_listing_resumes_from_the_last_published_page(config: Config) -> None:
    with SampleServer(World(seed=5, posts_per_account=100)) as server:
        _fault_mid_listing(config, server)


def _fault_mid_listing(config: Config, sample_server: SampleServer) -> None:
    register_samples(config, sample_server, ("mastodon",))
    sample_server.inject("truncated", platform="mastodon", path_pattern=LISTING + r"\?.*max_id=", count=1)
    first = harvest(config)
    assert first.status == "failed"
    assert first.accounts[0].coverage.posts_captured > 0  # the first page and its threads were kept
    catalog = open_catalog(config)
    walk = catalog.get_cursor("mastodon:109000000000000001", WALK)
    catalog.close()
    assert walk is not None and walk["stack"][-1]["params"] and any(k == "max_id" for k, _ in walk["stack"][-1]["params"])
    second = harvest(config)
    assert second.status == "succeeded" and second.accounts[0].resumed
    captured = read_captured(config.store_dir / "warcs")
    truth = importlib.import_module("archiver.samples.mastodon").ground_truth(sample_server.world)
    assert truth <= captured.posts["mastodon"]
    # nothing already archived was fetched again: the only page captured twice is the one that
    # arrived truncated (kept as evidence of the fault) and was fetched again on resumption
    repeated = [url for url, n in captured.api_urls.items() if n > 1]
    assert len(captured.unparseable) == 1
    assert len(repeated) == 1 and "max_id=" in repeated[0]


def test_cli_exits_1_with_a_summary_when_an_account_fails(config: Config, sample_server: SampleServer, data_dir: Path) -> None:
    register_samples(config, sample_server, ("x", "mastodon"))
    sample_server.inject("401", platform="x", count=1)
    result = CliRunner().invoke(cli, ["harvest", "--data-dir", str(data_dir)], obj={})
    assert result.exit_code == 1
    assert "1 of 2 accounts failed; the others were captured and published." in result.stderr
    assert "error: x:1350000000000000001 (@JalShaktiDept): 401 from GET /2/users/1350000000000000001/tweets" in result.stderr
    assert "mastodon" in result.stdout and "ok" in result.stdout


def test_thread_that_vanished_is_a_gap_not_a_failure(config: Config, sample_server: SampleServer) -> None:
    register_samples(config, sample_server, ("mastodon",))
    sample_server.inject("404", platform="mastodon", path_pattern=r"/context", count=1)
    report = harvest(config)
    assert report.status == "succeeded"
    gaps = report.accounts[0].coverage.gaps
    assert [(g.cause, g.endpoint, g.status) for g in gaps] == [("not_found", "context", 404)]


def test_config_error_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "sangrah.yaml"
    bad.write_text("harvest:\n  max_retries: many\n")
    result = CliRunner().invoke(cli, ["--config", str(bad), "harvest"], obj={})
    assert result.exit_code == 2
    assert "harvest.max_retries (line 2): found 'many'; allowed: a whole number. Write a whole number, without quotes or units." in result.stderr


def test_unknown_account_is_a_named_error(config: Config, data_dir: Path) -> None:
    result = CliRunner().invoke(cli, ["harvest", "--account", "x:999", "--data-dir", str(data_dir)], obj={})
    assert result.exit_code == 1
    assert "no account x:999 is registered. See them with `sangrah accounts list`" in result.stderr


def test_loaded_config_keeps_defaults() -> None:
    assert load_config(None).harvest.max_retries == 5


def test_youtube_quota_spent_is_a_rate_limit_that_resumes(config: Config, sample_server: SampleServer) -> None:
    register_samples(config, sample_server, ("youtube",))
    sample_server.inject("quota", platform="youtube", path_pattern=r"/playlistItems", count=1)
    report = harvest(config)
    (account,) = report.accounts
    assert account.status == "failed" and account.error is not None
    assert "403 from GET /playlistItems: the platform's quota is spent" in account.error.message
    assert [g.cause for g in account.coverage.gaps] == ["rate_limit"]
    assert harvest(config).accounts[0].resumed
