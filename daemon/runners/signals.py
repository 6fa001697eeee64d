"""A stop asked by signal, from a handler that runs once.

A Python signal handler runs in the main thread between two bytecodes, so a second signal can run
it again inside the first one's `Event.set`, which then waits forever for the lock it holds. The
sender child gets SIGTERM from the kernel once for each thread of its daemon that dies (each time
it is handed to another thread of the dying process): orphaned by a SIGKILL, it received four and
hung so, holding the outbox's lease, and no other sender could take over. The handler first
ignores the signals, then sets the event: a stop is asked once.
"""

from __future__ import annotations

import signal
from collections.abc import Callable


def stop_on(signals: tuple[signal.Signals, ...], stop: Callable[[], None]) -> None:
    def handler(_signum, _frame) -> None:
        for each in signals:
            signal.signal(each, signal.SIG_IGN)
        stop()

    for each in signals:
        signal.signal(each, handler)
