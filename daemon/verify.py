"""`complaintsd verify`: is the register what it was when it was written? Both history chains
(core/chain.py), every stored raw message against its SHA-256, every attachment file against the
SHA-256 the register lists; the first broken link named, exit 1 when anything is broken."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session

from daemon.config import load_config
from daemon.core.chain import GENESIS, ChainedEvent, verify_events
from daemon.edges.register import Register
from daemon.edges.register.integrity import (
    RawCheck,
    all_references,
    altered_messages,
    chain_head,
    chained_events,
    references_of,
    stored_attachments,
)
from daemon.edges.storage import AttachmentStore

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


def cmd_verify(args) -> int:
    config = load_config(args.config)
    register = Register(config.database.url)
    if args.export:
        return export_history(register, Path(args.export))
    result = verify_register(register, AttachmentStore(config.storage.path))
    print(json.dumps(_json(result), ensure_ascii=False, indent=2) if args.json else _text(result))
    return 0 if result.ok else 1


def export_history(register: Register, target: Path) -> int:
    """The chained history as JSON Lines, for an auditor to check without complaintsd
    (scripts/verify_chain.py; docs/chain.md): each event's content, digest, links and hash."""
    events = 0
    with register.session() as session, open(target, "w", encoding="utf-8") as out:
        references = all_references(session)
        for event in chained_events(session):
            assert event.content is not None
            line = {"id": event.id, "reference": references.get(event.complaint_id), **event.content.fields()}
            line |= {"digest": event.digest, "register_prev": event.register_prev}
            line |= {"complaint_prev": event.complaint_prev, "hash": event.hash}
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
            events += 1
    print(f"{events} events written to {target}; check them with: python3 scripts/verify_chain.py {target}")
    return 0


def verify_register(register: Register, store: AttachmentStore) -> Verification:
    result = Verification()
    with register.session() as session:
        _history(session, result)
        _messages(session, result)
        _attachments(session, store, result)
        named = references_of(session, {f.complaint_id for f in result.broken if f.complaint_id is not None})
    for finding in result.broken:
        finding.reference = named.get(finding.complaint_id) if finding.complaint_id is not None else None
    return result


def _history(session: Session, result: Verification) -> None:
    seen: set[int] = set()
    for link in verify_events(_walked(chained_events(session), result, seen)):
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


def _messages(session: Session, result: Verification) -> None:
    for item in altered_messages(session):
        result.messages += 1
        if isinstance(item, RawCheck):
            reason = f"its bytes hash to {item.found[:12]}…, registered as {item.expected[:12]}… (altered)"
            result.add(Finding(f"stored message {item.inbound_id}", item.complaint_id, reason))


def _attachments(session: Session, store: AttachmentStore, result: Verification) -> None:
    for attachment_id, complaint_id, filename, sha256 in stored_attachments(session):
        result.attachments += 1
        found = store.digest_of(sha256)
        if found != sha256:
            reason = "its file is missing" if found is None else f"its file hashes to {found[:12]}… (altered)"
            result.add(Finding(f"attachment {attachment_id} ({filename})", complaint_id, reason))


def _text(result: Verification) -> str:
    lines = [
        f"history:      {result.events} events of {result.complaints} complaints, chained to {result.head[:16]}…",
        f"messages:     {result.messages} stored messages",
        f"attachments:  {result.attachments} files",
    ]
    if result.ok:
        return "\n".join([*lines, "verified: both chains hold, every message and file is as registered"])
    first = result.broken[0]
    lines.append(f"BROKEN: {result.broken_count} link(s); the first: {_finding(first)}")
    lines += [f"  {_finding(f)}" for f in result.broken[1:]]
    return "\n".join(lines)


def _finding(finding: Finding) -> str:
    where = f" ({finding.reference})" if finding.reference else ""
    return f"{finding.what}{where}: {finding.reason}"


def _json(result: Verification) -> dict:
    return {
        "ok": result.ok,
        "history": {"events": result.events, "complaints": result.complaints, "head": result.head},
        "messages": result.messages,
        "attachments": result.attachments,
        "broken_count": result.broken_count,
        "broken": [{"what": f.what, "reference": f.reference, "reason": f.reason} for f in result.broken],
    }
