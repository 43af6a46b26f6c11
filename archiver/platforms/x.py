"""X (formerly Twitter) API v2: an account's timeline and the conversations under its posts.

Endpoints
    ``GET /2/users/:id/tweets`` (endpoint ``timeline``, newest first, the listing): 100 posts per
    call with the authors, media and referenced posts expanded; paged by ``meta.next_token``
    sent back as ``pagination_token``.

    ``GET /2/tweets/search/recent`` (endpoint ``replies``, ``SEARCH_PATH``): the replies of the
    timeline posts that have any (``public_metrics.reply_count`` > 0), found with
    ``query=conversation_id:A OR conversation_id:B ...``. The conversations of one timeline page
    are packed into as few queries as the 512-character query limit allows (13 of today's
    19-digit ids), and no query is expected to return more than a page of 100; paged by
    ``meta.next_token`` sent back as ``next_token``.

Credential
    An app bearer token, sent as ``Authorization: Bearer ...``.

Rate limits
    Per 15-minute window and per access tier; the ``x-rate-limit-limit``, ``-remaining`` and
    ``-reset`` headers say where a harvest stands (``cassette_users_tweets.yaml`` shows 1,500
    timeline calls per window for an app).

Quirks (the real payloads that show them are in the shared ``realdata/x`` folder)
    - The timeline reaches back only to the 3,200 most recent posts of an account. The last
      timeline page of an account that reports more posts than that gets a ``limit_note``;
      older posts can only be found with full-archive search.
    - ``/2/tweets/search/recent`` covers the last 7 days only. With full-archive access set
      ``SEARCH_PATH`` to ``FULL_ARCHIVE_SEARCH_PATH`` (``/2/tweets/search/all``,
      ``search_all_page_indic_text.json``) to reach older replies.
    - An edit creates a new post id: the page shows the newest version, whose ``created_at``
      is the time of the edit, and ``edit_history_tweet_ids`` lists every version, oldest
      first (``cassette_users_tweets.yaml``). A record's identity is the first id of that
      list; its creation time is read from that id (a snowflake id carries its millisecond
      timestamp), and ``edited_at`` is the newest version's ``created_at``.
    - A 200 page can carry ``errors`` for posts and users it could not expand: a deleted
      reply parent (``users_tweets_page_expansions_next_token.json``) or a suspended user
      (``search_all_page_indic_text.json``). They become ``Page.missing``.
    - Reposts carry ``public_metrics`` of their own, with ``reply_count`` 0
      (``users_tweets_page_expansions_next_token.json``).
    - Media keys may be listed in ``attachments`` with no entry in ``includes.media``
      (``search_all_page_indic_text.json``); videos have no ``url``, only ``variants`` (and
      2021 recordings have neither).
    - An empty page is ``{"meta": {"result_count": 0}}``, with no ``data``.
    - Pages recorded by twarc carry its own ``__twarc`` key, which is ignored.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from archiver.errors import PageParseError
from archiver.model import ApiRequest, Author, Media, MediaKind, Page, Post, PostKind, RecordId
from archiver.platforms import AccountRef, Auth, load_json
from archiver.platforms.fields import FOUND, FieldReader

__all__ = [
    "NAME",
    "AUTH",
    "DEFAULT_BASE_URL",
    "LISTING_ENDPOINTS",
    "SEARCH_PATH",
    "FULL_ARCHIVE_SEARCH_PATH",
    "first_requests",
    "parse_page",
    "reply_requests",
    "snowflake_time",
    "minimum_calls",
]

NAME = "x"
AUTH = Auth("bearer")
DEFAULT_BASE_URL = "https://api.x.com"

TIMELINE = "timeline"
REPLIES = "replies"
LISTING_ENDPOINTS = frozenset({TIMELINE})

#: where conversations are searched: recent search (7 days) works with every paid tier
SEARCH_PATH = "/2/tweets/search/recent"
#: the full-archive search, for accounts with that access
FULL_ARCHIVE_SEARCH_PATH = "/2/tweets/search/all"

PAGE_SIZE = 100
#: the longest search query the recent-search endpoint accepts
QUERY_MAX_CHARS = 512
#: X lists only this many of an account's most recent posts in its timeline
TIMELINE_CAP = 3200
#: the instant snowflake ids count their milliseconds from (2010-11-04T01:42:54.657Z)
TWEPOCH_MS = 1288834974657

_EXPANSIONS = ",".join(
    [
        "author_id",
        "attachments.media_keys",
        "referenced_tweets.id",
        "referenced_tweets.id.author_id",
        "in_reply_to_user_id",
    ]
)
_TWEET_FIELDS = ",".join(
    [
        "created_at",
        "author_id",
        "conversation_id",
        "in_reply_to_user_id",
        "referenced_tweets",
        "public_metrics",
        "lang",
        "entities",
        "attachments",
        "edit_history_tweet_ids",
        "edit_controls",
        "note_tweet",
    ]
)
_USER_FIELDS = "created_at,name,username,public_metrics,verified,protected"
_MEDIA_FIELDS = "url,preview_image_url,duration_ms,alt_text,type,variants,width,height"
_FIELD_PARAMS: tuple[tuple[str, str], ...] = (
    ("expansions", _EXPANSIONS),
    ("tweet.fields", _TWEET_FIELDS),
    ("user.fields", _USER_FIELDS),
    ("media.fields", _MEDIA_FIELDS),
)
_MEDIA_KINDS: dict[str, MediaKind] = {"photo": "image", "video": "video", "animated_gif": "gif"}
#: the media key prefixes X uses: 3 photo, 7 and 13 video, 16 animated GIF
_MEDIA_KEY_KINDS: dict[str, MediaKind] = {"3": "image", "7": "video", "13": "video", "16": "gif"}
_COUNTERS = (
    ("like_count", "likes"),
    ("retweet_count", "reposts"),
    ("quote_count", "quotes"),
    ("bookmark_count", "bookmarks"),
    ("impression_count", "views"),
)


def first_requests(account: AccountRef) -> list[ApiRequest]:
    """The account's timeline, newest first, 100 posts a call with everything expanded."""
    return [
        ApiRequest(
            endpoint=TIMELINE,
            path=f"/2/users/{account.native_id}/tweets",
            params=(("max_results", str(PAGE_SIZE)), *_FIELD_PARAMS),
            target=account.native_id,
        )
    ]


def reply_requests(conversations: Iterable[tuple[str, int]]) -> list[ApiRequest]:
    """Search calls for the replies of ``(conversation_id, expected_results)`` pairs.

    The conversations are spread over as few queries as possible such that each query fits
    ``QUERY_MAX_CHARS`` and, where it can, its expected results fit one page of ``PAGE_SIZE``:
    so each query is usually answered by one call.

    >>> [r.params[0] for r in reply_requests([("11", 3), ("12", 1)])]
    [('query', 'conversation_id:11 OR conversation_id:12')]
    """
    wanted = dict(conversations)
    if not wanted:
        return []
    # largest first; each goes to the least-filled query with room (balanced, so a query
    # rarely needs a second page)
    ordered = sorted(wanted.items(), key=lambda pair: -pair[1])
    chars = {c: len("conversation_id:") + len(c) + 4 for c in wanted}  # " OR " joins terms
    low = max(
        math.ceil(sum(chars.values()) / (QUERY_MAX_CHARS + 4)),
        math.ceil(sum(wanted.values()) / PAGE_SIZE),
    )
    for count in range(max(1, low), len(ordered) + 1):
        batches = _spread(ordered, chars, count)
        if batches is not None:
            break
    else:  # pragma: no cover - one conversation per query always fits
        batches = [[c] for c, _ in ordered]
    first_seen = list(wanted)
    return [
        ApiRequest(
            endpoint=REPLIES,
            path=SEARCH_PATH,
            params=(
                ("query", " OR ".join(f"conversation_id:{c}" for c in ids)),
                ("max_results", str(PAGE_SIZE)),
                *_FIELD_PARAMS,
            ),
            target=",".join(ids),
        )
        for ids in sorted((sorted(b, key=first_seen.index) for b in batches), key=lambda b: first_seen.index(b[0]))
    ]


def _spread(ordered: list[tuple[str, int]], chars: Mapping[str, int], count: int) -> list[list[str]] | None:
    """Put the conversations into ``count`` queries, or None when they do not fit."""
    batches: list[list[str]] = [[] for _ in range(count)]
    used = [0] * count  # characters, counting a trailing " OR "
    expected = [0] * count
    for conversation, size in ordered:
        best = None
        for n in range(count):
            if used[n] + chars[conversation] > QUERY_MAX_CHARS + 4:
                continue
            if batches[n] and expected[n] + size > PAGE_SIZE:
                continue
            if best is None or (expected[n], len(batches[n])) < (expected[best], len(batches[best])):
                best = n
        if best is None:
            return None
        batches[best].append(conversation)
        used[best] += chars[conversation]
        expected[best] += size
    return [b for b in batches if b]


def minimum_calls(posts: int, replies: int, conversations_per_page: Iterable[int]) -> int:
    """The fewest calls a complete harvest of an account can make (for tests and benchmarks).

    ``ceil(posts / 100)`` timeline calls, plus the searches: at least ``ceil(replies / 100)``,
    and at least ``ceil(c / 13)`` for each timeline page listing ``c`` conversations with
    replies, because a 512-character query holds 13 conversation ids and the ids are only
    known page by page.
    """
    per_query = (QUERY_MAX_CHARS + 4) // (len("conversation_id:") + 19 + 4)
    by_length = sum(math.ceil(c / per_query) for c in conversations_per_page)
    return math.ceil(posts / PAGE_SIZE) + max(math.ceil(replies / PAGE_SIZE), by_length)


def snowflake_time(native_id: str) -> datetime | None:
    """The creation instant a snowflake id carries, or None for an id that is not one.

    >>> snowflake_time("1577730467436138524").isoformat()
    '2022-10-05T18:40:30.908000+00:00'
    """
    if not native_id.isdigit() or len(native_id) < 15:
        return None  # ids from before November 2010 carry no time
    ms = (int(native_id) >> 22) + TWEPOCH_MS
    try:
        return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(milliseconds=ms)
    except OverflowError:
        return None  # not an id X could have given


def parse_page(request: ApiRequest, body: bytes, headers: Mapping[str, str]) -> Page:
    """Turn one timeline or search page into records, its next page and its reply searches."""
    payload = load_json(body, request, NAME)
    read = _reader(request)
    if not isinstance(payload, dict):
        raise read.fail("", f"the page is a JSON {type(payload).__name__}, not an object")
    if "data" not in payload and "meta" not in payload:
        raise _api_error(payload, request)
    includes = read.obj(payload.get("includes", {}), "includes")
    users = _index(read, includes.get("users", []), "includes.users", "id")
    media = _index(read, includes.get("media", []), "includes.media", "media_key")
    listed = read.array(payload.get("data", []), "data")
    referenced = read.array(includes.get("tweets", []), "includes.tweets")
    originals = _edit_history(read, listed, "data") | _edit_history(read, referenced, "includes.tweets")
    posts: list[Post] = []
    conversations: dict[str, int] = {}
    for i, value in enumerate(listed):
        where = f"data[{i}]"
        raw = read.obj(value, where)
        post = _post(read, raw, where, users, media, originals)
        posts.append(post)
        if request.endpoint == TIMELINE and post.reply_count:
            conversation = read.opt_string(raw.get("conversation_id"), f"{where}.conversation_id") or post.record_id.native_id
            # one call returns the root and its replies; count both against the page size
            conversations[conversation] = min(PAGE_SIZE, conversations.get(conversation, 0) + post.reply_count + 1)
    meta = read.obj(payload.get("meta", {}), "meta")
    next_token = read.opt_string(meta.get("next_token"), "meta.next_token")
    next_request = None
    if next_token:
        token_param = "pagination_token" if request.endpoint == TIMELINE else "next_token"
        next_request = _with_param(request, token_param, next_token)
    limit_note = None
    if request.endpoint == TIMELINE and next_request is None:
        limit_note = _cap_note(read, users.get(request.target))
    return Page(
        posts=tuple(posts),
        next=next_request,
        follow_ups=tuple(reply_requests(conversations.items())) if conversations else (),
        missing=_missing(read, payload.get("errors", [])),
        limit_note=limit_note,
    )


# -- records -------------------------------------------------------------------------------


def _post(
    read: FieldReader,
    raw: dict[str, Any],
    where: str,
    users: Mapping[str, dict[str, Any]],
    media: Mapping[str, dict[str, Any]],
    originals: Mapping[str, str],
) -> Post:
    version_id = read.string(raw.get("id"), f"{where}.id")
    history = [read.string(v, f"{where}.edit_history_tweet_ids[{n}]") for n, v in enumerate(read.array(raw.get("edit_history_tweet_ids", []), f"{where}.edit_history_tweet_ids"))]
    native_id = history[0] if history else version_id
    version_at = read.time(raw.get("created_at"), f"{where}.created_at")
    created_at, edited_at = version_at, None
    if len(history) > 1:
        # the page shows the newest version: its created_at is when the edit was made
        created_at, edited_at = snowflake_time(native_id), version_at
    elif created_at is None:
        created_at = snowflake_time(native_id)  # created_at not asked for: the id carries it
    note = raw.get("note_tweet")
    text = read.string(raw.get("text"), f"{where}.text")
    if isinstance(note, dict) and isinstance(note.get("text"), str):
        text = note["text"]  # posts over 280 characters arrive cut, with the whole text here
    kind: PostKind = "post"
    parent = None
    for n, value in enumerate(read.array(raw.get("referenced_tweets", []), f"{where}.referenced_tweets")):
        ref = read.obj(value, f"{where}.referenced_tweets[{n}]")
        ref_type = read.string(ref.get("type"), f"{where}.referenced_tweets[{n}].type")
        ref_id = read.string(ref.get("id"), f"{where}.referenced_tweets[{n}].id")
        if ref_type == "replied_to":
            kind, parent = "reply", originals.get(ref_id, ref_id)
        elif ref_type == "quoted" and kind == "post":
            kind = "quote"
        elif ref_type == "retweeted":
            kind = "repost"
    root = None
    if kind == "reply":
        conversation = read.opt_string(raw.get("conversation_id"), f"{where}.conversation_id")
        root = originals.get(conversation, conversation) if conversation else None
    author_id = read.opt_string(raw.get("author_id"), f"{where}.author_id")
    author = None
    if author_id is not None:
        user = users.get(author_id, {})
        author = Author(
            native_id=author_id,
            handle=read.opt_string(user.get("username"), f"includes.users[{author_id}].username"),
            display_name=read.opt_string(user.get("name"), f"includes.users[{author_id}].name"),
        )
    handle = author.handle if author and author.handle else None
    metrics = read.obj(raw.get("public_metrics", {}), f"{where}.public_metrics")
    counters = tuple(
        (label, count)
        for key, label in _COUNTERS
        if (count := read.opt_int(metrics.get(key), f"{where}.public_metrics.{key}")) is not None
    )
    attachments = read.obj(raw.get("attachments", {}), f"{where}.attachments")
    keys = read.array(attachments.get("media_keys", []), f"{where}.attachments.media_keys")
    return Post(
        record_id=RecordId(NAME, native_id),
        kind=kind,
        author=author,
        created_at=created_at,
        text=text,
        parent_id=RecordId(NAME, parent) if parent else None,
        root_id=RecordId(NAME, root) if root else None,
        url=f"https://x.com/{handle}/status/{version_id}" if handle else f"https://x.com/i/web/status/{version_id}",
        language=read.opt_string(raw.get("lang"), f"{where}.lang"),
        media=tuple(_media(read, read.string(k, f"{where}.attachments.media_keys[{n}]"), media) for n, k in enumerate(keys)),
        edited_at=edited_at,
        reply_count=read.opt_int(metrics.get("reply_count"), f"{where}.public_metrics.reply_count"),
        counters=counters,
    )


def _media(read: FieldReader, key: str, media: Mapping[str, dict[str, Any]]) -> Media:
    raw = media.get(key)
    if raw is None:
        # listed in attachments but not expanded (withheld or removed): keep the key
        return Media(kind=_MEDIA_KEY_KINDS.get(key.partition("_")[0], "other"), url=None, native_id=key)
    where = f"includes.media[{key}]"
    kind = _MEDIA_KINDS.get(read.string(raw.get("type"), f"{where}.type"), "other")
    url = read.opt_string(raw.get("url"), f"{where}.url")
    if kind in ("video", "gif"):
        best: tuple[int, str] | None = None
        for n, value in enumerate(read.array(raw.get("variants", []), f"{where}.variants")):
            variant = read.obj(value, f"{where}.variants[{n}]")
            if variant.get("content_type") != "video/mp4":
                continue  # the HLS playlist is not a file that can be kept
            rate = read.opt_int(variant.get("bit_rate"), f"{where}.variants[{n}].bit_rate") or 0
            candidate = (rate, read.string(variant.get("url"), f"{where}.variants[{n}].url"))
            best = candidate if best is None or candidate[0] > best[0] else best
        url = best[1] if best else url
    return Media(
        kind=kind,
        url=url,
        native_id=key,
        preview_url=read.opt_string(raw.get("preview_image_url"), f"{where}.preview_image_url"),
        alt_text=read.opt_string(raw.get("alt_text"), f"{where}.alt_text"),
        duration_ms=read.opt_int(raw.get("duration_ms"), f"{where}.duration_ms"),
    )


def _edit_history(read: FieldReader, listed: list[Any], where: str) -> dict[str, str]:
    """Every version id of the page's posts, mapped to the post's first id."""
    originals: dict[str, str] = {}
    for i, value in enumerate(listed):
        raw = read.obj(value, f"{where}[{i}]")
        history = read.array(raw.get("edit_history_tweet_ids", []), f"{where}[{i}].edit_history_tweet_ids")
        ids = [read.string(v, f"{where}[{i}].edit_history_tweet_ids[{n}]") for n, v in enumerate(history)]
        for version in ids:
            originals[version] = ids[0]
    return originals


def _index(read: FieldReader, value: Any, where: str, key: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for i, raw in enumerate(read.array(value, where)):
        entry = read.obj(raw, f"{where}[{i}]")
        out[read.string(entry.get(key), f"{where}[{i}].{key}")] = entry
    return out


def _missing(read: FieldReader, value: Any) -> tuple[tuple[str, str], ...]:
    """``errors`` of a 200 page: posts (by id) and others (``user:name``) it could not show."""
    out: list[tuple[str, str]] = []
    for i, raw in enumerate(read.array(value, "errors")):
        error = read.obj(raw, f"errors[{i}]")
        resource = read.opt_string(error.get("resource_id"), f"errors[{i}].resource_id") or read.opt_string(error.get("value"), f"errors[{i}].value")
        if resource is None:
            continue
        kind = read.opt_string(error.get("resource_type"), f"errors[{i}].resource_type") or "tweet"
        title = read.opt_string(error.get("title"), f"errors[{i}].title") or "Error"
        detail = read.opt_string(error.get("detail"), f"errors[{i}].detail") or ""
        out.append((resource if kind == "tweet" else f"{kind}:{resource}", f"{title}: {detail}".rstrip(": ")))
    return tuple(out)


def _cap_note(read: FieldReader, user: dict[str, Any] | None) -> str | None:
    if user is None:
        return None
    metrics = read.obj(user.get("public_metrics", {}), "includes.users.public_metrics")
    count = read.opt_int(metrics.get("tweet_count"), "includes.users.public_metrics.tweet_count")
    if count is None or count <= TIMELINE_CAP:
        return None
    return (
        f"X lists only the {TIMELINE_CAP:,} most recent posts of a timeline; this account reports "
        f"{count:,} posts, so older ones may be missing from this harvest. Reach them with "
        f"full-archive search ({FULL_ARCHIVE_SEARCH_PATH}) or the account's archive export."
    )


def _with_param(request: ApiRequest, name: str, value: str) -> ApiRequest:
    params = tuple(p for p in request.params if p[0] != name) + ((name, value),)
    return ApiRequest(request.endpoint, request.path, params, request.target)


def _api_error(payload: dict[str, Any], request: ApiRequest) -> PageParseError:
    """An X error document (no ``data``, no ``meta``) as a ``PageParseError`` quoting X."""
    parts: list[str] = []
    for key in ("title", "detail"):
        if isinstance(payload.get(key), str):
            parts.append(payload[key])
    errors = payload.get("errors")
    if isinstance(errors, list):
        for error in errors[:3]:
            if isinstance(error, dict):
                text = error.get("detail") or error.get("message")
                if isinstance(text, str):
                    parts.append(text)
    if not parts:
        return _reader(request).fail("", "the page has neither data nor meta")
    said = "; ".join(dict.fromkeys(parts))
    return PageParseError(
        f"x {request.endpoint} {request.path}: X answered with an error instead of a page: {said}. "
        "Check that the account id and the bearer token are right, then run the harvest again.",
        url=request.path,
    )


def _reader(request: ApiRequest) -> FieldReader:
    return FieldReader(NAME, request, "X API v2", wording=FOUND)
