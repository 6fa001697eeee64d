"""A public address under attack (issue 14), on a real Dovecot and aiosmtpd with `complaintsd run`.

One smoke test of the wiring: a mail that cannot be registered and a letter that cannot be sent
sit in front of ordinary mail, and the ordinary mail is acknowledged within seconds all the same,
by the same sender process. Each rule is proved in process: tests/test_runners_abuse.py.
"""

from __future__ import annotations

import pytest

from tests.harness import DaemonProcess, complaint, wait_until, write_config

pytestmark = [pytest.mark.dovecot, pytest.mark.smtp]

CUSTOMER = "camille.durand@client.example"
# Registering it fails (composing a letter to an internationalised address): tried 3 times, quarantined.
UNREGISTRABLE = complaint(1, sender="Jörg <jörg@client.example>")
# Registered, but its acknowledgement cannot be sent: aiosmtplib raised ValueError, killing the sender.
UNSENDABLE = b'From: "jo\\"e@client.example\n' + complaint(2).split(b"\n", 1)[1]


def _acks_to(sink, address: str) -> int:
    return sum(
        1 for m in sink.messages() if m.rcpt_tos == (address,) and m.parsed()["X-Complaintsd-Kind"] == "acknowledgement"
    )


def test_poison_in_front_does_not_delay_ordinary_mail(tmp_path, imap_account, smtp_sink):
    config = write_config(tmp_path, imap_account, smtp_sink)
    for raw in (UNREGISTRABLE, UNSENDABLE, complaint(3)):
        imap_account.append("INBOX", raw)
    with DaemonProcess(config) as daemon:
        wait_until(lambda: _acks_to(smtp_sink, CUSTOMER) == 1, 20, "the ordinary mail's acknowledgement")
        wait_until(lambda: len(imap_account.folder_uids("Quarantine")) == 1, 10, "the poison mail quarantined")
        assert len(imap_account.folder_uids("Registered")) == 2
        imap_account.append("INBOX", complaint(4))
        wait_until(lambda: _acks_to(smtp_sink, CUSTOMER) == 2, 20, "a later acknowledgement: the sender lives")
        assert daemon.alive(), daemon.log()
    log = daemon.log()
    assert "(attempt 2), left for another try" in log and "quarantined 1 after 3 attempts" in log
    assert "cannot be written in an SMTP envelope" in log
    assert "Traceback" not in log
