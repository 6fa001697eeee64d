"""The register edge says whose fault a database error is: an outage waits, a refused statement does not.

A mail naming 250,000 Message-IDs once made SQLite answer "too many SQL variables", which was taken
for an outage: the batch was retried forever and no later mail was acknowledged (issue 14).
"""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import insert, select
from sqlmodel import col, create_engine

from daemon.edges.register import Register
from daemon.edges.register.models import Complaint, ReferenceCounter
from daemon.errors import StatementRefused, TransientError


def test_a_statement_too_big_is_refused_not_an_outage(tmp_path) -> None:
    register = Register(f"sqlite:///{tmp_path}/register.db", create=True)
    too_many = list(range(300_000))  # over SQLite's limit (32,766; 250,000 in Debian's build)
    with pytest.raises(StatementRefused, match="too many SQL variables"), register.session() as session:
        session.execute(select(col(Complaint.id)).where(col(Complaint.id).in_(too_many))).all()
    with register.session() as session:  # the register itself is fine
        assert session.execute(select(col(Complaint.id))).all() == []


def test_a_locked_register_is_an_outage(tmp_path) -> None:
    path = tmp_path / "register.db"
    register = Register(f"sqlite:///{path}", create=True)
    register.engine.dispose()
    locker = sqlite3.connect(path, timeout=0)
    locker.execute("BEGIN EXCLUSIVE")
    quick = Register.__new__(Register)  # the same edge with a short busy timeout, so the test is fast
    quick.url, quick.engine = register.url, create_engine(f"sqlite:///{path}", connect_args={"timeout": 0.1})
    try:
        with pytest.raises(TransientError, match="locked"), quick.session() as session:
            session.execute(insert(ReferenceCounter.__table__), [{"prefix": "REC", "year": 2026, "last": 1}])
    finally:
        locker.rollback()
        locker.close()
