"""The rows of the chunk being gathered, by partition, until the chunk is written one Parquet file
per partition."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import pyarrow as pa

from archiver.tables.schema import RECORD_SCHEMA

__all__ = ["ChunkRows", "Partition"]

#: runs of a batch's rows added as slices rather than copied out (a thread's root post, seen
#: unchanged on each of its pages, makes a gap in the rows of its partition)
_MOST_SLICES = 4
#: where a row goes: platform, account native id, month (``YYYY-MM``)
Partition = tuple[str, str, str]


class ChunkRows:
    """A chunk's rows by partition, each partition's in the order they came, as Arrow record
    batches (slices of the batches the rows were built in, mostly: no copy)."""

    def __init__(self) -> None:
        self.batches: dict[Partition, list[pa.RecordBatch]] = defaultdict(list)
        self.count = 0

    def __len__(self) -> int:
        return self.count

    def add(self, partition: Partition, batch: pa.RecordBatch) -> None:
        self.batches[partition].append(batch)
        self.count += batch.num_rows

    def add_rows(self, source: pa.RecordBatch, positions: list[int], partition: Partition) -> None:
        """Add these rows of ``source`` (their positions, in the order the rows came) to ``partition``."""
        runs: list[tuple[int, int]] = []  # (start, length) of each run of consecutive positions
        for position in positions:
            if runs and position == runs[-1][0] + runs[-1][1]:
                runs[-1] = (runs[-1][0], runs[-1][1] + 1)
            else:
                runs.append((position, 1))
                if len(runs) > _MOST_SLICES:
                    self.add(partition, source.take(pa.array(positions, pa.int64())))
                    return
        for start, length in runs:  # slices of the batch, not copies
            self.add(partition, source.slice(start, length))

    def by_partition(self, finish: Callable[[list[pa.Table]], list[pa.Table]] = lambda tables: tables) -> list[tuple[Partition, pa.Table]]:
        """Each partition and its rows, partition by partition; ``finish`` is applied to the
        tables of the whole chunk at once (the media pointers are filled in there)."""
        partitions = sorted(self.batches)
        tables = finish([pa.Table.from_batches(self.batches[p], schema=RECORD_SCHEMA) for p in partitions])
        return list(zip(partitions, tables))
