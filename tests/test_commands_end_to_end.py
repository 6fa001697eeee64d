"""A handler's command mail on real servers: one smoke test of the wiring.

The handler replies to the notification as a mail client would (In-Reply-To, "RE:" subject, the
original quoted below, tests.harness.reply); the daemon fetches it, verifies the token it quotes,
applies the commands and confirms, and the customer is told. Every other command scenario (forged
mails, a customer's "#clore", quoted tags, new dates, answers, closing, handovers, errors) runs in
process on a real register: tests/test_runners_commands.py.
"""

from __future__ import annotations

import pytest

from tests.harness import DaemonProcess, cli_json, complaint, reply, wait_until, write_config

pytestmark = [pytest.mark.dovecot, pytest.mark.smtp]

CUSTOMER = "camille.durand@client.example"
HANDLER = "bob@example.com"


def letters(sink, kind: str, to: str | None = None):
    found = [m.parsed() for m in sink.messages() if m.parsed()["X-Complaintsd-Kind"] == kind]
    return [m for m in found if to is None or to in m["To"]]


def test_a_command_mail_is_confirmed_and_applied(tmp_path, imap_account, smtp_sink):
    config = write_config(tmp_path, imap_account, smtp_sink, reminders="before = []\ndigest_days = []")
    imap_account.append("INBOX", complaint(1, subject="Colis abîmé"))
    with DaemonProcess(config) as daemon:
        wait_until(lambda: letters(smtp_sink, "handler_notification"), 20, "the handler's notification")
        notification = letters(smtp_sink, "handler_notification")[0]
        reference = cli_json(config, "list")[0]["reference"]

        imap_account.append(
            "INBOX", reply(notification, HANDLER, "#statut en cours\n#Gravité HAUTE\n\nJe m'en occupe.")
        )
        wait_until(lambda: letters(smtp_sink, "command_reply", HANDLER), 20, "the confirmation")
        wait_until(lambda: letters(smtp_sink, "status_changed", CUSTOMER), 10, "the customer's status letter")
        assert daemon.alive(), daemon.log()

    [confirmation] = letters(smtp_sink, "command_reply")
    assert f"[{reference}]" in confirmation["Subject"] and confirmation["In-Reply-To"]
    shown = cli_json(config, "show", reference)
    assert shown["status"] == "in_progress"
    history = [(h["event"], h["detail"]) for h in shown["history"]]
    assert ("severity", "- → high") in history
    assert any(event == "command_mail" and "verified by command token" in detail for event, detail in history)
