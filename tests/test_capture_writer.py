"""WarcWriter: what it writes, how warcio reads it, rollover, closing and aborting."""

from __future__ import annotations

import base64
import gzip
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from isal import isal_zlib
from warcio.archiveiterator import ArchiveIterator

import archiver.capture
from archiver.capture import writer as writer_module
from archiver.capture.reader import iter_records, read_record
from archiver.capture.redact import SECRET_HEADERS
from archiver.capture.writer import ClosedWarc, Exchange, WarcWriter
from archiver.errors import CaptureError

STARTED_AT = datetime(2024, 5, 1, 10, 30, 15, 123456, tzinfo=timezone.utc)
HINDI = "नमस्ते, जल आपूर्ति की शिकायत दर्ज की गई है। धन्यवाद!"
NAME_PATTERN = re.compile(r"^sangrah-x-\d{20}-\d{5}\.warc\.gz$")


def make_exchange(
    i: int = 0,
    *,
    body: bytes | None = None,
    url: str | None = None,
    response_headers: Sequence[tuple[str, str]] | None = None,
    request_headers: Sequence[tuple[str, str]] | None = None,
    status: int = 200,
    method: str = "GET",
) -> Exchange:
    """A realistic X API exchange; the body is a JSON page with Hindi text."""
    if body is None:
        body = orjson.dumps({"data": [{"id": str(1790000000000000000 + i), "text": HINDI, "lang": "hi"}], "meta": {"result_count": 1}})
    return Exchange(
        url=url or f"https://api.x.com/2/users/1234/tweets?max_results=100&pagination_token=tok{i:04d}",
        method=method,
        request_headers=list(
            request_headers
            if request_headers is not None
            else [("Host", "api.x.com"), ("Accept", "application/json"), ("User-Agent", "Sangrah/0.1.0")]
        ),
        request_body=b"",
        status=status,
        reason="OK" if status == 200 else "Not Found",
        response_headers=list(
            response_headers
            if response_headers is not None
            else [("content-type", "application/json; charset=utf-8"), ("x-rate-limit-remaining", "1499")]
        ),
        response_body=body,
        started_at=STARTED_AT + timedelta(seconds=i),
        ip_address="104.244.42.1",
    )


def new_writer(directory: Path, **kwargs: Any) -> WarcWriter:
    return WarcWriter(directory, prefix="sangrah-x", warcinfo={"operator": "Records Cell, Test Dept"}, **kwargs)


def warcio_check(path: Path) -> subprocess.CompletedProcess[str]:
    """Run the `warcio check -v` command line on a file."""
    script = Path(sys.executable).parent / "warcio"
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "warcio.cli"]
    return subprocess.run([*cmd, "check", "-v", str(path)], capture_output=True, text=True, timeout=120)


def members(path: Path) -> list[bytes]:
    """The decompressed gzip members of a file, in order."""
    data = path.read_bytes()
    out = []
    while data:
        inflater = isal_zlib.decompressobj(31)
        out.append(inflater.decompress(data))
        data = inflater.unused_data
    return out


def test_public_names_are_exported() -> None:
    for name in archiver.capture.__all__:
        assert hasattr(archiver.capture, name), name
    assert {"WarcWriter", "Exchange", "iter_records", "read_record", "verify_file", "redact_exchange"} <= set(
        archiver.capture.__all__
    )


def test_write_exchange_records_request_and_response(tmp_path: Path) -> None:
    with new_writer(tmp_path) as w:
        written = w.write_exchange(make_exchange(7))
        name = w.current_name
    assert name is not None and NAME_PATTERN.match(name)
    path = tmp_path / name
    records = list(iter_records(path))
    assert [r.rec_type for r in records] == ["warcinfo", "request", "response"]
    info, request, response = records

    assert request.record_id == written.request.record_id
    assert response.record_id == written.response.record_id
    assert request.pointer == written.request.pointer
    assert response.pointer == written.response.pointer
    assert written.request.type == "request" and written.response.type == "response"
    assert request.pointer.offset == info.pointer.length
    assert response.pointer.offset == request.pointer.offset + request.pointer.length

    assert request.header("WARC-Concurrent-To") == response.record_id
    assert response.header("WARC-Concurrent-To") == request.record_id
    assert request.header("WARC-Warcinfo-ID") == info.record_id
    assert response.header("WARC-IP-Address") == "104.244.42.1"
    assert response.header("Content-Type") == "application/http; msgtype=response"
    assert request.header("Content-Type") == "application/http; msgtype=request"
    assert response.header("WARC-Date") == "2024-05-01T10:30:22.123456Z"
    assert response.date == STARTED_AT + timedelta(seconds=7)
    url = "https://api.x.com/2/users/1234/tweets?max_results=100&pagination_token=tok0007"
    assert request.target_uri == response.target_uri == url

    assert request.http_line == "GET /2/users/1234/tweets?max_results=100&pagination_token=tok0007 HTTP/1.1"
    assert response.http_line == "HTTP/1.1 200 OK"
    assert response.http_status == 200
    body = make_exchange(7).response_body
    assert response.payload == body
    assert response.http_headers == (
        ("content-type", "application/json; charset=utf-8"),
        ("x-rate-limit-remaining", "1499"),
        ("Content-Length", str(len(body))),
    )
    digest = "sha256:" + base64.b32encode(hashlib.sha256(body).digest()).decode()
    assert response.header("WARC-Payload-Digest") == digest


def test_warcinfo_record_starts_every_file(tmp_path: Path) -> None:
    with new_writer(tmp_path) as w:
        w.write_exchange(make_exchange())
        closed = w.close()
    assert closed is not None
    info = next(iter_records(closed.path))
    assert info.rec_type == "warcinfo"
    assert info.pointer.offset == 0
    assert info.header("WARC-Filename") == closed.name
    assert info.header("Content-Type") == "application/warc-fields"
    assert info.payload.decode() == (
        "software: Sangrah/0.1.0\r\n"
        "format: WARC File Format 1.1\r\n"
        "conformsTo: http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/\r\n"
        "operator: Records Cell, Test Dept\r\n"
    )
    raw = gzip.decompress(closed.path.read_bytes())
    assert raw.startswith(b"WARC/1.1\r\nWARC-Type: warcinfo\r\n")


def test_record_ids_are_distinct_version_4_uuids(tmp_path: Path) -> None:
    with new_writer(tmp_path) as w:
        ids = [r.record_id for i in range(200) for r in (w.write_exchange(make_exchange(i)).request, w.write_metadata(uri="urn:x", fields={}, created_at=STARTED_AT))]
    assert len(set(ids)) == len(ids)
    for record_id in ids:
        assert record_id.startswith("<urn:uuid:") and record_id.endswith(">")
        parsed = uuid.UUID(record_id[10:-1])
        assert parsed.version == 4 and str(parsed) == record_id[10:-1]


@given(st.binary(max_size=200))
def test_digest_text_is_padded_base32(data: bytes) -> None:
    h = hashlib.sha256(data)
    assert writer_module.digest_text(h) == "sha256:" + base64.b32encode(h.digest()).decode()


def test_metadata_and_resource_records(tmp_path: Path) -> None:
    with new_writer(tmp_path) as w:
        pair = w.write_exchange(make_exchange())
        meta = w.write_metadata(
            uri="urn:sangrah:harvest:42",
            fields={"account": "x:1234", "window": ["2024-05-01", "2024-05-02"], "note": HINDI},
            created_at=STARTED_AT,
            refers_to=pair.response.record_id,
        )
        resource = w.write_resource(
            uri="https://pbs.twimg.com/media/abc.jpg",
            content_type="image/jpeg",
            body=b"\xff\xd8\xff\xe0 not really a jpeg",
            created_at=STARTED_AT,
            concurrent_to=pair.response.record_id,
            extra_headers={"X-Sangrah-Source": "media"},
        )
        closed = w.close()
    assert closed is not None
    m = read_record(closed.path, meta.pointer.offset, meta.pointer.length)
    assert m.rec_type == "metadata"
    assert m.header("Content-Type") == "application/json"
    assert m.header("WARC-Refers-To") == pair.response.record_id
    assert orjson.loads(m.payload) == {"account": "x:1234", "note": HINDI, "window": ["2024-05-01", "2024-05-02"]}
    assert m.payload == orjson.dumps(orjson.loads(m.payload), option=orjson.OPT_SORT_KEYS)

    r = read_record(closed.path, resource.pointer.offset, resource.pointer.length)
    assert r.rec_type == "resource"
    assert r.payload == b"\xff\xd8\xff\xe0 not really a jpeg"
    assert r.header("Content-Type") == "image/jpeg"
    assert r.header("WARC-Concurrent-To") == pair.response.record_id
    assert r.header("X-Sangrah-Source") == "media"
    assert r.header("WARC-Payload-Digest") == r.header("WARC-Block-Digest")


def test_resource_extra_headers_cannot_replace_writer_fields(tmp_path: Path) -> None:
    w = new_writer(tmp_path)
    with pytest.raises(ValueError, match="may not set WARC-Record-ID"):
        w.write_resource(
            uri="https://x/a", content_type="text/plain", body=b"", created_at=STARTED_AT, extra_headers={"WARC-Record-ID": "<x>"}
        )
    assert list(tmp_path.iterdir()) == []


def test_decoded_body_sets_codings_aside(tmp_path: Path) -> None:
    """Content-Encoding and Transfer-Encoding no longer apply to the decoded body we store."""
    body = '{"message": "सड़क मरम्मत"}'.encode()
    ex = make_exchange(
        body=body,
        response_headers=[
            ("Content-Type", "application/json"),
            ("Content-Encoding", "gzip"),
            ("Transfer-Encoding", "chunked"),
            ("Content-Length", "31"),
            ("Vary", "Accept-Encoding"),
        ],
    )
    with new_writer(tmp_path) as w:
        written = w.write_exchange(ex)
        closed = w.close()
    assert closed is not None
    record = read_record(closed.path, written.response.pointer.offset, written.response.pointer.length)
    assert record.http_headers == (
        ("Content-Type", "application/json"),
        ("X-Sangrah-Original-Content-Encoding", "gzip"),
        ("X-Sangrah-Original-Transfer-Encoding", "chunked"),
        ("X-Sangrah-Original-Content-Length", "31"),
        ("Content-Length", str(len(body))),
        ("Vary", "Accept-Encoding"),
    )
    # warcio, which un-gzips and de-chunks what the headers announce, reads the body as given
    with open(closed.path, "rb") as fh:
        responses = [r for r in ArchiveIterator(fh) if r.rec_type == "response"]
        assert len(responses) == 1
    with open(closed.path, "rb") as fh:
        for r in ArchiveIterator(fh):
            if r.rec_type == "response":
                assert r.content_stream().read() == body


def test_head_and_304_responses_keep_their_content_length(tmp_path: Path) -> None:
    head = make_exchange(body=b"", method="HEAD", response_headers=[("Content-Length", "5120")])
    not_modified = make_exchange(1, body=b"", status=304, response_headers=[("Content-Length", "5120")])
    with new_writer(tmp_path) as w:
        a = w.write_exchange(head)
        b = w.write_exchange(not_modified)
        closed = w.close()
    assert closed is not None
    for written in (a, b):
        rec = read_record(closed.path, written.response.pointer.offset, written.response.pointer.length)
        assert rec.http_headers == (("Content-Length", "5120"),)
        assert rec.payload == b""


def test_request_body_gets_a_true_content_length(tmp_path: Path) -> None:
    ex = Exchange(
        url="https://bsky.social/xrpc/com.atproto.server.createSession",
        method="POST",
        request_headers=[("Content-Type", "application/json"), ("Content-Length", "999")],
        request_body=b'{"identifier": "dept.bsky.social"}',
        status=200,
        reason="OK",
        response_headers=[],
        response_body=b"{}",
        started_at=STARTED_AT,
    )
    with new_writer(tmp_path) as w:
        written = w.write_exchange(ex)
        closed = w.close()
    assert closed is not None
    req = read_record(closed.path, written.request.pointer.offset, written.request.pointer.length)
    assert req.http_line == "POST /xrpc/com.atproto.server.createSession HTTP/1.1"
    assert req.http_headers == (
        ("Content-Type", "application/json"),
        ("X-Sangrah-Original-Content-Length", "999"),
        ("Content-Length", "34"),
    )
    assert req.payload == b'{"identifier": "dept.bsky.social"}'
    assert req.header("WARC-IP-Address") is None


@pytest.mark.parametrize(
    ("url", "line"),
    [
        ("https://mastodon.social", "GET / HTTP/1.1"),
        ("https://mastodon.social?x=1", "GET /?x=1 HTTP/1.1"),
        ("https://mastodon.social/api/v1/accounts/1/statuses#frag", "GET /api/v1/accounts/1/statuses HTTP/1.1"),
    ],
)
def test_request_line_uses_path_and_query(tmp_path: Path, url: str, line: str) -> None:
    with new_writer(tmp_path) as w:
        written = w.write_exchange(make_exchange(url=url))
        closed = w.close()
    assert closed is not None
    req = read_record(closed.path, written.request.pointer.offset, written.request.pointer.length)
    assert req.http_line == line
    assert req.target_uri == url


def test_line_breaks_in_headers_are_refused(tmp_path: Path) -> None:
    bad = make_exchange(response_headers=[("X-Note", "one\r\nX-Injected: two")])
    with pytest.raises(CaptureError, match="line break"):
        with new_writer(tmp_path) as w:
            w.write_exchange(bad)
    assert list(tmp_path.iterdir()) == []


# -- closing, aborting, rollover -------------------------------------------------------------


def test_file_is_open_while_written_and_renamed_on_close(tmp_path: Path) -> None:
    seen: list[ClosedWarc] = []
    w = new_writer(tmp_path, on_close=seen.append)
    written = w.write_exchange(make_exchange())
    name = written.response.pointer.file
    assert sorted(p.name for p in tmp_path.iterdir()) == [name + ".open"]
    w.write_exchange(make_exchange(1))
    closed = w.close()
    assert closed is not None and seen == [closed]
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]
    data = (tmp_path / name).read_bytes()
    assert closed.path == tmp_path / name and closed.name == name
    assert closed.size_bytes == len(data)
    assert closed.sha256 == hashlib.sha256(data).hexdigest()
    assert closed.record_count == 5
    assert closed.first_at == STARTED_AT
    assert closed.first_at <= closed.last_at
    assert closed.last_at >= STARTED_AT + timedelta(seconds=1)
    assert w.close() is None  # nothing written since


def test_close_fsyncs_file_before_rename_and_directory_after(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[str] = []
    real_fsync, real_rename = os.fsync, os.rename

    def fsync(fd: int) -> None:
        listing = sorted(p.name.rsplit(".", 1)[-1] for p in tmp_path.iterdir())
        events.append(f"fsync {'dir' if os.path.isdir(f'/proc/self/fd/{fd}') else 'file'} {listing}")
        real_fsync(fd)

    def rename(src: Any, dst: Any) -> None:
        events.append("rename")
        real_rename(src, dst)

    monkeypatch.setattr(writer_module.os, "fsync", fsync)
    monkeypatch.setattr(writer_module.os, "rename", rename)
    with new_writer(tmp_path) as w:
        w.write_exchange(make_exchange())
    assert events == ["fsync file ['open']", "rename", "fsync dir ['gz']"]


def test_close_without_records_creates_nothing(tmp_path: Path) -> None:
    calls: list[ClosedWarc] = []
    with new_writer(tmp_path / "staging", on_close=calls.append) as w:
        assert w.close() is None
    assert calls == [] and not (tmp_path / "staging").exists()


def test_abort_removes_the_unfinished_file(tmp_path: Path) -> None:
    w = new_writer(tmp_path)
    w.write_exchange(make_exchange())
    w.abort()
    assert list(tmp_path.iterdir()) == []
    w.abort()  # nothing to abort: no error


def test_exception_in_block_aborts_but_keeps_closed_files(tmp_path: Path) -> None:
    closed: list[ClosedWarc] = []
    with pytest.raises(RuntimeError, match="harvest failed"):
        with new_writer(tmp_path, max_file_bytes=1, on_close=closed.append) as w:
            w.write_exchange(make_exchange(0))
            w.write_exchange(make_exchange(1))  # rolls the first file over
            raise RuntimeError("harvest failed")
    assert len(closed) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [closed[0].name]


def test_rollover_splits_at_the_limit_and_never_splits_a_pair(tmp_path: Path) -> None:
    limit = 4000
    closed: list[ClosedWarc] = []
    pairs = []
    with new_writer(tmp_path, max_file_bytes=limit, on_close=closed.append) as w:
        for i in range(60):
            pairs.append(w.write_exchange(make_exchange(i, body=os.urandom(300 + 20 * i))))
            if i % 7 == 0:
                w.write_metadata(uri=f"urn:page:{i}", fields={"i": i}, created_at=STARTED_AT)
    assert len(closed) > 5
    assert [c.name for c in closed] == sorted(p.name for p in tmp_path.iterdir())
    assert [int(c.name[-13:-8]) for c in closed] == list(range(len(closed)))
    for pair in pairs:
        assert pair.request.pointer.file == pair.response.pointer.file
        assert pair.response.pointer.offset == pair.request.pointer.offset + pair.request.pointer.length
    for c in closed:
        records = list(iter_records(c.path))
        assert records[0].rec_type == "warcinfo" and records[0].header("WARC-Filename") == c.name
        assert c.record_count == len(records)
        last = records[-1].pointer
        # A file is closed once it reaches the limit, and no sooner: it was under the limit
        # before the last write (which is one pair, or one record).
        cut = records[-2].pointer.offset if records[-1].rec_type == "response" else last.offset
        assert cut < limit
        if c is not closed[-1]:
            assert c.size_bytes >= limit
    by_file = {c.name: c for c in closed}
    for pair in pairs:
        c = by_file[pair.response.pointer.file]
        assert read_record(c.path, pair.response.pointer.offset, pair.response.pointer.length).record_id == pair.response.record_id


def test_open_refuses_to_overwrite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fixed = datetime(2024, 5, 1, tzinfo=timezone.utc)

    class FrozenClock(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> FrozenClock:
            return cls.fromtimestamp(fixed.timestamp(), tz)

    monkeypatch.setattr(writer_module, "datetime", FrozenClock)
    (tmp_path / "sangrah-x-20240501000000000000-00000.warc.gz.open").write_bytes(b"someone else's")
    w = new_writer(tmp_path)
    with pytest.raises(CaptureError, match="cannot create") as info:
        w.write_exchange(make_exchange())
    assert info.value.warc_file == "sangrah-x-20240501000000000000-00000.warc.gz"
    assert (tmp_path / "sangrah-x-20240501000000000000-00000.warc.gz.open").read_bytes() == b"someone else's"


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="prefix"):
        WarcWriter(Path("/tmp"), prefix="a/b", warcinfo={})
    with pytest.raises(ValueError, match="max_file_bytes"):
        WarcWriter(Path("/tmp"), prefix="a", warcinfo={}, max_file_bytes=0)
    with pytest.raises(ValueError, match="warcinfo field"):
        WarcWriter(Path("/tmp"), prefix="a", warcinfo={"operator": "two\nlines"})


# -- what warcio makes of our files ------------------------------------------------------------


def write_sample(directory: Path, n: int = 20) -> tuple[ClosedWarc, list[Any]]:
    written: list[Any] = []
    with new_writer(directory) as w:
        for i in range(n):
            pair = w.write_exchange(
                make_exchange(
                    i,
                    body=(HINDI * (i + 1)).encode() if i % 3 else os.urandom(50 * i),
                    request_headers=[("Host", "api.x.com"), ("Authorization", "Bearer AAAA-secret-token-1234")],
                )
            )
            written += [pair.request, pair.response]
            if i % 5 == 0:
                written.append(w.write_metadata(uri=f"urn:page:{i}", fields={"i": i}, created_at=STARTED_AT))
        written.append(w.write_resource(uri="https://x/img", content_type="image/png", body=os.urandom(999), created_at=STARTED_AT))
        closed = w.close()
    assert closed is not None
    return closed, written


@pytest.mark.slow
def test_warcio_check_passes_and_verifies_every_digest(tmp_path: Path) -> None:
    closed, written = write_sample(tmp_path)
    result = warcio_check(closed.path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "invalid" not in result.stdout.lower() and "fail" not in result.stdout.lower()
    assert result.stdout.count("digest pass") == len(written) + 1  # and the warcinfo record


@pytest.mark.slow
def test_warcio_check_fails_when_a_payload_byte_changes(tmp_path: Path) -> None:
    closed, written = write_sample(tmp_path, n=3)
    target = written[4]  # the second response: Hindi text
    assert target.type == "response"
    data = closed.path.read_bytes()
    p = target.pointer
    record = bytearray(gzip.decompress(data[p.offset : p.offset + p.length]))
    record[-10] ^= 0x01  # inside the payload, before the closing CRLFs
    tampered = tmp_path / "tampered.warc.gz"
    tampered.write_bytes(data[: p.offset] + isal_zlib.compress(bytes(record), 2, 31) + data[p.offset + p.length :])
    result = warcio_check(tampered)
    assert result.returncode == 1
    assert "block digest failed" in result.stdout and "payload digest failed" in result.stdout


def test_warcio_archive_iterator_reads_every_record_at_our_offsets(tmp_path: Path) -> None:
    closed, written = write_sample(tmp_path)
    ours = list(iter_records(closed.path))
    seen = []
    with open(closed.path, "rb") as fh:
        it = ArchiveIterator(fh, check_digests=True)
        for record in it:
            payload = record.content_stream().read()
            seen.append(
                (
                    record.rec_type,
                    record.rec_headers.get_header("WARC-Record-ID"),
                    it.get_record_offset(),
                    it.get_record_length(),
                    payload,
                    record.digest_checker.passed,
                )
            )
    assert len(seen) == len(ours) == len(written) + 1
    for (rec_type, record_id, offset, length, payload, passed), mine in zip(seen, ours):
        assert (rec_type, record_id, offset, length) == (mine.rec_type, mine.record_id, mine.pointer.offset, mine.pointer.length)
        assert payload == mine.payload
        assert passed is True
    for w, mine in zip(written, ours[1:]):
        assert (w.record_id, w.pointer) == (mine.record_id, mine.pointer)


# -- round trip ---------------------------------------------------------------------------------

header_names = st.from_regex(r"\AX-[A-Za-z0-9-]{1,20}\Z").filter(lambda n: n.lower() not in SECRET_HEADERS)
header_values = (
    st.text(
        alphabet=st.one_of(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")), st.sampled_from("नमस्ते सरकार")),
        max_size=40,
    )
    .map(lambda v: v.strip(" \t\x85\xa0\u1680\u2000\u3000"))
    .filter(lambda v: v == v.strip())
)
bodies = st.one_of(st.binary(max_size=3000), st.text(max_size=500).map(lambda t: (t + HINDI).encode("utf-8")))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=bodies,
    request_body=st.binary(max_size=200),
    headers=st.lists(st.tuples(header_names, header_values), max_size=8),
    status=st.sampled_from([200, 201, 404, 429, 500]),
    path=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789/-_.", max_size=30),
)
def test_round_trip_keeps_bytes_and_pointers(
    body: bytes, request_body: bytes, headers: list[tuple[str, str]], status: int, path: str
) -> None:
    ex = Exchange(
        url=f"https://api.example.gov.in/{path}?q=%E0%A4%9C%E0%A4%B2&page=2",
        method="POST",
        request_headers=[("Host", "api.example.gov.in"), *headers],
        request_body=request_body,
        status=status,
        reason="Whatever",
        response_headers=headers,
        response_body=body,
        started_at=STARTED_AT,
        http_version="HTTP/2",
    )
    with tempfile.TemporaryDirectory() as tmp:
        with new_writer(Path(tmp)) as w:
            written = w.write_exchange(ex)
            meta = w.write_metadata(uri="urn:x", fields={"h": headers}, created_at=STARTED_AT)
            closed = w.close()
        assert closed is not None
        records = list(iter_records(closed.path, check_digests=True))
        assert [r.pointer for r in records[1:]] == [written.request.pointer, written.response.pointer, meta.pointer]
        request, response, metadata = records[1:]
        assert request.payload == request_body
        assert request.http_headers[: len(headers) + 1] == (("Host", "api.example.gov.in"), *headers)
        assert response.payload == body
        assert response.http_status == status
        assert response.http_line == f"HTTP/2 {status} Whatever"
        assert response.http_headers == (*headers, ("Content-Length", str(len(body))))
        assert orjson.loads(metadata.payload) == {"h": [list(h) for h in headers]}
        again = read_record(closed.path, written.response.pointer.offset, written.response.pointer.length)
        assert again.payload == body and again.headers == response.headers
        with open(closed.path, "rb") as fh:
            it = ArchiveIterator(fh, check_digests=True)
            warcio_view = []
            for r in it:
                content = r.content_stream().read()  # before the offset, which reads to the end
                warcio_view.append((it.get_record_offset(), content, r.digest_checker.passed))
        assert warcio_view[2] == (written.response.pointer.offset, body, True)
        shutil.rmtree(tmp, ignore_errors=True)
