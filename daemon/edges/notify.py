"""systemd's notify protocol (READY=1, STATUS=…, WATCHDOG=1, STOPPING=1): a datagram to $NOTIFY_SOCKET.

A few lines of the standard library (docs/notes.md) instead of systemd-python, which needs a compiler.
"""

from __future__ import annotations

import os
import socket

# A manager that does not read its socket (its queue is ten datagrams by default) must not stop the
# daemon: a datagram that cannot leave within this long is dropped, like one to a missing socket.
SEND_TIMEOUT = 1.0


def systemd_notify(state: str) -> None:
    """Tell the service manager `state`; nothing when not run by systemd (no $NOTIFY_SOCKET)."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return
    if address.startswith("@"):
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.settimeout(SEND_TIMEOUT)
        try:
            sock.connect(address)
            sock.sendall(state.encode())
        except OSError:
            pass


def watchdog_period() -> float | None:
    """How often to send WATCHDOG=1, in seconds: half of the unit's WatchdogSec= (sd_watchdog_enabled's
    advice), or None when systemd watches no watchdog for this very process (WATCHDOG_PID names another)."""
    usec, pid = os.environ.get("WATCHDOG_USEC", ""), os.environ.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    if pid and pid != str(os.getpid()):
        return None
    return int(usec) / 2_000_000
