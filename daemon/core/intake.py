"""Intake decisions: what a fetched message is, and what registering a new complaint does.

Two pure steps, the register's facts passed in (`Prior`) and the clock too:
* `triage_batch` says, for each fetched message, whether its exact bytes are already registered
  (move only), or which outcome it gets (complaint, follow-up, robot, quarantine, a staff command
  mail naming no complaint) and why;
* `decide_registration` gives a new complaint's effects: the acknowledgement to the customer, the
  "new complaint" mail to its designated handler with a command token, the history, the reminders;
  `decide_unaddressed` the command error that answers a staff command mail naming no complaint.

A mail from a handler or the supervisor that names no complaint (no reference, no token, no thread
of ours) is a new complaint when it carries no command: staff pass on a customer's complaint that
way. With `#tags` at its top it was meant as commands: opening a complaint would acknowledge the
handler as a customer, so it is kept and answered with how to name the complaint instead.
The runner (`runners/ingest.py`) stores the attachments and numbers the complaints in between.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from daemon.core.commands.tags import parse_commands
from daemon.core.deadlines import Deadline, due_at
from daemon.core.effects import ACTOR, Effects, HistoryEntry, TokenToIssue
from daemon.core.flood import flood_alert
from daemon.core.follow_up import new_text
from daemon.core.letters import (
    AcknowledgementFacts,
    AttachmentLine,
    CommandUnaddressedFacts,
    ComplaintSummary,
    FileToAttach,
    HandlerNotificationFacts,
    LetterToSend,
    PreviousComplaints,
    new_message_id,
)
from daemon.core.lifecycle import Status
from daemon.core.limits import withheld
from daemon.core.mail import Address, Fetched, InboundMail, StoredFile
from daemon.core.manual_entry import ManualEntry
from daemon.core.policy import Policy
from daemon.core.references import Reference, format_reference
from daemon.core.reminders import DeadlineKind, plan
from daemon.core.routing import CategoryMatch, Route, categorize, route
from daemon.core.threads import bounced_ids, thread_of
from daemon.core.tokens import handler_message_id
from daemon.core.triage import Facts, Outcome, classify, fingerprint, reply_address
from daemon.core.verp import Letter, returned
from daemon.errors import MailError


@dataclass(frozen=True)
class Prior:
    """What the register already knows about a batch: outcome by SHA-256, seen Message-IDs, and
    which complaint each named Message-ID or reference belongs to (for threading)."""

    outcomes: dict[str, str]
    message_ids: frozenset[str]
    thread_ids: dict[str, int] = field(default_factory=dict)
    thread_references: dict[str, int] = field(default_factory=dict)
    automatic_mails: dict[str, int] = field(default_factory=dict)  # lower-cased address → in the last 24 h
    fingerprints: frozenset[str] = frozenset()  # triage.fingerprint of registered mails like the batch's
    letters: dict[int, Letter] = field(default_factory=dict)  # outbox rows the batch's return paths name
    flood_alerted: frozenset[str] = frozenset()  # correspondents the supervisor was told of in the window


@dataclass(frozen=True)
class Triaged:
    """One fetched message and what it is. `outcome` None: its exact bytes are already registered
    (a re-fetch after a crash), so it is only moved; `previous` is the outcome it had then."""

    item: Fetched
    sha256: str
    outcome: Outcome | None
    reason: str = ""
    mail: InboundMail | None = None
    thread: int | None = None
    previous: str | None = None
    withheld: str = ""  # why a complaint gets no acknowledgement (core/limits.py), else ""
    alert: bool = False  # the first mail past its sender's cap: the supervisor is told (core/flood.py)

    @property
    def quarantined(self) -> bool:
        if self.outcome is None:
            return self.previous == Outcome.QUARANTINE.value
        return self.outcome is Outcome.QUARANTINE


@dataclass(frozen=True)
class Intake:
    """What ingestion decided about one message, ready to be written."""

    raw: bytes
    sha256: str
    arrived_at: datetime
    outcome: Outcome
    reason: str = ""
    mail: InboundMail | None = None
    files: tuple[StoredFile, ...] = ()
    route: Route | None = None
    ack: Deadline | None = None
    answer: Deadline | None = None
    thread: int | None = None  # the complaint a follow-up (or a robot's reply) is about
    customer: Address | None = None  # a complaint's: where its letters go (triage.reply_address)
    withheld: str = ""  # why it gets no acknowledgement (core/limits.py), else ""
    alert: bool = False  # the first past its sender's cap: the supervisor is told (core/flood.py)
    category: CategoryMatch | None = None  # a complaint's, found by its keywords (routing.categorize)
    entry: ManualEntry | None = None  # a complaint typed in by hand (`complaintsd add`)

    @property
    def customer_name(self) -> str:
        return self.entry.name.strip() if self.entry else (self.customer.name if self.customer else "")

    @property
    def customer_email(self) -> str:
        return self.customer.email if self.customer else ""

    @property
    def registered_email(self) -> str:
        """The customer's address as the register keeps it: "" for a complaint typed in without one."""
        if self.entry is not None or self.customer is not None or self.mail is None:
            return self.customer_email
        return self.mail.customer.email


def triage_batch(
    batch: list[tuple[Fetched, str, InboundMail | MailError]], prior: Prior, policy: Policy, now: datetime
) -> list[Triaged]:
    """(fetched, SHA-256, parsed) for each message → what each one is; duplicates within the batch
    count. `now` dates a message the mailbox gave no arrival time (command lines read dates)."""
    seen_hashes: set[str] = set()
    seen_ids: set[str] = set()  # Message-IDs, and fingerprints of mails without one
    answered: Counter[str] = Counter()  # acknowledgements this batch already gives, by address
    alerted = set(prior.flood_alerted)  # senders the supervisor was told of, or is in this batch
    triaged = []
    for item, sha, mail in batch:
        one = _triage(item, sha, mail, prior, seen_hashes, seen_ids, policy, now)
        triaged.append(_capped(one, prior, answered, alerted, policy))
        seen_hashes.add(sha)
        if isinstance(mail, InboundMail):
            seen_ids.add(mail.message_id or fingerprint(mail) or "")
    return triaged


def _capped(triaged: Triaged, prior: Prior, answered: Counter[str], alerted: set[str], policy: Policy) -> Triaged:
    """A complaint past its sender's daily cap of automatic mail is registered without acknowledgement
    (the first one alerts the supervisor, once a day per sender); a command mail naming no complaint
    is kept unanswered (a mail rule forwarding our answer back with its lines cannot loop)."""
    if triaged.outcome not in (Outcome.COMPLAINT, Outcome.UNADDRESSED_COMMAND) or triaged.mail is None:
        return triaged
    target = answer_address(triaged.mail, triaged.outcome, policy)
    if target is None:
        return triaged
    address = target.normalized
    reason = withheld(
        address, prior.automatic_mails.get(address, 0) + answered[address], policy.automatic_mails_per_day
    )
    if reason and triaged.outcome is Outcome.UNADDRESSED_COMMAND:
        return replace(triaged, withheld=reason, reason=f"{triaged.reason}; {reason}")
    if reason:
        alert = address not in alerted
        alerted.add(address)
        return replace(triaged, withheld=reason, alert=alert)
    answered[address] += 1
    return triaged


def answer_address(mail: InboundMail, outcome: Outcome | None, policy: Policy) -> Address | None:
    """Where a new mail's automatic answer goes: a staff member's own address, else the customer's
    (triage.reply_address); the daily cap counts that address."""
    if outcome is Outcome.UNADDRESSED_COMMAND:
        return mail.author
    return reply_address(mail, policy.own_addresses)


def _triage(item, sha, mail, prior: Prior, seen_hashes, seen_ids, policy: Policy, now: datetime) -> Triaged:
    if sha in prior.outcomes or sha in seen_hashes:
        return Triaged(item, sha, None, previous=prior.outcomes.get(sha, Outcome.DUPLICATE.value))
    if isinstance(mail, MailError):
        return Triaged(item, sha, Outcome.QUARANTINE, mail.reason)
    thread = thread_of(mail, policy.prefix, prior.thread_ids, prior.thread_references)
    known = bool(mail.message_id) and (mail.message_id in prior.message_ids or mail.message_id in seen_ids)
    print_ = fingerprint(mail)
    same = print_ is not None and (print_ in prior.fingerprints or print_ in seen_ids)
    facts = Facts(False, known, policy.own_addresses, thread, fingerprint_known=same)
    disposition = classify(mail, facts)
    if disposition.outcome is Outcome.ROBOT and thread is not None and mail.sender and bounced_ids(mail):
        # A letter of ours did not reach its recipient: the handler must know (follow_up.py).
        return Triaged(
            item, sha, Outcome.FOLLOW_UP, f"delivery failure of our letter: {disposition.reason}", mail, thread
        )
    if disposition.outcome is Outcome.ROBOT and mail.sender:
        ours = [letter for letter in _returned(mail, prior, policy) if letter.complaint_id is not None]
        if ours:
            reason = f"delivery failure at the return path of our letter: {disposition.reason}"
            return Triaged(item, sha, Outcome.FOLLOW_UP, reason, mail, ours[0].complaint_id)
    if disposition.outcome is Outcome.COMPLAINT and _command_lines(mail, _day(item, now, policy), policy):
        reason = f"command mail from {mail.author.email} naming no complaint (no reference, no token)"
        return Triaged(item, sha, Outcome.UNADDRESSED_COMMAND, reason, mail)
    return Triaged(item, sha, disposition.outcome, disposition.reason, mail, thread)


def _returned(mail: InboundMail, prior: Prior, policy: Policy) -> tuple[Letter, ...]:
    """Our letters a robot's mail reports undelivered through their return path (core/verp.py)."""
    return returned(mail, prior.letters, policy.sender.email, policy.verp_delimiter) if prior.letters else ()


def _day(item: Fetched, now: datetime, policy: Policy) -> date:
    return (item.arrived_at or now).astimezone(policy.timezone).date()


def _command_lines(mail: InboundMail, today: date, policy: Policy) -> tuple[str, ...]:
    """The command lines a staff member wrote at the top of a mail (none for anyone else's): what
    follow_up.py would read as commands, understood or not."""
    if mail.author.normalized not in policy.staff:
        return ()
    commands = parse_commands(new_text(mail), today)
    return tuple(c.line for c in commands.commands) + tuple(p.line for p in commands.problems)


def intake_of(triaged: Triaged, files: tuple[StoredFile, ...], now: datetime, policy: Policy) -> Intake:
    """The row-ready intake: for a complaint, its category, then its handler and its two deadlines
    from its arrival, both chosen with that category (`[categories.<name>]`)."""
    assert triaged.outcome is not None
    arrived = triaged.item.arrived_at or now
    mail = triaged.mail
    if triaged.outcome is not Outcome.COMPLAINT or mail is None:
        return Intake(
            triaged.item.raw,
            triaged.sha256,
            arrived,
            triaged.outcome,
            triaged.reason,
            mail,
            thread=triaged.thread,
            withheld=triaged.withheld,
        )
    found = categorize(((c.name, c.keywords) for c in policy.categories), subject=mail.subject, body=mail.text_body)
    category = found.name if found else None
    ack_rule, answer_rule = policy.deadline_rules(category)
    chosen = route(
        policy.handlers,
        policy.default_handler,
        subject=mail.subject,
        body=mail.text_body,
        sender_email=mail.sender.email if mail.sender else "",
        category=category,
    )
    return Intake(
        raw=triaged.item.raw,
        sha256=triaged.sha256,
        arrived_at=arrived,
        outcome=Outcome.COMPLAINT,
        mail=mail,
        files=files,
        route=chosen,
        ack=due_at(arrived, ack_rule, policy.timezone, policy.closed),
        answer=due_at(arrived, answer_rule, policy.timezone, policy.closed),
        customer=reply_address(mail, policy.own_addresses),
        withheld=triaged.withheld,
        alert=triaged.alert,
        category=found,
    )


def intake_of_entry(
    entry: ManualEntry, mail: InboundMail, raw: bytes, files: tuple[StoredFile, ...], policy: Policy
) -> tuple[Triaged, Intake]:
    """A complaint typed in by hand (`mail` is `manual_entry.mail_of` it) takes the mail's path from
    here: same routing and deadlines, counted from when the customer made it, not from when it was typed."""
    triaged = Triaged(Fetched("manual", raw, entry.received_at), mail.raw_sha256, Outcome.COMPLAINT, mail=mail)
    return triaged, replace(intake_of(triaged, files, entry.received_at, policy), customer=entry.customer, entry=entry)


def decide_registration(
    intake: Intake,
    reference: Reference,
    token: str,
    now: datetime,
    policy: Policy,
    previous: PreviousComplaints | None = None,
) -> Effects:
    """A new complaint: acknowledge it, tell its handler (with the command token and the customer's
    `previous` complaints, which the runner looked up), plan its reminders.

    Past its sender's daily cap (`intake.withheld`) it is registered and routed all the same, but no
    acknowledgement leaves: the history says why, and no acknowledgement reminder is planned (the
    silence is deliberate, nobody must be chased for it)."""
    assert intake.mail is not None and intake.route is not None and intake.ack and intake.answer
    notification = _notification(intake, reference, token, policy, previous or PreviousComplaints())
    handler = intake.route.handler
    before = policy.reminders.before
    queued = HistoryEntry(
        "handler_notification_queued", ACTOR, f"to {handler.email}, Message-ID {notification.message_id}"
    )
    if intake.withheld:
        notification = replace(notification, held=True)
        letters: tuple[LetterToSend, ...] = (notification,)
        told = HistoryEntry("acknowledgement_withheld", ACTOR, intake.withheld)
        reminders = plan(DeadlineKind.ANSWER, intake.answer.at, before, now)
        queued = HistoryEntry("handler_notification_held", ACTOR, _held(handler.email, policy))
        if intake.alert:
            letters += (flood_alert(intake.mail.author.email, str(reference), now, policy),)
            queued = replace(queued, detail=f"{queued.detail}; the supervisor is told of the flood")
    else:
        ack = _acknowledgement(intake, reference, policy)
        letters = (ack, notification)
        told = _acknowledgement_told(ack)
        reminders = plan(DeadlineKind.ACK, intake.ack.at, before, now) + plan(
            DeadlineKind.ANSWER, intake.answer.at, before, now
        )
    categorized = () if intake.category is None else (HistoryEntry("categorized", ACTOR, intake.category.reason),)
    return Effects(
        history=(
            HistoryEntry("received", _received_from(intake), _received_detail(intake)),
            told,
            *categorized,
            HistoryEntry("routed", ACTOR, f"to {handler.name} <{handler.email}>: {intake.route.reason}"),
            queued,
        ),
        letters=letters,
        tokens=(TokenToIssue(token, handler.email),),
        plan=reminders,
    )


def _held(handler: str, policy: Policy) -> str:
    hours = max(1, round(policy.grouped_every.total_seconds() / 3600))
    return f"to {handler}, grouped with this sender's other mails past the cap (one mail every {hours} h at most)"


def _acknowledgement_told(ack: LetterToSend) -> HistoryEntry:
    if ack.to is None:
        return HistoryEntry("acknowledgement_to_post", ACTOR, "no email address: posted (see letter_to_post)")
    return HistoryEntry("acknowledgement_queued", ACTOR, f"to {ack.to.email}, Message-ID {ack.message_id}")


def _received_from(intake: Intake) -> str:
    """Who the history says made the complaint: the mail's sender, or the customer and the channel."""
    if intake.entry is None:
        assert intake.mail is not None
        return intake.mail.author.email
    return f"{intake.entry.channel.value}: {intake.customer_email or intake.customer_name}"


def decide_unaddressed(intake: Intake, now: datetime, policy: Policy) -> Effects:
    """A staff member's command mail naming no complaint: a command error back to them, saying what
    was read and how to name a complaint; no complaint is opened. Nothing past the daily cap."""
    mail = intake.mail
    assert mail is not None and intake.outcome is Outcome.UNADDRESSED_COMMAND
    lines = _command_lines(mail, intake.arrived_at.astimezone(policy.timezone).date(), policy)
    if intake.withheld or not lines:
        return Effects()
    example = format_reference(policy.prefix, now.astimezone(policy.timezone).year, 42)
    author = mail.author
    facts = CommandUnaddressedFacts(author.email, author.name, intake.arrived_at, mail.subject, lines, example)
    letter = LetterToSend(
        kind="command_unaddressed",
        facts=facts,
        to=mail.author,
        message_id=new_message_id("unaddressed", "command-error", policy.domain),
        in_reply_to=mail.message_id,
        references=mail.references,
        auto_submitted="auto-replied",
    )
    return Effects(letters=(letter,))


def _acknowledgement(intake: Intake, reference: Reference, policy: Policy) -> LetterToSend:
    mail, customer = intake.mail, intake.customer
    assert mail is not None and (customer is not None or intake.entry is not None) and intake.answer is not None
    facts = AcknowledgementFacts(
        reference=str(reference),
        customer_name=intake.customer_name,
        customer_email=intake.customer_email,
        subject=mail.subject,
        received_at=intake.arrived_at,
        answer_due_at=intake.answer.at,
        attachments=tuple(AttachmentLine(f.filename, f.size) for f in intake.files),
        mediator=policy.mediator,
        organisation=policy.organisation,
        mediation=policy.mediation(intake.arrived_at),
    )
    return LetterToSend(
        kind="acknowledgement",
        facts=facts,
        to=customer,
        message_id=new_message_id(str(reference), "ack", policy.domain),
        in_reply_to=mail.message_id,
        references=mail.references,
        auto_submitted="auto-replied",
    )


def _notification(
    intake: Intake, reference: Reference, token: str, policy: Policy, previous: PreviousComplaints
) -> LetterToSend:
    """The "new complaint" mail to the designated handler, carrying the command token."""
    mail, chosen = intake.mail, intake.route
    assert mail is not None and chosen is not None and intake.ack and intake.answer
    attached = sum(a.size for a in mail.attachments) <= policy.attach_limit
    files = tuple(FileToAttach(a.filename, a.content_type, a.content) for a in mail.attachments) if attached else ()
    facts = HandlerNotificationFacts(
        complaint=ComplaintSummary(
            reference=str(reference),
            status=Status.RECEIVED,
            customer_name=intake.customer_name,
            customer_email=intake.customer_email,
            subject=mail.subject,
            received_at=intake.arrived_at,
            ack_due_at=intake.ack.at,
            answer_due_at=intake.answer.at,
        ),
        token=token,
        handler_name=chosen.handler.name,
        body=mail.text_body,
        attachments=tuple(AttachmentLine(f.filename, f.size) for f in intake.files),
        attachments_attached=attached,
        routing_rule=chosen.rule,
        routing_match=chosen.matched,
        previous=previous,
    )
    return LetterToSend(
        kind="handler_notification",
        facts=facts,
        to=Address(chosen.handler.name, chosen.handler.email),
        message_id=handler_message_id(str(reference), token, policy.domain),
        files=files,
    )


def _received_detail(intake: Intake) -> str:
    assert intake.mail is not None
    files = ", ".join(f.filename for f in intake.files)
    return f"subject: {intake.mail.subject}" + (f"; attachments: {files}" if files else "")
