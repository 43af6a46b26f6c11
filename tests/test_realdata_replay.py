"""Every real payload, replayed through a local HTTP server and Sangrah's own client and WARC
writer, comes back out of the WARC byte for byte and parses to the same records as the file.

The per-platform tests (tests/platforms/) assert the values inside each payload; this one proves
the path a real harvest takes: HTTP → credential stripped → WARC → read by pointer → parse.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from archiver.capture.reader import read_record
from archiver.capture.writer import Exchange, WarcWriter
from archiver.http import PlatformClient
from archiver.model import ApiRequest
from archiver.platforms import get_platform
from tests.conftest import _SECRETS, _WRITTEN, REALDATA

SECRET = "SANGRAH-TEST-SECRET-replay-0001"
MASTODON_NEXT = (
    '<https://localhost:3000/api/v1/accounts/117020565966271181/statuses?limit=5&max_id=117020580489281910>; rel="next", '
    '<https://localhost:3000/api/v1/accounts/117020565966271181/statuses?limit=5&min_id=117020580518794573>; rel="prev"'
)

# file -> (the call that returned it, records it holds)
CASES: dict[str, tuple[ApiRequest, int]] = {
    "x/users_tweets_page_expansions_next_token.json": (ApiRequest("timeline", "/2/users/2351222345/tweets", (("max_results", "100"),), "2351222345"), 100),
    "x/search_recent_from_account_page.json": (ApiRequest("replies", "/2/tweets/search/recent", (("query", "from:mariambarghouti"),), "1"), 100),
    "x/search_all_page_indic_text.json": (ApiRequest("replies", "/2/tweets/search/all", (("query", "reliance"),), "1"), 112),
    "facebook/page_feed_page1.json": (ApiRequest("posts", "/v23.0/19292868552/posts", (("limit", "5"),), "19292868552"), 5),
    "facebook/page_feed_page2.json": (ApiRequest("posts", "/v23.0/19292868552/posts", (("limit", "5"),), "19292868552"), 5),
    "facebook/page_posts_ids_real_cursors.json": (ApiRequest("posts", "/v23.0/2121008874780932/posts", (), "2121008874780932"), 15),
    "facebook/user_posts_time_paging_page1.json": (ApiRequest("posts", "/v23.0/4/posts", (), "4"), 5),
    "facebook/post_comments_page1.json": (ApiRequest("comments", "/v23.0/19292868552_10158407654328553/comments", (), "19292868552_10158407654328553"), 10),
    "facebook/post_comments_page2.json": (ApiRequest("comments", "/v23.0/19292868552_10158407654328553/comments", (), "19292868552_10158407654328553"), 5),
    "instagram/user_media_page1.json": (ApiRequest("media", "/v23.0/17841406338772941/media", (), "17841406338772941"), 2),
    "instagram/user_media_page2.json": (ApiRequest("media", "/v23.0/17841406338772941/media", (), "17841406338772941"), 2),
    "instagram/media_comments_page1.json": (ApiRequest("comments", "/v23.0/17846368219941692/comments", (), "17846368219941692"), 2),
    "instagram/media_comments_page2.json": (ApiRequest("comments", "/v23.0/17846368219941692/comments", (), "17846368219941692"), 2),
    "instagram/comment_replies.json": (ApiRequest("replies", "/v23.0/17984127178281340/replies", (), "17984127178281340"), 1),
    "youtube/channels_list_contentDetails.json": (ApiRequest("channel", "/channels", (("id", "UC_x5XG1OV2P6uZZ5FSM9Ttw"),), "UC_x5XG1OV2P6uZZ5FSM9Ttw"), 0),
    "youtube/playlist_items_page1.json": (ApiRequest("uploads", "/playlistItems", (("playlistId", "PLOU2XLYxmsIJXsH2htG1g0NUjHGq62Q7i"),), "PLOU2XLYxmsIJXsH2htG1g0NUjHGq62Q7i"), 0),
    "youtube/playlist_items_page2.json": (ApiRequest("uploads", "/playlistItems", (("playlistId", "PLOU2XLYxmsIJXsH2htG1g0NUjHGq62Q7i"),), "PLOU2XLYxmsIJXsH2htG1g0NUjHGq62Q7i"), 0),
    "youtube/videos_list_full_parts.json": (ApiRequest("videos", "/videos", (("id", "D-lhorsDlUQ"),), "D-lhorsDlUQ"), 1),
    "youtube/comment_threads_by_video_page1.json": (ApiRequest("comment_threads", "/commentThreads", (("videoId", "F1UP7wRCPH8"),), "F1UP7wRCPH8"), 5),
    "youtube/comment_threads_by_video_with_replies.json": (ApiRequest("comment_threads", "/commentThreads", (("videoId", "D-lhorsDlUQ"),), "D-lhorsDlUQ"), 6),
    "youtube/comment_threads_all_to_channel_page1.json": (ApiRequest("comment_threads", "/commentThreads", (("allThreadsRelatedToChannelId", "UC_x5XG1OV2P6uZZ5FSM9Ttw"),), "UC_x5XG1OV2P6uZZ5FSM9Ttw"), 21),
    "youtube/comments_by_parent_page1.json": (ApiRequest("replies", "/comments", (("parentId", "Ugw5zYU6n9pmIgAZWvN4AaABAg"),), "D-lhorsDlUQ/Ugw5zYU6n9pmIgAZWvN4AaABAg"), 2),
    "mastodon/account_statuses_page1.json": (ApiRequest("statuses", "/api/v1/accounts/117020565966271181/statuses", (("limit", "5"),), "117020565966271181"), 5),
    "mastodon/account_statuses_page2_max_id.json": (ApiRequest("statuses", "/api/v1/accounts/117020565966271181/statuses", (("limit", "5"), ("max_id", "117020580489281910")), "117020565966271181"), 5),
    "mastodon/status_context_mastodon_social.json": (ApiRequest("context", "/api/v1/statuses/110446983926957470/context", (), "110446983926957470"), 2),
    "bluesky/get_author_feed_page_with_cursor.json": (ApiRequest("author_feed", "/xrpc/app.bsky.feed.getAuthorFeed", (("actor", "shinyakato.dev"),), "shinyakato.dev"), 49),  # 25 feed items and the posts they answer or repost
    "bluesky/get_post_thread_parents_and_replies.json": (ApiRequest("thread", "/xrpc/app.bsky.feed.getPostThread", (("uri", "at://did:plc:iuk433sj23ncu2oo2pfnw7fw/app.bsky.feed.post/3jujgsslyxt2h"),), "at://did:plc:iuk433sj23ncu2oo2pfnw7fw/app.bsky.feed.post/3jujgsslyxt2h"), 58),
    "bluesky/get_post_thread_nested_replies.json": (ApiRequest("thread", "/xrpc/app.bsky.feed.getPostThread", (("uri", "at://x"),), "at://x"), 5),
}


class _Replay(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        return

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        # /replay/<platform>/<file>/<the API path...>
        parts = self.path.split("/", 5)
        body = (REALDATA / parts[2] / parts[3]).read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        if parts[3] == "account_statuses_page1.json":
            self.send_header("Link", MASTODON_NEXT)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def replay_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Replay)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/replay"
    server.shutdown()
    server.server_close()


def test_every_real_json_payload_is_replayed() -> None:
    on_disk = {p.relative_to(REALDATA).as_posix() for p in REALDATA.glob("*/*.json")}
    assert on_disk == set(CASES), "a real payload has no replay case (or a case has no file)"


@pytest.mark.parametrize("name", sorted(CASES))
def test_real_payload_through_http_and_warc(name: str, replay_url: str, tmp_path: Path) -> None:
    _WRITTEN.append(tmp_path)
    _SECRETS.add(SECRET)
    platform, filename = name.split("/")
    request, expected_records = CASES[name]
    module = get_platform(platform)
    exchanges: list[Exchange] = []
    with WarcWriter(tmp_path, prefix="replay", warcinfo={"operator": "test"}) as writer:
        client = PlatformClient(
            platform=platform,
            base_url=f"{replay_url}/{platform}/{filename}",
            auth=module.AUTH,
            credential=SECRET,
            account_label=f"{platform}:replay",
            on_exchange=exchanges.append,
        )
        with client:
            response = client.fetch(request)
        records = writer.write_exchange(exchanges[0])
    warc = next(tmp_path.glob("*.warc.gz"))
    record = read_record(warc, records.response.pointer.offset, records.response.pointer.length)
    original = (REALDATA / name).read_bytes()
    assert record.payload == original  # byte for byte, digest checked by read_record
    assert SECRET.encode() not in warc.read_bytes()
    assert SECRET not in exchanges[0].url and all(SECRET not in v for _, v in exchanges[0].request_headers)
    from_warc = module.parse_page(request, record.payload, dict(record.http_headers))
    from_file = module.parse_page(request, original, dict(response.headers))
    assert from_warc.posts == from_file.posts
    assert from_warc.next == from_file.next
    assert len(from_warc.posts) == expected_records
    if filename == "account_statuses_page1.json":
        assert from_warc.next is not None and ("max_id", "117020580489281910") in from_warc.next.params
