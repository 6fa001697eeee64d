"""A flood from one correspondent (issue 14, item 2): the handler's mails grouped, the supervisor told once.

Past a sender's daily cap of automatic mail (core/limits.py) their mails are still registered, but a
flood of 200 also made 200 handler notifications. So past the cap the handler's notification of a
new complaint, or forward of a follow-up, is queued *held*: kept in the outbox, never sent itself.
At each sweep, the held mails of one (handler, sender) whose oldest waited `grouped_every` become
one mail listing them all, and are marked grouped in the transaction that queues it (a second sweep
or daemon finds nothing left to group). Like Mailman's `autorespond_to_sender`, what a flood costs
the people is bounded: the cap of acknowledgements, and per handler one grouped mail a period.

The supervisor hears of a flood once per sender per 24 hours: the first mail past the cap queues the
alert, unless the register holds one for that sender in the window (counted from the outbox, so it
holds across restarts).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from daemon.core.effects import Effects
from daemon.core.letters import FloodAlertFacts, GroupedLine, GroupedMailFacts, LetterToSend, new_message_id
from daemon.core.mail import Address
from daemon.core.policy import Policy

MAX_LISTED = 200  # lines in one grouped mail; the rest are counted


@dataclass(frozen=True)
class HeldLetter:
    """A held outbox row as the sweep reads it: to whom it was going, about whose complaint."""

    outbox_id: int
    kind: str  # "handler_notification" or "follow_up_forward"
    handler: str
    customer: str
    reference: str
    subject: str
    held_at: datetime


def groups_due(held: list[HeldLetter], now: datetime, policy: Policy) -> list[tuple[HeldLetter, ...]]:
    """The held letters to group now, one tuple per (handler, sender): those whose oldest waited
    `grouped_every`, oldest first."""
    groups: dict[tuple[str, str], list[HeldLetter]] = defaultdict(list)
    for letter in sorted(held, key=lambda h: (h.held_at, h.outbox_id)):
        groups[(letter.handler.lower(), letter.customer.lower())].append(letter)
    return [tuple(group) for group in groups.values() if group[0].held_at <= now - policy.grouped_every]


def decide_grouped(group: tuple[HeldLetter, ...], now: datetime, policy: Policy) -> Effects:
    """One mail to the handler listing a flooding sender's held mails."""
    first = group[0]
    lines = tuple(
        GroupedLine(h.reference, h.kind == "follow_up_forward", h.held_at, h.subject) for h in group[:MAX_LISTED]
    )
    name = _handler_name(first.handler, policy)
    facts = GroupedMailFacts(name, first.customer, lines, max(0, len(group) - MAX_LISTED), now)
    message_id = new_message_id(f"grouped-{first.outbox_id}", "grp", policy.domain)
    return Effects(letters=(LetterToSend("grouped_mail", facts, Address(name, first.handler), message_id),))


def flood_alert(sender: str, reference: str, now: datetime, policy: Policy) -> LetterToSend:
    """The supervisor's alert that `sender` went past the cap (with complaint `reference`)."""
    facts = FloodAlertFacts(sender, policy.automatic_mails_per_day, reference, policy.grouped_every, now)
    message_id = new_message_id(reference, "flood", policy.domain)
    return LetterToSend("flood_alert", facts, policy.supervisor, message_id)


def _handler_name(email: str, policy: Policy) -> str:
    for handler in policy.handlers:
        if handler.email.lower() == email.lower():
            return handler.name
    return ""
