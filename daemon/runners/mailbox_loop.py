"""The mailbox loop: fetch a batch, ingest it (the register commits), only then move the messages,
act on the follow-ups, wake the sender; wait for new mail; reconnect with backoff after an outage.

A stop request is honoured between batches, so the message in hand is always finished. The loop is
what systemd watches (runners/heartbeat.py): it says what it does in STATUS= lines and feeds the
watchdog each time it turns, waiting included. An outage is logged at each retry with its delay
while the backoff grows, then every RETRY_LOG_EVERY attempts, so a day-long outage writes a line
every ten minutes, not one a second, and never looks like silence.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from daemon.config import MailboxConfig
from daemon.edges.mailbox import Mailbox, pause
from daemon.errors import LoginRefused, OutageTooLong, RegisterLocked, TransientError
from daemon.runners.backoff import Backoff, one_line
from daemon.runners.followups import FollowUps
from daemon.runners.health import LoginWatch
from daemon.runners.heartbeat import Heartbeat
from daemon.runners.ingest import BatchResult, Ingestor

log = logging.getLogger("complaintsd")

# The first batch of a drain is small, and each next one twice the last up to [mailbox] batch_size:
# the sender starts on the first letters while the rest of a full inbox is read (issue 10).
FIRST_BATCH = 25
RETRY_LOG_FIRST = 8  # every retry is logged while the delay grows (1 s … 60 s: about three minutes)
RETRY_LOG_EVERY = 10  # then one line every ten attempts (ten minutes at the 60 s ceiling)
# A register locked by another program is tried this many times in a row (each waits out SQLite's
# 60 s busy timeout: about three minutes), then the daemon stops with the reason (issue 14, item 9).
LOCKED_ATTEMPTS = 3


class MailboxLoop:
    def __init__(
        self,
        mailbox: Mailbox,
        config: MailboxConfig,
        ingestor: Ingestor,
        followups: FollowUps,
        wake_sender: Callable[[], None],
        stop: threading.Event,
        heartbeat: Heartbeat | None = None,
        backoff: Backoff | None = None,
        login: LoginWatch | None = None,
    ) -> None:
        self.mailbox, self.config, self.stop = mailbox, config, stop
        self.ingestor, self.followups, self.wake_sender = ingestor, followups, wake_sender
        self.heartbeat = heartbeat or Heartbeat(lambda state: None)
        self.backoff = backoff or Backoff()
        self.login = login
        self.registered = self.quarantined = 0

    def run(self) -> None:
        """Work the mailbox until asked to stop. Raises OutageTooLong when the register stays locked."""
        connected, attempts, locked, down_since = False, 0, 0, 0.0
        while not self.stop.is_set():
            try:
                if not connected:
                    self.heartbeat.status(f"connecting to {self.mailbox.describe()}")
                    self.mailbox.connect()
                    connected = True
                    if self.login:
                        self.login.accepted()
                    self.heartbeat.connected()
                    self._connected(attempts, down_since)
                    attempts = 0
                    self.backoff.reset()
                stopped = self._drain()
                locked = 0  # the register took a whole drain
                if not stopped:
                    self.heartbeat.status(self._waiting())
                    self.mailbox.wait(self.stop, self.heartbeat.beat)
                    self.heartbeat.reached()
            except TransientError as exc:
                if self.login and isinstance(exc, LoginRefused):
                    self.login.refused(one_line(exc))
                attempts += 1
                down_since = down_since if attempts > 1 else time.monotonic()
                locked = locked + 1 if isinstance(exc, RegisterLocked) else 0
                if locked >= LOCKED_ATTEMPTS:
                    raise OutageTooLong(
                        f"the register stayed locked through {locked} attempts "
                        f"({time.monotonic() - down_since:.0f} s): {one_line(exc)}; stopping"
                    ) from None
                self.mailbox.close()
                connected = False
                self.heartbeat.disconnected()
                self._retry_later(attempts, exc)

    def _connected(self, attempts: int, down_since: float) -> None:
        can_idle = getattr(self.mailbox, "can_idle", False)
        if attempts:
            log.info(
                "mailbox connected again after %d failed attempt(s), %.0f s down: %s",
                attempts,
                time.monotonic() - down_since,
                self.mailbox.describe(),
            )
        else:
            log.info("mailbox connected: %s (idle: %s)", self.mailbox.describe(), can_idle)

    def _retry_later(self, attempts: int, exc: TransientError) -> None:
        """Wait before the next attempt, saying so in the log (at a sane rate) and in STATUS=."""
        delay = self.backoff.next()
        reason = one_line(exc)
        if attempts <= RETRY_LOG_FIRST or attempts % RETRY_LOG_EVERY == 0:
            log.warning("mailbox or register unavailable (attempt %d), retrying in %g s: %s", attempts, delay, reason)
        self.heartbeat.status(
            f"mailbox or register unavailable (attempt {attempts}), retrying in {delay:g} s: {reason}"
        )
        pause(self.stop, delay, self.heartbeat.beat)

    def _waiting(self) -> str:
        seconds = self.config.poll_interval.total_seconds()
        how = "IDLE" if getattr(self.mailbox, "can_idle", False) else f"polled every {seconds:g} s"
        return (
            f"waiting for mail on {self.mailbox.describe()} ({how}); since start: "
            f"{self.registered} registered, {self.quarantined} quarantined"
        )

    def _drain(self) -> bool:
        """Process batches until the folder is empty or a stop is asked; True if stopped early."""
        self._follow_up()  # any left unhandled by a crash
        limit = min(FIRST_BATCH, self.config.batch_size)
        while not self.stop.is_set():
            batch = self.mailbox.fetch(limit)
            if not batch:
                return False
            limit = min(2 * limit, self.config.batch_size)
            self.heartbeat.reached()
            self.heartbeat.status(f"registering {len(batch)} message(s) from {self.mailbox.describe()}")
            result = self.ingestor.ingest(batch)
            del batch  # its raw bytes are in the register: not held through the next fetch (issue 10)
            self.wake_sender()
            self._move(result)
            if self._follow_up():
                self.wake_sender()
            self.heartbeat.beat()
        return True

    def _follow_up(self) -> int:
        handled = self.followups.handle_pending()
        if handled:
            log.info("handled %d follow-up mail(s)", handled)
        return handled

    def _move(self, result: BatchResult) -> None:
        cfg = self.config
        self.mailbox.move(result.processed, cfg.processed_folder)
        self.mailbox.move(result.quarantined, cfg.quarantine_folder)
        self.registered += len(result.references)
        self.quarantined += len(result.quarantined)
        for reference in result.references:
            log.info("registered %s", reference)
        if result.quarantined:
            log.warning("%d message(s) moved to %s", len(result.quarantined), cfg.quarantine_folder)
