"""The export (`complaintsd export`): one flat row per complaint with every field of the register,
and for each deadline its due instant, its event and whether it was met (core/compliance.py, the
rule the sheet and the quality report use too).

Pure: the register edge streams `ComplaintRecord` values (edges/register/export.py), the shell
writes the rows as CSV or JSON. `COLUMNS` is the contract, in order; the README lists it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from daemon.core.compliance import answered_at, deadline_outcomes
from daemon.core.priority import priority
from daemon.core.profiles import MediationDates

__all__ = ["COLUMNS", "NO_RULES", "ActionLine", "CauseLine", "ComplaintRecord", "ExportRules", "export_row"]

Value = str | int | float | None

# An action is finished once verified effective or abandoned (views.UNFINISHED_ACTIONS' complement).
FINISHED_ACTIONS = frozenset({"verified", "abandoned"})


@dataclass(frozen=True)
class CauseLine:
    text: str
    category: str | None


@dataclass(frozen=True)
class ActionLine:
    number: int
    kind: str
    text: str
    owner: str | None
    due: date | None
    status: str
    reason: str


@dataclass(frozen=True)
class ComplaintRecord:
    """One complaint as the register holds it, with what hangs from it (links, causes, actions,
    the count of its files, its status moves for the answer's event)."""

    reference: str
    status: str
    channel: str
    received_at: datetime
    customer_type: str
    customer_name: str
    customer_email: str
    customer_phone: str
    customer_address: str
    subject: str
    text_body: str
    handler_email: str
    handler_name: str
    category: str | None
    severity: str | None
    complexity: str | None
    impact: str | None
    scope: str | None
    outcome: str | None
    wished_solution: str
    compensation_type: str | None
    compensation_amount: str | None
    compensation_currency: str | None
    satisfaction_understood: str | None
    satisfaction_actions: str | None
    satisfaction_relationship: str | None
    satisfaction_comment: str | None
    ack_rule: str
    ack_due_at: datetime
    acknowledged_at: datetime | None
    answer_rule: str
    answer_due_at: datetime
    attachments: int
    related: tuple[str, ...]
    causes: tuple[CauseLine, ...]
    actions: tuple[ActionLine, ...]
    status_moves: tuple[tuple[datetime, str], ...]  # the history's `status` lines: (at, "before → after")


COLUMNS: tuple[str, ...] = (
    "reference",
    "status",
    "channel",
    "received_at",
    "customer_type",
    "customer_name",
    "customer_email",
    "customer_phone",
    "customer_address",
    "subject",
    "text_body",
    "handler",
    "handler_name",
    "category",
    "severity",
    "complexity",
    "impact",
    "scope",
    "priority",
    "outcome",
    "wished_solution",
    "related",
    "causes_count",
    "causes",
    "compensation_type",
    "compensation_amount",
    "compensation_currency",
    "actions_count",
    "actions_unfinished",
    "actions",
    "satisfaction_understood",
    "satisfaction_actions",
    "satisfaction_relationship",
    "satisfaction_comment",
    "attachments",
    "ack_rule",
    "ack_due_at",
    "acknowledged_at",
    "ack_deadline",
    "answer_rule",
    "answer_due_at",
    "answered_at",
    "answer_deadline",
    "mediator_from",
    "mediation_limit",
)


@dataclass(frozen=True)
class ExportRules:
    """What the configuration adds to each row: the mediation dates (computed from receipt, never
    stored) and whether an answer given first meets the acknowledgement (the ACPR profile)."""

    mediation: Callable[[datetime], MediationDates] | None = None
    answer_meets_ack: bool = False


NO_RULES = ExportRules()  # no mediation dates; the acknowledgement's own event only


def export_row(c: ComplaintRecord, now: datetime, rules: ExportRules = NO_RULES) -> tuple[Value, ...]:
    """The values of `COLUMNS` for one complaint, judged at `now`: text, whole numbers, the amount as
    a number, ISO 8601 instants with their offset, None where the register holds nothing."""
    answered = answered_at(c.status_moves)
    deadlines = deadline_outcomes(
        c.ack_due_at, c.acknowledged_at, c.answer_due_at, answered, now, rules.answer_meets_ack
    )
    mediation = rules.mediation(c.received_at) if rules.mediation else None
    found = priority(c.severity, c.impact, c.scope)
    values: dict[str, Value] = {
        "reference": c.reference,
        "status": c.status,
        "channel": c.channel,
        "received_at": _iso(c.received_at),
        "customer_type": c.customer_type,
        "customer_name": c.customer_name,
        "customer_email": c.customer_email or None,
        "customer_phone": c.customer_phone or None,
        "customer_address": c.customer_address or None,
        "subject": c.subject,
        "text_body": c.text_body,
        "handler": c.handler_email,
        "handler_name": c.handler_name,
        "category": c.category,
        "severity": c.severity,
        "complexity": c.complexity,
        "impact": c.impact,
        "scope": c.scope,
        "priority": None if found is None else found.value,
        "outcome": c.outcome,
        "wished_solution": c.wished_solution or None,
        "related": " ".join(c.related) or None,
        "causes_count": len(c.causes),
        "causes": "\n".join(_cause(cause) for cause in c.causes) or None,
        "compensation_type": c.compensation_type,
        "compensation_amount": None if c.compensation_amount is None else float(Decimal(c.compensation_amount)),
        "compensation_currency": c.compensation_currency,
        "actions_count": len(c.actions),
        "actions_unfinished": sum(a.status not in FINISHED_ACTIONS for a in c.actions),
        "actions": "\n".join(_action(a) for a in c.actions) or None,
        "satisfaction_understood": c.satisfaction_understood,
        "satisfaction_actions": c.satisfaction_actions,
        "satisfaction_relationship": c.satisfaction_relationship,
        "satisfaction_comment": c.satisfaction_comment or None,
        "attachments": c.attachments,
        "ack_rule": c.ack_rule or None,
        "ack_due_at": _iso(c.ack_due_at),
        "acknowledged_at": _iso(c.acknowledged_at),
        "ack_deadline": deadlines.ack.state.value,
        "answer_rule": c.answer_rule or None,
        "answer_due_at": _iso(c.answer_due_at),
        "answered_at": _iso(answered),
        "answer_deadline": deadlines.answer.state.value,
        "mediator_from": _iso(mediation.refer_from) if mediation else None,
        "mediation_limit": _iso(mediation.limit) if mediation else None,
    }
    return tuple(values[name] for name in COLUMNS)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _cause(cause: CauseLine) -> str:
    return f"{cause.text} ({cause.category})" if cause.category else cause.text


def _action(a: ActionLine) -> str:
    """ "1 corrective [open] Former l'équipe (paul@example.com, 2027-01-15)": one line an action."""
    extras = ", ".join(part for part in (a.owner, a.due.isoformat() if a.due else None, a.reason) if part)
    return f"{a.number} {a.kind} [{a.status}] {' '.join(a.text.split())}" + (f" ({extras})" if extras else "")
