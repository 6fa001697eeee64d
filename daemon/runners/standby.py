"""Standing by until this process holds the register's lease, then keeping it (edges/register/lease.py).

One line in the log per change of state ("standing by: …", "active"). A holder that can no longer
confirm its lease must stop working at once, whatever it is doing: it exits with LOST_EXIT, a crash
the register is built to survive (nothing committed is lost, nothing half-done is kept), and
systemd restarts it, as a standby.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

from daemon.edges.register.lease import PING, POLL, STALE, Lease, LeaseLost
from daemon.errors import TransientError
from daemon.runners.backoff import one_line

log = logging.getLogger("complaintsd")

LOST_EXIT = 3  # the exit status of a daemon (or sender) that lost the register's lease


def _exit_at_once() -> None:
    for handler in logging.getLogger().handlers:
        handler.flush()
    os._exit(LOST_EXIT)


class Standby:
    """Wait for the lease (`take`), then confirm it from a thread of its own (`keep`); `what` names
    the holder in the log ("daemon", "sender"); `say` shows the state (STATUS=, the status record);
    `waiting` is called once if the lease is not ours at the first try (the daemon then lets go of
    the sender it started ahead, rather than keep it idle while it stands by)."""

    def __init__(
        self,
        lease: Lease,
        stop: threading.Event,
        what: str,
        say: Callable[[str], None] = lambda state: None,
        on_lost: Callable[[], None] = _exit_at_once,
        waiting: Callable[[], None] = lambda: None,
    ) -> None:
        self.lease, self.stop, self.what, self.say, self.on_lost = lease, stop, what, say, on_lost
        self.waiting = waiting
        self._last_ok = time.monotonic()
        self._released = threading.Event()

    def take(self) -> bool:
        """Block until the lease is ours (True) or a stop is asked (False)."""
        shown = None
        while not self.stop.is_set():
            try:
                holder = self.lease.try_take()
                if holder is None:
                    break
                state = key = f"standing by: another {self.what} holds the register ({holder})"
            except TransientError as exc:
                key = "standing by: cannot reach the register's lease"
                state = f"{key}: {one_line(exc)}"
            if key != shown:  # one line per change of state, not one per try
                log.warning("%s", state)
                if shown is None:
                    self.waiting()
                shown = key
            self.say(state)
            self.stop.wait(POLL)
        else:
            return False
        if self.lease.grace:
            self.say(f"taking over the register in {self.lease.grace:g} s")
            if self.stop.wait(self.lease.grace):
                return False
        self._last_ok = time.monotonic()
        log.info("active: this %s holds the register", self.what)
        return True

    def keep(self) -> None:
        """Confirm the lease every PING seconds from now on; if that fails, or stalls past STALE,
        call `on_lost` (by default: exit at once)."""
        if not self.lease.expires:
            return
        threading.Thread(target=self._confirm_forever, name=f"{self.what}-lease", daemon=True).start()
        threading.Thread(target=self._watch_staleness, name=f"{self.what}-lease-watch", daemon=True).start()

    def release(self) -> None:
        self._released.set()
        self.lease.release()

    def _confirm_forever(self) -> None:
        while not self._released.is_set():
            started = time.monotonic()
            try:
                self.lease.confirm()
            except LeaseLost as exc:
                self._lost(one_line(exc))
                return
            self._last_ok = started
            self._released.wait(max(0.0, PING - (time.monotonic() - started)))

    def _watch_staleness(self) -> None:
        while not self._released.is_set():
            silent = time.monotonic() - self._last_ok
            if silent > STALE:
                self._lost(f"not confirmed for {silent:.1f} s")
                return
            self._released.wait(0.2)

    def _lost(self, why: str) -> None:
        if self._released.is_set():
            return  # a stop, not a loss
        log.error("lost the register's lease, this %s stops at once: %s", self.what, why)
        self.on_lost()
