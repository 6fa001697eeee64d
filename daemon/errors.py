"""Failures a person can act on, split by who must act.

Anything not listed here is a bug. The CLI turns each of these into one line and exit status 1;
the daemon turns MailError into a quarantine with its reason and TransientError into a retry.
"""

from __future__ import annotations


class ComplaintsError(Exception):
    """Base of every error a user can act on."""


class ConfigError(ComplaintsError):
    """The admin must fix the configuration file: `path` names the key, `problem` says what is wrong."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


class MailError(ComplaintsError):
    """A message cannot be processed as it is; it goes to quarantine with this reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TransientError(ComplaintsError):
    """A server (IMAP, SMTP, database) is unreachable or refused for now; try again later."""


class RegisterLocked(TransientError):
    """Another program holds the register's lock (a sqlite3 shell left in a transaction, a backup
    tool): retried like any outage, but the daemon stops when it lasts (OutageTooLong), since only
    a person can release it and a stopped unit says so where an admin looks."""


class OutageTooLong(ComplaintsError):
    """An outage that more retries will not mend (the register locked through several attempts):
    the daemon stops with this reason and exit status 1; the service manager starts it again later."""


class LoginRefused(TransientError):
    """The mailbox refused our login (a changed password, a locked account): retried with backoff
    like any outage, and the admin is told (core/health.py), since only a person can fix it."""


class TokenRefused(TransientError):
    """The OAuth provider refused to give us a token (a refresh token revoked or expired, a wrong
    secret, no token yet): only `complaintsd auth login` by a person mends it; the daemon retries with
    backoff meanwhile and the admin is told (core/health.py)."""


class StatementRefused(ComplaintsError):
    """The register refused a statement as too big (too many SQL variables…): the fault of the
    mail that made it, not an outage; retrying the batch would stop the desk (issue 14)."""


class SchemaError(ComplaintsError):
    """The register's schema is not the one this release needs: the admin runs `complaintsd migrate`."""


class NotFound(ComplaintsError):
    """The register holds no such thing (e.g. `show REF` for an unknown reference)."""


class EntryError(ComplaintsError):
    """A complaint typed in by hand (`complaintsd add`) is incomplete or malformed: the option names it."""


class PrintError(ComplaintsError):
    """A PDF cannot be printed here: Chromium is missing or failed; the message says which (the HTML
    sheet still works)."""


class ReportError(ComplaintsError):
    """The quality report cannot be made as asked (a `--period` not understood…): the option names it."""
