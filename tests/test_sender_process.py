"""The sender process as `complaintsd run` starts it (issue 10): one child of the daemon, the sender,
started as `python -m daemon.runners.sender` with only what sending needs, and no multiprocessing
resource tracker beside it. It delivers, and its parent stops when it dies (that it dies with its
parent is tests/test_crash.py's)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from tests.harness import DaemonProcess, complaint, wait_until, write_config

pytestmark = [pytest.mark.dovecot, pytest.mark.smtp]


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = entry.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry.parent.name))
    return found


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for process {pid}")


def test_the_daemon_has_one_light_child_the_sender_and_stops_when_it_dies(tmp_path, imap_account, smtp_sink):
    imap_account.append("INBOX", complaint(1))
    config = write_config(tmp_path, imap_account, smtp_sink)
    with DaemonProcess(config) as daemon:
        assert daemon.process is not None
        wait_until(lambda: len(smtp_sink.messages()) >= 2, 60, "the acknowledgement and the notification")
        [child] = children(daemon.process.pid)
        command = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
        assert b"daemon.runners.sender" in command, command
        assert rss(child) < rss(daemon.process.pid), "the sender imports less than the daemon"
        os.kill(child, signal.SIGKILL)
        assert daemon.process.wait(timeout=30) == 1, daemon.log()[-2000:]
    assert "the sender process ended (exit -9); stopping" in daemon.log()
