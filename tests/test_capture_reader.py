"""Reading WARC files back: by pointer, in order, and checking them for damage."""

from __future__ import annotations

import gzip
import hashlib
import os
from io import BytesIO
from pathlib import Path

import pytest
from isal import isal_zlib
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archiver.capture.reader import FileProblem, PassedRecord, ReadRecord, iter_records, read_record, scan_records, verify_file
from archiver.capture.writer import ClosedWarc, WrittenRecord
from archiver.errors import CaptureError, RecordDigestMismatch
from tests.test_capture_writer import HINDI, STARTED_AT, make_exchange, new_writer


@pytest.fixture
def sample(tmp_path: Path) -> tuple[ClosedWarc, list[WrittenRecord]]:
    """A closed file: warcinfo, 6 exchanges (one with an empty body), a metadata record."""
    written: list[WrittenRecord] = []
    with new_writer(tmp_path) as w:
        for i in range(6):
            pair = w.write_exchange(make_exchange(i, body=b"" if i == 2 else (HINDI * (i + 1)).encode()))
            written += [pair.request, pair.response]
        written.append(w.write_metadata(uri="urn:sangrah:harvest:1", fields={"pages": 6}, created_at=STARTED_AT))
        closed = w.close()
    assert closed is not None
    return closed, written


def flip_compressed_byte(path: Path, record: WrittenRecord) -> None:
    """Flip one bit in the middle of a record's deflate data, as disk rot would."""
    data = bytearray(path.read_bytes())
    data[record.pointer.offset + record.pointer.length // 2] ^= 0x10
    path.write_bytes(bytes(data))


def tamper_payload(path: Path, record: WrittenRecord) -> None:
    """Change one payload byte and recompress the member to the same length or not: a forged edit."""
    data = path.read_bytes()
    p = record.pointer
    raw = bytearray(gzip.decompress(data[p.offset : p.offset + p.length]))
    raw[-5] = ord("X") if raw[-5] != ord("X") else ord("Y")
    path.write_bytes(data[: p.offset] + isal_zlib.compress(bytes(raw), 2, 31) + data[p.offset + p.length :])


def test_iter_records_gives_pointers_headers_and_payloads(sample: tuple[ClosedWarc, list[WrittenRecord]]) -> None:
    closed, written = sample
    records = list(iter_records(closed.path))
    assert [r.rec_type for r in records] == ["warcinfo"] + ["request", "response"] * 6 + ["metadata"]
    assert [(r.record_id, r.pointer) for r in records[1:]] == [(w.record_id, w.pointer) for w in written]
    assert records[0].pointer.offset == 0
    assert sum(r.pointer.length for r in records) == closed.size_bytes
    assert all(r.pointer.file == closed.name for r in records)

    response = records[4]
    assert response.rec_type == "response"
    assert response.target_uri == "https://api.x.com/2/users/1234/tweets?max_results=100&pagination_token=tok0001"
    assert response.date == STARTED_AT.replace(second=16)
    assert response.http_status == 200
    assert response.http_header("content-type") == "application/json; charset=utf-8"
    assert response.payload == (HINDI * 2).encode()
    assert response.digest_problems() == []

    request = records[3]
    assert request.http_status is None
    assert request.http_line is not None and request.http_line.startswith("GET /2/users/1234/tweets?")
    assert request.payload == b""

    empty = records[6]
    assert empty.rec_type == "response" and empty.payload == b"" and empty.http_status == 200

    metadata = records[-1]
    assert metadata.http_headers == () and metadata.http_status is None
    assert metadata.payload == metadata.block == b'{"pages":6}'


def test_read_record_by_pointer_matches_iteration(sample: tuple[ClosedWarc, list[WrittenRecord]]) -> None:
    closed, written = sample
    by_id = {r.record_id: r for r in iter_records(closed.path)}
    for w in written:
        record = read_record(closed.path, w.pointer.offset, w.pointer.length)
        assert record.pointer == w.pointer
        assert record.headers == by_id[w.record_id].headers
        assert record.payload == by_id[w.record_id].payload


def test_verify_file_on_a_sound_file(sample: tuple[ClosedWarc, list[WrittenRecord]]) -> None:
    closed, written = sample
    check = verify_file(closed.path)
    assert check.ok
    assert check.problems == ()
    assert check.file == closed.name
    assert check.record_count == check.digests_checked == len(written) + 1
    assert check.size_bytes == closed.size_bytes
    assert check.sha256 == closed.sha256 == hashlib.sha256(closed.path.read_bytes()).hexdigest()


def test_flipped_byte_is_found_by_read_record_and_verify_file(sample: tuple[ClosedWarc, list[WrittenRecord]]) -> None:
    closed, written = sample
    target = written[3]  # the second response
    flip_compressed_byte(closed.path, target)

    with pytest.raises(CaptureError) as info:
        read_record(closed.path, target.pointer.offset, target.pointer.length)
    err = info.value
    assert err.warc_file == closed.name and err.offset == target.pointer.offset
    assert f"{closed.name} at offset {target.pointer.offset}" in err.message
    assert "restore the file from the store copy, then run `sangrah verify`" in err.message

    check = verify_file(closed.path)
    assert not check.ok
    assert [p.offset for p in check.problems] == [target.pointer.offset]
    # it went on past the damage: every other record was read and checked
    assert check.record_count == len(written)
    message = check.problems[0].message
    # file and offset are fields, not repeated in the message
    assert message.startswith(("the gzip member there is corrupt", "the file ends"))
    assert "Reading resumed at offset" in message
    assert check.sha256 == hashlib.sha256(closed.path.read_bytes()).hexdigest()

    # the records around it still read
    for w in (written[2], written[4]):
        assert read_record(closed.path, w.pointer.offset, w.pointer.length).record_id == w.record_id


def test_changed_payload_is_a_digest_mismatch(sample: tuple[ClosedWarc, list[WrittenRecord]]) -> None:
    closed, written = sample
    target = written[-2]  # the last response
    tamper_payload(closed.path, target)
    new_length = closed.path.stat().st_size - (closed.size_bytes - target.pointer.length)

    with pytest.raises(RecordDigestMismatch) as info:
        read_record(closed.path, target.pointer.offset, new_length)
    err = info.value
    assert err.warc_file == closed.name and err.offset == target.pointer.offset
    assert "WARC-Block-Digest" in err.message and "WARC-Payload-Digest" in err.message
    assert "altered after capture" in err.message and "`sangrah verify`" in err.message
    assert err.to_dict()["error"] == "digest_mismatch"
    assert err.to_dict()["offset"] == target.pointer.offset

    with pytest.raises(RecordDigestMismatch):
        list(iter_records(closed.path, check_digests=True))
    assert len(list(iter_records(closed.path))) == len(written) + 1  # unchecked reading still works

    check = verify_file(closed.path)
    assert [p.offset for p in check.problems] == [target.pointer.offset, target.pointer.offset]
    assert "block" in check.problems[0].message and "payload" in check.problems[1].message
    assert check.record_count == len(written) + 1


def _requests(data: bytes, head_end: int) -> bool:
    return data.find(b"\r\nWARC-Type: request\r\n", 0, head_end) != -1


def test_records_passed_over_unparsed_are_still_checked(sample: tuple[ClosedWarc, list[WrittenRecord]]) -> None:
    closed, written = sample
    items = list(scan_records(closed.path, pass_over=_requests))
    requests = [w for w in written if w.type == "request"]
    # a sound request is passed over, where the record after it starts; everything else is read
    assert [(i.offset, i.end) for i in items if isinstance(i, PassedRecord)] == [(w.pointer.offset, w.pointer.offset + w.pointer.length) for w in requests]
    assert [i.rec_type for i in items if isinstance(i, ReadRecord)] == ["warcinfo"] + ["response"] * 6 + ["metadata"]

    # an altered request is read in full and named, as it would be without pass_over
    target = requests[3]
    tamper_payload(closed.path, target)
    items = list(scan_records(closed.path, pass_over=_requests))
    problems = [i for i in items if isinstance(i, FileProblem)]
    assert [p.offset for p in problems] == [target.pointer.offset]
    assert "WARC-Block-Digest" in problems[0].message and "altered after capture" in problems[0].message
    assert problems == [i for i in scan_records(closed.path) if isinstance(i, FileProblem)]
    assert len([i for i in items if isinstance(i, PassedRecord)]) == len(requests) - 1


def test_truncated_file_names_file_and_offset(sample: tuple[ClosedWarc, list[WrittenRecord]]) -> None:
    closed, written = sample
    last = written[-1]
    with open(closed.path, "r+b") as fh:
        fh.truncate(last.pointer.offset + last.pointer.length - 7)

    with pytest.raises(CaptureError) as info:
        list(iter_records(closed.path))
    assert info.value.warc_file == closed.name and info.value.offset == last.pointer.offset
    assert "cut short" in info.value.message and "restore the file from the store copy" in info.value.message

    with pytest.raises(CaptureError) as info2:
        read_record(closed.path, last.pointer.offset, last.pointer.length)
    assert info2.value.offset == last.pointer.offset
    assert "file ends at byte" in info2.value.message

    check = verify_file(closed.path)
    assert [p.offset for p in check.problems] == [last.pointer.offset]
    assert check.record_count == len(written)


def test_junk_between_records_is_stepped_over(sample: tuple[ClosedWarc, list[WrittenRecord]]) -> None:
    closed, written = sample
    data = closed.path.read_bytes()
    cut = written[5].pointer.offset
    junk = b"\x00" * 100 + b"\x1f\x8b\x08 not a member"
    closed.path.write_bytes(data[:cut] + junk + data[cut:])
    check = verify_file(closed.path)
    assert [p.offset for p in check.problems] == [cut]
    assert check.problems[0].message.endswith(f"Reading resumed at offset {cut + len(junk)}.")
    assert check.record_count == len(written) + 1


def test_wrong_pointer_is_reported(sample: tuple[ClosedWarc, list[WrittenRecord]]) -> None:
    closed, written = sample
    p = written[1].pointer
    with pytest.raises(CaptureError, match="pointer does not match the file") as short:
        read_record(closed.path, p.offset, p.length - 1)
    assert short.value.offset == p.offset
    with pytest.raises(CaptureError, match="pointer does not match the file"):
        read_record(closed.path, p.offset, p.length + 1)
    with pytest.raises(CaptureError, match="not a readable gzip member"):
        read_record(closed.path, p.offset + 1, p.length)
    with pytest.raises(CaptureError, match="not a record pointer"):
        read_record(closed.path, -1, 10)


def test_missing_file_says_where_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match="Fetch the file from the store") as info:
        read_record(tmp_path / "gone.warc.gz", 0, 10)
    assert info.value.warc_file == "gone.warc.gz"
    with pytest.raises(CaptureError):
        verify_file(tmp_path / "gone.warc.gz")


def test_file_that_is_not_a_record_gzip(tmp_path: Path) -> None:
    plain = tmp_path / "plain.warc.gz"
    plain.write_bytes(b"WARC/1.1\r\nWARC-Type: warcinfo\r\n\r\n")
    with pytest.raises(CaptureError, match="no gzip member starts there"):
        list(iter_records(plain))
    empty = tmp_path / "empty.warc.gz"
    empty.write_bytes(b"")
    check = verify_file(empty)
    assert not check.ok and "holds no records" in check.problems[0].message


def test_reads_files_warcio_wrote(tmp_path: Path) -> None:
    """Other tools' files (sha1 digests, WARC/1.0, response before request) read and verify."""
    path = tmp_path / "warcio.warc.gz"
    bodies = [os.urandom(200), HINDI.encode(), b""]
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        writer.write_record(writer.create_warcinfo_record("warcio.warc.gz", {"software": "warcio"}))
        for i, body in enumerate(bodies):
            url = f"https://example.gov.in/page/{i}"
            resp = writer.create_warc_record(
                url,
                "response",
                payload=BytesIO(body),
                length=len(body),
                http_headers=StatusAndHeaders("200 OK", [("Content-Type", "text/plain")], protocol="HTTP/1.0"),
            )
            req = writer.create_warc_record(
                url,
                "request",
                payload=BytesIO(b""),
                length=0,
                http_headers=StatusAndHeaders(f"GET /page/{i} HTTP/1.0", [("Host", "example.gov.in")], is_http_request=True),
            )
            writer.write_request_response_pair(req, resp)
    expected = []
    with open(path, "rb") as fh:
        it = ArchiveIterator(fh)
        for record in it:
            expected.append((record.rec_type, it.get_record_offset(), it.get_record_length()))
    ours = list(iter_records(path, check_digests=True))
    assert [(r.rec_type, r.pointer.offset, r.pointer.length) for r in ours] == expected
    responses = [r for r in ours if r.rec_type == "response"]
    assert [r.payload for r in responses] == bodies
    digest = responses[0].header("WARC-Payload-Digest")
    assert digest is not None and digest.startswith("sha1:")
    for r in ours:
        assert read_record(path, r.pointer.offset, r.pointer.length).record_id == r.record_id
    assert verify_file(path).ok
