"""The Bluesky module: real payloads, bad input, and a round trip with the sample AppView."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
import orjson
import pytest

from archiver.errors import PageParseError
from archiver.model import ApiRequest, Page, RecordId
from archiver.platforms import AccountRef, bluesky, get_platform
from archiver.samples import SampleServer, World
from archiver.samples.bluesky import ground_truth, listed_records, post_uri
from archiver.samples.mastodon import conversation
from tests.platforms import common
from tests.platforms.common import (
    Payloads,
    assert_calls_within_a_tenth,
    by_id,
    count_listed,
    page_or_refusal_tests,
    real_payload_tests,
    records_by_id,
    refusal,
    utc,
    walked,
)
from tests.walk import Walk

REALDATA = common.REALDATA / "bluesky"
POSTS = 150
SHINYA = "did:plc:iijrtk7ocored6zuziwmqq3c"
FEED = bluesky.first_requests(AccountRef("bluesky", SHINYA))[0]


def rid(native_id: str) -> RecordId:
    return RecordId("bluesky", native_id)


def post(did: str, rkey: str) -> str:
    return f"at://{did}/app.bsky.feed.post/{rkey}"


def load(name: str) -> Any:
    return orjson.loads((REALDATA / name).read_bytes())


# -- the module's contract ---------------------------------------------------------------------


def test_module_names() -> None:
    module = get_platform("bluesky")
    assert module.NAME == "bluesky"
    assert module.AUTH.kind == "bearer"
    assert module.DEFAULT_BASE_URL == "https://public.api.bsky.app"
    assert module.LISTING_ENDPOINTS == frozenset({"author_feed"})


def test_first_request_lists_the_author_feed_with_replies_100_at_a_time() -> None:
    assert FEED == ApiRequest(
        "author_feed",
        "/xrpc/app.bsky.feed.getAuthorFeed",
        (("actor", SHINYA), ("limit", "100"), ("filter", "posts_with_replies")),
        SHINYA,
    )
    assert bluesky.thread_request("at://x/app.bsky.feed.post/y").params == (("uri", "at://x/app.bsky.feed.post/y"), ("depth", "1000"), ("parentHeight", "0"))


# -- real payloads ---------------------------------------------------------------------------------


def check_author_feed(name: str) -> None:
    page = bluesky.parse_page(FEED, (REALDATA / name).read_bytes(), {})
    posts = by_id(page)
    assert len(page.posts) == 49  # 25 feed items, the posts they repost, reply to and quote, each once
    kinds = [p.kind for p in page.posts]
    assert (kinds.count("post"), kinds.count("reply"), kinds.count("repost"), kinds.count("quote")) == (12, 34, 2, 1)
    # a repost: its own record (named by the viewer state, the reposter's repository) then the post
    repost, original = page.posts[0], page.posts[1]
    assert repost.record_id == rid(f"at://{SHINYA}/app.bsky.feed.repost/3jukzkrnytl2r") and repost.kind == "repost"
    assert repost.author is not None and (repost.author.native_id, repost.author.handle) == (SHINYA, "shinyakato.dev")
    assert repost.created_at == utc(2023, 4, 30, 6, 33, 13, 578000)  # reason.indexedAt, not the post's time
    assert original.record_id == rid(post("did:plc:gggcwmwoyak6op4pkqm76ckz", "3jukz62npim26")) and original.kind == "post"
    assert original.created_at == utc(2023, 4, 30, 6, 26, 7, 1000) and original.reply_count == 6
    assert repost.text == original.text and original.text.startswith("Had a great time at the Seattle meetup!")
    assert page.extra["references"][str(repost.record_id)] == str(original.record_id)
    (image,) = original.media
    assert image.kind == "image" and image.url is not None and image.url.endswith("bafkreiactiikzqoiisabzjvapodlm4ldcrgvh2pc7bqyasdgsz67vi2l7a@jpeg")
    assert image.url.startswith("https://cdn.bsky.social/imgproxy/5DeoD2mnyO4pL_ljZrc25iKbg1jJsmg8k8Af8cVEers/rs:fit:2000:2000")  # fullsize
    # a reply: parent and root from its record; the root and parent views become records too
    reply = posts[post(SHINYA, "3jukterj4bp2j")]
    assert reply.kind == "reply" and reply.text == "Thx, yes he is! 😆"
    assert reply.parent_id == rid(post("did:plc:gojiv3xdlwobtke4csnksyyb", "3jukqq23rvy2w"))
    assert reply.root_id == rid(post(SHINYA, "3jukoxegkhw2s"))
    assert reply.parent_id.native_id in posts and reply.root_id.native_id in posts
    assert reply.url == f"https://bsky.app/profile/{SHINYA}/post/3jukterj4bp2j"
    # a quote with images, shown as a reply's parent, and the record it quotes
    quote = posts[post("did:plc:ortrrmj7ycrnkawtbrun4njs", "3jukcbctj3q2p")]
    quoted = post("did:plc:wcln37v327w2v3ug6d2mcxao", "3juk7gjdh252i")
    assert quote.kind == "quote" and len(quote.media) == 1 and posts[quoted].author is not None
    assert page.extra["references"][str(quote.record_id)] == f"bluesky:{quoted}"
    # a link card
    card = posts[post(SHINYA, "3jukdwsblqu2l")]
    assert [(m.kind, m.url, m.alt_text) for m in card.media] == [("other", "https://psky.app/profile/why.bsky.team/post/3juk5phzpf62w", "Whyrusleeping (@why.bsky.team)")]
    # the account's own items with replies need their threads; reposted posts do not
    assert len(page.follow_ups) == 12 and all(f.endpoint == "thread" for f in page.follow_ups)
    assert page.follow_ups[0] == bluesky.thread_request(post(SHINYA, "3jukoxegkhw2s"))
    assert all(f.target.startswith(f"at://{SHINYA}/") for f in page.follow_ups)
    assert page.next == ApiRequest(
        "author_feed", FEED.path, FEED.params + (("cursor", "1682809172466::bafyreihdpdn7uiqmshzb2y4o67gzy2aeairq6phuk476k2oidhy2p5dbwu"),), SHINYA
    )
    assert page.missing == ()
    # the feed's own 25 items, in order; the posts they answer, quote and repost are context
    listed = page.listed
    assert len(listed) == 25 and listed[0] == (repost.record_id, utc(2023, 4, 30, 6, 33, 13, 578000))
    assert listed[1] == (reply.record_id, utc(2023, 4, 30, 4, 42, 29, 589000))
    assert original.record_id not in {record for record, _ in listed}


def check_nested_thread(name: str) -> None:
    top_uri = post("did:plc:by3jhwdqgbtrcc7q4tkkv3cf", "3jtvi2jrijx2y")
    page = bluesky.parse_page(bluesky.thread_request(top_uri), (REALDATA / name).read_bytes(), {})
    assert [(p.record_id.native_id.rsplit("/", 1)[1], p.kind, p.parent_id.native_id.rsplit("/", 1)[1] if p.parent_id else None) for p in page.posts] == [
        ("3jtvi2jrijx2y", "quote", None),
        ("3jtoq4zmhvz2z", "post", None),  # the quoted post, after the post that quotes it
        ("3jtvjdinqcm2a", "reply", "3jtvi2jrijx2y"),
        ("3jtviwrkkbn2e", "reply", "3jtvi2jrijx2y"),
        ("3jtvu6gnhmk2r", "reply", "3jtviwrkkbn2e"),  # nested two levels
    ]
    top = page.posts[0]
    assert top.reply_count == 2 and top.created_at == utc(2023, 4, 21, 16, 54, 0, 468000)
    assert [(m.kind, m.url) for m in top.media] == [("other", "https://bluesky-heatmap.fly.dev/")]  # recordWithMedia: the card
    assert all(p.root_id == rid(top_uri) for p in page.posts[2:])
    assert page.posts[4].author is not None and page.posts[4].author.handle == "tautologer.com" and page.posts[4].text == ""
    assert page.extra["references"] == {f"bluesky:{top_uri}": f"bluesky:{post('did:plc:by3jhwdqgbtrcc7q4tkkv3cf', '3jtoq4zmhvz2z')}"}
    assert page.follow_ups == () and page.next is None and page.missing == ()


def check_thread_with_parents(name: str) -> None:
    top_uri = post("did:plc:iuk433sj23ncu2oo2pfnw7fw", "3jujgsslyxt2h")
    page = bluesky.parse_page(bluesky.thread_request(top_uri), (REALDATA / name).read_bytes(), {})
    assert len(page.posts) == 58  # the post, 53 parents, 4 replies
    top = page.posts[0]
    assert top.record_id == rid(top_uri) and top.text == "hellthread hellthread hellthread\n\ndid it work?"
    assert top.parent_id == rid(post("did:plc:mf5dzzqkp7fnmby6blfeljwj", "3jujdjxptu42j"))
    assert top.root_id == rid(post("did:plc:nx3kofpg4oxmkonqr6su5lw4", "3juhgsu4tpi2e"))
    assert page.posts[1].record_id == top.parent_id  # the nearest parent next
    # the chain ends in a blocked post (whose author has "type", not "$type")
    assert page.missing == ((post("did:plc:24lz3lshhmjsieafxih4exlw", "3jui52oiuad24"), "blocked"),)
    replies = page.posts[-4:]
    assert all(r.parent_id == rid(top_uri) for r in replies)
    assert replies[0].record_id == rid(post("did:plc:yxobbkztpigv6u4jnwymnwvp", "3jve4frgrzy2f"))
    assert page.follow_ups == ()


CHECKS: dict[str, Callable[[str], None]] = {
    "get_author_feed_page_with_cursor.json": check_author_feed,
    "get_post_thread_nested_replies.json": check_nested_thread,
    "get_post_thread_parents_and_replies.json": check_thread_with_parents,
}


test_real_payload, test_every_check_has_its_payload = real_payload_tests("bluesky", CHECKS, __file__)


# -- shapes built from the real ones ---------------------------------------------------------------

THREAD: dict[str, Any] = load("get_post_thread_nested_replies.json")
FEED_BODY: dict[str, Any] = load("get_author_feed_page_with_cursor.json")
TOP_URI = THREAD["thread"]["post"]["uri"]


def test_not_found_and_blocked_replies_are_missing() -> None:
    thread = copy.deepcopy(THREAD)
    gone = post("did:plc:gone", "3aaaaaaaaaaaa")
    blocked = post("did:plc:blocker", "3bbbbbbbbbbbb")
    thread["thread"]["replies"] += [
        {"$type": "app.bsky.feed.defs#notFoundPost", "uri": gone, "notFound": True},
        {"$type": "app.bsky.feed.defs#blockedPost", "uri": blocked, "blocked": True, "author": {"did": "did:plc:blocker", "viewer": {}}},
    ]
    page = bluesky.parse_page(bluesky.thread_request(TOP_URI), orjson.dumps(thread), {})
    assert page.missing == ((gone, "not found"), (blocked, "blocked"))
    assert len(page.posts) == 5


def test_a_thread_whose_post_is_gone_has_only_missing() -> None:
    uri = post("did:plc:gone", "3aaaaaaaaaaaa")
    page = bluesky.parse_page(bluesky.thread_request(uri), orjson.dumps({"thread": {"$type": "app.bsky.feed.defs#notFoundPost", "uri": uri, "notFound": True}}), {})
    assert page.posts == () and page.missing == ((uri, "not found"),)


def test_a_thread_cut_by_depth_asks_for_the_rest() -> None:
    thread = copy.deepcopy(THREAD)
    middle = thread["thread"]["replies"][1]  # 3jtviwrkkbn2e, replyCount 1
    del middle["replies"]
    page = bluesky.parse_page(bluesky.thread_request(TOP_URI), orjson.dumps(thread), {})
    assert page.follow_ups == (bluesky.thread_request(middle["post"]["uri"]),)


def test_feed_item_whose_parent_was_deleted() -> None:
    body = copy.deepcopy(FEED_BODY)
    item = body["feed"][1]
    parent = item["reply"]["parent"]["uri"]
    item["reply"]["parent"] = {"$type": "app.bsky.feed.defs#notFoundPost", "uri": parent, "notFound": True}
    body["feed"] = [item]
    page = bluesky.parse_page(FEED, orjson.dumps(body), {})
    assert [p.record_id.native_id for p in page.posts] == [item["post"]["uri"], item["reply"]["root"]["uri"]]
    assert page.posts[0].parent_id == rid(parent)  # the record still says what it answered
    assert page.missing == ((parent, "not found"),)


def test_repost_named_by_reason_uri_or_made_up() -> None:
    body = copy.deepcopy(FEED_BODY)
    item = body["feed"][0]
    item["reason"]["uri"] = f"at://{SHINYA}/app.bsky.feed.repost/3newrepost222"
    body["feed"] = [item]
    page = bluesky.parse_page(FEED, orjson.dumps(body), {})
    assert page.posts[0].record_id == rid(f"at://{SHINYA}/app.bsky.feed.repost/3newrepost222")
    del item["reason"]["uri"]
    item["post"]["viewer"] = {}
    page = bluesky.parse_page(FEED, orjson.dumps(body), {})
    assert page.posts[0].record_id == rid(f"{item['post']['uri']}#repostedBy={SHINYA}")


def test_video_embed_and_languages() -> None:
    body = copy.deepcopy(FEED_BODY)
    item = body["feed"][4]  # 3jukoxegkhw2s, an images post
    item["post"]["embed"] = {
        "$type": "app.bsky.embed.video#view",
        "cid": "bafkreivideo",
        "playlist": "https://video.bsky.app/watch/did%3Aplc%3Ax/bafkreivideo/playlist.m3u8",
        "thumbnail": "https://video.bsky.app/watch/did%3Aplc%3Ax/bafkreivideo/thumbnail.jpg",
        "alt": "बाढ़ का दृश्य",
    }
    item["post"]["record"]["langs"] = ["hi", "en"]
    body["feed"] = [item]
    (only,) = bluesky.parse_page(FEED, orjson.dumps(body), {}).posts
    (video,) = only.media
    assert (video.kind, video.native_id, video.alt_text, video.duration_ms) == ("video", "bafkreivideo", "बाढ़ का दृश्य", None)
    assert video.url is not None and video.url.endswith("playlist.m3u8") and only.language == "hi"


def test_no_cursor_or_an_empty_feed_ends_the_listing() -> None:
    assert bluesky.parse_page(FEED, orjson.dumps({"feed": FEED_BODY["feed"][:2]}), {}).next is None
    assert bluesky.parse_page(FEED, orjson.dumps({"feed": [], "cursor": "1682809172466::x"}), {}).next is None


# -- bad input ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_", "body", "expected"),
    [
        (FEED, b"<!DOCTYPE html><html><body>Bad Gateway</body></html>", "the response is an HTML page"),
        (FEED, b'{"feed": [ {"post": }', "malformed or truncated JSON"),
        (FEED, b'{"feed": [{"post": {"uri": "at://', "malformed or truncated JSON"),
        (FEED, b'{"error": "InvalidRequest", "message": "Profile not found"}', "'InvalidRequest' (Profile not found). Check the account's DID"),
        (FEED, b'{"error": "ExpiredToken", "message": "Token has expired"}', "log in again with the app password"),
        (FEED, b'{"feed": {}}', "expected a list, got dict at feed"),
        (FEED, b'{"feed": [{"post": {"uri": 7}}]}', "expected a non-empty string, got int at feed[0].post.uri"),
        (FEED, b'{"feed": [{"post": {"uri": "at://a/b/c", "record": {"text": 5}}}]}', "expected a string, got int at feed[0].post.record.text"),
        (bluesky.thread_request("at://a/b/c"), b'{"thread": []}', "expected an object, got list at thread"),
        (bluesky.thread_request("at://a/b/c"), b'{"thread": {"$type": "app.bsky.feed.defs#notFoundPost"}}', "at thread.uri"),
    ],
)
def test_bad_bodies_raise_page_parse_error(request_: ApiRequest, body: bytes, expected: str) -> None:
    error = refusal(bluesky.parse_page, request_, body)
    assert expected in error.message
    assert error.message.startswith(f"bluesky {request_.endpoint} {request_.path}: ")


REQUESTS = [FEED, bluesky.thread_request(TOP_URI)]
MUTABLE = Payloads(
    REALDATA,
    {
        "get_author_feed_page_with_cursor.json": FEED,
        "get_post_thread_nested_replies.json": REQUESTS[1],
        "get_post_thread_parents_and_replies.json": bluesky.thread_request("at://did:plc:iuk433sj23ncu2oo2pfnw7fw/app.bsky.feed.post/3jujgsslyxt2h"),
    },
)

(
    test_arbitrary_bytes_give_a_page_or_page_parse_error,
    test_arbitrary_json_gives_a_page_or_page_parse_error,
    test_real_payloads_with_one_value_replaced_give_a_page_or_page_parse_error,
) = page_or_refusal_tests(bluesky.parse_page, REQUESTS, MUTABLE)


# -- round trip with the sample AppView ---------------------------------------------------------------


def minimum_calls(world: World) -> int:
    """The fewest calls that can capture the account, given the API's limits.

    The author feed (its posts and its own replies) at 100 items per page, the most it serves, and
    one getPostThread per feed item with replies: a thread is the only way to reach replies, and
    one call returns it whole (depth up to 1000).
    """
    listed, with_replies = count_listed(listed_records(world))
    return max(1, math.ceil(listed / 100)) + with_replies


epoch0 = walked("bluesky", POSTS, 0)
epoch1 = walked("bluesky", POSTS, 1)


def test_round_trip_captures_the_ground_truth(epoch0: tuple[SampleServer, Walk]) -> None:
    server, walk = epoch0
    assert {p.record_id.native_id for p in walk.posts} == ground_truth(server.world)
    assert {p.kind for p in walk.posts} == {"post", "reply"}


def test_round_trip_links_replies_to_their_parents_and_roots(epoch0: tuple[SampleServer, Walk]) -> None:
    server, walk = epoch0
    kinds = {p.record_id: p.kind for p in walk.posts}
    for record in walk.posts:
        if record.kind == "post":
            assert record.parent_id is None and record.root_id is None
        else:
            assert record.parent_id in kinds and record.root_id is not None and kinds[record.root_id] == "post"


def test_round_trip_keeps_text_hindi_and_media(epoch0: tuple[SampleServer, Walk]) -> None:
    server, walk = epoch0
    world = server.world
    posts = {p.record_id.native_id: p for p in walk.posts}
    hindi = media_checked = 0
    for index in range(world.post_count()):
        conv = conversation(world, "bluesky", index)
        got = posts[post_uri(world, conv, 0)]
        assert got.text == conv.post.text and got.language == conv.post.language
        assert got.created_at == conv.post.created_at.replace(microsecond=conv.post.created_at.microsecond // 1000 * 1000)
        hindi += conv.post.language == "hi"
        if conv.post.media:
            first = conv.post.media[0]
            if first.kind == "video":
                (video,) = got.media
                assert (video.kind, video.url, video.preview_url) == ("video", f"{server.url}/media/{first.name}.mp4", f"{server.url}/media/{first.name}.png")
            else:
                assert [(m.kind, m.url, m.alt_text) for m in got.media] == [("image", f"{server.url}/media/{m.name}.png", m.alt_text) for m in conv.post.media]
            media_checked += 1
        elif conv.post.links:
            assert [(m.kind, m.url) for m in got.media] == [("other", conv.post.links[0])]
        for number, reply in conv.replies.items():
            uri = post_uri(world, conv, number)
            if uri in posts:
                author = posts[uri].author
                assert posts[uri].text == reply.text and author is not None
                assert author.handle == (world.account("bluesky").handle if reply.author.is_department else f"{reply.author.handle}.bsky.social")
    assert hindi > 10 and media_checked > 20


def test_round_trip_calls_stay_within_a_tenth_of_the_minimum(epoch0: tuple[SampleServer, Walk]) -> None:
    server, walk = epoch0
    assert_calls_within_a_tenth(walk, minimum_calls(server.world))


def fetch(server: SampleServer, request: ApiRequest) -> Page:
    return common.fetch(server, "bluesky", request)


def listed_uris(server: SampleServer) -> list[str]:
    return [post_uri(server.world, conv, key) for conv, key in listed_records(server.world)]


def feed_ids(page: Page) -> list[str]:
    # a feed page also shows the posts its replies answer; Page.listed names the feed's own
    return [record.native_id for record, _ in page.listed]


def test_feed_lists_posts_and_own_replies_by_creation_time() -> None:
    with SampleServer(World(seed=5, posts_per_account=250)) as server:
        request: ApiRequest | None = bluesky.first_requests(AccountRef("bluesky", server.world.account("bluesky").native_id))[0]
        listed: list[str] = []
        times: list[datetime] = []
        while request is not None:
            page = fetch(server, request)
            listed += feed_ids(page)
            times += [when for _, when in page.listed if when is not None]
            request = page.next
        assert listed == listed_uris(server)
        # the department's own replies sit among its posts by when they were written
        assert len(times) == len(listed) and times == sorted(times, reverse=True)
        assert sum(key != 0 for _, key in listed_records(server.world)) > 20


def test_sample_errors_have_xrpc_shapes() -> None:
    with SampleServer(World(seed=5, posts_per_account=20)) as server:
        auth = {"Authorization": f"Bearer {server.world.token('bluesky')}"}
        gone = bluesky.thread_request(f"at://{server.world.account('bluesky').native_id}/app.bsky.feed.post/3aaaaaaaaaaaa")
        response = httpx.get(server.base_url("bluesky") + gone.path, params=list(gone.params), headers=auth)
        assert response.status_code == 400 and response.json()["error"] == "NotFound"
        with pytest.raises(PageParseError, match="'NotFound' \\(Post not found: at://"):
            bluesky.parse_page(gone, response.content, dict(response.headers))
        method = httpx.get(server.base_url("bluesky") + "/xrpc/app.bsky.feed.searchPosts", headers=auth)
        assert method.status_code == 501 and method.json()["error"] == "MethodNotImplemented"
        too_many = httpx.get(server.base_url("bluesky") + FEED.path, params={"actor": server.world.account("bluesky").native_id, "limit": "101"}, headers=auth)
        assert too_many.status_code == 400 and too_many.json()["error"] == "InvalidRequest"


def test_feed_paging_is_stable_while_the_world_grows() -> None:
    with SampleServer(World(seed=5, posts_per_account=250)) as server:
        before = listed_uris(server)
        page = fetch(server, bluesky.first_requests(AccountRef("bluesky", server.world.account("bluesky").native_id))[0])
        first = before[:100]
        server.set_epoch(1)
        rest: list[str] = []
        request = page.next
        while request is not None:
            page = fetch(server, request)
            rest += feed_ids(page)
            request = page.next
        still_there = set(listed_uris(server))
        assert rest == [i for i in before[100:] if i in still_there]


def test_epoch1_drops_deleted_shows_edits_and_new_posts(epoch1: tuple[SampleServer, Walk]) -> None:
    server, walk = epoch1
    world = server.world
    posts = records_by_id(walk.posts)
    ids = set(posts)
    assert ids == ground_truth(world)
    deleted = edited = new = 0
    for index in range(world.post_count()):
        conv = conversation(world, "bluesky", index)
        uri = post_uri(world, conv, 0)
        if index >= world.posts_per_account and not conv.post.deleted:
            new += 1
            assert uri in ids
        if conv.post.edited_at is not None and not conv.post.deleted:
            # Bluesky has no edit time: the changed text (and a new CID) is what shows the edit
            edited += 1
            assert posts[uri].text == conv.post.text and posts[uri].edited_at is None
        for number, reply in conv.everything.items():
            if reply.deleted:
                deleted += 1
                assert post_uri(world, conv, number) not in ids
    assert new == POSTS // 20 and deleted > 0 and edited > 0
