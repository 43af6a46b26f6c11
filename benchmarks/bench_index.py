"""Indexing throughput against the raw floor of the libraries, in the same run.

Usage::

    .venv/bin/python benchmarks/bench_index.py                 # 1,000 posts per account
    .venv/bin/python benchmarks/bench_index.py --posts 200 --no-docs

The rows come from a sample-platform harvest extracted to Parquet (cached under .cache/bench).
Timed, one after the other in this process:

- FTS5 ``sangrah``: ``pipeline.index`` into a new index file: Parquet read in batches, every
  text analysed and transliterated, RTI rules applied, the catalog asked for marks, holds and
  latest versions, documents and FTS5 rows written, file by file with its SHA-256 remembered;
- FTS5 ``floor``: the same Parquet files read with pyarrow (the same columns, turned into Python
  values), and a plain ``executemany`` of *the rows Sangrah writes* (built before the clock
  starts: the same ``docs`` rows and FTS5 rows, with the same rowids, in the same batches, one
  transaction per batch, each batch in rowid order) into the same tables, made by the same
  code with the same connection settings: what storing this index costs SQLite itself;
- FTS5 ``text only``: the old, lighter floor, for comparison: only the raw text, into the FTS5
  table alone (no ``docs`` row, no transliteration keys, rowids 0, 1, 2, ...);
- OpenSearch (when ``SANGRAH_OPENSEARCH_URL`` is set) ``sangrah``: ``pipeline.index`` into a new
  index; ``floor``: the same Parquet files read, and *the documents Sangrah sends* (built before
  the clock starts) sent with opensearch-py's plain ``helpers.bulk``, the same batches and
  request size, into an index made with the same body and left at its default settings, then
  one refresh.

The documents of both floors are made by the indexing code itself (``pipeline.search``'s batch
and document functions, with the same catalog), so the floor and Sangrah store the same thing.
Sangrah's FTS5 run reads and analyses in a second process (forked) while it writes; the floors
use one.
The ratio is floor time / Sangrah time (1.0 = as fast as the floor). Results go to the
"Search indexing" section of docs/performance.md unless ``--no-docs``.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from perfdoc import section_head, update_section  # noqa: E402 - after the path is set
from searchdata import bench_archive  # noqa: E402

SECTION = "## Search indexing"
BATCH = 2_000


def _config(data_dir: Path, search: dict[str, Any]) -> Any:
    from archiver.config import load_config

    return load_config(None, overrides={"data_dir": str(data_dir), "operator": "benchmark", "search": {"batch_rows": BATCH, **search}})


def _published(data_dir: Path) -> list[str]:
    from archiver.pipeline.capture import open_catalog
    from archiver.pipeline.search import _published_files

    catalog = open_catalog(_config(data_dir, {}))
    try:
        return sorted(_published_files(catalog))
    finally:
        catalog.close()


def _sangrah_batches(data_dir: Path, paths: list[str]) -> list[tuple[int, list[dict[str, Any]]]]:
    """(rows of the dataset read when the batch is complete, its documents), as ``pipeline.index`` makes them."""
    from archiver.pipeline.capture import open_catalog
    from archiver.pipeline.search import _has_annotations, _prepared_batches
    from archiver.search.rules import load_rules

    config = _config(data_dir, {})
    catalog = open_catalog(config)
    read = 0
    out = []
    try:
        for batch in _prepared_batches(config, catalog, load_rules(), paths, list, annotations=_has_annotations(catalog)):
            read += batch.documents + batch.deletions
            out.append((read, batch.payload))
    finally:
        catalog.close()
    return out


def _read(path: Path) -> int:
    """Read a Parquet file as any Python indexer must: the columns indexing needs, as Python values."""
    import pyarrow.parquet as pq

    from archiver.pipeline.search import _READ_COLUMNS

    rows = 0
    with pq.ParquetFile(path) as parquet:
        for batch in parquet.iter_batches(batch_size=BATCH, columns=_READ_COLUMNS):
            for column in batch.columns:
                column.to_pylist()
            rows += batch.num_rows
    return rows


def _floor_loop(data_dir: Path, paths: list[str], batches: list[tuple[int, Any]], write: Any) -> None:
    """Read the files in order; write each batch once the rows it holds have been read."""
    records = data_dir / "tables" / "records"
    pending = list(batches)
    read = 0
    for path in paths:
        read += _read(records / path)
        while pending and pending[0][0] <= read:
            write(pending.pop(0)[1])
    for _read_then, payload in pending:
        write(payload)


def _fts5(data_dir: Path, work: Path, paths: list[str], batches: list[tuple[int, list[dict[str, Any]]]]) -> dict[str, Any]:
    import pyarrow.parquet as pq

    from archiver.pipeline import index
    from archiver.search.fts5 import _INSERT_DOCS, _INSERT_FTS, Fts5Backend, _row

    config = _config(data_dir, {"fts5_path": str(work / "sangrah.sqlite")})
    started = time.perf_counter()
    report = index(config)
    sangrah = time.perf_counter() - started

    written = sqlite3.connect(work / "sangrah.sqlite")
    rowid_of = dict(written.execute("SELECT version_id, rowid FROM docs"))
    written.close()
    prepared = []
    for read, documents in batches:
        rows = sorted((rowid_of[d["version_id"]], _row(d), (d["terms"], d["deva_keys"], d["latn_keys"])) for d in documents)
        prepared.append((read, ([(r, *row) for r, row, _f in rows], [(r, *fts) for r, _row_, fts in rows])))

    floor_backend = Fts5Backend(work / "floor.sqlite")

    def write(payload: tuple[list[Any], list[Any]]) -> None:
        docs_rows, fts_rows = payload
        db = floor_backend.db  # made on first use by the same code: the same tables, tokenizer, prefix indexes and connection settings
        db.execute("BEGIN")
        db.executemany(_INSERT_DOCS, docs_rows)
        db.executemany(_INSERT_FTS, fts_rows)
        db.execute("COMMIT")

    started = time.perf_counter()
    _floor_loop(data_dir, paths, prepared, write)
    floor = time.perf_counter() - started
    floor_backend.close()
    same = sqlite3.connect(work / "floor.sqlite").execute("SELECT count(*) FROM docs").fetchone()[0]
    assert same == report.total_documents, (same, report.total_documents)

    text_backend = Fts5Backend(work / "text.sqlite")
    db = text_backend.db
    started = time.perf_counter()
    rowid = 0
    for path in paths:
        with pq.ParquetFile(data_dir / "tables" / "records" / path) as parquet:
            for batch in parquet.iter_batches(batch_size=BATCH, columns=["text"]):
                texts = batch.column(0).to_pylist()
                db.execute("BEGIN")
                db.executemany("INSERT INTO docs_fts (rowid, terms, deva_keys, latn_keys) VALUES (?, ?, '', '')", ((rowid + i, t) for i, t in enumerate(texts)))
                db.execute("COMMIT")
                rowid += len(texts)
    text_only = time.perf_counter() - started
    text_backend.close()
    return {"engine": "fts5", "documents": report.documents, "seconds": sangrah, "floor_seconds": floor, "text_seconds": text_only}


def _opensearch(data_dir: Path, url: str, paths: list[str], batches: list[tuple[int, list[dict[str, Any]]]]) -> dict[str, Any]:
    from opensearchpy import OpenSearch, helpers

    from archiver.pipeline import index
    from archiver.search.lucene import BULK_CHUNK, index_body

    name = f"sangrah-bench-{uuid.uuid4().hex[:8]}"
    config = _config(data_dir, {"backend": "opensearch", "url": url, "index": name})
    client = OpenSearch(hosts=[url], timeout=120)
    floor_index = f"{name}-floor"
    try:
        started = time.perf_counter()
        report = index(config)
        sangrah = time.perf_counter() - started

        def write(documents: list[dict[str, Any]]) -> None:
            helpers.bulk(client, ({"_index": floor_index, "_id": d["version_id"], "_source": d} for d in documents), chunk_size=BULK_CHUNK)

        started = time.perf_counter()
        client.indices.create(index=floor_index, body=index_body("opensearch"))  # Sangrah's time includes making its index too
        _floor_loop(data_dir, paths, batches, write)
        client.indices.refresh(index=floor_index)
        floor = time.perf_counter() - started
        same = client.count(index=floor_index)["count"]
        assert same == report.total_documents, (same, report.total_documents)
    finally:
        for index_name in (name, f"{name}-meta", floor_index):
            client.indices.delete(index=index_name, ignore_unavailable=True)
        client.close()
    return {"engine": "opensearch", "documents": report.documents, "seconds": sangrah, "floor_seconds": floor}


def _best(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The best time of each side over the runs (the least disturbed by anything else on the machine),
    and the range of the runs' own ratios."""
    best = dict(runs[0])
    for key in ("seconds", "floor_seconds", "text_seconds"):
        if key in best:
            best[key] = min(r[key] for r in runs)
    ratios = [r["floor_seconds"] / r["seconds"] for r in runs]
    best.update(runs=len(runs), ratio_low=min(ratios), ratio_high=max(ratios))
    return best


def render(results: list[dict[str, Any]], posts: int, load: tuple[float, float]) -> str:
    lines = [
        *section_head(SECTION, ".venv/bin/python benchmarks/bench_index.py" + ("" if posts == 1000 else f" --posts {posts}")),
        f"A first `sangrah index` of a harvest of the six sample platforms ({posts:,} posts per account), against the raw floor "
        "in the same run: the same Parquet files read with pyarrow and the rows Sangrah writes (built before the clock starts, "
        "by the indexing code itself) stored by the plain library call, in the same batches: for FTS5 an `executemany` into "
        "the same `docs` and FTS5 tables (same rowids, each batch in rowid order, one transaction per batch), for OpenSearch "
        "opensearch-py's `helpers.bulk` of the same documents, same request size, into an index with the same body at its "
        "default settings. Each side is run several times, alternating; the table gives the best time of each and the "
        "ratio of the two (floor time over Sangrah's time; the target is 0.8 or more), and the range of the runs' own ratios. "
        f"Load average (1 min) {load[0]:.2f} before, {load[1]:.2f} after.",
        "",
        "| engine | documents | Sangrah s | documents/s | floor s | vs floor | each run |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(
            f"| {r['engine']} | {r['documents']:,} | {r['seconds']:.2f} | {r['documents'] / r['seconds']:,.0f} | {r['floor_seconds']:.2f} | "
            f"{r['floor_seconds'] / r['seconds']:.2f} | {r['ratio_low']:.2f}-{r['ratio_high']:.2f} |"
        )
    fts5 = next((r for r in results if r["engine"] == "fts5"), None)
    lines += [""]
    if fts5:
        lines += [
            f"The lighter floor measured before (the raw text alone, into the FTS5 table alone, rowids 0, 1, 2, ...) takes "
            f"{fts5['text_seconds']:.2f} s: {fts5['text_seconds'] / fts5['seconds']:.2f} of Sangrah's time. It stores about a third "
            "of what the index holds (no `docs` row with the filters, facets and WARC pointer, no transliteration keys), so it "
            "is not the floor of this index.",
            "",
        ]
    lines += [*_NOTES, ""]
    return "\n".join(lines)


_NOTES = [
    "Between reading and storing, Sangrah analyses every text in Python (NFKC, folding, the Devanagari-aware split; "
    "each distinct whitespace-separated piece once), makes the transliteration keys, applies the RTI rules, and asks the "
    "catalog for the latest version, the marks and the holds of each batch's records.",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=1000, help="posts per sample account")
    parser.add_argument("--docs", type=Path, default=ROOT / "docs" / "performance.md")
    parser.add_argument("--no-docs", action="store_true")
    parser.add_argument("--only", choices=["fts5", "opensearch"], help="measure one engine")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each engine; the best time of each side counts")
    args = parser.parse_args()
    data_dir = bench_archive(args.posts)
    paths = _published(data_dir)
    batches = _sangrah_batches(data_dir, paths)
    load_before = os.getloadavg()[0]
    runs: dict[str, list[dict[str, Any]]] = {}
    url = os.environ.get("SANGRAH_OPENSEARCH_URL")
    for _ in range(args.repeat):  # alternating, so that a burst of load elsewhere does not fall on one engine only
        if args.only in (None, "fts5"):
            with tempfile.TemporaryDirectory() as work:
                runs.setdefault("fts5", []).append(_fts5(data_dir, Path(work), paths, batches))
        if url and args.only in (None, "opensearch"):
            runs.setdefault("opensearch", []).append(_opensearch(data_dir, url, paths, batches))
    results = [_best(r) for r in runs.values()]
    load = (load_before, os.getloadavg()[0])
    for r in results:
        print(f"{r['engine']}: {r['documents']:,} documents in {r['seconds']:.2f} s (floor {r['floor_seconds']:.2f} s): {r['floor_seconds'] / r['seconds']:.2f} ({r['ratio_low']:.2f}-{r['ratio_high']:.2f})", file=sys.stderr)
    section = render(results, args.posts, load)
    print(section)
    if not args.no_docs:
        update_section(args.docs, SECTION, section)


if __name__ == "__main__":
    main()
