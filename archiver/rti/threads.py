"""Read a request's records from the record dataset, threads expanded, with bounded memory.

The dataset (``docs/record-schema.md``) links each reply to its thread by ``root_id``; a thread's
first post has none (it is its own root). ``read_threads`` scans the dataset three times, each
time reading only the columns it needs, batch by batch, so memory follows the size of the
request, never the size of the archive:

1. ``record_id`` and ``root_id`` of every row: the threads of the records asked for;
2. every column of the rows in those threads: every captured version of each record;
3. ``record_id`` and the WARC pointer of every row: which other records share a capture (an API
   page holds many posts), so that a capture is only given whole when all it holds is disclosed.

Usage::

    found = read_threads(config.records_dir, ["x:1994071213470646404"])
    found.records          # tuple of ReviewRecord, thread by thread, oldest first
    found.co_captured      # {(warc_file, offset): {record_id, ...}}
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from archiver.errors import DisclosureError
from archiver.rti.review import ReviewRecord

__all__ = ["ThreadRead", "read_threads"]

_BATCH_ROWS = 65_536
_EARLY = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class ThreadRead:
    records: tuple[ReviewRecord, ...]
    #: every record id found on each capture the records came from, in the whole dataset
    co_captured: dict[tuple[str, int], frozenset[str]]
    #: record ids asked for that the dataset does not hold
    missing: tuple[str, ...]


def _dataset(records_dir: Path) -> ds.Dataset:
    if not Path(records_dir).is_dir():
        raise DisclosureError(
            f"{records_dir}: no record dataset there. Extract it first: sangrah extract",
            rule="record dataset",
        )
    return ds.dataset(records_dir, format="parquet", partitioning="hive")


def _batches(dataset: ds.Dataset, columns: list[str], where: pc.Expression | None = None) -> Iterable[pa.RecordBatch]:
    # little read-ahead, so that memory stays bounded by a few batches whatever the archive size
    scanner = dataset.scanner(columns=columns, filter=where, batch_size=_BATCH_ROWS, batch_readahead=2, fragment_readahead=1, use_threads=True)
    return scanner.to_batches()


def read_threads(records_dir: Path, record_ids: Iterable[str], *, expand: bool = True) -> ThreadRead:
    """Every version of ``record_ids`` (and, with ``expand``, of every record in their threads)."""
    dataset = _dataset(records_dir)
    wanted = pa.array(sorted(set(record_ids)), pa.string())
    roots: set[str] = set()
    found: set[str] = set()
    for batch in _batches(dataset, ["record_id", "root_id"], pc.field("record_id").isin(wanted)):
        ids = batch.column("record_id").to_pylist()
        found.update(ids)
        for rid, root in zip(ids, batch.column("root_id").to_pylist()):
            roots.add(root or rid)
    missing = tuple(sorted(set(wanted.to_pylist()) - found))
    if expand:
        root_array = pa.array(sorted(roots), pa.string())
        where = pc.field("record_id").isin(root_array) | pc.field("root_id").isin(root_array)
    else:
        where = pc.field("record_id").isin(wanted)
    columns = [name for name in dataset.schema.names if name != "month"]
    records = [ReviewRecord.from_row(row) for batch in _batches(dataset, columns, where) for row in batch.to_pylist()]
    records.sort(key=lambda r: (r.thread_id, r.created_at or r.captured_at or _EARLY, r.record_id, r.captured_at))
    captures = {(r.pointer.file, r.pointer.offset) for r in records}
    co: dict[tuple[str, int], set[str]] = defaultdict(set)
    if captures:
        files = pa.array(sorted({f for f, _ in captures}), pa.string())
        offsets = pa.array(sorted({o for _, o in captures}), pa.int64())
        # both filters in Arrow, the exact (file, offset) pairs here: few rows reach Python
        where = pc.field("warc_file").isin(files) & pc.field("warc_offset").isin(offsets)
        for batch in _batches(dataset, ["record_id", "warc_file", "warc_offset"], where):
            for rid, file, offset in zip(*(batch.column(n).to_pylist() for n in ("record_id", "warc_file", "warc_offset"))):
                if (file, offset) in captures:
                    co[(file, offset)].add(rid)
    return ThreadRead(records=tuple(records), co_captured={k: frozenset(v) for k, v in co.items()}, missing=missing)
