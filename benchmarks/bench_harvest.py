"""A whole harvest of the six sample platforms: API calls against each platform's minimum,
throughput, and peak memory at two sizes.

Usage::

    .venv/bin/python benchmarks/bench_harvest.py                    # 300 and 1500 posts per account
    .venv/bin/python benchmarks/bench_harvest.py --sizes 200 --no-docs

Each size runs in its own child process: it starts the sample platforms in a thread, harvests
the six accounts into a temporary directory (images included), and reports the calls each
platform answered (media downloads excluded) and its own peak RSS. The minimum for each
platform is computed from what the harvest listed, read back from its WARC files:

- X: ``ceil(posts/100)`` timeline pages + the fewest conversation searches (``x.minimum_calls``:
  at least ``ceil(replies/100)``, and 13 conversation ids fit in one 512-character query);
- Facebook, Instagram: ``ceil(posts/100)`` (comments come in a field expansion of the posts);
- YouTube: 1 channel + ``ceil(videos/50)`` playlist pages + as many ``videos`` calls +
  ``ceil(top-level comments/100)`` thread pages + one ``comments`` call per thread with more
  than 5 replies;
- Mastodon: ``ceil(statuses/40)`` + one ``context`` per listed status with replies;
- Bluesky: ``ceil(feed items/100)`` + one ``getPostThread`` per listed item with replies.

Results go to the "Harvest" section of docs/performance.md (unless ``--no-docs``).
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from perfdoc import section_head, update_section  # noqa: E402 - after the path is set

SECTION = "## Harvest: API calls and memory"


def _minimums(warc_dir: Path) -> dict[str, dict[str, int]]:
    """Listed items and the minimum calls per platform, from the harvest's own WARC files."""
    from urllib.parse import parse_qsl, urlsplit

    from archiver.capture.reader import iter_records
    from archiver.model import ApiRequest
    from archiver.platforms import get_platform
    from archiver.platforms.x import minimum_calls

    listed: Counter[str] = Counter()
    with_replies: Counter[str] = Counter()
    replies: Counter[str] = Counter()
    top_comments = 0
    long_threads = 0
    x_conversations: list[int] = []
    for path in sorted(warc_dir.glob("*.warc.gz")):
        for record in iter_records(path):
            endpoint = record.header("X-Sangrah-Endpoint")
            name = record.header("X-Sangrah-Platform")
            if record.rec_type != "response" or record.http_status != 200 or not endpoint or not name or endpoint.startswith("_"):
                continue
            module = get_platform(name)
            url = urlsplit(record.target_uri or "")
            request = ApiRequest(endpoint, url.path, tuple(parse_qsl(url.query)), record.header("X-Sangrah-Target") or "")
            page = module.parse_page(request, record.payload, dict(record.http_headers))
            by_id = {p.record_id: p for p in page.posts}
            if endpoint in module.LISTING_ENDPOINTS:
                items = [rid for rid, _ in page.listed] or [p.record_id for p in page.posts if p.parent_id is None]
                listed[name] += len(items)
                count = sum(1 for rid in items if rid in by_id and (by_id[rid].reply_count or 0) > 0)
                with_replies[name] += count
                if name == "x":
                    x_conversations.append(count)
            else:
                replies[name] += sum(1 for p in page.posts if p.parent_id is not None)
                if name == "youtube" and endpoint == "comment_threads":
                    tops = [p for p in page.posts if p.kind == "comment"]
                    top_comments += len(tops)
                    long_threads += sum(1 for p in tops if (p.reply_count or 0) > 5)
    videos = listed["youtube"]
    return {
        "x": {"listed": listed["x"], "minimum": minimum_calls(listed["x"], replies["x"], x_conversations)},
        "facebook": {"listed": listed["facebook"], "minimum": math.ceil(listed["facebook"] / 100)},
        "instagram": {"listed": listed["instagram"], "minimum": math.ceil(listed["instagram"] / 100)},
        "youtube": {"listed": videos, "minimum": 1 + 2 * math.ceil(videos / 50) + max(1, math.ceil(top_comments / 100)) + long_threads},
        "mastodon": {"listed": listed["mastodon"], "minimum": math.ceil(listed["mastodon"] / 40) + with_replies["mastodon"]},
        "bluesky": {"listed": listed["bluesky"], "minimum": math.ceil(listed["bluesky"] / 100) + with_replies["bluesky"]},
    }


def child(posts: int) -> dict[str, Any]:
    from archiver.config import load_config
    from archiver.model import PLATFORMS
    from archiver.pipeline import harvest, open_catalog
    from archiver.samples.accounts import register_sample_accounts
    from archiver.samples.server import SampleServer
    from archiver.samples.world import World

    with tempfile.TemporaryDirectory() as tmp, SampleServer(World(seed=7, posts_per_account=posts)) as server:
        config = load_config(None, overrides={"data_dir": tmp, "operator": "benchmark"})
        catalog = open_catalog(config)
        register_sample_accounts(catalog, server)
        catalog.close()
        started = time.perf_counter()
        report = harvest(config)
        elapsed = time.perf_counter() - started
        assert report.status == "succeeded", [a.error for a in report.failed]
        peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        minimums = _minimums(config.store_dir / "warcs")
        records = sum(a.coverage.posts_captured + a.coverage.replies_captured for a in report.accounts)
        return {
            "posts_per_account": posts,
            "seconds": elapsed,
            "records": records,
            "warc_bytes": sum(w.size_bytes for w in report.published),
            "media": server.requests["media"],
            "peak_rss_mib": peak_kib / 1024,
            "platforms": {
                name: {
                    "calls": server.requests[name],
                    "records": next(a.coverage.posts_captured + a.coverage.replies_captured for a in report.accounts if a.account.platform == name),
                    **minimums[name],
                }
                for name in PLATFORMS
            },
        }


def render(results: list[dict[str, Any]]) -> str:
    lines = [
        *section_head(SECTION, ".venv/bin/python benchmarks/bench_harvest.py"),
        "A full first harvest of the six sample accounts (the sample platforms on localhost, images downloaded, videos by reference). "
        "Calls are API calls answered by each platform, media downloads excluded; the minimum is computed from what the harvest listed "
        "(see the module docstring of benchmarks/bench_harvest.py).",
        "",
        "| posts per account | platform | records | calls | minimum | calls per 1,000 records | vs minimum |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for result in results:
        for name, row in result["platforms"].items():
            ratio = row["calls"] / row["minimum"] if row["minimum"] else float("nan")
            lines.append(
                f"| {result['posts_per_account']:,} | {name} | {row['records']:,} | {row['calls']:,} | {row['minimum']:,} | "
                f"{1000 * row['calls'] / max(1, row['records']):.1f} | {ratio:.2f}x |"
            )
    lines += [
        "",
        "| posts per account | records | media files | seconds | records/s | WARC MB | peak RSS MiB |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for result in results:
        lines.append(
            f"| {result['posts_per_account']:,} | {result['records']:,} | {result['media']:,} | {result['seconds']:.1f} | "
            f"{result['records'] / result['seconds']:,.0f} | {result['warc_bytes'] / 1e6:.1f} | {result['peak_rss_mib']:.0f} |"
        )
    lines += [
        "",
        "The peak RSS includes the sample platforms, which run in the same process. Records/s is bounded by the sample "
        "server's JSON generation and one HTTP round trip per call; against real platforms the rate limits decide.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="300,1500", help="posts per account, comma-separated")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--docs", type=Path, default=ROOT / "docs" / "performance.md")
    parser.add_argument("--no-docs", action="store_true", help="print only; leave docs/performance.md")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child)))
        return
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        out = subprocess.run([sys.executable, __file__, "--child", str(size)], capture_output=True, text=True, check=True)
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(f"{size} posts per account: {results[-1]['seconds']:.1f} s, peak RSS {results[-1]['peak_rss_mib']:.0f} MiB", file=sys.stderr)
    section = render(results)
    print(section)
    if not args.no_docs:
        update_section(args.docs, SECTION, section)


if __name__ == "__main__":
    main()
