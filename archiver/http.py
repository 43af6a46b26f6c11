"""The one HTTP client: credentials, rate limits, retries, and a record of every exchange.

Every platform call goes through ``PlatformClient.fetch``. It adds the credential (a bearer
header or a query parameter), waits when the platform's own headers say the budget is spent,
retries 429, 5xx, time-outs and resets with exponential back-off and jitter (honouring
``Retry-After``), and hands every exchange — failed ones too, since they are evidence of a gap —
to ``on_exchange`` after removing the credential from it. Nothing that leaves this module
carries a secret.

Rate-limit headers understood (twarc reads X's the same way):

- X: ``x-rate-limit-remaining`` / ``x-rate-limit-reset`` (epoch seconds)
- Mastodon: ``X-RateLimit-Remaining`` / ``X-RateLimit-Reset`` (ISO 8601 instant)
- Bluesky and the IETF draft: ``RateLimit-Remaining`` / ``RateLimit-Reset`` (epoch or delta seconds)
- Facebook and Instagram: ``X-App-Usage`` / ``X-Business-Use-Case-Usage`` (percentages of the budget)
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import httpx
import orjson

from archiver import SOFTWARE
from archiver.capture.redact import redact_exchange, redact_known_secrets
from archiver.capture.writer import Exchange
from archiver.errors import PlatformUnavailable, RateLimited
from archiver.model import ApiRequest
from archiver.platforms import Auth, header, parse_time

__all__ = ["PlatformClient", "Response", "RetryPolicy", "rate_limit_wait_seconds"]

log = logging.getLogger(__name__)

_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try before giving up on one call.

    Usage::

        RetryPolicy(max_retries=5, backoff_base_seconds=1.0, max_sleep_seconds=900)
    """

    max_retries: int = 5
    backoff_base_seconds: float = 1.0
    max_sleep_seconds: float = 900.0
    timeout_seconds: float = 30.0


@dataclass(frozen=True, slots=True)
class Response:
    request: ApiRequest
    url: str  #: without the credential
    status: int
    headers: Mapping[str, str]
    body: bytes
    #: the body was larger than the ``max_bytes`` asked for: it was neither read whole nor recorded
    too_large: bool = False


class PlatformClient:
    """One platform's HTTP client for one account's credential."""

    def __init__(
        self,
        *,
        platform: str,
        base_url: str,
        auth: Auth,
        credential: str | None,
        account_label: str,
        on_exchange: Callable[[Exchange], None],
        account_key: str | None = None,
        policy: RetryPolicy = RetryPolicy(),
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.platform = platform
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.account_label = account_label
        self.account_key = account_key or account_label
        self.on_exchange = on_exchange
        self.policy = policy
        self._credential = credential
        self._sleep = sleep
        self._jitter = jitter
        self._client = httpx.Client(
            timeout=policy.timeout_seconds,
            headers={"User-Agent": f"{SOFTWARE} (+records archive)"},
            follow_redirects=False,
            transport=transport,
        )
        self._wait_until: float = 0.0
        #: the walk each exchange belongs to, recorded with it (set by the harvest loop)
        self.walk_id: str | None = None
        self.calls = 0
        self.retries = 0

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> PlatformClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def url_for(self, request: ApiRequest) -> str:
        if request.path.startswith(("http://", "https://")):
            return request.path
        return self.base_url + request.path

    def fetch(self, request: ApiRequest, *, authenticated: bool = True, max_bytes: int | None = None) -> Response:
        """Make one call, retrying what is worth retrying; return the final response, any status.

        Raises ``RateLimited`` or ``PlatformUnavailable`` when the retries run out.
        """
        attempt = 0
        while True:
            self._respect_budget()
            try:
                response = self._send(request, authenticated=authenticated, max_bytes=max_bytes)
            except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                if attempt >= self.policy.max_retries:
                    raise PlatformUnavailable(
                        f"{self.account_label}: {type(exc).__name__} from GET {request.path} after "
                        f"{attempt + 1} attempts ({exc}). Check the network or the platform's status; the "
                        f"harvest resumes where it stopped: sangrah harvest --account {self.account_key}",
                        account=self.account_key,
                        url=request.path,
                    ) from exc
                delay = self._backoff(attempt)
                log.warning("retry account=%s path=%s cause=%s delay_s=%.1f", self.account_label, request.path, type(exc).__name__, delay)
                self._pause(delay)
                attempt += 1
                self.retries += 1
                continue
            self._learn_budget(response.headers)
            if response.status not in _RETRY_STATUSES:
                return response
            if attempt >= self.policy.max_retries:
                if response.status == 429:
                    raise RateLimited(
                        f"{self.account_label}: still rate limited (429) on GET {request.path} after "
                        f"{attempt + 1} attempts. Wait for the platform's window to reset; the harvest resumes where it stopped: "
                        f"sangrah harvest --account {self.account_key}",
                        account=self.account_key,
                        url=request.path,
                        status=429,
                    )
                return response  # a lasting 5xx: the caller records the gap with its status
            retry_after = self._retry_after(response.headers)
            delay = self._backoff(attempt) if retry_after is None else retry_after
            log.warning("retry account=%s path=%s status=%s delay_s=%.1f", self.account_label, request.path, response.status, delay)
            self._pause(delay)
            self._wait_until = 0.0  # the platform's own wait has been served
            attempt += 1
            self.retries += 1

    # -- one attempt -------------------------------------------------------------------------
    def _send(self, request: ApiRequest, *, authenticated: bool, max_bytes: int | None = None) -> Response:
        params: list[tuple[str, str | int | float | bool | None]] = list(request.params)
        headers: dict[str, str] = {}
        secret = self._credential if authenticated else None
        if secret:
            if self.auth.kind == "bearer":
                headers["Authorization"] = f"Bearer {secret}"
            else:
                params.append((self.auth.param, secret))
        url = self.url_for(request)
        started_at = datetime.now(timezone.utc)
        self.calls += 1
        with self._client.stream("GET", url, params=params, headers=headers) as raw:
            if max_bytes is not None:
                body = _read_capped(raw, max_bytes)
                if body is None:
                    log.info("skipped account=%s url=%s reason=larger-than-%d-bytes", self.account_label, request.path, max_bytes)
                    return Response(request, request.path, raw.status_code, dict(raw.headers), b"", too_large=True)
            else:
                body = raw.read()
            sent = raw.request
            request_headers = list(sent.headers.multi_items())
            response_headers = list(raw.headers.multi_items())
            http_version = raw.http_version
            status, reason = raw.status_code, raw.reason_phrase
            sent_url = str(sent.url)
            ip = _peer_ip(raw)
        secrets = [secret] if secret else []
        stored_body = redact_known_secrets(body, secrets) if secrets else body
        exchange = Exchange(
            url=sent_url,
            method="GET",
            request_headers=request_headers,
            request_body=b"",
            status=status,
            reason=reason,
            response_headers=response_headers,
            response_body=stored_body,
            started_at=started_at,
            http_version=http_version,
            ip_address=ip,
            redacted_body=stored_body != body,
            context=(
                ("X-Sangrah-Platform", self.platform),
                ("X-Sangrah-Account", self.account_key),
                ("X-Sangrah-Endpoint", request.endpoint),
                ("X-Sangrah-Target", request.target),
            )
            + ((("X-Sangrah-Walk", self.walk_id),) if self.walk_id else ()),
        )
        clean = redact_exchange(exchange)
        self.on_exchange(clean)
        log.info("fetched account=%s path=%s status=%s bytes=%d", self.account_label, request.path, status, len(body))
        return Response(request=request, url=clean.url, status=status, headers=dict(raw.headers), body=body)

    # -- pacing ------------------------------------------------------------------------------
    def _pause(self, seconds: float) -> None:
        if seconds > 0:
            self._sleep(seconds)

    def _respect_budget(self) -> None:
        wait = self._wait_until - time.time()
        if wait > 0:
            log.info("rate-limit wait account=%s seconds=%.1f", self.account_label, wait)
            self._pause(min(wait, self.policy.max_sleep_seconds))
            self._wait_until = 0.0

    def _learn_budget(self, headers: Mapping[str, str]) -> None:
        wait = rate_limit_wait_seconds(headers, now=time.time())
        if wait is not None and wait > 0:
            self._wait_until = time.time() + min(wait, self.policy.max_sleep_seconds)

    def _retry_after(self, headers: Mapping[str, str]) -> float | None:
        value = header(headers, "retry-after")
        if value is None:
            return rate_limit_wait_seconds(headers, now=time.time(), exhausted=True)
        try:
            seconds = float(value)
        except ValueError:
            try:
                seconds = (parsedate_to_datetime(value) - datetime.now(timezone.utc)).total_seconds()
            except (TypeError, ValueError):
                return None
        return max(0.0, min(seconds, self.policy.max_sleep_seconds))

    def _backoff(self, attempt: int) -> float:
        base = self.policy.backoff_base_seconds * (2**attempt)
        return min(self.policy.max_sleep_seconds, base * (0.5 + self._jitter()))


def rate_limit_wait_seconds(headers: Mapping[str, str], *, now: float, exhausted: bool = False) -> float | None:
    """Seconds to wait before the next call, read from the platform's own headers; None if unsaid.

    A wait is asked for only when the remaining budget is zero (or ``exhausted`` is given, as for
    a 429), or when a Facebook usage header reports 95 % or more of a budget used.
    """
    for remaining_name, reset_name in (
        ("x-rate-limit-remaining", "x-rate-limit-reset"),
        ("ratelimit-remaining", "ratelimit-reset"),
        ("x-ratelimit-remaining", "x-ratelimit-reset"),
    ):
        remaining = header(headers, remaining_name)
        reset = header(headers, reset_name)
        if remaining is None or reset is None:
            continue
        try:
            spent = int(remaining) <= 0
        except ValueError:
            continue
        if not (spent or exhausted):
            return None
        return _seconds_until(reset, now)
    usage = _meta_usage_percent(headers)
    if usage is not None and usage >= 95:
        return 60.0
    return None


def _seconds_until(reset: str, now: float) -> float | None:
    try:
        number = float(reset)
    except ValueError:
        instant = parse_time(reset)
        return None if instant is None else max(0.0, instant.timestamp() - now)
    # an epoch instant (X, Bluesky) or, per the IETF draft, a delta in seconds
    return max(0.0, number - now) if number > 1_000_000_000 else max(0.0, number)


def _meta_usage_percent(headers: Mapping[str, str]) -> float | None:
    """The highest percentage in Facebook's X-App-Usage / X-Business-Use-Case-Usage headers."""
    highest: float | None = None
    for name in ("x-app-usage", "x-business-use-case-usage", "x-ad-account-usage"):
        raw = header(headers, name)
        if not raw:
            continue
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            log.warning("unreadable usage header name=%s", name)
            continue
        for entry in _iter_usage(data):
            for key in ("call_count", "total_cputime", "total_time"):
                value = entry.get(key)
                if isinstance(value, (int, float)):
                    highest = value if highest is None else max(highest, value)
    return highest


def _iter_usage(data: object) -> list[dict[str, object]]:
    if isinstance(data, dict):
        if any(k in data for k in ("call_count", "total_cputime", "total_time")):
            return [data]
        out: list[dict[str, object]] = []
        for value in data.values():  # business use case: {business_id: [ {...}, ... ]}
            if isinstance(value, list):
                out.extend(v for v in value if isinstance(v, dict))
        return out
    return []


def _read_capped(raw: httpx.Response, max_bytes: int) -> bytes | None:
    """The whole body if it is at most ``max_bytes``, else None (and the rest is not downloaded)."""
    declared = raw.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        return None
    chunks: list[bytes] = []
    size = 0
    for chunk in raw.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _peer_ip(response: httpx.Response) -> str | None:
    stream = response.extensions.get("network_stream")
    if stream is None:
        return None
    try:
        address = stream.get_extra_info("server_addr")
    except Exception:  # the transport may not know; the IP is optional in WARC
        return None
    return str(address[0]) if address else None
