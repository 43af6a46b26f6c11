"""X: real recorded pages, bad input, and a round trip through the sample X."""

from __future__ import annotations

import dataclasses
import math
import re
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any

import orjson
import pytest
import yaml
from hypothesis import strategies as st

from archiver.errors import PageParseError
from archiver.model import ApiRequest, Media, RecordId
from archiver.platforms import AccountRef
from archiver.platforms import x
from archiver.samples import SampleServer, World
from archiver.samples import x as sample_x
from archiver.samples.server import SampleRequest
from tests.platforms import common
from tests.platforms.common import (
    ORJSON,
    at,
    by_id,
    only_page_parse_error_tests,
    real_file_tests,
    refusal,
    serving,
    walk_before_and_after,
)
from tests.walk import walk_platform

REALDATA = common.REALDATA / "x"

TIMELINE = x.first_requests(AccountRef("x", "2351222345", "PhillyNEFL"))[0]
SEARCH = x.reply_requests([("1391899066431311872", 5)])[0]


def rid(native_id: str) -> RecordId:
    return RecordId("x", native_id)


def to_ms(instant: datetime) -> datetime:
    """X's timestamps and snowflake ids keep milliseconds."""
    return instant.replace(microsecond=instant.microsecond // 1000 * 1000)


# -- real recorded pages ---------------------------------------------------------------------------


def check_users_tweets_page() -> None:
    body = (REALDATA / "users_tweets_page_expansions_next_token.json").read_bytes()
    page = x.parse_page(TIMELINE, body, {})
    assert len(page.posts) == 100
    assert Counter(p.kind for p in page.posts) == {"reply": 41, "repost": 34, "post": 25}
    posts = by_id(page)
    first = page.posts[0]
    assert first.record_id == rid("1257786232978968578")
    assert first.kind == "repost" and first.text == "RT @frankgore: #Year16 ✈️✈️✈️"
    assert first.author is not None and (first.author.native_id, first.author.handle, first.author.display_name) == ("2351222345", "PhillyNEFL", "Philly NEFL")
    assert first.created_at == at("2020-05-05T21:36:21")
    assert first.counters == (("likes", 0), ("reposts", 732), ("quotes", 0))
    reply = posts["1257712972564180997"]
    assert reply.kind == "reply"
    assert reply.parent_id == rid("1257680252781899776") and reply.root_id == rid("1257680252781899776")
    deep = posts["1257638660721250304"]  # a reply to a reply: parent and root differ
    assert deep.parent_id == rid("1257513542040895491") and deep.root_id == rid("1257513246103224321")
    assert deep.url == "https://x.com/PhillyNEFL/status/1257638660721250304"
    media = [m for p in page.posts for m in p.media]
    assert media[0] == Media("video", None, native_id="13_1257090303334338561", preview_url="https://pbs.twimg.com/amplify_video_thumb/1257090303334338561/img/UI7Cw1B9xb896hgO.jpg", duration_ms=55334)
    assert media[1] == Media("image", "https://pbs.twimg.com/media/EXGQ8XgXkAA5YQF.jpg", native_id="3_1256945137789407232")
    assert Counter(m.kind for m in media) == {"video": 13, "image": 8, "gif": 1}
    assert page.next is not None and page.next.endpoint == "timeline" and page.next.path == "/2/users/2351222345/tweets"
    assert dict(page.next.params)["pagination_token"] == "7140dibdnow9c7btw3t3bne6afapt2a6nif3ncl044raq"
    assert dict(page.next.params)["max_results"] == "100"
    assert page.missing == (("1252320537600299008", "Not Found Error: Could not find tweet with referenced_tweets.id: [1252320537600299008]."),)
    assert page.limit_note is None  # not the last page
    # nine posts have replies, in eight conversations, searched in one query
    assert len(page.follow_ups) == 1
    search = page.follow_ups[0]
    assert search.endpoint == "replies" and search.path == x.SEARCH_PATH
    query = dict(search.params)["query"]
    assert query.count("conversation_id:") == 8 and "conversation_id:1256945149231484928" in query
    assert len(query) <= x.QUERY_MAX_CHARS
    assert search.target.split(",") == re.findall(r"conversation_id:(\d+)", query)


def check_search_recent_page() -> None:
    body = (REALDATA / "search_recent_from_account_page.json").read_bytes()
    page = x.parse_page(SEARCH, body, {})
    assert len(page.posts) == 100
    assert Counter(p.kind for p in page.posts) == {"repost": 42, "post": 38, "quote": 14, "reply": 6}
    first = page.posts[0]
    assert (first.record_id, first.text, first.reply_count, first.language) == (rid("1392238204925906946"), "We’re back.", 37, "en")
    assert first.author is not None and first.author.display_name == "مريم البرغوثي"
    reply = by_id(page)["1391900143176327169"]
    assert reply.parent_id == rid("1391899066431311872") and reply.root_id == rid("1391899066431311872")
    assert by_id(page)["1392059378782642183"].kind == "quote"
    photos = by_id(page)["1392093222600589315"].media
    assert [m.url for m in photos] == ["https://pbs.twimg.com/media/E1G1VE_WQAIc_ku.jpg", "https://pbs.twimg.com/media/E1G1VE9X0AERWNg.jpg"]
    assert page.next is not None and page.next.path == SEARCH.path and page.next.target == SEARCH.target
    assert dict(page.next.params)["next_token"] == "b26v89c19zqg8o3foswqkggm39wgo8ndmhejepwm9qzy5"
    assert dict(page.next.params)["query"] == dict(SEARCH.params)["query"]
    assert page.follow_ups == () and page.missing == () and page.limit_note is None


def check_search_all_page() -> None:
    body = (REALDATA / "search_all_page_indic_text.json").read_bytes()
    request = dataclasses.replace(SEARCH, path=x.FULL_ARCHIVE_SEARCH_PATH)
    page = x.parse_page(request, body, {})
    assert len(page.posts) == 112
    assert Counter(p.kind for p in page.posts) == {"repost": 49, "post": 35, "reply": 20, "quote": 8}
    tamil = by_id(page)["1404371096133013507"]
    assert tamil.text.startswith("RT @updatenews360: #Jio #Reliance குட்டீஸ் முதல் 90ஸ் வரை") and tamil.language == "ta"
    # media keys listed, but nothing in includes.media: the key is kept, with no URL
    quote = by_id(page)["1404371642944344069"]
    assert quote.media == (Media("image", None, native_id="3_1404371640121651202"),)
    withheld = by_id(page)["1404396331897085955"]
    assert withheld.author is not None and withheld.author.handle == "ChandiaJamil" and withheld.kind == "repost"
    assert page.missing == (
        ("user:RSS4India", "Forbidden: User has been suspended: [RSS4India]."),
        ("user:Anoop455", "Forbidden: User has been suspended: [Anoop455]."),
        ("user:2245", "Forbidden: User has been suspended: [2245]."),
    )
    assert page.next is not None and page.next.path == x.FULL_ARCHIVE_SEARCH_PATH
    assert dict(page.next.params)["next_token"] == "b26v89c19zqg8o3fpdg8lmm4dliiv5ib2jv0g92yq0yv1"


def cassette_responses(name: str) -> Iterator[tuple[dict[str, Any], bytes, dict[str, str]]]:
    cassette = yaml.safe_load((REALDATA / name).read_text(encoding="utf-8"))
    for interaction in cassette["interactions"]:
        response = interaction["response"]
        headers = {k: v[0] for k, v in response["headers"].items()}
        yield interaction, response["body"]["string"].encode("utf-8"), headers


def check_cassette_users_tweets() -> None:
    ((interaction, body, headers),) = cassette_responses("cassette_users_tweets.yaml")
    assert interaction["request"]["uri"] == "https://api.twitter.com/2/users/783214/tweets"
    assert interaction["response"]["status"]["code"] == 200 and headers["x-rate-limit-limit"] == "1500"
    request = x.first_requests(AccountRef("x", "783214", "Twitter"))[0]
    page = x.parse_page(request, body, headers)
    assert [p.record_id for p in page.posts] == [rid("1577730467436138524"), rid("1565318587736285184")]
    assert page.posts[1].text.startswith("if you see an edited Tweet it's because we're testing the edit button")
    # no fields asked for: the creation time comes from the snowflake id
    assert page.posts[0].created_at == datetime(2022, 10, 5, 18, 40, 30, 908000, tzinfo=timezone.utc)
    assert page.posts[0].author is None and page.posts[0].url == "https://x.com/i/web/status/1577730467436138524"
    assert page.next is not None and dict(page.next.params)["pagination_token"] == "7140dibdnow9c7btw4232poeq0wapgnwgwqwvuwn3peex"
    assert page.follow_ups == () and page.limit_note is None


def check_cassette_search_recent() -> None:
    ((interaction, body, headers),) = cassette_responses("cassette_search_recent.yaml")
    assert interaction["request"]["uri"].endswith("/2/tweets/search/recent?query=Tweepy")
    page = x.parse_page(SEARCH, body, headers)
    assert len(page.posts) == 10
    assert page.posts[1].record_id == rid("1578522108187283456") and page.posts[1].text == "2022-10-07 23:06:12.640564 tweepy"
    assert all(p.kind == "post" and p.edited_at is None for p in page.posts)  # referenced_tweets not asked for
    assert page.next is not None and dict(page.next.params)["next_token"] == "b26v89c19zqg8o3fpzbn1e0frlukytxrp1o8pel01jb7h"


REAL_FILES: dict[str, Callable[[], None]] = {
    "users_tweets_page_expansions_next_token.json": check_users_tweets_page,
    "search_recent_from_account_page.json": check_search_recent_page,
    "search_all_page_indic_text.json": check_search_all_page,
    "cassette_users_tweets.yaml": check_cassette_users_tweets,
    "cassette_search_recent.yaml": check_cassette_search_recent,
}


test_every_real_file_has_a_test, test_real_file = real_file_tests("x", REAL_FILES)


def test_real_page_with_twarc_key_ignores_it() -> None:
    doc = orjson.loads((REALDATA / "users_tweets_page_expansions_next_token.json").read_bytes())
    assert "__twarc" in doc
    del doc["__twarc"]
    without = x.parse_page(TIMELINE, orjson.dumps(doc), {})
    assert without == x.parse_page(TIMELINE, (REALDATA / "users_tweets_page_expansions_next_token.json").read_bytes(), {})


# -- requests --------------------------------------------------------------------------------------


def test_first_request_asks_for_everything_at_once() -> None:
    (request,) = x.first_requests(AccountRef("x", "1350000000000000001", "JalShaktiDept"))
    params = dict(request.params)
    assert request.endpoint == "timeline" and request.path == "/2/users/1350000000000000001/tweets"
    assert params["max_results"] == "100"
    assert set(params["expansions"].split(",")) == {"author_id", "attachments.media_keys", "referenced_tweets.id", "referenced_tweets.id.author_id", "in_reply_to_user_id"}
    assert {"created_at", "conversation_id", "public_metrics", "edit_history_tweet_ids", "entities"} <= set(params["tweet.fields"].split(","))
    assert "variants" in params["media.fields"].split(",")
    assert "timeline" in x.LISTING_ENDPOINTS and "replies" not in x.LISTING_ENDPOINTS


def test_reply_requests_fill_queries_up_to_512_characters() -> None:
    conversations = [(str(1_800_000_000_000_000_000 + n), 3) for n in range(40)]
    requests = x.reply_requests(conversations)
    queries = [dict(r.params)["query"] for r in requests]
    assert len(requests) == 4  # 13 nineteen-digit ids per query
    assert all(len(q) <= 512 for q in queries)
    assert sorted(c for r in requests for c in r.target.split(",")) == sorted(c for c, _ in conversations)


def test_reply_requests_keep_each_query_within_a_page() -> None:
    big, small = x.reply_requests([("11", 95), ("12", 10), ("13", 10)]), x.reply_requests([("11", 20), ("12", 30)])
    assert [r.target for r in big] == ["11", "12,13"]
    assert [r.target for r in small] == ["11,12"]
    assert x.reply_requests([]) == []


# -- bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"<html><head><title>502 Bad Gateway</title></head></html>", "an HTML page"),
        (b'{"data": [ {"id": "1", "text": }', "malformed or truncated JSON"),
        (b'{"data": [{"id": "1", "text": "cut', "malformed or truncated JSON"),
        (b'{"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}', "X answered with an error instead of a page: Unauthorized"),
        (
            b'{"errors": [{"value": "9", "detail": "Could not find user with id: [9].", "title": "Not Found Error", "resource_type": "user"}]}',
            "Could not find user with id: [9]",
        ),
        (b'{"errors": [{"message": "Sorry, that page does not exist", "code": 34}]}', "Sorry, that page does not exist"),
        (b"[1, 2]", "the page is a JSON list, not an object"),
        (b'{"data": {"id": "1"}}', "expected a list, found dict at data"),
        (b'{"data": [{"id": 1, "text": "a"}]}', "expected a string, found int at data[0].id"),
        (b'{"data": [{"id": "1", "text": "a", "created_at": "yesterday"}]}', "'yesterday' is not ISO 8601 at data[0].created_at"),
        (b'{"data": [{"id": "1", "text": "a", "public_metrics": {"reply_count": "3"}}]}', "expected an integer, found str at data[0].public_metrics.reply_count"),
        (b'{"data": [], "meta": {"next_token": 5}}', "at meta.next_token"),
    ],
)
def test_bad_input_raises_page_parse_error(body: bytes, expected: str) -> None:
    error = refusal(x.parse_page, TIMELINE, body)
    assert expected in error.message
    assert "x timeline /2/users/2351222345/tweets" in error.message
    assert error.url == "/2/users/2351222345/tweets"


def test_empty_page_is_the_end() -> None:
    page = x.parse_page(TIMELINE, b'{"meta": {"result_count": 0}}', {})
    assert page.posts == () and page.next is None and page.follow_ups == ()


TWEET_KEYS = ["id", "text", "created_at", "edit_history_tweet_ids", "referenced_tweets", "public_metrics", "author_id", "attachments", "conversation_id", "note_tweet", "lang"]
TWEETS = st.lists(st.dictionaries(st.sampled_from(TWEET_KEYS), ORJSON | st.just("1577730467436138524"), max_size=8), max_size=3)
PAGES = st.fixed_dictionaries(
    {"data": TWEETS},
    optional={
        "includes": st.dictionaries(st.sampled_from(["users", "media", "tweets"]), ORJSON | TWEETS, max_size=3),
        "meta": st.dictionaries(st.sampled_from(["next_token", "result_count"]), ORJSON, max_size=2),
        "errors": ORJSON,
    },
)


(
    test_arbitrary_bytes_raise_only_page_parse_error,
    test_arbitrary_json_raises_only_page_parse_error,
    test_page_shaped_json_raises_only_page_parse_error,
) = only_page_parse_error_tests(x.parse_page, (TIMELINE, SEARCH), PAGES)


# -- round trip with the sample X ------------------------------------------------------------------

POSTS = 300


server = serving(POSTS)


def test_round_trip_captures_every_post_and_reply(server: SampleServer) -> None:
    world = server.world
    walk = walk_platform(server, "x")
    seen = {p.record_id.native_id for p in walk.posts}
    assert seen == sample_x.ground_truth(world)
    records = {p.record_id: p for p in walk.posts}
    for post in records.values():
        if post.kind == "reply":
            assert post.parent_id is not None and post.parent_id.native_id in seen
            assert post.root_id is not None and records[post.root_id].kind == "post"
    # Hindi arrives intact, in posts and in replies
    hindi = next(p for p in world.iter_posts("x") if p.language == "hi")
    assert records[rid(sample_x.post_id(world, hindi.index))].text == hindi.text
    hindi_reply = next(r for p in world.iter_posts("x") for r in world.visible_replies("x", p.index) if r.language == "hi")
    captured = records[rid(sample_x.reply_id(hindi_reply))]
    assert captured.text.endswith(hindi_reply.text) and captured.language == "hi"
    assert captured.created_at == hindi_reply.created_at
    # media: images with their file, videos with file, still and duration
    with_media = [p for p in world.iter_posts("x") if p.media]
    assert with_media
    for sample in with_media:
        media = records[rid(sample_x.post_id(world, sample.index))].media
        assert [m.kind for m in media] == [s.kind for s in sample.media]
        for got, want in zip(media, sample.media):
            suffix = ".png" if want.kind == "image" else ".mp4"
            assert got.url == f"{server.url}/media/{want.name}{suffix}"
            assert got.duration_ms == want.duration_ms
            if want.kind == "video":
                assert got.preview_url == f"{server.url}/media/{want.name}.png"


def test_round_trip_calls_are_within_a_tenth_of_the_minimum(server: SampleServer) -> None:
    world = server.world
    walk = walk_platform(server, "x")
    posts = list(world.iter_posts("x"))
    replies = sum(len(world.visible_replies("x", p.index)) for p in posts)
    # The minimum: ceil(posts / 100) timeline calls, plus the searches. Each search page holds
    # 100 results, so at least ceil(replies / 100); and a query holds at most 13 conversation
    # ids (512 characters), which are known one timeline page at a time, so at least
    # ceil(c / 13) for each timeline page listing c conversations with replies.
    pages = [posts[i : i + 100] for i in range(0, len(posts), 100)]
    minimum = x.minimum_calls(len(posts), replies, [sum(1 for p in page if p.reply_count) for page in pages])
    records = len({p.record_id for p in walk.posts})
    assert records == len(posts) + replies
    per_thousand, minimum_per_thousand = walk.calls * 1000 / records, minimum * 1000 / records
    assert per_thousand <= 1.1 * minimum_per_thousand, (walk.calls_by_endpoint, minimum)
    assert walk.calls_by_endpoint["timeline"] == math.ceil(len(posts) / 100)


def test_round_trip_at_a_later_epoch() -> None:
    before, world, walk = walk_before_and_after("x", POSTS)
    records = {p.record_id.native_id: p for p in walk.posts}
    assert set(records) == sample_x.ground_truth(world)
    # deleted replies are gone (most were captured the night before)
    deleted = {sample_x.reply_id(r) for p in world.iter_posts("x") for r in world.replies("x", p.index) if r.deleted}
    assert deleted & before and not deleted & set(records)
    # edited posts keep their identity, with the edit time and the new text
    edited = [p for p in world.iter_posts("x") if p.edited_at]
    assert edited
    for post in edited:
        record = records[sample_x.post_id(world, post.index)]
        assert post.edited_at is not None and record.edited_at == to_ms(post.edited_at)
        assert record.created_at == to_ms(post.created_at)
        assert record.text == post.text
    assert all(r.edited_at is None for r in records.values() if r.kind == "post" and r.record_id.native_id not in {sample_x.post_id(world, p.index) for p in edited})
    # new posts appear
    new = [p for p in world.iter_posts("x") if p.index >= POSTS]
    assert new and all(sample_x.post_id(world, p.index) in records for p in new)
    # a reply whose parent was deleted still points at it, and the page says it is missing
    orphans = [r for r in records.values() if r.kind == "reply" and r.parent_id and r.parent_id.native_id not in records]
    assert all(r.parent_id is not None and r.parent_id.native_id in deleted | before for r in orphans)


# -- the sample X's own behaviour ------------------------------------------------------------------


def sample_request(path: str, **query: str) -> SampleRequest:
    return SampleRequest(path, {k: [v] for k, v in query.items()}, {}, "http://sample/x", "http://sample")


def test_timeline_stops_at_3200_posts_and_says_so() -> None:
    world = World(seed=5, posts_per_account=3300)
    request: ApiRequest | None = x.first_requests(AccountRef("x", world.account("x").native_id))[0]
    listed, pages, last = 0, 0, None
    while request is not None:
        response = sample_x.handle(world, sample_request(request.path, **dict(request.params)))
        assert response.status == 200
        last = x.parse_page(request, response.body, response.headers)
        listed += len(last.posts)
        pages += 1
        assert last.limit_note is None or last.next is None
        request = last.next
    assert listed == 3200 and pages == 32
    assert last is not None and last.limit_note is not None and "3,200 most recent posts" in last.limit_note
    assert len(sample_x.ground_truth(world)) < len(sample_x.ground_truth(world, include_unreachable=True))


def test_sample_answers_like_x_to_bad_requests() -> None:
    world = World(seed=3, posts_per_account=20)
    account = world.account("x").native_id
    cases = [
        (sample_request(f"/2/users/{account}/tweets", max_results="500"), 400, "is not between 5 and 100"),
        (sample_request(f"/2/users/{account}/tweets", pagination_token="nonsense"), 400, "`pagination_token` query parameter value [nonsense] is not valid"),
        (sample_request(f"/2/users/{account}/tweets", **{"tweet.fields": "colour"}), 400, "[colour] is not one of"),
        (sample_request("/2/tweets/search/recent", query=" OR ".join(["conversation_id:1800000000000000000"] * 14)), 400, "between 1 and 512 characters"),
        (sample_request("/2/nowhere"), 404, "Sorry, that page does not exist"),
    ]
    for request, status, message in cases:
        response = sample_x.handle(world, request)
        assert response.status == status and message in response.body.decode()
        with pytest.raises(PageParseError) as caught:
            x.parse_page(TIMELINE, response.body, response.headers)
        assert message.split("[")[0].strip("`") in caught.value.message
    missing = sample_x.handle(world, sample_request("/2/users/42/tweets"))
    assert missing.status == 200
    with pytest.raises(PageParseError, match=r"Could not find user with id: \[42\]"):
        x.parse_page(TIMELINE, missing.body, missing.headers)


def test_sample_ids_read_back() -> None:
    world = World(seed=3, posts_per_account=50)
    for index in (0, 7, 49):
        assert sample_x.post_index(world, sample_x.post_id(world, index)) == index
    reply = world.replies("x", 49)[0] if world.replies("x", 49) else None
    if reply is not None:
        assert sample_x.post_index(world, sample_x.reply_id(reply)) is None
    assert x.snowflake_time(sample_x.post_id(world, 7)) == world.created_at(7)
