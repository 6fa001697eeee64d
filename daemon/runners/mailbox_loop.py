"""The mailbox loop: fetch a batch, ingest it (the register commits), only then move the messages,
act on the follow-ups, wake the sender; wait for new mail; reconnect with backoff after an outage.

A stop request is honoured between batches, so the message in hand is always finished.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from daemon.config import MailboxConfig
from daemon.edges.mailbox import Mailbox
from daemon.errors import TransientError
from daemon.runners.backoff import Backoff, one_line
from daemon.runners.followups import FollowUps
from daemon.runners.ingest import BatchResult, Ingestor

log = logging.getLogger("complaintsd")


class MailboxLoop:
    def __init__(
        self,
        mailbox: Mailbox,
        config: MailboxConfig,
        ingestor: Ingestor,
        followups: FollowUps,
        wake_sender: Callable[[], None],
        stop: threading.Event,
    ) -> None:
        self.mailbox, self.config, self.stop = mailbox, config, stop
        self.ingestor, self.followups, self.wake_sender = ingestor, followups, wake_sender

    def run(self) -> None:
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
                    log.warning("mailbox or register unavailable, will retry: %s", one_line(exc))
                outage = True
                self.mailbox.close()
                connected = False
                self.stop.wait(backoff.next())

    def _drain(self) -> bool:
        """Process batches until the folder is empty or a stop is asked; True if stopped early."""
        self._follow_up()  # any left unhandled by a crash
        while not self.stop.is_set():
            batch = self.mailbox.fetch(self.config.batch_size)
            if not batch:
                return False
            result = self.ingestor.ingest(batch)
            self.wake_sender()
            self._move(result)
            if self._follow_up():
                self.wake_sender()
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
        for reference in result.references:
            log.info("registered %s", reference)
        if result.quarantined:
            log.warning("%d message(s) moved to %s", len(result.quarantined), cfg.quarantine_folder)


# --------------------------------------------------------------------------- sender side
