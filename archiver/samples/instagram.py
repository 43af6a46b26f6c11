"""The sample Instagram: the world's department account served in Instagram Graph API shapes.

Paths (after the ``/instagram`` prefix, with or without a ``/vNN.N`` version):
``/{ig-user-id}/media`` (newest first, ``limit`` up to 100, ``after`` cursor),
``/{ig-media-id}/comments`` (newest first, as Instagram lists them) and
``/{ig-comment-id}/replies`` (oldest first). ``fields`` is read with Graph's syntax, field
expansions and ``limit`` modifiers included, and only requested fields are served.

Instagram has one level of replies: a reply to a reply is served as a reply to its top
comment, and deleting a comment removes its replies. Every Instagram post has a picture: a
world post without media is served with a generated card image (``instagram-INDEX-card``).
The API gives no edit time and no video duration, so neither is served.

Ids: media ``17950000000000000 + index``, carousel children ``17960000000000000 + index * 10 +
n``, comments ``17850000000000000 + index * 100 + reply-number``.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from archiver.samples.facebook import (
    VERSION,
    FieldSpec,
    FieldSyntaxError,
    bad_cursor,
    decode_cursor,
    encode_cursor,
    flatten_thread,
    graph_error,
    graph_time,
    not_found,
    parse_fields,
    parse_limit,
)
from archiver.samples.server import SampleRequest, SampleResponse
from archiver.samples.world import SampleAuthor, SamplePost, SampleReply, World

__all__ = ["handle", "ground_truth", "media_id", "comment_id"]

PLATFORM = "instagram"
MEDIA_BASE = 17_950_000_000_000_000
CHILD_BASE = 17_960_000_000_000_000
COMMENT_BASE = 17_850_000_000_000_000
_VERSIONED = re.compile(r"/v\d+\.\d+(/.*)")
_MEDIA_FIELDS = frozenset(
    "id caption media_type media_url thumbnail_url permalink timestamp username like_count comments_count children "
    "comments shortcode media_product_type owner is_comment_enabled".split()
)
_CHILD_FIELDS = frozenset("id media_type media_url thumbnail_url permalink shortcode timestamp username".split())
_COMMENT_FIELDS = frozenset("id text timestamp username from like_count replies hidden parent_id media user".split())
_DEFAULT_MEDIA = ("id",)
_DEFAULT_COMMENT = ("id", "text", "timestamp")


def media_id(index: int) -> str:
    return str(MEDIA_BASE + index)


def comment_id(index: int, number: int) -> str:
    return str(COMMENT_BASE + index * 100 + number)


def _shortcode(index: int) -> str:
    digest = hashlib.sha256(f"instagram-media-{index}".encode()).digest()
    return "C" + base64.urlsafe_b64encode(digest).decode()[:10]


def _user(world: World, author: SampleAuthor) -> dict[str, str]:
    if author.is_department:
        account = world.account(PLATFORM)
        return {"id": account.native_id, "username": account.handle}
    return {"id": str(17_841_450_000_000_000 + author.number), "username": author.handle}


def _pick(entry: Mapping[str, Any], spec: Mapping[str, FieldSpec] | None, default: tuple[str, ...]) -> dict[str, Any]:
    wanted = set(spec) if spec is not None else set(default)
    return {k: v for k, v in entry.items() if k in wanted}


class _UnknownField(Exception):
    def __init__(self, name: str, node: str) -> None:
        super().__init__(name)
        self.name, self.node = name, node


def _check(spec: Mapping[str, FieldSpec] | None, allowed: frozenset[str], node: str) -> None:
    for field in (spec or {}).values():
        if field.name not in allowed:
            raise _UnknownField(field.name, node)


@dataclass
class _Media:
    world: World
    index: int
    request: SampleRequest

    def __post_init__(self) -> None:
        self.post: SamplePost = self.world.post(PLATFORM, self.index)
        self.thread = flatten_thread(self.world, PLATFORM, self.index)
        self.id = media_id(self.index)

    # -- comments -----------------------------------------------------------------------------
    def _comment(self, reply: SampleReply, top: int, spec: Mapping[str, FieldSpec] | None) -> dict[str, Any]:
        _check(spec, _COMMENT_FIELDS, "IGComment")
        user = _user(self.world, reply.author)
        entry: dict[str, Any] = {
            "id": comment_id(self.index, reply.number),
            "text": reply.text,
            "timestamp": graph_time(reply.created_at),
            "username": user["username"],
            "from": user,
            "like_count": reply.like_count,
            "hidden": False,
            "media": {"id": self.id, "media_product_type": "FEED"},
        }
        if top:
            entry["parent_id"] = comment_id(self.index, top)
        elif spec is not None and "replies" in spec:
            block = self.replies(reply.number, spec["replies"].modifiers, spec["replies"], None)
            assert isinstance(block, dict)  # no cursor, so no cursor error
            if block["data"]:
                entry["replies"] = block
        return _pick(entry, spec, _DEFAULT_COMMENT)

    def _block(self, entries: list[tuple[SampleReply, int]], start: int, limit: int, edge: str, owner: str, sub: FieldSpec | None) -> dict[str, Any]:
        chosen = entries[start : start + limit]
        spec = sub.sub if sub is not None else None
        out: dict[str, Any] = {"data": [self._comment(r, top, spec) for r, top in chosen]}
        if chosen:
            paging: dict[str, Any] = {
                "cursors": {"before": encode_cursor(self.index, chosen[0][0].number), "after": encode_cursor(self.index, chosen[-1][0].number)}
            }
            if start + limit < len(entries):
                query = {
                    "access_token": self.request.arg("access_token") or "",
                    "pretty": "0",
                    **({"fields": sub.sub_text} if sub is not None and sub.sub_text else {}),
                    "limit": str(limit),
                    "after": paging["cursors"]["after"],
                }
                paging["next"] = f"{self.request.base_url}/{VERSION}/{owner}/{edge}?{urlencode(query)}"
            out["paging"] = paging
        return out

    @staticmethod
    def _start(entries: list[tuple[SampleReply, int]], index: int, after: str | None) -> int | None:
        if not after:
            return 0
        decoded = decode_cursor(after, 2)
        if decoded is None or decoded[0] != index:
            return None
        return next((n + 1 for n, (r, _) in enumerate(entries) if r.number == decoded[1]), len(entries))

    def comments(self, modifiers: Mapping[str, str], sub: FieldSpec | None, after: str | None) -> dict[str, Any] | SampleResponse:
        # Instagram lists a media's comments newest first (media_comments_page1.json)
        entries = [(r, top) for r, top in reversed(self.thread) if top == 0]
        start = self._start(entries, self.index, after)
        if start is None:
            return bad_cursor("after")
        return self._block(entries, start, parse_limit(modifiers.get("limit"), 25), "comments", self.id, sub)

    def replies(self, number: int, modifiers: Mapping[str, str], sub: FieldSpec | None, after: str | None) -> dict[str, Any] | SampleResponse:
        entries = [(r, top) for r, top in self.thread if top == number]
        start = self._start(entries, self.index, after)
        if start is None:
            return bad_cursor("after")
        return self._block(entries, start, parse_limit(modifiers.get("limit"), 25), "replies", comment_id(self.index, number), sub)

    # -- the media itself ----------------------------------------------------------------------
    def _child(self, n: int, spec: Mapping[str, FieldSpec] | None) -> dict[str, Any]:
        _check(spec, _CHILD_FIELDS, "ShadowIGMedia")
        item = self.post.media[n]
        base = f"{self.request.server_url}/media/{item.name}"
        entry: dict[str, Any] = {"id": str(CHILD_BASE + self.index * 10 + n), "media_type": "VIDEO" if item.kind == "video" else "IMAGE"}
        if item.kind == "video":
            entry.update(media_url=f"{base}.mp4", thumbnail_url=f"{base}.png")
        else:
            entry["media_url"] = f"{base}.png"
        entry.update(timestamp=graph_time(self.post.created_at), username=self.world.account(PLATFORM).handle)
        return _pick(entry, spec, _DEFAULT_MEDIA)

    def render(self, spec: Mapping[str, FieldSpec] | None) -> dict[str, Any]:
        _check(spec, _MEDIA_FIELDS, "ShadowIGMedia")
        post, account = self.post, self.world.account(PLATFORM)
        server = self.request.server_url + "/media/"
        out: dict[str, Any] = {"id": self.id, "caption": post.text}
        if not post.media:
            out.update(media_type="IMAGE", media_url=f"{server}{PLATFORM}-{self.index}-card.png")
        elif post.media[0].kind == "video":
            out.update(media_type="VIDEO", media_url=f"{server}{post.media[0].name}.mp4", thumbnail_url=f"{server}{post.media[0].name}.png")
        elif len(post.media) == 1:
            out.update(media_type="IMAGE", media_url=f"{server}{post.media[0].name}.png")
        else:
            # a carousel's own media_url repeats its first child's (user_media_page2.json)
            out.update(media_type="CAROUSEL_ALBUM", media_url=f"{server}{post.media[0].name}.png")
        shortcode = _shortcode(self.index)
        out.update(
            permalink=f"https://www.instagram.com/p/{shortcode}/",
            shortcode=shortcode,
            timestamp=graph_time(post.created_at),
            username=account.handle,
            like_count=post.like_count,
            comments_count=len(self.thread),
            media_product_type="FEED",
            owner={"id": account.native_id},
            is_comment_enabled=True,
        )
        for key, field in (spec or {}).items():
            if field.name == "children" and len(post.media) > 1:
                out[key] = {"data": [self._child(n, field.sub) for n in range(len(post.media))]}
            elif field.name == "comments":
                block = self.comments(field.modifiers, field, None)
                assert isinstance(block, dict)  # no cursor, so no cursor error
                if block["data"]:  # Instagram leaves the field out when there are none
                    out[key] = block
        return _pick(out, spec, _DEFAULT_MEDIA)


def handle(world: World, request: SampleRequest) -> SampleResponse:
    """Answer one Instagram Graph API request for the department account."""
    match = _VERSIONED.fullmatch(request.path)
    parts = (match.group(1) if match else request.path).strip("/").split("/")
    fields = request.arg("fields")
    try:
        spec = parse_fields(fields) if fields else None
    except FieldSyntaxError as exc:
        return graph_error(f"(#100) Syntax error in the fields parameter: {exc}", 100)
    if len(parts) != 2 or not parts[0].isdigit():
        return not_found(parts[0] if parts and parts[0] else "/")
    node, edge = int(parts[0]), parts[1]
    sub = FieldSpec(edge, {}, spec, fields or "") if spec is not None else None
    modifiers = {"limit": v for v in [request.arg("limit")] if v is not None}
    after = request.arg("after")
    try:
        if edge == "media" and parts[0] == world.account(PLATFORM).native_id:
            return _media_listing(world, request, spec)
        if edge == "comments" and 0 <= node - MEDIA_BASE < world.post_count():
            index = node - MEDIA_BASE
            if not world.post(PLATFORM, index).deleted:
                return _answer(_Media(world, index, request).comments(modifiers, sub, after))
        if edge == "replies" and 0 <= node - COMMENT_BASE < world.post_count() * 100:
            index, number = divmod(node - COMMENT_BASE, 100)
            if not world.post(PLATFORM, index).deleted:
                media = _Media(world, index, request)
                if any(r.number == number and top == 0 for r, top in media.thread):
                    return _answer(media.replies(number, modifiers, sub, after))
    except _UnknownField as exc:
        return graph_error(f"(#100) Tried accessing nonexisting field ({exc.name}) on node type ({exc.node})", 100)
    return not_found(parts[0])


def _answer(block: dict[str, Any] | SampleResponse) -> SampleResponse:
    return block if isinstance(block, SampleResponse) else SampleResponse.json(block)


def _media_listing(world: World, request: SampleRequest, spec: Mapping[str, FieldSpec] | None) -> SampleResponse:
    limit = parse_limit(request.arg("limit"), 25)
    start = world.post_count() - 1
    after = request.arg("after")
    if after:
        decoded = decode_cursor(after, 1)
        if decoded is None:
            return bad_cursor("after")
        start = decoded[0] - 1
    chosen: list[_Media] = []
    index = start
    while index >= 0 and len(chosen) < limit:
        if not world.post(PLATFORM, index).deleted:
            chosen.append(_Media(world, index, request))
        index -= 1
    while index >= 0 and world.post(PLATFORM, index).deleted:
        index -= 1
    out: dict[str, Any] = {"data": [m.render(spec) for m in chosen]}
    if chosen:
        cursors = {"before": encode_cursor(chosen[0].index), "after": encode_cursor(chosen[-1].index)}
        paging: dict[str, Any] = {"cursors": cursors}
        query = {k: v[0] for k, v in request.query.items() if k not in ("after", "before") and v}
        if index >= 0:
            paging["next"] = f"{request.base_url}{request.path}?{urlencode({**query, 'after': cursors['after']})}"
        if after:
            paging["previous"] = f"{request.base_url}{request.path}?{urlencode({**query, 'before': cursors['before']})}"
        out["paging"] = paging
    return SampleResponse.json(out)


def ground_truth(world: World) -> set[str]:
    """The ids of every media, comment and reply of the account visible at the world's epoch."""
    out: set[str] = set()
    for post in world.iter_posts(PLATFORM):
        out.add(media_id(post.index))
        out.update(comment_id(post.index, r.number) for r, _ in flatten_thread(world, PLATFORM, post.index))
    return out
