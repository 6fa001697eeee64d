"""A handler's command mail, decided: verified, planned, and always answered.

`decide_command_mail` returns the effects of one command mail about one complaint: the refusal when
the sender cannot prove they may command it (docs/design.md, "Commands by email"), else the planned
changes (commands.plan), the reminders planned again for a new answer date, the handover to a new
handler, the customer's letters, and the confirmation, help or error letter to the sender.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from daemon.core.case import Case, HistoryItem, current_token, summary, to_customer
from daemon.core.commands.authorization import Refusal, TokenOwner, Verdict, authorize
from daemon.core.commands.plan import CaseState, Plan, plan_commands
from daemon.core.commands.tags import Commands
from daemon.core.commands.words import Reason, grammar
from daemon.core.deadlines import Deadline, due_at, skipped_text
from daemon.core.effects import ActionMoveTo, ActionToCreate, Effects, HistoryEntry, StatusMove, TokenToIssue
from daemon.core.letters import (
    ActionAssignedFacts,
    AnswerFacts,
    AttachmentLine,
    Change,
    ChangeField,
    ClosedFacts,
    CommandConfirmationFacts,
    CommandErrorFacts,
    CommandHelpFacts,
    CommandRefusedFacts,
    DeadlineChangedFacts,
    Effect,
    FileToAttach,
    HandoverFacts,
    HistoryLine,
    InterimFacts,
    LetterToSend,
    NotUnderstood,
    Outcome,
    StatusChangedFacts,
    new_message_id,
)
from daemon.core.lifecycle import Status
from daemon.core.mail import Address, InboundMail
from daemon.core.policy import Policy
from daemon.core.reminders import ActionDeadline, DeadlineKind, Planned, ReminderDeadline, plan_action, replan
from daemon.core.tokens import handler_message_id, new_token

CLOSED_FOR_ANSWER = frozenset({Status.ANSWERED.value, Status.CLOSED.value})


def decide_command_mail(
    case: Case,
    mail: InboundMail,
    text: str,
    commands: Commands,
    owners: tuple[TokenOwner, ...],
    now: datetime,
    policy: Policy,
    references: Mapping[str, int] = {},
) -> Effects:
    """`references`: the complaint id of each reference the mail names that the register holds (#related)."""
    verdict = verdict_of(case, mail, owners, policy)
    if not verdict.allowed:
        return _refusal(case, mail, verdict, now, policy)
    heard = Effects(
        case.id,
        history=(HistoryEntry("command_mail", mail.author.email, f"verified by {verdict.proof}: {text[:1000]}"),),
    )
    result = plan_commands(
        _state(case, policy),
        commands,
        policy.handlers,
        policy.timezone,
        now,
        _category_deadline(case, policy),
        references,
        policy.cause_categories,
    )
    return heard + _executed(case, mail, result, heard.history, now, policy)


def _state(case: Case, policy: Policy) -> CaseState:
    return CaseState(
        case.status,
        case.severity,
        case.category,
        _handler(case, policy),
        case.answer_due_at,
        case.outcome,
        case.complexity,
        case.impact,
        case.scope,
        case.wished_solution or None,
        case.reference,
        case.related,
        case.compensation,
        case.actions,
    )


def verdict_of(case: Case, mail: InboundMail, owners: tuple[TokenOwner, ...], policy: Policy) -> Verdict:
    return authorize(
        mail.author.email,
        case.id,
        case.handler_email,
        policy.supervisor.email,
        owners,
        mail.header_all("Authentication-Results"),
        policy.trusted_authserv_ids,
    )


def _refusal(case: Case, mail: InboundMail, verdict: Verdict, now: datetime, policy: Policy) -> Effects:
    facts = CommandRefusedFacts(
        reference=case.reference,
        sender_email=mail.author.email,
        sender_name=mail.author.name,
        reason=verdict.refusal or Refusal.UNVERIFIED,
        mail_received_at=now,
        mail_subject=mail.subject,
        token=None,
    )
    letter = LetterToSend(
        "command_refused", facts, mail.author, new_message_id(case.reference, "refused", policy.domain)
    )
    detail = f"{verdict.refusal}: nothing executed; subject {mail.subject[:200]}"
    return Effects(case.id, history=(HistoryEntry("command_refused", mail.author.email, detail),), letters=(letter,))


def _executed(
    case: Case, mail: InboundMail, result: Plan, heard: tuple[HistoryEntry, ...], now: datetime, policy: Policy
) -> Effects:
    after = _after(case, result)
    fields = _fields(case, after, result)
    changes = Effects(
        case.id,
        history=_change_history(mail, result),
        status=_move(case, after),
        fields=fields,
        links=result.links,
        causes=result.causes,
        actions=tuple(
            ActionToCreate(number, new.kind.value, new.text, new.owner, new.due) for number, new in result.new_actions
        ),
        action_moves=tuple(ActionMoveTo(m.number, m.status.value, m.reason) for m in result.action_moves),
    )
    changes += _reminders(case, after, result, now, policy) + _action_reminders(case, result, now, policy)
    done: list[Effect] = [Effect.NOTE_ADDED] * len(result.notes)
    handover = Effects(case.id)
    if result.handed_over_to is not None:
        handover = _handover(after, mail, heard + changes.history, now, policy)
        done.append(Effect.HANDLER_NOTIFIED)
    told, words = customer_letters(case, after, mail, result, policy)
    reply = _reply(after, mail, result, tuple(done) + words, now, policy)
    return changes + handover + told + _to_owners(after, result, policy) + reply


def _after(case: Case, result: Plan) -> Case:
    """The complaint as the plan leaves it: what the letters written now must say."""
    state = result.state
    after = replace(
        case,
        status=Status(state.status),
        severity=state.severity,
        category=state.category,
        outcome=state.outcome,
        complexity=state.complexity,
        impact=state.impact,
        scope=state.scope,
        wished_solution=state.wished_solution or "",
        related=state.related,
        compensation=state.compensation,
    )
    if result.deadline_changed:
        after = replace(after, answer_due_at=state.answer_due_at, answer_rule=result.answer_rule or "committed")
    if result.handed_over_to is not None:
        after = replace(after, handler_email=state.handler.email, handler_name=state.handler.name)
    return after


def _fields(case: Case, after: Case, result: Plan) -> tuple[tuple[str, object], ...]:
    fields: tuple[tuple[str, object], ...] = (
        ("severity", after.severity),
        ("category", after.category),
        ("outcome", after.outcome),
        ("complexity", after.complexity),
        ("impact", after.impact),
        ("scope", after.scope),
        ("wished_solution", after.wished_solution),
    )
    if after.compensation != case.compensation and after.compensation is not None:
        granted = after.compensation
        amount = None if granted.amount is None else f"{granted.amount:.2f}"
        fields += (
            ("compensation_type", granted.type.value),
            ("compensation_amount", amount),
            ("compensation_currency", granted.currency),
        )
    if result.deadline_changed:
        skipped = skipped_text(result.answer_skipped)
        fields += (
            ("answer_due_at", after.answer_due_at),
            ("answer_rule", after.answer_rule),
            ("answer_skipped", skipped),
        )
    if result.handed_over_to is not None:
        fields += (("handler_email", after.handler_email), ("handler_name", after.handler_name))
    return fields


def _move(case: Case, after: Case) -> StatusMove | None:
    return StatusMove(case.status, after.status) if after.status != case.status else None


def _change_history(mail: InboundMail, result: Plan) -> tuple[HistoryEntry, ...]:
    actor = mail.author.email
    entries = tuple(HistoryEntry(c.field, actor, f"{_word(c.before)} → {_word(c.after)}") for c in result.changes)
    informed = () if result.inform is None else (HistoryEntry("customer_informed", actor, result.inform),)
    return entries + tuple(HistoryEntry("note", actor, note) for note in result.notes) + informed


def _reminders(case: Case, after: Case, result: Plan, now: datetime, policy: Policy) -> Effects:
    """A new answer date: pending reminders go, new ones are planned for it (their keys name the date,
    and escalations continue their count, so nothing collides); an answered complaint has none left."""
    cancel: tuple[ReminderDeadline | None, ...] = ()
    planned: tuple[Planned, ...] = ()
    if result.deadline_changed:
        cancel = (DeadlineKind.ANSWER,)
        due = after.answer_due_at
        planned = replan(DeadlineKind.ANSWER, due, policy.reminders.before, now, case.answer_escalations)
    if after.status in CLOSED_FOR_ANSWER:
        cancel, planned = cancel + (None,), ()
    return Effects(case.id, cancel=cancel, plan=planned)


def _action_reminders(case: Case, result: Plan, now: datetime, policy: Policy) -> Effects:
    """A new action with a due day: its owner's reminders and the supervisor's alert, planned now
    (reminders.plan_action); an action moved on (done, verified, abandoned): its pending ones go.
    Whatever happens to the complaint itself, these stay: actions outlive it."""
    planned = tuple(
        planned
        for number, new in result.new_actions
        if new.due is not None
        for planned in plan_action(number, new.due, policy.timezone, policy.reminders.before, now)
    )
    cancel = tuple(ActionDeadline(move.number) for move in result.action_moves)
    return Effects(case.id, cancel=cancel, plan=planned)


def _to_owners(after: Case, result: Plan, policy: Policy) -> Effects:
    """Each new action with an owner: a mail to the owner saying what, by when, and for whom."""
    letters = tuple(
        LetterToSend(
            "action_assigned",
            ActionAssignedFacts(
                summary(after), number, new.kind.value, new.text, new.due, after.handler_name, after.handler_email
            ),
            Address("", new.owner),
            new_message_id(after.reference, f"action-{number}", policy.domain),
            auto_submitted="auto-generated",
        )
        for number, new in result.new_actions
        if new.owner
    )
    return Effects(after.id, letters=letters)


def _handover(
    after: Case, mail: InboundMail, new_history: tuple[HistoryEntry, ...], now: datetime, policy: Policy
) -> Effects:
    """The full case to the new handler, with a command token of their own."""
    token, issued = current_token(after)
    history = after.history + tuple(HistoryItem(now, h.event, h.detail) for h in new_history)
    sender = mail.author
    facts = HandoverFacts(
        complaint=summary(after),
        token=token,
        handler_name=after.handler_name,
        handed_over_by=f"{sender.name} <{sender.email}>" if sender.name else sender.email,
        body=after.text_body,
        attachments=tuple(AttachmentLine(f.filename, f.size) for f in after.files),
        attachments_attached=True,
        history=tuple(HistoryLine(h.at, h.event, h.detail) for h in history),
    )
    letter = LetterToSend(
        "handover",
        facts,
        Address(after.handler_name, after.handler_email),
        handler_message_id(after.reference, token, policy.domain),
        stored_files=after.files,
    )
    return Effects(after.id, letters=(letter,), tokens=issued)


def _reply(
    after: Case,
    mail: InboundMail,
    result: Plan,
    done: tuple[Effect, ...],
    now: datetime,
    policy: Policy,
) -> Effects:
    """The confirmation, help or error letter to the command's sender, carrying their token."""
    tokens: tuple[TokenToIssue, ...] = ()
    if result.handed_over_to is None:
        token, tokens = current_token(after)
    else:  # after a handover, the former handler's confirmation carries their own token
        token = after.token_of(mail.author.email) or new_token()
    complaint, name = summary(after), mail.author.name or mail.author.email
    problems = tuple(NotUnderstood(p.line, Reason(p.reason).name, p.detail) for p in result.problems)
    facts: object
    if result.executed or not result.problems:
        if result.help and not result.executed:
            facts = CommandHelpFacts(complaint, token, name, grammar(policy.language))
        else:
            changes = tuple(Change(ChangeField(c.field), c.before, c.after) for c in result.changes)
            facts = CommandConfirmationFacts(complaint, token, name, now, changes, done, problems)
    else:
        facts = CommandErrorFacts(complaint, token, name, now, problems, grammar(policy.language))
    letter = LetterToSend(
        "command_reply",
        facts,
        mail.author,
        handler_message_id(after.reference, token, policy.domain),
        in_reply_to=mail.message_id,
        references=mail.references,
        auto_submitted="auto-replied",
    )
    return Effects(after.id, letters=(letter,), tokens=tokens)


def customer_letters(
    case: Case, after: Case, mail: InboundMail, result: Plan, policy: Policy
) -> tuple[Effects, tuple[Effect, ...]]:
    """What the customer is told of this command mail: the answer, a new date, the closing, a new status."""
    letters: list[LetterToSend] = []
    words: list[Effect] = []
    facts: object
    organisation, wanted = policy.organisation, policy.letters
    if result.answer is not None:
        lines = tuple(AttachmentLine(a.filename, a.size) for a in mail.attachments)
        facts = AnswerFacts(
            summary(after),
            result.answer,
            lines,
            policy.mediator,
            organisation,
            after.compensation,
            policy.mediation(after.received_at),
        )
        files = tuple(FileToAttach(a.filename, a.content_type, a.content) for a in mail.attachments)
        letters.append(to_customer(after, "answer", facts, policy, files=files))
        words.append(Effect.ANSWER_SENT)
    if result.inform is not None:
        letters.append(to_customer(after, "interim", InterimFacts(summary(after), result.inform, organisation), policy))
        words.append(Effect.CUSTOMER_INFORMED)
    if result.deadline_changed and wanted.deadline_changed:
        previous = next(c.before for c in result.changes if c.field == "answer_due")
        assert isinstance(previous, datetime)
        facts = DeadlineChangedFacts(summary(after), previous, after.answer_due_at, "", organisation)
        letters.append(to_customer(after, "deadline_changed", facts, policy))
        words.append(Effect.CUSTOMER_TOLD_DEADLINE)
    if after.status == Status.CLOSED and case.status != Status.CLOSED:
        ask = wanted.ask_satisfaction
        facts = ClosedFacts(summary(after), Outcome(after.outcome or ""), ask, policy.mediator, organisation)
        letters.append(to_customer(after, "closed", facts, policy))
        words += [Effect.CUSTOMER_TOLD_CLOSED] + ([Effect.SATISFACTION_ASKED] if ask else [])
    elif (
        after.status != case.status and after.status in (Status.IN_PROGRESS, Status.REOPENED) and wanted.status_changed
    ):
        letters.append(to_customer(after, "status_changed", StatusChangedFacts(summary(after), organisation), policy))
        words.append(Effect.CUSTOMER_TOLD_STATUS)
    return Effects(case.id, letters=tuple(letters)), tuple(words)


def _handler(case: Case, policy: Policy):
    return policy.handler(case.handler_email) or policy.default_handler


def _category_deadline(case: Case, policy: Policy):
    """The answer deadline the new category's rules give this complaint, from its receipt: its own
    rule, or back to the register's when the previous category had one. Never over a committed date."""

    def own_answer(category: str | None) -> bool:
        rules = policy.category_rules(category)
        return rules is not None and rules.answer is not None

    def compute(category: str) -> Deadline | None:
        if case.answer_rule == "committed" or not (own_answer(category) or own_answer(case.category)):
            return None
        rule = policy.deadline_rules(category)[1]
        return due_at(case.received_at, rule, policy.timezone, policy.closed)

    return compute


def _word(value: object) -> str:
    return value.isoformat() if isinstance(value, datetime) else ("-" if value is None else str(value))
