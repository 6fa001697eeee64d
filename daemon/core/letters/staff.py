"""The internal letters: to the designated handler, to the supervisor, and the handlers' digests.

This module's sole purpose in life is to turn the facts of one internal mail into a `Letter`, through
the same `Templates` as the customer's acknowledgement (`daemon/render.py`): the "new complaint"
notification and the reminders go to the handler, the escalations to the supervisor, the digest to
each handler. It sends nothing and reads no clock: the facts carry `now`.

Theory of operation
-------------------
Every word a person reads is in the templates, so an admin's override directory can change it:
the labels (statuses, deadlines, routing reasons, ordinals) are Jinja macros in `_labels.j2`, the
blocks shared by several letters (the complaint summary, how to reply with commands) are macros in
`_blocks.txt.j2` and `_blocks.html.j2`, one file per format so the HTML block is autoescaped. This
module only computes what a template cannot: durations in words ("dans 3 jours", via Babel and the
CLDR), which deadline a reminder is about, the digest's order and its overdue flags.

The handler's letters carry the per-complaint command token at the end of the subject, as
`[jeton:TOKEN]` (French) or `[token:TOKEN]` (English): a reply keeps the subject, so the token
comes back with the handler's commands (docs/design.md, "Commands by email"). Because commands stop
working without it, rendering refuses a subject that does not end with the marker: an override
that drops it fails in `check` and in tests, not silently in production. `find_token` reads it back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, timedelta
from typing import Any

from babel.dates import format_timedelta

from daemon.core.lifecycle import Status
from daemon.core.reminders import DeadlineKind
from daemon.core.letters.render import AttachmentLine, Letter, Templates, _one_line, _require_aware, _usable_name
from daemon.core.routing import RouteRule
from daemon.core.tokens import SUBJECT_MARKER, find_token

__all__ = [
    "TOKEN_MARKER",
    "ComplaintSummary",
    "DigestFacts",
    "DigestRow",
    "EscalationFacts",
    "HandlerNotificationFacts",
    "ReminderFacts",
    "find_token",
    "render_digest",
    "render_escalation",
    "render_handler_notification",
    "render_reminder",
]

# The command token as the subjects carry it: "[jeton:Ab3x…]" or "[token:Ab3x…]". Tokens are
# URL-safe Base64 (secrets.token_urlsafe), so no bracket, space or colon can cut them.
TOKEN_MARKER = SUBJECT_MARKER  # tokens.py owns the marker's grammar
_TOKEN = re.compile(r"[A-Za-z0-9_-]+")
_MARKER_AT_END = re.compile(TOKEN_MARKER.pattern + r"$", re.IGNORECASE)

# Babel's units for durations in words, largest first. Weeks and months are left out on purpose:
# "dans 1 semaine" for ten days reads as seven; "dans 10 jours" is exact enough next to the date.
_DURATION_UNITS = (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))
# Babel's default: 0.85 day (20.4 h) and more reads as "1 jour", less as hours.
_THRESHOLD = 0.85


def _require_text(what: str, value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} cannot be empty")


def _require_token(token: str) -> None:
    if not isinstance(token, str) or not _TOKEN.fullmatch(token):
        raise ValueError(f"a command token is URL-safe Base64 (letters, digits, '-' and '_'), not {token!r}")


@dataclass(frozen=True)
class ComplaintSummary:
    """What every internal letter says about one complaint. `subject` and `customer_name` are the
    customer's, untrusted; `customer_name` may be empty."""

    reference: str
    status: Status
    customer_name: str
    customer_email: str
    subject: str
    received_at: datetime
    ack_due_at: datetime
    answer_due_at: datetime

    def __post_init__(self) -> None:
        _require_text("a complaint's reference", self.reference)
        object.__setattr__(self, "status", Status(self.status))
        for name in ("received_at", "ack_due_at", "answer_due_at"):
            _require_aware(name, getattr(self, name))

    def due_at(self, deadline: DeadlineKind) -> datetime:
        """The instant `deadline` (acknowledgement or answer) falls due."""
        return self.ack_due_at if DeadlineKind(deadline) is DeadlineKind.ACK else self.answer_due_at


@dataclass(frozen=True)
class HandlerNotificationFacts:
    """The "new complaint" mail to its designated handler.

    `body` is the complaint's text as the customer wrote it; `attachments_attached` says whether the
    files travel with this mail (else they stay in the register). `routing_rule` and `routing_match`
    are the `Route`'s `rule` and `matched`, so the handler knows why the complaint is theirs.
    """

    complaint: ComplaintSummary
    token: str
    handler_name: str
    body: str
    attachments: tuple[AttachmentLine, ...]
    attachments_attached: bool
    routing_rule: RouteRule
    routing_match: str

    def __post_init__(self) -> None:
        _require_token(self.token)
        object.__setattr__(self, "routing_rule", RouteRule(self.routing_rule))
        object.__setattr__(self, "attachments", tuple(self.attachments))


@dataclass(frozen=True)
class ReminderFacts:
    """A reminder to the handler that `deadline` is near. `now` is when the letter is rendered (it
    gives "dans 3 jours"); `late` and `planned_at` come from `reminders.is_late` and the Planned row."""

    complaint: ComplaintSummary
    token: str
    handler_name: str
    deadline: DeadlineKind
    now: datetime
    late: bool
    planned_at: datetime

    def __post_init__(self) -> None:
        _require_token(self.token)
        object.__setattr__(self, "deadline", DeadlineKind(self.deadline))
        _require_aware("now", self.now)
        _require_aware("planned_at", self.planned_at)


@dataclass(frozen=True)
class EscalationFacts:
    """An alert to the supervisor that `deadline` was missed; `number` is 1 for the first ("esc-1")."""

    complaint: ComplaintSummary
    handler_name: str
    handler_email: str
    supervisor_name: str
    deadline: DeadlineKind
    number: int
    now: datetime
    late: bool
    planned_at: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "deadline", DeadlineKind(self.deadline))
        if isinstance(self.number, bool) or not isinstance(self.number, int) or self.number < 1:
            raise ValueError(f"an escalation's number starts at 1, not {self.number!r}")
        _require_aware("now", self.now)
        _require_aware("planned_at", self.planned_at)


@dataclass(frozen=True)
class DigestFacts:
    """One handler's digest for the local date `day`: their open complaints, in any order."""

    handler_name: str
    day: date
    now: datetime
    complaints: tuple[ComplaintSummary, ...]
    late: bool
    planned_at: datetime

    def __post_init__(self) -> None:
        if isinstance(self.day, datetime) or not isinstance(self.day, date):
            raise ValueError(f"a digest's day is a date, not {self.day!r}")
        object.__setattr__(self, "complaints", tuple(self.complaints))
        _require_aware("now", self.now)
        _require_aware("planned_at", self.planned_at)


@dataclass(frozen=True)
class DigestRow:
    """One line of the digest table, as the templates see it."""

    complaint: ComplaintSummary
    overdue: bool  # the answer deadline is past


def _duration(templates: Templates, delta: timedelta, *, direction: bool) -> str:
    """In words, in days, hours, minutes or seconds: "dans 3 jours", "il y a 2 heures", or "3 jours"."""
    seconds = abs(delta.total_seconds())
    unit = next((name for name, size in _DURATION_UNITS if seconds / size >= _THRESHOLD), "second")
    # An infinite threshold makes Babel use exactly the granularity we chose. CLDR puts a no-break
    # space in "2 jours" but not in "dans 2 jours": plain spaces, as `Templates.format_time` does.
    words = format_timedelta(
        delta, granularity=unit, threshold=float("inf"), add_direction=direction, locale=templates.locale
    )
    return words.replace("\u00a0", " ").replace("\u202f", " ")


def _clean(complaint: ComplaintSummary) -> ComplaintSummary:
    # What the customer wrote may hold line breaks or be an address posing as a name.
    return replace(
        complaint,
        subject=_one_line(complaint.subject),
        customer_name=_usable_name(complaint.customer_name, complaint.customer_email),
    )


def _context(facts: Any) -> dict[str, Any]:
    return {f.name: getattr(facts, f.name) for f in fields(facts)}


def _with_token(templates: Templates, name: str, token: str, **context: Any) -> Letter:
    letter = templates.render(name, token=token, **context)
    marker = _MARKER_AT_END.search(letter.subject)
    if marker is None or marker.group(1) != token:
        raise ValueError(
            f"the subject of letter {name!r} must end with the command token marker "
            f"[jeton:{token}] or [token:{token}], else the handler's replies cannot carry commands: "
            f"{letter.subject!r}"
        )
    return letter


def render_handler_notification(templates: Templates, facts: HandlerNotificationFacts) -> Letter:
    """The "new complaint" mail to the designated handler, with how to reply with commands.

    The templates see `complaint`, `token`, `handler_name`, `body`, `attachments`,
    `attachments_attached`, `routing_rule` and `routing_match`.
    """
    context = _context(facts)
    context.pop("token")
    context["complaint"] = _clean(facts.complaint)
    context["handler_name"] = _one_line(facts.handler_name)
    return _with_token(templates, "handler_notification", facts.token, **context)


def render_reminder(templates: Templates, facts: ReminderFacts) -> Letter:
    """A reminder to the handler before a deadline; a reply to it may carry commands too.

    Besides the facts, the templates see `due_at` (the deadline's instant), `remaining` ("dans 3
    jours", or "il y a 2 heures" once past) and `passed` (the deadline is already past).
    """
    due = facts.complaint.due_at(facts.deadline)
    context = _context(facts)
    context.pop("token")
    context.update(
        complaint=_clean(facts.complaint),
        handler_name=_one_line(facts.handler_name),
        due_at=due,
        remaining=_duration(templates, due - facts.now, direction=True),
        passed=due <= facts.now,
    )
    return _with_token(templates, "reminder", facts.token, **context)


def render_escalation(templates: Templates, facts: EscalationFacts) -> Letter:
    """The alert to the supervisor that a deadline was missed (the `number`-th for this deadline).

    Besides the facts, the templates see `due_at` and `overdue` ("2 jours": how long since it fell due).
    """
    due = facts.complaint.due_at(facts.deadline)
    context = _context(facts)
    context.update(
        complaint=_clean(facts.complaint),
        handler_name=_one_line(facts.handler_name),
        supervisor_name=_one_line(facts.supervisor_name),
        due_at=due,
        overdue=_duration(templates, max(facts.now - due, timedelta(0)), direction=False),
    )
    return templates.render("escalation", **context)


def render_digest(templates: Templates, facts: DigestFacts) -> Letter:
    """A handler's digest: their open complaints by answer due date, the overdue ones flagged.

    The templates see `handler_name`, `day`, `now`, `late`, `planned_at`, `rows` (`DigestRow`:
    `complaint` and `overdue`, sorted by answer due date, then reference) and `overdue_count`.
    With no complaint, the letter is one line saying so.
    """
    ordered = sorted(facts.complaints, key=lambda c: (c.answer_due_at, c.reference))
    rows = tuple(DigestRow(_clean(c), c.answer_due_at < facts.now) for c in ordered)
    context = _context(facts)
    del context["complaints"]
    context.update(
        handler_name=_one_line(facts.handler_name),
        rows=rows,
        overdue_count=sum(row.overdue for row in rows),
    )
    return templates.render("digest", **context)
