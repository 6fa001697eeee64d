"""Opening the register, and the one way in: sessions that turn a database outage into TransientError.

SQLite gets WAL and a busy timeout because the ingesting process and the sender process write
concurrently; nothing else assumes SQLite (PostgreSQL by URL).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlmodel import Session, create_engine

from daemon.edges.register import schema
from daemon.errors import ConfigError, RegisterLocked, SchemaError, StatementRefused, TransientError

# Failures of the database server or file, not of the statement: worth another try later.
OUTAGES = (OperationalError, InterfaceError)


class Register:
    """The register's engine, and sessions whose outages surface as TransientError.

    Opening checks the schema: a register that is not at the latest revision is refused with a
    SchemaError saying to run `complaintsd migrate` (schema.py), so that no code writes columns the
    database lacks. `create=True` first makes an empty database at the head (tests, the demo); the
    daemon never does, so a mistyped URL is an error, not a new empty register numbering from 1.
    `worker=True` (the daemon and its sender) gives its PostgreSQL sessions WORKER_SESSION.
    """

    def __init__(self, url: str, create: bool = False, worker: bool = False) -> None:
        self.url = url
        self.engine = _engine(url, WORKER_SESSION if worker else {})
        try:
            if create:
                schema.create_fresh(self.engine)
            found = schema.state(self.engine)
        except SQLAlchemyError as exc:
            raise TransientError(f"database: cannot open {url}: {exc.__class__.__name__}: {_first_line(exc)}") from None
        if not found.at_head:
            raise SchemaError(
                f"database: {self.describe()}: {found.describe()}; run `complaintsd migrate` with the same --config"
            )

    def describe(self) -> str:
        return self.engine.url.render_as_string()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session for reading or for a transaction the caller commits."""
        try:
            with Session(self.engine) as session:
                yield session
        except OUTAGES as exc:
            if _refused_statement(exc):
                raise StatementRefused(f"database refused the statement: {_first_line(exc)}") from None
            if _locked(exc):
                raise RegisterLocked(f"database: {_first_line(exc)} (another program holds its lock)") from None
            raise TransientError(f"database: {_first_line(exc)}") from None

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session committed when the block ends without an error, rolled back otherwise."""
        with self.session() as session:
            yield session
            session.commit()

    def dispose(self) -> None:
        self.engine.dispose()


def migrate(url: str, now: datetime) -> Migration:
    """`complaintsd migrate`: copy a SQLite file that will change, then upgrade to the head."""
    engine = _engine(url)
    try:
        found = schema.state(engine)
        if not found.upgradable:
            raise SchemaError(f"database: {engine.url.render_as_string()}: {found.describe()}")
        copy = None if found.at_head or found.empty else _copy_sqlite(engine, found, now)
        before, after = schema.upgrade(engine)
    except SQLAlchemyError as exc:
        raise TransientError(f"database: cannot migrate {url}: {_first_line(exc)}") from None
    finally:
        engine.dispose()
    return Migration(engine.url.render_as_string(), before, after, copy)


@dataclass(frozen=True)
class Migration:
    """What `migrate` did: the states before and after, and the copy made first (SQLite only)."""

    url: str
    before: schema.SchemaState
    after: schema.SchemaState
    copy: Path | None


def _copy_sqlite(engine: Engine, found: schema.SchemaState, now: datetime) -> Path | None:
    """A consistent copy of the file beside it (SQLite's backup API reads through the WAL)."""
    if engine.url.get_backend_name() != "sqlite" or not engine.url.database or engine.url.database == ":memory:":
        return None
    source = Path(engine.url.database)
    target = source.with_name(f"{source.name}.{found.current or 'v0.1.0'}-{now:%Y%m%dT%H%M%SZ}.bak")
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
    return target


# The server's side of a worker's sessions on PostgreSQL. A daemon whose host is cut off (or who falls
# silent behind a proxy, which keeps answering TCP for it) may hold row locks, such as the history's
# chain head, in a transaction it will never finish: the server ends such a session within seconds,
# so the daemon that takes over is not blocked by it (edges/register/lease.py ends the lease's own).
# Not for the CLI or the web view, whose reads may wait on a slow reader between rows.
WORKER_SESSION = {
    "tcp_keepalives_idle": 2,
    "tcp_keepalives_interval": 1,
    "tcp_keepalives_count": 2,
    "tcp_user_timeout": 4000,
    "idle_in_transaction_session_timeout": 5000,
}


def server_options(settings: dict[str, int]) -> dict[str, str]:
    """libpq's `options`, which sets `settings` on the server's side of each new session."""
    return {"options": " ".join(f"-c {name}={value}" for name, value in settings.items())} if settings else {}


def _engine(url: str, session_settings: dict[str, int] | None = None) -> Engine:
    if url.startswith("sqlite:///"):
        target = url.removeprefix("sqlite:///")
        if target and target != ":memory:":
            Path(target).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 60})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    try:
        return create_engine(url, pool_pre_ping=True, connect_args=server_options(session_settings or {}))
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise ConfigError("database.url", f"cannot use {url!r}: {exc}") from None


def _sqlite_pragmas(connection, _record) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # WAL + NORMAL survives a killed process (not a power cut mid-commit): the crash model we test.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = str(orig.args[0] if getattr(orig, "args", None) else orig) or exc.__class__.__name__
    return text.splitlines()[0][:300]


# What SQLite and PostgreSQL say of a statement too big to run: the statement's fault, not the
# server's ("too many SQL variables" was taken for an outage, and one mail naming 250,000
# Message-IDs stopped every later acknowledgement). Lower case, matched in the error's first line.
_STATEMENT_LIMITS = (
    "too many sql variables",
    "too many terms in compound select",
    "expression tree is too large",
    "string or blob too big",
    "too many columns",
    "statement too complex",
    "stack depth limit exceeded",
    "index row size",
    "number of parameters must be between",
)


def _refused_statement(exc: BaseException) -> bool:
    text = _first_line(exc).lower()
    return any(limit in text for limit in _STATEMENT_LIMITS)


def _locked(exc: BaseException) -> bool:
    """SQLite's "database is locked" once its busy timeout has passed; PostgreSQL's lock_not_available."""
    orig = getattr(exc, "orig", None)
    return "database is locked" in _first_line(exc).lower() or getattr(orig, "sqlstate", None) == "55P03"
