"""The postbox: the one place a letter a decision asked for becomes the exact bytes that will leave.

Decisions name a letter by its facts (`AcknowledgementFacts`, `ReminderFacts`…), its recipient and its
threading; the postbox, bound once to the templates and the sender's address, renders it (the facts'
type picks the template) and composes it. Queueing the result is the register's job, in the same
transaction as the decision's other effects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from daemon.core.letters import command_replies as replies
from daemon.core.letters import to_admin as admin
from daemon.core.letters import to_customers as customers
from daemon.core.letters import to_staff as staff
from daemon.core.letters.compose import FileToAttach, OutgoingMail, compose
from daemon.core.letters.render import Letter, Templates, echo
from daemon.core.mail import Address, StoredFile
from daemon.core.threads import header_id, header_ids

__all__ = ["RENDERERS", "LetterToSend", "Postbox"]

# Which letter each facts type is: the facts' type picks the render function, hence the template.
RENDERERS: dict[type, Callable[[Templates, Any], Letter]] = {
    customers.AcknowledgementFacts: customers.render_acknowledgement,
    customers.AnswerFacts: customers.render_answer,
    customers.DeadlineChangedFacts: customers.render_deadline_changed,
    customers.StatusChangedFacts: customers.render_status_changed,
    customers.InterimFacts: customers.render_interim,
    customers.ClosedFacts: customers.render_closed,
    customers.FollowUpReceivedFacts: customers.render_follow_up_received,
    staff.HandlerNotificationFacts: staff.render_handler_notification,
    admin.HealthFacts: admin.render_health,
    staff.ReminderFacts: staff.render_reminder,
    staff.EscalationFacts: staff.render_escalation,
    staff.DigestFacts: staff.render_digest,
    staff.FollowUpForwardFacts: staff.render_follow_up_forward,
    staff.HandoverFacts: staff.render_handover,
    staff.ActionAssignedFacts: staff.render_action_assigned,
    staff.ActionReminderFacts: staff.render_action_reminder,
    staff.ActionOverdueFacts: staff.render_action_overdue,
    admin.QuarantineNoticeFacts: admin.render_quarantine_notice,
    staff.LetterRefusedFacts: staff.render_letter_refused,
    admin.IntegrityAlertFacts: admin.render_integrity_alert,
    staff.QualityReportFacts: staff.render_quality_report,
    admin.FloodAlertFacts: admin.render_flood_alert,
    admin.GroupedMailFacts: admin.render_grouped_mail,
    replies.CommandConfirmationFacts: replies.render_command_confirmation,
    replies.CommandErrorFacts: replies.render_command_error,
    replies.CommandHelpFacts: replies.render_command_help,
    replies.CommandRefusedFacts: replies.render_command_refused,
    replies.CommandUnaddressedFacts: replies.render_command_unaddressed,
}


@dataclass(frozen=True)
class LetterToSend:
    """A letter a decision asks for: what it says (`facts`), to whom, and how it threads.

    `kind` is what the outbox and the `X-Complaintsd-Kind` header call it ("acknowledgement",
    "command_reply"…); `auto_submitted` is RFC 3834's value ("no" for the argued answer, which a
    person wrote)."""

    kind: str
    facts: Any
    to: Address | None  # None: a customer with no email address, the letter goes by post (Effects)
    message_id: str
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    auto_submitted: str = "auto-generated"
    files: tuple[FileToAttach, ...] = ()
    stored_files: tuple[StoredFile, ...] = ()  # from the attachment store: the runner loads them
    held: bool = False  # kept in the outbox unsent, to be grouped with others (core/flood.py)

    def __post_init__(self) -> None:
        if type(self.facts) not in RENDERERS:
            raise ValueError(f"no letter is written from {type(self.facts).__name__}")


class Postbox:
    """Renders and composes letters, bound once to the templates and the sender's address."""

    def __init__(self, templates: Templates, sender: Address) -> None:
        self.templates = templates
        self.sender = sender

    @property
    def domain(self) -> str:
        return self.sender.domain

    def render(self, facts: Any) -> Letter:
        return RENDERERS[type(facts)](self.templates, facts)

    def compose(self, letter: LetterToSend, now: datetime) -> OutgoingMail:
        if letter.stored_files:
            raise ValueError("load the stored files into the letter first (AttachmentStore.attach)")
        if letter.to is None:
            raise ValueError(f"the {letter.kind} has no email address to go to: it is posted (Effects)")
        return compose(
            self.render(letter.facts),
            sender=self.sender,
            to=Address(echo(letter.to.name, 100), letter.to.email),
            message_id=letter.message_id,
            date=now,
            in_reply_to=header_id(letter.in_reply_to),
            references=header_ids(letter.references),
            auto_submitted=letter.auto_submitted,
            files=letter.files,
            kind=letter.kind,
        )
