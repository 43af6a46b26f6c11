"""Instagram: real recorded pages, bad input, and a round trip through the sample Instagram."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
from hypothesis import strategies as st

from archiver.errors import PageParseError
from archiver.model import ApiRequest, Media, Page, Post, RecordId
from archiver.platforms import AccountRef
from archiver.platforms import instagram as ig
from archiver.samples import SampleServer, World
from archiver.samples import instagram as sample_ig
from archiver.samples.facebook import flatten_thread
from archiver.samples.server import SampleRequest
from tests.platforms import common
from tests.platforms.common import (
    ORJSON,
    at,
    graph_sample_request,
    only_page_parse_error_tests,
    real_file_tests,
    refusal,
    serving,
    walk_before_and_after,
)
from tests.walk import walk_platform

REALDATA = common.REALDATA / "instagram"

MEDIA_REQUEST = ig.first_requests(AccountRef("instagram", "17841406338772941"))[0]


def rid(native_id: str) -> RecordId:
    return RecordId("instagram", native_id)


def parse(name: str, request: ApiRequest) -> Page:
    return ig.parse_page(request, (REALDATA / name).read_bytes(), {})


# -- real recorded pages ---------------------------------------------------------------------------


def check_user_media_page1() -> None:
    page = parse("user_media_page1.json", MEDIA_REQUEST)
    assert [p.record_id for p in page.posts] == [rid("17895731045244887"), rid("17896622936197745")]
    first, second = page.posts
    assert (first.kind, first.text, first.created_at, first.reply_count, first.counters) == ("post", "", at("2021-08-13T08:25:28"), 0, (("likes", 0),))
    assert first.url == "https://www.instagram.com/p/CSgf9BChwVq/"
    assert first.author is not None and first.author.native_id == "17841406338772941"
    assert len(first.media) == 1 and first.media[0].kind == "image" and first.media[0].native_id == "17895731045244887"
    assert first.media[0].url is not None and first.media[0].url.startswith("https://scontent-gmp1-1.cdninstagram.com/v/t51.29350-15/235924128_")
    assert second.reply_count == 6 and second.counters == (("likes", 2),)
    # six comments reported and no expansion in this recording: one comments call for them
    assert page.follow_ups == (ig.comments_request("17896622936197745"),)
    assert page.next is not None and page.next.path == MEDIA_REQUEST.path
    assert dict(page.next.params) == {**dict(MEDIA_REQUEST.params), "after": "after"}


def check_user_media_page2() -> None:
    page = parse("user_media_page2.json", MEDIA_REQUEST)
    assert page.next is None  # only a previous link: the last page
    album = page.posts[0]
    assert (album.record_id, album.text, album.created_at) == (rid("17896129349106152"), "ALBUM", at("2021-07-26T10:45:20"))
    # a carousel's files are its children; its own media_url repeats the first child's
    assert [(m.kind, m.native_id) for m in album.media] == [("image", "17889214265226770"), ("image", "17886719108286032"), ("video", "17904922598025487")]
    video = album.media[2]
    assert video.url is not None and video.url.startswith("https://video-gmp1-1.cdninstagram.com/v/t50.2886-16/223134763_")
    assert video.preview_url is not None and video.preview_url.startswith("https://scontent-gmp1-1.cdninstagram.com/v/t51.29350-15/225731613_")
    assert page.posts[1].text == "Peach new" and page.follow_ups == ()


def check_media_comments_page1() -> None:
    request = ig.comments_request("17846368219941692")
    page = parse("media_comments_page1.json", request)
    media = rid("17846368219941692")
    assert [(p.record_id, p.kind, p.parent_id, p.root_id) for p in page.posts] == [
        (rid("17858154961981086"), "comment", media, media),
        (rid("17874875428706419"), "comment", media, media),
    ]
    # newest first
    assert [p.created_at for p in page.posts] == [at("2020-06-01T10:56:52"), at("2020-06-01T10:16:39")]
    assert page.posts[0].text == "Beautiful!" and page.posts[0].author is None
    assert page.next is not None and page.next.target == "17846368219941692"
    assert dict(page.next.params)["after"] == "after" and "access_token" not in dict(page.next.params)


def check_media_comments_page2() -> None:
    page = parse("media_comments_page2.json", ig.comments_request("17846368219941692", "after"))
    assert [p.record_id.native_id for p in page.posts] == ["17892250648466172", "17914413430382429"]
    assert page.posts[0].text == "@ikroskun  Hey, guys" and page.posts[0].created_at == at("2020-02-24T09:15:16")
    assert page.next is None


def check_comment_replies() -> None:
    page = parse("comment_replies.json", ig.replies_request("17858154961981086"))
    (reply,) = page.posts
    assert (reply.record_id, reply.kind, reply.parent_id, reply.root_id) == (rid("17847314687296283"), "reply", rid("17858154961981086"), None)
    assert reply.text == "@lixiangguodu123 nihao" and reply.created_at == at("2020-08-07T03:30:06")
    assert page.next is None


REAL_FILES: dict[str, Callable[[], None]] = {
    "user_media_page1.json": check_user_media_page1,
    "user_media_page2.json": check_user_media_page2,
    "media_comments_page1.json": check_media_comments_page1,
    "media_comments_page2.json": check_media_comments_page2,
    "comment_replies.json": check_comment_replies,
}


test_every_real_file_has_a_test, test_real_file = real_file_tests("instagram", REAL_FILES)


# -- requests --------------------------------------------------------------------------------------


def test_first_request_expands_comments_and_replies() -> None:
    (request,) = ig.first_requests(AccountRef("instagram", "17841400000000001"))
    params = dict(request.params)
    assert (request.endpoint, request.path) == ("media", "/v23.0/17841400000000001/media")
    assert params["limit"] == "100"
    assert "comments.limit(50){id,text,timestamp,username,from,like_count,replies{" in params["fields"]
    assert "children{media_type,media_url,thumbnail_url,id}" in params["fields"]
    assert ig.LISTING_ENDPOINTS == frozenset({"media"})


# -- bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"<!DOCTYPE html><html><body>Error</body></html>", "an HTML page"),
        (b'{"data": [{"id": "1", "caption": }', "malformed or truncated JSON"),
        (b'{"data": [{"id": "1", "caption": "cu', "malformed or truncated JSON"),
        (
            b'{"error": {"message": "(#100) Tried accessing nonexisting field (colour) on node type (ShadowIGMedia)", "type": "OAuthException", "code": 100}}',
            "the Instagram Graph API answered with an error instead of a page: (#100) Tried accessing nonexisting field (colour)",
        ),
        (b'{"data": null}', "expected a list, found null at data"),
        (b'{"data": [{"id": "1", "comments_count": 2.5}]}', "expected an integer, found float at data[0].comments_count"),
        (b'{"data": [{"id": "1", "children": {"data": [7]}}]}', "expected an object, found int at data[0].children.data[0]"),
        (b'{"data": [{"id": "1", "timestamp": "2021-02-30T00:00:00+0000"}]}', "is not ISO 8601 at data[0].timestamp"),
    ],
)
def test_bad_input_raises_page_parse_error(body: bytes, expected: str) -> None:
    error = refusal(ig.parse_page, MEDIA_REQUEST, body)
    assert expected in error.message
    assert "instagram media /v23.0/17841406338772941/media" in error.message


ITEM_KEYS = ["id", "caption", "media_type", "media_url", "timestamp", "children", "comments", "replies", "from", "username", "like_count", "comments_count", "parent_id", "media", "text"]
PAGES = st.fixed_dictionaries(
    {"data": st.lists(st.dictionaries(st.sampled_from(ITEM_KEYS), ORJSON, max_size=8), max_size=3)},
    optional={"paging": ORJSON, "error": ORJSON},
)
REQUESTS = (MEDIA_REQUEST, ig.comments_request("1"), ig.replies_request("2"))


(
    test_arbitrary_bytes_raise_only_page_parse_error,
    test_arbitrary_json_raises_only_page_parse_error,
    test_page_shaped_json_raises_only_page_parse_error,
) = only_page_parse_error_tests(ig.parse_page, REQUESTS, PAGES)


# -- round trip with the sample Instagram ----------------------------------------------------------

POSTS = 300


server = serving(POSTS)


def test_round_trip_captures_every_media_comment_and_reply(server: SampleServer) -> None:
    world = server.world
    walk = walk_platform(server, "instagram")
    records = {p.record_id: p for p in walk.posts}
    assert {r.native_id for r in records} == sample_ig.ground_truth(world)
    for record in records.values():
        if record.kind == "post":
            continue
        assert record.root_id is not None and records[record.root_id].kind == "post"
        assert record.parent_id is not None
        # one level of replies: a comment hangs under the media, a reply under a comment
        assert records[record.parent_id].kind == ("post" if record.kind == "comment" else "comment")
    hindi = next(p for p in world.iter_posts("instagram") if p.language == "hi")
    assert records[rid(sample_ig.media_id(hindi.index))].text == hindi.text
    hindi_reply = next(r for p in world.iter_posts("instagram") for r in world.visible_replies("instagram", p.index) if r.language == "hi" and r.depth > 1 and rid(sample_ig.comment_id(p.index, r.number)) in records)
    captured = records[rid(sample_ig.comment_id(hindi_reply.post_index, hindi_reply.number))]
    assert captured.kind == "reply" and captured.text == hindi_reply.text
    assert captured.author is not None and captured.author.handle == hindi_reply.author.handle
    for sample in world.iter_posts("instagram"):
        media = records[rid(sample_ig.media_id(sample.index))].media
        if not sample.media:  # every Instagram post has a picture: a generated card
            assert media == (Media("image", f"{server.url}/media/instagram-{sample.index}-card.png", native_id=sample_ig.media_id(sample.index)),)
            continue
        assert [m.kind for m in media] == [s.kind for s in sample.media]
        for got, want in zip(media, sample.media):
            suffix = ".png" if want.kind == "image" else ".mp4"
            assert got.url == f"{server.url}/media/{want.name}{suffix}"


def test_round_trip_calls_are_within_a_tenth_of_the_minimum(server: SampleServer) -> None:
    world = server.world
    walk = walk_platform(server, "instagram")
    posts = sum(1 for _ in world.iter_posts("instagram"))
    records = len({p.record_id for p in walk.posts})
    # The minimum: one call per 100 media, because the media call expands 50 comments of each
    # media with their replies, and no sample media has more.
    minimum = math.ceil(posts / 100)
    assert walk.calls * 1000 / records <= 1.1 * minimum * 1000 / records, walk.calls_by_endpoint
    assert walk.calls_by_endpoint == {"media": minimum}


def test_round_trip_at_a_later_epoch() -> None:
    before, world, walk = walk_before_and_after("instagram", POSTS)
    records = {p.record_id.native_id: p for p in walk.posts}
    assert set(records) == sample_ig.ground_truth(world)
    deleted = {sample_ig.comment_id(p.index, r.number) for p in world.iter_posts("instagram") for r in world.replies("instagram", p.index) if r.deleted}
    assert deleted & before and not deleted & set(records)
    new = [p for p in world.iter_posts("instagram") if p.index >= POSTS]
    assert new and all(sample_ig.media_id(p.index) in records for p in new)
    # Instagram shows the edited caption but no edit time
    edited = [p for p in world.iter_posts("instagram") if p.edited_at]
    assert edited
    for post in edited:
        record = records[sample_ig.media_id(post.index)]
        assert record.text == post.text and record.edited_at is None


# -- the sample Instagram's own behaviour ----------------------------------------------------------


def sample_request(request: ApiRequest) -> SampleRequest:
    return graph_sample_request("instagram", request)


def test_small_pages_and_expansions_page_through_everything() -> None:
    world = World(seed=3, posts_per_account=40)
    (first,) = ig.first_requests(AccountRef("instagram", world.account("instagram").native_id))
    fields = dict(first.params)["fields"].replace("comments.limit(50)", "comments.limit(2)").replace("replies{", "replies.limit(1){")
    stack = [ApiRequest(first.endpoint, first.path, (("fields", fields), ("limit", "6")), first.target)]
    posts: list[Post] = []
    endpoints: set[str] = set()
    while stack:
        request = stack.pop()
        endpoints.add(request.endpoint)
        response = ig.parse_page(request, sample_ig.handle(world, sample_request(request)).body, {})
        posts.extend(response.posts)
        stack.extend(response.follow_ups)
        if response.next is not None:
            assert "access_token" not in dict(response.next.params)
            stack.append(response.next)
    assert endpoints == {"media", "comments", "replies"}
    assert sorted(p.record_id.native_id for p in posts) == sorted(sample_ig.ground_truth(world))
    replies = [p for p in posts if p.kind == "reply"]
    assert replies and all(p.root_id is not None for p in replies)  # the media's id comes back on replies pages


def test_comments_list_newest_first_and_replies_oldest_first() -> None:
    world = World(seed=3, posts_per_account=40)
    index = next(p.index for p in world.iter_posts("instagram") if sum(1 for _, top in flatten_thread(world, "instagram", p.index) if top) >= 2)
    page = ig.parse_page(ig.comments_request(sample_ig.media_id(index)), sample_ig.handle(world, sample_request(ig.comments_request(sample_ig.media_id(index)))).body, {})
    comments = [p for p in page.posts if p.kind == "comment"]
    times = [p.created_at for p in comments if p.created_at]
    assert len(times) == len(comments) and times == sorted(times, reverse=True)
    replies = [p for p in page.posts if p.kind == "reply"]
    assert len(replies) >= 2
    for comment in comments:
        under = [p.created_at for p in replies if p.parent_id == comment.record_id and p.created_at]
        assert under == sorted(under)


def test_sample_answers_like_graph_to_bad_requests() -> None:
    world = World(seed=3, posts_per_account=10)
    account = world.account("instagram").native_id
    for request, message in [
        (ApiRequest("media", f"/v23.0/{account}/media", (("fields", "id,colour"),)), "Tried accessing nonexisting field (colour)"),
        (ApiRequest("media", "/v23.0/12345/media", ()), "Object with ID '12345' does not exist"),
        (ApiRequest("comments", "/v23.0/17950000000000003/comments", (("after", "xyz"),)), "is not a valid cursor"),
    ]:
        response = sample_ig.handle(world, sample_request(request))
        assert response.status == 400
        with pytest.raises(PageParseError, match=message.replace("(", r"\(").replace(")", r"\)")):
            ig.parse_page(request, response.body, {})
