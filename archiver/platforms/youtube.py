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
from archiver.platforms import AccountRef, Auth, load_json
from archiver.platforms.fields import STRUCTURE_ERRORS, FieldReader
from archiver.platforms.text import html_to_text

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
    read = FieldReader(NAME, request, "the API's shape has changed", digit_counts=True)
    try:
        root = read.obj(data, "the body")
        if "error" in root:
            _api_error(request, root["error"])
        parser = _PARSERS.get(request.endpoint)
        if parser is None:
            raise read.fail("the request", f"no parser for endpoint {request.endpoint!r} (known: {', '.join(sorted(_PARSERS))})")
        return parser(read, root)
    except PageParseError:
        raise
    except STRUCTURE_ERRORS as exc:
        raise read.unexpected(exc)


# -- pages ----------------------------------------------------------------------------------


def _parse_channel(read: FieldReader, root: dict[str, Any]) -> Page:
    _expect_kind(read, root, "youtube#channelListResponse")
    items = read.array(root.get("items", []), "items")
    if not items:
        # an unknown or terminated channel: 200 with no items at all
        return Page(posts=(), missing=((read.request.target, "channel not returned by channels.list (unknown, terminated or private)"),))
    follow_ups: list[ApiRequest] = []
    channels: list[dict[str, Any]] = []
    for n, raw in enumerate(items):
        where = f"items[{n}]"
        item = read.obj(raw, where)
        channel_id = read.nonempty_string(item.get("id"), f"{where}.id")
        details = read.obj(item.get("contentDetails"), f"{where}.contentDetails")
        playlists = read.obj(details.get("relatedPlaylists"), f"{where}.contentDetails.relatedPlaylists")
        uploads = read.nonempty_string(playlists.get("uploads"), f"{where}.contentDetails.relatedPlaylists.uploads")
        params = (("part", "snippet,contentDetails"), ("playlistId", uploads), ("maxResults", str(MAX_PLAYLIST_ITEMS)))
        follow_ups.append(ApiRequest("uploads", "/playlistItems", params, target=uploads))
        snippet = read.obj(item.get("snippet", {}), f"{where}.snippet")
        statistics = read.obj(item.get("statistics", {}), f"{where}.statistics")
        channels.append(
            {
                "id": channel_id,
                "title": read.opt_string(snippet.get("title"), f"{where}.snippet.title"),
                "uploads_playlist": uploads,
                "video_count": read.opt_int(statistics.get("videoCount"), f"{where}.statistics.videoCount"),
            }
        )
    return Page(posts=(), follow_ups=tuple(follow_ups), extra={"channels": channels})


def _parse_uploads(read: FieldReader, root: dict[str, Any]) -> Page:
    _expect_kind(read, root, "youtube#playlistItemListResponse")
    video_ids: list[str] = []
    listed: list[tuple[RecordId, datetime | None]] = []
    for n, raw in enumerate(read.array(root.get("items", []), "items")):
        where = f"items[{n}]"
        item = read.obj(raw, where)
        details = read.obj(item.get("contentDetails", {}), f"{where}.contentDetails")
        snippet = read.obj(item.get("snippet", {}), f"{where}.snippet")
        video_id = read.opt_string(details.get("videoId"), f"{where}.contentDetails.videoId")
        if video_id is None:
            # part=snippet only (playlist_items_page1.json): the id is in snippet.resourceId
            resource = read.obj(snippet.get("resourceId"), f"{where}.snippet.resourceId")
            video_id = read.nonempty_string(resource.get("videoId"), f"{where}.snippet.resourceId.videoId")
        if video_id in video_ids:
            continue
        video_ids.append(video_id)
        published = details.get("videoPublishedAt") or snippet.get("publishedAt")
        listed.append((RecordId(NAME, video_id), read.time(published, f"{where}.contentDetails.videoPublishedAt")))
    follow_ups = tuple(
        ApiRequest("videos", "/videos", (("part", _VIDEO_PARTS), ("id", ",".join(batch))), target=",".join(batch))
        for batch in _chunks(video_ids, MAX_VIDEO_IDS)
    )
    page_info = read.obj(root.get("pageInfo", {}), "pageInfo")
    return Page(
        posts=(),
        next=_next_page(read, root),
        follow_ups=follow_ups,
        total_count=read.opt_int(page_info.get("totalResults"), "pageInfo.totalResults"),
        listed=tuple(listed),
    )


def _parse_videos(read: FieldReader, root: dict[str, Any]) -> Page:
    _expect_kind(read, root, "youtube#videoListResponse")
    posts: list[Post] = []
    for n, raw in enumerate(read.array(root.get("items", []), "items")):
        posts.append(_video(read, read.obj(raw, f"items[{n}]"), f"items[{n}]"))
    request = read.request
    requested = [v for v in (request.target or _param(request, "id") or "").split(",") if v]
    returned = {p.record_id.native_id for p in posts}
    missing = tuple((v, "not returned by videos.list (deleted, private or blocked)") for v in requested if v not in returned)
    return Page(posts=tuple(posts), missing=missing)


def _parse_threads(read: FieldReader, root: dict[str, Any]) -> Page:
    _expect_kind(read, root, "youtube#commentThreadListResponse")
    posts: list[Post] = []
    follow_ups: list[ApiRequest] = []
    for n, raw in enumerate(read.array(root.get("items", []), "items")):
        where = f"items[{n}]"
        thread = read.obj(raw, where)
        snippet = read.obj(thread.get("snippet"), f"{where}.snippet")
        top_raw = read.obj(snippet.get("topLevelComment"), f"{where}.snippet.topLevelComment")
        top_snippet = read.obj(top_raw.get("snippet"), f"{where}.snippet.topLevelComment.snippet")
        video_id = read.opt_string(snippet.get("videoId"), f"{where}.snippet.videoId") or read.opt_string(
            top_snippet.get("videoId"), f"{where}.snippet.topLevelComment.snippet.videoId"
        )
        total_replies = read.opt_int(snippet.get("totalReplyCount"), f"{where}.snippet.totalReplyCount")
        top = _comment(read, top_raw, f"{where}.snippet.topLevelComment", video_id, reply_count=total_replies)
        posts.append(top)
        replies = read.obj(thread.get("replies", {}), f"{where}.replies")
        included = read.array(replies.get("comments", []), f"{where}.replies.comments")
        for m, reply in enumerate(included):
            rwhere = f"{where}.replies.comments[{m}]"
            posts.append(_comment(read, read.obj(reply, rwhere), rwhere, video_id))
        if total_replies is not None and total_replies > len(included):
            follow_ups.append(replies_request(top.record_id.native_id, video_id))
    return Page(posts=tuple(posts), next=_next_page(read, root), follow_ups=tuple(follow_ups))


def replies_request(comment_id: str, video_id: str | None) -> ApiRequest:
    """All replies of one top-level comment; the target names the video to keep the root."""
    params = (("part", "snippet"), ("parentId", comment_id), ("maxResults", str(MAX_COMMENTS)))
    target = f"{video_id}/{comment_id}" if video_id else comment_id
    return ApiRequest("replies", "/comments", params, target=target)


def _parse_replies(read: FieldReader, root: dict[str, Any]) -> Page:
    _expect_kind(read, root, "youtube#commentListResponse")
    target = read.request.target
    video_id = target.partition("/")[0] if "/" in target else None
    posts = tuple(
        _comment(read, read.obj(raw, f"items[{n}]"), f"items[{n}]", video_id)
        for n, raw in enumerate(read.array(root.get("items", []), "items"))
    )
    return Page(posts=posts, next=_next_page(read, root))


_PARSERS = {
    "channel": _parse_channel,
    "uploads": _parse_uploads,
    "videos": _parse_videos,
    "comment_threads": _parse_threads,
    "replies": _parse_replies,
}


# -- records --------------------------------------------------------------------------------


def _video(read: FieldReader, item: dict[str, Any], where: str) -> Post:
    video_id = read.nonempty_string(item.get("id"), f"{where}.id")
    snippet = read.obj(item.get("snippet"), f"{where}.snippet")
    details = read.obj(item.get("contentDetails", {}), f"{where}.contentDetails")
    statistics = read.obj(item.get("statistics", {}), f"{where}.statistics")
    title = read.opt_string(snippet.get("title"), f"{where}.snippet.title") or ""
    description = read.opt_string(snippet.get("description"), f"{where}.snippet.description") or ""
    duration = read.opt_string(details.get("duration"), f"{where}.contentDetails.duration")
    media = Media(
        kind="video",
        url=None,  # the API names no fetchable file; the watch page is Post.url
        native_id=video_id,
        preview_url=_best_thumbnail(read, snippet.get("thumbnails"), f"{where}.snippet.thumbnails"),
        duration_ms=_duration_ms(duration) if duration else None,
    )
    counters = tuple(
        (name, value)
        for name, key in (("views", "viewCount"), ("likes", "likeCount"), ("favorites", "favoriteCount"), ("comments", "commentCount"))
        if (value := read.opt_int(statistics.get(key), f"{where}.statistics.{key}")) is not None
    )
    channel_id = read.opt_string(snippet.get("channelId"), f"{where}.snippet.channelId")
    return Post(
        record_id=RecordId(NAME, video_id),
        kind="post",
        author=Author(channel_id, None, read.opt_string(snippet.get("channelTitle"), f"{where}.snippet.channelTitle")) if channel_id else None,
        created_at=read.time(snippet.get("publishedAt"), f"{where}.snippet.publishedAt"),
        text=f"{title}\n\n{description}" if description else title,
        url=_WATCH + video_id,
        language=read.opt_string(snippet.get("defaultLanguage"), f"{where}.snippet.defaultLanguage")
        or read.opt_string(snippet.get("defaultAudioLanguage"), f"{where}.snippet.defaultAudioLanguage"),
        media=(media,),
        reply_count=read.opt_int(statistics.get("commentCount"), f"{where}.statistics.commentCount"),
        counters=counters,
    )


def _comment(read: FieldReader, item: dict[str, Any], where: str, video_id: str | None, *, reply_count: int | None = None) -> Post:
    comment_id = read.nonempty_string(item.get("id"), f"{where}.id")
    snippet = read.obj(item.get("snippet"), f"{where}.snippet")
    video_id = read.opt_string(snippet.get("videoId"), f"{where}.snippet.videoId") or video_id
    parent = read.opt_string(snippet.get("parentId"), f"{where}.snippet.parentId")
    video = RecordId(NAME, video_id) if video_id else None
    text = read.opt_string(snippet.get("textOriginal"), f"{where}.snippet.textOriginal")
    if text is None:
        # textOriginal is guaranteed only to the comment's author; textDisplay is HTML
        text = html_to_text(read.opt_string(snippet.get("textDisplay"), f"{where}.snippet.textDisplay") or "")
    published = read.time(snippet.get("publishedAt"), f"{where}.snippet.publishedAt")
    updated = read.time(snippet.get("updatedAt"), f"{where}.snippet.updatedAt")
    likes = read.opt_int(snippet.get("likeCount"), f"{where}.snippet.likeCount")
    url = f"{_WATCH}{video_id}&lc={comment_id}" if video_id else None
    return Post(
        record_id=RecordId(NAME, comment_id),
        kind="reply" if parent else "comment",
        author=_comment_author(read, snippet, f"{where}.snippet"),
        created_at=published,
        text=text,
        parent_id=RecordId(NAME, parent) if parent else video,
        root_id=video,
        url=url,
        edited_at=updated if updated is not None and published is not None and updated != published else None,
        reply_count=reply_count if not parent else None,
        counters=(("likes", likes),) if likes is not None else (),
    )


def _comment_author(read: FieldReader, snippet: dict[str, Any], where: str) -> Author | None:
    name = read.opt_string(snippet.get("authorDisplayName"), f"{where}.authorDisplayName")
    channel = snippet.get("authorChannelId")
    channel_id = read.opt_string(read.obj(channel, f"{where}.authorChannelId").get("value"), f"{where}.authorChannelId.value") if channel else None
    if channel_id is None and name is None:
        return None
    # since 2023 authorDisplayName is the "@handle"; older payloads carry the display name.
    # A closed channel keeps its name on old comments but loses its id: native_id stays empty.
    handle = name[1:] if name and name.startswith("@") else None
    return Author(channel_id or "", handle, name)


def _best_thumbnail(read: FieldReader, value: Any, where: str) -> str | None:
    if value is None:
        return None
    thumbnails = read.obj(value, where)
    for size in ("maxres", "standard", "high", "medium", "default"):
        if size in thumbnails:
            return read.opt_string(read.obj(thumbnails[size], f"{where}.{size}").get("url"), f"{where}.{size}.url")
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


def _next_page(read: FieldReader, root: dict[str, Any]) -> ApiRequest | None:
    token = read.opt_string(root.get("nextPageToken"), "nextPageToken.nextPageToken")
    request = read.request
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


def _expect_kind(read: FieldReader, root: dict[str, Any], kind: str) -> None:
    found = root.get("kind")
    if found is not None and found != kind:
        raise read.fail("kind", f"expected a {kind}, got {found!r} (a response of another call?)")
