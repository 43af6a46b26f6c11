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
from archiver.platforms import AccountRef, Auth, load_json
from archiver.platforms.fields import STRUCTURE_ERRORS, FieldReader

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
    read = FieldReader(NAME, request, "the app.bsky lexicon has changed")
    try:
        root = read.obj(data, "the body")
        if "error" in root:
            _api_error(request, root)
        collector = _Collector(read)
        if request.endpoint == "author_feed":
            return collector.feed(root)
        if request.endpoint == "thread":
            return collector.thread(root)
        raise read.fail("the request", f"no parser for endpoint {request.endpoint!r} (known: author_feed, thread)")
    except PageParseError:
        raise
    except STRUCTURE_ERRORS as exc:
        raise read.unexpected(exc)


class _Collector:
    """The records of one page, each id once, in the order the page shows them."""

    def __init__(self, read: FieldReader) -> None:
        self.read = read
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
        read = self.read
        items = read.array(root.get("feed"), "feed")
        for n, raw in enumerate(items):
            where = f"feed[{n}]"
            item = read.obj(raw, where)
            view = read.obj(item.get("post"), f"{where}.post")
            reason = item.get("reason")
            reason_type = read.obj(reason, f"{where}.reason").get("$type") if reason is not None else None
            if reason_type == f"{_DEFS}#reasonRepost":
                self.add_listed(self.repost(view, read.obj(reason, f"{where}.reason"), where))
                continue
            # a pinned post (#reasonPin) is the account's own post, listed again at the top
            post = self.post_view(view, f"{where}.post")
            self.add_listed(post)
            if (post.reply_count or 0) > 0:
                self.follow_ups.append(thread_request(post.record_id.native_id))
            reply = item.get("reply")
            if reply is not None:
                context = read.obj(reply, f"{where}.reply")
                for role in ("root", "parent"):
                    if context.get(role) is not None:
                        self.shown(read.obj(context[role], f"{where}.reply.{role}"), f"{where}.reply.{role}")
        cursor = read.opt_string(root.get("cursor"), "cursor.cursor")
        next_request = None
        request = read.request
        if items and cursor and cursor != _param(request, "cursor"):
            params = tuple((k, v) for k, v in request.params if k != "cursor") + (("cursor", cursor),)
            next_request = ApiRequest(request.endpoint, request.path, params, request.target)
        return self.page(next_request)

    def thread(self, root: dict[str, Any]) -> Page:
        read = self.read
        top = read.obj(root.get("thread"), "thread")
        if self.shown(top, "thread") is None:
            return self.page()  # the requested post itself is gone or blocked: Page.missing says so
        # then its parent chain (nearest first), each a record unless not found or blocked
        parent, where = top.get("parent"), "thread.parent"
        while parent is not None:
            entry = read.obj(parent, where)
            if self.shown(entry, where) is None:
                break
            parent, where = entry.get("parent"), f"{where}.parent"
        # then the replies, depth first in the order shown
        stack: list[tuple[Any, str]] = []
        self.push_replies(stack, top, "thread")
        while stack:
            raw, where = stack.pop()
            entry = read.obj(raw, where)
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
            children = self.read.array(replies, f"{where}.replies")
            stack.extend((child, f"{where}.replies[{i}]") for i, child in reversed(list(enumerate(children))))

    # -- records ----------------------------------------------------------------------------

    def shown(self, entry: dict[str, Any], where: str) -> Post | None:
        """A thread entry or a reply's root/parent: a post view, or a not-found/blocked marker."""
        kind = entry.get("$type")
        if kind in (f"{_DEFS}#notFoundPost", f"{_DEFS}#blockedPost") or entry.get("notFound") is True or entry.get("blocked") is True:
            uri = self.read.nonempty_string(entry.get("uri"), f"{where}.uri")
            self.missing.setdefault(uri, "blocked" if entry.get("blocked") is True or kind == f"{_DEFS}#blockedPost" else "not found")
            return None
        if kind == f"{_DEFS}#threadViewPost" or (kind is None and "post" in entry and "uri" not in entry):
            return self.post_view(self.read.obj(entry.get("post"), f"{where}.post"), f"{where}.post")
        if kind in (None, f"{_DEFS}#postView"):
            return self.post_view(entry, where)
        self.missing.setdefault(self.read.opt_string(entry.get("uri"), f"{where}.uri") or where, f"unknown entry {kind}")
        return None

    def post_view(self, view: dict[str, Any], where: str, *, record_key: str = "record") -> Post:
        read = self.read
        uri = read.nonempty_string(view.get("uri"), f"{where}.uri")
        record = read.obj(view.get(record_key), f"{where}.{record_key}")
        reply = record.get("reply")
        parent = root = None
        if reply is not None:
            refs = read.obj(reply, f"{where}.{record_key}.reply")
            at = f"{where}.{record_key}.reply"
            parent = read.nonempty_string(read.obj(refs.get("parent"), f"{at}.parent").get("uri"), f"{at}.parent.uri")
            root = read.nonempty_string(read.obj(refs.get("root"), f"{at}.root").get("uri"), f"{at}.root.uri")
        embed = view.get("embed")
        if embed is None and isinstance(view.get("embeds"), list) and view["embeds"]:
            embed = view["embeds"][0]  # a quoted record's view lists its embeds
        # what the embed shows (a quoted post) follows the post itself in the page's order
        shown = _Collector(read)
        media, quoted = shown.embed(embed, f"{where}.embed") if embed is not None else ((), None)
        kind: PostKind = "reply" if reply is not None else ("quote" if quoted else "post")
        author = _author(read, view.get("author"), f"{where}.author")
        langs = record.get("langs")
        language = langs[0] if isinstance(langs, list) and langs and isinstance(langs[0], str) else None
        counters = tuple(
            (name, value)
            for name, key in (("likes", "likeCount"), ("reposts", "repostCount"), ("quotes", "quoteCount"))
            if (value := read.opt_int(view.get(key), f"{where}.{key}")) is not None
        )
        post = Post(
            record_id=RecordId(NAME, uri),
            kind=kind,
            author=author,
            created_at=self.created_at(record, view, where, record_key),
            text=read.opt_string(record.get("text"), f"{where}.{record_key}.text") or "",
            parent_id=RecordId(NAME, parent) if parent else None,
            root_id=RecordId(NAME, root) if root else None,
            url=_web_url(uri, author),
            language=language,
            media=media,
            reply_count=read.opt_int(view.get("replyCount"), f"{where}.replyCount"),
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
        read = self.read
        by = _author(read, reason.get("by"), f"{where}.reason.by")
        # the repost first, in the feed's order, then the post it reposts (and what that shows)
        inner = _Collector(read)
        original = inner.post_view(view, f"{where}.post")
        uri = read.opt_string(reason.get("uri"), f"{where}.reason.uri")
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
            created_at=read.time(reason.get("indexedAt"), f"{where}.reason.indexedAt"),
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
        read = self.read
        embed = read.obj(value, where)
        kind = read.opt_string(embed.get("$type"), f"{where}.$type") or ""
        if kind.startswith("app.bsky.embed.images"):
            images = read.array(embed.get("images"), f"{where}.images")
            return tuple(self.image(read.obj(img, f"{where}.images[{i}]"), f"{where}.images[{i}]") for i, img in enumerate(images)), None
        if kind.startswith("app.bsky.embed.video"):
            video = Media(
                kind="video",
                url=read.opt_string(embed.get("playlist"), f"{where}.playlist"),
                native_id=read.opt_string(embed.get("cid"), f"{where}.cid"),
                preview_url=read.opt_string(embed.get("thumbnail"), f"{where}.thumbnail"),
                alt_text=read.opt_string(embed.get("alt"), f"{where}.alt"),
            )
            return (video,), None
        if kind.startswith("app.bsky.embed.external"):
            card = read.obj(embed.get("external"), f"{where}.external")
            thumb = card.get("thumb")
            card_media = Media(
                kind="other",
                url=read.opt_string(card.get("uri"), f"{where}.external.uri"),
                preview_url=thumb if isinstance(thumb, str) else None,  # the record holds a blob, the view a URL
                alt_text=read.opt_string(card.get("title"), f"{where}.external.title"),
            )
            return (card_media,), None
        if kind.startswith("app.bsky.embed.recordWithMedia"):
            media, _ = self.embed(embed.get("media"), f"{where}.media")
            # the inner record view has no $type in 2023 payloads (get_author_feed_page_with_cursor.json)
            return media, self.quoted(read.obj(embed.get("record"), f"{where}.record"), f"{where}.record")
        if kind.startswith("app.bsky.embed.record"):
            return (), self.quoted(embed, where)
        return (), None

    def quoted(self, view: dict[str, Any], where: str) -> str | None:
        """The quoted record of an ``app.bsky.embed.record#view``: a record when it is a post."""
        read = self.read
        inner = read.obj(view.get("record"), f"{where}.record")
        inner_type = read.opt_string(inner.get("$type"), f"{where}.record.$type") or ""
        uri = read.opt_string(inner.get("uri"), f"{where}.record.uri")
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
        read = self.read
        return Media(
            kind="image",
            url=read.opt_string(image.get("fullsize"), f"{where}.fullsize"),
            preview_url=read.opt_string(image.get("thumb"), f"{where}.thumb"),
            alt_text=read.opt_string(image.get("alt"), f"{where}.alt") or None,
        )

    def created_at(self, record: dict[str, Any], view: dict[str, Any], where: str, record_key: str) -> datetime | None:
        # createdAt is what the author's client claims; indexedAt (the AppView's clock) stands in
        # only when the claim is missing or cannot be read
        try:
            claimed = self.read.time(record.get("createdAt"), f"{where}.{record_key}.createdAt")
        except PageParseError:
            claimed = None
        return claimed or self.read.time(view.get("indexedAt"), f"{where}.indexedAt")


def _author(read: FieldReader, value: Any, where: str) -> Author | None:
    if value is None:
        return None
    author = read.obj(value, where)
    return Author(
        read.nonempty_string(author.get("did"), f"{where}.did"),
        read.opt_string(author.get("handle"), f"{where}.handle"),
        read.opt_string(author.get("displayName"), f"{where}.displayName"),
    )


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
