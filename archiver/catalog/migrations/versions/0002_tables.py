"""Tables: the latest version of every record, the Parquet manifest, extraction progress.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "record_versions",
        sa.Column("record_id", sa.String(600), primary_key=True),
        sa.Column("version_id", sa.String(64), nullable=False),
        sa.Column("captured_at", TS, nullable=False),
        sa.Column("versions", sa.Integer, nullable=False),
        sa.Column("deleted", sa.Boolean, nullable=False),
        sa.Column("account", sa.String(300), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("by_department", sa.Boolean, nullable=False),
        sa.Column("root_id", sa.String(600)),
        sa.Column("created_at", TS),
        sa.Column("last_walk", sa.String(64)),
    )
    op.create_index("ix_record_versions_account_walk", "record_versions", ["account", "last_walk"])
    op.create_index("ix_record_versions_root", "record_versions", ["root_id"])
    op.create_table(
        "parquet_files",
        sa.Column("path", sa.String(1000), primary_key=True),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("warc_file", sa.String(255), nullable=False),
        sa.Column("schema_version", sa.Integer, nullable=False),
        sa.Column("schedule_fingerprint", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "extractions",
        sa.Column("warc_file", sa.String(255), primary_key=True),
        sa.Column("offset_done", sa.BigInteger, nullable=False),
        sa.Column("complete", sa.Boolean, nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("problems", sa.JSON),
        sa.Column("updated_at", TS, nullable=False),
    )


def downgrade() -> None:
    for name in ("extractions", "parquet_files", "record_versions"):
        op.drop_table(name)
