"""Every real payload yields table rows: valid under the record schema, tagged by the retention
schedule, with the values a records officer would read off the platform."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

import pyarrow as pa
import pytest

from archiver.model import WarcPointer
from archiver.platforms import get_platform
from archiver.retention import load_schedule
from archiver.tables.rows import Capture, row_for, tag_row
from archiver.tables.schema import RECORD_SCHEMA
from tests.conftest import REALDATA
from tests.test_realdata_replay import CASES

CAPTURED_AT = datetime(2026, 11, 25, 6, 0, tzinfo=timezone.utc)
SCHEDULE = load_schedule()


def rows_of(name: str) -> list[dict[str, Any]]:
    request, _ = CASES[name]
    platform = name.split("/")[0]
    page = get_platform(platform).parse_page(request, (REALDATA / name).read_bytes(), {})
    capture = Capture(
        account=f"{platform}:{request.target}",
        account_native_id=request.target,
        captured_at=CAPTURED_AT,
        pointer=WarcPointer("sangrah-20261125060000000000-00000.warc.gz", 1234, 5678),
        warc_record_id="<urn:uuid:00000000-0000-4000-8000-000000000001>",
        harvest_id="20261125T060000Z-0000abcd",
    )
    return [tag_row(row_for(post, capture), SCHEDULE) for post in page.posts]


def by_id(name: str, record_id: str) -> dict[str, Any]:
    return next(r for r in rows_of(name) if r["record_id"] == record_id)


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_real_payload_gives_schema_valid_tagged_rows(name: str) -> None:
    rows = rows_of(name)
    assert len(rows) == CASES[name][1]
    table = pa.Table.from_pylist(rows, schema=RECORD_SCHEMA)  # raises on any value the schema refuses
    assert table.num_rows == len(rows)
    platform = name.split("/")[0]
    for row in rows:
        assert row["record_id"].startswith(f"{platform}:") and len(row["version_id"]) == 64
        assert row["warc_offset"] == 1234 and row["captured_at"] == CAPTURED_AT
        assert row["retention_series"] and row["retention_class"]
        series = next(s for s in SCHEDULE.series if s.id == row["retention_series"])
        assert (row["rrs_item"], row["purpose"]) == (series.rrs_item, series.purpose)


def test_x_repost_with_hashtag_and_mention() -> None:
    row = by_id("x/users_tweets_page_expansions_next_token.json", "x:1257786232978968578")
    assert row["author_handle"] == "PhillyNEFL" and row["by_department"] is True
    assert row["kind"] == "repost" and row["text"].startswith("RT @frankgore: #Year16")
    assert row["hashtags"] == ["Year16"] and row["mentions"] == ["frankgore"]
    assert row["created_at"] == datetime(2020, 5, 5, 21, 36, 21, tzinfo=timezone.utc)
    assert dict(row["counters"])["reposts"] == 732
    assert (row["retention_series"], row["retention_class"], row["retention_until"]) == ("department-posts", "A", None)
    assert (row["rrs_item"], row["purpose"]) == ("SM-1", "Information to the public by the department")


def test_facebook_comment_keeps_its_thread() -> None:
    row = by_id("facebook/post_comments_page1.json", "facebook:10158407654328553_10158407835073553")
    assert row["kind"] == "comment" and row["by_department"] is False
    assert row["parent_id"] == row["root_id"] == "facebook:19292868552_10158407654328553"
    assert row["text"].startswith("Boa noite peço ajuda")
    assert row["created_at"] == datetime(2021, 8, 10, 18, 45, 3, tzinfo=timezone.utc)
    # a citizen's comment: C-3, reviewable from 1 January of the fourth year after (IST)
    assert (row["retention_series"], row["retention_class"], row["retention_until"]) == ("citizen-replies", "C-3", date(2025, 1, 1))
    assert (row["rrs_item"], row["purpose"]) == ("SM-3", "Citizens' queries and grievances addressed to the department")


def test_instagram_album_lists_its_media() -> None:
    row = by_id("instagram/user_media_page2.json", "instagram:17896129349106152")
    assert row["kind"] == "post" and row["text"] == "ALBUM"
    assert [m["kind"] for m in row["media"]] == ["image", "image", "video"]
    assert all(m["url"].startswith("https://") for m in row["media"])
    assert all(m["warc_file"] is None for m in row["media"])  # not downloaded in this test


def test_youtube_comment_under_its_video() -> None:
    row = by_id("youtube/comment_threads_by_video_with_replies.json", "youtube:UgydxWWoeA7F1OdqypJ4AaABAg")
    assert row["kind"] == "comment" and row["text"] == "Actions.ai"
    assert row["parent_id"] == row["root_id"] == "youtube:D-lhorsDlUQ"
    assert row["created_at"] == datetime(2019, 6, 23, 8, 24, 24, tzinfo=timezone.utc)


def test_mastodon_reply_in_german_with_its_root() -> None:
    row = by_id("mastodon/status_context_mastodon_social.json", "mastodon:110446984249325790")
    assert row["author_handle"] == "halcy" and row["language"] == "de" and row["text"] == "final status"
    assert row["parent_id"] == "mastodon:110446983926957470"
    assert row["root_id"] == "mastodon:110446983178245440"


def test_bluesky_quote_with_link_card() -> None:
    row = by_id("bluesky/get_post_thread_nested_replies.json", "bluesky:at://did:plc:by3jhwdqgbtrcc7q4tkkv3cf/app.bsky.feed.post/3jtvi2jrijx2y")
    assert row["author_handle"] == "aliceisjustplaying.bsky.social" and row["kind"] == "quote"
    assert row["links"] == ["https://bluesky-heatmap.fly.dev/"]
    assert [m["kind"] for m in row["media"]] == ["other"]
    assert dict(row["counters"]) == {"likes": 26, "reposts": 6}
