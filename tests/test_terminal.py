"""`complaintsd show` and `list` never write a customer's control characters raw to the terminal
(issue 14): `\\x1b[2J` would clear the admin's screen, an OSC sequence retitle the window, a bare CR
or a bidi override hide or reorder what is read. Each is shown as a visible stand-in instead."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from daemon.config import load_config
from daemon.core.mail import Fetched
from daemon.edges.register import Register
from daemon.runners.desk import Desk
from daemon.runners.ingest import Ingestor
from daemon.terminal import visible, visible_line
from tests.harness import ROOT, _env, complaint

VISIBLE = [
    ("\x1b[2J", "␛[2J"),
    ("\x1b]0;pwned\x07", "␛]0;pwned␇"),
    ("a\rb", "a␍b"),
    ("\x00\x7f", "␀␡"),
    ("\x9b31m \x85", "\\x9b31m \\x85"),
    ("\u202eevil\u202c \u2066", "\\u202eevil\\u202c \\u2066"),
    ("Réclamation — ok\tand\nlines", "Réclamation — ok\tand\nlines"),
]


@pytest.mark.parametrize("raw, shown", VISIBLE)
def test_control_characters_are_shown_not_obeyed(raw, shown):
    assert visible(raw) == shown
    assert visible_line("a\nb\tc") == "a␊b␉c"


# Every C0 control but newline and tab, DEL, and every C1 control.
CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
SUBJECT = "Commande \x1b[2J\x1b[31m abîmée \x9b2J\u202e"
BODY = "Bonjour,\n\x1b]0;pwned\x07Ma commande\rest abîmée.\x1b[2J\n\x85Merci."
NAME = "Camille \x1b[5m Durand"


def complaintsd(*args: str) -> subprocess.CompletedProcess:
    """The command's output as the terminal gets it: bytes, decoded without translating "\r"."""
    done = subprocess.run(
        [sys.executable, "-m", "daemon.cli", *args], capture_output=True, env=_env(), cwd=ROOT, timeout=60
    )
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode(), done.stderr.decode())


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
    raw = complaint(
        1,
        sender=f'"{NAME}" <camille@client.example>',
        subject=SUBJECT,
        body=BODY,
        attachment=("facture\x1b[2J.pdf", b"%PDF-1.4 x", "application/pdf"),
    )
    Ingestor(Desk.of(config, register)).ingest([Fetched("1", raw, None)])
    register.dispose()
    return path


def test_show_and_list_write_no_control_character_of_the_customers(config):
    [item] = json.loads(complaintsd("list", "--json", "--config", str(config)).stdout)
    assert "\x1b" in item["subject"] or "\x9b" in item["subject"], "the register keeps what was written"
    shown = complaintsd("show", item["reference"], "--config", str(config))
    listed = complaintsd("list", "--config", str(config))
    assert shown.returncode == listed.returncode == 0, shown.stderr + listed.stderr
    for output in (shown.stdout, listed.stdout):
        assert not CONTROLS.findall(output), "a control character reached the terminal"
    assert "␛[2J" in shown.stdout and "␛[2J" in listed.stdout
    assert "\n␛]0;pwned␇Ma commande\nest abîmée.␛[2J\n\\x85Merci." in shown.stdout, "the body keeps its lines"
    assert "facture_[2J.pdf" in shown.stdout, "the parser already cleans file names"
