"""Read a harvest back out of its published WARC files, as an independent check of what it holds."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from archiver.capture.reader import iter_records
from archiver.errors import PageParseError
from archiver.model import ApiRequest, Post
from archiver.platforms import get_platform


@dataclass
class Captured:
    posts: dict[str, set[str]] = field(default_factory=dict)  #: platform -> native ids
    api_urls: Counter[str] = field(default_factory=Counter)  #: URL of every 200 API response
    media: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    metadata: list[bytes] = field(default_factory=list)
    unparseable: list[str] = field(default_factory=list)  #: responses kept as evidence that do not parse


def iter_captured_posts(warc_dir: Path, unparseable: list[str] | None = None) -> Iterator[tuple[str, Post]]:
    for path in sorted(warc_dir.glob("*.warc.gz")):
        for record in iter_records(path):
            if record.rec_type != "response" or record.http_status != 200:
                continue
            endpoint = record.header("X-Sangrah-Endpoint")
            platform = record.header("X-Sangrah-Platform")
            if not endpoint or not platform or endpoint.startswith("_"):
                continue
            url = urlsplit(record.target_uri or "")
            request = ApiRequest(endpoint, url.path, tuple(parse_qsl(url.query)), record.header("X-Sangrah-Target") or "")
            try:
                page = get_platform(platform).parse_page(request, record.payload, dict(record.http_headers or []))
            except PageParseError:
                if unparseable is None:
                    raise
                unparseable.append(f"{path.name}#{record.pointer.offset}")
                continue
            for post in page.posts:
                yield platform, post


def read_captured(warc_dir: Path) -> Captured:
    captured = Captured()
    for path in sorted(warc_dir.glob("*.warc.gz")):
        for record in iter_records(path):
            if record.rec_type == "metadata":
                captured.metadata.append(record.payload)
            if record.rec_type != "response":
                continue
            captured.statuses[record.http_status or 0] += 1
            if record.header("X-Sangrah-Endpoint") == "_media":
                captured.media += 1
            elif record.http_status == 200:
                captured.api_urls[record.target_uri or ""] += 1
    for platform, post in iter_captured_posts(warc_dir, captured.unparseable):
        captured.posts.setdefault(platform, set()).add(post.record_id.native_id)
    return captured
