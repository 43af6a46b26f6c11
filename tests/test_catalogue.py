"""The statement of the categories of documents held (RTI s.4(1)(b)(vi)), made from a sample
archive's record dataset: its counts and dates checked against the dataset itself."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import pyarrow.dataset as ds
import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import select

from archiver.catalog import tables as t
from archiver.cli import cli
from archiver.config import Config
from archiver.pipeline import extract, harvest, open_catalog
from archiver.retention import DEFAULT_SCHEDULE_PATH, load_schedule
from archiver.retention.schedule import IST
from archiver.samples.server import SampleServer
from archiver.tables.schema import SCHEMA_VERSION
from tests.conftest import register_samples


def _rows(config: Config) -> list[dict[str, Any]]:
    # without hive partitioning: its account=… directory would stand for the account column (platform:native_id)
    return ds.dataset(config.records_dir, format="parquet").to_table().to_pylist()


def _expected(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per series, what the statement must say, worked out from every row of the dataset."""
    current: dict[str, dict[str, Any]] = {}
    versions: dict[str, int] = defaultdict(int)
    for row in rows:
        versions[row["retention_series"]] += 1
        known = current.get(row["record_id"])
        if known is None or row["captured_at"] > known["captured_at"]:
            current[row["record_id"]] = row
    out: dict[str, dict[str, Any]] = {}
    for row in current.values():
        series = out.setdefault(row["retention_series"], {"records": 0, "deleted_on_platform": 0, "platforms": set(), "accounts": defaultdict(int), "days": []})
        series["records"] += 1
        series["deleted_on_platform"] += row["deleted_on_platform"]
        series["platforms"].add(row["platform"])
        series["accounts"][row["account"]] += 1
        series["days"].append((row["created_at"] or row["captured_at"]).astimezone(IST).date())
    return {
        key: {
            "records": s["records"],
            "versions": versions[key],
            "deleted_on_platform": s["deleted_on_platform"],
            "platforms": sorted(s["platforms"]),
            "accounts": sorted(s["accounts"].items()),
            "first_on": min(s["days"]).isoformat(),
            "last_on": max(s["days"]).isoformat(),
        }
        for key, s in out.items()
    }


def _categories(config: Config, *args: str, config_file: Path | None = None) -> Any:
    head = ["--config", str(config_file)] if config_file else []
    return CliRunner().invoke(cli, [*head, "catalogue", "categories", "--data-dir", str(config.data_dir), *args], obj={})


@pytest.fixture
def archive(config: Config, sample_server: SampleServer) -> Config:
    """Every sample platform harvested on two nights (new posts, edits and deletions between) and extracted."""
    config = config.model_copy(update={"harvest": config.harvest.model_copy(update={"revisit_days": 4000})})
    register_samples(config, sample_server)
    harvest(config)
    extract(config)
    sample_server.set_epoch(1)
    harvest(config)
    assert not extract(config).problems
    return config


def test_the_statement_counts_each_series_as_the_dataset_holds_it(archive: Config) -> None:
    result = _categories(archive, "--json")
    assert result.exit_code == 0, result.output
    statement = json.loads(result.stdout)
    rows = _rows(archive)
    expected = _expected(rows)
    schedule = load_schedule()
    assert statement["statement"] == "Categories of documents held (RTI Act 2005, s.4(1)(b)(vi))"
    assert statement["schedule"]["fingerprint"] == schedule.fingerprint and statement["schedule"]["status"] == "draft"
    assert statement["records"] == len({r["record_id"] for r in rows})
    assert [c["series"] for c in statement["categories"]] == [s.id for s in schedule.series]
    for category, series in zip(statement["categories"], schedule.series):
        assert (category["rrs_item"], category["purpose"]) == (series.rrs_item, series.purpose)
        assert category["retention"]["class"] == series.retention_class and category["retention"]["action"] == series.action
        want = expected.get(series.id)
        if want is None:
            assert (category["records"], category["versions"], category["first_on"], category["platforms"]) == (0, 0, None, [])
            continue
        got = {k: category[k] for k in ("records", "versions", "deleted_on_platform", "platforms", "first_on", "last_on")}
        got["accounts"] = [(a["account"], a["records"]) for a in category["accounts"]]
        assert got == want, series.id
    # the sample archive holds both sides of the conversation, and records the platforms removed
    held = {c["series"]: c for c in statement["categories"]}
    assert held["department-posts"]["records"] > 0 and held["citizen-replies"]["records"] > 0
    assert held["department-posts"]["platforms"] == ["bluesky", "facebook", "instagram", "mastodon", "x", "youtube"]
    assert held["citizen-replies"]["retention"] == {"class": "C-3", "years": 3, "period": "3 years", "action": "review", "rule": schedule.series[4].rule}
    assert sum(c["deleted_on_platform"] for c in statement["categories"]) > 0
    assert sum(c["versions"] for c in statement["categories"]) == len(rows) > statement["records"]


def test_the_markdown_statement_cites_the_act_and_states_each_series(archive: Config, tmp_path: Path) -> None:
    out = tmp_path / "categories.md"
    result = _categories(archive, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    text = out.read_text(encoding="utf-8")
    statement = json.loads(_categories(archive, "--json").stdout)
    assert result.stderr == f"wrote the statement of 6 categories, {statement['records']:,} records, to {out}\n"
    assert text.startswith("# Categories of documents held\n\nStatement under section 4(1)(b)(vi) of the Right to Information Act, 2005: ")
    assert f"{statement['records']:,} records in all." in text
    posts = next(c for c in statement["categories"] if c["series"] == "department-posts")
    section = text.split("## SM-1: Information to the public by the department\n", 1)[1].split("\n## ", 1)[0]
    day = "/".join(reversed(posts["first_on"].split("-"))), "/".join(reversed(posts["last_on"].split("-")))
    assert f"| File/series number | SM-1 (series `department-posts`) |" in section
    assert f"| Records held | {posts['records']:,} ({posts['versions']:,} captured versions" in section
    assert f"| Made | {day[0]} to {day[1]} |" in section
    assert "| Platforms | bluesky, facebook, instagram, mastodon, x, youtube |" in section
    assert "| Retention | class A, permanent; then transferred to the National Archives of India (PRA s.2(e)(iv)" in section
    assert re.search(r"\| Accounts \| bluesky:\S+ \(@\S+\): \d+; ", section)
    assert "## SM-6: Records of the department's accounts awaiting classification by the records officer\n" in text
    assert "| Records held | none yet |" in text.split("## SM-6:", 1)[1]


def test_a_dataset_tagged_under_another_schedule_is_refused_until_retagged(archive: Config, tmp_path: Path) -> None:
    changed = tmp_path / "retention.yaml"
    changed.write_text(DEFAULT_SCHEDULE_PATH.read_text().replace('purpose: "Information to the public by the department"', 'purpose: "Announcements of the department"'))
    config_file = tmp_path / "sangrah.yaml"
    config_file.write_text(yaml.safe_dump({"retention_schedule": str(changed)}))
    refused = _categories(archive, config_file=config_file)
    assert refused.exit_code == 1 and refused.stdout == ""
    first = sorted(p.relative_to(archive.records_dir).as_posix() for p in archive.records_dir.rglob("*.parquet"))[0]
    files = len(list(archive.records_dir.rglob("*.parquet")))
    assert refused.stderr == (
        f"Error: {files} of the {files} files of the record dataset in {archive.records_dir} are tagged under another retention schedule "
        f"than {changed}, or written before the record schema's version {SCHEMA_VERSION} (first: {first}); "
        "the statement would misstate their series. Re-tag the dataset first: sangrah retag\n"
    )
    retag = CliRunner().invoke(cli, ["--config", str(config_file), "retag", "--data-dir", str(archive.data_dir)], obj={})
    assert retag.exit_code == 0, retag.output
    statement = json.loads(_categories(archive, "--json", config_file=config_file).stdout)
    assert next(c for c in statement["categories"] if c["series"] == "department-posts")["purpose"] == "Announcements of the department"
    assert {r["purpose"] for r in _rows(archive) if r["retention_series"] == "department-posts"} == {"Announcements of the department"}


def test_a_dataset_that_disagrees_with_the_catalog_is_refused(config: Config, sample_server: SampleServer) -> None:
    register_samples(config, sample_server, ("bluesky",))
    harvest(config)
    extract(config)
    catalog = open_catalog(config)
    try:
        with catalog.engine.begin() as conn:
            gone = conn.execute(select(t.record_versions.c.record_id).order_by(t.record_versions.c.record_id).limit(1)).scalar_one()
            conn.execute(t.record_versions.delete().where(t.record_versions.c.record_id == gone))
    finally:
        catalog.close()
    result = _categories(config)
    assert result.exit_code == 1
    assert re.fullmatch(
        rf"Error: platform=bluesky/account=\S+/month=\d{{4}}-\d\d/\S+\.parquet of the record dataset holds {re.escape(gone)}, which the catalog does not know\. "
        r"Regenerate the dataset and the catalog's account of it with `sangrah rebuild tables`\.\n",
        result.stderr,
    )
