"""Run the real `complaintsd` as a subprocess against the test servers, and read what users see.

Like Mailman's testing/helpers.py: a config writer, a process wrapper that can be stopped politely
or killed, the CLI with `--json`, and sample complaint mails.
"""

from __future__ import annotations

import compileall
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage, Message
from email.utils import format_datetime, make_msgid
from pathlib import Path

from daemon.edges.register import Register
from tests.postgres import register_url

ROOT = Path(__file__).resolve().parents[1]


HANDLERS = """
[[handlers]]
name = "Alice Martin"
email = "alice@example.com"
keywords = ["facture", "remboursement"]

[[handlers]]
name = "Bob Durand"
email = "bob@example.com"

[routing]
default_handler = "bob@example.com"
supervisor = "Qualité <qualite@example.com>"
"""


def write_config(
    directory: Path, account, sink, *, extra: str = "", reminders: str = "", mailbox: str = "", **register: str
) -> Path:
    """A config for `account` (tests.servers.ImapAccount) and `sink` (tests.servers.SmtpSink)."""
    directory.mkdir(parents=True, exist_ok=True)
    register_lines = "\n".join(f'{key} = "{value}"' for key, value in register.items())
    text = f"""
[mailbox]
kind = "imap"
host = "{account.host}"
port = {account.port}
tls = "none"
username = "{account.user}"
password = "{account.password}"
poll_interval = "1s"
{mailbox}

[smtp]
host = "{sink.host}"
port = {sink.port}
tls = "none"
from = "Service réclamations <reclamations@example.com>"
timeout = "5s"

[database]
url = "{register_url(directory)}"

[storage]
path = "{directory}/attachments"

[register]
{register_lines}

{HANDLERS}
[reminders]
sweep_interval = "1s"
{reminders}

[limits]
# These tests send many complaints from one customer; the cap on automatic mail per correspondent
# is proved in process (tests/test_runners_abuse.py).
automatic_mails_per_day = 10000

[outbox]
retry_first = "1s"
retry_max = "2s"
{extra}
"""
    path = directory / "config.toml"
    path.write_text(text, encoding="utf-8")
    # The register at the latest schema, as `complaintsd migrate` leaves it before the first `run`.
    Register(register_url(directory), create=True).dispose()
    return path


def compile_daemon() -> None:
    """Write the daemon's bytecode, as installing the package does (pip compiles its modules). Where
    PYTHONDONTWRITEBYTECODE is set (this machine sets it), every `complaintsd run` a test or a
    benchmark starts from the source tree would otherwise compile its modules again, about 0.15 s
    of CPU in each of its two processes, which an installed daemon never pays."""
    compileall.compile_dir(ROOT / "daemon", quiet=1)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("NOTIFY_SOCKET", None)
    return env


class DaemonProcess:
    """`complaintsd run --config PATH` in the background; its log goes to a file."""

    def __init__(self, config: Path) -> None:
        self.config = config
        self.log_path = config.parent / "daemon.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> DaemonProcess:
        with open(self.log_path, "ab") as log:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(
                [sys.executable, "-m", "daemon.cli", "run", "--config", str(self.config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=_env(),
                cwd=ROOT,
            )
        return self

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM, as systemd does; returns the exit status."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> DaemonProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        if self.alive():
            try:
                self.stop()
            except subprocess.TimeoutExpired:
                self.kill()


def cli(config: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "daemon.cli", *args, "--config", str(config)],
        capture_output=True,
        text=True,
        env=_env(),
        cwd=ROOT,
        timeout=60,
    )


def cli_json(config: Path, *args: str):
    result = cli(config, *args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def wait_until(predicate: Callable[[], object], timeout: float, what: str, poll: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def complaint(
    number: int = 1,
    *,
    sender: str = "Camille Durand <camille.durand@client.example>",
    subject: str | None = None,
    body: str | None = None,
    attachment: tuple[str, bytes, str] | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    """A customer's complaint as their mail client would write it."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "Service réclamations <reclamations@example.com>"
    message["Subject"] = subject or f"Réclamation commande n° {number}"
    message["Date"] = format_datetime(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
    message["Message-ID"] = make_msgid(idstring=f"c{number}", domain="client.example")
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body or f"Bonjour,\n\nMa commande n° {number} est arrivée abîmée.\nMerci de me rembourser.\n")
    if attachment:
        filename, content, mime = attachment
        maintype, subtype = mime.split("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


def reply(
    to_message: Message,
    sender: str,
    body: str,
    *,
    keep_thread: bool = True,
    subject: str | None = None,
    attachment: tuple[str, bytes] | None = None,
) -> bytes:
    """A reply to one of our letters as Thunderbird writes it: new text on top, the original quoted
    below (so the tags our letters list are in the quoted text), "RE:" subject, In-Reply-To and
    References naming the letter unless `keep_thread` is False (a forged or hand-written mail).
    `to_message` is a parsed letter (email.policy.default), from the SMTP sink or the outbox."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "reclamations@example.com"
    message["Subject"] = subject or f"RE: {to_message['Subject']}"
    message["Message-ID"] = make_msgid(domain="example.com")
    if keep_thread:
        message["In-Reply-To"] = to_message["Message-ID"]
        message["References"] = to_message["Message-ID"]
    original = to_message.get_body(("plain",)).get_content()
    quoted = "\n".join("> " + line for line in original.splitlines())
    message.set_content(f"{body}\n\nLe lundi 23 novembre 2026 à 10:00, Service réclamations a écrit :\n{quoted}\n")
    if attachment:
        message.add_attachment(attachment[1], maintype="application", subtype="pdf", filename=attachment[0])
    return message.as_bytes()


# Robots: mails that must never be acknowledged (RFC 3834 auto-reply, a DSN bounce, a list mail).
AUTO_REPLY = b"""From: Sophie Bernard <sophie@client.example>
To: reclamations@example.com
Subject: Absence du bureau
Auto-Submitted: auto-replied
Message-ID: <away-1@client.example>
Date: Mon, 23 Nov 2026 10:00:00 +0000

Je suis absente jusqu'au 30 novembre.
"""

BOUNCE = b"""From: Mail Delivery System <MAILER-DAEMON@mx.client.example>
To: reclamations@example.com
Subject: Undelivered Mail Returned to Sender
Message-ID: <bounce-1@mx.client.example>
Date: Mon, 23 Nov 2026 10:00:00 +0000
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b"

--b
Content-Type: text/plain

The mail could not be delivered.
--b
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.client.example
Final-Recipient: rfc822; nobody@client.example
Action: failed
Status: 5.1.1

--b--
"""

LIST_MAIL = b"""From: News <news@shop.example>
To: reclamations@example.com
Subject: Our weekly offers
List-Id: <offers.shop.example>
Precedence: bulk
Message-ID: <list-1@shop.example>
Date: Mon, 23 Nov 2026 10:00:00 +0000

Offers!
"""
