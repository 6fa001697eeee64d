"""The register edge: the only code that speaks SQL (SQLModel; SQLite by default, PostgreSQL by URL).

`database` opens it and turns outages into TransientError; `reads` loads what runners decide on;
`writes` is the one writer of rows (`apply` an `Effects`); `outbox` holds the outgoing mail rows;
`views` reads it for people; `models` are the tables.
"""

from daemon.edges.register.database import Register

__all__ = ["Register"]
