"""The test servers behave as the daemon will need: IMAP APPEND/FETCH/IDLE/MOVE, SMTP 250/451/550."""

from __future__ import annotations

import asyncio
import time
from email.message import EmailMessage

import aiosmtplib
import pytest

from tests import conftest
from tests.servers import (
    DovecotServer,
    ImapAccount,
    SmtpSink,
    _live_group_members,
    dovecot_unavailable,
    smtp_unavailable,
)

RAW = (
    b"From: Alice Martin <alice@example.org>\r\n"
    b"To: reclamations@example.com\r\n"
    b"Subject: =?utf-8?q?Colis_ab=C3=AEm=C3=A9?=\r\n"
    b"Message-ID: <test-1@example.org>\r\n"
    b"Date: Mon, 02 Nov 2026 10:00:00 +0100\r\n"
    b"\r\n"
    b"Bonjour, mon colis est arrive abime.\r\n"
)


def message(to: str | list[str] = "alice@example.org", subject: str = "Accusé de réception") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "reclamations@example.com"
    msg["To"] = to if isinstance(to, str) else ", ".join(to)
    msg["Subject"] = subject
    msg.set_content("Votre réclamation REC-2026-000042 est enregistrée.\n")
    return msg


def send(sink: SmtpSink, msg: EmailMessage) -> tuple[dict, str]:
    return asyncio.run(aiosmtplib.send(msg, hostname=sink.host, port=sink.port, timeout=10))


# --- IMAP ------------------------------------------------------------------------------------


@pytest.mark.dovecot
def test_append_then_fetch(imap_account: ImapAccount, request: pytest.FixtureRequest) -> None:
    assert imap_account.folder_uids("INBOX") == []
    assert imap_account.fetch_all("Registered") == [] and "Registered" not in imap_account.folders()
    uid = imap_account.append("INBOX", RAW)
    assert imap_account.folder_uids("INBOX") == [uid]
    assert imap_account.fetch_all("INBOX") == [RAW]
    # Fetching does not mark the message \Seen: the daemon sees it as new.
    with imap_account.connect() as client:
        client.select_folder("INBOX")
        assert b"\\Seen" not in client.get_flags([uid])[uid]
    assert request.node.get_closest_marker("dovecot") is not None


@pytest.mark.dovecot
def test_each_test_gets_an_empty_mailbox(dovecot: DovecotServer, make_imap_account) -> None:
    first, second = make_imap_account(), make_imap_account()
    first.append("INBOX", RAW)
    assert second.folder_uids("INBOX") == []
    assert first.user != second.user and {first.user, second.user} <= dovecot.users.keys()
    # The session's default user is there too.
    assert dovecot.users["reclamations@example.com"] == "secret"
    assert dovecot.host == "127.0.0.1" and dovecot.port > 0


@pytest.mark.dovecot
def test_wrong_password_is_refused(imap_account: ImapAccount) -> None:
    from imapclient.exceptions import LoginError

    with pytest.raises(LoginError):
        imap_account.server.connect(imap_account.user, "wrong")


@pytest.mark.dovecot
def test_idle_notices_an_append_from_another_connection(imap_account: ImapAccount) -> None:
    with imap_account.connect() as watcher:
        watcher.select_folder("INBOX")
        watcher.idle()
        started = time.monotonic()
        imap_account.append("INBOX", RAW)
        responses = []
        while time.monotonic() - started < 2.0 and not any(r[1:2] == (b"EXISTS",) for r in responses):
            responses += watcher.idle_check(timeout=max(0.05, 2.0 - (time.monotonic() - started)))
        latency = time.monotonic() - started
        watcher.idle_done()
    assert (1, b"EXISTS") in responses, responses
    assert latency < 2.0


@pytest.mark.dovecot
def test_move_to_created_folder_with_slash_separator(imap_account: ImapAccount) -> None:
    uids = [imap_account.append("INBOX", RAW) for _ in range(3)]
    imap_account.create_folder("Registered")
    imap_account.create_folder("INBOX/Quarantine")
    with imap_account.connect() as client:
        assert client.namespace().personal[0][1] == "/"
        assert client.has_capability("MOVE") and client.has_capability("IDLE")
        client.select_folder("INBOX")
        client.move(uids[:2], "Registered")
        client.move(uids[2:], "INBOX/Quarantine")
    assert imap_account.folder_uids("INBOX") == []
    assert imap_account.fetch_all("Registered") == [RAW, RAW]
    assert len(imap_account.folder_uids("INBOX/Quarantine")) == 1
    assert set(imap_account.folders()) == {"INBOX", "Registered", "INBOX/Quarantine"}


@pytest.mark.dovecot
def test_dovecot_stops_without_leftovers() -> None:
    conftest.require(dovecot_unavailable())
    with DovecotServer(separator=".") as server:
        pgid, root = server._proc.pid, server.root
        account = server.add_user("other@example.com", "pw")
        account.append("INBOX.Sub", RAW)
        assert set(account.folders()) == {"INBOX", "INBOX.Sub"}
    assert not server.running and not root.exists()
    # Only zombies may remain, until init reaps them.
    assert _live_group_members(pgid) == []


# --- SMTP ------------------------------------------------------------------------------------


@pytest.mark.smtp
def test_sink_receives_a_message(smtp_sink: SmtpSink) -> None:
    before = time.time()
    errors, _reply = send(smtp_sink, message())
    assert errors == {}
    [got] = smtp_sink.wait_for(1, timeout=2)
    assert got.mail_from == "reclamations@example.com"
    assert got.rcpt_tos == ("alice@example.org",)
    assert got.parsed()["Subject"] == "Accusé de réception"
    assert "REC-2026-000042" in got.parsed().get_content()
    assert before <= got.arrived_at <= time.time() and got.arrived_monotonic <= time.monotonic()
    assert smtp_sink.host == "127.0.0.1"


@pytest.mark.smtp
def test_temporary_failure_then_success_on_retry(smtp_sink: SmtpSink) -> None:
    smtp_sink.fail_next(1)
    with pytest.raises(aiosmtplib.SMTPDataError) as refused:
        send(smtp_sink, message())
    assert refused.value.code == 451
    assert smtp_sink.messages() == []
    send(smtp_sink, message())
    assert len(smtp_sink.wait_for(1, timeout=2)) == 1
    assert [r.reply[:3] for r in smtp_sink.rejections()] == ["451"]


@pytest.mark.smtp
def test_greylisting_at_rcpt(smtp_sink: SmtpSink) -> None:
    smtp_sink.fail_next(1, "450 4.2.0 Greylisted, come back later", stage="rcpt")
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
        send(smtp_sink, message(["a@example.org", "b@example.org"]))
    assert {r.code for r in refused.value.recipients} == {450}
    send(smtp_sink, message(["a@example.org", "b@example.org"]))
    assert smtp_sink.wait_for(1)[0].rcpt_tos == ("a@example.org", "b@example.org")


@pytest.mark.smtp
def test_permanent_refusal(smtp_sink: SmtpSink) -> None:
    smtp_sink.refuse("Gone@Example.org")
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
        send(smtp_sink, message("gone@example.org"))
    assert [r.code for r in refused.value.recipients] == [550]
    # With another, valid recipient the message goes through and the refusal is reported.
    errors, _reply = send(smtp_sink, message(["gone@example.org", "bob@example.org"]))
    assert errors["gone@example.org"][0] == 550
    assert smtp_sink.wait_for(1)[0].rcpt_tos == ("bob@example.org",)
    smtp_sink.reset()
    send(smtp_sink, message("gone@example.org"))
    assert smtp_sink.wait_for(1)[0].rcpt_tos == ("gone@example.org",)


@pytest.mark.smtp
def test_sink_with_auth() -> None:
    conftest.require(smtp_unavailable())
    with SmtpSink(auth={"daemon": "pw"}) as sink:
        with pytest.raises(aiosmtplib.SMTPSenderRefused) as refused:
            asyncio.run(aiosmtplib.send(message(), hostname=sink.host, port=sink.port))
        assert refused.value.code == 530
        with pytest.raises(aiosmtplib.SMTPAuthenticationError):
            asyncio.run(
                aiosmtplib.send(message(), hostname=sink.host, port=sink.port, username="daemon", password="no")
            )
        asyncio.run(aiosmtplib.send(message(), hostname=sink.host, port=sink.port, username="daemon", password="pw"))
        assert sink.wait_for(1)[0].auth_login == "daemon"


# --- the fixtures' own rules -----------------------------------------------------------------


def test_missing_server_skips_locally_and_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="no dovecot here"):
        conftest.require("no dovecot here")
    monkeypatch.setenv("CI", "")
    with pytest.raises(pytest.skip.Exception):
        conftest.require("no dovecot here")
    conftest.require(None)
