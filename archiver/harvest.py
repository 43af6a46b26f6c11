"""The harvest loop: walk one account's API calls, capture each exchange, parse, follow on.

A walk is depth first over a stack of ``ApiRequest``: each response is written to the WARC,
parsed into a ``Page``, and its follow-ups are taken before the listing's next page. After
every page the walk's state (the stack, the newest post seen, the counts) is noted as the
account's pending cursor; it is committed only together with the manifest row of the WARC
file that holds the page (``pipeline``), so a killed harvest resumes from the last published
page and loses nothing.

Each account's window ends with a ``metadata`` record: account, endpoints, window, cursor before
and after, counts, and the coverage statement — what the platform said exists, what was
captured, and every gap with its cause — so that an RTI reply can say how complete the
archive is.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from archiver.capture.writer import Exchange, WarcWriter
from archiver.errors import (
    AccountGone,
    ArchiverError,
    AuthError,
    CatalogError,
    PageParseError,
    PlatformError,
    PlatformUnavailable,
    RateLimited,
    excerpt,
)
from archiver.http import PlatformClient, Response
from archiver.model import ApiRequest, Page, Post, RecordId
from archiver.platforms import AccountRef, PlatformModule

__all__ = ["WALK", "AccountHarvest", "Coverage", "ExchangeRecorder", "Gap", "harvest_account"]

log = logging.getLogger(__name__)

#: the cursor row that holds an unfinished walk (its stack) for resumption
WALK = "_walk"
#: the endpoint name of a media download; names starting "_" belong to the harvester, not a platform
MEDIA = "_media"
_REPLY_KINDS = frozenset({"reply", "comment"})


@dataclass(slots=True)
class Gap:
    """Something the archive does not hold for this window, and why."""

    cause: str  #: rate_limit, permission, platform_error, not_found, page_limit, parse_error, size_cap
    endpoint: str
    target: str
    detail: str
    status: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"cause": self.cause, "endpoint": self.endpoint, "target": self.target, "status": self.status, "detail": self.detail}


@dataclass(slots=True)
class Coverage:
    """What was expected and what was captured for one account and window."""

    listed_total: int | None = None  #: what the platform says the listing holds, when it says
    posts_captured: int = 0  #: the account's own items: its posts, and its replies in threads
    replies_reported: int = 0  #: replies the platform's counters report on its posts
    replies_captured: int = 0  #: replies and comments by others, captured from the threads
    media_expected: int = 0
    media_captured: int = 0
    videos_by_reference: int = 0
    requests: int = 0  #: API calls answered (media downloads are counted in media_captured)
    pages: int = 0
    gaps: list[Gap] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "listed_total": self.listed_total,
            "posts_captured": self.posts_captured,
            "replies_reported": self.replies_reported,
            "replies_captured": self.replies_captured,
            "media_expected": self.media_expected,
            "media_captured": self.media_captured,
            "videos_by_reference": self.videos_by_reference,
            "requests": self.requests,
            "pages": self.pages,
            "complete": not self.gaps,
            "gaps": [g.to_json() for g in self.gaps],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Coverage:
        gaps = [Gap(g["cause"], g["endpoint"], g["target"], g["detail"], g.get("status")) for g in data.get("gaps", [])]
        fields = {k: data[k] for k in cls.__dataclass_fields__ if k in data and k != "gaps"}
        return cls(**fields, gaps=gaps)


@dataclass(slots=True)
class AccountHarvest:
    """The outcome of one account's walk in one run."""

    account: AccountRef
    status: str = "running"  #: ok, failed
    error: ArchiverError | None = None
    coverage: Coverage = field(default_factory=Coverage)
    window_start: datetime | None = None
    window_end: datetime | None = None
    resumed: bool = False


ProgressFn = Callable[[AccountRef, str, Coverage, datetime | None], None]


def harvest_account(
    *,
    module: PlatformModule,
    account: AccountRef,
    client: PlatformClient,
    media_client: PlatformClient,
    recorder: ExchangeRecorder,
    cursors: dict[str, dict[str, Any]],
    note_cursors: Callable[[dict[str, dict[str, Any] | None]], None],
    now: datetime,
    revisit_days: int,
    fetch_images: bool,
    video_max_bytes: int,
    credential_env: str,
    harvest_id: str,
    progress: ProgressFn | None = None,
) -> AccountHarvest:
    """Walk one account to the end (or to its first fatal error) and write its window's metadata."""
    walk = _Walk.start(module, account, cursors, now, revisit_days)
    client.walk_id = media_client.walk_id = walk.walk_id
    if walk.resumed:
        log.info("walk resumed account=%s walk=%s pending_calls=%d", account.key, walk.walk_id, len(walk.stack))
    result = AccountHarvest(account=account, coverage=walk.coverage, window_start=walk.window_start, window_end=now, resumed=walk.resumed)
    cursor_before = {k: v for k, v in cursors.items() if k != WALK}
    try:
        while walk.stack:
            request = walk.stack.pop()
            if request.endpoint == MEDIA:
                _capture_media(request, media_client, recorder, walk, video_max_bytes)
            else:
                _capture_page(request, module, account, client, walk, fetch_images, video_max_bytes, credential_env)
            note_cursors({WALK: walk.to_json()})
            if progress:
                progress(account, request.endpoint, walk.coverage, walk.oldest_at)
        result.status = "ok"
        advanced = {endpoint: _newer_marker(cursors.get(endpoint) or {}, marker) for endpoint, marker in walk.markers.items()}
        note_cursors({WALK: None, **advanced})
        cursor_after: dict[str, Any] = {**cursor_before, **advanced}
    except CatalogError:
        raise  # the catalog failing is the whole run's failure, not this account's
    except ArchiverError as exc:
        result.status = "failed"
        result.error = exc
        walk.coverage.gaps.append(_gap_for(exc, walk.current))
        if walk.current is not None:
            walk.stack.append(walk.current)  # the call that failed is where the next run resumes
        log.error("account failed account=%s error=%s", account.key, exc.message)
        cursor_after = {**cursor_before, WALK: walk.to_json()}
    recorder.writer.write_metadata(
        uri=f"urn:sangrah:harvest:{harvest_id}:{account.key}",
        created_at=datetime.now(timezone.utc),
        fields={
            "type": "harvest-window",
            "harvest_id": harvest_id,
            "walk_id": walk.walk_id,
            "account": account.key,
            "handle": account.handle,
            "platform": account.platform,
            "endpoints": sorted(walk.endpoints_seen),
            "window": {
                "start": walk.window_start.isoformat() if walk.window_start else None,
                "end": now.isoformat(),
                "revisit_days": revisit_days,
                "resumed": walk.resumed,
            },
            "cursor_before": cursor_before,
            "cursor_after": cursor_after,
            "status": result.status,
            "error": result.error.to_dict() if result.error else None,
            "coverage": walk.coverage.to_json(),
        },
    )
    return result


# -- one call --------------------------------------------------------------------------------------
def _capture_page(
    request: ApiRequest,
    module: PlatformModule,
    account: AccountRef,
    client: PlatformClient,
    walk: _Walk,
    fetch_images: bool,
    video_max_bytes: int,
    credential_env: str,
) -> None:
    walk.current = request
    try:
        response = client.fetch(request)
    except PlatformUnavailable as exc:
        if walk.is_listing(request) or walk.is_first(request):
            raise
        walk.coverage.gaps.append(Gap("platform_error", request.endpoint, request.target, exc.message))
        return
    walk.coverage.requests += 1
    walk.endpoints_seen.add(request.endpoint)
    if response.status != 200:
        _handle_status(response, account, walk, credential_env)
        return
    try:
        page = module.parse_page(request, response.body, response.headers)
    except PageParseError as exc:
        raise PageParseError(
            f"{account.label()}: {exc.message} The walk resumes from this page next time: sangrah harvest --account {account.key}",
            account=account.key,
            url=exc.url,
            status=response.status,
            excerpt=exc.excerpt,
        ) from exc
    walk.coverage.pages += 1
    walk.accept(request, page, fetch_images, video_max_bytes)


def _handle_status(response: Response, account: AccountRef, walk: _Walk, credential_env: str) -> None:
    request, status = response.request, response.status
    where = f"{account.label()}: {status} from GET {request.path}"
    if status == 403 and any(marker in response.body[:2000] for marker in (b"quotaExceeded", b"rateLimitExceeded", b"dailyLimitExceeded")):
        # YouTube spends its daily quota with a 403, not a 429
        raise RateLimited(
            f"{where}: the platform's quota is spent ({excerpt(response.body, 100)}). It resets daily; the walk "
            f"resumes from this page then: sangrah harvest --account {account.key}",
            account=account.key,
            url=request.path,
            status=status,
        )
    if status in (401, 403) or (status == 400 and _looks_like_auth(response.body)):
        raise AuthError(
            f"{where}; the credential in {credential_env} was refused ({excerpt(response.body, 100)}). "
            f"Renew it, export it as {credential_env}, then run: sangrah harvest --account {account.key}",
            account=account.key,
            url=request.path,
            status=status,
        )
    if status == 404 and walk.is_first(request):
        raise AccountGone(
            f"{where}: the account no longer exists or was renamed. Check it on the platform, then "
            f"update it with: sangrah accounts add {account.platform} NEW_ID --replace",
            account=account.key,
            url=request.path,
            status=status,
        )
    if status == 404:
        # a post removed since it was listed: its thread is gone, which is itself a finding
        walk.coverage.gaps.append(Gap("not_found", request.endpoint, request.target, "the platform answered 404 (deleted or hidden)", status))
        return
    if walk.is_listing(request) or walk.is_first(request):
        raise PlatformUnavailable(
            f"{where} after retries ({excerpt(response.body, 100)}). The walk stops here and resumes "
            f"from this page next time: sangrah harvest --account {account.key}",
            account=account.key,
            url=request.path,
            status=status,
        )
    walk.coverage.gaps.append(Gap("platform_error", request.endpoint, request.target, excerpt(response.body, 100), status))


def _capture_media(
    request: ApiRequest,
    client: PlatformClient,
    recorder: ExchangeRecorder,
    walk: _Walk,
    video_max_bytes: int,
) -> None:
    walk.current = request
    is_video = dict(request.params).get("kind") == "video"
    recorder.media_post = request.target
    try:
        response = client.fetch(
            ApiRequest(request.endpoint, request.path, (), request.target),
            authenticated=False,
            max_bytes=video_max_bytes if is_video else None,
        )
    except (PlatformUnavailable, RateLimited) as exc:
        walk.coverage.gaps.append(Gap("platform_error", MEDIA, request.target, exc.message))
        return
    finally:
        recorder.media_post = None
    if response.too_large:
        walk.coverage.gaps.append(Gap("size_cap", MEDIA, request.target, f"{request.path} is larger than video_max_bytes={video_max_bytes}; recorded by URL only"))
    elif response.status == 200:
        walk.coverage.media_captured += 1
    else:
        walk.coverage.gaps.append(Gap("platform_error", MEDIA, request.target, f"{response.status} for {response.url}", response.status))


def _looks_like_auth(body: bytes) -> bool:
    head = body[:2000]
    return any(marker in head for marker in (b"OAuthException", b"API key not valid", b"invalid_token", b"AuthenticationRequired", b"ExpiredToken"))


def _gap_for(exc: ArchiverError, request: ApiRequest | None) -> Gap:
    endpoint = request.endpoint if request else ""
    target = request.target if request else ""
    status = getattr(exc, "status", None)
    if isinstance(exc, RateLimited):
        cause = "rate_limit"
    elif isinstance(exc, AuthError):
        cause = "permission"
    elif isinstance(exc, AccountGone):
        cause = "not_found"
    elif isinstance(exc, PageParseError):
        cause = "parse_error"
    elif isinstance(exc, PlatformError):
        cause = "platform_error"
    else:
        cause = "capture_error"
    return Gap(cause, endpoint, target, exc.message, status)


def _newer_marker(previous: dict[str, Any], marker: dict[str, Any]) -> dict[str, Any]:
    """The later of two listing positions (a revisit never moves a cursor back)."""
    if previous.get("newest_at") and (not marker.get("newest_at") or previous["newest_at"] > marker["newest_at"]):
        return previous
    return marker


# -- the walk's state ----------------------------------------------------------------------------
@dataclass(slots=True)
class _Walk:
    module: PlatformModule
    account: AccountRef
    stack: list[ApiRequest]
    first: list[ApiRequest]
    stop_before: dict[str, str]  #: per listing endpoint: stop paging below this instant (ISO)
    markers: dict[str, dict[str, Any]]  #: per listing endpoint: the newest post this walk saw
    coverage: Coverage
    window_start: datetime | None
    resumed: bool
    walk_id: str
    endpoints_seen: set[str] = field(default_factory=set)
    #: the account's own items counted in this run (a thread page repeats its root post)
    counted: set[str] = field(default_factory=set)
    #: media URLs already queued in this run (a quote or a thread repeats its post's media)
    media_seen: set[str] = field(default_factory=set)
    oldest_at: datetime | None = None
    current: ApiRequest | None = None

    @classmethod
    def start(cls, module: PlatformModule, account: AccountRef, cursors: dict[str, dict[str, Any]], now: datetime, revisit_days: int) -> _Walk:
        first = module.first_requests(account)
        saved = cursors.get(WALK)
        if saved:
            return cls(
                module=module,
                account=account,
                stack=[ApiRequest.from_json(r) for r in saved["stack"]],
                first=first,
                stop_before=dict(saved.get("stop_before", {})),
                markers=dict(saved.get("markers", {})),
                coverage=Coverage.from_json(saved.get("coverage", {})),
                window_start=datetime.fromisoformat(saved["window_start"]) if saved.get("window_start") else None,
                resumed=True,
                walk_id=saved.get("walk_id") or uuid.uuid4().hex,
            )
        revisit_from = now - timedelta(days=revisit_days)
        stop_before: dict[str, str] = {}
        for endpoint in module.LISTING_ENDPOINTS:
            newest = (cursors.get(endpoint) or {}).get("newest_at")
            if newest:
                stop_before[endpoint] = min(datetime.fromisoformat(newest), revisit_from).isoformat()
        window_start = min((datetime.fromisoformat(v) for v in stop_before.values()), default=None)
        return cls(
            module=module,
            account=account,
            stack=list(reversed(first)),
            first=first,
            stop_before=stop_before,
            markers={},
            coverage=Coverage(),
            window_start=window_start,
            resumed=False,
            walk_id=uuid.uuid4().hex,
        )

    def is_listing(self, request: ApiRequest) -> bool:
        return request.endpoint in self.module.LISTING_ENDPOINTS

    def is_first(self, request: ApiRequest) -> bool:
        return request in self.first

    def accept(self, request: ApiRequest, page: Page, fetch_images: bool, video_max_bytes: int) -> None:
        listing = self.is_listing(request)
        follow_ups = list(page.follow_ups)
        next_request = page.next
        posts = list(page.posts)
        if listing:
            if page.total_count is not None and self.coverage.listed_total is None:
                self.coverage.listed_total = page.total_count
            positions = list(page.listed) or [(p.record_id, p.created_at) for p in posts]
            cutoff = self.stop_before.get(request.endpoint)
            if cutoff is not None:
                limit = datetime.fromisoformat(cutoff)
                old = {rid.native_id for rid, at in positions if at is not None and at < limit}
                if old:
                    next_request = None  # everything below is already archived and outside the revisit window
                    posts = [p for p in posts if p.record_id.native_id not in old]
                    positions = [(rid, at) for rid, at in positions if rid.native_id not in old]
                    follow_ups = [f for f in follow_ups if not set(f.target.split(",")) <= old]
            self._mark(request.endpoint, positions)
            if page.limit_note and next_request is None:
                self.coverage.gaps.append(Gap("page_limit", request.endpoint, request.target, page.limit_note))
        self._count(posts)
        for gone_id, reason in page.missing:
            self.coverage.gaps.append(Gap("not_found", request.endpoint, gone_id, reason))
        media = _media_requests(posts, fetch_images, video_max_bytes, self.coverage, self.media_seen)
        # the stack is last-in first-out: push what comes last first
        if next_request is not None:
            self.stack.append(next_request)
        self.stack.extend(reversed(follow_ups))
        self.stack.extend(reversed(media))

    def _count(self, posts: list[Post]) -> None:
        """Count the account's own items (posts, and its replies in threads) once each, and
        the replies and comments by others."""
        for post in posts:
            own = post.kind == "repost" or post.author is None or post.author.native_id == self.account.native_id
            if own:
                key = post.record_id.native_id
                if key in self.counted:
                    continue  # a thread page repeats its root post
                self.counted.add(key)
                self.coverage.posts_captured += 1
                if post.kind != "repost" and post.parent_id is None:
                    self.coverage.replies_reported += post.reply_count or 0
            elif post.parent_id is not None:
                self.coverage.replies_captured += 1

    def _mark(self, endpoint: str, positions: list[tuple[RecordId, datetime | None]]) -> None:
        dated = [(at, rid) for rid, at in positions if at is not None]
        if not dated:
            return
        newest_at, newest_id = max(dated, key=lambda pair: pair[0])
        oldest_at = min(at for at, _ in dated)
        self.oldest_at = oldest_at if self.oldest_at is None else min(self.oldest_at, oldest_at)
        current = self.markers.get(endpoint)
        if current is None or current["newest_at"] < newest_at.isoformat():
            self.markers[endpoint] = {"newest_at": newest_at.isoformat(), "newest_id": newest_id.native_id}

    def to_json(self) -> dict[str, Any]:
        return {
            "stack": [r.to_json() for r in self.stack],
            "stop_before": self.stop_before,
            "markers": self.markers,
            "coverage": self.coverage.to_json(),
            "window_start": self.window_start.isoformat() if self.window_start else None,
            "walk_id": self.walk_id,
        }


def _media_requests(posts: list[Post], fetch_images: bool, video_max_bytes: int, coverage: Coverage, seen: set[str]) -> list[ApiRequest]:
    out: list[ApiRequest] = []
    for post in posts:
        for item in post.media:
            if not item.url or item.url in seen:
                continue
            seen.add(item.url)
            if item.kind in ("image", "gif") and fetch_images:
                coverage.media_expected += 1
                out.append(ApiRequest(MEDIA, item.url, (("kind", "image"),), str(post.record_id)))
            elif item.kind == "video":
                if video_max_bytes > 0:
                    coverage.media_expected += 1
                    out.append(ApiRequest(MEDIA, item.url, (("kind", "video"),), str(post.record_id)))
                else:
                    coverage.videos_by_reference += 1
    return out


class ExchangeRecorder:
    """The HTTP clients' exchange hook: write each exchange, and link a media file to its post."""

    def __init__(self, writer: WarcWriter) -> None:
        self.writer = writer
        #: set while a media file is fetched: the record id of the post it belongs to
        self.media_post: str | None = None

    def __call__(self, exchange: Exchange) -> None:
        records = self.writer.write_exchange(exchange)
        if self.media_post:
            self.writer.write_metadata(
                uri=f"urn:sangrah:media-of:{self.media_post}",
                created_at=exchange.started_at,
                fields={"type": "media-link", "post": self.media_post, "media_url": exchange.url},
                refers_to=records.response.record_id,
            )
