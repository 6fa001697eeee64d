"""`complaintsd check`: try each part the daemon needs, one line each, creating nothing.

A mistyped path must not turn into a new empty register, attachments folder or Maildir: the register
is only read (a missing one is a failure saying to run `complaintsd migrate`; an empty or old one
too), a folder the daemon would create is reported as such, and the mailbox is looked at, not set
up. Each part is tried even when another failed, and whatever goes wrong in one is its own line,
never "internal error"."""

from __future__ import annotations

import os
import re
import stat
import tomllib
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from daemon.config import Config
from daemon.core import letters as n
from daemon.core.commands.words import grammar
from daemon.core.health import Condition
from daemon.core.lifecycle import Status
from daemon.core.reminders import DeadlineKind
from daemon.core.routing import RouteRule
from daemon.core.tokens import new_token
from daemon.edges.mailbox import open_mailbox
from daemon.edges.register import Register, schema
from daemon.edges.register.views import list_complaints
from daemon.edges.smtp import SmtpSender
from daemon.errors import ComplaintsError


def run_checks(config: Config) -> Iterator[tuple[bool, str]]:
    for warning in credential_warnings(config):
        yield True, warning
    for part, check in PARTS:
        for each in config.each if part in PER_REGISTER else (config,):
            ok, line = _tried(part, check, each)
            yield ok, f"{each.name}: {line}" if part in PER_REGISTER and config.registers else line


def _tried(part: str, check, config: Config) -> tuple[bool, str]:
    try:
        return True, check(config)
    except ComplaintsError as exc:
        return False, _named(part, str(exc))
    except SQLAlchemyError as exc:
        return False, _named(part, str(getattr(exc, "orig", None) or exc))
    except Exception as exc:  # one part's surprise must hide neither the others nor its own cause
        return False, _named(part, f"{exc.__class__.__name__}: {exc}")


def _named(part: str, problem: str) -> str:
    """One line that starts with the part it is about (`mailbox: …`, `storage.path: …`)."""
    line = (problem.splitlines() or [""])[0][:300]
    return line if line.startswith(part) else f"{part}: {line}"


# The LoadCredential= names the unit gives each section's password (systemd/complaintsd.service).
CREDENTIAL_IDS = {"mailbox": "imap-password", "smtp": "smtp-password"}


def credential_warnings(config: Config) -> list[str]:
    """A password others can read: written in a config file readable by others, or a password_file
    readable by others. A warning, not a failure: the daemon works, but the secret is exposed."""
    if config.source is None:
        return []
    try:
        data = tomllib.loads(config.source.read_text(encoding="utf-8"))
        mode = stat.S_IMODE(config.source.stat().st_mode)
    except (OSError, ValueError):
        return []  # load_config read it a moment ago; a change since is not ours to judge
    warnings = []
    for section, credential in CREDENTIAL_IDS.items():
        table = data.get(section, {})
        if table.get("password") and mode & stat.S_IROTH:
            warnings.append(
                f"WARN config: {config.source} is readable by others (mode {mode:04o}) and holds "
                f"{section}.password: chmod 600 it, or better put the password in a file read through "
                f'password_file = "{credential}" and the unit\'s '
                f"LoadCredential={credential}:/etc/complaintsd/{credential}"
            )
        if table.get("password_file"):
            warnings += _password_file_warning(section, Path(str(table["password_file"])))
    oauth = data.get("oauth", {})
    if isinstance(oauth, dict) and oauth.get("client_secret") and mode & stat.S_IROTH:
        warnings.append(
            f"WARN config: {config.source} is readable by others (mode {mode:04o}) and holds oauth.client_secret: "
            'chmod 600 it, or better client_secret_file = "oauth-client-secret" and the unit\'s '
            "LoadCredential=oauth-client-secret:/etc/complaintsd/oauth-client-secret"
        )
    return warnings


def _password_file_warning(section: str, path: Path) -> list[str]:
    if not path.is_absolute() and os.environ.get("CREDENTIALS_DIRECTORY"):
        return []  # systemd's credentials: readable by the service's user only
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return []  # load_config has read it; gone since
    if not mode & stat.S_IROTH:
        return []
    return [
        f"WARN config: {section}.password_file {path} is readable by others (mode {mode:04o}): chmod 600 it "
        f"(the unit's LoadCredential= hands it to the service alone)"
    ]


def _database(config: Config) -> str:
    url = make_url(config.database.url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        path = Path(url.database)
        if not path.is_file():
            raise ComplaintsError(
                f"database: no register at {path} (database.url = {config.database.url}): "
                "`complaintsd migrate` creates it; check creates nothing"
            )
    register = Register(config.database.url)
    with register.session() as session:
        list_complaints(session, limit=1)
        found = schema.state(register.engine)
    register.dispose()
    return f"database: {register.describe()} is usable, {found.describe()}"


def _storage(config: Config) -> str:
    """The attachments folder is writable, or the daemon can create it (it will, on the first file)."""
    root = config.storage.path
    if root.exists():
        if not root.is_dir() or not os.access(root, os.W_OK | os.X_OK):
            raise ComplaintsError(f"storage.path: {root} is not a writable folder")
        return f"storage: {root} is writable"
    parent = next(p for p in root.parents if p.exists())
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise ComplaintsError(
            f"storage.path: {root} does not exist and cannot be created ({parent} is not a writable folder)"
        )
    return f"storage: {root} does not exist yet; the daemon creates it in {parent}, which is writable"


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
    return f"templates: {len({type(facts) for facts in samples})} letters render ({register.language}, {where})"


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
    problem = (n.NotUnderstood("#statut fini", "UNKNOWN_STATUS"),)
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
        n.InterimFacts(summary, "Nous attendons le retour du transporteur.", organisation),
        n.ActionAssignedFacts(summary, 1, "corrective", "Former l'équipe", now.date(), "Alice", "alice@example.org"),
        _action_reminder(summary, later, token, "Alice", now, False),
        _action_reminder(summary, later, None, "", now, True),  # to an owner who cannot command
        n.ActionOverdueFacts(
            summary,
            1,
            "corrective",
            "Former l'équipe",
            None,
            now.date(),
            now,
            "Alice",
            "alice@example.org",
            supervisor_name="Qualité",
            alert=2,
            now=now,
            late=False,
            planned_at=now,
        ),
        n.ClosedFacts(summary, n.Outcome.FOUNDED, True, None, organisation),
        n.FollowUpReceivedFacts(summary, now, files, organisation),
        n.CommandConfirmationFacts(summary, token, "Alice", now, (change,), (), problem),
        n.CommandErrorFacts(summary, token, "Alice", now, problem, grammar(language)),
        n.CommandHelpFacts(summary, token, "Alice", grammar(language)),
        n.CommandRefusedFacts(reference, "eve@example.org", "Eve", n.RefusalReason.UNVERIFIED, now, "RE: x", None),
        n.CommandUnaddressedFacts("alice@example.org", "Alice", now, "Suivi", ("#statut en cours",), reference),
        n.FollowUpForwardFacts(summary, token, "Alice", now, "Texte", files, True),
        n.HandoverFacts(summary, token, "Bob", "Alice", "Texte", files, True, (n.HistoryLine(now, "received", ""),)),
        n.LetterRefusedFacts(summary, token, "Alice", "acknowledgement", "camille@example.org", "550 refused", now),
        n.QuarantineNoticeFacts(
            (n.QuarantinedLine(1, now, "camille@example.org", "Exemple", "no sender address"),), now
        ),
        *(n.HealthFacts(c, True, now - timedelta(hours=26), timedelta(hours=24), "refused", now) for c in Condition),
        *(n.HealthFacts(c, False, None, None, "", now) for c in Condition),
        n.IntegrityAlertFacts(1, ("history event 7 (REC-2026-000001): its content does not match",), 12, now),
        n.QualityReportFacts("Qualité", "2026-11", now.date(), now.date(), now, 12, 0.75, None, 3, 1, "rapport.html"),
        n.FloodAlertFacts("camille@example.org", 5, reference, timedelta(hours=1), now),
        n.GroupedMailFacts("Alice", "camille@example.org", (n.GroupedLine(reference, True, now, "Exemple"),), 0, now),
    ]


def _action_reminder(summary, due_at: datetime, token: str | None, owner_name: str, now: datetime, late: bool):
    return n.ActionReminderFacts(
        summary,
        1,
        "corrective",
        "Former l'équipe",
        due_at.date(),
        due_at,
        token,
        owner_name,
        "Alice",
        "alice@example.org",
        now=now,
        late=late,
        planned_at=now,
    )


def _fail(message: str):
    raise ComplaintsError(message)


def _mailbox(config: Config) -> str:
    return f"mailbox: {open_mailbox(config.mailbox).probe()}"


def _smtp(config: Config) -> str:
    return SmtpSender(config.smtp).check()


# With [[registers]], each register's letters and mailbox are tried, the line named after it.
PER_REGISTER = ("templates", "mailbox")
PARTS = (
    ("database", _database),
    ("storage", _storage),
    ("templates", _templates),
    ("mailbox", _mailbox),
    ("smtp", _smtp),
)
