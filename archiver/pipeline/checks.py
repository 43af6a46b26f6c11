"""``sangrah config check``: each configured service, connected to and reported as OK or with the
exact error and the next step.

What is checked, in order: the data directory (staging, record dataset, caches) is writable; the
catalog is reachable (a SQLite file, or a PostgreSQL server) and its schema is at the newest
migration, or which migrations are pending; the store (a local directory that is writable, or an
S3 bucket: endpoint reachable, credentials accepted, bucket there, Object Lock enabled with
versioning); the search backend (``archiver.pipeline.search_checks``); the credentials of the
configured services and of each active account (names only, never values); and the files
the configuration names (retention schedule, RTI rules, timelines and fees), each read and
checked as the step that uses it would. When holds have been placed, whether the store's legal
holds are what they need (``archiver.pipeline.legal_holds.check_legal_holds``).

Under Airflow (``AIRFLOW_HOME`` or its metadata database set in the environment, and Airflow
installed), the credentials are looked up first in the Airflow Connections the tasks take them
from (``archiver.pipeline.tasks``: one per account, and ``storage.airflow_conn_id`` for the S3
key pair), through the same secrets backends, ``AIRFLOW_CONN_*`` variables and metadata database;
an ``airflow`` check says whether that database could be read. A credential is OK when its
Connection or its variable holds it, and a failure names both.

Nothing is changed: the catalog is opened read-only and never migrated, no bucket or index is
made, no file is written but a probe in a directory that must be writable, removed at once
(loading Airflow may make its logs directory). No check prints a credential: every message is
scrubbed of the values of the variables and Connections read.
"""

from __future__ import annotations

import importlib.util
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archiver.config import Config, DemandedSecret, airflow_configured, demanded_secrets, provide_secret
from archiver.errors import ArchiverError, BucketMissing, ConfigError, StoreAuthError, StoreError, StoreUnavailable

__all__ = ["Check", "CheckReport", "AirflowConnections", "open_airflow", "check_config", "check_data_dir", "check_catalog", "check_store", "check_credentials", "check_files", "writable"]


@dataclass(frozen=True, slots=True)
class Check:
    """One thing checked: ``service`` (data, catalog, store, search, credential, file), what
    exactly (``name``: a URL, a variable, a path), whether it is usable, what was found or the
    exact error (``detail``), and the next step when it is not."""

    service: str
    name: str
    ok: bool
    detail: str
    next_step: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"service": self.service, "name": self.name, "status": "ok" if self.ok else "failed", "detail": self.detail, "next_step": self.next_step}


@dataclass(frozen=True, slots=True)
class CheckReport:
    source: str  #: the configuration file checked, or "built-in defaults"
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def failed(self) -> list[Check]:
        return [check for check in self.checks if not check.ok]

    def to_json(self) -> dict[str, Any]:
        return {"config": self.source, "ok": self.ok, "failed": len(self.failed), "checks": [check.to_json() for check in self.checks]}


def check_config(config: Config, *, source: str = "built-in defaults") -> CheckReport:
    """Every check of the module docstring, in order; the report fails when any check does."""
    from archiver.pipeline.legal_holds import check_legal_holds
    from archiver.pipeline.search_checks import check_search

    catalog, accounts = check_catalog(config)
    airflow, airflow_check = open_airflow()
    # as a task does, the S3 key pair of the Airflow Connection is handed over before the store is opened
    s3 = _s3_from_airflow(config, airflow) if airflow is not None else None
    holds = check_legal_holds(config)
    checks = [
        check_data_dir(config), catalog, *([airflow_check] if airflow_check else []), check_store(config), *([holds] if holds else []), check_search(config),
        *check_credentials(config, accounts, airflow, s3), *check_files(config),
    ]
    return CheckReport(source, tuple(_scrubbed(checks, _secret_values(config, accounts) | (airflow.values if airflow else set()))))


# -- Airflow ---------------------------------------------------------------------------------
class AirflowConnections:
    """Airflow's Connections as a task would be given them, read from outside a task.

    A task asks the API server, which looks in the secrets backend Airflow is configured with,
    the ``AIRFLOW_CONN_*`` variables and the metadata database; from outside a task the Task SDK
    would skip the database, so this asks Airflow's own lookup, which reads the same three.
    ``values`` collects every credential read, for the report to be scrubbed of them.
    """

    def __init__(self) -> None:
        self.values: set[str] = set()

    def get(self, conn_id: str) -> Any | None:
        """The Connection ``conn_id``, or None when no backend has it."""
        from airflow.models.connection import Connection
        from airflow.sdk.exceptions import AirflowNotFoundException

        try:
            connection = Connection.get_connection_from_secrets(conn_id)
        except AirflowNotFoundException:
            return None
        self.values |= {value for value in (connection.login, connection.password) if value}
        return connection


def open_airflow() -> tuple[AirflowConnections | None, Check | None]:
    """Airflow's Connections and the ``airflow`` check, when Airflow is installed and configured
    here; (None, None) when it is not, and (None, the failed check) when its metadata database
    cannot be read."""
    if not airflow_configured() or importlib.util.find_spec("airflow") is None:
        return None, None
    try:
        from airflow import settings
        from airflow.configuration import conf
        from airflow.models.connection import Connection
    except Exception as exc:  # Airflow configures itself when imported, and fails there on any setting it cannot use
        return None, Check("airflow", "Airflow", False, f"Airflow is configured here but cannot be loaded: {type(exc).__name__}: {_first_line(exc)}", "Correct Airflow's settings (AIRFLOW_HOME, airflow.cfg, AIRFLOW__* variables) until `airflow config list` runs, or unset AIRFLOW_HOME to check the variables alone.")
    from sqlalchemy import func, select
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    try:
        name = make_url(conf.get("database", "sql_alchemy_conn")).render_as_string(hide_password=True)
    except ArgumentError:
        name = "Airflow's metadata database"
    try:
        assert settings.Session is not None, "Airflow's database is not configured"
        with settings.Session() as session:
            count = session.scalar(select(func.count()).select_from(Connection))
    except (SQLAlchemyError, AssertionError) as exc:
        reason = _first_line(getattr(exc, "orig", None) or exc)
        return None, Check(
            "airflow", name, False, f"cannot read the Airflow Connections: {reason}",
            "Start Airflow's metadata database or correct AIRFLOW__DATABASE__SQL_ALCHEMY_CONN (airflow db check tells); a new database is made with: airflow db migrate",
        )
    return AirflowConnections(), Check("airflow", name, True, f"the metadata database holds {count} Connection(s); each credential is looked up first in the Airflow Connections, as the tasks do")


@dataclass(frozen=True, slots=True)
class _S3FromAirflow:
    conn_id: str
    found: bool  #: the Connection exists
    problem: str | None = None  #: why its key pair cannot be used


def _s3_from_airflow(config: Config, airflow: AirflowConnections) -> _S3FromAirflow | None:
    """The S3 key pair of ``storage.airflow_conn_id``, handed to this process as a task's is."""
    from archiver.pipeline.tasks import s3_key_pair

    storage = config.storage
    if storage.kind != "s3" or not (storage.access_key_env and storage.secret_key_env):
        return None
    connection = airflow.get(storage.airflow_conn_id)
    if connection is None:
        return _S3FromAirflow(storage.airflow_conn_id, False)
    try:
        login, password = s3_key_pair(connection, storage.airflow_conn_id, storage)
    except ConfigError as exc:
        return _S3FromAirflow(storage.airflow_conn_id, True, exc.message)
    provide_secret(storage.access_key_env, login)
    provide_secret(storage.secret_key_env, password)
    return _S3FromAirflow(storage.airflow_conn_id, True)


# -- the data directory ----------------------------------------------------------------------
def writable(directory: Path) -> str | None:
    """None if files can be made in ``directory`` (or, when it does not exist yet, in the
    nearest directory above it, where it would be made); else why not."""
    target = directory
    while not target.exists():
        if target.parent == target:
            return f"no part of {directory} exists"
        target = target.parent
    if not target.is_dir():
        return f"{target} is a file, not a directory"
    try:
        with tempfile.NamedTemporaryFile(dir=target, prefix=".sangrah-check-"):
            pass
    except OSError as exc:
        return f"cannot write in {target}: {exc.strerror}"
    return None


def check_data_dir(config: Config) -> Check:
    path = config.data_dir.resolve()
    problem = writable(path)
    if problem:
        return Check("data", str(path), False, problem, "Set data_dir in the config to a directory this user can write, or change the directory's owner or mode.")
    made = "" if path.exists() else " (it does not exist yet; the first command makes it)"
    return Check("data", str(path), True, f"writable: staging, record dataset and caches{made}")


# -- the catalog -----------------------------------------------------------------------------
#: what an account's credential check needs: key, platform, handle, credential variable of its own
AccountFacts = tuple[str, str, str | None, str | None]


def check_catalog(config: Config) -> tuple[Check, list[AccountFacts] | None]:
    """The catalog's check, and its active accounts (None when they cannot be read)."""
    from sqlalchemy import create_engine, inspect, select
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.pool import NullPool

    from archiver.catalog import schema_revisions
    from archiver.catalog import tables as t

    url = make_url(config.resolved_catalog_url)
    shown = url.render_as_string(hide_password=True)
    if url.get_backend_name() == "sqlite":
        path = Path(url.database or "")
        if not url.database or url.database == ":memory:":
            return Check("catalog", shown, False, "an in-memory catalog keeps nothing", "Name a file: catalog_url: sqlite:////srv/sangrah/catalog.sqlite, or leave catalog_url out."), None
        if not path.exists():
            problem = writable(path.parent)
            if problem:
                return Check("catalog", shown, False, f"there is no catalog file, and it cannot be made: {problem}", "Set data_dir (or catalog_url) to a place this user can write."), None
            return Check("catalog", shown, True, "no catalog yet: the first command that opens it creates it, with every migration"), []
        engine = create_engine(f"sqlite:///file:{path}?mode=ro&uri=true", poolclass=NullPool)
    else:
        try:
            engine = create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": 5})
        except (SQLAlchemyError, ImportError) as exc:
            return Check("catalog", shown, False, f"cannot use this URL: {_first_line(exc)}", "Check catalog_url (postgresql+psycopg://user@host:port/database) and that sangrah[postgres] is installed."), None
    try:
        with engine.connect() as conn:
            current, pending = schema_revisions(conn)
            accounts: list[AccountFacts] = []
            if inspect(conn).has_table("accounts"):
                query = select(t.accounts.c.key, t.accounts.c.platform, t.accounts.c.handle, t.accounts.c.credential_env).where(t.accounts.c.active.is_(True)).order_by(t.accounts.c.key)
                accounts = [(r.key, r.platform, r.handle, r.credential_env) for r in conn.execute(query)]
    except ArchiverError as exc:
        return Check("catalog", shown, False, exc.message, "Run the same Sangrah version as the machines that migrated the catalog."), None
    except SQLAlchemyError as exc:
        reason = _first_line(getattr(exc, "orig", None) or exc)
        return Check("catalog", shown, False, f"cannot connect: {reason}", _catalog_next_step(reason, url.get_backend_name())), None
    finally:
        engine.dispose()
    where = f"at revision {', '.join(current)}" if current else "empty"
    if pending:
        detail = f"reachable, {where}; {len(pending)} migration(s) pending ({', '.join(pending)}), applied by the next command that opens the catalog"
    else:
        detail = f"reachable, {where} (the newest)"
    return Check("catalog", shown, True, f"{detail}; {len(accounts)} active account(s)"), accounts


def _catalog_next_step(reason: str, backend: str) -> str:
    if backend == "sqlite":
        return "The file is damaged or not a catalog: restore it from a copy, or point catalog_url at the right file."
    if "password authentication failed" in reason or "no password supplied" in reason:
        return "Export the database password as PGPASSWORD (or put it in ~/.pgpass) for the user catalog_url names."
    if "does not exist" in reason:
        return "Create the database and its owner (docs/deploy.md, PostgreSQL), or correct the database name in catalog_url."
    return "Start PostgreSQL, or correct the host and port in catalog_url; then run sangrah config check again."


# -- the store -------------------------------------------------------------------------------
def check_store(config: Config) -> Check:
    settings = config.storage
    if settings.kind == "local":
        path = config.store_dir.resolve()
        problem = writable(path)
        if problem:
            return Check("store", str(path), False, problem, "Set data_dir to a directory this user can write.")
        return Check("store", str(path), True, "local directory, writable; no Object Lock (storage.kind: s3 keeps WARC files on WORM storage)")
    from archiver.pipeline.stores import open_s3_store

    name = f"s3://{settings.bucket} at {settings.endpoint_url or f'AWS S3 ({settings.region})'}"
    unset = [s.variable for s in demanded_secrets(config) if s.setting[0] == "storage" and not s.is_set]
    if unset:
        return Check("store", name, False, f"not checked: {' and '.join(unset)} {'is' if len(unset) == 1 else 'are'} not set", f"Export the S3 key pair as {settings.access_key_env} and {settings.secret_key_env}.")
    try:
        state = open_s3_store(config).bucket_state()
    except BucketMissing as exc:
        return Check("store", name, False, exc.message, "Create it with Object Lock: sangrah storage init (or correct storage.bucket).")
    except StoreAuthError as exc:
        return Check("store", name, False, exc.message, f"Check the key pair in {settings.access_key_env} and {settings.secret_key_env}, and its rights on the bucket.")
    except StoreUnavailable as exc:
        return Check("store", name, False, exc.message, "Start the S3 server, or correct storage.endpoint_url.")
    except (StoreError, ConfigError) as exc:
        return Check("store", name, False, exc.message, "See the endpoint's log; then run sangrah config check again.")
    if not state.object_lock:
        return Check("store", name, False, "the bucket exists but has no Object Lock, which can be turned on only when a bucket is created", "Name a new bucket in storage.bucket and run: sangrah storage init")
    if state.versioning != "Enabled":
        return Check("store", name, False, f"Object Lock is on but versioning is {state.versioning}", "Enable versioning on the bucket (Object Lock needs it), or use a new bucket made by sangrah storage init.")
    return Check("store", name, True, f"credentials accepted; bucket exists with Object Lock and versioning enabled; WARC objects get {settings.object_lock_mode} retention, {settings.default_retention_days} days from publication until extraction extends it")


# -- credentials ---------------------------------------------------------------------------
def check_credentials(config: Config, accounts: Sequence[AccountFacts] | None, airflow: AirflowConnections | None = None, s3: _S3FromAirflow | None = None) -> list[Check]:
    """One check per credential: the configured services' and each active account's; under
    Airflow (``airflow``), its Connection is looked at first, as the tasks do."""
    from archiver.pipeline.tasks import AccountConnection, connection_id

    checks = _service_checks(config, airflow, s3)
    if accounts is None:
        checks.append(Check("credential", "accounts", False, "not checked: the catalog could not be read", "Make the catalog check pass first."))
        return checks
    for key, platform, handle, own in accounts:
        variable = own or config.platforms[platform].credential_env
        label = f"{key} (@{handle})" if handle else key
        conn_id = connection_id(key)
        add = f"airflow connections add {conn_id} --conn-type generic --conn-password '<credential>'"
        if airflow is not None and AccountConnection(key).credential(airflow.get) is not None:
            checks.append(Check("credential", variable, True, f"from Airflow Connection {conn_id}: the credential of {label}"))
        elif config.secret(variable) is not None:
            checks.append(Check("credential", variable, True, f"set: the credential of {label}"))
        elif airflow is not None:
            found = airflow.get(conn_id) is not None
            checks.append(Check(
                "credential", variable, False,
                f"not set: the credential of {label}; the Airflow Connection {conn_id} {'has no password' if found else 'does not exist'}, and {variable} is not set",
                (f"Give the Connection {conn_id} the credential as its password (airflow connections delete {conn_id}, then {add})" if found else f"Add it: {add}")
                + f"; or export it as {variable} where the tasks run.",
            ))
        else:
            checks.append(Check(
                "credential", variable, False, f"not set: the credential of {label}",
                f"Export it as {variable} where sangrah harvest runs; under Airflow, the connection {conn_id} holds it instead ({add}).",
            ))
    return checks


def _service_checks(config: Config, airflow: AirflowConnections | None, s3: _S3FromAirflow | None) -> list[Check]:
    demanded = demanded_secrets(config)
    if s3 is not None and s3.problem:
        # the Connection the tasks would take the key pair from is unusable: one failure, not two
        checks = [Check("credential", s3.conn_id, False, s3.problem, "Correct the Airflow Connection as the error says, then run sangrah config check again.")]
        return checks + [_variable_check(secret, airflow, s3) for secret in demanded if secret.airflow_conn_id != s3.conn_id]
    return [_variable_check(secret, airflow, s3) for secret in demanded]


def _variable_check(secret: DemandedSecret, airflow: AirflowConnections | None = None, s3: _S3FromAirflow | None = None) -> Check:
    where = ".".join(secret.setting)
    if s3 is not None and s3.found and secret.airflow_conn_id == s3.conn_id:
        return Check("credential", secret.variable, True, f"from Airflow Connection {s3.conn_id}: {secret.what} ({where})")
    if secret.is_set:
        return Check("credential", secret.variable, True, f"set: {secret.what} ({where})")
    if airflow is not None and secret.airflow_conn_id:
        return Check(
            "credential", secret.variable, False, f"not set: {secret.what} ({where}); the Airflow Connection {secret.airflow_conn_id} does not exist, and {secret.variable} is not set",
            f"Add it: airflow connections add {secret.airflow_conn_id} --conn-type aws --conn-login '<access key id>' --conn-password '<secret key>'; or export {secret.what} as {secret.variable}.",
        )
    airflow_hint = f"; under Airflow, the connection {secret.airflow_conn_id} holds it instead" if secret.airflow_conn_id else ""
    return Check("credential", secret.variable, False, f"not set: {secret.what} ({where})", f"Export {secret.what} as {secret.variable}{airflow_hint}.")


def _secret_values(config: Config, accounts: Sequence[AccountFacts] | None) -> set[str]:
    variables = {s.variable for s in demanded_secrets(config)} | {"PGPASSWORD"}
    for _key, platform, _handle, own in accounts or ():
        variables.add(own or config.platforms[platform].credential_env)
    values = {config.secret(v) for v in variables}
    return {v for v in values if v}


def _scrubbed(checks: Iterable[Check], secrets: set[str]) -> Iterable[Check]:
    """The checks with every credential value replaced by ***, wherever an error quoted it."""
    def scrub(text: str | None) -> str | None:
        if text is None:
            return None
        for secret in secrets:
            text = text.replace(secret, "***")
        return text

    for check in checks:
        yield Check(check.service, check.name, check.ok, scrub(check.detail) or "", scrub(check.next_step))


# -- files -----------------------------------------------------------------------------------
def check_files(config: Config) -> list[Check]:
    """Each rule file the configuration names (or its default), read and checked in full."""
    from archiver.retention.schedule import DEFAULT_SCHEDULE_PATH, load_schedule
    from archiver.rti.fees import DEFAULT_FEES_PATH, load_fee_tables
    from archiver.rti.timelines import DEFAULT_TIMELINES_PATH, load_timelines
    from archiver.search.rules import DEFAULT_RULES_PATH, load_rules

    def schedule() -> str:
        return f"{len(load_schedule(config.retention_schedule).series)} series"

    def rules() -> str:
        return f"{len(load_rules(config.search.rti_rules).rules)} rule(s)"

    def timelines() -> str:
        return f"{len(load_timelines(config.rti.timelines).rules)} period rule(s)"

    def fees() -> str:
        load_fee_tables(config.rti.fees).table(config.rti.jurisdiction)
        return f"has the fee table of {config.rti.jurisdiction}"

    files: list[tuple[str, str, Path | None, Path, Callable[[], str]]] = [
        ("retention schedule", "retention_schedule", config.retention_schedule, DEFAULT_SCHEDULE_PATH, schedule),
        ("RTI relevance rules", "search.rti_rules", config.search.rti_rules, DEFAULT_RULES_PATH, rules),
        ("RTI timelines", "rti.timelines", config.rti.timelines, DEFAULT_TIMELINES_PATH, timelines),
        ("RTI fee tables", "rti.fees", config.rti.fees, DEFAULT_FEES_PATH, fees),
    ]
    checks = []
    for what, setting, named, default, read in files:
        path = named or default
        try:
            detail = read()
        except ConfigError as exc:
            checks.append(Check("file", str(path), False, exc.message, f"Correct the file, or the path in {setting}."))
            continue
        checks.append(Check("file", str(path), True, f"the {what}{'' if named else ' (default)'}: read and checked, {detail}"))
    return checks + _disclosure_files(config)


def _disclosure_files(config: Config) -> list[Check]:
    """The disclosure packages' signing key (it exists, is its owner's alone, and is an Ed25519
    key; never shown) and the BSA Schedule's wording, when the configuration names them."""
    checks = []
    key = config.disclosure.signing_key_file
    if key is not None:
        from archiver.rti.package.signing import load_signing_key

        try:
            fingerprint = load_signing_key(key).fingerprint
        except ConfigError as exc:
            checks.append(Check("file", str(key), False, exc.message, "Fix the file's mode or content, or name the right file in disclosure.signing_key_file."))
        else:
            checks.append(Check("file", str(key), True, f"the signing key: readable by its owner only, an Ed25519 key (public key fingerprint {fingerprint[:16]}…)"))
    schedule = config.disclosure.bsa_schedule_file
    if schedule is not None:
        from archiver.rti.package.certificate import load_schedule_text, missing_schedule_text

        try:
            missing = missing_schedule_text(load_schedule_text(schedule))
        except ConfigError as exc:
            checks.append(Check("file", str(schedule), False, exc.message, "Correct the file, or the path in disclosure.bsa_schedule_file."))
        else:
            lacks = f"; it still lacks {len(missing)} sentence(s), so certificates say they are not ready to sign" if missing else ""
            checks.append(Check("file", str(schedule), True, f"the BSA 2023 Schedule's wording: read{lacks}"))
    return checks


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    line = lines[0] if lines else type(exc).__name__
    return line if len(line) <= 300 else line[:300] + "…"
