"""The sample Mastodon instance: the department's account rendered in Mastodon's REST API shapes.

Answers ``/api/v1/accounts/:id``, ``/api/v1/accounts/:id/statuses`` (``limit`` up to 40,
``max_id``, ``since_id``, ``exclude_replies``, ``exclude_reblogs``; paged with a ``Link`` header
whose ``rel="next"`` appears while pages come back full, as Mastodon does),
``/api/v1/statuses/:id`` and ``/api/v1/statuses/:id/context``. Anything else, and unknown ids,
get Mastodon's ``{"error": "Record not found"}`` with 404.

Status ids are Mastodon-style snowflakes: the status's creation time in milliseconds shifted left
16 bits, with the post index modulo 4096 and the reply number (0 for the post itself) in the low
16 bits. They sort by creation time as Mastodon's do, and parse back: the time finds the post
(``World.created_at`` is increasing, and a reply comes at most ``REPLY_SPAN`` after its post),
the low bits pick it out. Citizens' account ids are ``110000000000000000 + author number``.

The account's timeline holds its posts and its own replies (Mastodon lists both by default),
newest id first, so a reply written today on an older post is at the top, as on Mastodon.
Deleting a status detaches its replies (Mastodon nullifies their ``in_reply_to_id``): a detached
subtree no longer shows in the root's context, and is reachable only through a department reply
inside it. ``ground_truth`` follows the same rules.
"""

from __future__ import annotations

import functools
import heapq
import html
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

from archiver.samples.server import SampleRequest, SampleResponse
from archiver.samples.world import SampleAuthor, SampleMedia, SamplePost, SampleReply, World

__all__ = [
    "handle",
    "ground_truth",
    "status_id",
    "Conversation",
    "conversation",
    "iter_timeline",
    "timeline",
    "listed_statuses",
    "index_at_or_before",
    "locate",
    "REPLY_SPAN",
]

NAME = "mastodon"
MAX_STATUSES = 40
DEFAULT_STATUSES = 20
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_CITIZEN_BASE = 110_000_000_000_000_000
#: a reply comes at most 15 × 240 minutes after its post (``World.replies``)
REPLY_SPAN = timedelta(hours=60, minutes=1)


@dataclass
class Conversation:
    """One post's thread as a platform with detaching deletions shows it.

    Key 0 is the post, other keys are reply numbers. ``parent`` maps each visible record to its
    visible parent, or to None when it has none (a post, or a reply whose parent was deleted).
    """

    post: SamplePost
    replies: dict[int, SampleReply]  #: visible replies by number
    everything: dict[int, SampleReply]  #: all replies by number, deleted ones too
    parent: dict[int, int | None] = field(default_factory=dict)
    children: dict[int, list[int]] = field(default_factory=dict)

    @property
    def index(self) -> int:
        return self.post.index

    def visible(self, key: int) -> bool:
        return not self.post.deleted if key == 0 else key in self.replies

    def reply_count(self, key: int) -> int:
        return len(self.children.get(key, ()))

    def ancestors(self, key: int) -> list[int]:
        """Visible ancestors, oldest first."""
        chain: list[int] = []
        up = self.parent.get(key)
        while up is not None:
            chain.append(up)
            up = self.parent.get(up)
        return chain[::-1]

    def descendants(self, key: int) -> list[int]:
        """Visible descendants reachable through visible parents, depth first, oldest first."""
        out: list[int] = []
        stack = list(reversed(self.children.get(key, ())))
        while stack:
            number = stack.pop()
            out.append(number)
            stack.extend(reversed(self.children.get(number, ())))
        return out

    def department_replies(self) -> list[int]:
        return [n for n, r in self.replies.items() if r.author.is_department]

    def answered_author(self, reply: SampleReply, department: SampleAuthor) -> SampleAuthor:
        """Whom a reply answers, as its text was written (whether or not that status survives)."""
        return department if reply.parent_number == 0 else self.everything[reply.parent_number].author


def conversation(world: World, platform: str, index: int) -> Conversation:
    post = world.post(platform, index)
    everything = {r.number: r for r in world.replies(platform, index)}
    replies = {n: r for n, r in everything.items() if not r.deleted}
    conv = Conversation(post, replies, everything)
    if not post.deleted:
        conv.parent[0] = None
    for number, reply in replies.items():
        up = reply.parent_number
        conv.parent[number] = up if conv.visible(up) else None
        if conv.parent[number] is not None:
            conv.children.setdefault(up, []).append(number)
    return conv


def iter_timeline(
    world: World, platform: str, key_of: Callable[[int, int, datetime], int], start: int, below: int | None = None
) -> Iterator[tuple[int, int, int]]:
    """The account's own statuses (posts and its visible replies) from post ``start`` down, newest
    first by ``key_of(index, number, created_at)``, keys below ``below`` only: (key, index, number).

    Replies are merged in by time: before a post is listed, the replies of every post close enough
    to be newer than it (``REPLY_SPAN``) are loaded, so the look-back, and the memory, stay bounded.
    """
    pending: list[tuple[int, int, int]] = []  # a max-heap of (-key, index, number)
    unloaded = start

    def load(threshold: datetime | None) -> None:
        nonlocal unloaded
        while unloaded >= 0 and (threshold is None or world.created_at(unloaded) + REPLY_SPAN >= threshold):
            for number, created in _own_replies(world.seed, world.posts_per_account, world.epoch, platform, unloaded):
                key = key_of(unloaded, number, created)
                if below is None or key < below:
                    heapq.heappush(pending, (-key, unloaded, number))
            unloaded -= 1

    index = start
    while index >= 0 or pending:
        created = world.created_at(index) if index >= 0 else None
        load(created)
        post_key = key_of(index, 0, created) if created is not None else -1
        if pending and -pending[0][0] > post_key:
            key, reply_index, number = heapq.heappop(pending)
            yield -key, reply_index, number
            continue
        if index < 0:
            break
        if (below is None or post_key < below) and not world.post(platform, index).deleted:
            yield post_key, index, 0
        index -= 1


@functools.lru_cache(maxsize=16384)
def _own_replies(seed: int, posts_per_account: int, epoch: int, platform: str, index: int) -> tuple[tuple[int, datetime], ...]:
    """The account's visible replies under one post: (number, created_at). Cached, and bounded,
    because consecutive pages look back over the same window of posts."""
    world = World(seed=seed, posts_per_account=posts_per_account, epoch=epoch)
    return tuple((r.number, r.created_at) for r in world.replies(platform, index) if r.author.is_department and not r.deleted)


def timeline(world: World, platform: str, statuses: Iterator[tuple[int, int, int]]) -> Iterator[tuple[Conversation, int]]:
    """The conversations behind a timeline's entries: (conversation, reply number or 0)."""
    cache: dict[int, Conversation] = {}
    for _, index, number in statuses:
        if index not in cache:
            if len(cache) > 1024:
                cache.clear()  # the timeline moves down the posts; old ones are not needed again
            cache[index] = conversation(world, platform, index)
        yield cache[index], number


def index_at_or_before(world: World, unit: timedelta, when: int) -> int:
    """The largest post index created at or before ``when`` (``unit``s since 1970), -1 if none."""
    lo, hi = 0, world.post_count() - 1
    found = -1
    while lo <= hi:
        mid = (lo + hi) // 2
        if (world.created_at(mid) - _EPOCH) // unit <= when:
            found, lo = mid, mid + 1
        else:
            hi = mid - 1
    return found


def locate(world: World, platform: str, unit: timedelta, when: int, residue: int, modulus: int, number: int) -> tuple[int, int] | None:
    """(post index, reply number) of the record an id names, or None if it names none.

    The id gives the record's creation time ``when`` in ``unit``s since 1970, its post index
    modulo ``modulus`` (``residue``) and its reply number (0 for the post itself).
    """
    index = index_at_or_before(world, unit, when)
    if number == 0:
        found = index >= 0 and (world.created_at(index) - _EPOCH) // unit == when and index % modulus == residue
        return (index, 0) if found else None
    # a reply: its post is one of those created up to REPLY_SPAN before it, with that residue
    earliest = when - REPLY_SPAN // unit
    candidate = index - (index - residue) % modulus
    while candidate >= 0 and (world.created_at(candidate) - _EPOCH) // unit >= earliest:
        for reply in world.replies(platform, candidate):
            if reply.number == number and (reply.created_at - _EPOCH) // unit == when:
                return candidate, number
        candidate -= modulus
    return None


# -- ids ----------------------------------------------------------------------------------------


def _ms(value: datetime) -> int:
    return (value - _EPOCH) // timedelta(milliseconds=1)


def _status_key(world: World, index: int, number: int, created: datetime) -> int:
    return (_ms(created) << 16) | ((index % 4096) << 4) | number


def status_id(world: World, index: int, number: int = 0) -> str:
    """The id of a post (number 0) or of one of its replies, deleted or not."""
    if number == 0:
        return str(_status_key(world, index, 0, world.created_at(index)))
    reply = next(r for r in world.replies(NAME, index) if r.number == number)
    return str(_status_key(world, index, number, reply.created_at))


def _iter_statuses(world: World, below: int | None = None) -> Iterator[tuple[int, int, int]]:
    start = world.post_count() - 1 if below is None else index_at_or_before(world, timedelta(milliseconds=1), below >> 16)
    return iter_timeline(world, NAME, lambda i, n, t: _status_key(world, i, n, t), start, below)


def _parse_status_id(world: World, text: str) -> tuple[int, int] | None:
    if not text.isdigit() or len(text) > 20:
        return None
    value = int(text)
    return locate(world, NAME, timedelta(milliseconds=1), value >> 16, (value >> 4) & 0xFFF, 4096, value & 0xF)


def _account_id(world: World, author: SampleAuthor) -> str:
    return world.account(NAME).native_id if author.is_department else str(_CITIZEN_BASE + author.number)


def ground_truth(world: World) -> set[str]:
    ids: set[str] = set()
    for conv, key in timeline(world, NAME, _iter_statuses(world)):
        ids.add(_sid(world, conv, key))
        if conv.reply_count(key) > 0:
            ids.update(_sid(world, conv, k) for k in conv.ancestors(key) + conv.descendants(key))
    return ids


def listed_statuses(world: World) -> Iterator[tuple[Conversation, int]]:
    """The account's timeline, newest first, as the statuses endpoint lists it."""
    return timeline(world, NAME, _iter_statuses(world))


def _sid(world: World, conv: Conversation, key: int) -> str:
    created = conv.post.created_at if key == 0 else conv.everything[key].created_at
    return str(_status_key(world, conv.index, key, created))


# -- responses ----------------------------------------------------------------------------------


def handle(world: World, request: SampleRequest) -> SampleResponse:
    parts = request.path.strip("/").split("/")
    if parts[:2] != ["api", "v1"] or len(parts) < 4:
        return _not_found()
    kind, ident, rest = parts[2], parts[3], parts[4:]
    if kind == "accounts" and rest == ["statuses"]:
        return _statuses(world, request, ident)
    if kind == "accounts" and not rest:
        author = _author_by_account_id(world, ident)
        return SampleResponse.json(_account(world, request, author)) if author else _not_found()
    if kind == "statuses" and rest in ([], ["context"]):
        position = _parse_status_id(world, ident)
        if position is None:
            return _not_found()
        conv = conversation(world, NAME, position[0])
        key = position[1]
        if not conv.visible(key):
            return _not_found()
        if not rest:
            return SampleResponse.json(_status(world, request, conv, key))
        return SampleResponse.json(
            {
                "ancestors": [_status(world, request, conv, k) for k in conv.ancestors(key)],
                "descendants": [_status(world, request, conv, k) for k in conv.descendants(key)],
            }
        )
    return _not_found()


def _statuses(world: World, request: SampleRequest, account_id: str) -> SampleResponse:
    if account_id != world.account(NAME).native_id:
        return _not_found()
    limit_text = request.arg("limit") or str(DEFAULT_STATUSES)
    limit = min(MAX_STATUSES, max(1, int(limit_text))) if limit_text.isdigit() else DEFAULT_STATUSES
    max_id = request.arg("max_id")
    since_id = request.arg("since_id")
    upper = int(max_id) if max_id and max_id.isdigit() else None
    lower = int(since_id) if since_id and since_id.isdigit() else None
    exclude_replies = (request.arg("exclude_replies") or "").lower() in ("true", "1")
    page: list[dict[str, object]] = []
    for conv, key in timeline(world, NAME, _iter_statuses(world, upper)):
        if lower is not None and int(_sid(world, conv, key)) <= lower:
            break
        if exclude_replies and key != 0:
            continue
        page.append(_status(world, request, conv, key))
        if len(page) == limit:
            break
    headers = {}
    if page:
        base = f"{request.base_url}/api/v1/accounts/{account_id}/statuses?limit={limit}"
        links = [f'<{base}&min_id={page[0]["id"]}>; rel="prev"']
        if len(page) == limit:  # Mastodon offers a next page while pages come back full
            links.insert(0, f'<{base}&max_id={page[-1]["id"]}>; rel="next"')
        headers["Link"] = ", ".join(links)
    return SampleResponse.json(page, headers=headers)


def _author_by_account_id(world: World, ident: str) -> SampleAuthor | None:
    if ident == world.account(NAME).native_id:
        return world.department(NAME)
    if ident.isdigit() and int(ident) > _CITIZEN_BASE:
        return world.citizen(int(ident) - _CITIZEN_BASE)
    return None


def _status(world: World, request: SampleRequest, conv: Conversation, key: int) -> dict[str, object]:
    department = world.department(NAME)
    sid = _sid(world, conv, key)
    if key == 0:
        post = conv.post
        author, created, text, language, edited = department, post.created_at, post.text, post.language, post.edited_at
        media: tuple[SampleMedia, ...] = post.media
        hashtags, mentions = post.hashtags, post.mentions
        likes, reblogs = post.like_count, post.share_count
        parent_id = parent_account = None
    else:
        reply = conv.replies[key]
        author, created, language, edited = reply.author, reply.created_at, reply.language, reply.edited_at
        answered = conv.answered_author(reply, department)
        text = reply.text if answered.number == author.number else f"@{answered.handle} {reply.text}"
        media, hashtags, mentions = (), (), ((answered.handle,) if answered.number != author.number else ())
        likes, reblogs = reply.like_count, 0
        up = conv.parent[key]
        parent_id = _sid(world, conv, up) if up is not None else None
        parent_account = _account_id(world, answered)
    base = request.base_url
    handle_ = author.handle
    status: dict[str, object] = {
        "id": sid,
        "created_at": _when(created),
        "in_reply_to_id": parent_id,
        "in_reply_to_account_id": parent_account,
        "sensitive": False,
        "spoiler_text": "",
        "visibility": "public",
        "language": "hi" if language.startswith("hi") else language,
        "uri": f"{base}/users/{handle_}/statuses/{sid}",
        "url": f"{base}/@{handle_}/{sid}",
        "replies_count": conv.reply_count(key),
        "reblogs_count": reblogs,
        "favourites_count": likes,
        "quotes_count": 0,
        "edited_at": _when(edited) if edited else None,
        "content": _content(base, text, hashtags, mentions),
        "filtered": [],
        "reblog": None,
        "account": _account(world, request, author),
        "media_attachments": [_attachment(request, sid, n, m) for n, m in enumerate(media)],
        "mentions": [{"id": "0", "username": m, "url": f"{base}/@{m}", "acct": m} for m in mentions],
        "tags": [{"name": t.lstrip("#"), "url": f"{base}/tags/{quote(t.lstrip('#'))}"} for t in hashtags],
        "emojis": [],
        "quote": None,
        "card": None,
        "poll": None,
    }
    if author.is_department:
        status["application"] = {"name": "Web", "website": None}
    return status


def _content(base: str, text: str, hashtags: tuple[str, ...], mentions: tuple[str, ...]) -> str:
    """Mastodon's HTML for a status: hashtag and mention links, shortened link display."""
    words = []
    for word in text.split(" "):
        if word in hashtags:
            tag = word.lstrip("#")
            words.append(f'<a href="{base}/tags/{quote(tag)}" class="mention hashtag" rel="tag">#<span>{html.escape(tag)}</span></a>')
        elif word.startswith("@") and word[1:] in mentions:
            name = word[1:]
            words.append(
                f'<span class="h-card" translate="no"><a href="{base}/@{name}" class="u-url mention">@<span>{html.escape(name)}</span></a></span>'
            )
        elif word.startswith(("http://", "https://")):
            scheme, _, rest = word.partition("://")
            shown, hidden = (rest[:30], rest[30:]) if len(rest) > 30 else (rest, "")
            css = "ellipsis" if hidden else ""
            words.append(
                f'<a href="{html.escape(word)}" target="_blank" rel="nofollow noopener" translate="no">'
                f'<span class="invisible">{scheme}://</span><span class="{css}">{html.escape(shown)}</span>'
                f'<span class="invisible">{html.escape(hidden)}</span></a>'
            )
        else:
            words.append(html.escape(word))
    return "<p>" + " ".join(words) + "</p>"


def _attachment(request: SampleRequest, sid: str, n: int, media: SampleMedia) -> dict[str, object]:
    image = f"{request.server_url}/media/{media.name}.png"
    size = {"width": media.width, "height": media.height, "size": f"{media.width}x{media.height}", "aspect": media.width / media.height}
    small = {"width": 640, "height": 360, "size": "640x360", "aspect": 640 / 360}
    if media.kind == "video":
        seconds = (media.duration_ms or 0) / 1000
        original: dict[str, object] = {**size, "frame_rate": "30/1", "duration": seconds, "bitrate": 1_500_000}
        url, kind = f"{request.server_url}/media/{media.name}.mp4", "video"
    else:
        original, url, kind = size, image, "image"
    return {
        "id": f"{sid}{n}",
        "type": kind,
        "url": url,
        "preview_url": image,
        "remote_url": None,
        "preview_remote_url": None,
        "text_url": None,
        "meta": {"original": original, "small": small},
        "description": media.alt_text,
        "blurhash": "UBL_:rOpGG-;~qRjWBay00xu?bof00WB_3of",
    }


def _account(world: World, request: SampleRequest, author: SampleAuthor) -> dict[str, object]:
    base = request.base_url
    account = world.account(NAME)
    created = account.created_at if author.is_department else datetime(2022, 11, 1, tzinfo=timezone.utc)
    return {
        "id": _account_id(world, author),
        "username": author.handle,
        "acct": author.handle,
        "display_name": author.display_name,
        "locked": False,
        "bot": False,
        "discoverable": True,
        "group": False,
        "created_at": _when(created.replace(hour=0, minute=0, second=0, microsecond=0)),
        "note": "<p>Official account of the Jal Shakti Department.</p>" if author.is_department else "",
        "url": f"{base}/@{author.handle}",
        "uri": f"{base}/users/{author.handle}",
        "avatar": f"{request.server_url}/media/{NAME}-avatar-{author.number}.png",
        "avatar_static": f"{request.server_url}/media/{NAME}-avatar-{author.number}.png",
        "header": f"{base}/headers/original/missing.png",
        "header_static": f"{base}/headers/original/missing.png",
        "followers_count": 48210 if author.is_department else 12,
        "following_count": 35 if author.is_department else 40,
        "statuses_count": world.post_count() if author.is_department else 3,
        "last_status_at": world.now.strftime("%Y-%m-%d"),
        "emojis": [],
        "fields": [],
    }


def _when(value: datetime) -> str:
    value = value.astimezone(timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _not_found() -> SampleResponse:
    return SampleResponse.json({"error": "Record not found"}, status=404)
