"""Bluesky (AT Protocol, ``app.bsky`` XRPC): an account's feed and the threads under its posts.

Endpoints (base ``https://public.api.bsky.app``, the public AppView):

``author_feed``  ``GET /xrpc/app.bsky.feed.getAuthorFeed?actor=DID&limit=100&filter=posts_with_replies``
                 with ``cursor`` paging: the account's posts, its replies and its reposts, newest
                 first. The LISTING endpoint.
``thread``       ``GET /xrpc/app.bsky.feed.getPostThread?uri=AT_URI&depth=1000&parentHeight=0``:
                 the replies under one post, nested in ``replies`` arrays. Asked for every feed
                 item of the account's own with ``replyCount > 0``.

Records: the ``at://`` URI is the record id. A feed item is kind "reply" when its record has a
``reply`` (parent and root from ``record.reply``), "quote" when it embeds another record
(``app.bsky.embed.record#view`` or ``recordWithMedia#view``), "repost" when the item's ``reason``
is ``#reasonRepost`` (created_at is the repost's ``reason.indexedAt``; its id is the repost
record's URI when the response names it, else ``<post uri>#repostedBy=<did>``), otherwise "post".
Records shown alongside (a reply's ``reply.parent`` and ``reply.root``, a quoted record, a
reposted post, a thread's parents) become records too, after the record that shows them. They
can be older than the feed's position, so a feed page names its own items, in order, in
``Page.listed`` (record id, created_at): an incremental harvest judges where it is by those. ``Page.extra["references"]`` maps each repost and quote to the record it points at. ``#notFoundPost``, ``#blockedPost`` and the
embed's ``#viewNotFound``/``#viewBlocked`` go to ``Page.missing``. Images come from the view
(``fullsize``, with ``thumb`` as preview), videos as their HLS ``playlist`` (Bluesky reports no
duration), link cards as media of kind "other" (the card's URL, title as alt text). Bluesky has no
edits, so ``edited_at`` stays empty.

Credential: a bearer token (``AUTH``), the ``accessJwt`` of an app-password session. The public
AppView answers these reads without one; with a session, point the base URL at the account's
PDS (``https://bsky.social``), which proxies ``app.bsky.*`` calls to the AppView.

Rate limits: 3,000 requests per 5 minutes per IP on the AppView (``RateLimit-Limit``,
``-Remaining``, ``-Reset`` in epoch seconds, ``RateLimit-Policy: 3000;w=300``).
https://docs.bsky.app/docs/advanced-guides/rate-limits

Quirks, with the payload files that show them (``realdata/bluesky/``):

- Responses from April 2023 leave ``$type`` off a feed item's ``reply.root``/``reply.parent``
  (``get_author_feed_page_with_cursor.json``); later ones say ``app.bsky.feed.defs#postView``.
- The feed cursor is ``<ms>::<cid>`` (same file); newer AppViews send a timestamp. It is opaque.
- A thread's ``parent`` chain can end in a ``#blockedPost`` whose author carries ``type`` rather
  than ``$type`` (``get_post_thread_parents_and_replies.json``, 54 parents deep).
- A reply can quote with media (``recordWithMedia``; ``get_post_thread_nested_replies.json``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, NoReturn

from archiver.errors import PageParseError
from archiver.model import ApiRequest, Author, Media, Page, Post, PostKind, RecordId
from archiver.platforms import AccountRef, Auth, load_json, parse_time

__all__ = ["NAME", "AUTH", "DEFAULT_BASE_URL", "LISTING_ENDPOINTS", "first_requests", "parse_page"]

NAME = "bluesky"
AUTH = Auth("bearer")
DEFAULT_BASE_URL = "https://public.api.bsky.app"
LISTING_ENDPOINTS = frozenset({"author_feed"})

#: the largest page getAuthorFeed serves, and the deepest thread getPostThread returns
MAX_FEED = 100
MAX_DEPTH = 1000

_FEED_PATH = "/xrpc/app.bsky.feed.getAuthorFeed"
_THREAD_PATH = "/xrpc/app.bsky.feed.getPostThread"
_DEFS = "app.bsky.feed.defs"


def first_requests(account: AccountRef) -> list[ApiRequest]:
    params = (("actor", account.native_id), ("limit", str(MAX_FEED)), ("filter", "posts_with_replies"))
    return [ApiRequest("author_feed", _FEED_PATH, params, target=account.native_id)]


def thread_request(uri: str) -> ApiRequest:
    params = (("uri", uri), ("depth", str(MAX_DEPTH)), ("parentHeight", "0"))
    return ApiRequest("thread", _THREAD_PATH, params, target=uri)


def parse_page(request: ApiRequest, body: bytes, headers: Mapping[str, str]) -> Page:
    data = load_json(body, request, NAME)
    try:
        root = _obj(data, request, "the body")
        if "error" in root:
            _api_error(request, root)
        collector = _Collector(request)
        if request.endpoint == "author_feed":
            return collector.feed(root)
        if request.endpoint == "thread":
            return collector.thread(root)
        _fail(request, "the request", f"no parser for endpoint {request.endpoint!r} (known: author_feed, thread)")
    except PageParseError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError, RecursionError) as exc:
        _fail(request, "the body", f"unexpected structure ({type(exc).__name__}: {exc})")


class _Collector:
    """The records of one page, each id once, in the order the page shows them."""

    def __init__(self, request: ApiRequest) -> None:
        self.request = request
        self.posts: dict[RecordId, Post] = {}
        self.missing: dict[str, str] = {}
        self.follow_ups: list[ApiRequest] = []
        self.references: dict[str, str] = {}
        self.listed: list[tuple[RecordId, datetime | None]] = []

    def page(self, next_request: ApiRequest | None = None) -> Page:
        return Page(
            posts=tuple(self.posts.values()),
            next=next_request,
            follow_ups=tuple(self.follow_ups),
            missing=tuple(self.missing.items()),
            listed=tuple(self.listed),
            extra={"references": self.references} if self.references else {},
        )

    def add_listed(self, post: Post) -> None:
        self.listed.append((post.record_id, post.created_at))

    # -- pages ------------------------------------------------------------------------------

    def feed(self, root: dict[str, Any]) -> Page:
        request = self.request
        items = _list(root.get("feed"), request, "feed")
        for n, raw in enumerate(items):
            where = f"feed[{n}]"
            item = _obj(raw, request, where)
            view = _obj(item.get("post"), request, f"{where}.post")
            reason = item.get("reason")
            reason_type = _obj(reason, request, f"{where}.reason").get("$type") if reason is not None else None
            if reason_type == f"{_DEFS}#reasonRepost":
                self.add_listed(self.repost(view, _obj(reason, request, f"{where}.reason"), where))
                continue
            # a pinned post (#reasonPin) is the account's own post, listed again at the top
            post = self.post_view(view, f"{where}.post")
            self.add_listed(post)
            if (post.reply_count or 0) > 0:
                self.follow_ups.append(thread_request(post.record_id.native_id))
            reply = item.get("reply")
            if reply is not None:
                context = _obj(reply, request, f"{where}.reply")
                for role in ("root", "parent"):
                    if context.get(role) is not None:
                        self.shown(_obj(context[role], request, f"{where}.reply.{role}"), f"{where}.reply.{role}")
        cursor = _opt_str(root, "cursor", request, "cursor")
        next_request = None
        if items and cursor and cursor != _param(request, "cursor"):
            params = tuple((k, v) for k, v in request.params if k != "cursor") + (("cursor", cursor),)
            next_request = ApiRequest(request.endpoint, request.path, params, request.target)
        return self.page(next_request)

    def thread(self, root: dict[str, Any]) -> Page:
        request = self.request
        top = _obj(root.get("thread"), request, "thread")
        if self.shown(top, "thread") is None:
            return self.page()  # the requested post itself is gone or blocked: Page.missing says so
        # then its parent chain (nearest first), each a record unless not found or blocked
        parent, where = top.get("parent"), "thread.parent"
        while parent is not None:
            entry = _obj(parent, request, where)
            if self.shown(entry, where) is None:
                break
            parent, where = entry.get("parent"), f"{where}.parent"
        # then the replies, depth first in the order shown
        stack: list[tuple[Any, str]] = []
        self.push_replies(stack, top, "thread")
        while stack:
            raw, where = stack.pop()
            entry = _obj(raw, request, where)
            post = self.shown(entry, where)
            if post is None:
                continue
            if entry.get("replies") is None and (post.reply_count or 0) > 0:
                # the depth limit cut the thread here: ask for this reply's own thread
                self.follow_ups.append(thread_request(post.record_id.native_id))
            self.push_replies(stack, entry, where)
        return self.page()

    def push_replies(self, stack: list[tuple[Any, str]], entry: dict[str, Any], where: str) -> None:
        replies = entry.get("replies")
        if replies is not None:
            children = _list(replies, self.request, f"{where}.replies")
            stack.extend((child, f"{where}.replies[{i}]") for i, child in reversed(list(enumerate(children))))

    # -- records ----------------------------------------------------------------------------

    def shown(self, entry: dict[str, Any], where: str) -> Post | None:
        """A thread entry or a reply's root/parent: a post view, or a not-found/blocked marker."""
        kind = entry.get("$type")
        if kind in (f"{_DEFS}#notFoundPost", f"{_DEFS}#blockedPost") or entry.get("notFound") is True or entry.get("blocked") is True:
            uri = _str(entry, "uri", self.request, where)
            self.missing.setdefault(uri, "blocked" if entry.get("blocked") is True or kind == f"{_DEFS}#blockedPost" else "not found")
            return None
        if kind == f"{_DEFS}#threadViewPost" or (kind is None and "post" in entry and "uri" not in entry):
            return self.post_view(_obj(entry.get("post"), self.request, f"{where}.post"), f"{where}.post")
        if kind in (None, f"{_DEFS}#postView"):
            return self.post_view(entry, where)
        self.missing.setdefault(_opt_str(entry, "uri", self.request, where) or where, f"unknown entry {kind}")
        return None

    def post_view(self, view: dict[str, Any], where: str, *, record_key: str = "record") -> Post:
        request = self.request
        uri = _str(view, "uri", request, where)
        record = _obj(view.get(record_key), request, f"{where}.{record_key}")
        reply = record.get("reply")
        parent = root = None
        if reply is not None:
            refs = _obj(reply, request, f"{where}.{record_key}.reply")
            parent = _str(_obj(refs.get("parent"), request, f"{where}.{record_key}.reply.parent"), "uri", request, f"{where}.{record_key}.reply.parent")
            root = _str(_obj(refs.get("root"), request, f"{where}.{record_key}.reply.root"), "uri", request, f"{where}.{record_key}.reply.root")
        embed = view.get("embed")
        if embed is None and isinstance(view.get("embeds"), list) and view["embeds"]:
            embed = view["embeds"][0]  # a quoted record's view lists its embeds
        # what the embed shows (a quoted post) follows the post itself in the page's order
        shown = _Collector(request)
        media, quoted = shown.embed(embed, f"{where}.embed") if embed is not None else ((), None)
        kind: PostKind = "reply" if reply is not None else ("quote" if quoted else "post")
        author = _author(request, view.get("author"), f"{where}.author")
        langs = record.get("langs")
        language = langs[0] if isinstance(langs, list) and langs and isinstance(langs[0], str) else None
        counters = tuple(
            (name, value)
            for name, key in (("likes", "likeCount"), ("reposts", "repostCount"), ("quotes", "quoteCount"))
            if (value := _opt_int(view, key, request, where)) is not None
        )
        post = Post(
            record_id=RecordId(NAME, uri),
            kind=kind,
            author=author,
            created_at=self.created_at(record, view, where, record_key),
            text=_opt_str(record, "text", request, f"{where}.{record_key}") or "",
            parent_id=RecordId(NAME, parent) if parent else None,
            root_id=RecordId(NAME, root) if root else None,
            url=_web_url(uri, author),
            language=language,
            media=media,
            reply_count=_opt_int(view, "replyCount", request, where),
            counters=counters,
        )
        self.posts.setdefault(post.record_id, post)
        self.merge(shown)
        if quoted is not None:
            self.references.setdefault(str(post.record_id), str(RecordId(NAME, quoted)))
        return post

    def merge(self, other: _Collector) -> None:
        for record_id, post in other.posts.items():
            self.posts.setdefault(record_id, post)
        for uri, why in other.missing.items():
            self.missing.setdefault(uri, why)
        for source, target in other.references.items():
            self.references.setdefault(source, target)
        self.follow_ups.extend(other.follow_ups)

    def repost(self, view: dict[str, Any], reason: dict[str, Any], where: str) -> Post:
        request = self.request
        by = _author(request, reason.get("by"), f"{where}.reason.by")
        # the repost first, in the feed's order, then the post it reposts (and what that shows)
        inner = _Collector(request)
        original = inner.post_view(view, f"{where}.post")
        uri = _opt_str(reason, "uri", request, f"{where}.reason")
        if uri is None and by is not None:
            # older AppViews name the repost record only in the viewer's state; it is the
            # reposter's when its repository is the reposter's DID
            viewer = view.get("viewer")
            mine = viewer.get("repost") if isinstance(viewer, dict) else None
            if isinstance(mine, str) and mine.startswith(f"at://{by.native_id}/"):
                uri = mine
        if uri is None:
            uri = f"{original.record_id.native_id}#repostedBy={by.native_id if by else 'unknown'}"
        repost = Post(
            record_id=RecordId(NAME, uri),
            kind="repost",
            author=by,
            created_at=_time(reason.get("indexedAt"), request, f"{where}.reason.indexedAt"),
            text=original.text,
            url=original.url,
            language=original.language,
            media=original.media,
        )
        self.posts.setdefault(repost.record_id, repost)
        self.merge(inner)
        self.references[str(repost.record_id)] = str(original.record_id)
        return repost

    def embed(self, value: Any, where: str) -> tuple[tuple[Media, ...], str | None]:
        """The media of an embed view, and the URI of the record it quotes (if any)."""
        request = self.request
        embed = _obj(value, request, where)
        kind = _opt_str(embed, "$type", request, where) or ""
        if kind.startswith("app.bsky.embed.images"):
            images = _list(embed.get("images"), request, f"{where}.images")
            return tuple(self.image(_obj(img, request, f"{where}.images[{i}]"), f"{where}.images[{i}]") for i, img in enumerate(images)), None
        if kind.startswith("app.bsky.embed.video"):
            video = Media(
                kind="video",
                url=_opt_str(embed, "playlist", request, where),
                native_id=_opt_str(embed, "cid", request, where),
                preview_url=_opt_str(embed, "thumbnail", request, where),
                alt_text=_opt_str(embed, "alt", request, where),
            )
            return (video,), None
        if kind.startswith("app.bsky.embed.external"):
            card = _obj(embed.get("external"), request, f"{where}.external")
            thumb = card.get("thumb")
            card_media = Media(
                kind="other",
                url=_opt_str(card, "uri", request, f"{where}.external"),
                preview_url=thumb if isinstance(thumb, str) else None,  # the record holds a blob, the view a URL
                alt_text=_opt_str(card, "title", request, f"{where}.external"),
            )
            return (card_media,), None
        if kind.startswith("app.bsky.embed.recordWithMedia"):
            media, _ = self.embed(embed.get("media"), f"{where}.media")
            # the inner record view has no $type in 2023 payloads (get_author_feed_page_with_cursor.json)
            return media, self.quoted(_obj(embed.get("record"), request, f"{where}.record"), f"{where}.record")
        if kind.startswith("app.bsky.embed.record"):
            return (), self.quoted(embed, where)
        return (), None

    def quoted(self, view: dict[str, Any], where: str) -> str | None:
        """The quoted record of an ``app.bsky.embed.record#view``: a record when it is a post."""
        request = self.request
        inner = _obj(view.get("record"), request, f"{where}.record")
        inner_type = _opt_str(inner, "$type", request, f"{where}.record") or ""
        uri = _opt_str(inner, "uri", request, f"{where}.record")
        for suffix, why in (("#viewNotFound", "not found"), ("#viewBlocked", "blocked"), ("#viewDetached", "detached by its author")):
            if inner_type.endswith(suffix):
                if uri:
                    self.missing.setdefault(uri, why)
                return uri
        value = inner.get("value")
        if isinstance(value, dict) and value.get("$type", "app.bsky.feed.post") == "app.bsky.feed.post":
            return self.post_view(inner, f"{where}.record", record_key="value").record_id.native_id
        # a quoted feed generator, list or starter pack: keep the pointer only
        return uri

    def image(self, image: dict[str, Any], where: str) -> Media:
        request = self.request
        return Media(
            kind="image",
            url=_opt_str(image, "fullsize", request, where),
            preview_url=_opt_str(image, "thumb", request, where),
            alt_text=_opt_str(image, "alt", request, where) or None,
        )

    def created_at(self, record: dict[str, Any], view: dict[str, Any], where: str, record_key: str) -> datetime | None:
        # createdAt is what the author's client claims; indexedAt (the AppView's clock) stands in
        # only when the claim is missing or cannot be read
        try:
            claimed = _time(record.get("createdAt"), self.request, f"{where}.{record_key}.createdAt")
        except PageParseError:
            claimed = None
        return claimed or _time(view.get("indexedAt"), self.request, f"{where}.indexedAt")


def _author(request: ApiRequest, value: Any, where: str) -> Author | None:
    if value is None:
        return None
    author = _obj(value, request, where)
    return Author(_str(author, "did", request, where), _opt_str(author, "handle", request, where), _opt_str(author, "displayName", request, where))


def _web_url(uri: str, author: Author | None) -> str | None:
    # at://DID/app.bsky.feed.post/RKEY; the DID, not the handle, so the link survives a rename
    repo, _, rest = uri.removeprefix("at://").partition("/")
    collection, _, rkey = rest.partition("/")
    if collection != "app.bsky.feed.post" or not rkey:
        return None
    return f"https://bsky.app/profile/{author.native_id if author else repo}/post/{rkey}"


# -- paging and errors ---------------------------------------------------------------------------


def _param(request: ApiRequest, name: str) -> str | None:
    return next((v for k, v in request.params if k == name), None)


def _api_error(request: ApiRequest, root: dict[str, Any]) -> NoReturn:
    error, message = root.get("error"), root.get("message")
    hint = (
        "The session token expired or was refused: log in again with the app password, then run the harvest again."
        if error in ("ExpiredToken", "InvalidToken", "AuthenticationRequired")
        else "Check the account's DID and the post URI, then run the harvest again."
    )
    raise PageParseError(
        f"{NAME} {request.endpoint} {request.path}: the AppView answered with an error object instead of a page: "
        f"{error!r}{f' ({message})' if message else ''}. {hint}",
        url=request.path,
    )


def _fail(request: ApiRequest, where: str, what: str) -> NoReturn:
    raise PageParseError(
        f"{NAME} {request.endpoint} {request.path}: {what} at {where}. The response is kept in the WARC; "
        "if this repeats, the app.bsky lexicon has changed: compare the capture with the payloads named in "
        "archiver/platforms/bluesky.py and update its parser.",
        url=request.path,
    )


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
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        _fail(request, f"{where}.{key}", f"expected a count, got {type(value).__name__}")
    return value


def _time(value: Any, request: ApiRequest, where: str) -> datetime | None:
    if value is not None and not isinstance(value, str):
        _fail(request, where, f"expected an ISO 8601 time, got {type(value).__name__}")
    try:
        return parse_time(value)
    except ValueError:
        _fail(request, where, f"expected an ISO 8601 time, got {value!r:.40}")
