"""The register on PostgreSQL in tests: a database per test on the server `.ci/run` starts.

`.ci/run` starts Debian's PostgreSQL (as `postgres`, on a free loopback port, with its own data
directory, stopped at the end) and exports its URL as COMPLAINTSD_TEST_POSTGRES. With
COMPLAINTSD_TEST_REGISTER=postgresql as well, `register_url(tmp_path)` gives each test its own
database there (two desks on one tmp_path share it, as two daemons share a register), so the
register and runner tests run unchanged on PostgreSQL; otherwise a SQLite file in tmp_path.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

SERVER = "COMPLAINTSD_TEST_POSTGRES"
CHOICE = "COMPLAINTSD_TEST_REGISTER"
# tmp_path names repeat from one pytest run to the next; the server's databases outlive a run.
RUN = secrets.token_hex(4)


def server_url() -> str | None:
    return os.environ.get(SERVER) or None


def on_postgres() -> bool:
    return os.environ.get(CHOICE, "").lower() == "postgresql"


def register_url(tmp_path: Path) -> str:
    """The register of the test that owns `tmp_path`: SQLite by default, PostgreSQL when chosen."""
    if not on_postgres():
        return f"sqlite:///{tmp_path / 'register.db'}"
    server = server_url()
    if server is None:
        raise RuntimeError(f"{CHOICE}=postgresql needs {SERVER} (the URL of a server .ci/run starts)")
    name = f"t_{RUN}_" + hashlib.sha256(str(tmp_path).encode()).hexdigest()[:20]
    create_database(server, name)
    return server.rsplit("/", 1)[0] + "/" + name


def create_database(server: str, name: str) -> None:
    """CREATE DATABASE once (a second desk on the same test finds it), as a copy of a register
    migrated once per run: PostgreSQL copies a template faster than Alembic builds a schema."""
    import psycopg  # the postgres extra; only needed when the tests run on PostgreSQL

    from daemon.edges.register import Register

    template = f"t_{RUN}_template"
    dsn = server.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(dsn, autocommit=True) as connection:
        if _exists(connection, name):
            return
        if not _exists(connection, template):
            connection.execute(f'CREATE DATABASE "{template}"')
            Register(server.rsplit("/", 1)[0] + "/" + template, create=True).dispose()
        connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')


def _exists(connection, name: str) -> bool:
    return connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None
