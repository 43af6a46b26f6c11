"""Build a request's disclosure package: two signed BagIt bags and their ZIPs, published whole.

``build_package`` refuses an unfinished review (``require_complete``), reads every capture it
needs by pointer (digests checked), and writes, in a directory of its own beside the target:

- ``applicant/``: the copy supplied — renderings (HTML per thread, one PDF certified copy),
  records CSV/JSON, the list of severances with their clauses, the decision letter, the
  certificate with its hash report and capture chain, and a WACZ of the captures that can be
  given whole (every record on them disclosed without severance, no severed string in them, and
  no location data in them when a record on them is not the department's: ``carries_location``);
- ``internal/``: the same unsevered, the severances highlighted, the full redaction log and
  decisions, a WACZ of every capture concerned, and the applicant's ZIP as supplied;

each a BagIt bag with the offline verifier, signed; then ``applicant.zip`` and ``internal.zip``.
Before the applicant's bag is closed every text file in it is searched for every severed
string (``RedactionLeak`` if one is found). Only then is the directory renamed into place, in
one step: a failure at any point leaves nothing that looks like a package.
"""

from __future__ import annotations

import csv
import html
import io
import json
import logging
import os
from multiprocessing import get_context
import re
import secrets
import shutil
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

from archiver import SOFTWARE
from archiver.errors import DisclosureError, RedactionLeak
from archiver.rti.package import html as render
from archiver.rti.package.bag import finish_bag, sha256_file, zip_bag
from archiver.rti.package.certificate import CertificateInputs, law_for, load_schedule_text, missing_schedule_text, render_certificate
from archiver.rti.package.evidence import Capture, Member, WarcSource
from archiver.rti.package.pdf import write_pdf
from archiver.rti.package.records import record_rows, redaction_log_rows, write_csv, write_json
from archiver.rti.package.signing import SigningKey
from archiver.rti.package.verifier import PUBLIC_KEY
from archiver.rti.package.view import Copy, ThreadView, build_views
from archiver.rti.package.wacz import write_wacz
from archiver.rti.redact import Masker, masker_for
from archiver.rti.review import IST, ReviewSet, require_complete
from archiver.storage.local import fsync_dir

__all__ = ["LetterDocument", "PackageInputs", "BuiltCopy", "PackageResult", "build_package", "package_name"]

log = logging.getLogger(__name__)

#: from this many record versions on, the PDF is written by a second process meanwhile
PDF_PROCESS_RECORDS = 2_000
_TEXT_SUFFIXES = (".html", ".csv", ".json", ".jsonl", ".txt", ".cdx")
_LOG_COLUMNS = ["item", "field", "clause", "origin", "kind", "characters", "text", "reason"]
_HASH_COLUMNS = ["kind", "name", "offset", "length", "record_type", "warc_record_id", "target_uri", "sha256", "block_sha256", "payload_sha256", "in_wacz_offset"]
_CHAIN_COLUMNS = [
    "items", "origin_url", "platform", "account", "endpoint", "http_status", "request_at_utc", "request_at_ist", "response_at_utc",
    "response_at_ist", "harvester", "harvest_id", "operator", "host", "warc_file", "warc_record_id", "in_wacz", "processing_chain",
]


@dataclass(frozen=True, slots=True)
class LetterDocument:
    """The decision letter (the register's reply, s.7(1) or s.10(2) notice): a file name and its bytes."""

    name: str
    content: bytes


@dataclass(frozen=True)
class PackageInputs:
    review: ReviewSet
    #: every record id on each capture (``ThreadRead.co_captured``)
    co_captured: Mapping[tuple[str, int], frozenset[str]]
    source: WarcSource
    certificate: CertificateInputs
    signing_key: SigningKey
    letter: LetterDocument | None = None
    created_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))


@dataclass(frozen=True)
class BuiltCopy:
    copy: Copy
    folder: Path
    zip_path: Path
    zip_sha256: str
    tagmanifest_sha256: str
    files: int
    captures_in_wacz: int


@dataclass(frozen=True)
class PackageResult:
    folder: Path
    applicant: BuiltCopy
    internal: BuiltCopy
    fingerprint: str
    #: every string severed from the applicant's copy (folded), for checks
    severed: tuple[str, ...]
    warnings: tuple[str, ...]


def _done(fn: Callable[..., None], *args: Any) -> Future[None]:
    """``fn(*args)`` run here and now, as a finished future (small requests need no process)."""
    future: Future[None] = Future()
    try:
        fn(*args)
    except Exception as exc:  # handed over exactly as a process pool would
        future.set_exception(exc)
    else:
        future.set_result(None)
    return future


def package_name(registration_number: str, created_at: datetime) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", registration_number).strip("_") or "request"
    return f"RTI-{safe}-{created_at.astimezone(IST).strftime('%Y%m%dT%H%M%S')}"


def _csv(rows: Iterable[Mapping[str, Any]], columns: list[str]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


_JSON_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def _readable(data: bytes) -> str:
    """Bytes as text with JSON \\u escapes, HTML entities and URL encoding resolved (the
    decoded text is added to the original), for searching."""
    text = data.decode("utf-8", "replace")
    if "\\u" in text:
        text = _JSON_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    if "&" in text:
        text = html.unescape(text)
    return text + "\n" + unquote_plus(text) if "%" in text else text


#: JSON keys whose non-empty value is location data: X's ``geo`` (``place_id``, GeoJSON
#: ``coordinates``), ``includes.places`` and a user's profile ``location``, Instagram's media
#: ``location``, Facebook's ``place``. Kept small and broad: one of them with a non-empty value
#: anywhere in the payload keeps the capture out of the applicant's WACZ (R6: geotags of
#: non-official persons are pre-flagged 8(1)(j)), since the renderings never show these fields.
LOCATION_KEYS = frozenset({"geo", "place", "places", "place_id", "coordinates", "location"})
#: the reason the capture chain gives for a capture so left out
LOCATION_REASON = "no: location data of a third party, RTI s.8(1)(j)"
_LOCATION_KEY = re.compile(rb'"(?:' + b"|".join(re.escape(k.encode()) for k in sorted(LOCATION_KEYS)) + rb')"\s*:\s*(?!null\b|""|\[\s*\]|\{\s*\})', re.IGNORECASE)
_EMPTY: tuple[object, ...] = (None, "", [], {})


def _payload(content: bytes) -> bytes:
    """The payload of a decompressed response (after its HTTP head) or resource record; empty
    for any other record."""
    head_end = content.find(b"\r\n\r\n")
    head = content[:head_end]
    if b"WARC-Type: resource" in head:
        return content[head_end + 4 :]
    if b"WARC-Type: response" not in head:
        return b""
    http_end = content.find(b"\r\n\r\n", head_end + 4)
    return b"" if http_end == -1 else content[http_end + 4 :]


def carries_location(content: bytes) -> bool:
    """Whether a decompressed WARC record's payload holds a key of ``LOCATION_KEYS`` with a
    non-empty value (anything but null, "", [] or {}), at any depth.

    >>> carries_location(b'WARC/1.1\\r\\nWARC-Type: response\\r\\n\\r\\nHTTP/1.1 200 OK\\r\\n\\r\\n{"data": [{"geo": {"place_id": "01a9"}}]}')
    True
    """
    payload = _payload(content)
    if not _LOCATION_KEY.search(payload):  # most payloads: no JSON parse
        return False
    try:
        stack: list[Any] = [json.loads(payload)]
    except ValueError:
        return True  # not JSON (or not whole): the key with a value is enough
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            for key, inner in value.items():
                if isinstance(key, str) and key.lower() in LOCATION_KEYS and not any(inner == e and type(inner) is type(e) for e in _EMPTY):
                    return True
                stack.append(inner)
        elif isinstance(value, list):
            stack.extend(value)
    return False


@dataclass
class _Evidence:
    captures: dict[tuple[str, int], Capture]
    media: dict[tuple[str, int], Member]
    #: the captures the applicant may have as they are
    whole: set[tuple[str, int]]
    #: disclosed captures left out of the applicant's WACZ for a third party's location data
    located: set[tuple[str, int]] = field(default_factory=set)


def _gather(inputs: PackageInputs, masker: Masker) -> _Evidence:
    review = inputs.review
    captures: dict[tuple[str, int], Capture] = {}
    media: dict[tuple[str, int], Member] = {}

    def severed(content: bytes) -> bool:
        return masker.found_in(_readable(content))

    def disclosed(key: tuple[str, int]) -> bool:
        decisions = [review.decisions.get(rid) for rid in inputs.co_captured.get(key, frozenset())]
        return all(d is not None and d.kind == "disclose" for d in decisions)

    by_department: dict[str, bool] = {}
    on_capture: dict[tuple[str, int], set[str]] = {}
    for record in review.records:
        by_department[record.record_id] = by_department.get(record.record_id, True) and record.by_department
        on_capture.setdefault((record.pointer.file, record.pointer.offset), set()).add(record.record_id)
    located: set[tuple[str, int]] = set()

    def checked(key: tuple[str, int]) -> Callable[[bytes], bool]:
        # a record not known to be the department's counts as a third party's
        third_party = not all(by_department.get(rid, False) for rid in inputs.co_captured.get(key, frozenset()) | on_capture[key])

        def flag(content: bytes) -> bool:
            if third_party and carries_location(content):
                located.add(key)
            return severed(content)
        return flag

    for record in review.records:
        key = (record.pointer.file, record.pointer.offset)
        if key not in captures:
            # only a capture whose every record (in the whole dataset) is disclosed whole may go
            # to the applicant as it is, and then only if no severed string occurs in it, nor a
            # third party's location data, which the renderings never show
            captures[key] = inputs.source.capture(record.pointer, flag=checked(key) if disclosed(key) else None)
        for item in record.media:
            if item.pointer is not None and (item.pointer.file, item.pointer.offset) not in media:
                media[(item.pointer.file, item.pointer.offset)] = inputs.source.member(item.pointer)
    whole = {key for key, cap in captures.items() if disclosed(key) and key not in located and not any(m.flagged for m in (cap.response, cap.request) if m is not None)}
    return _Evidence(captures, media, whole, located)


def _members(evidence: _Evidence, keys: set[tuple[str, int]], media_keys: set[tuple[str, int]], source: WarcSource) -> list[Member]:
    """warcinfo, requests, responses and media of ``keys``, file by file in file order."""
    by_file: dict[str, dict[int, Member]] = {}
    for key in keys:
        cap = evidence.captures[key]
        for m in (cap.warcinfo, cap.request, cap.response):
            if m is not None:
                by_file.setdefault(m.pointer.file, {})[m.pointer.offset] = m
    for key in media_keys:
        m = evidence.media[key]
        by_file.setdefault(m.pointer.file, {})[m.pointer.offset] = m
        info = source.warcinfo(m.pointer.file)
        if info is not None:
            by_file[m.pointer.file][info.pointer.offset] = info
    return [by_file[f][o] for f in sorted(by_file) for o in sorted(by_file[f])]


class _Writer:
    """Writes one copy's payload under ``bag/data``, remembering what each file is."""

    def __init__(self, bag: Path) -> None:
        self.data = bag / "data"
        self.data.mkdir(parents=True, exist_ok=True)
        self.contents: list[tuple[str, str]] = []

    def put(self, rel: str, data: bytes, what: str) -> Path:
        path = self.data / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.contents.append((rel, what))
        return path


def _chain_note(inputs: PackageInputs) -> str:
    return (
        "Each record was captured from the platform's API by the harvester named in its capture chain, stored as the WARC "
        "request and response records of that call (ISO 28500, SHA-256 digests), extracted into the record dataset, reviewed "
        f"for request {inputs.review.request.registration_number}, and rendered by {SOFTWARE}. Platform and archive are described "
        "as one chain of devices (BSA s.63(3)(e))."
    )


def _write_copy(
    inputs: PackageInputs, copy: Copy, bag: Path, masker: Masker, evidence: _Evidence, extra: Mapping[str, Path], threads: list[ThreadView], pdf: Future[None] | None
) -> tuple[_Writer, int]:
    review, request = inputs.review, inputs.review.request
    on = inputs.created_at.astimezone(IST).date()
    out = _Writer(bag)
    for thread in threads:
        out.put(f"threads/{thread.title}.html", render.render_thread(thread, request, copy, on).encode("utf-8"), f"thread {thread.title} as it appeared")
    rows = record_rows(threads, copy)
    out.put("records/records.csv", write_csv(rows, copy), "the records, one row per captured version (CSV)")
    meta = {"request": request.registration_number, "public_authority": request.public_authority, "copy": copy, "generated_by": SOFTWARE,
            "generated_at": inputs.created_at.astimezone(timezone.utc).isoformat()}
    out.put("records/records.json", write_json(rows, meta), "the same records (JSON)")
    log_rows = redaction_log_rows(threads, copy)
    out.put("redactions.csv", _csv(log_rows, _LOG_COLUMNS), "every severance and withholding with its clause" + (" and text" if copy == "internal" else ""))
    if copy == "internal":
        decisions = [
            {"record_id": d.record_id, "kind": d.kind, "clauses": list(d.clauses), "reasons": d.reasons, "decided_by": d.decided_by,
             "override": None if d.override is None else {"clauses": list(d.override.clauses), "reasons": d.override.reasons,
                                                          "recorded_by": d.override.recorded_by, "recorded_at": d.override.recorded_at.isoformat()},
             "redactions": [{"version_id": r.version_id, "field": r.field, "start": r.start, "end": r.end, "text": r.text, "clause": r.clause,
                             "origin": r.origin, "kind": r.kind, "reason": r.reason} for r in d.redactions],
             "rejected": [{"version_id": r.version_id, "field": r.field, "start": r.start, "end": r.end, "kind": r.kind, "reason": r.reason} for r in d.rejected]}
            for d in review.decisions.values()
        ]
        out.put("review/decisions.json", json.dumps(decisions, ensure_ascii=False, indent=1).encode("utf-8"), "the review: every decision, redaction and rejected suggestion")
    if inputs.letter is not None:
        out.put(f"letter/{Path(inputs.letter.name).name}", inputs.letter.content, "the decision letter")
    for rel, path in extra.items():
        target = out.data / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        out.contents.append((rel, "the applicant's copy exactly as supplied (ZIP)"))
    # the WACZ
    keys = set(evidence.whole) if copy == "applicant" else set(evidence.captures)
    media_keys = {
        (m.pointer.file, m.pointer.offset) for r in review.records for m in r.media
        if m.pointer is not None and (copy == "internal" or review.decisions[r.record_id].kind == "disclose")
    }
    members = _members(evidence, keys, media_keys, inputs.source)
    in_wacz: dict[tuple[str, int], int] = {}
    wacz_digest = ""
    if keys:
        wacz_path = out.data / "archive" / f"{bag.parent.name}-{copy}.wacz"
        wacz_path.parent.mkdir(parents=True)
        entries = write_wacz(wacz_path, members, inputs.source, title=f"RTI {request.registration_number} ({copy} copy)", created_at=inputs.created_at, software=SOFTWARE)
        in_wacz = {(e.member.pointer.file, e.member.pointer.offset): e.offset for e in entries}
        wacz_digest = sha256_file(wacz_path)
        out.contents.append((f"archive/{wacz_path.name}", f"WACZ 1.1.1 of {len(keys)} capture(s), the original WARC records byte for byte"))
    if pdf is not None:
        try:
            pdf.result()  # written meanwhile by another process (or already, for a small request)
        except BrokenProcessPool as exc:
            raise DisclosureError(
                f"request {request.registration_number}: the process writing threads.pdf ended abruptly ({exc}); nothing was "
                "published. It is usually killed for want of memory: free some, then package again.",
                rule="R18",
            ) from exc
        out.contents.append(("threads.pdf", "every thread, the certified copy (PDF)"))
    # the hash report and the capture chain
    hash_rows: list[dict[str, Any]] = []
    def shown(value: str) -> str:
        """A value as this copy may show it: in the applicant's, severed strings boxed, also
        where a URL encodes them."""
        if copy != "applicant":
            return value
        decoded = unquote_plus(value) if "%" in value else value
        return masker.mask(decoded) if masker.found_in(decoded) else value

    listed = sorted({(m.pointer.file, m.pointer.offset): m for cap_key in evidence.captures if copy == "internal" or cap_key in keys
                     for m in (evidence.captures[cap_key].request, evidence.captures[cap_key].response) if m is not None}.items())
    listed += sorted((k, evidence.media[k]) for k in media_keys)
    for (file, offset), m in listed:
        hash_rows.append({"kind": "warc record", "name": file, "offset": offset, "length": m.pointer.length, "record_type": m.rec_type,
                          "warc_record_id": m.record_id, "target_uri": shown(m.target_uri or ""), "sha256": m.sha256,
                          "block_sha256": m.block_sha256, "payload_sha256": m.payload_sha256, "in_wacz_offset": in_wacz.get((file, offset), "")})
    for file in sorted({f for f, _ in evidence.captures} | {f for f, _ in media_keys}):
        hash_rows.append({"kind": "warc file (the evidence)", "name": file, "sha256": inputs.source.file_sha256(file)})
    if wacz_digest:
        hash_rows.append({"kind": "wacz", "name": f"archive/{bag.parent.name}-{copy}.wacz", "sha256": wacz_digest})
    for rel, _ in out.contents:
        if not rel.startswith("archive/"):
            hash_rows.append({"kind": "package file", "name": rel, "sha256": sha256_file(out.data / rel)})
    chain_rows = []
    items_on: dict[tuple[str, int], list[str]] = {}
    shown_on: set[tuple[str, int]] = set()  # captures with a record this copy shows
    for thread in threads:
        for item in thread.items:
            key = (item.record.pointer.file, item.record.pointer.offset)
            items_on.setdefault(key, []).append(item.item)
            if not item.withheld:
                shown_on.add(key)
    processing = f"harvest -> WARC (ISO 28500) -> record dataset (schema v1) -> review -> {SOFTWARE} package"
    for key, cap in sorted(evidence.captures.items()):
        if key not in shown_on:
            continue
        chain = {k: shown(v) for k, v in cap.chain().items()}
        chain_rows.append({**chain, "items": " ".join(items_on.get(key, [])), "in_wacz": "yes" if key in in_wacz else LOCATION_REASON if copy == "applicant" and key in evidence.located else "no", "processing_chain": processing})
    out.put("certificate/hash-report.csv", _csv(hash_rows, _HASH_COLUMNS), "the hash report: SHA-256 of every WARC record and file, and of every file of this package")
    out.put("certificate/capture-chain.csv", _csv(chain_rows, _CHAIN_COLUMNS), "the capture chain of every capture: origin, times UTC and IST, harvester")
    covered = [(i.item, i.value("record_id"), i.value("url")) for t in threads for i in t.items if not i.withheld]
    digest_of = f"archive/{bag.parent.name}-{copy}.wacz" if wacz_digest else ("threads.pdf" if copy == "applicant" else "records/records.json")
    digest = wacz_digest or sha256_file(out.data / digest_of)
    certificate = render_certificate(inputs.certificate, registration_number=request.registration_number, records=covered, digest=digest,
                                     digest_of=digest_of, chain_note=_chain_note(inputs), generated_at=inputs.created_at)
    law = law_for(inputs.certificate.proceeding_commenced_on)
    out.put("certificate/certificate.html", certificate.encode("utf-8"), f"the certificate for electronic records ({law})")
    out.put("index.html", render.render_index(threads, request, copy, out.contents).encode("utf-8"), "this page")
    return out, len(keys)


def _leak_guard(bag: Path, masker: Masker) -> None:
    for path in sorted(p for p in bag.rglob("*") if p.is_file() and p.name.endswith(_TEXT_SUFFIXES)):
        hits = masker.hits(_readable(path.read_bytes()))  # one pass of the automaton per file
        if hits:
            raise RedactionLeak(
                f"{path.relative_to(bag)} of the applicant's copy still holds a severed string (at character {hits[0][0]}, "
                f"severed under s.{hits[0][2]}). Nothing was published. Remove it from the input (the decision letter is "
                "copied as given), then package again.",
                rule="RTI s.10(1)",
            )


def _readme(copy: Copy, fingerprint: str) -> bytes:
    return (
        f"Sangrah disclosure package ({copy} copy)\n\n"
        "This folder is a BagIt bag (RFC 8493). data/ holds the payload; manifest-sha256.txt lists the SHA-256 of every\n"
        "payload file; tagmanifest-sha256.txt lists the SHA-256 of the other files; tagmanifest-sha256.txt.sig is an\n"
        "Ed25519 signature of tagmanifest-sha256.txt by the department's key.\n\n"
        "To check it, with Python 3.8 or newer and nothing else:\n\n"
        "    python3 verify/verify_package.py\n\n"
        "It re-hashes every file and checks the signature with the 'cryptography' package if installed, else with\n"
        "OpenSSL 3:\n\n"
        "    openssl pkeyutl -verify -pubin -inkey verify/public-key.pem -rawin \\\n"
        "        -in tagmanifest-sha256.txt -sigfile tagmanifest-sha256.txt.sig\n\n"
        f"The key that signed this package has the fingerprint (SHA-256 of the raw Ed25519 key)\n\n    {fingerprint}\n\n"
        "Compare it with the fingerprint the public authority publishes: a key inside a package proves nothing alone.\n"
        "Open data/index.html for what the package holds.\n"
    ).encode("utf-8")


def _certificate_warnings(certificate: CertificateInputs) -> list[str]:
    """What keeps the certificate from being signed as it stands, or what it leaves out."""
    if law_for(certificate.proceeding_commenced_on) == "IEA s.65B":
        return ["the proceeding began before 01/07/2024: the certificate is under IEA s.65B, which has no Part B, so the expert named is not in it"] if certificate.expert else []
    warnings = [f"the certificate lacks the Schedule's {key.replace('_', ' ')}: it is marked not ready to sign" for key in missing_schedule_text(certificate.schedule)]
    if certificate.expert is None:
        warnings.append("the certificate's Part B names no expert: it is marked not ready to sign; name one in disclosure.expert or with sangrah rti package --expert")
    return warnings


def build_package(inputs: PackageInputs, out_dir: Path) -> PackageResult:
    """Build and publish the package of ``inputs.review`` under ``out_dir``; see the module doc."""
    review = inputs.review
    require_complete(review)
    masker = masker_for(review.decisions.values(), review.records)
    schedule = inputs.certificate.schedule or load_schedule_text()
    if not inputs.certificate.schedule:
        inputs = PackageInputs(**{**vars(inputs), "certificate": CertificateInputs(**{**vars(inputs.certificate), "schedule": schedule})})
    warnings = _certificate_warnings(inputs.certificate)
    name = package_name(review.request.registration_number, inputs.created_at)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    final = out_dir / name
    if final.exists():
        raise FileExistsError(f"{final} already exists; a published package is never overwritten")
    work = out_dir / f".partial-{name}-{secrets.token_hex(4)}"
    work.mkdir()
    on = inputs.created_at.astimezone(IST).date()
    copies: tuple[Copy, Copy] = ("applicant", "internal")
    views = {copy: build_views(review, copy, masker) for copy in copies}
    pool = ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) if len(review.records) >= PDF_PROCESS_RECORDS else None
    try:
        # the PDF is the slowest part: written by a second process while this one does the rest
        pdf_path = work / name / "applicant" / "data" / "threads.pdf"
        pdf_path.parent.mkdir(parents=True)
        pdf: Future[None] = pool.submit(write_pdf, pdf_path, views["applicant"], review.request, on) if pool else _done(write_pdf, pdf_path, views["applicant"], review.request, on)
        evidence = _gather(inputs, masker)
        verifier_source = (Path(__file__).parent / "verifier.py").read_bytes()
        built: dict[str, BuiltCopy] = {}
        for copy in copies:
            bag = work / name / copy
            bag.mkdir(parents=True, exist_ok=True)
            extra = {f"applicant-copy/{name}-applicant.zip": built["applicant"].zip_path} if copy == "internal" else {}
            writer, captured = _write_copy(inputs, copy, bag, masker, evidence, extra, views.pop(copy), pdf if copy == "applicant" else None)
            if copy == "applicant":
                _leak_guard(bag, masker)
            info = {
                "Source-Organization": review.request.public_authority,
                "External-Identifier": f"RTI {review.request.registration_number}",
                "External-Description": f"{copy} copy of the records disclosed in reply to RTI {review.request.registration_number}",
                "Bag-Software-Agent": SOFTWARE,
                "Bag-Group-Identifier": name,
            }
            tags = {"verify/verify_package.py": verifier_source, "verify/README.txt": _readme(copy, inputs.signing_key.fingerprint), PUBLIC_KEY: inputs.signing_key.public_pem}
            tag_sha = finish_bag(bag, info, tags, inputs.signing_key, bagged_at=inputs.created_at.astimezone(IST))
            zip_path = work / name / f"{name}-{copy}.zip"
            zip_sha = zip_bag(bag, zip_path)
            # the work directory's ZIP until publication: the internal copy embeds the applicant's
            built[copy] = BuiltCopy(copy, final / copy, zip_path, zip_sha, tag_sha, len(writer.contents), captured)
        published = {c: BuiltCopy(**{**vars(b), "zip_path": final / b.zip_path.name}) for c, b in built.items()}
        os.replace(work / name, final)
        fsync_dir(out_dir)
    except BaseException:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(work, ignore_errors=True)
        raise
    if pool is not None:
        pool.shutdown(wait=True)
    shutil.rmtree(work, ignore_errors=True)
    log.info("package published request=%s folder=%s applicant_captures=%s", review.request.registration_number, final, published["applicant"].captures_in_wacz)
    return PackageResult(final, published["applicant"], published["internal"], inputs.signing_key.fingerprint, tuple(masker.strings), tuple(warnings))

