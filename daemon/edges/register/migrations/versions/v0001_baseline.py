"""Baseline: the register as release 0.1.0 created it with `create_all` (before migrations).

A register made before migrations has exactly these tables but no `alembic_version`; `migrate`
stamps it at this revision and upgrades from here (daemon/edges/register/schema.py). The types are
spelled in plain SQLAlchemy (String, DateTime), not the models' classes, so that this revision stays
what it was when the models change: AutoString is a String, UTCDateTime stores a DateTime.
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "complaint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("prefix", sa.String(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("customer_email", sa.String(), nullable=False),
        sa.Column("customer_name", sa.String(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("text_body", sa.Text(), nullable=False),
        sa.Column("html_body", sa.Text(), nullable=False),
        sa.Column("message_id", sa.String(length=998), nullable=True),
        sa.Column("language", sa.String(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("ack_due_at", sa.DateTime(), nullable=False),
        sa.Column("answer_due_at", sa.DateTime(), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(), nullable=True),
        sa.Column("handler_email", sa.String(), nullable=False),
        sa.Column("handler_name", sa.String(), nullable=False),
        sa.Column("category", sa.String(), nullable=True),
        sa.Column("severity", sa.String(), nullable=True),
        sa.Column("outcome", sa.String(), nullable=True),
        sa.Column("ack_rule", sa.String(), nullable=False),
        sa.Column("answer_rule", sa.String(), nullable=False),
        sa.Column("answer_skipped", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("prefix", "year", "sequence"),
        sa.UniqueConstraint("reference"),
    )
    op.create_index(op.f("ix_complaint_ack_due_at"), "complaint", ["ack_due_at"], unique=False)
    op.create_index(op.f("ix_complaint_answer_due_at"), "complaint", ["answer_due_at"], unique=False)
    op.create_index(op.f("ix_complaint_customer_email"), "complaint", ["customer_email"], unique=False)
    op.create_index(op.f("ix_complaint_handler_email"), "complaint", ["handler_email"], unique=False)
    op.create_index(op.f("ix_complaint_message_id"), "complaint", ["message_id"], unique=False)
    op.create_index(op.f("ix_complaint_status"), "complaint", ["status"], unique=False)
    op.create_table(
        "digest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("handler_email", sa.String(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("complaints", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("handler_email", "day"),
    )
    op.create_table(
        "reference_counter",
        sa.Column("prefix", sa.String(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("prefix", "year"),
    )
    op.create_table(
        "attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(), nullable=False),
        sa.Column("content_type", sa.String(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("path", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaint.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_attachment_complaint_id"), "attachment", ["complaint_id"], unique=False)
    op.create_table(
        "command_token",
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("handler_email", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaint.id"],
        ),
        sa.PrimaryKeyConstraint("token"),
    )
    op.create_index(op.f("ix_command_token_complaint_id"), "command_token", ["complaint_id"], unique=False)
    op.create_table(
        "history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("event", sa.String(), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaint.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_history_complaint_id"), "history", ["complaint_id"], unique=False)
    op.create_table(
        "inbound_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=998), nullable=True),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=True),
        sa.Column("handled", sa.Boolean(), nullable=False),
        sa.Column("sender", sa.String(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("arrived_at", sa.DateTime(), nullable=False),
        sa.Column("registered_at", sa.DateTime(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaint.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sha256"),
    )
    op.create_index(op.f("ix_inbound_message_complaint_id"), "inbound_message", ["complaint_id"], unique=False)
    op.create_index(op.f("ix_inbound_message_message_id"), "inbound_message", ["message_id"], unique=False)
    op.create_index(op.f("ix_inbound_message_outcome"), "inbound_message", ["outcome"], unique=False)
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=True),
        sa.Column("purpose", sa.String(), nullable=False),
        sa.Column("message_id", sa.String(length=998), nullable=False),
        sa.Column("mail_from", sa.String(), nullable=False),
        sa.Column("recipients", sa.String(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("last_reply", sa.Text(), nullable=False),
        sa.Column("settled", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaint.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_id"),
    )
    op.create_index(op.f("ix_outbox_complaint_id"), "outbox", ["complaint_id"], unique=False)
    op.create_index(op.f("ix_outbox_next_attempt_at"), "outbox", ["next_attempt_at"], unique=False)
    op.create_index(op.f("ix_outbox_settled"), "outbox", ["settled"], unique=False)
    op.create_index(op.f("ix_outbox_status"), "outbox", ["status"], unique=False)
    op.create_table(
        "reminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("deadline", sa.String(), nullable=False),
        sa.Column("step", sa.String(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaint.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("complaint_id", "deadline", "step"),
    )
    op.create_index(op.f("ix_reminder_complaint_id"), "reminder", ["complaint_id"], unique=False)
    op.create_index("ix_reminder_due", "reminder", ["state", "due_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_reminder_due", table_name="reminder")
    op.drop_index(op.f("ix_reminder_complaint_id"), table_name="reminder")
    op.drop_table("reminder")
    op.drop_index(op.f("ix_outbox_status"), table_name="outbox")
    op.drop_index(op.f("ix_outbox_settled"), table_name="outbox")
    op.drop_index(op.f("ix_outbox_next_attempt_at"), table_name="outbox")
    op.drop_index(op.f("ix_outbox_complaint_id"), table_name="outbox")
    op.drop_table("outbox")
    op.drop_index(op.f("ix_inbound_message_outcome"), table_name="inbound_message")
    op.drop_index(op.f("ix_inbound_message_message_id"), table_name="inbound_message")
    op.drop_index(op.f("ix_inbound_message_complaint_id"), table_name="inbound_message")
    op.drop_table("inbound_message")
    op.drop_index(op.f("ix_history_complaint_id"), table_name="history")
    op.drop_table("history")
    op.drop_index(op.f("ix_command_token_complaint_id"), table_name="command_token")
    op.drop_table("command_token")
    op.drop_index(op.f("ix_attachment_complaint_id"), table_name="attachment")
    op.drop_table("attachment")
    op.drop_table("reference_counter")
    op.drop_table("digest")
    op.drop_index(op.f("ix_complaint_status"), table_name="complaint")
    op.drop_index(op.f("ix_complaint_message_id"), table_name="complaint")
    op.drop_index(op.f("ix_complaint_handler_email"), table_name="complaint")
    op.drop_index(op.f("ix_complaint_customer_email"), table_name="complaint")
    op.drop_index(op.f("ix_complaint_answer_due_at"), table_name="complaint")
    op.drop_index(op.f("ix_complaint_ack_due_at"), table_name="complaint")
    op.drop_table("complaint")
