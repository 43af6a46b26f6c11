"""One sample archive (harvested from the sample platforms, extracted to Parquet) shared by the
search tests, and the backends it can be indexed into here: FTS5 always; OpenSearch when
``SANGRAH_OPENSEARCH_URL`` is set and Elasticsearch when ``SANGRAH_ELASTICSEARCH_URL`` is set.
With CI=true both are required: a missing URL fails their tests instead of skipping them."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from archiver.config import Config, load_config
from archiver.samples.server import SampleServer
from archiver.samples.world import World
from tests.conftest import _WRITTEN, register_samples

BACKEND_URLS = {"opensearch": "SANGRAH_OPENSEARCH_URL", "elasticsearch": "SANGRAH_ELASTICSEARCH_URL"}


def available_backends() -> list[Any]:
    params: list[Any] = ["fts5"]
    for name, variable in BACKEND_URLS.items():
        if os.environ.get(variable):
            params.append(name)
        elif os.environ.get("CI") == "true":
            params.append(name)  # required in CI: the fixture fails for want of its URL
        else:
            params.append(pytest.param(name, marks=pytest.mark.skip(reason=f"{variable} is not set")))
    return params


def backend_config(data_dir: Path, backend: str, index: str | None = None) -> Config:
    search: dict[str, Any] = {"backend": backend, "batch_rows": 500}
    if backend != "fts5":
        variable = BACKEND_URLS[backend]
        url = os.environ.get(variable)
        if not url:
            pytest.fail(f"{variable} is not set: the {backend} node is required in CI; start it with infra/{backend}.sh start and export the URL it prints")
        search.update(url=url, index=index or f"sangrah-test-{uuid.uuid4().hex[:10]}")
    return load_config(None, overrides={"data_dir": str(data_dir), "operator": "test-records-cell", "search": search})


@pytest.fixture(scope="session")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A harvested and extracted sample archive: six accounts, 30 posts each, replies in three
    languages; read-only for the tests (those that annotate work on a copy)."""
    from archiver.pipeline import extract, harvest

    data_dir = tmp_path_factory.mktemp("search-archive") / "data"
    _WRITTEN.append(data_dir)
    config = load_config(None, overrides={"data_dir": str(data_dir), "operator": "test-records-cell"})
    with SampleServer(World(seed=23, posts_per_account=30)) as server:
        register_samples(config, server)
        assert harvest(config).status == "succeeded"
    report = extract(config)
    assert report.rows > 500 and not report.problems
    return data_dir


_INDEXED: dict[str, Config] = {}


def _drop(config: Config) -> None:
    from archiver.search.backend import open_backend

    backend = open_backend(config)
    try:
        backend.drop()
    finally:
        backend.close()


@pytest.fixture(scope="session")
def indexed_archives(archive: Path) -> Iterator[dict[str, Config]]:
    """Configs of the shared archive indexed into each backend, built on first use."""
    yield _INDEXED
    for config in _INDEXED.values():
        if config.search.backend != "fts5":
            _drop(config)


@pytest.fixture(params=available_backends())
def indexed(request: pytest.FixtureRequest, archive: Path, indexed_archives: dict[str, Config]) -> Config:
    """The shared archive indexed into one backend (read-only)."""
    from archiver.pipeline import index

    name: str = request.param
    if name not in indexed_archives:
        config = backend_config(archive, name)
        if name == "fts5":
            config = load_config(None, overrides={**config.model_dump(mode="json"), "search": {"backend": "fts5", "fts5_path": str(archive / "search" / "shared.sqlite")}})
        report = index(config)
        assert report.documents > 500
        indexed_archives[name] = config
    return indexed_archives[name]


@pytest.fixture(params=available_backends())
def own_archive(request: pytest.FixtureRequest, archive: Path, tmp_path: Path) -> Iterator[Config]:
    """A copy of the archive (catalog included), indexed into one backend, for tests that change it."""
    from archiver.pipeline import index

    data_dir = tmp_path / "data"
    shutil.copytree(archive, data_dir, ignore=shutil.ignore_patterns("search"))
    _WRITTEN.append(data_dir)
    config = backend_config(data_dir, request.param)
    index(config)
    yield config
    if config.search.backend != "fts5":
        _drop(config)
