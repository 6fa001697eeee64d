"""A row whose large column is written into SQLite piece by piece, not bound whole to its INSERT.

A bound blob is copied by SQLite, then copied again into the record it builds: a 40 MB raw message
took the ingest process 77 MB above what it held (issue 10). On SQLite the row is inserted with a
`zeroblob` of the right length and the bytes are written through incremental blob I/O
(`Connection.blobopen`) from a view of the caller's bytes, a megabyte at a time, in the same
transaction. PostgreSQL and small values keep the plain insert.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import Table, func, insert
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
