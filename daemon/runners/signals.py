"""A stop asked by signal, from a handler that runs once and never waits for a lock.

A Python signal handler runs in the main thread between two bytecodes, so a second signal can run
it again inside the first one's `Event.set`, which then waits forever for the lock it holds. The
sender child gets SIGTERM from the kernel once for each thread of its daemon that dies (each time
it is handed to another thread of the dying process): orphaned by a SIGKILL, it received four and
hung so, holding the outbox's lease, and no other sender could take over. The handler first
ignores the signals, then asks for the stop.

The same lock is held by the main thread itself while it waits on that event (`Event.wait` holds
it on entering and leaving): a SIGTERM arriving then made `complaintsd run` hang in its own
handler (py-spy: `Event.set` under `Event.wait`'s `Condition.__exit__`). So the stop is set from a
thread of its own, which waits for the main thread to let the lock go.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable


def stop_on(signals: tuple[signal.Signals, ...], stop: Callable[[], None]) -> None:
    def handler(_signum, _frame) -> None:
        for each in signals:
            signal.signal(each, signal.SIG_IGN)
        threading.Thread(target=stop, name="stop-on-signal", daemon=True).start()

    for each in signals:
        signal.signal(each, handler)
