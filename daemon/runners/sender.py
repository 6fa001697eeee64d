"""The outbox sender in a child process, woken through a pipe after each committed batch.

The ingesting process and the sender meet only in the register (the outbox table), so parsing and
sending use both cores instead of sharing one interpreter lock, and the sender records each relay
answer without waiting for the ingester's CPU. The child dies with its parent (PR_SET_PDEATHSIG),
after finishing and recording the letter in hand, so a killed daemon never leaves a sender behind
nor a letter sent but unrecorded.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import signal
import threading
import time
from multiprocessing.connection import Connection

from daemon.config import Config
from daemon.edges.register import Register
from daemon.edges.register.lease import lease_for
from daemon.edges.smtp import SmtpSender
from daemon.errors import TransientError
from daemon.logs import setup_logging
from daemon.runners.backoff import Backoff, one_line
from daemon.runners.desk import desks_of, utc_now
from daemon.runners.outbox import Outbox, TellHandler
from daemon.runners.signals import stop_on
from daemon.runners.standby import Standby

log = logging.getLogger("complaintsd")

OUTBOX_CEILING = 5.0  # seconds between outbox sweeps when nothing wakes the sender earlier


class SenderProcess:
    """The outbox sender in a child process, woken through a pipe after each committed batch."""

    def __init__(self, config: Config, log_level: int) -> None:
        context = multiprocessing.get_context("spawn")
        receiver, self._waker = context.Pipe(duplex=False)
        self._lock = threading.Lock()  # woken from the mailbox loop and from the scheduler
        self.process = context.Process(
            target=sender_main, args=(config, receiver, log_level), name="complaintsd-sender", daemon=True
        )
        self.process.start()
        receiver.close()

    def wake(self) -> None:
        try:
            with self._lock:
                self._waker.send_bytes(b".")
        except OSError:
            log.error("the sender process is gone (exit %s)", self.process.exitcode)

    def stop(self, timeout: float) -> None:
        self._waker.close()  # the child sees end-of-file: finish the letter in hand, then exit
        self.process.join(timeout)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


def sender_main(config: Config, waker: Connection, log_level: int) -> None:
    """Entry point of the sender process: flush the outbox whenever woken or something falls due.

    SIGTERM — from systemd, or from the kernel when the parent dies, even by SIGKILL — means:
    finish and record the letter in hand, then exit. A crash of the ingesting process therefore
    never leaves a letter sent but unrecorded; the sender's lease (edges/register/lease.py) keeps
    the next sender, of this host or another, standing by meanwhile.
    """
    stopping = threading.Event()
    stop_on((signal.SIGTERM,), stopping.set)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the parent, which stops us
    _die_with_parent()
    setup_logging(log_level <= logging.DEBUG)
    standby = Standby(lease_for(config.database.url, config.storage.path, "sender"), stopping, "sender")
    try:
        if standby.take():
            standby.keep()
            _send_until_stopped(config, waker, stopping)
    finally:
        standby.release()


def _send_until_stopped(config: Config, waker: Connection, stopping: threading.Event) -> None:
    register = Register(config.database.url, worker=True)
    told = TellHandler(desks_of(config, register))
    outbox = Outbox(register, SmtpSender(config.smtp, config.outbox.connections), config.outbox, utc_now, told)
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


def _wait(waker: Connection, delay: float, stopping: threading.Event) -> bool:
    """Sleep until woken or `delay` passed; False once the parent closed the pipe or asked to stop."""
    deadline = time.monotonic() + delay
    try:
        while not stopping.is_set():
            if waker.poll(max(0.0, min(0.5, deadline - time.monotonic()))):
                while waker.poll(0):
                    waker.recv_bytes()
                return True
            if time.monotonic() >= deadline:
                return True
    except (EOFError, OSError):
        return False
    return False


def _die_with_parent() -> None:
    """Linux: have the kernel send us SIGTERM when the parent dies, even by SIGKILL."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass
    if os.getppid() == 1:
        os.kill(os.getpid(), signal.SIGTERM)  # the parent died before the call above


PR_SET_PDEATHSIG = 1
