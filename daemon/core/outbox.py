"""What becomes of an outgoing mail after the relay answered: the retry policy, as values.

One sending path, one retry policy (Mailman's runners/outgoing.py + retry.py): a temporary failure is
retried with exponential backoff until `give_up_after`, a permanent refusal (5xx) is final at once;
either way the complaint's history says what happened.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Sequence
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


class InOrder:
    """The letters of a batch handed to several connections so that the letters to one recipient
    still leave in the order they were queued (issue 10): a letter is handed out only when every
    earlier letter to each of its recipients has been answered (`done`). Letters to others overtake
    it meanwhile, so a handler's notifications, forwards and digests arrive in order while the
    customers' acknowledgements go out beside them.

    Each recipient has the queue of its letters (an address compared without case: one mailbox);
    a letter is ready when it heads the queue of every one of its recipients, and the ready letters
    are handed out lowest index first. Without `done`, a recipient's later letters wait forever:
    the sender calls it for every letter taken, sent or not. A letter that fails and is retried
    later no longer holds back the next one (as with a single connection)."""

    def __init__(self, recipients: Sequence[Sequence[str]]) -> None:
        self._recipients = [sorted({address.lower() for address in each}) for each in recipients]
        self._queues: dict[str, deque[int]] = {}
        for index, each in enumerate(self._recipients):
            for address in each:
                self._queues.setdefault(address, deque()).append(index)
        self._out = [False] * len(recipients)  # handed out (or given up by `rest`)
        self._ready = [index for index in range(len(recipients)) if self._heads(index)]

    def take(self) -> int | None:
        """The next letter that may leave now, or None (none may yet, or none is left: `left`)."""
        if not self._ready:
            return None
        index = heapq.heappop(self._ready)
        self._out[index] = True
        return index

    @property
    def left(self) -> bool:
        """Whether some letter is not yet handed out."""
        return not all(self._out)

    def rest(self) -> list[int]:
        """Every letter not yet handed out, in queue order; none is handed out after this."""
        rest = [index for index, out in enumerate(self._out) if not out]
        self._out, self._ready = [True] * len(self._out), []
        return rest

    def give_back(self, index: int) -> None:
        """Letter `index` (taken before) was not sent: it is handed out again, before any later one."""
        self._out[index] = False
        heapq.heappush(self._ready, index)

    def done(self, index: int) -> None:
        """The relay answered letter `index` (taken before): the next letter to its recipients may go."""
        for address in self._recipients[index]:
            queue = self._queues[address]
            queue.popleft()
            if queue and not self._out[queue[0]] and self._heads(queue[0]):
                heapq.heappush(self._ready, queue[0])

    def _heads(self, index: int) -> bool:
        return all(self._queues[address][0] == index for address in self._recipients[index])
