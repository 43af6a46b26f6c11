"""Account exports: history from before API access, read from the platforms' download files.

Two formats:

- **X "Download an archive of your data"**: a zip whose ``data/tweets.js`` (and
  ``tweets-part1.js`` …) is JavaScript, ``window.YTD.tweets.part0 = [ {"tweet": {...}}, … ]``,
  with the v1.1 post shape (``id_str``, ``full_text``, ``created_at`` as
  ``Sat Feb 18 19:45:15 +0000 2023``, ``in_reply_to_status_id_str``, ``entities.media``,
  ``edit_info``). Shown by the payload file exports/twitter_archive_tweets.js.
- **Facebook "Download your information" (JSON)**: a zip with ``…/posts/*posts*.json``
  (a list of ``{"timestamp", "data": [{"post": text}], "attachments": [...], "title"}``) and
  ``…/comments/comments.json`` (``{"comments_v2": [{"timestamp", "data": [{"comment": {...}}]}]}``).
  Facebook writes its text as UTF-8 bytes escaped one by one (``\\u00e0\\u00a4\\u00b8`` for
  "स"): ``fix_facebook_text`` turns it back.

Parsing is pure (bytes in, records out) and raises only ``PageParseError``; the import step
(``pipeline.import_export``) stores each member file as a WARC ``resource`` record with a
``metadata`` record describing the export.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import orjson

from archiver.errors import PageParseError, excerpt
from archiver.model import Author, Media, MediaKind, Post, RecordId

__all__ = [
    "EXPORT_KINDS",
    "is_x_archive_member",
    "is_facebook_export_member",
    "parse_x_archive_js",
    "parse_facebook_posts_json",
    "parse_facebook_comments_json",
    "parse_member",
    "fix_facebook_text",
]

#: the export formats ``sangrah import`` understands, with the platform they belong to
EXPORT_KINDS = {"x-archive": "x", "facebook-export": "facebook"}

_YTD_PREFIX = re.compile(rb"^\s*window\.YTD\.[A-Za-z0-9_]+\.part\d+\s*=\s*")
_X_MEMBER = re.compile(r"(^|/)data/(tweets|tweet)(-part\d+)?\.js$|(^|/)data/account\.js$")
_FB_POSTS = re.compile(r"(^|/)posts/[^/]*posts[^/]*\.json$")
_FB_COMMENTS = re.compile(r"(^|/)comments(_and_reactions)?/comments[^/]*\.json$")


def is_x_archive_member(name: str) -> bool:
    return bool(_X_MEMBER.search(name))


def is_facebook_export_member(name: str) -> bool:
    return bool(_FB_POSTS.search(name) or _FB_COMMENTS.search(name))


def parse_member(kind: str, name: str, body: bytes, account_id: str, handle: str | None) -> list[Post]:
    """The records in one member file of an export (none for files that hold no posts)."""
    if kind == "x-archive":
        return parse_x_archive_js(body, account_id=account_id, handle=handle, source=name) if "tweet" in name.rsplit("/", 1)[-1] else []
    if kind == "facebook-export":
        if _FB_COMMENTS.search(name):
            return parse_facebook_comments_json(body, account_id=account_id, source=name)
        return parse_facebook_posts_json(body, account_id=account_id, source=name)
    raise ValueError(f"unknown export kind {kind!r}; known: {', '.join(EXPORT_KINDS)}")


# -- X archive -------------------------------------------------------------------------------------
def parse_x_archive_js(body: bytes, *, account_id: str, handle: str | None = None, source: str = "data/tweets.js") -> list[Post]:
    """Posts of an X archive's ``tweets.js``: the account's own posts and replies."""
    match = _YTD_PREFIX.match(body)
    if not match:
        raise PageParseError(
            f"{source}: not an X archive file (it should start with `window.YTD.tweets.part0 = [`); "
            "give the zip from X's 'Download an archive of your data' unchanged.",
            url=source,
            excerpt=excerpt(body),
        )
    items = _json(body[match.end():].rstrip().rstrip(b";"), source)
    if not isinstance(items, list):
        raise PageParseError(f"{source}: expected a list of posts after the `window.YTD` prefix, found {type(items).__name__}", url=source)
    author = Author(account_id, handle, None)
    posts: list[Post] = []
    for position, item in enumerate(items):
        data = item.get("tweet") if isinstance(item, dict) else None
        if not isinstance(data, dict):
            raise PageParseError(f"{source}: entry {position} has no \"tweet\" object", url=source)
        try:
            posts.append(_x_archive_post(data, author))
        except (KeyError, TypeError, ValueError) as exc:
            raise PageParseError(f"{source}: entry {position} is not a post the archive format describes ({exc!r})", url=source) from exc
    return posts


def _x_archive_post(data: dict[str, Any], author: Author) -> Post:
    native_id = str(data["id_str"])
    parent = data.get("in_reply_to_status_id_str")
    media = tuple(
        Media(kind="video" if m.get("type") in ("video", "animated_gif") else "image", url=m.get("media_url_https") or m.get("media_url"), native_id=m.get("id_str"))
        for m in (data.get("extended_entities") or data.get("entities") or {}).get("media", [])
    )
    text = str(data.get("full_text", data.get("text", "")))
    kind = "reply" if parent else ("repost" if text.startswith("RT @") else "post")
    return Post(
        record_id=RecordId("x", native_id),
        kind=kind,  # type: ignore[arg-type]
        author=author,
        created_at=datetime.strptime(data["created_at"], "%a %b %d %H:%M:%S %z %Y").astimezone(timezone.utc),
        text=text,
        parent_id=RecordId("x", str(parent)) if parent else None,
        root_id=None,  # the archive does not say which conversation a reply belongs to
        url=f"https://x.com/i/web/status/{native_id}",
        language=data.get("lang"),
        media=media,
        # the archive lists edit chains (edit_info) but not when an edit was made: no edited_at
        counters=tuple((k, int(data[f])) for k, f in (("likes", "favorite_count"), ("reposts", "retweet_count")) if str(data.get(f, "")).isdigit()),
    )


# -- Facebook "Download your information" ----------------------------------------------------------
def fix_facebook_text(text: str) -> str:
    """Undo Facebook's export encoding: UTF-8 bytes written as one \\u00XX escape each."""
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text  # already proper text


def parse_facebook_posts_json(body: bytes, *, account_id: str, source: str = "posts/your_posts_1.json") -> list[Post]:
    items = _json(body, source)
    if isinstance(items, dict):  # some exports wrap the list: {"status_updates_v2": [...]}
        lists = [v for v in items.values() if isinstance(v, list)]
        items = lists[0] if lists else None
    if not isinstance(items, list):
        raise PageParseError(f"{source}: expected a list of posts, found {type(items).__name__}; is this the JSON (not HTML) export?", url=source)
    author = Author(account_id, None, None)
    posts: list[Post] = []
    for position, item in enumerate(items):
        if not isinstance(item, dict) or "timestamp" not in item:
            raise PageParseError(f"{source}: entry {position} has no timestamp", url=source)
        texts = [fix_facebook_text(d["post"]) for d in item.get("data", []) if isinstance(d, dict) and isinstance(d.get("post"), str)]
        media = tuple(_facebook_media(item))
        created = datetime.fromtimestamp(int(item["timestamp"]), tz=timezone.utc)
        updated = [d["update_timestamp"] for d in item.get("data", []) if isinstance(d, dict) and "update_timestamp" in d]
        native_id = f"export:{account_id}:{int(item['timestamp'])}:{position}"
        posts.append(
            Post(
                record_id=RecordId("facebook", native_id),
                kind="post",
                author=author,
                created_at=created,
                text="\n".join(texts),
                media=media,
                edited_at=datetime.fromtimestamp(int(updated[0]), tz=timezone.utc) if updated and int(updated[0]) != int(item["timestamp"]) else None,
            )
        )
    return posts


def parse_facebook_comments_json(body: bytes, *, account_id: str, source: str = "comments/comments.json") -> list[Post]:
    data = _json(body, source)
    items = data.get("comments_v2", data.get("comments")) if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise PageParseError(f"{source}: expected \"comments_v2\" to hold a list of comments", url=source)
    posts: list[Post] = []
    for position, item in enumerate(items):
        for entry in item.get("data", []) if isinstance(item, dict) else []:
            comment = entry.get("comment") if isinstance(entry, dict) else None
            if not isinstance(comment, dict):
                continue
            stamp = int(comment.get("timestamp", item.get("timestamp", 0)))
            posts.append(
                Post(
                    record_id=RecordId("facebook", f"export:{account_id}:comment:{stamp}:{position}"),
                    kind="comment",
                    author=Author(account_id, None, fix_facebook_text(comment["author"]) if isinstance(comment.get("author"), str) else None),
                    created_at=datetime.fromtimestamp(stamp, tz=timezone.utc),
                    text=fix_facebook_text(str(comment.get("comment", ""))),
                )
            )
    return posts


def _facebook_media(item: dict[str, Any]) -> Iterator[Media]:
    for attachment in item.get("attachments", []) or []:
        for entry in attachment.get("data", []) if isinstance(attachment, dict) else []:
            media = entry.get("media") if isinstance(entry, dict) else None
            if isinstance(media, dict) and media.get("uri"):
                uri = str(media["uri"])
                kind: MediaKind = "video" if uri.lower().endswith((".mp4", ".mov")) else "image"
                yield Media(kind=kind, url=None, native_id=uri, alt_text=fix_facebook_text(media["description"]) if isinstance(media.get("description"), str) else None)


def _json(body: bytes, source: str) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise PageParseError(f"{source}: malformed or truncated JSON ({exc}); re-download the export from the platform.", url=source, excerpt=excerpt(body)) from exc
