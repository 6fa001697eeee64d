"""Run the runners in this process, on a real SQLite register, with a clock moved by hand.

Like Mailman's `testing/helpers.py` (`make_testable_runner`, `get_queue_messages`) and Trio's
`MockClock`: a test builds a desk on a register file of its own, feeds the ingestor the bytes a
mailbox would hand over, moves the clock past an instant, runs a sweep, and reads what the decision
left in the outbox: the rows themselves, parsed, never a log line. Nothing here sleeps or opens a
socket, so a mail that must NOT be sent is proved absent by reading the outbox, deterministically,
instead of by waiting for it on a real relay.

Theory of operation
-------------------
* `FakeClock` is the only clock the runners see (`Desk.clock`): time stands still until a test
  calls `advance` or `set`, so "the sweep before the instant" and "the sweep after it" are exact.
* `make_desk` writes the configuration tests/harness.py writes for the subprocess tests (Alice takes
  "facture"/"remboursement", Bob the rest, the supervisor is qualite@example.com), but with a Maildir
  so that no server is needed, and without digests unless a test asks for them (a weekday digest
  would otherwise slip into every outbox a test reads after 08:00).
* `relay` is the outgoing relay answering "250" to everything pending: it records each row sent and
  settles it, exactly as `runners.outbox.Outbox.flush` does after a real relay's answer (the
  acknowledgement then moves the complaint to "acknowledged" and cancels its ack reminders).
"""

from __future__ import annotations

import email
import email.policy
import itertools
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from sqlmodel import col, select

from daemon.config import Config, parse_config
from daemon.core.mail import Fetched
from daemon.core.outbox import Fate, RetryPolicy, SendResult, after_failure
from daemon.edges.register import Register
from daemon.edges.register.models import Complaint, OutboxMail, Reminder
from daemon.edges.register.outbox import due, mark_sent, record_failure, settle
from daemon.edges.register.views import ComplaintView, show_complaint
from daemon.runners.desk import Desk
from daemon.runners.followups import FollowUps
from daemon.runners.ingest import BatchResult, Ingestor
from tests.postgres import register_url

# Monday 23 November 2026, 10:00 in Paris: an ordinary working morning (no holiday, no DST change).
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

CUSTOMER = "camille.durand@client.example"
ALICE = "alice@example.com"
BOB = "bob@example.com"
SUPERVISOR = "qualite@example.com"


class FakeClock:
    """An aware UTC instant that moves only when told (Trio's MockClock without autojump).

    Callable like `Desk.clock`. `advance` refuses to go backwards, as `MockClock.jump` does: a test
    that wants the wall clock stepped back says so with `set`."""

    def __init__(self, start: datetime = START) -> None:
        self._now = _aware(start)

    def __call__(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        if delta < timedelta(0):
            raise ValueError(f"advance() moves forward only, not by {delta}; use set() to step back")
        self._now += delta
        return self._now

    def set(self, when: datetime) -> datetime:
        self._now = _aware(when)
        return self._now

    def __repr__(self) -> str:
        return f"FakeClock({self._now.isoformat()})"


def _aware(when: datetime) -> datetime:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"the clock holds aware instants only, not {when!r}")
    return when.astimezone(UTC)


def config_of(tmp_path: Path, **sections: dict[str, Any] | list[Any]) -> Config:
    """The test configuration, each keyword a section whose keys replace the defaults' (a list, like
    `handlers`, replaces the default list)."""
    data: dict[str, Any] = {
        "mailbox": {"kind": "maildir", "path": str(tmp_path / "maildir"), "poll_interval": "1s"},
        "smtp": {
            "host": "127.0.0.1",
            "port": 25,
            "tls": "none",
            "from": "Service réclamations <reclamations@example.com>",
            "timeout": "5s",
        },
        "database": {"url": register_url(tmp_path)},  # SQLite, or PostgreSQL (tests/postgres.py)
        "storage": {"path": str(tmp_path / "attachments")},
        "handlers": [
            {"name": "Alice Martin", "email": ALICE, "keywords": ["facture", "remboursement"]},
            {"name": "Bob Durand", "email": BOB},
        ],
        "routing": {"default_handler": BOB, "supervisor": f"Qualité <{SUPERVISOR}>"},
        "reminders": {"digest_days": []},
    }
    for section, values in sections.items():
        data[section] = values if isinstance(values, list) else {**data.get(section, {}), **values}
    return parse_config(data)


def make_desk(tmp_path: Path, clock: FakeClock, **sections: dict[str, Any] | list[Any]) -> Desk:
    """A desk on the register file in `tmp_path` (created when missing), seeing only `clock`.

    Two desks made on the same `tmp_path` share the register, as two daemons would."""
    config = config_of(tmp_path, **sections)
    return Desk.of(config, Register(config.database.url, create=True), clock)


_keys = itertools.count(1)


def ingest(desk: Desk, *raws: bytes) -> BatchResult:
    """Hand `raws` to the ingestor as one batch arriving now, then act on the follow-ups it
    recorded: what the daemon's mailbox loop does with one fetched batch (Daemon._drain)."""
    batch = [Fetched(f"test-{next(_keys)}", raw, desk.clock()) for raw in raws]
    result = Ingestor(desk).ingest(batch)
    FollowUps(desk).handle_pending()
    return result


@dataclass(frozen=True)
class Letter:
    """One outbox row, its composed bytes parsed as a mail client would read them."""

    id: int
    kind: str
    to: str
    status: str
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        return self.message.get_body(("plain",)).get_content()

    @property
    def attachments(self) -> list[str]:
        return [part.get_filename() for part in self.message.iter_attachments()]

    def __repr__(self) -> str:
        return f"<Letter {self.id} {self.kind} to {self.to} ({self.status})>"


def _letter(row: OutboxMail) -> Letter:
    message = email.message_from_bytes(row.raw, policy=email.policy.default)
    assert row.id is not None and message["X-Complaintsd-Kind"] == row.purpose, "the header names the row's kind"
    return Letter(row.id, row.purpose, parseaddr(str(message["To"]))[1], row.status, message)


def queued(desk: Desk, kind: str | None = None, to: str | None = None) -> list[Letter]:
    """Every letter the outbox holds, oldest first, whatever its status (Mailman's get_queue_messages)."""
    with desk.register.session() as session:
        rows = session.exec(select(OutboxMail).order_by(col(OutboxMail.id))).all()
        letters = [_letter(row) for row in rows]
    return [letter for letter in letters if (kind is None or letter.kind == kind) and (to is None or letter.to == to)]


# A 5xx is final whatever the retry policy says; `after_failure` only needs one to read.
NO_RETRY = RetryPolicy(timedelta(seconds=30), timedelta(hours=1), timedelta(days=5))


def relay(desk: Desk, refuse: Collection[str] = ()) -> list[Letter]:
    """The relay answers every letter due now, as `Outbox.flush` records a real relay's answers:
    "250" (sent, then settled), or "550" for the recipients in `refuse`. Returns the letters that
    were accepted, oldest first; a second call right after returns none."""
    now = desk.clock()
    accepted: list[int] = []
    with desk.register.transaction() as session:
        for item in due(session, now, 10_000):
            if set(item.envelope.recipients) & set(refuse):
                result = SendResult(Fate.PERMANENT, "550 5.1.1 Mailbox unavailable")
                after = after_failure(result, item.attempts + 1, item.created_at, now, NO_RETRY)
                record_failure(session, item, after, now)
            else:
                mark_sent(session, item, now, "250 OK")
                accepted.append(item.id)
        settle(session)
    return [letter for letter in queued(desk) if letter.id in accepted]


def kinds(letters: list[Letter]) -> list[tuple[str, str]]:
    """(kind, recipient) of each letter: the shape most table rows expect."""
    return [(letter.kind, letter.to) for letter in letters]


def history(desk: Desk, reference: str) -> list[tuple[str, str]]:
    """(event, detail) of a complaint's history, oldest first, as `complaintsd show` lists it."""
    return [(h.event, h.detail) for h in show(desk, reference).history]


def show(desk: Desk, reference: str) -> ComplaintView:
    with desk.register.session() as session:
        return show_complaint(session, reference)


@dataclass(frozen=True)
class PlannedRow:
    deadline: str
    kind: str
    step: str
    due_at: datetime
    state: str
    late: bool


def reminders(desk: Desk, reference: str) -> list[PlannedRow]:
    """The reminder and escalation rows of a complaint, by due time: what the sweep will find."""
    with desk.register.session() as session:
        rows = session.exec(
            select(Reminder)
            .join(Complaint, col(Complaint.id) == col(Reminder.complaint_id))
            .where(Complaint.reference == reference)
            .order_by(col(Reminder.due_at), col(Reminder.id))
        ).all()
        return [PlannedRow(r.deadline, r.kind, r.step, r.due_at, r.state, r.late) for r in rows]
