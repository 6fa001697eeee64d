"""Streaming the register for `complaintsd export`: every complaint as a `ComplaintRecord`, in
registration order, a chunk at a time.

Memory stays flat whatever the register's size: complaints are read `CHUNK` rows at a time by
keyset (id > the last one seen: no OFFSET rescanning, no server-side cursor needed on either
database), as plain column tuples (no ORM identity map growing), and what hangs from each chunk
(files, links, causes, actions, status moves) in one query each, for those ids only.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from daemon.core.export import ActionLine, CauseLine, ComplaintRecord
from daemon.edges.register.models import Action, Cause, Complaint, ComplaintLink, HistoryEvent, StoredAttachment
from daemon.edges.register.views import Filters, narrowed

CHUNK = 500

# The complaint's own columns: the fields of ComplaintRecord that are columns of the complaint table,
# in the record's order (the rows hanging from it are read after).
_FIELDS = tuple(f.name for f in dataclasses.fields(ComplaintRecord) if f.name in Complaint.__table__.columns)  # type: ignore[attr-defined]


def export_records(
    session: Session,
    received_from: datetime | None = None,
    received_before: datetime | None = None,
    filters: Filters | None = None,
) -> Iterator[ComplaintRecord]:
    """Every complaint received in [received_from, received_before), oldest registration first; only
    those `filters` keep, when given (the web view's export of what its register page shows)."""
    last = 0
    while True:
        statement = select(col(Complaint.id), *(getattr(Complaint, name) for name in _FIELDS))
        statement = statement.where(col(Complaint.id) > last)
        if received_from is not None:
            statement = statement.where(col(Complaint.received_at) >= received_from)
        if received_before is not None:
            statement = statement.where(col(Complaint.received_at) < received_before)
        if filters is not None:
            statement = narrowed(statement, filters)
        rows = session.exec(statement.order_by(col(Complaint.id)).limit(CHUNK)).all()
        if not rows:
            return
        yield from _records(session, rows)
        last = rows[-1][0]
        session.expunge_all()


def _records(session: Session, rows) -> Iterator[ComplaintRecord]:
    ids = [row[0] for row in rows]
    files = dict(
        session.exec(
            select(StoredAttachment.complaint_id, func.count())
            .where(col(StoredAttachment.complaint_id).in_(ids))
            .group_by(col(StoredAttachment.complaint_id))
        ).all()
    )
    related, causes, actions = _related(session, ids), _causes(session, ids), _actions(session, ids)
    moves = _status_moves(session, ids)
    for row in rows:
        cid = row[0]
        yield ComplaintRecord(
            **dict(zip(_FIELDS, row[1:], strict=True)),
            attachments=files.get(cid, 0),
            related=tuple(related.get(cid, ())),
            causes=tuple(causes.get(cid, ())),
            actions=tuple(actions.get(cid, ())),
            status_moves=tuple(moves.get(cid, ())),
        )


def _related(session: Session, ids: list[int]) -> dict[int, list[str]]:
    other = aliased(Complaint)
    found: dict[int, list[str]] = defaultdict(list)
    for cid, reference in session.exec(
        select(ComplaintLink.complaint_id, other.reference)
        .join(other, col(other.id) == col(ComplaintLink.related_id))
        .where(col(ComplaintLink.complaint_id).in_(ids))
        .order_by(col(other.reference))
    ).all():
        found[cid].append(reference)
    return found


def _causes(session: Session, ids: list[int]) -> dict[int, list[CauseLine]]:
    found: dict[int, list[CauseLine]] = defaultdict(list)
    for cid, text, category in session.exec(
        select(Cause.complaint_id, Cause.text, Cause.category)
        .where(col(Cause.complaint_id).in_(ids))
        .order_by(col(Cause.id))
    ).all():
        found[cid].append(CauseLine(text, category))
    return found


def _actions(session: Session, ids: list[int]) -> dict[int, list[ActionLine]]:
    found: dict[int, list[ActionLine]] = defaultdict(list)
    for cid, *fields in session.execute(
        sa_select(
            *(
                col(column)
                for column in (
                    Action.complaint_id,
                    Action.number,
                    Action.kind,
                    Action.text,
                    Action.owner_email,
                    Action.due_on,
                    Action.status,
                    Action.reason,
                )
            )
        )
        .where(col(Action.complaint_id).in_(ids))
        .order_by(col(Action.complaint_id), col(Action.number))
    ).all():
        found[cid].append(ActionLine(*fields))
    return found


def _status_moves(session: Session, ids: list[int]) -> dict[int, list[tuple[datetime, str]]]:
    found: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    for cid, at, detail in session.exec(
        select(HistoryEvent.complaint_id, HistoryEvent.at, HistoryEvent.detail)
        .where(col(HistoryEvent.complaint_id).in_(ids), HistoryEvent.event == "status")
        .order_by(col(HistoryEvent.at), col(HistoryEvent.id))
    ).all():
        found[cid].append((at, detail))
    return found
