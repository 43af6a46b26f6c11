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
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from archiver.samples.facebook import (
    FieldSpec,
    GraphPost,
    answer,
    bad_cursor,
    check_fields,
    comment_page,
    comment_start,
    flatten_thread,
    graph_time,
    list_posts,
    parse_limit,
    pick_fields,
    serve,
)
from archiver.samples.server import SampleRequest, SampleResponse
from archiver.samples.world import SampleAuthor, SampleReply, World

__all__ = ["handle", "ground_truth", "media_id", "comment_id"]

PLATFORM = "instagram"
MEDIA_BASE = 17_950_000_000_000_000
CHILD_BASE = 17_960_000_000_000_000
COMMENT_BASE = 17_850_000_000_000_000
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


@dataclass
class _Media(GraphPost):
    platform = PLATFORM

    def __post_init__(self) -> None:
        super().__post_init__()
        self.id = media_id(self.index)

    # -- comments -----------------------------------------------------------------------------
    def _comment(self, reply: SampleReply, top: int, spec: Mapping[str, FieldSpec] | None) -> dict[str, Any]:
        check_fields(spec, _COMMENT_FIELDS, "IGComment")
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
        return pick_fields(entry, spec, _DEFAULT_COMMENT)

    def comments(self, modifiers: Mapping[str, str], sub: FieldSpec | None, after: str | None) -> dict[str, Any] | SampleResponse:
        # Instagram lists a media's comments newest first (media_comments_page1.json)
        entries = [(r, top) for r, top in reversed(self.thread) if top == 0]
        return self._page(entries, modifiers, sub, after, f"{self.id}/comments")

    def replies(self, number: int, modifiers: Mapping[str, str], sub: FieldSpec | None, after: str | None) -> dict[str, Any] | SampleResponse:
        entries = [(r, top) for r, top in self.thread if top == number]
        return self._page(entries, modifiers, sub, after, f"{comment_id(self.index, number)}/replies")

    def _page(
        self, entries: list[tuple[SampleReply, int]], modifiers: Mapping[str, str], sub: FieldSpec | None, after: str | None, edge: str
    ) -> dict[str, Any] | SampleResponse:
        start = comment_start(entries, self.index, after)
        if start is None:
            return bad_cursor("after")
        return comment_page(self.request, self.index, entries[start:], parse_limit(modifiers.get("limit"), 25), sub, self._comment, edge)

    # -- the media itself ----------------------------------------------------------------------
    def _child(self, n: int, spec: Mapping[str, FieldSpec] | None) -> dict[str, Any]:
        check_fields(spec, _CHILD_FIELDS, "ShadowIGMedia")
        item = self.post.media[n]
        base = f"{self.request.server_url}/media/{item.name}"
        entry: dict[str, Any] = {"id": str(CHILD_BASE + self.index * 10 + n), "media_type": "VIDEO" if item.kind == "video" else "IMAGE"}
        if item.kind == "video":
            entry.update(media_url=f"{base}.mp4", thumbnail_url=f"{base}.png")
        else:
            entry["media_url"] = f"{base}.png"
        entry.update(timestamp=graph_time(self.post.created_at), username=self.world.account(PLATFORM).handle)
        return pick_fields(entry, spec, _DEFAULT_MEDIA)

    def render(self, spec: Mapping[str, FieldSpec] | None) -> dict[str, Any]:
        check_fields(spec, _MEDIA_FIELDS, "ShadowIGMedia")
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
        return pick_fields(out, spec, _DEFAULT_MEDIA)


def handle(world: World, request: SampleRequest) -> SampleResponse:
    """Answer one Instagram Graph API request for the department account."""
    return serve(request, lambda parts, spec: _route(world, request, parts, spec))


def _route(world: World, request: SampleRequest, parts: list[str], spec: Mapping[str, FieldSpec] | None) -> SampleResponse | None:
    if len(parts) != 2 or not parts[0].isdigit():
        return None
    node, edge = int(parts[0]), parts[1]
    sub = FieldSpec(edge, {}, spec, request.arg("fields") or "") if spec is not None else None
    modifiers = {"limit": v for v in [request.arg("limit")] if v is not None}
    after = request.arg("after")
    if edge == "media" and parts[0] == world.account(PLATFORM).native_id:
        return list_posts(world, PLATFORM, request, lambda index: _Media(world, index, request).render(spec))
    if edge == "comments" and 0 <= node - MEDIA_BASE < world.post_count():
        index = node - MEDIA_BASE
        if not world.post(PLATFORM, index).deleted:
            return answer(_Media(world, index, request).comments(modifiers, sub, after))
    if edge == "replies" and 0 <= node - COMMENT_BASE < world.post_count() * 100:
        index, number = divmod(node - COMMENT_BASE, 100)
        if not world.post(PLATFORM, index).deleted:
            media = _Media(world, index, request)
            if any(r.number == number and top == 0 for r, top in media.thread):
                return answer(media.replies(number, modifiers, sub, after))
    return None


def ground_truth(world: World) -> set[str]:
    """The ids of every media, comment and reply of the account visible at the world's epoch."""
    out: set[str] = set()
    for post in world.iter_posts(PLATFORM):
        out.add(media_id(post.index))
        out.update(comment_id(post.index, r.number) for r, _ in flatten_thread(world, PLATFORM, post.index))
    return out
