"""Follow-ups: mails about a registered complaint, acted on after ingestion committed them.

Ingestion records a follow-up (raw bytes, the complaint it belongs to, `handled = False`) in its
batch transaction; this runner then handles each one in a transaction of its own and marks it
handled there, so a crash in between means it is handled on the next pass, once. Its job:
* a customer's mail: into the history, forwarded to the handler, a short receipt to the customer
  (and, on a closed complaint whose customer was asked, their satisfaction recorded);
* a handler's mail with `#tags`: verified (authorization.py), planned (commands.py), applied —
  fields, history, reminders, letters — and always answered (confirmation, error, help, refusal).
"""

from __future__ import annotations

import logging

import jinja2
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from daemon.core.letters import notices
from daemon.core.commands.authorization import TokenOwner, Verdict, authorize
from daemon.core.commands.plan import CaseState, Plan, plan_commands
from daemon.core.letters.compose import FileToAttach, OutgoingMail, compose, new_message_id
from daemon.config import Config
from daemon.core.deadlines import due_at
from daemon.core.mail import Address, InboundMail
from daemon.edges.models import CommandToken, Complaint, HistoryEvent, InboundMessage, Reminder, StoredAttachment
from daemon.core.parsing import parse
from daemon.core.quotes import top_text
from daemon.edges.register import add_history, complaint_summary, handler_token, queue
from daemon.core.reminders import DeadlineKind, Kind, plan
from daemon.core.letters.render import AttachmentLine, Templates
from daemon.core.routing import fold
from daemon.edges.storage import AttachmentStore
from daemon.core.commands.tags import grammar, parse_commands
from daemon.core.tokens import handler_message_id, new_token, tokens_in
from daemon.core.threads import named_ids
from daemon.core.triage import Outcome

log = logging.getLogger("complaintsd.followups")


class FollowUps:
    def __init__(self, config: Config, engine: Engine, clock: Callable[[], datetime]) -> None:
        self.config = config
        self.engine = engine
        self.clock = clock
        self.templates = Templates.of(config.register)
        self.store = AttachmentStore(config.storage.path)
        self.staff = {h.email for h in config.routing.handlers} | {config.routing.supervisor.normalized}
        self.closed = config.register.closed_days()

    def handle_pending(self) -> int:
        with Session(self.engine) as session:
            ids = session.exec(
                select(InboundMessage.id).where(InboundMessage.outcome == Outcome.FOLLOW_UP.value, InboundMessage.handled == False)  # noqa: E712
                .order_by(InboundMessage.id)
            ).all()
        for inbound_id in ids:
            try:
                self._handle(inbound_id)
            except jinja2.TemplateError as exc:
                log.error("a letter does not render, follow-up %d left for the next pass: %s", inbound_id, exc)
            except Exception as exc:  # noqa: BLE001 — the one catch-all per follow-up: record it, go on
                log.error("follow-up %d could not be handled: %s: %s", inbound_id, exc.__class__.__name__, exc)
                self._record_failure(inbound_id, exc)
        return len(ids)

    def _record_failure(self, inbound_id: int, exc: Exception) -> None:
        with Session(self.engine) as session:
            inbound = session.get(InboundMessage, inbound_id)
            inbound.handled = True
            inbound.reason = f"could not be handled: {exc.__class__.__name__}: {exc}"[:500]
            add_history(session, inbound.complaint_id, self.clock(), "follow_up_failed", inbound.sender, inbound.reason)
            session.commit()

    def _handle(self, inbound_id: int) -> None:
        now = self.clock()
        with Session(self.engine) as session:
            inbound = session.get(InboundMessage, inbound_id)
            complaint = session.get(Complaint, inbound.complaint_id)
            mail = parse(inbound.raw)
            sender = mail.sender.email.lower()
            if sender in self.staff:
                self._staff_mail(session, complaint, mail, now)
            else:
                self._customer_mail(session, complaint, mail, now)
            inbound.handled = True
            session.commit()

    # ------------------------------------------------------------------ customers

    def _customer_mail(self, session: Session, complaint: Complaint, mail: InboundMail, now: datetime) -> None:
        text = top_text(mail.text_body, mail.html_body)
        satisfaction = _satisfaction(text) if complaint.status == "closed" and self.config.customer_letters.ask_satisfaction else None
        if satisfaction is not None:
            add_history(session, complaint.id, now, "satisfaction", mail.sender.email, f"{satisfaction}: {text[:500]}")
        else:
            add_history(session, complaint.id, now, "follow_up", mail.sender.email, text[:2000])
        files = tuple(FileToAttach(a.filename, a.content_type, a.content) for a in mail.attachments)
        lines = tuple(AttachmentLine(a.filename, a.size) for a in mail.attachments)
        token = handler_token(session, complaint, now)
        forward = notices.render_follow_up_forward(self.templates, notices.FollowUpForwardFacts(
            complaint=complaint_summary(complaint), token=token, handler_name=complaint.handler_name, mail_received_at=now,
            text=text, attachments=lines, attachments_attached=True))
        self._to_handler(session, complaint, forward, token, now, "follow_up_forward", files)
        if self.config.customer_letters.follow_up_received and satisfaction is None:
            receipt = notices.render_follow_up_received(self.templates, notices.FollowUpReceivedFacts(
                complaint=complaint_summary(complaint), mail_received_at=now, attachments=lines, organisation=self.config.register.organisation))
            self._to_customer(session, complaint, receipt, now, "follow_up_received", reply_to=mail)

    # ------------------------------------------------------------------ handlers

    def _staff_mail(self, session: Session, complaint: Complaint, mail: InboundMail, now: datetime) -> None:
        text = top_text(mail.text_body, mail.html_body)
        today = now.astimezone(self.config.register.timezone).date()
        commands = parse_commands(text, today)
        if not commands.has_commands:
            add_history(session, complaint.id, now, "handler_mail", mail.sender.email, text[:2000])
            return
        verdict = self._verdict(session, complaint, mail)
        if not verdict.allowed:
            self._refuse(session, complaint, mail, verdict, now)
            return
        add_history(session, complaint.id, now, "command_mail", mail.sender.email, f"verified by {verdict.proof}: {text[:1000]}")
        state = CaseState(complaint.status, complaint.severity, complaint.category, self._handler(complaint), complaint.answer_due_at, complaint.outcome)
        result = plan_commands(state, commands, self.config.routing.handlers, self.config.register.timezone, now, self._category_deadline(complaint))
        self._apply(session, complaint, mail, result, now)

    def _verdict(self, session: Session, complaint: Complaint, mail: InboundMail) -> Verdict:
        found = tokens_in(mail.subject, named_ids(mail))
        owners = ()
        if found:
            rows = session.exec(select(CommandToken).where(col(CommandToken.token).in_(found))).all()
            owners = tuple(TokenOwner(r.token, r.complaint_id, r.handler_email) for r in rows)
        routing = self.config.routing
        return authorize(mail.sender.email, complaint.id, complaint.handler_email, routing.supervisor.email, owners,
                         mail.header_all("Authentication-Results"), routing.trusted_authserv_ids)

    def _refuse(self, session: Session, complaint: Complaint, mail: InboundMail, verdict: Verdict, now: datetime) -> None:
        log.warning("command mail for %s from %s not executed: %s", complaint.reference, mail.sender.email, verdict.refusal)
        add_history(session, complaint.id, now, "command_refused", mail.sender.email, f"{verdict.refusal}: nothing executed; subject {mail.subject[:200]}")
        letter = notices.render_command_refused(self.templates, notices.CommandRefusedFacts(
            reference=complaint.reference, sender_email=mail.sender.email, sender_name=mail.sender.name,
            reason=verdict.refusal, mail_received_at=now, mail_subject=mail.subject, token=None))
        self._send(session, complaint, letter, mail.sender, now, "command_refused", new_message_id(complaint.reference, "refused", self._domain()))

    def _apply(self, session: Session, complaint: Complaint, mail: InboundMail, result: Plan, now: datetime) -> None:
        before_status = complaint.status
        effects = self._apply_fields(session, complaint, mail, result, now)
        effects += self._apply_letters(session, complaint, mail, result, before_status, now)
        token = handler_token(session, complaint, now) if result.handed_over_to is None else self._own_token(session, complaint, mail)
        facts_common = dict(complaint=complaint_summary(complaint), token=token, handler_name=mail.sender.name or mail.sender.email)
        if result.executed or not result.problems:
            if result.help and not result.executed:
                letter = notices.render_command_help(self.templates, notices.CommandHelpFacts(commands=grammar(self.config.register.language), **facts_common))
            else:
                letter = notices.render_command_confirmation(self.templates, notices.CommandConfirmationFacts(
                    mail_received_at=now, changes=tuple(_change(c) for c in result.changes), effects=tuple(effects),
                    problems=tuple(notices.NotUnderstood(p.line, p.reason) for p in result.problems), **facts_common))
        else:
            letter = notices.render_command_error(self.templates, notices.CommandErrorFacts(
                mail_received_at=now, problems=tuple(notices.NotUnderstood(p.line, p.reason) for p in result.problems),
                commands=grammar(self.config.register.language), **facts_common))
        self._send(session, complaint, letter, mail.sender, now, "command_reply", handler_message_id(complaint.reference, token, self._domain()), reply_to=mail)

    def _apply_fields(self, session: Session, complaint: Complaint, mail: InboundMail, result: Plan, now: datetime) -> list:
        actor = mail.sender.email
        for change in result.changes:
            add_history(session, complaint.id, now, change.field, actor, f"{_word(change.before)} → {_word(change.after)}")
        state = result.state
        complaint.status, complaint.severity, complaint.category = state.status, state.severity, state.category
        complaint.outcome = state.outcome
        effects = []
        for note in result.notes:
            add_history(session, complaint.id, now, "note", actor, note)
            effects.append(notices.Effect.NOTE_ADDED)
        if result.deadline_changed:
            complaint.answer_due_at = state.answer_due_at
            complaint.answer_rule, complaint.answer_skipped = result.answer_rule or "committed", ""
            self._replan(session, complaint, now)
        if state.status in ("answered", "closed"):
            _cancel(session, complaint.id, None)
        if result.handed_over_to is not None:
            complaint.handler_email, complaint.handler_name = state.handler.email, state.handler.name
            self._handover(session, complaint, mail, now)
            effects.append(notices.Effect.HANDLER_NOTIFIED)
        return effects

    def _apply_letters(self, session: Session, complaint: Complaint, mail: InboundMail, result: Plan, before_status: str, now: datetime) -> list:
        effects, letters, organisation = [], self.config.customer_letters, self.config.register.organisation
        if result.answer is not None:
            files = tuple(FileToAttach(a.filename, a.content_type, a.content) for a in mail.attachments)
            letter = notices.render_answer(self.templates, notices.AnswerFacts(
                complaint=complaint_summary(complaint), text=result.answer, attachments=tuple(AttachmentLine(a.filename, a.size) for a in mail.attachments),
                mediator=self.config.mediator, organisation=organisation))
            self._to_customer(session, complaint, letter, now, "answer", files=files)
            effects.append(notices.Effect.ANSWER_SENT)
        if result.deadline_changed and letters.deadline_changed:
            previous = next(c.before for c in result.changes if c.field == "answer_due")
            letter = notices.render_deadline_changed(self.templates, notices.DeadlineChangedFacts(
                complaint=complaint_summary(complaint), previous_due_at=previous, new_due_at=complaint.answer_due_at, reason="", organisation=organisation))
            self._to_customer(session, complaint, letter, now, "deadline_changed")
            effects.append(notices.Effect.CUSTOMER_TOLD_DEADLINE)
        if complaint.status == "closed" and before_status != "closed":
            ask = letters.ask_satisfaction
            letter = notices.render_closed(self.templates, notices.ClosedFacts(
                complaint=complaint_summary(complaint), outcome=notices.Outcome(complaint.outcome), ask_satisfaction=ask, mediator=self.config.mediator, organisation=organisation))
            self._to_customer(session, complaint, letter, now, "closed")
            effects += [notices.Effect.CUSTOMER_TOLD_CLOSED] + ([notices.Effect.SATISFACTION_ASKED] if ask else [])
        elif complaint.status != before_status and complaint.status in ("in_progress", "reopened") and letters.status_changed:
            letter = notices.render_status_changed(self.templates, notices.StatusChangedFacts(complaint=complaint_summary(complaint), organisation=organisation))
            self._to_customer(session, complaint, letter, now, "status_changed")
            effects.append(notices.Effect.CUSTOMER_TOLD_STATUS)
        return effects

    def _category_deadline(self, complaint: Complaint):
        """The answer deadline a category's own rule gives this complaint (never over a committed date)."""
        def compute(category: str):
            if complaint.answer_rule == "committed" or not any(fold(c.name) == fold(category) and c.answer_deadline for c in self.config.categories):
                return None
            rule = self.config.deadline_rules(category)[1]
            return due_at(complaint.received_at, rule, self.config.register.timezone, self.closed).at, str(rule)

        return compute

    def _replan(self, session: Session, complaint: Complaint, now: datetime) -> None:
        """A new answer date: pending reminders go, new ones are planned for the new date (their
        keys name the date, and escalations continue their count, so nothing collides)."""
        _cancel(session, complaint.id, DeadlineKind.ANSWER)
        steps = session.exec(select(Reminder.step).where(Reminder.complaint_id == complaint.id, Reminder.deadline == DeadlineKind.ANSWER.value)).all()
        escalations = max((int(step[4:]) for step in steps if step.startswith("esc-")), default=0)
        due = complaint.answer_due_at
        for planned in plan(DeadlineKind.ANSWER, due, self.config.reminders.before, now):
            step = f"esc-{escalations + 1}" if planned.kind is Kind.ESCALATION else f"{planned.step}@{due:%Y%m%d}"
            session.add(Reminder(complaint_id=complaint.id, kind=planned.kind.value, deadline=planned.deadline.value, step=step, due_at=planned.due_at))

    def _handover(self, session: Session, complaint: Complaint, mail: InboundMail, now: datetime) -> None:
        token = handler_token(session, complaint, now)
        history = session.exec(select(HistoryEvent).where(HistoryEvent.complaint_id == complaint.id).order_by(HistoryEvent.at, HistoryEvent.id)).all()
        stored = session.exec(select(StoredAttachment).where(StoredAttachment.complaint_id == complaint.id)).all()
        files = tuple(FileToAttach(a.filename, a.content_type, self.store.load(a.sha256)) for a in stored)
        letter = notices.render_handover(self.templates, notices.HandoverFacts(
            complaint=complaint_summary(complaint), token=token, handler_name=complaint.handler_name,
            handed_over_by=f"{mail.sender.name} <{mail.sender.email}>" if mail.sender.name else mail.sender.email,
            body=complaint.text_body, attachments=tuple(AttachmentLine(a.filename, a.size) for a in stored), attachments_attached=True,
            history=tuple(notices.HistoryLine(h.at, h.event, h.detail) for h in history)))
        self._to_handler(session, complaint, letter, token, now, "handover", files)

    # ------------------------------------------------------------------ tokens and sending

    def _handler(self, complaint: Complaint):
        return self.config.routing.handler(complaint.handler_email) or self.config.routing.default

    def _own_token(self, session: Session, complaint: Complaint, mail: InboundMail) -> str:
        """After a handover, the former handler's confirmation carries their own token."""
        row = session.exec(select(CommandToken.token).where(CommandToken.complaint_id == complaint.id, CommandToken.handler_email == mail.sender.email.lower())).first()
        return row or new_token()

    def _domain(self) -> str:
        return self.config.smtp.sender.domain

    def _to_handler(self, session, complaint, letter, token, now, kind, files=()) -> None:
        to = Address(complaint.handler_name, complaint.handler_email)
        self._send(session, complaint, letter, to, now, kind, handler_message_id(complaint.reference, token, self._domain()), files=files)

    def _to_customer(self, session, complaint, letter, now, kind, files=(), reply_to: InboundMail | None = None) -> None:
        to = Address(complaint.customer_name, complaint.customer_email)
        thread = (complaint.message_id,) if complaint.message_id else ()
        mail = compose(letter, sender=self.config.smtp.sender, to=to, message_id=new_message_id(complaint.reference, kind.replace("_", "-"), self._domain()),
                       date=now, in_reply_to=reply_to.message_id if reply_to else complaint.message_id, references=thread, auto_submitted="auto-generated" if kind != "answer" else "no",
                       files=files, kind=kind)
        queue(session, mail, purpose=kind, complaint_id=complaint.id, now=now)

    def _send(self, session, complaint, letter, to: Address, now, kind, message_id, files=(), reply_to: InboundMail | None = None) -> None:
        mail: OutgoingMail = compose(letter, sender=self.config.smtp.sender, to=to, message_id=message_id, date=now,
                                     in_reply_to=reply_to.message_id if reply_to else None, references=reply_to.references if reply_to else (),
                                     auto_submitted="auto-replied" if reply_to else "auto-generated", files=files, kind=kind)
        queue(session, mail, purpose=kind, complaint_id=complaint.id, now=now)


def _cancel(session: Session, complaint_id: int, deadline: DeadlineKind | None) -> None:
    statement = update(Reminder).where(Reminder.complaint_id == complaint_id, Reminder.state == "pending")
    if deadline is not None:
        statement = statement.where(Reminder.deadline == deadline.value)
    session.exec(statement.values(state="cancelled"))


def _change(change) -> notices.Change:
    return notices.Change(notices.ChangeField(change.field), change.before, change.after)


def _word(value: object) -> str:
    return value.isoformat() if isinstance(value, datetime) else ("-" if value is None else str(value))


YES = frozenset({"oui", "yes", "satisfait", "satisfaite", "satisfied"})
NO = frozenset({"non", "no", "insatisfait", "insatisfaite", "unsatisfied"})


def _satisfaction(text: str) -> str | None:
    """"satisfied" / "not satisfied" from the first word of a customer's reply, else None."""
    words = text.strip().split(None, 1)
    first = words[0].strip(".,;:!").lower() if words else ""
    if first in YES:
        return "satisfied"
    if first in NO:
        return "not satisfied"
    return None
