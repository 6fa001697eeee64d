"""The outbox sender in a child process, woken through a pipe after each committed batch.

The ingesting process and the sender meet only in the register (the outbox table), so parsing and
sending use both cores instead of sharing one interpreter lock, and the sender records each relay
answer without waiting for the ingester's CPU. The child dies with its parent (PR_SET_PDEATHSIG),
after finishing and recording the letter in hand, so a killed daemon never leaves a sender behind
nor a letter sent but unrecorded.

The child is `python -m daemon.runners.sender` (the configuration pickled on its stdin, the wake
pipe's end as an inherited descriptor), not a multiprocessing child: it imports only what sending
needs rather than the daemon's whole command line, and no resource tracker process comes with it.
The daemon's side of it, started before the daemon's own imports, is runners/sender_process.py.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import os
import pickle
import select
import signal
import sys
import threading
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from daemon.edges.register import Register
from daemon.edges.register.lease import lease_for
from daemon.edges.smtp import SmtpSender
from daemon.errors import TransientError
from daemon.logs import setup_logging
from daemon.runners.backoff import Backoff, one_line
from daemon.runners.outbox import Outbox, TellHandler
from daemon.runners.signals import stop_on
from daemon.runners.standby import Standby

if TYPE_CHECKING:
    from daemon.config import Config

log = logging.getLogger("complaintsd")

OUTBOX_CEILING = 5.0  # seconds between outbox sweeps when nothing wakes the sender earlier


def main(argv: list[str]) -> None:
    """`python -m daemon.runners.sender WAKE_FD PARENT_PID`, then the configuration and the log level
    on stdin (runners/sender_process.py). End-of-file instead: the daemon never adopted this sender
    (a bad configuration, `--help`, a standby stopped), so it leaves without a word."""
    waker, parent = (int(value) for value in argv)
    stopping = threading.Event()
    stop_on((signal.SIGTERM,), stopping.set)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the parent, which stops us
    _die_with_parent(parent)
    try:
        config, log_level = pickle.load(sys.stdin.buffer)
    except (EOFError, pickle.UnpicklingError):
        return
    # What the imports made lives as long as the process: out of the collector's way, so that its
    # full collections while letters leave no longer walk SQLAlchemy's and pydantic's objects.
    gc.freeze()
    sender_main(config, waker, log_level, stopping)


def sender_main(config: Config, waker: int, log_level: int, stopping: threading.Event) -> None:
    """Entry point of the sender process: flush the outbox whenever woken or something falls due.

    SIGTERM — from systemd, or from the kernel when the parent dies, even by SIGKILL — means:
    finish and record the letter in hand, then exit. A crash of the ingesting process therefore
    never leaves a letter sent but unrecorded; the sender's lease (edges/register/lease.py) keeps
    the next sender, of this host or another, standing by meanwhile.
    """
    setup_logging(log_level <= logging.DEBUG)
    standby = Standby(lease_for(config.database.url, config.storage.path, "sender"), stopping, "sender")
    try:
        if standby.take():
            standby.keep()
            _send_until_stopped(config, waker, stopping)
    finally:
        standby.release()


def _send_until_stopped(config: Config, waker: int, stopping: threading.Event) -> None:
    register = Register(config.database.url, worker=True)
    told = TellHandler(lambda: _desks(config, register))
    outbox = Outbox(register, SmtpSender(config.smtp, config.outbox.connections), config.outbox, _utc_now, told)
    backoff = Backoff()
    while not stopping.is_set():
        try:
            while outbox.flush(stopping.is_set) and not stopping.is_set():
                pass
            backoff.reset()
            delay = outbox.seconds_until_due(OUTBOX_CEILING)
        except TransientError as exc:
            log.warning("register unavailable to the sender, will retry: %s", one_line(exc))
            delay = backoff.next()
        if not _wait(waker, delay, stopping):
            break
    register.dispose()


def _desks(config: Config, register: Register) -> tuple:
    from daemon.runners.desk import desks_of

    return desks_of(config, register)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _wait(waker: int, delay: float, stopping: threading.Event) -> bool:
    """Sleep until woken or `delay` passed; False once the parent closed the pipe or asked to stop."""
    deadline = time.monotonic() + delay
    try:
        while not stopping.is_set():
            ready, _, _ = select.select([waker], [], [], max(0.0, min(0.5, deadline - time.monotonic())))
            if ready:
                return bool(os.read(waker, 4096))  # b"": the parent closed its end
            if time.monotonic() >= deadline:
                return True
    except OSError:
        return False
    return False


def _die_with_parent(parent: int) -> None:
    """Linux: have the kernel send us SIGTERM when the parent dies, even by SIGKILL."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:
        os.kill(os.getpid(), signal.SIGTERM)  # the parent died before the call above


PR_SET_PDEATHSIG = 1


if __name__ == "__main__":
    main(sys.argv[1:])
