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

from daemon.config import Config, OAuthConfig
from daemon.core.health import Change, Login, OAuthReading, Reading, decide_health
from daemon.edges.oauth import TokenFile
from daemon.edges.register.health import health_letters, last_mail_and_oldest_letter
from daemon.errors import ConfigError
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


class Logins:
    """The mailboxes of several registers (`[[registers]]`), read as one: refused while any refuses
    our login (since the first refusal, each register named with its reason), accepted once all
    accepted, unknown meanwhile."""

    def __init__(self, watches: dict[str, LoginWatch]) -> None:
        self.watches = watches

    def read(self) -> tuple[Login, datetime | None, str]:
        readings = {name: watch.read() for name, watch in self.watches.items()}
        refused = {name: r for name, r in readings.items() if r[0] is Login.REFUSED}
        if refused:
            since = min((r[1] for r in refused.values() if r[1] is not None), default=None)
            return Login.REFUSED, since, "; ".join(f"{name}: {r[2]}" for name, r in refused.items())
        if all(r[0] is Login.ACCEPTED for r in readings.values()):
            return Login.ACCEPTED, None, ""
        return Login.UNKNOWN, None, ""


def oauth_of(config: Config) -> tuple[OAuthConfig, ...]:
    """The token files the daemon logs in with: each register's mailbox's, and the relay's."""
    found: list[OAuthConfig] = []
    for each in config.each:
        for oauth in (each.mailbox.oauth, each.smtp.oauth):
            if oauth is not None and all(oauth.token_file != seen.token_file for seen in found):
                found.append(oauth)
    return tuple(found)


def oauth_reading(tokens: tuple[OAuthConfig, ...]) -> OAuthReading | None:
    """The token files as the health watch needs them (None: no XOAUTH2 login): a refusal in any of
    them, else the refresh token that ends first. No token file yet is no alarm: the admin has not
    run `auth login`, and the mailbox loop's log says so at each try."""
    if not tokens:
        return None
    readings = [_reading(oauth) for oauth in tokens]
    refused = [r for r in readings if r.refused_at is not None]
    if refused:
        return refused[0]
    ending = [r for r in readings if r.refresh_expires_at is not None]
    return min(ending, key=lambda r: r.refresh_expires_at or r.warn_before) if ending else readings[0]


def _reading(oauth: OAuthConfig) -> OAuthReading:
    try:
        token = TokenFile(oauth.token_file).read()
    except ConfigError as exc:
        return OAuthReading(None, exc.problem, None, oauth.warn_before)
    if token is None:
        return OAuthReading(None, "", None, oauth.warn_before)
    return OAuthReading(token.refused_at, token.refused_why, token.refresh_expires_at, oauth.warn_before)


class HealthWatch:
    def __init__(self, desk: Desk, login: LoginWatch | Logins, oauth: tuple[OAuthConfig, ...] = ()) -> None:
        self.desk = desk
        self.login = login
        self.oauth = oauth
        self.started_at = desk.clock()  # a register without any mail is quiet since then

    def check(self) -> list[Change]:
        """Queue a letter per change of state since the last one the register holds; returns them."""
        now = self.desk.clock()
        with self.desk.register.session() as session:
            last_mail, oldest = last_mail_and_oldest_letter(session)
            said = health_letters(session)
        login, since, why = self.login.read()
        reading = Reading(last_mail, oldest, login, since, why, self.started_at, oauth_reading(self.oauth))
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
