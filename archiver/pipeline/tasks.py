"""What each task of the Airflow DAGs (``dags/``) runs, so that the DAG files only wire steps.

A task loads the config from the file ``SANGRAH_CONFIG`` names, takes the account's credential
from its Airflow Connection, runs one step (``archiver.pipeline.steps``) and writes the step's
summary into the task's log as one JSON line. Airflow is imported only inside these functions:
the rest of Sangrah runs without it.

Credentials: one Airflow Connection per platform account, with the id ``connection_id(key)``,
``sangrah_<platform>_<native id>`` with every character other than letters, digits, ``_``, ``.``
and ``-`` made ``_`` (``x:1350000000000000001`` → ``sangrah_x_1350000000000000001``,
``bluesky:did:plc:abc`` → ``sangrah_bluesky_did_plc_abc``). Its password field holds the
credential (bearer token, access token, API key or JWT); type ``generic``. The credential is handed
to the harvest in-process under the variable name the account is configured with
(``archiver.config.provide_secret``): it is never written to a file, a log, an XCom or a WARC
record. Without a connection, a credential exported in the worker's environment is used.

The S3 key pair, with ``storage.kind: s3``, comes the same way from the Connection
``storage.airflow_conn_id`` (``sangrah_s3`` unless the config names another), of type ``aws``:
its login is the access key id, its password the secret key (``S3Connection``). The endpoint,
bucket and region stay in the config file; an ``endpoint_url`` in the connection's extra must
agree with it. Every task loads the config, then hands the connections' credentials over, then
checks that every credential variable the config demands is set (``_config``).

The RTI cell's morning list (``rti_due``, ``rti_escalate``): what is due or overdue, one log
line per item, WARNING for each overdue one with whom it escalates to; ``rti_escalate`` fails the
task, and so the run, while anything is overdue, so that Airflow's failure alerts reach the
operators (docs/deploy.md, "RTI daily").
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from archiver.config import Config, StorageSettings, check_secrets, load_config_from_environment, provide_secret
from archiver.errors import AuthError, ConfigError, RtiError

__all__ = ["connection_id", "task_connection", "s3_key_pair", "AccountConnection", "S3Connection", "begin", "plan", "harvest", "extract", "index", "verify_night", "report", "fixity", "rti_deemed_refusals", "rti_due", "rti_escalate"]

log = logging.getLogger(__name__)

CONNECTION_PREFIX = "sangrah_"


def connection_id(account_key: str) -> str:
    """The id of the Airflow Connection holding an account's credential."""
    return CONNECTION_PREFIX + re.sub(r"[^A-Za-z0-9_.-]", "_", account_key)


def task_connection(conn_id: str) -> Any | None:
    """The Airflow Connection ``conn_id`` as a task is given it, or None when there is none."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return None


def s3_key_pair(connection: Any, conn_id: str, storage: StorageSettings, *, then: str = "") -> tuple[str, str]:
    """(access key id, secret key) of the S3 Connection ``conn_id``; ``ConfigError`` when it
    lacks either, or names another endpoint than the config. ``then`` ends the instruction to
    add the connection (a task says to clear it)."""
    if not connection.login or not connection.password:
        raise ConfigError(
            f"the Airflow connection {conn_id} has no {'login (the access key id)' if not connection.login else 'password (the secret key)'}. "
            f"Set both: airflow connections add {conn_id} --conn-type aws --conn-login '<access key id>' --conn-password '<secret key>'{then}."
        )
    endpoint = (connection.extra_dejson or {}).get("endpoint_url")
    if endpoint and endpoint.rstrip("/") != (storage.endpoint_url or "").rstrip("/"):
        raise ConfigError(
            f"the Airflow connection {conn_id} names the endpoint {endpoint}, but storage.endpoint_url in the config is {storage.endpoint_url or 'AWS S3'}; "
            "the config chooses where the WARC files go and the connection only who writes them: make them agree, or drop endpoint_url from the connection's extra."
        )
    return str(connection.login), str(connection.password)


class AccountConnection:
    """A hook-like adapter: an account's Airflow Connection → the credential its harvest reads.

    Cheap to build; the connection is looked up when ``provide`` is called, in the task.
    """

    def __init__(self, account_key: str, *, conn_id: str | None = None) -> None:
        self.account_key = account_key
        self.conn_id = conn_id or connection_id(account_key)

    def credential(self, lookup: Callable[[str], Any | None] | None = None) -> str | None:
        """The connection's password, or None when there is no such connection or it has none.

        ``lookup`` finds a connection by id (None when there is none); a task's own by default,
        ``sangrah config check`` gives one that reads Airflow from outside a task.
        """
        connection = (lookup or task_connection)(self.conn_id)
        return (connection.password or None) if connection is not None else None

    def provide(self, config: Config) -> str:
        """Hand the credential to this process's harvest; returns where it came from (no value)."""
        from archiver.pipeline.capture import open_catalog

        catalog = open_catalog(config)
        try:
            row = catalog.get_account(self.account_key)
        finally:
            catalog.close()
        if row is None:
            from archiver.errors import CatalogError

            raise CatalogError(f"no account {self.account_key} is registered. See them with `sangrah accounts list`.")
        variable = row.credential_env or config.platforms[row.platform].credential_env
        credential = self.credential()
        if credential is not None:
            provide_secret(variable, credential)
            log.info("credential account=%s source=airflow-connection conn_id=%s", self.account_key, self.conn_id)
            return f"connection {self.conn_id}"
        if config.secret(variable) is not None:
            log.info("credential account=%s source=environment variable=%s (no connection %s)", self.account_key, variable, self.conn_id)
            return f"variable {variable}"
        label = f"{row.key} (@{row.handle})" if row.handle else row.key
        error = AuthError(
            f"{label}: no credential; there is no Airflow connection {self.conn_id} with a password, and {variable} is not set. "
            f"Add it: airflow connections add {self.conn_id} --conn-type generic --conn-password '<credential>', then clear this task.",
            account=row.key,
        )
        catalog = open_catalog(config)
        try:
            catalog.audit(actor=config.operator_name, action="harvest_account", target=row.key, outcome="failed", details=error.to_dict())
        finally:
            catalog.close()
        raise error


class S3Connection:
    """A hook-like adapter: the Airflow Connection (type ``aws``) holding the S3 key pair → the
    variables ``storage.access_key_env`` and ``storage.secret_key_env`` name.

    Cheap to build; the connection is looked up when ``provide`` is called, in the task.
    """

    def __init__(self, conn_id: str) -> None:
        self.conn_id = conn_id

    def provide(self, config: Config) -> str:
        """Hand the key pair to this process's store; returns where it came from (no value)."""
        storage = config.storage
        if storage.kind != "s3":
            return "no S3 store configured"
        if not (storage.access_key_env and storage.secret_key_env):
            log.info("s3 credentials source=boto3-default-chain (storage.access_key_env is empty; connection %s not used)", self.conn_id)
            return "boto3's default chain"
        connection = task_connection(self.conn_id)
        if connection is None:
            log.info("s3 credentials source=environment variables=%s,%s (no connection %s)", storage.access_key_env, storage.secret_key_env, self.conn_id)
            return f"variables {storage.access_key_env} and {storage.secret_key_env}"
        login, password = s3_key_pair(connection, self.conn_id, storage, then=", then clear this task")
        provide_secret(storage.access_key_env, login)
        provide_secret(storage.secret_key_env, password)
        log.info("s3 credentials source=airflow-connection conn_id=%s bucket=%s", self.conn_id, storage.bucket)
        return f"connection {self.conn_id}"


def _config() -> Config:
    """The config of ``SANGRAH_CONFIG``, with the S3 connection's key pair handed over, and every
    credential variable it demands checked to be set (one message naming each that is not)."""
    config = load_config_from_environment(require_secrets=False)
    S3Connection(config.storage.airflow_conn_id).provide(config)
    check_secrets(config)
    return config


def _log_summary(step: str, summary: dict[str, Any]) -> None:
    log.info("summary step=%s %s", step, json.dumps(summary, sort_keys=True, default=str, ensure_ascii=False))


def begin() -> str:
    """The instant the night began: ``verify_night`` checks what was published after it."""
    return datetime.now(timezone.utc).isoformat()


def plan() -> list[str]:
    """The night's accounts: every active one."""
    from archiver.pipeline import steps

    accounts = steps.active_accounts(_config())
    _log_summary("plan", {"accounts": accounts})
    return accounts


def harvest(account: str) -> dict[str, Any]:
    from archiver.pipeline import steps

    config = _config()
    connection = AccountConnection(account)
    source = connection.provide(config)
    try:
        full = steps.harvest(config, account)
    except AuthError as exc:
        if not source.startswith("connection "):
            raise
        raise AuthError(
            f"{exc.message} (Under Airflow the credential comes from the Airflow connection {connection.conn_id}: update its password, then clear this task.)",
            account=exc.account, url=exc.url, status=exc.status,
        ) from exc
    _log_summary("harvest", full)
    # downstream gets names and counts; the coverage statement stays in the catalog and the WARC
    return {"account": account, "harvest_id": full["harvest_id"], "status": full["status"], "warc_files": [w["name"] for w in full["warc_files"]]}


def extract(harvested: dict[str, Any]) -> dict[str, Any]:
    from archiver.pipeline import steps

    summary = steps.extract(_config(), harvested["account"])
    _log_summary("extract", summary)
    return summary


def index() -> dict[str, Any]:
    from archiver.pipeline import steps

    summary = steps.index(_config())
    _log_summary("index", summary)
    return summary


def verify_night(started_at: str) -> dict[str, Any]:
    from archiver.pipeline import steps

    summary = steps.verify_since(_config(), datetime.fromisoformat(started_at))
    _log_summary("verify", summary)
    return summary


def report(accounts: list[str], started_at: str) -> dict[str, Any]:
    """The night's summary, one line per account; fails the run when any account failed."""
    from archiver.errors import ArchiverError
    from archiver.pipeline import steps

    summary = steps.run_summary(_config(), accounts, datetime.fromisoformat(started_at))
    for row in summary["accounts"]:
        log.info("account=%s status=%s warc_files=%d%s", row["account"], row["status"], len(row["warc_files"]), f" error={row['error']}" if row["error"] else "")
    _log_summary("report", summary)
    if summary["failed"]:
        raise ArchiverError(
            f"{len(summary['failed'])} of {len(accounts)} accounts failed tonight: {', '.join(summary['failed'])}; "
            "the others were captured, extracted and verified. Each failed harvest task's log says why and what to do."
        )
    return summary


def fixity() -> dict[str, Any]:
    """Every WARC and Parquet file against the manifest; fails loudly on any mismatch."""
    from archiver.pipeline import steps

    summary = steps.verify(_config())
    _log_summary("fixity", summary)
    return summary


def rti_due() -> dict[str, Any]:
    """The RTI cell's list this morning: one log line per item, most urgent first; WARNING for each
    overdue one, with whom it escalates to. Returns the list (registration numbers, dates, rules:
    no applicant's particulars)."""
    from archiver.pipeline.rti import rti_due as due

    listing = due(_config())
    for item in listing["items"]:
        if item["status"] == "overdue":
            log.warning(
                "rti overdue registration_no=%s rule=%s due_on=%s days_overdue=%s escalate_to=%s penalty_risk_inr=%s cite=%s",
                item["registration_no"], item["rule"], item["due_on"], -item["days_left"] if item["days_left"] is not None else None,
                item["escalate_to"] or "none", item["penalty_risk_inr"] or 0, item["cite"],
            )
        else:
            log.info("rti %s registration_no=%s rule=%s due_on=%s days_left=%s", item["status"], item["registration_no"], item["rule"], item["due_on"], item["days_left"])
    _log_summary("rti_due", {"as_of_ist_date": listing["as_of_ist_date"], "items": len(listing["items"]), "overdue": listing["overdue"], "audit_head": listing["audit_head"]})
    return listing


def rti_deemed_refusals() -> list[str]:
    """Record the deemed refusals that fell since the last run (RTI s.7(2)); one log line each.
    Only the catalog is written: no store credential is needed, so none is demanded."""
    from archiver.pipeline.rti import rti_deemed_refusals as record

    recorded = record(load_config_from_environment(require_secrets=False))
    for registration_no in recorded:
        log.warning("rti deemed refusal recorded registration_no=%s rule=RTI s.7(2)", registration_no)
    _log_summary("rti_deemed_refusals", {"recorded": len(recorded)})
    return recorded


def rti_escalate(listing: dict[str, Any]) -> dict[str, Any]:
    """Fail, naming every overdue request and whom it escalates to, when anything is overdue."""
    overdue = [item for item in listing["items"] if item["status"] == "overdue"]
    if overdue:
        named = "; ".join(f"{i['registration_no']} ({i['what']}, due {i['due_on']}, escalate to {i['escalate_to'] or 'the RTI cell'})" for i in overdue)
        raise RtiError(
            f"{len(overdue)} RTI item(s) overdue as of {listing['as_of_ist_date']} (IST): {named}. "
            "Act on each and record it (sangrah rti decide, sangrah rti record); see the list with: sangrah rti due",
            request=overdue[0]["registration_no"], rule=overdue[0]["cite"],
        )
    log.info("rti nothing overdue as_of_ist_date=%s items=%d", listing["as_of_ist_date"], len(listing["items"]))
    return {"overdue": 0, "items": len(listing["items"])}
