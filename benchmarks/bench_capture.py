"""How fast Sangrah writes WARC files, against warcio's own writer on the same exchanges.

Usage::

    .venv/bin/python benchmarks/bench_capture.py                  # 10k and 100k exchanges
    .venv/bin/python benchmarks/bench_capture.py --sizes 2000 --no-docs

Each measurement runs in its own child process, so peak RSS is comparable between them. A
child builds a deterministic pool of JSON API pages (1-20 KB, X- and Facebook-shaped, part
Hindi) and then, timed, writes N request+response pairs cycling through the pool:

- ``warcio``: ``warcio.WARCWriter(gzip=True)``, records built with ``create_warc_record``
  and written with ``write_request_response_pair``, the way warcio's docs show;
- ``sangrah``: ``archiver.capture.WarcWriter.write_exchange`` (which also redacts);
- ``floor-zlib9`` / ``floor-isal2``: only compressing the same bytes, once per record, at
  warcio's level (zlib 9) and ours (ISA-L 2): what no writer at that level can beat;
- ``read-warcio`` / ``read-sangrah``: reading a file of N exchanges back (written untimed),
  digests checked, with warcio's ``ArchiveIterator`` and with ``iter_records``.

Both writers flush and fsync at the end, inside the timing. A compressor table on the same
pages follows. The results are printed and written to the "WARC capture" section of
docs/performance.md (unless ``--no-docs``); other sections of that file are left alone.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
import zlib
from datetime import datetime, timedelta, timezone
from io import BytesIO
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from perfdoc import update_section  # noqa: E402 - after the path is set

POOL_SIZE = 1000
SECTION = "## WARC capture"

HINDI_WORDS = (
    "नमस्ते सरकार विभाग जनता शिकायत समाधान योजना सड़क मरम्मत पानी बिजली आपूर्ति जिला "
    "प्रशासन नागरिक सेवा सूचना अधिकार आवेदन कार्यालय समय सीमा धन्यवाद कृपया जानकारी "
    "स्वास्थ्य शिक्षा किसान सहायता राशि भुगतान लंबित स्थिति अद्यतन"
).split()
ENGLISH_WORDS = (
    "the department of public works announces road repair schedule for ward citizens are "
    "requested to report water supply complaints helpline update status pending payment "
    "scheme registration deadline extended office hours thank you please contact"
).split()


def _sentence(rnd: random.Random) -> str:
    words = HINDI_WORDS if rnd.random() < 0.5 else ENGLISH_WORDS
    text = " ".join(rnd.choice(words) for _ in range(rnd.randint(6, 40)))
    if rnd.random() < 0.4:
        text += f" #{rnd.choice(ENGLISH_WORDS)}{rnd.randint(1, 99)}"
    if rnd.random() < 0.3:
        text += f" @{rnd.choice(ENGLISH_WORDS)}_{rnd.randint(1, 999)}"
    if rnd.random() < 0.3:
        text += f" https://t.co/{rnd.getrandbits(40):x}"
    return text


def _x_page(rnd: random.Random, target: int) -> dict[str, Any]:
    posts: list[dict[str, Any]] = []
    users: dict[str, dict[str, Any]] = {}
    at = datetime(2024, 5, 1, tzinfo=timezone.utc)
    page: dict[str, Any] = {"data": posts, "includes": {"users": []}, "meta": {}}
    size = 0
    while size < target:
        author = str(rnd.randrange(10**9, 10**12))
        users.setdefault(author, {"id": author, "username": f"user{author[-5:]}", "name": _sentence(rnd)[:30]})
        at -= timedelta(seconds=rnd.randint(30, 7200))
        post_id = str(rnd.randrange(10**18, 10**19))
        posts.append(
            {
                "id": post_id,
                "text": _sentence(rnd),
                "created_at": at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "author_id": author,
                "conversation_id": post_id,
                "lang": "hi" if rnd.random() < 0.5 else "en",
                "public_metrics": {
                    "retweet_count": rnd.randint(0, 500),
                    "reply_count": rnd.randint(0, 80),
                    "like_count": rnd.randint(0, 5000),
                    "quote_count": rnd.randint(0, 20),
                },
            }
        )
        size += len(posts[-1]["text"].encode()) + 260
    page["includes"]["users"] = list(users.values())
    page["meta"] = {
        "result_count": len(posts),
        "newest_id": posts[0]["id"],
        "oldest_id": posts[-1]["id"],
        "next_token": f"{rnd.getrandbits(64):016x}",
    }
    return page


def _facebook_page(rnd: random.Random, target: int) -> dict[str, Any]:
    items: list[dict[str, Any]] = []
    size = 0
    while size < target:
        items.append(
            {
                "id": f"{rnd.randrange(10**14, 10**15)}_{rnd.randrange(10**15, 10**16)}",
                "message": _sentence(rnd),
                "created_time": f"2024-05-0{rnd.randint(1, 9)}T{rnd.randint(10, 23)}:{rnd.randint(10, 59)}:00+0000",
                "from": {"id": str(rnd.randrange(10**14, 10**15)), "name": _sentence(rnd)[:24]},
                "like_count": rnd.randint(0, 900),
                "comment_count": rnd.randint(0, 60),
            }
        )
        size += len(items[-1]["message"].encode()) + 200
    after = f"{rnd.getrandbits(96):024x}"
    return {
        "data": items,
        "paging": {
            "cursors": {"before": f"{rnd.getrandbits(96):024x}", "after": after},
            "next": f"https://graph.facebook.com/v19.0/1234/comments?limit=25&after={after}",
        },
    }


def build_pool(seed: int, size: int = POOL_SIZE) -> list[bytes]:
    """Deterministic JSON pages of 1-20 KB, log-uniformly spread, half X- and half Facebook-shaped."""
    import orjson

    rnd = random.Random(seed)
    pool = []
    for i in range(size):
        target = int(850 * 20 ** rnd.random())
        page = _x_page(rnd, target) if i % 2 == 0 else _facebook_page(rnd, target)
        body = orjson.dumps(page)
        pool.append(body)
    return pool


def _request(i: int) -> tuple[str, list[tuple[str, str]], list[tuple[str, str]]]:
    url = f"https://api.x.com/2/users/{1000 + i % 97}/tweets?max_results=100&pagination_token={i:012x}"
    request_headers = [
        ("Host", "api.x.com"),
        ("Accept", "application/json"),
        ("Accept-Encoding", "gzip, deflate"),
        ("Connection", "keep-alive"),
        ("User-Agent", "Sangrah/0.1.0 (+records cell)"),
        ("Authorization", "Bearer AAAAAAAAAAAAAAAAAAAAAexampletokenvalue0000000000000000"),
    ]
    response_headers = [
        ("date", "Wed, 01 May 2024 10:00:00 GMT"),
        ("content-type", "application/json; charset=utf-8"),
        ("content-encoding", "gzip"),
        ("cache-control", "no-cache, no-store, max-age=0"),
        ("x-rate-limit-limit", "1500"),
        ("x-rate-limit-remaining", str(1499 - i % 1500)),
        ("x-rate-limit-reset", "1714557600"),
        ("x-response-time", str(40 + i % 90)),
        ("x-transaction-id", f"{i:016x}"),
        ("strict-transport-security", "max-age=631138519"),
        ("server", "tsa_b"),
    ]
    return url, request_headers, response_headers


def _rss_bytes() -> int:
    import psutil

    return int(psutil.Process().memory_info().rss)


def _peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def _write_untimed(pool: list[bytes], n: int, started_at: datetime, directory: Path) -> Path:
    from archiver.capture.writer import Exchange, WarcWriter

    with WarcWriter(directory, prefix="bench-read", warcinfo={}) as writer:
        for i in range(n):
            body = pool[i % len(pool)]
            url, request_headers, response_headers = _request(i)
            writer.write_exchange(
                Exchange(url, "GET", request_headers, b"", 200, "OK", response_headers, body, started_at)
            )
        closed = writer.close()
    assert closed is not None
    return closed.path


def run_child(kind: str, n: int, seed: int, directory: Path) -> dict[str, Any]:
    pool = build_pool(seed)
    started_at = datetime(2024, 5, 1, 10, 0, tzinfo=timezone.utc)
    setup_rss = _rss_bytes()
    body_bytes = sum(len(pool[i % len(pool)]) for i in range(n))
    out_bytes = 0
    t0 = time.perf_counter()
    if kind == "warcio":
        from warcio.statusandheaders import StatusAndHeaders
        from warcio.warcwriter import WARCWriter

        path = directory / "warcio.warc.gz"
        with open(path, "wb") as fh:
            writer = WARCWriter(fh, gzip=True, warc_version="1.1")
            for i in range(n):
                body = pool[i % len(pool)]
                url, request_headers, response_headers = _request(i)
                date = (started_at + timedelta(microseconds=i)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                req = writer.create_warc_record(
                    url,
                    "request",
                    payload=BytesIO(b""),
                    length=0,
                    warc_headers_dict={"WARC-Date": date},
                    http_headers=StatusAndHeaders(
                        f"GET {url.split('api.x.com', 1)[1]} HTTP/1.1", request_headers, is_http_request=True
                    ),
                )
                resp = writer.create_warc_record(
                    url,
                    "response",
                    payload=BytesIO(body),
                    length=len(body),
                    warc_headers_dict={"WARC-Date": date, "WARC-IP-Address": "104.244.42.1"},
                    http_headers=StatusAndHeaders("200 OK", response_headers, protocol="HTTP/1.1"),
                )
                writer.write_request_response_pair(req, resp)
            fh.flush()
            os.fsync(fh.fileno())
        out_bytes = path.stat().st_size
        path.unlink()
    elif kind == "sangrah":
        from archiver.capture.writer import Exchange, WarcWriter

        with WarcWriter(directory, prefix="bench", warcinfo={"operator": "benchmark"}) as writer:
            for i in range(n):
                body = pool[i % len(pool)]
                url, request_headers, response_headers = _request(i)
                writer.write_exchange(
                    Exchange(
                        url=url,
                        method="GET",
                        request_headers=request_headers,
                        request_body=b"",
                        status=200,
                        reason="OK",
                        response_headers=response_headers,
                        response_body=body,
                        started_at=started_at + timedelta(microseconds=i),
                        ip_address="104.244.42.1",
                    )
                )
            closed = writer.close()
        assert closed is not None
        out_bytes = closed.size_bytes
        closed.path.unlink()
    elif kind in ("read-warcio", "read-sangrah"):
        path = _write_untimed(pool, n, started_at, directory)
        setup_rss = _rss_bytes()
        t0 = time.perf_counter()
        if kind == "read-warcio":
            from warcio.archiveiterator import ArchiveIterator

            with open(path, "rb") as fh:
                it = ArchiveIterator(fh, check_digests=True)
                for record in it:
                    out_bytes += len(record.content_stream().read())
                    it.get_record_offset()
                    assert record.digest_checker.passed is not False
        else:
            from archiver.capture.reader import iter_records

            for read in iter_records(path, check_digests=True):
                out_bytes += len(read.payload)
        path.unlink()
    elif kind in ("floor-zlib9", "floor-isal2"):
        from isal import isal_zlib

        for i in range(n):
            body = pool[i % len(pool)]
            url, request_headers, response_headers = _request(i)
            head = "".join(f"{k}: {v}\r\n" for k, v in request_headers).encode()
            if kind == "floor-zlib9":
                out_bytes += len(zlib.compress(head, 9, 31)) + len(zlib.compress(body, 9, 31))
            else:
                out_bytes += len(isal_zlib.compress(head, 2, 31)) + len(isal_zlib.compress(body, 2, 31))
    else:
        raise SystemExit(f"unknown kind {kind!r}")
    seconds = time.perf_counter() - t0
    return {
        "kind": kind,
        "exchanges": n,
        "seconds": seconds,
        "exchanges_per_second": n / seconds,
        "body_mb_per_second": body_bytes / seconds / 1e6,
        "body_bytes": body_bytes,
        "out_bytes": out_bytes,
        "setup_rss_bytes": setup_rss,
        "peak_rss_bytes": _peak_rss_bytes(),
    }


def compressor_table(seed: int) -> list[dict[str, Any]]:
    """Throughput and size of each candidate compressor on the pool, one member per page."""
    from isal import isal_zlib
    from zlib_ng import zlib_ng

    pool = build_pool(seed)
    total = sum(map(len, pool))
    candidates: list[tuple[str, Any]] = [
        ("zlib 9 (warcio)", lambda b: zlib.compress(b, 9, 31)),
        ("zlib 6", lambda b: zlib.compress(b, 6, 31)),
        ("zlib 1", lambda b: zlib.compress(b, 1, 31)),
        ("zlib-ng 1", lambda b: zlib_ng.compress(b, 1, 31)),
        ("zlib-ng 2", lambda b: zlib_ng.compress(b, 2, 31)),
        ("zlib-ng 6", lambda b: zlib_ng.compress(b, 6, 31)),
        ("isal 1", lambda b: isal_zlib.compress(b, 1, 31)),
        ("isal 2 (sangrah)", lambda b: isal_zlib.compress(b, 2, 31)),
        ("isal 3", lambda b: isal_zlib.compress(b, 3, 31)),
    ]
    rows = []
    for name, compress in candidates:
        best = float("inf")
        size = 0
        for _ in range(3):
            t0 = time.perf_counter()
            size = sum(len(compress(b)) for b in pool)
            best = min(best, time.perf_counter() - t0)
        rows.append({"compressor": name, "mb_per_second": total / best / 1e6, "ratio": size / total})
    return rows


def _measure(kind: str, n: int, seed: int, directory: Path) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", kind, "--n", str(n), "--seed", str(seed), "--dir", str(directory)]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({model or platform.processor()}), Linux {platform.release()}, Python {platform.python_version()}"


def _versions() -> str:
    from importlib.metadata import version

    return ", ".join(f"{name} {version(name)}" for name in ("warcio", "isal", "zlib-ng"))


def _summary(writes: list[dict[str, Any]]) -> str:
    """One paragraph on the largest run: the speed ratio, the size cost, memory from small to large."""
    largest = max(r["exchanges"] for r in writes)
    smallest = min(r["exchanges"] for r in writes)
    by = {(r["kind"], r["exchanges"]): r for r in writes}
    ours, theirs = by[("sangrah", largest)], by[("warcio", largest)]
    ratio = ours["exchanges_per_second"] / theirs["exchanges_per_second"]
    size = ours["out_bytes"] / theirs["out_bytes"] - 1
    text = (
        f"At {largest:,} exchanges Sangrah's writer is {ratio:.2f}x as fast as warcio's, redaction "
        f"included, and its files are {size:.0%} larger (ISA-L level 2 against zlib level 9, and "
        "SHA-256 digests in place of SHA-1)."
    )
    if smallest != largest:
        small = by[("sangrah", smallest)]
        text += (
            f" Peak RSS is {small['peak_rss_bytes'] / 2**20:.0f} MiB at {smallest:,} exchanges and "
            f"{ours['peak_rss_bytes'] / 2**20:.0f} MiB at {largest:,}: no record is kept after it is written."
        )
    return text


def render(command: str, results: list[dict[str, Any]], compressors: list[dict[str, Any]]) -> str:
    mb = 1024 * 1024
    lines = [
        SECTION,
        "",
        f"Measured {datetime.now(timezone.utc):%Y-%m-%d} on {_machine()}; {_versions()}.",
        "",
        "```",
        command,
        "```",
        "",
        "Each row is one child process writing N request+response pairs of JSON API pages "
        "(1-20 KB, X- and Facebook-shaped, part Hindi; a deterministic pool of "
        f"{POOL_SIZE} pages, cycled) to one WARC file, flushed and fsynced inside the timing. "
        "Body MB/s counts response bodies. Peak RSS is the child's whole life, the page pool "
        "included; the pool alone is the \"after setup\" figure.",
        "",
        "| exchanges | writer | exchanges/s | body MB/s | vs warcio | output MB | peak RSS MiB | RSS after setup MiB |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    writes = [r for r in results if not r["kind"].startswith("read-")]
    for n in sorted({r["exchanges"] for r in writes}):
        rows = [r for r in writes if r["exchanges"] == n]
        base = next(r for r in rows if r["kind"] == "warcio")
        for r in rows:
            ratio = r["exchanges_per_second"] / base["exchanges_per_second"]
            lines.append(
                f"| {n:,} | {r['kind']} | {r['exchanges_per_second']:,.0f} | {r['body_mb_per_second']:.1f} | "
                f"{ratio:.2f}x | {r['out_bytes'] / 1e6:,.1f} | {r['peak_rss_bytes'] / mb:.0f} | "
                f"{r['setup_rss_bytes'] / mb:.0f} |"
            )
    lines += [
        "",
        "`floor-*` rows only compress the same bytes (request head and response body, one gzip "
        "member each) with no WARC headers, digests or file writes: the most any writer at that "
        "level could do.",
        "",
        _summary(writes),
    ]
    reads = [r for r in results if r["kind"].startswith("read-")]
    if reads:
        lines += [
            "",
            "Reading the file back (written by Sangrah, untimed), every record with its pointer, "
            "payload and both digests checked: `iter_records(path, check_digests=True)` against "
            "warcio's `ArchiveIterator(check_digests=True)` with `get_record_offset()`.",
            "",
            "| exchanges | reader | records/s | payload MB/s | vs warcio | peak RSS MiB |",
            "| ---: | --- | ---: | ---: | ---: | ---: |",
        ]
        for n in sorted({r["exchanges"] for r in reads}):
            rows = [r for r in reads if r["exchanges"] == n]
            base = next(r for r in rows if r["kind"] == "read-warcio")
            for r in rows:
                records_per_second = (2 * n + 1) / r["seconds"]
                lines.append(
                    f"| {n:,} | {r['kind'][5:]} | {records_per_second:,.0f} | "
                    f"{r['out_bytes'] / r['seconds'] / 1e6:.1f} | {base['seconds'] / r['seconds']:.2f}x | "
                    f"{r['peak_rss_bytes'] / mb:.0f} |"
                )
    lines += [
        "",
        "Compressors on the same pages, one gzip member per page (best of 3):",
        "",
        "| compressor | MB/s | compressed / original |",
        "| --- | ---: | ---: |",
    ]
    for c in compressors:
        lines.append(f"| {c['compressor']} | {c['mb_per_second']:,.0f} | {c['ratio']:.3f} |")
    lines += [
        "",
        "ISA-L level 2 is the writer's default (`compress_level`): a little smaller than zlib "
        "level 1 and several times faster than warcio's zlib level 9; zlib-ng reaches that size "
        "only at a slower level. Level 3 saves little more and is markedly slower.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="exchange counts, comma-separated")
    parser.add_argument("--seed", type=int, default=20240501)
    parser.add_argument("--dir", type=Path, default=None, help="where the WARC files go (a temp dir)")
    parser.add_argument("--docs", type=Path, default=ROOT / "docs" / "performance.md")
    parser.add_argument("--no-docs", action="store_true", help="print only; leave docs/performance.md")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        print(json.dumps(run_child(args.child, args.n, args.seed, args.dir)))
        return

    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    command = ".venv/bin/python benchmarks/bench_capture.py" + (f" --sizes {args.sizes}" if args.sizes != "10000,100000" else "")
    results = []
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        for n in sizes:
            for kind in ("warcio", "sangrah", "floor-zlib9", "floor-isal2", "read-warcio", "read-sangrah"):
                result = _measure(kind, n, args.seed, Path(tmp))
                results.append(result)
                print(
                    f"{n:>7} {kind:12s} {result['exchanges_per_second']:>9,.0f} exchanges/s "
                    f"{result['body_mb_per_second']:>7.1f} MB/s  peak RSS "
                    f"{result['peak_rss_bytes'] / 2**20:.0f} MiB",
                    flush=True,
                )
    compressors = compressor_table(args.seed)
    for c in compressors:
        print(f"{c['compressor']:18s} {c['mb_per_second']:>7,.0f} MB/s ratio {c['ratio']:.3f}")
    section = render(command, results, compressors)
    if not args.no_docs:
        update_section(args.docs, SECTION, section)
        print(f"updated {args.docs}")


if __name__ == "__main__":
    main()
