"""The running daemon: wires the runners together and owns their lifetime.

The mailbox loop (runners/mailbox_loop.py) runs in this process, the outbox sender
(runners/sender.py) in a child process, and APScheduler (edges/scheduler.py) triggers the sweep.
One daemon is active per register (runners/standby.py): another one, on this host or another,
stands by and takes over when the first one stops or dies. A stop
request (SIGTERM/SIGINT) is honoured between batches; a lost connection (IMAP, SMTP or database)
is logged and retried with backoff, and never ends the daemon. systemd hears READY=1, STATUS= lines
and, when the unit sets WatchdogSec=, WATCHDOG=1 from the mailbox loop (runners/heartbeat.py).

A config of several registers (`[[registers]]`) runs one mailbox loop per register, each on its own
connection (IDLE waits on one mailbox), the first in this thread and the others in threads of
their own; they share the database, the sender (each letter carries its register's From) and the
scheduler, whose sweep visits every register's desk.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

from daemon.config import Config
from daemon.edges.mailbox import Mailbox, open_mailbox
from daemon.edges.register import Register
from daemon.edges.register.lease import lease_for
from daemon.edges.scheduler import Scheduler
from daemon.edges.status_file import status_path, write_status
from daemon.errors import OutageTooLong
from daemon.runners.desk import desks_of, utc_now
from daemon.runners.followups import FollowUps
from daemon.runners.health import HealthWatch, Logins, LoginWatch, oauth_of
from daemon.runners.heartbeat import Heartbeat
from daemon.runners.ingest import Ingestor
from daemon.runners.integrity import daily_check
from daemon.runners.mailbox_loop import MailboxLoop
from daemon.runners.sender_process import SenderProcess
from daemon.runners.standby import Standby
from daemon.runners.sweep import Sweeper

log = logging.getLogger("complaintsd")


class Daemon:
    def __init__(
        self,
        config: Config,
        clock: Callable[[], datetime] = utc_now,
        notify: Callable[[str], None] | None = None,
        watchdog_period: float | None = None,
        sender: SenderProcess | None = None,
    ) -> None:
        """`sender`: one started ahead (cli.py), adopted once this daemon holds the register."""
        self.config = config
        self.clock = clock
        self.notify = notify or (lambda status: None)
        record = partial(write_status, status_path(config.storage.path))
        self.heartbeat = Heartbeat(self.notify, watchdog_period, record=record)
        self.stop = threading.Event()
        self.register = Register(config.database.url, worker=True)
        self.desks = desks_of(config, self.register, clock)
        self.desk = self.desks[0]
        self.ingestor = Ingestor(self.desk)
        self.followups = FollowUps(self.desk)
        self.logins = tuple(LoginWatch(clock) for _ in config.each)
        self.login = self.logins[0]
        self.mailboxes: tuple[Mailbox, ...] = tuple(open_mailbox(each.mailbox) for each in config.each)
        self.mailbox = self.mailboxes[0]
        self._early = sender
        self._sender: SenderProcess | None = None
        self.failed = False  # the sender process ended on its own: stop, so that systemd restarts both

    def run(self) -> None:
        """Stand by until this daemon holds the register, then work it until asked to stop."""
        lease = lease_for(self.config.database.url, self.config.storage.path, "daemon")
        standby = Standby(lease, self.stop, "daemon", self.heartbeat.status, waiting=self._dismiss_early)
        try:
            if standby.take():
                standby.keep()
                self._run()
        finally:
            standby.release()

    def _dismiss_early(self) -> None:
        if self._early is not None:
            self._early.dismiss()
            self._early = None

    def _run(self) -> None:
        self._sender = self._early or SenderProcess()
        self._early = None
        self._sender.hand_over(self.config, logging.getLogger().level)
        threading.Thread(target=self._watch_sender, name="sender-watch", daemon=True).start()
        sweepers, health = (
            [Sweeper(desk) for desk in self.desks],
            HealthWatch(self.desk, self._logins(), oauth_of(self.config)),
        )
        scheduler = Scheduler(lambda: self._sweep(sweepers, health), self.config.reminders.sweep_interval)
        scheduler.also("integrity check", self._verify, timedelta(days=1), first_after=timedelta(minutes=10))
        scheduler.start()
        log.info("complaintsd started: %s, register %s", self.mailbox.describe(), self.register.describe())
        others = self._other_loops()
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
                login=self.login,
            ).run()
        finally:
            self.stop.set()
            self.notify("STOPPING=1")
            self.heartbeat.status("stopping: finishing the letter in hand")
            for thread in others:
                thread.join()
            scheduler.stop()
            self.sender.stop(timeout=self.config.smtp.timeout.total_seconds() + 5)
            for mailbox in self.mailboxes:
                mailbox.close()
            self.register.dispose()
            log.info("complaintsd stopped")

    def _logins(self) -> LoginWatch | Logins:
        """What the health watch reads of the mailboxes' logins: the one, or every register's."""
        if not self.config.registers:
            return self.login
        return Logins({each.name: login for each, login in zip(self.config.each, self.logins, strict=True)})

    def _other_loops(self) -> list[threading.Thread]:
        """The mailbox loops of the registers after the first (`[[registers]]`), started in threads;
        the first one, in the main thread, feeds systemd's watchdog and writes the daemon's record,
        each other one its own record (`complaintsd status` shows every register's mailbox)."""
        threads = []
        others = zip(self.config.each[1:], self.desks[1:], self.mailboxes[1:], self.logins[1:], strict=True)
        for each, desk, mailbox, login in others:
            record = partial(write_status, status_path(self.config.storage.path, each.name))
            heartbeat = Heartbeat(lambda status: None, record=record)
            loop = MailboxLoop(
                mailbox,
                each.mailbox,
                Ingestor(desk),
                FollowUps(desk),
                self.sender.wake,
                self.stop,
                heartbeat,
                login=login,
            )
            log.info("register %s: %s", each.name, mailbox.describe())
            thread = threading.Thread(target=self._guarded(loop), name=f"mailbox-{each.name}", daemon=True)
            thread.start()
            threads.append(thread)
        return threads

    def _guarded(self, loop: MailboxLoop) -> Callable[[], None]:
        """A register's loop in a thread: a bug ending it stops the daemon (systemd restarts it)
        rather than leave one address unread while the others work."""

        def run() -> None:
            try:
                loop.run()
            except Exception as exc:
                if isinstance(exc, OutageTooLong):  # its reason, in one line
                    log.error("%s: %s", loop.mailbox.describe(), exc)
                else:
                    log.exception("the mailbox loop of %s ended; stopping", loop.mailbox.describe())
                self.failed = True
                self.stop.set()

        return run

    def _verify(self) -> None:
        """The daily `verify` (issue 13): an altered register alerts the admin through the outbox."""
        if not daily_check(self.desk).ok:
            self.sender.wake()

    def _sweep(self, sweepers: list[Sweeper], health: HealthWatch) -> None:
        if health.check():
            self.sender.wake()
        for sweeper in sweepers:
            self._sweep_one(sweeper)

    def _sweep_one(self, sweeper: Sweeper) -> None:
        result = sweeper.sweep()
        if result.queued:
            log.info(
                "sweep queued %d reminder(s), %d escalation(s), %d digest(s)",
                result.reminders,
                result.escalations,
                result.digests,
            )
            self.sender.wake()

    def _watch_sender(self) -> None:
        code = self.sender.wait()
        if not self.stop.is_set():
            log.error("the sender process ended (exit %s); stopping", code)
            self.failed = True
            self.stop.set()

    @property
    def sender(self) -> SenderProcess:
        assert self._sender is not None, "the sender process starts with run()"
        return self._sender

    def request_stop(self, *_args) -> None:
        self.stop.set()
