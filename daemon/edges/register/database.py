"""Opening the register, and the one way in: sessions that turn a database outage into TransientError.

SQLite gets WAL and a busy timeout because the ingesting process and the sender process write
concurrently; nothing else assumes SQLite (PostgreSQL by URL).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlmodel import Session, SQLModel, create_engine

from daemon.errors import ConfigError, TransientError

# Failures of the database server or file, not of the statement: worth another try later.
OUTAGES = (OperationalError, InterfaceError)


class Register:
    """The register's engine, and sessions whose outages surface as TransientError."""

    def __init__(self, url: str, create: bool = True) -> None:
        self.url = url
        self.engine = _engine(url)
        if create:
            with self.session():
                try:
                    SQLModel.metadata.create_all(self.engine)
                except SQLAlchemyError as exc:
                    raise TransientError(
                        f"database: cannot open {url}: {exc.__class__.__name__}: {_first_line(exc)}"
                    ) from None

    def describe(self) -> str:
        return self.engine.url.render_as_string()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session for reading or for a transaction the caller commits."""
        try:
            with Session(self.engine) as session:
                yield session
        except OUTAGES as exc:
            raise TransientError(f"database: {_first_line(exc)}") from None

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session committed when the block ends without an error, rolled back otherwise."""
        with self.session() as session:
            yield session
            session.commit()

    def dispose(self) -> None:
        self.engine.dispose()


def _engine(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        target = url.removeprefix("sqlite:///")
        if target and target != ":memory:":
            Path(target).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 60})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    try:
        return create_engine(url, pool_pre_ping=True)
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
