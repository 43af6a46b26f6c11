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

import orjson

from archiver.errors import CaptureError
from archiver.rti.package.evidence import Member, WarcSource

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
    rec = entry.member
    if rec.rec_type not in ("response", "request", "resource", "revisit") or not rec.target_uri:
        return None
    data: dict[str, str] = {"url": rec.target_uri}
    if rec.rec_type == "response":
        data["mime"] = rec.mime or "unk"
        data["status"] = str(rec.http_status or "")
    elif rec.rec_type == "request":
        data["mime"] = "-"
        data["method"] = rec.http_method or "GET"
    if rec.digest:
        data["digest"] = rec.digest
    data.update(length=str(rec.pointer.length), offset=str(entry.offset), filename=WARC_NAME)
    key = surt(rec.target_uri)
    if rec.rec_type == "request":
        return f"{key} {_timestamp(rec.date)} {orjson.dumps({'recordType': 'request', **data}).decode()}"
    return f"{key} {_timestamp(rec.date)} {orjson.dumps(data).decode()}"


def _resource(name: str, path: str, data: bytes) -> dict[str, object]:
    return {"name": name, "path": path, "hash": "sha256:" + hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def write_wacz(path: Path, members: Iterable[Member], source: WarcSource, *, title: str, created_at: datetime, software: str) -> list[WaczEntry]:
    """Write the WACZ at ``path`` and return where each record went in its WARC. The records'
    bytes are streamed from ``source`` into the WARC and on into the ZIP, one at a time."""
    entries: list[WaczEntry] = []
    warc_path = path.with_name(path.name + ".warc.part")
    warc_digest = hashlib.sha256()
    size = 0
    try:
        with open(warc_path, "wb") as warc:
            for member in members:
                raw = source.raw(member.pointer)
                if hashlib.sha256(raw).hexdigest() != member.sha256:
                    raise CaptureError(
                        f"{member.pointer.file} at offset {member.pointer.offset}: the record changed while the package was built; "
                        "check the file with `sangrah verify`, then package again.",
                        warc_file=member.pointer.file,
                        offset=member.pointer.offset,
                    )
                entries.append(WaczEntry(member, size))
                warc.write(raw)
                warc_digest.update(raw)
                size += len(raw)
        lines = sorted(filter(None, (_cdxj_line(e) for e in entries)))
        index = ("\n".join(lines) + "\n").encode("utf-8") if lines else b""
        pages = [orjson.dumps({"format": "json-pages-1.0", "id": "pages", "title": title}).decode()]
        for e in entries:
            rec = e.member
            if rec.rec_type == "response" and rec.target_uri:
                pages.append(orjson.dumps({
                    "id": hashlib.sha256(rec.record_id.encode()).hexdigest()[:24], "url": rec.target_uri,
                    "ts": (rec.date or created_at).strftime("%Y-%m-%dT%H:%M:%SZ"), "title": f"{rec.platform} {rec.endpoint or 'capture'}".strip(),
                }).decode())
        pages_data = ("\n".join(pages) + "\n").encode("utf-8")
        package: dict[str, object] = {
            "profile": "data-package",
            "wacz_version": "1.1.1",
            "title": title,
            "created": created_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "software": software,
            "resources": [
                _resource("pages.jsonl", "pages/pages.jsonl", pages_data),
                _resource("index.cdx", "indexes/index.cdx", index),
                {"name": WARC_NAME, "path": f"archive/{WARC_NAME}", "hash": "sha256:" + warc_digest.hexdigest(), "bytes": size},
            ],
        }
        if len(pages) > 1:
            first = json.loads(pages[1])
            package["mainPageUrl"], package["mainPageDate"] = first["url"], first["ts"]
        package_data = json.dumps(package, indent=1, ensure_ascii=False).encode("utf-8")
        digest = json.dumps({"path": "datapackage.json", "hash": "sha256:" + hashlib.sha256(package_data).hexdigest()}).encode("utf-8")
        stamp = created_at.astimezone(timezone.utc).timetuple()[:6]
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
            info = zipfile.ZipInfo(f"archive/{WARC_NAME}", date_time=stamp)
            with open(warc_path, "rb") as src, zf.open(info, "w") as dst:
                while chunk := src.read(1 << 20):
                    dst.write(chunk)
            for name, data in (("indexes/index.cdx", index), ("pages/pages.jsonl", pages_data), ("datapackage.json", package_data), ("datapackage-digest.json", digest)):
                zf.writestr(zipfile.ZipInfo(name, date_time=stamp), data)
    finally:
        warc_path.unlink(missing_ok=True)
    return entries
