"""The daemon on an XOAUTH2 mailbox, end to end: `complaintsd run` as systemd runs it, a real Dovecot
checking each token with a local endpoint (tests/oauth_servers.py), the relay an aiosmtpd sink.

A complaint is registered over XOAUTH2; then the refresh token is revoked while the access token
has ended: the restarted daemon says so in one log line, the admin gets the `oauth_token` alert once,
the daemon keeps running and does not hammer the provider; `complaintsd auth login` mends it, the
mail is read again and the admin is told it is over.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from daemon.core.oauth import token_of
from daemon.edges.oauth import TokenFile
from tests.conftest import require
from tests.harness import DaemonProcess, cli, complaint, wait_until, write_config
from tests.oauth_servers import CLIENT_ID, TokenEndpoint
from tests.servers import DEFAULT_USER, DovecotServer, dovecot_unavailable

ADMIN = "exploitation@example.com"


@pytest.fixture
def oauth_dovecot():
    require(dovecot_unavailable())
    with (
        TokenEndpoint(DEFAULT_USER, lifetime=600) as endpoint,
        DovecotServer(oauth2_introspection_url=f"{endpoint.url}/introspect") as dovecot,
    ):
        yield dovecot, endpoint


def _config(tmp_path, dovecot, endpoint, sink):
    token_file = tmp_path / "state" / "oauth-token.json"
    oauth = {
        "provider": "generic",
        "client_id": CLIENT_ID,
        "scopes": ["mail"],
        "token_url": f"{endpoint.url}/token",
        "device_code_url": f"{endpoint.url}/devicecode",
        "token_file": str(token_file),
    }
    extra = "[oauth]\n" + "\n".join(f"{key} = {json.dumps(value)}" for key, value in oauth.items())
    extra += f'\n[health]\nadmin = "{ADMIN}"\noutbox_age = ""\nno_mail_after = ""\n'
    path = write_config(tmp_path, dovecot.account(DEFAULT_USER), sink, extra=extra)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('password = "secret"', 'auth = "xoauth2"', 1), encoding="utf-8")
    return path, token_file


@pytest.mark.dovecot
@pytest.mark.smtp
def test_a_mailbox_over_xoauth2_and_a_revoked_refresh_token_mended_by_auth_login(tmp_path, oauth_dovecot, smtp_sink):
    dovecot, endpoint = oauth_dovecot
    config, token_file = _config(tmp_path, dovecot, endpoint, smtp_sink)
    TokenFile(token_file).write(token_of(endpoint.issue(), datetime.now(UTC)))  # as `auth login` leaves it
    account = dovecot.account(DEFAULT_USER)

    with DaemonProcess(config) as daemon:
        account.append("INBOX", complaint(1))
        wait_until(lambda: account.folder_uids("Registered"), 20, "the complaint registered over XOAUTH2")
        assert "method=XOAUTH2" in dovecot.log_text()
        assert daemon.stop() == 0

    endpoint.expire_access_tokens()
    endpoint.revoke_refresh_tokens()
    with DaemonProcess(config) as daemon:
        alert = wait_until(
            lambda: [m for m in smtp_sink.messages() if "oauth_token" in str(m.parsed()["X-Complaintsd-Kind"])],
            20,
            "the oauth_token alert",
        )[0].parsed()
        assert alert["To"] == ADMIN
        assert str(alert["Subject"]) == "Alerte : le fournisseur OAuth refuse de renouveler notre jeton"
        wait_until(lambda: daemon.log().count("retrying in") >= 3, 20, "the mailbox loop retrying")
        assert daemon.alive(), "no crash loop: the daemon waits for a person"
        assert endpoint.grants.count("refresh_token") == 1, "the provider is not asked again at each retry"
        errors = [line for line in daemon.log().splitlines() if "refused a new token" in line]
        assert errors and "invalid_grant" in errors[0] and errors[0].endswith("run complaintsd auth login")

        endpoint.state.pending_polls = 0
        login = cli(config, "auth", "login")
        assert login.returncode == 0, login.stderr
        account.append("INBOX", complaint(2))
        wait_until(lambda: len(account.folder_uids("Registered")) == 2, 40, "mail read again after auth login")
        recovered = wait_until(
            lambda: [m for m in smtp_sink.messages() if "recovered_oauth" in str(m.parsed()["X-Complaintsd-Kind"])],
            20,
            "the recovery letter",
        )[0].parsed()
        assert str(recovered["Subject"]) == "Rétabli : le jeton OAuth est renouvelé"
        assert recovered["In-Reply-To"] == alert["Message-ID"]
        status = json.loads(cli(config, "status", "--json").stdout)
        assert status["oauth"]["state"] == "valid" and status["oauth"]["refused_at"] is None
        kinds = [str(m.parsed()["X-Complaintsd-Kind"]) for m in smtp_sink.messages()]
        assert kinds.count("health_alert_oauth_token") == 1, "exactly once per change of state"
