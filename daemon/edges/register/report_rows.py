"""What the quality report reads (`complaintsd report`): narrow rows for one period, four queries.

Complaints received in [start, end) with the instant of their first answer (a correlated subquery on
the history's complaint index), their causes and actions, and the mails that arrived in the period
counted by outcome in SQL. Figures are computed by core/report.py, not here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import String, and_, func, or_, select, type_coerce
from sqlmodel import Session

from daemon.core.compliance import ANSWERING_STATUSES
from daemon.core.report import ActionRow, CauseRow, ComplaintRow, MailCount, Rows
from daemon.edges.register.models import Action, Cause, Complaint, HistoryEvent, InboundMessage

# A status change is written as a history event "status", detail "before → after" (commands/decide.py);
# the answer is the first move to one of these (core/compliance.py, answered_at: the same rule in SQL).
ANSWERED_DETAILS = tuple(f"% → {status}" for status in sorted(ANSWERING_STATUSES))

_complaint = Complaint.__table__  # type: ignore[attr-defined]
_history = HistoryEvent.__table__  # type: ignore[attr-defined]
_cause = Cause.__table__  # type: ignore[attr-defined]
_action = Action.__table__  # type: ignore[attr-defined]
_inbound = InboundMessage.__table__  # type: ignore[attr-defined]


def report_rows(
    session: Session, start: datetime, end: datetime, complaints_only: bool = False, prefix: str | None = None
) -> Rows:
    """The period's rows; `complaints_only` for the previous period, whose headline needs no more.
    With `prefix`, one register's (`--register NAME`): its complaints, and of the mails only those
    about them (a robot's or a quarantined mail belongs to no register)."""
    in_period = _received_in(start, end)
    if prefix is not None:
        in_period = and_(in_period, _complaint.c.prefix == prefix)
    if complaints_only:
        return Rows(complaints=_complaints(session, in_period))
    return Rows(
        complaints=_complaints(session, in_period),
        causes=_causes(session, in_period),
        actions=_actions(session, in_period),
        mails=_mails(session, start, end, prefix),
    )


def _received_in(start: datetime, end: datetime):
    """Received in [start, end), read along the table's key: between the first and the last id the
    received_at index finds for the period (ids follow registration, so nearly every row between is
    in it). Read through the index itself, a year's rows came in random order: half again as long."""
    c = _complaint.c
    received = and_(c.received_at >= start, c.received_at < end)
    first, last = (select(func.min(c.id)).where(received), select(func.max(c.id)).where(received))
    return and_(c.id.between(first.scalar_subquery(), last.scalar_subquery()), received)


def _answered_at():
    return (
        select(func.min(_history.c.at))
        .where(
            _history.c.complaint_id == _complaint.c.id,
            _history.c.event == "status",
            or_(*(_history.c.detail.like(pattern) for pattern in ANSWERED_DETAILS)),
        )
        .scalar_subquery()
    )


def _complaints(session: Session, in_period) -> tuple[ComplaintRow, ...]:
    c = _complaint.c
    statement = (
        select(
            c.reference,
            _raw(c.received_at),
            c.status,
            c.customer_email,
            c.subject,
            c.handler_email,
            c.category,
            c.channel,
            c.severity,
            c.scope,
            _raw(c.ack_due_at),
            _raw(c.answer_due_at),
            _raw(c.acknowledged_at),
            _raw(_answered_at()),
            c.ack_rule,
            c.answer_rule,
            c.compensation_type,
            c.compensation_amount,
            c.compensation_currency,
            c.satisfaction_understood,
            c.satisfaction_actions,
            c.satisfaction_relationship,
        )
        .where(in_period)
        .order_by(c.id)
    )
    rows = session.execute(statement).all()
    if not rows:
        return ()
    # Column by column: each time column converted in one comprehension, the rows zipped back in C.
    columns: list[Sequence[Any]] = list(zip(*rows, strict=True))
    for index in _INSTANTS:
        columns[index] = _instants(columns[index])
    return tuple(map(ComplaintRow._make, zip(*columns, strict=True)))


_INSTANTS = (1, 10, 11, 12, 13)  # received, both due instants, acknowledged, answered: as selected above


def _raw(column):
    """A time column as the driver gives it (SQLite: ISO text; PostgreSQL: a naive UTC datetime),
    made aware by `_instants` below: a year's report reads half a million of them, and the
    column type's own conversion took most of the reading time."""
    return type_coerce(column, String)


def _instants(values: Sequence[Any]) -> list[datetime | None]:
    """One time column made aware (UTC); None stays None (not acknowledged, not answered yet)."""
    if isinstance(next((v for v in values if v is not None), None), datetime):
        return [None if v is None else v.replace(tzinfo=UTC) for v in values]
    parse = datetime.fromisoformat
    return [None if v is None else parse(v + "+00:00") for v in values]


def _causes(session: Session, in_period) -> tuple[CauseRow, ...]:
    statement = (
        select(_complaint.c.reference, _cause.c.text, _cause.c.category)
        .join(_complaint, _complaint.c.id == _cause.c.complaint_id)
        .where(in_period)
        .order_by(_cause.c.id)
    )
    return tuple(CauseRow(*row) for row in session.execute(statement).all())


def _actions(session: Session, in_period) -> tuple[ActionRow, ...]:
    a = _action.c
    statement = (
        select(_complaint.c.reference, a.number, a.kind, a.status, a.due_on, a.owner_email)
        .join(_complaint, _complaint.c.id == a.complaint_id)
        .where(in_period)
        .order_by(_complaint.c.reference, a.number)
    )
    return tuple(ActionRow(*row) for row in session.execute(statement).all())


def _mails(session: Session, start: datetime, end: datetime, prefix: str | None = None) -> tuple[MailCount, ...]:
    """Counted by outcome; a complaint typed in (`add`) keeps a source record too, told apart by its channel."""
    typed = and_(_inbound.c.outcome == "complaint", _complaint.c.channel != "email")
    statement = (
        select(_inbound.c.outcome, typed.label("typed"), func.count())
        .select_from(_inbound.outerjoin(_complaint, _complaint.c.id == _inbound.c.complaint_id))
        .where(_inbound.c.arrived_at >= start, _inbound.c.arrived_at < end)
        .group_by(_inbound.c.outcome, "typed")
    )
    if prefix is not None:
        statement = statement.where(_complaint.c.prefix == prefix)
    return tuple(MailCount(outcome, bool(is_typed), count) for outcome, is_typed, count in session.execute(statement))
