"""A stop asked by signal is asked once (daemon/runners/signals.py): the handler cannot run again
inside itself, where it would wait forever for the event's lock."""

from __future__ import annotations

import os
import signal
import threading

from daemon.runners.signals import stop_on


def test_the_first_signal_asks_the_stop_and_the_next_ones_are_ignored() -> None:
    before = signal.getsignal(signal.SIGTERM)
    stopping = threading.Event()
    calls: list[int] = []
    try:
        stop_on((signal.SIGTERM,), lambda: (calls.append(1), stopping.set()))
        for _ in range(4):  # a sender orphaned by a SIGKILL of its daemon gets one per daemon thread
            os.kill(os.getpid(), signal.SIGTERM)
        assert stopping.wait(5)
        assert calls == [1] and signal.getsignal(signal.SIGTERM) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGTERM, before)
