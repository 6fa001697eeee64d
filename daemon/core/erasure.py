"""Erasure (GDPR art. 17, issue 13 item 2): one person pseudonymised everywhere the register holds
them, at their request, "where the law allows".

Theory of operation
-------------------
A complaint is evidence the company must keep (Code civil art. 2224: five years to bring a claim;
GDPR art. 17(3)(b) and (e) let a controller keep what a legal obligation or a legal claim needs), so
an erase does not delete it: it removes who made it and what they wrote, and keeps what happened.

What goes: the customer's name, phone and postal address; their email address, replaced by a
pseudonym that is the same for every complaint of the same address (`pseudonyme-` and eight hex
digits of an HMAC-SHA256 keyed by `[retention] pseudonym_key_file`), so an auditor, and the report's
recurring customers, still see that two complaints came from one person without learning who; the
subject, the texts, the wished solution and the satisfaction comment (their words); the bytes,
sender and subject of every message registered with the complaint (the row stays, empty, so the
report's count of mails received holds; `verify` knows an emptied message of an erased complaint),
the messages from their address that belong to no complaint, the files (a file another complaint
still lists stays), every letter in the outbox (a pending one is cancelled, and the history says
so), and the outbox rows of no complaint sent to them or naming them (a digest); the
actor and text of every history event but the status moves (a handler's note or command quotes the
customer as often as not, and the register cannot tell which do); the name, address, email and phone
wherever the company's own words kept (actions, causes) hold them, replaced by the pseudonym.
What stays: the reference, the dates, the category, the evaluation, the outcome, the compensation,
the deadline figures, the actions and causes, every event's name, instant, digest and links, so
the reports and both chains still hold. The erase is itself an event of the chain (`erased`).

An open complaint is refused unless forced: the register still owes that person an answer, and
once erased it cannot write to them (a letter then goes to `letter_to_post`, with no address).
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime

from daemon.core.effects import Effects, HistoryEntry

__all__ = [
    "EMPTIED",
    "ERASED",
    "ErasurePlan",
    "Held",
    "Person",
    "decide_erase",
    "mentions",
    "open_ones",
    "pseudonym",
    "scrub",
]

ERASED = "erased"  # the history event an erase appends (core/chain.py lets the events before it be stubs)
PREFIX = "pseudonyme-"
EMPTIED = hashlib.sha256(b"").hexdigest()  # what an emptied message's bytes hash to (verify knows it)


def pseudonym(email: str, key: bytes) -> str:
    """The person's stable pseudonym: keyed, so nobody without the key can test a guessed address."""
    mac = hmac.new(key, email.strip().lower().encode("utf-8"), hashlib.sha256).hexdigest()
    return PREFIX + mac[:8]


@dataclass(frozen=True)
class Person:
    """What identifies the person in the register: their address and what their complaints say of them."""

    email: str
    names: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()

    def marks(self) -> tuple[str, ...]:
        """Every identifier, longest first (a name inside an address is replaced with the address)."""
        found = {m.strip() for m in (self.email, *self.names, *self.phones, *self.addresses) if m.strip()}
        return tuple(sorted(found, key=lambda m: (-len(m), m)))


def scrub(text: str, person: Person, alias: str) -> str:
    """`text` with each of the person's identifiers replaced by the pseudonym, case and spacing aside."""
    for mark in person.marks():
        pattern = r"\s+".join(re.escape(word) for word in mark.split())
        text = re.sub(pattern, alias, text, flags=re.IGNORECASE)
    return text


def mentions(recipients: str, raw: bytes, person: Person) -> bool:
    """Whether a letter is addressed to the person or names them (its headers and text decoded)."""
    if person.email and person.email in recipients.lower():
        return True
    message = email.message_from_bytes(raw, policy=email.policy.default)
    texts = [str(value) for value in message.values()]
    texts += [part.get_content() for part in message.walk() if part.get_content_maintype() == "text"]
    seen = " ".join(" ".join(texts).split()).lower()
    return any(" ".join(mark.split()).lower() in seen for mark in person.marks())


@dataclass(frozen=True)
class Held:
    """One of the person's complaints, and what an erase would remove from it."""

    complaint_id: int
    reference: str
    status: str
    received_at: datetime
    messages: int  # raw messages registered with it
    files: int  # attachments it lists
    letters: int  # outbox rows, whatever their state
    pending: tuple[str, ...]  # the purposes of the letters not sent yet: cancelled
    events: int  # history events whose actor and text go (all but the status moves)

    @property
    def open(self) -> bool:
        return self.status != "closed"


@dataclass(frozen=True)
class ErasurePlan:
    """What an erase of `person` changes: their complaints, and what the register holds from or to them
    outside any."""

    person: Person
    alias: str
    complaints: tuple[Held, ...]
    stray_messages: int  # messages from their address that belong to no complaint (quarantined, robots…)
    stray_letters: tuple[int, ...]  # outbox rows of no complaint to them or naming them (a digest…)

    @property
    def empty(self) -> bool:
        return not (self.complaints or self.stray_messages or self.stray_letters)


def open_ones(plan: ErasurePlan) -> tuple[Held, ...]:
    return tuple(held for held in plan.complaints if held.open)


def decide_erase(held: Held, alias: str, by: str) -> Effects:
    """The erase's own events: the letters it cancelled, then `erased`, chained after the stubs it leaves."""
    entries: tuple[HistoryEntry, ...] = ()
    if held.pending:
        cancelled = (
            f"{len(held.pending)} letter(s) not sent, the customer's data being erased: {', '.join(held.pending)}"
        )
        entries = (HistoryEntry("letters_cancelled", by, cancelled),)
    removed = f"{held.messages} message(s) emptied, {held.files} file(s) and {held.letters} letter(s) removed"
    detail = f"personal data pseudonymised as {alias} at the person's request (GDPR art. 17): {removed}"
    return Effects(held.complaint_id, history=(*entries, HistoryEntry(ERASED, by, detail)))
