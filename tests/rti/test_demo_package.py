"""Done when: the demo's RTI package validates as a BagIt bag, its WACZ validates, its
certificate's hashes match the WARC records, and no severed string reaches the applicant."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import bagit
import pytest
from click.testing import CliRunner

from archiver.capture.reader import read_record
from archiver.cli import cli
from archiver.config import load_config
from archiver.model import PLATFORMS
from archiver.pipeline import open_catalog
from archiver.rti.register import get_case
from archiver.rti.review_catalog import load_review, request_ref_for
from archiver.samples.world import World
from tests.conftest import _SECRETS, _WRITTEN
from tests.rti.leaks import find_leaks

VENV_BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Demo:
    data_dir: Path
    folder: Path
    output: str
    severed: tuple[str, ...]
    withheld_text: str
    #: the review's captures on which every record (in the whole dataset) is disclosed unsevered
    captures_given_whole: frozenset[tuple[str, int]]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    data_dir = tmp_path_factory.mktemp("demo") / "data"
    _WRITTEN.append(data_dir)
    _SECRETS.update(World(seed=7, posts_per_account=12).token(p) for p in PLATFORMS)
    result = CliRunner().invoke(cli, ["-q", "demo", "--data-dir", str(data_dir), "--posts", "12"], obj={})
    assert result.exit_code == 0, result.output
    match = re.search(r"^disclosure package: (\S+)$", result.stdout, flags=re.MULTILINE)
    assert match, result.stdout
    config = load_config(data_dir / "sangrah-rti-demo.yaml")
    catalog = open_catalog(config)
    try:
        regno = re.search(r"RTI request (\S+):", result.stdout).group(1)  # type: ignore[union-attr]
        loaded = load_review(catalog, regno, config.records_dir, request_ref_for(config.rti, get_case(catalog, regno)))
    finally:
        catalog.close()
    severed = tuple(r.text for d in loaded.review.decisions.values() for r in d.redactions)
    [withheld] = [rid for rid, d in loaded.review.decisions.items() if d.kind == "withhold"]
    decisions = loaded.review.decisions
    whole = frozenset(
        key for key in {(r.pointer.file, r.pointer.offset) for r in loaded.review.records}
        if all(rid in decisions and decisions[rid].kind == "disclose" for rid in loaded.co_captured.get(key, ()))
    )
    yield Demo(data_dir, Path(match.group(1)), result.stdout, severed, loaded.versions(withheld)[-1].text, whole)


def test_the_demo_says_what_it_did_and_where_the_package_is(demo: Demo) -> None:
    assert re.search(r"RTI request SMPL/R/20\d\d/00001: scope = the search '\"flood relief\" OR helpline' \(\d+ records\), held by H-1 RTI_PENDING; "
                     r"review of \d+ records \(threads expanded\), [1-9]\d* redaction suggestions accepted, 1 withheld under 8\(1\)\(j\)", demo.output)
    assert demo.folder.is_dir() and demo.folder.parent == demo.data_dir / "packages"
    assert len(demo.severed) > 20


@pytest.mark.parametrize("copy", ["applicant", "internal"])
def test_the_demo_package_is_a_valid_bag_with_a_valid_wacz(demo: Demo, copy: str) -> None:
    bag = bagit.Bag(str(demo.folder / copy))
    bag.validate()
    assert bag.algorithms == ["sha256"] and bag.info["External-Identifier"].startswith("RTI SMPL/R/")
    waczs = sorted((demo.folder / copy / "data" / "archive").glob("*.wacz"))
    chain = list(csv.DictReader(io.StringIO((demo.folder / copy / "data" / "certificate" / "capture-chain.csv").read_text("utf-8-sig"))))
    if copy == "applicant":
        # The applicant's WACZ holds only captures given whole (every record on them disclosed
        # unsevered). Each API page of the demo's threads carries a citizen's reply with something
        # severed, or the withheld reply, so the demo gives none whole and its applicant's copy has
        # no WACZ: the captures reach the applicant as the severed renderings. tests/rti/test_package.py
        # checks an applicant's WACZ where some captures are given whole.
        assert demo.captures_given_whole == frozenset()
        assert waczs == [] and chain and {row["in_wacz"] for row in chain} == {"no"}
        return
    assert chain and {row["in_wacz"] for row in chain} == {"yes"}
    [wacz] = waczs
    run = subprocess.run([str(VENV_BIN / "wacz"), "validate", "-f", str(wacz)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and "Validation succeeded, the passed WACZ is valid" in run.stdout, run.stdout + run.stderr


@pytest.mark.parametrize("copy", ["applicant", "internal"])
def test_the_demo_certificate_s_hashes_match_the_warc_records(demo: Demo, copy: str) -> None:
    warcs = demo.data_dir / "store" / "warcs"
    rows = list(csv.DictReader(io.StringIO((demo.folder / copy / "data" / "certificate" / "hash-report.csv").read_text("utf-8-sig"))))
    records = [r for r in rows if r["kind"] == "warc record"]
    assert len(records) > 10
    for row in records:
        with open(warcs / row["name"], "rb") as fh:
            fh.seek(int(row["offset"]))
            raw = fh.read(int(row["length"]))
        assert hashlib.sha256(raw).hexdigest() == row["sha256"]
        record = read_record(warcs / row["name"], int(row["offset"]), int(row["length"]))
        assert record.record_id == row["warc_record_id"] and hashlib.sha256(record.block).hexdigest() == row["block_sha256"]
    files = [r for r in rows if r["kind"] == "warc file (the evidence)"]
    assert files and all(hashlib.sha256((warcs / r["name"]).read_bytes()).hexdigest() == r["sha256"] for r in files)


def test_no_severed_or_withheld_string_reaches_the_demo_applicant(demo: Demo) -> None:
    applicant = demo.folder / "applicant"
    assert find_leaks(applicant, demo.severed) == []
    assert find_leaks(next(demo.folder.glob("*-applicant.zip")), demo.severed) == []
    assert find_leaks(applicant, [demo.withheld_text]) == []
    # the checker does see them where they are given: the internal copy
    assert find_leaks(demo.folder / "internal" / "data" / "records", demo.severed)
