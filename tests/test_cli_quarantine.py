"""`complaintsd quarantine list|show ID|retry ID` as an admin runs it: one subprocess per command on
a real SQLite register, whose quarantine the ingestor filled. A stranger's escape sequences must
never reach the terminal raw."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from daemon.config import load_config
from daemon.core.intake import Intake
from daemon.core.mail import Fetched
from daemon.core.triage import Outcome
from daemon.edges.register import Register
from daemon.edges.register.writes import record
from daemon.runners.desk import Desk
from daemon.runners.ingest import Ingestor
from tests.harness import ROOT, _env, complaint

ESCAPE = "\x1b[2J\x1b]0;pwned\x07"
HOSTILE = (
    b"To: reclamations@example.com\nSubject: Bonjour " + ESCAPE.encode() + b" \xc2\x9b31m\n"
    b"Message-ID: <hostile@attacker.example>\n\nNo From header: nobody to answer.\n"
)


def complaintsd(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "daemon.cli", *args], capture_output=True, text=True, env=_env(), cwd=ROOT, timeout=60
    )


@pytest.fixture
def config(tmp_path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[mailbox]
kind = "maildir"
path = "{tmp_path / "maildir"}"
[smtp]
host = "127.0.0.1"
tls = "none"
from = "reclamations@example.com"
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
    config = load_config(path)
    register = Register(config.database.url, create=True)
    Ingestor(Desk.of(config, register)).ingest([Fetched("1", HOSTILE, None), Fetched("2", complaint(1), None)])
    raw, now = complaint(2), datetime.now(UTC)  # quarantined by a release that could not register it
    with register.transaction() as session:
        record(session, Intake(raw, hashlib.sha256(raw).hexdigest(), now, Outcome.QUARANTINE, "a bug since fixed"), now)
    register.dispose()
    return path


def test_list_show_and_retry_as_the_admin_sees_them(config):
    listed = complaintsd("quarantine", "list", "--config", str(config))
    assert listed.returncode == 0, listed.stderr
    header, row, _ = listed.stdout.splitlines()
    assert header.split() == ["ID", "RECEIVED", "SENDER", "SUBJECT", "REASON"]
    assert row.startswith("1 ") and "no sender address" in row

    item, fixed = json.loads(complaintsd("quarantine", "list", "--json", "--config", str(config)).stdout)
    assert (item["id"], item["sender"], item["reason"]) == (1, "", "no sender address")

    shown = complaintsd("quarantine", "show", "1", "--config", str(config))
    assert shown.returncode == 0, shown.stderr
    assert "reason:       no sender address" in shown.stdout
    assert "Message-ID: <hostile@attacker.example>" in shown.stdout
    assert "Subject: Bonjour ␛[2J␛]0;pwned␇ \\x9b31m" in shown.stdout
    assert not any(ch in shown.stdout + listed.stdout for ch in "\x1b\x07\x9b"), (
        "no control character reaches the terminal"
    )

    retried = complaintsd("quarantine", "retry", "1", "--config", str(config))
    assert (retried.returncode, retried.stdout) == (1, "quarantine #1: still quarantined: no sender address\n")
    year = datetime.now(UTC).year
    retried = complaintsd("quarantine", "retry", str(fixed["id"]), "--config", str(config))
    assert (retried.returncode, retried.stdout) == (0, f"quarantine #{fixed['id']}: registered: REC-{year}-000002\n")
    assert len(complaintsd("quarantine", "list", "--config", str(config)).stdout.splitlines()) == 2
    missing = complaintsd("quarantine", "show", "9", "--config", str(config))
    assert (missing.returncode, missing.stderr) == (
        1,
        "complaintsd: quarantine: no quarantined mail #9 (see complaintsd quarantine list)\n",
    )
