"""The register (database) adapter: opening it, writing what ingestion decided, reading it back.

Ingestion writes a whole batch of messages, their complaints, attachments, history and queued
acknowledgements in ONE transaction; the mailbox is touched only after it commits. Readers get
plain frozen values (ComplaintView), never live rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import event, func
from sqlalchemy.engine import Engine
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session, SQLModel, col, create_engine, select

from .compose import OutgoingMail
from .errors import ConfigError, NotFound, TransientError
from .lifecycle import Status
from .mail import InboundMail
from .models import Complaint, HistoryEvent, InboundMessage, OutboxMail, ReferenceCounter, StoredAttachment
from .references import Reference
from .triage import Outcome


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
    ack_due_at: datetime | None = None
    answer_due_at: datetime | None = None


@dataclass(frozen=True)
class Prior:
    """What the register already knows about a batch: outcome by SHA-256, and seen Message-IDs."""

    outcomes: dict[str, str]
    message_ids: frozenset[str]


def prior_knowledge(session: Session, sha256s: Iterable[str], message_ids: Iterable[str]) -> Prior:
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
    return Prior(outcomes=outcomes, message_ids=frozenset(m for m in seen if m))


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


def record(session: Session, intake: Intake, now: datetime, reference: Reference | None, ack: OutgoingMail | None) -> str | None:
    """Write one message and, for a complaint, its row, files, history and acknowledgement."""
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
    if intake.outcome is not Outcome.COMPLAINT:
        return None
    complaint = _new_complaint(intake, reference)
    session.add(complaint)
    session.flush()
    inbound.complaint_id = complaint.id
    for stored in intake.files:
        session.add(StoredAttachment(complaint_id=complaint.id, **stored.__dict__))
    _history(session, complaint.id, now, "received", mail.sender.email, _received_detail(intake))
    queue(session, ack, purpose="acknowledgement", complaint_id=complaint.id, now=now)
    _history(session, complaint.id, now, "acknowledgement_queued", "complaintsd", f"to {', '.join(ack.recipients)}, Message-ID {ack.message_id}")
    return complaint.reference


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
        ack_due_at=intake.ack_due_at,
        answer_due_at=intake.answer_due_at,
    )


def _received_detail(intake: Intake) -> str:
    files = ", ".join(f.filename for f in intake.files)
    return f"subject: {intake.mail.subject}" + (f"; attachments: {files}" if files else "")


def _history(session: Session, complaint_id: int, at: datetime, event_name: str, actor: str, detail: str) -> None:
    session.add(HistoryEvent(complaint_id=complaint_id, at=at, event=event_name, actor=actor, detail=detail))


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
    attachments: tuple[AttachmentView, ...] = ()
    history: tuple[HistoryView, ...] = ()
    text_body: str = ""


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
        attachments=tuple(attachments),
        history=tuple(history),
        text_body=row.text_body if with_body else "",
    )


def list_complaints(session: Session, status: str | None = None, limit: int | None = None) -> list[ComplaintView]:
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
    if status:
        statement = statement.where(Complaint.status == status)
    if limit:
        statement = statement.limit(limit)
    return [_view(row, count) for row, count in session.exec(statement).all()]


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
