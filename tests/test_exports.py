"""Account exports: the real X archive file, a Facebook download, and refusals of bad input."""

from __future__ import annotations

import zipfile
from datetime import datetime, timezone
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from archiver.capture.reader import iter_records
from archiver.cli import cli
from archiver.config import Config
from archiver.errors import ArchiverError, PageParseError
from archiver.model import RecordId
from archiver.pipeline import import_export, open_catalog
from archiver.platforms.exports import fix_facebook_text, parse_facebook_posts_json, parse_x_archive_js
from tests.conftest import REALDATA

X_TWEETS = REALDATA / "exports" / "twitter_archive_tweets.js"


def test_real_x_archive_parses_with_its_values() -> None:
    posts = parse_x_archive_js(X_TWEETS.read_bytes(), account_id="322603863", handle="exGenesis")
    assert len(posts) == 7
    first = posts[0]
    assert first.record_id == RecordId("x", "1627031510963441664")
    assert first.kind == "reply"
    assert first.parent_id == RecordId("x", "1627019761950375936")
    assert first.created_at == datetime(2023, 2, 18, 19, 45, 15, tzinfo=timezone.utc)
    assert first.text.startswith("Another lesson is: there's a lot of trash")
    assert first.language == "en"
    with_media = posts[1]
    assert with_media.record_id.native_id == "1627019761950375936"
    assert with_media.media[0].url == "https://pbs.twimg.com/media/FpRUnGtX0AEvwY1.jpg"
    assert dict(posts[4].counters)["likes"] == 8 and posts[4].kind == "post"


@pytest.mark.parametrize("body", [b"<html>not an archive</html>", b"window.YTD.tweets.part0 = [ {\"tweet\": ", b"window.YTD.tweets.part0 = {\"a\": 1}", b"window.YTD.tweets.part0 = [ {\"x\": 1} ]"])
def test_damaged_x_archive_is_refused_by_name(body: bytes) -> None:
    with pytest.raises(PageParseError) as caught:
        parse_x_archive_js(body, account_id="1", source="data/tweets.js")
    assert caught.value.message.startswith("data/tweets.js")


def test_facebook_text_encoding_is_repaired() -> None:
    mangled = "बाढ़ राहत".encode("utf-8").decode("latin-1")
    assert fix_facebook_text(mangled) == "बाढ़ राहत"
    assert fix_facebook_text("already fine ✓") == "already fine ✓"


def _facebook_zip(tmp_path: Path) -> Path:
    text = "बाढ़ राहत हेल्पलाइन 1070".encode("utf-8").decode("latin-1")
    posts = [
        {"timestamp": 1700000000, "data": [{"post": text}, {"update_timestamp": 1700003600}], "title": "Jal Shakti Department"},
        {"timestamp": 1690000000, "attachments": [{"data": [{"media": {"uri": "photos_and_videos/notice.jpg", "description": "Notice"}}]}], "data": [{"post": "Road repair update"}]},
    ]
    comments = {"comments_v2": [{"timestamp": 1700000500, "data": [{"comment": {"timestamp": 1700000500, "comment": "Thank you", "author": "Jal Shakti Department"}}]}]}
    path = tmp_path / "facebook-download.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("this_profile's_activity_across_facebook/posts/profile_posts_1.json", orjson.dumps(posts))
        archive.writestr("your_facebook_activity/comments_and_reactions/comments.json", orjson.dumps(comments))
        archive.writestr("your_facebook_activity/other/unrelated.json", b"{}")
    return path


def test_facebook_download_parses(tmp_path: Path) -> None:
    with zipfile.ZipFile(_facebook_zip(tmp_path)) as archive:
        body = archive.read("this_profile's_activity_across_facebook/posts/profile_posts_1.json")
    posts = parse_facebook_posts_json(body, account_id="104000000000001")
    assert posts[0].text == "बाढ़ राहत हेल्पलाइन 1070"
    assert posts[0].edited_at == datetime(2023, 11, 14, 23, 13, 20, tzinfo=timezone.utc)
    assert posts[1].media[0].native_id == "photos_and_videos/notice.jpg"


def _x_zip(tmp_path: Path) -> Path:
    """The same archive, byte for byte, however often it is made (fixed member times): the
    second import of it is the same file, refused as already imported."""
    path = tmp_path / "twitter-archive.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(zipfile.ZipInfo("data/tweets.js", date_time=(2026, 3, 1, 10, 0, 0)), X_TWEETS.read_bytes())
        archive.writestr(zipfile.ZipInfo("data/like.js", date_time=(2026, 3, 1, 10, 0, 0)), b"window.YTD.like.part0 = []")
    return path


def _register(config: Config, platform: str, native_id: str) -> None:
    catalog = open_catalog(config)
    catalog.add_account(platform=platform, native_id=native_id, handle="dept")
    catalog.close()


def test_import_stores_members_byte_for_byte_with_a_metadata_record(config: Config, tmp_path: Path) -> None:
    _register(config, "x", "322603863")
    report = import_export(config, kind="x-archive", path=_x_zip(tmp_path), account_key="x:322603863")
    assert report.posts == 7
    assert [m["name"] for m in report.members] == ["data/tweets.js"]
    (published,) = report.published
    records = list(iter_records(config.store_dir / "warcs" / published.name))
    resource = next(r for r in records if r.rec_type == "resource")
    assert resource.payload == X_TWEETS.read_bytes()
    metadata = orjson.loads(next(r for r in records if r.rec_type == "metadata").payload)
    assert metadata["source_file"] == "twitter-archive.zip"
    assert metadata["posts"] == 7 and metadata["earliest"].startswith("2023-02-18")
    with pytest.raises(ArchiverError, match="already imported .* add --again"):
        import_export(config, kind="x-archive", path=_x_zip(tmp_path), account_key="x:322603863")


def test_import_refuses_the_wrong_account_or_a_non_zip(config: Config, tmp_path: Path) -> None:
    _register(config, "facebook", "104000000000001")
    with pytest.raises(ArchiverError, match="belongs to x, but facebook:104000000000001 is a facebook account"):
        import_export(config, kind="x-archive", path=_x_zip(tmp_path), account_key="facebook:104000000000001")
    not_zip = tmp_path / "notes.zip"
    not_zip.write_text("hello")
    with pytest.raises(ArchiverError, match="not a readable zip file"):
        import_export(config, kind="facebook-export", path=not_zip, account_key="facebook:104000000000001")
    assert not (config.store_dir / "warcs").exists()  # nothing was written for either refusal


def test_import_command_for_a_facebook_download(config: Config, tmp_path: Path, data_dir: Path) -> None:
    _register(config, "facebook", "104000000000001")
    result = CliRunner().invoke(cli, ["import", "facebook-export", str(_facebook_zip(tmp_path)), "--account", "facebook:104000000000001", "--data-dir", str(data_dir)], obj={})
    assert result.exit_code == 0, result.output
    assert "imported 3 posts (2023-07-22 to 2023-11-15) from 2 file(s) of facebook-download.zip" in result.output
