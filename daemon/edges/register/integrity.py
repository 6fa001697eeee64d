"""What `complaintsd verify` reads: the chained history in register order, the chain's head, and
the stored raw messages and attachment names, each streamed so a large register costs no memory."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from sqlmodel import Session, col, select

from daemon.core.chain import GENESIS, ChainedEvent, EventContent
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
    """Each stored message in turn: its id when intact, a RawCheck when its bytes changed."""
    statement = select(col(InboundMessage.id), InboundMessage.complaint_id, InboundMessage.sha256, InboundMessage.raw)
    for inbound_id, complaint_id, expected, raw in session.exec(
        statement.order_by(col(InboundMessage.id)).execution_options(yield_per=50)
    ):
        assert inbound_id is not None
        found = hashlib.sha256(raw).hexdigest()
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
