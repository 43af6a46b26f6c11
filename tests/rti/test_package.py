"""Disclosure packages built from a real sample archive with many redactions, checked by
independent validators: ``bagit`` (BagIt, RFC 8493), ``wacz validate`` and ``cdxj-indexer``
(WACZ 1.1.1), ReplayWeb.page in headless Chromium (the WACZ replayed), ``pypdf`` and ``pypdfium2`` (the PDF), the package's own offline verifier run in a
clean environment with and without the ``cryptography`` package, and ``openssl``."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, timezone
from pathlib import Path

import bagit
import pytest
from isal import isal_zlib

from archiver.capture.reader import ReadRecord, read_record
from archiver.capture.writer import Exchange, WarcWriter
from archiver.errors import CaptureError, RedactionLeak
from archiver.rti.package import CertificateInputs, LetterDocument, PackageInputs, PackageResult, SigningKey, WarcSource, build_package
from archiver.rti.package.build import carries_location
from archiver.rti.package.certificate import law_for, load_schedule_text, render_certificate
from archiver.rti.redact import accept, suggest_review
from archiver.model import WarcPointer
from archiver.rti.review import Decision, Redaction, RequestRef, ReviewRecord, ReviewSet
from archiver.rti.threads import ThreadRead, read_threads
from tests.rti.conftest import CREATED_AT, Archive, sample_certificate, sample_request
from tests.minio import MinioServer, bucket, make_store, minio  # noqa: F401  (fixtures)
from tests.rti.leaks import find_leaks
from tests.rti.replay import NOT_FOUND, ReplayTool, replay, replay_tool  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Built:
    result: PackageResult
    review: ReviewSet
    found: ThreadRead
    withheld: str
    withheld_s11: str
    needles: tuple[str, ...]


def _review(archive: Archive, request_ref: RequestRef) -> tuple[ReviewSet, ThreadRead, str, str]:
    posts = [str(r["record_id"]) for r in archive.rows(["record_id", "kind"]) if r["kind"] == "post"]
    found = read_threads(archive.records_dir, posts)
    accepted: dict[str, list[Redaction]] = {}
    for s in suggest_review(found.records):
        accepted.setdefault(s.record_id, []).append(accept(s))
    citizens = [r for r in found.records if not r.by_department and r.text]
    withheld, withheld_s11 = citizens[0].record_id, citizens[1].record_id
    decisions: dict[str, Decision] = {}
    for rid in dict.fromkeys(r.record_id for r in found.records):
        reds = tuple(accepted.get(rid, ()))
        decisions[rid] = Decision(rid, "redact" if reds else "disclose", redactions=reds, decided_by="CPIO A. Rao")
    decisions[withheld] = Decision(withheld, "withhold", clauses=("8(1)(j)",), reasons="a complaint naming the writer's family", decided_by="CPIO A. Rao")
    decisions[withheld_s11] = Decision(withheld_s11, "withhold", clauses=("11",), reasons="the writer objected under s.11(2)", decided_by="CPIO A. Rao")
    return ReviewSet(request_ref, found.records, decisions), found, withheld, withheld_s11


_LETTER = "<html><body><p>सूचना का अधिकार अधिनियम 2005 के अंतर्गत उत्तर। Reply under s.7(1) and notice under s.10(2).</p></body></html>".encode()


@pytest.fixture(scope="module")
def built(archive: Archive, signing_key: SigningKey, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    review, found, withheld, withheld_s11 = _review(archive, sample_request())
    certificate = sample_certificate()
    out = tmp_path_factory.mktemp("packages")
    from archiver.rti.package import build

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(build, "PDF_PROCESS_RECORDS", 1)  # the PDF in its own process, as for a large request
        result = build_package(
            PackageInputs(review, found.co_captured, WarcSource(archive.warc_dir), certificate, signing_key, LetterDocument("decision-letter.html", _LETTER), CREATED_AT),
            out,
        )
    needles = tuple({red.text for d in review.decisions.values() for red in d.redactions} | set(result.severed))
    yield Built(result, review, found, withheld, withheld_s11, needles)


def test_the_package_is_published_whole_with_two_signed_copies(built: Built) -> None:
    result = built.result
    assert result.folder.name == "RTI-JSD_R_2026_00017-20261201T150000"
    assert sorted(p.name for p in result.folder.iterdir()) == [
        "RTI-JSD_R_2026_00017-20261201T150000-applicant.zip", "RTI-JSD_R_2026_00017-20261201T150000-internal.zip", "applicant", "internal"]
    assert not [p for p in result.folder.parent.iterdir() if p.name.startswith(".partial")]
    assert result.applicant.zip_sha256 == hashlib.sha256(result.applicant.zip_path.read_bytes()).hexdigest()
    assert len(built.needles) > 100  # many redactions
    # the rule book does not quote the Schedule's fixed sentences: said, not invented
    assert result.warnings == (
        "the certificate lacks the Schedule's part a statement: it is marked not ready to sign",
        "the certificate lacks the Schedule's part b statement: it is marked not ready to sign",
        "the certificate lacks the Schedule's hash line verbatim: it is marked not ready to sign",
    )


@pytest.mark.parametrize("copy", ["applicant", "internal"])
def test_each_copy_is_a_valid_bagit_bag_folder_and_zip(built: Built, copy: str, tmp_path: Path) -> None:
    folder = built.result.folder / copy
    bag = bagit.Bag(str(folder))
    bag.validate()
    assert bag.info["External-Identifier"] == "RTI JSD/R/2026/00017" and bag.algorithms == ["sha256"]
    assert "data/records/records.csv" in bag.payload_entries() and "data/certificate/hash-report.csv" in bag.payload_entries()
    with zipfile.ZipFile(getattr(built.result, copy).zip_path) as zf:
        zf.extractall(tmp_path)
    bagit.Bag(str(tmp_path / copy)).validate()
    # a changed byte is caught by the independent validator
    target = tmp_path / copy / "data" / "records" / "records.json"
    target.write_bytes(target.read_bytes().replace(b"T1.1", b"T1.9", 1))
    with pytest.raises(bagit.BagValidationError):
        bagit.Bag(str(tmp_path / copy)).validate()


def _wacz(folder: Path) -> Path:
    return next((folder / "data" / "archive").glob("*.wacz"))


def _members(data: bytes) -> list[bytes]:
    """The gzip members of a record-compressed WARC, as stored."""
    out, at = [], 0
    while at < len(data):
        inflater = isal_zlib.decompressobj(31)
        inflater.decompress(data[at:])
        size = len(data) - at - len(inflater.unused_data)
        out.append(data[at : at + size])
        at += size
    return out


@pytest.mark.parametrize("copy", ["applicant", "internal"])
def test_the_wacz_validates_and_holds_the_original_records_byte_for_byte(built: Built, copy: str, archive: Archive, tmp_path: Path) -> None:
    wacz = _wacz(built.result.folder / copy)
    run = subprocess.run([str(VENV_BIN / "wacz"), "validate", "-f", str(wacz)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and "Validation succeeded, the passed WACZ is valid" in run.stdout, run.stdout + run.stderr
    with zipfile.ZipFile(wacz) as zf:
        assert {i.filename: i.compress_type for i in zf.infolist()}["archive/data.warc.gz"] == zipfile.ZIP_STORED
        warc = zf.read("archive/data.warc.gz")
        index = zf.read("indexes/index.cdx").decode()
        pages = [json.loads(line) for line in zf.read("pages/pages.jsonl").decode().splitlines()]
    assert pages[0] == {"format": "json-pages-1.0", "id": "pages", "title": f"RTI JSD/R/2026/00017 ({copy} copy)"}
    report = list(csv.DictReader(io.StringIO((built.result.folder / copy / "data/certificate/hash-report.csv").read_text("utf-8-sig"))))
    sources = {int(r["in_wacz_offset"]): r for r in report if r["kind"] == "warc record" and r["in_wacz_offset"]}
    members = _members(warc)
    offset = 0
    copied = 0
    for member in members:
        row = sources.get(offset)
        if row is not None:  # a request, response or media record: the very bytes of the evidence
            with open(archive.warc_dir / row["name"], "rb") as fh:
                fh.seek(int(row["offset"]))
                assert fh.read(int(row["length"])) == member
            copied += 1
        else:
            assert isal_zlib.decompress(member, 31).startswith(b"WARC/1.1\r\nWARC-Type: warcinfo")
        offset += len(member)
    assert copied == len(sources) and copied >= 2 * getattr(built.result, copy).captures_in_wacz
    # the index agrees with the standard indexer's reading of the same WARC
    (tmp_path / "data.warc.gz").write_bytes(warc)
    theirs = subprocess.run([str(VENV_BIN / "cdxj-indexer"), str(tmp_path / "data.warc.gz")], capture_output=True, text=True, timeout=120, check=True).stdout
    def keyed(text: str) -> set[tuple[str, str, str]]:
        rows = set()
        for line in text.splitlines():
            key, ts, rest = line.split(" ", 2)
            data = json.loads(rest)
            if data.get("mime") != "-" and "recordType" not in data and data.get("method") is None:
                rows.add((data["url"], data["offset"], data["length"]))
        return rows
    ours_rows = keyed("\n".join(line for line in index.splitlines() if '"recordType": "request"' not in line))
    assert ours_rows and ours_rows == keyed(theirs)
    if copy == "applicant":
        # a capture is given whole only when every record on it is disclosed without severance
        for key, ids in built.found.co_captured.items():
            if any(r["kind"] == "warc record" and int(r["offset"]) == key[1] and r["name"] == key[0] and r["in_wacz_offset"] for r in report):
                assert all(built.review.decisions[i].kind == "disclose" for i in ids)


def test_the_applicant_wacz_leaves_out_withheld_and_severed_captures(built: Built) -> None:
    applicant, internal = built.result.applicant.captures_in_wacz, built.result.internal.captures_in_wacz
    assert 0 < applicant < internal
    assert internal == len({(r.pointer.file, r.pointer.offset) for r in built.review.records})


@pytest.mark.parametrize("copy", ["applicant", "internal"])
def test_a_disclosed_capture_replays_from_the_wacz_in_replayweb_page(built: Built, copy: str, archive: Archive, replay_tool: ReplayTool, tmp_path: Path) -> None:
    """The WACZ loads in a standard replay tool, ReplayWeb.page, which serves the platform's JSON
    answer as captured, a disclosed record's text in it; in the applicant's copy a withheld
    record's capture is not there to replay."""
    folder = built.result.folder / copy
    report = list(csv.DictReader(io.StringIO((folder / "data/certificate/hash-report.csv").read_text("utf-8-sig"))))
    in_wacz = {(r["name"], int(r["offset"])) for r in report if r["kind"] == "warc record" and r["record_type"] == "response" and r["in_wacz_offset"]}
    picked = None
    for record in built.review.records:
        key = (record.pointer.file, record.pointer.offset)
        if built.review.decisions[record.record_id].kind != "disclose" or key not in in_wacz or not record.text:
            continue
        captured = read_record(archive.warc_dir / key[0], key[1], record.pointer.length)
        if record.text in captured.payload.decode("utf-8"):  # as written in the JSON, no escapes
            picked = (record, captured)
            break
    assert picked is not None, "no disclosed record's text is written as it is in a capture of the WACZ"
    record, captured = picked
    assert captured.target_uri and captured.date
    replayed = replay(replay_tool, _wacz(folder), captured.target_uri, captured.date.strftime("%Y%m%d%H%M%S"), tmp_path / "site")
    assert replayed.frame_url.endswith("mp_/" + captured.target_uri), replayed.frame_url
    assert record.text in replayed.text
    assert json.loads(replayed.text) == json.loads(captured.payload)
    if copy == "applicant":
        withheld = next(r for r in built.review.records if r.record_id == built.withheld)
        left_out = read_record(archive.warc_dir / withheld.pointer.file, withheld.pointer.offset, withheld.pointer.length)
        assert left_out.target_uri and left_out.date
        with zipfile.ZipFile(_wacz(folder)) as zf:
            assert left_out.target_uri not in zf.read("indexes/index.cdx").decode()
        missing = replay(replay_tool, _wacz(folder), left_out.target_uri, left_out.date.strftime("%Y%m%d%H%M%S"), tmp_path / "site-withheld")
        assert NOT_FOUND in missing.text and withheld.text not in missing.text


@pytest.mark.parametrize("copy", ["applicant", "internal"])
def test_the_certificate_s_hashes_match_the_warc_records(built: Built, copy: str, archive: Archive) -> None:
    folder = built.result.folder / copy / "data" / "certificate"
    rows = list(csv.DictReader(io.StringIO((folder / "hash-report.csv").read_text("utf-8-sig"))))
    records = [r for r in rows if r["kind"] == "warc record"]
    assert records
    for row in records:
        path = archive.warc_dir / row["name"]
        with open(path, "rb") as fh:
            fh.seek(int(row["offset"]))
            raw = fh.read(int(row["length"]))
        assert hashlib.sha256(raw).hexdigest() == row["sha256"]
        record = read_record(path, int(row["offset"]), int(row["length"]))  # digests verified
        assert hashlib.sha256(record.block).hexdigest() == row["block_sha256"]
        assert record.record_id == row["warc_record_id"]
    for row in (r for r in rows if r["kind"] == "warc file (the evidence)"):
        assert hashlib.sha256((archive.warc_dir / row["name"]).read_bytes()).hexdigest() == row["sha256"]
    for row in (r for r in rows if r["kind"] in ("package file", "wacz")):
        assert hashlib.sha256((built.result.folder / copy / "data" / row["name"]).read_bytes()).hexdigest() == row["sha256"]
    chain = list(csv.DictReader(io.StringIO((folder / "capture-chain.csv").read_text("utf-8-sig"))))
    first = chain[0]
    assert first["harvester"].startswith("Sangrah/") and first["platform"] in ("x", "facebook", "instagram", "youtube", "mastodon", "bluesky")
    assert first["request_at_utc"].endswith("Z") and first["response_at_ist"].endswith(" IST") and first["origin_url"].startswith("http")
    html = (folder / "certificate.html").read_text("utf-8")
    assert "Certificate under section 63(4)(c) of the Bharatiya Sakshya Adhiniyam, 2023" in html
    assert "☐ Server &nbsp; ☑ Cloud" in html and "s3://jalshakti-archive/warcs/" in html
    assert "☐ SHA1 &nbsp; ☑ SHA256 &nbsp; ☐ MD5" in html and "(Hash report to be enclosed with the certificate)" in html
    assert "<th>Date (DD/MM/YYYY)</th><td>01/12/2026</td>" in html and "<th>Time (IST) in 24-hour format</th><td>15:00</td>" in html
    assert html.count("NOT READY TO SIGN") == 2  # the two fixed statements the rule book does not quote


def test_the_law_follows_the_proceeding_s_commencement(certificate: CertificateInputs) -> None:
    assert law_for(date(2024, 6, 30)) == "IEA s.65B" and law_for(date(2024, 7, 1)) == "BSA s.63" and law_for(None) == "BSA s.63"
    old = replace(certificate, proceeding_commenced_on=date(2024, 6, 30), schedule=load_schedule_text())
    html = render_certificate(old, registration_number="R/1", records=[("T1.1", "x:1", "https://x.com/x/status/1")], digest="ab" * 32,
                              digest_of="threads.pdf", chain_note="chain", generated_at=CREATED_AT)
    assert "Certificate under section 65B(4) of the Indian Evidence Act, 1872" in html and "Law applied: IEA s.65B" in html
    assert "Proceeding commenced: 30/06/2024" in html and "Bharatiya Sakshya Adhiniyam, 2023</h1>" not in html


def _verify(python: list[str], bag: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*python, str(bag / "verify" / "verify_package.py"), str(bag), *extra], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin"}, cwd=bag, timeout=120)


def test_the_offline_verifier_checks_every_hash_and_the_signature_both_ways(built: Built, tmp_path: Path) -> None:
    bag = tmp_path / "applicant"
    shutil.copytree(built.result.folder / "applicant", bag)
    with_crypto = _verify([sys.executable, "-I"], bag)
    assert with_crypto.returncode == 0 and "signature: good (cryptography)" in with_crypto.stdout, with_crypto.stdout
    assert f"public key fingerprint (SHA-256): {built.result.fingerprint}" in with_crypto.stdout
    # Python with its standard library alone (no site packages), the signature through openssl
    stdlib_only = _verify([sys.executable, "-I", "-S"], bag)
    assert stdlib_only.returncode == 0 and "signature: good (openssl)" in stdlib_only.stdout, stdlib_only.stdout + stdlib_only.stderr
    assert _verify([sys.executable, "-I"], bag, "--using", "openssl").returncode == 0
    direct = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "verify/public-key.pem", "-rawin", "-in", "tagmanifest-sha256.txt",
                             "-sigfile", "tagmanifest-sha256.txt.sig"], capture_output=True, text=True, cwd=bag, timeout=60)
    assert direct.returncode == 0 and "Signature Verified Successfully" in direct.stdout
    # one changed byte in the payload
    pdf = bag / "data" / "threads.pdf"
    data = bytearray(pdf.read_bytes())
    data[len(data) // 2] ^= 1
    pdf.write_bytes(bytes(data))
    tampered = _verify([sys.executable, "-I", "-S"], bag)
    assert tampered.returncode == 1 and "PROBLEM payload file data/threads.pdf: SHA-256 is" in tampered.stdout
    # a manifest re-written to match, but the signature then fails
    shutil.rmtree(bag)
    shutil.copytree(built.result.folder / "applicant", bag)
    manifest = bag / "tagmanifest-sha256.txt"
    manifest.write_bytes(manifest.read_bytes() + b"\n")
    for python in ([sys.executable, "-I"], [sys.executable, "-I", "-S"]):
        bad = _verify(python, bag)
        assert bad.returncode == 1 and "signature: BAD" in bad.stdout, bad.stdout


def test_no_severed_string_reaches_the_applicant_in_any_encoding(built: Built) -> None:
    needles = built.needles
    applicant = built.result.folder / "applicant"
    assert find_leaks(applicant, needles) == []
    assert find_leaks(built.result.applicant.zip_path, needles) == []
    # the same check finds them in the internal copy, which keeps them
    internal_hits = find_leaks(built.result.folder / "internal" / "data" / "records", needles)
    assert len(internal_hits) > 50
    # withheld records leave only their number and clause
    withheld_text = next(r.text for r in built.review.records if r.record_id == built.withheld)
    assert find_leaks(applicant, [withheld_text]) == []
    records = (applicant / "data" / "records" / "records.csv").read_text("utf-8-sig")
    assert ",withheld,11," in records and ",withheld,8(1)(j)," in records


def test_the_leak_checker_finds_a_string_in_every_encoding_it_claims(tmp_path: Path) -> None:
    needle = "सीमा कुमार 9876543210"
    ascii_needle = "Kavita Das"
    stream = zlib.compress(needle.encode("utf-16-be"))
    pdf = b"%PDF-1.7\n1 0 obj\n<< /Length " + str(len(stream)).encode() + b" /Filter /FlateDecode >>\nstream\n" + stream + b"\nendstream\nendobj\n"
    cases = {
        "utf16.txt": needle.encode("utf-16-le"),
        "entities.html": "".join(f"&#{ord(c)};" for c in needle).encode(),
        "escaped.json": json.dumps({"t": needle}, ensure_ascii=True).encode(),
        "url.txt": b"https://example.in/?q=" + __import__("urllib.parse").parse.quote(needle).encode(),
        "digits.txt": "call +९१ ९८७६५-४३२१० now".encode(),  # the phone needle, other digits and separators
        "upper.csv": ascii_needle.upper().encode(),
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        inner = io.BytesIO()
        with zipfile.ZipFile(inner, "w", zipfile.ZIP_STORED) as wacz:
            import gzip

            wacz.writestr("archive/data.warc.gz", gzip.compress(needle.encode()))
        zf.writestr("bag/data/archive/x.wacz", inner.getvalue())
        zf.writestr("bag/data/stream.pdf", pdf)
    (tmp_path / "package.zip").write_bytes(buffer.getvalue())
    found = find_leaks(tmp_path, [needle, ascii_needle, "+91 9876543210"])
    for name in [*cases, "package.zip!bag/data/archive/x.wacz!archive/data.warc.gz(gunzip)", "package.zip!bag/data/stream.pdf(stream 0)"]:
        assert any(hit.startswith(name) for hit in found), (name, found)


def _inputs(archive: Archive, request_ref: RequestRef, certificate: CertificateInputs, signing_key: SigningKey, warc_dir: Path, letter: bytes = _LETTER) -> PackageInputs:
    review, found, _, _ = _review(archive, request_ref)
    return PackageInputs(review, found.co_captured, WarcSource(warc_dir), certificate, signing_key, LetterDocument("decision-letter.html", letter), CREATED_AT)


def test_a_failed_packaging_run_leaves_nothing_that_looks_like_a_package(
    archive: Archive, request_ref: RequestRef, certificate: CertificateInputs, signing_key: SigningKey, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from archiver.rti.package import build

    monkeypatch.setattr(build, "PDF_PROCESS_RECORDS", 1)  # the PDF in its own process, as for a large request
    warcs = tmp_path / "warcs"
    shutil.copytree(archive.warc_dir, warcs)
    inputs = _inputs(archive, request_ref, certificate, signing_key, warcs)
    # the evidence file is cut short under the builder: a record well into the review is unreadable
    last = max(inputs.review.records, key=lambda r: r.pointer.offset)
    with open(warcs / last.pointer.file, "r+b") as fh:
        fh.truncate(last.pointer.offset + 10)
    out = tmp_path / "out"
    with pytest.raises(CaptureError) as caught:
        build_package(inputs, out)
    assert "cut short" in caught.value.message or "ends" in caught.value.message
    assert list(out.iterdir()) == []


def test_a_severed_string_in_the_decision_letter_stops_the_package(archive: Archive, request_ref: RequestRef, certificate: CertificateInputs, signing_key: SigningKey, tmp_path: Path) -> None:
    inputs = _inputs(archive, request_ref, certificate, signing_key, archive.warc_dir)
    severed = next(red.text for d in inputs.review.decisions.values() for red in d.redactions if red.kind == "phone")
    leaky = replace(inputs, letter=LetterDocument("decision-letter.html", f"<p>You may call {severed}.</p>".encode()))
    out = tmp_path / "out"
    with pytest.raises(RedactionLeak) as caught:
        build_package(leaky, out)
    assert caught.value.message.startswith("data/letter/decision-letter.html of the applicant's copy still holds a severed string")
    assert list(out.iterdir()) == []


def test_the_copies_show_what_each_reader_may_see(built: Built) -> None:
    folder = built.result.folder
    severed = next(red for d in built.review.decisions.values() for red in d.redactions if red.kind == "phone")
    internal_pages = "".join(p.read_text("utf-8") for p in (folder / "internal" / "data" / "threads").glob("*.html"))
    applicant_pages = "".join(p.read_text("utf-8") for p in (folder / "applicant" / "data" / "threads").glob("*.html"))
    assert f'<mark class="severed" title="severed for the applicant under s.8(1)(j)">{severed.text}</mark>' in internal_pages
    assert severed.text not in applicant_pages and 'aria-label="severed under s.8(1)(j)"' in applicant_pages
    assert "withheld under s.8(1)(j)." in applicant_pages and "withheld under s.11." in applicant_pages
    assert applicant_pages.count("True copy of the document/record supplied under RTI Act") == len(list((folder / "applicant" / "data" / "threads").glob("*.html")))
    log = list(csv.DictReader(io.StringIO((folder / "applicant" / "data" / "redactions.csv").read_text("utf-8-sig"))))
    assert log and all(row["text"] == "" and row["clause"] for row in log)
    internal_log = (folder / "internal" / "data" / "redactions.csv").read_text("utf-8-sig")
    assert severed.text in internal_log
    assert (folder / "internal" / "data" / "applicant-copy" / built.result.applicant.zip_path.name).read_bytes() == built.result.applicant.zip_path.read_bytes()
    assert (folder / "applicant" / "data" / "letter" / "decision-letter.html").read_bytes() == _LETTER


def test_the_pdf_carries_the_hindi_text_shaped(built: Built, tmp_path: Path) -> None:
    from pypdf import PdfReader

    pdf = built.result.folder / "applicant" / "data" / "threads.pdf"
    reader = PdfReader(str(pdf))
    text = "".join(page.extract_text() for page in reader.pages)
    assert "True copy of the document/record supplied under RTI Act" in text
    hindi_post = next(r.text for r in built.review.records if r.by_department and r.language == "hi")
    words = [w for w in hindi_post.split() if all("\u0900" <= c <= "\u097f" for c in w) and len(w) > 2]
    assert words and sum(w in text for w in words) >= len(words) // 2  # extractable, as the reader sees it
    assert len(reader.pages) >= len({r.thread_id for r in built.review.records})


def test_devanagari_is_shaped_when_rasterised(tmp_path: Path) -> None:
    """The conjunct क्ष drawn as one ligature glyph: the ink of a line of them is as wide as
    HarfBuzz's shaped run, far narrower than its letters set side by side unshaped."""
    import pypdfium2
    import uharfbuzz as hb

    from archiver.rti.package.pdf import _Copy, _draw, font_paths
    from archiver.rti.redact import Segment

    text = "क्ष" * 6
    pdf = _Copy(sample_request(), date(2026, 12, 1))
    pdf.add_page()
    _draw(pdf, [Segment(text)], pdf.l_margin, 20)
    path = tmp_path / "shaped.pdf"
    pdf.output(str(path))
    scale = 4.0  # pixels per point
    image = pypdfium2.PdfDocument(str(path))[0].render(scale=scale).to_pil().convert("L")
    width, height = image.size
    band = image.crop((0, 0, width, int(height * 0.2)))
    columns = [x for x in range(band.width) if min(int(band.getpixel((x, y)) or 0) for y in range(0, band.height, 2)) < 128]
    ink_mm = (max(columns) - min(columns)) / scale * 25.4 / 72
    blob = hb.Blob.from_file_path(str(font_paths()[1]))
    font = hb.Font(hb.Face(blob))
    upem = font.face.upem
    buf = hb.Buffer()
    buf.add_str(text)
    buf.guess_segment_properties()
    hb.shape(font, buf)
    shaped_mm = sum(p.x_advance for p in buf.glyph_positions) / upem * 20 * 25.4 / 72
    unshaped_mm = sum(font.get_glyph_h_advance(font.get_nominal_glyph(ord(c)) or 0) for c in text) / upem * 20 * 25.4 / 72
    assert len(buf.glyph_infos) == 6  # one glyph per conjunct
    assert abs(ink_mm - shaped_mm) < 2.0, (ink_mm, shaped_mm, unshaped_mm)
    assert unshaped_mm - shaped_mm > 10


def test_a_package_read_from_the_s3_bucket_holds_the_same_evidence(built: Built, archive: Archive, signing_key: SigningKey, minio: MinioServer, bucket: str, tmp_path: Path) -> None:
    """With storage.kind s3 the captures are ranged reads of the bucket's objects: the same bytes,
    the same hash report, the same WACZ as from the local directory."""
    from archiver.rti.package.verifier import sha256_file

    store = make_store(minio, bucket)
    digests = {}
    for path in sorted(archive.warc_dir.glob("*.warc.gz")):
        digests[path.name] = sha256_file(path)
        store.put_file(path, "warcs/" + path.name, sha256=digests[path.name])
    review, found, _, _ = _review(archive, sample_request())
    inputs = PackageInputs(review, found.co_captured, WarcSource(store=store, file_sha256=digests), sample_certificate(), signing_key, LetterDocument("decision-letter.html", _LETTER), CREATED_AT)
    result = build_package(inputs, tmp_path / "out")
    for copy in ("internal", "applicant"):
        ours, local = (list(csv.DictReader(io.StringIO((folder / copy / "data/certificate/hash-report.csv").read_text("utf-8-sig")))) for folder in (result.folder, built.result.folder))
        evidence = [r for r in ours if r["kind"] != "package file"]
        assert len(evidence) > 20 and {r["kind"] for r in evidence} >= {"warc record", "wacz"}
        assert evidence == [r for r in local if r["kind"] != "package file"]  # the renderings (the PDF's own bytes) are not evidence
        assert [r["name"] for r in ours] == [r["name"] for r in local]
    with zipfile.ZipFile(_wacz(result.folder / "internal")) as from_s3, zipfile.ZipFile(_wacz(built.result.folder / "internal")) as from_dir:
        assert from_s3.read("archive/data.warc.gz") == from_dir.read("archive/data.warc.gz")
    # an object whose SHA-256 the catalog does not have is named, with the step that records it
    unknown = WarcSource(store=store)
    first = next(iter(digests))
    with pytest.raises(CaptureError, match=rf"{first}: the catalog's manifest has no SHA-256 for this WARC file in s3://{bucket} .*run sangrah verify"):
        unknown.file_sha256(first)


_CITIZEN_PLACE = "Gandhi Nagar Colony, Ward 12, Jaipur"
_CITIZEN_HOME = "Lane 4 behind the water tank, Sanganer"
_DEPARTMENT_PLACE = "Jal Bhawan, Jaipur"


def _read(warcs: Path, pointer: WarcPointer) -> ReadRecord:
    return read_record(warcs / pointer.file, pointer.offset, pointer.length)


def _rewrite(record: ReadRecord, writer: WarcWriter, place: str | None = None, home: str | None = None) -> WarcPointer:
    """The capture written again through the project's WARC writer; with ``place``, its API page
    carries a geotag as X gives it (``geo.place_id`` and ``coordinates`` on the posts, the place
    in ``includes.places``) and, with ``home``, a user's profile ``location``."""
    page = json.loads(record.payload)
    if place is not None:
        for post in page["data"]:
            post["geo"] = {"place_id": "01a9a39529b27f36", "coordinates": {"type": "Point", "coordinates": [75.7873, 26.9124]}}
        includes = page.setdefault("includes", {})
        includes["places"] = [{"id": "01a9a39529b27f36", "full_name": place, "geo": {"type": "Feature", "bbox": [75.7, 26.8, 75.9, 27.0]}}]
        if home is not None:
            includes.setdefault("users", [{"id": "99"}])[-1]["location"] = home
    written = writer.write_exchange(Exchange(
        url=record.target_uri or "", method="GET", request_headers=[("Accept", "application/json")], request_body=b"",
        status=200, reason="OK", response_headers=[("Content-Type", "application/json")], response_body=json.dumps(page, ensure_ascii=False).encode(),
        started_at=record.date or CREATED_AT, context=[(k, v) for k, v in record.headers if k.startswith("X-Sangrah-")],
    ))
    return written.response.pointer


def test_a_third_party_s_location_keeps_a_capture_out_of_the_applicant_wacz(archive: Archive, signing_key: SigningKey, tmp_path: Path) -> None:
    """A capture given whole reaches the applicant as its raw JSON, which the renderings never
    show: when a citizen's record is on it and it carries a geotag or a profile location, the
    applicant's WACZ leaves it out and the capture chain says why; the same capture without
    location data goes in, and so does the department's own capture with its location; the
    internal copy keeps every capture."""
    review, found, _, _ = _review(archive, sample_request())
    by_key: dict[tuple[str, int], list[ReviewRecord]] = {}
    for r in review.records:
        by_key.setdefault((r.pointer.file, r.pointer.offset), []).append(r)
    ids_by_department = {r.record_id for r in review.records if r.by_department}
    x_pages = sorted(k for k, rs in by_key.items() if rs[0].platform == "x")
    # two pages of citizens' replies: one of X, geotagged, and one of another platform, as captured
    citizens_pages = sorted(k for k in by_key if not found.co_captured[k] <= ids_by_department)
    located_key = next(k for k in citizens_pages if k in x_pages)
    plain_key = next(k for k in citizens_pages if k not in x_pages)
    department_key = next(k for k in x_pages if found.co_captured[k] <= ids_by_department)
    # every record disclosed unsevered: each capture may be given whole, unless for location data
    decisions = {rid: Decision(rid, "disclose", decided_by="CPIO A. Rao") for rid in review.decisions}
    warcs = tmp_path / "warcs"
    shutil.copytree(archive.warc_dir, warcs)
    with WarcWriter(warcs, prefix="sangrah-geo", warcinfo={"operator": "test-records-cell"}) as writer:
        moved = {
            located_key: _rewrite(_read(warcs, by_key[located_key][0].pointer), writer, _CITIZEN_PLACE, _CITIZEN_HOME),
            plain_key: _rewrite(_read(warcs, by_key[plain_key][0].pointer), writer),
            department_key: _rewrite(_read(warcs, by_key[department_key][0].pointer), writer, _DEPARTMENT_PLACE),
        }
    records = tuple(replace(r, pointer=moved[k]) if (k := (r.pointer.file, r.pointer.offset)) in moved else r for r in review.records)
    co_captured = {(moved[k].file, moved[k].offset) if k in moved else k: ids for k, ids in found.co_captured.items()}
    result = build_package(PackageInputs(ReviewSet(review.request, records, decisions), co_captured, WarcSource(warcs), sample_certificate(), signing_key,
                                         LetterDocument("decision-letter.html", _LETTER), CREATED_AT), tmp_path / "out")

    def in_wacz(copy: str) -> dict[str, str]:
        rows = csv.DictReader(io.StringIO((result.folder / copy / "data/certificate/capture-chain.csv").read_text("utf-8-sig")))
        return {row["warc_record_id"]: row["in_wacz"] for row in rows}

    located, plain, department = (_read(warcs, moved[k]).record_id for k in (located_key, plain_key, department_key))
    applicant = in_wacz("applicant")
    assert applicant[located] == "no: location data of a third party, RTI s.8(1)(j)"
    assert applicant[plain] == "yes" and applicant[department] == "yes"
    # that capture alone is left out, besides those with a record the request does not cover
    beyond = {k for k in by_key if not found.co_captured[k] <= decisions.keys()}
    assert located_key not in beyond and result.internal.captures_in_wacz == len(by_key)
    assert result.applicant.captures_in_wacz == len(by_key) - len(beyond) - 1 > 2
    internal = in_wacz("internal")
    assert set(internal.values()) == {"yes"} and internal.keys() >= {located, plain, department}
    # no word of the citizen's place or home reaches the applicant, in any encoding, zipped or not
    citizen_strings = [_CITIZEN_PLACE, _CITIZEN_HOME]
    assert find_leaks(result.folder / "applicant", citizen_strings) == []
    assert find_leaks(result.applicant.zip_path, citizen_strings) == []
    # the checker finds them where they are, in the internal copy's WACZ; and the department's
    # place reaches the applicant in its WACZ
    assert {hit.split("!")[0] for hit in find_leaks(result.folder / "internal" / "data" / "archive", citizen_strings)} == {_wacz(result.folder / "internal").name}
    assert find_leaks(result.folder / "applicant" / "data" / "archive", [_DEPARTMENT_PLACE])


_HTTP = b"WARC/1.1\r\nWARC-Type: response\r\nContent-Type: application/http; msgtype=response\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n"


@pytest.mark.parametrize(("payload", "expected"), [
    (b'{"data": [{"id": "1", "geo": {"place_id": "01a9a39529b27f36"}}]}', True),  # X: a tweet's geotag
    (b'{"data": [{"geo": {"type": "Point", "coordinates": [75.78, 26.91]}}]}', True),  # X: GeoJSON
    (b'{"data": [], "includes": {"places": [{"full_name": "Jaipur, Rajasthan"}]}}', True),  # X: includes.places
    (b'{"data": [], "includes": {"users": [{"username": "a", "location": "Sanganer"}]}}', True),  # X: a profile's location
    (b'{"data": [{"id": "1", "location": {"id": "2130", "name": "Jaipur"}}]}', True),  # Instagram media
    (b'{"data": [{"id": "1", "Place": {"name": "Jaipur"}}]}', True),  # Facebook, any case
    (b'{"data": [{"id": "1", "geo": {}, "place": null, "location": "", "places": []}]}', False),  # keys with no value
    (b'{"data": [{"id": "1", "text": "\\"location\\": Jaipur, \\"geo\\": 1"}]}', False),  # only in a text
    (b'{"data": [{"id": "1", "geo": {"place_id": "01a9', True),  # cut short: the key with a value is enough
    (b'{"data": [{"id": "1", "text": "reply"}]}', False),
])
def test_location_data_is_found_under_the_keys_the_platforms_use(payload: bytes, expected: bool) -> None:
    assert carries_location(_HTTP + payload) is expected
    # the request of an exchange has no payload that could hold it
    assert carries_location(_HTTP.replace(b"WARC-Type: response", b"WARC-Type: request") + payload) is False
