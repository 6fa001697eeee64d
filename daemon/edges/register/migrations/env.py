"""Alembic's environment for the register: run by `schema.upgrade` with the connection it opened.

`schema.py` passes its connection in `config.attributes["connection"]`, so a migration runs on the
register's own engine (SQLite pragmas included) and inside the caller's transaction. A developer
writing a new revision runs Alembic directly (docs/architecture.md, "Schema migrations") with
`-x url=sqlite:///…`; autogenerate then compares against the models' metadata. SQLite cannot alter
a column in place, so revisions run in batch mode (copy and move), which PostgreSQL ignores.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from daemon.edges.register import models  # noqa: F401  (the tables, registered on SQLModel.metadata)


def _migrate(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=SQLModel.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def _run() -> None:
    if context.is_offline_mode():
        raise SystemExit("complaintsd migrations run online only (against a database)")
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        raise SystemExit("give the register's URL: alembic -x url=sqlite:///path/register.db …")
    with create_engine(url).begin() as connection:
        _migrate(connection)


_run()
