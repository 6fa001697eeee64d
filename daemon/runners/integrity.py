"""The register's integrity, checked: both history chains (core/chain.py), every stored raw message
against its SHA-256, every attachment file against the SHA-256 the register lists. `complaintsd
verify` prints it; the daemon runs it daily and tells the admin when anything is broken
(core/tamper.py)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from sqlmodel import Session

from daemon.core.chain import GENESIS, ChainedEvent, verify_events
from daemon.core.erasure import EMPTIED as EMPTY
from daemon.core.tamper import decide_integrity_alert
from daemon.edges.register import Register
from daemon.edges.register.integrity import (
    RawCheck,
    altered_messages,
    chain_head,
    chained_events,
    purged_complaints,
    references_of,
    stored_attachments,
)
from daemon.edges.storage import AttachmentStore
from daemon.runners.desk import Desk

log = logging.getLogger("complaintsd.verify")

SHOWN = 20  # broken items listed; the count says how many there are in all


@dataclass
class Finding:
    what: str
    complaint_id: int | None
    reason: str
    reference: str | None = None


@dataclass
class Verification:
    events: int = 0
    complaints: int = 0
    head: str = GENESIS
    messages: int = 0
    attachments: int = 0
    broken: list[Finding] = field(default_factory=list)
    broken_count: int = 0

    @property
    def ok(self) -> bool:
        return self.broken_count == 0

    def add(self, finding: Finding) -> None:
        self.broken_count += 1
        if len(self.broken) < SHOWN:
            self.broken.append(finding)


def verify_register(register: Register, store: AttachmentStore) -> Verification:
    result = Verification()
    with register.session() as session:
        stubs = purged_complaints(session)
        _history(session, result, stubs)
        _messages(session, result, set(stubs))
        _attachments(session, store, result)
        named = references_of(session, {f.complaint_id for f in result.broken if f.complaint_id is not None})
    for finding in result.broken:
        finding.reference = named.get(finding.complaint_id) if finding.complaint_id is not None else None
    return result


def _history(session: Session, result: Verification, stubs: dict[int, int]) -> None:
    seen: set[int] = set()
    for link in verify_events(_walked(chained_events(session), result, seen), stubs):
        result.add(Finding(f"history event {link.event_id}", link.complaint_id, link.reason))
    result.complaints = len(seen)
    counted, head = chain_head(session)
    if (counted, head) != (result.events, result.head):
        reason = (
            f"the chain's head records {counted} events ending {head[:12]}…, the history holds {result.events} "
            f"ending {result.head[:12]}… (events removed from the end, or added around the writers)"
        )
        result.add(Finding("history", None, reason))


def _walked(events: Iterable[ChainedEvent], result: Verification, seen: set[int]) -> Iterator[ChainedEvent]:
    for event in events:
        result.events += 1
        result.head = event.hash
        seen.add(event.complaint_id)
        yield event


def _messages(session: Session, result: Verification, erased: set[int]) -> None:
    """Every stored message against its SHA-256. One an erase emptied (no bytes: no mail fetched has none),
    of an erased complaint or of none, is kept only for the counts (core/erasure.py)."""
    for item in altered_messages(session):
        result.messages += 1
        if isinstance(item, RawCheck) and not _emptied(item, erased):
            reason = f"its bytes hash to {item.found[:12]}…, registered as {item.expected[:12]}… (altered)"
            result.add(Finding(f"stored message {item.inbound_id}", item.complaint_id, reason))


def _emptied(item: RawCheck, erased: set[int]) -> bool:
    return item.found == EMPTY and (item.complaint_id is None or item.complaint_id in erased)


def _attachments(session: Session, store: AttachmentStore, result: Verification) -> None:
    for attachment_id, complaint_id, filename, sha256 in stored_attachments(session):
        result.attachments += 1
        found = store.digest_of(sha256)
        if found != sha256:
            reason = "its file is missing" if found is None else f"its file hashes to {found[:12]}… (altered)"
            result.add(Finding(f"attachment {attachment_id} ({filename})", complaint_id, reason))


def finding_line(finding: Finding) -> str:
    where = f" ({finding.reference})" if finding.reference else ""
    return f"{finding.what}{where}: {finding.reason}"


def daily_check(desk: Desk) -> Verification:
    """Verify the register; when broken, log it and queue the admin's alert in the same run."""
    result = verify_register(desk.register, desk.store)
    if result.ok:
        log.info(
            "register verified: %d events, %d messages, %d files", result.events, result.messages, result.attachments
        )
        return result
    lines = [finding_line(f) for f in result.broken]
    log.error("register altered: %d broken link(s); the first: %s", result.broken_count, lines[0])
    now = desk.clock()
    effects = decide_integrity_alert(result.broken_count, lines, result.events, now, desk.policy)
    with desk.register.transaction() as session:
        desk.apply(session, effects, now)
    return result
