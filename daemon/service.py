"""The running daemon: the mailbox loop in the main thread, the outbox sender in another.

Theory of operation: fetch a batch → `Ingestor.ingest` commits it → only then move the messages →
wake the sender. A stop request (SIGTERM/SIGINT) is honoured between batches, so the message in
hand is always finished. A lost connection (IMAP, SMTP or database) is logged once and retried with
backoff; it never ends the daemon.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.exc import OperationalError

from .config import Config
from .errors import TransientError
from .ingest import BatchResult, Ingestor
from .mailbox import Mailbox, open_mailbox
from .outbox import Outbox
from .register import open_register
from .sender import SmtpSender

log = logging.getLogger("complaintsd")

OUTBOX_CEILING = 5.0  # seconds between outbox sweeps when nothing wakes the sender earlier


def utc_now() -> datetime:
    return datetime.now(UTC)


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
    def __init__(self, config: Config, clock: Callable[[], datetime] = utc_now, notify: Callable[[str], None] | None = None) -> None:
        self.config = config
        self.clock = clock
        self.notify = notify or (lambda status: None)
        self.stop = threading.Event()
        self.wake_sender = threading.Event()
        self.engine = open_register(config.database.url)
        self.ingestor = Ingestor(config, self.engine, clock)
        self.outbox = Outbox(self.engine, SmtpSender(config.smtp), config.outbox, clock)
        self.mailbox: Mailbox = open_mailbox(config.mailbox)

    def run(self) -> None:
        sender = threading.Thread(target=self._sender_loop, name="outbox", daemon=True)
        sender.start()
        log.info("complaintsd started: %s, register %s", self.mailbox.describe(), self.engine.url.render_as_string())
        self.notify("READY=1")
        try:
            self._mailbox_loop()
        finally:
            self.stop.set()
            self.wake_sender.set()
            sender.join(timeout=self.config.smtp.timeout.total_seconds() + 5)
            self.mailbox.close()
            self.engine.dispose()
            log.info("complaintsd stopped")

    def request_stop(self, *_args) -> None:
        self.stop.set()
        self.wake_sender.set()

    # ------------------------------------------------------------------ mailbox side

    def _mailbox_loop(self) -> None:
        backoff, connected, outage = Backoff(), False, False
        while not self.stop.is_set():
            try:
                if not connected:
                    self.mailbox.connect()
                    connected, outage = True, False
                    backoff.reset()
                    log.info("mailbox connected: %s (idle: %s)", self.mailbox.describe(), getattr(self.mailbox, "can_idle", False))
                if not self._drain():
                    self.mailbox.wait(self.stop)
            except (TransientError, OperationalError) as exc:
                if not outage:
                    log.warning("mailbox or register unavailable, will retry: %s", _one_line(exc))
                outage = True
                self.mailbox.close()
                connected = False
                self.stop.wait(backoff.next())

    def _drain(self) -> bool:
        """Process batches until the folder is empty or a stop is asked; True if stopped early."""
        while not self.stop.is_set():
            batch = self.mailbox.fetch(self.config.mailbox.batch_size)
            if not batch:
                return False
            result = self.ingestor.ingest(batch)
            self._move(result)
            self.wake_sender.set()
        return True

    def _move(self, result: BatchResult) -> None:
        cfg = self.config.mailbox
        self.mailbox.move(result.processed, cfg.processed_folder)
        self.mailbox.move(result.quarantined, cfg.quarantine_folder)
        for reference in result.references:
            log.info("registered %s", reference)
        if result.quarantined:
            log.warning("%d message(s) moved to %s", len(result.quarantined), cfg.quarantine_folder)

    # ------------------------------------------------------------------ sender side

    def _sender_loop(self) -> None:
        backoff = Backoff()
        while not self.stop.is_set():
            try:
                while self.outbox.flush() and not self.stop.is_set():
                    pass
                backoff.reset()
                delay = self.outbox.seconds_until_due(OUTBOX_CEILING)
            except OperationalError as exc:
                log.warning("register unavailable to the sender, will retry: %s", _one_line(exc))
                delay = backoff.next()
            self.wake_sender.wait(timeout=delay)
            self.wake_sender.clear()


def _one_line(exc: BaseException) -> str:
    return (str(exc) or exc.__class__.__name__).splitlines()[0][:300]
