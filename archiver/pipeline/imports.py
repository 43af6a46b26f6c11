"""Import step: account exports (an X archive, a Facebook download) into WARC resource records."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from archiver.capture.writer import ClosedWarc, WarcWriter
from archiver.config import Config
from archiver.errors import CatalogError
from archiver.pipeline.capture import Publisher, catalog_failure_names, open_catalog, open_store, run_staging

__all__ = ["ImportReport", "import_export"]


@dataclass(slots=True)
class ImportReport:
    kind: str
    account: str
    source: str
    source_sha256: str
    members: list[dict[str, Any]] = field(default_factory=list)
    posts: int = 0
    earliest: datetime | None = None
    latest: datetime | None = None
    published: list[ClosedWarc] = field(default_factory=list)


def import_export(config: Config, *, kind: str, path: Path, account_key: str, again: bool = False) -> ImportReport:
    """Store an account export (an X archive, a Facebook download) as WARC resource records.

    Every member file that holds posts is parsed first (so a damaged export is refused before
    anything is written), then stored byte for byte as a ``resource`` record, with one
    ``metadata`` record describing the export: its file name, SHA-256, members and date range.
    """
    with catalog_failure_names(f"sangrah import {kind} {path} --account {account_key}"):
        return _import_export(config, kind=kind, path=path, account_key=account_key, again=again)


def _import_export(config: Config, *, kind: str, path: Path, account_key: str, again: bool) -> ImportReport:
    import hashlib
    import zipfile

    from archiver.errors import ArchiverError as _Error
    from archiver.platforms.exports import EXPORT_KINDS, is_facebook_export_member, is_x_archive_member, parse_member

    if kind not in EXPORT_KINDS:
        raise _Error(f"unknown export kind {kind!r}; known: {', '.join(EXPORT_KINDS)}")
    catalog = open_catalog(config)
    store = open_store(config)
    operator = config.operator_name
    try:
        row = catalog.get_account(account_key)
        if row is None:
            raise CatalogError(f"no account {account_key} is registered; add it first: sangrah accounts add {EXPORT_KINDS[kind]} ID --handle HANDLE")
        if row.platform != EXPORT_KINDS[kind]:
            raise _Error(f"{path.name} is a {kind}, which belongs to {EXPORT_KINDS[kind]}, but {account_key} is a {row.platform} account.")
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        source_sha256 = digest.hexdigest()
        earlier = [e for e in catalog.audit_entries(action="import_export") if (e["details"] or {}).get("source_sha256") == source_sha256]
        if earlier and not again:
            raise _Error(
                f"{path.name} (SHA-256 {source_sha256[:16]}…) was already imported on {earlier[0]['at']:%Y-%m-%d %H:%M} UTC. "
                "Importing it again would store a second copy; add --again if that is what you want."
            )
        try:
            archive = zipfile.ZipFile(path)
        except (OSError, zipfile.BadZipFile) as exc:
            raise _Error(f"{path}: not a readable zip file ({exc}). Give the zip as downloaded from the platform, unchanged.") from exc
        wanted = is_x_archive_member if kind == "x-archive" else is_facebook_export_member
        report = ImportReport(kind=kind, account=account_key, source=path.name, source_sha256=source_sha256)
        with archive:
            names = [n for n in archive.namelist() if wanted(n)]
            if not names:
                expected = "data/tweets.js" if kind == "x-archive" else "posts/…posts….json"
                raise _Error(f"{path.name}: no {expected} inside; is this the {kind} zip as the platform delivered it?")
            parsed: list[tuple[str, bytes, int]] = []
            for name in names:
                body = archive.read(name)
                posts = parse_member(kind, name, body, row.native_id, row.handle)
                for post in posts:
                    if post.created_at is not None:
                        report.earliest = post.created_at if report.earliest is None else min(report.earliest, post.created_at)
                        report.latest = post.created_at if report.latest is None else max(report.latest, post.created_at)
                report.posts += len(posts)
                parsed.append((name, body, len(posts)))
            harvest_id = f"import-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
            publisher = Publisher(catalog, store, harvest_id, operator)
            now = datetime.now(timezone.utc)
            with run_staging(config, harvest_id) as staging_dir, WarcWriter(
                staging_dir,
                prefix="sangrah-import",
                max_file_bytes=config.harvest.max_file_bytes,
                warcinfo={"operator": operator, "hostname": config.host_name, "harvest-id": harvest_id, "isPartOf": "sangrah", "description": f"{kind} import of {path.name}"},
                on_close=publisher,
            ) as writer:
                for name, body, count in parsed:
                    content_type = "application/javascript" if name.endswith(".js") else "application/json"
                    written = writer.write_resource(
                        uri=f"urn:sangrah:export:{kind}:{source_sha256}/{name}",
                        content_type=content_type,
                        body=body,
                        created_at=now,
                    )
                    report.members.append({"name": name, "bytes": len(body), "sha256": hashlib.sha256(body).hexdigest(), "records": count, "warc_record_id": written.record_id})
                writer.write_metadata(
                    uri=f"urn:sangrah:export:{kind}:{source_sha256}",
                    created_at=now,
                    fields={
                        "type": "account-export",
                        "kind": kind,
                        "account": account_key,
                        "source_file": path.name,
                        "source_sha256": source_sha256,
                        "source_bytes": path.stat().st_size,
                        "members": report.members,
                        "posts": report.posts,
                        "earliest": report.earliest.isoformat() if report.earliest else None,
                        "latest": report.latest.isoformat() if report.latest else None,
                        "imported_by": operator,
                        "coverage": {"complete": None, "note": "an export holds what the platform put in it; it says nothing of what it left out"},
                    },
                )
        report.published = publisher.published
        catalog.audit(actor=operator, action="import_export", target=account_key, outcome="ok", details={"kind": kind, "source": path.name, "source_sha256": source_sha256, "posts": report.posts, "warc_files": [w.name for w in report.published]})
        return report
    finally:
        catalog.close()
