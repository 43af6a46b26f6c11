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
from html.parser import HTMLParser
from typing import Any, NoReturn
from urllib.parse import parse_qs, urlsplit

from archiver.errors import PageParseError
from archiver.model import ApiRequest, Author, Media, MediaKind, Page, Post, PostKind, RecordId
from archiver.platforms import AccountRef, Auth, header, load_json, parse_time

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
    try:
        if isinstance(data, dict) and "error" in data and isinstance(data["error"], str):
            _api_error(request, data)
        if request.endpoint == "statuses":
            return _parse_statuses(request, data, headers)
        if request.endpoint == "context":
            return _parse_context(request, data)
        if request.endpoint == "status":
            page = _Collector(request)
            page.status(_obj(data, request, "the body"), "the body")
            return page.page()
        _fail(request, "the request", f"no parser for endpoint {request.endpoint!r} (known: context, status, statuses)")
    except PageParseError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError, RecursionError) as exc:
        _fail(request, "the body", f"unexpected structure ({type(exc).__name__}: {exc})")


def _parse_statuses(request: ApiRequest, data: Any, headers: Mapping[str, str]) -> Page:
    statuses = _list(data, request, "the body")
    page = _Collector(request)
    for n, raw in enumerate(statuses):
        status = _obj(raw, request, f"[{n}]")
        post = page.status(status, f"[{n}]")
        page.listed.append((post.record_id, post.created_at))
        if post.kind != "repost" and (post.reply_count or 0) > 0:
            # replies live under the status; a reblog's replies belong to someone else's conversation
            page.follow_ups.append(context_request(post.record_id.native_id))
    next_request = None
    max_id = _next_max_id(header(headers, "link"))
    if statuses and max_id is not None and max_id != _param(request, "max_id"):
        params = tuple((k, v) for k, v in request.params if k not in ("max_id", "min_id", "since_id")) + (("max_id", max_id),)
        next_request = ApiRequest(request.endpoint, request.path, params, request.target)
    return page.page(next_request)


def _parse_context(request: ApiRequest, data: Any) -> Page:
    context = _obj(data, request, "the body")
    ancestors = _list(context.get("ancestors"), request, "ancestors")
    descendants = _list(context.get("descendants"), request, "descendants")
    root: str | None = request.target or None
    if ancestors:
        first = _obj(ancestors[0], request, "ancestors[0]")
        # the chain is whole only if the first ancestor replies to nothing (Mastodon caps it at 40)
        root = _str(first, "id", request, "ancestors[0]") if first.get("in_reply_to_id") is None else None
    page = _Collector(request)
    for name, statuses in (("ancestors", ancestors), ("descendants", descendants)):
        for n, raw in enumerate(statuses):
            page.status(_obj(raw, request, f"{name}[{n}]"), f"{name}[{n}]", root=root)
    return page.page()


class _Collector:
    """The records of one page, each id once, with the repost and quote references."""

    def __init__(self, request: ApiRequest) -> None:
        self.request = request
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
        request = self.request
        reblog = status.get("reblog")
        if reblog is not None:
            # the repost first, in the listing's order, then the status it reblogged
            inner = _Collector(request)
            original = inner.status(_obj(reblog, request, f"{where}.reblog"), f"{where}.reblog")
            post = self.add(_status(request, status, where, kind="repost", content_from=original))
            for record in inner.posts.values():
                self.add(record)
            self.references.update(inner.references)
            self.references[str(post.record_id)] = str(original.record_id)
            return post
        kind: PostKind = "reply" if status.get("in_reply_to_id") is not None else "post"
        quote = status.get("quote")
        if isinstance(quote, dict) and isinstance(quote.get("quoted_status"), dict):
            # a quote that is also a reply stays a reply: its place in the thread matters more
            post = self.add(_status(request, status, where, kind="quote" if kind == "post" else kind, root=root))
            quoted = self.status(quote["quoted_status"], f"{where}.quote.quoted_status")
            self.references[str(post.record_id)] = str(quoted.record_id)
            return post
        return self.add(_status(request, status, where, kind=kind, root=root))


def _status(request: ApiRequest, status: dict[str, Any], where: str, *, kind: PostKind, root: str | None = None, content_from: Post | None = None) -> Post:
    status_id = _str(status, "id", request, where)
    account = _obj(status.get("account"), request, f"{where}.account")
    parent = _opt_str(status, "in_reply_to_id", request, where)
    root_id = None
    if parent is not None and root is not None and root != status_id:
        root_id = RecordId(NAME, root)
    if content_from is not None:
        text, media, language = content_from.text, content_from.media, content_from.language
        url = content_from.url
    else:
        text = _status_text(request, status, where)
        media = tuple(_media(request, _obj(m, request, f"{where}.media_attachments[{n}]"), f"{where}.media_attachments[{n}]")
                      for n, m in enumerate(_list(status.get("media_attachments", []), request, f"{where}.media_attachments")))
        language = _opt_str(status, "language", request, where)
        url = _opt_str(status, "url", request, where) or _opt_str(status, "uri", request, where)
    counters = tuple(
        (name, value)
        for name, key in (("reblogs", "reblogs_count"), ("favourites", "favourites_count"), ("quotes", "quotes_count"))
        if (value := _opt_int(status, key, request, where)) is not None
    )
    return Post(
        record_id=RecordId(NAME, status_id),
        kind=kind,
        author=Author(
            _str(account, "id", request, f"{where}.account"),
            _opt_str(account, "acct", request, f"{where}.account"),
            _opt_str(account, "display_name", request, f"{where}.account"),
        ),
        created_at=_time(status.get("created_at"), request, f"{where}.created_at"),
        text=text,
        parent_id=RecordId(NAME, parent) if parent else None,
        root_id=root_id,
        url=url,
        language=language,
        media=media,
        edited_at=_time(status.get("edited_at"), request, f"{where}.edited_at"),
        reply_count=_opt_int(status, "replies_count", request, where),
        counters=counters,
    )


def _status_text(request: ApiRequest, status: dict[str, Any], where: str) -> str:
    content = _opt_str(status, "content", request, where)
    # a DELETE (and an edit's source) carries the plain source ``text`` instead of ``content``
    text = html_to_text(content) if content is not None else (_opt_str(status, "text", request, where) or "")
    spoiler = _opt_str(status, "spoiler_text", request, where)
    return f"{spoiler}\n\n{text}" if spoiler else text


def _media(request: ApiRequest, item: dict[str, Any], where: str) -> Media:
    kind = _MEDIA_KINDS.get(_opt_str(item, "type", request, where) or "", "other")
    duration_ms = None
    meta = item.get("meta")
    if isinstance(meta, dict) and isinstance(meta.get("original"), dict):
        seconds = meta["original"].get("duration")
        if isinstance(seconds, (int, float)) and not isinstance(seconds, bool) and 0 <= seconds < 1e9:
            duration_ms = int(round(seconds * 1000))
    return Media(
        kind=kind,
        url=_opt_str(item, "url", request, where) or _opt_str(item, "remote_url", request, where),
        native_id=_opt_str(item, "id", request, where),
        preview_url=_opt_str(item, "preview_url", request, where),
        alt_text=_opt_str(item, "description", request, where),
        duration_ms=duration_ms,
    )


# -- HTML to text ---------------------------------------------------------------------------------


class _TextExtractor(HTMLParser):
    _BLOCKS = frozenset({"p", "blockquote", "pre", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag in self._BLOCKS:
            self._break("\n\n")
        elif tag == "li":
            self._break("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def _break(self, separator: str) -> None:
        if not self.parts:
            return
        text = "".join(self.parts)
        stripped = text.rstrip("\n")
        self.parts = [stripped, separator] if stripped else []


def html_to_text(markup: str) -> str:
    """Plain text of a status's HTML ``content``: tags stripped, entities decoded, breaks kept.

    >>> html_to_text('<p>Water &amp; power</p><p>Call <a href="tel:1070">1070</a><br />today</p>')
    'Water & power\\n\\nCall 1070\\ntoday'
    """
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    return "".join(parser.parts).strip("\n")


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


def _fail(request: ApiRequest, where: str, what: str) -> NoReturn:
    raise PageParseError(
        f"{NAME} {request.endpoint} {request.path}: {what} at {where}. The response is kept in the WARC; "
        "if this repeats, the instance's API differs from Mastodon's: compare the capture with the payloads "
        "named in archiver/platforms/mastodon.py and update its parser.",
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
