"""The one writer: decisions (`Effects`, intakes, claims) become rows here, and nowhere else.

Each function works inside the caller's transaction (`Register.transaction`), so a runner's whole
decision is written, with its letters queued in the outbox, or nothing is (docs/design.md, "Crash safety").
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from itertools import groupby
from typing import TYPE_CHECKING

from sqlalchemy import delete, insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.dml import Delete, Update
from sqlmodel import Session, col, func, select

from daemon.core.chain import GENESIS, EventContent, digest, link
from daemon.core.deadlines import skipped_text
from daemon.core.lifecycle import Status
from daemon.core.outbox import FAILED, GROUPED, HELD, PENDING
from daemon.core.references import Reference
from daemon.core.reminders import COMPLAINT_DEADLINES, Planned, ReminderDeadline
from daemon.core.triage import Outcome
from daemon.edges.register.blobs import WRITE_FROM, insert_with_blob
from daemon.edges.register.models import (
    Action,
    Cause,
    ChainHead,
    CommandToken,
    Complaint,
    ComplaintLink,
    Digest,
    HistoryEvent,
    InboundMessage,
    OutboxMail,
    ReferenceCounter,
    Reminder,
    StoredAttachment,
)
from daemon.errors import NotFound

if TYPE_CHECKING:  # the sender process imports this module: not the intake's nor the letters' code
    from daemon.core.effects import Effects
    from daemon.core.intake import Intake
    from daemon.core.letters import OutgoingMail


class SequenceConflict(Exception):
    """Another writer numbered complaints since we read the counters: plan the batch again."""


def claim_sequences(session: Session, prefix: str, last: dict[int, int], used: dict[int, int]) -> None:
    """Move each year's counter from `last` to `last + used`, or raise SequenceConflict.

    Optimistic numbering keeps the write transaction short (letters are rendered before it starts)
    and gap-free: the counter moves in the same transaction as the complaints it numbers.
    """
    for year, count in used.items():
        if year not in last:
            session.add(ReferenceCounter(prefix=prefix, year=year, last=count))
            try:
                session.flush()
            except IntegrityError:
                raise SequenceConflict(f"{prefix}-{year} counter created meanwhile") from None
            continue
        moved = execute(
            session,
            update(ReferenceCounter)
            .where(
                col(ReferenceCounter.prefix) == prefix,
                col(ReferenceCounter.year) == year,
                col(ReferenceCounter.last) == last[year],
            )
            .values(last=last[year] + count),
        )
        if moved != 1:
            raise SequenceConflict(f"{prefix}-{year} counter moved meanwhile")


def _entered(intake: Intake) -> dict[str, object]:
    """What a complaint typed in by hand adds: how it came, who made it, how to reach them."""
    entry = intake.entry
    if entry is None:
        return {}
    return {
        "channel": entry.channel.value,
        "customer_type": entry.customer_type,
        "customer_phone": entry.phone,
        "customer_address": entry.address,
        "wished_solution": entry.wish,
    }


def record(session: Session, intake: Intake, now: datetime, reference: Reference | None = None) -> int | None:
    """Every message taken from the mailbox is kept, whatever became of it; with a `reference`, the
    new complaint it makes and its files (returns the complaint's id). A robot's reply about a
    complaint is noted in its history."""
    return record_batch(session, [(intake, reference)], now)[0]


def record_batch(
    session: Session, intakes: Sequence[tuple[Intake, Reference | None]], now: datetime
) -> list[int | None]:
    """`record` for a batch, in one INSERT per table: a statement per row was most of ingestion's
    database time (Core, not the ORM's unit of work, for the same reason)."""
    ids = _insert_complaints(session, [(intake, reference) for intake, reference in intakes if reference is not None])
    complaint_ids = [ids[str(reference)] if reference is not None else None for _, reference in intakes]
    files = [
        {"complaint_id": complaint_id, **stored.__dict__}
        for (intake, _), complaint_id in zip(intakes, complaint_ids, strict=True)
        if complaint_id is not None
        for stored in intake.files
    ]
    _many(session, StoredAttachment, files)
    rows = [
        _inbound_row(session, intake, complaint_id, now)
        for (intake, _), complaint_id in zip(intakes, complaint_ids, strict=True)
    ]
    _insert_messages(session, [(row, intake.raw) for row, (intake, _) in zip(rows, intakes, strict=True)])
    return complaint_ids


def _insert_messages(session: Session, rows: list[tuple[dict[str, object], bytes]]) -> None:
    """The messages' rows in order: the small ones in one executemany, a big one on its own,
    written without a whole copy of it (blobs.py)."""
    small: list[dict[str, object]] = []
    for row, raw in rows:
        if len(raw) < WRITE_FROM:
            small.append(row | {"raw": raw})
            continue
        _insert(session, InboundMessage, small)
        small = []
        insert_with_blob(session, InboundMessage.__table__, row, "raw", raw)  # type: ignore[attr-defined]
    _insert(session, InboundMessage, small)


def _inbound_row(session: Session, intake: Intake, complaint_id: int | None, now: datetime) -> dict[str, object]:
    mail = intake.mail
    sender, subject = (mail.sender.email if mail and mail.sender else ""), (mail.subject if mail else "")
    row: dict[str, object] = {
        "sha256": intake.sha256,
        "message_id": mail.message_id if mail else None,
        "outcome": intake.outcome.value,
        "reason": intake.reason,
        "complaint_id": complaint_id,
        "handled": True,
        "sender": sender,
        "subject": subject,
        "arrived_at": intake.arrived_at,
        "registered_at": now,
    }
    if intake.thread is not None and intake.outcome in (Outcome.FOLLOW_UP, Outcome.ROBOT):
        row |= {"complaint_id": intake.thread, "handled": intake.outcome is not Outcome.FOLLOW_UP}
        if intake.outcome is Outcome.ROBOT:
            detail = f"{intake.reason}; subject: {subject[:200]}"
            _history(session, intake.thread, now, "automatic_reply", sender, detail)
    return row


def _insert_complaints(session: Session, new: Sequence[tuple[Intake, Reference]]) -> dict[str, int]:
    """The new complaints' rows, in the batch's order, and their ids by reference."""
    table = Complaint.__table__  # type: ignore[attr-defined]
    _insert(session, Complaint, [_complaint_row(intake, reference) for intake, reference in new])
    references = [str(reference) for _, reference in new]
    ids: dict[str, int] = {}
    for start in range(0, len(references), 500):  # IN lists of a bounded length
        part = references[start : start + 500]
        found = session.execute(select(table.c.reference, table.c.id).where(table.c.reference.in_(part)))
        ids |= {str(reference): int(complaint_id) for reference, complaint_id in found}
    return ids


def _complaint_row(intake: Intake, reference: Reference) -> dict[str, object]:
    mail, route, ack, answer = intake.mail, intake.route, intake.ack, intake.answer
    assert mail is not None and route is not None and ack is not None and answer is not None
    return {
        "reference": str(reference),
        "prefix": reference.prefix,
        "year": reference.year,
        "sequence": reference.sequence,
        "status": Status.RECEIVED.value,
        "customer_email": intake.registered_email,
        "customer_name": intake.customer_name if intake.entry else (intake.customer or mail.customer).name,
        "subject": mail.subject,
        "text_body": mail.text_body,
        "html_body": mail.html_body,
        "message_id": mail.message_id,
        "language": "fr",
        "received_at": intake.arrived_at,
        "ack_due_at": ack.at,
        "answer_due_at": answer.at,
        "handler_email": route.handler.email,
        "handler_name": route.handler.name,
        "category": intake.category.name if intake.category else None,
        "ack_rule": str(ack.rule),
        "answer_rule": str(answer.rule),
        "answer_skipped": skipped_text(answer.skipped),
    } | _entered(intake)


def apply(session: Session, effects: Effects, mails: Sequence[OutgoingMail], now: datetime) -> None:
    """Write one decision: history, status and fields, reminders, tokens, and its composed letters
    (`mails`, in the order of `effects.letters`) queued in the outbox."""
    cid = effects.complaint_id
    if len(mails) != len(effects.letters):
        raise ValueError(f"{len(effects.letters)} letters decided, {len(mails)} composed")
    if cid is not None:
        append_history(session, [(cid, now, e.event, e.actor, e.detail) for e in effects.history])
        _fields(session, cid, effects)
        for deadline in effects.cancel:
            cancel_reminders(session, cid, deadline)
        _many(session, Reminder, [_reminder_row(cid, planned) for planned in effects.plan])
        tokens = [
            {"token": t.token, "complaint_id": cid, "handler_email": t.handler_email, "created_at": now}
            for t in effects.tokens
        ]
        _many(session, CommandToken, tokens)
        _links(session, cid, effects.links, now)
        causes: list[dict[str, object]] = [
            {"complaint_id": cid, "at": now, "text": c.text, "category": c.category} for c in effects.causes
        ]
        _many(session, Cause, causes)
        _actions(session, cid, effects, now)
        _many(session, StoredAttachment, [{"complaint_id": cid, **stored.__dict__} for stored in effects.files])
        _bounced(session, cid, effects.bounced)
    _many(
        session,
        OutboxMail,
        [
            _outbox_row(mail, letter.kind, cid, now, HELD if letter.held else PENDING)
            for letter, mail in zip(effects.letters, mails, strict=True)
        ],
    )


def _actions(session: Session, complaint_id: int, effects: Effects, now: datetime) -> None:
    """New actions (status open), then the moves the plan checked against words.ACTION_MOVES."""
    rows: list[dict[str, object]] = [
        {
            "complaint_id": complaint_id,
            "number": a.number,
            "kind": a.kind,
            "text": a.text,
            "owner_email": a.owner,
            "due_on": a.due,
            "status": "open",
            "reason": "",
            "created_at": now,
            "updated_at": now,
        }
        for a in effects.actions
    ]
    _many(session, Action, rows)
    for move in effects.action_moves:
        statement = update(Action).where(col(Action.complaint_id) == complaint_id, col(Action.number) == move.number)
        execute(session, statement.values(status=move.status, reason=move.reason, updated_at=now))


def _links(session: Session, complaint_id: int, related: tuple[int, ...], now: datetime) -> None:
    """A link is both ways (#related): a row each way, none twice."""
    pairs = {(complaint_id, other) for other in related} | {(other, complaint_id) for other in related}
    if not pairs:
        return
    _insert_deferred(session)
    existing = session.exec(
        select(ComplaintLink.complaint_id, ComplaintLink.related_id).where(
            col(ComplaintLink.complaint_id).in_({a for a, _ in pairs})
        )
    ).all()
    new = sorted(pairs - {tuple(row) for row in existing})
    _many(session, ComplaintLink, [{"complaint_id": a, "related_id": b, "created_at": now} for a, b in new])


def _bounced(session: Session, complaint_id: int, message_ids: tuple[str, ...]) -> None:
    """This complaint's letters that came back undelivered: failed, whatever the relay said then."""
    if message_ids:
        statement = update(OutboxMail).where(
            col(OutboxMail.complaint_id) == complaint_id, col(OutboxMail.message_id).in_(message_ids)
        )
        execute(session, statement.values(status=FAILED, last_reply="bounced: a delivery failure report came back"))


def _many(session: Session, model: type, rows: list[dict[str, object]]) -> None:
    """One executemany INSERT, in the order given (history ids keep the order of events); within
    `rows_in_one_insert`, the rows wait for the block's end."""
    deferred: dict[type, list[dict[str, object]]] | None = session.info.get(_ROWS)
    if deferred is not None:
        deferred.setdefault(model, []).extend(rows)
    else:
        _insert(session, model, rows)


def _insert(session: Session, model: type, rows: list[dict[str, object]]) -> None:
    """Rows in order, one executemany per run of rows with the same columns (a complaint typed in
    by hand has more than one that came by mail)."""
    for _, same in groupby(rows, key=tuple):
        session.execute(insert(model.__table__), list(same))  # type: ignore[attr-defined]


_ROWS = "complaintsd.rows_deferred"


@contextmanager
def rows_in_one_insert(session: Session) -> Iterator[None]:
    """Within the block, the decisions' new rows (reminders, tokens, letters, files…) go in one INSERT
    per table at its end, each table's rows in order: a batch of 200 registrations writes its letters
    in one statement, not 200. A statement that could read or change them (`execute`, `_links`)
    writes them first."""
    session.info[_ROWS] = {}
    try:
        yield
        _insert_deferred(session)
    finally:
        del session.info[_ROWS]


def _insert_deferred(session: Session) -> None:
    deferred: dict[type, list[dict[str, object]]] | None = session.info.get(_ROWS)
    if deferred:
        for model, rows in deferred.items():
            _insert(session, model, rows)
        deferred.clear()


def _fields(session: Session, complaint_id: int, effects: Effects) -> None:
    if effects.status is None and not effects.fields:
        return
    complaint = session.get(Complaint, complaint_id)
    assert complaint is not None
    if effects.status is not None:
        if complaint.status != effects.status.before:
            raise ValueError(f"{complaint.reference} is {complaint.status}, not {effects.status.before}, any more")
        complaint.status = Status(effects.status.after).value
    for name, value in effects.fields:
        setattr(complaint, name, value)


def _reminder_row(complaint_id: int, planned: Planned) -> dict[str, object]:
    return {
        "complaint_id": complaint_id,
        "kind": planned.kind.value,
        "deadline": planned.deadline.value,
        "step": planned.step,
        "due_at": planned.due_at,
        "state": "pending",
        "late": False,
    }


def cancel_reminders(session: Session, complaint_id: int, deadline: ReminderDeadline | None) -> None:
    """Pending reminders of one deadline (None: of the complaint's own deadlines, acknowledgement and
    answer, never its actions', which outlive the complaint) have nothing left to say."""
    statement = update(Reminder).where(col(Reminder.complaint_id) == complaint_id, col(Reminder.state) == "pending")
    if deadline is None:
        statement = statement.where(col(Reminder.deadline).in_([d.value for d in COMPLAINT_DEADLINES]))
    else:
        statement = statement.where(col(Reminder.deadline) == deadline.value)
    execute(session, statement.values(state="cancelled"))


def claim_reminder(session: Session, reminder_id: int, state: str, now: datetime, late: bool) -> bool:
    """Take a pending reminder (conditional UPDATE): False when another sweep already did."""
    claimed = execute(
        session,
        update(Reminder)
        .where(col(Reminder.id) == reminder_id, col(Reminder.state) == "pending")
        .values(state=state, sent_at=now, late=late),
    )
    return bool(claimed)


def claim_digest(session: Session, handler_email: str, day: date, now: datetime, complaints: int) -> bool:
    """Take a handler's digest of `day` by inserting its unique row: False when another daemon did."""
    session.add(Digest(handler_email=handler_email, day=day, created_at=now, complaints=complaints))
    try:
        session.flush()
    except IntegrityError:
        return False
    return True


def claim_follow_up(session: Session, inbound_id: int) -> bool:
    """Take a pending follow-up for this transaction (True), or learn that another process (the
    daemon, a `quarantine retry`) already did. The conditional update is the lock: on PostgreSQL a
    second claimer waits for the first's commit and then finds nothing; on SQLite it takes the
    write lock before anything is read."""
    claimed = session.connection().execute(
        update(InboundMessage)
        .where(col(InboundMessage.id) == inbound_id, col(InboundMessage.handled).is_(False))
        .values(handled=True)
    )
    return claimed.rowcount == 1


def claim_held(session: Session, outbox_ids: list[int]) -> bool:
    """Mark held letters grouped (core/flood.py): False when another sweep or daemon took one of them."""
    moved = 0
    for start in range(0, len(outbox_ids), 500):  # IN lists of a bounded length
        part = outbox_ids[start : start + 500]
        statement = update(OutboxMail).where(col(OutboxMail.id).in_(part), col(OutboxMail.status) == HELD)
        moved += execute(session, statement.values(status=GROUPED))
    return moved == len(outbox_ids)


def follow_up_handled(
    session: Session, inbound_id: int, failure: str | None = None, now: datetime | None = None
) -> None:
    """A follow-up was acted on (or could not be: `failure` says why, in its complaint's history).
    Its row is neither loaded nor updated again when the claim already marked it: loading it reads
    its raw bytes, and this second update of it cost +77 MB for a 40 MB message (measured)."""
    row = select(InboundMessage.complaint_id, InboundMessage.sender).where(col(InboundMessage.id) == inbound_id)
    complaint_id, sender = session.exec(row).one()
    mark = update(InboundMessage).where(col(InboundMessage.id) == inbound_id)
    if failure is None or now is None:
        execute(session, mark.where(col(InboundMessage.handled).is_(False)).values(handled=True))
        return
    execute(session, mark.values(handled=True, reason=failure[:500]))
    if complaint_id is not None:
        _history(session, complaint_id, now, "follow_up_failed", sender, failure[:500])


def release_quarantined(session: Session, row_id: int) -> None:
    """Take a quarantined mail's row out, in the transaction that registers it again (its SHA-256
    and Message-ID are then the new row's); NotFound when another retry took it first."""
    gone = execute(
        session,
        delete(InboundMessage).where(
            col(InboundMessage.id) == row_id, col(InboundMessage.outcome) == Outcome.QUARANTINE.value
        ),
    )
    if gone != 1:
        raise NotFound(f"quarantine: mail #{row_id} is no longer in the quarantine (retried meanwhile?)")


def requarantine(session: Session, row_id: int, reason: str, now: datetime) -> None:
    """A retried mail failed again: it stays in the quarantine with the new reason."""
    execute(
        session,
        update(InboundMessage)
        .where(col(InboundMessage.id) == row_id, col(InboundMessage.outcome) == Outcome.QUARANTINE.value)
        .values(reason=reason[:2000], registered_at=now),
    )


def _outbox_row(
    mail: OutgoingMail, purpose: str, complaint_id: int | None, now: datetime, status: str = PENDING
) -> dict[str, object]:
    return {
        "complaint_id": complaint_id,
        "purpose": purpose,
        "message_id": mail.message_id,
        "mail_from": mail.mail_from,
        "recipients": ",".join(mail.recipients),
        "raw": mail.raw,
        "status": status,
        "attempts": 0,
        "created_at": now,
        "next_attempt_at": now,
        "last_reply": "",
        "settled": True,
    }


def history(session: Session, complaint_id: int, at: datetime, event_name: str, actor: str, detail: str = "") -> None:
    append_history(session, [(complaint_id, at, event_name, actor, detail)])


def history_many(session: Session, entries: list[tuple[int, datetime, str, str, str]]) -> None:
    """Several history entries (complaint id, at, event, actor, detail) in one INSERT, in order."""
    append_history(session, entries)


def _history(session: Session, complaint_id: int, at: datetime, event_name: str, actor: str, detail: str) -> None:
    append_history(session, [(complaint_id, at, event_name, actor, detail)])


_DEFERRED = "complaintsd.history_deferred"


@contextmanager
def history_in_one_append(session: Session) -> Iterator[None]:
    """Within the block, events are kept in order and chained in one append at its end: a batch of
    200 registrations takes the chain head once, not 200 times (the ingest's write transaction)."""
    deferred: list[tuple[int, datetime, str, str, str]] = []
    session.info[_DEFERRED] = deferred
    try:
        yield
    finally:
        del session.info[_DEFERRED]
    append_history(session, deferred)


def append_history(session: Session, entries: Sequence[tuple[int, datetime, str, str, str]]) -> None:
    """The one way an event enters the history: chained to the register's last event and to its
    complaint's (core/chain.py). Moving the chain head first takes the write lock, so two writers
    (the ingesting process and the sender) never chain to the same predecessor."""
    if not entries:
        return
    deferred = session.info.get(_DEFERRED)
    if deferred is not None:
        deferred.extend(entries)
        return
    last = _lock_chain_head(session, len(entries))
    last_of = _last_hashes(session, {entry[0] for entry in entries})
    rows = []
    for complaint_id, at, event_name, actor, detail in entries:
        content = digest(EventContent(complaint_id, at, event_name, actor, detail))
        previous = last_of.get(complaint_id, GENESIS)
        chained = link(last, previous, content)
        rows.append(
            {
                "complaint_id": complaint_id,
                "at": at,
                "event": event_name,
                "actor": actor,
                "detail": detail,
                "digest": content,
                "register_prev": last,
                "complaint_prev": previous,
                "hash": chained,
            }
        )
        last = last_of[complaint_id] = chained
    _many(session, HistoryEvent, rows)
    execute(session, update(ChainHead).where(col(ChainHead.id) == 1).values(last_hash=last))


def _lock_chain_head(session: Session, count: int) -> str:
    """Count the new events on the head row (the lock), then read the hash they chain to."""
    session.flush()
    moved = session.connection().execute(
        update(ChainHead)
        .where(col(ChainHead.id) == 1)
        .values(events=ChainHead.events + count)
        .returning(col(ChainHead.last_hash))
    )
    last = moved.scalar_one_or_none()
    if last is None:  # a register created at the head (create_fresh) starts its chain here
        session.execute(insert(ChainHead.__table__), [{"id": 1, "events": count, "last_hash": GENESIS}])  # type: ignore[attr-defined]
        return GENESIS
    return str(last)


def _last_hashes(session: Session, complaint_ids: set[int]) -> dict[int, str]:
    """The hash of each complaint's last event, by complaint, in chunks SQL can take."""
    found: dict[int, str] = {}
    ids = sorted(complaint_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        latest = (
            select(func.max(HistoryEvent.id))
            .where(col(HistoryEvent.complaint_id).in_(chunk))
            .group_by(col(HistoryEvent.complaint_id))
        )
        rows = session.exec(
            select(HistoryEvent.complaint_id, HistoryEvent.hash).where(col(HistoryEvent.id).in_(latest))
        ).all()
        found.update(dict(rows))
    return found


def purge_personal_data(session: Session, complaint_id: int) -> list[str]:
    """A retention purge's rows (core/retention.py says what goes and why); the SHA-256 of the files
    the complaint listed, for the store to delete those no other complaint lists."""
    listed = select(StoredAttachment.sha256).where(StoredAttachment.complaint_id == complaint_id)
    files = list(session.exec(listed))
    personal = {"customer_email": "", "customer_name": "", "customer_phone": "", "customer_address": ""}
    texts = {"subject": "", "text_body": "", "html_body": "", "wished_solution": "", "message_id": None}
    blank = update(Complaint).where(col(Complaint.id) == complaint_id)
    execute(session, blank.values(**personal, **texts, satisfaction_comment=None))
    words = update(HistoryEvent).where(
        col(HistoryEvent.complaint_id) == complaint_id, col(HistoryEvent.event) != "status"
    )
    execute(session, words.values(actor="", detail=""))
    for table in (StoredAttachment, InboundMessage, OutboxMail, CommandToken):
        execute(session, delete(table).where(col(table.complaint_id) == complaint_id))
    return files


def erase_personal_data(session: Session, complaint_id: int, alias: str, rewrite: Callable[[str], str]) -> list[str]:
    """An erase's rows (core/erasure.py says what goes and why): the customer becomes `alias`, their
    words and messages go, the company's words (actions, causes) go through `rewrite`; the SHA-256 of
    the files the complaint listed, for the store to delete those no other complaint lists."""
    files = list(session.exec(select(StoredAttachment.sha256).where(StoredAttachment.complaint_id == complaint_id)))
    personal = {"customer_email": alias, "customer_name": "", "customer_phone": "", "customer_address": ""}
    texts = {"subject": "", "text_body": "", "html_body": "", "wished_solution": "", "message_id": None}
    blank = update(Complaint).where(col(Complaint.id) == complaint_id)
    execute(session, blank.values(**personal, **texts, satisfaction_comment=None))
    words = update(HistoryEvent).where(
        col(HistoryEvent.complaint_id) == complaint_id, col(HistoryEvent.event) != "status"
    )
    execute(session, words.values(actor="", detail=""))
    for action in session.exec(select(Action).where(Action.complaint_id == complaint_id)):
        action.text, action.reason = rewrite(action.text), rewrite(action.reason)
    for cause in session.exec(select(Cause).where(Cause.complaint_id == complaint_id)):
        cause.text = rewrite(cause.text)
    # The messages' rows stay, emptied, for the report's counts of mails received (verify knows them).
    emptied = update(InboundMessage).where(col(InboundMessage.complaint_id) == complaint_id)
    execute(session, emptied.values(raw=b"", sender="", subject="", reason="", message_id=None))
    for table in (StoredAttachment, OutboxMail):
        execute(session, delete(table).where(col(table.complaint_id) == complaint_id))
    return files


def erase_unattached(session: Session, email: str, letter_ids: Sequence[int]) -> None:
    """Empty the messages from `email` that belong to no complaint (their rows stay for the counts), and
    remove the given outbox rows of none."""
    sender = func.lower(InboundMessage.sender) == email.strip().lower()
    emptied = update(InboundMessage).where(col(InboundMessage.complaint_id).is_(None), sender)
    execute(session, emptied.values(raw=b"", sender="", subject="", reason="", message_id=None))
    if letter_ids:
        execute(session, delete(OutboxMail).where(col(OutboxMail.id).in_(list(letter_ids))))


def execute(session: Session, statement: Update | Delete) -> int:
    """Run an UPDATE or DELETE in the session's transaction (pending rows flushed first); how many rows it moved."""
    _insert_deferred(session)
    session.flush()
    return session.connection().execute(statement).rowcount
