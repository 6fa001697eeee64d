"""The backbone, as a user sees it: `complaintsd run` against a real Dovecot and a real aiosmtpd."""

from __future__ import annotations

import hashlib
import time
from email.utils import parseaddr
from pathlib import Path

import pytest

from tests.harness import (
    AUTO_REPLY,
    BOUNCE,
    LIST_MAIL,
    DaemonProcess,
    cli,
    cli_json,
    complaint,
    wait_until,
    write_config,
)


def acknowledgements(sink, count: int = 1, timeout: float = 20):
    """The acknowledgements the relay got (handlers' notifications travel beside them)."""
    wait_until(lambda: len(_acks(sink)) >= count, timeout, f"{count} acknowledgement(s)")
    return _acks(sink)


def _acks(sink):
    return [m for m in sink.messages() if m.parsed()["X-Complaintsd-Kind"] == "acknowledgement"]


pytestmark = [pytest.mark.dovecot, pytest.mark.smtp]

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"


def test_complaint_is_registered_acknowledged_and_moved(tmp_path, imap_account, smtp_sink):
    config = write_config(tmp_path, imap_account, smtp_sink)
    raw = complaint(7, attachment=("facture F-2026-11.pdf", PDF, "application/pdf"))
    imap_account.append("INBOX", raw)
    for robot in (AUTO_REPLY, BOUNCE, LIST_MAIL):
        imap_account.append("INBOX", robot)

    with DaemonProcess(config) as daemon:
        received = acknowledgements(smtp_sink)
        wait_until(lambda: len(imap_account.folder_uids("Registered")) == 4, 10, "all four messages moved")
        smtp_sink.wait_for(2, timeout=10)  # the handler's notification travels beside the acknowledgement
        assert daemon.alive(), daemon.log()

    # That robots queue nothing at all is proved in process, on the outbox itself, rather than by
    # waiting here for a letter that must not come: test_runners_ingest.py, "complaints among robots".
    assert len(_acks(smtp_sink)) == 1, "robots must never be acknowledged"
    assert len(smtp_sink.messages()) == 2, "one acknowledgement, one notification to the handler, nothing else"
    ack = received[0].parsed()
    year = time.gmtime().tm_year
    reference = f"REC-{year}-000001"
    original_id = "<" + raw.split(b"Message-ID: <")[1].split(b">")[0].decode() + ">"
    assert received[0].rcpt_tos == ("camille.durand@client.example",)
    assert parseaddr(ack["To"])[1] == "camille.durand@client.example"
    assert f"[{reference}]" in ack["Subject"]
    assert ack["In-Reply-To"] == original_id
    assert original_id in ack["References"]
    assert ack["Auto-Submitted"] == "auto-replied"
    text = ack.get_body(("plain",)).get_content()
    html = ack.get_body(("html",)).get_content()
    assert reference in text and reference in html
    assert "facture F-2026-11.pdf" in text
    assert imap_account.folder_uids("INBOX") == []

    shown = cli_json(config, "show", reference)
    assert shown["status"] == "acknowledged"
    assert shown["customer_email"] == "camille.durand@client.example"
    assert shown["received_at"].endswith("+00:00")
    [attachment] = shown["attachments"]
    assert attachment["filename"] == "facture F-2026-11.pdf"
    assert attachment["size"] == len(PDF)
    stored = Path(attachment["path"])
    assert stored.read_bytes() == PDF and attachment["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert stored.is_relative_to(tmp_path / "attachments")
    events = [h["event"] for h in shown["history"]]
    assert events[:2] == ["received", "acknowledgement_queued"] and "acknowledgement_sent" in events
    # The acknowledgement's own Message-ID is recorded, so replies can thread back to it.
    assert any(ack["Message-ID"] in h["detail"] or h["event"] == "acknowledgement_sent" for h in shown["history"])

    listed = cli_json(config, "list")
    assert [c["reference"] for c in listed] == [reference]
    assert set(listed[0]) >= {
        "reference",
        "status",
        "customer_email",
        "subject",
        "received_at",
        "ack_due_at",
        "answer_due_at",
        "attachments",
    }
    assert listed[0]["attachments"] == 1


def test_acknowledgement_states_dates_in_french_and_mediator(tmp_path, imap_account, smtp_sink):
    config = write_config(
        tmp_path,
        imap_account,
        smtp_sink,
        extra='[mediator]\nname = "Médiateur du e-commerce"\nwebsite = "https://mediateur.example"\n',
    )
    imap_account.append("INBOX", complaint(1))
    with DaemonProcess(config):
        [received] = acknowledgements(smtp_sink)
    text = received.parsed().get_body(("plain",)).get_content()
    shown = cli_json(config, "list")[0]
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from babel.dates import format_date

    due = datetime.fromisoformat(shown["answer_due_at"]).astimezone(ZoneInfo("Europe/Paris"))
    received_at = datetime.fromisoformat(shown["received_at"])
    assert round((due - received_at).total_seconds() / 86400) == 10
    assert format_date(due.date(), format="full", locale="fr_FR") in text
    assert "Médiateur du e-commerce" in text and "https://mediateur.example" in text


def test_english_letters(tmp_path, imap_account, smtp_sink):
    config = write_config(tmp_path, imap_account, smtp_sink, language="en", reference_prefix="CPL")
    imap_account.append("INBOX", complaint(1, sender="Jo Smith <jo@client.example>", subject="Broken kettle"))
    with DaemonProcess(config):
        [received] = acknowledgements(smtp_sink)
    message = received.parsed()
    assert f"[CPL-{time.gmtime().tm_year}-000001]" in message["Subject"]
    text = message.get_body(("plain",)).get_content()
    assert "complaint" in text.lower()


def test_bad_message_is_quarantined_and_does_not_block_the_next(tmp_path, imap_account, smtp_sink):
    config = write_config(tmp_path, imap_account, smtp_sink)
    imap_account.append("INBOX", complaint(1, sender="undisclosed"))  # no usable sender address
    imap_account.append("INBOX", complaint(2))
    with DaemonProcess(config) as daemon:
        acknowledgements(smtp_sink)
        wait_until(lambda: len(imap_account.folder_uids("Quarantine")) == 1, 10, "quarantine")
        wait_until(lambda: len(imap_account.folder_uids("Registered")) == 1, 10, "registered")
    assert "no sender address" in daemon.log()
    assert len(cli_json(config, "list")) == 1


def test_relay_temporary_failure_is_retried_then_permanent_refusal_recorded(tmp_path, imap_account, smtp_sink):
    config = write_config(tmp_path, imap_account, smtp_sink)
    smtp_sink.fail_next(2)
    smtp_sink.refuse("refused@client.example")
    imap_account.append("INBOX", complaint(1))
    imap_account.append("INBOX", complaint(2, sender="Refused <refused@client.example>"))
    with DaemonProcess(config):
        [received] = acknowledgements(smtp_sink, timeout=30)
        year = time.gmtime().tm_year
        refused_ref = f"REC-{year}-000002"
        wait_until(
            lambda: any(
                h["event"] == "acknowledgement_refused" for h in cli_json(config, "show", refused_ref)["history"]
            ),
            20,
            "refusal recorded",
        )
        wait_until(lambda: _told(smtp_sink), 20, "the handler told of the refused acknowledgement")
    assert _told(smtp_sink).rcpt_tos == ("bob@example.com",)
    assert received.rcpt_tos == ("camille.durand@client.example",)
    first = cli_json(config, "show", f"REC-{year}-000001")
    assert first["status"] == "acknowledged"
    assert "acknowledgement_delayed" in [h["event"] for h in first["history"]]
    refused = cli_json(config, "show", refused_ref)
    assert refused["status"] == "received"
    assert "550" in next(h["detail"] for h in refused["history"] if h["event"] == "acknowledgement_refused")


def _told(sink):
    return next((m for m in sink.messages() if m.parsed()["X-Complaintsd-Kind"] == "letter_refused"), None)


def test_sigterm_stops_cleanly_and_restart_does_not_duplicate(tmp_path, imap_account, smtp_sink):
    config = write_config(tmp_path, imap_account, smtp_sink)
    imap_account.append("INBOX", complaint(1))
    daemon = DaemonProcess(config).start()
    acknowledgements(smtp_sink)
    assert daemon.stop(timeout=15) == 0
    assert "complaintsd stopped" in daemon.log()
    # The same bytes dropped back into the inbox (as after a crash before the move) are recognised.
    imap_account.append("INBOX", imap_account.fetch_all("Registered")[0])
    with DaemonProcess(config):
        wait_until(lambda: len(imap_account.folder_uids("Registered")) == 2, 15, "re-fetched message moved")
    assert len(cli_json(config, "list")) == 1
    assert len(_acks(smtp_sink)) == 1


def test_idle_latency_under_two_seconds(tmp_path, imap_account, smtp_sink):
    config = write_config(tmp_path, imap_account, smtp_sink)
    with DaemonProcess(config) as daemon:
        wait_until(lambda: "idle: True" in daemon.log(), 15, "daemon connected with IDLE")
        # The latency of a running daemon, not of its start: its sender process must be up too.
        wait_until(lambda: "active: this sender holds the register" in daemon.log(), 15, "the sender to start")
        time.sleep(0.5)
        started = time.monotonic()
        imap_account.append("INBOX", complaint(1))
        [received] = acknowledgements(smtp_sink, timeout=10)
    assert received.arrived_monotonic - started < 2.0


def test_check_reports_each_part(tmp_path, imap_account, smtp_sink):
    config = write_config(tmp_path, imap_account, smtp_sink)
    result = cli(config, "check")
    assert result.returncode == 0, result.stdout + result.stderr
    for part in ("config:", "database:", "storage:", "templates:", "mailbox:", "smtp:"):
        assert part in result.stdout
    smtp_sink.stop()
    result = cli(config, "check")
    assert result.returncode == 1
    assert "FAIL smtp:" in result.stdout


def test_reconnects_after_the_server_drops_the_connection(tmp_path, imap_account, smtp_sink):
    import subprocess

    config = write_config(tmp_path, imap_account, smtp_sink)
    with DaemonProcess(config) as daemon:
        wait_until(lambda: "idle: True" in daemon.log(), 15, "daemon connected with IDLE")
        kicked = subprocess.run(
            ["doveadm", "-c", str(imap_account.server.root / "dovecot.conf"), "kick", imap_account.user],
            capture_output=True,
            text=True,
        )
        assert kicked.returncode == 0, kicked.stderr
        wait_until(lambda: daemon.log().count("mailbox connected") >= 2, 20, "a reconnection")
        imap_account.append("INBOX", complaint(1))
        acknowledgements(smtp_sink)
        assert daemon.alive()
    assert "mailbox or register unavailable (attempt 1), retrying in 1 s" in daemon.log()


def test_polls_when_idle_is_off(tmp_path, imap_account, smtp_sink):
    config = write_config(tmp_path, imap_account, smtp_sink, mailbox="idle = false")
    with DaemonProcess(config) as daemon:
        wait_until(lambda: "idle: False" in daemon.log(), 15, "daemon connected without IDLE")
        time.sleep(1.5)  # at least one poll finds nothing
        imap_account.append("INBOX", complaint(1))
        acknowledgements(smtp_sink, timeout=10)
    assert len(cli_json(config, "list")) == 1
