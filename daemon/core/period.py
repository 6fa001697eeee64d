"""The period a quality report covers: "2026-11", "2026-Q4", "2026" or "2026-10-01..2026-12-31".

A period is a range of local dates, both ends included, in the register's time zone; its previous
period is the one the report compares with: the month, quarter or year before, or, for a range of
dates, as many days just before it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum

FORMS = "YYYY-MM (2026-11), YYYY-Qn (2026-Q4), YYYY (2026) or FROM..TO (2026-10-01..2026-12-31)"


class Kind(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    RANGE = "range"


@dataclass(frozen=True)
class Period:
    """Local dates `first`..`last` (both included); `kind` says how the previous one is found."""

    first: date
    last: date
    kind: Kind = Kind.RANGE

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError(f"a period ends on or after it starts, not {self.first}..{self.last}")

    @property
    def label(self) -> str:
        if self.kind is Kind.MONTH:
            return f"{self.first:%Y-%m}"
        if self.kind is Kind.QUARTER:
            return f"{self.first.year}-Q{(self.first.month - 1) // 3 + 1}"
        if self.kind is Kind.YEAR:
            return str(self.first.year)
        return f"{self.first.isoformat()}..{self.last.isoformat()}"

    def bounds(self, tz: tzinfo) -> tuple[datetime, datetime]:
        """[start, end) in UTC: from local midnight of the first day to local midnight after the last."""
        start = datetime.combine(self.first, time(0), tzinfo=tz).astimezone(UTC)
        end = datetime.combine(self.last + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
        return start, end

    def previous(self) -> Period:
        """The period the report compares with."""
        if self.kind is Kind.MONTH:
            return _month(*_shift_month(self.first.year, self.first.month, -1))
        if self.kind is Kind.QUARTER:
            year, month = _shift_month(self.first.year, self.first.month, -3)
            return Period(date(year, month, 1), self.first - timedelta(days=1), Kind.QUARTER)
        if self.kind is Kind.YEAR:
            return Period(date(self.first.year - 1, 1, 1), date(self.first.year - 1, 12, 31), Kind.YEAR)
        length = self.last - self.first + timedelta(days=1)
        return Period(self.first - length, self.first - timedelta(days=1), Kind.RANGE)

    def months(self) -> tuple[str, ...]:
        """Every month the period touches, "YYYY-MM", in order (the volumes' rows, zeros included)."""
        found, year, month = [], self.first.year, self.first.month
        while (year, month) <= (self.last.year, self.last.month):
            found.append(f"{year:04d}-{month:02d}")
            year, month = _shift_month(year, month, 1)
        return tuple(found)


def _shift_month(year: int, month: int, by: int) -> tuple[int, int]:
    index = year * 12 + month - 1 + by
    return index // 12, index % 12 + 1


def _month(year: int, month: int) -> Period:
    next_year, next_month = _shift_month(year, month, 1)
    return Period(date(year, month, 1), date(next_year, next_month, 1) - timedelta(days=1), Kind.MONTH)


_MONTH = re.compile(r"(\d{4})-(\d{2})")
_QUARTER = re.compile(r"(\d{4})-[Qq]([1-4])")
_YEAR = re.compile(r"(\d{4})")
_RANGE = re.compile(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})")


def parse_period(text: str) -> Period:
    """Read a period as `--period` takes it; ValueError names the accepted forms."""
    value = text.strip()
    try:
        if match := _MONTH.fullmatch(value):
            return _month(int(match.group(1)), int(match.group(2)))
        if match := _QUARTER.fullmatch(value):
            year, quarter = int(match.group(1)), int(match.group(2))
            first = date(year, 3 * quarter - 2, 1)
            return Period(first, _month(year, 3 * quarter).last, Kind.QUARTER)
        if match := _YEAR.fullmatch(value):
            year = int(match.group(1))
            return Period(date(year, 1, 1), date(year, 12, 31), Kind.YEAR)
        if match := _RANGE.fullmatch(value):
            return Period(date.fromisoformat(match.group(1)), date.fromisoformat(match.group(2)), Kind.RANGE)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a period ({exc}): expected {FORMS}") from None
    raise ValueError(f"{text!r} is not a period: expected {FORMS}")
