"""Legal hold in the store follows the holds: the changes of holds not yet applied to the store,
and the legal-hold state of each WARC object.

Revision ID: 0006_holdsync
Revises: 0004_annotations
"""

from alembic import op

from archiver.catalog.legal_holds import hold_changes, warc_legal_holds

revision = "0006_holdsync"
down_revision = "0004_annotations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    for table in (hold_changes, warc_legal_holds):
        table.create(bind)


def downgrade() -> None:
    bind = op.get_bind()
    for table in (warc_legal_holds, hold_changes):
        table.drop(bind)
