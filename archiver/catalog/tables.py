"""The catalog's tables (SQLAlchemy 2 Core), shared by the code and the migrations."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

accounts = Table(
    "accounts",
    metadata,
    Column("key", String(300), primary_key=True),  # platform:native_id
    Column("platform", String(20), nullable=False),
    Column("native_id", String(255), nullable=False),
    Column("handle", String(255)),
    Column("display_name", String(255)),
    Column("base_url", String(500)),  # overrides the platform's (a Mastodon instance, the samples)
    Column("credential_env", String(100)),  # the NAME of the variable holding the credential
    Column("active", Boolean, nullable=False, default=True),
    Column("added_at", DateTime(timezone=True), nullable=False),
)

harvest_runs = Table(
    "harvest_runs",
    metadata,
    Column("harvest_id", String(64), primary_key=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("status", String(20), nullable=False),  # running, succeeded, failed, partial, interrupted
    Column("operator", String(255), nullable=False),
    Column("host", String(255), nullable=False),
    Column("software", String(100), nullable=False),
    Column("summary", JSON),
)

cursors = Table(
    "cursors",
    metadata,
    Column("account_key", String(300), ForeignKey("accounts.key"), primary_key=True),
    Column("endpoint", String(100), primary_key=True),
    Column("state", JSON, nullable=False),
    Column("harvest_id", String(64)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

warc_files = Table(
    "warc_files",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("store_key", String(500), nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("record_count", Integer, nullable=False),
    Column("first_at", DateTime(timezone=True)),
    Column("last_at", DateTime(timezone=True)),
    Column("harvest_id", String(64), nullable=False),
    Column("status", String(20), nullable=False),  # pending (hashed, not yet in the store), published, deleted (by `delete_warc`)
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("published_at", DateTime(timezone=True)),
)

coverage = Table(
    "coverage",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("harvest_id", String(64), nullable=False),
    Column("account_key", String(300), nullable=False),
    Column("endpoint", String(100), nullable=False),
    Column("window_start", DateTime(timezone=True)),
    Column("window_end", DateTime(timezone=True), nullable=False),
    Column("statement", JSON, nullable=False),
    Column("warc_file", String(255)),
    UniqueConstraint("harvest_id", "account_key", "endpoint", name="uq_coverage_window"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(255), nullable=False),
    Column("action", String(100), nullable=False),
    Column("target", Text),
    Column("outcome", String(20), nullable=False),
    Column("details", JSON),
    # the hash chain (archiver.catalog.audit): the previous entry's hash, and this entry's
    Column("prev_hash", String(64), unique=True),
    Column("entry_hash", String(64)),
)

record_versions = Table(
    "record_versions",
    metadata,
    Column("record_id", String(600), primary_key=True),
    Column("version_id", String(64), nullable=False),  # the latest version extracted
    Column("captured_at", DateTime(timezone=True), nullable=False),
    Column("versions", Integer, nullable=False),
    Column("deleted", Boolean, nullable=False),
    Column("account", String(300), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("by_department", Boolean, nullable=False),
    Column("root_id", String(600)),
    Column("created_at", DateTime(timezone=True)),
    Column("last_walk", String(64)),  # the last harvest walk that returned it
)

parquet_files = Table(
    "parquet_files",
    metadata,
    Column("path", String(1000), primary_key=True),  # relative to the dataset root
    Column("rows", Integer, nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("warc_file", String(255), nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("schedule_fingerprint", String(64), nullable=False),  # the retention schedule its tags come from
    Column("status", String(20), nullable=False),  # pending (entered, not yet in place), published
    Column("created_at", DateTime(timezone=True), nullable=False),
)

extractions = Table(
    "extractions",
    metadata,
    Column("warc_file", String(255), primary_key=True),
    Column("offset_done", BigInteger, nullable=False),  # records before this offset are in the dataset
    Column("complete", Boolean, nullable=False),
    Column("rows", Integer, nullable=False),
    Column("problems", JSON),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
