"""A WACZ 1.1.1 of the disclosed captures, their WARC records copied byte for byte.

The WARC inside (``archive/data.warc.gz``) is the gzip members of the original records,
concatenated exactly as they are stored: each file's warcinfo record, then the request and
response of each capture and the stored media, in file order. Their digests, record ids and
dates are therefore the ones captured, and their SHA-256 values in the hash report are those of
the evidence. Beside it: ``indexes/index.cdx`` (CDXJ, sorted), ``pages/pages.jsonl`` (one page
per response), ``datapackage.json`` (every file with its SHA-256 and size) and
``datapackage-digest.json`` (the hash of that), all stored uncompressed in the ZIP as the
specification asks of the WARC files.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

from archiver.rti.package.evidence import Member

__all__ = ["WaczEntry", "surt", "write_wacz"]

WARC_NAME = "data.warc.gz"


@dataclass(frozen=True, slots=True)
class WaczEntry:
    """One record to copy into the WACZ, with its offset there."""

    member: Member
    offset: int


def surt(url: str) -> str:
    """The sort-friendly URI key of a URL, as CDXJ indexes use (host reversed, ``www`` dropped,
    query arguments sorted, lower case)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host.startswith("www."):
        host = host[4:]
    if host.replace(".", "").isdigit():
        key_host = host
    else:
        key_host = ",".join(reversed(host.split(".")))
    if parts.port and parts.port not in (80, 443):
        key_host += f":{parts.port}"
    query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))
    path = parts.path or "/"
    return f"{key_host})" + path.lower() + (f"?{query.lower()}" if query else "")


def _timestamp(when: datetime | None) -> str:
    return (when or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime("%Y%m%d%H%M%S")


def _cdxj_line(entry: WaczEntry) -> str | None:
    rec = entry.member.record
    if rec.rec_type not in ("response", "request", "resource", "revisit") or not rec.target_uri:
        return None
    data: dict[str, str] = {"url": rec.target_uri}
    if rec.rec_type == "response":
        mime = next((v for k, v in rec.http_headers if k.lower() == "content-type"), "")
        data["mime"] = mime.split(";")[0].strip() or "unk"
        data["status"] = str(rec.http_status or "")
    elif rec.rec_type == "request":
        data["mime"] = "-"
        data["method"] = (rec.http_line or "GET").split(" ", 1)[0]
    payload = rec.header("WARC-Payload-Digest") or rec.header("WARC-Block-Digest")
    if payload:
        data["digest"] = payload
    data.update(length=str(entry.member.pointer.length), offset=str(entry.offset), filename=WARC_NAME)
    key = surt(rec.target_uri)
    if rec.rec_type == "request":
        key += " " + _timestamp(rec.date)
        return f"{key} {json.dumps({'recordType': 'request', **data}, sort_keys=False)}"
    return f"{key} {_timestamp(rec.date)} {json.dumps(data, sort_keys=False)}"


def _resource(name: str, path: str, data: bytes) -> dict[str, object]:
    return {"name": name, "path": path, "hash": "sha256:" + hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def write_wacz(path: Path, members: Iterable[Member], *, title: str, created_at: datetime, software: str) -> list[WaczEntry]:
    """Write the WACZ at ``path`` and return where each record went in its WARC."""
    entries: list[WaczEntry] = []
    warc = bytearray()
    for member in members:
        entries.append(WaczEntry(member, len(warc)))
        warc += member.raw
    lines = sorted(filter(None, (_cdxj_line(e) for e in entries)))
    index = ("\n".join(lines) + "\n").encode("utf-8") if lines else b""
    pages = [json.dumps({"format": "json-pages-1.0", "id": "pages", "title": title}, ensure_ascii=False)]
    for e in entries:
        rec = e.member.record
        if rec.rec_type == "response" and rec.target_uri:
            endpoint = rec.header("X-Sangrah-Endpoint") or "capture"
            pages.append(json.dumps({
                "id": hashlib.sha256(rec.record_id.encode()).hexdigest()[:24], "url": rec.target_uri,
                "ts": (rec.date or created_at).strftime("%Y-%m-%dT%H:%M:%SZ"), "title": f"{rec.header('X-Sangrah-Platform') or ''} {endpoint}".strip(),
            }, ensure_ascii=False))
    pages_data = ("\n".join(pages) + "\n").encode("utf-8")
    warc_data = bytes(warc)
    package = {
        "profile": "data-package",
        "wacz_version": "1.1.1",
        "title": title,
        "created": created_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "software": software,
        "resources": [
            _resource("pages.jsonl", "pages/pages.jsonl", pages_data),
            _resource("index.cdx", "indexes/index.cdx", index),
            _resource(WARC_NAME, f"archive/{WARC_NAME}", warc_data),
        ],
    }
    if len(pages) > 1:
        first = json.loads(pages[1])
        package["mainPageUrl"], package["mainPageDate"] = first["url"], first["ts"]
    package_data = json.dumps(package, indent=1, ensure_ascii=False).encode("utf-8")
    digest = json.dumps({"path": "datapackage.json", "hash": "sha256:" + hashlib.sha256(package_data).hexdigest()}).encode("utf-8")
    stamp = created_at.astimezone(timezone.utc).timetuple()[:6]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, data in (
            (f"archive/{WARC_NAME}", warc_data), ("indexes/index.cdx", index), ("pages/pages.jsonl", pages_data),
            ("datapackage.json", package_data), ("datapackage-digest.json", digest),
        ):
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_STORED
            zf.writestr(info, data)
    return entries
