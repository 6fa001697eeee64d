"""Passwords are not handed out: no cleartext login to another machine, and `check` says when a
password sits where others can read it (and how to keep it in a systemd credential instead)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from daemon.checks import credential_warnings
from daemon.config import load_config, parse_config
from daemon.errors import ConfigError
from tests.harness import cli

BASE = {
    "mailbox": {"host": "imap.example.com", "username": "r@example.com", "password": "secret"},
    "smtp": {"from": "R <r@example.com>"},
    "handlers": [{"name": "Alice", "email": "alice@example.com"}],
    "routing": {"default_handler": "alice@example.com", "supervisor": "q@example.com"},
}


def _with(section: str, **values) -> dict:
    data = {name: dict(table) if isinstance(table, dict) else list(table) for name, table in BASE.items()}
    data[section].update(values)
    return data


@pytest.mark.parametrize(
    "section, host",
    [("mailbox", "imap.example.com"), ("mailbox", "192.168.1.20"), ("smtp", "10.0.0.5"), ("smtp", "2001:db8::1")],
)
def test_cleartext_to_another_machine_is_refused_naming_the_key(section, host):
    with pytest.raises(ConfigError) as refused:
        parse_config(_with(section, host=host, tls="none"))
    assert str(refused.value) == (
        f'{section}.tls: "none" sends the password and the mail in clear: only allowed for a loopback host '
        f'(127.0.0.1, ::1, localhost), not {host}; use "ssl" or "starttls"'
    )


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.53", "::1", "localhost", "LOCALHOST"])
def test_cleartext_to_this_machine_is_allowed(host):
    config = parse_config(_with("mailbox", host=host, tls="none"))
    assert config.mailbox.tls == "none" and config.mailbox.host == host


def test_a_maildir_needs_no_tls():
    config = parse_config(_with("mailbox", kind="maildir", path="/tmp/nowhere", tls="none"))
    assert config.mailbox.kind == "maildir"


def test_the_cli_refuses_a_cleartext_remote_mailbox_in_one_line_before_connecting(tmp_path):
    path = _write(
        tmp_path, mailbox='kind = "imap"\nhost = "imap.example.com"\ntls = "none"\nusername = "r@example.com"'
    )
    result = cli(path, "check")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        'complaintsd: mailbox.tls: "none" sends the password and the mail in clear: only allowed for a loopback '
        'host (127.0.0.1, ::1, localhost), not imap.example.com; use "ssl" or "starttls"'
    ]
    assert result.stdout == ""


def _write(tmp_path: Path, mailbox: str = "", smtp: str = "", mode: int = 0o644) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[mailbox]
{mailbox or f'kind = "maildir"{chr(10)}path = "{tmp_path / "maildir"}"'}
[smtp]
host = "127.0.0.1"
port = 9
tls = "none"
from = "reclamations@example.com"
username = "relay"
{smtp}
[database]
url = "sqlite:///{tmp_path / "register.db"}"
[storage]
path = "{tmp_path / "attachments"}"
[[handlers]]
name = "Bob"
email = "bob@example.com"
[routing]
default_handler = "bob@example.com"
supervisor = "qualite@example.com"
""",
        encoding="utf-8",
    )
    os.chmod(path, mode)
    return path


def test_check_warns_of_a_password_in_a_config_others_can_read(tmp_path):
    path = _write(tmp_path, smtp='password = "s3cret"')
    assert credential_warnings(load_config(path)) == [
        f"WARN config: {path} is readable by others (mode 0644) and holds smtp.password: chmod 600 it, or better "
        'put the password in a file read through password_file = "smtp-password" and the unit\'s '
        "LoadCredential=smtp-password:/etc/complaintsd/smtp-password"
    ]
    os.chmod(path, 0o640)  # root:complaintsd 0640 is how the service's user reads its config
    assert credential_warnings(load_config(path)) == []


def test_check_warns_of_a_password_file_others_can_read(tmp_path):
    secret = tmp_path / "smtp-password"
    secret.write_text("s3cret\n")
    os.chmod(secret, 0o644)
    path = _write(tmp_path, smtp=f'password_file = "{secret}"', mode=0o600)
    assert load_config(path).smtp.password == "s3cret"
    assert credential_warnings(load_config(path)) == [
        f"WARN config: smtp.password_file {secret} is readable by others (mode 0644): chmod 600 it "
        "(the unit's LoadCredential= hands it to the service alone)"
    ]
    os.chmod(secret, 0o600)
    assert credential_warnings(load_config(path)) == []


def test_check_prints_the_warning_and_a_warning_alone_does_not_fail(tmp_path):
    path = _write(tmp_path, smtp='password = "s3cret"')
    result = cli(path, "check")
    warnings = [line for line in result.stdout.splitlines() if line.startswith("WARN ")]
    assert warnings == [
        f"WARN config: {path} is readable by others (mode 0644) and holds smtp.password: "
        + (
            'chmod 600 it, or better put the password in a file read through password_file = "smtp-password" and '
            "the unit's LoadCredential=smtp-password:/etc/complaintsd/smtp-password"
        )
    ]
    assert not any(line.startswith("FAIL config") for line in result.stdout.splitlines())
