"""Where each media file of a WARC file is stored: its media index, kept on disk, not in memory.

A post's media may be stored after it in the file, chunks later, so a row's media pointers can
only be filled in once the whole file has been looked through. ``write_media_index`` does that in
one quick pass (only the heads of media responses are parsed) and writes every media URL with
the pointer and record id of its response to a small SQLite file; if a URL was stored twice, the
last copy is the one kept. ``MediaIndex`` looks a chunk's URLs up in it, and ``with_media_pointers``
writes the pointers into a table's ``media`` column. Memory stays the same whatever the size of
the file: the index is on disk, and only one chunk's URLs are looked up at a time.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from archiver.capture.reader import iter_records
from archiver.errors import CaptureError
from archiver.model import WarcPointer

__all__ = ["MediaIndex", "write_media_index", "with_media_pointers"]

#: rows written to the index per statement
_WRITE_BATCH = 5_000
#: URLs looked up per query (well under SQLite's limit of bound parameters)
_LOOKUP_BATCH = 500
#: the media struct's fields that hold the pointer of the stored file
_POINTER_FIELDS = ("warc_file", "warc_offset", "warc_length", "warc_record_id")


def write_media_index(warc: Path, index: Path) -> int:
    """Write the index of every media file stored in ``warc`` to ``index``; the number of entries.

    Media after a damaged gzip member get no pointer: the extraction's own pass over the file
    names the damage.
    """
    db = sqlite3.connect(index)
    try:
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("PRAGMA synchronous=OFF")
        db.execute("CREATE TABLE media (url TEXT PRIMARY KEY, offset INTEGER NOT NULL, length INTEGER NOT NULL, record_id TEXT NOT NULL)")
        entries: list[tuple[str, int, int, str]] = []
        try:
            for record in iter_records(warc, head_contains=(b"response", b"_media")):
                if record.rec_type == "response" and record.header("X-Sangrah-Endpoint") == "_media" and record.http_status == 200:
                    entries.append((record.target_uri or "", record.pointer.offset, record.pointer.length, record.record_id or ""))
                    if len(entries) >= _WRITE_BATCH:
                        db.executemany("INSERT OR REPLACE INTO media VALUES (?, ?, ?, ?)", entries)
                        entries.clear()
        except CaptureError:
            pass
        db.executemany("INSERT OR REPLACE INTO media VALUES (?, ?, ?, ?)", entries)
        db.commit()
        return int(db.execute("SELECT count(*) FROM media").fetchone()[0])
    finally:
        db.close()


class MediaIndex:
    """The media index of one WARC file, written by ``write_media_index``."""

    def __init__(self, warc_name: str, index: Path) -> None:
        self.warc_name = warc_name
        self.db = sqlite3.connect(f"file:{index}?mode=ro", uri=True)

    def close(self) -> None:
        self.db.close()

    def look_up(self, urls: Iterable[str]) -> dict[str, tuple[WarcPointer, str]]:
        """URL → (pointer, record id) of those of ``urls`` whose file this WARC file stores."""
        found: dict[str, tuple[WarcPointer, str]] = {}
        wanted = sorted(set(urls))
        for start in range(0, len(wanted), _LOOKUP_BATCH):
            batch = wanted[start : start + _LOOKUP_BATCH]
            query = f"SELECT url, offset, length, record_id FROM media WHERE url IN ({','.join('?' * len(batch))})"
            for url, offset, length, record_id in self.db.execute(query, batch):
                found[url] = (WarcPointer(self.warc_name, offset, length), record_id)
        return found


def with_media_pointers(tables: list[pa.Table], index: MediaIndex) -> list[pa.Table]:
    """The tables with the pointer of every media file the index knows written into ``media``
    (the URLs of all of them looked up at once)."""
    media = [table.column("media").combine_chunks() for table in tables]
    items = [column.flatten() for column in media]  # every row's media structs, one after another
    urls = [[url or "" for url in item.field("url").to_pylist()] for item in items]
    found = index.look_up(url for some in urls for url in some)
    if not found:
        return tables
    return [_filled(table, column, item, some, found) for table, column, item, some in zip(tables, media, items, urls)]


def _filled(table: pa.Table, media: pa.ListArray, items: pa.StructArray, urls: list[str], found: dict[str, tuple[WarcPointer, str]]) -> pa.Table:
    stored = [found.get(url) for url in urls]
    if not any(stored):
        return table
    pointers = {
        "warc_file": pa.array([s[0].file if s else None for s in stored], pa.string()),
        "warc_offset": pa.array([s[0].offset if s else None for s in stored], pa.int64()),
        "warc_length": pa.array([s[0].length if s else None for s in stored], pa.int64()),
        "warc_record_id": pa.array([s[1] if s else None for s in stored], pa.string()),
    }
    item_type = media.type.value_type
    fields = [pointers[f.name] if f.name in _POINTER_FIELDS else items.field(f.name) for f in item_type]
    filled = pa.StructArray.from_arrays(fields, fields=list(item_type))
    # media lists are never null (a post without media has an empty one), nor are their items
    offsets = pc.subtract(media.offsets, media.offsets[0])
    column = pa.ListArray.from_arrays(offsets, filled, type=media.type)
    return table.set_column(table.schema.get_field_index("media"), table.schema.field("media"), column)
