"""Configuration: defaults, validation messages, the committed JSON Schema, documented settings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from archiver.config import Config, DisclosureSettings, HarvestSettings, RtiSettings, SearchSettings, StorageSettings, TablesSettings, config_json_schema, load_config
from archiver.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def test_defaults_are_embedded() -> None:
    config = load_config(None)
    assert config.resolved_catalog_url.startswith("sqlite:///")
    assert config.platforms["x"].credential_env == "SANGRAH_X_BEARER_TOKEN"
    assert config.harvest.revisit_days == 7


def test_one_platform_configured_keeps_the_others(tmp_path: Path) -> None:
    path = tmp_path / "sangrah.yaml"
    path.write_text("platforms:\n  mastodon:\n    base_url: https://mastodon.example\n")
    config = load_config(path)
    assert config.platforms["mastodon"].base_url == "https://mastodon.example"
    assert config.platforms["mastodon"].credential_env == "SANGRAH_MASTODON_ACCESS_TOKEN"
    assert config.platforms["x"].credential_env == "SANGRAH_X_BEARER_TOKEN"


def test_every_problem_is_reported_with_its_place_and_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "sangrah.yaml"
    path.write_text("harvest:\n  max_file_bytes: big\n  revisit_dayz: 3\nplatforms:\n  myspace: {}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = caught.value.message
    assert message.startswith(f"{path} has")
    assert "harvest.max_file_bytes: Input should be a valid integer" in message
    assert "(found 'big'); write a whole number" in message
    assert "harvest.revisit_dayz" in message and "check its spelling" in message


def test_unknown_platform_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "sangrah.yaml"
    path.write_text("platforms:\n  myspace:\n    credential_env: X\n")
    with pytest.raises(ConfigError, match="unknown platform"):
        load_config(path)


def test_missing_or_broken_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the config file"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("harvest: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)


def test_committed_json_schema_is_current() -> None:
    committed = json.loads((ROOT / "schemas" / "config.schema.json").read_text())
    assert committed == config_json_schema(), "regenerate with: python -m archiver.config > schemas/config.schema.json"


def test_every_setting_is_documented() -> None:
    doc = (ROOT / "docs" / "configuration.md").read_text()
    for name in list(Config.model_fields) + [f"harvest.{n}" for n in HarvestSettings.model_fields] + [f"tables.{n}" for n in TablesSettings.model_fields] + [f"rti.{n}" for n in RtiSettings.model_fields] + [f"storage.{n}" for n in StorageSettings.model_fields] + [f"search.{n}" for n in SearchSettings.model_fields] + [f"disclosure.{n}" for n in DisclosureSettings.model_fields]:
        assert f"`{name}`" in doc, f"{name} is not in docs/configuration.md"
