"""Actions (issue 9, #action): curative, corrective and preventive actions of a complaint, numbered
per complaint, with their owner, due day and status.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("owner_email", sa.String(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["complaint_id"], ["complaint.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("complaint_id", "number"),
    )
    op.create_index(op.f("ix_action_complaint_id"), "action", ["complaint_id"], unique=False)
    op.create_index(op.f("ix_action_status"), "action", ["status"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_action_status"), table_name="action")
    op.drop_index(op.f("ix_action_complaint_id"), table_name="action")
    op.drop_table("action")
