"""The running daemon: wires the runners together and owns their lifetime.

The mailbox loop (runners/mailbox_loop.py) runs in this process, the outbox sender
(runners/sender.py) in a child process, and APScheduler (edges/scheduler.py) triggers the sweep.
One daemon is active per register on a host; a second one started by mistake stands by. A stop
request (SIGTERM/SIGINT) is honoured between batches; a lost connection (IMAP, SMTP or database)
is logged and retried with backoff, and never ends the daemon. systemd hears READY=1, STATUS= lines
and, when the unit sets WatchdogSec=, WATCHDOG=1 from the mailbox loop (runners/heartbeat.py).
"""

from __future__ import annotations

import fcntl
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import partial
from pathlib import Path

from daemon.config import Config
from daemon.edges.mailbox import Mailbox, open_mailbox
from daemon.edges.register import Register
from daemon.edges.scheduler import Scheduler
from daemon.edges.status_file import status_path, write_status
from daemon.runners.desk import Desk, utc_now
from daemon.runners.followups import FollowUps
from daemon.runners.heartbeat import Heartbeat
from daemon.runners.ingest import Ingestor
from daemon.runners.mailbox_loop import MailboxLoop
from daemon.runners.sender import SenderProcess
from daemon.runners.sweep import Sweeper

log = logging.getLogger("complaintsd")


class Daemon:
    def __init__(
        self,
        config: Config,
        clock: Callable[[], datetime] = utc_now,
        notify: Callable[[str], None] | None = None,
        watchdog_period: float | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.notify = notify or (lambda status: None)
        record = partial(write_status, status_path(config.storage.path))
        self.heartbeat = Heartbeat(self.notify, watchdog_period, record=record)
        self.stop = threading.Event()
        self.register = Register(config.database.url)
        self.desk = Desk.of(config, self.register, clock)
        self.ingestor = Ingestor(self.desk)
        self.followups = FollowUps(self.desk)
        self.mailbox: Mailbox = open_mailbox(config.mailbox)
        self._sender: SenderProcess | None = None

    def run(self) -> None:
        with _active_lock(self.config.storage.path, self.stop, self.heartbeat):
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
            MailboxLoop(
                self.mailbox,
                self.config.mailbox,
                self.ingestor,
                self.followups,
                self.sender.wake,
                self.stop,
                self.heartbeat,
            ).run()
        finally:
            self.stop.set()
            self.notify("STOPPING=1")
            self.heartbeat.status("stopping: finishing the letter in hand")
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


@contextmanager
def _active_lock(folder: Path, stop: threading.Event, heartbeat: Heartbeat) -> Iterator[None]:
    """One active daemon per register on this host: a second one started by mistake stands by
    (and takes over within a second when the first one stops or dies), alive for the watchdog."""
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
                    heartbeat.status("standing by: another complaintsd is active on this register")
                waiting = True
                heartbeat.beat()
                stop.wait(1.0)
        yield
