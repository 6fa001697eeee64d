"""What `complaintsd erase` reads: one person's complaints and what each holds, the rows from or to
them that belong to no complaint; and, on SQLite, the file's own leftovers (deleted text stays in
free pages and in the write-ahead log until overwritten)."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Engine, text
from sqlmodel import Session, col, func, select

from daemon.core.erasure import Held, Person
from daemon.edges.register.models import Complaint, HistoryEvent, InboundMessage, OutboxMail, StoredAttachment


def held_about(session: Session, email: str) -> tuple[Person, tuple[Held, ...]]:
    """The person behind `email` (the names, phones and addresses their complaints give) and their
    complaints, oldest first."""
    address = email.strip().lower()
    rows = session.exec(
        select(Complaint).where(func.lower(Complaint.customer_email) == address).order_by(col(Complaint.id))
    ).all()
    person = Person(
        address,
        _distinct(r.customer_name for r in rows),
        _distinct(r.customer_phone for r in rows),
        _distinct(r.customer_address for r in rows),
    )
    return person, tuple(_held(session, row) for row in rows)


def _held(session: Session, row: Complaint) -> Held:
    assert row.id is not None
    cid = row.id
    pending = session.exec(
        select(OutboxMail.purpose)
        .where(OutboxMail.complaint_id == cid, OutboxMail.status == "pending")
        .order_by(col(OutboxMail.id))
    ).all()
    return Held(
        complaint_id=cid,
        reference=row.reference,
        status=row.status,
        received_at=row.received_at,
        messages=_count(session, select(func.count()).where(InboundMessage.complaint_id == cid)),
        files=_count(session, select(func.count()).where(StoredAttachment.complaint_id == cid)),
        letters=_count(session, select(func.count()).where(OutboxMail.complaint_id == cid)),
        pending=tuple(pending),
        events=_count(
            session, select(func.count()).where(HistoryEvent.complaint_id == cid, HistoryEvent.event != "status")
        ),
    )


def stray_messages(session: Session, email: str) -> int:
    """Messages from `email` registered with no complaint (quarantined, a robot's, a refused one)."""
    return _count(
        session,
        select(func.count()).where(
            col(InboundMessage.complaint_id).is_(None), func.lower(InboundMessage.sender) == email.strip().lower()
        ),
    )


def unattached_letters(session: Session) -> Iterator[tuple[int, str, bytes]]:
    """(id, recipients, raw) of every outbox row of no complaint (digests, notices), streamed."""
    statement = (
        select(col(OutboxMail.id), OutboxMail.recipients, OutboxMail.raw)
        .where(col(OutboxMail.complaint_id).is_(None))
        .order_by(col(OutboxMail.id))
        .execution_options(yield_per=50)
    )
    for row_id, recipients, raw in session.exec(statement):
        assert row_id is not None
        yield row_id, recipients, raw


def overwrite_deleted(session: Session) -> None:
    """On SQLite, have this transaction's deletes and updates zero the text they free (secure_delete):
    otherwise a deleted message stays readable in the file's free pages."""
    if session.get_bind().dialect.name == "sqlite":
        session.connection().exec_driver_sql("PRAGMA secure_delete = ON")


def truncate_log(engine: Engine) -> bool:
    """On SQLite, copy the write-ahead log into the file and empty it (older copies of the erased pages
    live there); False when a reader kept it from finishing (the next checkpoint overwrites them)."""
    if engine.dialect.name != "sqlite":
        return True
    with engine.connect() as connection:
        busy = connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)")).first()
    return busy is None or busy[0] == 0


def _count(session: Session, statement) -> int:
    return int(session.exec(statement).one())


def _distinct(values) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v.strip() for v in values if v and v.strip()))
