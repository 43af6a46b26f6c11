"""Media capture (images linked to posts, videos by reference or up to a size cap), and the
suite's own scan for leaked credentials."""

from __future__ import annotations

from pathlib import Path

import orjson

from archiver.capture.reader import iter_records
from archiver.config import Config
from archiver.pipeline import harvest
from archiver.samples.server import SampleServer
from tests.conftest import find_secrets, register_samples


def _with(config: Config, **harvest_settings: object) -> Config:
    return config.model_copy(update={"harvest": config.harvest.model_copy(update=harvest_settings)})


def test_images_are_stored_and_linked_to_their_post(config: Config, sample_server: SampleServer) -> None:
    register_samples(config, sample_server, ("mastodon",))
    report = harvest(config)
    coverage = report.accounts[0].coverage
    assert coverage.media_expected > 0 and coverage.media_captured == coverage.media_expected
    links: dict[str, str] = {}
    images: dict[str, bytes] = {}
    for path in (config.store_dir / "warcs").glob("*.warc.gz"):
        for record in iter_records(path):
            if record.rec_type == "response" and record.header("X-Sangrah-Endpoint") == "_media":
                images[record.record_id] = record.payload
                assert record.header("X-Sangrah-Target").startswith("mastodon:")  # type: ignore[union-attr]
            if record.rec_type == "metadata" and record.target_uri and record.target_uri.startswith("urn:sangrah:media-of:"):
                links[record.header("WARC-Refers-To") or ""] = orjson.loads(record.payload)["post"]
    assert images and set(links) == set(images)
    assert all(body.startswith(b"\x89PNG") for body in images.values())
    assert all(post.startswith("mastodon:") for post in links.values())


def test_videos_are_recorded_by_reference_unless_a_size_cap_allows(config: Config, sample_server: SampleServer) -> None:
    register_samples(config, sample_server, ("x",))
    by_reference = harvest(config).accounts[0].coverage
    assert by_reference.videos_by_reference > 0
    small_cap = harvest(_with(config, video_max_bytes=1000, revisit_days=400)).accounts[0].coverage
    assert [g.cause for g in small_cap.gaps] == ["size_cap"] * by_reference.videos_by_reference
    assert all(g.detail.endswith("is larger than video_max_bytes=1000; recorded by URL only") for g in small_cap.gaps)
    large_cap = harvest(_with(config, video_max_bytes=50_000_000, revisit_days=400)).accounts[0].coverage
    assert large_cap.gaps == [] and large_cap.media_captured == large_cap.media_expected


def test_secret_scan_finds_a_planted_credential(tmp_path: Path) -> None:
    import gzip

    damaged = bytearray(gzip.compress(b"WARC/1.1\r\n" * 50))
    damaged[len(damaged) // 2] ^= 0xFF  # a damaged member first: the scan must go on past it
    (tmp_path / "a.warc.gz").write_bytes(bytes(damaged) + gzip.compress(b"WARC/1.1\r\nAuthorization: Bearer SANGRAH-TEST-SECRET-x-0001\r\n"))
    (tmp_path / "clean.log").write_text("nothing here")
    assert find_secrets([tmp_path], {"SANGRAH-TEST-SECRET-x-0001"}) == [f"{tmp_path / 'a.warc.gz'}: SANGRAH-TEST…"]
