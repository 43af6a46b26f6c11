"""Facebook Graph API: a Page's posts and the comments under them.

Endpoints
    ``GET /{version}/{page-id}/posts`` (endpoint ``posts``, newest first, the listing): 100 posts
    per call, each with its attachments, reactions and shares counts, and a field expansion of
    its first 100 comments (``filter(stream)``: replies arrive flat, each with its ``parent``),
    so that one call covers the posts and, usually, all their comments. Paged by
    ``paging.cursors.after``, only while ``paging.next`` exists: Facebook's last page still
    has cursors but no ``next`` (``page_posts_ids_real_cursors.json``, ``page_feed_page2.json``).
    Time-based pages (``until``/``since``/``__paging_token`` in the next URL,
    ``user_posts_time_paging_page1.json``) are followed too.

    ``GET /{version}/{post-id}/comments`` (endpoint ``comments``): the comments beyond those the
    expansion included, from its ``after`` cursor (``post_comments_page1.json``).

Credential
    A Page access token, sent as the ``access_token`` query parameter. Facebook echoes it inside
    the ``paging.next`` URLs, so those URLs are never followed as they are: the cursor is taken
    out of them and the call is rebuilt.

Rate limits
    Business Use Case limits per Page, reported in the ``X-App-Usage`` and
    ``X-Business-Use-Case-Usage`` headers (percentages of the allowance); error codes 4, 17, 32
    and 613 mean "slow down".

Quirks
    - Apps reading other Pages through Page Public Content Access get no comment ``id`` (since
      v11.0, September 2021) and no ``from``: ``post_comments_page1.json`` has neither. The id
      is then rebuilt from ``permalink_url`` (``comment_id``, and ``reply_comment_id`` for a
      reply), as ``{post-fbid}_{comment-fbid}``, the form Facebook gives ids in.
    - ``updated_time`` moves when a post is edited *and* when someone comments. A post is taken
      as edited only when ``updated_time`` is later than its creation and than its newest
      comment, with all its comments on the page; otherwise ``edited_at`` stays unknown (None).
      Comments carry no edit time at all.
    - A comments expansion with ``limit(0)`` (``page_feed_page1.json``) gives counts but no
      comments; a post whose expansion holds none of its ``summary.total_count`` comments gets
      a ``comments`` call from the start.
    - Attachments carry no video duration (``duration_ms`` stays None); a video's file is
      ``media.source`` when Facebook gives one, its still ``media.image.src``.
    - Errors arrive as ``{"error": {"message", "type", "code", "fbtrace_id"}}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from archiver.errors import PageParseError
from archiver.model import ApiRequest, Author, Media, Page, Post, PostKind, RecordId
from archiver.platforms import AccountRef, Auth, load_json
from archiver.platforms.fields import FOUND, FieldReader

__all__ = [
    "NAME",
    "AUTH",
    "DEFAULT_BASE_URL",
    "LISTING_ENDPOINTS",
    "GRAPH_VERSION",
    "first_requests",
    "comments_request",
    "edge_request",
    "parse_page",
]

NAME = "facebook"
AUTH = Auth("query", "access_token")
DEFAULT_BASE_URL = "https://graph.facebook.com"
GRAPH_VERSION = "v23.0"

POSTS = "posts"
COMMENTS = "comments"
LISTING_ENDPOINTS = frozenset({POSTS})

PAGE_SIZE = 100
COMMENT_FIELDS = "id,message,created_time,from,parent{id},permalink_url,like_count,comment_count,attachment"
POST_FIELDS = ",".join(
    [
        "id",
        "message",
        "created_time",
        "updated_time",
        "permalink_url",
        "from",
        "attachments{media_type,media,url,subattachments,target}",
        "shares",
        "reactions.summary(true).limit(0)",
        f"comments.limit({PAGE_SIZE}).summary(true).filter(stream).order(chronological){{{COMMENT_FIELDS}}}",
    ]
)
#: paging parameters a ``paging.next`` URL may carry (cursor-based and time-based paging)
_PAGING_PARAMS = ("after", "until", "since", "__paging_token")
_REACTIONS = ("like", "love", "care", "wow", "haha", "sad", "angry")


def first_requests(account: AccountRef) -> list[ApiRequest]:
    """The Page's posts, newest first, 100 a call, with their first 100 comments expanded."""
    return [edge_request(POSTS, account.native_id, (("fields", POST_FIELDS), ("limit", str(PAGE_SIZE))))]


def comments_request(post_id: str, after: str | None = None) -> ApiRequest:
    """A post's comments (replies flat, oldest first), from the ``after`` cursor if given."""
    params: tuple[tuple[str, str], ...] = (
        ("fields", COMMENT_FIELDS),
        ("filter", "stream"),
        ("order", "chronological"),
        ("summary", "true"),
        ("limit", str(PAGE_SIZE)),
    )
    return edge_request(COMMENTS, post_id, params, after)


def edge_request(edge: str, node: str, params: tuple[tuple[str, str], ...], after: str | None = None) -> ApiRequest:
    """A call of one edge of a Graph node (``/{version}/{node}/{edge}``), from the ``after`` cursor if given."""
    if after:
        params += (("after", after),)
    return ApiRequest(edge, f"/{GRAPH_VERSION}/{node}/{edge}", params, target=node)


def parse_page(request: ApiRequest, body: bytes, headers: Mapping[str, str]) -> Page:
    """Turn one posts or comments page into records, its next page and further comment calls."""
    read = GraphReader(NAME, "Facebook Graph API", request)
    payload = read.page(load_json(body, request, NAME))
    listed = read.array(payload.get("data"), "data")
    posts: list[Post] = []
    follow_ups: list[ApiRequest] = []
    total = None
    if request.endpoint == COMMENTS:
        for raw, where in read.iter_objects(listed, "data"):
            posts.append(_comment(read, raw, where, request.target))
        summary = read.obj(payload.get("summary", {}), "summary")
        total = read.opt_int(summary.get("total_count"), "summary.total_count")
    else:
        for raw, where in read.iter_objects(listed, "data"):
            post, comments, more = _post(read, raw, where)
            posts.append(post)
            posts.extend(comments)
            if more is not None:
                follow_ups.append(more)
    return Page(
        posts=tuple(posts),
        next=next_request(read, request, payload.get("paging")),
        follow_ups=tuple(follow_ups),
        total_count=total,
    )


def _post(read: GraphReader, raw: dict[str, Any], where: str) -> tuple[Post, list[Post], ApiRequest | None]:
    """A post, the comments its expansion included, and the call for the rest (if any)."""
    asked_for_shares = any(k == "fields" and "shares" in v.split(",") for k, v in read.request.params)
    native_id = read.string(raw.get("id"), f"{where}.id")
    created_at = read.time(raw.get("created_time"), f"{where}.created_time")
    updated_at = read.time(raw.get("updated_time"), f"{where}.updated_time")
    comments: list[Post] = []
    more = None
    total = None
    newest_comment: datetime | None = None
    complete = False
    if "comments" in raw:
        block = read.obj(raw["comments"], f"{where}.comments")
        data = read.array(block.get("data", []), f"{where}.comments.data")
        for value, at in read.iter_objects(data, f"{where}.comments.data"):
            comment = _comment(read, value, at, native_id)
            comments.append(comment)
            if comment.created_at and (newest_comment is None or comment.created_at > newest_comment):
                newest_comment = comment.created_at
        summary = read.obj(block.get("summary", {}), f"{where}.comments.summary")
        total = read.opt_int(summary.get("total_count"), f"{where}.comments.summary.total_count")
        paging = read.obj(block.get("paging", {}), f"{where}.comments.paging")
        if paging.get("next") is not None:
            cursor = cursor_after(read, paging, f"{where}.comments.paging")
            more = comments_request(native_id, cursor)
        elif not data and total:
            more = comments_request(native_id)  # counted but not included (limit(0), or none expanded)
        complete = more is None
    edited_at = None
    if complete and updated_at and created_at and updated_at > created_at:
        # updated_time also moves with each new comment: only a time past the newest is an edit
        if newest_comment is None or updated_at > newest_comment:
            edited_at = updated_at
    author = _author(read, raw.get("from"), f"{where}.from")
    counters: list[tuple[str, int]] = []
    reactions = read.obj(raw.get("reactions", {}), f"{where}.reactions")
    count = read.opt_int(read.obj(reactions.get("summary", {}), f"{where}.reactions.summary").get("total_count"), f"{where}.reactions.summary.total_count")
    if count is not None:
        counters.append(("reactions", count))
    for name in _REACTIONS:  # per-type counts, when asked for with .as(like) and so on
        block = read.obj(raw.get(name, {}), f"{where}.{name}")
        count = read.opt_int(read.obj(block.get("summary", {}), f"{where}.{name}.summary").get("total_count"), f"{where}.{name}.summary.total_count")
        if count is not None:
            counters.append((f"reactions_{name}", count))
    shares = read.opt_int(read.obj(raw.get("shares", {}), f"{where}.shares").get("count"), f"{where}.shares.count")
    if shares is not None:
        counters.append(("shares", shares))
    elif asked_for_shares:
        counters.append(("shares", 0))  # Facebook leaves shares out when there are none
    media: list[Media] = []
    for attachment, at in read.iter_objects(read.data_of(raw, "attachments", where), f"{where}.attachments.data"):
        media.extend(attachment_media(read, attachment, at))
    post = Post(
        record_id=RecordId(NAME, native_id),
        kind="post",
        author=author,
        created_at=created_at,
        text=read.opt_string(raw.get("message"), f"{where}.message") or read.opt_string(raw.get("story"), f"{where}.story") or "",
        url=read.opt_string(raw.get("permalink_url"), f"{where}.permalink_url"),
        media=tuple(media),
        edited_at=edited_at,
        reply_count=total,
        counters=tuple(counters),
    )
    return post, comments, more


def _comment(read: GraphReader, raw: dict[str, Any], where: str, post_id: str) -> Post:
    permalink = read.opt_string(raw.get("permalink_url"), f"{where}.permalink_url")
    link = _query(permalink) if permalink else {}
    post_fbid = post_id.rpartition("_")[2]
    native_id = read.opt_string(raw.get("id"), f"{where}.id")
    if native_id is None:
        # no id without MODERATE on the Page: the permalink still names the comment
        own = link.get("reply_comment_id") or link.get("comment_id")
        if not own:
            raise read.fail(where, "a comment with neither an id nor a permalink_url naming it")
        native_id = f"{post_fbid}_{own}"
    parent = None
    if "parent" in raw:
        parent = read.string(read.obj(raw["parent"], f"{where}.parent").get("id"), f"{where}.parent.id")
    elif link.get("reply_comment_id") and link.get("comment_id"):
        parent = f"{post_fbid}_{link['comment_id']}"
    kind: PostKind = "reply" if parent else "comment"
    media: tuple[Media, ...] = ()
    if "attachment" in raw:
        media = tuple(attachment_media(read, read.obj(raw["attachment"], f"{where}.attachment"), f"{where}.attachment"))
    likes = read.opt_int(raw.get("like_count"), f"{where}.like_count")
    return Post(
        record_id=RecordId(NAME, native_id),
        kind=kind,
        author=_author(read, raw.get("from"), f"{where}.from"),
        created_at=read.time(raw.get("created_time"), f"{where}.created_time"),
        text=read.opt_string(raw.get("message"), f"{where}.message") or "",
        parent_id=RecordId(NAME, parent or post_id),
        root_id=RecordId(NAME, post_id),
        url=permalink,
        media=media,
        reply_count=read.opt_int(raw.get("comment_count"), f"{where}.comment_count"),
        counters=(("likes", likes),) if likes is not None else (),
    )


def _author(read: GraphReader, value: Any, where: str) -> Author | None:
    if value is None:
        return None
    who = read.obj(value, where)
    return Author(
        native_id=read.string(who.get("id"), f"{where}.id"),
        display_name=read.opt_string(who.get("name"), f"{where}.name"),
    )


def attachment_media(read: GraphReader, attachment: dict[str, Any], where: str) -> list[Media]:
    """The files of one attachment: an album's photos, a photo, a video, a link's preview."""
    sub_items = read.data_of(attachment, "subattachments", where)
    if sub_items:
        return [m for sub, at in read.iter_objects(sub_items, f"{where}.subattachments.data") for m in attachment_media(read, sub, at)]
    kind = (read.opt_string(attachment.get("media_type"), f"{where}.media_type") or read.opt_string(attachment.get("type"), f"{where}.type") or "").lower()
    media = read.obj(attachment.get("media", {}), f"{where}.media")
    image = read.obj(media.get("image", {}), f"{where}.media.image")
    src = read.opt_string(image.get("src"), f"{where}.media.image.src")
    source = read.opt_string(media.get("source"), f"{where}.media.source")
    target = read.obj(attachment.get("target", {}), f"{where}.target")
    target_id = read.opt_string(target.get("id"), f"{where}.target.id")
    if "video" in kind:
        return [Media("video", url=source, native_id=target_id, preview_url=src)]
    if "animated" in kind or kind == "gif":
        return [Media("gif", url=source or src, native_id=target_id)]
    if kind in ("photo", "sticker", "cover_photo", "profile_media"):
        return [Media("image", url=src, native_id=target_id)]
    if src is None:
        return []
    # a link share, an event, a note: its picture is a preview, not the post's own file
    return [Media("other", url=None, native_id=target_id, preview_url=src)]


def next_request(read: GraphReader, request: ApiRequest, value: Any) -> ApiRequest | None:
    """The next page of the same edge, built from the cursor, or None on the last page."""
    if value is None:
        return None
    paging = read.obj(value, "paging")
    link = read.opt_string(paging.get("next"), "paging.next")
    if not link:
        return None  # the last page keeps its cursors but has no next
    cursors = read.obj(paging.get("cursors", {}), "paging.cursors")
    after = read.opt_string(cursors.get("after"), "paging.cursors.after")
    carried = [("after", after)] if after else [(k, v) for k, v in _query(link).items() if k in _PAGING_PARAMS and v]
    if not carried:
        raise read.fail("paging.next", "a next page with neither an after cursor nor until/since paging")
    kept = tuple(p for p in request.params if p[0] not in (*_PAGING_PARAMS, "before", "__previous"))
    return ApiRequest(request.endpoint, request.path, kept + tuple(carried), request.target)


def cursor_after(read: GraphReader, paging: dict[str, Any], where: str) -> str:
    cursors = read.obj(paging.get("cursors", {}), f"{where}.cursors")
    after = read.opt_string(cursors.get("after"), f"{where}.cursors.after")
    if after:
        return after
    link = read.string(paging.get("next"), f"{where}.next")
    found = _query(link).get("after")
    if not found:
        raise read.fail(where, "a next page without an after cursor")
    return found


class GraphReader(FieldReader):
    """Typed access to a decoded Graph API page (Facebook and Instagram), and Graph's error object.

    Anything unexpected becomes a ``PageParseError`` that names the call and the place.
    """

    def __init__(self, platform: str, api: str, request: ApiRequest) -> None:
        super().__init__(platform, request, f"the {api}", wording=FOUND)
        self.api = api

    def page(self, payload: Any) -> dict[str, Any]:
        """The page object, or the ``PageParseError`` for Graph's error object."""
        if isinstance(payload, dict) and "error" in payload:
            raise self.api_error(payload["error"])
        page = self.obj(payload, "")
        if "data" not in page:
            raise self.fail("", "a page without data")
        return page

    def data_of(self, node: dict[str, Any], key: str, where: str) -> list[Any]:
        """The ``data`` list of a node's field ``key`` (a connection such as ``attachments``), empty if absent."""
        block = self.obj(node.get(key, {}), f"{where}.{key}")
        return self.array(block.get("data", []), f"{where}.{key}.data")

    def api_error(self, error: Any) -> PageParseError:
        if not isinstance(error, dict):
            return self.fail("error", f"an error of type {self.describe(error)}")
        message = error.get("message") if isinstance(error.get("message"), str) else "(no message)"
        code = error.get("code")
        details = ", ".join(
            f"{key} {error[key]}" for key in ("type", "code", "error_subcode", "fbtrace_id") if isinstance(error.get(key), (str, int))
        )
        if code == 190:
            step = "The access token was rejected: renew it, then run the harvest again."
        elif code in (4, 17, 32, 613, 80001, 80002):
            step = "Graph's rate limit was reached: wait for the usage to fall, then run the harvest again."
        elif code == 100:
            step = "Check the account id and that the app may read it, then run the harvest again."
        else:
            step = "Run the harvest again; if it repeats, check the platform's status page."
        return PageParseError(
            f"{self.platform} {self.request.endpoint} {self.request.path}: the {self.api} answered with an "
            f"error instead of a page: {message} ({details}). {step}",
            url=self.request.path,
        )


def _query(url: str) -> dict[str, str]:
    """The query parameters of a URL (the first value of each), or none for a broken URL."""
    try:
        pairs = parse_qsl(urlsplit(url).query)
    except ValueError:
        return {}
    out: dict[str, str] = {}
    for key, value in pairs:
        out.setdefault(key, value)
    return out
