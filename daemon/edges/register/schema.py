"""The register's schema version: which Alembic revision a database is at, and moving it to the head.

Theory of operation
-------------------
A register is at one of four states, and each has one way forward:

* **at head** — usable; the only state in which `Register(url)` opens it.
* **behind** — an `alembic_version` row older than the head: `complaintsd migrate` upgrades it
  (after copying a SQLite file); the daemon refuses to start, so no code writes columns a register
  does not have.
* **before migrations** — the tables of release 0.1.0 (made by `create_all`) and no `alembic_version`:
  that is the baseline revision exactly, so `migrate` stamps it so and upgrades from there.
* **empty** — no tables: `migrate` creates it by running every revision from the first, the path a
  register in use has taken. `create_fresh` (tests, the demo) takes the short way for the same
  result: the models' tables at once (`create_all`) and the head stamped. tests/test_migrations.py
  proves the two give the same schema, so the short way cannot drift from the revisions.

The revisions live in `migrations/versions/`; `migrations/env.py` runs them on the connection given
here, inside one transaction (PostgreSQL's DDL is transactional; SQLite's mostly is, and `migrate`
copies the file first anyway).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

from daemon.edges.register import models  # noqa: F401  (the tables, registered on SQLModel.metadata)

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).with_name("migrations")
# Opening a register only reads its stamp: Alembic (with Mako and Pygments, a sixth of the daemon's
# start) is imported by `migrate` and `create_fresh` alone. The head is the highest `vNNNN_` file
# name (docs/architecture.md); tests/test_migrations.py checks that Alembic finds the same one.
_REVISION_FILE = re.compile(r"v(\d{4})_\w+\.py")
# The revision that equals release 0.1.0's tables (migrations/versions/v0001_baseline.py).
BASELINE = "0001"
# A table every register has had since the first release: its presence means "not empty".
_SENTINEL = "complaint"
# Alembic says "Context impl SQLiteImpl…" at INFO each time a version is read, i.e. whenever a
# register opens; `migrate` prints its own one-line summary instead.
logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)


@dataclass(frozen=True)
class SchemaState:
    """Where a database stands against the revisions this code carries."""

    current: str | None  # the stamped revision; None when there is no alembic_version row
    head: str
    has_tables: bool

    @property
    def at_head(self) -> bool:
        return self.current == self.head

    @property
    def empty(self) -> bool:
        return self.current is None and not self.has_tables

    @property
    def before_migrations(self) -> bool:
        return self.current is None and self.has_tables

    def describe(self) -> str:
        """One line for `check` and for the refusal to start."""
        if self.at_head:
            return f"schema at the latest revision ({self.head})"
        if self.empty:
            return f"empty: no register yet (latest revision {self.head})"
        if self.before_migrations:
            return f"schema of release 0.1.0, before migrations (latest revision {self.head})"
        if self.current in _revisions():
            return f"schema at revision {self.current}, older than the latest ({self.head})"
        return f"schema at revision {self.current}, unknown to this complaintsd (latest {self.head}): a newer release?"

    @property
    def upgradable(self) -> bool:
        """Whether `migrate` can bring it to the head (a revision from a newer release cannot)."""
        return self.current is None or self.current in _revisions()


def alembic_config(connection: Connection | None = None) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


@cache
def _script() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


@cache
def _revisions() -> frozenset[str]:
    return frozenset(revision.revision for revision in _script().walk_revisions())


@cache
def head() -> str:
    numbers = [m[1] for f in (MIGRATIONS / "versions").iterdir() if (m := _REVISION_FILE.fullmatch(f.name))]
    assert numbers, "migrations/versions holds no revision"
    return max(numbers)


def state(engine: Engine) -> SchemaState:
    with engine.connect() as connection:
        return _state(connection)


def _state(connection: Connection) -> SchemaState:
    found = inspect(connection)
    current = None
    if found.has_table("alembic_version"):
        stamps = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        current = ",".join(sorted(stamps)) or None
    return SchemaState(current, head(), found.has_table(_SENTINEL))


def upgrade(engine: Engine) -> tuple[SchemaState, SchemaState]:
    """Bring the database to the head, creating it when empty; returns (before, after)."""
    from alembic import command

    with engine.begin() as connection:
        before = _state(connection)
        config = alembic_config(connection)
        if before.before_migrations:
            command.stamp(config, BASELINE)
        command.upgrade(config, "head")
    return before, state(engine)


def create_fresh(engine: Engine) -> None:
    """An empty database gets the head's tables at once and is stamped there; anything else is left alone."""
    from alembic import command

    with engine.begin() as connection:
        if not _state(connection).empty:
            return
        SQLModel.metadata.create_all(connection)
        command.stamp(alembic_config(connection), "head")
