"""Tamper evidence: every history event is chained to the previous event of its complaint and to the
previous event of the whole register (issue 13, item 1). docs/chain.md states the canonical form.

An event's `digest` is the SHA-256 of its canonical content; its `hash` is the SHA-256 of
`register_prev:complaint_prev:digest`. Changing, removing or reordering an event breaks the hash of
every later event of both chains, so `complaintsd verify` names the first broken link. The content
enters only through its digest: a purge or an erase may blank an event's personal text and keep the
digest and the links, and both chains still verify (the stub's content is then not checked, and says so).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = ["GENESIS", "Broken", "ChainedEvent", "EventContent", "digest", "link", "verify_events"]

GENESIS = "0" * 64  # the predecessor of the first event of the register, and of each complaint


@dataclass(frozen=True)
class EventContent:
    """What an event says: its complaint, instant, name, actor and detail."""

    complaint_id: int
    at: datetime
    event: str
    actor: str
    detail: str

    def fields(self) -> dict[str, str | int]:
        """The five fields the digest covers, the instant in UTC to the microsecond with a Z."""
        return {
            "actor": self.actor,
            "at": self.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "complaint": self.complaint_id,
            "detail": self.detail,
            "event": self.event,
        }

    def canonical(self) -> bytes:
        """Compact JSON of `fields`, keys sorted, UTF-8 (docs/chain.md)."""
        return json.dumps(self.fields(), ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def digest(content: EventContent) -> str:
    return hashlib.sha256(content.canonical()).hexdigest()


def link(register_prev: str, complaint_prev: str, content_digest: str) -> str:
    return hashlib.sha256(f"{register_prev}:{complaint_prev}:{content_digest}".encode("ascii")).hexdigest()


@dataclass(frozen=True)
class ChainedEvent:
    """An event as stored, in register order: its content (None once purged), digest, links, hash."""

    id: int
    content: EventContent | None
    complaint_id: int
    digest: str
    register_prev: str
    complaint_prev: str
    hash: str


@dataclass(frozen=True)
class Broken:
    """The first link that does not hold: which event, and why."""

    event_id: int
    complaint_id: int
    reason: str


def verify_events(events: Iterable[ChainedEvent], purged: Mapping[int, int] | None = None) -> Iterator[Broken]:
    """Walk the events in register order (by id), keeping only the last hash of the register and of
    each complaint: constant memory per complaint, one pass. Yields every broken link found.

    `purged` maps a complaint to the id of its last purge or erase event (core/retention.py,
    core/erasure.py): its events before that one may have lost their text (stubs: actor and detail
    empty, never a status move, which both keep); their links and hashes are still checked."""
    purged = purged or {}
    last_register = GENESIS
    last_of: dict[int, str] = {}
    for event in events:
        expected_complaint = last_of.get(event.complaint_id, GENESIS)
        stub = event.id < purged.get(event.complaint_id, 0) and _blank(event.content)
        if event.content is not None and not stub and digest(event.content) != event.digest:
            yield Broken(event.id, event.complaint_id, "its content does not match its digest (altered)")
        if event.register_prev != last_register:
            yield Broken(
                event.id,
                event.complaint_id,
                "the register chain does not lead to it (an event before it was altered, removed or inserted)",
            )
        if event.complaint_prev != expected_complaint:
            yield Broken(
                event.id,
                event.complaint_id,
                "its complaint's chain does not lead to it (an event of that complaint was altered, removed, added)",
            )
        if link(event.register_prev, event.complaint_prev, event.digest) != event.hash:
            yield Broken(event.id, event.complaint_id, "its hash does not match its links and digest")
        last_register = event.hash
        last_of[event.complaint_id] = event.hash


def _blank(content: EventContent | None) -> bool:
    return content is None or (content.event != "status" and not content.actor and not content.detail)
