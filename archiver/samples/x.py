"""The sample X: the world's department account served in X API v2's shapes.

Paths (after the ``/x`` prefix): ``/2/users/:id/tweets`` (the timeline, newest first, capped at
the 3,200 most recent posts as X caps it) and ``/2/tweets/search/recent`` (also
``/2/tweets/search/all``) for ``conversation_id:`` queries joined by ``OR``, with X's limits:
``max_results`` 5-100 (timeline), 10-100 (recent search) or 10-500 (full archive), and 512
characters of query. Unlike X, recent search is not limited to the last 7 days, so that a
sample harvest can be complete. Fields and expansions are honoured as X does: only the
requested fields are present, and unknown names or parameters get X's 400 answer.

Ids are snowflakes, as X's are: the creation millisecond above bit 22, and below it the post
index (17 bits), an "edited version" flag and the reply number (4 bits). An edited post or
reply is served as its newest version, with a new id and ``edit_history_tweet_ids`` listing
the original first. ``post_index`` reads a post id back.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from archiver.samples.server import SampleRequest, SampleResponse
from archiver.samples.world import SampleAuthor, SamplePost, SampleReply, World

__all__ = ["handle", "ground_truth", "post_id", "reply_id", "post_index", "user_id", "TIMELINE_CAP"]

PLATFORM = "x"
TWEPOCH_MS = 1288834974657
TIMELINE_CAP = 3200
QUERY_MAX_CHARS = 512
_INDEX_BITS = 17
_UNIX = datetime(1970, 1, 1, tzinfo=timezone.utc)
_SEARCH_PATHS = {"/2/tweets/search/recent": 100, "/2/tweets/search/all": 500}
_TIMELINE = re.compile(r"/2/users/([^/]+)/tweets")
_TERM = re.compile(r"conversation_id:(\d{1,20})")

_TWEET_FIELDS = frozenset(
    "article attachments author_id card_uri context_annotations conversation_id created_at display_text_range "
    "edit_controls edit_history_tweet_ids entities geo id in_reply_to_user_id lang media_metadata "
    "non_public_metrics note_tweet organic_metrics possibly_sensitive promoted_metrics public_metrics "
    "referenced_tweets reply_settings scopes source text withheld".split()
)
_USER_FIELDS = frozenset(
    "affiliation connection_status created_at description entities id location most_recent_tweet_id name "
    "pinned_tweet_id profile_banner_url profile_image_url protected public_metrics receives_your_dm "
    "subscription_type url username verified verified_type withheld".split()
)
_MEDIA_FIELDS = frozenset(
    "alt_text duration_ms height media_key non_public_metrics organic_metrics preview_image_url "
    "promoted_metrics public_metrics type url variants width".split()
)
_EXPANSIONS = frozenset(
    "attachments.media_keys attachments.poll_ids author_id edit_history_tweet_ids entities.mentions.username "
    "geo.place_id in_reply_to_user_id entities.note.mentions.username referenced_tweets.id "
    "referenced_tweets.id.attachments.media_keys referenced_tweets.id.author_id".split()
)
_LISTS = {
    "tweet.fields": _TWEET_FIELDS,
    "user.fields": _USER_FIELDS,
    "media.fields": _MEDIA_FIELDS,
    "expansions": _EXPANSIONS,
    "place.fields": frozenset("contained_within country country_code full_name geo id name place_type".split()),
    "poll.fields": frozenset("duration_minutes end_datetime id options voting_status".split()),
}
_TIMELINE_PARAMS = frozenset({"max_results", "pagination_token", "exclude", "start_time", "end_time", "since_id", "until_id", *_LISTS})
_SEARCH_PARAMS = frozenset({"query", "max_results", "next_token", "pagination_token", "start_time", "end_time", "since_id", "until_id", "sort_order", *_LISTS})
_DEFAULT_TWEET = ("id", "text", "edit_history_tweet_ids")
_DEFAULT_USER = ("id", "name", "username")
_DEFAULT_MEDIA = ("media_key", "type")
_LANG = {"en": "en", "hi": "hi", "hi-Latn": "hi"}  # X tags romanised Hindi as Hindi or "und"


# -- ids -------------------------------------------------------------------------------------


def _ms(instant: datetime) -> int:
    delta = instant - _UNIX
    return delta.days * 86_400_000 + delta.seconds * 1000 + delta.microseconds // 1000


def _snowflake(instant: datetime, index: int, number: int, edited: bool) -> str:
    low = ((index & ((1 << _INDEX_BITS) - 1)) << 5) | (int(edited) << 4) | number
    return str(((_ms(instant) - TWEPOCH_MS) << 22) | low)


def post_id(world: World, index: int) -> str:
    """The original id of post ``index`` (its identity, whatever its edits)."""
    return _snowflake(world.created_at(index), index, 0, False)


def reply_id(reply: SampleReply) -> str:
    """The original id of a reply."""
    return _snowflake(reply.created_at, reply.post_index, reply.number, False)


def post_index(world: World, native_id: str) -> int | None:
    """The index of the post whose original id is ``native_id``, or None."""
    if not native_id.isdigit():
        return None
    low = int(native_id) & ((1 << 22) - 1)
    if low & 0x1F:
        return None  # a reply, or an edited version
    for index in range(low >> 5, world.post_count(), 1 << _INDEX_BITS):
        if post_id(world, index) == native_id:
            return index
    return None


def user_id(world: World, author: SampleAuthor) -> str:
    if author.is_department:
        return world.account(PLATFORM).native_id
    return str(1_500_000_000_000_000_000 + author.number)


def _stamp(instant: datetime) -> str:
    instant = instant.astimezone(timezone.utc)
    return f"{instant:%Y-%m-%dT%H:%M:%S}.{instant.microsecond // 1000:03d}Z"


# -- one conversation ------------------------------------------------------------------------


@dataclass
class _Conversation:
    """A post and its thread, rendered as X tweets."""

    world: World
    index: int
    server_url: str

    def __post_init__(self) -> None:
        self.post: SamplePost = self.world.post(PLATFORM, self.index)
        self.replies = {r.number: r for r in self.world.replies(PLATFORM, self.index)}
        self.root_id = post_id(self.world, self.index)
        self.department = self.world.department(PLATFORM)

    def visible(self, number: int) -> bool:
        if number == 0:
            return not self.post.deleted
        return not self.replies[number].deleted

    def original_id(self, number: int) -> str:
        return self.root_id if number == 0 else reply_id(self.replies[number])

    def version_id(self, number: int) -> str:
        if number == 0:
            edited = self.post.edited_at
            return _snowflake(edited, self.index, 0, True) if edited else self.root_id
        reply = self.replies[number]
        return _snowflake(reply.edited_at, self.index, number, True) if reply.edited_at else reply_id(reply)

    def author(self, number: int) -> SampleAuthor:
        return self.department if number == 0 else self.replies[number].author

    def items(self) -> Iterator[int]:
        """The visible numbers: 0 for the post, then the replies."""
        return (n for n in [0, *self.replies] if self.visible(n))

    def media_keys(self) -> list[str]:
        base = int(self.root_id)
        return [f"{'3' if m.kind == 'image' else '7'}_{base - n - 1}" for n, m in enumerate(self.post.media)]

    def media(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for key, item in zip(self.media_keys(), self.post.media):
            image = f"{self.server_url}/media/{item.name}.png"
            entry: dict[str, Any] = {"media_key": key, "width": item.width, "height": item.height}
            if item.kind == "image":
                entry.update(type="photo", url=image)
            else:
                entry.update(
                    type="video",
                    preview_image_url=image,
                    duration_ms=item.duration_ms,
                    variants=[
                        {"bit_rate": 2176000, "content_type": "video/mp4", "url": f"{self.server_url}/media/{item.name}.mp4"},
                    ],
                    public_metrics={"view_count": self.post.view_count},
                )
            if item.alt_text:
                entry["alt_text"] = item.alt_text
            out.append(entry)
        return out

    def render(self, number: int) -> dict[str, Any]:
        """Post (``number`` 0) or reply ``number`` as an X API object."""
        original, version = self.original_id(number), self.version_id(number)
        if number == 0:
            post = self.post
            text, created, edited, lang = post.text, post.created_at, post.edited_at, post.language
            metrics = {
                "retweet_count": post.share_count,
                "reply_count": post.reply_count,
                "like_count": post.like_count,
                "quote_count": 0,
                "bookmark_count": post.like_count // 20,
                "impression_count": post.view_count,
            }
            mentions = [*post.mentions]
            tags, links = post.hashtags, post.links
        else:
            reply = self.replies[number]
            parent_author = self.author(reply.parent_number)
            text = reply.text
            mentions = []
            if parent_author.handle != reply.author.handle:
                # X puts the handle of the author replied to in front of a reply's text
                text = f"@{parent_author.handle} {text}"
                mentions = [parent_author.handle]
            created, edited, lang = reply.created_at, reply.edited_at, reply.language
            children = sum(1 for r in self.replies.values() if r.parent_number == number and not r.deleted)
            metrics = {
                "retweet_count": 0,
                "reply_count": children,
                "like_count": reply.like_count,
                "quote_count": 0,
                "bookmark_count": 0,
                "impression_count": reply.like_count * 13 + 5,
            }
            tags, links = (), ()
        entry: dict[str, Any] = {
            "id": version,
            "text": text,
            "edit_history_tweet_ids": [original, version] if version != original else [original],
            "created_at": _stamp(edited or created),
            "author_id": user_id(self.world, self.author(number)),
            "conversation_id": self.root_id,
            "lang": _LANG.get(lang, "und"),
            "public_metrics": metrics,
            "reply_settings": "everyone",
            "possibly_sensitive": False,
            "edit_controls": {
                "edits_remaining": 4 if edited else 5,
                "is_edit_eligible": number == 0,
                "editable_until": _stamp(created + timedelta(hours=1)),
            },
        }
        entities = _entities(text, tags, mentions, links)
        if entities:
            entry["entities"] = entities
        if number == 0 and self.post.media:
            entry["attachments"] = {"media_keys": self.media_keys()}
        if number:
            parent = self.replies[number].parent_number
            entry["referenced_tweets"] = [{"type": "replied_to", "id": self.original_id(parent)}]
            entry["in_reply_to_user_id"] = user_id(self.world, self.author(parent))
        return entry


def _entities(text: str, tags: tuple[str, ...], mentions: list[str], links: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, needles in (("hashtags", tags), ("mentions", [f"@{m}" for m in mentions]), ("urls", links)):
        found = []
        for needle in needles:
            start = text.find(needle)
            if start < 0:
                continue
            end = start + len(needle)
            if key == "hashtags":
                found.append({"start": start, "end": end, "tag": needle.lstrip("#")})
            elif key == "mentions":
                found.append({"start": start, "end": end, "username": needle[1:]})
            else:
                found.append({"start": start, "end": end, "url": needle, "expanded_url": needle, "display_url": needle.split("://", 1)[-1]})
        if found:
            out[key] = found
    return out


def _user(world: World, author: SampleAuthor) -> dict[str, Any]:
    if author.is_department:
        account = world.account(PLATFORM)
        return {
            "id": account.native_id,
            "name": account.display_name,
            "username": account.handle,
            "created_at": _stamp(account.created_at),
            "verified": True,
            "verified_type": "government",
            "protected": False,
            # X's own count includes the posts it no longer lists; close enough for the cap note
            "public_metrics": {"followers_count": 125_000, "following_count": 80, "tweet_count": world.post_count(), "listed_count": 410},
        }
    return {
        "id": user_id(world, author),
        "name": author.display_name,
        "username": author.handle,
        "created_at": _stamp(datetime(2016, 1, 1, tzinfo=timezone.utc) + timedelta(hours=author.number * 7)),
        "verified": False,
        "protected": False,
        "public_metrics": {"followers_count": author.number % 300, "following_count": author.number % 170, "tweet_count": author.number % 900 + 12, "listed_count": 0},
    }


# -- the page --------------------------------------------------------------------------------


class _BadRequest(Exception):
    def __init__(self, parameter: str, value: str, message: str) -> None:
        super().__init__(message)
        self.parameter, self.value, self.message = parameter, value, message


@dataclass
class _Fields:
    tweet: frozenset[str]
    user: frozenset[str]
    media: frozenset[str]
    expansions: frozenset[str]


def _fields(request: SampleRequest, allowed: frozenset[str]) -> _Fields:
    for name in request.query:
        if name not in allowed:
            raise _BadRequest(name, name, f"The query parameter [{name}] is not one of [{','.join(sorted(allowed))}]")
    chosen: dict[str, frozenset[str]] = {}
    for name, valid in _LISTS.items():
        raw = request.arg(name) or ""
        values = frozenset(v for v in raw.split(",") if v)
        for value in sorted(values - valid):
            raise _BadRequest(name, raw, f"The `{name}` query parameter value [{value}] is not one of [{','.join(sorted(valid))}]")
        chosen[name] = values
    return _Fields(chosen["tweet.fields"], chosen["user.fields"], chosen["media.fields"], chosen["expansions"])


def _pick(entry: Mapping[str, Any], wanted: frozenset[str], default: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if k in wanted or k in default}


def _max_results(request: SampleRequest, low: int, high: int) -> int:
    raw = request.arg("max_results")
    if raw is None:
        return 10
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise _BadRequest("max_results", raw, f"The `max_results` query parameter value [{raw}] is not between {low} and {high}")
    return int(raw)


def _token(parts: list[int], salt: str) -> str:
    payload = "".join(_base36(p).rjust(9, "0") for p in parts)
    return payload + hashlib.sha256(f"{salt}|{payload}".encode()).hexdigest()[:8]


def _untoken(token: str, count: int, salt: str, parameter: str) -> list[int]:
    payload = token[: 9 * count]
    try:
        parts = [int(payload[i : i + 9], 36) for i in range(0, 9 * count, 9)]
    except ValueError:
        parts = []
    if len(token) != 9 * count + 8 or len(parts) != count or _token(parts, salt) != token:
        raise _BadRequest(parameter, token, f"The `{parameter}` query parameter value [{token}] is not valid")
    return parts


def _base36(value: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        value, rest = divmod(value, 36)
        out = digits[rest] + out
        if not value:
            return out


@dataclass
class _PageBuilder:
    """Collects a page's tweets and what its expansions pull in."""

    world: World
    fields: _Fields
    server_url: str

    def __post_init__(self) -> None:
        self.data: list[dict[str, Any]] = []
        self.users: dict[str, dict[str, Any]] = {}
        self.media: list[dict[str, Any]] = []
        self.referenced: dict[str, dict[str, Any]] = {}
        self.errors: list[dict[str, Any]] = []
        self._conversations: dict[int, _Conversation] = {}

    def conversation(self, index: int) -> _Conversation:
        if index not in self._conversations:
            self._conversations[index] = _Conversation(self.world, index, self.server_url)
        return self._conversations[index]

    def add(self, conversation: _Conversation, number: int) -> None:
        entry = conversation.render(number)
        self.data.append(_pick(entry, self.fields.tweet, _DEFAULT_TWEET))
        expansions = self.fields.expansions
        if "author_id" in expansions:
            self._add_user(conversation.author(number))
        if "attachments.media_keys" in expansions and number == 0:
            self.media.extend(_pick(m, self.fields.media, _DEFAULT_MEDIA) for m in conversation.media())
        if number == 0:
            return
        parent = conversation.replies[number].parent_number
        if "in_reply_to_user_id" in expansions:
            self._add_user(conversation.author(parent))
        if "referenced_tweets.id" in expansions:
            parent_id = conversation.original_id(parent)
            if conversation.visible(parent):
                self.referenced[parent_id] = _pick(conversation.render(parent), self.fields.tweet, _DEFAULT_TWEET)
                if "referenced_tweets.id.author_id" in expansions:
                    self._add_user(conversation.author(parent))
            elif all(e["resource_id"] != parent_id for e in self.errors):
                self.errors.append(
                    {
                        "value": parent_id,
                        "detail": f"Could not find tweet with referenced_tweets.id: [{parent_id}].",
                        "title": "Not Found Error",
                        "resource_type": "tweet",
                        "parameter": "referenced_tweets.id",
                        "resource_id": parent_id,
                        "type": "https://api.twitter.com/2/problems/resource-not-found",
                    }
                )

    def _add_user(self, author: SampleAuthor) -> None:
        entry = _user(self.world, author)
        self.users.setdefault(entry["id"], _pick(entry, self.fields.user, _DEFAULT_USER))

    def body(self, next_token: str | None) -> dict[str, Any]:
        if not self.data:
            return {"meta": {"result_count": 0}}
        out: dict[str, Any] = {"data": self.data}
        includes: dict[str, Any] = {}
        if self.users:
            includes["users"] = list(self.users.values())
        if self.referenced:
            includes["tweets"] = list(self.referenced.values())
        if self.media:
            includes["media"] = self.media
        if includes:
            out["includes"] = includes
        if self.errors:
            out["errors"] = self.errors
        meta: dict[str, Any] = {"result_count": len(self.data), "newest_id": self.data[0]["id"], "oldest_id": self.data[-1]["id"]}
        if next_token:
            meta["next_token"] = next_token
        out["meta"] = meta
        return out


def handle(world: World, request: SampleRequest) -> SampleResponse:
    """Answer one X API v2 request from the world."""
    try:
        match = _TIMELINE.fullmatch(request.path)
        if match:
            return _timeline(world, request, match.group(1))
        if request.path in _SEARCH_PATHS:
            return _search(world, request, _SEARCH_PATHS[request.path])
    except _BadRequest as exc:
        return SampleResponse.json(
            {
                "errors": [{"parameters": {exc.parameter: [exc.value]}, "message": exc.message}],
                "title": "Invalid Request",
                "detail": "One or more parameters to your request was invalid.",
                "type": "https://api.twitter.com/2/problems/invalid-request",
            },
            status=400,
        )
    return SampleResponse.json({"errors": [{"message": "Sorry, that page does not exist", "code": 34}]}, status=404)


def _timeline(world: World, request: SampleRequest, account_id: str) -> SampleResponse:
    fields = _fields(request, _TIMELINE_PARAMS)
    size = _max_results(request, 5, 100)
    if account_id != world.account(PLATFORM).native_id:
        return SampleResponse.json(
            {
                "errors": [
                    {
                        "value": account_id,
                        "detail": f"Could not find user with id: [{account_id}].",
                        "title": "Not Found Error",
                        "resource_type": "user",
                        "parameter": "id",
                        "resource_id": account_id,
                        "type": "https://api.twitter.com/2/problems/resource-not-found",
                    }
                ]
            }
        )
    token = request.arg("pagination_token")
    start, served = world.post_count() - 1, 0
    if token:
        position, served = _untoken(token, 2, "timeline", "pagination_token")
        start = position - 1
    page = _PageBuilder(world, fields, request.server_url)
    index = start
    size = min(size, TIMELINE_CAP - served)
    while index >= 0 and len(page.data) < size:
        conversation = page.conversation(index)
        if conversation.visible(0):
            page.add(conversation, 0)
        index -= 1
    served += len(page.data)
    # look past deleted posts so that the last page carries no next_token
    while index >= 0 and world.post(PLATFORM, index).deleted:
        index -= 1
    more = index >= 0 and served < TIMELINE_CAP
    return SampleResponse.json(page.body(_token([index + 1, served], "timeline") if more else None))


def _search(world: World, request: SampleRequest, high: int) -> SampleResponse:
    fields = _fields(request, _SEARCH_PARAMS)
    size = _max_results(request, 10, high)
    query = request.arg("query") or ""
    if not query or len(query) > QUERY_MAX_CHARS:
        raise _BadRequest("query", query, f"There were errors processing your request: Query must be between 1 and {QUERY_MAX_CHARS} characters long")
    ids = []
    for term in query.split(" OR "):
        match = _TERM.fullmatch(term.strip())
        if match is None:
            raise _BadRequest("query", query, f"There were errors processing your request: the sample platform only answers conversation_id: terms joined by OR, not {term[:40]!r}")
        ids.append(match.group(1))
    page = _PageBuilder(world, fields, request.server_url)
    found: list[tuple[int, _Conversation, int]] = []
    for conversation_id in dict.fromkeys(ids):
        index = post_index(world, conversation_id)
        if index is None:
            continue
        conversation = page.conversation(index)
        found.extend((int(conversation.version_id(n)), conversation, n) for n in conversation.items())
    found.sort(key=lambda item: -item[0])  # newest first, as X's search answers
    token = request.arg("next_token") or request.arg("pagination_token")
    offset = _untoken(token, 1, query, "next_token")[0] if token else 0
    for _, conversation, number in found[offset : offset + size]:
        page.add(conversation, number)
    end = offset + size
    return SampleResponse.json(page.body(_token([end], query) if end < len(found) else None))


def ground_truth(world: World, *, include_unreachable: bool = False) -> set[str]:
    """The original ids of every post and reply a complete harvest must capture.

    X's timeline lists only the 3,200 most recent posts, so posts beyond them (and their
    replies) cannot be reached and are left out, unless ``include_unreachable``.
    """
    out: set[str] = set()
    for listed, post in enumerate(world.iter_posts(PLATFORM)):
        if listed >= TIMELINE_CAP and not include_unreachable:
            break
        out.add(post_id(world, post.index))
        out.update(reply_id(r) for r in world.visible_replies(PLATFORM, post.index))
    return out
