"""Configuration: defaults, validation messages, the committed JSON Schema, documented settings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import yaml

from archiver.config import Config, DisclosureSettings, HarvestSettings, RtiSettings, SearchSettings, StorageSettings, TablesSettings, config_json_schema, demanded_secrets, load_config
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


SEVERAL_PROBLEMS = """\
data_dir: /srv/sangrah
catalog_url: postgresql+psycopg://sangrah:not-in-this-file@db.internal/sangrah
harvest:
  max_file_bytes: big
  revisit_dayz: 3
platforms:
  myspace: {}
  mastodon:
    base_url: mastodon.social
search:
  backend: opensearch
  url: search.internal:9200
storage:
  kind: s3
  bucket: evidence
  endpoint_url: http://minio.internal:9000
  acces_key_env: SANGRAH_S3_KEY
rti:
  cpio:
    name: A. K. Verma
operator: records cell
operator: records cell, again
"""


def test_a_file_with_several_problems_gets_one_message_listing_every_one_with_its_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("SANGRAH_S3_ACCESS_KEY", "SANGRAH_S3_SECRET_KEY"):
        monkeypatch.delenv(variable, raising=False)
    path = tmp_path / "sangrah.yaml"
    path.write_text(SEVERAL_PROBLEMS)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.message.splitlines() == [
        f"{path} has 11 problem(s):",
        "  - catalog_url (line 2): found 'postgresql+psycopg://sangrah:***@db.internal/sangrah'; allowed: a URL without a password. The database password never goes in this file: remove it and export PGPASSWORD, or use ~/.pgpass (docs/deploy.md).",
        "  - harvest.max_file_bytes (line 4): found 'big'; allowed: a whole number. Write a whole number, without quotes or units.",
        "  - harvest.revisit_dayz (line 5): found an unknown setting; allowed: max_file_bytes, revisit_days, timeout_seconds, max_retries, backoff_base_seconds, max_sleep_seconds, fetch_images, video_max_bytes. Did you mean revisit_days? Check its spelling against docs/configuration.md.",
        "  - platforms.myspace (line 7): found an unknown platform; allowed: x, facebook, instagram, youtube, mastodon, bluesky. Sangrah harvests these platforms only.",
        "  - platforms.mastodon.base_url (line 9): found 'mastodon.social'; allowed: an http:// or https:// URL with a host, e.g. https://mastodon.social or http://127.0.0.1:9000. Write the whole address, scheme first.",
        "  - search.url (line 12): found 'search.internal:9200'; allowed: an http:// or https:// URL with a host, e.g. https://mastodon.social or http://127.0.0.1:9000. Write the whole address, scheme first.",
        "  - storage.access_key_env (line 13): found SANGRAH_S3_ACCESS_KEY, which is not set; allowed: the name of a variable set in the environment. Export the S3 access key id as SANGRAH_S3_ACCESS_KEY (under Airflow, the Connection sangrah_s3 holds it instead), or name the variable that holds it; the value never goes in this file.",
        "  - storage.secret_key_env (line 13): found SANGRAH_S3_SECRET_KEY, which is not set; allowed: the name of a variable set in the environment. Export the S3 secret access key as SANGRAH_S3_SECRET_KEY (under Airflow, the Connection sangrah_s3 holds it instead), or name the variable that holds it; the value never goes in this file.",
        "  - storage.acces_key_env (line 17): found an unknown setting; allowed: kind, bucket, endpoint_url, region, access_key_env, secret_key_env, airflow_conn_id, object_lock_mode, default_retention_days, multipart_threshold_bytes, multipart_part_bytes, max_concurrency, timeout_seconds, max_attempts, cache_dir. Did you mean access_key_env? Check its spelling against docs/configuration.md.",
        "  - rti.cpio.designation (line 19): found nothing; allowed: a value. Add this setting.",
        "  - operator (line 22): found operator a second time; allowed: each key once in a mapping. YAML would keep only the last one; delete the one you did not mean.",
    ]
    assert "not-in-this-file" not in str(caught.value) and caught.value.__cause__ is None and caught.value.__context__ is None


@pytest.mark.parametrize(
    ("setting", "value", "found"),
    [
        ("catalog_url", "mysql://sangrah@db/sangrah", "'mysql://sangrah@db/sangrah'; allowed: a PostgreSQL (postgresql+psycopg://...) or SQLite (sqlite:///...) URL. The catalog runs on PostgreSQL or SQLite, not mysql."),
        ("catalog_url", "not a url", "'not a url'; allowed: a SQLAlchemy URL such as postgresql+psycopg://sangrah@db.internal:5432/sangrah or sqlite:////srv/sangrah/catalog.sqlite"),
        ("platforms.x.base_url", "ftp://api.x.example", "'ftp://api.x.example'; allowed: an http:// or https:// URL with a host"),
        ("search.url", "https://elastic:changeme@search.internal:9200", "'https://***@search.internal:9200'; allowed: a URL without a user or password"),
        ("storage.endpoint_url", "http://minio.internal:port", "'http://minio.internal:port'; allowed: an http:// or https:// URL with a host"),
        ("storage.endpoint_url", "http://", "'http://'; allowed: an http:// or https:// URL with a host"),
    ],
)
def test_every_url_valued_setting_is_checked_the_same_way(tmp_path: Path, setting: str, value: str, found: str) -> None:
    section, _, rest = setting.partition(".")
    data: dict[str, object] = {section: value} if not rest else {section: _nested(rest, value)}
    path = tmp_path / "sangrah.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.message.startswith(f"{path} has 1 problem(s):\n  - {setting} (line "), caught.value.message
    assert f": found {found}" in caught.value.message
    assert "changeme" not in caught.value.message


def _nested(dotted: str, value: str) -> dict[str, object]:
    head, _, rest = dotted.partition(".")
    return {head: _nested(rest, value) if rest else value}


def test_good_urls_and_a_passwordless_catalog_url_load() -> None:
    config = load_config(None, overrides={
        "catalog_url": "postgresql+psycopg://sangrah@db.internal:5432/sangrah",
        "platforms": {"mastodon": {"base_url": "https://mastodon.social"}},
        "search": {"url": "https://search.internal:9200/"},
        "storage": {"endpoint_url": "http://127.0.0.1:9000"},
    })
    assert (config.catalog_url, config.platforms["mastodon"].base_url, config.search.url, config.storage.endpoint_url) == (
        "postgresql+psycopg://sangrah@db.internal:5432/sangrah", "https://mastodon.social", "https://search.internal:9200/", "http://127.0.0.1:9000",
    )


def test_secret_variables_are_demanded_only_for_the_services_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SANGRAH_TEST_SEARCH_CREDENTIAL", raising=False)
    cluster = {"search": {"backend": "opensearch", "credential_env": "SANGRAH_TEST_SEARCH_CREDENTIAL"}}
    with pytest.raises(ConfigError) as caught:
        load_config(None, overrides=cluster)
    assert caught.value.message.splitlines() == [
        "the configuration has 1 problem(s):",
        "  - search.credential_env: found SANGRAH_TEST_SEARCH_CREDENTIAL, which is not set; allowed: the name of a variable set in the environment. "
        "Export the opensearch credential (user:password or an API key) as SANGRAH_TEST_SEARCH_CREDENTIAL, or name the variable that holds it; the value never goes in this file.",
    ]
    # the same file, without the demand (``sangrah config check`` reports the variable instead)
    assert load_config(None, overrides=cluster, require_secrets=False).search.credential_env == "SANGRAH_TEST_SEARCH_CREDENTIAL"
    monkeypatch.setenv("SANGRAH_TEST_SEARCH_CREDENTIAL", "user:secret")
    assert [(s.setting, s.variable, s.is_set) for s in demanded_secrets(load_config(None, overrides=cluster))] == [(("search", "credential_env"), "SANGRAH_TEST_SEARCH_CREDENTIAL", True)]
    # fts5 with a credential named, or S3 through boto3's default chain: nothing demanded
    quiet = load_config(None, overrides={"search": {"credential_env": "SANGRAH_TEST_UNSET"}, "storage": {"kind": "s3", "bucket": "evidence", "access_key_env": None, "secret_key_env": None}})
    assert demanded_secrets(quiet) == []


def test_unknown_platform_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "sangrah.yaml"
    path.write_text("platforms:\n  mastodn:\n    credential_env: X\n")
    with pytest.raises(ConfigError, match=r"platforms.mastodn \(line 2\): found an unknown platform; allowed: x, facebook, instagram, youtube, mastodon, bluesky. Did you mean mastodon\?"):
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


def test_search_ca_certs_names_a_pem_file_and_needs_verify_certs(tmp_path: Path) -> None:
    path = tmp_path / "sangrah.yaml"
    path.write_text("search:\n  backend: opensearch\n  url: https://search.dept.example:9200\n  ca_certs: /etc/sangrah/dept-ca.pem\n")
    assert load_config(path).search.ca_certs == Path("/etc/sangrah/dept-ca.pem")
    assert load_config(None).search.ca_certs is None
    path.write_text("search:\n  backend: opensearch\n  url: https://search.dept.example:9200\n  verify_certs: false\n  ca_certs: /etc/sangrah/dept-ca.pem\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.message.splitlines() == [
        f"{path} has 1 problem(s):",
        "  - search.ca_certs (line 5): found '/etc/sangrah/dept-ca.pem'; allowed: no CA file while verify_certs is false. search.ca_certs names the CA to check the certificate against, "
        "but verify_certs: false checks nothing: set verify_certs: true, or remove ca_certs.",
    ]
