"""The daemon's side of its sender process (runners/sender.py): started, handed its configuration,
woken after each committed batch, stopped.

The child is started before it has anything to do, so that its imports run beside the daemon's own
(cli.py starts it first thing for `complaintsd run`); it waits for its configuration on its stdin,
which `hand_over` writes once the daemon holds the register. Only the standard library is imported
here, so that starting it costs cli.py nothing else.
"""

from __future__ import annotations

import logging
import os
import pickle
import signal
import subprocess
import sys
import threading
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from daemon.config import Config

log = logging.getLogger("complaintsd")


class SenderProcess:
    """`python -m daemon.runners.sender`, importing, then waiting for `hand_over` (or `dismiss`).

    Start it from the main thread: the kernel's parent-death signal follows the thread that made it.
    SIGINT is blocked while it is started, so that the child inherits it blocked: a Ctrl-C in the
    terminal reaches the daemon, which stops the sender, and never interrupts the child's imports
    with a traceback (it ignores SIGINT once they are done)."""

    def __init__(self) -> None:
        receiver, self._waker = os.pipe()
        os.set_blocking(self._waker, False)  # a full pipe already holds a wake-up
        self._lock = threading.Lock()  # woken from the mailbox loop and from the scheduler
        self._closed = False
        self.adopted = False
        self._dismissed = False
        command = [sys.executable, "-m", "daemon.runners.sender", str(receiver), str(os.getpid())]
        unblocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            self.process = subprocess.Popen(command, stdin=subprocess.PIPE, pass_fds=(receiver,))
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, unblocked)  # a Ctrl-C meanwhile arrives now
            os.close(receiver)

    def hand_over(self, config: Config, log_level: int) -> None:
        """Give the child its work: from now on it sends, and it is stopped by `stop`."""
        self.adopted = True
        stdin = self.process.stdin
        assert stdin is not None
        threading.Thread(target=_write, args=(stdin, pickle.dumps((config, log_level))), name="sender-config").start()

    def dismiss(self) -> None:
        """End a child never handed its configuration (it holds no lease, no connection, no letter):
        killed and reaped, so that it neither outlives the command nor prints anything."""
        if self.adopted or self._dismissed:
            return
        self._dismissed = True
        self.process.kill()
        self.process.wait()
        if self.process.stdin is not None:
            self.process.stdin.close()
        self._close_waker()

    def wake(self) -> None:
        try:
            with self._lock:
                if not self._closed:
                    os.write(self._waker, b".")
        except BlockingIOError:
            pass
        except OSError:
            log.error("the sender process is gone (exit %s)", self.process.poll())

    def wait(self) -> int:
        """Block until the child ends; its exit status."""
        return self.process.wait()

    def stop(self, timeout: float) -> None:
        self._close_waker()  # the child sees end-of-file: finish the letter in hand, then exit
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def _close_waker(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                os.close(self._waker)


def _write(stdin: IO[bytes], config: bytes) -> None:
    """Write the pickled configuration to the child's stdin (from a thread: it reads it after its imports)."""
    try:
        stdin.write(config)
        stdin.close()
    except OSError:
        pass  # the child is gone: the service hears of it from its exit
