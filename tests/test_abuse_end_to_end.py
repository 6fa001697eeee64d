"""A public address under attack (issue 14), on a real Dovecot and aiosmtpd with `complaintsd run`.

One smoke test of the wiring: a mail that cannot be registered, a letter that cannot be sent and a
mail from an internationalised address sit in front of ordinary mail; the ordinary mail is
acknowledged within seconds all the same, by the same sender process, the admin is told of the
quarantine, and the internationalised address gets its acknowledgement over SMTPUTF8. Each rule is
proved in process: tests/test_runners_abuse.py, tests/test_runners_quarantine.py. Then: a bounce
that quotes nothing of ours is matched by the return path (VERP) the relay saw; a vacation responder
that sets no header, and a flood of 200 mails from one sender, get at most the cap.
"""

from __future__ import annotations

import time

import pytest

from tests.harness import DaemonProcess, cli_json, complaint, reply, wait_until, write_config

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


def test_a_bounce_with_only_the_return_path_is_matched_to_its_letter(tmp_path, imap_account, smtp_sink):
    """With `[outbox] verp`, the relay sees a return path naming the letter; a bounce that quotes
    nothing of ours but arrives at that address marks the letter failed and tells the handler."""
    config = write_config(tmp_path, imap_account, smtp_sink, extra="verp = true")
    imap_account.append("INBOX", complaint(1))
    with DaemonProcess(config) as daemon:
        wait_until(lambda: _acks_to(smtp_sink, CUSTOMER) == 1, 20, "the acknowledgement")
        [ack] = [m for m in smtp_sink.messages() if m.rcpt_tos == (CUSTOMER,)]
        assert ack.mail_from.startswith("reclamations+b.") and ack.mail_from.endswith("@example.com")
        bounce = (
            f"From: MAILER-DAEMON@mx.client.example\nTo: {ack.mail_from}\nSubject: failure notice\n"
            "Message-ID: <qmail-2@mx.client.example>\n\n"
            f"I'm afraid I wasn't able to deliver your message.\n<{CUSTOMER}>:\nno mailbox here by that name.\n"
        )
        imap_account.append("INBOX", bounce.encode())
        wait_until(lambda: _kind_to(smtp_sink, "follow_up_forward", "bob@example.com"), 20, "the handler told")
        [reference] = [row["reference"] for row in cli_json(config, "list")]
        events = [event["event"] for event in cli_json(config, "show", reference)["history"]]
        assert "letter_bounced" in events, events
        assert daemon.alive(), daemon.log()
    assert not [m for m in smtp_sink.messages() if m.rcpt_tos[0].endswith("mx.client.example")], "nothing to the robot"


def _capped(tmp_path, account, sink, cap: int):
    config = write_config(tmp_path, account, sink)
    config.write_text(config.read_text().replace("automatic_mails_per_day = 10000", f"automatic_mails_per_day = {cap}"))
    return config


def test_a_vacation_responder_that_sets_no_header_gets_at_most_the_cap(tmp_path, imap_account, smtp_sink):
    """Ours and a responder that answers every mail, with no Auto-Submitted nor Precedence header:
    before issue 14 they exchanged 21 mails in 20 rounds. Now the exchange dies out within the cap."""
    responder = "vacances@client.example"
    config = _capped(tmp_path, imap_account, smtp_sink, cap=5)
    answered: set[str] = set()

    def answer_our_letters() -> int:
        for letter in smtp_sink.messages():
            message_id = str(letter.parsed()["Message-ID"])
            if letter.rcpt_tos == (responder,) and message_id not in answered:
                answered.add(message_id)
                away = reply(letter.parsed(), f"Camille Absente <{responder}>", "Je suis absente jusqu'au 4 janvier.")
                imap_account.append("INBOX", away)
        return len(answered)

    imap_account.append("INBOX", complaint(1, sender=f"Camille Absente <{responder}>"))
    with DaemonProcess(config) as daemon:
        wait_until(lambda: answer_our_letters() >= 1, 20, "the acknowledgement to the responder")
        quiet_since, seen = time.monotonic(), 1
        while time.monotonic() - quiet_since < 8:  # rounds go on while each answer brings a letter
            time.sleep(0.5)
            if answer_our_letters() != seen:
                quiet_since, seen = time.monotonic(), len(answered)
            assert seen <= 5, "past the cap"
        assert daemon.alive(), daemon.log()
    to_handler = [m for m in smtp_sink.messages() if m.rcpt_tos == ("bob@example.com",)]
    # The acknowledgement, then one receipt a day for a complaint's follow-ups: two rounds, not 20.
    assert seen == 2, seen
    assert len(to_handler) == 3, "the notification and the responder's two answers forwarded"
    assert len(imap_account.folder_uids("INBOX")) == 0, "every answer of the responder registered"


def test_a_flood_of_200_mails_from_one_sender_gets_the_cap_of_acknowledgements(tmp_path, imap_account, smtp_sink):
    config = _capped(tmp_path, imap_account, smtp_sink, cap=5)
    for number in range(1, 201):
        imap_account.append("INBOX", complaint(number))
    with DaemonProcess(config) as daemon:
        wait_until(lambda: len(imap_account.folder_uids("Registered")) == 200, 120, "the 200 mails registered")
        wait_until(lambda: _kind_to(smtp_sink, "flood_alert", "qualite@example.com") == 1, 20, "the supervisor told")
        time.sleep(3)  # what else would leave, leaves now
        assert daemon.alive(), daemon.log()
    assert len(cli_json(config, "list")) == 200, "every mail is a complaint"
    assert _acks_to(smtp_sink, CUSTOMER) == 5
    assert _kind_to(smtp_sink, "handler_notification", "bob@example.com") == 5
    assert _kind_to(smtp_sink, "flood_alert", "qualite@example.com") == 1
