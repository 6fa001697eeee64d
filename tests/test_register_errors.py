"""The register edge says whose fault a database error is: an outage waits, a refused statement does not.

A mail naming 250,000 Message-IDs once made SQLite answer "too many SQL variables", which was taken
for an outage: the batch was retried forever and no later mail was acknowledged (issue 14). A
register locked by another program is an outage that lasts: the daemon stops with the reason.
"""

from __future__ import annotations

import sqlite3
import threading

import pytest
from sqlalchemy import insert, select
from sqlmodel import col, create_engine

from daemon.edges.mailbox import open_mailbox
from daemon.edges.register import Register
from daemon.edges.register.models import Complaint, ReferenceCounter
from daemon.errors import OutageTooLong, RegisterLocked, StatementRefused
from daemon.runners.backoff import Backoff
from daemon.runners.desk import Desk
from daemon.runners.followups import FollowUps
from daemon.runners.ingest import Ingestor
from daemon.runners.mailbox_loop import LOCKED_ATTEMPTS, MailboxLoop
from tests.harness import complaint
from tests.runners import FakeClock, config_of, make_desk


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
        with pytest.raises(RegisterLocked, match="locked"), quick.session() as session:
            session.execute(insert(ReferenceCounter.__table__), [{"prefix": "REC", "year": 2026, "last": 1}])
    finally:
        locker.rollback()
        locker.close()


def test_a_register_locked_by_another_program_stops_the_daemon_with_the_reason(tmp_path, caplog) -> None:
    """Retried like an outage, then `run` ends with OutageTooLong naming the lock (the CLI prints it
    in one line, exit 1, and systemd starts the daemon again later); the mail waits in the inbox."""
    config = config_of(tmp_path)
    desk = make_desk(tmp_path, FakeClock())
    path = tmp_path / "register.db"
    desk.register.engine.dispose()
    desk.register.engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0.1, "check_same_thread": False})
    desk = Desk.of(config, desk.register, desk.clock)
    mailbox = open_mailbox(config.mailbox)
    mailbox.connect()
    (tmp_path / "maildir" / "new" / "1.complaint").write_bytes(complaint(1))
    locker = sqlite3.connect(path, timeout=0)
    locker.execute("BEGIN EXCLUSIVE")
    quick = Backoff(0.01, 0.01)
    loop = MailboxLoop(
        mailbox, config.mailbox, Ingestor(desk), FollowUps(desk), lambda: None, threading.Event(), backoff=quick
    )
    try:
        with pytest.raises(OutageTooLong, match=rf"locked through {LOCKED_ATTEMPTS} attempts .*another program holds"):
            loop.run()
    finally:
        locker.rollback()
        locker.close()
    assert caplog.text.count("mailbox or register unavailable") == LOCKED_ATTEMPTS - 1, "each retry said"
    assert [p.name for p in (tmp_path / "maildir" / "new").iterdir()] == ["1.complaint"], "the mail waits"
