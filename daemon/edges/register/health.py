"""What `complaintsd status` reads in the register: the last mail, the outbox backlog, the
quarantine, the next reminder, the schema; and what the health watch reads (core/health.py): the
last mail, the oldest waiting letter, the last health letter about each condition. Counts and
extremes over indexed columns, read-only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from daemon.core.health import Condition, HealthLetter, letter_of_kind
from daemon.core.lifecycle import Status
from daemon.core.triage import Outcome
from daemon.edges.register import schema
from daemon.edges.register.models import Complaint, InboundMessage, OutboxMail, Reminder

PENDING = "pending"
UNDELIVERABLE = ("refused", "failed")


@dataclass(frozen=True)
class RegisterHealth:
    last_mail_at: datetime | None
    outbox_waiting: int
    outbox_oldest_at: datetime | None
    outbox_undeliverable: int
    quarantined: int
    next_reminder_at: datetime | None
    schema: str


def read_health(session: Session) -> RegisterHealth:
    waiting, oldest = session.exec(
        select(func.count(), func.min(OutboxMail.created_at)).where(OutboxMail.status == PENDING)
    ).one()
    return RegisterHealth(
        last_mail_at=session.exec(select(func.max(InboundMessage.arrived_at))).one(),
        outbox_waiting=waiting,
        outbox_oldest_at=oldest,
        outbox_undeliverable=session.exec(
            select(func.count()).select_from(OutboxMail).where(col(OutboxMail.status).in_(UNDELIVERABLE))
        ).one(),
        quarantined=session.exec(
            select(func.count()).select_from(InboundMessage).where(InboundMessage.outcome == Outcome.QUARANTINE.value)
        ).one(),
        next_reminder_at=session.exec(select(func.min(Reminder.due_at)).where(Reminder.state == PENDING)).one(),
        schema=schema.state(session.connection().engine).describe(),
    )


def last_complaints(session: Session) -> dict[str, tuple[datetime, int]]:
    """Per reference prefix (a register of `[[registers]]`): its last complaint's arrival, and how
    many are still open (not closed)."""
    rows = session.exec(
        select(Complaint.prefix, func.max(Complaint.received_at), func.count()).group_by(Complaint.prefix)
    ).all()
    open_rows = select(Complaint.prefix, func.count()).where(Complaint.status != Status.CLOSED.value)
    still = dict(session.exec(open_rows.group_by(Complaint.prefix)).all())
    return {prefix: (_aware(last), still.get(prefix, 0)) for prefix, last, _ in rows}


def _aware(value: datetime) -> datetime:
    """max() over a column comes back without the column's type on SQLite: naive UTC, or text."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def last_mail_and_oldest_letter(session: Session) -> tuple[datetime | None, datetime | None]:
    """When the last mail arrived, and since when the oldest letter waits in the outbox."""
    last = session.exec(select(func.max(InboundMessage.arrived_at))).one()
    oldest = session.exec(select(func.min(OutboxMail.created_at)).where(OutboxMail.status == PENDING)).one()
    return last, oldest


def health_letters(session: Session) -> dict[Condition, HealthLetter]:
    """The last health letter queued about each condition: what the admin was last told of it.

    Health letters belong to no complaint, so the index on complaint_id narrows the search to
    them, the digests and the notices."""
    rows = session.exec(
        select(OutboxMail.purpose, OutboxMail.message_id)
        .where(col(OutboxMail.complaint_id).is_(None), col(OutboxMail.purpose).startswith("health_"))
        .order_by(col(OutboxMail.id))
    ).all()
    said: dict[Condition, HealthLetter] = {}
    for purpose, message_id in rows:
        named = letter_of_kind(purpose)
        if named is not None:
            said[named[0]] = HealthLetter(named[0], named[1], message_id)
    return said
