"""The sender process as `complaintsd run` starts it (issue 10): one child of the daemon, the sender,
started as `python -m daemon.runners.sender` with only what sending needs, and no multiprocessing
resource tracker beside it, before the daemon's own imports. It delivers, and its parent stops when
it dies (that it dies with its parent is tests/test_crash.py's); one the daemon never hands its
configuration leaves nothing behind, neither a process nor a word."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness import ROOT, DaemonProcess, _env, complaint, wait_until, write_config

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


def senders_of(pid: int) -> list[int]:
    """The sender processes started by `pid`, wherever they are now (their command line names it),
    zombies excepted: an orphan is adopted by another process, but still found."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if b"daemon.runners.sender" in command and command[-2:-1] == [str(pid).encode()] and state != "Z":
            found.append(int(entry.name))
    return found


def test_a_run_whose_config_is_bad_leaves_no_sender_and_says_one_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[mailbox]\nhost = "x"\nusername = "u"\nprot = 1\n[smtp]\nfrom = "a@b.c"\n')
    errors = tmp_path / "stderr"
    with open(errors, "wb") as stderr:  # not a pipe: its reader would wait for every child holding it
        command = [sys.executable, "-m", "daemon.cli", "run", "--config", str(bad)]
        process = subprocess.Popen(command, stdout=stderr, stderr=stderr, env=_env(), cwd=ROOT)
        assert process.wait(timeout=60) == 1
    assert senders_of(process.pid) == [], "the sender started ahead is gone with the command"
    said = errors.read_text()
    assert said.count("\n") == 1 and "mailbox.prot: unknown key" in said, said


def test_a_standby_keeps_no_sender_and_stopped_leaves_none(tmp_path, imap_account, smtp_sink):
    config = write_config(tmp_path / "a", imap_account, smtp_sink)
    second = tmp_path / "b"
    second.mkdir()
    (second / "config.toml").write_text(config.read_text())  # the same register, its own log
    with DaemonProcess(config) as active:
        wait_until(lambda: "active: this daemon holds" in active.log(), 60, "the first daemon to hold the register")
        with DaemonProcess(second / "config.toml") as standby:  # started once the first holds it
            wait_until(lambda: "standing by" in standby.log(), 60, "the second daemon to stand by")
            assert standby.process is not None
            wait_until(lambda: not senders_of(standby.process.pid), 10, "the standby to let its sender go")
            assert standby.stop() == 0
            assert senders_of(standby.process.pid) == []
            assert "Traceback" not in standby.log() and "sender" not in standby.log(), standby.log()
        imap_account.append("INBOX", complaint(1))
        wait_until(lambda: len(smtp_sink.messages()) >= 2, 60, "the active daemon's sender to deliver")
