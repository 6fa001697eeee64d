"""The outbox sender: read what is due, send it, record the results as the relay answers.

Results are committed in groups by a thread of their own while the sending goes on (group commit):
the answers that arrive while one commit runs go in the next. So after a crash only the mails whose
"250" came during the last commit can leave twice, and they would leave with the same Message-ID
(receivers collapse such duplicates).
The retry policy is core.outbox's; the rows are the register's (edges/register/outbox.py). A
letter to a customer that is refused or given up on is told to the complaint's handler, through
`told` (core/undelivered.py), after its fate is committed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from sqlmodel import Session

from daemon.config import OutboxConfig
from daemon.core.outbox import PENDING, SENT, Envelope, Fate, RetryPolicy, SendResult, after_failure
from daemon.core.verp import return_path
from daemon.edges.register import Register
from daemon.edges.register.outbox import Due, due, mark_all_sent, next_wakeup, record_failure, settle
from daemon.edges.smtp import SmtpSender

if TYPE_CHECKING:
    from daemon.runners.desk import Desk

log = logging.getLogger("complaintsd.outbox")


class Outbox:
    def __init__(
        self,
        register: Register,
        sender: SmtpSender,
        config: OutboxConfig,
        clock: Callable[[], datetime],
        told: Callable[[Due, str], None] | None = None,
    ) -> None:
        self.register = register
        self.told = told
        self.sender = sender
        self.batch_size = config.batch_size
        self.policy = RetryPolicy(config.retry_first, config.retry_max, config.give_up_after)
        self.clock = clock
        self.verp = config.verp_delimiter if config.verp else None
        self._outage = False

    def flush(self, stopping: Callable[[], bool] = lambda: False) -> int:
        """Send everything due now (until `stopping()`); returns how many the relay accepted."""
        with self.register.transaction() as session:
            settle(session)
        with self.register.session() as session:
            batch = due(session, self.clock(), self.batch_size)
        if not batch:
            return 0
        recorder = Recorder(self, batch)
        try:
            self.sender.send_all([self._envelope(item) for item in batch], recorder.add, stopping)
        finally:
            sent = recorder.close()
        with self.register.transaction() as session:
            settle(session)
        return sent

    def _envelope(self, item: Due) -> Envelope:
        """The letter's envelope; with `[outbox] verp`, its return path names it (core/verp.py)."""
        if self.verp is None or "@" not in item.envelope.mail_from or not item.message_id:
            return item.envelope
        mail_from = return_path(item.envelope.mail_from, item.id, item.message_id, self.verp)
        return replace(item.envelope, mail_from=mail_from)

    def record(self, session: Session, results: list[tuple[Due, SendResult, datetime]]) -> int:
        """Commit a group of the relay's answers in one transaction, then log them and tell the handlers
        of the letters that will never leave; how many were accepted."""
        accepted = [(item, at, result.detail) for item, result, at in results if result.fate is Fate.SENT]
        mark_all_sent(session, accepted)
        fates = []
        for item, result, at in results:
            if result.fate is Fate.SENT:
                fates.append(SENT)
                continue
            after = after_failure(result, item.attempts + 1, item.created_at, at, self.policy)
            record_failure(session, item, after, at)
            fates.append(after.status)
        session.commit()
        for (item, result, _at), status in zip(results, fates, strict=True):
            self._log(item, status, result)
            if status not in (SENT, PENDING) and self.told is not None:
                self.told(item, result.detail)
        return len(accepted)

    def _log(self, item: Due, status: str, result: SendResult) -> None:
        recipients = ",".join(item.envelope.recipients)
        if status == SENT:
            if self._outage:
                log.info("relay reachable again")
            self._outage = False
            log.info("sent %s to %s", item.purpose, recipients)
        elif status == PENDING:
            if not self._outage:
                log.warning("relay trouble, will retry: %s", result.detail)
            self._outage = True
        else:
            log.error("%s to %s %s: %s", item.purpose, recipients, status, result.detail)

    def seconds_until_due(self, ceiling: float) -> float:
        with self.register.session() as session:
            wake = next_wakeup(session)
        if wake is None:
            return ceiling
        return max(0.0, min(ceiling, (wake - self.clock()).total_seconds()))


class Recorder:
    """The group commit of a batch's results: `add` (called by the sender as the relay answers) hands
    a result to a thread that commits, in one transaction, the answers of every connection that
    arrived meanwhile. `add` returns once every answer added before its own is committed, so a letter
    leaves while the one answered before it is being committed, never further ahead: a commit that
    hangs (the database out of reach) stops the sending, and a cut link can double at most those two
    letters per connection (three, before: tests/test_failover.py). Waiting for its own answer too cost 10 to 20 %
    of the sending (benchmarks/outbox.py). A register failure stops the sending, raised by `add` and
    `close`."""

    def __init__(self, outbox: Outbox, batch: list[Due]) -> None:
        self.outbox, self.batch = outbox, batch
        self._arrived: list[tuple[Due, SendResult, datetime]] = []
        self._added = self._committed = 0
        self._done = False
        self._failure: BaseException | None = None
        self._sent = 0
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="outbox-record", daemon=True)
        self._thread.start()

    def add(self, index: int, result: SendResult) -> None:
        at = self.outbox.clock()
        with self._cond:
            if self._failure is None:
                self._arrived.append((self.batch[index], result, at))
                self._added += 1
                ticket = self._added
                self._cond.notify_all()
                while self._committed < ticket - 1 and self._failure is None:
                    self._cond.wait()
            if self._failure is not None:
                raise self._failure

    def close(self) -> int:
        """Wait until every result added is committed; how many letters the relay accepted."""
        with self._cond:
            self._done = True
            self._cond.notify_all()
        self._thread.join()
        if self._failure is not None:
            raise self._failure
        return self._sent

    def _run(self) -> None:
        try:
            with self.outbox.register.session() as session:
                while group := self._next_group():
                    self._sent += self.outbox.record(session, group)
                    with self._cond:
                        self._committed += len(group)
                        self._cond.notify_all()
        except BaseException as exc:  # handed to the sending thread: add() and close() raise it
            with self._cond:
                self._failure = exc
                self._cond.notify_all()

    def _next_group(self) -> list[tuple[Due, SendResult, datetime]]:
        with self._cond:
            while not self._arrived and not self._done:
                self._cond.wait()
            group, self._arrived = self._arrived, []
            return group


class TellHandler:
    """`Outbox.told`: the handler hears of a letter to their customer that will never be delivered
    (core/undelivered.py), in a transaction of its own. A failure here is logged: the letter's fate
    and its history are committed already, and the sender must go on.

    The desks (templates, postbox) may be given as a function, called at the first such letter: the
    sender process then starts without them, and rarely needs them."""

    def __init__(self, desks: Desk | tuple[Desk, ...] | Callable[[], tuple[Desk, ...]]) -> None:
        self._desks = desks
        self._made: tuple[Desk, ...] | None = None

    @property
    def desks(self) -> tuple[Desk, ...]:
        if self._made is None:
            desks = self._desks
            made = desks if isinstance(desks, tuple) else desks() if callable(desks) else (desks,)
            self._made = made
        return self._made

    def __call__(self, item: Due, reason: str) -> None:
        from daemon.core.undelivered import decide_undelivered
        from daemon.edges.register.reads import load_case
        from daemon.runners.desk import desk_for

        if item.complaint_id is None:
            return
        try:
            desks = self.desks
            now = desks[0].clock()
            with desks[0].register.transaction() as session:
                case = load_case(session, item.complaint_id)
                desk = desk_for(desks, case.reference)  # the handler of the complaint's own register
                recipient = item.envelope.recipients[0]
                desk.apply(session, decide_undelivered(case, item.purpose, recipient, reason, now, desk.policy), now)
        except Exception as exc:  # see the class docstring
            log.error("could not tell the handler that %s %d was not delivered: %s", item.purpose, item.id, exc)
