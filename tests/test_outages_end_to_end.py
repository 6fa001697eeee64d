"""Outages of the servers around the daemon, on the real ones (issue 14, item 9): the relay stopped
for a minute, then back; the IMAP server killed in the middle of an ingestion and started again. Whatever waits
meanwhile waits in the register (the outbox, the inbox), and leaves or is registered once."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from tests.harness import DaemonProcess, cli_json, complaint, wait_until, write_config
from tests.servers import DovecotServer, ReceivedMessage

pytestmark = [pytest.mark.dovecot, pytest.mark.smtp, pytest.mark.slow]


def acknowledged(letters: list[ReceivedMessage]) -> Counter[str]:
    """How many acknowledgements each customer's mail got (matched by In-Reply-To)."""
    return Counter(str(m.parsed()["In-Reply-To"]) for m in letters if m.parsed()["In-Reply-To"])


def assert_each_letter_once(letters: list[ReceivedMessage]) -> None:
    ids = Counter(str(m.parsed()["Message-ID"]) for m in letters)
    assert [i for i, n in ids.items() if n > 1] == [], "a letter left twice"


def test_the_relay_down_for_a_minute_then_back_every_waiting_letter_leaves_once(tmp_path, imap_account, smtp_sink):
    config = write_config(tmp_path, imap_account, smtp_sink)
    with DaemonProcess(config) as daemon:
        imap_account.append("INBOX", complaint(1))
        smtp_sink.wait_for(2, timeout=60)
        smtp_sink.stop()
        down_at = time.monotonic()
        for number in range(2, 12):
            imap_account.append("INBOX", complaint(number))
        wait_until(lambda: not imap_account.folder_uids("INBOX"), 60, "the complaints registered, relay or not")
        time.sleep(max(0.0, 60 - (time.monotonic() - down_at)))
        assert len(smtp_sink.messages()) == 2, "nothing left while the relay was down"
        waiting = {c["reference"]: c["status"] for c in cli_json(config, "list")}
        assert len(waiting) == 11
        smtp_sink.resume()
        smtp_sink.wait_for(22, timeout=60)
        time.sleep(3)  # a second copy would come now
        assert daemon.alive(), daemon.log()[-2000:]
        log = daemon.log()
    assert log.count("relay trouble, will retry") == 1 and log.count("relay reachable again") == 1, "a line per change"
    letters = smtp_sink.messages()
    assert len(letters) == 22, "each complaint's acknowledgement and handler notification, once"
    assert_each_letter_once(letters)
    assert sorted(acknowledged(letters).values()) == [1] * 11
    assert {c["status"] for c in cli_json(config, "list")} == {"acknowledged"}
    assert "Traceback" not in log


def test_the_imap_server_crashed_mid_ingestion_loses_nothing_and_doubles_nothing(tmp_path, smtp_sink):
    count = 200
    with DovecotServer() as dovecot:
        account = dovecot.add_user(hint="restart")
        for number in range(1, count + 1):
            account.append("INBOX", complaint(number))
        # Small batches: many transactions and MOVEs for the restart to fall in the middle of.
        config = write_config(tmp_path, account, smtp_sink, mailbox="batch_size = 10")
        with DaemonProcess(config) as daemon:
            wait_until(lambda: len(account.folder_uids("Registered")) >= 10, 60, "the first batches registered")
            dovecot.crash_and_restart(down=2.0)
            assert account.folder_uids("INBOX"), "the crash must come while mail is still waiting"
            wait_until(lambda: not account.folder_uids("INBOX"), 120, "the inbox to be emptied after the restart")
            smtp_sink.wait_for(2 * count, timeout=120)
            assert "mailbox or register unavailable (attempt 1)" in daemon.log(), "the cut was seen"
            time.sleep(3)  # a second copy would come now
            assert daemon.alive(), daemon.log()[-2000:]
            registered = len(account.folder_uids("Registered"))
        complaints = cli_json(config, "list")
    assert sorted(c["subject"] for c in complaints) == sorted(
        f"Réclamation commande n° {n}" for n in range(1, count + 1)
    ), "exactly one complaint per mail"
    assert registered == count
    letters = smtp_sink.messages()
    assert len(letters) == 2 * count
    assert_each_letter_once(letters)
    assert sorted(acknowledged(letters).values()) == [1] * count
    assert "Traceback" not in daemon.log()
