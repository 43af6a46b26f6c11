"""The archive the search benchmarks index: a harvest of the six sample platforms, extracted to
Parquet, cached under ``.cache/bench/search-<posts>/`` (gitignored) and reused by later runs."""

from __future__ import annotations

import shutil
from pathlib import Path

__all__ = ["bench_archive"]

ROOT = Path(__file__).resolve().parents[1]


def bench_archive(posts: int) -> Path:
    """The data directory of a harvested and extracted sample archive with ``posts`` per account."""
    from archiver.config import load_config
    from archiver.pipeline import extract, harvest, open_catalog
    from archiver.samples.accounts import register_sample_accounts
    from archiver.samples.server import SampleServer
    from archiver.samples.world import World

    data_dir = ROOT / ".cache" / "bench" / f"search-{posts}"
    if (data_dir / "complete").exists():
        return data_dir
    shutil.rmtree(data_dir, ignore_errors=True)
    config = load_config(None, overrides={"data_dir": str(data_dir), "operator": "benchmark"})
    with SampleServer(World(seed=7, posts_per_account=posts)) as server:
        catalog = open_catalog(config)
        register_sample_accounts(catalog, server)
        catalog.close()
        assert harvest(config).status == "succeeded"
    assert not extract(config).problems
    (data_dir / "complete").touch()
    return data_dir
