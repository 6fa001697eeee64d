"""The quality meeting's figures (issue 12, item 3): the register's rows for a period in, a `Report` out.

The register edge reads narrow rows for the period (complaints received in it, their causes and
actions, the mails that arrived in it); this module counts. It reads no clock: `as_of` (the
instant the report is made) decides what is open, overdue or still pending.

Theory of operation
-------------------
* Every figure is about the complaints *received* in the period (local dates in the register's
  time zone), whatever happened to them since, as of `as_of`; the mails' line is about the mails
  that *arrived* in it. README "The quality report" defines each figure; `DEFINITIONS` in
  core/report_render.py says the same in the report itself.
* A deadline is met, missed or pending as core/compliance.py judges it (the one rule the sheet and
  the export use). Shares are met / (met + missed): a pending case is neither.
* Times are counted in the unit of the complaint's own rule: business days when the rule is in
  business days (open days after the day of receipt up to the day of the event, as deadlines.py
  counts them), calendar days for a rule in days, hours for a rule in hours, minutes or seconds.
  Each unit gets its own median and 90th percentile, with the number of cases beside them.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from math import ceil
from operator import attrgetter
from typing import NamedTuple

from daemon.core.compliance import DeadlineState, judge
from daemon.core.deadlines import WEEKEND_DAYS, ClosedDays, Unit, parse_rule
from daemon.core.period import Period
from daemon.core.profiles import MediationDates

# Waiting for no answer any more: an answered or closed complaint (as the reminders see it).
ANSWERED = frozenset({"answered", "closed"})
UNSET = ""  # the label of a complaint with no category, severity… (the renderer words it)
SATISFACTION_POINTS = ("understood", "actions", "relationship")
MARKS = ("1", "2", "3", "4", "5")


# --------------------------------------------------------------------------- rows in


class ComplaintRow(NamedTuple):
    """One complaint received in the period, as narrow as the figures need. A named tuple, not a
    dataclass: a year's report builds a hundred thousand of them, from the database's own tuples."""

    reference: str
    received_at: datetime
    status: str
    customer_email: str
    subject: str
    handler_email: str
    category: str | None
    channel: str
    severity: str | None
    scope: str | None
    ack_due_at: datetime
    answer_due_at: datetime
    acknowledged_at: datetime | None
    answered_at: datetime | None  # the first move to answered or closed
    ack_rule: str = ""
    answer_rule: str = ""
    compensation_type: str | None = None
    compensation_amount: str | None = None
    compensation_currency: str | None = None
    satisfaction_understood: str | None = None
    satisfaction_actions: str | None = None
    satisfaction_relationship: str | None = None

    @property
    def satisfaction(self) -> tuple[str | None, str | None, str | None]:
        return (self.satisfaction_understood, self.satisfaction_actions, self.satisfaction_relationship)


@dataclass(frozen=True)
class CauseRow:
    reference: str
    text: str
    category: str | None


@dataclass(frozen=True)
class ActionRow:
    reference: str
    number: int
    kind: str
    status: str
    due_on: date | None
    owner: str | None


@dataclass(frozen=True)
class MailCount:
    """Mails that arrived in the period with this triage outcome; `typed` for the source records of
    complaints typed in with `complaintsd add` (not mails)."""

    outcome: str
    typed: bool
    count: int


@dataclass(frozen=True)
class Rows:
    complaints: tuple[ComplaintRow, ...] = ()
    causes: tuple[CauseRow, ...] = ()
    actions: tuple[ActionRow, ...] = ()
    mails: tuple[MailCount, ...] = ()


# --------------------------------------------------------------------------- figures out


@dataclass(frozen=True)
class Kept:
    """How one deadline fared over the period's complaints."""

    met: int = 0
    missed: int = 0
    pending: int = 0

    @property
    def share(self) -> float | None:
        """met / (met + missed), None when no case is decided yet."""
        decided = self.met + self.missed
        return None if decided == 0 else self.met / decided


@dataclass(frozen=True)
class Durations:
    """Times to an event in one unit: "business_days", "calendar_days" or "hours"."""

    unit: str
    cases: int
    median: float
    p90: float


@dataclass(frozen=True)
class HandlerLoad:
    handler: str
    open: int
    overdue: int


@dataclass(frozen=True)
class Recurrence:
    """Complaints of the period that come back: `kind` "customer" (the same address) or "subject"
    (the same category and the same significant words in the subject)."""

    kind: str
    key: str
    references: tuple[str, ...]


@dataclass(frozen=True)
class ActionCount:
    kind: str
    status: str
    count: int


@dataclass(frozen=True)
class OverdueAction:
    reference: str
    number: int
    kind: str
    owner: str | None
    due_on: date


@dataclass(frozen=True)
class CompensationTotal:
    type: str
    currency: str
    count: int
    total: Decimal


@dataclass(frozen=True)
class SatisfactionPoint:
    """One of the closing letter's three questions: how many answered it, and how."""

    point: str
    answered: int = 0
    yes: int = 0
    no: int = 0
    marks: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)

    @property
    def mean_mark(self) -> float | None:
        given = sum(self.marks)
        return None if given == 0 else sum((i + 1) * n for i, n in enumerate(self.marks)) / given


@dataclass(frozen=True)
class MediationCase:
    """A complaint of the period still without a final answer (no move to answered or closed) whose
    mediator referral date has passed; `limit_passed`: its one-year limit (L.612-2) too. Dates local."""

    reference: str
    handler: str
    received_at: datetime
    refer_from: datetime
    limit: datetime
    limit_passed: bool


@dataclass(frozen=True)
class Completeness:
    """mails received = registered + follow-ups + robots kept + quarantined + duplicates (+ other)."""

    received: int = 0
    registered: int = 0
    follow_ups: int = 0
    robots: int = 0
    quarantined: int = 0
    duplicates: int = 0
    other: int = 0
    typed_in: int = 0  # complaints typed in with `complaintsd add`: registered, but not mails

    @property
    def balanced(self) -> bool:
        parts = self.registered + self.follow_ups + self.robots + self.quarantined + self.duplicates
        return self.received == parts + self.other


@dataclass(frozen=True)
class Headline:
    """The figures compared with the previous period."""

    complaints: int
    ack: Kept
    answer: Kept
    systemic: int
    open: int
    overdue: int
    compensated: int
    handlers: tuple[HandlerLoad, ...] = ()


@dataclass(frozen=True)
class Report:
    period: Period
    previous_period: Period
    as_of: datetime
    by_month: tuple[tuple[str, int], ...]
    by_category: tuple[tuple[str, int], ...]
    by_channel: tuple[tuple[str, int], ...]
    by_severity: tuple[tuple[str, int], ...]
    ack: Kept
    answer: Kept
    ack_times: tuple[Durations, ...]
    answer_times: tuple[Durations, ...]
    handlers: tuple[HandlerLoad, ...]
    systemic: tuple[str, ...]
    recurring: tuple[Recurrence, ...]
    causes_by_category: tuple[tuple[str, int], ...]
    top_causes: tuple[tuple[str, int], ...]
    actions: tuple[ActionCount, ...]
    overdue_actions: tuple[OverdueAction, ...]
    compensation: tuple[CompensationTotal, ...]
    satisfaction: tuple[SatisfactionPoint, ...]
    completeness: Completeness
    current: Headline
    previous: Headline
    mediation: tuple[MediationCase, ...] = ()  # the oldest MEDIATION_LISTED of them
    mediation_referable: int = 0  # all of them
    mediation_limit_passed: int = 0


# --------------------------------------------------------------------------- the computation


def build_report(
    period: Period,
    rows: Rows,
    previous: Rows,
    as_of: datetime,
    tz: tzinfo,
    closed: ClosedDays | None,
    mediation: Callable[[datetime], MediationDates] | None = None,
) -> Report:
    """Every figure of the quality report for `period`, compared with `previous` (its rows);
    `mediation` gives a complaint's mediation dates from its receipt (core/profiles.py)."""
    complaints = rows.complaints
    days = OpenDays(tz, closed)
    current = headline(complaints, as_of)
    waiting = _mediation(complaints, mediation, as_of, tz) if mediation else NO_MEDIATION
    return Report(
        period=period,
        previous_period=period.previous(),
        as_of=as_of,
        by_month=_by_month(complaints, period, tz),
        by_category=_tally(map(attrgetter("category"), complaints)),
        by_channel=_tally(map(attrgetter("channel"), complaints)),
        by_severity=_tally(map(attrgetter("severity"), complaints)),
        ack=current.ack,
        answer=current.answer,
        ack_times=_durations(((c.received_at, c.acknowledged_at, c.ack_rule) for c in complaints), days),
        answer_times=_durations(((c.received_at, c.answered_at, c.answer_rule) for c in complaints), days),
        handlers=current.handlers,
        systemic=tuple(c.reference for c in complaints if c.scope == "systemic"),
        recurring=recurrences(complaints),
        causes_by_category=_tally(cause.category for cause in rows.causes),
        top_causes=_top_causes(rows.causes),
        actions=_actions(rows.actions),
        overdue_actions=_overdue_actions(rows.actions, as_of.astimezone(tz).date()),
        compensation=_compensation(complaints),
        satisfaction=_satisfaction(complaints),
        completeness=_completeness(rows.mails),
        current=current,
        previous=headline(previous.complaints, as_of),
        mediation=waiting.cases,
        mediation_referable=waiting.referable,
        mediation_limit_passed=waiting.limit_passed,
    )


def headline(complaints: tuple[ComplaintRow, ...], as_of: datetime) -> Headline:
    loads = _handlers(complaints, as_of)
    ack = Counter(judge(c.ack_due_at, c.acknowledged_at, as_of) for c in complaints)
    answer = Counter(judge(c.answer_due_at, c.answered_at, as_of) for c in complaints)
    return Headline(
        complaints=len(complaints),
        ack=_kept(ack),
        answer=_kept(answer),
        systemic=sum(c.scope == "systemic" for c in complaints),
        open=sum(load.open for load in loads),
        overdue=sum(load.overdue for load in loads),
        compensated=sum(c.compensation_type is not None for c in complaints),
        handlers=loads,
    )


def _tally(values: Iterable[str | None]) -> tuple[tuple[str, int], ...]:
    """Counts by value, the largest first (ties by name); None is UNSET."""
    counts: Counter[str] = Counter()
    for value, n in Counter(values).items():  # counted in C, then the few distinct values named
        counts[value or UNSET] += n
    return tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def _by_month(complaints: tuple[ComplaintRow, ...], period: Period, tz: tzinfo) -> tuple[tuple[str, int], ...]:
    """Counted between each local month's first instant and the next's (sorted instants, bisected:
    a year's report converts a dozen instants, not a hundred thousand)."""
    received = sorted(c.received_at for c in complaints)
    months = period.months()
    starts = [datetime.combine(date.fromisoformat(f"{m}-01"), time(0), tzinfo=tz) for m in months]
    edges = [bisect_left(received, start) for start in starts] + [len(received)]
    return tuple((month, edges[i + 1] - edges[i]) for i, month in enumerate(months))


def _kept(states: Counter[DeadlineState]) -> Kept:
    """How many met, missed, pending: core/compliance.py judges each, as the sheet and the export do."""
    return Kept(states[DeadlineState.MET], states[DeadlineState.MISSED], states[DeadlineState.PENDING])


class OpenDays:
    """Business days between two instants, as deadlines.py counts them: the open days after the local
    day of the start, up to and including the local day of the end. Each day is asked of the calendar
    once (a year's report has a hundred thousand durations, over a few hundred days)."""

    def __init__(self, tz: tzinfo, closed: ClosedDays | None) -> None:
        self._tz, self._closed = tz, closed
        self._rank: dict[date, int] = {}  # open days from an arbitrary origin up to the day, included
        self._low = self._high = date.min

    def between(self, start: datetime, end: datetime) -> int:
        first, last = start.astimezone(self._tz).date(), end.astimezone(self._tz).date()
        if last <= first:
            return 0
        return self._rank_of(last) - self._rank_of(first)

    def _open(self, day: date) -> bool:
        return day.weekday() not in WEEKEND_DAYS and not (self._closed is not None and self._closed(day))

    def _rank_of(self, day: date) -> int:
        """rank(d) - rank(d - 1 day) is 1 when d is open: the table grows from where it was asked first."""
        one = timedelta(days=1)
        if not self._rank:
            self._rank[day], self._low, self._high = 0, day, day
        while day > self._high:
            self._high += one
            self._rank[self._high] = self._rank[self._high - one] + self._open(self._high)
        while day < self._low:
            self._rank[self._low - one] = self._rank[self._low] - self._open(self._low)
            self._low -= one
        return self._rank[day]


_UNIT_OF = {
    Unit.BUSINESS_DAYS: "business_days",
    Unit.CALENDAR_DAYS: "calendar_days",
    Unit.HOURS: "hours",
    Unit.MINUTES: "hours",
    Unit.SECONDS: "hours",
}
UNITS = ("business_days", "calendar_days", "hours")


@lru_cache(maxsize=64)
def time_unit(rule_text: str) -> str:
    """The unit a time is counted in, after its deadline's rule; a rule not recorded: calendar days."""
    try:
        return _UNIT_OF[parse_rule(rule_text).unit]
    except ValueError:
        return "calendar_days"


def elapsed(start: datetime, end: datetime, unit: str, days: OpenDays) -> float:
    if unit == "business_days":
        return float(days.between(start, end))
    seconds = max((end - start).total_seconds(), 0.0)
    return seconds / (86400 if unit == "calendar_days" else 3600)


def _durations(cases: Iterable[tuple[datetime, datetime | None, str]], days: OpenDays) -> tuple[Durations, ...]:
    """Each unit's times sorted once, its median and 90th percentile read from the sorted list."""
    by_unit: dict[str, list[float]] = defaultdict(list)
    per_rule: dict[str, tuple[str, list[float]]] = {}
    for received, done, rule in cases:
        if done is None:
            continue
        unit, values = per_rule.get(rule) or per_rule.setdefault(rule, (time_unit(rule), by_unit[time_unit(rule)]))
        values.append(elapsed(received, done, unit, days))
    return tuple(
        Durations(unit, len(values), round(_median(values), 1), round(_nearest_rank(values, 90), 1))
        for unit in UNITS
        if (values := sorted(by_unit.get(unit, ())))
    )


def percentile(values: list[float], rank: int) -> float:
    """The nearest-rank percentile: the smallest value with at least `rank` % of the values at or below it."""
    return _nearest_rank(sorted(values), rank)


def _nearest_rank(ordered: list[float], rank: int) -> float:
    return ordered[max(ceil(rank / 100 * len(ordered)), 1) - 1]


def _median(ordered: list[float]) -> float:
    """statistics.median of a list already sorted (it would sort it again)."""
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _overdue(c: ComplaintRow, as_of: datetime) -> bool:
    unacknowledged = c.acknowledged_at is None and c.status == "received" and c.ack_due_at <= as_of
    return unacknowledged or c.answer_due_at <= as_of


def _handlers(complaints: tuple[ComplaintRow, ...], as_of: datetime) -> tuple[HandlerLoad, ...]:
    opened: Counter[str] = Counter()
    overdue: Counter[str] = Counter()
    for c in complaints:
        if c.status not in ANSWERED:
            opened[c.handler_email] += 1
            overdue[c.handler_email] += _overdue(c, as_of)
    return tuple(HandlerLoad(h, opened[h], overdue[h]) for h in sorted(opened, key=lambda h: (-overdue[h], h)))


MEDIATION_LISTED = 100  # a meeting reads the oldest; `complaintsd export` gives every one's dates


class _Waiting(NamedTuple):
    cases: tuple[MediationCase, ...]
    referable: int
    limit_passed: int


NO_MEDIATION = _Waiting((), 0, 0)


def _mediation(
    complaints: tuple[ComplaintRow, ...],
    dates: Callable[[datetime], MediationDates],
    as_of: datetime,
    tz: tzinfo,
    listed: int = MEDIATION_LISTED,
) -> _Waiting:
    """The unanswered complaints whose referral date is past, counted, and the oldest `listed` of
    them. Both dates grow with the receipt, so these are the first ones of the unanswered sorted by
    receipt: both counts are found by bisection, and the dates computed for the listed ones and the
    bisections' probes, not for every complaint of the year."""
    waiting = sorted((c for c in complaints if c.answered_at is None), key=attrgetter("received_at"))
    referable = bisect_right(waiting, as_of, key=lambda c: dates(c.received_at).refer_from)
    limit_passed = bisect_left(waiting, as_of, hi=referable, key=lambda c: dates(c.received_at).limit)
    cases = []
    for c in waiting[: min(referable, listed)]:
        when = dates(c.received_at)
        local = (c.received_at.astimezone(tz), when.refer_from.astimezone(tz), when.limit.astimezone(tz))
        cases.append(MediationCase(c.reference, c.handler_email, *local, limit_passed=as_of > when.limit))
    return _Waiting(tuple(cases), referable, limit_passed)


# --------------------------------------------------------------------------- recurrence


def fold(text: str) -> str:
    """Case and accents folded: "Abîmé" and "ABIME" are one word."""
    folded = text.casefold()
    if folded.isascii():
        return folded
    return _MARKS.sub("", unicodedata.normalize("NFKD", folded))


_MARKS = re.compile(r"[\u0300-\u036f]+")  # the combining diacritical marks NFKD splits off
# Runs of at least four letters: shorter words (le, la, des, the, and…) say nothing of the subject,
# and the reply prefixes (Re:, TR:, Fwd:, AW:…) are all shorter. Digits split words and never count.
_SIGNIFICANT = re.compile(r"[^\W\d_]{4,}")
_DIGITS = re.compile(r"[0-9]+")


def subject_words(subject: str) -> frozenset[str]:
    """The significant words of a subject: case and accents folded, words of at least four letters
    (no digits: an order number makes two complaints no less alike; reply prefixes are shorter)."""
    return frozenset(_SIGNIFICANT.findall(fold(subject)))


def recurrences(complaints: tuple[ComplaintRow, ...]) -> tuple[Recurrence, ...]:
    """Groups of two or more complaints of the period from the same address, then of the same
    category with the same significant subject words; the biggest first."""
    by_customer: dict[str, list[str]] = defaultdict(list)
    by_subject: dict[tuple[str, frozenset[str]], list[str]] = defaultdict(list)
    categories: dict[str, str] = {}
    words_of: dict[str, frozenset[str]] = {}
    for c in complaints:
        if c.customer_email:
            by_customer[c.customer_email.strip().lower()].append(c.reference)
        if c.category:
            category = categories.get(c.category) or categories.setdefault(c.category, fold(c.category))
            # Digits only split words: subjects that differ by an order number have the same words.
            key = _DIGITS.sub(" ", c.subject)
            words = words_of.get(key)
            if words is None:
                words = words_of[key] = subject_words(key)
            if words:
                by_subject[(category, words)].append(c.reference)
    found = [Recurrence("customer", email, tuple(refs)) for email, refs in by_customer.items() if len(refs) > 1]
    found += [
        Recurrence("subject", f"{category}: {' '.join(sorted(words))}", tuple(refs))
        for (category, words), refs in by_subject.items()
        if len(refs) > 1
    ]
    return tuple(sorted(found, key=lambda r: (r.kind, -len(r.references), r.key)))


# --------------------------------------------------------------------------- causes, actions, money, satisfaction

TOP_CAUSES = 10


def _top_causes(causes: tuple[CauseRow, ...]) -> tuple[tuple[str, int], ...]:
    """The causes written most often (compared case- and accent-insensitively), at most TOP_CAUSES."""
    counts: Counter[str] = Counter()
    first: dict[str, str] = {}
    for cause in causes:
        key = " ".join(fold(cause.text).split())
        first.setdefault(key, cause.text.strip())
        counts[key] += 1
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:TOP_CAUSES]
    return tuple((first[key], n) for key, n in ranked)


def _actions(actions: tuple[ActionRow, ...]) -> tuple[ActionCount, ...]:
    counts = Counter((a.kind, a.status) for a in actions)
    return tuple(ActionCount(kind, status, n) for (kind, status), n in sorted(counts.items()))


def _overdue_actions(actions: tuple[ActionRow, ...], today: date) -> tuple[OverdueAction, ...]:
    """Open actions whose due date is past (a done action waits for its verification, not late)."""
    late = [a for a in actions if a.status == "open" and a.due_on is not None and a.due_on < today]
    return tuple(
        OverdueAction(a.reference, a.number, a.kind, a.owner, a.due_on)
        for a in sorted(late, key=lambda a: (a.due_on, a.reference, a.number))
        if a.due_on is not None
    )


def _amount(text: str | None) -> Decimal:
    try:
        return Decimal(text) if text else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


def _compensation(complaints: tuple[ComplaintRow, ...]) -> tuple[CompensationTotal, ...]:
    counts: Counter[tuple[str, str]] = Counter()
    totals: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for c in complaints:
        if c.compensation_type is not None:
            key = (c.compensation_type, c.compensation_currency or "")
            counts[key] += 1
            totals[key] += _amount(c.compensation_amount)
    return tuple(CompensationTotal(kind, cur, counts[(kind, cur)], totals[(kind, cur)]) for kind, cur in sorted(counts))


def _satisfaction(complaints: tuple[ComplaintRow, ...]) -> tuple[SatisfactionPoint, ...]:
    points = []
    for name in SATISFACTION_POINTS:
        answers = [a for a in map(attrgetter(f"satisfaction_{name}"), complaints) if a is not None]
        marks = Counter(a for a in answers if a in MARKS)
        points.append(
            SatisfactionPoint(
                name,
                answered=len(answers),
                yes=answers.count("yes"),
                no=answers.count("no"),
                marks=(marks["1"], marks["2"], marks["3"], marks["4"], marks["5"]),
            )
        )
    return tuple(points)


_PARTS = {
    "complaint": "registered",
    "follow_up": "follow_ups",
    "robot": "robots",
    "quarantine": "quarantined",
    "duplicate": "duplicates",
}


def _completeness(mails: tuple[MailCount, ...]) -> Completeness:
    parts: Counter[str] = Counter()
    typed = 0
    for mail in mails:
        if mail.typed:
            typed += mail.count
            continue
        parts[_PARTS.get(mail.outcome, "other")] += mail.count
    return Completeness(received=sum(parts.values()), typed_in=typed, **parts)
