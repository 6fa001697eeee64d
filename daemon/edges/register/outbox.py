"""The outbox rows: what is due to leave, and what the relay's answers did (register edge).

Every outgoing mail is a row first (writes.queue) and leaves through the sender only. A success is
recorded in two phases: `mark_sent`, one UPDATE right after the relay's "250", then `settle`, which
writes its consequences (history, the `acknowledged` status) and is re-run at every flush, so a
crash between the two is repaired.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, func, select

from daemon.core.lifecycle import Event, Status, next_status
from daemon.core.outbox import PENDING, SENT, AfterFailure, Envelope
from daemon.core.reminders import DeadlineKind
from daemon.edges.register.models import Complaint, OutboxMail, Reminder
from daemon.edges.register.writes import cancel_reminders, execute, history, history_many


@dataclass(frozen=True)
class Due:
    id: int
    envelope: Envelope
    purpose: str
    attempts: int
    created_at: datetime
    message_id: str = ""

    @property
    def complaint_id(self) -> int | None:
        """The complaint the letter is about (None: a digest, an alert…), held by its envelope."""
        return self.envelope.complaint


def due(session: Session, now: datetime, limit: int) -> list[Due]:
    rows = session.exec(
        select(OutboxMail)
        .where(OutboxMail.status == PENDING, col(OutboxMail.next_attempt_at) <= now)
        .order_by(col(OutboxMail.next_attempt_at), col(OutboxMail.id))
        .limit(limit)
    ).all()
    # One recipient a row (compose writes one): the column holds that addr-spec whole, which may
    # hold a comma in a quoted local part, so it is never split (issue 14: it became two recipients).
    return [
        Due(
            r.id,
            Envelope(r.mail_from, (r.recipients,), r.raw, r.complaint_id),
            r.purpose,
            r.attempts,
            r.created_at,
            r.message_id,
        )
        for r in rows
        if r.id is not None
    ]


def next_wakeup(session: Session) -> datetime | None:
    return session.exec(select(func.min(OutboxMail.next_attempt_at)).where(OutboxMail.status == PENDING)).one()


def mark_sent(session: Session, item: Due, now: datetime, reply: str) -> None:
    """Phase one of a success, ONE statement committed right after the relay's "250": the only
    window in which a crash could make a mail leave twice is the time this takes."""
    execute(
        session,
        update(OutboxMail)
        .where(col(OutboxMail.id) == item.id)
        .values(status=SENT, attempts=item.attempts + 1, sent_at=now, last_reply=reply, settled=False),
    )


_MARK_SENT = (
    update(OutboxMail)
    .where(col(OutboxMail.id) == bindparam("row"))
    .values(
        status=SENT,
        attempts=bindparam("tries"),
        sent_at=bindparam("at"),
        last_reply=bindparam("reply"),
        settled=False,
    )
)


def mark_all_sent(session: Session, accepted: Sequence[tuple[Due, datetime, str]]) -> None:
    """Phase one for the letters (and the instant and reply of their "250") the relay accepted while
    the previous group was being committed: one statement, run for each, committed by the caller."""
    if not accepted:
        return
    session.flush()
    rows = [{"row": item.id, "tries": item.attempts + 1, "at": at, "reply": reply} for item, at, reply in accepted]
    session.connection().execute(_MARK_SENT, rows)


def settle(session: Session) -> int:
    """Phase two: write the consequences of every accepted mail not yet settled (history, status).

    Run after each batch and before each flush, so a crash between the phases is repaired. Reads
    the few columns it needs (never the composed bytes) and writes in a few statements."""
    fields = ("id", "complaint_id", "purpose", "sent_at", "recipients", "last_reply")
    rows = session.execute(
        sa_select(*(col(getattr(OutboxMail, name)) for name in fields))
        .where(col(OutboxMail.status) == SENT, col(OutboxMail.settled).is_(False))
        .order_by(col(OutboxMail.id))
    ).all()
    traced = [(cid, purpose, at, f"to {to}: {reply}") for _id, cid, purpose, at, to, reply in rows if cid is not None]
    history_many(session, [(cid, at, f"{purpose}_sent", "complaintsd", detail) for cid, purpose, at, detail in traced])
    acknowledged = [(cid, at) for cid, purpose, at, _detail in traced if purpose == "acknowledgement"]
    moves = [(cid, at, *ACK_MOVE) for cid, at in _acknowledge_all(session, acknowledged)]
    history_many(session, moves)  # one append for the batch: the chain head is taken once
    ids = [row[0] for row in rows]
    for start in range(0, len(ids), 500):
        execute(
            session, update(OutboxMail).where(col(OutboxMail.id).in_(ids[start : start + 500])).values(settled=True)
        )
    return len(rows)


def record_failure(session: Session, item: Due, after: AfterFailure, now: datetime) -> None:
    """A refusal or failure as `core.outbox.after_failure` decided it; a delay is traced once."""
    attempts = item.attempts + 1
    values: dict[str, object] = {"status": after.status, "attempts": attempts, "last_reply": after.reply}
    if after.next_attempt_at is not None:
        values["next_attempt_at"] = after.next_attempt_at
    execute(session, update(OutboxMail).where(col(OutboxMail.id) == item.id).values(**values))
    if after.status != PENDING or attempts == 1:
        _trace(session, item.complaint_id, item.purpose, now, after.what, after.detail)


def acknowledged_on_paper(session: Session, reference: str, at: datetime) -> bool:
    """The acknowledgement of a customer with no email address was printed to be posted: the
    acknowledgement deadline is met as if it had been mailed. False when it was already met."""
    complaint_id = session.exec(select(Complaint.id).where(Complaint.reference == reference)).first()
    if complaint_id is None:
        return False
    history(session, complaint_id, at, "acknowledgement_printed", "complaintsd", "printed to be posted")
    moved = _acknowledge(session, complaint_id, at)
    if moved:
        history(session, complaint_id, at, *ACK_MOVE)
    return moved


_ACKNOWLEDGED = next_status(Status.RECEIVED, Event.ACK_SENT)
ACK_MOVE = ("status", "complaintsd", f"received → {_ACKNOWLEDGED.value}")  # (event, actor, detail)


def _acknowledge(session: Session, complaint_id: int, at: datetime) -> bool:
    """The acknowledgement left: the complaint moves on (when still received; its history entry is the
    caller's, so a batch appends them in one go) and its acknowledgement reminders stop."""
    moved = execute(
        session,
        update(Complaint)
        .where(col(Complaint.id) == complaint_id, col(Complaint.status) == Status.RECEIVED.value)
        .values(status=_ACKNOWLEDGED.value, acknowledged_at=at),
    )
    # The acknowledgement deadline is met: its reminders and escalation have nothing left to say.
    cancel_reminders(session, complaint_id, DeadlineKind.ACK)
    return bool(moved)


_ACK = (
    update(Complaint)
    .where(col(Complaint.id) == bindparam("complaint"), col(Complaint.status) == Status.RECEIVED.value)
    .values(status=_ACKNOWLEDGED.value, acknowledged_at=bindparam("at"))
)


def _acknowledge_all(session: Session, acknowledged: list[tuple[int, datetime]]) -> list[tuple[int, datetime]]:
    """`_acknowledge` for a group in a few statements: those still received move on (returned, in
    order), and every one's acknowledgement reminders stop. The rows are locked while read (PostgreSQL),
    so a complaint moved meanwhile by another writer is neither moved nor traced here."""
    moved: list[tuple[int, datetime]] = []
    seen: set[int] = set()
    for start in range(0, len(acknowledged), 500):
        group = acknowledged[start : start + 500]
        ids = [cid for cid, _at in group]
        received = set(
            session.exec(
                select(Complaint.id)
                .where(col(Complaint.id).in_(ids), col(Complaint.status) == Status.RECEIVED.value)
                .with_for_update()
            ).all()
        )
        moving = []
        for cid, at in group:  # a complaint acknowledged twice moves once, at the first
            if cid in received and cid not in seen:
                moving.append((cid, at))
            seen.add(cid)
        if moving:
            session.connection().execute(_ACK, [{"complaint": cid, "at": at} for cid, at in moving])
        pending = update(Reminder).where(col(Reminder.complaint_id).in_(ids), col(Reminder.state) == "pending")
        execute(session, pending.where(col(Reminder.deadline) == DeadlineKind.ACK.value).values(state="cancelled"))
        moved += moving
    return moved


def _trace(session: Session, complaint_id: int | None, purpose: str, at: datetime, what: str, detail: str) -> None:
    if complaint_id is not None:
        history(session, complaint_id, at, f"{purpose}_{what}", "complaintsd", detail)
