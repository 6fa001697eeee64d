#!/usr/bin/env python3
"""Verify an exported complaintsd history on its own: `python3 scripts/verify_chain.py history.jsonl`.

Standard library only, so an auditor can read and run it without installing complaintsd. The file is
what `complaintsd verify --export history.jsonl` writes: one JSON object per event, in register
order, with its content and its chain fields. docs/chain.md states the canonical form this script
recomputes. Exit status 0 when both chains hold, 1 with the first broken event named otherwise.
"""

import hashlib
import json
import sys

GENESIS = "0" * 64


def canonical(event: dict) -> bytes:
    fields = {key: event[key] for key in ("actor", "at", "complaint", "detail", "event")}
    return json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def stub(event: dict, purged: dict) -> bool:
    """An event a retention purge or an erase blanked (docs/chain.md): before its complaint's last
    `purged` or `erased` event, actor and detail empty, not a status move. Its links and hash are
    checked, its content not."""
    before = event["id"] < purged.get(event["complaint"], 0)
    return before and event["event"] != "status" and not event["actor"] and not event["detail"]


def check(lines) -> str | None:
    events = [json.loads(line) for line in lines]
    purged = {}
    for event in events:
        if event["event"] in ("purged", "erased"):
            purged[event["complaint"]] = event["id"]
    last, last_of, number = GENESIS, {}, 0
    for number, event in enumerate(events, 1):
        where = f"line {number} (event {event['id']}, {event['reference']})"
        if not stub(event, purged) and hashlib.sha256(canonical(event)).hexdigest() != event["digest"]:
            return f"{where}: its content does not match its digest"
        if event["register_prev"] != last:
            return f"{where}: the register chain does not lead to it"
        if event["complaint_prev"] != last_of.get(event["complaint"], GENESIS):
            return f"{where}: its complaint's chain does not lead to it"
        chained = f"{event['register_prev']}:{event['complaint_prev']}:{event['digest']}"
        if hashlib.sha256(chained.encode("ascii")).hexdigest() != event["hash"]:
            return f"{where}: its hash does not match its links and digest"
        last = last_of[event["complaint"]] = event["hash"]
    print(f"{number} events; the chain ends at {last}")
    return None


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as handle:
        problem = check(handle.readlines())
    if problem:
        print(f"BROKEN: {problem}")
    sys.exit(1 if problem else 0)
