"""The register page sorted by date of receipt, and every period's complaints, read from an index
(issue 12, item 5): without it, `/?sort=received` sorted the whole register (733 ms on 100,000
complaints) and a report or a `period=` filter scanned it.

Revision ID: 0007
Revises: 0006

An index only: no row is touched.
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_complaint_received_at", "complaint", ["received_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_complaint_received_at", table_name="complaint")
