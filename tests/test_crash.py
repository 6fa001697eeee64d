"""Crash safety, proved the hard way: SIGKILL the daemon at random moments while it ingests.

The design under test (docs/design.md, "Crash safety"): one transaction registers a batch with its
acknowledgements queued; only after the commit are messages moved; every send result is committed
the moment the relay answers. So a kill anywhere means a re-fetch recognised by SHA-256, never a
lost mail, never a second complaint. The sender is a child process that, when its parent dies,
finishes and records the letter in hand before exiting (and a lock holds the next sender back
meanwhile), so killing the daemon never makes an acknowledgement leave twice.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import time

import pytest

from daemon.edges.register import Register
from daemon.edges.register.views import show_complaint
from tests.harness import DaemonProcess, cli_json, complaint, wait_until, write_config

pytestmark = [pytest.mark.dovecot, pytest.mark.smtp, pytest.mark.slow]

MESSAGES = 200
KILLS = 24
BACKLOG = 104  # appended before the first start; the rest arrive 4 per restart


def attachment_for(number: int) -> bytes:
    return hashlib.sha256(str(number).encode()).digest() * 320  # 10 KiB, distinct per message


def test_sigkill_at_random_moments_loses_nothing_and_duplicates_nothing(tmp_path, imap_account, smtp_sink):
    seed = int(os.environ.get("CRASH_SEED", "20261123"))
    rng = random.Random(seed)
    # Small batches (7 in, 10 out) make many transactions for the kills to land in.
    config = write_config(tmp_path, imap_account, smtp_sink, extra="batch_size = 10\n")
    config.write_text(config.read_text().replace('poll_interval = "1s"', 'poll_interval = "1s"\nbatch_size = 7'))
    numbers = iter(range(1, MESSAGES + 1))

    def append(count: int) -> None:
        for number in [n for _, n in zip(range(count), numbers, strict=False)]:
            proof = (f"preuve-{number}.bin", attachment_for(number), "application/octet-stream")
            files = proof if number % 3 == 0 else None
            imap_account.append("INBOX", complaint(number, attachment=files))

    append(BACKLOG)
    kill_times = []
    for _ in range(KILLS):
        daemon = DaemonProcess(config).start()
        delay = rng.uniform(0.4, 1.6)  # Python start-up takes ~0.5 s: kills land before, during and after work
        time.sleep(delay)
        daemon.kill()
        kill_times.append(round(delay, 2))
        append(4)

    with DaemonProcess(config) as daemon:
        wait_until(lambda: not imap_account.folder_uids("INBOX"), 120, "the inbox to be emptied")
        wait_until(
            lambda: all(c["status"] == "acknowledged" for c in cli_json(config, "list")), 120, "every acknowledgement"
        )
        assert daemon.alive(), daemon.log()

    complaints = cli_json(config, "list")
    subjects = sorted(c["subject"] for c in complaints)
    assert subjects == sorted(f"Réclamation commande n° {n}" for n in range(1, MESSAGES + 1)), (
        "exactly one complaint per message"
    )
    assert len(imap_account.folder_uids("Registered")) == MESSAGES
    references = [c["reference"] for c in complaints]
    assert sorted(int(r.rsplit("-", 1)[1]) for r in references) == list(range(1, MESSAGES + 1)), "gap-free numbering"

    register = Register(f"sqlite:///{tmp_path}/register.db", create=False)
    with register.session() as session:  # read in process: 67 `show` subprocesses cost half a minute
        for c in complaints:
            number = int(c["subject"].rsplit(" ", 1)[1])
            if number % 3 == 0:
                [stored] = show_complaint(session, c["reference"]).attachments
                with open(stored.path, "rb") as kept:
                    assert kept.read() == attachment_for(number)
    register.dispose()

    letters = smtp_sink.messages()
    acks = [m for m in letters if m.parsed()["X-Complaintsd-Kind"] == "acknowledgement"]
    notifications = [
        m.parsed()["Subject"] for m in letters if m.parsed()["X-Complaintsd-Kind"] == "handler_notification"
    ]
    assert len(notifications) == len(set(notifications)) == MESSAGES, "one handler notification per complaint"
    acked = {re.search(r"\[(REC-\d{4}-\d{6})\]", m.parsed()["Subject"]).group(1) for m in acks}
    assert acked == set(references), "every complaint acknowledged"
    ids = [m.parsed()["Message-ID"] for m in acks]
    duplicates = len(ids) - len(set(ids))
    per_complaint = {}
    for m in acks:
        ref = re.search(r"\[(REC-\d{4}-\d{6})\]", m.parsed()["Subject"]).group(1)
        per_complaint.setdefault(ref, set()).add(m.parsed()["Message-ID"])
    print(
        f"\ncrash test: seed {seed}, {KILLS} SIGKILLs at {kill_times} s; {len(acks)} acknowledgements for "
        f"{MESSAGES} complaints; duplicate acknowledgements: {duplicates}"
    )
    assert all(len(message_ids) == 1 for message_ids in per_complaint.values()), "one letter per complaint"
    assert duplicates == 0, f"{duplicates} acknowledgements left twice"
