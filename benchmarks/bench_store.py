"""Publishing WARC files to S3: ``S3Store.put_file`` against raw boto3 ``upload_file`` of the
same files, in the same run, on a real MinIO server.

Usage::

    .venv/bin/python benchmarks/bench_store.py                 # 3 rounds
    .venv/bin/python benchmarks/bench_store.py --rounds 1 --no-docs

The files: the WARC files of a sample harvest of the six platforms (rolled over at 1 MiB), and
WARC files of 16, 64 and 256 MiB made of the same harvest's records (its files concatenated, as
a long harvest writes them). Each is published:

- ``sangrah``: ``S3Store.put_file`` as the pipeline calls it, with the manifest's SHA-256 (taken
  when the file was closed, so not timed): Object Lock mode and retain-until, the SHA-256
  checksum the server verifies, the ``sha256`` metadata, one conditional PUT below the multipart
  threshold; above it, a multipart upload with a SHA-256 per part and the whole file hashed on
  the way;
- ``boto3``: ``client.upload_file(path, bucket, key)`` with boto3's defaults (its managed
  transfer: multipart from 8 MiB, 8 MiB parts, 10 threads, its default CRC checksums), to the
  same bucket, with no lock: the floor of the library underneath.

The ratio is boto3's time / Sangrah's (1.0 = as fast as the floor), from the median of the
rounds; the order of the two alternates between rounds. The last row group publishes the 256 MiB
files in parts (threshold and part size lowered to 64 and 16 MiB) to show the multipart path.

The server is a MinIO instance of its own (``infra/minio.sh``, instance ``bench``, on
``SANGRAH_MINIO_PORT`` + 4), removed afterwards with its data. Results go to the "Publishing to
S3" section of docs/performance.md unless ``--no-docs``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from perfdoc import section_head, update_section  # noqa: E402 - after the path is set

from archiver.storage import sha256_of_file  # noqa: E402

SECTION = "## Publishing to S3"
MIB = 1024 * 1024
INSTANCE = "bench"


@dataclass
class Group:
    label: str
    files: list[tuple[Path, str]]  #: path, SHA-256
    store_options: dict[str, Any] = field(default_factory=dict)
    sangrah: list[float] = field(default_factory=list)
    boto3: list[float] = field(default_factory=list)
    size_bytes: int = 0

    def __post_init__(self) -> None:
        self.size_bytes = sum(p.stat().st_size for p, _ in self.files)


def _harvest(data_dir: Path) -> list[Path]:
    """The WARC files of a sample harvest of the six platforms, rolled over at 1 MiB."""
    from archiver.config import load_config
    from archiver.pipeline import harvest, open_catalog
    from archiver.samples.accounts import register_sample_accounts
    from archiver.samples.server import SampleServer
    from archiver.samples.world import World

    with SampleServer(World(seed=7, posts_per_account=500)) as server:
        config = load_config(None, overrides={"data_dir": str(data_dir), "operator": "benchmark", "harvest": {"max_file_bytes": MIB}})
        catalog = open_catalog(config)
        register_sample_accounts(catalog, server)
        catalog.close()
        assert harvest(config).status == "succeeded"
    return sorted((config.store_dir / "warcs").glob("*.warc.gz"))


def _concatenated(sources: list[Path], target: Path, size_bytes: int) -> Path:
    """A WARC file of at least ``size_bytes``: the harvest's files, one after another, repeated."""
    with open(target, "wb") as out:
        while out.tell() < size_bytes:
            for source in sources:
                out.write(source.read_bytes())
    return target


def make_groups(work: Path) -> list[Group]:
    harvested = _harvest(work / "harvest")
    groups = [Group(f"{len(harvested)} files of a sample harvest", [(p, sha256_of_file(p)) for p in harvested])]
    for mib, count in ((16, 4), (64, 2), (256, 2)):
        files = [_concatenated(harvested, work / f"w{mib}-{n}.warc.gz", mib * MIB) for n in range(count)]
        groups.append(Group(f"{count} files of {mib} MiB", [(p, sha256_of_file(p)) for p in files]))
    big = groups[-1].files
    groups.append(Group("the 256 MiB files in 16 MiB parts", big, {"multipart_threshold_bytes": 64 * MIB, "multipart_part_bytes": 16 * MIB}))
    return groups


def _minio(command: str, port: int) -> str:
    env = {**os.environ, "SANGRAH_MINIO_INSTANCE": INSTANCE, "SANGRAH_MINIO_PORT": str(port)}
    done = subprocess.run([str(ROOT / "infra" / "minio.sh"), command], env=env, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise SystemExit(f"infra/minio.sh {command} failed:\n{done.stderr}")
    return done.stdout.strip()


def _credentials(port: int) -> tuple[str, str]:
    cache = Path(os.environ.get("SANGRAH_CACHE") or ROOT / ".cache")
    values = dict(line.split("=", 1) for line in (cache / "minio" / INSTANCE / "credentials").read_text().split())
    return values["SANGRAH_S3_ACCESS_KEY"], values["SANGRAH_S3_SECRET_KEY"]


def measure(groups: list[Group], endpoint: str, access_key: str, secret_key: str, rounds: int) -> None:
    import boto3

    from archiver.storage.s3 import S3Store

    bucket = "sangrah-bench"
    base = S3Store(bucket=bucket, endpoint_url=endpoint, access_key=access_key, secret_key=secret_key)
    base.init_bucket(create=True)
    client = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=access_key, aws_secret_access_key=secret_key, region_name="us-east-1")
    for group_number, group in enumerate(groups):
        store = S3Store(bucket=bucket, endpoint_url=endpoint, access_key=access_key, secret_key=secret_key, default_retention=timedelta(days=1), **group.store_options)
        assert store.client is not None  # made once per process in use, as boto3's client above: not timed
        for round_number in range(rounds):
            order = ("sangrah", "boto3") if round_number % 2 == 0 else ("boto3", "sangrah")
            for who in order:
                started = time.perf_counter()
                for n, (path, sha256) in enumerate(group.files):
                    key = f"{who}/{group_number}/{round_number}/{n}/{path.name}"
                    if who == "sangrah":
                        store.put_file(path, key, sha256=sha256)
                    else:
                        client.upload_file(str(path), bucket, key)
                getattr(group, who).append(time.perf_counter() - started)
        print(f"{group.label}: sangrah {statistics.median(group.sangrah):.3f} s, boto3 {statistics.median(group.boto3):.3f} s", file=sys.stderr)


def render(groups: list[Group], rounds: int) -> str:
    import boto3
    import botocore

    lines = section_head(SECTION, ".venv/bin/python benchmarks/bench_store.py" + ("" if rounds == 3 else f" --rounds {rounds}"))
    lines += [
        f"Each WARC file is published to a MinIO server on the same machine (built by `infra/minio.sh`, one drive; boto3 {boto3.__version__}, botocore {botocore.__version__}) by `S3Store.put_file` "
        "with its Object Lock retention and the server-verified SHA-256, and by raw boto3 `upload_file` (defaults, no lock) into the same bucket. "
        f"Median of {rounds} rounds; the ratio is boto3's time over Sangrah's (1.00x = as fast as raw boto3).",
        "",
        "| files | MB | Sangrah s | Sangrah MB/s | boto3 `upload_file` s | boto3 MB/s | ratio | ratio by round |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    total_sangrah = total_boto3 = 0.0
    total_bytes = 0
    for group in groups:
        mb = group.size_bytes / 1e6
        ours, theirs = statistics.median(group.sangrah), statistics.median(group.boto3)
        by_round = sorted(b / a for a, b in zip(group.sangrah, group.boto3, strict=True))
        lines.append(f"| {group.label} | {mb:,.1f} | {ours:.2f} | {mb / ours:,.0f} | {theirs:.2f} | {mb / theirs:,.0f} | {theirs / ours:.2f}x | {by_round[0]:.2f}-{by_round[-1]:.2f} |")
        if not group.store_options:
            total_sangrah += ours
            total_boto3 += theirs
            total_bytes += group.size_bytes
    lines.append(f"| all but the last row (default settings) | {total_bytes / 1e6:,.1f} | {total_sangrah:.2f} | {total_bytes / 1e6 / total_sangrah:,.0f} | {total_boto3:.2f} | {total_bytes / 1e6 / total_boto3:,.0f} | {total_boto3 / total_sangrah:.2f}x | |")
    multipart = groups[-1]
    lines += [
        "",
        f"With the default settings every file here goes up in one PUT (files below `storage.multipart_threshold_bytes`, 1 GiB): its `x-amz-checksum-sha256` is the manifest's SHA-256, "
        "which the server checks against every byte, so the client hashes nothing while it sends, and the payload is not signed a second time (SigV4 would hash it again over http). "
        f"The multipart path ({len(multipart.files)} files in 16 MiB parts, 4 at a time) hashes every byte twice on the client, once per part for the part's checksum "
        "and once for the whole file, which must equal the manifest's before the upload is completed; boto3 computes a CRC per part instead. "
        f"Here it ran at {statistics.median(multipart.boto3) / statistics.median(multipart.sangrah):.2f}x. "
        "Both sides share the server, which writes to one drive and hashes each byte (for its ETag and bitrot checks, and for the SHA-256 check); "
        "figures move between runs by the amounts the last column shows.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-docs", action="store_true", help="Print the section; leave docs/performance.md alone.")
    parser.add_argument("--docs", type=Path, default=ROOT / "docs" / "performance.md")
    args = parser.parse_args()
    port = int(os.environ.get("SANGRAH_MINIO_PORT") or 9000) + 4
    with tempfile.TemporaryDirectory(prefix="sangrah-bench-store-") as work:
        groups = make_groups(Path(work))
        endpoint = _minio("start", port)
        try:
            measure(groups, endpoint, *_credentials(port), rounds=args.rounds)
        finally:
            _minio("clean", port)
    section = render(groups, args.rounds)
    print(section)
    if not args.no_docs:
        update_section(args.docs, SECTION, section)


if __name__ == "__main__":
    main()
