"""The YouTube module: real payloads, bad input, and a round trip with the sample YouTube."""

from __future__ import annotations

import math
from collections.abc import Callable

import httpx
import pytest

from archiver.errors import PageParseError
from archiver.model import ApiRequest, Page, RecordId
from archiver.platforms import AccountRef, get_platform
from archiver.platforms import youtube
from archiver.samples import SampleServer, World
from archiver.samples.youtube import THREAD_REPLIES_INCLUDED, comment_id, ground_truth, thread_groups, video_id
from tests.platforms import common
from tests.platforms.common import Payloads, assert_calls_within_a_tenth, by_id, page_or_refusal_tests, real_payload_tests, refusal, utc, walked
from tests.walk import Walk

REALDATA = common.REALDATA / "youtube"
POSTS = 300


def rid(native_id: str) -> RecordId:
    return RecordId("youtube", native_id)


def parse(name: str, request: ApiRequest) -> Page:
    return youtube.parse_page(request, (REALDATA / name).read_bytes(), {})


# -- the module's contract ---------------------------------------------------------------------


def test_module_names() -> None:
    module = get_platform("youtube")
    assert module.NAME == "youtube"
    assert module.AUTH.kind == "query" and module.AUTH.param == "key"
    assert module.DEFAULT_BASE_URL == "https://www.googleapis.com/youtube/v3"
    assert module.LISTING_ENDPOINTS == frozenset({"uploads"})


def test_first_requests_ask_for_the_channel_and_all_its_comment_threads() -> None:
    channel, threads = youtube.first_requests(AccountRef("youtube", "UC_x5XG1OV2P6uZZ5FSM9Ttw"))
    assert channel == ApiRequest(
        "channel", "/channels", (("part", "contentDetails,snippet,statistics"), ("id", "UC_x5XG1OV2P6uZZ5FSM9Ttw")), "UC_x5XG1OV2P6uZZ5FSM9Ttw"
    )
    assert threads.path == "/commentThreads"
    assert dict(threads.params) == {
        "part": "snippet,replies",
        "allThreadsRelatedToChannelId": "UC_x5XG1OV2P6uZZ5FSM9Ttw",
        "maxResults": "100",
        "order": "time",
    }
    assert "key" not in dict(threads.params)  # the HTTP client adds the credential


# -- real payloads ---------------------------------------------------------------------------------


def check_channels(name: str) -> None:
    ids = "UCK8sQmJBp8GCxrOtXWBpyEA,UC_x5XG1OV2P6uZZ5FSM9Ttw"
    page = parse(name, ApiRequest("channel", "/channels", (("part", "contentDetails,snippet,statistics"), ("id", ids)), ids))
    assert page.posts == () and page.next is None and page.missing == ()
    assert [(f.endpoint, f.path, f.target) for f in page.follow_ups] == [
        ("uploads", "/playlistItems", "UUK8sQmJBp8GCxrOtXWBpyEA"),
        ("uploads", "/playlistItems", "UU_x5XG1OV2P6uZZ5FSM9Ttw"),
    ]
    assert dict(page.follow_ups[1].params) == {"part": "snippet,contentDetails", "playlistId": "UU_x5XG1OV2P6uZZ5FSM9Ttw", "maxResults": "50"}
    assert [(c["title"], c["video_count"]) for c in page.extra["channels"]] == [("Google", 2678), ("Google Developers", 5652)]


def playlist_request() -> ApiRequest:
    params = (("part", "snippet"), ("playlistId", "PLOU2XLYxmsIKpaV8h0AGE05so0fAwwfTw"), ("maxResults", "10"))
    return ApiRequest("uploads", "/playlistItems", params, "PLOU2XLYxmsIKpaV8h0AGE05so0fAwwfTw")


def check_playlist_page1(name: str) -> None:
    page = parse(name, playlist_request())
    assert page.posts == ()  # the videos follow-up carries the records, once
    assert page.total_count == 13
    assert page.next is not None and dict(page.next.params)["pageToken"] == "CAoQAA"
    assert page.next.params[:3] == playlist_request().params and page.next.target == "PLOU2XLYxmsIKpaV8h0AGE05so0fAwwfTw"
    (videos,) = page.follow_ups
    ids = dict(videos.params)["id"].split(",")
    assert videos.endpoint == "videos" and dict(videos.params)["part"] == "snippet,contentDetails,statistics,status"
    assert len(ids) == 10 and ids[0] == "CvTApw9X8aA" and ids[-1] == "o5LP2xzKkpg" and videos.target == ",".join(ids)
    assert page.listed[0] == (rid("CvTApw9X8aA"), utc(2019, 11, 21, 22, 17, 43)) and len(page.listed) == 10


def check_playlist_page2(name: str) -> None:
    request = ApiRequest("uploads", "/playlistItems", playlist_request().params + (("pageToken", "CAoQAA"),), "PLOU2XLYxmsIKpaV8h0AGE05so0fAwwfTw")
    page = parse(name, request)
    assert page.next is None  # prevPageToken only: the last page
    assert page.total_count == 13
    assert [dict(f.params)["id"] for f in page.follow_ups] == ["6aSG8SdvkoU,ECGpZCFUL8s,Fu2bldybpkA"]


def check_videos(name: str) -> None:
    request = ApiRequest("videos", "/videos", (("part", "snippet,contentDetails,statistics,status"), ("id", "D-lhorsDlUQ,gone0000000")), "D-lhorsDlUQ,gone0000000")
    page = parse(name, request)
    (video,) = page.posts
    assert video.record_id == rid("D-lhorsDlUQ") and video.kind == "post"
    assert video.author is not None and (video.author.native_id, video.author.display_name) == ("UC_x5XG1OV2P6uZZ5FSM9Ttw", "Google Developers")
    assert video.created_at == utc(2019, 3, 21, 20, 37, 49)
    assert video.text.startswith("What are Actions on Google (Assistant on Air)\n\nIn the first episode of Assistant on Air")
    assert video.url == "https://www.youtube.com/watch?v=D-lhorsDlUQ" and video.language == "en"
    (media,) = video.media
    assert (media.kind, media.native_id, media.duration_ms) == ("video", "D-lhorsDlUQ", (21 * 60 + 7) * 1000)
    assert media.preview_url == "https://i.ytimg.com/vi/D-lhorsDlUQ/maxresdefault.jpg"
    assert video.reply_count == 32
    assert dict(video.counters) == {"views": 7920, "likes": 190, "favorites": 0, "comments": 32}  # strings in the payload
    assert video.parent_id is None and video.root_id is None and video.edited_at is None
    assert page.missing == (("gone0000000", "not returned by videos.list (deleted, private or blocked)"),)
    assert page.follow_ups == () and page.next is None


def check_threads_by_video_page1(name: str) -> None:
    page = parse(name, youtube.video_threads_request("F1UP7wRCPH8"))
    assert [p.kind for p in page.posts] == ["comment"] * 5
    first = page.posts[0]
    assert first.record_id == rid("UgyZ1jqkHKYvi1-ruOZ4AaABAg") and first.text == "Google.com"
    assert first.author is not None and first.author.display_name == "himani agarwal" and first.author.native_id == "UCzj-CjKYmGlZ7vTL-vOe57A"
    assert first.created_at == utc(2019, 11, 26, 15, 51, 44)
    assert all(p.parent_id == rid("F1UP7wRCPH8") and p.root_id == rid("F1UP7wRCPH8") for p in page.posts)
    assert first.url == "https://www.youtube.com/watch?v=F1UP7wRCPH8&lc=UgyZ1jqkHKYvi1-ruOZ4AaABAg"
    # listed without part=replies: the thread with 2 replies needs the comments call
    assert by_id(page)["UgwI_ylXVnzPS8Q-oAV4AaABAg"].reply_count == 2
    assert page.follow_ups == (youtube.replies_request("UgwI_ylXVnzPS8Q-oAV4AaABAg", "F1UP7wRCPH8"),)
    assert page.follow_ups[0].target == "F1UP7wRCPH8/UgwI_ylXVnzPS8Q-oAV4AaABAg"
    assert dict(page.follow_ups[0].params) == {"part": "snippet", "parentId": "UgwI_ylXVnzPS8Q-oAV4AaABAg", "maxResults": "100"}
    assert page.next is not None and dict(page.next.params)["pageToken"].startswith("QURTSl9pMzdZOUVzMkI0")
    assert dict(page.next.params)["videoId"] == "F1UP7wRCPH8"
    assert page.total_count is None  # totalResults here is the page's size


def check_threads_with_replies(name: str) -> None:
    page = parse(name, youtube.video_threads_request("D-lhorsDlUQ"))
    assert [p.kind for p in page.posts] == ["comment", "reply", "comment", "comment", "comment", "comment"]
    top, reply = page.posts[0], page.posts[1]
    assert top.record_id == rid("UgydxWWoeA7F1OdqypJ4AaABAg") and top.reply_count == 1
    assert top.text == "Actions.ai"  # textOriginal, not the HTML of textDisplay
    assert reply.record_id == rid("UgydxWWoeA7F1OdqypJ4AaABAg.8wWQ3tdHcFx8xcDheui-qb")
    assert reply.author is not None and reply.author.display_name == "Dian Anggraeni"
    assert reply.parent_id == top.record_id and reply.root_id == rid("D-lhorsDlUQ")
    assert reply.created_at == utc(2019, 7, 20, 20, 22, 27) and dict(reply.counters) == {"likes": 1}
    assert page.follow_ups == ()  # the one reply was included
    assert page.next is None


def check_threads_all_to_channel(name: str) -> None:
    page = parse(name, youtube.comment_threads_request("UC_x5XG1OV2P6uZZ5FSM9Ttw"))
    assert len(page.posts) == 21 and sum(p.kind == "comment" for p in page.posts) == 20
    videos = {p.root_id.native_id for p in page.posts if p.root_id}
    assert len(videos) == 12 and "oXGL0rsaNf8" in videos
    (reply,) = [p for p in page.posts if p.kind == "reply"]
    assert reply.record_id == rid("UgwYjZXfNCUTKPq9CZp4AaABAg.8yxhlQJogG18yz_cXK9Kcj")
    assert reply.parent_id == rid("UgwYjZXfNCUTKPq9CZp4AaABAg") and reply.root_id == rid("oXGL0rsaNf8")
    assert reply.author is not None and reply.author.display_name == "Marlon López"
    assert page.follow_ups == ()
    assert page.next is not None and dict(page.next.params)["allThreadsRelatedToChannelId"] == "UC_x5XG1OV2P6uZZ5FSM9Ttw"
    assert dict(page.next.params)["pageToken"].startswith("QURTSl9pMGgtbFVjb093")
    assert page.total_count is None


def check_comments_by_parent(name: str) -> None:
    page = parse(name, youtube.replies_request("Ugw5zYU6n9pmIgAZWvN4AaABAg", "F1UP7wRCPH8"))
    assert [p.record_id.native_id for p in page.posts] == [
        "Ugw5zYU6n9pmIgAZWvN4AaABAg.91zT3cYb5B291za6voUoRh",
        "Ugw5zYU6n9pmIgAZWvN4AaABAg.91zT3cYb5B291za5eJxzs1",
    ]
    assert [p.text for p in page.posts] == ["this is the third reply!", "this is the second reply!"]
    assert all(p.kind == "reply" and p.parent_id == rid("Ugw5zYU6n9pmIgAZWvN4AaABAg") for p in page.posts)
    # the payload names no video: the root comes from the request's target
    assert all(p.root_id == rid("F1UP7wRCPH8") for p in page.posts)
    assert page.posts[0].created_at == utc(2019, 12, 1, 4, 46, 31)
    assert page.next is not None and dict(page.next.params)["pageToken"].startswith("R0FJeVZnbzBJTl9zNXRxNXlP")
    assert dict(page.next.params)["parentId"] == "Ugw5zYU6n9pmIgAZWvN4AaABAg"
    unrooted = parse(name, youtube.replies_request("Ugw5zYU6n9pmIgAZWvN4AaABAg", None))
    assert unrooted.posts[0].root_id is None and unrooted.posts[0].url is None


CHECKS: dict[str, Callable[[str], None]] = {
    "channels_list_contentDetails.json": check_channels,
    "playlist_items_page1.json": check_playlist_page1,
    "playlist_items_page2.json": check_playlist_page2,
    "videos_list_full_parts.json": check_videos,
    "comment_threads_by_video_page1.json": check_threads_by_video_page1,
    "comment_threads_by_video_with_replies.json": check_threads_with_replies,
    "comment_threads_all_to_channel_page1.json": check_threads_all_to_channel,
    "comments_by_parent_page1.json": check_comments_by_parent,
}


test_real_payload, test_every_check_has_its_payload = real_payload_tests("youtube", CHECKS, __file__)


# -- bad input ---------------------------------------------------------------------------------------

VIDEOS = ApiRequest("videos", "/videos", (("part", "snippet"), ("id", "abc")), "abc")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"<html><head><title>502 Bad Gateway</title></head><body>upstream error</body></html>", "the response is an HTML page"),
        (b'{"items": [ {"id": }', "malformed or truncated JSON"),
        (b'{"items": [{"id": "abc", "snippet": {"title": "cut', "malformed or truncated JSON"),
        (
            b'{"error": {"code": 403, "message": "The request cannot be completed because you have exceeded your '
            b'quota.", "errors": [{"message": "quota", "domain": "youtube.quota", "reason": "quotaExceeded"}]}}',
            "'The request cannot be completed because you have exceeded your quota.' (reason quotaExceeded). The daily quota is spent",
        ),
        (b'{"error": {"code": 400, "message": "API key not valid. Please pass a valid API key."}}', "Check the API key"),
        (b'{"kind": "youtube#videoListResponse", "items": [{"id": 5, "snippet": {}}]}', "expected a non-empty string, got int at items[0].id"),
        (b'{"kind": "youtube#videoListResponse", "items": {"id": "abc"}}', "expected a list, got dict at items"),
        (b'{"items": [{"id": "abc", "snippet": {"publishedAt": "yesterday"}}]}', "expected an ISO 8601 time, got 'yesterday' at items[0].snippet.publishedAt"),
        (b'{"items": [{"id": "abc", "snippet": {}, "statistics": {"viewCount": "many"}}]}', "expected a count, got 'many' at items[0].statistics.viewCount"),
        (b'{"kind": "youtube#channelListResponse", "items": []}', "expected a youtube#videoListResponse, got 'youtube#channelListResponse'"),
        (b"[1, 2, 3]", "expected an object, got list at the body"),
    ],
)
def test_bad_bodies_raise_page_parse_error(body: bytes, expected: str) -> None:
    error = refusal(youtube.parse_page, VIDEOS, body)
    assert expected in error.message
    assert error.message.startswith("youtube videos /videos: ")
    assert error.url == "/videos"


def test_unknown_endpoint_is_named() -> None:
    with pytest.raises(PageParseError, match="no parser for endpoint 'search'"):
        youtube.parse_page(ApiRequest("search", "/search"), b"{}", {})


def test_unknown_channel_is_reported_missing() -> None:
    request = youtube.first_requests(AccountRef("youtube", "UCnobody"))[0]
    page = youtube.parse_page(request, b'{"kind": "youtube#channelListResponse", "etag": "x", "pageInfo": {"totalResults": 0, "resultsPerPage": 5}}', {})
    assert page.posts == () and page.follow_ups == ()
    assert page.missing == (("UCnobody", "channel not returned by channels.list (unknown, terminated or private)"),)


REQUESTS = [
    youtube.first_requests(AccountRef("youtube", "UCx"))[0],
    playlist_request(),
    VIDEOS,
    youtube.comment_threads_request("UCx"),
    youtube.replies_request("Ugx", "vid"),
]

MUTABLE = Payloads(
    REALDATA,
    {
        "videos_list_full_parts.json": VIDEOS,
        "comment_threads_by_video_with_replies.json": youtube.video_threads_request("D-lhorsDlUQ"),
        "comment_threads_all_to_channel_page1.json": youtube.comment_threads_request("UC_x5XG1OV2P6uZZ5FSM9Ttw"),
        "playlist_items_page1.json": playlist_request(),
        "channels_list_contentDetails.json": REQUESTS[0],
        "comments_by_parent_page1.json": youtube.replies_request("Ugw5zYU6n9pmIgAZWvN4AaABAg", None),
    },
)

(
    test_arbitrary_bytes_give_a_page_or_page_parse_error,
    test_arbitrary_json_gives_a_page_or_page_parse_error,
    test_real_payloads_with_one_value_replaced_give_a_page_or_page_parse_error,
) = page_or_refusal_tests(youtube.parse_page, REQUESTS, MUTABLE)


# -- round trip with the sample YouTube ---------------------------------------------------------------


def minimum_calls(world: World) -> int:
    """The fewest calls that can capture the channel, given the API's limits.

    1 channels call (the uploads playlist id), then per 50 videos one playlistItems page (50 is
    its page limit) and one videos call (50 ids per call), per 100 top-level comments one
    commentThreads page (its limit; the channel-wide listing needs at least one call), and one
    comments call per thread with more replies than the 5 a thread includes.
    """
    videos = top_level = long_threads = 0
    for post in world.iter_posts("youtube"):
        videos += 1
        for _, replies in thread_groups(world, post.index):
            top_level += 1
            long_threads += len(replies) > THREAD_REPLIES_INCLUDED
    return 1 + 2 * math.ceil(videos / 50) + max(1, math.ceil(top_level / 100)) + long_threads


epoch0 = walked("youtube", POSTS, 0)
epoch1 = walked("youtube", POSTS, 1)


def test_round_trip_captures_the_ground_truth(epoch0: tuple[SampleServer, Walk]) -> None:
    server, walk = epoch0
    ids = {p.record_id.native_id for p in walk.posts}
    assert ids == ground_truth(server.world)
    kinds = {p.kind for p in walk.posts}
    assert kinds == {"post", "comment", "reply"}
    assert sum(p.kind == "post" for p in walk.posts) == POSTS  # each video once: uploads pages give no records


def test_round_trip_links_every_comment_and_reply(epoch0: tuple[SampleServer, Walk]) -> None:
    server, walk = epoch0
    kinds = {p.record_id: p.kind for p in walk.posts}
    for post in walk.posts:
        if post.kind == "post":
            assert post.parent_id is None and post.root_id is None
            continue
        assert post.root_id is not None and kinds[post.root_id] == "post"
        assert post.parent_id is not None
        assert kinds[post.parent_id] == ("post" if post.kind == "comment" else "comment")  # one level of replies


def test_round_trip_keeps_text_hindi_and_media(epoch0: tuple[SampleServer, Walk]) -> None:
    server, walk = epoch0
    world = server.world
    posts = {p.record_id.native_id: p for p in walk.posts}
    hindi = 0
    for index in range(world.post_count()):
        expected = world.post("youtube", index)
        got = posts[video_id(index)]
        assert got.text.endswith(expected.text) and got.created_at == expected.created_at.replace(microsecond=0)
        assert got.language == expected.language
        (media,) = got.media
        assert media.kind == "video" and media.duration_ms is not None and media.duration_ms > 0
        stem = expected.media[0].name if expected.media else f"youtube-{index}-thumb"
        assert media.preview_url == f"{server.url}/media/{stem}.png"
        if expected.media and expected.media[0].duration_ms is not None:
            assert media.duration_ms == expected.media[0].duration_ms // 1000 * 1000  # YouTube counts whole seconds
        if expected.language == "hi":
            hindi += 1
            assert any("\u0900" <= ch <= "\u097f" for ch in got.text)
        for top, replies in thread_groups(world, index):
            comment = posts[comment_id(index, top, top.number)]
            assert comment.text == top.text and comment.author is not None and comment.author.handle == top.author.handle
            for reply in replies:
                assert posts[comment_id(index, reply, top.number)].text.endswith(reply.text)
    assert hindi > 20
    with httpx.Client() as client:
        preview = client.get(posts[video_id(0)].media[0].preview_url or "")
    assert preview.status_code == 200 and preview.content.startswith(b"\x89PNG")


def test_round_trip_calls_stay_within_a_tenth_of_the_minimum(epoch0: tuple[SampleServer, Walk]) -> None:
    server, walk = epoch0
    assert_calls_within_a_tenth(walk, minimum_calls(server.world))
    assert walk.calls_by_endpoint["channel"] == 1
    assert walk.calls_by_endpoint["uploads"] == walk.calls_by_endpoint["videos"] == math.ceil(POSTS / 50)


def fetch(server: SampleServer, request: ApiRequest) -> Page:
    return common.fetch(server, "youtube", request)


def test_uploads_paging_is_stable_while_the_world_grows() -> None:
    with SampleServer(World(seed=5, posts_per_account=120)) as server:
        (uploads,) = fetch(server, youtube.first_requests(AccountRef("youtube", server.world.account("youtube").native_id))[0]).follow_ups
        page = fetch(server, uploads)
        assert page.total_count == 120
        listed = [str(record) for record, _ in page.listed]
        server.set_epoch(1)  # new videos arrive on top; the token keeps its place
        request = page.next
        while request is not None:
            page = fetch(server, request)
            listed += [str(record) for record, _ in page.listed]
            request = page.next
        expected = [f"youtube:{video_id(p.index)}" for p in server.world.iter_posts("youtube") if p.index < 120]
        assert listed[:50] == [f"youtube:{video_id(i)}" for i in range(119, 69, -1)]
        assert listed[50:] == [v for v in expected if v not in listed[:50]]


def test_sample_errors_have_youtube_shapes(epoch0: tuple[SampleServer, Walk]) -> None:
    server, _ = epoch0
    token = server.world.token("youtube")
    unknown = httpx.get(server.base_url("youtube") + "/search", params={"key": token})
    assert unknown.status_code == 404 and unknown.json()["error"]["errors"][0]["reason"] == "notFound"
    too_many = httpx.get(server.base_url("youtube") + "/playlistItems", params={"key": token, "playlistId": "UUsangrahJalShaktiDept01", "maxResults": "51"})
    assert too_many.status_code == 400
    with pytest.raises(PageParseError, match="Invalid value for parameter maxResults"):
        youtube.parse_page(playlist_request(), too_many.content, {})
    missing = httpx.get(server.base_url("youtube") + "/comments", params={"key": token, "parentId": "UgxNOPE"})
    assert missing.status_code == 404 and missing.json()["error"]["errors"][0]["reason"] == "commentNotFound"


def test_epoch1_drops_deleted_shows_edits_and_new_videos(epoch1: tuple[SampleServer, Walk]) -> None:
    server, walk = epoch1
    world = server.world
    ids = {p.record_id.native_id for p in walk.posts}
    posts = {p.record_id.native_id: p for p in walk.posts}
    assert ids == ground_truth(world)
    new = range(world.posts_per_account, world.post_count())
    assert len(new) == POSTS // 20 and all(video_id(i) in ids for i in new)
    deleted = edited = 0
    for index in range(world.post_count()):
        everything = {r.number: r for r in world.replies("youtube", index)}
        for reply in everything.values():
            top = reply
            while top.parent_number:
                top = everything[top.parent_number]
            native = comment_id(index, reply, top.number)
            if reply.deleted:
                deleted += 1
                assert native not in ids
            elif reply.edited_at is not None and native in ids:
                edited += 1
                assert posts[native].edited_at == reply.edited_at.replace(microsecond=0)
                assert posts[native].text.endswith("(edited)")
        expected = world.post("youtube", index)
        if expected.edited_at is not None and not expected.deleted:
            # videos expose no edit time; the new text is what shows the edit
            assert posts[video_id(index)].text.endswith(expected.text) and posts[video_id(index)].edited_at is None
    assert deleted > 0 and edited > 0
