"""The query benchmark's table says which hit counts are totals and which are lower bounds
(rendered from made-up timings: the benchmark itself is not run by the tests)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bench_query() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_query", ROOT / "benchmarks" / "bench_query.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    path = list(sys.path)
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path[:] = path  # the benchmark puts its own folders first
    return module


def _results(bench_query: ModuleType, total: int, exact: bool) -> list[dict[str, Any]]:
    return [{"class": kind, "query": text, "filters": filters, "sort": sort, "total": total, "exact": exact, "times": [1.0]} for kind, text, filters, sort in bench_query.MIX]


@pytest.mark.parametrize(
    ("fts5", "opensearch", "shown"),
    [((512, False), None, "≥ 512"), ((512, False), (9_412, True), "9,412"), ((3_584, False), (10_000, False), "≥ 10,000"), ((812, True), (812, True), "812")],
)
def test_the_hits_column_shows_a_count_that_stopped_early_as_a_lower_bound(bench_query: ModuleType, fts5: tuple[int, bool], opensearch: tuple[int, bool] | None, shown: str) -> None:
    runs = {"fts5": _results(bench_query, *fts5)}
    if opensearch:
        runs["opensearch"] = _results(bench_query, *opensearch)
    table = bench_query.render(runs, 1_000_000, 1, {}, {}, {}, {})
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    assert len(rows) == len(bench_query.MIX)
    assert all(row.split(" | ")[4] == shown for row in rows), rows
