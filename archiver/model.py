"""The record types and identifiers shared by every unit.

Dicts from platform payloads become these typed records at the edge (``archiver.platforms``);
only typed records travel inward.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal
from urllib.parse import urlencode

import orjson

__all__ = [
    "PLATFORMS",
    "RecordId",
    "Author",
    "Media",
    "Post",
    "ApiRequest",
    "Page",
    "WarcPointer",
    "canonical_json",
    "content_hash",
    "utc",
]

PLATFORMS = ("x", "facebook", "instagram", "youtube", "mastodon", "bluesky")

PostKind = Literal["post", "reply", "comment", "quote", "repost"]
MediaKind = Literal["image", "video", "gif", "audio", "other"]


@dataclass(frozen=True, slots=True, order=True)
class RecordId:
    """``platform:native_id``, the identity of a post or reply across captures."""

    platform: str
    native_id: str

    def __str__(self) -> str:
        return f"{self.platform}:{self.native_id}"

    @classmethod
    def parse(cls, text: str) -> RecordId:
        platform, sep, native_id = text.partition(":")
        if not sep or not native_id:
            raise ValueError(f"not a record id (platform:native_id): {text!r}")
        return cls(platform, native_id)


@dataclass(frozen=True, slots=True)
class Author:
    native_id: str
    handle: str | None = None
    display_name: str | None = None


@dataclass(frozen=True, slots=True)
class Media:
    """An attachment. ``url`` is where the file itself can be fetched, if the platform says."""

    kind: MediaKind
    url: str | None
    native_id: str | None = None
    preview_url: str | None = None
    alt_text: str | None = None
    duration_ms: int | None = None


@dataclass(frozen=True, slots=True)
class Post:
    """One post, reply or comment as one page of one capture showed it."""

    record_id: RecordId
    kind: PostKind
    author: Author | None
    created_at: datetime | None
    text: str
    parent_id: RecordId | None = None
    root_id: RecordId | None = None
    url: str | None = None
    language: str | None = None
    media: tuple[Media, ...] = ()
    #: set when the platform marks the content as edited (Mastodon ``edited_at``, X edit history)
    edited_at: datetime | None = None
    #: replies the platform says exist, for the coverage statement; None when it does not say
    reply_count: int | None = None
    #: counters that change with every capture (likes, shares, views); not part of the content
    counters: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True, slots=True)
class ApiRequest:
    """One API call to make, without base URL and without credentials.

    ``endpoint`` names the kind of call within the platform ("timeline", "replies", ...);
    ``target`` is what the call is about (an account id, a post id, a comma-joined list).
    The platform module builds these; the HTTP client adds the base URL and credentials.
    """

    endpoint: str
    path: str
    params: tuple[tuple[str, str], ...] = ()
    target: str = ""

    def path_and_query(self) -> str:
        return self.path + ("?" + urlencode(self.params) if self.params else "")

    def to_json(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "path": self.path, "params": [list(p) for p in self.params], "target": self.target}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ApiRequest:
        return cls(
            endpoint=data["endpoint"],
            path=data["path"],
            params=tuple((str(k), str(v)) for k, v in data["params"]),
            target=data.get("target", ""),
        )


@dataclass(frozen=True, slots=True)
class Page:
    """What one response says: its records, where to go next, and what else to fetch.

    ``next`` is the next page of the same endpoint and target (None at the end).
    ``follow_ups`` are further calls this page makes necessary (the replies of its posts,
    comments beyond what a field expansion included, the videos of a playlist page).
    ``total_count`` is what the platform says exists in the whole listing, when it says.
    """

    posts: tuple[Post, ...]
    next: ApiRequest | None = None
    follow_ups: tuple[ApiRequest, ...] = ()
    total_count: int | None = None
    #: platform-reported ids not present as records (X "errors" for deleted or withheld posts)
    missing: tuple[tuple[str, str], ...] = ()
    #: a cap the platform imposes on how far back this listing can go (X's 3,200 posts)
    limit_note: str | None = None
    #: the listing's positions on this page (record id, time) when the page lists records that
    #: arrive through a follow-up (a YouTube playlist page lists videos fetched by ``videos``)
    listed: tuple[tuple[RecordId, datetime | None], ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class WarcPointer:
    """Where one WARC record lives: the triple a reader loads it by."""

    file: str
    offset: int
    length: int

    def __str__(self) -> str:
        return f"{self.file}#{self.offset}+{self.length}"


def canonical_json(value: Any) -> bytes:
    """Sorted keys, compact separators, UTF-8: the bytes every content hash is taken over."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)


def content_hash(value: Any) -> str:
    """SHA-256 hex digest of ``canonical_json(value)``.

    >>> content_hash({"b": 1, "a": "x"}) == content_hash({"a": "x", "b": 1})
    True
    """
    return hashlib.sha256(canonical_json(value)).hexdigest()


def utc(value: datetime) -> datetime:
    """The same instant, timezone-aware in UTC. Naive values are taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)
