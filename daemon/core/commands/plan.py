"""What a verified command mail does to a complaint: a plan of changes, as a value.

Pure: given the complaint as it stands, the parsed commands, the handlers and the clock, return
every change (before → after) and every letter to write; the shell (followups.py) applies the
plan in one transaction. Lines are applied in the order written, except that `#reply` (which
takes the rest of the mail) always goes before `#close`, so "#clore fondée" then "#réponse …"
answers, then closes. A line that cannot apply (an illegal status move, a past date, an unknown
handler) becomes a problem for the confirmation letter; the other lines still apply.

The evaluation (issue 9) sets fields the same way; `#related` needs the register's answer to
"which complaint has this reference?", which the runner looks up beforehand and passes in as
`references` (every reference the mail names, with its complaint id), so planning stays pure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from daemon.core.commands.evaluation import read_cause
from daemon.core.commands.tags import ActionMove, Command, Commands, Compensation, NewAction, Problem, Reason, Tag
from daemon.core.commands.words import ACTION_MOVES, ActionStatus, CauseFound
from daemon.core.deadlines import Deadline
from daemon.core.lifecycle import Event, IllegalTransition, Status, next_status
from daemon.core.routing import Handler

STATUS_EVENTS = {Status.IN_PROGRESS.value: Event.WORK_STARTED, Status.REOPENED.value: Event.REOPEN}


@dataclass(frozen=True)
class CaseState:
    """The fields of a complaint that commands read and change."""

    status: str
    severity: str | None
    category: str | None
    handler: Handler
    answer_due_at: datetime
    outcome: str | None = None
    complexity: str | None = None
    impact: str | None = None
    scope: str | None = None
    wished_solution: str | None = None  # None: none recorded yet
    reference: str = ""
    related: tuple[str, ...] = ()  # the references already linked
    compensation: Compensation | None = None
    actions: tuple[tuple[int, str], ...] = ()  # (number, status) of the complaint's actions


@dataclass(frozen=True)
class Change:
    field: str  # notices.ChangeField value
    before: object
    after: object


@dataclass(frozen=True)
class Plan:
    state: CaseState
    changes: tuple[Change, ...] = ()
    answer: str | None = None  # the argued answer to send the customer
    notes: tuple[str, ...] = ()
    help: bool = False
    handed_over_to: Handler | None = None
    deadline_changed: bool = False
    answer_rule: str | None = None  # the rule behind a recomputed answer deadline
    answer_skipped: tuple[tuple[date, str], ...] = ()  # the closed days that recomputation skipped
    problems: tuple[Problem, ...] = ()
    links: tuple[int, ...] = ()  # complaint ids to link (both ways)
    causes: tuple[CauseFound, ...] = ()
    inform: str | None = None  # interim news to send the customer (#inform), not the answer
    new_actions: tuple[tuple[int, NewAction], ...] = ()  # numbered in the order written
    action_moves: tuple[ActionMove, ...] = ()

    @property
    def executed(self) -> bool:
        return bool(self.changes or self.answer is not None or self.notes or self.inform is not None)


# The evaluation tags that set one field of the same name (#wish sets the wished solution).
_FIELDS = {
    Tag.SEVERITY: "severity",
    Tag.CATEGORY: "category",
    Tag.COMPLEXITY: "complexity",
    Tag.IMPACT: "impact",
    Tag.SCOPE: "scope",
    Tag.WISH: "wished_solution",
}


CategoryDeadline = Callable[[str], "Deadline | None"]


def plan_commands(
    state: CaseState,
    commands: Commands,
    handlers: tuple[Handler, ...],
    tz: ZoneInfo,
    now: datetime,
    category_deadline: CategoryDeadline = lambda category: None,
    references: Mapping[str, int] = {},
    cause_categories: tuple[str, ...] = (),
) -> Plan:
    """`category_deadline(category)` gives the answer deadline (its rule, its skipped days) the new
    category's rules set, or None when neither category has a rule of its own or the date is committed;
    `references` the complaint id of each reference the mail names that the register holds;
    `cause_categories` the `[causes] categories` a #cause may name."""
    ordered = sorted(commands.commands, key=lambda c: c.tag is Tag.CLOSE)  # stable: #reply before #close
    plan = Plan(state=state, problems=tuple(commands.problems))
    for command in ordered:
        if command.tag is Tag.RELATED:
            plan = _relate(plan, command, references)
            continue
        plan = _apply(plan, command, handlers, tz, now, cause_categories)
        if command.tag is Tag.CATEGORY and plan.state.category == command.value:
            plan = _category_deadline(plan, category_deadline(str(command.value)), now)
    return plan


def _category_deadline(plan: Plan, computed: Deadline | None, now: datetime) -> Plan:
    if computed is None or computed.at == plan.state.answer_due_at or computed.at <= now:
        return plan
    change = Change("answer_due", plan.state.answer_due_at, computed.at)
    return replace(
        plan,
        state=replace(plan.state, answer_due_at=computed.at),
        changes=plan.changes + (change,),
        deadline_changed=True,
        answer_rule=str(computed.rule),
        answer_skipped=computed.skipped,
    )


def _apply(
    plan: Plan,
    command: Command,
    handlers: tuple[Handler, ...],
    tz: ZoneInfo,
    now: datetime,
    cause_categories: tuple[str, ...] = (),
) -> Plan:
    tag = command.tag
    if tag is Tag.HELP:
        return replace(plan, help=True)
    if tag is Tag.NOTE:
        return replace(plan, notes=plan.notes + (str(command.value),))
    if tag in _FIELDS:
        return _set(plan, _FIELDS[tag], str(command.value), command.line)
    if tag is Tag.COMPENSATION:
        return _compensate(plan, command)
    if tag is Tag.ACTION:
        return _action(plan, command)
    if tag is Tag.INFORM:
        return replace(plan, inform=str(command.value))
    if tag is Tag.CAUSE:
        return _cause(plan, command, cause_categories)
    if tag is Tag.STATUS:
        return _move(plan, command, STATUS_EVENTS.get(str(command.value)))
    if tag is Tag.REPLY:
        return _move(replace(plan, answer=str(command.value)), command, Event.ANSWER_SENT)
    if tag is Tag.CLOSE:
        closed = _move(plan, command, Event.CLOSE)
        return (
            _set(closed, "outcome", str(command.value), command.line)
            if closed.state.status == Status.CLOSED.value
            else closed
        )
    if tag is Tag.ASSIGN:
        return _assign(plan, command, handlers)
    if tag is Tag.DEADLINE:
        return _deadline(plan, command, tz, now)
    raise ValueError(f"no plan for tag {tag}")  # every Tag is handled above


def _set(plan: Plan, name: str, value: object, line: str = "") -> Plan:
    before = getattr(plan.state, name)
    if before == value:
        return replace(plan, problems=plan.problems + (Problem(line or name, Reason.NO_CHANGE),))
    change = Change("answer_due" if name == "answer_due_at" else name, before, value)
    fields: dict[str, Any] = {name: value}  # `name` is one of CaseState's fields, `value` of its type
    return replace(plan, state=replace(plan.state, **fields), changes=plan.changes + (change,))


def _move(plan: Plan, command: Command, event: Event | None) -> Plan:
    if event is None:
        return _problem(plan, command, Reason.STATUS_NOT_SETTABLE)
    try:
        after = next_status(plan.state.status, event)
    except IllegalTransition:
        return _problem(replace(plan, answer=None) if command.tag is Tag.REPLY else plan, command, Reason.ILLEGAL_MOVE)
    return _set(plan, "status", after.value, command.line)


def _assign(plan: Plan, command: Command, handlers: tuple[Handler, ...]) -> Plan:
    wanted = str(command.value).lower()
    target = next((h for h in handlers if h.email == wanted), None)
    if target is None:
        return _problem(plan, command, Reason.UNKNOWN_HANDLER)
    if target.email == plan.state.handler.email:
        return _problem(plan, command, Reason.ALREADY_HANDLER)
    change = Change("handler", plan.state.handler.email, target.email)
    return replace(
        plan, state=replace(plan.state, handler=target), changes=plan.changes + (change,), handed_over_to=target
    )


def _deadline(plan: Plan, command: Command, tz: ZoneInfo, now: datetime) -> Plan:
    day = command.value
    if not isinstance(day, date):
        return _problem(plan, command, Reason.BAD_DATE)
    due = end_of_day(day, tz)
    if due <= now:
        return _problem(plan, command, Reason.PAST_DATE)
    changed = _set(plan, "answer_due_at", due, command.line)
    moved = changed.state.answer_due_at != plan.state.answer_due_at
    if not moved:
        return changed
    return replace(changed, deadline_changed=True, answer_rule="committed", answer_skipped=())


def _relate(plan: Plan, command: Command, references: Mapping[str, int]) -> Plan:
    """#related: a link to a complaint the register holds, other than this one, not linked yet."""
    reference = str(command.value)
    if reference == plan.state.reference:
        return _problem(plan, command, Reason.SAME_COMPLAINT)
    if reference not in references:
        return _problem(plan, command, Reason.UNKNOWN_REFERENCE)
    if reference in plan.state.related:
        return _problem(plan, command, Reason.NO_CHANGE)
    return replace(
        plan,
        state=replace(plan.state, related=plan.state.related + (reference,)),
        changes=plan.changes + (Change("related", None, reference),),
        links=plan.links + (references[reference],),
    )


def _compensate(plan: Plan, command: Command) -> Plan:
    """#compensation: recorded, and stated in the answer letter; the change reads "credit 50.00 EUR"."""
    granted, before = command.value, plan.state.compensation
    assert isinstance(granted, Compensation)
    if granted == before:
        return _problem(plan, command, Reason.NO_CHANGE)
    change = Change("compensation", None if before is None else str(before), str(granted))
    return replace(plan, state=replace(plan.state, compensation=granted), changes=plan.changes + (change,))


def _action(plan: Plan, command: Command) -> Plan:
    """#action: a new action takes the next number; a move follows ACTION_MOVES (decision 11)."""
    value, known = command.value, dict(plan.state.actions)
    if isinstance(value, NewAction):
        number = max(known, default=0) + 1
        return replace(
            plan,
            state=replace(plan.state, actions=plan.state.actions + ((number, ActionStatus.OPEN.value),)),
            new_actions=plan.new_actions + ((number, value),),
            changes=plan.changes + (Change("action", None, f"{number} {value}"),),
        )
    assert isinstance(value, ActionMove)
    before = known.get(value.number)
    if before is None:
        return _problem(plan, command, Reason.UNKNOWN_ACTION_NUMBER)
    if before == value.status:
        return _problem(plan, command, Reason.NO_CHANGE)
    if value.status not in ACTION_MOVES[ActionStatus(before)]:
        return _problem(plan, command, Reason.ILLEGAL_ACTION_MOVE)
    after = f"{value.number} {value.status.value}" + (f": {value.reason}" if value.reason else "")
    known[value.number] = value.status.value
    return replace(
        plan,
        state=replace(plan.state, actions=tuple(sorted(known.items()))),
        action_moves=plan.action_moves + (value,),
        changes=plan.changes + (Change("action", f"{value.number} {before}", after),),
    )


def _cause(plan: Plan, command: Command, categories: tuple[str, ...]) -> Plan:
    """#cause: its text, and its category when `[causes] categories` lists one (evaluation.read_cause)."""
    found = read_cause(str(command.value), categories)
    if found is Reason.UNKNOWN_CAUSE_CATEGORY:
        problem = Problem(command.line, found, ", ".join(categories))
        return replace(plan, problems=plan.problems + (problem,))
    if isinstance(found, Reason):
        return _problem(plan, command, found)
    written = f"{found.category}: {found.text}" if found.category else found.text
    return replace(plan, causes=plan.causes + (found,), changes=plan.changes + (Change("cause", None, written),))


def end_of_day(day: date, tz: ZoneInfo) -> datetime:
    """A committed date means "by the end of that day", local time, like business-day deadlines."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=tz)


def _problem(plan: Plan, command: Command, reason: Reason) -> Plan:
    return replace(plan, problems=plan.problems + (Problem(command.line, reason),))
