"""Reading the register for people: `list`, `show`, the web view's pages and the counts `check` and the demo print.

Readers get plain frozen values (ComplaintView), never live rows.
"""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from daemon.core.lifecycle import Status
from daemon.core.priority import priority
from daemon.core.reminders import ActionDeadline, Kind
from daemon.core.sheet import AnswerLetter
from daemon.edges.register.models import (
    Action,
    Cause,
    Complaint,
    HistoryEvent,
    InboundMessage,
    OutboxMail,
    Reminder,
    StoredAttachment,
)
from daemon.edges.register.reads import related_references
from daemon.edges.register.search import Contains
from daemon.errors import NotFound


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
class ActionView:
    number: int
    kind: str
    text: str
    owner: str | None
    due: date | None
    status: str
    reason: str
    # Its reminder rows (deadline "action-N"): how many reminders and overdue alerts left, and when
    # the next pending one is due (None: nothing planned, or all sent or cancelled).
    reminders_sent: int = 0
    alerts_sent: int = 0
    next_reminder_at: datetime | None = None


@dataclass(frozen=True)
class PreviousView:
    reference: str
    received_at: datetime
    status: str
    outcome: str | None


@dataclass(frozen=True)
class SatisfactionView:
    """The customer's answer to the closing letter: "yes", "no" or "1".."5" per point, None unanswered."""

    understood: str | None
    actions: str | None
    relationship: str | None
    comment: str


@dataclass(frozen=True)
class CauseView:
    text: str
    category: str | None


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
    # The evaluation (issue 9); `priority` is derived (core/priority.py), `related` and `causes`
    # are filled by `show` only.
    severity: str | None = None
    complexity: str | None = None
    impact: str | None = None
    scope: str | None = None
    priority: str | None = None
    outcome: str | None = None
    wished_solution: str = ""
    related: tuple[str, ...] = ()
    causes: tuple[CauseView, ...] = ()
    previous: tuple[PreviousView, ...] = ()  # the same customer's earlier complaints, oldest first
    compensation_type: str | None = None
    compensation_amount: str | None = None  # decimal text, "50.00"
    compensation_currency: str | None = None
    actions: tuple[ActionView, ...] = ()
    channel: str = "email"
    customer_type: str = "customer"
    customer_phone: str = ""
    customer_address: str = ""
    satisfaction: SatisfactionView | None = None

    def overdue(self, now: datetime) -> bool:
        """A deadline passed before its event: no acknowledgement yet, or no answer yet."""
        if self.acknowledged_at is None and self.status == Status.RECEIVED.value and self.ack_due_at <= now:
            return True
        return self.status not in CLOSED_FOR_ANSWER and self.answer_due_at <= now


CLOSED_FOR_ANSWER = frozenset({Status.ANSWERED.value, Status.CLOSED.value})
# An action is finished once verified effective or abandoned; until then `list --open-actions` finds it.
UNFINISHED_ACTIONS = ("open", "done")


@dataclass(frozen=True)
class Filters:
    """What `complaintsd list` narrows the register to; `now` is passed in, never read here."""

    now: datetime
    status: str | None = None
    handler: str | None = None
    overdue: bool = False
    due_within: timedelta | None = None
    severity: str | None = None
    scope: str | None = None
    category: str | None = None
    open_actions: bool = False  # complaints with an action open or done, not yet verified
    channel: str | None = None
    customer: str | None = None  # an address: everything about one person (a subject access request)
    # The web view's search: every word in the subject or the text (edges/register/search.py), and
    # received in [received_from, received_before).
    words: tuple[str, ...] = ()
    received_from: datetime | None = None
    received_before: datetime | None = None
    prefix: str | None = None  # one register's complaints (`--register NAME`: its reference prefix)


# The orders a page of the register may take, by name (the web view's `sort=`); the id breaks ties.
# "registered" (the id: newest first by default) reads a page straight from the table's key; the
# others with an index (received, reference, status, answer_due, handler) too. "subject" has none and
# sorts the whole register: a B-tree on an unbounded text would make PostgreSQL refuse a complaint
# whose subject passes its index entry's limit (about 2.7 kB).
SORTS = {
    "registered": col(Complaint.id),
    "received": col(Complaint.received_at),
    "reference": col(Complaint.reference),
    "status": col(Complaint.status),
    "answer_due": col(Complaint.answer_due_at),
    "handler": col(Complaint.handler_email),
    "subject": col(Complaint.subject),
}


@dataclass(frozen=True)
class PageRequest:
    """Which page of the filtered register, in which order."""

    sort: str = "registered"
    descending: bool = True
    number: int = 1
    size: int = 50

    def __post_init__(self) -> None:
        if self.sort not in SORTS:
            raise ValueError(f"cannot sort by {self.sort!r} (by: {', '.join(SORTS)})")
        if self.number < 1 or not 1 <= self.size <= 500:
            raise ValueError(f"no page {self.number} of {self.size}")


@dataclass(frozen=True)
class Page:
    complaints: tuple[ComplaintView, ...]
    total: int  # complaints matching the filters, on every page
    request: PageRequest

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.request.size))


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
        answer_skipped=tuple(_skipped(line) for line in row.answer_skipped.splitlines() if " " in line),
        attachments=tuple(attachments),
        history=tuple(history),
        text_body=row.text_body if with_body else "",
        severity=row.severity,
        complexity=row.complexity,
        impact=row.impact,
        scope=row.scope,
        priority=_priority(row),
        outcome=row.outcome,
        wished_solution=row.wished_solution,
        compensation_type=row.compensation_type,
        compensation_amount=row.compensation_amount,
        compensation_currency=row.compensation_currency,
        channel=row.channel,
        customer_type=row.customer_type,
        customer_phone=row.customer_phone,
        customer_address=row.customer_address,
        satisfaction=_satisfaction(row),
    )


def _satisfaction(row: Complaint) -> SatisfactionView | None:
    points = (row.satisfaction_understood, row.satisfaction_actions, row.satisfaction_relationship)
    if all(point is None for point in points) and row.satisfaction_comment is None:
        return None
    return SatisfactionView(*points, comment=row.satisfaction_comment or "")


def _priority(row: Complaint) -> str | None:
    found = priority(row.severity, row.impact, row.scope)
    return None if found is None else found.value


def _skipped(line: str) -> tuple[str, str]:
    day, why = line.split(" ", 1)
    return day, why


def list_complaints(session: Session, filters: Filters | None = None, limit: int | None = None) -> list[ComplaintView]:
    counts = (
        select(StoredAttachment.complaint_id, func.count().label("n"))
        .group_by(col(StoredAttachment.complaint_id))
        .subquery()
    )
    statement = (
        select(Complaint, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.complaint_id == Complaint.id)
        .order_by(col(Complaint.received_at), col(Complaint.id))
    )
    if filters is not None:
        statement = narrowed(statement, filters)
    if limit:
        statement = statement.limit(limit)
    return [_view(row, count) for row, count in session.exec(statement).all()]


def page_of_complaints(session: Session, filters: Filters, request: PageRequest) -> Page:
    """One page of the register: the page's rows and their attachment counts only, so that a page of
    a register of 100,000 complaints costs what a page costs (benchmarks/web.py)."""
    total = session.exec(narrowed(select(func.count()).select_from(Complaint), filters)).one()
    order = SORTS[request.sort]
    ordering = [order.desc(), col(Complaint.id).desc()] if request.descending else [order, col(Complaint.id)]
    statement = narrowed(select(Complaint), filters).order_by(*ordering[: 1 if request.sort == "registered" else 2])
    rows = session.exec(statement.offset((request.number - 1) * request.size).limit(request.size)).all()
    ids = [row.id for row in rows]
    counts: dict[int, int] = dict(
        session.exec(
            select(StoredAttachment.complaint_id, func.count())
            .where(col(StoredAttachment.complaint_id).in_(ids))
            .group_by(col(StoredAttachment.complaint_id))
        ).all()
    )
    return Page(tuple(_view(row, counts.get(row.id or 0, 0)) for row in rows), total, request)


def narrowed(statement, filters: Filters):
    """`statement` (over Complaint) narrowed by `filters`: the one reading of them, for `list`, the web
    view's pages and its exports alike."""
    open_answer = col(Complaint.status).not_in(CLOSED_FOR_ANSWER)
    if filters.prefix:
        statement = statement.where(Complaint.prefix == filters.prefix)
    if filters.status:
        statement = statement.where(Complaint.status == filters.status)
    if filters.handler:
        statement = statement.where(Complaint.handler_email == filters.handler.strip().lower())
    if filters.customer:
        statement = statement.where(func.lower(Complaint.customer_email) == filters.customer.strip().lower())
    if filters.overdue:
        late_ack = (col(Complaint.status) == Status.RECEIVED.value) & (col(Complaint.ack_due_at) <= filters.now)
        statement = statement.where(late_ack | (open_answer & (col(Complaint.answer_due_at) <= filters.now)))
    if filters.due_within is not None:
        statement = statement.where(open_answer, col(Complaint.answer_due_at) <= filters.now + filters.due_within)
    for name in ("severity", "scope", "channel"):
        if getattr(filters, name):
            statement = statement.where(getattr(Complaint, name) == getattr(filters, name))
    if filters.open_actions:
        unfinished = select(Action.complaint_id).where(col(Action.status).in_(UNFINISHED_ACTIONS))
        statement = statement.where(col(Complaint.id).in_(unfinished))
    if filters.category:
        statement = statement.where(func.lower(Complaint.category) == filters.category.strip().lower())
    for word in filters.words:
        statement = statement.where(Contains(col(Complaint.subject), word) | Contains(col(Complaint.text_body), word))
    if filters.received_from is not None:
        statement = statement.where(col(Complaint.received_at) >= filters.received_from)
    if filters.received_before is not None:
        statement = statement.where(col(Complaint.received_at) < filters.received_before)
    return statement


def show_complaint(session: Session, reference: str) -> ComplaintView:
    row = session.exec(select(Complaint).where(Complaint.reference == reference.strip().upper())).first()
    if row is None:
        raise NotFound(f"no complaint {reference} in the register")
    attachments = session.exec(
        select(StoredAttachment).where(StoredAttachment.complaint_id == row.id).order_by(col(StoredAttachment.id))
    ).all()
    history = session.exec(
        select(HistoryEvent)
        .where(HistoryEvent.complaint_id == row.id)
        .order_by(col(HistoryEvent.at), col(HistoryEvent.id))
    ).all()
    assert row.id is not None
    causes = session.exec(select(Cause).where(Cause.complaint_id == row.id).order_by(col(Cause.id))).all()
    view = _view(
        row,
        len(attachments),
        [AttachmentView(a.filename, a.size, a.sha256, a.path) for a in attachments],
        [HistoryView(h.at, h.event, h.actor, h.detail) for h in history],
        with_body=True,
    )
    return replace(
        view,
        related=related_references(session, row.id),
        causes=tuple(CauseView(c.text, c.category) for c in causes),
        previous=_previous(session, row),
        actions=_actions(session, row.id),
    )


def _actions(session: Session, complaint_id: int) -> tuple[ActionView, ...]:
    rows = session.exec(select(Action).where(Action.complaint_id == complaint_id).order_by(col(Action.number))).all()
    planned = session.exec(
        select(Reminder).where(Reminder.complaint_id == complaint_id, col(Reminder.deadline).startswith("action-"))
    ).all()
    return tuple(_action_view(a, [r for r in planned if r.deadline == ActionDeadline(a.number).value]) for a in rows)


def _action_view(action: Action, planned: list[Reminder]) -> ActionView:
    sent = [r for r in planned if r.state == "sent"]
    pending = [r.due_at for r in planned if r.state == "pending"]
    return ActionView(
        action.number,
        action.kind,
        action.text,
        action.owner_email,
        action.due_on,
        action.status,
        action.reason,
        reminders_sent=sum(r.kind == Kind.REMINDER.value for r in sent),
        alerts_sent=sum(r.kind == Kind.ESCALATION.value for r in sent),
        next_reminder_at=min(pending, default=None),
    )


def _previous(session: Session, row: Complaint) -> tuple[PreviousView, ...]:
    """The customer's complaints registered before this one (same address, else same phone number):
    the evaluation reads them. A customer known by neither has none that can be told apart."""
    if row.customer_email:
        same = col(Complaint.customer_email) == row.customer_email
    elif row.customer_phone:
        same = col(Complaint.customer_phone) == row.customer_phone
    else:
        return ()
    earlier = session.exec(
        select(Complaint)
        .where(same, col(Complaint.id) < row.id)
        .order_by(col(Complaint.received_at), col(Complaint.id))
    ).all()
    return tuple(PreviousView(p.reference, p.received_at, p.status, p.outcome) for p in earlier)


def mailed_answers(session: Session, reference: str) -> tuple[AnswerLetter, ...]:
    """The answer letters queued for a complaint, oldest first, each as its plain text: what the
    customer read (the sheet shows it). Refused or failed ones too: the history says which."""
    rows = session.exec(
        select(OutboxMail.created_at, OutboxMail.raw)
        .join(Complaint, col(Complaint.id) == col(OutboxMail.complaint_id))
        .where(Complaint.reference == reference.strip().upper(), OutboxMail.purpose == "answer")
        .order_by(col(OutboxMail.created_at), col(OutboxMail.id))
    ).all()
    return tuple(AnswerLetter(at, _plain_text(raw), mailed=True) for at, raw in rows)


def _plain_text(raw: bytes) -> str:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    body = message.get_body(("plain",))
    return body.get_content() if body is not None else ""


def set_aside_counts(session: Session) -> dict[str, int]:
    """How many inbound messages ended in each outcome (for `check` and the demo summary)."""
    rows = session.exec(select(InboundMessage.outcome, func.count()).group_by(InboundMessage.outcome)).all()
    return dict(rows)


@dataclass(frozen=True)
class MessageView:
    """A message the register keeps from one address, whatever became of it."""

    id: int
    arrived_at: datetime
    outcome: str
    subject: str
    reference: str | None


def messages_from(session: Session, address: str) -> list[MessageView]:
    """Every message received from `address` (follow-ups, robots' replies and quarantined ones too)."""
    rows = session.execute(
        sa_select(
            col(InboundMessage.id),
            col(InboundMessage.arrived_at),
            col(InboundMessage.outcome),
            col(InboundMessage.subject),
            col(Complaint.reference),
        )
        .outerjoin(Complaint, col(Complaint.id) == col(InboundMessage.complaint_id))
        .where(func.lower(InboundMessage.sender) == address.strip().lower())
        .order_by(col(InboundMessage.id))
    ).all()
    return [
        MessageView(id_, at, outcome, subject, reference)
        for id_, at, outcome, subject, reference in rows
        if id_ is not None
    ]
