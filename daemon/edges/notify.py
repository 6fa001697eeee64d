"""systemd's notify protocol (READY=1, STATUS=…, STOPPING=1): a datagram to $NOTIFY_SOCKET.

A few lines of the standard library (docs/notes.md) instead of systemd-python, which needs a compiler.
"""

from __future__ import annotations

import os
import socket


def systemd_notify(state: str) -> None:
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return
    if address.startswith("@"):
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(address)
            sock.sendall(state.encode())
        except OSError:
            pass
