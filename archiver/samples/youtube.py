"""The sample YouTube: the department's channel rendered in the shapes of YouTube Data API v3.

Answers ``/channels``, ``/playlistItems``, ``/videos``, ``/commentThreads`` (channel-wide with
``allThreadsRelatedToChannelId`` or per video with ``videoId``) and ``/comments?parentId=``,
with YouTube's keys, ``kind`` strings, string-valued statistics, ``pageInfo`` blocks, opaque
``nextPageToken``s and its error object. Everything else gets YouTube's 404 error object.

Ids are deterministic and parse back:

- video: the 8 bytes of ``index XOR _VIDEO_MASK`` in URL-safe base64, 11 characters like
  YouTube's (``D-lhorsDlUQ``);
- top-level comment: ``Ugx`` + 16 base64 characters of ``(index, number)`` + ``4AaABAg``, 26
  characters like ``UgydxWWoeA7F1OdqypJ4AaABAg``;
- reply: ``<top-level comment id>.<22 base64 characters of (index, number)>``, as YouTube writes
  ``UgydxWWoeA7F1OdqypJ4AaABAg.8wWQ3tdHcFx8xcDheui-qb``.

YouTube has one level of replies: a world reply at depth 2 or more becomes a reply to its
top-level ancestor, prefixed "@handle" of the author it answered, as YouTube shows it. Deleting a
top-level comment removes its replies; deleting a video removes its comments.

The channel-wide listing orders threads by video (newest first), then by comment (newest first):
close to, but not exactly, YouTube's ``order=time``. Paging tokens encode the position, so pages
stay stable while the world grows.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import html
import struct
from collections.abc import Iterator
from datetime import datetime, timezone

from archiver.samples.server import SampleRequest, SampleResponse
from archiver.samples.world import SamplePost, SampleReply, World

__all__ = ["handle", "ground_truth", "video_id", "comment_id", "thread_groups", "THREAD_REPLIES_INCLUDED"]

NAME = "youtube"
MAX_PLAYLIST_ITEMS = 50
MAX_VIDEO_IDS = 50
MAX_THREADS = 100
MAX_COMMENTS = 100
THREAD_REPLIES_INCLUDED = 5

_VIDEO_MASK = 0x5A173C9E42D18B07
_NUMBER_MASK = 0x3C9E42D1
_TOP_PREFIX, _TOP_SUFFIX = "Ugx", "4AaABAg"


# -- ids --------------------------------------------------------------------------------------


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


def video_id(index: int) -> str:
    return _b64(struct.pack(">Q", index ^ _VIDEO_MASK))


def _parse_video_id(text: str) -> int | None:
    raw = _unb64(text) if len(text) == 11 else None
    if raw is None or len(raw) != 8:
        return None
    return struct.unpack(">Q", raw)[0] ^ _VIDEO_MASK


def _top_id(index: int, number: int) -> str:
    return _TOP_PREFIX + _b64(struct.pack(">QI", index ^ _VIDEO_MASK, number ^ _NUMBER_MASK)) + _TOP_SUFFIX


def comment_id(index: int, reply: SampleReply, top_number: int) -> str:
    """The id of a world reply as YouTube shows it (top-level comment or reply)."""
    top = _top_id(index, top_number)
    if reply.number == top_number:
        return top
    return top + "." + _b64(struct.pack(">QQ", index ^ _VIDEO_MASK, reply.number ^ _NUMBER_MASK))[:22]


def _parse_top_id(text: str) -> tuple[int, int] | None:
    if len(text) != 26 or not text.startswith(_TOP_PREFIX) or not text.endswith(_TOP_SUFFIX):
        return None
    raw = _unb64(text[3:19])
    if raw is None or len(raw) != 12:
        return None
    index, number = struct.unpack(">QI", raw)
    return index ^ _VIDEO_MASK, number ^ _NUMBER_MASK


def _channel_id(world: World, reply: SampleReply) -> str:
    if reply.author.is_department:
        return world.account(NAME).native_id
    digest = hashlib.sha256(f"{world.seed}:citizen:{reply.author.number}".encode()).digest()
    return "UC" + _b64(digest[:17])[:22]


def _token(*parts: int) -> str:
    return _b64(":".join(str(p) for p in parts).encode())


def _untoken(text: str | None, size: int) -> tuple[int, ...] | None:
    raw = _unb64(text or "")
    try:
        values = tuple(int(p) for p in (raw or b"").decode().split(":"))
    except (UnicodeDecodeError, ValueError):
        return None
    return values if len(values) == size else None


def _etag(*parts: object) -> str:
    return _b64(hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:20])


def _when(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- the world as YouTube shows it ---------------------------------------------------------------


def thread_groups(world: World, index: int) -> list[tuple[SampleReply, list[SampleReply]]]:
    """The visible comment threads of one video: (top-level comment, its visible replies), oldest first."""
    everything = world.replies(NAME, index)
    by_number = {r.number: r for r in everything}
    groups: dict[int, list[SampleReply]] = {r.number: [] for r in everything if r.parent_number == 0 and not r.deleted}
    for reply in everything:
        if reply.parent_number == 0 or reply.deleted:
            continue
        top = reply
        while top.parent_number != 0:
            top = by_number[top.parent_number]
        if top.number in groups:
            groups[top.number].append(reply)
    return [(by_number[number], replies) for number, replies in groups.items()]


@functools.lru_cache(maxsize=16)
def _visible_video_count(seed: int, posts_per_account: int, epoch: int) -> int:
    world = World(seed=seed, posts_per_account=posts_per_account, epoch=epoch)
    return sum(1 for _ in world.iter_posts(NAME))


def ground_truth(world: World) -> set[str]:
    ids: set[str] = set()
    for post in world.iter_posts(NAME):
        ids.add(video_id(post.index))
        for top, replies in thread_groups(world, post.index):
            ids.add(comment_id(post.index, top, top.number))
            ids.update(comment_id(post.index, r, top.number) for r in replies)
    return ids


def _visible_post(world: World, index: int) -> SamplePost | None:
    if not 0 <= index < world.post_count():
        return None
    post = world.post(NAME, index)
    return None if post.deleted else post


# -- responses --------------------------------------------------------------------------------


def handle(world: World, request: SampleRequest) -> SampleResponse:
    route = {
        "/channels": _channels,
        "/playlistItems": _playlist_items,
        "/videos": _videos,
        "/commentThreads": _comment_threads,
        "/comments": _comments,
    }.get(request.path)
    if route is None:
        return _error(404, "Not Found", "notFound", domain="global")
    return route(world, request)


def _channels(world: World, request: SampleRequest) -> SampleResponse:
    account = world.account(NAME)
    wanted = (request.arg("id") or "").split(",")
    parts = _parts(request)
    items = []
    if account.native_id in wanted:
        channel = {
            "kind": "youtube#channel",
            "etag": _etag("channel", world.epoch),
            "id": account.native_id,
            "snippet": {
                "title": account.display_name,
                "description": "Official channel of the Jal Shakti Department. जल शक्ति विभाग का आधिकारिक चैनल।",
                "customUrl": "@" + account.handle.lower(),
                "publishedAt": _when(account.created_at),
                "thumbnails": _thumbnails(request, f"{NAME}-channel"),
                "localized": {"title": account.display_name, "description": "Official channel of the Jal Shakti Department."},
                "country": "IN",
            },
            "contentDetails": {"relatedPlaylists": {"likes": "", "uploads": _uploads_id(account.native_id)}},
            "statistics": {
                "viewCount": str(world.post_count() * 1234),
                "subscriberCount": "125000",
                "hiddenSubscriberCount": False,
                "videoCount": str(_visible_video_count(world.seed, world.posts_per_account, world.epoch)),
            },
        }
        items.append({k: v for k, v in channel.items() if k in ("kind", "etag", "id") or k in parts})
    body: dict[str, object] = {
        "kind": "youtube#channelListResponse",
        "etag": _etag("channels", world.epoch),
        "pageInfo": {"totalResults": len(items), "resultsPerPage": 5},
    }
    if items:  # YouTube leaves the key out when nothing matched
        body["items"] = items
    return SampleResponse.json(body)


def _uploads_id(channel_id: str) -> str:
    return "UU" + channel_id[2:]


def _playlist_items(world: World, request: SampleRequest) -> SampleResponse:
    account = world.account(NAME)
    if request.arg("playlistId") != _uploads_id(account.native_id):
        return _error(
            404,
            "The playlist identified with the request's <code>playlistId</code> parameter cannot be found.",
            "playlistNotFound",
            domain="youtube.playlistItem",
            location="playlistId",
        )
    size = _page_size(request, 5, MAX_PLAYLIST_ITEMS)
    if size is None:
        return _bad_max_results()
    start = world.post_count() - 1
    if request.arg("pageToken"):
        position = _untoken(request.arg("pageToken"), 2)
        if position is None or position[0] != 1:
            return _bad_token()
        start = min(position[1], start)
    parts = _parts(request)
    items: list[dict[str, object]] = []
    newer = request.arg("pageToken") is not None
    index = start
    while index >= 0 and len(items) < size:
        post = _visible_post(world, index)
        index -= 1
        if post is None:
            continue
        item: dict[str, object] = {
            "kind": "youtube#playlistItem",
            "etag": _etag("item", post.index, world.epoch),
            "id": _b64(f"{_uploads_id(account.native_id)}.{video_id(post.index)}".encode()),
        }
        if "snippet" in parts:
            item["snippet"] = {
                **_video_snippet(world, request, post),
                "playlistId": _uploads_id(account.native_id),
                "position": world.post_count() - 1 - post.index,
                "resourceId": {"kind": "youtube#video", "videoId": video_id(post.index)},
                "videoOwnerChannelTitle": account.display_name,
                "videoOwnerChannelId": account.native_id,
            }
        if "contentDetails" in parts:
            item["contentDetails"] = {"videoId": video_id(post.index), "videoPublishedAt": _when(post.created_at)}
        items.append(item)
    body: dict[str, object] = {"kind": "youtube#playlistItemListResponse", "etag": _etag("items", start, world.epoch)}
    if _next_visible(world, index) is not None:
        body["nextPageToken"] = _token(1, index)
    if newer:
        body["prevPageToken"] = _token(1, min(world.post_count() - 1, start + size))
    body["items"] = items
    body["pageInfo"] = {"totalResults": _visible_video_count(world.seed, world.posts_per_account, world.epoch), "resultsPerPage": size}
    return SampleResponse.json(body)


def _video_snippet(world: World, request: SampleRequest, post: SamplePost) -> dict[str, object]:
    """The snippet fields a playlist item and a video share, in YouTube's order."""
    account = world.account(NAME)
    return {
        "publishedAt": _when(post.created_at),
        "channelId": account.native_id,
        "title": _title(post.text),
        "description": post.text,
        "thumbnails": _thumbnails(request, _thumbnail_stem(post)),
        "channelTitle": account.display_name,
    }


def _next_visible(world: World, index: int) -> int | None:
    while index >= 0:
        if _visible_post(world, index) is not None:
            return index
        index -= 1
    return None


def _videos(world: World, request: SampleRequest) -> SampleResponse:
    ids = [v for v in (request.arg("id") or "").split(",") if v]
    if not ids:
        return _error(400, "No filter selected. Expected one of: myRating, chart, id", "missingRequiredParameter", location="parameters.")
    if len(ids) > MAX_VIDEO_IDS:
        return _error(400, "The request specifies an invalid filter parameter.", "invalidFilters", location="parameters.")
    parts = _parts(request)
    items = []
    for vid in ids:
        index = _parse_video_id(vid)
        post = _visible_post(world, index) if index is not None else None
        if post is None or video_id(post.index) != vid:
            continue  # YouTube leaves unknown and deleted ids out without an error
        comments = sum(1 + len(replies) for _, replies in thread_groups(world, post.index))
        video = {
            "kind": "youtube#video",
            "etag": _etag("video", post.index, world.epoch),
            "id": vid,
            "snippet": {
                **_video_snippet(world, request, post),
                "tags": [tag.lstrip("#") for tag in post.hashtags],
                "categoryId": "25",
                "liveBroadcastContent": "none",
                "defaultLanguage": post.language,
                "localized": {"title": _title(post.text), "description": post.text},
                "defaultAudioLanguage": post.language,
            },
            "contentDetails": {
                "duration": _iso_duration(_duration_ms(post)),
                "dimension": "2d",
                "definition": "hd",
                "caption": "false",
                "licensedContent": False,
                "contentRating": {},
                "projection": "rectangular",
            },
            "status": {
                "uploadStatus": "processed",
                "privacyStatus": "public",
                "license": "youtube",
                "embeddable": True,
                "publicStatsViewable": True,
                "madeForKids": False,
            },
            "statistics": {
                "viewCount": str(post.view_count),
                "likeCount": str(post.like_count),
                "favoriteCount": "0",
                "commentCount": str(comments),
            },
        }
        items.append({k: v for k, v in video.items() if k in ("kind", "etag", "id") or k in parts})
    return SampleResponse.json(
        {
            "kind": "youtube#videoListResponse",
            "etag": _etag("videos", request.arg("id"), world.epoch),
            "items": items,
            "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)},
        }
    )


def _comment_threads(world: World, request: SampleRequest) -> SampleResponse:
    account = world.account(NAME)
    size = _page_size(request, 20, MAX_THREADS)
    if size is None:
        return _bad_max_results()
    channel, vid = request.arg("allThreadsRelatedToChannelId"), request.arg("videoId")
    only: int | None = None
    if vid is not None:
        only = _parse_video_id(vid)
        if only is None or _visible_post(world, only) is None or video_id(only) != vid:
            return _error(
                404,
                "The video identified by the <code><a href=\"/youtube/v3/docs/commentThreads/list#videoId\">videoId</a></code> "
                "parameter could not be found.",
                "videoNotFound",
                domain="youtube.commentThread",
                location="videoId",
            )
    elif channel is None:
        return _error(400, "No filter selected. Expected one of: allThreadsRelatedToChannelId, id, videoId", "missingRequiredParameter")
    elif channel != account.native_id:
        return _error(404, "The channel could not be found.", "channelNotFound", domain="youtube.commentThread", location="allThreadsRelatedToChannelId")
    start_index = only if only is not None else world.post_count() - 1
    start_number = 1 << 30
    if request.arg("pageToken"):
        position = _untoken(request.arg("pageToken"), 3)
        if position is None or position[0] != 2:
            return _bad_token()
        start_index, start_number = position[1], position[2]
    with_replies = "replies" in _parts(request)
    items: list[dict[str, object]] = []
    threads = _iter_threads(world, start_index, start_number, only)
    following = None
    for index, top, replies in threads:
        if len(items) == size:
            following = (index, top.number)
            break
        items.append(_thread(world, request, index, top, replies, with_replies))
    body: dict[str, object] = {"kind": "youtube#commentThreadListResponse", "etag": _etag("threads", start_index, start_number, world.epoch)}
    if following is not None:
        body["nextPageToken"] = _token(2, *following)
    # YouTube reports the page's size here, not the listing's (comment_threads_all_to_channel_page1.json)
    body["pageInfo"] = {"totalResults": len(items), "resultsPerPage": size}
    body["items"] = items
    return SampleResponse.json(body)


def _iter_threads(world: World, start_index: int, start_number: int, only: int | None) -> Iterator[tuple[int, SampleReply, list[SampleReply]]]:
    index, below = start_index, start_number
    while index >= 0:
        if _visible_post(world, index) is not None:
            for top, replies in reversed(thread_groups(world, index)):
                if top.number <= below:
                    yield index, top, replies
        if only is not None:
            return
        index, below = index - 1, 1 << 30


def _thread(world: World, request: SampleRequest, index: int, top: SampleReply, replies: list[SampleReply], with_replies: bool) -> dict[str, object]:
    account = world.account(NAME)
    thread: dict[str, object] = {
        "kind": "youtube#commentThread",
        "etag": _etag("thread", index, top.number, world.epoch),
        "id": _top_id(index, top.number),
        "snippet": {
            "channelId": account.native_id,
            "videoId": video_id(index),
            "topLevelComment": _comment(world, request, index, top, top, None),
            "canReply": True,
            "totalReplyCount": len(replies),
            "isPublic": True,
        },
    }
    if with_replies and replies:
        by_number = {r.number: r for r in world.replies(NAME, index)}
        included = replies[:THREAD_REPLIES_INCLUDED]
        thread["replies"] = {"comments": [_comment(world, request, index, r, top, by_number[r.parent_number]) for r in included]}
    return thread


def _comment(world: World, request: SampleRequest, index: int, reply: SampleReply, top: SampleReply, answered: SampleReply | None) -> dict[str, object]:
    text = reply.text
    if answered is not None and answered.number != top.number:
        text = f"@{answered.author.handle} {text}"  # YouTube marks a reply to a reply with the handle
    channel = _channel_id(world, reply)
    snippet: dict[str, object] = {
        "channelId": world.account(NAME).native_id,
        "videoId": video_id(index),
        "textDisplay": _display(text),
        "textOriginal": text,
        "authorDisplayName": "@" + reply.author.handle,
        "authorProfileImageUrl": f"{request.server_url}/media/{NAME}-avatar-{reply.author.number}.png",
        "authorChannelUrl": f"http://www.youtube.com/channel/{channel}",
        "authorChannelId": {"value": channel},
        "canRate": True,
        "viewerRating": "none",
        "likeCount": reply.like_count,
        "publishedAt": _when(reply.created_at),
        "updatedAt": _when(reply.edited_at or reply.created_at),
    }
    if reply.number != top.number:
        snippet["parentId"] = _top_id(index, top.number)
    return {"kind": "youtube#comment", "etag": _etag("comment", index, reply.number, world.epoch), "id": comment_id(index, reply, top.number), "snippet": snippet}


def _comments(world: World, request: SampleRequest) -> SampleResponse:
    size = _page_size(request, 20, MAX_COMMENTS)
    if size is None:
        return _bad_max_results()
    parent = request.arg("parentId")
    if parent is None:
        return _error(400, "No filter selected. Expected one of: parentId, id", "missingRequiredParameter")
    position = _parse_top_id(parent)
    group = None
    if position is not None and _visible_post(world, position[0]) is not None:
        group = next(((t, rs) for t, rs in thread_groups(world, position[0]) if t.number == position[1]), None)
    if position is None or group is None:
        return _error(404, "The comment identified by the <code>parentId</code> parameter could not be found.", "commentNotFound", domain="youtube.comment", location="parentId")
    index, (top, replies) = position[0], group
    offset = 0
    if request.arg("pageToken"):
        token = _untoken(request.arg("pageToken"), 2)
        if token is None or token[0] != 3:
            return _bad_token()
        offset = token[1]
    by_number = {r.number: r for r in world.replies(NAME, index)}
    page = replies[offset : offset + size]
    items: list[dict[str, object]] = []
    for reply in page:
        item = _comment(world, request, index, reply, top, by_number[reply.parent_number])
        snippet = item["snippet"]
        assert isinstance(snippet, dict)
        snippet.pop("videoId")  # comments.list replies name no video (comments_by_parent_page1.json)
        snippet.pop("channelId")
        items.append(item)
    body: dict[str, object] = {"kind": "youtube#commentListResponse", "etag": _etag("comments", parent, offset, world.epoch)}
    if offset + size < len(replies):
        body["nextPageToken"] = _token(3, offset + size)
    body["pageInfo"] = {"resultsPerPage": size}
    body["items"] = items
    return SampleResponse.json(body)


# -- helpers ----------------------------------------------------------------------------------


def _parts(request: SampleRequest) -> set[str]:
    return {p.strip() for p in (request.arg("part") or "").split(",") if p.strip()}


def _page_size(request: SampleRequest, default: int, maximum: int) -> int | None:
    text = request.arg("maxResults")
    if text is None:
        return default
    if not text.isdigit() or not 0 < int(text) <= maximum:
        return None
    return int(text)


def _title(text: str) -> str:
    if len(text) <= 100:
        return text
    cut = text[:100].rsplit(" ", 1)[0]
    return cut.rstrip(" ,:;-")


def _display(text: str) -> str:
    words = []
    for word in text.split(" "):
        if word.startswith(("http://", "https://")):
            words.append(f'<a href="{html.escape(word)}">{html.escape(word)}</a>')
        else:
            words.append(html.escape(word, quote=False))
    return " ".join(words)


def _thumbnail_stem(post: SamplePost) -> str:
    return post.media[0].name if post.media else f"{NAME}-{post.index}-thumb"


def _thumbnails(request: SampleRequest, stem: str) -> dict[str, object]:
    url = f"{request.server_url}/media/{stem}.png"
    sizes = {"default": (120, 90), "medium": (320, 180), "high": (480, 360), "standard": (640, 480), "maxres": (1280, 720)}
    return {name: {"url": url, "width": w, "height": h} for name, (w, h) in sizes.items()}


def _duration_ms(post: SamplePost) -> int:
    for media in post.media:
        if media.kind == "video" and media.duration_ms:
            return media.duration_ms
    # every upload is a video, whatever the world attached to the post
    return (30 + (post.index * 7919) % 1170) * 1000


def _iso_duration(ms: int) -> str:
    seconds = ms // 1000
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    text = "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "") + (f"{seconds}S" if seconds or not (hours or minutes) else "")
    return text


def _error(status: int, message: str, reason: str, *, domain: str = "youtube.parameter", location: str | None = None) -> SampleResponse:
    detail: dict[str, object] = {"message": message, "domain": domain, "reason": reason}
    if location is not None:
        detail["location"] = location
        detail["locationType"] = "parameter"
    codes = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 404: "NOT_FOUND"}
    return SampleResponse.json({"error": {"code": status, "message": message, "errors": [detail], "status": codes.get(status, "UNKNOWN")}}, status=status)


def _bad_max_results() -> SampleResponse:
    return _error(400, "Invalid value for parameter maxResults.", "invalidParameter", location="maxResults")


def _bad_token() -> SampleResponse:
    return _error(400, "The request specifies an invalid page token.", "invalidPageToken", location="pageToken")
