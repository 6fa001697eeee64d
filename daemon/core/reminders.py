"""Reminders, escalations and digests: which ones exist for a complaint, and which are due now.

This module's sole purpose in life is to turn a complaint's deadlines and the configured offsets
into planned mails with stable keys, and to answer "is it time?" for the handlers' digests. It
sends nothing and reads no clock: `now` is always passed in (Trio's MockClock style), and every
instant is timezone-aware.

Theory of operation
-------------------
docs/design.md, "Deadlines": reminders go to the handler at configured offsets before each deadline;
after a missed deadline, the supervisor is alerted; each reminder is sent exactly once, even across
restarts. So the shell stores each `Planned` mail as a row keyed by (complaint, deadline, step) and
a sweep sends the rows that are due (docs/notes.md: APScheduler only triggers the sweep). The step is the
unique part of the key: "3d", "1d", "2h" for reminders (`step_label`), "esc-1", "esc-2"... for
escalations. A restart re-plans nothing that was sent, because a sent row keeps its key.

* `plan` gives, when a deadline is set, one reminder per offset still in the future, and the first
  escalation at the deadline itself. An offset already past at registration is skipped, not sent
  at once: a complaint with a 48 h acknowledgement deadline has no "3 days before" reminder, and a
  burst of stale reminders on arrival would teach handlers to ignore them.
* `next_escalation` gives the next alert once one is sent, `every` later, while the deadline stays
  missed; the shell stops the chain when the deadline is met (or moved, and re-planned).
* `is_late` says whether a mail leaves more than a grace period after it was due, i.e. the daemon
  was down: the letter then says so, and when it was planned.
* `plan_action` gives the same for an action's due day (`#action … 2027-01-15`): the reminders go
  to its owner before the end of that day in the register's time zone, the alerts to the supervisor
  once it has passed. Its rows share the table and the key; their deadline is "action-<number>".
* `digest_date` says whether a handler's digest is due: today's, once, on the configured weekdays
  after the configured local time. A missed day is never sent later: a digest describes the
  register as it is now, so yesterday's digest sent today would only repeat today's, dated wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from daemon.core.routing import fold

__all__ = [
    "COMPLAINT_DEADLINES",
    "ActionDeadline",
    "DeadlineKind",
    "Kind",
    "Planned",
    "ReminderDeadline",
    "action_due_at",
    "deadline_of",
    "digest_date",
    "is_late",
    "next_escalation",
    "parse_weekdays",
    "plan",
    "plan_action",
    "step_label",
]


class DeadlineKind(StrEnum):
    ACK = "ack"
    ANSWER = "answer"


@dataclass(frozen=True)
class ActionDeadline:
    """The due day of a complaint's action `number`, as a reminder row names it: "action-3".

    Like a `DeadlineKind`, its `value` is what the register's `deadline` column holds, so the rows
    of an action and those of its complaint's deadlines share one table and one unique key."""

    number: int

    def __post_init__(self) -> None:
        if isinstance(self.number, bool) or not isinstance(self.number, int) or self.number < 1:
            raise ValueError(f"actions are numbered from 1, not {self.number!r}")

    @property
    def value(self) -> str:
        return f"action-{self.number}"

    def __str__(self) -> str:
        return self.value


ReminderDeadline = DeadlineKind | ActionDeadline
# The complaint's own deadlines: what "cancel every reminder" of a complaint answered or closed means.
COMPLAINT_DEADLINES = tuple(DeadlineKind)
_ACTION_DEADLINE = re.compile(r"action-([1-9][0-9]*)")


def deadline_of(value: str | ReminderDeadline) -> ReminderDeadline:
    """The deadline a reminder row names: "ack", "answer" or "action-<number>". Raises ValueError."""
    if isinstance(value, ActionDeadline):
        return value
    match = _ACTION_DEADLINE.fullmatch(value) if isinstance(value, str) else None
    return ActionDeadline(int(match.group(1))) if match else DeadlineKind(value)


class Kind(StrEnum):
    REMINDER = "reminder"  # to the handler, before the deadline
    ESCALATION = "escalation"  # to the supervisor, once the deadline is missed


# The units of a reminder step, largest first: "3d", "2h", "90m", "30s".
_STEP_UNITS = (
    ("d", timedelta(days=1)),
    ("h", timedelta(hours=1)),
    ("m", timedelta(minutes=1)),
    ("s", timedelta(seconds=1)),
)
# A reminder re-planned for a committed answer date names that date ("3d@20261220"), so its key
# cannot collide with the reminders of the first date (unique per complaint, deadline and step).
_REMINDER_STEP = re.compile(r"[0-9]+[dhms](@[0-9]{8})?")
_ESCALATION_STEP = re.compile(r"esc-([1-9][0-9]*)")


def _require_aware(name: str, value: datetime) -> None:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, not {value!r}")


@dataclass(frozen=True)
class Planned:
    """One mail to send at `due_at` (aware, stored in UTC), unique per complaint by (deadline, step)."""

    kind: Kind
    deadline: ReminderDeadline
    step: str
    due_at: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", Kind(self.kind))
        object.__setattr__(self, "deadline", deadline_of(self.deadline))
        _require_aware("a planned mail's due_at", self.due_at)
        object.__setattr__(self, "due_at", self.due_at.astimezone(UTC))
        shape = _REMINDER_STEP if self.kind is Kind.REMINDER else _ESCALATION_STEP
        if not isinstance(self.step, str) or not shape.fullmatch(self.step):
            example = "'3d' or '2h'" if self.kind is Kind.REMINDER else "'esc-1'"
            raise ValueError(f"{self.step!r} is not a {self.kind.value} step (expected e.g. {example})")

    @property
    def escalation_number(self) -> int | None:
        """1 for "esc-1", 2 for "esc-2"... (the letter says "2e alerte"); None for a reminder."""
        match = _ESCALATION_STEP.fullmatch(self.step)
        return int(match.group(1)) if self.kind is Kind.ESCALATION and match else None


def step_label(offset: timedelta) -> str:
    """The key of a reminder `offset` before its deadline, in the largest unit that divides it exactly.

    3 days gives "3d", 24 hours "1d", 2 hours "2h", 90 minutes "90m", 30 seconds "30s", zero "0s".
    Raises ValueError for a negative offset or one with a fraction of a second.
    """
    if offset < timedelta(0) or offset.microseconds:
        raise ValueError(f"a reminder offset must be a whole number of seconds, at least 0, not {offset}")
    if not offset:
        return "0s"
    for suffix, unit in _STEP_UNITS:
        if offset % unit == timedelta(0):
            return f"{offset // unit}{suffix}"
    raise AssertionError("unreachable: every whole number of seconds is a multiple of 1 s")


def plan(
    deadline: ReminderDeadline,
    due_at: datetime,
    before: tuple[timedelta, ...],
    now: datetime,
) -> tuple[Planned, ...]:
    """The mails for one deadline: a reminder per offset in `before` still ahead of `now`, then "esc-1".

    A reminder is planned at `due_at - offset` only when that instant is strictly after `now`
    (see the module docstring). Two offsets with the same length ("1d" and "24h") give one
    reminder. The first escalation is at `due_at` itself, even when that is already past (a
    deadline missed at registration is escalated at once). Sorted by `due_at`; at the same instant
    (a zero offset) the reminder comes first. Raises ValueError for naive datetimes or a bad offset.
    """
    _require_aware("due_at", due_at)
    _require_aware("now", now)
    due = due_at.astimezone(UTC)
    # Every offset is checked, not only those still ahead: a bad config fails on every complaint.
    steps = {offset: step_label(offset) for offset in before}
    reminders = [
        Planned(Kind.REMINDER, deadline, step, due - offset) for offset, step in steps.items() if due - offset > now
    ]
    escalation = Planned(Kind.ESCALATION, deadline, "esc-1", due)
    return tuple(sorted([*reminders, escalation], key=lambda p: (p.due_at, p.kind is Kind.ESCALATION)))


def replan(
    deadline: ReminderDeadline, due_at: datetime, before: tuple[timedelta, ...], now: datetime, escalations: int
) -> tuple[Planned, ...]:
    """The mails for a deadline moved to a new date: as `plan`, with the reminders' steps naming the
    date ("3d@20261220") and the escalations continuing their count after the `escalations` sent."""
    due = due_at.astimezone(UTC)
    return tuple(
        replace(p, step=f"esc-{escalations + 1}" if p.kind is Kind.ESCALATION else f"{p.step}@{due:%Y%m%d}")
        for p in plan(deadline, due_at, before, now)
    )


def next_escalation(previous: Planned, every: timedelta, *, now: datetime | None = None) -> Planned:
    """The escalation after `previous` ("esc-n" gives "esc-n+1"), `every` after it.

    With `now`, the next one is the first instant `previous.due_at + k × every` strictly after
    `now`: a daemon that was down for a week sends one late alert and goes back to its rhythm,
    rather than a burst of seven. The number still counts alerts sent, not periods elapsed.
    Raises ValueError when `previous` is not an escalation or `every` is not positive.
    """
    number = previous.escalation_number
    if number is None:
        raise ValueError(f"only an escalation has a next escalation, not a {previous.kind.value} ({previous.step})")
    if every <= timedelta(0):
        raise ValueError(f"the escalation interval must be positive, not {every}")
    due = previous.due_at + every
    if now is not None:
        _require_aware("now", now)
        if due <= now:
            due += ((now - due) // every + 1) * every
    return Planned(Kind.ESCALATION, previous.deadline, f"esc-{number + 1}", due)


def action_due_at(due_on: date, tz: ZoneInfo) -> datetime:
    """When an action due on `due_on` falls due: the end of that day (23:59:59) in the register's
    time zone, in UTC, as `#délai` makes a committed answer date the end of its day."""
    if isinstance(due_on, datetime) or not isinstance(due_on, date):
        raise ValueError(f"an action is due on a day, not {due_on!r}")
    return datetime.combine(due_on, time(23, 59, 59), tzinfo=tz).astimezone(UTC)


def plan_action(
    number: int, due_on: date, tz: ZoneInfo, before: tuple[timedelta, ...], now: datetime
) -> tuple[Planned, ...]:
    """The mails for action `number` due on `due_on`: `plan` with the action's deadline ("action-N")
    at the end of that day. Its reminders go to the action's owner (the complaint's handler when it
    has none), its escalations to the supervisor (core/sweep.py decides who, when each falls due).

    Why the overdue alert repeats, every `escalation_every`, rather than once: an action past its day
    is a promise the register made to a customer and is not keeping; the quality audit asks whether
    each action was followed to its end (the "suivi" of NF X 50-056), and a single mail is read and
    forgotten. The repetition stops the moment the action is marked done or abandoned, which is
    what the quality manager wants to bring about; `list --open-actions` shows the same backlog.
    """
    return plan(ActionDeadline(number), action_due_at(due_on, tz), before, now)


def is_late(due_at: datetime, now: datetime, grace: timedelta) -> bool:
    """Whether a mail sent at `now` leaves more than `grace` after its `due_at` (the daemon was down).

    The letter then says it is late and when it was planned, so its reader knows that "in 2 hours"
    was not true all along. Raises ValueError for naive datetimes or a negative grace.
    """
    _require_aware("due_at", due_at)
    _require_aware("now", now)
    if grace < timedelta(0):
        raise ValueError(f"the grace period cannot be negative, not {grace}")
    return now - due_at > grace


def digest_date(
    now: datetime,
    tz: ZoneInfo,
    at: time,
    weekdays: frozenset[int],
    last_sent: date | None,
) -> date | None:
    """The local date whose digest is due at `now`, or None.

    Today's (the local date of `now` in `tz`) is due when today is one of `weekdays` (0 = Monday),
    the local time is at or after `at` (a wall-clock time, without tzinfo), and `last_sent` is not
    today or later. Only today's: a day missed while the daemon was down is not sent later (see the
    module docstring). On a spring-forward day, an `at` inside the gap fires at the first local
    time after it; on an autumn day, an `at` that happens twice fires at the first one.
    """
    _require_aware("now", now)
    if at.tzinfo is not None:
        raise ValueError(f"the digest time is a local wall-clock time, without tzinfo, not {at!r}")
    if not all(isinstance(day, int) and 0 <= day <= 6 for day in weekdays):
        raise ValueError(f"weekdays must be numbers from 0 (Monday) to 6 (Sunday), not {sorted(weekdays)!r}")
    local = now.astimezone(tz)
    today = local.date()
    if today.weekday() not in weekdays or local.time() < at:
        return None
    if last_sent is not None and last_sent >= today:
        return None
    return today


_WEEKDAY_NAMES: dict[str, int] = {
    name: number
    for number, names in enumerate(
        [
            ("mon", "monday", "lun", "lundi"),
            ("tue", "tues", "tuesday", "mar", "mardi"),
            ("wed", "wednesday", "mer", "mercredi"),
            ("thu", "thur", "thurs", "thursday", "jeu", "jeudi"),
            ("fri", "friday", "ven", "vendredi"),
            ("sat", "saturday", "sam", "samedi"),
            ("sun", "sunday", "dim", "dimanche"),
        ]
    )
    for name in names
}


def parse_weekdays(values: list[str]) -> frozenset[int]:
    """Read the digest's weekdays from the config: "mon", "lundi", "Monday", "Mardi"... (0 = Monday).

    English and French names and their three-letter abbreviations, case- and accent-insensitive,
    a trailing dot allowed ("lun."). An empty list means no digest. Raises ValueError naming the
    first value that is not a weekday.
    """
    if isinstance(values, str) or not isinstance(values, (list, tuple)):
        raise ValueError(f"weekdays must be a list such as ['lundi', 'jeudi'], not {values!r}")
    days = set()
    for value in values:
        number = _WEEKDAY_NAMES.get(fold(value).strip().rstrip(".")) if isinstance(value, str) else None
        if number is None:
            raise ValueError(f"{value!r} is not a weekday (expected e.g. 'mon', 'lundi' or 'monday')")
        days.add(number)
    return frozenset(days)
