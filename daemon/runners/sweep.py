"""The "send what is due now" sweep: reminders, escalations, digests, and a flood's grouped mails.

What is due lives in the register (rows of `reminder` and `digest` with a unique key), never in the
scheduler, so this sweep is idempotent: the scheduler may run it late, twice, or in two daemons at
once. Each row is claimed (a conditional UPDATE, or the insert of a digest's unique row) in the same
transaction that queues its letter: whoever claims it sends it, once. A row found due long after
its time (the daemon was down) is sent once, marked late.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime

from daemon.core.flood import HeldLetter, decide_grouped, groups_due
from daemon.core.reminders import Kind
from daemon.core.routing import Handler
from daemon.core.sweep import decide_digest, decide_reminder, digests_due
from daemon.edges.register.reads import due_reminder, due_reminders, held_letters, last_digests, open_cases
from daemon.edges.register.writes import claim_digest, claim_held, claim_reminder
from daemon.runners.desk import Desk

log = logging.getLogger("complaintsd.sweep")

BATCH = 500


@dataclass
class SweepResult:
    reminders: int = 0
    escalations: int = 0
    digests: int = 0
    grouped: int = 0
    cancelled: int = 0
    references: list[str] = field(default_factory=list)

    @property
    def queued(self) -> int:
        return self.reminders + self.escalations + self.digests


class Sweeper:
    def __init__(self, desk: Desk) -> None:
        self.desk = desk

    def sweep(self) -> SweepResult:
        """One pass: everything due at this instant, and today's digests."""
        now = self.desk.clock()
        result = SweepResult()
        with self.desk.register.session() as session:
            due = due_reminders(session, now, BATCH, self.desk.only)
            last = last_digests(session)
        for reminder_id in due:
            self._reminder(reminder_id, now, result)
        for handler, day in digests_due(now, last, self.desk.policy):
            self._digest(handler, day, now, result)
        with self.desk.register.session() as session:
            held = held_letters(session, self.desk.only)
        for group in groups_due(held, now, self.desk.policy):
            self._grouped(group, now, result)
        return result

    def _reminder(self, reminder_id: int, now: datetime, result: SweepResult) -> None:
        with self.desk.register.transaction() as session:
            due = due_reminder(session, reminder_id)
            decision = decide_reminder(due, now, self.desk.policy)
            if not claim_reminder(session, reminder_id, decision.state, now, decision.late):
                session.rollback()
                return  # another sweep (another daemon) took it
            self.desk.apply(session, decision.effects, now)
        if decision.state == "cancelled":
            result.cancelled += 1
            return
        if due.kind is Kind.ESCALATION:
            result.escalations += 1
        else:
            result.reminders += 1
        result.references.append(due.case.reference)

    def _grouped(self, group: tuple[HeldLetter, ...], now: datetime, result: SweepResult) -> None:
        """One mail for a flooding sender's held letters to one handler (core/flood.py)."""
        with self.desk.register.transaction() as session:
            if not claim_held(session, [h.outbox_id for h in group]):
                session.rollback()
                return  # another sweep (another daemon) grouped them
            self.desk.apply(session, decide_grouped(group, now, self.desk.policy), now)
        log.info("grouped %d held mail(s) from %s into one to %s", len(group), group[0].customer, group[0].handler)
        result.grouped += 1

    def _digest(self, handler: Handler, day: date, now: datetime, result: SweepResult) -> None:
        with self.desk.register.transaction() as session:
            cases = open_cases(session, handler.email, self.desk.only)
            if not claim_digest(session, handler.email, day, now, len(cases)):
                session.rollback()
                return  # another daemon claimed this digest
            effects = decide_digest(handler, day, cases, now, self.desk.policy)
            self.desk.apply(session, effects, now)
        result.digests += bool(effects.letters)
