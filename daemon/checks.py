"""`complaintsd check`: try each part the daemon needs, one line each, without changing anything
but creating the register's tables and the mailbox folders the daemon would create anyway."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, select

from daemon.core.letters import notices as n
from daemon.config import Config
from daemon.errors import ComplaintsError
from daemon.edges.mailbox import open_mailbox
from daemon.edges.models import Complaint
from daemon.edges.register import open_register
from daemon.core.letters.staff import (
    ComplaintSummary,
    DigestFacts,
    EscalationFacts,
    HandlerNotificationFacts,
    ReminderFacts,
    render_digest,
    render_escalation,
    render_handler_notification,
    render_reminder,
)
from daemon.core.lifecycle import Status
from daemon.core.reminders import DeadlineKind
from daemon.core.letters.render import AcknowledgementFacts, AttachmentLine, Templates, render_acknowledgement
from daemon.core.routing import RouteRule
from daemon.core.commands.tags import grammar
from daemon.core.tokens import new_token
from daemon.edges.smtp import SmtpSender
from daemon.edges.storage import AttachmentStore


def run_checks(config: Config) -> Iterator[tuple[bool, str]]:
    for check in (_database, _storage, _templates, _mailbox, _smtp):
        try:
            yield True, check(config)
        except ComplaintsError as exc:
            yield False, str(exc)
        except SQLAlchemyError as exc:
            yield False, f"database: {str(exc).splitlines()[0]}"


def _database(config: Config) -> str:
    engine = open_register(config.database.url)
    with Session(engine) as session:
        session.exec(select(Complaint.id).limit(1)).all()
    engine.dispose()
    return f"database: {engine.url.render_as_string()} is usable"


def _storage(config: Config) -> str:
    return AttachmentStore(config.storage.path).check()


def _templates(config: Config) -> str:
    """Render every letter on sample facts: an admin's override fails here, not on a customer."""
    register = config.register
    templates = Templates.of(register)
    now = datetime.now(UTC)
    reference = f"{register.reference_prefix}-{now.year}-000001"
    summary = ComplaintSummary(reference, Status.RECEIVED, "Camille Exemple", "camille@example.org", "Exemple", now, now + timedelta(days=2), now + timedelta(days=10))
    token = new_token()
    samples = {
        "acknowledgement": lambda: render_acknowledgement(templates, AcknowledgementFacts(
            reference=reference, customer_name="Camille Exemple", customer_email="camille@example.org", subject="Exemple",
            received_at=now, answer_due_at=now + timedelta(days=10), attachments=(AttachmentLine("facture.pdf", 1024),),
            mediator=None, organisation=register.organisation)),
        "handler_notification": lambda: render_handler_notification(templates, HandlerNotificationFacts(
            summary, token, "Alice", "Texte", (AttachmentLine("facture.pdf", 1024),), True, RouteRule.DEFAULT, "")),
        "reminder": lambda: render_reminder(templates, ReminderFacts(summary, token, "Alice", DeadlineKind.ANSWER, now, False, now)),
        "escalation": lambda: render_escalation(templates, EscalationFacts(summary, "Alice", "alice@example.org", "Qualité", DeadlineKind.ANSWER, 1, now, False, now)),
        "digest": lambda: render_digest(templates, DigestFacts("Alice", now.date(), now, (summary,), False, now)),
        **_notice_samples(templates, summary, token, now, register.organisation, register.language),
    }
    for name, render in samples.items():
        try:
            render()
        except Exception as exc:  # noqa: BLE001 — an admin's template can fail in any Jinja2 way
            return _fail(f"templates: {name} does not render: {exc.__class__.__name__}: {exc}")
    where = register.templates or "built-in"
    return f"templates: {len(samples)} letters render ({register.language}, {where})"


def _notice_samples(templates, summary, token, now, organisation, language) -> dict:
    """The letters that follow a complaint's life (notices.py), on sample facts."""
    change = n.Change(n.ChangeField.STATUS, Status.ACKNOWLEDGED, Status.IN_PROGRESS)
    problem = (n.NotUnderstood("#statut fini", "unknown status: use in_progress or reopened"),)
    files = (AttachmentLine("avoir.pdf", 2048),)
    return {
        "answer": lambda: n.render_answer(templates, n.AnswerFacts(summary, "Madame, Monsieur,\nréponse.", files, None, organisation)),
        "deadline_changed": lambda: n.render_deadline_changed(templates, n.DeadlineChangedFacts(summary, summary.answer_due_at, summary.answer_due_at + timedelta(days=5), "", organisation)),
        "status_changed": lambda: n.render_status_changed(templates, n.StatusChangedFacts(replace(summary, status=Status.IN_PROGRESS), organisation)),
        "closed": lambda: n.render_closed(templates, n.ClosedFacts(summary, n.Outcome.FOUNDED, True, None, organisation)),
        "follow_up_received": lambda: n.render_follow_up_received(templates, n.FollowUpReceivedFacts(summary, now, files, organisation)),
        "command_confirmation": lambda: n.render_command_confirmation(templates, n.CommandConfirmationFacts(summary, token, "Alice", now, (change,), (), problem)),
        "command_error": lambda: n.render_command_error(templates, n.CommandErrorFacts(summary, token, "Alice", now, problem, grammar(language))),
        "command_help": lambda: n.render_command_help(templates, n.CommandHelpFacts(summary, token, "Alice", grammar(language))),
        "command_refused": lambda: n.render_command_refused(templates, n.CommandRefusedFacts(summary.reference, "eve@example.org", "Eve", n.RefusalReason.UNVERIFIED, now, "RE: x", None)),
        "follow_up_forward": lambda: n.render_follow_up_forward(templates, n.FollowUpForwardFacts(summary, token, "Alice", now, "Texte", files, True)),
        "handover": lambda: n.render_handover(templates, n.HandoverFacts(summary, token, "Bob", "Alice", "Texte", files, True, (n.HistoryLine(now, "received", ""),))),
    }


def _fail(message: str):
    raise ComplaintsError(message)


def _mailbox(config: Config) -> str:
    mailbox = open_mailbox(config.mailbox)
    mailbox.connect()
    mailbox.close()
    return f"mailbox: {mailbox.describe()} answered"


def _smtp(config: Config) -> str:
    return SmtpSender(config.smtp).check()
