"""Sweep decisions: what a due reminder, escalation or digest does (the clock passed in).

`decide_reminder` turns one due row into its letter (the reminder to the handler, or the escalation
to the supervisor with the next escalation planned), or into a cancellation when the deadline it
waits for is already met. An action's rows (deadline "action-N") go the same way: the reminder to
the action's owner, the overdue alert to the supervisor, nothing once the action left "open";
whether the complaint itself is answered or closed does not matter, for actions outlive it.
`digests_due` says which handlers get today's digest, `decide_digest` writes it. The register
claims each row in the same transaction, so a doubled sweep sends nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from daemon.core.case import Case, current_token, summary
from daemon.core.commands.words import ActionStatus
from daemon.core.effects import ACTOR, Effects, HistoryEntry, TokenToIssue
from daemon.core.letters import (
    ActionOverdueFacts,
    ActionReminderFacts,
    DigestFacts,
    EscalationFacts,
    LetterToSend,
    ReminderFacts,
    new_message_id,
)
from daemon.core.lifecycle import Status
from daemon.core.mail import Address
from daemon.core.policy import Policy
from daemon.core.reminders import (
    ActionDeadline,
    DeadlineKind,
    Kind,
    Planned,
    ReminderDeadline,
    action_due_at,
    digest_date,
    is_late,
    next_escalation,
)
from daemon.core.routing import Handler
from daemon.core.tokens import handler_message_id, new_token

CLOSED_FOR_ANSWER = frozenset({Status.ANSWERED, Status.CLOSED})


@dataclass(frozen=True)
class DueAction:
    """The action an "action-N" row is about, as the register holds it now (owner None: the handler's)."""

    number: int
    kind: str
    text: str
    owner: str | None
    due_on: date | None
    status: str


@dataclass(frozen=True)
class DueReminder:
    """A pending reminder or escalation row whose time has come, with its complaint (and its action,
    for an action's row: None when the register has no such action)."""

    id: int
    kind: Kind
    deadline: ReminderDeadline
    step: str
    due_at: datetime
    case: Case
    action: DueAction | None = None


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
    deadline = due.deadline
    if isinstance(deadline, ActionDeadline):
        return _for_action(due, now, late, policy)
    if deadline_met(due.case, deadline):
        return ReminderDecision("cancelled", late, Effects(due.case.id))
    if due.kind is Kind.ESCALATION:
        effects = _escalation(due, deadline, now, late, policy)
    else:
        effects = _reminder(due, deadline, now, late, policy)
    what = f"{due.kind} {due.step} for the {due.deadline} deadline to {_staff(effects)}"
    entry = HistoryEntry(f"{due.kind}_queued", ACTOR, what + (" (late)" if late else ""))
    return ReminderDecision("sent", late, effects + Effects(due.case.id, history=(entry,)))


def _staff(effects: Effects) -> str:
    """The address a reminder or an alert goes to: staff, who always have one."""
    to = effects.letters[0].to
    assert to is not None, "reminders and escalations go to staff, who have addresses"
    return to.email


def _reminder(due: DueReminder, deadline: DeadlineKind, now: datetime, late: bool, policy: Policy) -> Effects:
    case = due.case
    token, issued = current_token(case)
    facts = ReminderFacts(summary(case), token, case.handler_name, deadline, now, late, due.due_at)
    letter = LetterToSend(
        "reminder",
        facts,
        Address(case.handler_name, case.handler_email),
        handler_message_id(case.reference, token, policy.domain),
    )
    return Effects(case.id, letters=(letter,), tokens=issued)


def _escalation(due: DueReminder, deadline: DeadlineKind, now: datetime, late: bool, policy: Policy) -> Effects:
    case, supervisor = due.case, policy.supervisor
    facts = EscalationFacts(
        complaint=summary(case),
        handler_name=case.handler_name,
        handler_email=case.handler_email,
        supervisor_name=supervisor.name,
        deadline=deadline,
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


def _for_action(due: DueReminder, now: datetime, late: bool, policy: Policy) -> ReminderDecision:
    """An action's reminder or overdue alert; cancelled once the action is no longer open (done,
    verified or abandoned: `#action N faite` cancels the rows too, this is the safety net)."""
    action = due.action
    if action is None or action.status != ActionStatus.OPEN or action.due_on is None:
        return ReminderDecision("cancelled", late, Effects(due.case.id))
    if due.kind is Kind.ESCALATION:
        effects, event = _action_overdue(due, action, action.due_on, now, late, policy), "action_overdue_queued"
    else:
        effects, event = _action_reminder(due, action, action.due_on, now, late, policy), "action_reminder_queued"
    what = f"{due.kind} {due.step} for action {action.number} (due {action.due_on}) to {_staff(effects)}"
    entry = HistoryEntry(event, ACTOR, what + (" (late)" if late else ""))
    return ReminderDecision("sent", late, effects + Effects(due.case.id, history=(entry,)))


def may_command(case: Case, email: str, policy: Policy) -> bool:
    """Whether a reply from `email` can carry commands for this complaint (authorization.py: its
    handler or the supervisor); an action's other owners cannot, so their letters invite no reply."""
    return email.strip().lower() in (case.handler_email.lower(), policy.supervisor.normalized)


def _staff_names(case: Case, policy: Policy) -> dict[str, str]:
    """The names the register knows of the people who may own an action: the handler, the supervisor."""
    return {policy.supervisor.normalized: policy.supervisor.name, case.handler_email.lower(): case.handler_name}


def _action_reminder(
    due: DueReminder, action: DueAction, due_on: date, now: datetime, late: bool, policy: Policy
) -> Effects:
    """To the action's owner (the handler when it has none), with a command token of their own when
    they may command, so that a reply "#action N faite" marks it done."""
    case = due.case
    owner = action.owner or case.handler_email
    token: str | None = None
    issued: tuple[TokenToIssue, ...] = ()
    if may_command(case, owner, policy):
        token = case.token_of(owner)
        if token is None:
            token = new_token()
            issued = (TokenToIssue(token, owner.strip().lower()),)
    facts = ActionReminderFacts(
        complaint=summary(case),
        number=action.number,
        kind=action.kind,
        text=action.text,
        due=due_on,
        due_at=action_due_at(due_on, policy.timezone),
        token=token,
        owner_name=_staff_names(case, policy).get(owner.strip().lower(), ""),
        handler_name=case.handler_name,
        handler_email=case.handler_email,
        now=now,
        late=late,
        planned_at=due.due_at,
    )
    message_id = (
        handler_message_id(case.reference, token, policy.domain)
        if token is not None
        else new_message_id(case.reference, f"action-{action.number}", policy.domain)
    )
    letter = LetterToSend("action_reminder", facts, Address(facts.owner_name, owner), message_id)
    return Effects(case.id, letters=(letter,), tokens=issued)


def _action_overdue(
    due: DueReminder, action: DueAction, due_on: date, now: datetime, late: bool, policy: Policy
) -> Effects:
    """To the supervisor, then again every `escalation_every` while the action stays open
    (reminders.plan_action says why it repeats)."""
    case, supervisor = due.case, policy.supervisor
    facts = ActionOverdueFacts(
        complaint=summary(case),
        number=action.number,
        kind=action.kind,
        text=action.text,
        owner=action.owner,
        due=due_on,
        due_at=action_due_at(due_on, policy.timezone),
        handler_name=case.handler_name,
        handler_email=case.handler_email,
        supervisor_name=supervisor.name,
        alert=int(due.step.rsplit("-", 1)[1]),
        now=now,
        late=late,
        planned_at=due.due_at,
    )
    message_id = new_message_id(case.reference, f"action-{action.number}-esc", policy.domain)
    letter = LetterToSend("action_overdue", facts, supervisor, message_id)
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
