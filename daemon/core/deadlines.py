"""Deadline arithmetic: when a complaint's acknowledgement and answer are due.

This module's sole purpose in life is to turn "received at this instant, under this rule" into one
absolute, timezone-aware instant, and to say which days it skipped on the way. It reads no clock and
does no I/O: the receipt time, the timezone and the calendar of closed days are passed in, so the same
inputs always give the same deadline (Trio's `move_on_at` style: deadlines are absolute instants).

Theory of operation
-------------------
A rule is a whole number and a unit (`DeadlineRule`), written in the config as "48h", "10d", "6bd",
"6 jours ouvrés", "30s"... Units fall in three families:

* Seconds, minutes, hours: elapsed time. The deadline is `start + amount × unit`, whatever the wall
  clock does meanwhile (48 h across the autumn DST change still means 48 h).
* Calendar days: the same local wall-clock time `amount` days later in the register's timezone.
  We add days to the *local* date and convert back, so a complaint received at 10:00 is due at 10:00,
  including across a DST change (that day lasts 23 or 25 hours). A local time that does not exist
  (spring forward, 02:30 in Paris on 28 March 2027) is pushed forward by the gap (03:30); one that
  happens twice (autumn, 02:30 on 25 October 2026) is the first of the two, so a clock artefact never
  lengthens a commitment. Closed days are NOT skipped: calendar days are calendar days.
* Business days: counted the way French law counts a délai in days (Code de procédure civile,
  art. 641 and 642): the day of receipt does not count; then `amount` open days are counted, a day
  being closed when it is a Saturday, a Sunday or a day the `closed` calendar names (a public
  holiday); the deadline is the END of the last counted day, 23:59:59 local time ("tout délai expire
  le dernier jour à vingt-quatre heures"). By construction it never lands on a closed day: a deadline
  that would land on one moves to the next open day.

Why the end of the day rather than the time of receipt: the commitment the customer reads is a date
("au plus tard le mardi 5 janvier 2027"), and a complaints manager reads "6 jours ouvrés" as a date
too. A complaint that arrives on Thursday at 17:00 must not be due at 17:00 six open days later, an
hour before the handler's day ends; and one received on Saturday starts counting on Monday like one
received on Friday evening, which is what "the day of receipt does not count" gives.

* Jours ouvrables ("10wd", "10 jours ouvrables"): counted exactly like business days, but only
  Sundays and the calendar's closed days are closed; Saturdays count (Monday to Saturday, public
  holidays excepted: the French "jour ouvrable", which the ACPR's recommendation 2024-R-02 uses for
  its acknowledgement). They are their own unit, never read as "jours ouvrés": the two differ by
  every Saturday.
* Calendar months ("2mo", "2 mois"): the same local wall-clock time on the same day of the month
  `amount` months later; when that month is shorter, its last day (31 January + 1 month = 28 or
  29 February), as Code de procédure civile art. 641 al. 2 counts a délai in months ("à défaut d'un
  quantième identique, le délai expire le dernier jour du mois"). Like calendar days, never moved off
  a closed day. "m" stays minutes: a month is written "mo" or "mois".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum

__all__ = [
    "WEEKEND",
    "ClosedDays",
    "Deadline",
    "DeadlineRule",
    "Unit",
    "add_months",
    "due_at",
    "holiday_calendar",
    "parse_duration",
    "parse_rule",
]

ClosedDays = Callable[[date], "str | None"]
"""A calendar of closed days: the reason a day is closed (e.g. "Noël"), or None when it is open."""

# The reason recorded for a skipped Saturday or Sunday that no calendar names. It is a stable
# identifier, not prose: whoever shows it to a person translates it ("week-end" / "weekend").
WEEKEND = "weekend"
WEEKEND_DAYS = frozenset({5, 6})  # date.weekday(): Saturday, Sunday.
SUNDAY_ONLY = frozenset({6})  # Jours ouvrables: only Sunday is a weekly rest day.

# No deadline or duration may exceed this: ten years is already absurd for a complaint, and the cap
# turns a typo such as "99999999d" into a clear error instead of an OverflowError deep in datetime.
MAX_SPAN = timedelta(days=3660)

# A `closed` calendar that closes every day would make the business-day count loop forever.
# No real calendar closes more than a few weeks in a row.
MAX_CLOSED_RUN = 366


class Unit(StrEnum):
    SECONDS = "seconds"
    MINUTES = "minutes"
    HOURS = "hours"
    CALENDAR_DAYS = "calendar_days"
    BUSINESS_DAYS = "business_days"
    OUVRABLE_DAYS = "ouvrable_days"
    MONTHS = "months"


# The days of the week each day-counting unit closes; every calendar closed day closes too.
_WEEKLY_CLOSED: dict[Unit, frozenset[int]] = {
    Unit.BUSINESS_DAYS: WEEKEND_DAYS,
    Unit.OUVRABLE_DAYS: SUNDAY_ONLY,
}

# The longest span of one unit of each kind, for the MAX_SPAN cap.
_LONGEST: dict[Unit, timedelta] = {Unit.MONTHS: timedelta(days=31)}


_ELAPSED: dict[Unit, timedelta] = {
    Unit.SECONDS: timedelta(seconds=1),
    Unit.MINUTES: timedelta(minutes=1),
    Unit.HOURS: timedelta(hours=1),
}

# The canonical short form of each unit, as `str(rule)` writes it and `parse_rule` reads it back.
_SHORT: dict[Unit, str] = {
    Unit.SECONDS: "s",
    Unit.MINUTES: "m",
    Unit.HOURS: "h",
    Unit.CALENDAR_DAYS: "d",
    Unit.BUSINESS_DAYS: "bd",
    Unit.OUVRABLE_DAYS: "wd",
    Unit.MONTHS: "mo",
}

# Unit words, compared after lower-casing, removing accents and collapsing spaces, hyphens and
# underscores to one space. "m" is minutes (never months): config durations are short.
_DURATION_WORDS: dict[str, timedelta] = {
    **dict.fromkeys(["s", "sec", "secs", "second", "seconds", "seconde", "secondes"], timedelta(seconds=1)),
    **dict.fromkeys(["m", "min", "mins", "minute", "minutes"], timedelta(minutes=1)),
    **dict.fromkeys(["h", "hour", "hours", "heure", "heures"], timedelta(hours=1)),
    **dict.fromkeys(["d", "j", "day", "days", "jour", "jours"], timedelta(days=1)),
}

_RULE_WORDS: dict[str, Unit] = {
    **dict.fromkeys(["s", "sec", "secs", "second", "seconds", "seconde", "secondes"], Unit.SECONDS),
    **dict.fromkeys(["m", "min", "mins", "minute", "minutes"], Unit.MINUTES),
    **dict.fromkeys(["h", "hour", "hours", "heure", "heures"], Unit.HOURS),
    **dict.fromkeys(
        [
            "d",
            "j",
            "day",
            "days",
            "jour",
            "jours",
            "calendar day",
            "calendar days",
            "jour calendaire",
            "jours calendaires",
        ],
        Unit.CALENDAR_DAYS,
    ),
    **dict.fromkeys(
        ["bd", "business day", "business days", "working day", "working days", "jo", "jour ouvre", "jours ouvres"],
        Unit.BUSINESS_DAYS,
    ),
    **dict.fromkeys(["wd", "jour ouvrable", "jours ouvrables"], Unit.OUVRABLE_DAYS),
    **dict.fromkeys(["mo", "month", "months", "mois", "calendar month", "calendar months"], Unit.MONTHS),
}

# One whole number, then a unit word. Digits are ASCII only; no sign, no fraction.
_AMOUNT_UNIT = re.compile(r"\s*([0-9]+)\s*([^\W\d][\w\s-]*?)\s*", re.UNICODE)


def _normalize_word(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.replace("-", " ").replace("_", " ").split())


def _split(text: object, what: str, examples: str) -> tuple[int, str]:
    if not isinstance(text, str):
        raise ValueError(f"{what} must be a string such as {examples}, not {type(text).__name__}")
    match = _AMOUNT_UNIT.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a {what}: expected a whole number and a unit, e.g. {examples}")
    if any(c.isdigit() for c in match.group(2)):
        raise ValueError(f"{text!r} is not a {what}: expected one number and one unit (write '90m', not '1h30m')")
    return int(match.group(1)), _normalize_word(match.group(2))


def parse_duration(text: str) -> timedelta:
    """Read a plain duration from the config: "30s", "15m", "48h", "10d", "48 h", "2 jours".

    One whole number and one unit (s, m = minutes, h, d; English or French words also accepted).
    Zero is allowed (e.g. a reminder at the deadline itself); the caller checks any stricter bound.
    Raises ValueError naming the input; the config loader adds the key path.
    """
    examples = "'30s', '15m', '48h', '10d'"
    amount, word = _split(text, "duration", examples)
    unit = _DURATION_WORDS.get(word)
    if unit is None:
        raise ValueError(f"{text!r} is not a duration: unknown unit {word!r}, expected s, m, h or d, e.g. {examples}")
    if amount > MAX_SPAN / unit:
        raise ValueError(f"{text!r} is too long a duration (more than {MAX_SPAN.days} days)")
    return amount * unit


@dataclass(frozen=True)
class DeadlineRule:
    """A whole, positive number of units: "6 business days" is DeadlineRule(6, Unit.BUSINESS_DAYS)."""

    amount: int
    unit: Unit

    def __post_init__(self) -> None:
        if not isinstance(self.unit, Unit):
            raise ValueError(f"deadline unit must be a Unit, not {self.unit!r}")
        if isinstance(self.amount, bool) or not isinstance(self.amount, int) or self.amount < 1:
            raise ValueError(f"deadline amount must be a whole number of at least 1, not {self.amount!r}")
        span = _ELAPSED.get(self.unit) or _LONGEST.get(self.unit, timedelta(days=1))
        # Counted days are at least as long as calendar days, so the same cap bounds them all.
        if self.amount > MAX_SPAN / span:
            raise ValueError(f"deadline {self.amount} {self.unit} is longer than {MAX_SPAN.days} days")

    def __str__(self) -> str:
        return f"{self.amount}{_SHORT[self.unit]}"


def parse_rule(text: str) -> DeadlineRule:
    """Read a deadline rule: "48h", "10d", "6bd", "6 jours ouvrés", "10wd", "2mo", "30s", "15m".

    "d"/"j"/"days"/"jours" are calendar days; "bd"/"business days"/"working days"/"jours ouvrés"/"jo"
    are business days (Monday to Friday less closed days); "wd"/"jours ouvrables" are jours ouvrables
    (Monday to Saturday less closed days); "mo"/"months"/"mois" are calendar months. Case, accents,
    hyphens and spacing do not matter. Raises ValueError.
    """
    examples = "'48h', '10d', '6bd', '10wd', '2mo'"
    amount, word = _split(text, "deadline", examples)
    unit = _RULE_WORDS.get(word)
    if unit is None:
        raise ValueError(
            f"{text!r} is not a deadline: unknown unit {word!r}, expected s, m, h, d (calendar days), "
            f"bd (business days), wd (jours ouvrables) or mo (months), e.g. {examples}"
        )
    if amount < 1:
        raise ValueError(f"{text!r} is not a deadline: the amount must be at least 1")
    return DeadlineRule(amount, unit)


@dataclass(frozen=True)
class Deadline:
    """When something is due, under which rule, and which days were skipped to get there.

    `at` is aware and in UTC. `skipped` lists, in order, each closed day passed over while counting
    business days or jours ouvrables with its reason: the calendar's name for it (e.g. "Noël") or WEEKEND. It is empty
    for every other unit. Language-neutral data: the letters and reports phrase it.
    """

    at: datetime
    rule: DeadlineRule
    skipped: tuple[tuple[date, str], ...] = ()

    def __post_init__(self) -> None:
        if self.at.tzinfo is None or self.at.utcoffset() != timedelta(0):
            raise ValueError(f"deadline must be an aware UTC datetime, not {self.at!r}")


def skipped_text(skipped: tuple[tuple[date, str], ...]) -> str:
    """The register's form of a deadline's skipped days: one "YYYY-MM-DD reason" line each, so
    `show` can explain the deadline whenever it was computed (at intake or after a new category)."""
    return "\n".join(f"{day.isoformat()} {why}" for day, why in skipped)


def _local_to_utc(wall: datetime, tz: tzinfo) -> datetime:
    # fold=0: an ambiguous wall time is its first occurrence; a nonexistent one (in a spring-forward
    # gap) takes the offset from before the gap, i.e. it is pushed forward by the gap's length.
    # Round-tripping through UTC gives the instant zoneinfo means by that (PEP 495).
    return wall.replace(tzinfo=tz, fold=0).astimezone(UTC)


def _closed_reason(day: date, closed: ClosedDays | None, weekly: frozenset[int] = WEEKEND_DAYS) -> str | None:
    # The calendar's name wins over WEEKEND, so a holiday on a Sunday is explained by its name.
    reason = closed(day) if closed is not None else None
    if reason:
        return reason
    if day.weekday() in weekly:
        return WEEKEND
    return None


def add_months(day: date, months: int) -> date:
    """The same day of the month `months` later, or that month's last day when it is shorter
    (Code de procédure civile art. 641 al. 2: 31 January + 1 month = the last day of February)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    following = date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)
    return date(year, month + 1, min(day.day, (following - timedelta(days=1)).day))


def due_at(
    start: datetime,
    rule: DeadlineRule,
    tz: tzinfo,
    closed: ClosedDays | None = None,
) -> Deadline:
    """The deadline for something that started at `start` (aware) under `rule`, in timezone `tz`.

    - seconds/minutes/hours: `start` plus that much elapsed time;
    - calendar days: the same local wall-clock time in `tz`, `amount` days later; never moved,
      even onto a closed day;
    - business days: the day of receipt (its local date in `tz`) does not count; count `amount` open
      days after it, skipping Saturdays, Sundays and days for which `closed(day)` gives a reason;
      the deadline is 23:59:59 local time on the last one (Code de procédure civile, art. 641-642);
    - jours ouvrables: the same, but Saturdays count (only Sundays and closed days are skipped);
    - months: the same local wall-clock time on the same day of the month `amount` months later,
      or on that month's last day when it is shorter; never moved, even onto a closed day.

    Raises ValueError for a naive `start`, or when `closed` leaves no open day for a whole year.
    """
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError(f"deadline start must be timezone-aware, not {start!r}")

    if rule.unit in _ELAPSED:
        # Add in UTC: Python adds a timedelta to an aware datetime on its wall clock, so
        # 10:00 CEST + 48 h would give 10:00 CET, an hour too late across the autumn change.
        return Deadline(at=start.astimezone(UTC) + rule.amount * _ELAPSED[rule.unit], rule=rule)

    local = start.astimezone(tz)
    if rule.unit is Unit.CALENDAR_DAYS:
        wall = local.replace(tzinfo=None) + timedelta(days=rule.amount)
        return Deadline(at=_local_to_utc(wall, tz), rule=rule)
    if rule.unit is Unit.MONTHS:
        wall = datetime.combine(add_months(local.date(), rule.amount), local.time())
        return Deadline(at=_local_to_utc(wall, tz), rule=rule)

    weekly = _WEEKLY_CLOSED[rule.unit]
    day = local.date()
    skipped: list[tuple[date, str]] = []
    counted = 0
    closed_run = 0
    while counted < rule.amount:
        day += timedelta(days=1)
        reason = _closed_reason(day, closed, weekly)
        if reason is None:
            counted += 1
            closed_run = 0
            continue
        skipped.append((day, reason))
        closed_run += 1
        if closed_run > MAX_CLOSED_RUN:
            raise ValueError(f"no open day in the {MAX_CLOSED_RUN} days after {day - timedelta(days=closed_run)}")
    wall = datetime.combine(day, time(23, 59, 59))
    return Deadline(at=_local_to_utc(wall, tz), rule=rule, skipped=tuple(skipped))


def holiday_calendar(
    country: str = "FR",
    subdivision: str | None = None,
    *,
    language: str | None = None,
) -> ClosedDays:
    """The public holidays of `country` (ISO 3166-1 alpha-2) and optional `subdivision`, as a calendar.

    For France, Alsace-Moselle adds Good Friday and 26 December: subdivision "57" (Moselle) or "6AE"
    (Alsace); the départements 67/68 are not subdivisions of the `holidays` package. Holiday names
    are in `language` (default: the country's own, so French for France). The returned function
    gives the holiday's name for a closed day, None otherwise; years are loaded as they are asked.
    Raises ValueError for an unknown country, subdivision or language.

    This is the only function that touches the `holidays` package, imported here so the rest of
    this module works without it.
    """
    import holidays

    code = country.strip().upper()
    supported = holidays.list_supported_countries()
    if code not in supported:
        raise ValueError(f"no holiday calendar for country {country!r} (expected an ISO 3166-1 code such as 'FR')")
    cls = type(holidays.country_holidays(code))
    aliases = getattr(cls, "subdivisions_aliases", {})
    if subdivision is not None and subdivision not in supported[code] and subdivision not in aliases:
        hint = ""
        if code == "FR" and subdivision in ("67", "68"):
            hint = " (Bas-Rhin and Haut-Rhin together are '6AE', Alsace)"
        raise ValueError(
            f"no holiday calendar for {code} subdivision {subdivision!r}{hint}; "
            f"its subdivisions are {', '.join(supported[code]) or 'none'}"
        )
    wanted = language or cls.default_language
    if wanted is not None and wanted not in cls.supported_languages:
        raise ValueError(f"no holiday names in {wanted!r} for {code}; available: {', '.join(cls.supported_languages)}")
    calendar = holidays.country_holidays(code, subdiv=subdivision, language=wanted)

    def closed(day: date) -> str | None:
        name = calendar.get(day)
        return str(name) if name else None

    return closed


_YEARS = re.compile(r"^\s*(\d{1,3})\s*(y|years?|ans?)\s*$", re.IGNORECASE)


def keep_years(text: str) -> int:
    """A retention in whole years: "5y" / "5 ans" → 5 (`[retention] keep`, core/retention.py).
    Raises ValueError naming the input; the config loader adds the key."""
    found = _YEARS.match(text)
    if not found or int(found.group(1)) < 1:
        raise ValueError(f"{text!r} is not a retention: a whole number of years, e.g. '5y' or '5 ans'")
    return int(found.group(1))
