"""The letters to staff about a complaint's deadlines and case: to its handler, to the supervisor.

This module's sole purpose in life is to turn the facts of one such mail into a `Letter`, through the
same `Templates` as the customer's letters (render.py): the "new complaint" notification, the
reminders, the customer's new message forwarded and the full case on a handover go to the handler;
the escalations to the supervisor; the digest to each handler; to an action's owner, the action
entrusted and the reminders before its day; to the supervisor, the alert once that day has passed.
The replies to a handler's command mails are in `command_replies.py`, the admin's letters about the
daemon itself in `to_admin.py`. It sends nothing and reads
no clock: the facts carry `now`.

Theory of operation
-------------------
Every word a person reads is in the templates, so an admin's override directory can change it:
the labels (statuses, deadlines, routing reasons, ordinals) are Jinja macros in `_labels.j2`, the
blocks shared by several letters (the complaint summary, how to reply with commands) are macros in
`_blocks.txt.j2` and `_blocks.html.j2`, one file per format so the HTML block is autoescaped. This
module only computes what a template cannot: durations in words ("dans 3 jours", via Babel and the
CLDR), which deadline a reminder is about, the digest's order and its overdue flags.

The handler's letters end their subject with the per-complaint command token marker, and rendering
refuses a subject without it (`render.with_token`); the supervisor's escalation and the digest,
which cover no single complaint's commands, carry none. An action's reminder carries one only when
its owner may command the complaint (its handler, or the supervisor): any other owner is told whom
to ask to mark it done, since their reply could not (commands/authorization.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from daemon.core.commands.words import Outcome
from daemon.core.letters.render import (
    AttachmentLine,
    ComplaintSummary,
    HistoryLine,
    Letter,
    Templates,
    attachment_lines,
    clean_summary,
    duration_words,
    echo,
    facts_context,
    one_line,
    plain,
    require_aware,
    require_text,
    require_token,
    to_handler,
    with_token,
)
from daemon.core.lifecycle import Status
from daemon.core.priority import Priority
from daemon.core.reminders import DeadlineKind
from daemon.core.routing import RouteRule

__all__ = [
    "DigestFacts",
    "DigestRow",
    "EscalationFacts",
    "QualityReportFacts",
    "FollowUpForwardFacts",
    "HandlerNotificationFacts",
    "HandoverFacts",
    "PreviousComplaint",
    "PreviousComplaints",
    "ActionAssignedFacts",
    "ActionOverdueFacts",
    "ActionReminderFacts",
    "LetterRefusedFacts",
    "ReminderFacts",
    "render_digest",
    "render_escalation",
    "render_quality_report",
    "render_follow_up_forward",
    "render_handler_notification",
    "render_handover",
    "render_action_assigned",
    "render_action_overdue",
    "render_action_reminder",
    "render_letter_refused",
    "render_reminder",
]


@dataclass(frozen=True)
class PreviousComplaint:
    """One of the customer's earlier complaints: its reference, when it came, where it stands and,
    once closed, its outcome (tags.Outcome value), so the handler sees a repeat customer at once."""

    reference: str
    received_at: datetime
    status: Status
    outcome: str | None = None

    def __post_init__(self) -> None:
        require_text("a complaint's reference", self.reference)
        require_aware("received_at", self.received_at)
        object.__setattr__(self, "status", Status(self.status))
        if self.outcome is not None:
            object.__setattr__(self, "outcome", Outcome(self.outcome).value)


@dataclass(frozen=True)
class PreviousComplaints:
    """The customer's earlier complaints as the "new complaint" mail lists them: the latest few,
    oldest first, and how many there are in all (`show` lists every one)."""

    listed: tuple[PreviousComplaint, ...] = ()
    total: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "listed", tuple(self.listed))
        object.__setattr__(self, "total", max(self.total, len(self.listed)))


@dataclass(frozen=True)
class HandlerNotificationFacts:
    """The "new complaint" mail to its designated handler.

    `body` is the complaint's text as the customer wrote it; `attachments_attached` says whether the
    files travel with this mail (else they stay in the register). `routing_rule` and `routing_match`
    are the `Route`'s `rule` and `matched`, so the handler knows why the complaint is theirs;
    `previous` the same customer's earlier complaints.
    """

    complaint: ComplaintSummary
    token: str
    handler_name: str
    body: str
    attachments: tuple[AttachmentLine, ...]
    attachments_attached: bool
    routing_rule: RouteRule
    routing_match: str
    previous: PreviousComplaints = PreviousComplaints()

    def __post_init__(self) -> None:
        require_token(self.token)
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
        require_token(self.token)
        object.__setattr__(self, "deadline", DeadlineKind(self.deadline))
        require_aware("now", self.now)
        require_aware("planned_at", self.planned_at)


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
        require_aware("now", self.now)
        require_aware("planned_at", self.planned_at)


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
        require_aware("now", self.now)
        require_aware("planned_at", self.planned_at)


@dataclass(frozen=True)
class DigestRow:
    """One line of the digest table, as the templates see it."""

    complaint: ComplaintSummary
    overdue: bool  # the answer deadline is past


@dataclass(frozen=True)
class LetterRefusedFacts:
    """A letter to the customer will never reach them through the relay (refused, or given up on):
    the handler must reach them another way. `letter` is its kind ("acknowledgement"…), `recipient`
    its address, `reason` the relay's last word or why it could not be sent."""

    complaint: ComplaintSummary
    token: str
    handler_name: str
    letter: str
    recipient: str
    reason: str
    now: datetime

    def __post_init__(self) -> None:
        require_token(self.token)
        require_aware("now", self.now)


@dataclass(frozen=True)
class FollowUpForwardFacts:
    """The customer wrote again: `text` is their new text (without the quoted part). `third_party`
    is the sender's address when it is not the complaint's customer (issue 14: a stranger who
    quotes a reference must not pass for the customer), else empty."""

    complaint: ComplaintSummary
    token: str
    handler_name: str
    mail_received_at: datetime
    text: str
    attachments: tuple[AttachmentLine, ...]
    attachments_attached: bool
    third_party: str = ""

    def __post_init__(self) -> None:
        require_token(self.token)
        require_aware("mail_received_at", self.mail_received_at)
        object.__setattr__(self, "attachments", attachment_lines(self.attachments))


@dataclass(frozen=True)
class ActionAssignedFacts:
    """Action `number` of a complaint is entrusted to its owner (#action … @owner): its kind
    (words.ActionKind value), what to do, by when (`due`, or None), and who to tell when done."""

    complaint: ComplaintSummary
    number: int
    kind: str
    text: str
    due: date | None
    handler_name: str
    handler_email: str

    def __post_init__(self) -> None:
        if self.number < 1:
            raise ValueError(f"actions are numbered from 1, not {self.number}")


@dataclass(frozen=True)
class ActionReminderFacts:
    """A reminder to the owner of action `number` that its day (`due`, ending at `due_at`) is near.

    `token` is the owner's command token when they may command the complaint (then a reply
    "#action N faite" marks it done), else None and the letter says whom to tell; `owner_name` is
    the handler's name when the owner is the handler, else empty. `now`, `late` and `planned_at`
    as in `ReminderFacts`."""

    complaint: ComplaintSummary
    number: int
    kind: str
    text: str
    due: date
    due_at: datetime
    token: str | None
    owner_name: str
    handler_name: str
    handler_email: str
    now: datetime
    late: bool
    planned_at: datetime

    def __post_init__(self) -> None:
        if self.number < 1:
            raise ValueError(f"actions are numbered from 1, not {self.number}")
        if self.token is not None:
            require_token(self.token)
        for name in ("due_at", "now", "planned_at"):
            require_aware(name, getattr(self, name))


@dataclass(frozen=True)
class ActionOverdueFacts:
    """An alert to the supervisor that action `number`'s day (`due`, ended at `due_at`) has passed
    and it is still open; `alert` is 1 for the first ("esc-1"); `owner` None: the handler's own."""

    complaint: ComplaintSummary
    number: int
    kind: str
    text: str
    owner: str | None
    due: date
    due_at: datetime
    handler_name: str
    handler_email: str
    supervisor_name: str
    alert: int
    now: datetime
    late: bool
    planned_at: datetime

    def __post_init__(self) -> None:
        if self.number < 1:
            raise ValueError(f"actions are numbered from 1, not {self.number}")
        if isinstance(self.alert, bool) or not isinstance(self.alert, int) or self.alert < 1:
            raise ValueError(f"an alert's number starts at 1, not {self.alert!r}")
        for name in ("due_at", "now", "planned_at"):
            require_aware(name, getattr(self, name))


@dataclass(frozen=True)
class HandoverFacts:
    """A complaint handed over to this handler by `handed_over_by` ("Name <address>", or empty when
    the daemon did it), with the full case: the complaint's `body`, its attachments and its history
    (oldest first)."""

    complaint: ComplaintSummary
    token: str
    handler_name: str
    handed_over_by: str
    body: str
    attachments: tuple[AttachmentLine, ...]
    attachments_attached: bool
    history: tuple[HistoryLine, ...]

    def __post_init__(self) -> None:
        require_token(self.token)
        object.__setattr__(self, "attachments", attachment_lines(self.attachments))
        object.__setattr__(self, "history", tuple(self.history))


# --- rendering ------------------------------------------------------------------------------------


def render_handler_notification(templates: Templates, facts: HandlerNotificationFacts) -> Letter:
    """The "new complaint" mail to the designated handler, with how to reply with commands.

    The templates see `complaint`, `token`, `handler_name`, `body`, `attachments`,
    `attachments_attached`, `routing_rule`, `routing_match` and `previous` (`listed`, `total`).
    """
    return to_handler(templates, "handler_notification", facts)


def render_reminder(templates: Templates, facts: ReminderFacts) -> Letter:
    """A reminder to the handler before a deadline; a reply to it may carry commands too.

    Besides the facts, the templates see `due_at` (the deadline's instant), `remaining` ("dans 3
    jours", or "il y a 2 heures" once past) and `passed` (the deadline is already past).
    """
    due = facts.complaint.due_at(facts.deadline)
    remaining = duration_words(templates, due - facts.now, direction=True)
    return to_handler(templates, "reminder", facts, due_at=due, remaining=remaining, passed=due <= facts.now)


def render_escalation(templates: Templates, facts: EscalationFacts) -> Letter:
    """The alert to the supervisor that a deadline was missed (the `number`-th for this deadline).

    Besides the facts, the templates see `due_at` and `overdue` ("2 jours": how long since it fell due).
    """
    due = facts.complaint.due_at(facts.deadline)
    context = facts_context(facts)
    context |= {
        "complaint": clean_summary(facts.complaint),
        "handler_name": one_line(facts.handler_name),
        "supervisor_name": one_line(facts.supervisor_name),
        "due_at": due,
        "overdue": duration_words(templates, max(facts.now - due, timedelta(0)), direction=False),
    }
    return templates.render("escalation", **context)


def _rank(priority: str | None) -> int:
    """Most pressing first; a complaint without a priority (no severity yet) after the others."""
    return len(Priority) if priority is None else Priority(priority).rank


def render_action_assigned(templates: Templates, facts: ActionAssignedFacts) -> Letter:
    """The mail to an action's owner. Templates see the facts by name, `complaint` cleaned."""
    context = facts_context(facts)
    context |= {"complaint": clean_summary(facts.complaint), "text": one_line(facts.text)}
    return templates.render("action_assigned", **context)


def render_action_reminder(templates: Templates, facts: ActionReminderFacts) -> Letter:
    """The reminder to an action's owner; with a token, its subject ends with it (a reply commands).

    Besides the facts, the templates see `remaining` ("dans 3 jours", or "il y a 2 heures" once
    past) and `passed` (the day is already over).
    """
    context = facts_context(facts)
    context |= {
        "complaint": clean_summary(facts.complaint),
        "text": one_line(facts.text),
        "owner_name": one_line(facts.owner_name),
        "handler_name": one_line(facts.handler_name),
        "remaining": duration_words(templates, facts.due_at - facts.now, direction=True),
        "passed": facts.due_at <= facts.now,
    }
    if facts.token is None:
        return templates.render("action_reminder", **context)
    del context["token"]
    return with_token(templates, "action_reminder", facts.token, **context)


def render_action_overdue(templates: Templates, facts: ActionOverdueFacts) -> Letter:
    """The alert to the supervisor that an action is past its day and still open.

    Besides the facts, the templates see `overdue` ("2 jours": how long since its day ended).
    """
    context = facts_context(facts)
    context |= {
        "complaint": clean_summary(facts.complaint),
        "text": one_line(facts.text),
        "handler_name": one_line(facts.handler_name),
        "supervisor_name": one_line(facts.supervisor_name),
        "overdue": duration_words(templates, max(facts.now - facts.due_at, timedelta(0)), direction=False),
    }
    return templates.render("action_overdue", **context)


def render_digest(templates: Templates, facts: DigestFacts) -> Letter:
    """A handler's digest: their open complaints, most pressing first (README, "Priority"), then by
    answer due date, the overdue ones flagged.

    The templates see `handler_name`, `day`, `now`, `late`, `planned_at`, `rows` (`DigestRow`:
    `complaint` and `overdue`, sorted by priority, answer due date, then reference) and `overdue_count`.
    With no complaint, the letter is one line saying so.
    """
    ordered = sorted(facts.complaints, key=lambda c: (_rank(c.priority), c.answer_due_at, c.reference))
    rows = tuple(DigestRow(clean_summary(c), c.answer_due_at < facts.now) for c in ordered)
    context = facts_context(facts)
    del context["complaints"]
    context |= {
        "handler_name": one_line(facts.handler_name),
        "rows": rows,
        "overdue_count": sum(row.overdue for row in rows),
    }
    return templates.render("digest", **context)


def render_letter_refused(templates: Templates, facts: LetterRefusedFacts) -> Letter:
    """The handler's notice that a letter to the customer could not be delivered. The templates see
    the facts, `recipient` and `reason` on one bounded line."""
    return to_handler(
        templates, "letter_refused", facts, recipient=echo(facts.recipient, 200), reason=echo(facts.reason, 500)
    )


def render_follow_up_forward(templates: Templates, facts: FollowUpForwardFacts) -> Letter:
    """The customer's new message, forwarded to the handler with how to reply with commands."""
    third_party = echo(facts.third_party, 200)
    return to_handler(templates, "follow_up_forward", facts, text=plain(facts.text), third_party=third_party)


def render_handover(templates: Templates, facts: HandoverFacts) -> Letter:
    """The full case, to the handler a complaint was handed over to."""
    history = tuple(HistoryLine(line.at, one_line(line.event), plain(line.detail)) for line in facts.history)
    by = one_line(facts.handed_over_by)
    return to_handler(templates, "handover", facts, handed_over_by=by, body=plain(facts.body), history=history)


@dataclass(frozen=True)
class QualityReportFacts:
    """The quality report to the supervisor (`complaintsd report --mail`): its headline in the mail,
    the whole report attached as `filename` (HTML)."""

    supervisor_name: str
    period: str
    first: date
    last: date
    now: datetime
    complaints: int
    ack_share: float | None
    answer_share: float | None
    open: int
    overdue: int
    filename: str

    def __post_init__(self) -> None:
        require_aware("now", self.now)


def render_quality_report(templates: Templates, facts: QualityReportFacts) -> Letter:
    """The templates see the facts, the shares as percentages with one decimal (None: no case decided)."""
    context = facts_context(facts)
    context |= {
        "supervisor_name": one_line(facts.supervisor_name),
        "ack_share": None if facts.ack_share is None else round(facts.ack_share * 100, 1),
        "answer_share": None if facts.answer_share is None else round(facts.answer_share * 100, 1),
    }
    return templates.render("quality_report", **context)
