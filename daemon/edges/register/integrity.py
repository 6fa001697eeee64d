"""What `complaintsd verify` and `purge` read: the chained history in register order, the chain's head, and
the stored raw messages and attachment names, each streamed so a large register costs no memory."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case
from sqlmodel import Session, col, func, select

from daemon.core.chain import GENESIS, ChainedEvent, EventContent
from daemon.core.erasure import ERASED
from daemon.core.retention import PURGED, Closed
from daemon.edges.register.blobs import WRITE_FROM, blob_digest
from daemon.edges.register.models import ChainHead, Complaint, HistoryEvent, InboundMessage, StoredAttachment

BLOCK = 1000


def chained_events(session: Session) -> Iterator[ChainedEvent]:
    rows = session.exec(select(HistoryEvent).order_by(col(HistoryEvent.id)).execution_options(yield_per=BLOCK))
    for row in rows:
        assert row.id is not None
        content = EventContent(row.complaint_id, row.at, row.event, row.actor, row.detail)
        yield ChainedEvent(
            row.id, content, row.complaint_id, row.digest, row.register_prev, row.complaint_prev, row.hash
        )


def chain_head(session: Session) -> tuple[int, str]:
    """(events counted, last hash) as the writers left them; no row yet: an empty chain."""
    head = session.get(ChainHead, 1)
    return (0, GENESIS) if head is None else (head.events, head.last_hash)


@dataclass(frozen=True)
class RawCheck:
    """One stored message whose bytes no longer hash to the SHA-256 it was registered under."""

    inbound_id: int
    complaint_id: int | None
    expected: str
    found: str


def altered_messages(session: Session) -> Iterator[RawCheck | int]:
    """Each stored message in turn: its id when intact, a RawCheck when its bytes changed. On SQLite a
    large message is hashed a megabyte at a time (blobs.py), not selected whole and copied."""
    raw: Any = InboundMessage.raw
    if session.get_bind().dialect.name == "sqlite":
        raw = case((func.length(InboundMessage.raw) < WRITE_FROM, InboundMessage.raw), else_=None)
    statement = select(col(InboundMessage.id), InboundMessage.complaint_id, InboundMessage.sha256, raw)
    for inbound_id, complaint_id, expected, content in session.exec(
        statement.order_by(col(InboundMessage.id)).execution_options(yield_per=50)
    ):
        assert inbound_id is not None
        if content is None:
            found = blob_digest(session, InboundMessage.__table__, "raw", inbound_id)  # type: ignore[attr-defined]
        else:
            found = hashlib.sha256(content).hexdigest()
        yield inbound_id if found == expected else RawCheck(inbound_id, complaint_id, expected, found)


def stored_attachments(session: Session) -> Iterator[tuple[int, int, str, str]]:
    """(attachment id, complaint id, file name, SHA-256) of every file the register lists."""
    statement = select(
        col(StoredAttachment.id), StoredAttachment.complaint_id, StoredAttachment.filename, StoredAttachment.sha256
    )
    for attachment_id, complaint_id, filename, sha256 in session.exec(
        statement.order_by(col(StoredAttachment.id)).execution_options(yield_per=BLOCK)
    ):
        assert attachment_id is not None
        yield attachment_id, complaint_id, filename, sha256


def references_of(session: Session, complaint_ids: set[int]) -> dict[int, str]:
    ids = sorted(complaint_ids)[:500]
    rows = session.exec(select(col(Complaint.id), Complaint.reference).where(col(Complaint.id).in_(ids))).all()
    return {complaint_id: reference for complaint_id, reference in rows if complaint_id is not None}


def all_references(session: Session) -> dict[int, str]:
    """Every complaint's reference by id (an export names each event's complaint)."""
    rows = session.exec(select(col(Complaint.id), Complaint.reference)).all()
    return {complaint_id: reference for complaint_id, reference in rows if complaint_id is not None}


def purged_complaints(session: Session) -> dict[int, int]:
    """Each purged or erased complaint's last purge or erase event id (core/retention.py,
    core/erasure.py): the blank events before it are stubs."""
    rows = session.exec(
        select(HistoryEvent.complaint_id, func.max(HistoryEvent.id))
        .where(col(HistoryEvent.event).in_((PURGED, ERASED)))
        .group_by(col(HistoryEvent.complaint_id))
    ).all()
    return {complaint_id: event_id for complaint_id, event_id in rows if event_id is not None}


def closed_before(session: Session, before: datetime) -> list[Closed]:
    """Complaints closed (their last move to closed) before `before`, not purged yet, oldest first."""
    closings = (
        select(HistoryEvent.complaint_id, func.max(HistoryEvent.at).label("closed_at"))
        .where(HistoryEvent.event == "status", col(HistoryEvent.detail).like("%→ closed"))
        .group_by(col(HistoryEvent.complaint_id))
        .subquery()
    )
    done = select(HistoryEvent.complaint_id).where(HistoryEvent.event == PURGED)
    rows = session.exec(
        select(col(Complaint.id), Complaint.reference, closings.c.closed_at)
        .join(closings, closings.c.complaint_id == Complaint.id)
        .where(Complaint.status == "closed", closings.c.closed_at < before, col(Complaint.id).not_in(done))
        .order_by(closings.c.closed_at)
    ).all()
    return [Closed(cid, reference, _aware(at)) for cid, reference, at in rows if cid is not None]


def _aware(at: datetime) -> datetime:
    """An aggregate bypasses the column's UTC type: the register stores UTC without an offset."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


def files_in_use(session: Session, sha256s: Iterable[str]) -> set[str]:
    """Which of these stored files another complaint still lists."""
    wanted = sorted(set(sha256s))
    return set(session.exec(select(StoredAttachment.sha256).where(col(StoredAttachment.sha256).in_(wanted))).all())
