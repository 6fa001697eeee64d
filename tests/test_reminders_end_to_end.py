"""Deadlines, routing and reminders as the handler and supervisor see them, on real servers.

Durations are seconds so the whole life of a missed deadline fits in a test: the handler's
notification, each reminder in order, then escalations to the supervisor, each exactly once —
across a restart in the middle (a reminder falls due while the daemon is down: it is sent once on
start, marked late) and with a second daemon started by mistake on the same register.
"""

from __future__ import annotations

import time

import pytest

from tests.harness import DaemonProcess, cli_json, complaint, wait_until, write_config

pytestmark = [pytest.mark.dovecot, pytest.mark.smtp]

REMINDERS = 'before = ["8s", "4s"]\nescalation_every = "4s"\nlate_after = "2s"\ndigest_days = []'


def kinds(sink) -> list[tuple[str, str]]:
    """(kind, recipient) of every mail the relay accepted, in order of arrival."""
    return [(m.parsed()["X-Complaintsd-Kind"], m.rcpt_tos[0]) for m in sink.messages()]


def test_notification_reminders_and_escalations_each_exactly_once(tmp_path, imap_account, smtp_sink):
    config = write_config(tmp_path, imap_account, smtp_sink, reminders=REMINDERS, answer_deadline="12s")
    started = time.monotonic()
    imap_account.append("INBOX", complaint(1, subject="Remboursement non reçu"))
    with DaemonProcess(config):
        smtp_sink.wait_for(2, timeout=20)  # acknowledgement and handler notification
        wait_until(lambda: ("reminder", "alice@example.com") in kinds(smtp_sink), 15, "the first reminder")
    # The daemon is down while the second reminder ("4s" before, at t≈8 s) falls due.
    time.sleep(max(0.0, 10 - (time.monotonic() - started)))
    with DaemonProcess(config) as first, DaemonProcess(config) as mistaken_second:
        wait_until(lambda: kinds(smtp_sink).count(("escalation", "qualite@example.com")) >= 2, 30, "two escalations")
        time.sleep(1.5)  # room for any duplicate to arrive
        assert first.alive() and mistaken_second.alive()
    assert "standing by" in (tmp_path / "daemon.log").read_text()

    sent = kinds(smtp_sink)
    assert sent[:5] == [
        ("acknowledgement", "camille.durand@client.example"),
        ("handler_notification", "alice@example.com"),  # keyword "remboursement" routes to Alice
        ("reminder", "alice@example.com"),
        ("reminder", "alice@example.com"),
        ("escalation", "qualite@example.com"),
    ] or sent[:5] == [
        ("handler_notification", "alice@example.com"),
        ("acknowledgement", "camille.durand@client.example"),
        ("reminder", "alice@example.com"),
        ("reminder", "alice@example.com"),
        ("escalation", "qualite@example.com"),
    ]
    assert sent.count(("reminder", "alice@example.com")) == 2
    assert all(kind == "escalation" for kind, _ in sent[5:])

    messages = smtp_sink.messages()
    reminders = [m.parsed() for m in messages if m.parsed()["X-Complaintsd-Kind"] == "reminder"]
    late_words = ("retard", "late")
    first_text = reminders[0].get_body(("plain",)).get_content().lower()
    second_text = reminders[1].get_body(("plain",)).get_content().lower()
    assert not any(w in first_text for w in late_words), "the first reminder was on time"
    assert any(w in second_text for w in late_words), "the reminder due while the daemon was down says it is late"

    reference = cli_json(config, "list")[0]["reference"]
    shown = cli_json(config, "show", reference)
    assert shown["handler"] == "alice@example.com"
    events = [h["event"] for h in shown["history"]]
    assert "routed" in events and events.count("reminder_queued") == 2
    routed = next(h for h in shown["history"] if h["event"] == "routed")
    assert "remboursement" in routed["detail"]
    assert cli_json(config, "list", "--overdue")[0]["reference"] == reference
    assert cli_json(config, "list", "--handler", "bob@example.com") == []


def test_acknowledged_complaint_gets_no_ack_reminder_and_default_handler(tmp_path, imap_account, smtp_sink):
    config = write_config(tmp_path, imap_account, smtp_sink, reminders='before = ["3s"]\nlate_after = "2s"\ndigest_days = []', ack_deadline="5s", answer_deadline="1h")
    imap_account.append("INBOX", complaint(1, subject="Colis abîmé", attachment=("photo.jpg", b"\xff\xd8" + b"x" * 5000, "image/jpeg")))
    with DaemonProcess(config):
        smtp_sink.wait_for(2, timeout=20)
        time.sleep(7)  # past the acknowledgement deadline and its reminder time
    sent = kinds(smtp_sink)
    assert sorted(sent) == [("acknowledgement", "camille.durand@client.example"), ("handler_notification", "bob@example.com")]
    notification = next(m.parsed() for m in smtp_sink.messages() if m.parsed()["X-Complaintsd-Kind"] == "handler_notification")
    assert [part.get_filename() for part in notification.iter_attachments()] == ["photo.jpg"]
    text = notification.get_body(("plain",)).get_content()
    assert "#" in text and "Colis abîmé" in notification["Subject"]
    listed = cli_json(config, "list", "--due-within", "2h")
    assert [c["handler"] for c in listed] == ["bob@example.com"]
    assert cli_json(config, "list", "--due-within", "10m") == []
    assert cli_json(config, "list", "--overdue") == []


def test_digest_lists_open_complaints_once_a_day(tmp_path, imap_account, smtp_sink):
    quiet = write_config(tmp_path, imap_account, smtp_sink, reminders='before = []\ndigest_days = []')
    for number in (1, 2):
        imap_account.append("INBOX", complaint(number))
    with DaemonProcess(quiet):
        smtp_sink.wait_for(4, timeout=20)  # two acknowledgements, two notifications
    daily = write_config(tmp_path, imap_account, smtp_sink, reminders='before = []\ndigest_at = "00:00"\ndigest_days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]')
    with DaemonProcess(daily):
        wait_until(lambda: ("digest", "bob@example.com") in kinds(smtp_sink), 20, "the digest")
        time.sleep(2.5)
    with DaemonProcess(daily):
        time.sleep(3)  # a restart the same day sends no second digest
    sent = kinds(smtp_sink)
    assert sent.count(("digest", "bob@example.com")) == 1
    assert ("digest", "alice@example.com") not in sent  # nothing open for Alice: no mail
    digest = next(m.parsed() for m in smtp_sink.messages() if m.parsed()["X-Complaintsd-Kind"] == "digest")
    text = digest.get_body(("plain",)).get_content()
    references = [c["reference"] for c in cli_json(daily, "list")]
    assert all(reference in text for reference in references)
    assert text.index(references[0]) < text.index(references[1])  # ordered by answer due date
