"""What the runners load before they decide: plain values (`Prior`, `Case`, `DueReminder`), never live rows."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, true
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, func, select

from daemon.core.case import Case, HistoryItem
from daemon.core.commands.authorization import TokenOwner
from daemon.core.commands.words import Compensation, CompensationType
from daemon.core.flood import HeldLetter
from daemon.core.intake import Prior
from daemon.core.letters import PreviousComplaint, PreviousComplaints
from daemon.core.lifecycle import Status
from daemon.core.limits import AUTOMATIC_KINDS
from daemon.core.mail import StoredFile
from daemon.core.outbox import HELD
from daemon.core.parsing import parse
from daemon.core.reminders import ActionDeadline, DeadlineKind, Kind, deadline_of
from daemon.core.sweep import CLOSED_FOR_ANSWER, DueAction, DueReminder
from daemon.core.triage import Outcome, fingerprint
from daemon.core.verp import Letter
from daemon.edges.register.blobs import read_blob
from daemon.edges.register.models import (
    Action,
    CommandToken,
    Complaint,
    ComplaintLink,
    Digest,
    HistoryEvent,
    InboundMessage,
    OutboxMail,
    ReferenceCounter,
    Reminder,
    StoredAttachment,
)
from daemon.errors import MailError

# Values bound in one IN list: SQLite before 3.32 allows 999 variables a statement, later ones
# 32766, and "too many SQL variables" is an OperationalError that looks like an outage (issue 14).
CHUNK = 500


def chunks(values: Iterable[str], size: int = CHUNK) -> Iterator[list[str]]:
    """The distinct `values` in lists of at most `size`, for IN lists of a bounded length."""
    distinct = list(dict.fromkeys(values))
    for start in range(0, len(distinct), size):
        yield distinct[start : start + size]


# The "new complaint" mail lists the customer's latest earlier complaints, `show` every one.
PREVIOUS_LISTED = 10


def previous_complaints(
    session: Session, customers: Iterable[str], listed: int = PREVIOUS_LISTED
) -> dict[str, PreviousComplaints]:
    """Each customer address's complaints in the register (as `show` finds them: the same address),
    the latest `listed` oldest first, with how many in all; addresses with none are left out."""
    totals: dict[str, int] = {}
    for part in chunks(c for c in customers if c):
        rows = session.exec(
            select(Complaint.customer_email, func.count())
            .where(col(Complaint.customer_email).in_(part))
            .group_by(Complaint.customer_email)
        )
        totals |= dict(rows.all())
    found = {}
    for customer, total in totals.items():
        latest = session.exec(
            select(Complaint.reference, Complaint.received_at, Complaint.status, Complaint.outcome)
            .where(Complaint.customer_email == customer)
            .order_by(col(Complaint.id).desc())
            .limit(listed)
        ).all()
        newest = tuple(PreviousComplaint(ref, at, Status(status), outcome) for ref, at, status, outcome in latest)
        found[customer] = PreviousComplaints(newest[::-1], total)
    return found


def prior_knowledge(
    session: Session,
    sha256s: Iterable[str],
    message_ids: Iterable[str],
    named_ids: Iterable[str] = (),
    named_references: Iterable[str] = (),
    correspondents: Iterable[str] = (),
    since: datetime | None = None,
    without_ids: Iterable[tuple[str, str]] = (),
    replacing: Collection[str] = (),
    prefix: str | None = None,
    letter_ids: Iterable[int] = (),
) -> Prior:
    """What the register knows of a batch; `correspondents` (lower-cased addresses) get their count
    of automatic mails queued since `since` (core/limits.py). The rows of `replacing` (SHA-256s of
    quarantined mails registered again, `quarantine retry`) are not known: they are the batch.
    With `prefix` (one of several registers, `[[registers]]`) a mail threads only to its complaints."""
    outcomes: dict[str, str] = {}
    for part in chunks(sha256s):
        rows = session.exec(
            select(InboundMessage.sha256, InboundMessage.outcome).where(col(InboundMessage.sha256).in_(part))
        )
        outcomes |= {sha: outcome for sha, outcome in rows.all() if sha not in replacing}
    seen: set[str | None] = set()
    others = col(InboundMessage.sha256).not_in(replacing) if replacing else true()
    for part in chunks(message_ids):
        seen |= set(
            session.exec(select(InboundMessage.message_id).where(col(InboundMessage.message_id).in_(part), others))
        )
        seen |= set(session.exec(select(OutboxMail.message_id).where(col(OutboxMail.message_id).in_(part))).all())
    return Prior(
        outcomes=outcomes,
        message_ids=frozenset(m for m in seen if m),
        thread_ids=_threads_by_id(session, named_ids, prefix),
        thread_references=_threads_by_reference(session, named_references),
        automatic_mails=automatic_mails(session, correspondents, since) if since is not None else {},
        fingerprints=_fingerprints(session, without_ids),
        letters=letters_by_id(session, letter_ids),
        flood_alerted=flood_alerted(session, correspondents, since) if since is not None else frozenset(),
    )


def flood_alerted(session: Session, addresses: Iterable[str], since: datetime) -> frozenset[str]:
    """The lower-cased `addresses` whose flood the supervisor was told of since `since` (core/flood.py):
    the alert is queued with the complaint that went past the cap, whose customer it names."""
    found: set[str] = set()
    customer = func.lower(Complaint.customer_email)
    for part in chunks(addresses):
        rows = session.exec(
            select(customer)
            .select_from(Complaint)
            .join(OutboxMail, col(OutboxMail.complaint_id) == col(Complaint.id))
            .where(
                customer.in_(part),
                OutboxMail.purpose == "flood_alert",
                col(OutboxMail.next_attempt_at) >= since,
                col(OutboxMail.created_at) >= since,
            )
        )
        found |= set(rows.all())
    return frozenset(found)


def held_letters(session: Session, prefix: str | None = None) -> list[HeldLetter]:
    """The outbox's held letters (core/flood.py), with the complaint each is about (one register's,
    numbered with `prefix`, when the config has several)."""
    rows = session.execute(
        sa_select(
            col(OutboxMail.id),
            col(OutboxMail.purpose),
            col(OutboxMail.recipients),
            col(Complaint.customer_email),
            col(Complaint.reference),
            col(Complaint.subject),
            col(OutboxMail.created_at),
        )
        .join(Complaint, col(OutboxMail.complaint_id) == col(Complaint.id))
        .where(col(OutboxMail.status) == HELD, true() if prefix is None else col(Complaint.prefix) == prefix)
        .order_by(col(OutboxMail.id))
    ).all()
    return [HeldLetter(*row) for row in rows]


def letters_by_id(session: Session, ids: Iterable[int]) -> dict[int, Letter]:
    """The outbox rows that return paths name (core/verp.py), by id."""
    found: dict[int, Letter] = {}
    for part in chunks(ids):  # type: ignore[arg-type]
        rows = session.exec(
            select(OutboxMail.id, OutboxMail.message_id, OutboxMail.complaint_id).where(col(OutboxMail.id).in_(part))
        )
        found |= {row: Letter(message_id, complaint) for row, message_id, complaint in rows.all() if row is not None}
    return found


# Registered mails compared with each (sender, subject) of a batch's mails without a Message-ID:
# the latest few, so that a sender repeating one subject cannot make each new mail re-read them all.
SAME_SUBJECT_CANDIDATES = 5
MAX_PAIRS = 200


def _fingerprints(session: Session, without_ids: Iterable[tuple[str, str]]) -> frozenset[str]:
    """`triage.fingerprint` of the registered mails without a Message-ID that share a sender and a
    subject with the batch's (issue 14, item 8: the same mail delivered again by another route)."""
    found: set[str] = set()
    for sender, subject in list(dict.fromkeys(without_ids))[:MAX_PAIRS]:
        raws = session.exec(
            select(InboundMessage.raw)
            .where(
                InboundMessage.sender == sender,
                InboundMessage.subject == subject,
                col(InboundMessage.message_id).is_(None),
                col(InboundMessage.outcome).in_([Outcome.COMPLAINT.value, Outcome.FOLLOW_UP.value]),
            )
            .order_by(col(InboundMessage.id).desc())
            .limit(SAME_SUBJECT_CANDIDATES)
        ).all()
        for raw in raws:
            try:
                mark = fingerprint(parse(raw))
            except MailError:
                continue
            if mark is not None:
                found.add(mark)
    return frozenset(found)


def receipts(session: Session, complaint_id: int, since: datetime, purpose: str = "follow_up_received") -> int:
    """How many receipts of follow-ups (core/limits.py), or letters of another `purpose`, this
    complaint queued since `since`."""
    return session.exec(
        select(func.count()).where(
            OutboxMail.complaint_id == complaint_id,
            OutboxMail.purpose == purpose,
            col(OutboxMail.next_attempt_at) >= since,
            col(OutboxMail.created_at) >= since,
        )
    ).one()


def automatic_mails(session: Session, addresses: Iterable[str], since: datetime) -> dict[str, int]:
    """How many automatic letters (core/limits.py) the outbox holds for each lower-cased address,
    queued since `since`, whatever became of them: the cap counts what we tried to send."""
    found: dict[str, int] = {}
    recipient = func.lower(OutboxMail.recipients)
    for part in chunks(addresses):
        rows = session.exec(
            select(recipient, func.count())
            .where(
                recipient.in_(part),
                col(OutboxMail.purpose).in_(AUTOMATIC_KINDS),
                # next_attempt_at starts at created_at and only moves later: its index keeps
                # this to the window's rows however large the outbox grows.
                col(OutboxMail.next_attempt_at) >= since,
                col(OutboxMail.created_at) >= since,
            )
            .group_by(recipient)
        )
        found |= dict(rows.all())
    return found


def _threads_by_id(session: Session, ids: Iterable[str], prefix: str | None = None) -> dict[str, int]:
    found: dict[str, int] = {}
    for part in chunks(ids):
        for model in (InboundMessage, OutboxMail):
            rows = session.exec(
                select(model.message_id, model.complaint_id).where(
                    col(model.message_id).in_(part), col(model.complaint_id).is_not(None), _of(model, prefix)
                )
            )
            found |= {mid: cid for mid, cid in rows.all() if mid is not None and cid is not None}
    return found


def _threads_by_reference(session: Session, references: Iterable[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for part in chunks(references):
        rows = session.exec(select(Complaint.reference, Complaint.id).where(col(Complaint.reference).in_(part)))
        found |= {reference: cid for reference, cid in rows.all() if cid is not None}
    return found


def last_sequences(session: Session, prefix: str, years: Iterable[int]) -> dict[int, int]:
    """The last sequence number used per year (none: absent), read without a lock (see claim_sequences)."""
    rows = session.exec(
        select(ReferenceCounter.year, ReferenceCounter.last).where(
            ReferenceCounter.prefix == prefix, col(ReferenceCounter.year).in_(list(set(years)))
        )
    ).all()
    return dict(rows)


def _of(model: Any, prefix: str | None) -> ColumnElement[bool]:
    """Rows about a complaint of the register numbering with `prefix` (None: of any register)."""
    if prefix is None:
        return true()
    return col(model.complaint_id).in_(select(Complaint.id).where(Complaint.prefix == prefix))


def pending_follow_ups(session: Session, prefix: str | None = None) -> list[int]:
    """Follow-ups recorded by ingestion and not yet acted on, oldest first (of one register's
    complaints with `prefix`)."""
    statement = (
        select(InboundMessage.id)
        .where(
            InboundMessage.outcome == Outcome.FOLLOW_UP.value,
            col(InboundMessage.handled).is_(False),
            _of(InboundMessage, prefix),
        )
        .order_by(col(InboundMessage.id))
    )
    return [i for i in session.exec(statement).all() if i is not None]


def follow_up(session: Session, inbound_id: int) -> tuple[bytes, int]:
    """A follow-up's stored bytes and the complaint it is about (the bytes read once: edges/register/blobs.py)."""
    complaint_id = session.exec(select(InboundMessage.complaint_id).where(col(InboundMessage.id) == inbound_id)).one()
    assert complaint_id is not None
    return read_blob(session, InboundMessage.__table__, "raw", inbound_id), complaint_id  # type: ignore[attr-defined]


def load_case(session: Session, complaint_id: int, *, full: bool = True) -> Case:
    """A complaint as the decisions see it, with its handlers' command tokens; `full` adds its files,
    history and escalation count (for a command mail, which may hand the case over)."""
    row = session.get(Complaint, complaint_id)
    assert row is not None
    tokens = session.exec(
        select(CommandToken.handler_email, CommandToken.token)
        .where(CommandToken.complaint_id == complaint_id)
        .order_by(col(CommandToken.created_at).desc())
    ).all()
    case = _case(row, tuple((email.lower(), token) for email, token in tokens))
    if not full:
        return case
    return replace(
        case,
        files=_files(session, complaint_id),
        history=_history(session, complaint_id),
        answer_escalations=_escalations(session, complaint_id),
        related=related_references(session, complaint_id),
        actions=_actions(session, complaint_id),
    )


def compensation_of(row: Complaint) -> Compensation | None:
    if row.compensation_type is None:
        return None
    amount = None if row.compensation_amount is None else Decimal(row.compensation_amount)
    return Compensation(CompensationType(row.compensation_type), amount, row.compensation_currency)


def _actions(session: Session, complaint_id: int) -> tuple[tuple[int, str], ...]:
    rows = session.exec(
        select(Action.number, Action.status).where(Action.complaint_id == complaint_id).order_by(col(Action.number))
    ).all()
    return tuple((number, status) for number, status in rows)


def related_references(session: Session, complaint_id: int) -> tuple[str, ...]:
    """The references of the complaints linked to this one (#related), in reference order."""
    rows = session.exec(
        select(Complaint.reference)
        .join(ComplaintLink, col(ComplaintLink.related_id) == col(Complaint.id))
        .where(ComplaintLink.complaint_id == complaint_id)
        .order_by(col(Complaint.reference))
    ).all()
    return tuple(rows)


def complaint_ids(session: Session, references: Iterable[str]) -> dict[str, int]:
    """The complaint id of each of `references` the register holds."""
    return _threads_by_reference(session, references)


def _case(row: Complaint, tokens: tuple[tuple[str, str], ...] = ()) -> Case:
    assert row.id is not None
    return Case(
        id=row.id,
        reference=row.reference,
        status=Status(row.status),
        customer_name=row.customer_name,
        customer_email=row.customer_email,
        subject=row.subject,
        text_body=row.text_body,
        message_id=row.message_id,
        received_at=row.received_at,
        ack_due_at=row.ack_due_at,
        answer_due_at=row.answer_due_at,
        acknowledged_at=row.acknowledged_at,
        handler_email=row.handler_email,
        handler_name=row.handler_name,
        severity=row.severity,
        category=row.category,
        outcome=row.outcome,
        complexity=row.complexity,
        impact=row.impact,
        scope=row.scope,
        wished_solution=row.wished_solution,
        compensation=compensation_of(row),
        answer_rule=row.answer_rule,
        tokens=tokens,
    )


def _files(session: Session, complaint_id: int) -> tuple[StoredFile, ...]:
    rows = session.exec(
        select(StoredAttachment).where(StoredAttachment.complaint_id == complaint_id).order_by(col(StoredAttachment.id))
    ).all()
    return tuple(StoredFile(a.filename, a.content_type, a.size, a.sha256, a.path) for a in rows)


def _history(session: Session, complaint_id: int) -> tuple[HistoryItem, ...]:
    rows = session.exec(
        select(HistoryEvent)
        .where(HistoryEvent.complaint_id == complaint_id)
        .order_by(col(HistoryEvent.at), col(HistoryEvent.id))
    ).all()
    return tuple(HistoryItem(h.at, h.event, h.detail) for h in rows)


def _escalations(session: Session, complaint_id: int) -> int:
    steps = session.exec(
        select(Reminder.step).where(
            Reminder.complaint_id == complaint_id, Reminder.deadline == DeadlineKind.ANSWER.value
        )
    ).all()
    return max((int(step[4:]) for step in steps if step.startswith("esc-")), default=0)


def token_owners(session: Session, tokens: tuple[str, ...]) -> tuple[TokenOwner, ...]:
    """Who each quoted command token belongs to (complaint and handler), for the authorization."""
    rows = [
        row
        for part in chunks(tokens)
        for row in session.exec(select(CommandToken).where(col(CommandToken.token).in_(part)))
    ]
    return tuple(TokenOwner(r.token, r.complaint_id, r.handler_email) for r in rows)


def due_reminders(session: Session, now: datetime, limit: int, prefix: str | None = None) -> list[int]:
    """Only the rows due now, by the (state, due_at) index: never every open complaint (of one
    register's complaints with `prefix`)."""
    statement = (
        select(Reminder.id)
        .where(Reminder.state == "pending", col(Reminder.due_at) <= now, _of(Reminder, prefix))
        .order_by(col(Reminder.due_at), col(Reminder.id))
        .limit(limit)
    )
    return [i for i in session.exec(statement).all() if i is not None]


def due_reminder(session: Session, reminder_id: int) -> DueReminder:
    reminder = session.get(Reminder, reminder_id)
    assert reminder is not None and reminder.id is not None
    deadline = deadline_of(reminder.deadline)
    action = None
    if isinstance(deadline, ActionDeadline):
        action = _due_action(session, reminder.complaint_id, deadline.number)
    return DueReminder(
        id=reminder.id,
        kind=Kind(reminder.kind),
        deadline=deadline,
        step=reminder.step,
        due_at=reminder.due_at,
        case=load_case(session, reminder.complaint_id, full=False),
        action=action,
    )


def _due_action(session: Session, complaint_id: int, number: int) -> DueAction | None:
    """The action an "action-N" reminder is about, as it stands now (its owner may have changed)."""
    row = session.exec(select(Action).where(Action.complaint_id == complaint_id, Action.number == number)).first()
    if row is None:
        return None
    return DueAction(row.number, row.kind, row.text, row.owner_email, row.due_on, row.status)


def last_digests(session: Session) -> dict[str, date]:
    """Each handler's last digest day."""
    rows = session.exec(select(Digest.handler_email, func.max(Digest.day)).group_by(Digest.handler_email)).all()
    return dict(rows)


def open_cases(session: Session, handler_email: str, prefix: str | None = None) -> list[Case]:
    """A handler's complaints still waiting for an answer, by answer due date (one query: a digest)."""
    rows = session.exec(
        select(Complaint)
        .where(
            Complaint.handler_email == handler_email,
            col(Complaint.status).not_in([s.value for s in CLOSED_FOR_ANSWER]),
            true() if prefix is None else Complaint.prefix == prefix,
        )
        .order_by(col(Complaint.answer_due_at), col(Complaint.id))
    ).all()
    return [_case(row) for row in rows]
