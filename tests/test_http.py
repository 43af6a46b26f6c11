"""The one HTTP client against the sample platforms: credentials, rate limits, retries, records."""

from __future__ import annotations

import time
from typing import Any

import pytest

from archiver.capture.writer import Exchange
from archiver.errors import PlatformUnavailable, RateLimited
from archiver.http import PlatformClient, RetryPolicy, rate_limit_wait_seconds
from archiver.model import ApiRequest
from archiver.platforms import Auth
from archiver.samples.server import SampleServer

NOW = 1_800_000_000.0


def _client(server: SampleServer, platform: str, auth: Auth, exchanges: list[Exchange], sleeps: list[float], **policy: Any) -> PlatformClient:
    return PlatformClient(
        platform=platform,
        base_url=server.base_url(platform),
        auth=auth,
        credential=server.world.token(platform),
        account_label=f"{platform}:test",
        on_exchange=exchanges.append,
        policy=RetryPolicy(**{"max_retries": 3, "backoff_base_seconds": 0.5, "max_sleep_seconds": 30, "timeout_seconds": 2, **policy}),
        sleep=sleeps.append,
        jitter=lambda: 0.5,
    )


MASTODON_STATUSES = ApiRequest("timeline", "/api/v1/accounts/109000000000000001/statuses", (("limit", "40"),), "109000000000000001")
YOUTUBE_CHANNEL = ApiRequest("channel", "/channels", (("part", "contentDetails"), ("id", "UCsangrahJalShaktiDept01")), "UCsangrahJalShaktiDept01")


def test_bearer_credential_is_sent_and_never_recorded(sample_server: SampleServer) -> None:
    exchanges: list[Exchange] = []
    with _client(sample_server, "mastodon", Auth("bearer"), exchanges, []) as client:
        response = client.fetch(MASTODON_STATUSES)
    assert response.status == 200
    token = sample_server.world.token("mastodon")
    (exchange,) = exchanges
    assert ("authorization", "Bearer SANGRAH-REDACTED") in [(k.lower(), v) for k, v in exchange.request_headers]
    assert token not in repr(exchange)


def test_query_credential_is_replaced_by_a_visible_marker(sample_server: SampleServer) -> None:
    exchanges: list[Exchange] = []
    with _client(sample_server, "youtube", Auth("query", "key"), exchanges, []) as client:
        response = client.fetch(YOUTUBE_CHANNEL)
    assert response.status == 200
    assert "key=SANGRAH-REDACTED" in exchanges[0].url
    assert sample_server.world.token("youtube") not in response.url


def test_429_waits_for_retry_after_then_succeeds(sample_server: SampleServer) -> None:
    sample_server.inject("429", platform="mastodon", count=2)
    exchanges: list[Exchange] = []
    sleeps: list[float] = []
    with _client(sample_server, "mastodon", Auth("bearer"), exchanges, sleeps) as client:
        response = client.fetch(MASTODON_STATUSES)
    assert response.status == 200
    assert [e.status for e in exchanges] == [429, 429, 200]  # the refusals are evidence too
    assert sleeps[:2] == [1.0, 1.0]  # the sample server's Retry-After
    assert client.retries == 2


def test_429_storm_gives_rate_limited_naming_the_account(sample_server: SampleServer) -> None:
    sample_server.inject("429", platform="mastodon", count=10)
    with _client(sample_server, "mastodon", Auth("bearer"), [], []) as client, pytest.raises(RateLimited) as caught:
        client.fetch(MASTODON_STATUSES)
    assert "mastodon:test" in caught.value.message
    assert caught.value.message.endswith("resumes where it stopped: sangrah harvest --account mastodon:test")
    assert caught.value.status == 429


def test_5xx_backs_off_exponentially_with_jitter(sample_server: SampleServer) -> None:
    sample_server.inject("503", platform="mastodon", count=3)
    sleeps: list[float] = []
    with _client(sample_server, "mastodon", Auth("bearer"), [], sleeps) as client:
        response = client.fetch(MASTODON_STATUSES)
    assert response.status == 200
    assert sleeps == [0.5, 1.0, 2.0]  # base 0.5 doubling; jitter fixed at the middle (×1.0)


def test_lasting_5xx_is_returned_for_the_caller_to_record(sample_server: SampleServer) -> None:
    sample_server.inject("500", platform="mastodon", count=10)
    with _client(sample_server, "mastodon", Auth("bearer"), [], []) as client:
        assert client.fetch(MASTODON_STATUSES).status == 500


def test_connection_reset_is_retried_then_named(sample_server: SampleServer) -> None:
    sample_server.inject("reset", platform="mastodon", count=10)
    with _client(sample_server, "mastodon", Auth("bearer"), [], [], max_retries=2) as client, pytest.raises(PlatformUnavailable) as caught:
        client.fetch(MASTODON_STATUSES)
    assert "after 3 attempts" in caught.value.message
    assert "/api/v1/accounts/109000000000000001/statuses" in caught.value.message


def test_timeout_is_retried(sample_server: SampleServer) -> None:
    sample_server.timeout_fault_seconds = 3
    sample_server.inject("timeout", platform="mastodon", count=1)
    exchanges: list[Exchange] = []
    with _client(sample_server, "mastodon", Auth("bearer"), exchanges, [], timeout_seconds=0.5) as client:
        response = client.fetch(MASTODON_STATUSES)
    assert response.status == 200
    assert client.retries == 1


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(int(NOW) + 42)}, 42.0),
        ({"x-rate-limit-remaining": "5", "x-rate-limit-reset": str(int(NOW) + 42)}, None),
        ({"RateLimit-Remaining": "0", "RateLimit-Reset": "17"}, 17.0),  # IETF draft: delta seconds
        ({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(NOW + 90))}, 90.0),
        ({"X-App-Usage": '{"call_count":96,"total_cputime":10,"total_time":12}'}, 60.0),
        ({"X-App-Usage": '{"call_count":40,"total_cputime":10,"total_time":12}'}, None),
        ({"X-Business-Use-Case-Usage": '{"1234":[{"type":"pages","call_count":99,"total_cputime":1,"total_time":1}]}'}, 60.0),
        ({}, None),
    ],
)
def test_rate_limit_headers_of_each_platform(headers: dict[str, str], expected: float | None) -> None:
    assert rate_limit_wait_seconds(headers, now=NOW) == expected
