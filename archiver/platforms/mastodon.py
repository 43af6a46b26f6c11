"""Mastodon (and compatible servers): an account's statuses and the conversations under them.

The base URL is the account's instance (``https://mastodon.social`` by default; a department on
another instance configures its own). Endpoints:

``statuses``  ``GET /api/v1/accounts/:id/statuses?limit=40``: the account's statuses newest first,
              its replies and reblogs included. Paged by the ``Link`` header: ``rel="next"`` names
              a URL with ``max_id``; the parser takes the ``max_id`` out of it and builds the next
              request itself, so no absolute URL is ever followed. The LISTING endpoint.
``context``   ``GET /api/v1/statuses/:id/context``: ``ancestors`` (oldest first) and
              ``descendants`` (the replies, in thread order, each with ``in_reply_to_id`` as its
              parent). Asked for every listed status with ``replies_count > 0``; not paged.
``status``    ``GET /api/v1/statuses/:id``: one status (to re-check a single record).

Records: a status is kind "post", or "reply" when ``in_reply_to_id`` is set, "repost" when it is a
reblog (``reblog`` not null: created_at is the reblog's time, the text and media the reblogged
status's; the reblogged status itself becomes a record too, and ``Page.extra["references"]``
maps the repost to it), "quote" for a Mastodon 4.4+ quote post. A reblogged or quoted status can
be older than the timeline's position, so a statuses page names its own statuses, in order, in
``Page.listed`` (record id, created_at): an incremental harvest judges where it is by those. Replies in a context get the thread's root when the response shows it: the first
ancestor if it replies to nothing, else the requested status when it has no ancestors.

Text: ``content`` is HTML. It becomes plain text with ``html_to_text`` (stdlib ``html.parser``):
tags stripped, entities decoded, ``<br>`` a line break, paragraphs separated by a blank line,
and the ``invisible`` spans of shortened links kept, so links come out whole. A content warning
(``spoiler_text``) comes first, followed by a blank line. ``edited_at`` becomes ``Post.edited_at``.

Credential: a bearer access token (``AUTH``) with the ``read:statuses`` scope. With a token, a
context returns up to 4,096 descendants; without one, Mastodon 4 cuts it to 60 and 20 levels.

Rate limits: 300 requests per 5 minutes per token (``X-RateLimit-Limit``, ``-Remaining``,
``-Reset`` as an ISO time). https://docs.joinmastodon.org/api/rate-limits/

Quirks, with the payload files that show them (``realdata/mastodon/``):

- ``Link`` carries both ``rel="next"`` (``max_id``) and ``rel="prev"`` (``min_id``), and the next
  link appears only while pages come back full (``cassette_account_statuses_link_pagination.yaml``).
- Ids are 18-digit strings of a 48-bit millisecond time and 16 sequence bits
  (``117020580518794573``, ``account_statuses_page1.json``); they sort by time.
- A DELETE answers with the status's source ``text`` and no ``content`` (same cassette).
- The context of a reply shows its ancestors too (``status_context_mastodon_social.json``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, NoReturn
from urllib.parse import parse_qs, urlsplit

from archiver.errors import PageParseError
from archiver.model import ApiRequest, Author, Media, MediaKind, Page, Post, PostKind, RecordId
from archiver.platforms import AccountRef, Auth, header, load_json
from archiver.platforms.fields import STRUCTURE_ERRORS, FieldReader
from archiver.platforms.text import html_to_text

__all__ = ["NAME", "AUTH", "DEFAULT_BASE_URL", "LISTING_ENDPOINTS", "first_requests", "parse_page", "html_to_text"]

NAME = "mastodon"
AUTH = Auth("bearer")
DEFAULT_BASE_URL = "https://mastodon.social"
LISTING_ENDPOINTS = frozenset({"statuses"})

#: the largest page the statuses endpoint serves
MAX_STATUSES = 40

_MEDIA_KINDS: dict[str, MediaKind] = {"image": "image", "video": "video", "gifv": "gif", "audio": "audio"}
_LINK = re.compile(r'<([^>]*)>\s*((?:;\s*[^;,]+)*)')


def first_requests(account: AccountRef) -> list[ApiRequest]:
    return [statuses_request(account.native_id)]


def statuses_request(account_id: str, max_id: str | None = None) -> ApiRequest:
    params: tuple[tuple[str, str], ...] = (("limit", str(MAX_STATUSES)),)
    if max_id is not None:
        params += (("max_id", max_id),)
    return ApiRequest("statuses", f"/api/v1/accounts/{account_id}/statuses", params, target=account_id)


def context_request(status_id: str) -> ApiRequest:
    return ApiRequest("context", f"/api/v1/statuses/{status_id}/context", (), target=status_id)


def parse_page(request: ApiRequest, body: bytes, headers: Mapping[str, str]) -> Page:
    data = load_json(body, request, NAME)
    read = FieldReader(NAME, request, "the instance's API differs from Mastodon's")
    try:
        if isinstance(data, dict) and "error" in data and isinstance(data["error"], str):
            _api_error(request, data)
        if request.endpoint == "statuses":
            return _parse_statuses(read, data, headers)
        if request.endpoint == "context":
            return _parse_context(read, data)
        if request.endpoint == "status":
            page = _Collector(read)
            page.status(read.obj(data, "the body"), "the body")
            return page.page()
        raise read.fail("the request", f"no parser for endpoint {request.endpoint!r} (known: context, status, statuses)")
    except PageParseError:
        raise
    except STRUCTURE_ERRORS as exc:
        raise read.unexpected(exc)


def _parse_statuses(read: FieldReader, data: Any, headers: Mapping[str, str]) -> Page:
    statuses = read.array(data, "the body")
    page = _Collector(read)
    for n, raw in enumerate(statuses):
        status = read.obj(raw, f"[{n}]")
        post = page.status(status, f"[{n}]")
        page.listed.append((post.record_id, post.created_at))
        if post.kind != "repost" and (post.reply_count or 0) > 0:
            # replies live under the status; a reblog's replies belong to someone else's conversation
            page.follow_ups.append(context_request(post.record_id.native_id))
    next_request = None
    request = read.request
    max_id = _next_max_id(header(headers, "link"))
    if statuses and max_id is not None and max_id != _param(request, "max_id"):
        params = tuple((k, v) for k, v in request.params if k not in ("max_id", "min_id", "since_id")) + (("max_id", max_id),)
        next_request = ApiRequest(request.endpoint, request.path, params, request.target)
    return page.page(next_request)


def _parse_context(read: FieldReader, data: Any) -> Page:
    context = read.obj(data, "the body")
    ancestors = read.array(context.get("ancestors"), "ancestors")
    descendants = read.array(context.get("descendants"), "descendants")
    root: str | None = read.request.target or None
    if ancestors:
        first = read.obj(ancestors[0], "ancestors[0]")
        # the chain is whole only if the first ancestor replies to nothing (Mastodon caps it at 40)
        root = read.nonempty_string(first.get("id"), "ancestors[0].id") if first.get("in_reply_to_id") is None else None
    page = _Collector(read)
    for name, statuses in (("ancestors", ancestors), ("descendants", descendants)):
        for n, raw in enumerate(statuses):
            page.status(read.obj(raw, f"{name}[{n}]"), f"{name}[{n}]", root=root)
    return page.page()


class _Collector:
    """The records of one page, each id once, with the repost and quote references."""

    def __init__(self, read: FieldReader) -> None:
        self.read = read
        self.posts: dict[RecordId, Post] = {}
        self.follow_ups: list[ApiRequest] = []
        self.references: dict[str, str] = {}
        self.listed: list[tuple[RecordId, datetime | None]] = []

    def page(self, next_request: ApiRequest | None = None) -> Page:
        extra: dict[str, Any] = {"references": self.references} if self.references else {}
        return Page(
            posts=tuple(self.posts.values()),
            next=next_request,
            follow_ups=tuple(self.follow_ups),
            listed=tuple(self.listed),
            extra=extra,
        )

    def add(self, post: Post) -> Post:
        self.posts.setdefault(post.record_id, post)
        return post

    def status(self, status: dict[str, Any], where: str, *, root: str | None = None) -> Post:
        read = self.read
        reblog = status.get("reblog")
        if reblog is not None:
            # the repost first, in the listing's order, then the status it reblogged
            inner = _Collector(read)
            original = inner.status(read.obj(reblog, f"{where}.reblog"), f"{where}.reblog")
            post = self.add(_status(read, status, where, kind="repost", content_from=original))
            for record in inner.posts.values():
                self.add(record)
            self.references.update(inner.references)
            self.references[str(post.record_id)] = str(original.record_id)
            return post
        kind: PostKind = "reply" if status.get("in_reply_to_id") is not None else "post"
        quote = status.get("quote")
        if isinstance(quote, dict) and isinstance(quote.get("quoted_status"), dict):
            # a quote that is also a reply stays a reply: its place in the thread matters more
            post = self.add(_status(read, status, where, kind="quote" if kind == "post" else kind, root=root))
            quoted = self.status(quote["quoted_status"], f"{where}.quote.quoted_status")
            self.references[str(post.record_id)] = str(quoted.record_id)
            return post
        return self.add(_status(read, status, where, kind=kind, root=root))


def _status(read: FieldReader, status: dict[str, Any], where: str, *, kind: PostKind, root: str | None = None, content_from: Post | None = None) -> Post:
    status_id = read.nonempty_string(status.get("id"), f"{where}.id")
    account = read.obj(status.get("account"), f"{where}.account")
    parent = read.opt_string(status.get("in_reply_to_id"), f"{where}.in_reply_to_id")
    root_id = None
    if parent is not None and root is not None and root != status_id:
        root_id = RecordId(NAME, root)
    if content_from is not None:
        text, media, language = content_from.text, content_from.media, content_from.language
        url = content_from.url
    else:
        text = _status_text(read, status, where)
        media = tuple(_media(read, read.obj(m, f"{where}.media_attachments[{n}]"), f"{where}.media_attachments[{n}]")
                      for n, m in enumerate(read.array(status.get("media_attachments", []), f"{where}.media_attachments")))
        language = read.opt_string(status.get("language"), f"{where}.language")
        url = read.opt_string(status.get("url"), f"{where}.url") or read.opt_string(status.get("uri"), f"{where}.uri")
    counters = tuple(
        (name, value)
        for name, key in (("reblogs", "reblogs_count"), ("favourites", "favourites_count"), ("quotes", "quotes_count"))
        if (value := read.opt_int(status.get(key), f"{where}.{key}")) is not None
    )
    return Post(
        record_id=RecordId(NAME, status_id),
        kind=kind,
        author=Author(
            read.nonempty_string(account.get("id"), f"{where}.account.id"),
            read.opt_string(account.get("acct"), f"{where}.account.acct"),
            read.opt_string(account.get("display_name"), f"{where}.account.display_name"),
        ),
        created_at=read.time(status.get("created_at"), f"{where}.created_at"),
        text=text,
        parent_id=RecordId(NAME, parent) if parent else None,
        root_id=root_id,
        url=url,
        language=language,
        media=media,
        edited_at=read.time(status.get("edited_at"), f"{where}.edited_at"),
        reply_count=read.opt_int(status.get("replies_count"), f"{where}.replies_count"),
        counters=counters,
    )


def _status_text(read: FieldReader, status: dict[str, Any], where: str) -> str:
    content = read.opt_string(status.get("content"), f"{where}.content")
    # a DELETE (and an edit's source) carries the plain source ``text`` instead of ``content``
    text = html_to_text(content) if content is not None else (read.opt_string(status.get("text"), f"{where}.text") or "")
    spoiler = read.opt_string(status.get("spoiler_text"), f"{where}.spoiler_text")
    return f"{spoiler}\n\n{text}" if spoiler else text


def _media(read: FieldReader, item: dict[str, Any], where: str) -> Media:
    kind = _MEDIA_KINDS.get(read.opt_string(item.get("type"), f"{where}.type") or "", "other")
    duration_ms = None
    meta = item.get("meta")
    if isinstance(meta, dict) and isinstance(meta.get("original"), dict):
        seconds = meta["original"].get("duration")
        if isinstance(seconds, (int, float)) and not isinstance(seconds, bool) and 0 <= seconds < 1e9:
            duration_ms = int(round(seconds * 1000))
    return Media(
        kind=kind,
        url=read.opt_string(item.get("url"), f"{where}.url") or read.opt_string(item.get("remote_url"), f"{where}.remote_url"),
        native_id=read.opt_string(item.get("id"), f"{where}.id"),
        preview_url=read.opt_string(item.get("preview_url"), f"{where}.preview_url"),
        alt_text=read.opt_string(item.get("description"), f"{where}.description"),
        duration_ms=duration_ms,
    )


# -- paging and errors ---------------------------------------------------------------------------


def _next_max_id(link: str | None) -> str | None:
    """The ``max_id`` of the ``rel="next"`` URL in a ``Link`` header (RFC 8288)."""
    if not link:
        return None
    for match in _LINK.finditer(link):
        url, params = match.group(1), match.group(2)
        rels = re.findall(r'rel\s*=\s*"?([^";]+)"?', params)
        if any("next" in rel.split() for rel in rels):
            values = parse_qs(urlsplit(url).query).get("max_id")
            return values[0] if values else None
    return None


def _param(request: ApiRequest, name: str) -> str | None:
    return next((v for k, v in request.params if k == name), None)


def _api_error(request: ApiRequest, data: dict[str, Any]) -> NoReturn:
    message = str(data["error"])
    description = data.get("error_description")
    raise PageParseError(
        f"{NAME} {request.endpoint} {request.path}: the instance answered with an error object instead of a page: "
        f"{message!r}{f' ({description})' if description else ''}. Check the access token and the account id on this "
        "instance, then run the harvest again.",
        url=request.path,
    )
