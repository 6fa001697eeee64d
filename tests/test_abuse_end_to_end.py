"""A public address under attack (issue 14), on a real Dovecot and aiosmtpd with `complaintsd run`.

One smoke test of the wiring: a mail that cannot be registered, a letter that cannot be sent and a
mail from an internationalised address sit in front of ordinary mail; the ordinary mail is
acknowledged within seconds all the same, by the same sender process, the admin is told of the
quarantine, and the internationalised address gets its acknowledgement over SMTPUTF8. Each rule is
proved in process: tests/test_runners_abuse.py, tests/test_runners_quarantine.py.
"""

from __future__ import annotations

import pytest

from tests.harness import DaemonProcess, complaint, wait_until, write_config

pytestmark = [pytest.mark.dovecot, pytest.mark.smtp]

CUSTOMER = "camille.durand@client.example"
# No sender to answer: quarantined, and the admin (here the supervisor) is told.
UNREGISTRABLE = complaint(1).replace(b"From: Camille Durand <camille.durand@client.example>\n", b"")
# It was quarantined after 3 attempts (composing a letter to it failed): now registered and answered.
JORG = complaint(5, sender="Jörg <jörg@client.example>")
# Registered, but its acknowledgement cannot be sent: aiosmtplib raised ValueError, killing the sender.
UNSENDABLE = b'From: "jo\\"e@client.example\n' + complaint(2).split(b"\n", 1)[1]


def _kind_to(sink, kind: str, address: str) -> int:
    return sum(1 for m in sink.messages() if m.rcpt_tos == (address,) and m.parsed()["X-Complaintsd-Kind"] == kind)


def _acks_to(sink, address: str) -> int:
    return sum(
        1 for m in sink.messages() if m.rcpt_tos == (address,) and m.parsed()["X-Complaintsd-Kind"] == "acknowledgement"
    )


def test_poison_in_front_does_not_delay_ordinary_mail(tmp_path, imap_account, smtp_sink):
    config = write_config(tmp_path, imap_account, smtp_sink)
    for raw in (UNREGISTRABLE, UNSENDABLE, JORG, complaint(3)):
        imap_account.append("INBOX", raw)
    with DaemonProcess(config) as daemon:
        wait_until(lambda: _acks_to(smtp_sink, CUSTOMER) == 1, 20, "the ordinary mail's acknowledgement")
        wait_until(lambda: len(imap_account.folder_uids("Quarantine")) == 1, 10, "the poison mail quarantined")
        assert len(imap_account.folder_uids("Registered")) == 3
        wait_until(lambda: _acks_to(smtp_sink, "jörg@client.example") == 1, 20, "the acknowledgement to Jörg")
        wait_until(lambda: _kind_to(smtp_sink, "quarantine_notice", "qualite@example.com"), 20, "the admin told")
        imap_account.append("INBOX", complaint(4))
        wait_until(lambda: _acks_to(smtp_sink, CUSTOMER) == 2, 20, "a later acknowledgement: the sender lives")
        assert daemon.alive(), daemon.log()
    log = daemon.log()
    assert "quarantined (no sender address)" in log
    assert "cannot be written in an SMTP envelope" in log
    assert "Traceback" not in log
