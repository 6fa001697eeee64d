"""Whether a complaint's deadlines were met: the one rule the complaint sheet, the export and the
quality report share, so that a figure never differs between them.

Theory of operation
-------------------
Each deadline has its event. The acknowledgement's is `acknowledged_at` (the relay accepted the
letter, or it was printed to be posted). The answer's is the first time the status reached
`answered` or `closed` (a handler's `#réponse`, or a `#clore` without one): the register writes
that move in the history at the instant the handler's command was registered, for a letter mailed
or posted alike, whereas `answer_sent` waits for the relay and never comes for a posted letter.
Under a profile whose text says so (ACPR: "unless answered within them"), the answer is also the
acknowledgement's event when it came first. Then, for each deadline:

* the event happened at or before the due instant: **met**;
* the event happened after it, or has not happened and the due instant is past: **missed**;
* the event has not happened and the due instant is still ahead: **pending**.

A complaint reopened after its answer keeps its first answer: the deadline was met (or missed) then.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from daemon.core.lifecycle import Status

__all__ = ["DeadlineOutcome", "DeadlineOutcomes", "DeadlineState", "answered_at", "deadline_outcomes", "judge"]

# The statuses that mean "the answer deadline's event happened" (README, "Reminders … stop once its
# event happened: answer sent or complaint closed").
ANSWERING_STATUSES = frozenset({Status.ANSWERED.value, Status.CLOSED.value})


class DeadlineState(StrEnum):
    MET = "met"
    MISSED = "missed"
    PENDING = "pending"


@dataclass(frozen=True)
class DeadlineOutcome:
    """One deadline: when it fell due, when its event happened (None: not yet), and the verdict."""

    due_at: datetime
    event_at: datetime | None
    state: DeadlineState


@dataclass(frozen=True)
class DeadlineOutcomes:
    ack: DeadlineOutcome
    answer: DeadlineOutcome


def deadline_outcomes(
    ack_due_at: datetime,
    acknowledged_at: datetime | None,
    answer_due_at: datetime,
    answered: datetime | None,
    now: datetime,
    answer_meets_ack: bool = False,
) -> DeadlineOutcomes:
    """Both deadlines judged at `now` (passed in: a sheet printed today says "pending" where one
    printed next week says "missed"). With `answer_meets_ack` (the ACPR profile: "acknowledge within
    10 jours ouvrables unless answered within them"), an answer given first is the acknowledgement."""
    acknowledged = acknowledged_at
    if answer_meets_ack and answered is not None and (acknowledged is None or answered < acknowledged):
        acknowledged = answered
    return DeadlineOutcomes(_judge(ack_due_at, acknowledged, now), _judge(answer_due_at, answered, now))


def _judge(due_at: datetime, event_at: datetime | None, now: datetime) -> DeadlineOutcome:
    return DeadlineOutcome(due_at, event_at, judge(due_at, event_at, now))


def judge(due_at: datetime, event_at: datetime | None, now: datetime) -> DeadlineState:
    """The verdict alone (the rule above): what the quality report counts, a hundred thousand times a year."""
    if event_at is not None:
        return DeadlineState.MET if event_at <= due_at else DeadlineState.MISSED
    return DeadlineState.MISSED if now > due_at else DeadlineState.PENDING


def answered_at(status_moves: Iterable[tuple[datetime, str]]) -> datetime | None:
    """The first instant the status reached `answered` or `closed`, from the history's `status`
    entries as (at, detail), detail being "before → after" as the register writes it."""
    instants = [at for at, detail in status_moves if detail.rpartition("→")[2].strip() in ANSWERING_STATUSES]
    return min(instants, default=None)
