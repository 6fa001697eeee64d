"""Poison mail: a message whose registration fails for a reason of its own must not stop the desk.

Mailman's switchboard counts how often a message was tried (`_bak_count`, `MAX_BAK_COUNT`) and
shunts it past the limit; so does this. A message that cannot be registered alone is left in the
inbox for another try, and at the MAX_ATTEMPTS-th failure it is quarantined with its reason. The
mailbox loop fetches it again at once, so the three attempts take seconds; the count is kept in
memory, so a restart grants at most three more. The mails behind it are registered one by one
meanwhile: they never wait for it.

Only an outage (TransientError: the register unreachable, locked, out of space) is worth waiting
for with the whole batch; a statement the register refuses as too big is StatementRefused, the
mail's own fault (the register edge tells them apart, edges/register/database.py).
"""

from __future__ import annotations

from collections import Counter

MAX_ATTEMPTS = 3


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
