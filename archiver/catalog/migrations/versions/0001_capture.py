"""Capture: accounts, harvest runs, cursors, the WARC manifest, coverage, the audit log.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("key", sa.String(300), primary_key=True),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("native_id", sa.String(255), nullable=False),
        sa.Column("handle", sa.String(255)),
        sa.Column("display_name", sa.String(255)),
        sa.Column("base_url", sa.String(500)),
        sa.Column("credential_env", sa.String(100)),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("added_at", TS, nullable=False),
    )
    op.create_table(
        "harvest_runs",
        sa.Column("harvest_id", sa.String(64), primary_key=True),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("operator", sa.String(255), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("software", sa.String(100), nullable=False),
        sa.Column("summary", sa.JSON),
    )
    op.create_table(
        "cursors",
        sa.Column("account_key", sa.String(300), sa.ForeignKey("accounts.key", name="fk_cursors_account_key_accounts"), primary_key=True),
        sa.Column("endpoint", sa.String(100), primary_key=True),
        sa.Column("state", sa.JSON, nullable=False),
        sa.Column("harvest_id", sa.String(64)),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "warc_files",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("store_key", sa.String(500), nullable=False),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("record_count", sa.Integer, nullable=False),
        sa.Column("first_at", TS),
        sa.Column("last_at", TS),
        sa.Column("harvest_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
        sa.Column("published_at", TS),
    )
    op.create_table(
        "coverage",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("harvest_id", sa.String(64), nullable=False),
        sa.Column("account_key", sa.String(300), nullable=False),
        sa.Column("endpoint", sa.String(100), nullable=False),
        sa.Column("window_start", TS),
        sa.Column("window_end", TS, nullable=False),
        sa.Column("statement", sa.JSON, nullable=False),
        sa.Column("warc_file", sa.String(255)),
        sa.UniqueConstraint("harvest_id", "account_key", "endpoint", name="uq_coverage_window"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("target", sa.Text),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("details", sa.JSON),
    )
    # The audit log is append-only: the database itself refuses to change or remove an entry.
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
            )
    elif op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_log_append_only() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION 'the audit log is append-only'; END; $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
        )


def downgrade() -> None:
    for name in ("audit_log", "coverage", "warc_files", "cursors", "harvest_runs", "accounts"):
        op.drop_table(name)
