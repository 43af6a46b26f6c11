"""One real archive for the RTI tests: the sample platforms harvested and extracted once."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

import pyarrow.dataset as ds
import pytest
import yaml

from archiver.access.users import add_user
from archiver.config import Config, load_config
from archiver.model import PLATFORMS
from archiver.pipeline import extract, harvest, open_catalog
from archiver.rti.package import CertificateInputs, Device, Signatory, SigningKey, generate_signing_key, load_signing_key
from archiver.rti.review import RequestRef
from archiver.samples.server import SampleServer
from archiver.samples.world import World
from tests.conftest import _SECRETS, _WRITTEN, register_samples
from tests.rti_fixtures import RTI_SETTINGS, USERS


@dataclass(frozen=True)
class Archive:
    config: Config
    world: World

    @property
    def records_dir(self) -> Path:
        return self.config.records_dir

    @property
    def warc_dir(self) -> Path:
        return self.config.store_dir / "warcs"

    def rows(self, columns: list[str]) -> list[dict[str, object]]:
        return ds.dataset(self.records_dir, format="parquet", partitioning="hive").to_table(columns=columns).to_pylist()


@pytest.fixture(scope="session")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    data = tmp_path_factory.mktemp("rti") / "data"
    _WRITTEN.append(data)
    world = World(seed=11, posts_per_account=10)
    config = load_config(None, overrides={"data_dir": str(data), "operator": "test-records-cell", "harvest": {"backoff_base_seconds": 0.01, "max_sleep_seconds": 2}})
    with SampleServer(world) as server:
        _SECRETS.update(world.token(p) for p in PLATFORMS)
        register_samples(config, server)
        harvest(config)
    report = extract(config)
    assert not report.problems
    yield Archive(config, world)


def staffed_copy(archive: Archive, root: Path, disclosure: dict[str, object]) -> tuple[Config, Path]:
    """A copy of the sample archive under ``root``, its config file (the public authority's
    particulars, ``disclosure``) and a catalog with one user in each role; the config and its file."""
    data = root / "data"
    _WRITTEN.append(data)
    shutil.copytree(archive.config.data_dir, data)
    config_file = root / "sangrah.yaml"
    config_file.write_text(yaml.safe_dump({"data_dir": str(data), "operator": "test-rti-cell", "rti": RTI_SETTINGS, "disclosure": disclosure}), encoding="utf-8")
    config = load_config(config_file)
    catalog = open_catalog(config)
    add_user(catalog, "admin", "admin", full_name="Records Administrator", roles=USERS["admin"])
    for name, roles in USERS.items():
        if name != "admin":
            add_user(catalog, "admin", name, full_name=f"{name.title()} Officer", roles=roles)
    catalog.close()
    return config, config_file


@pytest.fixture(scope="session")
def signing_key(tmp_path_factory: pytest.TempPathFactory) -> SigningKey:
    path = tmp_path_factory.mktemp("keys") / "rti-signing.pem"
    generate_signing_key(path)
    return load_signing_key(path)


def sample_request() -> RequestRef:
    return RequestRef(
        registration_number="JSD/R/2026/00017",
        received_on=date(2026, 11, 21),
        public_authority="Jal Shakti Department",
        cpio_name="Smt. A. Rao",
        cpio_designation="Central Public Information Officer",
        subject="Replies to the department's posts on water supply",
        place="New Delhi",
    )


def sample_certificate() -> CertificateInputs:
    return CertificateInputs(
        party=Signatory("A. Rao", "daughter of B. Rao", "Jal Shakti Department, New Delhi", "CPIO"),
        device=Device("Cloud", make_model="Sangrah archive server", cloud_id="s3://jalshakti-archive/warcs/"),
        expert=Signatory("C. Menon", "son of D. Menon", "Electronic Evidence Laboratory, New Delhi", "Examiner"),
        place="New Delhi",
    )


@pytest.fixture
def request_ref() -> RequestRef:
    return sample_request()


@pytest.fixture
def certificate() -> CertificateInputs:
    return sample_certificate()


CREATED_AT = datetime(2026, 12, 1, 9, 30, tzinfo=timezone.utc)
