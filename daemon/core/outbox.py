"""What becomes of an outgoing mail after the relay answered: the retry policy, as values.

One sending path, one retry policy (Mailman's runners/outgoing.py + retry.py): a temporary failure is
retried with exponential backoff until `give_up_after`, a permanent refusal (5xx) is final at once;
either way the complaint's history says what happened.
"""

from __future__ import annotations

import heapq
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
    """A letter as the relay gets it, and the complaint it is about (None: a digest, an alert…),
    which only orders the letters over several connections (`InOrder`)."""

    mail_from: str
    recipients: tuple[str, ...]
    raw: bytes
    complaint: int | None = None


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
    """The letters of a batch handed to several connections so that a reader still gets them in
    the order they were queued (issue 10): the letters about one complaint to one mailbox leave one
    after the other (the acknowledgement before the answer, the handler's notification before the
    reminder), while letters about other complaints, or to others, overtake them. So a handler's
    notifications of 500 new complaints leave side by side over every connection, each complaint's
    own letters still in order.

    A letter about no complaint (a digest, an alert, a command reply naming none) keeps its place
    among all of its recipient's letters: it waits for every earlier letter to that mailbox, and
    every later one waits for it. Its reader expects it after what was queued before it (a digest
    lists the complaints whose notifications came first; a command's reply follows the letters
    its command caused) and before what came after; such letters are few (daily digests, alerts),
    so they rarely hold anything back.

    A letter may leave once the relay has answered each letter it waits for (`done`): the latest
    earlier one to each of its recipients about the same complaint (or the latest about none,
    whichever came later), or for a letter about none every latest earlier one to the mailbox. The
    letters that may leave are handed out lowest index first. Addresses are compared without case
    (one mailbox). Without `done`, the letters waiting stay unsent: the sender calls it for every
    letter taken, sent or not. A letter that fails and is retried later no longer holds back the
    next one (as with a single connection)."""

    def __init__(self, letters: Sequence[Envelope]) -> None:
        self._next: list[list[int]] = [[] for _ in letters]  # the letters waiting for this one's answer
        self._waits = [0] * len(letters)  # how many answers each letter still waits for
        latest: dict[tuple[str, int | None], int] = {}  # (mailbox, complaint) -> its latest letter
        about: dict[str, set[int]] = {}  # mailbox -> the complaints of its letters since its latest about none
        for index, letter in enumerate(letters):
            before: set[int] = set()
            for address in {address.lower() for address in letter.recipients}:
                none = latest.get((address, None))
                if letter.complaint is None:
                    before.update(latest[address, complaint] for complaint in about.get(address, ()))
                    about[address] = set()
                    if none is not None:
                        before.add(none)
                    latest[address, None] = index
                    continue
                previous = latest.get((address, letter.complaint))
                if previous is not None and (none is None or previous > none):
                    before.add(previous)
                elif none is not None:
                    before.add(none)
                about.setdefault(address, set()).add(letter.complaint)
                latest[address, letter.complaint] = index
            self._waits[index] = len(before)
            for earlier in before:
                self._next[earlier].append(index)
        self._out = [False] * len(letters)  # handed out (or given up by `rest`)
        self._ready = [index for index, waits in enumerate(self._waits) if not waits]

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
        """The relay answered letter `index` (taken before): the letters waiting for it may go.
        Nothing for a letter given back: the letters after it still wait for its answer."""
        if not self._out[index]:
            return
        for later in self._next[index]:
            self._waits[later] -= 1
            if not self._waits[later] and not self._out[later]:
                heapq.heappush(self._ready, later)
