"""What systemd sees of the running daemon: STATUS= lines saying what it does, and WATCHDOG=1.

WATCHDOG=1 is sent from the mailbox loop itself (between batches, while it waits for mail, while it
waits to retry a server), never from a timer thread: a loop stuck in a call stops feeding the
watchdog, and systemd restarts the service after WatchdogSec=.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class Heartbeat:
    def __init__(
        self,
        notify: Callable[[str], None],
        period: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.notify, self.period, self.clock = notify, period, clock
        self._last_beat: float | None = None
        self._status = ""

    def beat(self) -> None:
        """The loop turned: feed the watchdog, at most once a period (a datagram each 0.2 s is waste)."""
        if self.period is None:
            return
        now = self.clock()
        if self._last_beat is None or now - self._last_beat >= self.period:
            self.notify("WATCHDOG=1")
            self._last_beat = now

    def status(self, text: str) -> None:
        """Say what the daemon does now (`systemctl status` shows it); repeated words are not resent."""
        if text != self._status:
            self._status = text
            self.notify(f"STATUS={text}")
        self.beat()

    @property
    def current(self) -> str:
        return self._status
