"""The "send what is due now" sweep: reminders, escalations and digests.

What is due lives in the register (rows of `reminder` and `digest` with a unique key), never in the
scheduler, so this sweep is idempotent: the scheduler may run it late, twice, or in two daemons at
once. Each row is claimed by a conditional UPDATE (or, for a digest, by inserting its unique row)
in the same transaction that queues its letter in the outbox: whoever claims it sends it, once.
A row found due long after its time (the daemon was down) is sent once, marked late.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from daemon.core.letters.compose import OutgoingMail, compose, new_message_id
from daemon.config import Config
from daemon.core.letters.staff import (
    DigestFacts,
    EscalationFacts,
    ReminderFacts,
    render_digest,
    render_escalation,
    render_reminder,
)
from daemon.core.lifecycle import Status
from daemon.core.mail import Address
from daemon.edges.models import Complaint, Digest, Reminder
from daemon.edges.register import CLOSED_FOR_ANSWER, add_history, complaint_summary, handler_token, queue
from daemon.core.reminders import DeadlineKind, Kind, Planned, digest_date, is_late, next_escalation
from daemon.core.letters.render import Templates
from daemon.core.tokens import handler_message_id

log = logging.getLogger("complaintsd.sweep")

BATCH = 500


@dataclass
class SweepResult:
    reminders: int = 0
    escalations: int = 0
    digests: int = 0
    cancelled: int = 0
    references: list[str] = field(default_factory=list)

    @property
    def queued(self) -> int:
        return self.reminders + self.escalations + self.digests


def deadline_met(complaint: Complaint, deadline: str) -> bool:
    """Has the event this deadline waits for happened? Then its reminders stop (pure)."""
    if deadline == DeadlineKind.ACK:
        return complaint.acknowledged_at is not None or complaint.status != Status.RECEIVED.value
    return complaint.status in CLOSED_FOR_ANSWER


class Sweeper:
    def __init__(self, config: Config, engine: Engine, clock: Callable[[], datetime]) -> None:
        self.config = config
        self.engine = engine
        self.clock = clock
        self.templates = Templates.of(config.register)

    def sweep(self) -> SweepResult:
        """One pass: everything due at this instant, and today's digests."""
        now = self.clock()
        result = SweepResult()
        for reminder_id in self._due_ids(now):
            self._one(reminder_id, now, result)
        self._digests(now, result)
        return result

    def _due_ids(self, now: datetime) -> list[int]:
        """Only the rows due now, by the (state, due_at) index: never every open complaint."""
        with Session(self.engine) as session:
            statement = (
                select(Reminder.id)
                .where(Reminder.state == "pending", col(Reminder.due_at) <= now)
                .order_by(Reminder.due_at, Reminder.id)
                .limit(BATCH)
            )
            return list(session.exec(statement).all())

    # ------------------------------------------------------------------ reminders and escalations

    def _one(self, reminder_id: int, now: datetime, result: SweepResult) -> None:
        with Session(self.engine) as session:
            reminder = session.get(Reminder, reminder_id)
            complaint = session.get(Complaint, reminder.complaint_id)
            met = deadline_met(complaint, reminder.deadline)
            late = is_late(reminder.due_at, now, self.config.reminders.late_after)
            state = "cancelled" if met else "sent"
            claimed = session.exec(
                update(Reminder)
                .where(Reminder.id == reminder_id, Reminder.state == "pending")
                .values(state=state, sent_at=now, late=late)
            ).rowcount
            if not claimed:
                return  # another sweep (another daemon) took it
            if met:
                result.cancelled += 1
            else:
                self._send(session, reminder, complaint, now, late, result)
            session.commit()

    def _send(self, session: Session, reminder: Reminder, complaint: Complaint, now: datetime, late: bool, result: SweepResult) -> None:
        if reminder.kind == Kind.ESCALATION:
            mail = self._escalation(complaint, reminder, now, late)
            planned = Planned(Kind.ESCALATION, DeadlineKind(reminder.deadline), reminder.step, reminder.due_at)
            following = next_escalation(planned, self.config.reminders.escalation_every, now=now)
            session.add(Reminder(complaint_id=complaint.id, kind=following.kind.value, deadline=following.deadline.value, step=following.step, due_at=following.due_at))
            result.escalations += 1
        else:
            mail = self._reminder(session, complaint, reminder, now, late)
            result.reminders += 1
        queue(session, mail, purpose=reminder.kind, complaint_id=complaint.id, now=now)
        what = f"{reminder.kind} {reminder.step} for the {reminder.deadline} deadline to {', '.join(mail.recipients)}"
        add_history(session, complaint.id, now, f"{reminder.kind}_queued", "complaintsd", what + (" (late)" if late else ""))
        result.references.append(complaint.reference)

    def _reminder(self, session: Session, complaint: Complaint, reminder: Reminder, now: datetime, late: bool) -> OutgoingMail:
        token = handler_token(session, complaint, now)
        facts = ReminderFacts(
            complaint=complaint_summary(complaint),
            token=token,
            handler_name=complaint.handler_name,
            deadline=DeadlineKind(reminder.deadline),
            now=now,
            late=late,
            planned_at=reminder.due_at,
        )
        message_id = handler_message_id(complaint.reference, token, self._domain())
        return self._compose(render_reminder(self.templates, facts), Address(complaint.handler_name, complaint.handler_email), message_id, now, "reminder")

    def _escalation(self, complaint: Complaint, reminder: Reminder, now: datetime, late: bool) -> OutgoingMail:
        supervisor = self.config.routing.supervisor
        facts = EscalationFacts(
            complaint=complaint_summary(complaint),
            handler_name=complaint.handler_name,
            handler_email=complaint.handler_email,
            supervisor_name=supervisor.name,
            deadline=DeadlineKind(reminder.deadline),
            number=int(reminder.step.rsplit("-", 1)[1]),
            now=now,
            late=late,
            planned_at=reminder.due_at,
        )
        message_id = new_message_id(complaint.reference, "esc", self._domain())
        return self._compose(render_escalation(self.templates, facts), supervisor, message_id, now, "escalation")

    # ------------------------------------------------------------------ digests

    def _digests(self, now: datetime, result: SweepResult) -> None:
        cfg = self.config.reminders
        with Session(self.engine) as session:
            last = dict(session.exec(select(Digest.handler_email, func.max(Digest.day)).group_by(Digest.handler_email)).all())
        for handler in self.config.routing.handlers:
            day = digest_date(now, self.config.register.timezone, cfg.digest_at, cfg.digest_days, last.get(handler.email))
            if day is not None:
                self._digest(handler, day, now, result)

    def _digest(self, handler, day, now: datetime, result: SweepResult) -> None:
        with Session(self.engine) as session:
            open_ones = session.exec(
                select(Complaint)
                .where(Complaint.handler_email == handler.email, col(Complaint.status).not_in(CLOSED_FOR_ANSWER))
                .order_by(Complaint.answer_due_at, Complaint.id)
            ).all()
            session.add(Digest(handler_email=handler.email, day=day, created_at=now, complaints=len(open_ones)))
            try:
                session.flush()
            except IntegrityError:
                return  # another daemon claimed this digest
            if open_ones:
                queue(session, self._digest_mail(handler, day, open_ones, now), purpose="digest", complaint_id=None, now=now)
                result.digests += 1
            session.commit()

    def _digest_mail(self, handler, day, complaints: list[Complaint], now: datetime) -> OutgoingMail:
        cfg = self.config
        planned = datetime.combine(day, cfg.reminders.digest_at, tzinfo=cfg.register.timezone).astimezone(UTC)
        facts = DigestFacts(
            handler_name=handler.name,
            day=day,
            now=now,
            complaints=tuple(complaint_summary(c) for c in complaints),
            late=is_late(planned, now, cfg.reminders.late_after),
            planned_at=planned,
        )
        message_id = new_message_id(f"digest-{day.isoformat()}", "dig", self._domain())
        return self._compose(render_digest(self.templates, facts), Address(handler.name, handler.email), message_id, now, "digest")

    # ------------------------------------------------------------------ helpers

    def _domain(self) -> str:
        return self.config.smtp.sender.domain

    def _compose(self, letter, to: Address, message_id: str, now: datetime, kind: str) -> OutgoingMail:
        return compose(letter, sender=self.config.smtp.sender, to=to, message_id=message_id, date=now, auto_submitted="auto-generated", kind=kind)
