"""What systemd and `complaintsd status` see of the running daemon: STATUS= lines saying what it
does, WATCHDOG=1, and a small record (edges/status_file.py) of when the mailbox last answered.

WATCHDOG=1 is sent from the mailbox loop itself (between batches, while it waits for mail, while it
waits to retry a server), never from a timer thread: a loop stuck in a call stops feeding the
watchdog, and systemd restarts the service after WatchdogSec=.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

RECORD_EVERY = 30.0  # seconds: how stale "mailbox last answered" may get in the status record


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Heartbeat:
    def __init__(
        self,
        notify: Callable[[str], None],
        period: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        record: Callable[[dict[str, Any]], None] | None = None,
        now: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.notify, self.period, self.clock = notify, period, clock
        self.record, self.now = record, now
        self._last_beat: float | None = None
        self._last_record = float("-inf")
        self._status = ""
        self._started = now()
        self._connected_since: datetime | None = None
        self._reached: datetime | None = None

    def beat(self) -> None:
        """The loop turned: feed the watchdog, at most once a period (a datagram each 0.2 s is waste)."""
        if self.period is None:
            return
        at = self.clock()
        if self._last_beat is None or at - self._last_beat >= self.period:
            self.notify("WATCHDOG=1")
            self._last_beat = at

    def status(self, text: str) -> None:
        """Say what the daemon does now (`systemctl status` shows it); repeated words are not resent."""
        if text != self._status:
            self._status = text
            self.notify(f"STATUS={text}")
            self._write()
        self.beat()

    def connected(self) -> None:
        self._connected_since = self.now()
        self.reached()

    def disconnected(self) -> None:
        self._connected_since = None
        self._write()

    def reached(self) -> None:
        """The mailbox answered just now."""
        self._reached = self.now()
        if self.clock() - self._last_record >= RECORD_EVERY:
            self._write()

    @property
    def current(self) -> str:
        return self._status

    def _write(self) -> None:
        if self.record is None:
            return
        self._last_record = self.clock()
        self.record(
            {
                "pid": os.getpid(),
                "started_at": self._started.isoformat(),
                "status": self._status,
                "mailbox_connected_since": _iso(self._connected_since),
                "mailbox_reached_at": _iso(self._reached),
                "updated_at": self.now().isoformat(),
            }
        )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
