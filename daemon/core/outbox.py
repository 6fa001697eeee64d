"""What becomes of an outgoing mail after the relay answered: the retry policy, as values.

One sending path, one retry policy (Mailman's runners/outgoing.py + retry.py): a temporary failure is
retried with exponential backoff until `give_up_after`, a permanent refusal (5xx) is final at once;
either way the complaint's history says what happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

PENDING, SENT, REFUSED, FAILED = "pending", "sent", "refused", "failed"
# A letter kept unsent to be grouped with others (core/flood.py), then marked grouped: never sent itself.
HELD, GROUPED = "held", "grouped"


class Fate(StrEnum):
    SENT = "sent"
    TEMPORARY = "temporary"
    PERMANENT = "permanent"


@dataclass(frozen=True)
class SendResult:
    fate: Fate
    detail: str


@dataclass(frozen=True)
class Envelope:
    mail_from: str
    recipients: tuple[str, ...]
    raw: bytes


@dataclass(frozen=True)
class RetryPolicy:
    first: timedelta
    ceiling: timedelta
    give_up_after: timedelta


@dataclass(frozen=True)
class AfterFailure:
    """The row's new status, the history's word for it ("refused", "failed", "delayed") and detail,
    and when to try again (pending only)."""

    status: str
    what: str
    detail: str
    reply: str  # the relay's own answer, kept on the row
    next_attempt_at: datetime | None = None


def retry_delay(attempts: int, policy: RetryPolicy) -> timedelta:
    """Exponential backoff: first, 2×first, 4×first… capped at the ceiling."""
    delay = policy.first * (2 ** max(attempts - 1, 0))
    return min(delay, policy.ceiling)


def after_failure(
    result: SendResult, attempts: int, created_at: datetime, now: datetime, policy: RetryPolicy
) -> AfterFailure:
    """A refusal (5xx: final), or a temporary failure retried with backoff until give_up_after;
    `attempts` counts this one."""
    if result.fate is Fate.PERMANENT:
        return AfterFailure(REFUSED, "refused", result.detail, result.detail)
    if now - created_at >= policy.give_up_after:
        return AfterFailure(FAILED, "failed", f"gave up after {attempts} attempts: {result.detail}", result.detail)
    return AfterFailure(
        PENDING, "delayed", f"will retry: {result.detail}", result.detail, now + retry_delay(attempts, policy)
    )
