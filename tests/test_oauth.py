"""XOAUTH2 for the mailbox and the relay (issue 11, item 5), with no network.

A local token endpoint (tests/oauth_servers.py) issues, refreshes and refuses tokens; a real Dovecot
checks each XOAUTH2 login by asking that endpoint (its oauth2 passdb, RFC 7662 introspection); an
aiosmtpd relay implements `auth_XOAUTH2` against it. The Microsoft flows go through msal itself, at
an https authority on 127.0.0.1 (a self-signed certificate trusted through REQUESTS_CA_BUNDLE, no
instance discovery); the Gmail refresh through google-auth, whose `token_uri` is the local endpoint.
"""

from __future__ import annotations

import io
import json
import logging
import os
import stat
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from daemon import cli
from daemon.config import MailboxConfig, OAuthConfig, SmtpConfig, parse_config
from daemon.core.mail import Address
from daemon.core.oauth import Token, token_of
from daemon.core.outbox import Envelope, Fate
from daemon.edges.mailbox import ImapMailbox
from daemon.edges.oauth import TokenFile, TokenSource
from daemon.edges.smtp import SmtpSender
from daemon.errors import ConfigError, LoginRefused, TokenRefused
from daemon.runners.health import HealthWatch, LoginWatch
from tests.conftest import require
from tests.harness import complaint
from tests.oauth_servers import CLIENT_ID, CLIENT_SECRET, GOOD_CODE, TENANT, TokenEndpoint, XOAuthSmtpSink
from tests.runners import FakeClock, ingest, make_desk, queued
from tests.servers import DEFAULT_USER, DovecotServer, dovecot_unavailable
from tests.test_config import MINIMAL, with_

USER = DEFAULT_USER
ADMIN = "exploitation@example.com"


@pytest.fixture
def endpoint(tmp_path):
    with TokenEndpoint(USER, https=True, workdir=tmp_path) as server:
        yield server


@pytest.fixture(scope="module")
def oauth_dovecot():
    """A Dovecot whose XOAUTH2 logins are checked by the module's own token endpoint."""
    require(dovecot_unavailable())
    with (
        TokenEndpoint(USER, lifetime=600) as server,
        DovecotServer(oauth2_introspection_url=f"{server.url}/introspect") as dovecot,
    ):
        yield dovecot, server


def generic(tmp_path: Path, endpoint: TokenEndpoint, **changes) -> OAuthConfig:
    config = OAuthConfig(
        provider="generic",
        flow="device_code",
        client_id=CLIENT_ID,
        client_secret="",
        scopes=("mail",),
        token_file=tmp_path / "state" / "oauth-token.json",
        token_url=f"{endpoint.url}/token",
        device_code_url=f"{endpoint.url}/devicecode",
    )
    return replace(config, **changes)


def store(config: OAuthConfig, answer: dict, now: datetime | None = None) -> Token:
    token = token_of(answer, now or datetime.now(UTC))
    TokenFile(config.token_file).write(token)
    return token


def imap(dovecot: DovecotServer, oauth: OAuthConfig) -> ImapMailbox:
    config = MailboxConfig(
        kind="imap",
        host=dovecot.host,
        port=dovecot.port,
        tls="none",
        username=USER,
        password="",
        folder="INBOX",
        processed_folder="Registered",
        quarantine_folder="Quarantine",
        poll_interval=timedelta(seconds=1),
        path=None,
        batch_size=10,
        idle=False,
        auth="xoauth2",
        oauth=oauth,
    )
    return ImapMailbox(config, timeout=10)


# --------------------------------------------------------------------------- the configuration


OAUTH_MS = {"provider": "microsoft", "tenant": "contoso.onmicrosoft.com", "client_id": "abc"}


def xoauth2(oauth: dict | None = None, **mailbox) -> dict:
    data = with_("mailbox", auth="xoauth2", **mailbox)
    if oauth is not None:
        data["oauth"] = oauth
    return data


def test_a_microsoft_mailbox_gets_the_provider_defaults(tmp_path):
    config = parse_config(xoauth2(OAUTH_MS))
    oauth = config.mailbox.oauth
    assert config.mailbox.auth == "xoauth2" and oauth is not None and config.smtp.oauth is None
    assert (oauth.flow, oauth.scopes) == (
        "device_code",
        ("https://outlook.office365.com/IMAP.AccessAsUser.All", "https://outlook.office365.com/SMTP.Send"),
    )
    assert oauth.token_file == Path("/var/lib/complaintsd/oauth-token.json")
    secret = tmp_path / "secret"
    secret.write_text("s3cret\n")
    app = parse_config(xoauth2({**OAUTH_MS, "flow": "client_credentials", "client_secret_file": str(secret)}))
    assert app.mailbox.oauth is not None
    assert (app.mailbox.oauth.client_secret, app.mailbox.oauth.scopes) == (
        "s3cret",
        ("https://outlook.office365.com/.default",),
    )
    gmail = parse_config(xoauth2({"provider": "google", "client_id": "id", "client_secret": "x"}))
    assert gmail.mailbox.oauth is not None
    assert (gmail.mailbox.oauth.flow, gmail.mailbox.oauth.scopes) == (
        "authorization_code",
        ("https://mail.google.com/",),
    )


@pytest.mark.parametrize(
    "data, path, words",
    [
        (with_("mailbox", auth="kerberos"), "mailbox.auth", "password, xoauth2"),
        (xoauth2(), "oauth", 'required when mailbox.auth = "xoauth2"'),
        (xoauth2(OAUTH_MS, password="secret"), "mailbox.auth", "remove the password"),
        (xoauth2({**OAUTH_MS, "provider": "yahoo"}), "oauth.provider", "microsoft, google, generic"),
        (xoauth2({"provider": "microsoft", "client_id": "abc"}), "oauth.tenant", "required for microsoft"),
        (xoauth2({**OAUTH_MS, "flow": "authorization_code"}), "oauth.flow", "device_code, client_credentials"),
        (xoauth2({**OAUTH_MS, "flow": "client_credentials"}), "oauth.client_secret_file", "needs the application"),
        (xoauth2({"provider": "google", "client_id": "id"}), "oauth.client_secret_file", "authorization_code"),
        (xoauth2({"provider": "generic", "client_id": "id"}), "oauth.token_url", "required for provider generic"),
        (xoauth2({**OAUTH_MS, "client_id": 3}), "oauth.client_id", "expected a string"),
        (xoauth2({**OAUTH_MS, "tenat": "x"}), "oauth.tenat", "unknown key"),
        (xoauth2({**OAUTH_MS, "warn_before": "soon"}), "oauth.warn_before", "soon"),
        (xoauth2({**OAUTH_MS, "client_secret_env": "NO_SUCH_VARIABLE_HERE"}), "oauth.client_secret_env", "not set"),
        (with_("smtp", auth="xoauth2", username="r@example.com"), "oauth", 'required when smtp.auth = "xoauth2"'),
        (
            {**with_("smtp", auth="xoauth2"), "oauth": OAUTH_MS},
            "smtp.username",
            'required when auth = "xoauth2"',
        ),
    ],
)
def test_a_bad_oauth_setting_names_its_key(data, path, words):
    with pytest.raises(ConfigError) as error:
        parse_config(data)
    assert error.value.path == path and words in error.value.problem, str(error.value)


def test_the_minimal_config_still_logs_in_with_a_password():
    config = parse_config(MINIMAL)
    assert (config.mailbox.auth, config.mailbox.oauth, config.oauth) == ("password", None, None)


# --------------------------------------------------------------------------- the token file


def test_the_token_file_is_0600_and_its_directory_0700_whatever_the_umask(tmp_path, endpoint):
    oauth = generic(tmp_path, endpoint)
    previous = os.umask(0o000)
    try:
        store(oauth, endpoint.issue())
        TokenSource(oauth).refresh()
    finally:
        os.umask(previous)
    assert stat.S_IMODE(oauth.token_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(oauth.token_file.parent.stat().st_mode) == 0o700
    assert [p.name for p in oauth.token_file.parent.iterdir() if p.name.startswith(".")] == [], "no temporary left"


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file away")
def test_root_leaves_the_token_file_to_the_owner_of_the_state_directory(tmp_path, endpoint):
    import pwd

    nobody = pwd.getpwnam("nobody")
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    os.chown(state, nobody.pw_uid, nobody.pw_gid)
    oauth = generic(tmp_path, endpoint)
    store(oauth, endpoint.issue())  # `auth login` run as root
    TokenSource(oauth).refresh()  # `check` run as root, refreshing it
    for path in (oauth.token_file, oauth.token_file.with_name(oauth.token_file.name + ".lock")):
        assert (path.stat().st_uid, stat.S_IMODE(path.stat().st_mode)) == (nobody.pw_uid, 0o600), path


def test_a_token_near_its_end_is_refreshed_before_use_and_a_fresh_one_is_not(tmp_path, endpoint):
    oauth = generic(tmp_path, endpoint)
    first = store(oauth, endpoint.issue())
    source = TokenSource(oauth)
    assert source.access_token() == first.access_token and endpoint.grants == []
    clock = FakeClock(first.expires_at - timedelta(minutes=4))  # within the 5 minutes' margin
    renewed = TokenSource(oauth, clock=clock).access_token()
    assert renewed != first.access_token and endpoint.grants == ["refresh_token"]
    kept = TokenFile(oauth.token_file).read()
    assert kept is not None and kept.access_token == renewed and kept.refresh_token, "the refresh token is kept"


def test_the_refresh_token_s_end_is_kept_while_the_same_refresh_token_is():
    now = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    login = token_of({"access_token": "a1", "refresh_token": "r1", "refresh_token_expires_in": 604800}, now)
    assert login.refresh_expires_at == now + timedelta(days=7) and login.expires_at == now + timedelta(hours=1)
    later = now + timedelta(hours=2)
    same = token_of({"access_token": "a2", "expires_in": 3599, "refresh_token": "r1"}, later, login)  # google-auth
    assert (same.refresh_token, same.refresh_expires_at) == ("r1", login.refresh_expires_at)
    omitted = token_of({"access_token": "a3"}, later, login)
    assert (omitted.refresh_token, omitted.refresh_expires_at) == ("r1", login.refresh_expires_at)
    rotated = token_of({"access_token": "a4", "refresh_token": "r2"}, later, login)  # Microsoft rotates it
    assert (rotated.refresh_token, rotated.refresh_expires_at) == ("r2", None), "a new one's end is not known"


# --------------------------------------------------------------------------- IMAP on a real Dovecot


@pytest.mark.dovecot
def test_dovecot_takes_the_stored_token_over_xoauth2(tmp_path, oauth_dovecot):
    dovecot, server = oauth_dovecot
    oauth = generic(tmp_path, server)
    token = store(oauth, server.issue())
    mailbox = imap(dovecot, oauth)
    mailbox.connect()
    try:
        assert mailbox.fetch(10) == []
    finally:
        mailbox.close()
    assert server.state.introspected[-1] == token.access_token, "Dovecot asked the endpoint"
    assert f"user=<{USER}>, method=XOAUTH2" in dovecot.log_text()


@pytest.mark.dovecot
def test_a_token_the_server_refuses_is_refreshed_once_and_the_login_retried(tmp_path, oauth_dovecot, caplog):
    dovecot, server = oauth_dovecot
    oauth = generic(tmp_path, server)
    stale = store(oauth, server.issue())
    server.expire_access_tokens()  # revoked early: the file still says it is good for an hour
    grants = len(server.grants)
    mailbox = imap(dovecot, oauth)
    with caplog.at_level(logging.INFO):
        mailbox.connect()
    mailbox.close()
    assert server.grants[grants:] == ["refresh_token"], "one refresh, no more"
    kept = TokenFile(oauth.token_file).read()
    assert kept is not None and kept.access_token != stale.access_token
    assert any("IMAP refused the access token" in r.getMessage() for r in caplog.records)


@pytest.mark.dovecot
def test_an_expired_token_is_refreshed_before_the_login(tmp_path, oauth_dovecot):
    dovecot, server = oauth_dovecot
    oauth = generic(tmp_path, server)
    old = store(oauth, server.issue(access_lifetime=60))  # ends within the margin
    grants = len(server.grants)
    mailbox = imap(dovecot, oauth)
    mailbox.connect()
    mailbox.close()
    assert server.grants[grants:] == ["refresh_token"]
    assert old.access_token not in server.state.introspected, "refreshed first: Dovecot never saw the old token"


@pytest.mark.dovecot
def test_a_session_whose_token_nears_its_end_logs_in_again_between_two_waits(tmp_path, oauth_dovecot):
    import threading

    dovecot, server = oauth_dovecot
    oauth = generic(tmp_path, server)
    first = store(oauth, server.issue())
    mailbox = imap(dovecot, oauth)
    mailbox.connect()
    try:
        grants = len(server.grants)
        mailbox.wait(threading.Event())  # an hour left: the session goes on
        assert server.grants[grants:] == []
        assert mailbox.tokens is not None
        mailbox.tokens.clock = FakeClock(first.expires_at - timedelta(minutes=4))
        mailbox.wait(threading.Event())
        assert server.grants[grants:] == ["refresh_token"], "a fresh token, before Exchange would cut us off"
        assert server.state.introspected[-1] != first.access_token, "and a new session with it"
        assert mailbox.fetch(10) == []
    finally:
        mailbox.close()


@pytest.mark.dovecot
def test_a_refused_refresh_token_is_a_clear_line_and_no_storm_of_requests(tmp_path, oauth_dovecot, caplog):
    dovecot, server = oauth_dovecot
    oauth = generic(tmp_path, server)
    store(oauth, server.issue())
    server.expire_access_tokens()
    server.revoke_refresh_tokens()
    grants = len(server.grants)
    mailbox = imap(dovecot, oauth)
    with caplog.at_level(logging.INFO), pytest.raises(TokenRefused) as refused:
        mailbox.connect()
    assert "invalid_grant: AADSTS700082" in str(refused.value)
    assert str(refused.value).endswith("run complaintsd auth login")
    assert not isinstance(refused.value, LoginRefused), "the token, not the mailbox's password: its own alert"
    [line] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert line.getMessage() == (
        "oauth: generic refused a new token (invalid_grant: AADSTS700082: The refresh token has expired due to "
        "inactivity.): run complaintsd auth login"
    )
    kept = TokenFile(oauth.token_file).read()
    assert kept is not None and kept.refused_at is not None and "invalid_grant" in kept.refused_why
    for _ in range(5):  # the mailbox loop's reconnections: the provider is not asked again for a while
        with pytest.raises(TokenRefused):
            mailbox.connect()
    assert server.grants[grants:] == ["refresh_token"]


# --------------------------------------------------------------------------- SMTP on aiosmtpd


def envelope(number: int) -> Envelope:
    raw = f"From: reclamations@example.com\r\nTo: c@example.org\r\nSubject: {number}\r\n\r\nBonjour\r\n".encode()
    return Envelope("reclamations@example.com", ("c@example.org",), raw)


def smtp_config(sink: XOAuthSmtpSink, oauth: OAuthConfig) -> SmtpConfig:
    return SmtpConfig(
        host=sink.host,
        port=sink.port,
        tls="none",
        username=USER,
        password="",
        sender=Address("Service", "reclamations@example.com"),
        timeout=timedelta(seconds=5),
        auth="xoauth2",
        oauth=oauth,
    )


@pytest.mark.smtp
def test_the_relay_takes_the_token_and_a_refused_one_is_refreshed_once(tmp_path, endpoint):
    oauth = generic(tmp_path, endpoint)
    store(oauth, endpoint.issue())
    with XOAuthSmtpSink(endpoint) as sink:
        sender = SmtpSender(smtp_config(sink, oauth))
        results: dict[int, Fate] = {}
        sender.send_all([envelope(1)], lambda i, r: results.__setitem__(i, r.fate))
        assert results == {0: Fate.SENT} and endpoint.grants == []
        endpoint.expire_access_tokens()
        sender.send_all([envelope(2)], lambda i, r: results.__setitem__(i, r.fate))
        assert results == {0: Fate.SENT} and endpoint.grants == ["refresh_token"]
        assert [m.auth_login for m in sink.wait_for(2)] == [USER, USER]
        assert len(sink.attempts) == 3, "the first token, the refused one, the refreshed one"


@pytest.mark.smtp
def test_a_refused_refresh_token_leaves_the_letters_waiting_not_failed(tmp_path, endpoint):
    oauth = generic(tmp_path, endpoint)
    store(oauth, endpoint.issue())
    endpoint.expire_access_tokens()
    endpoint.revoke_refresh_tokens()
    with XOAuthSmtpSink(endpoint) as sink:
        results = {}
        SmtpSender(smtp_config(sink, oauth)).send_all(
            [envelope(1), envelope(2)], lambda i, r: results.__setitem__(i, r)
        )
        assert {r.fate for r in results.values()} == {Fate.TEMPORARY}, "retried once a person ran auth login"
        assert "run complaintsd auth login" in results[0].detail
        assert sink.messages() == []


# --------------------------------------------------------------------------- the health alert


def _health(desk):
    return [letter for letter in queued(desk) if letter.kind.startswith("health_")]


def test_a_refused_refresh_alerts_the_admin_once_and_a_new_login_ends_it(tmp_path, endpoint, caplog):
    clock = FakeClock()
    desk = make_desk(tmp_path, clock, health={"admin": ADMIN, "outbox_age": "", "no_mail_after": ""})
    ingest(desk, complaint(1))
    oauth = generic(tmp_path, endpoint)
    watch = HealthWatch(desk, LoginWatch(clock), (oauth,))
    assert watch.check() == [], "no token file yet: nothing to say"
    store(oauth, endpoint.issue(access_lifetime=1), now=clock())
    endpoint.revoke_refresh_tokens()
    with pytest.raises(TokenRefused):
        TokenSource(oauth, clock=clock).access_token()
    with caplog.at_level(logging.INFO, logger="complaintsd.health"):
        [change] = watch.check()
        assert watch.check() == [] and HealthWatch(desk, LoginWatch(clock), (oauth,)).check() == [], "once"
    assert (change.condition, change.raised) == ("oauth_token", True)
    [alert] = _health(desk)
    assert (alert.kind, alert.to) == ("health_alert_oauth_token", ADMIN)
    assert alert.subject == "Alerte : le fournisseur OAuth refuse de renouveler notre jeton"
    assert "invalid_grant: AADSTS700082" in alert.text and "complaintsd auth login" in alert.text
    assert [r.getMessage() for r in caplog.records if r.name == "complaintsd.health"] == [
        "health alert (oauth_token): the OAuth provider refuses to renew our token (invalid_grant: AADSTS700082: "
        f"The refresh token has expired due to inactivity.): run complaintsd auth login; told {ADMIN}"
    ]

    endpoint.state.pending_polls = 0
    TokenSource(oauth, clock=clock).login(lambda message: None, lambda question: "")  # auth login
    assert [(c.condition, c.raised) for c in watch.check()] == [("oauth_token", False)]
    recovered = _health(desk)[-1]
    assert recovered.subject == "Rétabli : le jeton OAuth est renouvelé"
    assert recovered.message["In-Reply-To"] == alert.message["Message-ID"]


def test_a_refresh_token_nearing_its_end_alerts_in_english_when_the_provider_says_it(tmp_path, endpoint):
    clock = FakeClock()
    desk = make_desk(tmp_path, clock, register={"language": "en"}, health={"outbox_age": "", "no_mail_after": ""})
    oauth = generic(tmp_path, endpoint, warn_before=timedelta(days=2))
    endpoint.state.refresh_lifetime = 7 * 86400  # Google's "testing" apps: a week
    store(oauth, endpoint.issue(), now=clock())
    watch = HealthWatch(desk, LoginWatch(clock), (oauth,))
    clock.advance(timedelta(days=4, hours=23))
    assert watch.check() == []
    clock.advance(timedelta(hours=1))
    assert [(c.condition, c.raised) for c in watch.check()] == [("oauth_token", True)]
    [alert] = _health(desk)
    assert alert.subject == "Alert: the OAuth token nears its end"
    assert "ends on Monday, November 30, 2026 at 10:00 AM" in alert.text and '"complaintsd auth login"' in alert.text


# --------------------------------------------------------------------------- complaintsd auth login / status


def _config_file(tmp_path: Path, oauth: dict) -> Path:
    lines = "\n".join(f"{key} = {json.dumps(value)}" for key, value in oauth.items())
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[mailbox]
host = "imap.example.com"
username = "{USER}"
auth = "xoauth2"
[smtp]
from = "R <{USER}>"
[database]
url = "sqlite:///{tmp_path}/register.db"
[storage]
path = "{tmp_path}/attachments"
[[handlers]]
name = "Alice"
email = "alice@example.com"
[routing]
default_handler = "alice@example.com"
supervisor = "q@example.com"
[oauth]
{lines}
token_file = "{tmp_path}/state/oauth-token.json"
""",
        encoding="utf-8",
    )
    return path


def _run(config: Path, *args: str, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    import contextlib
    import sys

    old_stdin = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.main([*args, "--config", str(config)])
    finally:
        sys.stdin = old_stdin
    return code, out.getvalue(), err.getvalue()


def test_auth_login_with_a_device_code_then_auth_status(tmp_path, endpoint):
    config = _config_file(
        tmp_path,
        {
            "provider": "generic",
            "client_id": CLIENT_ID,
            "scopes": ["mail"],
            "token_url": f"{endpoint.url}/token",
            "device_code_url": f"{endpoint.url}/devicecode",
        },
    )
    endpoint.state.pending_polls = 0
    code, out, err = _run(config, "auth", "login")
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == "To sign in, open https://microsoft.com/devicelogin and enter the code ABCD-EFGH"
    assert "oauth: token kept in" in out and "the access token ends" in out
    assert stat.S_IMODE((tmp_path / "state" / "oauth-token.json").stat().st_mode) == 0o600
    code, out, _ = _run(config, "auth", "status", "--json")
    shown = json.loads(out)
    assert (shown["state"], shown["refresh_token"], shown["refresh_token_expires_at"]) == ("valid", True, None)
    assert datetime.fromisoformat(shown["access_token_expires_at"]) > datetime.now(UTC) + timedelta(minutes=55)
    assert "access-" not in out and "refresh-" not in out, "never the tokens themselves"


def test_auth_login_for_microsoft_goes_through_msal_and_its_device_flow(tmp_path, endpoint, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(endpoint.ca_file))
    config = _config_file(
        tmp_path,
        {
            "provider": "microsoft",
            "tenant": TENANT,
            "client_id": CLIENT_ID,
            "authority": f"{endpoint.https_url}/{TENANT}",
        },
    )
    with open(config, "a", encoding="utf-8") as more:  # a secret beside a device code is not used
        more.write(f'client_secret = "{CLIENT_SECRET}"\n')
    code, out, err = _run(config, "auth", "login")
    assert (code, err) == (0, ""), err
    assert "enter ABCD-EFGH" in out.splitlines()[0]
    assert endpoint.grants == ["urn:ietf:params:oauth:grant-type:device_code"] * 2, "one pending poll, then the token"
    oauth = parse_config_file(config)
    token = TokenFile(oauth.token_file).read()
    assert token is not None and token.refresh_token
    endpoint.expire_access_tokens()
    renewed = TokenSource(oauth).refresh(token.access_token)
    assert renewed != token.access_token and endpoint.grants[-1] == "refresh_token"


def test_microsoft_client_credentials_need_no_person(tmp_path, endpoint, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(endpoint.ca_file))
    (tmp_path / "secret").write_text(CLIENT_SECRET)
    config = _config_file(
        tmp_path,
        {
            "provider": "microsoft",
            "flow": "client_credentials",
            "tenant": TENANT,
            "client_id": CLIENT_ID,
            "client_secret_file": str(tmp_path / "secret"),
            "authority": f"{endpoint.https_url}/{TENANT}",
        },
    )
    oauth = parse_config_file(config)
    assert TokenSource(oauth).access_token().startswith("access-"), "no file yet: the application asks itself"
    (tmp_path / "secret").write_text("a wrong secret")
    wrong = replace(oauth, client_secret="a wrong secret", token_file=tmp_path / "other.json")
    with pytest.raises(TokenRefused, match="invalid_client: AADSTS7000215"):
        TokenSource(wrong).access_token()


def test_auth_login_for_gmail_takes_the_pasted_address_and_google_auth_refreshes(tmp_path, endpoint):
    config = _config_file(
        tmp_path,
        {
            "provider": "google",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "token_url": f"{endpoint.url}/token",
        },
    )
    code, out, err = _run(config, "auth", "login", stdin=f"http://127.0.0.1:1/?code={GOOD_CODE}&scope=x\n")
    assert (code, err) == (0, ""), err
    assert "https://accounts.google.com/o/oauth2/auth?client_id=" in out
    assert "scope=https%3A%2F%2Fmail.google.com%2F" in out and "access_type=offline" in out
    oauth = parse_config_file(config)
    token = TokenFile(oauth.token_file).read()
    assert token is not None and endpoint.grants == ["authorization_code"]
    renewed = TokenSource(oauth).refresh(token.access_token)
    assert renewed != token.access_token and endpoint.grants[-1] == "refresh_token"
    endpoint.revoke_refresh_tokens()
    with pytest.raises(TokenRefused, match="invalid_grant"):
        TokenSource(oauth).refresh(renewed)


def test_a_bad_code_is_one_line_and_exit_1(tmp_path, endpoint):
    config = _config_file(
        tmp_path,
        {
            "provider": "google",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "token_url": f"{endpoint.url}/token",
        },
    )
    code, _, err = _run(config, "auth", "login", stdin="not-the-code\n")
    assert code == 1 and err == "complaintsd: invalid_grant: Bad Request\n"


def test_check_warns_of_a_client_secret_in_a_config_others_can_read(tmp_path, endpoint):
    from daemon.checks import credential_warnings
    from daemon.config import load_config

    config = _config_file(
        tmp_path,
        {"provider": "google", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "token_url": endpoint.url},
    )
    config.chmod(0o644)
    [warning] = credential_warnings(load_config(config))
    assert warning == (
        f"WARN config: {config} is readable by others (mode 0644) and holds oauth.client_secret: chmod 600 it, or "
        'better client_secret_file = "oauth-client-secret" and the unit\'s '
        "LoadCredential=oauth-client-secret:/etc/complaintsd/oauth-client-secret"
    )
    config.chmod(0o600)
    assert credential_warnings(load_config(config)) == []


def parse_config_file(path: Path) -> OAuthConfig:
    from daemon.config import load_config

    oauth = load_config(path).oauth
    assert oauth is not None
    return oauth


def test_each_register_s_mailbox_has_its_own_token_and_the_watch_reads_them_all(tmp_path, endpoint):
    from daemon.runners.health import oauth_of
    from tests.test_runners_registers import registers_data

    data = registers_data(tmp_path)
    data["oauth"] = {"provider": "microsoft", "tenant": TENANT, "client_id": CLIENT_ID}
    for entry, mailbox in zip(data["registers"], ("maison@example.com", "jardin@example.com"), strict=True):
        entry["mailbox"] = {"host": "outlook.office365.com", "username": mailbox, "auth": "xoauth2"}
        entry["oauth"] = {"token_file": str(tmp_path / f"{entry['name']}-token.json")}
    config = parse_config(data)
    files = [each.mailbox.oauth.token_file.name for each in config.each if each.mailbox.oauth]
    assert files == ["maison-token.json", "jardin-token.json"]
    assert [o.token_file.name for o in oauth_of(config)] == files
    del data["registers"][1]["oauth"]
    data["registers"][0]["oauth"] = {}
    with pytest.raises(ConfigError) as error:
        parse_config(data)
    assert error.value.path == "registers[1].oauth.token_file", "two mailboxes, one token file"
