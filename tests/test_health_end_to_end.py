"""The mailbox refusing our login reaches a person (issue 11): a real Dovecot says no, the daemon
keeps retrying, and the admin gets one alert by mail, then one letter when the login works again."""

from __future__ import annotations

import pytest

from tests.harness import DaemonProcess, wait_until, write_config

pytestmark = [pytest.mark.dovecot, pytest.mark.smtp]


def kinds(sink) -> list[str]:
    return [m.parsed()["X-Complaintsd-Kind"] for m in sink.messages()]


def test_a_refused_login_alerts_the_admin_once_and_its_end_is_told_too(tmp_path, imap_account, smtp_sink):
    config = write_config(tmp_path, imap_account, smtp_sink)
    good = config.read_text()
    config.write_text(good.replace(f'password = "{imap_account.password}"', 'password = "not-the-password"'))
    with DaemonProcess(config) as daemon:
        wait_until(lambda: "health_alert_mailbox_login" in kinds(smtp_sink), 20, "the alert")
        wait_until(lambda: daemon.log().count("mailbox or register unavailable") >= 2, 20, "another refusal")
    [alert] = [m.parsed() for m in smtp_sink.messages()]
    assert alert["To"] == "Qualité <qualite@example.com>", "[health] admin defaults to the supervisor"
    assert alert["Subject"] == "Alerte : la boîte aux lettres refuse notre connexion"
    assert "Authentication failed" in alert.get_body(("plain",)).get_content()
    assert daemon.log().count("health alert (mailbox_login): the mailbox refuses our login") == 1

    config.write_text(good)  # the admin fixed the password, and restarted the service
    with DaemonProcess(config) as daemon:
        wait_until(lambda: "health_recovered_mailbox_login" in kinds(smtp_sink), 20, "the recovery")
    assert kinds(smtp_sink) == ["health_alert_mailbox_login", "health_recovered_mailbox_login"]
    recovery = smtp_sink.messages()[-1].parsed()
    assert recovery["In-Reply-To"] == alert["Message-ID"]
    assert "health recovered (mailbox_login)" in daemon.log()
