"""The one validated configuration object.

Loaded once at the entry point (CLI or DAG) from a YAML file, validated with pydantic, and passed
down. The file names the environment variables that hold credentials; it never holds them, and
this is the only module that reads ``os.environ``. Every setting is declared once here, with its
default and help; ``schemas/config.schema.json`` is generated from this module.
"""

from __future__ import annotations

import getpass
import os
import socket
import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, ValidatorFunctionWrapHandler, field_validator, model_validator
from pydantic_core import PydanticCustomError
from pydantic_core.core_schema import ErrorType

from archiver.configfile import CONFIG_FILE, database_url, http_url, relocated, validation_problems
from archiver.datafile import Problem, describe, duplicate_keys, load_yaml
from archiver.errors import ConfigError
from archiver.model import PLATFORMS

__all__ = ["Config", "HarvestSettings", "TablesSettings", "StorageSettings", "SearchSettings", "PlatformSettings", "OfficerSettings", "RtiSettings", "ExpertSettings", "DisclosureSettings", "DEFAULT_REGISTRATION_PATTERN", "DemandedSecret", "demanded_secrets", "check_secrets", "airflow_configured", "load_config", "load_config_from_environment", "login_name", "provide_secret", "DEFAULT_CREDENTIAL_ENV", "CONFIG_ENV", "DEFAULT_S3_CONNECTION"]

#: the variable naming the config file, for the CLI (``--config``) and the DAGs alike
CONFIG_ENV = "SANGRAH_CONFIG"

#: the variable each platform's credential is read from unless the config names another
DEFAULT_CREDENTIAL_ENV = {
    "x": "SANGRAH_X_BEARER_TOKEN",
    "facebook": "SANGRAH_FACEBOOK_ACCESS_TOKEN",
    "instagram": "SANGRAH_INSTAGRAM_ACCESS_TOKEN",
    "youtube": "SANGRAH_YOUTUBE_API_KEY",
    "mastodon": "SANGRAH_MASTODON_ACCESS_TOKEN",
    "bluesky": "SANGRAH_BLUESKY_ACCESS_JWT",
}


#: the Airflow Connection (type aws) holding the S3 key pair under Airflow, unless the config names another
DEFAULT_S3_CONNECTION = "sangrah_s3"

#: every URL-valued setting is checked the same way (archiver.configfile)
HttpUrl = Annotated[str, AfterValidator(http_url)]
DatabaseUrl = Annotated[str, AfterValidator(database_url)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PlatformSettings(_Strict):
    base_url: HttpUrl | None = Field(None, description="API base URL; empty means the platform's public API.")
    credential_env: str = Field(..., description="Name of the environment variable that holds the credential.")


class HarvestSettings(_Strict):
    max_file_bytes: int = Field(256 * 1024 * 1024, ge=64 * 1024, description="A WARC file is closed and published once it reaches this size.")
    revisit_days: int = Field(7, ge=0, description="Posts this recent are captured again each run, with their replies, to catch edits, deletions and late replies.")
    timeout_seconds: float = Field(30.0, gt=0, description="Time-out of one HTTP call.")
    max_retries: int = Field(5, ge=0, description="Retries of one call after a 429, a 5xx, a time-out or a reset.")
    backoff_base_seconds: float = Field(1.0, ge=0, description="First back-off delay; it doubles each retry, with jitter.")
    max_sleep_seconds: float = Field(900.0, ge=0, description="Longest single wait for a rate limit or back-off.")
    fetch_images: bool = Field(True, description="Download image attachments into the WARC.")
    video_max_bytes: int = Field(0, ge=0, description="Download videos up to this size; 0 records videos by URL and metadata only.")


class TablesSettings(_Strict):
    chunk_rows: int = Field(20_000, ge=1, description="Rows extracted per committed chunk: the most rows held in memory, and the unit an interrupted extraction resumes from.")
    workers: int = Field(2, ge=0, le=64, description="Worker processes that parse pages while extraction reads and compares; 0 parses in the extracting process.")


class OfficerSettings(_Strict):
    """An officer named on RTI notices: the CPIO/SPIO or the first appellate authority."""

    name: str = Field(..., min_length=1, description="Name, as signed on notices.")
    designation: str = Field(..., min_length=1, description="Designation, e.g. Under Secretary and CPIO.")
    address: str | None = Field(None, description="Office address.")
    phone: str | None = Field(None, description="Office telephone.")
    email: str | None = Field(None, description="Official e-mail address.")


#: registration numbers as the RTI Online portal writes them, e.g. DOWR/R/2026/00012 (docs/rti.md)
DEFAULT_REGISTRATION_PATTERN = r"^[A-Z][A-Z&]{1,11}/[RE]/20[0-9]{2}/[0-9]{5}$"


class RtiSettings(_Strict):
    public_authority: str | None = Field(None, description="Name of the public authority, as on its letters; RTI notices need it.")
    address: str | None = Field(None, description="Postal address of the public authority.")
    jurisdiction: str = Field("central", pattern=r"^[a-z][a-z_]*$", description="The fee table and the wording to use: central, or a State's key in the fee tables (e.g. haryana).")
    commission: str | None = Field(None, description="The Information Commission that hears second appeals; empty means the Central Information Commission for central, the State Information Commission otherwise.")
    cpio: OfficerSettings | None = Field(None, description="The CPIO/SPIO named and signing on notices.")
    faa: OfficerSettings | None = Field(None, description="The first appellate authority named on notices.")
    registration_pattern: str = Field(DEFAULT_REGISTRATION_PATTERN, description="Regular expression every registration number must match.")
    fee_payment: str = Field(
        "by Indian Postal Order, demand draft or banker's cheque payable to the Accounts Officer of the public authority, or online where the RTI Online portal is used",
        description="How the applicant may pay fees, as the fee intimation says it.",
    )
    timelines: Path | None = Field(None, description="The RTI timelines file; empty means schemas/rti_timelines.yaml.")
    fees: Path | None = Field(None, description="The RTI fee tables file; empty means schemas/rti_fees.yaml.")

    @field_validator("registration_pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise relocated("regex", "a regular expression", f"This one does not compile ({exc}); see docs/rti.md for the registration pattern.") from None
        return value

    @property
    def commission_name(self) -> str:
        if self.commission:
            return self.commission
        if self.jurisdiction == "central":
            return "Central Information Commission"
        return f"{self.jurisdiction.replace('_', ' ').title()} State Information Commission"


_MIB = 1024 * 1024
# S3's rule for bucket names (lower-case letters, digits, dots and hyphens; 3 to 63 characters)
_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


class StorageSettings(_Strict):
    kind: Literal["local", "s3"] = Field("local", description="Where published WARC files live: `local` (store/ under data_dir) or `s3` (a bucket with Object Lock).")
    bucket: str | None = Field(None, description="S3 bucket, created with Object Lock (`sangrah storage init`); required when kind is s3.")
    endpoint_url: HttpUrl | None = Field(None, description="S3 endpoint, e.g. http://minio.internal:9000; empty means AWS S3 in `region`.")
    region: str = Field("us-east-1", description="S3 region of the bucket.")
    access_key_env: str | None = Field("SANGRAH_S3_ACCESS_KEY", description="Name of the environment variable holding the S3 access key id; empty (with secret_key_env) uses boto3's default credential chain.")
    secret_key_env: str | None = Field("SANGRAH_S3_SECRET_KEY", description="Name of the environment variable holding the S3 secret access key.")
    airflow_conn_id: str = Field(DEFAULT_S3_CONNECTION, min_length=1, description="Under Airflow, the Connection (type aws: login = access key id, password = secret key) whose key pair the tasks use; without it, the variables above.")
    object_lock_mode: Literal["COMPLIANCE", "GOVERNANCE"] = Field("COMPLIANCE", description="Object Lock mode of every WARC object: COMPLIANCE (nobody, not even the root account, can delete it or shorten its retention) or GOVERNANCE (users with s3:BypassGovernanceRetention can).")
    default_retention_days: int = Field(365, ge=1, description="Retention given to a WARC object when it is published, counted from then; extraction extends it to what its records' retention tags require.")
    multipart_threshold_bytes: int = Field(1024 * _MIB, ge=5 * _MIB, le=5 * 1024 * _MIB, description="Files this large or larger are uploaded in parts, each with its own SHA-256 checksum; smaller ones in one request whose SHA-256 is the manifest's (S3 takes up to 5 GiB in one).")
    multipart_part_bytes: int = Field(16 * _MIB, ge=5 * _MIB, le=5 * 1024 * _MIB, description="Size of one uploaded part (S3 allows 5 MiB to 5 GiB).")
    max_concurrency: int = Field(4, ge=1, le=64, description="Parts uploaded at the same time; memory use is about this many parts.")
    timeout_seconds: float = Field(60.0, gt=0, description="Time-out of one S3 request (connect and read).")
    max_attempts: int = Field(3, ge=1, description="Attempts of one S3 request before the endpoint is reported unavailable.")
    cache_dir: Path | None = Field(None, description="Where WARC files are downloaded, checked against the manifest, for extraction and verification; empty means cache/ under data_dir.")

    @field_validator("bucket")
    @classmethod
    def _bucket_name(cls, value: str | None) -> str | None:
        if value is not None and not _BUCKET_NAME.fullmatch(value):
            raise relocated("bucket_name", "an S3 bucket name: 3-63 lower-case letters, digits, dots and hyphens", "Name the bucket as it was created (sangrah storage init).")
        return value

    @model_validator(mode="after")
    def _coherent(self) -> StorageSettings:
        if self.kind == "s3" and not self.bucket:
            raise relocated("s3_needs_bucket", "the name of a bucket with Object Lock", "storage.kind is s3: add the bucket's name (sangrah storage init creates it).", at="bucket")
        if (self.access_key_env is None) != (self.secret_key_env is None):
            empty = "access_key_env" if self.access_key_env is None else "secret_key_env"
            raise relocated("s3_key_pair", "a variable name, as the other of the key pair has", "storage.access_key_env and storage.secret_key_env must both name a variable, or both be empty (boto3's default chain).", at=empty)
        return self


class SearchSettings(_Strict):
    backend: Literal["fts5", "opensearch", "elasticsearch"] = Field("fts5", description="Where the search index lives: fts5 (an SQLite file in data_dir, nothing to run), opensearch or elasticsearch (a cluster at url).")
    url: HttpUrl | None = Field(None, description="Address of the OpenSearch or Elasticsearch cluster, e.g. https://search.dept.example:9200; empty means http://127.0.0.1:9200.")
    index: str = Field("sangrah-records", pattern=r"^[a-z0-9][a-z0-9_.-]{0,200}$", description="Name of the index (cluster) or of the index file's table set; lower case letters, digits, - _ .")
    credential_env: str | None = Field(None, description="Name of the environment variable holding the cluster credential: user:password for basic authentication, or an API key. Empty: no authentication.")
    fts5_path: Path | None = Field(None, description="The SQLite FTS5 index file; empty means data_dir/search/index.sqlite.")
    rti_rules: Path | None = Field(None, description="The RTI relevance rules (YAML) applied at indexing; empty means schemas/rti_rules.yaml.")
    batch_rows: int = Field(2_000, ge=1, le=100_000, description="Documents sent per bulk request (and rows read from Parquet per batch).")
    timeout_seconds: float = Field(30.0, gt=0, description="Time-out of one request to the cluster.")
    verify_certs: bool = Field(True, description="Check the cluster's TLS certificate.")
    ca_certs: Path | None = Field(None, description="PEM file of the certificate authorities that sign the cluster's TLS certificate, e.g. the department's own CA; empty means the authorities the client trusts by default (certifi's bundle).")

    @model_validator(mode="after")
    def _trust(self) -> SearchSettings:
        if self.ca_certs is not None and not self.verify_certs:
            raise relocated("ca_without_verify", "no CA file while verify_certs is false", "search.ca_certs names the CA to check the certificate against, but verify_certs: false checks nothing: set verify_certs: true, or remove ca_certs.", at="ca_certs")
        return self


class ExpertSettings(_Strict):
    """The expert who signs Part B of the BSA s.63 certificate: free-form, since who may act as one is unsettled (RTI-RULES s.4)."""

    name: str = Field(..., min_length=1, description="Name, as signed in Part B.")
    designation: str = Field(..., min_length=1, description="Designation, e.g. Scientist-D, Electronic Evidence Laboratory; Part B asks for name, designation and signature.")
    relation: str | None = Field(None, description="Son/daughter/spouse of, as Part B asks.")
    address: str | None = Field(None, description="Residing/employed at, as Part B asks.")


class DisclosureSettings(_Strict):
    signing_key_file: Path | None = Field(None, description="Ed25519 private key (PKCS#8 PEM, readable by its owner only) that signs disclosure packages; never printed or logged.")
    bsa_schedule_file: Path | None = Field(None, description="YAML with the verbatim sentences of the BSA 2023 Schedule (keys of schemas/bsa-s63-schedule.yaml); without it certificates say they are not ready to sign.")
    packages_dir: Path | None = Field(None, description="Where disclosure packages are published; empty means data_dir/packages.")
    expert: ExpertSettings | None = Field(None, description="The expert who signs Part B of the BSA s.63 certificate (name, designation, relation, address); empty leaves Part B unsigned and marked not ready. sangrah rti package --expert names another.")


_BUILTIN_ERRORS = frozenset(typing.get_args(ErrorType))


def _again(error: Any) -> dict[str, Any]:
    """One of pydantic's reported errors as it can be raised again (ours are custom errors)."""
    context = dict(error.get("ctx") or {})
    kind: Any = error["type"]
    if kind not in _BUILTIN_ERRORS:
        kind = PydanticCustomError(kind, "{message}", {**context, "message": error["msg"]})
    return {"type": kind, "loc": error["loc"], "input": error["input"], **({"ctx": context} if context else {})}


def _default_platforms() -> dict[str, PlatformSettings]:
    return {name: PlatformSettings(base_url=None, credential_env=env) for name, env in DEFAULT_CREDENTIAL_ENV.items()}


class Config(_Strict):
    data_dir: Path = Field(Path("sangrah-data"), description="Local directory for the store, staging area and SQLite catalog.")
    catalog_url: DatabaseUrl | None = Field(None, description="SQLAlchemy URL of the catalog, without a password (PGPASSWORD or ~/.pgpass holds it); empty means SQLite in data_dir.")
    operator: str | None = Field(None, description="Who runs harvests, written into each WARC's warcinfo; empty means the login name.")
    retention_schedule: Path | None = Field(None, description="The department's retention schedule (YAML); empty means schemas/retention.yaml.")
    harvest: HarvestSettings = Field(default_factory=HarvestSettings)  # type: ignore[arg-type]
    tables: TablesSettings = Field(default_factory=TablesSettings)  # type: ignore[arg-type]
    storage: StorageSettings = Field(default_factory=StorageSettings)  # type: ignore[arg-type]
    search: SearchSettings = Field(default_factory=SearchSettings)  # type: ignore[arg-type]
    disclosure: DisclosureSettings = Field(default_factory=DisclosureSettings)  # type: ignore[arg-type]
    platforms: dict[str, PlatformSettings] = Field(default_factory=_default_platforms)
    rti: RtiSettings = Field(default_factory=RtiSettings)  # type: ignore[arg-type]

    @model_validator(mode="before")
    @classmethod
    def _merge_platforms(cls, data: Any) -> Any:
        # a file that configures one platform keeps the defaults of the others
        if isinstance(data, dict) and isinstance(data.get("platforms"), dict):
            merged: dict[str, Any] = {name: {"credential_env": env} for name, env in DEFAULT_CREDENTIAL_ENV.items()}
            for name, value in data["platforms"].items():
                merged[name] = {**merged.get(name, {}), **(value or {})}
            data = {**data, "platforms": merged}
        return data

    @field_validator("platforms", mode="wrap")
    @classmethod
    def _known_platforms(cls, value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        unknown = sorted(set(value) - set(PLATFORMS)) if isinstance(value, dict) else []
        if not unknown:
            return handler(value)
        # the known platforms' settings are checked too, so that one message lists every problem
        errors: list[Any] = [{"type": PydanticCustomError("unknown_platform", "unknown platform(s) {shown}", {"shown": ", ".join(unknown), "names": unknown, "known": list(PLATFORMS)}), "loc": (), "input": value}]
        try:
            handler({name: settings for name, settings in value.items() if name in PLATFORMS})
        except ValidationError as exc:
            errors += [_again(e) for e in exc.errors()]
        raise ValidationError.from_exception_data("platforms", errors)

    # -- derived values -----------------------------------------------------------------------
    @property
    def resolved_catalog_url(self) -> str:
        return self.catalog_url or f"sqlite:///{(self.data_dir / 'catalog.sqlite').resolve()}"

    @property
    def store_dir(self) -> Path:
        return self.data_dir / "store"

    @property
    def records_dir(self) -> Path:
        """The record dataset (Parquet, partitioned by platform, account and month)."""
        return self.data_dir / "tables" / "records"

    @property
    def search_index_path(self) -> Path:
        """The SQLite FTS5 index file."""
        return self.search.fts5_path or self.data_dir / "search" / "index.sqlite"

    @property
    def packages_dir(self) -> Path:
        """Where disclosure packages are published."""
        return self.disclosure.packages_dir or self.data_dir / "packages"

    @property
    def staging_dir(self) -> Path:
        return self.data_dir / "staging"

    @property
    def cache_dir(self) -> Path:
        """Downloaded copies of WARC files from an object store, each checked against the manifest."""
        return self.storage.cache_dir or self.data_dir / "cache"

    @property
    def operator_name(self) -> str:
        return self.operator or login_name() or "unknown-operator"

    @property
    def host_name(self) -> str:
        return socket.gethostname()

    def secret(self, variable: str) -> str | None:
        """The value of the credential variable ``variable``, or None when it is not set."""
        return _secret(variable)


def _secret(variable: str) -> str | None:
    value = _PROVIDED_SECRETS.get(variable) or os.environ.get(variable)
    return value or None


@dataclass(frozen=True, slots=True)
class DemandedSecret:
    """A credential variable the configuration names for a service it uses."""

    setting: tuple[str, str]  #: where the file names it, e.g. ("storage", "access_key_env")
    variable: str
    what: str  #: what it holds, e.g. "the S3 access key id"
    airflow_conn_id: str | None = None  #: the Airflow Connection that holds it instead, under Airflow

    @property
    def is_set(self) -> bool:
        return _secret(self.variable) is not None


def demanded_secrets(config: Config) -> list[DemandedSecret]:
    """The credential variables the configured services need (the platforms' are per account)."""
    return _demanded(config.storage, config.search)


def _demanded(storage: StorageSettings, search: SearchSettings) -> list[DemandedSecret]:
    out: list[DemandedSecret] = []
    if storage.kind == "s3" and storage.access_key_env and storage.secret_key_env:
        out.append(DemandedSecret(("storage", "access_key_env"), storage.access_key_env, "the S3 access key id", storage.airflow_conn_id))
        out.append(DemandedSecret(("storage", "secret_key_env"), storage.secret_key_env, "the S3 secret access key", storage.airflow_conn_id))
    if search.backend != "fts5" and search.credential_env:
        out.append(DemandedSecret(("search", "credential_env"), search.credential_env, f"the {search.backend} credential (user:password or an API key)"))
    return out


def _unset_problems(demanded: list[DemandedSecret]) -> list[Problem]:
    problems = []
    for secret in demanded:
        if secret.is_set:
            continue
        under_airflow = f" (under Airflow, the Connection {secret.airflow_conn_id} holds it instead)" if secret.airflow_conn_id else ""
        problems.append(Problem(
            secret.setting, f"{secret.variable}, which is not set", "the name of a variable set in the environment",
            f"Export {secret.what} as {secret.variable}{under_airflow}, or name the variable that holds it; the value never goes in this file.",
        ))
    return problems


def check_secrets(config: Config, source: str = "the configuration") -> None:
    """Raise ``ConfigError`` naming every credential variable the configured services need but
    that is not set (after an Airflow task has provided its connections' credentials)."""
    problems = _unset_problems(demanded_secrets(config))
    if problems:
        raise ConfigError(describe(source, problems, None))


def airflow_configured() -> bool:
    """Whether this process is set up to use an Airflow installation (``AIRFLOW_HOME`` or its
    metadata database is named in the environment, as in the Airflow containers), so that
    ``sangrah config check`` looks up the Connections the tasks take credentials from."""
    return any(os.environ.get(name) for name in ("AIRFLOW_HOME", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"))


def login_name() -> str | None:
    """The login name of the person running Sangrah, or None when the system cannot tell."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


#: credentials handed over in-process (the demo gives the sample platforms' test tokens this way)
_PROVIDED_SECRETS: dict[str, str] = {}


def provide_secret(variable: str, value: str) -> None:
    """Make ``value`` the credential of ``variable`` for this process, as if it were exported."""
    _PROVIDED_SECRETS[variable] = value


def load_config_from_environment(*, require_secrets: bool = True) -> Config:
    """The config in the file ``SANGRAH_CONFIG`` names (defaults alone when it is not set)."""
    path = os.environ.get(CONFIG_ENV)
    return load_config(Path(path) if path else None, require_secrets=require_secrets)


def load_config(path: Path | None = None, *, overrides: Mapping[str, Any] | None = None, require_secrets: bool = True) -> Config:
    """Read and validate the YAML file at ``path`` (defaults alone when None).

    Every problem is reported at once, in one ``ConfigError``, each with its path and line in the
    file, the value found, what is allowed and a hint: unknown settings, bad URLs, wrong values,
    keys written twice, and (``require_secrets``) credential variables that the configured
    services need but that are not set.
    """
    data: dict[str, Any] = {}
    source = str(path) if path else "the configuration"
    node = None
    problems: list[Problem] = []
    if path is not None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read the config file {path}: {exc.strerror}. Give an existing file with --config.") from exc
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{path} is not UTF-8 text (byte {exc.start}); save the configuration as UTF-8.") from exc
        loaded, node = load_yaml(text, source, CONFIG_FILE)
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(f"{path}: the top level must be a mapping of settings, not {type(loaded).__name__}.")
        data = loaded or {}
        if node is not None:
            problems.extend(duplicate_keys(node))
    if overrides:
        data = {**data, **overrides}
    config: Config | None = None
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        problems.extend(validation_problems(exc, Config))
    if require_secrets:
        problems.extend(_unset_problems(demanded_secrets(config) if config is not None else _demanded_by_sections(data)))
    if problems or config is None:
        raise ConfigError(describe(source, problems, node))
    return config


def _demanded_by_sections(data: Mapping[str, Any]) -> list[DemandedSecret]:
    """The credential variables of the sections that are valid on their own, in a file that is not."""
    sections: list[Any] = []
    for name, model in (("storage", StorageSettings), ("search", SearchSettings)):
        section = data.get(name) or {}
        try:
            sections.append(model.model_validate(section))
            continue
        except ValidationError as exc:
            wrong = {error["loc"][0] for error in exc.errors() if error["loc"]}
        try:  # without its wrong settings (listed already), what the rest of it demands
            sections.append(model.model_validate({k: v for k, v in section.items() if k not in wrong} if isinstance(section, dict) else {}))
        except ValidationError:
            sections.append(model.model_validate({}))
    return _demanded(*sections)


def config_json_schema() -> dict[str, Any]:
    schema = Config.model_json_schema()
    schema["$id"] = "https://sangrah.example/schemas/config.schema.json"
    schema["title"] = "Sangrah configuration"
    return schema


if __name__ == "__main__":
    import json
    import sys

    json.dump(config_json_schema(), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
