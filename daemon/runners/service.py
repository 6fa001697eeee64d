"""The running daemon: the mailbox loop in this process, the outbox sender in a child process.

Theory of operation: fetch a batch → `Ingestor.ingest` commits it → only then move the messages →
wake the sender. The two meet only in the register (the outbox table), so the sender is a process
of its own: parsing and sending then use both cores instead of sharing one interpreter lock, and
the sender records each relay answer without waiting for the ingester's CPU. The child dies with
its parent (PR_SET_PDEATHSIG), so a killed daemon never leaves a sender behind.
A stop request (SIGTERM/SIGINT) is honoured between batches, so the message in hand is always
finished. A lost connection (IMAP, SMTP or database) is logged once and retried with backoff; it
never ends the daemon.
"""

from __future__ import annotations

import ctypes
import fcntl
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from multiprocessing.connection import Connection
from pathlib import Path

from daemon.config import Config
from daemon.edges.mailbox import Mailbox, open_mailbox
from daemon.edges.register import Register
from daemon.edges.scheduler import Scheduler
from daemon.edges.smtp import SmtpSender
from daemon.errors import TransientError
from daemon.logs import setup_logging
from daemon.runners.desk import Desk, utc_now
from daemon.runners.followups import FollowUps
from daemon.runners.ingest import BatchResult, Ingestor
from daemon.runners.outbox import Outbox
from daemon.runners.sweep import Sweeper

log = logging.getLogger("complaintsd")

OUTBOX_CEILING = 5.0  # seconds between outbox sweeps when nothing wakes the sender earlier


class Backoff:
    """1 s, 2 s, 4 s … capped: how long to wait before reconnecting after an outage."""

    def __init__(self, first: float = 1.0, ceiling: float = 60.0) -> None:
        self.first, self.ceiling, self.current = first, ceiling, first

    def next(self) -> float:
        delay, self.current = self.current, min(self.current * 2, self.ceiling)
        return delay

    def reset(self) -> None:
        self.current = self.first


class Daemon:
    def __init__(
        self, config: Config, clock: Callable[[], datetime] = utc_now, notify: Callable[[str], None] | None = None
    ) -> None:
        self.config = config
        self.clock = clock
        self.notify = notify or (lambda status: None)
        self.stop = threading.Event()
        self.register = Register(config.database.url)
        self.desk = Desk.of(config, self.register, clock)
        self.ingestor = Ingestor(self.desk)
        self.followups = FollowUps(self.desk)
        self.mailbox: Mailbox = open_mailbox(config.mailbox)
        self._sender: SenderProcess | None = None

    def run(self) -> None:
        with _active_lock(self.config.storage.path, self.stop):
            if self.stop.is_set():
                return
            self._run()

    def _run(self) -> None:
        self._sender = SenderProcess(self.config, logging.getLogger().level)
        sweeper = Sweeper(self.desk)
        scheduler = Scheduler(lambda: self._sweep(sweeper), self.config.reminders.sweep_interval)
        scheduler.start()
        log.info("complaintsd started: %s, register %s", self.mailbox.describe(), self.register.describe())
        self.notify("READY=1")
        try:
            self._mailbox_loop()
        finally:
            self.stop.set()
            self.notify("STOPPING=1")
            scheduler.stop()
            self.sender.stop(timeout=self.config.smtp.timeout.total_seconds() + 5)
            self.mailbox.close()
            self.register.dispose()
            log.info("complaintsd stopped")

    def _sweep(self, sweeper: Sweeper) -> None:
        result = sweeper.sweep()
        if result.queued:
            log.info(
                "sweep queued %d reminder(s), %d escalation(s), %d digest(s)",
                result.reminders,
                result.escalations,
                result.digests,
            )
            self.sender.wake()

    @property
    def sender(self) -> SenderProcess:
        assert self._sender is not None, "the sender process starts with run()"
        return self._sender

    def request_stop(self, *_args) -> None:
        self.stop.set()

    # ------------------------------------------------------------------ mailbox side

    def _mailbox_loop(self) -> None:
        backoff, connected, outage = Backoff(), False, False
        while not self.stop.is_set():
            try:
                if not connected:
                    self.mailbox.connect()
                    connected, outage = True, False
                    backoff.reset()
                    log.info(
                        "mailbox connected: %s (idle: %s)",
                        self.mailbox.describe(),
                        getattr(self.mailbox, "can_idle", False),
                    )
                if not self._drain():
                    self.mailbox.wait(self.stop)
            except TransientError as exc:
                if not outage:
                    log.warning("mailbox or register unavailable, will retry: %s", _one_line(exc))
                outage = True
                self.mailbox.close()
                connected = False
                self.stop.wait(backoff.next())

    def _drain(self) -> bool:
        """Process batches until the folder is empty or a stop is asked; True if stopped early."""
        self._follow_up()  # any left unhandled by a crash
        while not self.stop.is_set():
            batch = self.mailbox.fetch(self.config.mailbox.batch_size)
            if not batch:
                return False
            result = self.ingestor.ingest(batch)
            self.sender.wake()
            self._move(result)
            if self._follow_up():
                self.sender.wake()
        return True

    def _follow_up(self) -> int:
        handled = self.followups.handle_pending()
        if handled:
            log.info("handled %d follow-up mail(s)", handled)
        return handled

    def _move(self, result: BatchResult) -> None:
        cfg = self.config.mailbox
        self.mailbox.move(result.processed, cfg.processed_folder)
        self.mailbox.move(result.quarantined, cfg.quarantine_folder)
        for reference in result.references:
            log.info("registered %s", reference)
        if result.quarantined:
            log.warning("%d message(s) moved to %s", len(result.quarantined), cfg.quarantine_folder)


# --------------------------------------------------------------------------- sender side


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
    never leaves a letter sent but unrecorded; the lock keeps the next sender waiting meanwhile.
    """
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the parent, which stops us
    _die_with_parent()
    setup_logging(log_level <= logging.DEBUG)
    with _sender_lock(config.storage.path):
        register = Register(config.database.url, create=False)
        outbox = Outbox(register, SmtpSender(config.smtp), config.outbox, utc_now)
        backoff = Backoff()
        while not stopping.is_set():
            try:
                while outbox.flush(stopping.is_set) and not stopping.is_set():
                    pass
                backoff.reset()
                delay = outbox.seconds_until_due(OUTBOX_CEILING)
            except TransientError as exc:
                log.warning("register unavailable to the sender, will retry: %s", _one_line(exc))
                delay = backoff.next()
            if not _wait(waker, delay, stopping):
                break
        register.dispose()


@contextmanager
def _active_lock(folder: Path, stop: threading.Event) -> Iterator[None]:
    """One active daemon per register on this host: a second one started by mistake stands by
    (and takes over within a second when the first one stops or dies)."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".complaintsd.lock", "a+b") as handle:
        waiting = False
        while not stop.is_set():
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not waiting:
                    log.warning("another complaintsd is active on this register; standing by")
                waiting = True
                stop.wait(1.0)
        yield


@contextmanager
def _sender_lock(folder: Path) -> Iterator[None]:
    """One sender per register on this host: a new daemon's sender waits for an old one to finish."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".sender.lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


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


def _one_line(exc: BaseException) -> str:
    return (str(exc) or exc.__class__.__name__).splitlines()[0][:300]
