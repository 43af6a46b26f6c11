"""The Mastodon module: real payloads and cassettes, bad input, and a round trip with the sample instance."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import orjson
import pytest
import yaml
from hypothesis import strategies as st

from archiver.errors import PageParseError
from archiver.model import ApiRequest, Page, RecordId
from archiver.platforms import AccountRef, get_platform
from archiver.platforms import mastodon
from archiver.samples import SampleServer, World
from archiver.samples.mastodon import conversation, ground_truth, listed_statuses, status_id
from tests.platforms import common
from tests.platforms.common import (
    Payloads,
    assert_calls_within_a_tenth,
    count_listed,
    page_or_refusal_tests,
    real_payload_tests,
    records_by_id,
    refusal,
    utc,
    walked,
)
from tests.walk import Walk

REALDATA = common.REALDATA / "mastodon"
POSTS = 150
ACCOUNT = "117020565966271181"
STATUSES = mastodon.statuses_request(ACCOUNT)
#: the Link headers recorded with the two statuses pages (cassette_account_statuses_link_pagination.yaml)
LINK_PAGE1 = (
    '<http://localhost:3000/api/v1/accounts/117020565966271181/statuses?limit=5&max_id=117020580489281910>; rel="next", '
    '<http://localhost:3000/api/v1/accounts/117020565966271181/statuses?limit=5&min_id=117020580518794573>; rel="prev"'
)
LINK_PAGE2 = (
    '<http://localhost:3000/api/v1/accounts/117020565966271181/statuses?limit=5&max_id=117020580452511285>; rel="next", '
    '<http://localhost:3000/api/v1/accounts/117020565966271181/statuses?limit=5&min_id=117020580481736214>; rel="prev"'
)
TOOT_IDS = [
    "117020580518794573",
    "117020580511453871",
    "117020580503743669",
    "117020580496489811",
    "117020580489281910",
    "117020580481736214",
    "117020580474454464",
    "117020580467310235",
    "117020580459855703",
    "117020580452511285",
]


def rid(native_id: str) -> RecordId:
    return RecordId("mastodon", native_id)


def request_for(uri: str) -> ApiRequest:
    """The ApiRequest this module would have made for a recorded URI."""
    parts = urlsplit(uri)
    params = tuple(parse_qsl(parts.query))
    segments = parts.path.strip("/").split("/")
    if segments[-1] == "context":
        return ApiRequest("context", parts.path, params, segments[-2])
    if segments[-1] == "statuses" and segments[-3] == "accounts":
        return ApiRequest("statuses", parts.path, params, segments[-2])
    return ApiRequest("status", parts.path, params, segments[-1])


def recorded_headers(headers: dict[str, list[str]]) -> dict[str, str]:
    return {name: ", ".join(values) for name, values in headers.items()}


# -- the module's contract ---------------------------------------------------------------------


def test_module_names() -> None:
    module = get_platform("mastodon")
    assert module.NAME == "mastodon"
    assert module.AUTH.kind == "bearer"
    assert module.DEFAULT_BASE_URL == "https://mastodon.social"
    assert module.LISTING_ENDPOINTS == frozenset({"statuses"})


def test_first_request_lists_statuses_forty_at_a_time() -> None:
    assert mastodon.first_requests(AccountRef("mastodon", "109000000000000001")) == [
        ApiRequest("statuses", "/api/v1/accounts/109000000000000001/statuses", (("limit", "40"),), "109000000000000001")
    ]


# -- real payloads ---------------------------------------------------------------------------------


def check_statuses_page1(name: str) -> None:
    page = mastodon.parse_page(STATUSES, (REALDATA / name).read_bytes(), {"Link": LINK_PAGE1})
    assert [p.record_id.native_id for p in page.posts] == TOOT_IDS[:5]
    assert [p.text for p in page.posts] == [f"Toot number {n}!" for n in range(9, 4, -1)]  # from <p>Toot number 9!</p>
    first = page.posts[0]
    assert first.kind == "post" and first.parent_id is None and first.root_id is None
    assert first.author is not None and (first.author.native_id, first.author.handle, first.author.display_name) == (ACCOUNT, "mastodonpy_test", "John Lennon")
    assert first.created_at == utc(2026, 8, 1, 13, 52, 34, 108000)
    assert first.url == "http://localhost:3000/@mastodonpy_test/117020580518794573" and first.language == "en"
    assert first.reply_count == 0 and dict(first.counters) == {"reblogs": 0, "favourites": 0, "quotes": 0}
    assert page.follow_ups == ()  # no status has replies
    assert page.next == ApiRequest("statuses", STATUSES.path, (("limit", "40"), ("max_id", "117020580489281910")), ACCOUNT)
    assert page.listed[0] == (rid("117020580518794573"), utc(2026, 8, 1, 13, 52, 34, 108000)) and len(page.listed) == 5


def check_statuses_page2(name: str) -> None:
    request = mastodon.statuses_request(ACCOUNT, max_id="117020580489281910")
    page = mastodon.parse_page(request, (REALDATA / name).read_bytes(), {"link": LINK_PAGE2})
    assert [p.record_id.native_id for p in page.posts] == TOOT_IDS[5:]
    assert page.posts[-1].text == "Toot number 0!" and page.posts[-1].created_at == utc(2026, 8, 1, 13, 52, 33, 97000)
    assert page.next is not None and page.next.params == (("limit", "40"), ("max_id", "117020580452511285"))


def check_context(name: str) -> None:
    page = mastodon.parse_page(mastodon.context_request("110446983926957470"), (REALDATA / name).read_bytes(), {})
    ancestor, descendant = page.posts
    assert ancestor.record_id == rid("110446983178245440") and ancestor.kind == "post" and ancestor.text == "first status"
    assert ancestor.language == "de" and ancestor.author is not None and ancestor.author.handle == "halcy" and ancestor.author.native_id == "43"
    assert descendant.record_id == rid("110446984249325790") and descendant.kind == "reply" and descendant.text == "final status"
    assert descendant.parent_id == rid("110446983926957470")  # the requested status, not in the body
    assert descendant.root_id == rid("110446983178245440")  # the first ancestor replies to nothing
    assert descendant.created_at == utc(2023, 5, 28, 15, 20, 35, 248000)
    assert page.next is None and page.follow_ups == ()


def check_pagination_cassette(name: str) -> None:
    cassette = yaml.safe_load((REALDATA / name).read_text())
    seen: dict[str, int] = {}
    for interaction in cassette["interactions"]:
        method, uri = interaction["request"]["method"], interaction["request"]["uri"]
        body = interaction["response"]["body"]["string"].encode()
        headers = recorded_headers(interaction["response"]["headers"])
        request = request_for(uri)
        key = f"{method} {request.endpoint}"
        seen[key] = seen.get(key, 0) + 1
        if uri.endswith("/verify_credentials"):
            # an Account, not a Status: refused with the place it went wrong
            with pytest.raises(PageParseError, match=r"expected an object, got NoneType at the body\.account"):
                mastodon.parse_page(ApiRequest("status", urlsplit(uri).path, (), "verify_credentials"), body, headers)
            continue
        page = mastodon.parse_page(request, body, headers)
        if method == "GET":
            query = dict(request.params)
            ids = [p.record_id.native_id for p in page.posts]
            if "max_id" in query:
                assert ids == TOOT_IDS[5:]
                assert page.next is not None and dict(page.next.params) == {"limit": "5", "max_id": "117020580452511285"}
            else:
                assert ids == TOOT_IDS[:5]  # first page, and the min_id page that leads back to it
                # the next request carries the recorded Link's max_id, and drops min_id
                assert page.next is not None and dict(page.next.params) == {"limit": "5", "max_id": "117020580489281910"}
            continue
        (post,) = page.posts
        number = 9 - TOOT_IDS.index(post.record_id.native_id)
        # POST answers with the rendered content, DELETE with the source text only
        assert post.text == f"Toot number {number}!" and post.kind == "post"
        assert post.author is not None and post.author.native_id == ACCOUNT
    assert seen == {"GET status": 1, "POST status": 10, "GET statuses": 3, "DELETE status": 10}


def check_context_cassette(name: str) -> None:
    cassette = yaml.safe_load((REALDATA / name).read_text())
    (interaction,) = cassette["interactions"]
    request = request_for(interaction["request"]["uri"])
    assert request == mastodon.context_request("110446983926957470")
    page = mastodon.parse_page(request, interaction["response"]["body"]["string"].encode(), recorded_headers(interaction["response"]["headers"]))
    assert [(p.record_id.native_id, p.kind, p.root_id) for p in page.posts] == [
        ("110446983178245440", "post", None),
        ("110446984249325790", "reply", rid("110446983178245440")),
    ]


CHECKS: dict[str, Callable[[str], None]] = {
    "account_statuses_page1.json": check_statuses_page1,
    "account_statuses_page2_max_id.json": check_statuses_page2,
    "status_context_mastodon_social.json": check_context,
    "cassette_account_statuses_link_pagination.yaml": check_pagination_cassette,
    "cassette_status_context_mastodon_social.yaml": check_context_cassette,
}


test_real_payload, test_every_check_has_its_payload = real_payload_tests("mastodon", CHECKS, __file__)


# -- statuses built from the real shape -----------------------------------------------------------

REAL_STATUS: dict[str, Any] = orjson.loads((REALDATA / "account_statuses_page1.json").read_bytes())[0]


def status(**changes: Any) -> dict[str, Any]:
    value = copy.deepcopy(REAL_STATUS)
    value.update(changes)
    return value


def test_reblog_is_a_repost_that_points_at_the_original() -> None:
    original = status(id="110000000000000001", content="<p>मूल पोस्ट</p>", replies_count=4, account={**REAL_STATUS["account"], "id": "7", "acct": "other@example.social"})
    reblog = status(id="117020580600000000", content="", created_at="2026-08-02T09:00:00.000Z", replies_count=0, reblog=original)
    page = mastodon.parse_page(STATUSES, orjson.dumps([reblog]), {})
    repost, shown = page.posts
    assert repost.record_id == rid("117020580600000000") and repost.kind == "repost"
    assert repost.author is not None and repost.author.native_id == ACCOUNT
    assert repost.created_at == utc(2026, 8, 2, 9) and repost.text == "मूल पोस्ट"
    assert shown.record_id == rid("110000000000000001") and shown.kind == "post" and shown.author is not None and shown.author.handle == "other@example.social"
    assert page.extra["references"] == {"mastodon:117020580600000000": "mastodon:110000000000000001"}
    assert page.listed == ((rid("117020580600000000"), utc(2026, 8, 2, 9)),)  # the reblogged status is context, not listed
    assert page.follow_ups == ()  # the original's replies are someone else's conversation


def test_reply_with_media_spoiler_and_edit() -> None:
    value = status(
        id="117020580700000000",
        in_reply_to_id="117020580518794573",
        in_reply_to_account_id="43",
        spoiler_text="बाढ़ राहत",
        replies_count=2,
        edited_at="2026-08-01T15:00:00.500Z",
        content='<p>Line one<br />line &amp; two</p><p><a href="https://jalshakti.gov.example/notice/12" rel="nofollow noopener" target="_blank">'
        '<span class="invisible">https://</span><span class="ellipsis">jalshakti.gov.example/notice</span><span class="invisible">/12</span></a></p>',
        media_attachments=[
            {"id": "1", "type": "image", "url": "https://files.example/a.png", "preview_url": "https://files.example/a_small.png", "description": "A notice", "meta": {}},
            {"id": "2", "type": "video", "url": "https://files.example/b.mp4", "preview_url": "https://files.example/b.png", "description": None, "meta": {"original": {"duration": 12.5}}},
            {"id": "3", "type": "gifv", "url": "https://files.example/c.mp4", "preview_url": None, "description": None},
        ],
    )
    page = mastodon.parse_page(STATUSES, orjson.dumps([value]), {})
    (post,) = page.posts
    assert post.kind == "reply" and post.parent_id == rid("117020580518794573") and post.root_id is None
    assert post.text == "बाढ़ राहत\n\nLine one\nline & two\n\nhttps://jalshakti.gov.example/notice/12"
    assert post.edited_at == utc(2026, 8, 1, 15, 0, 0, 500000)
    assert [(m.kind, m.url, m.alt_text, m.duration_ms) for m in post.media] == [
        ("image", "https://files.example/a.png", "A notice", None),
        ("video", "https://files.example/b.mp4", None, 12500),
        ("gif", "https://files.example/c.mp4", None, None),
    ]
    assert page.follow_ups == (mastodon.context_request("117020580700000000"),)


def test_quote_post_points_at_the_quoted_status() -> None:
    quoted = status(id="110000000000000002", content="<p>quoted</p>")
    value = status(id="117020580800000000", content="<p>see this</p>", quote={"state": "accepted", "quoted_status": quoted})
    page = mastodon.parse_page(STATUSES, orjson.dumps([value]), {})
    assert [(p.record_id.native_id, p.kind) for p in page.posts] == [("117020580800000000", "quote"), ("110000000000000002", "post")]
    assert page.extra["references"] == {"mastodon:117020580800000000": "mastodon:110000000000000002"}


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        (None, None),
        ('<https://x.example/api/v1/accounts/1/statuses?limit=40&min_id=9>; rel="prev"', None),
        ('<https://x.example/api/v1/accounts/1/statuses?max_id=77&limit=40&access_token=SECRET>; rel="next"', (("limit", "40"), ("max_id", "77"))),
        ("<https://x.example/api/v1/accounts/1/statuses?limit=40&max_id=78>; rel=next", (("limit", "40"), ("max_id", "78"))),
    ],
)
def test_next_page_comes_from_the_link_header_max_id_only(link: str | None, expected: tuple[tuple[str, str], ...] | None) -> None:
    headers = {"Link": link} if link else {}
    page = mastodon.parse_page(STATUSES, orjson.dumps([REAL_STATUS]), headers)
    assert (page.next.params if page.next else None) == expected  # never the absolute URL, nor what else it carries


def test_an_empty_page_ends_the_listing_even_with_a_link() -> None:
    assert mastodon.parse_page(STATUSES, b"[]", {"Link": LINK_PAGE1}).next is None


@pytest.mark.parametrize(
    ("markup", "text"),
    [
        ("<p>Water &amp; power &lt;today&gt; &#39;now&#39;</p>", "Water & power <today> 'now'"),
        ("<p>one</p><p>two</p>", "one\n\ntwo"),
        ("<p>one<br>two<br/>three</p>", "one\ntwo\nthree"),
        ('<p><a href="https://example.in/x" class="mention hashtag" rel="tag">#<span>जलसेवा</span></a></p>', "#जलसेवा"),
        ('<p><span class="h-card"><a href="https://m.example/@a" class="u-url mention">@<span>a</span></a></span> hi</p>', "@a hi"),
        ("<ul><li>a</li><li>b</li></ul>", "a\nb"),
        ("plain, no tags", "plain, no tags"),
        ("", ""),
    ],
)
def test_html_to_text(markup: str, text: str) -> None:
    assert mastodon.html_to_text(markup) == text


# -- bad input ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_", "body", "expected"),
    [
        (STATUSES, b"<html><body><h1>We're sorry, but something went wrong.</h1></body></html>", "the response is an HTML page"),
        (STATUSES, b'[{"id": "1", "content": }', "malformed or truncated JSON"),
        (STATUSES, b'[{"id": "1", "content": "<p>cut', "malformed or truncated JSON"),
        (STATUSES, b'{"error": "The access token is invalid"}', "'The access token is invalid'. Check the access token"),
        (STATUSES, b'{"error": "invalid_token", "error_description": "expired"}', "'invalid_token' (expired)"),
        (STATUSES, b'{"id": "1"}', "expected a list, got dict at the body"),
        (STATUSES, b'[{"id": 5}]', "expected a non-empty string, got int at [0].id"),
        (STATUSES, b'[{"id": "5", "account": {"id": "1"}, "created_at": 17}]', "expected an ISO 8601 time, got int at [0].created_at"),
        (STATUSES, b'[{"id": "5", "account": {"id": "1"}, "replies_count": "2"}]', "expected a count, got str at [0].replies_count"),
        (mastodon.context_request("1"), b'{"ancestors": [], "descendants": {}}', "expected a list, got dict at descendants"),
        (mastodon.context_request("1"), b'{"ancestors": [5], "descendants": []}', "expected an object, got int at ancestors[0]"),
    ],
)
def test_bad_bodies_raise_page_parse_error(request_: ApiRequest, body: bytes, expected: str) -> None:
    error = refusal(mastodon.parse_page, request_, body)
    assert expected in error.message
    assert error.message.startswith(f"mastodon {request_.endpoint} {request_.path}: ")


REQUESTS = [STATUSES, mastodon.context_request("110446983926957470"), ApiRequest("status", "/api/v1/statuses/1", (), "1")]
MUTABLE = Payloads(REALDATA, {"account_statuses_page1.json": STATUSES, "status_context_mastodon_social.json": REQUESTS[1]})

# arbitrary bodies come with an arbitrary Link header, real ones with the one recorded with them
(
    test_arbitrary_bytes_give_a_page_or_page_parse_error,
    test_arbitrary_json_gives_a_page_or_page_parse_error,
    test_real_payloads_with_one_value_replaced_give_a_page_or_page_parse_error,
) = page_or_refusal_tests(
    mastodon.parse_page,
    REQUESTS,
    MUTABLE,
    headers=st.text(max_size=80).map(lambda link: {"Link": link}),
    payload_headers={"Link": LINK_PAGE1},
)


# -- round trip with the sample instance ---------------------------------------------------------------


def minimum_calls(world: World) -> int:
    """The fewest calls that can capture the account, given the API's limits.

    The account's statuses (its posts and its own replies) at 40 per page, the most the endpoint
    serves, and one context call per listed status that has replies: a context is the only way to
    reach replies, and it is not paged.
    """
    listed, with_replies = count_listed(listed_statuses(world))
    return max(1, math.ceil(listed / 40)) + with_replies


epoch0 = walked("mastodon", POSTS, 0)
epoch1 = walked("mastodon", POSTS, 1)


def test_round_trip_captures_the_ground_truth(epoch0: tuple[SampleServer, Walk]) -> None:
    server, walk = epoch0
    assert {p.record_id.native_id for p in walk.posts} == ground_truth(server.world)
    assert {p.kind for p in walk.posts} == {"post", "reply"}


def test_round_trip_links_replies_to_their_parents_and_roots(epoch0: tuple[SampleServer, Walk]) -> None:
    server, walk = epoch0
    kinds = {p.record_id: p.kind for p in walk.posts}
    for post in walk.posts:
        if post.kind == "post":
            assert post.parent_id is None
            continue
        assert post.parent_id in kinds
        if post.root_id is not None:
            assert kinds[post.root_id] == "post"
    roots = [p for p in walk.posts if p.kind == "reply" and p.root_id is not None]
    assert len(roots) > len(walk.posts) // 3  # replies seen in a context know their root


def test_round_trip_keeps_text_hindi_media_and_edits(epoch0: tuple[SampleServer, Walk]) -> None:
    server, walk = epoch0
    world = server.world
    posts = {p.record_id.native_id: p for p in walk.posts}
    department = world.department("mastodon")
    hindi = media_checked = 0
    for index in range(world.post_count()):
        conv = conversation(world, "mastodon", index)
        got = posts[status_id(world, index)]
        assert got.text == conv.post.text  # HTML with hashtag, mention and shortened link spans, back to the text
        assert got.edited_at == (conv.post.edited_at.replace(microsecond=conv.post.edited_at.microsecond // 1000 * 1000) if conv.post.edited_at else None)
        hindi += conv.post.language == "hi"
        for want, have in zip(conv.post.media, got.media, strict=True):
            media_checked += 1
            extension = "mp4" if want.kind == "video" else "png"
            assert (have.kind, have.url, have.alt_text) == (want.kind, f"{server.url}/media/{want.name}.{extension}", want.alt_text)
            assert have.duration_ms == want.duration_ms
        for number, reply in conv.replies.items():
            native = status_id(world, index, number)
            if native in posts:
                answered = conv.answered_author(reply, department)
                prefix = "" if answered.number == reply.author.number else f"@{answered.handle} "
                assert posts[native].text == prefix + reply.text
    assert hindi > 10 and media_checked > 20


def test_round_trip_calls_stay_within_a_tenth_of_the_minimum(epoch0: tuple[SampleServer, Walk]) -> None:
    server, walk = epoch0
    assert_calls_within_a_tenth(walk, minimum_calls(server.world))


def fetch(server: SampleServer, request: ApiRequest) -> Page:
    return common.fetch(server, "mastodon", request)


def test_timeline_lists_posts_and_own_replies_by_creation_time() -> None:
    with SampleServer(World(seed=5, posts_per_account=60)) as server:
        world = server.world
        request: ApiRequest | None = mastodon.first_requests(AccountRef("mastodon", world.account("mastodon").native_id))[0]
        listed: list[str] = []
        times: list[datetime] = []
        while request is not None:
            page = fetch(server, request)
            listed += [p.record_id.native_id for p in page.posts]
            times += [p.created_at for p in page.posts if p.created_at is not None]
            request = page.next
        expected = [status_id(world, conv.index, key) for conv, key in listed_statuses(world)]
        assert listed == expected
        # the department's own replies sit among its posts by when they were written, as on Mastodon
        assert len(times) == len(listed) and times == sorted(times, reverse=True)
        assert sum(key != 0 for _, key in listed_statuses(world)) > 5


def test_sample_errors_have_mastodon_shapes() -> None:
    with SampleServer(World(seed=5, posts_per_account=20)) as server:
        gone = mastodon.context_request("123")
        response = httpx.get(server.base_url("mastodon") + gone.path, headers={"Authorization": f"Bearer {server.world.token('mastodon')}"})
        assert response.status_code == 404 and response.json() == {"error": "Record not found"}
        with pytest.raises(PageParseError, match="'Record not found'"):
            mastodon.parse_page(gone, response.content, dict(response.headers))
        elsewhere = httpx.get(server.base_url("mastodon") + "/api/v2/search", headers={"Authorization": f"Bearer {server.world.token('mastodon')}"})
        assert elsewhere.status_code == 404 and elsewhere.json() == {"error": "Record not found"}


def test_timeline_paging_is_stable_while_the_world_grows() -> None:
    with SampleServer(World(seed=5, posts_per_account=60)) as server:
        before = [status_id(server.world, conv.index, key) for conv, key in listed_statuses(server.world)]
        page = fetch(server, mastodon.first_requests(AccountRef("mastodon", server.world.account("mastodon").native_id))[0])
        listed = [p.record_id.native_id for p in page.posts]
        server.set_epoch(1)  # new posts on top, a few replies and posts deleted below
        request = page.next
        while request is not None:
            page = fetch(server, request)
            listed += [p.record_id.native_id for p in page.posts]
            request = page.next
        still_there = {status_id(server.world, conv.index, key) for conv, key in listed_statuses(server.world)}
        assert len(listed) == len(set(listed))
        assert listed == [i for i in before if i in still_there or i in listed[:40]]


def test_epoch1_drops_deleted_shows_edits_and_new_posts(epoch1: tuple[SampleServer, Walk]) -> None:
    server, walk = epoch1
    world = server.world
    posts = records_by_id(walk.posts)
    ids = set(posts)
    assert ids == ground_truth(world)
    new = range(world.posts_per_account, world.post_count())
    assert len(new) == POSTS // 20 and all(status_id(world, i) in ids for i in new if not world.post("mastodon", i).deleted)
    deleted = edited = 0
    for index in range(world.post_count()):
        for reply in world.replies("mastodon", index):
            native = status_id(world, index, reply.number)
            if reply.deleted:
                deleted += 1
                assert native not in ids
            elif reply.edited_at is not None and native in ids:
                edited += 1
                assert posts[native].edited_at == reply.edited_at.replace(microsecond=reply.edited_at.microsecond // 1000 * 1000)
    assert deleted > 0 and edited > 0
