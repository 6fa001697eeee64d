"""A stop asked by signal is asked once (daemon/runners/signals.py): the handler cannot run again
inside itself, where it would wait forever for the event's lock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from daemon.runners.signals import stop_on

ROOT = Path(__file__).resolve().parents[1]


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


HELD = """
import os, signal, threading
from daemon.runners.signals import stop_on
stopping = threading.Event()
stop_on((signal.SIGTERM,), stopping.set)
with stopping._cond:  # as Event.wait holds it when the signal comes (its lock is not re-entrant)
    os.kill(os.getpid(), signal.SIGTERM)  # the handler runs here, at the next bytecode
print(stopping.wait(5), flush=True)
"""


def test_a_signal_arriving_while_the_main_thread_waits_on_the_stop_event_stops_it() -> None:
    """`complaintsd run` hung in its own SIGTERM handler when the signal came while its main thread
    was inside `stop.wait` (found stopping the daemon in benchmarks/outbox.py)."""
    result = subprocess.run([sys.executable, "-c", HELD], capture_output=True, text=True, timeout=20, cwd=ROOT)
    assert result.stdout.strip() == "True", result.stderr
