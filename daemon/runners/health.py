"""The health watch: after each sweep, tell the admin what changed in the daemon's health.

Load (the register's last mail and oldest waiting letter, the last health letter about each
condition, what the mailbox said to our last login), decide (core/health.py), queue the letters
in one transaction, and log one line per change. Only the daemon holding the register runs it
(runners/standby.py), and what was said is read back from the register, so a restart or the other
daemon carries on where this one stopped.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from daemon.core.health import Change, Login, Reading, decide_health
from daemon.edges.register.health import health_letters, last_mail_and_oldest_letter
from daemon.runners.desk import Clock, Desk

log = logging.getLogger("complaintsd.health")


class LoginWatch:
    """What the mailbox answered to our last login, set by the mailbox loop, read by the watch."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._state, self._why = Login.UNKNOWN, ""
        self._since: datetime | None = None

    def accepted(self) -> None:
        with self._lock:
            self._state, self._since, self._why = Login.ACCEPTED, None, ""

    def refused(self, why: str) -> None:
        with self._lock:
            if self._state is not Login.REFUSED:
                self._since = self.clock()
            self._state, self._why = Login.REFUSED, why

    def read(self) -> tuple[Login, datetime | None, str]:
        with self._lock:
            return self._state, self._since, self._why


class HealthWatch:
    def __init__(self, desk: Desk, login: LoginWatch) -> None:
        self.desk = desk
        self.login = login
        self.started_at = desk.clock()  # a register without any mail is quiet since then

    def check(self) -> list[Change]:
        """Queue a letter per change of state since the last one the register holds; returns them."""
        now = self.desk.clock()
        with self.desk.register.session() as session:
            last_mail, oldest = last_mail_and_oldest_letter(session)
            said = health_letters(session)
        login, since, why = self.login.read()
        reading = Reading(last_mail, oldest, login, since, why, self.started_at)
        decision = decide_health(said, reading, now, self.desk.policy)
        if not decision.changes:
            return []
        with self.desk.register.transaction() as session:
            self.desk.apply(session, decision.effects, now)
        to = self.desk.policy.alerts_to.email
        for change in decision.changes:
            if change.raised:
                log.warning("health alert (%s): %s; told %s", change.condition, change.words, to)
            else:
                log.info("health recovered (%s): %s; told %s", change.condition, change.words, to)
        return list(decision.changes)
