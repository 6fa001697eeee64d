"""Ingestion: turn a batch of fetched messages into register rows, in one transaction.

Its whole job: parse → triage → store attachments → record (complaint, history, queued
acknowledgement) → commit, then say where each message must be moved. It never touches the
mailbox itself (the service moves messages after this returns, i.e. after the commit), so a crash
anywhere means the messages are fetched again and recognised by their SHA-256 or Message-ID.
One bad message never blocks the batch: if the batch cannot be written, each message is retried
alone, and one that fails alone is quarantined with its reason (Mailman's Runner._one_iteration).
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import jinja2
from sqlalchemy.engine import Engine
from sqlmodel import Session

from daemon.core.letters.compose import FileToAttach, OutgoingMail, compose, new_message_id
from daemon.config import Config
from daemon.core.deadlines import due_at
from daemon.errors import MailError, TransientError
from daemon.core.letters.staff import ComplaintSummary, HandlerNotificationFacts, render_handler_notification
from daemon.core.lifecycle import Status
from daemon.core.mail import Address, Fetched, InboundMail
from daemon.core.parsing import parse
from daemon.core.references import Reference, number_batch
from daemon.edges.register import Intake, Prior, Registration, SequenceConflict, StoredFile, claim_sequences, last_sequences, prior_knowledge, record
from daemon.core.reminders import DeadlineKind, plan as plan_reminders
from daemon.core.routing import route
from daemon.core.threads import named_ids, named_references, thread_of
from daemon.core.tokens import handler_message_id, new_token
from daemon.core.letters.render import AcknowledgementFacts, AttachmentLine, Templates, render_acknowledgement
from daemon.edges.storage import AttachmentStore
from daemon.core.triage import Disposition, Facts, Outcome, classify

log = logging.getLogger("complaintsd.ingest")

Clock = Callable[[], datetime]


@dataclass
class BatchResult:
    """Where each message goes once the register has committed."""

    processed: list[str] = field(default_factory=list)
    quarantined: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.processed) + len(self.quarantined)


class Ingestor:
    def __init__(self, config: Config, engine: Engine, clock: Clock) -> None:
        self.config = config
        self.engine = engine
        self.clock = clock
        self.store = AttachmentStore(config.storage.path)
        self.templates = Templates.of(config.register)
        self.closed = config.register.closed_days()

    # ------------------------------------------------------------------ one batch

    def ingest(self, batch: list[Fetched]) -> BatchResult:
        now = self.clock()
        intakes = self._prepare(batch, now)
        result = BatchResult()
        to_write = [(item, intake) for item, intake in intakes if intake.outcome is not None]
        try:
            references = self._write(to_write, now)
        except TransientError:
            raise
        except Exception as exc:  # noqa: BLE001 — fall back to one by one, see module docstring
            log.warning("batch of %d could not be written (%s); retrying one by one", len(to_write), exc)
            references = self._write_one_by_one(to_write, now)
        for item, intake in intakes:
            destination = result.quarantined if _is_quarantine(intake, references.get(item.key)) else result.processed
            destination.append(item.key)
        result.references = [ref for ref in references.values() if ref and ref != QUARANTINED]
        return result

    def _prepare(self, batch: list[Fetched], now: datetime) -> list[tuple[Fetched, _Planned]]:
        hashes = {item.key: hashlib.sha256(item.raw).hexdigest() for item in batch}
        parsed = {item.key: _parse(item.raw) for item in batch}
        mails = [m for m in parsed.values() if isinstance(m, InboundMail)]
        ids = [m.message_id for m in mails if m.message_id]
        prefix = self.config.register.reference_prefix
        named = [mid for m in mails for mid in named_ids(m)]
        references = [ref for m in mails for ref in named_references(m, prefix)]
        with Session(self.engine) as session:
            prior = prior_knowledge(session, hashes.values(), ids, named, references)
        seen_hashes: set[str] = set()
        seen_ids: set[str] = set()
        planned = []
        for item in batch:
            sha = hashes[item.key]
            plan = self._plan(item, sha, parsed[item.key], prior, seen_hashes, seen_ids, now)
            seen_hashes.add(sha)
            if isinstance(parsed[item.key], InboundMail) and parsed[item.key].message_id:
                seen_ids.add(parsed[item.key].message_id)
            planned.append((item, plan))
        return planned

    def _plan(self, item, sha, mail, prior: Prior, seen_hashes, seen_ids, now) -> _Planned:
        arrived = item.arrived_at or now
        if sha in prior.outcomes or sha in seen_hashes:
            # The very same bytes are already in the register (a re-fetch after a crash): only move.
            return _Planned(None, previous=prior.outcomes.get(sha, Outcome.DUPLICATE.value))
        if isinstance(mail, MailError):
            log.warning("quarantined (%s): message %s", mail.reason, item.key)
            return _Planned(Intake(raw=item.raw, sha256=sha, arrived_at=arrived, outcome=Outcome.QUARANTINE, reason=mail.reason))
        thread = thread_of(mail, self.config.register.reference_prefix, prior.thread_ids, prior.thread_references)
        facts = Facts(
            sha256_known=False,
            message_id_known=bool(mail.message_id) and (mail.message_id in prior.message_ids or mail.message_id in seen_ids),
            own_addresses=self.config.own_addresses,
            thread=thread,
        )
        disposition = classify(mail, facts)
        return _Planned(self._intake(item.raw, sha, arrived, mail, disposition, thread))

    def _intake(self, raw: bytes, sha: str, arrived: datetime, mail: InboundMail, disposition: Disposition, thread: int | None) -> Intake:
        if disposition.outcome is not Outcome.COMPLAINT:
            if disposition.outcome is Outcome.ROBOT:
                log.info("not acknowledged (%s): %s from %s", disposition.reason, mail.message_id, mail.sender.email if mail.sender else "?")
            elif disposition.outcome is Outcome.QUARANTINE:
                log.warning("quarantined (%s): %s", disposition.reason, mail.message_id)
            return Intake(raw=raw, sha256=sha, arrived_at=arrived, outcome=disposition.outcome, reason=disposition.reason, mail=mail, thread=thread)
        tz = self.config.register.timezone
        ack_rule, answer_rule = self.config.deadline_rules(None)
        routing = self.config.routing
        return Intake(
            raw=raw,
            sha256=sha,
            arrived_at=arrived,
            outcome=Outcome.COMPLAINT,
            mail=mail,
            files=tuple(self._store(mail)),
            route=route(routing.handlers, routing.default, subject=mail.subject, body=mail.text_body, sender_email=mail.sender.email),
            ack=due_at(arrived, ack_rule, tz, self.closed),
            answer=due_at(arrived, answer_rule, tz, self.closed),
        )

    def _store(self, mail: InboundMail) -> list[StoredFile]:
        files = []
        for attachment in mail.attachments:
            try:
                sha, path = self.store.save(attachment.content)
            except OSError as exc:
                raise TransientError(f"attachment store: cannot write {self.store.root}: {exc.strerror}") from None
            files.append(StoredFile(attachment.filename, attachment.content_type, attachment.size, sha, str(path)))
        return files

    # ------------------------------------------------------------------ writing

    def _write(self, items: list[tuple[Fetched, _Planned]], now: datetime) -> dict[str, str | None]:
        for _attempt in range(5):
            try:
                return self._write_once(items, now)
            except SequenceConflict as exc:
                log.info("reference numbering moved meanwhile (%s); numbering again", exc)
        raise TransientError("could not number complaints: the reference counters keep moving")

    def _write_once(self, items: list[tuple[Fetched, _Planned]], now: datetime) -> dict[str, str | None]:
        """Number and render first, then one short write transaction (the sender also writes)."""
        prefix, tz = self.config.register.reference_prefix, self.config.register.timezone
        complaints = [(item.key, plan.intake) for item, plan in items if plan.intake.outcome is Outcome.COMPLAINT]
        years = [intake.arrived_at.astimezone(tz).year for _, intake in complaints]
        with Session(self.engine) as session:
            last = last_sequences(session, prefix, years)
        numbers = dict(zip((key for key, _ in complaints), number_batch(prefix, years, last)))
        try:
            prepared = {key: self._registration(intake, numbers[key], now) for key, intake in complaints}
        except jinja2.TemplateError as exc:
            # A broken letter is the admin's to fix, not the customer's fault: keep the mail in the
            # inbox and retry, rather than quarantine every complaint behind it.
            raise TransientError(f"letters: a template does not render: {exc.__class__.__name__}: {exc}") from None
        references = {}
        with Session(self.engine) as session:
            claim_sequences(session, prefix, last, Counter(years))
            for item, plan in items:
                references[item.key] = record(session, plan.intake, now, prepared.get(item.key))
            session.commit()
        return references

    def _registration(self, intake: Intake, reference: Reference, now: datetime) -> Registration:
        """Everything a new complaint needs that is pure work: done before the write transaction."""
        token = new_token()
        before = self.config.reminders.before
        return Registration(
            reference=reference,
            acknowledgement=self._acknowledgement(intake, reference, now),
            notification=self._notification(intake, reference, token, now),
            token=token,
            reminders=plan_reminders(DeadlineKind.ACK, intake.ack.at, before, now) + plan_reminders(DeadlineKind.ANSWER, intake.answer.at, before, now),
        )

    def _write_one_by_one(self, items: list[tuple[Fetched, _Planned]], now: datetime) -> dict[str, str | None]:
        references = {}
        for item, plan in items:
            try:
                references.update(self._write([(item, plan)], now))
            except TransientError:
                raise
            except Exception as exc:  # noqa: BLE001 — the one catch-all per message
                log.error("quarantined %s: could not be registered: %s", item.key, exc)
                references[item.key] = QUARANTINED
                self._record_quarantine(plan.intake, f"could not be registered: {exc.__class__.__name__}: {exc}", now)
        return references

    def _record_quarantine(self, intake: Intake, reason: str, now: datetime) -> None:
        failed = Intake(raw=intake.raw, sha256=intake.sha256, arrived_at=intake.arrived_at, outcome=Outcome.QUARANTINE, reason=reason)
        try:
            with Session(self.engine) as session:
                record(session, failed, now, None)
                session.commit()
        except Exception as exc:  # noqa: BLE001 — the message is still kept in the quarantine folder
            log.error("could not record the quarantine itself (%s); the message stays in the quarantine folder", exc)

    def _acknowledgement(self, intake: Intake, reference: Reference, now: datetime) -> OutgoingMail:
        mail, customer = intake.mail, intake.mail.answer_to
        facts = AcknowledgementFacts(
            reference=str(reference),
            customer_name=customer.name,
            customer_email=customer.email,
            subject=mail.subject,
            received_at=intake.arrived_at,
            answer_due_at=intake.answer.at,
            attachments=tuple(AttachmentLine(f.filename, f.size) for f in intake.files),
            mediator=self.config.mediator,
            organisation=self.config.register.organisation,
        )
        sender = self.config.smtp.sender
        return compose(
            render_acknowledgement(self.templates, facts),
            sender=sender,
            to=customer,
            message_id=new_message_id(str(reference), "ack", sender.domain),
            date=now,
            in_reply_to=mail.message_id,
            references=mail.references,
            kind="acknowledgement",
        )

    def _notification(self, intake: Intake, reference: Reference, token: str, now: datetime) -> OutgoingMail:
        """The "new complaint" mail to the designated handler, carrying the command token."""
        mail, handler = intake.mail, intake.route.handler
        files = tuple(FileToAttach(a.filename, a.content_type, a.content) for a in mail.attachments)
        attached = sum(len(f.content) for f in files) <= ATTACH_LIMIT
        facts = HandlerNotificationFacts(
            complaint=ComplaintSummary(
                reference=str(reference),
                status=Status.RECEIVED,
                customer_name=mail.answer_to.name,
                customer_email=mail.answer_to.email,
                subject=mail.subject,
                received_at=intake.arrived_at,
                ack_due_at=intake.ack.at,
                answer_due_at=intake.answer.at,
            ),
            token=token,
            handler_name=handler.name,
            body=mail.text_body,
            attachments=tuple(AttachmentLine(f.filename, f.size) for f in intake.files),
            attachments_attached=attached,
            routing_rule=intake.route.rule,
            routing_match=intake.route.matched,
        )
        sender = self.config.smtp.sender
        return compose(
            render_handler_notification(self.templates, facts),
            sender=sender,
            to=Address(handler.name, handler.email),
            message_id=handler_message_id(str(reference), token, sender.domain),
            date=now,
            auto_submitted="auto-generated",
            files=files if attached else (),
            kind="handler_notification",
        )


ATTACH_LIMIT = 10 * 1024 * 1024  # beyond this the handler's mail lists the files instead of carrying them

QUARANTINED = "\x00quarantined"


@dataclass(frozen=True)
class _Planned:
    """An intake to write, or None when the exact bytes are already registered (`previous` outcome)."""

    intake: Intake | None
    previous: str | None = None

    @property
    def outcome(self) -> Outcome | None:
        return self.intake.outcome if self.intake else None


def _is_quarantine(plan: _Planned, reference: str | None) -> bool:
    if reference == QUARANTINED:
        return True
    if plan.intake is None:
        return plan.previous == Outcome.QUARANTINE.value
    return plan.intake.outcome is Outcome.QUARANTINE


def _parse(raw: bytes) -> InboundMail | MailError:
    try:
        return parse(raw)
    except MailError as exc:
        return exc
