"""The letters that follow a complaint's life: news to the customer, answers to the handler's commands.

This module's sole purpose in life is to turn the facts of one such mail into a `Letter`, through the
same `Templates` as the acknowledgement (`daemon/render.py`) and the internal letters
(`daemon/letters.py`). To the customer: the argued answer, a new answer date, a new status, the
closing (with the optional satisfaction question) and the receipt of an additional message. To a
handler: the confirmation or the error list of a command mail, the commands' help, the refusal of a
mail that could not be verified, the customer's new message, and the full case on a handover. It
sends nothing, reads no clock and parses no command: the facts carry what happened.

Theory of operation
-------------------
Every word a person reads is in the templates: the status sentences, outcomes, severities, the
names of the fields a command changes, its effects and the refusal reasons are labels in
`_labels.j2`; the salutation, closing formula and mediator's contact are macros in `_blocks.*.j2`.
This module passes codes (`Outcome`, `Effect`, `RefusalReason`…), never words. Two things come
already worded, because the module that knows them words them: the tag grammar (`commands`, pairs
of example and meaning, from the tag parser) and why a command line was not understood.

Each letter's subject carries what makes a reply find its way back, and rendering refuses a subject
without it, so an admin's override that drops it fails in `check` and in tests, not in production:
the customer's letters contain "[REF]" (their replies are matched to the complaint by it, docs/design.md
"Who uses it"), the handler's end with the command token marker, as `letters._with_token` checks.
The one exception is a refusal sent to someone who must not get this complaint's token (they are not
its handler): its `token` is None and its subject carries only the reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from daemon.core.letters.staff import ComplaintSummary, _clean, _context, _require_text, _require_token, _with_token
from daemon.core.commands.authorization import Refusal as RefusalReason
from daemon.core.lifecycle import Status
from daemon.core.commands.tags import Outcome, Severity
from daemon.core.letters.render import AttachmentLine, Letter, Mediator, Templates, _one_line, _require_aware

__all__ = [
    "AnswerFacts",
    "Change",
    "ChangeField",
    "ClosedFacts",
    "CommandConfirmationFacts",
    "CommandErrorFacts",
    "CommandHelpFacts",
    "CommandRefusedFacts",
    "DeadlineChangedFacts",
    "Effect",
    "FollowUpForwardFacts",
    "FollowUpReceivedFacts",
    "HandoverFacts",
    "HistoryLine",
    "NotUnderstood",
    "Outcome",
    "RefusalReason",
    "Severity",
    "StatusChangedFacts",
    "render_answer",
    "render_closed",
    "render_command_confirmation",
    "render_command_error",
    "render_command_help",
    "render_command_refused",
    "render_deadline_changed",
    "render_follow_up_forward",
    "render_follow_up_received",
    "render_handover",
    "render_status_changed",
]


class ChangeField(StrEnum):
    """What a command may change; `Change` says which values each field takes."""

    STATUS = "status"  # Status
    SEVERITY = "severity"  # Severity
    CATEGORY = "category"  # str, as the handler wrote it
    HANDLER = "handler"  # str: the handler's address (or "Name <address>")
    ANSWER_DUE = "answer_due"  # aware datetime
    OUTCOME = "outcome"  # Outcome


class Effect(StrEnum):
    """What a command mail did besides changing a field."""

    ANSWER_SENT = "answer_sent"
    NOTE_ADDED = "note_added"
    CUSTOMER_TOLD_DEADLINE = "customer_told_deadline"
    CUSTOMER_TOLD_STATUS = "customer_told_status"
    CUSTOMER_TOLD_CLOSED = "customer_told_closed"
    SATISFACTION_ASKED = "satisfaction_asked"
    HANDLER_NOTIFIED = "handler_notified"


# The type of the values on each side of a `Change`, by field; None means "not set".
_CHANGE_VALUES: dict[ChangeField, type] = {
    ChangeField.STATUS: Status,
    ChangeField.SEVERITY: Severity,
    ChangeField.OUTCOME: Outcome,
    ChangeField.CATEGORY: str,
    ChangeField.HANDLER: str,
    ChangeField.ANSWER_DUE: datetime,
}

Commands = tuple[tuple[str, str], ...]


def _attachments(value: Any) -> tuple[AttachmentLine, ...]:
    items = tuple(value)
    if not all(isinstance(item, AttachmentLine) for item in items):
        raise ValueError(f"attachments are AttachmentLine values, not {items!r}")
    return items


def _commands(value: Any) -> Commands:
    pairs = tuple(tuple(pair) for pair in value)
    if not pairs or not all(len(p) == 2 and all(isinstance(s, str) and s.strip() for s in p) for p in pairs):
        raise ValueError(f"the commands are a non-empty list of (example, meaning) pairs, not {pairs!r}")
    return pairs  # type: ignore[return-value]


def _coerce(field: ChangeField, value: Any) -> Any:
    if value is None:
        return None
    kind = _CHANGE_VALUES[field]
    if kind is datetime:
        if not isinstance(value, datetime):
            raise ValueError(f"a change of {field.value} takes datetimes, not {value!r}")
        _require_aware(field.value, value)
        return value
    if kind is str:
        _require_text(f"a {field.value}", value)
        return _one_line(value)
    return kind(value)


@dataclass(frozen=True)
class Change:
    """One field a command changed: "statut : accusé envoyé → en cours". None is "not set"."""

    field: ChangeField
    before: Any
    after: Any

    def __post_init__(self) -> None:
        field = ChangeField(self.field)
        object.__setattr__(self, "field", field)
        object.__setattr__(self, "before", _coerce(field, self.before))
        object.__setattr__(self, "after", _coerce(field, self.after))
        if self.before == self.after:
            raise ValueError(f"a change of {field.value} needs two different values, not {self.before!r} twice")


@dataclass(frozen=True)
class NotUnderstood:
    """A line of a command mail that was not executed, and why (worded by the tag parser)."""

    line: str
    reason: str

    def __post_init__(self) -> None:
        _require_text("a line not understood", self.line)
        _require_text("the reason a line was not understood", self.reason)
        object.__setattr__(self, "line", _one_line(self.line))


@dataclass(frozen=True)
class HistoryLine:
    """One entry of a complaint's history, as the register words it; `detail` may be empty or multi-line."""

    at: datetime
    event: str
    detail: str = ""

    def __post_init__(self) -> None:
        _require_aware("a history line's time", self.at)
        _require_text("a history line's event", self.event)


# --- to the customer ------------------------------------------------------------------------------


def _require_organisation(organisation: str) -> None:
    _require_text("the organisation that signs a customer's letter", organisation)


@dataclass(frozen=True)
class AnswerFacts:
    """The argued answer (réponse argumentée). `text` is the handler's, plain and possibly multi-line;
    the files in `attachments` travel with the letter. The outcome comes with the closing, not here."""

    complaint: ComplaintSummary
    text: str
    attachments: tuple[AttachmentLine, ...]
    mediator: Mediator | None
    organisation: str

    def __post_init__(self) -> None:
        _require_text("an answer's text", self.text)
        object.__setattr__(self, "attachments", _attachments(self.attachments))
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
        _require_aware("previous_due_at", self.previous_due_at)
        _require_aware("new_due_at", self.new_due_at)
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
        _require_aware("mail_received_at", self.mail_received_at)
        object.__setattr__(self, "attachments", _attachments(self.attachments))
        _require_organisation(self.organisation)


# --- to a handler ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CommandConfirmationFacts:
    """What the handler's command mail (received at `mail_received_at`) changed and did; `problems`
    lists the lines that were not understood when the mail was only partly right."""

    complaint: ComplaintSummary
    token: str
    handler_name: str
    mail_received_at: datetime
    changes: tuple[Change, ...]
    effects: tuple[Effect, ...]
    problems: tuple[NotUnderstood, ...]

    def __post_init__(self) -> None:
        _require_token(self.token)
        _require_aware("mail_received_at", self.mail_received_at)
        object.__setattr__(self, "changes", tuple(self.changes))
        object.__setattr__(self, "effects", tuple(Effect(e) for e in self.effects))
        object.__setattr__(self, "problems", tuple(self.problems))
        if not self.changes and not self.effects:
            raise ValueError("a confirmation needs at least one change or effect; else send a command error")


@dataclass(frozen=True)
class CommandErrorFacts:
    """Nothing in the handler's command mail was executed: `problems` says why, line by line, and
    `commands` is the valid grammar, as (example, meaning) pairs."""

    complaint: ComplaintSummary
    token: str
    handler_name: str
    mail_received_at: datetime
    problems: tuple[NotUnderstood, ...]
    commands: Commands

    def __post_init__(self) -> None:
        _require_token(self.token)
        _require_aware("mail_received_at", self.mail_received_at)
        object.__setattr__(self, "problems", tuple(self.problems))
        if not self.problems:
            raise ValueError("a command error needs at least one line not understood")
        object.__setattr__(self, "commands", _commands(self.commands))


@dataclass(frozen=True)
class CommandHelpFacts:
    """The commands' help: `commands` is the grammar, as (example, meaning) pairs."""

    complaint: ComplaintSummary
    token: str
    handler_name: str
    commands: Commands

    def __post_init__(self) -> None:
        _require_token(self.token)
        object.__setattr__(self, "commands", _commands(self.commands))


@dataclass(frozen=True)
class CommandRefusedFacts:
    """A command mail about complaint `reference` was not executed: it could not be verified.

    The letter goes to `sender_email`, the address that wrote (the shell sends it only to a
    configured handler or the supervisor). `token` is the token of this complaint bound to that
    address, or None when they have none (they are not its handler): never another one's token.
    `mail_subject` is the subject they wrote, untrusted.
    """

    reference: str
    sender_email: str
    sender_name: str
    reason: RefusalReason
    mail_received_at: datetime
    mail_subject: str
    token: str | None

    def __post_init__(self) -> None:
        _require_text("a complaint's reference", self.reference)
        _require_text("the address a refusal goes to", self.sender_email)
        object.__setattr__(self, "reason", RefusalReason(self.reason))
        _require_aware("mail_received_at", self.mail_received_at)
        if self.token is not None:
            _require_token(self.token)


@dataclass(frozen=True)
class FollowUpForwardFacts:
    """The customer wrote again: `text` is their new text (without the quoted part)."""

    complaint: ComplaintSummary
    token: str
    handler_name: str
    mail_received_at: datetime
    text: str
    attachments: tuple[AttachmentLine, ...]
    attachments_attached: bool

    def __post_init__(self) -> None:
        _require_token(self.token)
        _require_aware("mail_received_at", self.mail_received_at)
        object.__setattr__(self, "attachments", _attachments(self.attachments))


@dataclass(frozen=True)
class HandoverFacts:
    """A complaint handed over to this handler by `handed_over_by` ("Name <address>", or empty when
    the daemon did it), with the full case: the complaint's `body`, its attachments and its history
    (oldest first)."""

    complaint: ComplaintSummary
    token: str
    handler_name: str
    handed_over_by: str
    body: str
    attachments: tuple[AttachmentLine, ...]
    attachments_attached: bool
    history: tuple[HistoryLine, ...]

    def __post_init__(self) -> None:
        _require_token(self.token)
        object.__setattr__(self, "attachments", _attachments(self.attachments))
        object.__setattr__(self, "history", tuple(self.history))


# --- rendering ------------------------------------------------------------------------------------


def _to_customer(templates: Templates, name: str, facts: Any, **extra: Any) -> Letter:
    """Render a customer's letter and check that its subject keeps "[REF]" for their replies."""
    context = _context(facts)
    context["complaint"] = _clean(facts.complaint)
    context.update(extra)
    letter = templates.render(name, **context)
    marker = f"[{facts.complaint.reference}]"
    if marker not in letter.subject:
        raise ValueError(
            f"the subject of letter {name!r} must contain {marker}, else the customer's replies "
            f"cannot be matched to the complaint: {letter.subject!r}"
        )
    return letter


def _to_handler(templates: Templates, name: str, facts: Any, **extra: Any) -> Letter:
    context = _context(facts)
    context.pop("token")
    context["complaint"] = _clean(facts.complaint)
    context["handler_name"] = _one_line(facts.handler_name)
    context.update(extra)
    return _with_token(templates, name, facts.token, **context)


def _plain(text: str) -> str:
    # The handler's or customer's text, as written, without stray blank lines around it.
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip("\n")


def render_answer(templates: Templates, facts: AnswerFacts) -> Letter:
    """The argued answer to the customer. Templates see `complaint`, `text`, `attachments`,
    `mediator` and `organisation`."""
    return _to_customer(templates, "answer", facts, text=_plain(facts.text))


def render_deadline_changed(templates: Templates, facts: DeadlineChangedFacts) -> Letter:
    """The new answer date, now a commitment. Besides the facts, templates see `later` (the new
    date is after the previous one)."""
    later = facts.new_due_at > facts.previous_due_at
    return _to_customer(templates, "deadline_changed", facts, reason=_plain(facts.reason), later=later)


def render_status_changed(templates: Templates, facts: StatusChangedFacts) -> Letter:
    """A short letter with the complaint's new status in words. Templates see `complaint`,
    `organisation` and `awaiting_answer` (the answer is still to come: recall its date)."""
    awaiting = facts.complaint.status in (Status.RECEIVED, Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.REOPENED)
    return _to_customer(templates, "status_changed", facts, awaiting_answer=awaiting)


def render_closed(templates: Templates, facts: ClosedFacts) -> Letter:
    """The closing, with the outcome in words and, if asked, the satisfaction question."""
    return _to_customer(templates, "closed", facts)


def render_follow_up_received(templates: Templates, facts: FollowUpReceivedFacts) -> Letter:
    """The acknowledgement of the customer's additional message."""
    return _to_customer(templates, "follow_up_received", facts)


def render_command_confirmation(templates: Templates, facts: CommandConfirmationFacts) -> Letter:
    """What a command mail changed (before → after), what it did, and the lines not understood."""
    return _to_handler(templates, "command_confirmation", facts)


def render_command_error(templates: Templates, facts: CommandErrorFacts) -> Letter:
    """Nothing was executed: each line not understood with its reason, and the valid commands."""
    return _to_handler(templates, "command_error", facts)


def render_command_help(templates: Templates, facts: CommandHelpFacts) -> Letter:
    """The commands' grammar, with how to send them."""
    return _to_handler(templates, "command_help", facts)


def render_command_refused(templates: Templates, facts: CommandRefusedFacts) -> Letter:
    """The refusal of an unverified command mail: the reason, and what to do. Templates see the
    facts, with `token` None when the recipient is not this complaint's handler."""
    context = _context(facts)
    context.update(sender_name=_one_line(facts.sender_name), mail_subject=_one_line(facts.mail_subject))
    if facts.token is None:
        return templates.render("command_refused", **context)
    context.pop("token")
    return _with_token(templates, "command_refused", facts.token, **context)


def render_follow_up_forward(templates: Templates, facts: FollowUpForwardFacts) -> Letter:
    """The customer's new message, forwarded to the handler with how to reply with commands."""
    return _to_handler(templates, "follow_up_forward", facts, text=_plain(facts.text))


def render_handover(templates: Templates, facts: HandoverFacts) -> Letter:
    """The full case, to the handler a complaint was handed over to."""
    history = tuple(HistoryLine(line.at, _one_line(line.event), _plain(line.detail)) for line in facts.history)
    by = _one_line(facts.handed_over_by)
    return _to_handler(templates, "handover", facts, handed_over_by=by, body=_plain(facts.body), history=history)
