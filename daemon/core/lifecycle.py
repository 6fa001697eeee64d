"""The complaint lifecycle as one table, like h11's EVENT_TRIGGERED_TRANSITIONS.

Rule: every status change in complaintsd goes through `next_status`, so this file is the whole
story of which moves are legal (docs/design.md, "The complaint lifecycle").
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    ANSWERED = "answered"
    CLOSED = "closed"
    REOPENED = "reopened"


class Event(StrEnum):
    ACK_SENT = "ack_sent"  # the SMTP server accepted the acknowledgement
    WORK_STARTED = "work_started"
    ANSWER_SENT = "answer_sent"
    CLOSE = "close"
    REOPEN = "reopen"


TRANSITIONS: dict[tuple[Status, Event], Status] = {
    (Status.RECEIVED, Event.ACK_SENT): Status.ACKNOWLEDGED,
    # A handler may start before the acknowledgement left (e.g. the relay was down).
    (Status.RECEIVED, Event.WORK_STARTED): Status.IN_PROGRESS,
    (Status.ACKNOWLEDGED, Event.WORK_STARTED): Status.IN_PROGRESS,
    (Status.REOPENED, Event.WORK_STARTED): Status.IN_PROGRESS,
    (Status.ACKNOWLEDGED, Event.ANSWER_SENT): Status.ANSWERED,
    (Status.IN_PROGRESS, Event.ANSWER_SENT): Status.ANSWERED,
    (Status.REOPENED, Event.ANSWER_SENT): Status.ANSWERED,
    (Status.ANSWERED, Event.CLOSE): Status.CLOSED,
    (Status.IN_PROGRESS, Event.CLOSE): Status.CLOSED,
    (Status.ACKNOWLEDGED, Event.CLOSE): Status.CLOSED,
    (Status.CLOSED, Event.REOPEN): Status.REOPENED,
    (Status.ANSWERED, Event.REOPEN): Status.REOPENED,
}

# A late acknowledgement (sent after a handler already moved on) changes nothing.
IGNORED: frozenset[tuple[Status, Event]] = frozenset(
    (status, Event.ACK_SENT) for status in Status if status is not Status.RECEIVED
)


class IllegalTransition(ValueError):
    def __init__(self, status: Status, event: Event) -> None:
        super().__init__(f"cannot apply {event.value} to a complaint in status {status.value}")
        self.status = status
        self.event = event


def next_status(status: Status | str, event: Event) -> Status:
    """The status after `event`; raises IllegalTransition naming (status, event)."""
    status = Status(status)
    if (status, event) in IGNORED:
        return status
    try:
        return TRANSITIONS[(status, event)]
    except KeyError:
        raise IllegalTransition(status, event) from None


def reachable(before: Status | str, after: Status | str) -> bool:
    """Can a chain of events (one command mail may hold several) lead from `before` to `after`?"""
    start, goal = Status(before), Status(after)
    seen, frontier = {start}, [start]
    while frontier:
        status = frontier.pop()
        for (source, _event), target in TRANSITIONS.items():
            if source is status and target not in seen:
                seen.add(target)
                frontier.append(target)
    return goal in seen
