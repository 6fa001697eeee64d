"""What `complaintsd status` reads in the register: the last mail, the outbox backlog, the
quarantine, the next reminder, the schema. Counts and extremes over indexed columns, read-only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from daemon.core.triage import Outcome
from daemon.edges.register import schema
from daemon.edges.register.models import InboundMessage, OutboxMail, Reminder

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
