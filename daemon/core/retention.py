"""Retention (GDPR, issue 13 item 2): a complaint closed longer ago than `[retention] keep` loses
its personal data; a tombstone stays so that reports and the hash chains still hold.

What goes: the customer's name, address, phone and email, the subject and the texts, the raw
messages, the files (a file another complaint still lists stays), the letters in the outbox, the
command tokens, and the text of every history event but the status moves (the deadline figures
read them). What stays: the reference, the dates, the category, the evaluation, the outcome, the
actions and causes (the company's own words), and every event's digest and links, so both chains
verify. The purge is itself an event of the chain.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from daemon.core.effects import ACTOR, Effects, HistoryEntry

__all__ = ["PURGED", "Closed", "cutoff", "decide_purge"]

PURGED = "purged"  # the history event a purge appends (core/chain.py lets the events before it be stubs)


def cutoff(now: datetime, years: int) -> datetime:
    """The instant `years` calendar years before `now` (29 February falls back to the 28th)."""
    try:
        return now.replace(year=now.year - years)
    except ValueError:
        return now.replace(year=now.year - years, day=28)


@dataclass(frozen=True)
class Closed:
    """A complaint the register closed, and when."""

    complaint_id: int
    reference: str
    closed_at: datetime


def decide_purge(closed: Closed, years: int, now: datetime) -> Effects:
    """The purge's own event, chained after the stubs it leaves."""
    detail = f"personal data removed: closed on {closed.closed_at:%Y-%m-%d}, kept {years} year(s) ([retention] keep)"
    return Effects(closed.complaint_id, history=(HistoryEntry(PURGED, ACTOR, detail),))
