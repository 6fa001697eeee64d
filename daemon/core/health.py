"""The daemon's own health: which alarms hold now, and the letter each change of one deserves.

Issue 11 ("Run for years") asks that the admin (`[health] admin`, else the supervisor) be told by
mail, exactly once per change of state, when no mail has arrived for `no_mail_after` (counted on
working days only, so that a quiet weekend is no alarm), when the mailbox refuses our login, and
when the outbox's oldest letter has waited longer than `outbox_age`, and when the OAuth provider
refuses to renew our token or its refresh token nears its end (`[oauth] warn_before`); and told again
when each is over. The register remembers what was said: the last health letter about each condition in the
outbox (`HealthLetter`), so a restart, or the other of two daemons, neither repeats an alert nor
forgets to say it is over.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from daemon.core.deadlines import WEEKEND_DAYS, ClosedDays
from daemon.core.effects import Effects
from daemon.core.letters import HealthFacts, LetterToSend, new_message_id
from daemon.core.policy import Policy


class Condition(StrEnum):
    NO_MAIL = "no_mail"
    MAILBOX_LOGIN = "mailbox_login"
    OUTBOX_AGE = "outbox_age"
    OAUTH_TOKEN = "oauth_token"


class Login(StrEnum):
    """What the mailbox said to our last login: nothing yet (this process has not tried), yes or no."""

    UNKNOWN = "unknown"
    ACCEPTED = "accepted"
    REFUSED = "refused"


@dataclass(frozen=True)
class OAuthReading:
    """The token file as the watch read it: a refusal of the provider, and the refresh token's end
    when the provider said it, against how early the admin wants to hear of it."""

    refused_at: datetime | None
    refused_why: str
    refresh_expires_at: datetime | None
    warn_before: timedelta


@dataclass(frozen=True)
class Reading:
    """What the runner saw now: the register's last mail and oldest waiting letter, the mailbox's
    last answer to our login, and since when this daemon watches (a register without mail)."""

    last_mail_at: datetime | None
    outbox_oldest_at: datetime | None
    login: Login
    login_since: datetime | None = None  # when the login was first refused, in a row
    login_why: str = ""
    watching_since: datetime | None = None
    oauth: OAuthReading | None = None  # None: no XOAUTH2 login configured


@dataclass(frozen=True)
class HealthLetter:
    """The last health letter the register holds about one condition."""

    condition: Condition
    raised: bool
    message_id: str


@dataclass(frozen=True)
class Alarm:
    """A condition that holds: since when, and in words for the log."""

    condition: Condition
    since: datetime | None
    words: str


@dataclass(frozen=True)
class Change:
    condition: Condition
    raised: bool
    words: str  # for the log line


@dataclass(frozen=True)
class HealthDecision:
    changes: tuple[Change, ...]
    effects: Effects


def kind_of(condition: Condition, raised: bool) -> str:
    """The outbox purpose and X-Complaintsd-Kind of a health letter: how the register remembers."""
    return f"health_{'alert' if raised else 'recovered'}_{condition.value}"


def letter_of_kind(kind: str) -> tuple[Condition, bool] | None:
    """The condition and state a health letter's kind names; None for any other letter."""
    for condition in Condition:
        for raised in (True, False):
            if kind == kind_of(condition, raised):
                return condition, raised
    return None


def decide_health(
    said: Mapping[Condition, HealthLetter], reading: Reading, now: datetime, policy: Policy
) -> HealthDecision:
    """One letter per condition whose state differs from the last letter about it (none: all clear)."""
    alarms = current_alarms(reading, now, policy)
    changes: list[Change] = []
    letters: list[LetterToSend] = []
    for condition in Condition:
        if condition is Condition.MAILBOX_LOGIN and reading.login is Login.UNKNOWN:
            continue  # not tried yet since this daemon started: nothing new to say
        if condition is Condition.OAUTH_TOKEN and reading.oauth is None:
            continue
        last = said.get(condition)
        was, alarm = (last is not None and last.raised), alarms.get(condition)
        if was == (alarm is not None):
            continue
        words = alarm.words if alarm else _recovered_words(condition)
        changes.append(Change(condition, alarm is not None, words))
        letters.append(_letter(condition, alarm, last, reading, now, policy))
    return HealthDecision(tuple(changes), Effects(letters=tuple(letters)))


def current_alarms(reading: Reading, now: datetime, policy: Policy) -> dict[Condition, Alarm]:
    alarms: dict[Condition, Alarm] = {}
    watch = policy.health
    quiet_since = reading.last_mail_at or reading.watching_since
    if watch.no_mail_after is not None and quiet_since is not None:
        quiet = working_time(quiet_since, now, policy.timezone, policy.closed)
        if quiet >= watch.no_mail_after:
            alarms[Condition.NO_MAIL] = Alarm(
                Condition.NO_MAIL, quiet_since, f"no mail has arrived since {quiet_since:%Y-%m-%d %H:%M} UTC"
            )
    if reading.login is Login.REFUSED:
        alarms[Condition.MAILBOX_LOGIN] = Alarm(
            Condition.MAILBOX_LOGIN, reading.login_since, f"the mailbox refuses our login: {reading.login_why}"
        )
    oauth = _oauth_alarm(reading.oauth, now)
    if oauth is not None:
        alarms[Condition.OAUTH_TOKEN] = oauth
    oldest = reading.outbox_oldest_at
    if watch.outbox_age is not None and oldest is not None and now - oldest >= watch.outbox_age:
        alarms[Condition.OUTBOX_AGE] = Alarm(
            Condition.OUTBOX_AGE, oldest, f"the outbox's oldest letter waits since {oldest:%Y-%m-%d %H:%M} UTC"
        )
    return alarms


def _oauth_alarm(oauth: OAuthReading | None, now: datetime) -> Alarm | None:
    """A refused refresh holds until `auth login` writes a new token; a refresh token ending within
    `warn_before` holds until a new one (with a later end) replaces it."""
    if oauth is None:
        return None
    if oauth.refused_at is not None:
        words = f"the OAuth provider refuses to renew our token ({oauth.refused_why}): run complaintsd auth login"
        return Alarm(Condition.OAUTH_TOKEN, oauth.refused_at, words)
    ends = oauth.refresh_expires_at
    if ends is not None and ends - now <= oauth.warn_before:
        words = f"the OAuth refresh token ends {ends:%Y-%m-%d %H:%M} UTC: run complaintsd auth login before"
        return Alarm(Condition.OAUTH_TOKEN, None, words)
    return None


def working_time(start: datetime, end: datetime, timezone: ZoneInfo, closed: ClosedDays) -> timedelta:
    """The time between two instants that falls on working days (local days neither on a weekend
    nor closed by the holiday calendar)."""
    total = timedelta(0)
    local, stop = start.astimezone(timezone), end.astimezone(timezone)
    while local < stop:
        midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), timezone)
        until = min(midnight, stop)
        if local.weekday() not in WEEKEND_DAYS and closed(local.date()) is None:
            total += until - local
        local = until
    return total


def _recovered_words(condition: Condition) -> str:
    return {
        Condition.NO_MAIL: "mail arrives again",
        Condition.MAILBOX_LOGIN: "the mailbox accepts our login again",
        Condition.OUTBOX_AGE: "the outbox has no letter waiting too long any more",
        Condition.OAUTH_TOKEN: "the OAuth token is renewed again",
    }[condition]


def _detail(condition: Condition, alarm: Alarm | None, reading: Reading) -> str:
    if alarm is None:
        return ""
    if condition is Condition.MAILBOX_LOGIN:
        return reading.login_why
    if condition is Condition.OAUTH_TOKEN and reading.oauth is not None:
        return reading.oauth.refused_why
    return ""


def _letter(
    condition: Condition,
    alarm: Alarm | None,
    last: HealthLetter | None,
    reading: Reading,
    now: datetime,
    policy: Policy,
) -> LetterToSend:
    watch = policy.health
    threshold = {Condition.NO_MAIL: watch.no_mail_after, Condition.OUTBOX_AGE: watch.outbox_age}.get(condition)
    facts = HealthFacts(
        condition=condition.value,
        raised=alarm is not None,
        since=alarm.since if alarm else None,
        threshold=threshold,
        detail=_detail(condition, alarm, reading),
        now=now,
        ends_at=reading.oauth.refresh_expires_at if reading.oauth and condition is Condition.OAUTH_TOKEN else None,
    )
    kind = kind_of(condition, alarm is not None)
    # A recovery answers its alert, so that a mail client shows the two together.
    reply_to = last.message_id if last is not None and last.raised and alarm is None else None
    return LetterToSend(
        kind,
        facts,
        policy.alerts_to,
        new_message_id("health", condition.value.replace("_", "-"), policy.domain),
        in_reply_to=reply_to,
        references=(reply_to,) if reply_to else (),
    )
