"""The sample Bluesky AppView: the department's account in the shapes of the ``app.bsky`` XRPC API.

Answers ``/xrpc/app.bsky.feed.getAuthorFeed`` (``actor``, ``limit`` up to 100, ``cursor``,
``filter``) and ``/xrpc/app.bsky.feed.getPostThread`` (``uri``, ``depth``, ``parentHeight``),
with feed items, post views, ``record`` objects (facets with UTF-8 byte offsets, image and video
embeds, link cards), ``#notFoundPost`` markers and XRPC error bodies
(``{"error": "NotFound", "message": ...}``). Other methods get ``MethodNotImplemented`` (501),
other paths a 404, as the AppView answers.

Ids: the department's DID is the world account's; a citizen's is ``did:plc:`` + 24 base32
characters of a hash of its number. A record key is a TID (13 base32-sortable characters: 53
bits of microseconds, 10 bits of clock id) made, as Bluesky makes them, of the record's creation
time; the clock id holds the post index modulo 64 and the reply number (0 for the post itself).
It parses back: the time finds the post (``World.created_at`` is increasing, and a reply comes at
most ``REPLY_SPAN`` after its post), the clock id picks it out. CIDs are ``bafyrei…`` CIDv1
strings over a hash of the record, so an edited record gets a new CID.

The feed lists the account's posts and its own replies, newest first by record key, so a reply
written today on an older post is at the top; its cursor (``<ms>::<record key>``, the 2023
AppView's shape) names the last item and is sent while pages come back full. Deleting a post or
reply detaches the replies under it: they no longer show in a thread, and a feed item whose
parent or root was deleted shows a ``#notFoundPost`` there. ``ground_truth`` follows the same
rules.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

from archiver.samples.mastodon import Conversation, conversation, index_at_or_before, iter_timeline, locate, timeline
from archiver.samples.server import SampleRequest, SampleResponse
from archiver.samples.world import SampleAuthor, SampleMedia, World

__all__ = ["handle", "ground_truth", "post_uri", "did", "listed_records"]

NAME = "bluesky"
MAX_FEED = 100
DEFAULT_FEED = 50
MAX_DEPTH = 1000
_DEFS = "app.bsky.feed.defs"
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_SORTABLE = "234567abcdefghijklmnopqrstuvwxyz"


# -- ids ----------------------------------------------------------------------------------------


def did(world: World, author: SampleAuthor) -> str:
    if author.is_department:
        return world.account(NAME).native_id
    digest = hashlib.sha256(f"{world.seed}:citizen:{author.number}".encode()).digest()
    return "did:plc:" + base64.b32encode(digest[:15]).decode().lower()


def _handle(world: World, author: SampleAuthor) -> str:
    return world.account(NAME).handle if author.is_department else f"{author.handle}.bsky.social"


def _us(value: datetime) -> int:
    return (value - _EPOCH) // timedelta(microseconds=1)


def _tid(micros: int, clock: int) -> str:
    value = (micros << 10) | (clock & 0x3FF)
    return "".join(_SORTABLE[(value >> (60 - 5 * i)) & 31] for i in range(13))


def _untid(text: str) -> tuple[int, int] | None:
    if len(text) != 13 or any(c not in _SORTABLE for c in text):
        return None
    value = 0
    for c in text:
        value = (value << 5) | _SORTABLE.index(c)
    return value >> 10, value & 0x3FF


def _record_key(index: int, number: int, created: datetime) -> int:
    return (_us(created) << 10) | ((index % 64) << 4) | number


def _created(conv: Conversation, key: int) -> datetime:
    return conv.post.created_at if key == 0 else conv.everything[key].created_at


def _rkey(conv: Conversation, key: int) -> str:
    value = _record_key(conv.index, key, _created(conv, key))
    return _tid(value >> 10, value & 0x3FF)


def post_uri(world: World, conv: Conversation, key: int) -> str:
    """The at:// URI of the post (key 0) or of one of its replies, deleted or not."""
    author = world.department(NAME) if key == 0 else conv.everything[key].author
    return f"at://{did(world, author)}/app.bsky.feed.post/{_rkey(conv, key)}"


def _position(world: World, rkey: str) -> tuple[int, int] | None:
    """(post index, reply number) of a record key, or None if it names no record of the world."""
    parsed = _untid(rkey)
    if parsed is None:
        return None
    micros, clock = parsed
    return locate(world, NAME, timedelta(microseconds=1), micros, clock >> 4, 64, clock & 0xF)


def _iter_records(world: World, below: int | None = None) -> Iterator[tuple[int, int, int]]:
    start = world.post_count() - 1 if below is None else index_at_or_before(world, timedelta(microseconds=1), below >> 10)
    return iter_timeline(world, NAME, _record_key, start, below)


def listed_records(world: World) -> Iterator[tuple[Conversation, int]]:
    """The account's feed, newest first, as getAuthorFeed lists it."""
    return timeline(world, NAME, _iter_records(world))


def _cid(*parts: object) -> str:
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return "b" + base64.b32encode(b"\x01\x71\x12\x20" + digest).decode().lower().rstrip("=")


def _when(value: datetime) -> str:
    value = value.astimezone(timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def ground_truth(world: World) -> set[str]:
    ids: set[str] = set()
    for conv, key in listed_records(world):
        ids.add(post_uri(world, conv, key))
        if key != 0:
            reply = conv.replies[key]
            for shown in (0, reply.parent_number):  # the feed item's root and parent
                if conv.visible(shown):
                    ids.add(post_uri(world, conv, shown))
        if conv.reply_count(key) > 0:
            ids.update(post_uri(world, conv, k) for k in conv.descendants(key))
    return ids


# -- responses ----------------------------------------------------------------------------------


def handle(world: World, request: SampleRequest) -> SampleResponse:
    if request.path == "/xrpc/app.bsky.feed.getAuthorFeed":
        return _author_feed(world, request)
    if request.path == "/xrpc/app.bsky.feed.getPostThread":
        return _post_thread(world, request)
    if request.path.startswith("/xrpc/"):
        return _error(501, "MethodNotImplemented", "Method Not Implemented")
    return _error(404, "NotFound", "Not Found")


def _author_feed(world: World, request: SampleRequest) -> SampleResponse:
    account = world.account(NAME)
    if request.arg("actor") not in (account.native_id, account.handle):
        return _error(400, "InvalidRequest", "Profile not found")
    limit_text = request.arg("limit") or str(DEFAULT_FEED)
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= MAX_FEED:
        return _error(400, "InvalidRequest", f"Error: limit must be an integer between 1 and {MAX_FEED}")
    limit = int(limit_text)
    with_replies = request.arg("filter", "posts_with_replies") != "posts_no_replies"
    below = None
    cursor = request.arg("cursor")
    if cursor:
        parsed = _untid(cursor.rpartition("::")[2])
        if parsed is None:
            return _error(400, "InvalidRequest", "Malformed cursor")
        below = (parsed[0] << 10) | parsed[1]
    feed: list[dict[str, object]] = []
    last: tuple[Conversation, int] | None = None
    for conv, key in timeline(world, NAME, _iter_records(world, below)):
        if key != 0 and not with_replies:
            continue
        feed.append(_feed_item(world, request, conv, key))
        last = (conv, key)
        if len(feed) == limit:
            break
    body: dict[str, object] = {"feed": feed}
    if last is not None and len(feed) == limit:
        conv, key = last
        body["cursor"] = f"{_us(_created(conv, key)) // 1000}::{_rkey(conv, key)}"
    return SampleResponse.json(body)


def _feed_item(world: World, request: SampleRequest, conv: Conversation, key: int) -> dict[str, object]:
    item: dict[str, object] = {"post": _post_view(world, request, conv, key)}
    if key != 0:
        reply = conv.replies[key]
        item["reply"] = {"root": _shown(world, request, conv, 0), "parent": _shown(world, request, conv, reply.parent_number)}
    return item


def _shown(world: World, request: SampleRequest, conv: Conversation, key: int) -> dict[str, object]:
    if conv.visible(key):
        return {"$type": f"{_DEFS}#postView", **_post_view(world, request, conv, key)}
    return {"$type": f"{_DEFS}#notFoundPost", "uri": post_uri(world, conv, key), "notFound": True}


def _post_thread(world: World, request: SampleRequest) -> SampleResponse:
    uri = request.arg("uri") or ""
    repo, _, rest = uri.removeprefix("at://").partition("/")
    collection, _, rkey = rest.partition("/")
    position = _position(world, rkey) if uri.startswith("at://") and collection == "app.bsky.feed.post" else None
    conv = conversation(world, NAME, position[0]) if position is not None else None
    if position is None or conv is None or not conv.visible(position[1]) or post_uri(world, conv, position[1]) != uri:
        return _error(400, "NotFound", f"Post not found: {uri}")
    depth = _bounded(request.arg("depth"), 6, MAX_DEPTH)
    height = _bounded(request.arg("parentHeight"), 80, MAX_DEPTH)
    key = position[1]
    thread = _thread_view(world, request, conv, key, depth)
    node = thread
    for up in reversed(conv.ancestors(key)[-height:] if height else []):
        parent = _thread_view(world, request, conv, up, 0, with_replies=False)
        node["parent"] = parent
        node = parent
    if height and key != 0 and conv.parent.get(key) is None:
        # the reply's parent was deleted: the AppView shows where it was
        answered = conv.replies[key].parent_number
        node["parent"] = {"$type": f"{_DEFS}#notFoundPost", "uri": post_uri(world, conv, answered), "notFound": True}
    return SampleResponse.json({"thread": thread})


def _thread_view(world: World, request: SampleRequest, conv: Conversation, key: int, depth: int, *, with_replies: bool = True) -> dict[str, object]:
    view: dict[str, object] = {"$type": f"{_DEFS}#threadViewPost", "post": _post_view(world, request, conv, key)}
    if with_replies and depth > 0:
        view["replies"] = [_thread_view(world, request, conv, child, depth - 1) for child in conv.children.get(key, ())]
    return view


def _bounded(text: str | None, default: int, maximum: int) -> int:
    return min(maximum, int(text)) if text and text.isdigit() else default


def _post_view(world: World, request: SampleRequest, conv: Conversation, key: int) -> dict[str, object]:
    department = world.department(NAME)
    uri = post_uri(world, conv, key)
    if key == 0:
        post = conv.post
        author, created, text, language = department, post.created_at, post.text, post.language
        media: tuple[SampleMedia, ...] = post.media
        hashtags, links = post.hashtags, post.links
        likes, reposts = post.like_count, post.share_count
    else:
        reply = conv.replies[key]
        author, created, text, language = reply.author, reply.created_at, reply.text, reply.language
        media, hashtags, links, likes, reposts = (), (), (), reply.like_count, 0
    record: dict[str, object] = {"$type": "app.bsky.feed.post", "text": text, "langs": [language], "createdAt": _when(created)}
    facets = _facets(text, hashtags, links)
    if facets:
        record["facets"] = facets
    view_embed: dict[str, object] | None = None
    if media:
        record["embed"], view_embed = _media_embeds(request, media)
    elif links:
        card = {"uri": links[0], "title": f"Notice {conv.index} | Jal Shakti Department", "description": "Public notice of the Jal Shakti Department."}
        thumb = f"{request.server_url}/media/{NAME}-{conv.index}-card.png"
        record["embed"] = {"$type": "app.bsky.embed.external", "external": {**card, "thumb": _blob(thumb, "image/png")}}
        view_embed = {"$type": "app.bsky.embed.external#view", "external": {**card, "thumb": thumb}}
    if key != 0:
        parent = conv.replies[key].parent_number
        record["reply"] = {
            "root": {"uri": post_uri(world, conv, 0), "cid": _cid(post_uri(world, conv, 0), conv.post.text)},
            "parent": {"uri": post_uri(world, conv, parent), "cid": _cid(post_uri(world, conv, parent), _text_of(conv, parent))},
        }
    view: dict[str, object] = {
        "uri": uri,
        "cid": _cid(uri, text),
        "author": {
            "did": did(world, author),
            "handle": _handle(world, author),
            "displayName": author.display_name,
            "avatar": f"{request.server_url}/media/{NAME}-avatar-{author.number}.png",
            "viewer": {"muted": False, "blockedBy": False},
            "labels": [],
            "createdAt": "2023-05-01T00:00:00.000Z",
        },
        "record": record,
    }
    if view_embed is not None:
        view["embed"] = view_embed
    view.update(
        {
            "replyCount": conv.reply_count(key),
            "repostCount": reposts,
            "likeCount": likes,
            "quoteCount": 0,
            "indexedAt": _when(created + timedelta(milliseconds=137)),
            "viewer": {"threadMuted": False, "embeddingDisabled": False},
            "labels": [],
        }
    )
    return view


def _text_of(conv: Conversation, key: int) -> str:
    return conv.post.text if key == 0 else conv.everything[key].text


def _facets(text: str, hashtags: tuple[str, ...], links: tuple[str, ...]) -> list[dict[str, object]]:
    """Rich-text facets with UTF-8 byte offsets, as Bluesky clients write them."""
    facets: list[dict[str, object]] = []
    encoded = text.encode()
    for needle, feature in [(t, {"$type": "app.bsky.richtext.facet#tag", "tag": t.lstrip("#")}) for t in hashtags] + [
        (link, {"$type": "app.bsky.richtext.facet#link", "uri": link}) for link in links
    ]:
        start = encoded.find(needle.encode())
        if start >= 0:
            facets.append({"$type": "app.bsky.richtext.facet", "index": {"byteStart": start, "byteEnd": start + len(needle.encode())}, "features": [feature]})
    return facets


def _blob_cid(name: str) -> str:
    return "bafkrei" + _cid(name)[7:]  # raw-codec CIDs of blobs start "bafkrei"


def _blob(name: str, mime: str) -> dict[str, object]:
    return {"$type": "blob", "ref": {"$link": _blob_cid(name)}, "mimeType": mime, "size": 100_000 + len(name) * 997}


def _media_embeds(request: SampleRequest, media: tuple[SampleMedia, ...]) -> tuple[dict[str, object], dict[str, object]]:
    first = media[0]
    ratio = {"width": first.width, "height": first.height}
    if first.kind == "video":
        video = f"{request.server_url}/media/{first.name}.mp4"
        blob = _blob(first.name, "video/mp4")
        record: dict[str, object] = {"$type": "app.bsky.embed.video", "video": blob, "aspectRatio": ratio}
        view: dict[str, object] = {
            "$type": "app.bsky.embed.video#view",
            "cid": _blob_cid(first.name),
            "playlist": video,
            "thumbnail": f"{request.server_url}/media/{first.name}.png",
            "aspectRatio": ratio,
        }
        return record, view
    images = [m for m in media if m.kind == "image"][:4]
    record = {
        "$type": "app.bsky.embed.images",
        "images": [{"alt": m.alt_text or "", "image": _blob(m.name, "image/png"), "aspectRatio": {"width": m.width, "height": m.height}} for m in images],
    }
    view = {
        "$type": "app.bsky.embed.images#view",
        "images": [
            {
                "thumb": f"{request.server_url}/media/{m.name}.png",
                "fullsize": f"{request.server_url}/media/{m.name}.png",
                "alt": m.alt_text or "",
                "aspectRatio": {"width": m.width, "height": m.height},
            }
            for m in images
        ],
    }
    return record, view


def _error(status: int, error: str, message: str) -> SampleResponse:
    return SampleResponse.json({"error": error, "message": message}, status=status)
