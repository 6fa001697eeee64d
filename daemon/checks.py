"""`complaintsd check`: try each part the daemon needs, one line each, without changing anything
but creating the register's tables and the mailbox folders the daemon would create anyway."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError

from daemon.config import Config
from daemon.core import letters as n
from daemon.core.commands.words import grammar
from daemon.core.lifecycle import Status
from daemon.core.reminders import DeadlineKind
from daemon.core.routing import RouteRule
from daemon.core.tokens import new_token
from daemon.edges.mailbox import open_mailbox
from daemon.edges.register import Register
from daemon.edges.register.views import list_complaints
from daemon.edges.smtp import SmtpSender
from daemon.edges.storage import AttachmentStore
from daemon.errors import ComplaintsError


def run_checks(config: Config) -> Iterator[tuple[bool, str]]:
    for check in (_database, _storage, _templates, _mailbox, _smtp):
        try:
            yield True, check(config)
        except ComplaintsError as exc:
            yield False, str(exc)
        except SQLAlchemyError as exc:
            yield False, f"database: {str(exc).splitlines()[0]}"


def _database(config: Config) -> str:
    register = Register(config.database.url)
    with register.session() as session:
        list_complaints(session, limit=1)
    register.dispose()
    return f"database: {register.describe()} is usable"


def _storage(config: Config) -> str:
    return AttachmentStore(config.storage.path).check()


def _templates(config: Config) -> str:
    """Render every letter on sample facts, through the postbox: an admin's override fails here, not on a customer."""
    register = config.register
    postbox = n.Postbox(n.Templates.of(register), config.smtp.sender)
    samples = _samples(register.reference_prefix, register.organisation, register.language, datetime.now(UTC))
    missing = set(n.RENDERERS) - {type(facts) for facts in samples}
    assert not missing, f"no sample for {missing}"
    for facts in samples:
        try:
            postbox.render(facts)
        except Exception as exc:  # an admin's template can fail in any Jinja2 way
            name = re.sub(r"(?<!^)(?=[A-Z])", "_", type(facts).__name__.removesuffix("Facts")).lower()
            return _fail(f"templates: {name} does not render: {exc.__class__.__name__}: {exc}")
    where = register.templates or "built-in"
    return f"templates: {len(samples)} letters render ({register.language}, {where})"


def _samples(prefix: str, organisation: str, language: str, now: datetime) -> list[object]:
    """Sample facts for every letter the daemon writes."""
    reference = f"{prefix}-{now.year}-000001"
    summary = n.ComplaintSummary(
        reference,
        Status.RECEIVED,
        "Camille Exemple",
        "camille@example.org",
        "Exemple",
        now,
        now + timedelta(days=2),
        now + timedelta(days=10),
    )
    token = new_token()
    change = n.Change(n.ChangeField.STATUS, Status.ACKNOWLEDGED, Status.IN_PROGRESS)
    problem = (n.NotUnderstood("#statut fini", "unknown status: use in_progress or reopened"),)
    files = (n.AttachmentLine("facture.pdf", 1024),)
    later = summary.answer_due_at + timedelta(days=5)
    return [
        n.AcknowledgementFacts(
            reference,
            "Camille Exemple",
            "camille@example.org",
            "Exemple",
            now,
            summary.answer_due_at,
            files,
            None,
            organisation,
        ),
        n.HandlerNotificationFacts(summary, token, "Alice", "Texte", files, True, RouteRule.DEFAULT, ""),
        n.ReminderFacts(summary, token, "Alice", DeadlineKind.ANSWER, now, False, now),
        n.EscalationFacts(summary, "Alice", "alice@example.org", "Qualité", DeadlineKind.ANSWER, 1, now, False, now),
        n.DigestFacts("Alice", now.date(), now, (summary,), False, now),
        n.AnswerFacts(summary, "Madame, Monsieur,\nréponse.", files, None, organisation),
        n.DeadlineChangedFacts(summary, summary.answer_due_at, later, "", organisation),
        n.StatusChangedFacts(replace(summary, status=Status.IN_PROGRESS), organisation),
        n.ClosedFacts(summary, n.Outcome.FOUNDED, True, None, organisation),
        n.FollowUpReceivedFacts(summary, now, files, organisation),
        n.CommandConfirmationFacts(summary, token, "Alice", now, (change,), (), problem),
        n.CommandErrorFacts(summary, token, "Alice", now, problem, grammar(language)),
        n.CommandHelpFacts(summary, token, "Alice", grammar(language)),
        n.CommandRefusedFacts(reference, "eve@example.org", "Eve", n.RefusalReason.UNVERIFIED, now, "RE: x", None),
        n.FollowUpForwardFacts(summary, token, "Alice", now, "Texte", files, True),
        n.HandoverFacts(summary, token, "Bob", "Alice", "Texte", files, True, (n.HistoryLine(now, "received", ""),)),
    ]


def _fail(message: str):
    raise ComplaintsError(message)


def _mailbox(config: Config) -> str:
    mailbox = open_mailbox(config.mailbox)
    mailbox.connect()
    mailbox.close()
    return f"mailbox: {mailbox.describe()} answered"


def _smtp(config: Config) -> str:
    return SmtpSender(config.smtp).check()
