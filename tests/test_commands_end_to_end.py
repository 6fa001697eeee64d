"""A complaint from received to closed, driven entirely by the handler's replies, on real servers.

The handler replies to our mails as a mail client would (In-Reply-To, "RE:" subject, the original
quoted below); the customer gets each letter; a forged command and a customer's "#clore" change
nothing; `show --json` tells the whole story.
"""

from __future__ import annotations

from datetime import date, timedelta
from email.message import EmailMessage
from email.utils import make_msgid

import pytest

from tests.harness import DaemonProcess, cli_json, complaint, wait_until, write_config

pytestmark = [pytest.mark.dovecot, pytest.mark.smtp]

CUSTOMER = "camille.durand@client.example"
HANDLER = "bob@example.com"


def letters(sink, kind: str, to: str | None = None):
    found = [m.parsed() for m in sink.messages() if m.parsed()["X-Complaintsd-Kind"] == kind]
    return [m for m in found if to is None or to in m["To"]]


def reply(to_message, sender: str, body: str, *, keep_thread: bool = True, subject: str | None = None, attachment=None) -> bytes:
    """A reply as Thunderbird writes it: new text on top, the original quoted below."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "reclamations@example.com"
    message["Subject"] = subject or f"RE: {to_message['Subject']}"
    message["Message-ID"] = make_msgid(domain="example.com")
    if keep_thread:
        message["In-Reply-To"] = to_message["Message-ID"]
        message["References"] = to_message["Message-ID"]
    original = to_message.get_body(("plain",)).get_content()
    quoted = "\n".join("> " + line for line in original.splitlines())
    message.set_content(f"{body}\n\nLe lundi 23 novembre 2026 à 10:00, Service réclamations a écrit :\n{quoted}\n")
    if attachment:
        message.add_attachment(attachment[1], maintype="application", subtype="pdf", filename=attachment[0])
    return message.as_bytes()


def history(config, reference):
    return [(h["event"], h["detail"]) for h in cli_json(config, "show", reference)["history"]]


def test_from_received_to_closed_by_handler_replies(tmp_path, imap_account, smtp_sink):
    config = write_config(tmp_path, imap_account, smtp_sink, extra="", reminders='before = []\ndigest_days = []')
    config.write_text(config.read_text() + "\n[customer_letters]\nask_satisfaction = true\n")
    imap_account.append("INBOX", complaint(1, subject="Colis abîmé"))
    with DaemonProcess(config) as daemon:
        wait_until(lambda: letters(smtp_sink, "handler_notification"), 20, "the handler's notification")
        notification = letters(smtp_sink, "handler_notification")[0]
        reference = cli_json(config, "list")[0]["reference"]

        # 1. Status and severity; a tag in the quoted original ("#clore" in the help) is not executed.
        imap_account.append("INBOX", reply(notification, HANDLER, "#statut en cours\n#Gravité HAUTE\n\nJe m'en occupe."))
        wait_until(lambda: letters(smtp_sink, "command_reply"), 20, "the confirmation")
        shown = cli_json(config, "show", reference)
        assert shown["status"] == "in_progress"
        confirmation = letters(smtp_sink, "command_reply")[0]
        assert HANDLER in confirmation["To"]
        wait_until(lambda: letters(smtp_sink, "status_changed", CUSTOMER), 10, "the customer's status letter")

        # 2. The customer writes again (replying to the acknowledgement): forwarded to the handler.
        ack = letters(smtp_sink, "acknowledgement")[0]
        imap_account.append("INBOX", reply(ack, f"Camille Durand <{CUSTOMER}>", "Voici une photo du colis.\n#clore fondée"))
        wait_until(lambda: letters(smtp_sink, "follow_up_forward", HANDLER), 20, "the forward to the handler")
        forward = letters(smtp_sink, "follow_up_forward", HANDLER)[0]
        assert "Voici une photo du colis." in forward.get_body(("plain",)).get_content()
        assert cli_json(config, "show", reference)["status"] == "in_progress", "a customer's #clore changes nothing"

        # 3. A forged command: From the handler, no token, no thread, only the reference.
        imap_account.append("INBOX", reply(notification, HANDLER, "#clore non fondée", keep_thread=False, subject=f"[{reference}] clôture"))
        wait_until(lambda: letters(smtp_sink, "command_refused"), 20, "the refusal")
        assert cli_json(config, "show", reference)["status"] == "in_progress"

        # 4. A new committed answer date: the customer is told.
        new_date = date.today() + timedelta(days=20)
        imap_account.append("INBOX", reply(notification, HANDLER, f"#délai {new_date.isoformat()}"))
        wait_until(lambda: letters(smtp_sink, "deadline_changed", CUSTOMER), 20, "the new date letter")
        assert cli_json(config, "show", reference)["answer_due_at"].startswith(str(new_date - timedelta(days=1))) or new_date.isoformat() in cli_json(config, "show", reference)["answer_due_at"]

        # 5. The argued answer, with a file, then the closing.
        imap_account.append("INBOX", reply(notification, HANDLER, "#réponse\nMadame,\nnous vous remboursons intégralement la théière.\nCordialement", attachment=("avoir.pdf", b"%PDF-avoir")))
        wait_until(lambda: letters(smtp_sink, "answer", CUSTOMER), 20, "the answer")
        imap_account.append("INBOX", reply(notification, HANDLER, "#clore fondée"))
        wait_until(lambda: letters(smtp_sink, "closed", CUSTOMER), 20, "the closing letter")

        # 6. The customer answers the satisfaction question.
        closed = letters(smtp_sink, "closed", CUSTOMER)[0]
        imap_account.append("INBOX", reply(closed, CUSTOMER, "Oui, merci beaucoup."))
        wait_until(lambda: any(e == "satisfaction" for e, _ in history(config, reference)), 20, "the satisfaction answer")
        assert daemon.alive(), daemon.log()

    answer = letters(smtp_sink, "answer", CUSTOMER)[0]
    assert "nous vous remboursons intégralement la théière." in answer.get_body(("plain",)).get_content()
    assert [p.get_filename() for p in answer.iter_attachments()] == ["avoir.pdf"]
    assert f"[{reference}]" in answer["Subject"]
    shown = cli_json(config, "show", reference)
    assert shown["status"] == "closed"
    events = [h["event"] for h in shown["history"]]
    for expected in ("received", "routed", "command_mail", "status", "severity", "follow_up", "command_refused", "answer_due", "note" if "note" in events else "status", "satisfaction"):
        assert expected in events, (expected, events)
    satisfied = next(d for e, d in history(config, reference) if e == "satisfaction")
    assert satisfied.startswith("satisfied")


def test_assign_hands_over_with_the_full_case_and_moves_the_right_to_command(tmp_path, imap_account, smtp_sink):
    config = write_config(tmp_path, imap_account, smtp_sink, reminders='before = []\ndigest_days = []')
    imap_account.append("INBOX", complaint(1, subject="Colis abîmé", attachment=("photo.pdf", b"%PDF-photo", "application/pdf")))
    with DaemonProcess(config) as daemon:
        wait_until(lambda: letters(smtp_sink, "handler_notification"), 20, "the handler's notification")
        notification = letters(smtp_sink, "handler_notification")[0]
        reference = cli_json(config, "list")[0]["reference"]

        imap_account.append("INBOX", reply(notification, HANDLER, "#assigner alice@example.com\n#note Alice connaît ce client."))
        wait_until(lambda: letters(smtp_sink, "handover", "alice@example.com"), 20, "the handover")
        handover = letters(smtp_sink, "handover", "alice@example.com")[0]
        assert reference in handover["Subject"] and "[jeton:" in handover["Subject"]
        assert [p.get_filename() for p in handover.iter_attachments()] == ["photo.pdf"]
        assert cli_json(config, "show", reference)["handler"] == "alice@example.com"

        # Bob's token no longer commands this complaint; Alice's does.
        imap_account.append("INBOX", reply(notification, HANDLER, "#statut en cours"))
        wait_until(lambda: letters(smtp_sink, "command_refused"), 20, "Bob's refusal")
        imap_account.append("INBOX", reply(handover, "Alice Martin <alice@example.com>", "#statut en cours"))
        wait_until(lambda: cli_json(config, "show", reference)["status"] == "in_progress", 20, "Alice's command")
        assert daemon.alive(), daemon.log()
    events = [h["event"] for h in cli_json(config, "show", reference)["history"]]
    assert events.count("command_refused") == 1 and "handler" in events and "note" in events
