"""The letters to the admin about the daemon itself, not about one complaint's case.

The mails quarantined by a batch, the daily check finding the register altered, a health condition
raised or over (core/health.py); and a flood from one correspondent (issue 14, item 2,
core/flood.py): the supervisor's alert, once per sender per day, and the handler's one mail grouping
that sender's mails past the cap (to a handler, but about the desk's defence, not one case). Like
the staff's letters (to_staff.py), every word is in the templates; this module bounds what a
stranger may have put in them (a sender, a subject, a file name) to one short line. It sends
nothing and reads no clock: the facts carry `now`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from daemon.core.letters.render import (
    Letter,
    Templates,
    duration_words,
    echo,
    facts_context,
    one_line,
    require_aware,
)

__all__ = [
    "FloodAlertFacts",
    "GroupedLine",
    "GroupedMailFacts",
    "HealthFacts",
    "IntegrityAlertFacts",
    "QuarantineNoticeFacts",
    "QuarantinedLine",
    "render_flood_alert",
    "render_grouped_mail",
    "render_health",
    "render_integrity_alert",
    "render_quarantine_notice",
]


@dataclass(frozen=True)
class QuarantinedLine:
    """One quarantined mail as the admin's notice lists it: its row id (for `complaintsd quarantine
    show ID`), when it arrived, who sent it, its subject and why it was quarantined."""

    id: int
    arrived_at: datetime
    sender: str
    subject: str
    reason: str

    def __post_init__(self) -> None:
        require_aware("arrived_at", self.arrived_at)


@dataclass(frozen=True)
class QuarantineNoticeFacts:
    """The admin's notice that one ingestion batch quarantined mails (one notice per batch)."""

    mails: tuple[QuarantinedLine, ...]
    now: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "mails", tuple(self.mails))
        if not self.mails:
            raise ValueError("a quarantine notice lists at least one mail")
        require_aware("now", self.now)


@dataclass(frozen=True)
class IntegrityAlertFacts:
    """The admin's alert that the daily `verify` found the register altered: how many broken links
    and the first few, each one line (`complaintsd verify` names them all)."""

    broken_count: int
    findings: tuple[str, ...]
    events: int
    now: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "findings", tuple(self.findings))
        if self.broken_count < 1 or not self.findings:
            raise ValueError("an integrity alert names at least one broken link")
        require_aware("now", self.now)


@dataclass(frozen=True)
class HealthFacts:
    """The admin's letter that one of the daemon's health conditions (core/health.py: "no_mail",
    "mailbox_login", "outbox_age", "oauth_token") began to hold (`raised`), since when, against which
    threshold, or is over."""

    condition: str
    raised: bool
    since: datetime | None
    threshold: timedelta | None
    detail: str  # the mailbox's answer to our login; the OAuth provider's refusal
    now: datetime
    ends_at: datetime | None = None  # oauth_token: when the refresh token ends (None: refused, or unknown)

    def __post_init__(self) -> None:
        require_aware("now", self.now)
        if self.since is not None:
            require_aware("since", self.since)
        if self.ends_at is not None:
            require_aware("ends_at", self.ends_at)


def render_quarantine_notice(templates: Templates, facts: QuarantineNoticeFacts) -> Letter:
    """The admin's notice of quarantined mails. What a stranger wrote (sender, subject) is echoed on
    one bounded line; the reason is ours but may quote the mail, so it is bounded too.

    The templates see `now` and `mails` (`QuarantinedLine`: `id`, `arrived_at`, `sender`, `subject`,
    `reason`)."""
    mails = tuple(
        QuarantinedLine(m.id, m.arrived_at, echo(m.sender, 200), echo(m.subject, 100), echo(m.reason, 500))
        for m in facts.mails
    )
    return templates.render("quarantine_notice", mails=mails, now=facts.now)


def render_integrity_alert(templates: Templates, facts: IntegrityAlertFacts) -> Letter:
    """The admin's alert of a broken chain, altered message or file. The findings may quote file names
    a stranger chose: each is bounded to one line.

    The templates see `broken_count`, `findings` (lines), `events` and `now`."""
    findings = tuple(echo(line, 300) for line in facts.findings)
    return templates.render(
        "integrity_alert", broken_count=facts.broken_count, findings=findings, events=facts.events, now=facts.now
    )


def render_health(templates: Templates, facts: HealthFacts) -> Letter:
    """A health alert or its recovery, to the admin. Besides the facts, the templates see
    `threshold_words` ("24 heures") and `for_words` (how long the condition has held)."""
    context = facts_context(facts)
    context |= {
        "detail": one_line(echo(facts.detail, 300)),
        "threshold_words": duration_words(templates, facts.threshold, direction=False) if facts.threshold else "",
        "for_words": duration_words(templates, facts.now - facts.since, direction=False) if facts.since else "",
    }
    return templates.render("health", **context)


@dataclass(frozen=True)
class FloodAlertFacts:
    """`sender` reached the cap (`cap` automatic mails in 24 hours) at `now`, with complaint
    `reference`; their later mails are registered unanswered, and grouped for the handler every
    `grouped_every`."""

    sender: str
    cap: int
    reference: str
    grouped_every: timedelta
    now: datetime

    def __post_init__(self) -> None:
        require_aware("now", self.now)


@dataclass(frozen=True)
class GroupedLine:
    """One held mail as the grouped mail lists it: a new complaint or a follow-up, its complaint."""

    reference: str
    follow_up: bool
    received_at: datetime
    subject: str

    def __post_init__(self) -> None:
        require_aware("received_at", self.received_at)


@dataclass(frozen=True)
class GroupedMailFacts:
    """A handler's one mail for the held mails of one flooding `sender`, oldest first."""

    handler_name: str
    sender: str
    lines: tuple[GroupedLine, ...]
    more: int  # held mails beyond those listed
    now: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "lines", tuple(self.lines))
        if not self.lines:
            raise ValueError("a grouped mail lists at least one mail")
        require_aware("now", self.now)


def render_flood_alert(templates: Templates, facts: FloodAlertFacts) -> Letter:
    """The templates see the facts, `sender` on one bounded line and `hours` (the grouping period)."""
    hours = max(1, round(facts.grouped_every.total_seconds() / 3600))
    return templates.render(
        "flood_alert",
        sender=echo(facts.sender, 200),
        cap=facts.cap,
        reference=facts.reference,
        hours=hours,
        now=facts.now,
    )


def render_grouped_mail(templates: Templates, facts: GroupedMailFacts) -> Letter:
    """The templates see `handler_name`, `sender`, `lines` (`GroupedLine`, subjects on one bounded
    line), `more` and `now`."""
    lines = tuple(
        GroupedLine(line.reference, line.follow_up, line.received_at, echo(line.subject, 100)) for line in facts.lines
    )
    return templates.render(
        "grouped_mail",
        handler_name=one_line(facts.handler_name),
        sender=echo(facts.sender, 200),
        lines=lines,
        more=facts.more,
        now=facts.now,
    )
