"""Which daemon works the register: one holds its lease, any other stands by (register edge).

Two leases per register, one for the daemon (the mailbox and the sweep) and one for its sender
process (the outbox), so that a new daemon's sender waits for the old sender's letter in hand.

On SQLite the register is a file on one host, and the lease is an flock on a file beside the
attachments, which the kernel releases when the process dies; it never expires while held.

On PostgreSQL, where daemons on two hosts may share the register, the lease is a session advisory
lock (`pg_try_advisory_lock`) held on a connection of its own. The server releases it when that
session ends: at once when the holder dies (its socket closes), after SERVER_DROP seconds of
silence when the holder's host is cut off (keepalives and `tcp_user_timeout`, set on the server's
side of the session) or when it falls silent behind a proxy that keeps its TCP alive
(`idle_session_timeout`: a live holder is never idle that long). The holder confirms its session
every PING seconds and must stop working when it has not confirmed it for STALE seconds (`confirm`
raises LeaseLost); STALE < SERVER_DROP, and a newcomer waits GRACE after taking the lease before
working, which covers a session ended by the server (`pg_terminate_backend`) between two pings of
the old holder. So two daemons never work at once, and a standby polling every POLL seconds takes
over within SERVER_DROP + POLL + GRACE ≈ 6.5 s of a host's cut, POLL + GRACE ≈ 2.5 s of a holder's
death.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
from pathlib import Path
from typing import Protocol

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from daemon.errors import TransientError

POLL = 1.0  # seconds between a standby's tries
PING = 0.5  # seconds between a holder's confirmations
STALE = 2.5  # a holder unconfirmed this long stops (its pings fail within 2 s: tcp_user_timeout below)
SERVER_DROP = 4.0  # the server ends a silent holder's session (and its lock) after about this long
GRACE = 1.5  # a newcomer's wait between taking the lease and working: more than PING and an exit

# pg_try_advisory_lock(int4, int4): a class of our own (b"cmpl"), then the role.
LOCK_CLASS = 0x636D706C
ROLES = {"daemon": 1, "sender": 2}


class LeaseLost(Exception):
    """The holder can no longer prove it holds the lease: it must stop working at once."""


class Lease(Protocol):
    grace: float  # seconds to wait after taking it, before working
    expires: bool  # whether the holder must keep confirming it

    def try_take(self) -> str | None:
        """Take the lease if free (None), else say who holds it ("pid 123@host", or "unknown")."""
        ...

    def confirm(self) -> None:
        """Prove the lease is still held, or raise LeaseLost."""
        ...

    def release(self) -> None: ...


def lease_for(url: str, folder: Path, role: str) -> Lease:
    """The lease of `role` ("daemon" or "sender") on the register at `url`."""
    if make_url(url).get_backend_name() == "postgresql":
        return AdvisoryLease(url, role)
    return FileLease(Path(folder) / (".complaintsd.lock" if role == "daemon" else ".sender.lock"))


def whoami() -> str:
    return f"pid {os.getpid()}@{socket.gethostname()}"


class FileLease:
    """An flock on a file, which holds the holder's name for a standby to read."""

    grace = 0.0
    expires = False

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: int | None = None

    def try_take(self) -> str | None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(handle, 200, 0).decode(errors="replace").strip()
            os.close(handle)
            return holder or "unknown"
        os.ftruncate(handle, 0)
        os.pwrite(handle, whoami().encode(), 0)
        self._handle = handle
        return None

    def confirm(self) -> None:
        pass

    def release(self) -> None:
        if self._handle is not None:
            os.close(self._handle)
            self._handle = None


class AdvisoryLease:
    """A session advisory lock on a connection of its own, named after its holder for the others."""

    grace = GRACE
    expires = True

    def __init__(self, url: str, role: str) -> None:
        self.key = ROLES[role]
        self.name = f"complaintsd {role} {whoami()}"[:63]  # application_name: NAMEDATALEN - 1
        self.engine = create_engine(url, poolclass=NullPool, connect_args=_client_timeouts(self.name))
        self._connection: Connection | None = None

    def try_take(self) -> str | None:
        try:
            connection = self._connection or self._connect()
            taken = connection.execute(text("SELECT pg_try_advisory_lock(:c, :k)"), self._key()).scalar()
            if taken:
                return None
            holder = connection.execute(_HOLDER, self._key()).scalar()
        except SQLAlchemyError as exc:
            self._drop()
            raise TransientError(f"database: cannot try the register's lease: {_first_line(exc)}") from None
        return _holder_of(holder)

    def confirm(self) -> None:
        if self._connection is None:
            raise LeaseLost("the lease's connection is closed")
        try:
            self._connection.execute(text("SELECT 1")).scalar()
        except SQLAlchemyError as exc:
            self._drop()
            raise LeaseLost(f"the lease's connection failed: {_first_line(exc)}") from None

    def release(self) -> None:
        """Unlock at once, so that a standby need not wait for the server to notice the session end."""
        if self._connection is not None:
            with contextlib.suppress(SQLAlchemyError):
                self._connection.execute(text("SELECT pg_advisory_unlock(:c, :k)"), self._key())
        self._drop()
        self.engine.dispose()

    def _key(self) -> dict[str, int]:
        return {"c": LOCK_CLASS, "k": self.key}

    def _connect(self) -> Connection:
        connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        # The server's side of this session: a silent holder's session ends after SERVER_DROP.
        for setting, value in _SERVER_TIMEOUTS.items():
            connection.execute(text(f"SET {setting} = {value}"))
        self._connection = connection
        return connection

    def _drop(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(SQLAlchemyError):
                self._connection.close()
            self._connection = None


def _client_timeouts(name: str) -> dict[str, object]:
    """libpq's side: a dead server or a cut network fails a confirmation within 2 s."""
    return {
        "application_name": name,
        "connect_timeout": 3,
        "keepalives": 1,
        "keepalives_idle": 1,
        "keepalives_interval": 1,
        "keepalives_count": 2,
        "tcp_user_timeout": 2000,
    }


_SERVER_TIMEOUTS = {
    "tcp_keepalives_idle": 2,
    "tcp_keepalives_interval": 1,
    "tcp_keepalives_count": 2,
    "tcp_user_timeout": int(SERVER_DROP * 1000),
    "idle_session_timeout": int(SERVER_DROP * 1000),
}

_HOLDER = text(
    """
    SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
    WHERE l.locktype = 'advisory' AND l.granted AND l.classid = :c AND l.objid = :k AND l.objsubid = 2
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
    """
)


def _holder_of(application_name: str | None) -> str:
    """ "complaintsd daemon pid 12@host" → "pid 12@host"."""
    if not application_name:
        return "unknown"
    return application_name.split(" ", 2)[-1] if application_name.startswith("complaintsd ") else application_name


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    return (str(orig).splitlines() or [exc.__class__.__name__])[0][:300]
