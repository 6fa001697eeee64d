"""A complaint as the decisions see it: a frozen snapshot the register edge loads, never a live row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from daemon.core.commands.words import Compensation
from daemon.core.effects import TokenToIssue
from daemon.core.letters import ComplaintSummary, FileToAttach, LetterToSend, new_message_id
from daemon.core.lifecycle import Status
from daemon.core.mail import Address, InboundMail, StoredFile
from daemon.core.policy import Policy
from daemon.core.priority import priority
from daemon.core.tokens import new_token


@dataclass(frozen=True)
class HistoryItem:
    at: datetime
    event: str
    detail: str


@dataclass(frozen=True)
class Case:
    """One complaint with what its decisions read: its fields, its handlers' command tokens (latest
    first), its files and history, and how many escalations its answer deadline already had."""

    id: int
    reference: str
    status: Status
    customer_name: str
    customer_email: str
    subject: str
    text_body: str
    message_id: str | None
    received_at: datetime
    ack_due_at: datetime
    answer_due_at: datetime
    acknowledged_at: datetime | None
    handler_email: str
    handler_name: str
    severity: str | None = None
    category: str | None = None
    outcome: str | None = None
    complexity: str | None = None
    impact: str | None = None
    scope: str | None = None
    wished_solution: str = ""
    related: tuple[str, ...] = ()  # references of the complaints linked to this one
    compensation: Compensation | None = None
    actions: tuple[tuple[int, str], ...] = ()  # (number, status), by number
    answer_rule: str = ""
    tokens: tuple[tuple[str, str], ...] = ()  # (handler_email, token), latest first
    files: tuple[StoredFile, ...] = ()
    history: tuple[HistoryItem, ...] = ()
    answer_escalations: int = 0

    def token_of(self, handler_email: str) -> str | None:
        """The latest command token of `handler_email` for this complaint, if any."""
        wanted = handler_email.strip().lower()
        return next((token for email, token in self.tokens if email == wanted), None)


def summary(case: Case) -> ComplaintSummary:
    """What every internal letter says about a complaint."""
    return ComplaintSummary(
        reference=case.reference,
        status=case.status,
        customer_name=case.customer_name,
        customer_email=case.customer_email,
        subject=case.subject,
        received_at=case.received_at,
        ack_due_at=case.ack_due_at,
        answer_due_at=case.answer_due_at,
        priority=case_priority(case),
    )


def case_priority(case: Case) -> str | None:
    """The priority the evaluation gives (core/priority.py), shown in every letter to staff."""
    found = priority(case.severity, case.impact, case.scope)
    return None if found is None else found.value


def to_customer(
    case: Case,
    kind: str,
    facts: object,
    policy: Policy,
    *,
    reply_to: InboundMail | None = None,
    files: tuple[FileToAttach, ...] = (),
) -> LetterToSend:
    """A letter to the complaint's customer, in the thread of their complaint (or of `reply_to`); to
    a customer with no email address (a phone complaint, or one erased: a pseudonym is no address),
    one to post (`Effects`)."""
    return LetterToSend(
        kind=kind,
        facts=facts,
        to=Address(case.customer_name, case.customer_email) if "@" in case.customer_email else None,
        message_id=new_message_id(case.reference, kind.replace("_", "-"), policy.domain),
        in_reply_to=reply_to.message_id if reply_to else case.message_id,
        references=(case.message_id,) if case.message_id else (),
        auto_submitted="no" if kind == "answer" else "auto-generated",
        files=files,
    )


def current_token(case: Case) -> tuple[str, tuple[TokenToIssue, ...]]:
    """The current handler's command token, and the token to record when the register had none."""
    token = case.token_of(case.handler_email)
    if token is not None:
        return token, ()
    token = new_token()
    return token, (TokenToIssue(token, case.handler_email),)
