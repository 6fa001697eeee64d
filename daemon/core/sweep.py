"""Sweep decisions: what a due reminder, escalation or digest does (the clock passed in).

`decide_reminder` turns one due row into its letter (the reminder to the handler, or the escalation
to the supervisor with the next escalation planned), or into a cancellation when the deadline it
waits for is already met. `digests_due` says which handlers get today's digest, `decide_digest`
writes it. The register claims each row in the same transaction, so a doubled sweep sends nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from daemon.core.case import Case, current_token, summary
from daemon.core.effects import ACTOR, Effects, HistoryEntry
from daemon.core.letters import DigestFacts, EscalationFacts, LetterToSend, ReminderFacts, new_message_id
from daemon.core.lifecycle import Status
from daemon.core.mail import Address
from daemon.core.policy import Policy
from daemon.core.reminders import DeadlineKind, Kind, Planned, digest_date, is_late, next_escalation
from daemon.core.routing import Handler
from daemon.core.tokens import handler_message_id

CLOSED_FOR_ANSWER = frozenset({Status.ANSWERED, Status.CLOSED})


@dataclass(frozen=True)
class DueReminder:
    """A pending reminder or escalation row whose time has come, with its complaint."""

    id: int
    kind: Kind
    deadline: DeadlineKind
    step: str
    due_at: datetime
    case: Case


@dataclass(frozen=True)
class ReminderDecision:
    """The state the row takes ("sent" or "cancelled"), whether it is late, and what it does."""

    state: str
    late: bool
    effects: Effects


def deadline_met(case: Case, deadline: DeadlineKind) -> bool:
    """Has the event this deadline waits for happened? Then its reminders stop."""
    if deadline is DeadlineKind.ACK:
        return case.acknowledged_at is not None or case.status is not Status.RECEIVED
    return case.status in CLOSED_FOR_ANSWER


def decide_reminder(due: DueReminder, now: datetime, policy: Policy) -> ReminderDecision:
    late = is_late(due.due_at, now, policy.reminders.late_after)
    if deadline_met(due.case, due.deadline):
        return ReminderDecision("cancelled", late, Effects(due.case.id))
    effects = _escalation(due, now, late, policy) if due.kind is Kind.ESCALATION else _reminder(due, now, late, policy)
    staff = effects.letters[0].to
    assert staff is not None, "reminders and escalations go to staff, who have addresses"
    what = f"{due.kind} {due.step} for the {due.deadline} deadline to {staff.email}"
    entry = HistoryEntry(f"{due.kind}_queued", ACTOR, what + (" (late)" if late else ""))
    return ReminderDecision("sent", late, effects + Effects(due.case.id, history=(entry,)))


def _reminder(due: DueReminder, now: datetime, late: bool, policy: Policy) -> Effects:
    case = due.case
    token, issued = current_token(case)
    facts = ReminderFacts(summary(case), token, case.handler_name, due.deadline, now, late, due.due_at)
    letter = LetterToSend(
        "reminder",
        facts,
        Address(case.handler_name, case.handler_email),
        handler_message_id(case.reference, token, policy.domain),
    )
    return Effects(case.id, letters=(letter,), tokens=issued)


def _escalation(due: DueReminder, now: datetime, late: bool, policy: Policy) -> Effects:
    case, supervisor = due.case, policy.supervisor
    facts = EscalationFacts(
        complaint=summary(case),
        handler_name=case.handler_name,
        handler_email=case.handler_email,
        supervisor_name=supervisor.name,
        deadline=due.deadline,
        number=int(due.step.rsplit("-", 1)[1]),
        now=now,
        late=late,
        planned_at=due.due_at,
    )
    letter = LetterToSend("escalation", facts, supervisor, new_message_id(case.reference, "esc", policy.domain))
    following = next_escalation(
        Planned(Kind.ESCALATION, due.deadline, due.step, due.due_at), policy.reminders.escalation_every, now=now
    )
    return Effects(case.id, letters=(letter,), plan=(following,))


def digests_due(now: datetime, last: dict[str, date], policy: Policy) -> list[tuple[Handler, date]]:
    """(handler, local day) of every digest due now; `last` is each handler's last digest day."""
    cfg = policy.reminders
    due = []
    for handler in policy.handlers:
        day = digest_date(now, policy.timezone, cfg.digest_at, cfg.digest_days, last.get(handler.email))
        if day is not None:
            due.append((handler, day))
    return due


def decide_digest(handler: Handler, day: date, cases: list[Case], now: datetime, policy: Policy) -> Effects:
    """A handler's digest of their open complaints; nothing to send when they have none."""
    if not cases:
        return Effects()
    planned = datetime.combine(day, policy.reminders.digest_at, tzinfo=policy.timezone).astimezone(UTC)
    facts = DigestFacts(
        handler_name=handler.name,
        day=day,
        now=now,
        complaints=tuple(summary(c) for c in cases),  # ordered by render_digest: priority, then due date
        late=is_late(planned, now, policy.reminders.late_after),
        planned_at=planned,
    )
    message_id = new_message_id(f"digest-{day.isoformat()}", "dig", policy.domain)
    return Effects(letters=(LetterToSend("digest", facts, Address(handler.name, handler.email), message_id),))
