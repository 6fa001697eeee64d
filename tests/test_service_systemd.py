"""What systemd and the admin see of `complaintsd run`: READY=1, STATUS= lines, a watchdog fed only
while the mailbox loop turns, retries announced, and files nobody else can read.

The real command runs as systemd would start it: `$NOTIFY_SOCKET` names a datagram socket the test
reads, `$WATCHDOG_USEC` asks for the watchdog (1 s, so WATCHDOG=1 every 0.5 s, the loop's own step).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from daemon.edges.notify import SEND_TIMEOUT, systemd_notify
from daemon.edges.register import Register
from tests.harness import ROOT, complaint, wait_until

HANDLERS = """
[[handlers]]
name = "Bob Durand"
email = "bob@example.com"

[routing]
default_handler = "bob@example.com"
supervisor = "Qualité <qualite@example.com>"
"""


class Notifications:
    """The datagram socket systemd would listen on; `states` is every line received, in order."""

    def __init__(self) -> None:
        # AF_UNIX paths are limited to 108 bytes: a short directory of its own, not tmp_path.
        self.directory = tempfile.mkdtemp(prefix="h11-notify-")
        self.path = os.path.join(self.directory, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.05)
        self.received: list[tuple[float, str]] = []

    def drain(self) -> list[str]:
        while True:
            try:
                data = self.sock.recv(4096)
            except (TimeoutError, BlockingIOError):
                return self.states
            self.received += [(time.monotonic(), line) for line in data.decode().splitlines()]

    @property
    def states(self) -> list[str]:
        return [line for _, line in self.received]

    def wait_for(self, prefix: str, timeout: float = 20.0) -> str:
        found = wait_until(
            lambda: next((s for s in self.drain() if s.startswith(prefix)), None), timeout, f"a {prefix!r} notification"
        )
        return found

    def pings_between(self, start: float, end: float) -> int:
        return sum(1 for at, line in self.received if line == "WATCHDOG=1" and start <= at <= end)

    def close(self) -> None:
        self.sock.close()
        os.unlink(self.path)
        os.rmdir(self.directory)


@pytest.fixture
def notifications() -> Iterator[Notifications]:
    listener = Notifications()
    yield listener
    listener.close()


def test_a_manager_that_reads_nothing_cannot_stop_the_daemon(notifications, monkeypatch):
    """The kernel queues a few datagrams per socket (max_dgram_qlen); past them a send would wait for
    the reader forever, and the loop that feeds the watchdog with it (it stopped `status` for a minute)."""
    monkeypatch.setenv("NOTIFY_SOCKET", notifications.path)
    queue = int(Path("/proc/sys/net/unix/max_dgram_qlen").read_text())
    for _ in range(queue + 1):
        systemd_notify("WATCHDOG=1")
    started = time.monotonic()
    sender = threading.Thread(target=systemd_notify, args=("WATCHDOG=1",), daemon=True)
    sender.start()
    sender.join(timeout=SEND_TIMEOUT + 2)
    assert not sender.is_alive(), "a notification waited for a reader that never came"
    assert time.monotonic() - started >= SEND_TIMEOUT * 0.9, "the queue was full: it waited, then gave up"
    assert len(notifications.drain()) < queue + 2, "what could not leave was dropped"


def _config(tmp_path: Path, mailbox: str) -> Path:
    text = f"""
[mailbox]
{mailbox}
poll_interval = "1s"

[smtp]
host = "127.0.0.1"
port = 9
tls = "none"
from = "Service réclamations <reclamations@example.com>"
timeout = "2s"  # a sender retrying a refusing relay takes up to timeout + 5 s to stop

[database]
url = "sqlite:///{tmp_path}/state/register.db"

[storage]
path = "{tmp_path}/state/attachments"

[outbox]
retry_first = "1s"
retry_max = "2s"
{HANDLERS}
"""
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    Register(f"sqlite:///{tmp_path}/state/register.db", create=True).dispose()
    return path


def _start(config: Path, notifications: Notifications, umask: int = 0o022) -> subprocess.Popen:
    env = dict(os.environ, NOTIFY_SOCKET=notifications.path, WATCHDOG_USEC="1000000", PYTHONPATH=str(ROOT))
    env.pop("WATCHDOG_PID", None)
    log = open(config.parent / "daemon.log", "wb")  # noqa: SIM115 - the child keeps its own descriptor
    with log:
        return subprocess.Popen(
            [sys.executable, "-m", "daemon.cli", "run", "--config", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=ROOT,
            umask=umask,
        )


def _stop(process: subprocess.Popen) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    return process.wait(timeout=60)


def test_a_running_daemon_says_what_it_does_and_feeds_the_watchdog_while_it_waits(tmp_path, notifications):
    maildir = tmp_path / "maildir"
    (maildir / "new").mkdir(parents=True)
    (maildir / "new" / "1.complaint").write_bytes(
        complaint(1, attachment=("facture.pdf", b"%PDF-1.4 facture", "application/pdf"))
    )
    process = _start(_config(tmp_path, f'kind = "maildir"\npath = "{maildir}"'), notifications)
    try:
        notifications.wait_for("READY=1")
        waiting = notifications.wait_for("STATUS=waiting for mail on maildir:")
        assert waiting.endswith("(polled every 1 s); since start: 1 registered, 0 quarantined"), waiting
        assert any(s.startswith("STATUS=registering 1 message(s) from maildir:") for s in notifications.states)
        start = time.monotonic()
        time.sleep(2.0)
        notifications.drain()
        # Every 0.5 s while the loop waits for mail: about 4 in 2 s.
        assert notifications.pings_between(start, time.monotonic()) >= 3
    finally:
        assert _stop(process) == 0, (tmp_path / "daemon.log").read_text()
    notifications.drain()
    assert "STOPPING=1" in notifications.states


def test_what_the_daemon_creates_is_private_whatever_its_umask(tmp_path, notifications):
    maildir = tmp_path / "maildir"
    (maildir / "new").mkdir(parents=True)
    (maildir / "new" / "1.complaint").write_bytes(
        complaint(1, attachment=("facture.pdf", b"%PDF-1.4 facture", "application/pdf"))
    )
    state = tmp_path / "state"
    process = _start(_config(tmp_path, f'kind = "maildir"\npath = "{maildir}"'), notifications, umask=0o000)
    try:
        notifications.wait_for("STATUS=waiting for mail on maildir:")
    finally:
        assert _stop(process) == 0, (tmp_path / "daemon.log").read_text()
    # The register file itself is made by the test (as `complaintsd migrate` would, private too).
    created = {state / "attachments", state / "attachments" / ".complaintsd.lock", *(state / "attachments").rglob("*")}
    assert any(p.is_file() and not p.name.startswith(".") for p in created), "an attachment was stored"
    loose = {
        str(p.relative_to(state)): oct(stat.S_IMODE(p.stat().st_mode)) for p in created if p.stat().st_mode & 0o077
    }
    assert loose == {}


def test_a_stuck_mailbox_stops_the_watchdog_and_an_outage_is_announced_at_each_retry(tmp_path, notifications):
    """A server that accepts and never answers: the loop hangs in the call, so no WATCHDOG=1 (systemd
    would restart it); once the connection drops the loop retries, says so, and feeds the watchdog again."""
    silent = socket.create_server(("127.0.0.1", 0))
    port = silent.getsockname()[1]
    mailbox = f'kind = "imap"\nhost = "127.0.0.1"\nport = {port}\ntls = "none"\nusername = "u"\npassword = "p"'
    process = _start(_config(tmp_path, mailbox), notifications)
    try:
        notifications.wait_for(f"STATUS=connecting to imap://u@127.0.0.1:{port}/INBOX")
        held, _ = silent.accept()
        stuck_from = time.monotonic()
        time.sleep(2.0)
        notifications.drain()
        assert notifications.pings_between(stuck_from, time.monotonic()) == 0, "fed while stuck in a call"
        held.close()
        silent.close()  # from now on the connection is refused at once: the loop turns, retrying
        notifications.wait_for("STATUS=mailbox or register unavailable (attempt 3), retrying in 4 s", timeout=15)
        turning_from = time.monotonic()
        time.sleep(2.0)
        notifications.drain()
        assert notifications.pings_between(turning_from, time.monotonic()) >= 3
    finally:
        assert _stop(process) == 0, (tmp_path / "daemon.log").read_text()
    log = (tmp_path / "daemon.log").read_text()
    for attempt, delay in ((1, 1), (2, 2), (3, 4)):
        assert f"mailbox or register unavailable (attempt {attempt}), retrying in {delay} s: IMAP 127.0.0.1:" in log


def _status(config: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "daemon.cli", "status", *args, "--config", str(config)],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        cwd=ROOT,
        timeout=60,
    )


def test_status_tells_an_admin_what_runs_what_waits_and_what_is_quarantined(tmp_path, notifications):
    maildir = tmp_path / "maildir"
    (maildir / "new").mkdir(parents=True)
    (maildir / "new" / "1.complaint").write_bytes(complaint(1))
    (maildir / "new" / "2.nosender").write_bytes(b"Subject: sans expediteur\r\n\r\nQui suis-je ?\r\n")
    config = _config(tmp_path, f'kind = "maildir"\npath = "{maildir}"')  # the relay (port 9) refuses: letters wait
    process = _start(config, notifications)
    try:
        notifications.wait_for("STATUS=waiting for mail on maildir:")
        result = _status(config, "--json")
        assert result.returncode == 0, result.stderr
        data = json.loads(result.stdout)
        assert data["daemon"]["running"] is True and data["daemon"]["pid"] == process.pid
        assert data["daemon"]["role"] == "active"
        assert data["daemon"]["status"].startswith(f"waiting for mail on maildir:{maildir}")
        assert data["mailbox"]["reached_at"] and data["mailbox"]["connected_since"]
        assert data["last_mail_at"] and data["next_reminder_at"]
        # The acknowledgement, the handler's mail, and the admin's notice of the quarantined mail.
        assert data["outbox"]["waiting"] == 3 and data["outbox"]["oldest_at"]
        assert data["quarantined"] == 1
        assert data["schema"].startswith("schema at the latest revision")
        text = _status(config).stdout.splitlines()
        assert text[0] == f"daemon:     running (pid {process.pid}, active): {data['daemon']['status']}"
        assert text[3].startswith("outbox:     3 letter(s) waiting, the oldest queued ")
        assert text[4] == "quarantine: 1 message(s)"
    finally:
        assert _stop(process) == 0, (tmp_path / "daemon.log").read_text()
    after = json.loads(_status(config, "--json").stdout)
    assert after["daemon"]["running"] is False and after["daemon"]["updated_at"]
    assert _status(config).stdout.startswith("daemon:     not running (last seen ")
