"""Read a request's records from the record dataset, threads expanded, with bounded memory.

The dataset (``docs/record-schema.md``) links each reply to its thread by ``root_id``; a thread's
first post has none (it is its own root). ``read_threads`` scans the dataset three times, each
time reading only the columns it needs, file by file and batch by batch, so memory follows the
size of the request, never the size of the archive:

1. ``record_id`` and ``root_id`` of every row: the threads of the records asked for;
2. every column of the rows in those threads: every captured version of each record;
3. ``record_id`` and the WARC pointer of every row: which other records share a capture (an API
   page holds many posts), so that a capture is only given whole when all it holds is disclosed.

Each Parquet file is read on its own (``pyarrow.parquet``, no read-ahead, no threads), not through
a ``pyarrow.dataset`` scanner, and Arrow's memory pool hands back what it freed after each file:
measured on the benchmark archives, the scanner's resident memory kept growing as it went through
the rows (by some 40 MiB over one pass of a 272,000-record archive, while Arrow never held more
than 8 MiB at a time), and so did the allocator's, file after file. Row group by row group, the
key columns are read first and the others only where a row is selected.

Usage::

    found = read_threads(config.records_dir, ["x:1994071213470646404"])
    found.records          # tuple of ReviewRecord, thread by thread, oldest first
    found.co_captured      # {(warc_file, offset): {record_id, ...}}
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from archiver.errors import DisclosureError
from archiver.rti.review import ReviewRecord

__all__ = ["ThreadRead", "read_threads"]

#: rows decoded at a time; a row group (up to 10,000 rows, ``ROW_GROUP_ROWS``) is read in a few batches
_BATCH_ROWS = 4_096
_EARLY = datetime(1970, 1, 1, tzinfo=timezone.utc)
#: columns ``ReviewRecord.from_row`` does not read and that cost the most to decode and to turn into
#: Python objects (a map and three lists); every other column of a file is read, so that a column
#: the review starts to use is there without a change here
_SKIPPED_COLUMNS = frozenset({"counters", "mentions", "hashtags", "links"})


@dataclass(frozen=True)
class ThreadRead:
    records: tuple[ReviewRecord, ...]
    #: every record id found on each capture the records came from, in the whole dataset
    co_captured: dict[tuple[str, int], frozenset[str]]
    #: record ids asked for that the dataset does not hold
    missing: tuple[str, ...]


def _files(records_dir: Path) -> list[str]:
    """The dataset's Parquet files, as ``pyarrow.dataset`` lists them (hidden and ``_`` files left out)."""
    if not Path(records_dir).is_dir():
        raise DisclosureError(
            f"{records_dir}: no record dataset there. Extract it first: sangrah extract",
            rule="record dataset",
        )
    return sorted(ds.dataset(records_dir, format="parquet", partitioning="hive").files)


def _batches(files: list[str], keys: list[str], keep: Callable[[pa.Table], pa.Array], columns: Sequence[str] | None) -> Iterator[pa.RecordBatch]:
    """The rows ``keep`` selects, file by file and row group by row group: ``keep`` is given the
    ``keys`` columns of a row group and returns its mask; only a row group with a row selected has
    its ``columns`` read (every column of the file but ``_SKIPPED_COLUMNS`` when None), a few
    thousand rows at a time, so that most of a large archive is never decoded whole."""
    for path in files:
        with pq.ParquetFile(path, pre_buffer=False) as parquet:
            names = parquet.schema_arrow.names
            present = [name for name in names if name not in _SKIPPED_COLUMNS] if columns is None else list(columns)
            for group in range(parquet.metadata.num_row_groups):
                table = parquet.read_row_group(group, columns=keys, use_threads=False)
                mask = keep(table)
                if not pc.any(mask).as_py():
                    continue
                if set(present) <= set(keys):
                    yield from table.filter(mask).select(present).to_batches()
                    continue
                start = 0
                for batch in parquet.iter_batches(batch_size=_BATCH_ROWS, row_groups=[group], columns=present, use_threads=False):
                    part = mask.slice(start, batch.num_rows)
                    start += batch.num_rows
                    if pc.any(part).as_py():
                        yield batch.filter(part)
        # Arrow's allocator (mimalloc) keeps what a file's decoding freed, and keeps more the more
        # rows it has been through: handed back after each file, the reading's peak stays level
        pa.default_memory_pool().release_unused()


def read_threads(records_dir: Path, record_ids: Iterable[str], *, expand: bool = True) -> ThreadRead:
    """Every version of ``record_ids`` (and, with ``expand``, of every record in their threads)."""
    files = _files(records_dir)
    wanted = pa.array(sorted(set(record_ids)), pa.string())
    roots: set[str] = set()
    found: set[str] = set()
    for batch in _batches(files, ["record_id", "root_id"], lambda t: pc.is_in(t.column("record_id"), wanted), ["record_id", "root_id"]):
        ids = batch.column("record_id").to_pylist()
        found.update(ids)
        for rid, root in zip(ids, batch.column("root_id").to_pylist()):
            roots.add(root or rid)
    missing = tuple(sorted(set(wanted.to_pylist()) - found))
    if expand:
        root_array = pa.array(sorted(roots), pa.string())

        def keep(t: pa.Table) -> pa.Array:
            return pc.or_(pc.is_in(t.column("record_id"), root_array), pc.is_in(t.column("root_id"), root_array))
    else:

        def keep(t: pa.Table) -> pa.Array:
            return pc.is_in(t.column("record_id"), wanted)

    records = [ReviewRecord.from_row(row) for batch in _batches(files, ["record_id", "root_id"], keep, None) for row in batch.to_pylist()]
    records.sort(key=lambda r: (r.thread_id, r.created_at or r.captured_at or _EARLY, r.record_id, r.captured_at))
    captures = {(r.pointer.file, r.pointer.offset) for r in records}
    co: dict[tuple[str, int], set[str]] = defaultdict(set)
    if captures:
        warc_files = pa.array(sorted({f for f, _ in captures}), pa.string())
        offsets = pa.array(sorted({o for _, o in captures}), pa.int64())

        # both filters in Arrow, the exact (file, offset) pairs here: few rows reach Python
        def on_captures(t: pa.Table) -> pa.Array:
            return pc.and_(pc.is_in(t.column("warc_file"), warc_files), pc.is_in(t.column("warc_offset"), offsets))

        pointer = ["record_id", "warc_file", "warc_offset"]
        for batch in _batches(files, pointer, on_captures, pointer):
            for rid, file, offset in zip(*(batch.column(n).to_pylist() for n in ("record_id", "warc_file", "warc_offset"))):
                if (file, offset) in captures:
                    co[(file, offset)].add(rid)
    return ThreadRead(records=tuple(records), co_captured={k: frozenset(v) for k, v in co.items()}, missing=missing)
