"""The replies to a command mail: what a handler's (or the supervisor's) commands did, or why not.

This module's sole purpose in life is to turn the outcome of one command mail into a `Letter` to the
staff member who wrote it, through `Templates` (render.py): the confirmation of what changed, the
list of lines not understood when nothing was executed, the commands' help, and the refusal of a
mail that could not be verified. It sends nothing, reads no clock and parses no command: the facts
carry what happened.

Theory of operation
-------------------
Every word a person reads is in the templates: the names of the fields a command changes, its
effects, statuses, outcomes, severities and the refusal reasons are labels in `_labels.j2`. This
module passes codes (`ChangeField`, `Effect`, `RefusalReason`…), never words. Two things come
already worded, because the module that knows them words them: the tag grammar (`commands`, pairs
of example and meaning, from the tag parser) and why a command line was not understood.

Each reply's subject ends with the complaint's command token marker, as `render.with_token` checks,
so the handler can answer it with more commands. The one exception is a refusal sent to someone who
must not get this complaint's token (they are not its handler): its `token` is None and its subject
carries only the reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from daemon.core.commands.authorization import Refusal as RefusalReason
from daemon.core.commands.tags import Complexity, Impact, Outcome, Scope, Severity
from daemon.core.commands.words import Reason
from daemon.core.letters.render import (
    ComplaintSummary,
    Letter,
    Templates,
    facts_context,
    one_line,
    require_aware,
    require_text,
    require_token,
    to_handler,
    with_token,
)
from daemon.core.lifecycle import Status

__all__ = [
    "Change",
    "ChangeField",
    "CommandConfirmationFacts",
    "CommandErrorFacts",
    "CommandHelpFacts",
    "CommandRefusedFacts",
    "CommandUnaddressedFacts",
    "Commands",
    "Effect",
    "NotUnderstood",
    "Outcome",
    "RefusalReason",
    "Severity",
    "render_command_confirmation",
    "render_command_error",
    "render_command_help",
    "render_command_refused",
    "render_command_unaddressed",
]


class ChangeField(StrEnum):
    """What a command may change; `Change` says which values each field takes."""

    STATUS = "status"  # Status
    SEVERITY = "severity"  # Severity
    CATEGORY = "category"  # str, as the handler wrote it
    HANDLER = "handler"  # str: the handler's address (or "Name <address>")
    ANSWER_DUE = "answer_due"  # aware datetime
    OUTCOME = "outcome"  # Outcome
    COMPLEXITY = "complexity"  # Complexity
    IMPACT = "impact"  # Impact
    SCOPE = "scope"  # Scope
    WISHED_SOLUTION = "wished_solution"  # str, the customer's wish as the handler read it
    RELATED = "related"  # str: the reference linked (before: None)
    CAUSE = "cause"  # str: the cause found (before: None)
    COMPENSATION = "compensation"  # str: "credit 50.00 EUR" (words.Compensation written out)
    ACTION = "action"  # str: "2 corrective: text (owner, day)" created, or "2 open" → "2 done"


class Effect(StrEnum):
    """What a command mail did besides changing a field."""

    ANSWER_SENT = "answer_sent"
    NOTE_ADDED = "note_added"
    CUSTOMER_TOLD_DEADLINE = "customer_told_deadline"
    CUSTOMER_TOLD_STATUS = "customer_told_status"
    CUSTOMER_TOLD_CLOSED = "customer_told_closed"
    SATISFACTION_ASKED = "satisfaction_asked"
    HANDLER_NOTIFIED = "handler_notified"
    CUSTOMER_INFORMED = "customer_informed"


# The type of the values on each side of a `Change`, by field; None means "not set".
_CHANGE_VALUES: dict[ChangeField, type] = {
    ChangeField.STATUS: Status,
    ChangeField.SEVERITY: Severity,
    ChangeField.OUTCOME: Outcome,
    ChangeField.CATEGORY: str,
    ChangeField.HANDLER: str,
    ChangeField.ANSWER_DUE: datetime,
    ChangeField.COMPLEXITY: Complexity,
    ChangeField.IMPACT: Impact,
    ChangeField.SCOPE: Scope,
    ChangeField.WISHED_SOLUTION: str,
    ChangeField.RELATED: str,
    ChangeField.CAUSE: str,
    ChangeField.COMPENSATION: str,
    ChangeField.ACTION: str,
}

# The tag grammar, as (example line, meaning) pairs worded by the tag parser.
Commands = tuple[tuple[str, str], ...]


def _commands(value: Any) -> Commands:
    pairs = tuple(tuple(pair) for pair in value)
    if not pairs or not all(len(p) == 2 and all(isinstance(s, str) and s.strip() for s in p) for p in pairs):
        raise ValueError(f"the commands are a non-empty list of (example, meaning) pairs, not {pairs!r}")
    return pairs


def _coerce(field: ChangeField, value: Any) -> Any:
    if value is None:
        return None
    kind = _CHANGE_VALUES[field]
    if kind is datetime:
        if not isinstance(value, datetime):
            raise ValueError(f"a change of {field.value} takes datetimes, not {value!r}")
        require_aware(field.value, value)
        return value
    if kind is str:
        require_text(f"a {field.value}", value)
        return one_line(value)
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
    """A line of a command mail that was not executed, and why: the name of a `Reason`, which the
    templates word (`labels.reasons`), and what only the configuration knows (`detail`)."""

    line: str
    reason: str
    detail: str = ""

    def __post_init__(self) -> None:
        require_text("a line not understood", self.line)
        if self.reason not in Reason.__members__:
            raise ValueError(f"the reason a line was not understood is a Reason name, not {self.reason!r}")
        object.__setattr__(self, "line", one_line(self.line))
        object.__setattr__(self, "detail", one_line(self.detail))


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
        require_token(self.token)
        require_aware("mail_received_at", self.mail_received_at)
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
        require_token(self.token)
        require_aware("mail_received_at", self.mail_received_at)
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
        require_token(self.token)
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
        require_text("a complaint's reference", self.reference)
        require_text("the address a refusal goes to", self.sender_email)
        object.__setattr__(self, "reason", RefusalReason(self.reason))
        require_aware("mail_received_at", self.mail_received_at)
        if self.token is not None:
            require_token(self.token)


@dataclass(frozen=True)
class CommandUnaddressedFacts:
    """A staff member's command mail named no complaint (no reference, no token, no thread of ours):
    nothing was carried out and no complaint was opened. `lines` are the command lines read, so the
    sender can send them again; `example_reference` shows this register's form ("REC-2026-000042").
    The letter goes to `sender_email`, a configured handler's or the supervisor's address."""

    sender_email: str
    sender_name: str
    mail_received_at: datetime
    mail_subject: str
    lines: tuple[str, ...]
    example_reference: str

    def __post_init__(self) -> None:
        require_text("the address the letter goes to", self.sender_email)
        require_aware("mail_received_at", self.mail_received_at)
        object.__setattr__(self, "lines", tuple(one_line(line) for line in self.lines))
        if not self.lines:
            raise ValueError("a command mail naming no complaint has at least one command line")
        require_text("an example reference", self.example_reference)


# --- rendering ------------------------------------------------------------------------------------


def render_command_confirmation(templates: Templates, facts: CommandConfirmationFacts) -> Letter:
    """What a command mail changed (before → after), what it did, and the lines not understood."""
    return to_handler(templates, "command_confirmation", facts)


def render_command_error(templates: Templates, facts: CommandErrorFacts) -> Letter:
    """Nothing was executed: each line not understood with its reason, and the valid commands."""
    return to_handler(templates, "command_error", facts)


def render_command_help(templates: Templates, facts: CommandHelpFacts) -> Letter:
    """The commands' grammar, with how to send them."""
    return to_handler(templates, "command_help", facts)


def render_command_refused(templates: Templates, facts: CommandRefusedFacts) -> Letter:
    """The refusal of an unverified command mail: the reason, and what to do. Templates see the
    facts, with `token` None when the recipient is not this complaint's handler."""
    context = facts_context(facts)
    context |= {"sender_name": one_line(facts.sender_name), "mail_subject": one_line(facts.mail_subject)}
    if facts.token is None:
        return templates.render("command_refused", **context)
    context.pop("token")
    return with_token(templates, "command_refused", facts.token, **context)


def render_command_unaddressed(templates: Templates, facts: CommandUnaddressedFacts) -> Letter:
    """The answer to a command mail that named no complaint: what was read, and how to name one.
    No token and no reference in the subject: there is no complaint to give one of."""
    context = facts_context(facts)
    context |= {"sender_name": one_line(facts.sender_name), "mail_subject": one_line(facts.mail_subject)}
    return templates.render("command_unaddressed", **context)
