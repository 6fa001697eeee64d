"""What the customer is granted (issue 9, #compensation): type, amount and currency.

Revision ID: 0003
Revises: 0002

The amount is decimal text ("50.00"): exact on SQLite, which has no decimal type, as on PostgreSQL.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("complaint") as batch_op:
        batch_op.add_column(sa.Column("compensation_type", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("compensation_amount", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("compensation_currency", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("complaint") as batch_op:
        for column in ("compensation_currency", "compensation_amount", "compensation_type"):
            batch_op.drop_column(column)
