"""A request's scope and review: saved searches and picked records, the review set, the
redaction suggestions and their answers, the decisions and their redactions.

Revision ID: 0005_review
Revises: 0006_holdsync
"""

from alembic import op

from archiver.catalog.rti_review_tables import REVIEW_TABLES

revision = "0005_review"
down_revision = "0006_holdsync"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    for table in REVIEW_TABLES:
        table.create(bind)


def downgrade() -> None:
    bind = op.get_bind()
    for table in reversed(REVIEW_TABLES):
        table.drop(bind)
