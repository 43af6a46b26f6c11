"""The sample Facebook: the world's department Page served in Graph API shapes.

Paths (after the ``/facebook`` prefix, with or without a ``/vNN.N`` version):
``/{page-id}/posts`` (newest first, ``limit`` up to 100, ``after`` cursor) and
``/{post-id}/comments`` (``filter`` stream or toplevel, ``order``, ``limit``, ``after``,
``summary``). The ``fields`` parameter is read as Graph reads it, field expansions and their
modifiers included (``comments.limit(100).summary(true).filter(stream){id,message}``): only
the requested fields are served, and an unknown field gets Graph's ``(#100)`` error. Paging
objects are Graph's: ``cursors`` always, ``next`` only when there is more, and ``next`` URLs
echo the request's ``access_token`` as Facebook's do. An unknown object gets Graph's answer
for it (HTTP 400, code 100, subcode 33).

Facebook shows two levels of comments: a reply to a reply is served as a reply to its top
comment, and deleting a comment removes its replies with it.

Ids: the Page's posts are ``{page-id}_{10160000000000000 + index}``; comments are
``{post-fbid}_{10170000000000000 + index * 100 + reply-number}``, the form Graph gives them in.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, ClassVar
from urllib.parse import urlencode

from archiver.samples.server import SampleRequest, SampleResponse
from archiver.samples.world import SampleAuthor, SamplePost, SampleReply, World

__all__ = [
    "handle",
    "ground_truth",
    "post_id",
    "comment_id",
    "FieldSpec",
    "FieldSyntaxError",
    "parse_fields",
    "flatten_thread",
    "GraphPost",
    "graph_error",
    "not_found",
    "serve",
    "answer",
    "list_posts",
    "comment_start",
    "comment_page",
    "pick_fields",
    "check_fields",
    "UnknownField",
    "encode_cursor",
    "decode_cursor",
    "graph_time",
    "bad_cursor",
    "parse_limit",
    "VERSION",
]

PLATFORM = "facebook"
VERSION = "v23.0"
POST_FBID_BASE = 10_160_000_000_000_000
COMMENT_FBID_BASE = 10_170_000_000_000_000
PHOTO_FBID_BASE = 10_180_000_000_000_000
VIDEO_FBID_BASE = 10_190_000_000_000_000
MAX_LIMIT = 100
_VERSIONED = re.compile(r"/v\d+\.\d+(/.*)")
_POST_FIELDS = frozenset(
    "id message created_time updated_time permalink_url from attachments shares reactions comments status_type "
    "full_picture picture icon is_published is_hidden message_tags story likes".split()
)
_COMMENT_FIELDS = frozenset(
    "id message created_time from parent permalink_url like_count comment_count attachment can_comment can_remove "
    "can_hide is_hidden user_likes message_tags object".split()
)
_DEFAULT_POST = ("id", "message", "created_time")
_DEFAULT_COMMENT = ("id", "message", "created_time", "from")


# -- the Graph API's field syntax ---------------------------------------------------------------


class FieldSyntaxError(ValueError):
    pass


@dataclass(frozen=True)
class FieldSpec:
    """One requested field: ``comments.limit(10).summary(true){id,message}``."""

    name: str
    modifiers: Mapping[str, str]
    sub: Mapping[str, FieldSpec] | None
    sub_text: str = ""  #: the text between the braces, to repeat in a next URL


def parse_fields(text: str) -> dict[str, FieldSpec]:
    """Read a ``fields`` parameter; keys are field names, or their ``.as(alias)``.

    >>> spec = parse_fields("id,comments.limit(2).summary(true){id,from{name}}")
    >>> spec["comments"].modifiers["limit"], sorted(spec["comments"].sub)
    ('2', ['from', 'id'])
    """
    fields, pos = _parse_list(text, 0)
    if pos != len(text):
        raise FieldSyntaxError(f"unexpected {text[pos]!r} at character {pos}")
    return fields


def _parse_list(text: str, pos: int) -> tuple[dict[str, FieldSpec], int]:
    out: dict[str, FieldSpec] = {}
    while pos < len(text):
        match = re.compile(r"[A-Za-z0-9_]+").match(text, pos)
        if match is None:
            raise FieldSyntaxError(f"expected a field name at character {pos}")
        name, pos = match.group(), match.end()
        modifiers: dict[str, str] = {}
        while pos < len(text) and text[pos] == ".":
            found = re.compile(r"\.([A-Za-z_]+)\(([^()]*)\)").match(text, pos)
            if found is None:
                raise FieldSyntaxError(f"expected .modifier(value) at character {pos}")
            modifiers[found.group(1)] = found.group(2)
            pos = found.end()
        sub = None
        sub_text = ""
        if pos < len(text) and text[pos] == "{":
            sub, end = _parse_list(text, pos + 1)
            if end >= len(text) or text[end] != "}":
                raise FieldSyntaxError(f"unclosed {{ after {name}")
            sub_text, pos = text[pos + 1 : end], end + 1
        out[modifiers.get("as", name)] = FieldSpec(name, modifiers, sub, sub_text)
        if pos < len(text) and text[pos] == ",":
            pos += 1
            continue
        break
    return out, pos


def pick_fields(entry: Mapping[str, Any], spec: Mapping[str, FieldSpec] | None, default: tuple[str, ...]) -> dict[str, Any]:
    """The requested fields of ``entry``, or its ``default`` fields when none were requested."""
    wanted = set(spec) if spec is not None else set(default)
    return {k: v for k, v in entry.items() if k in wanted}


class UnknownField(Exception):
    """A requested field the node type does not have; ``serve`` answers it with Graph's (#100)."""

    def __init__(self, name: str, node: str) -> None:
        super().__init__(name)
        self.name, self.node = name, node


def check_fields(spec: Mapping[str, FieldSpec] | None, allowed: frozenset[str], node: str) -> None:
    for field in (spec or {}).values():
        if field.name not in allowed:
            raise UnknownField(field.name, node)


# -- errors, cursors, times ----------------------------------------------------------------------


def graph_error(message: str, code: int, *, kind: str = "OAuthException", subcode: int | None = None, status: int = 400) -> SampleResponse:
    error: dict[str, Any] = {"message": message, "type": kind, "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    error["fbtrace_id"] = "A" + hashlib.sha256(message.encode()).hexdigest()[:22]
    return SampleResponse.json({"error": error}, status=status)


def not_found(object_id: str) -> SampleResponse:
    return graph_error(
        f"Unsupported get request. Object with ID '{object_id}' does not exist, cannot be loaded due to missing "
        "permissions, or does not support this operation. Please read the Graph API documentation at "
        "https://developers.facebook.com/docs/graph-api",
        100,
        kind="GraphMethodException",
        subcode=33,
    )


def encode_cursor(*parts: int) -> str:
    raw = ("sangrah:" + ":".join(map(str, parts))).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, count: int) -> list[int] | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    head, _, rest = raw.partition(":")
    parts = rest.split(":")
    if head != "sangrah" or len(parts) != count or not all(p.isdigit() for p in parts):
        return None
    return [int(p) for p in parts]


def graph_time(instant: datetime) -> str:
    return instant.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+0000")


def bad_cursor(name: str) -> SampleResponse:
    return graph_error(f"(#100) The parameter {name} is not a valid cursor", 100)


def parse_limit(raw: str | None, default: int) -> int:
    if raw is None or not raw.isdigit():
        return default
    return min(int(raw), MAX_LIMIT)


# -- what the sample Facebook and Instagram serve alike ------------------------------------------


def serve(request: SampleRequest, route: Callable[[list[str], dict[str, FieldSpec] | None], SampleResponse | None]) -> SampleResponse:
    """Answer a Graph request through ``route(path parts, requested fields)``, as Graph does.

    The version prefix is optional; a ``fields`` syntax error and an ``UnknownField`` get
    Graph's (#100) answers, and a path the route does not know (None) gets Graph's not-found.
    """
    match = _VERSIONED.fullmatch(request.path)
    parts = (match.group(1) if match else request.path).strip("/").split("/")
    fields = request.arg("fields")
    try:
        spec = parse_fields(fields) if fields else None
    except FieldSyntaxError as exc:
        return graph_error(f"(#100) Syntax error in the fields parameter: {exc}", 100)
    try:
        response = route(parts, spec)
    except UnknownField as exc:
        return graph_error(f"(#100) Tried accessing nonexisting field ({exc.name}) on node type ({exc.node})", 100)
    return response if response is not None else not_found(parts[0] if parts and parts[0] else "/")


def answer(block: dict[str, Any] | SampleResponse) -> SampleResponse:
    """An edge's page as a response, or the error response it already is."""
    return block if isinstance(block, SampleResponse) else SampleResponse.json(block)


def list_posts(world: World, platform: str, request: SampleRequest, render: Callable[[int], dict[str, Any]]) -> SampleResponse:
    """A listing of the account's posts, newest first, from the ``after`` cursor, each as ``render(index)``."""
    limit = parse_limit(request.arg("limit"), 25)
    start = world.post_count() - 1
    after = request.arg("after")
    if after:
        decoded = decode_cursor(after, 1)
        if decoded is None:
            return bad_cursor("after")
        start = decoded[0] - 1
    chosen: list[int] = []
    index = start
    while index >= 0 and len(chosen) < limit:
        if not world.post(platform, index).deleted:
            chosen.append(index)
        index -= 1
    while index >= 0 and world.post(platform, index).deleted:
        index -= 1
    out: dict[str, Any] = {"data": [render(i) for i in chosen]}
    if chosen:
        cursors = {"before": encode_cursor(chosen[0]), "after": encode_cursor(chosen[-1])}
        paging: dict[str, Any] = {"cursors": cursors}
        query = {k: v[0] for k, v in request.query.items() if k not in ("after", "before") and v}
        if index >= 0:
            paging["next"] = f"{request.base_url}{request.path}?{urlencode({**query, 'after': cursors['after']})}"
        if after:
            paging["previous"] = f"{request.base_url}{request.path}?{urlencode({**query, 'before': cursors['before']})}"
        out["paging"] = paging
    return SampleResponse.json(out)


def comment_start(entries: list[tuple[SampleReply, int]], index: int, after: str | None) -> int | None:
    """Where a comments or replies page of post ``index`` starts, or None for a cursor not of that post."""
    if not after:
        return 0
    decoded = decode_cursor(after, 2)
    if decoded is None or decoded[0] != index:
        return None
    return next((n + 1 for n, (r, _) in enumerate(entries) if r.number == decoded[1]), len(entries))


def comment_page(
    request: SampleRequest,
    index: int,
    entries: list[tuple[SampleReply, int]],
    limit: int,
    sub: FieldSpec | None,
    render: Callable[[SampleReply, int, Mapping[str, FieldSpec] | None], dict[str, Any]],
    edge: str,
    query: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A page of a comments or replies ``edge`` (``{node}/comments``) of post ``index``.

    The page holds the first ``limit`` of ``entries`` (each a comment and the number of the top
    comment it hangs under, 0 for none), rendered, and Graph's paging, whose ``next`` URL carries
    ``query`` and echoes the access token as Graph's does.
    """
    chosen = entries[:limit]
    spec = sub.sub if sub is not None else None
    out: dict[str, Any] = {"data": [render(r, top, spec) for r, top in chosen]}
    if chosen:
        paging: dict[str, Any] = {
            "cursors": {"before": encode_cursor(index, chosen[0][0].number), "after": encode_cursor(index, chosen[-1][0].number)}
        }
        if limit < len(entries):
            params = {
                "access_token": request.arg("access_token") or "",
                "pretty": "0",
                **({"fields": sub.sub_text} if sub is not None and sub.sub_text else {}),
                **(query or {}),
                "limit": str(limit),
                "after": paging["cursors"]["after"],
            }
            paging["next"] = f"{request.base_url}/{VERSION}/{edge}?{urlencode(params)}"
        out["paging"] = paging
    return out


# -- threads ------------------------------------------------------------------------------------


def flatten_thread(world: World, platform: str, index: int) -> list[tuple[SampleReply, int]]:
    """The visible comments of a post as a two-level thread, oldest first.

    Each entry is ``(reply, top)``: ``top`` is the number of the top comment a reply hangs
    under, 0 for a top comment. A reply whose top comment is deleted goes with it.
    """
    replies = world.replies(platform, index)
    by_number = {r.number: r for r in replies}
    out: list[tuple[SampleReply, int]] = []
    for reply in replies:
        if reply.deleted:
            continue
        top = reply
        while top.parent_number:
            top = by_number[top.parent_number]
        if top is reply:
            out.append((reply, 0))
        elif not top.deleted:
            out.append((reply, top.number))
    return out


# -- ids ----------------------------------------------------------------------------------------


def post_id(world: World, index: int) -> str:
    return f"{world.account(PLATFORM).native_id}_{POST_FBID_BASE + index}"


def comment_id(index: int, number: int) -> str:
    return f"{POST_FBID_BASE + index}_{COMMENT_FBID_BASE + index * 100 + number}"


def _post_index(world: World, text: str) -> int | None:
    page, _, fbid = text.partition("_")
    if page != world.account(PLATFORM).native_id or not fbid.isdigit():
        return None
    index = int(fbid) - POST_FBID_BASE
    return index if 0 <= index < world.post_count() else None


def _user(world: World, author: SampleAuthor) -> dict[str, str]:
    if author.is_department:
        account = world.account(PLATFORM)
        return {"name": account.display_name, "id": account.native_id}
    return {"name": author.display_name, "id": str(100_000_000_000_000 + author.number)}


# -- rendering ----------------------------------------------------------------------------------


@dataclass
class GraphPost:
    """One post of the account and its two-level thread (``flatten_thread``), for a Graph node to render."""

    platform: ClassVar[str]
    world: World
    index: int
    request: SampleRequest

    def __post_init__(self) -> None:
        self.post: SamplePost = self.world.post(self.platform, self.index)
        self.thread = flatten_thread(self.world, self.platform, self.index)


@dataclass
class _Post(GraphPost):
    """One post of the Page and its comments, in Graph shapes."""

    platform = PLATFORM

    def __post_init__(self) -> None:
        super().__post_init__()
        self.id = post_id(self.world, self.index)
        self.fbid = POST_FBID_BASE + self.index
        self.permalink = f"https://www.facebook.com/{self.world.account(PLATFORM).native_id}/posts/{self.fbid}/"

    def comment(self, reply: SampleReply, top: int, spec: Mapping[str, FieldSpec] | None) -> dict[str, Any]:
        check_fields(spec, _COMMENT_FIELDS, "Comment")
        link = f"{self.permalink}?comment_id={COMMENT_FBID_BASE + self.index * 100 + (top or reply.number)}"
        if top:
            link += f"&reply_comment_id={COMMENT_FBID_BASE + self.index * 100 + reply.number}"
        entry: dict[str, Any] = {
            "id": comment_id(self.index, reply.number),
            "message": reply.text,
            "created_time": graph_time(reply.created_at),
            "from": _user(self.world, reply.author),
            "permalink_url": link,
            "like_count": reply.like_count,
            "comment_count": 0 if top else sum(1 for _, t in self.thread if t == reply.number),
            "can_comment": not top,
            "is_hidden": False,
        }
        if top:
            entry["parent"] = {"id": comment_id(self.index, top)}
        return pick_fields(entry, spec, _DEFAULT_COMMENT)

    def comments(self, modifiers: Mapping[str, str], sub: FieldSpec | None, after: str | None, summary: bool) -> dict[str, Any] | SampleResponse:
        """A comments edge: the expansion in a post, or ``/{post-id}/comments`` itself."""
        stream = modifiers.get("filter", "toplevel") == "stream"
        newest_first = modifiers.get("order") == "reverse_chronological"
        entries = [(r, top) for r, top in self.thread if stream or top == 0]
        if newest_first:
            entries.reverse()
        start = comment_start(entries, self.index, after)
        if start is None:
            return bad_cursor("after")
        query = {
            **({"summary": "true"} if summary else {}),
            "filter": "stream" if stream else "toplevel",
            "order": "reverse_chronological" if newest_first else "chronological",
        }
        limit = parse_limit(modifiers.get("limit"), 25)
        out = comment_page(self.request, self.index, entries[start:], limit, sub, self.comment, f"{self.id}/comments", query)
        if summary:
            out["summary"] = {"order": "reverse_chronological" if newest_first else "chronological", "total_count": len(entries), "can_comment": True}
        return out

    def attachments(self, sub: FieldSpec) -> dict[str, Any] | None:
        media = self.post.media
        if not media:
            return None
        base = self.request.server_url + "/media/"

        def photo(n: int) -> dict[str, Any]:
            item = media[n]
            fbid = str(PHOTO_FBID_BASE + self.index * 10 + n)
            url = f"https://www.facebook.com/photo.php?fbid={fbid}"
            return {
                "media": {"image": {"height": item.height, "src": f"{base}{item.name}.png", "width": item.width}},
                "target": {"id": fbid, "url": url},
                "type": "photo",
                "url": url,
            }

        if media[0].kind == "video":
            item = media[0]
            video = str(VIDEO_FBID_BASE + self.index)
            url = f"https://www.facebook.com/{self.world.account(PLATFORM).native_id}/videos/{video}/"
            entry = {
                "media": {"image": {"height": item.height, "src": f"{base}{item.name}.png", "width": item.width}, "source": f"{base}{item.name}.mp4"},
                "media_type": "video",
                "target": {"id": video, "url": url},
                "type": "video_inline",
                "url": url,
            }
        elif len(media) == 1:
            entry = {"media_type": "photo", **photo(0)}
        else:
            album = str(PHOTO_FBID_BASE + self.index * 10 + 9)
            url = f"https://www.facebook.com/media/set/?set=pcb.{self.fbid}"
            entry = {
                "media": photo(0)["media"],
                "media_type": "album",
                "subattachments": {"data": [photo(n) for n in range(len(media))]},
                "target": {"id": album, "url": url},
                "title": f"Photos from {self.world.account(PLATFORM).display_name}'s post",
                "type": "album",
                "url": url,
            }
        return {"data": [pick_fields(entry, sub.sub, tuple(entry))]}

    def render(self, spec: Mapping[str, FieldSpec] | None) -> dict[str, Any]:
        check_fields(spec, _POST_FIELDS, "PagePost")
        post = self.post
        newest = max([post.created_at, post.edited_at or post.created_at, *(r.created_at for r, _ in self.thread)])
        out: dict[str, Any] = {"id": self.id}
        if post.text:
            out["message"] = post.text
        out["created_time"] = graph_time(post.created_at)
        # updated_time follows edits and new comments alike, as Facebook's does
        out["updated_time"] = graph_time(newest)
        out["permalink_url"] = self.permalink
        out["from"] = _user(self.world, self.world.department(PLATFORM))
        out["status_type"] = "added_video" if post.media and post.media[0].kind == "video" else "added_photos" if post.media else "mobile_status_update"
        out["is_published"] = True
        if post.share_count:
            out["shares"] = {"count": post.share_count}
        for key, field in (spec or {}).items():
            if field.name == "reactions":
                out[key] = {"data": [], "summary": {"total_count": post.like_count, "viewer_reaction": "NONE"}}
            elif field.name == "attachments":
                attachments = self.attachments(field)
                if attachments:
                    out[key] = attachments
            elif field.name == "full_picture" and post.media:
                out[key] = f"{self.request.server_url}/media/{post.media[0].name}.png"
            elif field.name == "comments":
                summary = field.modifiers.get("summary") in ("true", "1", "total_count")
                block = self.comments(field.modifiers, field, None, summary)
                assert isinstance(block, dict)  # no cursor, so no cursor error
                if block["data"] or summary:
                    out[key] = block
        return pick_fields(out, spec, _DEFAULT_POST)


def handle(world: World, request: SampleRequest) -> SampleResponse:
    """Answer one Graph API request for the department Page."""
    return serve(request, lambda parts, spec: _route(world, request, parts, spec))


def _route(world: World, request: SampleRequest, parts: list[str], spec: Mapping[str, FieldSpec] | None) -> SampleResponse | None:
    if len(parts) == 2 and parts[1] in ("posts", "feed", "published_posts"):
        if parts[0] != world.account(PLATFORM).native_id:
            return not_found(parts[0])
        return list_posts(world, PLATFORM, request, lambda index: _Post(world, index, request).render(spec))
    if len(parts) == 2 and parts[1] == "comments":
        index = _post_index(world, parts[0])
        if index is None or world.post(PLATFORM, index).deleted:
            return not_found(parts[0])
        modifiers = {k: v for k in ("filter", "order", "limit") if (v := request.arg(k)) is not None}
        sub = FieldSpec("comments", {}, spec, request.arg("fields") or "") if spec is not None else None
        summary = request.arg("summary") in ("true", "1", "total_count")
        return answer(_Post(world, index, request).comments(modifiers, sub, request.arg("after"), summary))
    return None


def ground_truth(world: World) -> set[str]:
    """The ids of every post and comment of the Page visible at the world's epoch."""
    out: set[str] = set()
    for post in world.iter_posts(PLATFORM):
        out.add(post_id(world, post.index))
        out.update(comment_id(post.index, r.number) for r, _ in flatten_thread(world, PLATFORM, post.index))
    return out
