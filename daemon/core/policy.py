"""What the decisions know of the configuration: one frozen value, built once by the shell.

The core never reads the TOML nor imports `daemon.config`; `config.Config.policy()` hands each
runner this value, with the holiday calendar built once (not once per message).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from daemon.core.deadlines import ClosedDays, DeadlineRule, Unit
from daemon.core.mail import Address
from daemon.core.profiles import MediationDates, mediation_dates
from daemon.core.routing import Handler, fold


@dataclass(frozen=True)
class Mediator:
    """The mediator the company belongs to; the letters show only the fields that are set.

    Here rather than with the letters: the configuration names it, and the sender process reads the
    configuration without loading the letters' Jinja and Babel."""

    name: str
    website: str = ""
    address: str = ""
    phone: str = ""

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValueError("a mediator needs a name")


@dataclass(frozen=True)
class CategoryRules:
    """A category's own deadline rules (None: the register's default), and the keywords that give a
    new complaint this category at intake (routing.categorize)."""

    name: str
    ack: DeadlineRule | None
    answer: DeadlineRule | None
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReminderPolicy:
    before: tuple[timedelta, ...]
    escalation_every: timedelta
    late_after: timedelta
    digest_at: time
    digest_days: frozenset[int]


@dataclass(frozen=True)
class CustomerLetters:
    """Which customer-visible changes get a letter (the answer and the closing always do)."""

    status_changed: bool
    deadline_changed: bool
    follow_up_received: bool
    ask_satisfaction: bool


@dataclass(frozen=True)
class HealthWatch:
    """When the daemon's health deserves a letter to the admin (core/health.py); None: never."""

    no_mail_after: timedelta | None = timedelta(hours=24)  # of working days without any mail
    outbox_age: timedelta | None = timedelta(hours=1)  # the oldest letter waiting that long


@dataclass(frozen=True)
class Policy:
    prefix: str
    timezone: ZoneInfo
    language: str
    organisation: str
    sender: Address
    own_addresses: frozenset[str]
    ack_rule: DeadlineRule
    answer_rule: DeadlineRule
    categories: tuple[CategoryRules, ...]
    closed: ClosedDays
    handlers: tuple[Handler, ...]
    default_handler: Handler
    supervisor: Address
    trusted_authserv_ids: frozenset[str]
    reminders: ReminderPolicy
    letters: CustomerLetters
    mediator: Mediator | None
    attach_limit: int = 10 * 1024 * 1024  # beyond this a handler's mail lists the files instead of carrying them
    automatic_mails_per_day: int = 5  # to one correspondent (issue 14): past it, registered but not answered
    grouped_every: timedelta = timedelta(hours=1)  # past it, the handler's mails of that sender are grouped
    cause_categories: tuple[str, ...] = ()  # `[causes] categories`: what a #cause may be filed under
    admin: Address | None = None  # told of quarantined mail ([health] admin); None: the supervisor
    refer_after: DeadlineRule = DeadlineRule(2, Unit.MONTHS)  # `[mediator] refer_after`
    health: HealthWatch = HealthWatch()
    verp_delimiter: str = "+"  # `[outbox] verp_delimiter`: how a bounce's return path is read (core/verp.py)

    @property
    def alerts_to(self) -> Address:
        """Who is told when the daemon itself needs a person."""
        return self.admin or self.supervisor

    def mediation(self, received_at: datetime) -> MediationDates:
        """When a complaint received at `received_at` may go to the mediator, and until when."""
        return mediation_dates(received_at, self.refer_after, self.timezone, self.closed)

    @property
    def domain(self) -> str:
        return self.sender.domain

    @property
    def staff(self) -> frozenset[str]:
        """Addresses whose mail about a complaint is read as a handler's (commands), not a customer's."""
        return frozenset(h.email for h in self.handlers) | {self.supervisor.normalized}

    def handler(self, email: str) -> Handler | None:
        wanted = email.strip().lower()
        return next((h for h in self.handlers if h.email == wanted), None)

    def category_rules(self, category: str | None) -> CategoryRules | None:
        if category is None:
            return None
        return next((c for c in self.categories if fold(c.name) == fold(category)), None)

    def deadline_rules(self, category: str | None) -> tuple[DeadlineRule, DeadlineRule]:
        """(ack rule, answer rule) for a complaint of `category`: its override, else the default."""
        own = self.category_rules(category)
        if own is None:
            return self.ack_rule, self.answer_rule
        return own.ack or self.ack_rule, own.answer or self.answer_rule
