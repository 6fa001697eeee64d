"""Ingestion: turn a batch of fetched messages into register rows, in one transaction.

Load what the register knows of the batch, decide (core.intake), store the attachments, number the
new complaints, then write the whole batch and commit; the service moves the messages only after
this returns. One bad message never blocks the batch: if the batch cannot be written, each message
is retried alone, and one that fails alone is quarantined with its reason (Mailman's
Runner._one_iteration). A batch that quarantined anything queues one notice to the admin
(core/quarantine.py), after its own commit: a crash in between loses the notice, never a mail.
`retry` puts one quarantined mail through registration again (`complaintsd quarantine retry`, like
Mailman's `unshunt`): its row is replaced in the transaction that registers it, or keeps the new reason.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

import jinja2
from sqlmodel import Session

from daemon.core.effects import Effects
from daemon.core.intake import (
    Intake,
    Triaged,
    answer_address,
    decide_registration,
    decide_unaddressed,
    intake_of,
    triage_batch,
)
from daemon.core.letters import PreviousComplaint, PreviousComplaints, QuarantinedLine
from daemon.core.letters.compose import OutgoingMail
from daemon.core.lifecycle import Status
from daemon.core.limits import WINDOW
from daemon.core.mail import Fetched, InboundMail, StoredFile
from daemon.core.parsing import parse
from daemon.core.policy import Policy
from daemon.core.quarantine import decide_quarantine_notice
from daemon.core.references import Reference, number_batch
from daemon.core.threads import named_ids, named_references
from daemon.core.tokens import new_token
from daemon.core.triage import Outcome
from daemon.core.verp import claims
from daemon.edges.register.quarantine import QuarantinedMessage, quarantined_by_sha256
from daemon.edges.register.reads import PREVIOUS_LISTED, last_sequences, previous_complaints, prior_knowledge
from daemon.edges.register.writes import (
    SequenceConflict,
    apply,
    claim_sequences,
    history_in_one_append,
    record,
    record_batch,
    release_quarantined,
    requarantine,
    rows_in_one_insert,
)
from daemon.errors import MailError, NotFound, TransientError
from daemon.runners.desk import Desk
from daemon.runners.poison import Attempts

log = logging.getLogger("complaintsd.ingest")


@dataclass
class BatchResult:
    """Where each message goes once the register has committed."""

    processed: list[str] = field(default_factory=list)
    quarantined: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.processed) + len(self.quarantined)


@dataclass(frozen=True)
class Retried:
    """What a retried quarantined mail became: its new outcome ("complaint", "robot"…, or still
    "quarantine"), the reference of a new complaint, and the reason (triage's, or the new failure)."""

    outcome: str
    reference: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class _Registration:
    """A new complaint's number and its effects, prepared before the write transaction."""

    reference: Reference
    effects: Effects
    mails: list[OutgoingMail]


class Ingestor:
    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.attempts = Attempts()  # failed registrations per message (runners/poison.py)

    def ingest(self, batch: list[Fetched]) -> BatchResult:
        now = self.desk.clock()
        triaged = self._triage(batch)
        intakes, written = self._intakes(triaged, now)
        try:
            written |= self._write(intakes, now)
        except TransientError:
            raise
        except Exception as exc:  # fall back to one by one, see the module docstring
            log.warning("batch of %d could not be written (%s); retrying one by one", len(intakes), exc)
            written |= {t.item.key: self._write_alone(t, intake, now) for t, intake in intakes}
        self._tell_admin([t.sha256 for t in triaged if _newly_quarantined(t, written)], now)
        return _result(triaged, written)

    def retry(self, message: QuarantinedMessage) -> Retried:
        """One quarantined mail through triage and registration again, as if it had just been
        fetched (its arrival time kept). Failing again, it stays quarantined with the new reason."""
        now = self.desk.clock()
        item = Fetched(f"quarantined-{message.id}", message.raw, message.arrived_at)
        [triaged] = self._triage([item], replacing=(message.sha256,))
        if triaged.outcome is Outcome.QUARANTINE or triaged.outcome is None:
            return self._requarantine(message, triaged.reason or "already registered", now)
        try:
            intake = intake_of(triaged, self._keep(triaged), now, self.desk.policy)
            written = register_intakes(self.desk, [(triaged, intake)], now, replacing=message.id)
        except (TransientError, NotFound):
            raise
        except Exception as exc:  # the mail's own failure, as in _write_alone
            return self._requarantine(message, f"could not be registered: {exc.__class__.__name__}: {exc}", now)
        return Retried(triaged.outcome.value, written.get(item.key), triaged.reason)

    def _requarantine(self, message: QuarantinedMessage, reason: str, now: datetime) -> Retried:
        with self.desk.register.transaction() as session:
            requarantine(session, message.id, reason, now)
        return Retried(Outcome.QUARANTINE.value, None, reason)

    def _tell_admin(self, sha256s: list[str], now: datetime) -> None:
        """One notice for the batch's quarantined mails, in a transaction of its own (see the module
        docstring); a notice that cannot be queued is logged, the batch stays done."""
        if not sha256s:
            return
        try:
            with self.desk.register.transaction() as session:
                lines = [
                    QuarantinedLine(m.id, m.arrived_at, m.sender, m.subject, m.reason)
                    for m in quarantined_by_sha256(session, sha256s)
                ]
                self.desk.apply(session, decide_quarantine_notice(lines, now, self.desk.policy), now)
        except Exception as exc:  # the mails are quarantined and counted by `status` all the same
            log.error("could not queue the admin's notice of %d quarantined mail(s): %s", len(sha256s), exc)

    def _triage(self, batch: list[Fetched], replacing: tuple[str, ...] = ()) -> list[Triaged]:
        parsed = [(item, *_parse(item.raw)) for item in batch]
        mails = [mail for _, _, mail in parsed if isinstance(mail, InboundMail)]
        with self.desk.register.session() as session:
            prior = prior_knowledge(
                session,
                (sha for _, sha, _ in parsed),
                [m.message_id for m in mails if m.message_id],
                [mid for m in mails for mid in named_ids(m)],
                [ref for m in mails for ref in named_references(m, self.desk.policy.prefix)],
                _correspondents(mails, self.desk.policy),
                self.desk.clock() - WINDOW,
                [(m.sender.email, m.subject) for m in mails if m.sender and not m.message_id],
                replacing,
                self.desk.only,
                letter_ids=_return_paths(mails, self.desk.policy),
            )
        return [_logged(t) for t in triage_batch(parsed, prior, self.desk.policy, self.desk.clock())]

    def _intakes(
        self, triaged: list[Triaged], now: datetime
    ) -> tuple[list[tuple[Triaged, Intake]], dict[str, str | None]]:
        """Each mail's intake, its files stored; a mail whose files cannot be stored for a reason of
        its own (a full or missing disk is an outage) fails alone, as in `_write_alone`."""
        intakes: list[tuple[Triaged, Intake]] = []
        failed: dict[str, str | None] = {}
        for t in triaged:
            if t.outcome is None:
                continue
            try:
                intakes.append((t, intake_of(t, self._keep(t), now, self.desk.policy)))
            except TransientError:
                raise
            except Exception as exc:  # the one catch-all per message, before the register
                failed[t.item.key] = self._failed(t, exc, now)
        return intakes, failed

    def _keep(self, triaged: Triaged) -> tuple[StoredFile, ...]:
        if triaged.outcome is Outcome.COMPLAINT and triaged.mail is not None:
            return self.desk.store.keep(triaged.mail)
        return ()

    def _write(self, intakes: list[tuple[Triaged, Intake]], now: datetime) -> dict[str, str | None]:
        return register_intakes(self.desk, intakes, now)

    def _write_alone(self, triaged: Triaged, intake: Intake, now: datetime) -> str | None:
        """One message in its own transaction; when even that fails, left in the inbox for another
        try, and quarantined with its reason at the last one (runners/poison.py)."""
        try:
            return self._write([(triaged, intake)], now)[triaged.item.key]
        except TransientError:
            raise
        except Exception as exc:  # the one catch-all per message
            return self._failed(triaged, exc, now)

    def _failed(self, triaged: Triaged, exc: Exception, now: datetime) -> str:
        attempt = self.attempts.failed(triaged.sha256)
        if not self.attempts.exhausted(triaged.sha256):
            log.warning(
                "%s could not be registered (attempt %d), left for another try: %s", triaged.item.key, attempt, exc
            )
            return LEFT
        self.attempts.forget(triaged.sha256)
        log.error("quarantined %s after %d attempts: could not be registered: %s", triaged.item.key, attempt, exc)
        reason = f"could not be registered after {attempt} attempts: {exc.__class__.__name__}: {exc}"
        arrived = triaged.item.arrived_at or now
        failed = Intake(triaged.item.raw, triaged.sha256, arrived, Outcome.QUARANTINE, reason[:2000])
        try:
            with self.desk.register.transaction() as session:
                record(session, failed, now)
        except Exception as again:  # the message is still kept in the quarantine folder
            log.error("could not record the quarantine itself (%s); it stays in the quarantine folder", again)
        return QUARANTINED


def register_intakes(
    desk: Desk, intakes: list[tuple[Triaged, Intake]], now: datetime, replacing: int | None = None
) -> dict[str, str | None]:
    """Number and compose first (pure work), then one short write transaction (the sender also
    writes); the new complaints' references by message key. `complaintsd add` comes in here too;
    `replacing` is the row of the quarantined mail being registered again (`quarantine retry`)."""
    for _attempt in range(5):
        prepared = _prepare(desk, intakes, now)
        try:
            with desk.register.transaction() as session:
                if replacing is not None:
                    release_quarantined(session, replacing)
                return _write(session, desk.policy.prefix, intakes, prepared, now)
        except SequenceConflict as exc:
            log.info("reference numbering moved meanwhile (%s); numbering again", exc)
    raise TransientError("could not number complaints: the reference counters keep moving")


@dataclass(frozen=True)
class _Prepared:
    """The batch numbered and its new complaints' effects composed, before the transaction opens;
    `answers`: the command errors to staff mails naming no complaint, by message key."""

    last: dict[int, int]
    used: Counter[int]
    registrations: dict[str, _Registration]
    answers: dict[str, tuple[Effects, list[OutgoingMail]]] = field(default_factory=dict)


def _prepare(desk: Desk, intakes: list[tuple[Triaged, Intake]], now: datetime) -> _Prepared:
    complaints = [(t.item.key, i) for t, i in intakes if i.outcome is Outcome.COMPLAINT]
    years = [i.arrived_at.astimezone(desk.policy.timezone).year for _, i in complaints]
    with desk.register.session() as session:
        last = last_sequences(session, desk.policy.prefix, years)
        known = previous_complaints(session, [i.registered_email for _, i in complaints])
    numbers = number_batch(desk.policy.prefix, years, last)
    registrations = {}
    for (key, intake), reference, previous in zip(
        complaints, numbers, _previous(complaints, numbers, known), strict=True
    ):
        registrations[key] = _registration(desk, intake, reference, now, previous)
    answers = {}
    for triaged, intake in intakes:
        if intake.outcome is Outcome.UNADDRESSED_COMMAND:
            effects = decide_unaddressed(intake, now, desk.policy)
            answers[triaged.item.key] = (effects, _compose(desk, effects, now))
    return _Prepared(last, Counter(years), registrations, answers)


def _write(
    session: Session, prefix: str, intakes: list[tuple[Triaged, Intake]], prepared: _Prepared, now: datetime
) -> dict[str, str | None]:
    """The batch's rows: every message, and each new complaint with its effects; reference by key."""
    claim_sequences(session, prefix, prepared.last, prepared.used)
    with history_in_one_append(session):
        return _rows(session, intakes, prepared, now)


def _rows(
    session: Session, intakes: list[tuple[Triaged, Intake]], prepared: _Prepared, now: datetime
) -> dict[str, str | None]:
    keys = [triaged.item.key for triaged, _ in intakes]
    registrations = [prepared.registrations.get(key) for key in keys]
    numbered = [(intake, r.reference if r else None) for (_, intake), r in zip(intakes, registrations, strict=True)]
    complaint_ids = record_batch(session, numbered, now)
    references: dict[str, str | None] = dict.fromkeys(keys)
    with rows_in_one_insert(session):
        for key, registration, complaint_id in zip(keys, registrations, complaint_ids, strict=True):
            if key in prepared.answers:
                apply(session, *prepared.answers[key], now)
            if registration is not None and complaint_id is not None:
                apply(session, Effects(complaint_id) + registration.effects, registration.mails, now)
                references[key] = str(registration.reference)
    return references


def _previous(
    complaints: list[tuple[str, Intake]], numbers: list[Reference], known: dict[str, PreviousComplaints]
) -> Iterator[PreviousComplaints]:
    """Each new complaint's earlier ones from the same address: the register's, then those before
    it in this very batch (a customer who wrote twice in a minute)."""
    batch: dict[str, list[PreviousComplaint]] = {}
    for (_, intake), reference in zip(complaints, numbers, strict=True):
        email = intake.registered_email
        before = known.get(email, PreviousComplaints())
        earlier = batch.setdefault(email, []) if email else []
        yield PreviousComplaints((*before.listed, *earlier)[-PREVIOUS_LISTED:], before.total + len(earlier))
        earlier.append(PreviousComplaint(str(reference), intake.arrived_at, Status.RECEIVED))


def _registration(
    desk: Desk, intake: Intake, reference: Reference, now: datetime, previous: PreviousComplaints
) -> _Registration:
    """Everything a new complaint needs that is pure work: done before the write transaction."""
    effects = decide_registration(intake, reference, new_token(), now, desk.policy, previous)
    return _Registration(reference, effects, _compose(desk, effects, now))


def _compose(desk: Desk, effects: Effects, now: datetime) -> list[OutgoingMail]:
    try:
        return desk.compose(effects, now)
    except jinja2.TemplateError as exc:
        # A broken letter is the admin's to fix, not the customer's fault: keep the mail in the
        # inbox and retry, rather than quarantine every complaint behind it.
        raise TransientError(f"letters: a template does not render: {exc.__class__.__name__}: {exc}") from None


QUARANTINED = "\x00quarantined"
LEFT = "\x00left"  # failed for a reason of its own: stays in the inbox for another try


def _newly_quarantined(t: Triaged, written: dict[str, str | None]) -> bool:
    return t.outcome is Outcome.QUARANTINE or written.get(t.item.key) == QUARANTINED


def _result(triaged: list[Triaged], written: dict[str, str | None]) -> BatchResult:
    result = BatchResult()
    for t in triaged:
        reference = written.get(t.item.key)
        if reference == LEFT:
            continue
        quarantined = reference == QUARANTINED or t.quarantined
        (result.quarantined if quarantined else result.processed).append(t.item.key)
        if reference and reference not in (QUARANTINED, LEFT):
            result.references.append(reference)
    return result


def _correspondents(mails: list[InboundMail], policy: Policy) -> list[str]:
    """Where each mail's automatic letters would go, for the daily cap (core/limits.py): to a customer,
    or to a staff member whose command mail names no complaint."""
    targets = [answer_address(mail, Outcome.COMPLAINT, policy) for mail in mails]
    targets += [mail.sender for mail in mails if mail.sender and mail.sender.normalized in policy.staff]
    return list(dict.fromkeys(t.normalized for t in targets if t is not None))


def _return_paths(mails: list[InboundMail], policy: Policy) -> list[int]:
    """The outbox ids the batch's return paths name (core/verp.py), for the register to look up."""
    return [c.outbox_id for m in mails for c in claims(m, policy.sender.email, policy.verp_delimiter)]


def _logged(t: Triaged) -> Triaged:
    if t.alert and t.mail is not None:
        log.warning("flood: %s went past the daily cap of automatic mail; the supervisor is told", t.mail.author.email)
    if t.outcome is Outcome.QUARANTINE:
        log.warning("quarantined (%s): %s", t.reason, t.mail.message_id if t.mail else f"message {t.item.key}")
    elif t.outcome is Outcome.UNADDRESSED_COMMAND:
        log.info("not registered (%s): %s", t.reason, t.mail.message_id if t.mail else f"message {t.item.key}")
    elif t.outcome is Outcome.ROBOT and t.mail is not None:
        log.info(
            "not acknowledged (%s): %s from %s",
            t.reason,
            t.mail.message_id,
            t.mail.sender.email if t.mail.sender else "?",
        )
    return t


def _parse(raw: bytes) -> tuple[str, InboundMail | MailError]:
    """The message's SHA-256 (the parser's, computed once) and the mail or why it cannot be read."""
    try:
        mail = parse(raw)
    except MailError as exc:
        return hashlib.sha256(raw).hexdigest(), exc
    return mail.raw_sha256, mail
