"""The register page's URL, read: every filter is a query parameter, so a view can be bookmarked and sent.

`?status=acknowledged&handler=alice@example.com&q=facture&period=2026-11&sort=answer_due&order=asc&page=2`.
A value the register cannot hold (an unknown status, a period that is no date) is refused with its
name, never read as "no complaints".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from daemon.core.commands.words import Scope, Severity
from daemon.core.lifecycle import Status
from daemon.core.manual_entry import Channel
from daemon.core.period import Period, parse_period
from daemon.edges.register.views import SORTS, Filters, PageRequest

CHOICES = {
    "status": tuple(s.value for s in Status),
    "severity": tuple(s.value for s in Severity),
    "scope": tuple(s.value for s in Scope),
    "channel": tuple(c.value for c in Channel),
}
# The parameters a link to another page or order carries over.
KEPT = ("register", "status", "handler", "category", "channel", "severity", "scope", "overdue", "period", "q")
PAGE_SIZE = 50


class BadQuery(ValueError):
    """A query parameter the register cannot answer: the page says which (400)."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"{name}: {problem}")
        self.name = name


@dataclass(frozen=True)
class RegisterQuery:
    filters: Filters
    page: PageRequest


def read_query(
    params: Mapping[str, str], now: datetime, timezone: ZoneInfo, registers: Mapping[str, str] | None = None
) -> RegisterQuery:
    """The page's filters; `registers` maps each `[[registers]]` name to its prefix (`?register=`)."""
    values = {name: params.get(name, "").strip() for name in (*KEPT, "sort", "order", "page")}
    for name, allowed in CHOICES.items():
        if values[name] and values[name].lower() not in allowed:
            raise BadQuery(name, f"{values[name]!r} is not one of {', '.join(allowed)}")
    registers = registers or {}
    if values["register"] and values["register"] not in registers:
        raise BadQuery("register", f"{values['register']!r} is not one of {', '.join(registers) or 'none'}")
    start, end = read_period(values["period"], timezone)
    filters = Filters(
        now=now,
        status=values["status"].lower() or None,
        handler=values["handler"] or None,
        overdue=values["overdue"] in ("1", "on", "true", "yes"),
        severity=values["severity"].lower() or None,
        scope=values["scope"].lower() or None,
        category=values["category"] or None,
        channel=values["channel"].lower() or None,
        words=tuple(values["q"].split())[:10],
        received_from=start,
        received_before=end,
        prefix=registers.get(values["register"]),
    )
    return RegisterQuery(filters, _page(values))


def _page(values: dict[str, str]) -> PageRequest:
    sort = values["sort"] or "registered"
    if sort not in SORTS:
        raise BadQuery("sort", f"{sort!r} is not one of {', '.join(SORTS)}")
    try:
        number = int(values["page"] or "1")
    except ValueError:
        raise BadQuery("page", f"{values['page']!r} is not a page number") from None
    if not 1 <= number <= 1_000_000:
        raise BadQuery("page", f"no page {number}")
    return PageRequest(sort, values["order"] != "asc", number, PAGE_SIZE)


def read_period(text: str, timezone: ZoneInfo) -> tuple[datetime | None, datetime | None]:
    """A day ("2026-11-23") or any period `complaintsd report` takes ("2026", "2026-Q4", "2026-11",
    "2026-10-01..2026-12-31"), as [start, end) instants: the report's figures link here."""
    if not text:
        return None, None
    try:
        day = date.fromisoformat(text) if len(text) == 10 else None
        period = Period(day, day) if day else parse_period(text)
    except (ValueError, OverflowError):
        raise BadQuery("period", f"{text!r} is not a period like 2026, 2026-Q4, 2026-11 or 2026-11-23") from None
    return period.bounds(timezone)
