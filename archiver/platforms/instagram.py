"""Instagram Graph API: a business or creator account's media and the comments under them.

Endpoints
    ``GET /{version}/{ig-user-id}/media`` (endpoint ``media``, newest first, the listing): 100
    media per call, each with its carousel children and a field expansion of its first 50
    comments, each comment with its replies, so that one call usually covers media, comments
    and replies. Paged by ``paging.cursors.after`` while ``paging.next`` exists.

    ``GET /{version}/{ig-media-id}/comments`` (endpoint ``comments``): comments beyond those the
    expansion included, from its ``after`` cursor (``media_comments_page1.json``); also from
    the start for media that report comments but came without the expansion.

    ``GET /{version}/{ig-comment-id}/replies`` (endpoint ``replies``): replies beyond those
    expanded under a comment (``comment_replies.json``).

Credential
    A user access token of the account's linked Facebook Page, as the ``access_token`` query
    parameter (echoed back inside ``paging.next`` URLs, which are therefore never followed as
    they are).

Rate limits
    Business Use Case limits per account (``X-Business-Use-Case-Usage``); about 200 calls per
    hour per account, times its impressions.

Quirks
    - Instagram comments have one level of replies: a reply to a reply is shown, and served,
      as a reply to the top comment.
    - Comments list newest first (``media_comments_page1.json``); replies oldest first.
    - The API exposes no edit time for captions or comments (``edited_at`` stays None), and no
      video duration.
    - ``like_count`` is left out when the owner hides likes; ``comments`` is left out when a
      media has none. ``comments_count`` includes replies.
    - A carousel's own ``media_url`` repeats its first child's; its files are the children
      (``user_media_page2.json``). A video's ``media_url`` is missing when it holds
      copyrighted music.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from archiver.model import ApiRequest, Author, Media, Page, Post, PostKind, RecordId
from archiver.platforms import AccountRef, Auth, load_json
from archiver.platforms.facebook import GraphReader, cursor_after, edge_request, next_request

__all__ = [
    "NAME",
    "AUTH",
    "DEFAULT_BASE_URL",
    "LISTING_ENDPOINTS",
    "first_requests",
    "comments_request",
    "replies_request",
    "parse_page",
]

NAME = "instagram"
AUTH = Auth("query", "access_token")
DEFAULT_BASE_URL = "https://graph.facebook.com"

MEDIA = "media"
COMMENTS = "comments"
REPLIES = "replies"
LISTING_ENDPOINTS = frozenset({MEDIA})

PAGE_SIZE = 100
COMMENT_PAGE_SIZE = 50
REPLY_FIELDS = "id,text,timestamp,username,from,like_count"
COMMENT_FIELDS = f"{REPLY_FIELDS},replies{{{REPLY_FIELDS}}}"
MEDIA_FIELDS = ",".join(
    [
        "id",
        "caption",
        "media_type",
        "media_url",
        "thumbnail_url",
        "permalink",
        "timestamp",
        "username",
        "like_count",
        "comments_count",
        "children{media_type,media_url,thumbnail_url,id}",
        f"comments.limit({COMMENT_PAGE_SIZE}){{{COMMENT_FIELDS}}}",
    ]
)
_API = "Instagram Graph API"


def first_requests(account: AccountRef) -> list[ApiRequest]:
    """The account's media, newest first, 100 a call, with comments and replies expanded."""
    return [edge_request(MEDIA, account.native_id, (("fields", MEDIA_FIELDS), ("limit", str(PAGE_SIZE))))]


def comments_request(media_id: str, after: str | None = None) -> ApiRequest:
    return edge_request(COMMENTS, media_id, (("fields", COMMENT_FIELDS), ("limit", str(COMMENT_PAGE_SIZE))), after)


def replies_request(comment_id: str, after: str | None = None) -> ApiRequest:
    # parent_id and media say where a reply hangs, which a replies page does not otherwise say
    return edge_request(REPLIES, comment_id, (("fields", f"{REPLY_FIELDS},parent_id,media"), ("limit", str(COMMENT_PAGE_SIZE))), after)


def parse_page(request: ApiRequest, body: bytes, headers: Mapping[str, str]) -> Page:
    """Turn one media, comments or replies page into records, its next page and further calls."""
    read = GraphReader(NAME, _API, request)
    payload = read.page(load_json(body, request, NAME))
    listed = read.array(payload.get("data"), "data")
    posts: list[Post] = []
    follow_ups: list[ApiRequest] = []
    for raw, where in read.iter_objects(listed, "data"):
        if request.endpoint == COMMENTS:
            posts.extend(_comment(read, raw, where, request.target, follow_ups))
        elif request.endpoint == REPLIES:
            posts.append(_reply(read, raw, where, request.target, None))
        else:
            posts.extend(_media_post(read, raw, where, request.target, follow_ups))
    return Page(posts=tuple(posts), next=next_request(read, request, payload.get("paging")), follow_ups=tuple(follow_ups))


def _media_post(read: GraphReader, raw: dict[str, Any], where: str, account_id: str, follow_ups: list[ApiRequest]) -> list[Post]:
    native_id = read.string(raw.get("id"), f"{where}.id")
    username = read.opt_string(raw.get("username"), f"{where}.username")
    comments_count = read.opt_int(raw.get("comments_count"), f"{where}.comments_count")
    likes = read.opt_int(raw.get("like_count"), f"{where}.like_count")
    post = Post(
        record_id=RecordId(NAME, native_id),
        kind="post",
        author=Author(native_id=account_id, handle=username) if account_id else None,
        created_at=read.time(raw.get("timestamp"), f"{where}.timestamp"),
        text=read.opt_string(raw.get("caption"), f"{where}.caption") or "",
        url=read.opt_string(raw.get("permalink"), f"{where}.permalink"),
        media=tuple(_files(read, raw, where)),
        reply_count=comments_count,
        counters=(("likes", likes),) if likes is not None else (),
    )
    out = [post]
    if "comments" in raw:
        for comment, at in _expanded(read, raw, "comments", where, lambda after: comments_request(native_id, after), follow_ups):
            out.extend(_comment(read, comment, at, native_id, follow_ups))
    elif comments_count:
        follow_ups.append(comments_request(native_id))  # the expansion was not asked for
    return out


def _expanded(
    read: GraphReader, raw: dict[str, Any], key: str, where: str, more: Callable[[str], ApiRequest], follow_ups: list[ApiRequest]
) -> Iterator[tuple[dict[str, Any], str]]:
    """Each object of the field expansion ``raw[key]``, with its place. Once all are read, the
    call for the rest, ``more(after)``, joins ``follow_ups`` if the expansion has a next page."""
    block = read.obj(raw[key], f"{where}.{key}")
    yield from read.iter_objects(read.array(block.get("data", []), f"{where}.{key}.data"), f"{where}.{key}.data")
    paging = read.obj(block.get("paging", {}), f"{where}.{key}.paging")
    if paging.get("next") is not None:
        follow_ups.append(more(cursor_after(read, paging, f"{where}.{key}.paging")))


def _files(read: GraphReader, raw: dict[str, Any], where: str) -> list[Media]:
    child_items = read.data_of(raw, "children", where)
    if child_items:
        return [m for child, at in read.iter_objects(child_items, f"{where}.children.data") for m in _files(read, child, at)]
    kind = read.opt_string(raw.get("media_type"), f"{where}.media_type")
    url = read.opt_string(raw.get("media_url"), f"{where}.media_url")
    native_id = read.opt_string(raw.get("id"), f"{where}.id")
    if kind == "VIDEO":
        return [Media("video", url=url, native_id=native_id, preview_url=read.opt_string(raw.get("thumbnail_url"), f"{where}.thumbnail_url"))]
    if url is None:
        return []
    return [Media("image", url=url, native_id=native_id)]


def _comment(read: GraphReader, raw: dict[str, Any], where: str, media_id: str, follow_ups: list[ApiRequest]) -> list[Post]:
    native_id = read.string(raw.get("id"), f"{where}.id")
    out = [_record(read, raw, where, "comment", parent=media_id, root=media_id)]
    if "replies" in raw:
        for reply, at in _expanded(read, raw, "replies", where, lambda after: replies_request(native_id, after), follow_ups):
            out.append(_reply(read, reply, at, native_id, media_id))
    return out


def _reply(read: GraphReader, raw: dict[str, Any], where: str, comment_id: str, media_id: str | None) -> Post:
    parent = read.opt_string(raw.get("parent_id"), f"{where}.parent_id") or comment_id
    if media_id is None and "media" in raw:
        media_id = read.opt_string(read.obj(raw["media"], f"{where}.media").get("id"), f"{where}.media.id")
    return _record(read, raw, where, "reply", parent=parent, root=media_id)


def _record(read: GraphReader, raw: dict[str, Any], where: str, kind: PostKind, *, parent: str, root: str | None) -> Post:
    author = None
    if "from" in raw:
        who = read.obj(raw["from"], f"{where}.from")
        author = Author(
            native_id=read.string(who.get("id"), f"{where}.from.id"),
            handle=read.opt_string(who.get("username"), f"{where}.from.username"),
        )
    elif raw.get("username") is not None:
        # without ``from`` only the username is given; it stands in for the id
        handle = read.string(raw["username"], f"{where}.username")
        author = Author(native_id=handle, handle=handle)
    likes = read.opt_int(raw.get("like_count"), f"{where}.like_count")
    replies = raw.get("replies")
    reply_count = None
    if isinstance(replies, dict) and isinstance(replies.get("data"), list) and "next" not in (replies.get("paging") or {}):
        reply_count = len(replies["data"])
    return Post(
        record_id=RecordId(NAME, read.string(raw.get("id"), f"{where}.id")),
        kind=kind,
        author=author,
        created_at=read.time(raw.get("timestamp"), f"{where}.timestamp"),
        text=read.opt_string(raw.get("text"), f"{where}.text") or "",
        parent_id=RecordId(NAME, parent),
        root_id=RecordId(NAME, root) if root else None,
        media=(),
        reply_count=reply_count,
        counters=(("likes", likes),) if likes is not None else (),
    )
