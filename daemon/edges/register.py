"""The register (database) adapter: opening it, writing what ingestion decided, reading it back.

Ingestion writes a whole batch of messages, their complaints, attachments, history and queued
acknowledgements in ONE transaction; the mailbox is touched only after it commits. Readers get
plain frozen values (ComplaintView), never live rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import event, func
from sqlalchemy.engine import Engine
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session, SQLModel, col, create_engine, select

from daemon.core.letters.compose import OutgoingMail
from daemon.errors import ConfigError, NotFound, TransientError
from daemon.core.letters.staff import ComplaintSummary
from daemon.core.lifecycle import Status
from daemon.core.mail import InboundMail
from daemon.core.deadlines import Deadline
from daemon.edges.models import CommandToken, Complaint, HistoryEvent, InboundMessage, OutboxMail, ReferenceCounter, Reminder, StoredAttachment
from daemon.core.reminders import Planned
from daemon.core.routing import Route
from daemon.core.tokens import new_token
from daemon.core.references import Reference
from daemon.core.triage import Outcome


def open_register(url: str, create: bool = True) -> Engine:
    """An engine for `url`, with the schema created when asked. SQLite gets WAL and a busy timeout
    because the ingestion and outbox threads write concurrently."""
    if url.startswith("sqlite:///"):
        target = url.removeprefix("sqlite:///")
        if target and target != ":memory:":
            Path(target).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 60})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        try:
            engine = create_engine(url, pool_pre_ping=True)
        except (SQLAlchemyError, ImportError, ValueError) as exc:
            raise ConfigError("database.url", f"cannot use {url!r}: {exc}") from None
    if create:
        try:
            SQLModel.metadata.create_all(engine)
        except SQLAlchemyError as exc:
            raise TransientError(f"database: cannot open {url}: {exc.__class__.__name__}: {exc.args[0]}") from None
    return engine


def _sqlite_pragmas(connection, _record) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # WAL + NORMAL survives a killed process (not a power cut mid-commit): the crash model we test.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


# --------------------------------------------------------------------------- ingestion


@dataclass(frozen=True)
class StoredFile:
    filename: str
    content_type: str
    size: int
    sha256: str
    path: str


@dataclass(frozen=True)
class Intake:
    """What ingestion decided about one fetched message, ready to be written."""

    raw: bytes
    sha256: str
    arrived_at: datetime
    outcome: Outcome
    reason: str = ""
    mail: InboundMail | None = None
    files: tuple[StoredFile, ...] = ()
    route: Route | None = None
    ack: Deadline | None = None
    answer: Deadline | None = None
    thread: int | None = None  # the complaint a follow-up (or a robot's reply) is about


@dataclass(frozen=True)
class Registration:
    """Everything prepared, outside the transaction, for one new complaint."""

    reference: Reference
    acknowledgement: OutgoingMail
    notification: OutgoingMail
    token: str
    reminders: tuple[Planned, ...]


@dataclass(frozen=True)
class Prior:
    """What the register already knows about a batch: outcome by SHA-256, seen Message-IDs, and
    which complaint each named Message-ID or reference belongs to (for threading)."""

    outcomes: dict[str, str]
    message_ids: frozenset[str]
    thread_ids: dict[str, int] = field(default_factory=dict)
    thread_references: dict[str, int] = field(default_factory=dict)


def prior_knowledge(session: Session, sha256s: Iterable[str], message_ids: Iterable[str], named_ids: Iterable[str] = (), named_references: Iterable[str] = ()) -> Prior:
    sha256s, message_ids = list(set(sha256s)), list(set(message_ids))
    outcomes = {}
    if sha256s:
        rows = session.exec(
            select(InboundMessage.sha256, InboundMessage.outcome).where(col(InboundMessage.sha256).in_(sha256s))
        )
        outcomes = dict(rows.all())
    seen: set[str] = set()
    if message_ids:
        seen |= set(session.exec(select(InboundMessage.message_id).where(col(InboundMessage.message_id).in_(message_ids))).all())
        seen |= set(session.exec(select(OutboxMail.message_id).where(col(OutboxMail.message_id).in_(message_ids))).all())
    return Prior(
        outcomes=outcomes,
        message_ids=frozenset(m for m in seen if m),
        thread_ids=_threads_by_id(session, list(set(named_ids))),
        thread_references=_threads_by_reference(session, list(set(named_references))),
    )


def _threads_by_id(session: Session, ids: list[str]) -> dict[str, int]:
    if not ids:
        return {}
    found: dict[str, int] = {}
    for model in (InboundMessage, OutboxMail):
        rows = session.exec(select(model.message_id, model.complaint_id).where(col(model.message_id).in_(ids), col(model.complaint_id).is_not(None)))
        found.update({mid: cid for mid, cid in rows.all()})
    return found


def _threads_by_reference(session: Session, references: list[str]) -> dict[str, int]:
    if not references:
        return {}
    return dict(session.exec(select(Complaint.reference, Complaint.id).where(col(Complaint.reference).in_(references))).all())


class SequenceConflict(Exception):
    """Another writer numbered complaints since we read the counters: plan the batch again."""


def last_sequences(session: Session, prefix: str, years: Iterable[int]) -> dict[int, int]:
    """The last sequence number used per year (0 when none): read without a lock, see claim_sequences."""
    rows = session.exec(
        select(ReferenceCounter.year, ReferenceCounter.last).where(
            ReferenceCounter.prefix == prefix, col(ReferenceCounter.year).in_(list(set(years)))
        )
    ).all()
    return dict(rows)


def claim_sequences(session: Session, prefix: str, last: dict[int, int], used: dict[int, int]) -> None:
    """Move each year's counter from `last` to `last + used`, or raise SequenceConflict.

    Optimistic numbering keeps the write transaction short (letters are rendered before it starts)
    and gap-free: the counter moves in the same transaction as the complaints it numbers.
    """
    for year, count in used.items():
        if year not in last:
            session.add(ReferenceCounter(prefix=prefix, year=year, last=count))
            try:
                session.flush()
            except IntegrityError:
                raise SequenceConflict(f"{prefix}-{year} counter created meanwhile") from None
            continue
        moved = session.exec(
            update(ReferenceCounter)
            .where(ReferenceCounter.prefix == prefix, ReferenceCounter.year == year, ReferenceCounter.last == last[year])
            .values(last=last[year] + count)
        )
        if moved.rowcount != 1:
            raise SequenceConflict(f"{prefix}-{year} counter moved meanwhile")


def record(session: Session, intake: Intake, now: datetime, registration: Registration | None) -> str | None:
    """Write one message and, for a complaint, its row, files, history, letters and reminders."""
    mail = intake.mail
    inbound = InboundMessage(
        sha256=intake.sha256,
        message_id=mail.message_id if mail else None,
        outcome=intake.outcome.value,
        reason=intake.reason,
        sender=mail.sender.email if mail and mail.sender else "",
        subject=mail.subject if mail else "",
        arrived_at=intake.arrived_at,
        registered_at=now,
        raw=intake.raw,
    )
    session.add(inbound)
    if intake.thread is not None and intake.outcome in (Outcome.FOLLOW_UP, Outcome.ROBOT):
        inbound.complaint_id = intake.thread
        inbound.handled = intake.outcome is not Outcome.FOLLOW_UP
        if intake.outcome is Outcome.ROBOT:
            _history(session, intake.thread, now, "automatic_reply", inbound.sender, f"{intake.reason}; subject: {inbound.subject[:200]}")
    if intake.outcome is not Outcome.COMPLAINT:
        return None
    complaint = _new_complaint(intake, registration.reference)
    session.add(complaint)
    session.flush()
    inbound.complaint_id = complaint.id
    for stored in intake.files:
        session.add(StoredAttachment(complaint_id=complaint.id, **stored.__dict__))
    _history(session, complaint.id, now, "received", mail.sender.email, _received_detail(intake))
    _queue_letters(session, complaint, intake.route, registration, now)
    for planned in registration.reminders:
        session.add(Reminder(complaint_id=complaint.id, kind=planned.kind.value, deadline=planned.deadline.value, step=planned.step, due_at=planned.due_at))
    return complaint.reference


def _queue_letters(session: Session, complaint: Complaint, route: Route, registration: Registration, now: datetime) -> None:
    ack, notification = registration.acknowledgement, registration.notification
    queue(session, ack, purpose="acknowledgement", complaint_id=complaint.id, now=now)
    _history(session, complaint.id, now, "acknowledgement_queued", "complaintsd", f"to {', '.join(ack.recipients)}, Message-ID {ack.message_id}")
    session.add(CommandToken(token=registration.token, complaint_id=complaint.id, handler_email=route.handler.email, created_at=now))
    _history(session, complaint.id, now, "routed", "complaintsd", f"to {route.handler.name} <{route.handler.email}>: {route.reason}")
    queue(session, notification, purpose="handler_notification", complaint_id=complaint.id, now=now)
    _history(session, complaint.id, now, "handler_notification_queued", "complaintsd", f"to {route.handler.email}, Message-ID {notification.message_id}")


def _new_complaint(intake: Intake, reference: Reference) -> Complaint:
    mail = intake.mail
    return Complaint(
        reference=str(reference),
        prefix=reference.prefix,
        year=reference.year,
        sequence=reference.sequence,
        status=Status.RECEIVED.value,
        customer_email=mail.answer_to.email,
        customer_name=mail.answer_to.name,
        subject=mail.subject,
        text_body=mail.text_body,
        html_body=mail.html_body,
        message_id=mail.message_id,
        received_at=intake.arrived_at,
        ack_due_at=intake.ack.at,
        answer_due_at=intake.answer.at,
        handler_email=intake.route.handler.email,
        handler_name=intake.route.handler.name,
        ack_rule=str(intake.ack.rule),
        answer_rule=str(intake.answer.rule),
        answer_skipped="\n".join(f"{day.isoformat()} {why}" for day, why in intake.answer.skipped),
    )


def _received_detail(intake: Intake) -> str:
    files = ", ".join(f.filename for f in intake.files)
    return f"subject: {intake.mail.subject}" + (f"; attachments: {files}" if files else "")


def _history(session: Session, complaint_id: int, at: datetime, event_name: str, actor: str, detail: str) -> None:
    session.add(HistoryEvent(complaint_id=complaint_id, at=at, event=event_name, actor=actor, detail=detail))


def complaint_summary(complaint: Complaint) -> ComplaintSummary:
    """What every internal letter says about a complaint, from its register row."""
    return ComplaintSummary(
        reference=complaint.reference,
        status=complaint.status,
        customer_name=complaint.customer_name,
        customer_email=complaint.customer_email,
        subject=complaint.subject,
        received_at=complaint.received_at,
        ack_due_at=complaint.ack_due_at,
        answer_due_at=complaint.answer_due_at,
    )


def handler_token(session: Session, complaint: Complaint, now: datetime) -> str:
    """The current handler's command token for this complaint (made now if the register has none)."""
    statement = (
        select(CommandToken.token)
        .where(CommandToken.complaint_id == complaint.id, CommandToken.handler_email == complaint.handler_email)
        .order_by(col(CommandToken.created_at).desc())
    )
    token = session.exec(statement).first()
    if token is None:
        token = new_token()
        session.add(CommandToken(token=token, complaint_id=complaint.id, handler_email=complaint.handler_email, created_at=now))
    return token


def add_history(session: Session, complaint_id: int, at: datetime, event_name: str, actor: str, detail: str = "") -> None:
    _history(session, complaint_id, at, event_name, actor, detail)


def queue(session: Session, mail: OutgoingMail, purpose: str, complaint_id: int | None, now: datetime) -> OutboxMail:
    """Put a composed mail in the outbox; it leaves when the caller's transaction commits."""
    row = OutboxMail(
        complaint_id=complaint_id,
        purpose=purpose,
        message_id=mail.message_id,
        mail_from=mail.mail_from,
        recipients=",".join(mail.recipients),
        raw=mail.raw,
        created_at=now,
        next_attempt_at=now,
    )
    session.add(row)
    return row


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class AttachmentView:
    filename: str
    size: int
    sha256: str
    path: str


@dataclass(frozen=True)
class HistoryView:
    at: datetime
    event: str
    actor: str
    detail: str


@dataclass(frozen=True)
class ComplaintView:
    reference: str
    status: str
    customer_email: str
    customer_name: str
    subject: str
    received_at: datetime
    ack_due_at: datetime
    answer_due_at: datetime
    acknowledged_at: datetime | None
    attachment_count: int
    handler_email: str = ""
    handler_name: str = ""
    category: str | None = None
    ack_rule: str = ""
    answer_rule: str = ""
    answer_skipped: tuple[tuple[str, str], ...] = ()  # (ISO date, why closed)
    attachments: tuple[AttachmentView, ...] = ()
    history: tuple[HistoryView, ...] = ()
    text_body: str = ""

    def overdue(self, now: datetime) -> bool:
        """A deadline passed before its event: no acknowledgement yet, or no answer yet."""
        if self.acknowledged_at is None and self.status == Status.RECEIVED.value and self.ack_due_at <= now:
            return True
        return self.status not in CLOSED_FOR_ANSWER and self.answer_due_at <= now


CLOSED_FOR_ANSWER = frozenset({Status.ANSWERED.value, Status.CLOSED.value})


@dataclass(frozen=True)
class Filters:
    """What `complaintsd list` narrows the register to; `now` is passed in, never read here."""

    now: datetime
    status: str | None = None
    handler: str | None = None
    overdue: bool = False
    due_within: timedelta | None = None


def _view(row: Complaint, count: int, attachments=(), history=(), with_body: bool = False) -> ComplaintView:
    return ComplaintView(
        reference=row.reference,
        status=row.status,
        customer_email=row.customer_email,
        customer_name=row.customer_name,
        subject=row.subject,
        received_at=row.received_at,
        ack_due_at=row.ack_due_at,
        answer_due_at=row.answer_due_at,
        acknowledged_at=row.acknowledged_at,
        attachment_count=count,
        handler_email=row.handler_email,
        handler_name=row.handler_name,
        category=row.category,
        ack_rule=row.ack_rule,
        answer_rule=row.answer_rule,
        answer_skipped=tuple(tuple(line.split(" ", 1)) for line in row.answer_skipped.splitlines() if " " in line),
        attachments=tuple(attachments),
        history=tuple(history),
        text_body=row.text_body if with_body else "",
    )


def list_complaints(session: Session, filters: Filters | None = None, limit: int | None = None) -> list[ComplaintView]:
    counts = (
        select(StoredAttachment.complaint_id, func.count().label("n"))
        .group_by(StoredAttachment.complaint_id)
        .subquery()
    )
    statement = (
        select(Complaint, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.complaint_id == Complaint.id)
        .order_by(Complaint.received_at, Complaint.id)
    )
    if filters is not None:
        statement = _filtered(statement, filters)
    if limit:
        statement = statement.limit(limit)
    return [_view(row, count) for row, count in session.exec(statement).all()]


def _filtered(statement, filters: Filters):
    open_answer = col(Complaint.status).not_in(CLOSED_FOR_ANSWER)
    if filters.status:
        statement = statement.where(Complaint.status == filters.status)
    if filters.handler:
        statement = statement.where(Complaint.handler_email == filters.handler.strip().lower())
    if filters.overdue:
        late_ack = (Complaint.status == Status.RECEIVED.value) & (col(Complaint.ack_due_at) <= filters.now)
        statement = statement.where(late_ack | (open_answer & (col(Complaint.answer_due_at) <= filters.now)))
    if filters.due_within is not None:
        statement = statement.where(open_answer, col(Complaint.answer_due_at) <= filters.now + filters.due_within)
    return statement


def show_complaint(session: Session, reference: str) -> ComplaintView:
    row = session.exec(select(Complaint).where(Complaint.reference == reference.strip().upper())).first()
    if row is None:
        raise NotFound(f"no complaint {reference} in the register")
    attachments = session.exec(
        select(StoredAttachment).where(StoredAttachment.complaint_id == row.id).order_by(StoredAttachment.id)
    ).all()
    history = session.exec(
        select(HistoryEvent).where(HistoryEvent.complaint_id == row.id).order_by(HistoryEvent.at, HistoryEvent.id)
    ).all()
    return _view(
        row,
        len(attachments),
        [AttachmentView(a.filename, a.size, a.sha256, a.path) for a in attachments],
        [HistoryView(h.at, h.event, h.actor, h.detail) for h in history],
        with_body=True,
    )


def set_aside_counts(session: Session) -> dict[str, int]:
    """How many inbound messages ended in each outcome (for `check` and the demo summary)."""
    rows = session.exec(select(InboundMessage.outcome, func.count()).group_by(InboundMessage.outcome)).all()
    return dict(rows)
