"""The relational state beside the WARC files: accounts, runs, cursors, manifest, audit log.

SQLite by default, PostgreSQL in production; the same Alembic migrations build both. Every
write that must agree with a published WARC file (its manifest row and the cursors it
advances) happens in one transaction (``record_warc``).
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, delete, event, insert, inspect, select, text, update
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError, SQLAlchemyError

from archiver.catalog import access_tables, rti_review_tables, rti_tables  # noqa: F401  (their tables join the metadata)
from archiver.catalog import tables as t
from archiver.catalog.audit import append_entry
from archiver.errors import CatalogError

__all__ = ["Catalog", "AccountRow", "WarcRow", "unavailable_message", "schema_revisions"]

_T = TypeVar("_T")

#: times a unit of work is run again after another writer took the audit log's head first
_AUDIT_RETRIES = 8

log = logging.getLogger(__name__)

_MIGRATIONS = Path(__file__).parent / "migrations"
#: the newest migration: a catalog already at it is left as it is without the migrations being
#: loaded, which took a sixth of a second of every command (a test keeps it the migrations' head)
SCHEMA_HEAD = "0005_review"


@dataclass(frozen=True, slots=True)
class AccountRow:
    key: str
    platform: str
    native_id: str
    handle: str | None
    display_name: str | None
    base_url: str | None
    credential_env: str | None
    active: bool
    added_at: datetime


@dataclass(frozen=True, slots=True)
class WarcRow:
    name: str
    store_key: str
    size_bytes: int
    sha256: str
    record_count: int
    first_at: datetime | None
    last_at: datetime | None
    harvest_id: str
    status: str
    published_at: datetime | None


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _aware(value: datetime | None) -> datetime | None:
    # SQLite hands timezone-aware columns back naive; they were stored in UTC
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


class Catalog:
    """The catalog at a SQLAlchemy URL (``sqlite:///path`` or ``postgresql+psycopg://...``)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.safe_url = _safe(url)
        try:
            if url.startswith("sqlite"):
                self.engine: Engine = create_engine(url)
            else:
                # a server restarted under a long run: pooled connections are checked before use,
                # and a server that does not answer fails the step in seconds, not minutes
                self.engine = create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 10})
        except (SQLAlchemyError, ImportError, ValueError) as exc:
            raise CatalogError(f"cannot open the catalog at {self.safe_url}: {exc}. Check catalog_url in the config.", catalog=self.safe_url) from exc
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        # every failure of the database itself, wherever the catalog is used, arrives as ours
        event.listen(self.engine, "handle_error", self._unavailable)

    def _unavailable(self, context: ExceptionContext) -> CatalogError | None:
        if context.is_pre_ping:
            return None  # the pool reconnects by itself
        failure = context.sqlalchemy_exception
        if not (context.is_disconnect or isinstance(failure, (OperationalError, InterfaceError))):
            return None  # a statement the catalog refused (a constraint, a trigger) stays as it is
        reason = _first_line(context.original_exception)
        password = self.engine.url.password
        if password:
            reason = reason.replace(str(password), "***")
        return CatalogError(unavailable_message(self.safe_url, reason), catalog=self.safe_url, reason=reason)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        """Hold the catalog-wide lock ``name`` for the block, waiting for any other holder.

        PostgreSQL: an advisory lock, which holds across every machine sharing the catalog (Airflow
        workers); SQLite: a lock on a file beside the database.
        """
        if self.engine.dialect.name == "postgresql":
            key = int.from_bytes(hashlib.sha256(f"sangrah:{name}".encode()).digest()[:8], "big", signed=True)
            with self.engine.connect() as conn:
                conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
                conn.commit()
                try:
                    yield
                finally:
                    if not conn.invalidated:
                        conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                        conn.commit()
            return
        database = self.engine.url.database
        path = Path(f"{database}.{name}.lock") if database and database != ":memory:" else None
        if path is None:
            yield  # an in-memory catalog lives in one process
            return
        with open(path, "a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                log.info("waiting for lock=%s held by another run", name)
                fcntl.flock(handle, fcntl.LOCK_EX)
            yield

    def migrate(self) -> None:
        """Bring the schema to the newest revision (idempotent)."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        try:
            with self.engine.connect() as connection:
                if inspect(connection).has_table("alembic_version") and list(connection.execute(text("SELECT version_num FROM alembic_version")).scalars()) == [SCHEMA_HEAD]:
                    return
            with self.engine.begin() as connection:
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        except CatalogError:
            raise
        except SQLAlchemyError as exc:
            raise CatalogError(f"cannot migrate the catalog at {self.safe_url}: {_first_line(exc)}", catalog=self.safe_url) from exc

    # -- accounts -----------------------------------------------------------------------------
    def add_account(
        self,
        *,
        platform: str,
        native_id: str,
        handle: str | None = None,
        display_name: str | None = None,
        base_url: str | None = None,
        credential_env: str | None = None,
        replace: bool = False,
    ) -> AccountRow:
        key = f"{platform}:{native_id}"
        values = dict(
            key=key,
            platform=platform,
            native_id=native_id,
            handle=handle,
            display_name=display_name,
            base_url=base_url,
            credential_env=credential_env,
            active=True,
        )
        with self.engine.begin() as conn:
            existing = conn.execute(select(t.accounts.c.key).where(t.accounts.c.key == key)).first()
            if existing and not replace:
                raise CatalogError(f"account {key} is already registered. Use --replace to change its settings.")
            if existing:
                conn.execute(update(t.accounts).where(t.accounts.c.key == key).values(**values))
            else:
                conn.execute(insert(t.accounts).values(**values, added_at=_now()))
        account = self.get_account(key)
        assert account is not None
        return account

    def get_account(self, key: str) -> AccountRow | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(t.accounts).where(t.accounts.c.key == key)).mappings().first()
        return _account(row) if row else None

    def list_accounts(self, *, active_only: bool = False) -> list[AccountRow]:
        query = select(t.accounts).order_by(t.accounts.c.platform, t.accounts.c.key)
        if active_only:
            query = query.where(t.accounts.c.active.is_(True))
        with self.engine.connect() as conn:
            return [_account(r) for r in conn.execute(query).mappings()]

    # -- harvest runs -------------------------------------------------------------------------
    def start_run(self, harvest_id: str, *, operator: str, host: str, software: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(t.harvest_runs).values(
                    harvest_id=harvest_id, started_at=_now(), status="running", operator=operator, host=host, software=software
                )
            )

    def finish_run(self, harvest_id: str, *, status: str, summary: Mapping[str, Any]) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(t.harvest_runs)
                .where(t.harvest_runs.c.harvest_id == harvest_id)
                .values(finished_at=_now(), status=status, summary=dict(summary))
            )

    def mark_interrupted(self, *, host: str, alive: Collection[str]) -> int:
        """Mark ``interrupted`` the runs of ``host`` still ``running`` but not ``alive``: they
        died before they could say how they ended (killed, or their catalog went away)."""
        with self.engine.begin() as conn:
            result = conn.execute(
                update(t.harvest_runs)
                .where(t.harvest_runs.c.status == "running", t.harvest_runs.c.host == host, t.harvest_runs.c.harvest_id.not_in(sorted(alive)))
                .values(finished_at=_now(), status="interrupted")
            )
            return int(result.rowcount or 0)

    def get_run(self, harvest_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(t.harvest_runs).where(t.harvest_runs.c.harvest_id == harvest_id)).mappings().first()
        return dict(row) if row else None

    def runs_since(self, since: datetime) -> list[dict[str, Any]]:
        """The harvest runs started at or after ``since``, oldest first."""
        with self.engine.connect() as conn:
            query = select(t.harvest_runs).where(t.harvest_runs.c.started_at >= since).order_by(t.harvest_runs.c.started_at)
            return [{**row, "started_at": _aware(row["started_at"]), "finished_at": _aware(row["finished_at"])} for row in conn.execute(query).mappings()]

    # -- cursors ------------------------------------------------------------------------------
    def get_cursor(self, account_key: str, endpoint: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(t.cursors.c.state).where(t.cursors.c.account_key == account_key, t.cursors.c.endpoint == endpoint)
            ).first()
        return dict(row[0]) if row else None

    def cursors_for(self, account_key: str) -> dict[str, dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.cursors.c.endpoint, t.cursors.c.state).where(t.cursors.c.account_key == account_key))
            return {endpoint: dict(state) for endpoint, state in rows}

    # -- the WARC manifest ------------------------------------------------------------------
    def record_warc(
        self,
        *,
        name: str,
        store_key: str,
        size_bytes: int,
        sha256: str,
        record_count: int,
        first_at: datetime | None,
        last_at: datetime | None,
        harvest_id: str,
        cursor_updates: Mapping[tuple[str, str], Mapping[str, Any] | None] = {},
    ) -> None:
        """Enter a closed, hashed WARC as ``pending`` and advance the cursors it holds, atomically.

        A ``None`` state removes that cursor row.
        """
        now = _now()
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(t.warc_files).values(
                        name=name,
                        store_key=store_key,
                        size_bytes=size_bytes,
                        sha256=sha256,
                        record_count=record_count,
                        first_at=first_at,
                        last_at=last_at,
                        harvest_id=harvest_id,
                        status="pending",
                        recorded_at=now,
                    )
                )
                self._write_cursors(conn, cursor_updates, harvest_id, now)
        except IntegrityError as exc:
            raise CatalogError(f"the manifest already lists a WARC named {name}: {exc.orig}") from exc

    def mark_published(self, name: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(t.warc_files).where(t.warc_files.c.name == name).values(status="published", published_at=_now()))

    def mark_deleted(self, name: str) -> None:
        """The file was deleted from the store through the governed path; its row stays, as the record of it."""
        with self.engine.begin() as conn:
            conn.execute(update(t.warc_files).where(t.warc_files.c.name == name).values(status="deleted"))

    def write_cursors(self, updates: Mapping[tuple[str, str], Mapping[str, Any] | None], harvest_id: str) -> None:
        """Advance cursors with no WARC attached (a walk that captured nothing new)."""
        with self.engine.begin() as conn:
            self._write_cursors(conn, updates, harvest_id, _now())

    def _write_cursors(self, conn: Any, updates: Mapping[tuple[str, str], Mapping[str, Any] | None], harvest_id: str, now: datetime) -> None:
        for (account_key, endpoint), state in updates.items():
            conn.execute(delete(t.cursors).where(t.cursors.c.account_key == account_key, t.cursors.c.endpoint == endpoint))
            if state is not None:
                conn.execute(
                    insert(t.cursors).values(
                        account_key=account_key, endpoint=endpoint, state=dict(state), harvest_id=harvest_id, updated_at=now
                    )
                )

    def get_warc(self, name: str) -> WarcRow | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(t.warc_files).where(t.warc_files.c.name == name)).mappings().first()
        return _warc(row) if row else None

    def warcs_of_accounts(self, account_keys: Collection[str]) -> set[str]:
        """The WARC files that hold captures of these accounts: those of the harvests that walked
        them (their coverage rows) and of the exports imported for them (their audit entries)."""
        keys = sorted(account_keys)
        with self.engine.connect() as conn:
            walked = select(t.coverage.c.harvest_id).where(t.coverage.c.account_key.in_(keys))
            names = set(conn.execute(select(t.warc_files.c.name).where(t.warc_files.c.harvest_id.in_(walked))).scalars())
            imports = conn.execute(select(t.audit_log.c.details).where(t.audit_log.c.action == "import_export", t.audit_log.c.target.in_(keys)))
            for (details,) in imports:
                names.update((details or {}).get("warc_files") or [])
        return names

    def iter_warcs(self, *, status: str | None = None) -> Iterator[WarcRow]:
        query = select(t.warc_files).order_by(t.warc_files.c.name)
        if status:
            query = query.where(t.warc_files.c.status == status)
        with self.engine.connect() as conn:
            rows = [_warc(r) for r in conn.execute(query).mappings()]
        yield from rows

    # -- coverage -----------------------------------------------------------------------------
    def record_coverage(
        self,
        *,
        harvest_id: str,
        account_key: str,
        endpoint: str,
        window_start: datetime | None,
        window_end: datetime,
        statement: Mapping[str, Any],
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                delete(t.coverage).where(
                    t.coverage.c.harvest_id == harvest_id, t.coverage.c.account_key == account_key, t.coverage.c.endpoint == endpoint
                )
            )
            conn.execute(
                insert(t.coverage).values(
                    harvest_id=harvest_id,
                    account_key=account_key,
                    endpoint=endpoint,
                    window_start=window_start,
                    window_end=window_end,
                    statement=dict(statement),
                )
            )

    def coverage_for(self, harvest_id: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.coverage).where(t.coverage.c.harvest_id == harvest_id).order_by(t.coverage.c.id)).mappings()
            return [dict(r) for r in rows]

    # -- the audit log ------------------------------------------------------------------------
    def audit(self, *, actor: str, action: str, target: str | None, outcome: str, details: Mapping[str, Any] | None = None) -> None:
        """Append one entry: who did what to what, and how it ended. Entries are never changed.

        The entry is chained to the one before it (``archiver.catalog.audit``).
        """
        self.write(lambda conn: append_entry(conn, actor=actor, action=action, target=target, outcome=outcome, details=details, at=_now()))

    def write(self, work: Callable[[Connection], _T]) -> _T:
        """Run ``work(conn)`` in one transaction, again if another writer chained onto the audit log first.

        Work that writes an audit entry together with what it records (an RTI event and its
        entry) goes through here, so that both are kept or neither is.
        """
        for attempt in range(_AUDIT_RETRIES):
            try:
                with self.engine.connect() as conn:
                    if self.engine.dialect.name == "sqlite":
                        # take the write lock before reading the audit log's head, so that
                        # writers queue (busy_timeout) instead of racing for the head
                        conn.exec_driver_sql("BEGIN IMMEDIATE")
                    result = work(conn)
                    conn.commit()
                    return result
            except IntegrityError as exc:
                if "audit_log" not in str(exc.orig) or attempt == _AUDIT_RETRIES - 1:
                    raise
                log.info("audit_head_taken attempt=%s", attempt + 1)
        raise AssertionError("unreachable")

    def audit_entries(self, *, action: str | None = None, since: datetime | None = None) -> list[dict[str, Any]]:
        query = select(t.audit_log).order_by(t.audit_log.c.id)
        if action:
            query = query.where(t.audit_log.c.action == action)
        if since is not None:
            query = query.where(t.audit_log.c.at >= since)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]


def _account(row: Any) -> AccountRow:
    return AccountRow(**{**row, "added_at": _aware(row["added_at"])})


def _warc(row: Any) -> WarcRow:
    return WarcRow(
        name=row["name"],
        store_key=row["store_key"],
        size_bytes=row["size_bytes"],
        sha256=row["sha256"],
        record_count=row["record_count"],
        first_at=_aware(row["first_at"]),
        last_at=_aware(row["last_at"]),
        harvest_id=row["harvest_id"],
        status=row["status"],
        published_at=_aware(row["published_at"]),
    )


def schema_revisions(connection: Connection) -> tuple[list[str], list[str]]:
    """(the revisions the database is at, the migrations it still lacks, oldest first), read
    without changing anything. Raises ``CatalogError`` for a revision this Sangrah does not know."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from alembic.script.revision import ResolutionError
    from alembic.util import CommandError

    script = ScriptDirectory(str(_MIGRATIONS))
    current = list(MigrationContext.configure(connection).get_current_heads())
    try:
        pending = [rev.revision for rev in script.iterate_revisions("heads", tuple(current) or "base")]
    except (CommandError, ResolutionError) as exc:
        raise CatalogError(
            f"the catalog is at revision {', '.join(current)}, which this Sangrah does not know ({_first_line(exc)}): a newer Sangrah migrated it. "
            "Upgrade Sangrah on this machine to the version the others run."
        ) from exc
    return current, [revision for revision in reversed(pending) if revision not in current]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def unavailable_message(catalog: str, reason: str, next_step: str = "run the step again") -> str:
    """What to tell an operator when the catalog's database failed under a step."""
    return (
        f"the catalog at {catalog} failed: {reason}. Nothing already archived is lost: a WARC file enters "
        "the catalog together with the cursors it advances, and the next run finishes or repeats what this one "
        f"left. Check that the database is up and reachable, then {next_step}"
    )


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    line = lines[0] if lines else type(exc).__name__
    return line if len(line) <= 300 else line[:300] + "…"


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparseable URL is shown as a placeholder, never echoed with a secret
        return "<unparseable catalog URL>"


# ``from __future__ import annotations`` bound the name ``annotations`` in this module; without it,
# ``from archiver.catalog import annotations`` finds the module of that name (marks and holds)
del annotations
