"""Every complete message of the corpus through a real daemon (issue 14, "What it must show").

The 424 complete messages of tests/corpus go, in MANIFEST order and in batches of 50, into a real
Dovecot inbox that `complaintsd run` works, with a real aiosmtpd relay; then each message's row
in the register is checked against the table of tests/corpus_outcomes.py, written from each
message's category: complaint, robot kept, duplicate, quarantined with its reason. Nothing is lost
(every message has its row, the inbox ends empty) and nothing is answered that should not be.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter

import pytest
from sqlmodel import col, select

from daemon.core.triage import Outcome
from daemon.edges.register import Register
from daemon.edges.register.models import InboundMessage
from tests.corpus import corpus_dir
from tests.corpus_outcomes import Expected, expected_outcomes
from tests.harness import DaemonProcess, wait_until, write_config
from tests.postgres import register_url

pytestmark = [pytest.mark.dovecot, pytest.mark.smtp]

BATCH = 50


def _key(raw: bytes) -> str:
    """The message's bytes whatever the IMAP server made of its line endings and NUL bytes (Dovecot
    writes a NUL as 0x80: spamscope's mail_malformed_3 holds two)."""
    kept = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\x00", b"").replace(b"\x80", b"")
    return hashlib.sha256(kept).hexdigest()


def _rows(tmp_path) -> dict[str, list[InboundMessage]]:
    register = Register(register_url(tmp_path))
    try:
        with register.session() as session:
            rows = session.exec(select(InboundMessage).order_by(col(InboundMessage.id))).all()
    finally:
        register.dispose()
    found: dict[str, list[InboundMessage]] = {}
    for row in rows:
        found.setdefault(_key(row.raw), []).append(row)
    return found


def _mismatch(expected: Expected, row: InboundMessage | None) -> str | None:
    if row is None:
        # Byte for byte an earlier message once the server wrote its line endings: moved, not registered again.
        return None if expected.outcome is Outcome.DUPLICATE else "no row in the register"
    if row.outcome != expected.outcome.value:
        return f"{row.outcome} ({row.reason[:120]})"
    if expected.outcome in (Outcome.QUARANTINE, Outcome.ROBOT) and expected.why not in row.reason:
        return f"{row.outcome} for another reason: {row.reason[:120]}"
    return None


def test_every_complete_corpus_message_gets_the_outcome_its_category_says(tmp_path, imap_account, smtp_sink):
    table = expected_outcomes()
    assert len(table) == 424
    config = write_config(tmp_path, imap_account, smtp_sink)
    started = time.monotonic()
    with DaemonProcess(config) as daemon:
        for start in range(0, len(table), BATCH):
            for expected in table[start : start + BATCH]:
                imap_account.append("INBOX", (corpus_dir() / expected.path).read_bytes())
            wait_until(lambda: not imap_account.folder_uids("INBOX"), 120, f"the batch from {start} taken")
        acks = sum(1 for e in table if e.outcome is Outcome.COMPLAINT)
        wait_until(lambda: _acknowledgements(smtp_sink) >= acks, 120, f"{acks} acknowledgements")
        assert daemon.alive(), daemon.log()[-3000:]
    elapsed = time.monotonic() - started
    rows = _rows(tmp_path)
    wrong, counts = [], Counter()
    for expected in table:
        raw = (corpus_dir() / expected.path).read_bytes()
        same = rows.get(_key(raw), [])
        row = same.pop(0) if same else None
        problem = _mismatch(expected, row)
        counts[(expected.category, expected.outcome.value)] += 1
        if problem:
            wrong.append(f"{expected.path}: expected {expected.outcome.value} ({expected.why}), got {problem}")
    summary = ", ".join(f"{c}/{o}: {n}" for (c, o), n in sorted(counts.items()))
    print(f"\ncorpus through the daemon: {len(table)} messages in {elapsed:.0f} s; {summary}")
    assert not wrong, "\n".join(wrong)
    assert not [key for key, left in rows.items() if left], "a register row that no corpus message explains"
    assert _acknowledgements(smtp_sink) == acks, "exactly one acknowledgement per complaint, none to a robot"
    assert len(imap_account.folder_uids("Quarantine")) == counts[("real", "quarantine")]


def _acknowledgements(sink) -> int:
    return sum(1 for m in sink.messages() if m.parsed()["X-Complaintsd-Kind"] == "acknowledgement")
