"""Poison mail: a message whose registration fails for a reason of its own must not stop the desk.

Mailman's switchboard counts how often a message was tried (`_bak_count`, `MAX_BAK_COUNT`) and
shunts it past the limit; so does this. A message that cannot be registered alone is left in the
inbox for another try, and at the MAX_ATTEMPTS-th failure it is quarantined with its reason. The
mailbox loop fetches it again at once, so the three attempts take seconds; the count is kept in
memory, so a restart grants at most three more. The mails behind it are registered one by one
meanwhile: they never wait for it.

Only an outage (the register unreachable, locked, out of space) is worth waiting for with the whole
batch, and the register edge reports both kinds as TransientError. `is_outage` tells them apart by
the database's own words for a statement it refuses to run: "too many SQL variables" was taken for
an outage, and one mail naming 250,000 Message-IDs stopped every later acknowledgement (issue 14).
"""

from __future__ import annotations

from collections import Counter

from daemon.errors import TransientError

MAX_ATTEMPTS = 3

# What SQLite and PostgreSQL say of a statement too big to run: the statement's fault, not the
# server's. Lower case, matched in the error's first line.
_STATEMENT_LIMITS = (
    "too many sql variables",
    "too many terms in compound select",
    "expression tree is too large",
    "string or blob too big",
    "too many columns",
    "statement too complex",
    "stack depth limit exceeded",
    "index row size",
    "number of parameters must be between",
)


def is_outage(exc: TransientError) -> bool:
    """True unless the register refused the statement itself (see the module docstring)."""
    text = str(exc).lower()
    return not any(limit in text for limit in _STATEMENT_LIMITS)


class Attempts:
    """Failed registration attempts per message, by SHA-256 (see the module docstring)."""

    def __init__(self, limit: int = MAX_ATTEMPTS) -> None:
        self.limit = limit
        self._failures: Counter[str] = Counter()

    def failed(self, sha256: str) -> int:
        """Count one more failure of this message; returns how many it has had."""
        self._failures[sha256] += 1
        return self._failures[sha256]

    def exhausted(self, sha256: str) -> bool:
        return self._failures[sha256] >= self.limit

    def forget(self, sha256: str) -> None:
        self._failures.pop(sha256, None)
