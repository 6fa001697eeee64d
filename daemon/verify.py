"""`complaintsd verify`: is the register what it was when it was written? (runners/integrity.py
checks; this prints it, or exports the chained history for an auditor, docs/chain.md.)"""

from __future__ import annotations

import json
from pathlib import Path

from daemon.config import load_config
from daemon.edges.register import Register
from daemon.edges.register.integrity import all_references, chained_events
from daemon.edges.storage import AttachmentStore
from daemon.runners.integrity import Verification, finding_line, verify_register


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


def _text(result: Verification) -> str:
    lines = [
        f"history:      {result.events} events of {result.complaints} complaints, chained to {result.head[:16]}…",
        f"messages:     {result.messages} stored messages",
        f"attachments:  {result.attachments} files",
    ]
    if result.ok:
        return "\n".join([*lines, "verified: both chains hold, every message and file is as registered"])
    first = result.broken[0]
    lines.append(f"BROKEN: {result.broken_count} link(s); the first: {finding_line(first)}")
    lines += [f"  {finding_line(f)}" for f in result.broken[1:]]
    return "\n".join(lines)


def _json(result: Verification) -> dict:
    return {
        "ok": result.ok,
        "history": {"events": result.events, "complaints": result.complaints, "head": result.head},
        "messages": result.messages,
        "attachments": result.attachments,
        "broken_count": result.broken_count,
        "broken": [{"what": f.what, "reference": f.reference, "reason": f.reason} for f in result.broken],
    }
