"""The register's tables (SQLModel rows). No queries here: register.py and outbox.py hold those.

Times are stored as UTC and always come back timezone-aware (docs/notes.md: SQLite drops the offset),
so nothing above this module ever sees a naive datetime. Nothing here assumes SQLite.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Column, DateTime, Index, LargeBinary, Text, UniqueConstraint
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, whatever the database keeps."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the register")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=UTC)


def _at(nullable: bool = False, index: bool = False):
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


class ReferenceCounter(SQLModel, table=True):
    """Last sequence number given per prefix and year: gap-free because it moves in the same
    transaction as the complaint it numbers."""

    __tablename__ = "reference_counter"
    prefix: str = Field(primary_key=True)
    year: int = Field(primary_key=True)
    last: int = 0


class InboundMessage(SQLModel, table=True):
    """Every message taken from the mailbox, whatever became of it; the raw bytes are kept."""

    __tablename__ = "inbound_message"
    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(unique=True, max_length=64)
    message_id: str | None = Field(default=None, index=True, max_length=998)
    outcome: str = Field(index=True)  # triage.Outcome value
    reason: str = ""
    complaint_id: int | None = Field(default=None, foreign_key="complaint.id", index=True)
    handled: bool = True  # False for a follow-up until followups.py acted on it
    sender: str = ""
    subject: str = Field(default="", sa_type=Text)
    arrived_at: datetime = _at()
    registered_at: datetime = _at()
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class Complaint(SQLModel, table=True):
    __tablename__ = "complaint"
    __table_args__ = (UniqueConstraint("prefix", "year", "sequence"),)
    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(unique=True, max_length=40)
    prefix: str
    year: int
    sequence: int
    status: str = Field(index=True)
    customer_email: str = Field(index=True)
    customer_name: str = ""
    subject: str = Field(default="", sa_type=Text)
    text_body: str = Field(default="", sa_type=Text)
    html_body: str = Field(default="", sa_type=Text)
    message_id: str | None = Field(default=None, index=True, max_length=998)
    language: str = "fr"
    received_at: datetime = _at(index=True)
    ack_due_at: datetime = _at(index=True)
    answer_due_at: datetime = _at(index=True)
    acknowledged_at: datetime | None = _at(nullable=True)
    handler_email: str = Field(default="", index=True)
    handler_name: str = ""
    category: str | None = None
    severity: str | None = None
    outcome: str | None = None  # founded | partly_founded | unfounded, set at closing
    # The evaluation (revision 0002): words.Complexity, words.Impact, words.Scope values; priority is
    # derived from severity × impact × scope (core/priority.py), never stored.
    complexity: str | None = None
    impact: str | None = None
    scope: str | None = None
    wished_solution: str = Field(default="", sa_type=Text)
    # What the customer is granted (revision 0003): words.CompensationType value, the amount as
    # decimal text ("50.00", exact on every database), an ISO 4217 currency.
    compensation_type: str | None = None
    compensation_amount: str | None = None
    compensation_currency: str | None = None
    # How it came and who made it (revision 0005): words.Channel and the configured customer types;
    # a complaint made by phone or at a counter may have no e-mail address (customer_email "").
    channel: str = Field(default="email", index=True, sa_column_kwargs={"server_default": "email"})
    customer_type: str = Field(default="customer", sa_column_kwargs={"server_default": "customer"})
    customer_phone: str = Field(default="", sa_column_kwargs={"server_default": ""})
    customer_address: str = Field(default="", sa_type=Text, sa_column_kwargs={"server_default": ""})
    # The customer's answer to the closing letter's three questions (revision 0005): "yes", "no" or a
    # mark "1".."5" each, None when not answered; the comment is their own words.
    satisfaction_understood: str | None = None
    satisfaction_actions: str | None = None
    satisfaction_relationship: str | None = None
    satisfaction_comment: str | None = Field(default=None, sa_type=Text)
    # How each deadline was computed, for `show`: the rule ("6bd") and the closed days skipped.
    ack_rule: str = ""
    answer_rule: str = ""
    answer_skipped: str = Field(default="", sa_type=Text)  # lines "YYYY-MM-DD reason"


class ComplaintLink(SQLModel, table=True):
    """Two complaints with the same cause (#related). A link is both ways: written as two rows."""

    __tablename__ = "complaint_link"
    complaint_id: int = Field(foreign_key="complaint.id", primary_key=True)
    related_id: int = Field(foreign_key="complaint.id", primary_key=True)
    created_at: datetime = _at()


class Cause(SQLModel, table=True):
    """A cause the investigation found (#cause), in the order found."""

    __tablename__ = "cause"
    id: int | None = Field(default=None, primary_key=True)
    complaint_id: int = Field(foreign_key="complaint.id", index=True)
    at: datetime = _at()
    text: str = Field(sa_type=Text)
    category: str | None = None


class Action(SQLModel, table=True):
    """A curative, corrective or preventive action (#action), numbered per complaint from 1.
    Status words.ActionStatus: open → done → verified, or abandoned with its reason."""

    __tablename__ = "action"
    __table_args__ = (UniqueConstraint("complaint_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    complaint_id: int = Field(foreign_key="complaint.id", index=True)
    number: int
    kind: str
    text: str = Field(sa_type=Text)
    owner_email: str | None = None
    due_on: date | None = None
    status: str = Field(default="open", index=True)
    reason: str = Field(default="", sa_type=Text)
    created_at: datetime = _at()
    updated_at: datetime = _at()


class CommandToken(SQLModel, table=True):
    """The proof a handler's command mail must carry: bound to one complaint and one handler."""

    __tablename__ = "command_token"
    token: str = Field(primary_key=True, max_length=64)
    complaint_id: int = Field(foreign_key="complaint.id", index=True)
    handler_email: str
    created_at: datetime = _at()


class Reminder(SQLModel, table=True):
    """A reminder or escalation to send once: the unique key makes a second daemon's copy fail."""

    __tablename__ = "reminder"
    __table_args__ = (UniqueConstraint("complaint_id", "deadline", "step"), Index("ix_reminder_due", "state", "due_at"))
    id: int | None = Field(default=None, primary_key=True)
    complaint_id: int = Field(foreign_key="complaint.id", index=True)
    kind: str  # reminders.Kind
    deadline: str  # reminders.DeadlineKind
    step: str  # "3d", "2h", "esc-1"…
    due_at: datetime = _at()
    state: str = "pending"  # pending | sent | cancelled
    sent_at: datetime | None = _at(nullable=True)
    late: bool = False


class Digest(SQLModel, table=True):
    """One digest per handler and local day, claimed by inserting this row."""

    __tablename__ = "digest"
    __table_args__ = (UniqueConstraint("handler_email", "day"),)
    id: int | None = Field(default=None, primary_key=True)
    handler_email: str
    day: date
    created_at: datetime = _at()
    complaints: int = 0


class StoredAttachment(SQLModel, table=True):
    __tablename__ = "attachment"
    id: int | None = Field(default=None, primary_key=True)
    complaint_id: int = Field(foreign_key="complaint.id", index=True)
    filename: str
    content_type: str
    size: int
    sha256: str = Field(max_length=64)
    path: str


class HistoryEvent(SQLModel, table=True):
    """Append-only: rows are inserted, never updated (the auditor's view of a complaint), each
    chained to the one before it (core/chain.py)."""

    __tablename__ = "history"
    id: int | None = Field(default=None, primary_key=True)
    complaint_id: int = Field(foreign_key="complaint.id", index=True)
    at: datetime = _at()
    event: str
    actor: str = ""
    detail: str = Field(default="", sa_type=Text)
    # Tamper evidence (revision 0006, core/chain.py): the content's digest, the hashes of the previous
    # event of the register and of the complaint, and this event's hash over the three.
    digest: str = Field(default="", max_length=64, sa_column_kwargs={"server_default": ""})
    register_prev: str = Field(default="", max_length=64, sa_column_kwargs={"server_default": ""})
    complaint_prev: str = Field(default="", max_length=64, sa_column_kwargs={"server_default": ""})
    hash: str = Field(default="", max_length=64, sa_column_kwargs={"server_default": ""})


class ChainHead(SQLModel, table=True):
    """The register chain's last hash and length, one row: updating it first serialises the
    writers of history (a row lock on PostgreSQL, the write lock on SQLite), so the chain never forks."""

    __tablename__ = "chain_head"
    id: int = Field(default=1, primary_key=True)
    events: int = 0
    last_hash: str = Field(default="0" * 64, max_length=64)


class OutboxMail(SQLModel, table=True):
    """One outgoing mail, fully composed; the only way anything leaves (docs/design.md, crash safety)."""

    __tablename__ = "outbox"
    id: int | None = Field(default=None, primary_key=True)
    complaint_id: int | None = Field(default=None, foreign_key="complaint.id", index=True)
    purpose: str  # e.g. "acknowledgement"
    message_id: str = Field(unique=True, max_length=998)
    mail_from: str
    recipients: str  # comma-separated addresses
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    status: str = Field(default="pending", index=True)  # pending | sent | refused | failed
    attempts: int = 0
    created_at: datetime = _at()
    next_attempt_at: datetime = _at(index=True)
    sent_at: datetime | None = _at(nullable=True)
    last_reply: str = Field(default="", sa_type=Text)  # the relay's last answer
    # False between "the relay accepted it" and "its consequences are written" (see outbox.settle).
    settled: bool = Field(default=True, index=True)
