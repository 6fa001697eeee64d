"""Reminders as the handler and supervisor get them, on real servers: one smoke test of the wiring.

The scheduler really wakes the sweep, the sweep really queues, the sender really delivers: one
reminder and one escalation arrive, each once, across a SIGKILL while the reminder falls due (it is
sent on restart, marked late) and with a second daemon started by mistake on the same register
(it stands by). Which letter leaves at which instant, exactly once, late or not, and what must NOT
leave, are proved in process with a clock moved by hand: tests/test_runners_sweep.py.
"""

from __future__ import annotations

import time

import pytest

from tests.harness import DaemonProcess, cli_json, complaint, wait_until, write_config

pytestmark = [pytest.mark.dovecot, pytest.mark.smtp]

# The reminder falls due 12 s after arrival, the escalation 16 s after; the next escalation is an
# hour away, so every letter this test can see is counted. The first daemon must have delivered the
# first two letters, and be killed, before the reminder's instant: 12 s leaves room on a loaded machine
# (at 4 s, a slow first daemon queued the reminder itself before its kill, and it left on time).
REMINDERS = 'before = ["4s"]\nescalation_every = "1h"\nlate_after = "1s"\ndigest_days = []'
DEADLINE = "16s"
DOWN_UNTIL = 13.5  # seconds after arrival: past the reminder's instant and its grace


def kinds(sink) -> list[tuple[str, str]]:
    """(kind, recipient) of every mail the relay accepted, in order of arrival."""
    return [(m.parsed()["X-Complaintsd-Kind"], m.rcpt_tos[0]) for m in sink.messages()]


def test_a_reminder_and_an_escalation_arrive_once_across_a_kill_and_a_second_daemon(tmp_path, imap_account, smtp_sink):
    config = write_config(tmp_path, imap_account, smtp_sink, reminders=REMINDERS, answer_deadline=DEADLINE)
    arrived = time.monotonic()
    imap_account.append("INBOX", complaint(1, subject="Remboursement non reçu"))
    crashed = DaemonProcess(config).start()
    try:
        smtp_sink.wait_for(2, timeout=20)  # the acknowledgement and the handler's notification
    finally:
        crashed.kill()
    assert ("reminder", "alice@example.com") not in kinds(smtp_sink), "the daemon must be down when it falls due"
    # Down on purpose: the reminder's instant passes with no daemon to sweep.
    time.sleep(max(0.0, DOWN_UNTIL - (time.monotonic() - arrived)))

    with DaemonProcess(config) as first, DaemonProcess(config) as mistaken_second:
        wait_until(lambda: ("reminder", "alice@example.com") in kinds(smtp_sink), 15, "the late reminder")
        wait_until(lambda: ("escalation", "qualite@example.com") in kinds(smtp_sink), 20, "the escalation")
        assert first.alive() and mistaken_second.alive()
    assert "standing by" in (tmp_path / "daemon.log").read_text()

    assert sorted(kinds(smtp_sink)) == [
        ("acknowledgement", "camille.durand@client.example"),
        ("escalation", "qualite@example.com"),
        ("handler_notification", "alice@example.com"),  # keyword "remboursement" routes to Alice
        ("reminder", "alice@example.com"),
    ]
    [reminder] = [m.parsed() for m in smtp_sink.messages() if m.parsed()["X-Complaintsd-Kind"] == "reminder"]
    assert "part en retard" in reminder.get_body(("plain",)).get_content(), "sent on restart, marked late"

    reference = cli_json(config, "list")[0]["reference"]
    shown = cli_json(config, "show", reference)
    assert shown["handler"] == "alice@example.com"
    events = [h["event"] for h in shown["history"]]
    assert events.count("reminder_queued") == 1 and events.count("escalation_queued") == 1
    assert [c["reference"] for c in cli_json(config, "list", "--overdue")] == [reference]
    assert cli_json(config, "list", "--handler", "bob@example.com") == []
