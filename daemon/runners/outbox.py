"""The outbox: every outgoing mail is a row first, and leaves through `flush` only.

One sending path, one retry policy (Mailman's runners/outgoing.py + retry.py): a temporary failure
is retried with exponential backoff until `give_up_after`, a permanent refusal (5xx) is recorded at
once; either way the complaint's history says what happened. Each result is committed the moment
the relay answers, so after a crash only a mail whose "250" we had not yet recorded can leave twice,
and it would leave with the same Message-ID (receivers collapse such duplicates).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Connection, Engine
from sqlalchemy import update
from sqlmodel import Session, col, func, select

from daemon.config import OutboxConfig
from daemon.core.lifecycle import Event, Status, next_status
from daemon.edges.models import Complaint, OutboxMail, Reminder
from daemon.edges.register import add_history
from daemon.core.reminders import DeadlineKind
from daemon.edges.smtp import Envelope, Fate, SendResult, SmtpSender

log = logging.getLogger("complaintsd.outbox")

PENDING, SENT, REFUSED, FAILED = "pending", "sent", "refused", "failed"


@dataclass(frozen=True)
class Due:
    id: int
    envelope: Envelope
    purpose: str
    complaint_id: int | None
    attempts: int
    created_at: datetime


def retry_delay(attempts: int, policy: OutboxConfig) -> timedelta:
    """Exponential backoff: first, 2×first, 4×first… capped at retry_max (pure)."""
    delay = policy.retry_first * (2 ** max(attempts - 1, 0))
    return min(delay, policy.retry_max)


def due(session: Session, now: datetime, limit: int) -> list[Due]:
    rows = session.exec(
        select(OutboxMail)
        .where(OutboxMail.status == PENDING, col(OutboxMail.next_attempt_at) <= now)
        .order_by(OutboxMail.next_attempt_at, OutboxMail.id)
        .limit(limit)
    ).all()
    return [
        Due(r.id, Envelope(r.mail_from, tuple(r.recipients.split(",")), r.raw), r.purpose, r.complaint_id, r.attempts, r.created_at)
        for r in rows
    ]


def next_wakeup(session: Session) -> datetime | None:
    return session.exec(select(func.min(OutboxMail.next_attempt_at)).where(OutboxMail.status == PENDING)).one()


def mark_sent(connection: Connection, item: Due, now: datetime, reply: str) -> None:
    """Phase one of a success, ONE statement committed right after the relay's "250": the only
    window in which a crash could make a mail leave twice is the time this takes."""
    connection.execute(
        update(OutboxMail)
        .where(OutboxMail.id == item.id)
        .values(status=SENT, attempts=item.attempts + 1, sent_at=now, last_reply=reply, settled=False)
    )


def settle(session: Session) -> int:
    """Phase two: write the consequences of every accepted mail not yet settled (history, status).

    Run after each batch and before each flush, so a crash between the phases is repaired."""
    rows = session.exec(select(OutboxMail).where(OutboxMail.status == SENT, OutboxMail.settled == False)).all()  # noqa: E712
    for row in rows:
        _trace(session, row.complaint_id, row.purpose, row.sent_at, "sent", f"to {row.recipients}: {row.last_reply}")
        if row.complaint_id is not None and row.purpose == "acknowledgement":
            _acknowledged(session, row.complaint_id, row.sent_at)
        row.settled = True
    return len(rows)


def record_failure(session: Session, item: Due, result: SendResult, now: datetime, policy: OutboxConfig) -> str:
    """A refusal (5xx: final), or a temporary failure retried with backoff until give_up_after."""
    attempts = item.attempts + 1
    values = {"attempts": attempts, "last_reply": result.detail}
    if result.fate is Fate.PERMANENT:
        status, what, detail = REFUSED, "refused", result.detail
    elif now - item.created_at >= policy.give_up_after:
        status, what, detail = FAILED, "failed", f"gave up after {attempts} attempts: {result.detail}"
    else:
        status, what, detail = PENDING, "delayed", f"will retry: {result.detail}"
        values["next_attempt_at"] = now + retry_delay(attempts, policy)
    session.exec(update(OutboxMail).where(OutboxMail.id == item.id).values(status=status, **values))
    if status != PENDING or attempts == 1:
        _trace(session, item.complaint_id, item.purpose, now, what, detail)
    return status


def _acknowledged(session: Session, complaint_id: int, at: datetime) -> None:
    after = next_status(Status.RECEIVED, Event.ACK_SENT)
    moved = session.exec(
        update(Complaint)
        .where(Complaint.id == complaint_id, Complaint.status == Status.RECEIVED.value)
        .values(status=after.value, acknowledged_at=at)
    )
    if moved.rowcount:
        add_history(session, complaint_id, at, "status", "complaintsd", f"received → {after.value}")
    # The acknowledgement deadline is met: its reminders and escalation have nothing left to say.
    session.exec(
        update(Reminder)
        .where(Reminder.complaint_id == complaint_id, Reminder.deadline == DeadlineKind.ACK.value, Reminder.state == "pending")
        .values(state="cancelled")
    )


def _trace(session: Session, complaint_id: int | None, purpose: str, at: datetime, what: str, detail: str) -> None:
    if complaint_id is not None:
        add_history(session, complaint_id, at, f"{purpose}_{what}", "complaintsd", detail)


class Outbox:
    """The shell around the functions above: read what is due, send it, record each result."""

    def __init__(self, engine: Engine, sender: SmtpSender, policy: OutboxConfig, clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.sender = sender
        self.policy = policy
        self.clock = clock
        self._outage = False

    def flush(self, stopping: Callable[[], bool] = lambda: False) -> int:
        """Send everything due now (until `stopping()`); returns how many the relay accepted."""
        with Session(self.engine) as session:
            settle(session)
            session.commit()
            batch = due(session, self.clock(), self.policy.batch_size)
        if not batch:
            return 0
        sent = 0

        def report(index: int, result: SendResult) -> None:
            nonlocal sent
            item = batch[index]
            if result.fate is Fate.SENT:
                with self.engine.begin() as connection:
                    mark_sent(connection, item, self.clock(), result.detail)
                status = SENT
                sent += 1
            else:
                with Session(self.engine) as session:
                    status = record_failure(session, item, result, self.clock(), self.policy)
                    session.commit()
            self._log(item, status, result)

        self.sender.send_all([item.envelope for item in batch], report, stopping)
        with Session(self.engine) as session:
            settle(session)
            session.commit()
        return sent

    def _log(self, item: Due, status: str, result: SendResult) -> None:
        if status == SENT:
            if self._outage:
                log.info("relay reachable again")
            self._outage = False
            log.info("sent %s to %s", item.purpose, ",".join(item.envelope.recipients))
        elif status == PENDING:
            if not self._outage:
                log.warning("relay trouble, will retry: %s", result.detail)
            self._outage = True
        else:
            log.error("%s to %s %s: %s", item.purpose, ",".join(item.envelope.recipients), status, result.detail)

    def seconds_until_due(self, ceiling: float) -> float:
        with Session(self.engine) as session:
            wake = next_wakeup(session)
        if wake is None:
            return ceiling
        return max(0.0, min(ceiling, (wake - self.clock()).total_seconds()))
