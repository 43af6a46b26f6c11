"""RTI: the request register, users and roles, the credential register, the audit log's hash chain.

Revision ID: 0003_rti
Revises: 0002

Entries already in the audit log are chained here, in the order of their ids, so that
``sangrah audit verify`` covers the whole log. The append-only triggers are lifted for that one
update and put back at once; RTI events get the same triggers.
"""

import json
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

from archiver.catalog.audit import GENESIS, entry_hash

revision = "0003_rti"
down_revision = "0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)

#: what the database says when asked to change an append-only table
_REFUSAL = {"audit_log": "the audit log is append-only", "rti_events": "the RTI events are append-only"}


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.add_column("audit_log", sa.Column("prev_hash", sa.String(64)))
    op.add_column("audit_log", sa.Column("entry_hash", sa.String(64)))
    _chain_existing_entries(dialect)
    # one entry per predecessor: two writers cannot both chain onto the same head
    op.create_index("uq_audit_log_prev_hash", "audit_log", ["prev_hash"], unique=True)

    op.create_table(
        "users",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("full_name", sa.String(255), nullable=False),
        sa.Column("designation", sa.String(255)),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("added_at", TS, nullable=False),
        sa.Column("added_by", sa.String(100), nullable=False),
    )
    op.create_table(
        "user_roles",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_name", sa.String(100), sa.ForeignKey("users.name", name="fk_user_roles_user_name_users"), nullable=False),
        sa.Column("role", sa.String(40), nullable=False),
        sa.Column("granted_at", TS, nullable=False),
        sa.Column("granted_by", sa.String(100), nullable=False),
        sa.Column("revoked_at", TS),
        sa.Column("revoked_by", sa.String(100)),
        sa.Column("reason", sa.Text),
    )
    op.create_index("ix_user_roles_user_name", "user_roles", ["user_name"])
    op.create_table(
        "account_credentials",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account_key", sa.String(300), sa.ForeignKey("accounts.key", name="fk_account_credentials_account_key_accounts"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("value", sa.String(255), nullable=False),
        sa.Column("designation", sa.String(255)),
        sa.Column("from_on", sa.Date, nullable=False),
        sa.Column("to_on", sa.Date),
        sa.Column("note", sa.Text),
        sa.Column("recorded_at", TS, nullable=False),
        sa.Column("recorded_by", sa.String(100), nullable=False),
        sa.Column("ended_at", TS),
        sa.Column("ended_by", sa.String(100)),
    )
    op.create_table(
        "rti_requests",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("registration_no", sa.String(60), nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("mode", sa.String(20), nullable=False),
        sa.Column("application_on", sa.Date),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("life_liberty", sa.Boolean, nullable=False),
        sa.Column("bpl", sa.Boolean, nullable=False),
        sa.Column("fee_paid_inr", sa.Numeric(10, 2), nullable=False),
        sa.Column("transferred_from", sa.String(255)),
        sa.Column("transferred_on", sa.Date),
        sa.Column("state", sa.String(30), nullable=False),
        sa.Column("outcome", sa.String(20)),
        sa.Column("hold_open", sa.Boolean, nullable=False),
        sa.Column("hold_until", sa.Date),
        sa.Column("registered_at", TS, nullable=False),
        sa.Column("registered_by", sa.String(100), nullable=False),
        sa.UniqueConstraint("registration_no", name="uq_rti_requests_registration_no"),
    )
    op.create_table(
        "rti_applicants",
        sa.Column("request_id", sa.Integer, sa.ForeignKey("rti_requests.id", name="fk_rti_applicants_request_id_rti_requests"), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("address", sa.Text, nullable=False),
        sa.Column("contact", sa.String(255)),
    )
    op.create_table(
        "rti_third_parties",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.Integer, sa.ForeignKey("rti_requests.id", name="fk_rti_third_parties_request_id_rti_requests"), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("address", sa.Text, nullable=False),
        sa.Column("information", sa.Text, nullable=False),
    )
    op.create_table(
        "rti_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.Integer, sa.ForeignKey("rti_requests.id", name="fk_rti_events_request_id_rti_requests"), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("happened_at", TS, nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("from_state", sa.String(30)),
        sa.Column("to_state", sa.String(30)),
        sa.Column("reason", sa.Text),
        sa.Column("details", sa.JSON),
    )
    op.create_index("ix_rti_events_request_id", "rti_events", ["request_id"])
    _append_only("rti_events", dialect)


def _chain_existing_entries(dialect: str) -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, at, actor, action, target, outcome, details FROM audit_log ORDER BY id")).mappings().all()
    if not rows:
        return
    _lift_append_only("audit_log", dialect)
    prev = GENESIS
    for row in rows:
        at = row["at"] if isinstance(row["at"], datetime) else datetime.fromisoformat(str(row["at"]))
        at = at.replace(tzinfo=timezone.utc) if at.tzinfo is None else at
        details = row["details"]
        details = json.loads(details) if isinstance(details, str) else (details or {})
        digest = entry_hash(prev, id=row["id"], at=at, actor=row["actor"], action=row["action"], target=row["target"], outcome=row["outcome"], details=details)
        bind.execute(sa.text("UPDATE audit_log SET prev_hash = :prev, entry_hash = :digest WHERE id = :id"), {"prev": prev, "digest": digest, "id": row["id"]})
        prev = digest
    _append_only("audit_log", dialect)


def _append_only(table: str, dialect: str) -> None:
    """The database refuses UPDATE and DELETE on ``table``, as migration 0001 does for the audit log."""
    if dialect == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{_REFUSAL[table]}'); END"
            )
    elif dialect == "postgresql":
        if table == "audit_log":
            op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
            return
        op.execute(
            f"CREATE FUNCTION {table}_append_only() RETURNS trigger AS $$ "
            f"BEGIN RAISE EXCEPTION '{_REFUSAL[table]}'; END; $$ LANGUAGE plpgsql"
        )
        op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} FOR EACH ROW EXECUTE FUNCTION {table}_append_only()")


def _lift_append_only(table: str, dialect: str) -> None:
    if dialect == "sqlite":
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER {table}_no_{verb}")
    elif dialect == "postgresql":
        op.execute(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only")


def downgrade() -> None:
    for name in ("rti_events", "rti_third_parties", "rti_applicants", "rti_requests", "account_credentials", "user_roles", "users"):
        op.drop_table(name)
    op.drop_index("uq_audit_log_prev_hash", "audit_log")
