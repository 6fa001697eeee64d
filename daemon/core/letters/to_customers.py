"""The letters to a customer: the acknowledgement, then the news of their complaint's life.

This module's sole purpose in life is to turn the facts of one letter to a customer into a `Letter`,
through `Templates` (render.py): the acknowledgement of receipt, the argued answer, a new answer
date, a new status, the closing (with the optional satisfaction question) and the receipt of an
additional message. It sends nothing, reads no clock and parses no command: the facts carry what
happened.

Theory of operation
-------------------
Every word the customer reads is in the templates: the status sentences and outcomes are labels in
`_labels.j2`; the salutation, closing formula and mediator's contact are macros in `_blocks.*.j2`,
the acknowledgement's included, and the HTML page around them is `_layout.html.j2`, with the
organisation as its signature. This module passes codes (`Status`, `Outcome`), never words. What
the customer wrote (their name, subject, file names) is untrusted: names that are addresses are
dropped, subjects folded to one line, and the HTML templates escape it all.

Each letter's subject contains "[REF]": the customer's replies are matched to the complaint by it
(docs/design.md, "Who uses it"). Rendering refuses a subject without it, so an admin's override that
drops it fails in `check` and in tests, not in production.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from daemon.core.commands.tags import Compensation, Outcome
from daemon.core.letters.render import (
    AttachmentLine,
    ComplaintSummary,
    Letter,
    Mediator,
    Templates,
    attachment_lines,
    clean_summary,
    echo,
    facts_context,
    plain,
    require_aware,
    require_text,
    usable_name,
)
from daemon.core.lifecycle import Status
from daemon.core.profiles import MediationDates

__all__ = [
    "AcknowledgementFacts",
    "AnswerFacts",
    "ClosedFacts",
    "DeadlineChangedFacts",
    "FollowUpReceivedFacts",
    "Outcome",
    "InterimFacts",
    "StatusChangedFacts",
    "render_acknowledgement",
    "render_answer",
    "render_closed",
    "render_deadline_changed",
    "render_follow_up_received",
    "render_interim",
    "render_status_changed",
]


def _require_organisation(organisation: str) -> None:
    require_text("the organisation that signs a customer's letter", organisation)


@dataclass(frozen=True)
class AcknowledgementFacts:
    """Everything the acknowledgement says. `customer_name` may be empty (the letter then opens
    "Madame, Monsieur,"); `subject` is the customer's own subject line, untrusted."""

    reference: str
    customer_name: str
    customer_email: str
    subject: str
    received_at: datetime
    answer_due_at: datetime
    attachments: tuple[AttachmentLine, ...]
    mediator: Mediator | None
    organisation: str
    mediation: MediationDates | None = None  # shown beside the mediator's contact

    def __post_init__(self) -> None:
        if not self.reference.strip():
            raise ValueError("an acknowledgement needs a reference")
        if not self.organisation.strip():
            raise ValueError("an acknowledgement needs an organisation to sign it")
        require_aware("received_at", self.received_at)
        require_aware("answer_due_at", self.answer_due_at)


@dataclass(frozen=True)
class AnswerFacts:
    """The argued answer (réponse argumentée). `text` is the handler's, plain and possibly multi-line;
    the files in `attachments` travel with the letter. The outcome comes with the closing, not here."""

    complaint: ComplaintSummary
    text: str
    attachments: tuple[AttachmentLine, ...]
    mediator: Mediator | None
    organisation: str
    compensation: Compensation | None = None  # what the customer is granted (#compensation), stated
    mediation: MediationDates | None = None  # shown beside the mediator's contact

    def __post_init__(self) -> None:
        require_text("an answer's text", self.text)
        object.__setattr__(self, "attachments", attachment_lines(self.attachments))
        _require_organisation(self.organisation)


@dataclass(frozen=True)
class DeadlineChangedFacts:
    """The handler committed to a new answer date; `reason` (the handler's words) may be empty."""

    complaint: ComplaintSummary
    previous_due_at: datetime
    new_due_at: datetime
    reason: str
    organisation: str

    def __post_init__(self) -> None:
        require_aware("previous_due_at", self.previous_due_at)
        require_aware("new_due_at", self.new_due_at)
        if self.new_due_at == self.previous_due_at:
            raise ValueError("a new answer date must differ from the previous one")
        _require_organisation(self.organisation)


@dataclass(frozen=True)
class StatusChangedFacts:
    """The complaint's status changed; the letter words `complaint.status`, the new one, and
    recalls `complaint.answer_due_at` while an answer is still to come."""

    complaint: ComplaintSummary
    organisation: str

    def __post_init__(self) -> None:
        _require_organisation(self.organisation)


@dataclass(frozen=True)
class InterimFacts:
    """News for the customer before the answer (#inform): the handler's `text`, plain, multi-line."""

    complaint: ComplaintSummary
    text: str
    organisation: str

    def __post_init__(self) -> None:
        require_text("interim news", self.text)
        _require_organisation(self.organisation)


@dataclass(frozen=True)
class ClosedFacts:
    """The complaint is closed with `outcome`; `ask_satisfaction` adds the "oui / non" question."""

    complaint: ComplaintSummary
    outcome: Outcome
    ask_satisfaction: bool
    mediator: Mediator | None
    organisation: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "outcome", Outcome(self.outcome))
        _require_organisation(self.organisation)


@dataclass(frozen=True)
class FollowUpReceivedFacts:
    """The customer's additional message, received at `mail_received_at`, was added to the complaint."""

    complaint: ComplaintSummary
    mail_received_at: datetime
    attachments: tuple[AttachmentLine, ...]
    organisation: str

    def __post_init__(self) -> None:
        require_aware("mail_received_at", self.mail_received_at)
        object.__setattr__(self, "attachments", attachment_lines(self.attachments))
        _require_organisation(self.organisation)


# --- rendering ------------------------------------------------------------------------------------


def render_acknowledgement(templates: Templates, facts: AcknowledgementFacts) -> Letter:
    """The acknowledgement of receipt sent to the customer as soon as a complaint is registered.

    The templates see every field of `facts` by name (`reference`, `customer_name`, `subject`,
    `received_at`, `answer_due_at`, `attachments`, `mediator`, `organisation`, ...).
    """
    context = facts_context(facts)
    context["customer_name"] = usable_name(facts.customer_name, facts.customer_email)
    context["subject"] = echo(facts.subject)
    return templates.render("acknowledgement", **context)


def _to_customer(templates: Templates, name: str, facts: Any, **extra: Any) -> Letter:
    """Render a customer's letter and check that its subject keeps "[REF]" for their replies."""
    context = facts_context(facts)
    context["complaint"] = clean_summary(facts.complaint)
    context |= extra
    letter = templates.render(name, **context)
    marker = f"[{facts.complaint.reference}]"
    if marker not in letter.subject:
        raise ValueError(
            f"the subject of letter {name!r} must contain {marker}, else the customer's replies "
            f"cannot be matched to the complaint: {letter.subject!r}"
        )
    return letter


def render_answer(templates: Templates, facts: AnswerFacts) -> Letter:
    """The argued answer to the customer. Templates see `complaint`, `text`, `attachments`,
    `mediator` and `organisation`."""
    return _to_customer(templates, "answer", facts, text=plain(facts.text))


def render_deadline_changed(templates: Templates, facts: DeadlineChangedFacts) -> Letter:
    """The new answer date, now a commitment. Besides the facts, templates see `later` (the new
    date is after the previous one)."""
    later = facts.new_due_at > facts.previous_due_at
    return _to_customer(templates, "deadline_changed", facts, reason=plain(facts.reason), later=later)


def render_status_changed(templates: Templates, facts: StatusChangedFacts) -> Letter:
    """A short letter with the complaint's new status in words. Templates see `complaint`,
    `organisation` and `awaiting_answer` (the answer is still to come: recall its date)."""
    awaiting = facts.complaint.status in (Status.RECEIVED, Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.REOPENED)
    return _to_customer(templates, "status_changed", facts, awaiting_answer=awaiting)


def render_interim(templates: Templates, facts: InterimFacts) -> Letter:
    """Interim news, not the answer: templates see `complaint`, `text`, `organisation` and
    `awaiting_answer` (recall the answer's date while it is still to come)."""
    awaiting = facts.complaint.status not in (Status.ANSWERED, Status.CLOSED)
    return _to_customer(templates, "interim", facts, text=plain(facts.text), awaiting_answer=awaiting)


def render_closed(templates: Templates, facts: ClosedFacts) -> Letter:
    """The closing, with the outcome in words and, if asked, the satisfaction question."""
    return _to_customer(templates, "closed", facts)


def render_follow_up_received(templates: Templates, facts: FollowUpReceivedFacts) -> Letter:
    """The acknowledgement of the customer's additional message."""
    return _to_customer(templates, "follow_up_received", facts)
