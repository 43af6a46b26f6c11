"""YouTube Data API v3: a channel's videos, the comments on them, and the replies to those.

Endpoints (base ``https://www.googleapis.com/youtube/v3``), in the order a harvest meets them:

``channel``          ``GET /channels?part=contentDetails,snippet,statistics&id=CHANNEL``
                     gives the uploads playlist (``contentDetails.relatedPlaylists.uploads``).
``uploads``          ``GET /playlistItems?part=snippet,contentDetails&playlistId=UPLOADS&maxResults=50``
                     with ``pageToken`` paging; newest first. The LISTING endpoint.
``videos``           ``GET /videos?part=snippet,contentDetails,statistics,status&id=ID,ID,...``
                     one call per uploads page, up to 50 ids (the API's limit per call).
``comment_threads``  ``GET /commentThreads?part=snippet,replies&allThreadsRelatedToChannelId=CHANNEL
                     &maxResults=100&order=time`` with ``pageToken`` paging: every top-level comment on
                     every video of the channel, with up to 5 replies each. Per-video listings
                     (``videoId=`` instead of ``allThreadsRelatedToChannelId=``) parse the same way.
``replies``          ``GET /comments?part=snippet&parentId=COMMENT&maxResults=100`` with ``pageToken``:
                     only for threads whose ``totalReplyCount`` exceeds the replies the thread included.

Records: the videos are the posts (kind "post"). A playlist item is only a pointer to a video, so
``uploads`` pages yield no records; each page's ``videos`` follow-up yields them, once. This keeps
one version per video per capture (the playlist item lacks duration, language and counters, so a
second record of the same video from it would differ and look like an edit every night).
``Page.listed`` carries each listed video's record id and publish time, the listing's positions
by which an incremental harvest knows where it is. Top-level comments are kind "comment" (parent and
root: the video); replies are kind "reply" (parent: the top-level comment, root: the video).
YouTube has one level of replies; a reply to a reply is a reply to the top-level comment that
starts with "@handle".

Credential: an API key, sent as the ``key`` query parameter (``AUTH``).

Rate limits: a daily quota (10,000 units by default per Google Cloud project), not a per-minute
budget; every call here is a ``list`` call costing 1 unit. Paging the channel-wide comment listing
costs 1 unit per 100 threads, far less than one listing per video. Quota errors arrive as 403 with
``reason: quotaExceeded``. https://developers.google.com/youtube/v3/determine_quota_cost

Quirks, with the payload files that show them (``realdata/youtube/``):

- Statistics are strings: ``"viewCount": "7920"`` (``videos_list_full_parts.json``).
- ``pageInfo.totalResults`` is the listing's size for ``playlistItems`` (13 over two pages of 10,
  ``playlist_items_page1.json``) but only the page's size for ``commentThreads`` (20 with a
  ``nextPageToken``, ``comment_threads_all_to_channel_page1.json``); only the first becomes
  ``Page.total_count``.
- Replies fetched with ``comments?parentId=`` carry no ``videoId`` (``comments_by_parent_page1.json``),
  so the ``replies`` request names the video in its target (``VIDEO/COMMENT``) to keep the root.
- A thread listed without ``part=replies`` has ``totalReplyCount`` > 0 and no ``replies``
  (``comment_threads_by_video_page1.json``): the replies follow-up covers it.
- ``textDisplay`` is HTML (``<a href=...>``); ``textOriginal`` is the plain text as written
  (``comment_threads_by_video_with_replies.json``). A comment was edited when ``updatedAt``
  differs from ``publishedAt``; videos expose no edit time.
- An unknown channel id gives 200 with no ``items`` key at all; it becomes ``Page.missing``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, NoReturn

from archiver.errors import PageParseError
from archiver.model import ApiRequest, Author, Media, Page, Post, RecordId
from archiver.platforms import AccountRef, Auth, load_json, parse_time
from archiver.platforms.mastodon import html_to_text

__all__ = ["NAME", "AUTH", "DEFAULT_BASE_URL", "LISTING_ENDPOINTS", "first_requests", "parse_page"]

NAME = "youtube"
AUTH = Auth("query", "key")
DEFAULT_BASE_URL = "https://www.googleapis.com/youtube/v3"
LISTING_ENDPOINTS = frozenset({"uploads"})
# The comment listing is ordered by comment time, not by video: stopping it early would miss new
# replies in older threads, and paging all of it costs 1 quota unit per 100 threads. Not a listing.

#: the API's page-size and batch limits
MAX_PLAYLIST_ITEMS = 50
MAX_VIDEO_IDS = 50
MAX_THREADS = 100
MAX_COMMENTS = 100
#: replies a thread includes at most under ``part=replies``
THREAD_REPLIES_INCLUDED = 5

_VIDEO_PARTS = "snippet,contentDetails,statistics,status"
_WATCH = "https://www.youtube.com/watch?v="
_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


def first_requests(account: AccountRef) -> list[ApiRequest]:
    channel = account.native_id
    return [
        ApiRequest("channel", "/channels", (("part", "contentDetails,snippet,statistics"), ("id", channel)), target=channel),
        comment_threads_request(channel),
    ]


def comment_threads_request(channel_id: str) -> ApiRequest:
    """The channel-wide comment listing (all threads on all of the channel's videos)."""
    params = (
        ("part", "snippet,replies"),
        ("allThreadsRelatedToChannelId", channel_id),
        ("maxResults", str(MAX_THREADS)),
        ("order", "time"),
    )
    return ApiRequest("comment_threads", "/commentThreads", params, target=channel_id)


def video_threads_request(video_id: str) -> ApiRequest:
    """The comment listing of one video (for re-checking one video's conversation)."""
    params = (("part", "snippet,replies"), ("videoId", video_id), ("maxResults", str(MAX_THREADS)), ("order", "time"))
    return ApiRequest("comment_threads", "/commentThreads", params, target=video_id)


def parse_page(request: ApiRequest, body: bytes, headers: Mapping[str, str]) -> Page:
    data = load_json(body, request, NAME)
    try:
        root = _obj(data, request, "the body")
        if "error" in root:
            _api_error(request, root["error"])
        parser = _PARSERS.get(request.endpoint)
        if parser is None:
            _fail(request, "the request", f"no parser for endpoint {request.endpoint!r} (known: {', '.join(sorted(_PARSERS))})")
        return parser(request, root)
    except PageParseError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError) as exc:
        _fail(request, "the body", f"unexpected structure ({type(exc).__name__}: {exc})")


# -- pages ----------------------------------------------------------------------------------


def _parse_channel(request: ApiRequest, root: dict[str, Any]) -> Page:
    _expect_kind(request, root, "youtube#channelListResponse")
    items = _list(root.get("items", []), request, "items")
    if not items:
        # an unknown or terminated channel: 200 with no items at all
        return Page(posts=(), missing=((request.target, "channel not returned by channels.list (unknown, terminated or private)"),))
    follow_ups: list[ApiRequest] = []
    channels: list[dict[str, Any]] = []
    for n, raw in enumerate(items):
        where = f"items[{n}]"
        item = _obj(raw, request, where)
        channel_id = _str(item, "id", request, where)
        details = _obj(item.get("contentDetails"), request, f"{where}.contentDetails")
        playlists = _obj(details.get("relatedPlaylists"), request, f"{where}.contentDetails.relatedPlaylists")
        uploads = _str(playlists, "uploads", request, f"{where}.contentDetails.relatedPlaylists")
        params = (("part", "snippet,contentDetails"), ("playlistId", uploads), ("maxResults", str(MAX_PLAYLIST_ITEMS)))
        follow_ups.append(ApiRequest("uploads", "/playlistItems", params, target=uploads))
        snippet = _obj(item.get("snippet", {}), request, f"{where}.snippet")
        statistics = _obj(item.get("statistics", {}), request, f"{where}.statistics")
        channels.append(
            {
                "id": channel_id,
                "title": _opt_str(snippet, "title", request, f"{where}.snippet"),
                "uploads_playlist": uploads,
                "video_count": _opt_int(statistics, "videoCount", request, f"{where}.statistics"),
            }
        )
    return Page(posts=(), follow_ups=tuple(follow_ups), extra={"channels": channels})


def _parse_uploads(request: ApiRequest, root: dict[str, Any]) -> Page:
    _expect_kind(request, root, "youtube#playlistItemListResponse")
    video_ids: list[str] = []
    listed: list[tuple[RecordId, datetime | None]] = []
    for n, raw in enumerate(_list(root.get("items", []), request, "items")):
        where = f"items[{n}]"
        item = _obj(raw, request, where)
        details = _obj(item.get("contentDetails", {}), request, f"{where}.contentDetails")
        snippet = _obj(item.get("snippet", {}), request, f"{where}.snippet")
        video_id = _opt_str(details, "videoId", request, f"{where}.contentDetails")
        if video_id is None:
            # part=snippet only (playlist_items_page1.json): the id is in snippet.resourceId
            resource = _obj(snippet.get("resourceId"), request, f"{where}.snippet.resourceId")
            video_id = _str(resource, "videoId", request, f"{where}.snippet.resourceId")
        if video_id in video_ids:
            continue
        video_ids.append(video_id)
        published = details.get("videoPublishedAt") or snippet.get("publishedAt")
        listed.append((RecordId(NAME, video_id), _time(published, request, f"{where}.contentDetails.videoPublishedAt")))
    follow_ups = tuple(
        ApiRequest("videos", "/videos", (("part", _VIDEO_PARTS), ("id", ",".join(batch))), target=",".join(batch))
        for batch in _chunks(video_ids, MAX_VIDEO_IDS)
    )
    page_info = _obj(root.get("pageInfo", {}), request, "pageInfo")
    return Page(
        posts=(),
        next=_next_page(request, root),
        follow_ups=follow_ups,
        total_count=_opt_int(page_info, "totalResults", request, "pageInfo"),
        listed=tuple(listed),
    )


def _parse_videos(request: ApiRequest, root: dict[str, Any]) -> Page:
    _expect_kind(request, root, "youtube#videoListResponse")
    posts: list[Post] = []
    for n, raw in enumerate(_list(root.get("items", []), request, "items")):
        posts.append(_video(request, _obj(raw, request, f"items[{n}]"), f"items[{n}]"))
    requested = [v for v in (request.target or _param(request, "id") or "").split(",") if v]
    returned = {p.record_id.native_id for p in posts}
    missing = tuple((v, "not returned by videos.list (deleted, private or blocked)") for v in requested if v not in returned)
    return Page(posts=tuple(posts), missing=missing)


def _parse_threads(request: ApiRequest, root: dict[str, Any]) -> Page:
    _expect_kind(request, root, "youtube#commentThreadListResponse")
    posts: list[Post] = []
    follow_ups: list[ApiRequest] = []
    for n, raw in enumerate(_list(root.get("items", []), request, "items")):
        where = f"items[{n}]"
        thread = _obj(raw, request, where)
        snippet = _obj(thread.get("snippet"), request, f"{where}.snippet")
        top_raw = _obj(snippet.get("topLevelComment"), request, f"{where}.snippet.topLevelComment")
        top_snippet = _obj(top_raw.get("snippet"), request, f"{where}.snippet.topLevelComment.snippet")
        video_id = _opt_str(snippet, "videoId", request, f"{where}.snippet") or _opt_str(
            top_snippet, "videoId", request, f"{where}.snippet.topLevelComment.snippet"
        )
        total_replies = _opt_int(snippet, "totalReplyCount", request, f"{where}.snippet")
        top = _comment(request, top_raw, f"{where}.snippet.topLevelComment", video_id, reply_count=total_replies)
        posts.append(top)
        replies = _obj(thread.get("replies", {}), request, f"{where}.replies")
        included = _list(replies.get("comments", []), request, f"{where}.replies.comments")
        for m, reply in enumerate(included):
            rwhere = f"{where}.replies.comments[{m}]"
            posts.append(_comment(request, _obj(reply, request, rwhere), rwhere, video_id))
        if total_replies is not None and total_replies > len(included):
            follow_ups.append(replies_request(top.record_id.native_id, video_id))
    return Page(posts=tuple(posts), next=_next_page(request, root), follow_ups=tuple(follow_ups))


def replies_request(comment_id: str, video_id: str | None) -> ApiRequest:
    """All replies of one top-level comment; the target names the video to keep the root."""
    params = (("part", "snippet"), ("parentId", comment_id), ("maxResults", str(MAX_COMMENTS)))
    target = f"{video_id}/{comment_id}" if video_id else comment_id
    return ApiRequest("replies", "/comments", params, target=target)


def _parse_replies(request: ApiRequest, root: dict[str, Any]) -> Page:
    _expect_kind(request, root, "youtube#commentListResponse")
    video_id = request.target.partition("/")[0] if "/" in request.target else None
    posts = tuple(
        _comment(request, _obj(raw, request, f"items[{n}]"), f"items[{n}]", video_id)
        for n, raw in enumerate(_list(root.get("items", []), request, "items"))
    )
    return Page(posts=posts, next=_next_page(request, root))


_PARSERS = {
    "channel": _parse_channel,
    "uploads": _parse_uploads,
    "videos": _parse_videos,
    "comment_threads": _parse_threads,
    "replies": _parse_replies,
}


# -- records --------------------------------------------------------------------------------


def _video(request: ApiRequest, item: dict[str, Any], where: str) -> Post:
    video_id = _str(item, "id", request, where)
    snippet = _obj(item.get("snippet"), request, f"{where}.snippet")
    details = _obj(item.get("contentDetails", {}), request, f"{where}.contentDetails")
    statistics = _obj(item.get("statistics", {}), request, f"{where}.statistics")
    title = _opt_str(snippet, "title", request, f"{where}.snippet") or ""
    description = _opt_str(snippet, "description", request, f"{where}.snippet") or ""
    duration = _opt_str(details, "duration", request, f"{where}.contentDetails")
    media = Media(
        kind="video",
        url=None,  # the API names no fetchable file; the watch page is Post.url
        native_id=video_id,
        preview_url=_best_thumbnail(request, snippet.get("thumbnails"), f"{where}.snippet.thumbnails"),
        duration_ms=_duration_ms(duration) if duration else None,
    )
    counters = tuple(
        (name, value)
        for name, key in (("views", "viewCount"), ("likes", "likeCount"), ("favorites", "favoriteCount"), ("comments", "commentCount"))
        if (value := _opt_int(statistics, key, request, f"{where}.statistics")) is not None
    )
    channel_id = _opt_str(snippet, "channelId", request, f"{where}.snippet")
    return Post(
        record_id=RecordId(NAME, video_id),
        kind="post",
        author=Author(channel_id, None, _opt_str(snippet, "channelTitle", request, f"{where}.snippet")) if channel_id else None,
        created_at=_time(snippet.get("publishedAt"), request, f"{where}.snippet.publishedAt"),
        text=f"{title}\n\n{description}" if description else title,
        url=_WATCH + video_id,
        language=_opt_str(snippet, "defaultLanguage", request, f"{where}.snippet")
        or _opt_str(snippet, "defaultAudioLanguage", request, f"{where}.snippet"),
        media=(media,),
        reply_count=_opt_int(statistics, "commentCount", request, f"{where}.statistics"),
        counters=counters,
    )


def _comment(request: ApiRequest, item: dict[str, Any], where: str, video_id: str | None, *, reply_count: int | None = None) -> Post:
    comment_id = _str(item, "id", request, where)
    snippet = _obj(item.get("snippet"), request, f"{where}.snippet")
    video_id = _opt_str(snippet, "videoId", request, f"{where}.snippet") or video_id
    parent = _opt_str(snippet, "parentId", request, f"{where}.snippet")
    video = RecordId(NAME, video_id) if video_id else None
    text = _opt_str(snippet, "textOriginal", request, f"{where}.snippet")
    if text is None:
        # textOriginal is guaranteed only to the comment's author; textDisplay is HTML
        text = html_to_text(_opt_str(snippet, "textDisplay", request, f"{where}.snippet") or "")
    published = _time(snippet.get("publishedAt"), request, f"{where}.snippet.publishedAt")
    updated = _time(snippet.get("updatedAt"), request, f"{where}.snippet.updatedAt")
    likes = _opt_int(snippet, "likeCount", request, f"{where}.snippet")
    url = f"{_WATCH}{video_id}&lc={comment_id}" if video_id else None
    return Post(
        record_id=RecordId(NAME, comment_id),
        kind="reply" if parent else "comment",
        author=_comment_author(request, snippet, f"{where}.snippet"),
        created_at=published,
        text=text,
        parent_id=RecordId(NAME, parent) if parent else video,
        root_id=video,
        url=url,
        edited_at=updated if updated is not None and published is not None and updated != published else None,
        reply_count=reply_count if not parent else None,
        counters=(("likes", likes),) if likes is not None else (),
    )


def _comment_author(request: ApiRequest, snippet: dict[str, Any], where: str) -> Author | None:
    name = _opt_str(snippet, "authorDisplayName", request, where)
    channel = snippet.get("authorChannelId")
    channel_id = _opt_str(_obj(channel, request, f"{where}.authorChannelId"), "value", request, f"{where}.authorChannelId") if channel else None
    if channel_id is None and name is None:
        return None
    # since 2023 authorDisplayName is the "@handle"; older payloads carry the display name.
    # A closed channel keeps its name on old comments but loses its id: native_id stays empty.
    handle = name[1:] if name and name.startswith("@") else None
    return Author(channel_id or "", handle, name)


def _best_thumbnail(request: ApiRequest, value: Any, where: str) -> str | None:
    if value is None:
        return None
    thumbnails = _obj(value, request, where)
    for size in ("maxres", "standard", "high", "medium", "default"):
        if size in thumbnails:
            return _opt_str(_obj(thumbnails[size], request, f"{where}.{size}"), "url", request, f"{where}.{size}")
    return None


def _duration_ms(text: str) -> int | None:
    """ISO 8601 duration (``PT21M7S``, ``P1DT2H``, ``P0D`` for a live stream) in milliseconds."""
    match = _DURATION.match(text)
    if not match or text in ("P", "PT"):
        return None
    days, hours, minutes, seconds = match.groups()
    total = int(days or 0) * 86400 + int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(seconds or 0)
    return int(round(total * 1000))


# -- paging and errors -----------------------------------------------------------------------


def _next_page(request: ApiRequest, root: dict[str, Any]) -> ApiRequest | None:
    token = _opt_str(root, "nextPageToken", request, "nextPageToken")
    if not token or token == _param(request, "pageToken"):
        return None
    params = tuple((k, v) for k, v in request.params if k != "pageToken") + (("pageToken", token),)
    return ApiRequest(request.endpoint, request.path, params, request.target)


def _param(request: ApiRequest, name: str) -> str | None:
    for key, value in request.params:
        if key == name:
            return value
    return None


def _chunks(values: list[str], size: int) -> list[list[str]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


def _api_error(request: ApiRequest, error: Any) -> NoReturn:
    message, reason = str(error), ""
    if isinstance(error, dict):
        message = str(error.get("message", message))
        errors = error.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            reason = str(errors[0].get("reason", ""))
    hint = (
        "The daily quota is spent; the harvest resumes from its cursor after midnight Pacific time."
        if reason in ("quotaExceeded", "dailyLimitExceeded")
        else "Check the API key and the account's channel id, then run the harvest again."
    )
    raise PageParseError(
        f"{NAME} {request.endpoint} {request.path}: the API answered with an error object instead of a page: "
        f"{message!r}{f' (reason {reason})' if reason else ''}. {hint}",
        url=request.path,
    )


def _fail(request: ApiRequest, where: str, what: str) -> NoReturn:
    raise PageParseError(
        f"{NAME} {request.endpoint} {request.path}: {what} at {where}. The response is kept in the WARC; "
        "if this repeats, the API's shape has changed: compare the capture with the payloads named in "
        "archiver/platforms/youtube.py and update its parser.",
        url=request.path,
    )


def _expect_kind(request: ApiRequest, root: dict[str, Any], kind: str) -> None:
    found = root.get("kind")
    if found is not None and found != kind:
        _fail(request, "kind", f"expected a {kind}, got {found!r} (a response of another call?)")


def _obj(value: Any, request: ApiRequest, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        _fail(request, where, f"expected an object, got {type(value).__name__}")
    return value


def _list(value: Any, request: ApiRequest, where: str) -> list[Any]:
    if not isinstance(value, list):
        _fail(request, where, f"expected a list, got {type(value).__name__}")
    return value


def _str(obj: dict[str, Any], key: str, request: ApiRequest, where: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        _fail(request, f"{where}.{key}", f"expected a non-empty string, got {type(value).__name__}")
    return value


def _opt_str(obj: dict[str, Any], key: str, request: ApiRequest, where: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        _fail(request, f"{where}.{key}", f"expected a string, got {type(value).__name__}")
    return value


def _opt_int(obj: dict[str, Any], key: str, request: ApiRequest, where: str) -> int | None:
    """An integer or, as YouTube's statistics are, a string of digits."""
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool):
        _fail(request, f"{where}.{key}", "expected a count, got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    _fail(request, f"{where}.{key}", f"expected a count, got {value!r:.40}")


def _time(value: Any, request: ApiRequest, where: str) -> datetime | None:
    if value is not None and not isinstance(value, str):
        _fail(request, where, f"expected an ISO 8601 time, got {type(value).__name__}")
    try:
        return parse_time(value)
    except ValueError:
        _fail(request, where, f"expected an ISO 8601 time, got {value!r:.40}")
