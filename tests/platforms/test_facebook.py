"""Facebook: real recorded pages, bad input, and a round trip through the sample Facebook."""

from __future__ import annotations

import math
from collections.abc import Callable

import orjson
import pytest
from hypothesis import strategies as st

from archiver.errors import PageParseError
from archiver.model import ApiRequest, Media, Page, Post, RecordId
from archiver.platforms import AccountRef
from archiver.platforms import facebook as fb
from archiver.samples import SampleServer, World
from archiver.samples import facebook as sample_fb
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

REALDATA = common.REALDATA / "facebook"

POSTS_REQUEST = fb.first_requests(AccountRef("facebook", "19292868552", "FacebookforDevelopers"))[0]
COMMENTS_REQUEST = fb.comments_request("19292868552_10158407654328553")


def rid(native_id: str) -> RecordId:
    return RecordId("facebook", native_id)


def parse(name: str, request: ApiRequest) -> Page:
    return fb.parse_page(request, (REALDATA / name).read_bytes(), {})


# -- real recorded pages ---------------------------------------------------------------------------


def check_page_feed_page1() -> None:
    page = parse("page_feed_page1.json", POSTS_REQUEST)
    assert [p.record_id.native_id for p in page.posts] == [
        "19292868552_10158349356748553",
        "19292868552_10158347294088553",
        "19292868552_10158345715593553",
        "19292868552_10158343840773553",
        "19292868552_10158333323653553",
    ]
    first = page.posts[0]
    assert first.kind == "post" and first.created_at == at("2021-07-09T19:09:52")
    assert first.text.startswith("Singaporean logistics company Ninja Van Singapore")
    assert first.url == "https://www.facebook.com/19292868552/posts/10158349356748553/"
    assert first.reply_count == 13
    assert first.counters[0] == ("reactions", 125) and ("reactions_like", 119) in first.counters and ("shares", 10) in first.counters
    assert first.media == (
        Media(
            "image",
            "https://scontent-ssn1-1.xx.fbcdn.net/v/t1.6435-9/p720x720/211801276_10158349355018553_2104693261473191589_n.jpg?_nc_cat=101&ccb=1-3&_nc_sid=8024bb&_nc_ohc=XPjizdMqvkcAX8X4Q6l&_nc_ht=scontent-ssn1-1.xx&oh=92a00d7b2dc93cf00ee164b00f4a024f&oe=60F1D543",
            native_id="10158349355013553",
        ),
    )
    # updated_time is later than created_time, but the comments are not on the page: unknown
    assert first.edited_at is None
    link = page.posts[1].media[0]
    assert link.kind == "other" and link.url is None and link.preview_url is not None and link.preview_url.startswith("https://external-ssn1-1.xx.fbcdn.net/safe_image.php")
    video = page.posts[4].media[0]
    assert (video.kind, video.url, video.native_id) == ("video", None, "1192957457884299")
    # the expansion asked for limit(0): counts but no comments, so each post gets a comments call
    assert [r.target for r in page.follow_ups] == [p.record_id.native_id for p in page.posts]
    assert page.follow_ups[0] == fb.comments_request("19292868552_10158349356748553")
    assert page.next is not None and page.next.path == POSTS_REQUEST.path
    assert dict(page.next.params) == {**dict(POSTS_REQUEST.params), "after": "after"}
    assert all("access_token" not in k for k, _ in page.next.params)


def check_page_feed_page2() -> None:
    page = parse("page_feed_page2.json", POSTS_REQUEST)
    assert len(page.posts) == 5 and page.next is None  # cursors.before and previous only: the end
    assert page.posts[0].record_id == rid("19292868552_10158331020098553")
    assert page.posts[0].text.startswith("We’ve seen computers master chess, go, and even Starcraft II")
    assert page.posts[4].reply_count == 82 and ("reactions", 26959) in page.posts[4].counters
    assert page.posts[4].media[0].kind == "video" and page.posts[4].media[0].native_id == "334712884667245"
    assert len(page.follow_ups) == 5


def check_page_posts_ids_real_cursors() -> None:
    page = parse("page_posts_ids_real_cursors.json", POSTS_REQUEST)
    assert len(page.posts) == 15
    assert page.next is None  # real cursors, but no paging.next: the last page
    posts = {p.record_id.native_id: p for p in page.posts}
    assert posts["2121008874780932_2196427990572353"].text == "日出时分"
    assert posts["2121008874780932_2498593507022465"].text == ""
    assert posts["2121008874780932_2498593507022465"].created_at == at("2019-12-16T11:34:29")
    assert all(p.edited_at is None and p.reply_count is None for p in page.posts)  # no comments field
    assert page.follow_ups == ()


def check_user_posts_time_paging() -> None:
    request = ApiRequest("posts", f"/{fb.GRAPH_VERSION}/4/posts", (("fields", "id,message,created_time"), ("limit", "5")), "4")
    page = fb.parse_page(request, (REALDATA / "user_posts_time_paging_page1.json").read_bytes(), {})
    assert [p.record_id.native_id for p in page.posts][:2] == ["4_10113477241177441", "4_10113449068715281"]
    assert page.posts[0].text == "Happy July 4th! 🇺🇸" and page.posts[0].counters == ()
    assert page.next is not None
    # time-based paging: until and the paging token are carried, empty since/__previous are not
    assert page.next.params == (("fields", "id,message,created_time"), ("limit", "5"), ("until", "1624385168"), ("__paging_token", "__paging_token"))


def check_post_comments_page1() -> None:
    page = parse("post_comments_page1.json", COMMENTS_REQUEST)
    assert len(page.posts) == 10 and page.total_count == 18
    post = rid("19292868552_10158407654328553")
    first = page.posts[0]
    # no id (Page Public Content Access): rebuilt from the permalink
    assert first.record_id == rid("10158407654328553_10158407835073553")
    assert (first.kind, first.parent_id, first.root_id) == ("comment", post, post)
    assert first.created_at == at("2021-08-10T18:45:03") and first.reply_count == 1 and first.author is None
    assert first.text == "Boa noite peço ajuda  Como faço para usar a minha página como meu perfil?"
    reply = page.posts[5]
    assert reply.record_id == rid("10158407654328553_10158409983033553")
    assert (reply.kind, reply.parent_id, reply.root_id) == ("reply", rid("10158407654328553_10158407903973553"), post)
    assert reply.url == "https://www.facebook.com/19292868552/posts/10158407654328553/?comment_id=10158407903973553&reply_comment_id=10158409983033553"
    assert [p.kind for p in page.posts].count("reply") == 4
    assert page.next is not None and page.next.endpoint == "comments" and page.next.target == "19292868552_10158407654328553"
    assert dict(page.next.params)["after"] == "after" and dict(page.next.params)["filter"] == "stream"


def check_post_comments_page2() -> None:
    page = parse("post_comments_page2.json", COMMENTS_REQUEST)
    assert len(page.posts) == 5 and page.next is None and page.total_count == 18
    assert page.posts[1].parent_id == rid("10158407654328553_10158412899928553")
    assert page.posts[4].text == "Mantap halo...." and page.posts[4].created_at == at("2021-08-14T07:24:42")


REAL_FILES: dict[str, Callable[[], None]] = {
    "page_feed_page1.json": check_page_feed_page1,
    "page_feed_page2.json": check_page_feed_page2,
    "page_posts_ids_real_cursors.json": check_page_posts_ids_real_cursors,
    "user_posts_time_paging_page1.json": check_user_posts_time_paging,
    "post_comments_page1.json": check_post_comments_page1,
    "post_comments_page2.json": check_post_comments_page2,
}


test_every_real_file_has_a_test, test_real_file = real_file_tests("facebook", REAL_FILES)


# -- requests --------------------------------------------------------------------------------------


def test_first_request_expands_comments_into_the_posts_call() -> None:
    (request,) = fb.first_requests(AccountRef("facebook", "104000000000001"))
    params = dict(request.params)
    assert (request.endpoint, request.path, request.target) == ("posts", f"/{fb.GRAPH_VERSION}/104000000000001/posts", "104000000000001")
    assert params["limit"] == "100"
    assert "comments.limit(100).summary(true).filter(stream).order(chronological){" in params["fields"]
    assert "reactions.summary(true).limit(0)" in params["fields"]
    assert "access_token" not in params
    assert fb.LISTING_ENDPOINTS == frozenset({"posts"})


# -- bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"<html><body>Sorry, something went wrong.</body></html>", "an HTML page"),
        (b'{"data": [ {"id": "1", "message": }', "malformed or truncated JSON"),
        (b'{"data": [{"id": "1", "message": "cut', "malformed or truncated JSON"),
        (
            b'{"error": {"message": "Invalid OAuth access token - Cannot parse access token", "type": "OAuthException", "code": 190, "fbtrace_id": "AbC"}}',
            "Invalid OAuth access token - Cannot parse access token (type OAuthException, code 190, fbtrace_id AbC). The access token was rejected: renew it",
        ),
        (b'{"error": {"message": "(#4) Application request limit reached", "type": "OAuthException", "code": 4}}', "Graph's rate limit was reached"),
        (b'{"error": "nope"}', "an error of type str"),
        (b'{"paging": {}}', "a page without data"),
        (b'{"data": {"id": "1"}}', "expected a list, found dict at data"),
        (b'{"data": [{"id": 5}]}', "expected a string, found int at data[0].id"),
        (b'{"data": [{"id": "1", "created_time": "soon"}]}', "'soon' is not ISO 8601 at data[0].created_time"),
        (b'{"data": [{"id": "1", "comments": {"data": [{"message": "hi"}]}}]}', "a comment with neither an id nor a permalink_url naming it at data[0].comments.data[0]"),
        (b'{"data": [], "paging": {"next": "https://graph.facebook.com/x?access_token=t"}}', "neither an after cursor nor until/since paging"),
    ],
)
def test_bad_input_raises_page_parse_error(body: bytes, expected: str) -> None:
    error = refusal(fb.parse_page, POSTS_REQUEST, body)
    assert expected in error.message
    assert "facebook posts /v23.0/19292868552/posts" in error.message


ITEM_KEYS = ["id", "message", "created_time", "updated_time", "from", "comments", "attachments", "reactions", "shares", "permalink_url", "parent", "attachment", "like_count", "comment_count"]
PAGES = st.fixed_dictionaries(
    {"data": st.lists(st.dictionaries(st.sampled_from(ITEM_KEYS), ORJSON | st.just("https://www.facebook.com/1/posts/2/?comment_id=3&reply_comment_id=4"), max_size=8), max_size=3)},
    optional={"paging": ORJSON, "summary": ORJSON, "error": ORJSON},
)


(
    test_arbitrary_bytes_raise_only_page_parse_error,
    test_arbitrary_json_raises_only_page_parse_error,
    test_page_shaped_json_raises_only_page_parse_error,
) = only_page_parse_error_tests(fb.parse_page, (POSTS_REQUEST, COMMENTS_REQUEST), PAGES)


# -- round trip with the sample Facebook -----------------------------------------------------------

POSTS = 300


server = serving(POSTS)


def test_round_trip_captures_every_post_and_comment(server: SampleServer) -> None:
    world = server.world
    walk = walk_platform(server, "facebook")
    records = {p.record_id: p for p in walk.posts}
    assert {r.native_id for r in records} == sample_fb.ground_truth(world)
    for record in records.values():
        if record.kind == "post":
            continue
        assert record.root_id is not None and records[record.root_id].kind == "post"
        assert record.parent_id is not None
        parent = records[record.parent_id]
        # two levels: a comment hangs under the post, a reply under a top comment
        assert parent.kind == ("post" if record.kind == "comment" else "comment")
    hindi = next(p for p in world.iter_posts("facebook") if p.language == "hi")
    assert records[rid(sample_fb.post_id(world, hindi.index))].text == hindi.text
    hindi_comment = next(r for p in world.iter_posts("facebook") for r in world.visible_replies("facebook", p.index) if r.language == "hi" and r.depth == 1)
    captured = records[rid(sample_fb.comment_id(hindi_comment.post_index, hindi_comment.number))]
    assert captured.text == hindi_comment.text
    assert captured.created_at == hindi_comment.created_at
    assert captured.author is not None and captured.author.display_name == hindi_comment.author.display_name
    with_media = [p for p in world.iter_posts("facebook") if p.media]
    assert with_media
    for sample in with_media:
        media = records[rid(sample_fb.post_id(world, sample.index))].media
        assert [m.kind for m in media] == [s.kind for s in sample.media]
        for got, want in zip(media, sample.media):
            if want.kind == "image":
                assert got.url == f"{server.url}/media/{want.name}.png"
            else:
                assert got.url == f"{server.url}/media/{want.name}.mp4" and got.preview_url == f"{server.url}/media/{want.name}.png"


def test_round_trip_calls_are_within_a_tenth_of_the_minimum(server: SampleServer) -> None:
    world = server.world
    walk = walk_platform(server, "facebook")
    posts = sum(1 for _ in world.iter_posts("facebook"))
    records = len({p.record_id for p in walk.posts})
    # The minimum: one call per 100 posts (Graph's largest page), because the posts call
    # expands up to 100 comments of each post, and no sample post has more.
    minimum = math.ceil(posts / 100)
    assert walk.calls * 1000 / records <= 1.1 * minimum * 1000 / records, walk.calls_by_endpoint
    assert walk.calls_by_endpoint == {"posts": minimum}


def test_round_trip_at_a_later_epoch() -> None:
    before, world, walk = walk_before_and_after("facebook", POSTS)
    records = {p.record_id.native_id: p for p in walk.posts}
    assert set(records) == sample_fb.ground_truth(world)
    deleted = {sample_fb.comment_id(p.index, r.number) for p in world.iter_posts("facebook") for r in world.replies("facebook", p.index) if r.deleted}
    assert deleted & before and not deleted & set(records)
    new = [p for p in world.iter_posts("facebook") if p.index >= POSTS]
    assert new and all(sample_fb.post_id(world, p.index) in records for p in new)
    # Facebook has no edit flag: an edit shows when updated_time passes the newest comment
    edited = [p for p in world.iter_posts("facebook") if p.edited_at]
    assert edited
    seen_edits = 0
    for post in edited:
        record = records[sample_fb.post_id(world, post.index)]
        assert record.text == post.text
        assert post.edited_at is not None
        newest = max((r.created_at for r, _ in sample_fb.flatten_thread(world, "facebook", post.index)), default=post.created_at)
        if post.edited_at > newest:
            assert record.edited_at == post.edited_at.replace(microsecond=0)
            seen_edits += 1
        else:
            assert record.edited_at is None
    assert seen_edits
    unedited = {sample_fb.post_id(world, p.index) for p in world.iter_posts("facebook") if not p.edited_at}
    assert all(records[i].edited_at is None for i in unedited)


# -- the sample Facebook's own behaviour -----------------------------------------------------------


def sample_request(request: ApiRequest, token: str = "TOKEN") -> SampleRequest:
    return graph_sample_request("facebook", request, token)


def drain(world: World, first: ApiRequest) -> list[Post]:
    """Follow a request, its next pages and follow-ups through the renderer, as a harvest does."""
    stack: list[ApiRequest] = [first]
    posts: list[Post] = []
    while stack:
        request = stack.pop()
        response = sample_fb.handle(world, sample_request(request))
        assert response.status == 200, response.body[:300]
        assert b"TOKEN" not in orjson.dumps([list(p) for p in request.params])
        page = fb.parse_page(request, response.body, response.headers)
        posts.extend(page.posts)
        stack.extend(page.follow_ups)
        if page.next is not None:
            stack.append(page.next)
    return posts


def test_small_pages_and_comment_expansions_page_through_everything() -> None:
    world = World(seed=3, posts_per_account=40)
    (first,) = fb.first_requests(AccountRef("facebook", world.account("facebook").native_id))
    fields = dict(first.params)["fields"].replace("comments.limit(100)", "comments.limit(2)")
    small = ApiRequest(first.endpoint, first.path, (("fields", fields), ("limit", "7")), first.target)
    posts = drain(world, small)
    assert sorted(p.record_id.native_id for p in posts) == sorted(sample_fb.ground_truth(world))
    # the comments calls came with after cursors, and their pages echo the token in next URLs
    index = next(p.index for p in world.iter_posts("facebook") if len(sample_fb.flatten_thread(world, "facebook", p.index)) > 4)
    request = fb.comments_request(sample_fb.post_id(world, index))
    request = ApiRequest(request.endpoint, request.path, tuple((k, "2" if k == "limit" else v) for k, v in request.params), request.target)
    response = sample_fb.handle(world, sample_request(request))
    body = orjson.loads(response.body)
    assert "access_token=TOKEN" in body["paging"]["next"] and body["summary"]["total_count"] > 4
    page = fb.parse_page(request, response.body, response.headers)
    assert page.next is not None and dict(page.next.params)["after"] == body["paging"]["cursors"]["after"]
    assert "access_token" not in dict(page.next.params)


def test_sample_answers_like_graph_to_bad_requests() -> None:
    world = World(seed=3, posts_per_account=10)
    page_id = world.account("facebook").native_id
    cases = [
        (ApiRequest("posts", f"/v23.0/{page_id}/posts", (("fields", "id,colour"),)), "(#100) Tried accessing nonexisting field (colour) on node type (PagePost)"),
        (ApiRequest("posts", "/v23.0/999/posts", ()), "Unsupported get request. Object with ID '999' does not exist"),
        (ApiRequest("posts", f"/v23.0/{page_id}/posts", (("after", "bm90IGEgY3Vyc29y"),)), "is not a valid cursor"),
        (ApiRequest("posts", f"/v23.0/{page_id}/posts", (("fields", "id,comments{"),)), "Syntax error in the fields parameter"),
    ]
    for request, message in cases:
        response = sample_fb.handle(world, sample_request(request))
        assert response.status == 400
        with pytest.raises(PageParseError) as caught:
            fb.parse_page(request, response.body, response.headers)
        assert message in caught.value.message


def test_sample_field_syntax() -> None:
    spec = sample_fb.parse_fields("id,reactions.type(LIKE).limit(0).summary(total_count).as(like),comments.limit(3){id,from{name}}")
    assert spec["like"].name == "reactions" and spec["like"].modifiers == {"type": "LIKE", "limit": "0", "summary": "total_count", "as": "like"}
    assert spec["comments"].sub is not None and spec["comments"].sub["from"].sub is not None
    assert spec["comments"].sub_text == "id,from{name}"
    with pytest.raises(sample_fb.FieldSyntaxError):
        sample_fb.parse_fields("id,,")
