"""A row whose large column is written into SQLite piece by piece, not bound whole to its INSERT,
and read back without SQLite's own copy.

A bound blob is copied by SQLite, then copied again into the record it builds: a 40 MB raw message
took the ingest process 77 MB above what it held (issue 10). On SQLite the row is inserted with a
`zeroblob` of the right length and the bytes are written through incremental blob I/O
(`Connection.blobopen`) from a view of the caller's bytes, a megabyte at a time, in the same
transaction. PostgreSQL and small values keep the plain insert. Read by a SELECT, a large value is
assembled by SQLite in a buffer of its own that the driver then copies; `read_blob` reads it straight
into the one bytes object returned, and `blob_digest` hashes it a megabyte at a time.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Table, func, insert, select
from sqlmodel import Session

WRITE_FROM = 1024 * 1024  # bytes: below this, binding the value costs less than a second step
PIECE = 1024 * 1024


def insert_with_blob(session: Session, table: Table, row: dict[str, Any], column: str, content: bytes) -> None:
    """Insert `row` with `content` in `column`, without a whole copy of `content` on SQLite."""
    driver = session.connection().connection.driver_connection
    if len(content) < WRITE_FROM or not isinstance(driver, sqlite3.Connection):
        session.execute(insert(table), [row | {column: content}])
        return
    placeholder = {column: func.zeroblob(len(content))}
    rowid = session.execute(insert(table).values(**row, **placeholder).returning(table.c.id)).scalar_one()
    view = memoryview(content)
    with driver.blobopen(table.name, column, rowid) as blob:
        for start in range(0, len(content), PIECE):
            blob.write(view[start : start + PIECE])


def read_blob(session: Session, table: Table, column: str, rowid: int) -> bytes:
    """The value of `column` in row `rowid` (whose primary key is `id`)."""
    driver = session.connection().connection.driver_connection
    if not isinstance(driver, sqlite3.Connection):
        value: bytes = session.execute(select(table.c[column]).where(table.c.id == rowid)).scalar_one()
        return value
    with driver.blobopen(table.name, column, rowid, readonly=True) as blob:
        return blob.read()


def blob_pieces(session: Session, table: Table, column: str, rowid: int) -> Iterator[bytes]:
    """The value of `column` in row `rowid`, a megabyte at a time on SQLite (whole elsewhere)."""
    driver = session.connection().connection.driver_connection
    if not isinstance(driver, sqlite3.Connection):
        yield read_blob(session, table, column, rowid)
        return
    with driver.blobopen(table.name, column, rowid, readonly=True) as blob:
        while piece := blob.read(PIECE):
            yield piece


def blob_digest(session: Session, table: Table, column: str, rowid: int) -> str:
    digest = hashlib.sha256()
    for piece in blob_pieces(session, table, column, rowid):
        digest.update(piece)
    return digest.hexdigest()
