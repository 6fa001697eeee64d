"""The outbox sender: read what is due, send it, record each result the moment the relay answers.

Each result is committed at once, so after a crash only a mail whose "250" we had not yet recorded
can leave twice, and it would leave with the same Message-ID (receivers collapse such duplicates).
The retry policy is core.outbox's; the rows are the register's (edges/register/outbox.py). A
letter to a customer that is refused or given up on is told to the complaint's handler, through
`told` (core/undelivered.py), after its fate is committed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from sqlmodel import Session

from daemon.config import OutboxConfig
from daemon.core.outbox import PENDING, SENT, Envelope, Fate, RetryPolicy, SendResult, after_failure
from daemon.core.undelivered import decide_undelivered
from daemon.core.verp import return_path
from daemon.edges.register import Register
from daemon.edges.register.outbox import Due, due, mark_sent, next_wakeup, record_failure, settle
from daemon.edges.register.reads import load_case
from daemon.edges.smtp import SmtpSender
from daemon.runners.desk import Desk, desk_for

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
        sent = 0
        with self.register.session() as session:  # one connection for the batch, a commit a letter

            def report(index: int, result: SendResult) -> None:
                nonlocal sent
                sent += self._record(session, batch[index], result)

            self.sender.send_all([self._envelope(item) for item in batch], report, stopping)
        with self.register.transaction() as session:
            settle(session)
        return sent

    def _envelope(self, item: Due) -> Envelope:
        """The letter's envelope; with `[outbox] verp`, its return path names it (core/verp.py)."""
        if self.verp is None or "@" not in item.envelope.mail_from or not item.message_id:
            return item.envelope
        mail_from = return_path(item.envelope.mail_from, item.id, item.message_id, self.verp)
        return replace(item.envelope, mail_from=mail_from)

    def _record(self, session: Session, item: Due, result: SendResult) -> bool:
        """Commit the relay's answer at once: a crash now can double only this letter."""
        now = self.clock()
        if result.fate is Fate.SENT:
            mark_sent(session, item, now, result.detail)
            status = SENT
        else:
            after = after_failure(result, item.attempts + 1, item.created_at, now, self.policy)
            record_failure(session, item, after, now)
            status = after.status
        session.commit()
        self._log(item, status, result)
        if status not in (SENT, PENDING) and self.told is not None:
            self.told(item, result.detail)
        return status == SENT

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


class TellHandler:
    """`Outbox.told`: the handler hears of a letter to their customer that will never be delivered
    (core/undelivered.py), in a transaction of its own. A failure here is logged: the letter's fate
    and its history are committed already, and the sender must go on."""

    def __init__(self, desks: Desk | tuple[Desk, ...]) -> None:
        self.desks = desks if isinstance(desks, tuple) else (desks,)

    def __call__(self, item: Due, reason: str) -> None:
        if item.complaint_id is None:
            return
        now = self.desks[0].clock()
        try:
            with self.desks[0].register.transaction() as session:
                case = load_case(session, item.complaint_id)
                desk = desk_for(self.desks, case.reference)  # the handler of the complaint's own register
                recipient = item.envelope.recipients[0]
                desk.apply(session, decide_undelivered(case, item.purpose, recipient, reason, now, desk.policy), now)
        except Exception as exc:  # see the class docstring
            log.error("could not tell the handler that %s %d was not delivered: %s", item.purpose, item.id, exc)
