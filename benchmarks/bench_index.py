"""Indexing throughput against the raw floor of the libraries, in the same run.

Usage::

    .venv/bin/python benchmarks/bench_index.py                 # 1,000 posts per account
    .venv/bin/python benchmarks/bench_index.py --posts 200 --no-docs

The rows come from a sample-platform harvest extracted to Parquet (cached under .cache/bench).
Timed, one after the other in this process:

- FTS5 ``sangrah``: ``pipeline.index`` into a new index file: Parquet read in batches, every
  text analysed and transliterated, RTI rules applied, the catalog asked for marks, holds and
  latest versions, documents and FTS5 rows written, file by file with its SHA-256 remembered;
- FTS5 ``floor``: the same Parquet files read in the same batches with pyarrow, and a plain
  ``executemany`` of the raw text into the same FTS5 table (same tokenizer, same prefix indexes):
  what any FTS5 indexer must spend;
- OpenSearch (when ``SANGRAH_OPENSEARCH_URL`` is set) ``sangrah``: ``pipeline.index`` into a new
  index; ``floor``: the same rows, unanalysed, sent with opensearch-py's plain ``helpers.bulk`` in
  chunks of the same size into an index made with the same body.

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


def _parquet_files(data_dir: Path) -> list[Path]:
    return sorted((data_dir / "tables" / "records").rglob("*.parquet"))


def _fts5(data_dir: Path, work: Path) -> dict[str, Any]:
    from archiver.config import load_config
    from archiver.pipeline import index
    from archiver.search.fts5 import Fts5Backend

    config = load_config(None, overrides={"data_dir": str(data_dir), "operator": "benchmark", "search": {"fts5_path": str(work / "sangrah.sqlite"), "batch_rows": BATCH}})
    started = time.perf_counter()
    report = index(config)
    sangrah = time.perf_counter() - started

    import pyarrow.parquet as pq

    floor_backend = Fts5Backend(work / "floor.sqlite")
    db = floor_backend.db  # the same schema: the same FTS5 table, tokenizer and prefix indexes
    started = time.perf_counter()
    rowid = 0
    for path in _parquet_files(data_dir):
        with pq.ParquetFile(path) as parquet:
            for batch in parquet.iter_batches(batch_size=BATCH, columns=["text"]):
                texts = batch.column(0).to_pylist()
                db.execute("BEGIN")
                db.executemany("INSERT INTO docs_fts (rowid, terms, deva_keys, latn_keys) VALUES (?, ?, '', '')", ((rowid + i, t) for i, t in enumerate(texts)))
                db.execute("COMMIT")
                rowid += len(texts)
    floor = time.perf_counter() - started
    floor_backend.close()
    return {"engine": "fts5", "documents": report.documents, "rows": rowid, "seconds": sangrah, "floor_seconds": floor}


def _opensearch(data_dir: Path, url: str) -> dict[str, Any]:
    import pyarrow.parquet as pq
    from opensearchpy import OpenSearch, helpers

    from archiver.config import load_config
    from archiver.pipeline import index
    from archiver.search.lucene import index_body

    name = f"sangrah-bench-{uuid.uuid4().hex[:8]}"
    config = load_config(None, overrides={"data_dir": str(data_dir), "operator": "benchmark", "search": {"backend": "opensearch", "url": url, "index": name, "batch_rows": BATCH}})
    client = OpenSearch(hosts=[url], timeout=120)
    try:
        started = time.perf_counter()
        report = index(config)
        sangrah = time.perf_counter() - started

        floor_index = f"{name}-floor"
        client.indices.create(index=floor_index, body=index_body("opensearch"))
        columns = ["version_id", "record_id", "platform", "account", "kind", "text"]
        started = time.perf_counter()
        rows = 0
        for path in _parquet_files(data_dir):
            with pq.ParquetFile(path) as parquet:
                for batch in parquet.iter_batches(batch_size=BATCH, columns=columns):
                    actions = [{"_index": floor_index, "_id": r["version_id"], "_source": {**{k: r[k] for k in columns[:-1]}, "terms": r["text"]}} for r in batch.to_pylist()]
                    helpers.bulk(client, actions, chunk_size=BATCH)
                    rows += len(actions)
        client.indices.refresh(index=floor_index)
        floor = time.perf_counter() - started
    finally:
        for index_name in (name, f"{name}-meta", f"{name}-floor"):
            client.indices.delete(index=index_name, ignore_unavailable=True)
        client.close()
    return {"engine": "opensearch", "documents": report.documents, "rows": rows, "seconds": sangrah, "floor_seconds": floor}


def render(results: list[dict[str, Any]], posts: int) -> str:
    lines = [
        *section_head(SECTION, ".venv/bin/python benchmarks/bench_index.py" + ("" if posts == 1000 else f" --posts {posts}")),
        f"A first `sangrah index` of a harvest of the six sample platforms ({posts:,} posts per account), against the raw floor "
        "in the same run: for FTS5 a plain `executemany` of the raw text into the same FTS5 table, for OpenSearch "
        "opensearch-py's plain `helpers.bulk` of the unanalysed rows into an index with the same body. The ratio is floor "
        "time over Sangrah's time (the target is 0.8 or more).",
        "",
        "| engine | documents | Sangrah s | documents/s | floor s | vs floor |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(f"| {r['engine']} | {r['documents']:,} | {r['seconds']:.1f} | {r['documents'] / r['seconds']:,.0f} | {r['floor_seconds']:.1f} | {r['floor_seconds'] / r['seconds']:.2f} |")
    lines += ["", *_NOTES, ""]
    return "\n".join(lines)


_NOTES = [
    "The floor indexes raw text; Sangrah first analyses it in Python (NFKC, folding, the Devanagari-aware split), "
    "makes a transliteration key of every word (cached per word), applies the RTI rules, asks the catalog for the "
    "latest version, the marks and the holds of each batch's records, and writes a `docs` row beside each FTS5 row "
    "(filters, facets, the WARC pointer). On OpenSearch the documents carry all those fields.",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=1000, help="posts per sample account")
    parser.add_argument("--docs", type=Path, default=ROOT / "docs" / "performance.md")
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args()
    data_dir = bench_archive(args.posts)
    results = []
    with tempfile.TemporaryDirectory() as work:
        results.append(_fts5(data_dir, Path(work)))
    url = os.environ.get("SANGRAH_OPENSEARCH_URL")
    if url:
        results.append(_opensearch(data_dir, url))
    for r in results:
        print(f"{r['engine']}: {r['documents']:,} documents in {r['seconds']:.1f} s (floor {r['floor_seconds']:.1f} s): {r['floor_seconds'] / r['seconds']:.2f}", file=sys.stderr)
    section = render(results, args.posts)
    print(section)
    if not args.no_docs:
        update_section(args.docs, SECTION, section)


if __name__ == "__main__":
    main()
