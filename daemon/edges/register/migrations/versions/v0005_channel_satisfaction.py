"""How a complaint came and who made it (issue 9, `complaintsd add`), and the customer's satisfaction
on the three points of the closing letter.

Revision ID: 0005
Revises: 0004

Every complaint registered before came by email from a customer: the defaults say so.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def columns() -> tuple[sa.Column, ...]:
    return (
        sa.Column("channel", sa.String(), nullable=False, server_default="email"),
        sa.Column("customer_type", sa.String(), nullable=False, server_default="customer"),
        sa.Column("customer_phone", sa.String(), nullable=False, server_default=""),
        sa.Column("customer_address", sa.Text(), nullable=False, server_default=""),
        sa.Column("satisfaction_understood", sa.String(), nullable=True),
        sa.Column("satisfaction_actions", sa.String(), nullable=True),
        sa.Column("satisfaction_relationship", sa.String(), nullable=True),
        sa.Column("satisfaction_comment", sa.Text(), nullable=True),
    )


def upgrade() -> None:
    with op.batch_alter_table("complaint") as batch_op:
        for column in columns():
            batch_op.add_column(column)
        batch_op.create_index("ix_complaint_channel", ["channel"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("complaint") as batch_op:
        batch_op.drop_index("ix_complaint_channel")
        for column in reversed(columns()):
            batch_op.drop_column(column.name)
