"""A harvest killed with SIGKILL at any moment and run again loses no post, publishes no partial
file, and fetches no page of an interrupted walk twice. Checked against the sample world's
ground truth, with the harvester running as a separate process."""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import orjson
import pytest
import yaml

from archiver.capture.reader import iter_records
from archiver.capture.writer import OPEN_SUFFIX
from archiver.config import load_config
from archiver.model import PLATFORMS
from archiver.pipeline import open_catalog, verify
from archiver.samples.server import SampleServer
from archiver.samples.world import World
from tests.captured import read_captured
from tests.conftest import _SECRETS, _WRITTEN, register_samples, sample_credential_env

pytestmark = pytest.mark.slow


def _published(store: Path) -> int:
    warcs = store / "warcs"
    return len([p for p in warcs.iterdir() if p.name.endswith(".warc.gz")]) if warcs.exists() else 0


def _open_in_staging(staging: Path) -> bool:
    """True while a run has a WARC file open (written to, not yet closed) in its staging directory."""
    try:
        return any(f.name.endswith(OPEN_SUFFIX) and f.stat().st_size > 0 for d in staging.iterdir() if d.is_dir() for f in d.iterdir())
    except FileNotFoundError:  # the staging directory, or a file in it, came or went while looking
        return False


def _start(config_path: Path, env: dict[str, str], log: Path, *extra: str) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "archiver.cli", "--config", str(config_path), "-v", "harvest", *extra],
            stdout=out,
            stderr=out,
            env=env,
        )


def test_killed_harvest_resumes_without_loss_or_partial_files(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    _WRITTEN.append(tmp_path)
    config_path = tmp_path / "sangrah.yaml"
    config_path.write_text(yaml.safe_dump({"data_dir": str(data_dir), "operator": "kill-test", "harvest": {"max_file_bytes": 64 * 1024, "revisit_days": 0, "backoff_base_seconds": 0.01}}))
    config = load_config(config_path)
    log = tmp_path / "harvest.log"
    with SampleServer(World(seed=21, posts_per_account=120)) as server:
        register_samples(config, server)
        env = {**os.environ, **{sample_credential_env(p): server.world.token(p) for p in PLATFORMS}}
        _SECRETS.update(server.world.token(p) for p in PLATFORMS)
        kills = 0
        # kill points: as soon as a first file is published, then in the middle of writing a file
        # (whenever the machine's load lets the run get there), then just after the next file is
        # published
        for point in ("publish", "open", "publish"):
            before = _published(config.store_dir)
            process = _start(config_path, env, log)
            deadline = time.monotonic() + 60
            while process.poll() is None and time.monotonic() < deadline:
                if point == "publish" and _published(config.store_dir) > before:
                    break
                if point == "open" and _open_in_staging(config.staging_dir):
                    break
                time.sleep(0.005)
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                kills += 1
            process.wait(timeout=30)
        assert kills >= 2, "the harvest finished before it could be interrupted; make the world larger"
        final = subprocess.run(
            [sys.executable, "-m", "archiver.cli", "--config", str(config_path), "-q", "harvest", "--json"],
            capture_output=True,
            env=env,
            timeout=120,
        )
        log.write_bytes(log.read_bytes() + final.stderr)
        assert final.returncode == 0, final.stderr.decode()[-2000:]
        report = orjson.loads(final.stdout)
        assert report["status"] == "succeeded"
        truths = {p: importlib.import_module(f"archiver.samples.{p}").ground_truth(server.world) for p in PLATFORMS}

    # nothing lost: every post and reply of the world is in the published WARC files
    captured = read_captured(config.store_dir / "warcs")
    for platform in PLATFORMS:
        missing = truths[platform] - captured.posts.get(platform, set())
        assert not missing, f"{platform}: {len(missing)} records lost, e.g. {sorted(missing)[:3]}"
    # no partial file: the store holds exactly the manifest's files, each whole and verified
    assert verify(config).ok
    catalog = open_catalog(config)
    try:
        manifest = {row.name for row in catalog.iter_warcs(status="published")}
        assert [row.name for row in catalog.iter_warcs() if row.status != "published"] == []
        recoveries = [e for e in catalog.audit_entries() if e["action"].startswith("recover_")]
    finally:
        catalog.close()
    assert manifest == {p.name for p in (config.store_dir / "warcs").iterdir()}
    assert not [p for p in config.staging_dir.iterdir()]
    assert recoveries, "the killed runs left nothing to recover, so the kill points were not exercised"
    # nothing duplicated: an interrupted walk continues from its last published page, so no walk
    # captured any page twice (a later walk fetches the listing's head again, by design)
    assert "walk resumed" in log.read_text(errors="replace"), "no walk was interrupted mid-way"
    pages: Counter[tuple[str, str]] = Counter()
    for path in sorted((config.store_dir / "warcs").glob("*.warc.gz")):
        for record in iter_records(path):
            if record.rec_type == "response" and record.http_status == 200 and record.header("X-Sangrah-Endpoint") != "_media":
                pages[(record.header("X-Sangrah-Walk") or "", record.target_uri or "")] += 1
    assert all(walk for walk, _ in pages)
    assert [key for key, n in pages.items() if n > 1] == []
    assert len(report["accounts"]) == len(PLATFORMS)
