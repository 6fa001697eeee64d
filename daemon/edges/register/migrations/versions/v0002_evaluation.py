"""The evaluation of issue 9: complexity, impact, scope, the customer's wished solution, the
complaints linked by a common cause, and the causes found.

Revision ID: 0002
Revises: 0001

The complaint's new columns are nullable, or have a server default for the rows already there
(an empty wished solution); the models give new rows their values.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("complaint") as batch_op:
        batch_op.add_column(sa.Column("complexity", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("impact", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("scope", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("wished_solution", sa.Text(), nullable=False, server_default=""))
    op.create_table(
        "complaint_link",
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("related_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["complaint_id"], ["complaint.id"]),
        sa.ForeignKeyConstraint(["related_id"], ["complaint.id"]),
        sa.PrimaryKeyConstraint("complaint_id", "related_id"),
    )
    op.create_table(
        "cause",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("category", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(["complaint_id"], ["complaint.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_cause_complaint_id"), "cause", ["complaint_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_cause_complaint_id"), table_name="cause")
    op.drop_table("cause")
    op.drop_table("complaint_link")
    with op.batch_alter_table("complaint") as batch_op:
        for column in ("wished_solution", "scope", "impact", "complexity"):
            batch_op.drop_column(column)
