"""Annotations: RTI relevance marks, holds and the records each hold covers.

Revision ID: 0004_annotations
Revises: 0003_rti
"""

from alembic import op

from archiver.catalog.annotations import hold_records, holds, rti_marks

revision = "0004_annotations"
down_revision = "0003_rti"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    for table in (rti_marks, holds, hold_records):
        table.create(bind)


def downgrade() -> None:
    bind = op.get_bind()
    for table in (hold_records, holds, rti_marks):
        table.drop(bind)
