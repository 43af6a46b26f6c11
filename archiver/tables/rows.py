"""Turn a captured post into a table row: pure, no I/O.

``version_id`` is the SHA-256 of the canonical content — text, media, kind, thread links, the
edit marker and whether the post is gone — so that a post seen again unchanged gives the same
id, and counters (likes, views), which move with every capture, never make a new version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from archiver.model import Post, WarcPointer, content_hash
from archiver.retention import RecordFacts, RetentionTag, Schedule
from archiver.retention.schedule import IST
from archiver.tables.schema import SCHEMA_VERSION

__all__ = ["Capture", "row_for", "version_id", "text_entities", "tag_row"]

_HASHTAG = re.compile(r"(?<![\w&])#([\w\u0900-\u097F]+)")
_MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9_][A-Za-z0-9_.]*[A-Za-z0-9_]|[A-Za-z0-9_])")
_LINK = re.compile(r"https?://[^\s<>\"')\]]+")


@dataclass(frozen=True, slots=True)
class Capture:
    """Where and when a page was captured: what every row from it shares."""

    account: str  #: platform:native_id of the harvested account
    account_native_id: str
    captured_at: datetime
    pointer: WarcPointer
    warc_record_id: str
    harvest_id: str | None


def _stable_media_key(kind: str, native_id: str | None, url: str | None) -> str:
    # CDN URLs carry signatures that change with every capture: identify media by id, or by the
    # URL without its query string
    if native_id:
        return f"{kind}:{native_id}"
    if url:
        parts = urlsplit(url)
        return f"{kind}:{urlunsplit((parts.scheme, parts.netloc, parts.path, '', ''))}"
    return kind


def version_id(post: Post, *, deleted: bool = False) -> str:
    """SHA-256 of what the post says, not of how it was received or how popular it is."""
    return _version_id(post, str(post.record_id), str(post.parent_id) if post.parent_id else None, deleted)


def _version_id(post: Post, record_id: str, parent_id: str | None, deleted: bool) -> str:
    # the ids as text are passed in by ``row_for``, which needs them too
    return content_hash(
        {
            "record_id": record_id,
            "kind": post.kind,
            "text": post.text,
            "media": [_stable_media_key(m.kind, m.native_id, m.url) for m in post.media],
            "parent_id": parent_id,
            "edited_at": post.edited_at.isoformat() if post.edited_at else None,
            "deleted": deleted,
        }
    )


def text_entities(text: str) -> tuple[list[str], list[str], list[str]]:
    """(mentions, hashtags, links) found in the text, in order, without repeats."""
    # Most texts have none of the three: a substring test is far cheaper than a regex search.
    return (
        list(dict.fromkeys(_MENTION.findall(text))) if "@" in text else [],
        list(dict.fromkeys(_HASHTAG.findall(text))) if "#" in text else [],
        list(dict.fromkeys(_LINK.findall(text))) if "http" in text else [],
    )


def row_for(post: Post, capture: Capture, *, deleted: bool = False, media_pointers: dict[str, tuple[WarcPointer, str]] | None = None) -> dict[str, Any]:
    """The table row of one version of ``post``, captured as ``capture`` says."""
    mentions, hashtags, links = text_entities(post.text)
    pointers = media_pointers or {}
    media = []
    for item in post.media:
        stored = pointers.get(item.url or "")
        media.append(
            {
                "kind": item.kind,
                "url": item.url,
                "native_id": item.native_id,
                "alt_text": item.alt_text,
                "duration_ms": item.duration_ms,
                "warc_file": stored[0].file if stored else None,
                "warc_offset": stored[0].offset if stored else None,
                "warc_length": stored[0].length if stored else None,
                "warc_record_id": stored[1] if stored else None,
            }
        )
    author = post.author
    counters = dict(post.counters)
    record_id = str(post.record_id)
    parent_id = str(post.parent_id) if post.parent_id else None
    return {
        "record_id": record_id,
        "version_id": _version_id(post, record_id, parent_id, deleted),
        "platform": post.record_id.platform,
        "account": capture.account,
        "author_id": author.native_id if author else None,
        "author_handle": author.handle if author else None,
        "author_name": author.display_name if author else None,
        "by_department": bool(author and author.native_id == capture.account_native_id),
        "kind": post.kind,
        "parent_id": parent_id,
        "root_id": str(post.root_id) if post.root_id else None,
        "created_at": post.created_at,
        "captured_at": capture.captured_at,
        "text": post.text,
        "language": post.language,
        "mentions": mentions,
        "hashtags": hashtags,
        "links": links,
        "media": media,
        "url": post.url,
        "counters": list(counters.items()),
        "reply_count": post.reply_count,
        "edited_at": post.edited_at,
        "deleted_on_platform": deleted,
        "deleted_seen_at": capture.captured_at if deleted else None,
        "warc_file": capture.pointer.file,
        "warc_offset": capture.pointer.offset,
        "warc_length": capture.pointer.length,
        "warc_record_id": capture.warc_record_id,
        "harvest_id": capture.harvest_id,
        "retention_series": None,
        "retention_class": None,
        "retention_until": None,
        "rrs_item": None,
        "purpose": None,
        "schema_version": SCHEMA_VERSION,
    }


def tag_row(row: dict[str, Any], schedule: Schedule) -> dict[str, Any]:
    """Set the row's retention series, class, disposal date, file/series number (RRS item) and
    purpose from the schedule (in place)."""
    when = row["created_at"] or row["captured_at"]
    by_department = row["by_department"]
    key = None
    # A tag depends only on these, and rows share them by the thousand: a tag worked out once
    # is looked up after (the first row of each key is checked by ``RecordFacts`` as always).
    if type(by_department) is bool and when.utcoffset() is not None:
        try:
            key = (schedule.fingerprint, row["platform"], row["kind"], by_department, when.astimezone(IST).date())
        except OverflowError:
            key = None
    tag = _TAGS.get(key) if key else None
    if tag is None:
        tag = schedule.tag(RecordFacts(platform=row["platform"], kind=row["kind"], by_department=by_department, is_media=False, created_at=when))
        if key:
            if len(_TAGS) >= _MOST_TAGS:
                _TAGS.clear()
            _TAGS[key] = tag
    row["retention_series"] = tag.series
    row["retention_class"] = tag.retention_class
    row["retention_until"] = tag.retention_until
    row["rrs_item"] = tag.rrs_item
    row["purpose"] = tag.purpose
    return row


#: the tags worked out, by schedule, platform, kind, by_department and day of creation (IST)
_TAGS: dict[tuple[str, str, str, bool, date], RetentionTag] = {}
_MOST_TAGS = 100_000
