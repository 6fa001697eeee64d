"""One daemon works a register at a time; another stands by, names the holder, and takes over.

On SQLite (the default pass) the lease is an flock beside the attachments; in `make test-postgres`
it is an advisory lock on a connection of its own, which the server ends when the holder dies or
is cut off (edges/register/lease.py). The takeover by real daemon processes, killed mid-batch, is
tests/test_failover.py.
"""

from __future__ import annotations

import contextlib
import threading
import time

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from daemon.edges.register import Register
from daemon.edges.register.lease import GRACE, PING, POLL, LeaseLost, lease_for, whoami
from daemon.runners.standby import Standby
from tests.cut import CuttableLink
from tests.postgres import on_postgres, register_url


def _lease(tmp_path, role="daemon"):
    url = register_url(tmp_path)
    Register(url, create=True).dispose()
    return lease_for(url, tmp_path / "attachments", role)


def test_a_second_daemon_sees_who_holds_the_register_and_takes_it_when_freed(tmp_path):
    first, second = _lease(tmp_path), _lease(tmp_path)
    assert first.try_take() is None
    assert second.try_take() == whoami()  # both in this process: "pid …@host"
    assert second.try_take() == whoami(), "trying again changes nothing"
    first.release()
    assert second.try_take() is None
    second.release()


def test_the_daemon_and_the_sender_have_leases_of_their_own(tmp_path):
    daemon, sender, other_sender = _lease(tmp_path), _lease(tmp_path, "sender"), _lease(tmp_path, "sender")
    assert daemon.try_take() is None
    assert sender.try_take() is None, "the daemon's lease does not hold its sender back"
    assert other_sender.try_take() is not None, "but a second sender waits"
    for lease in (daemon, sender, other_sender):
        lease.release()


def test_a_standby_says_so_once_then_takes_over_when_the_holder_stops(tmp_path, caplog):
    holder = _lease(tmp_path)
    assert holder.try_take() is None
    stop = threading.Event()
    states: list[str] = []
    standby = Standby(_lease(tmp_path), stop, "daemon", states.append)
    taken: list[float] = []
    waiting = threading.Thread(target=lambda: taken.append(standby.take() and time.monotonic()))
    with caplog.at_level("INFO", logger="complaintsd"):
        waiting.start()
        time.sleep(2.5 * POLL)
        assert not taken, "the holder still holds it"
        freed = time.monotonic()
        holder.release()
        waiting.join(timeout=POLL + GRACE + 5)
    assert taken and taken[0], "the standby took over"
    assert taken[0] - freed <= POLL + standby.lease.grace + 0.5
    assert states[0] == f"standing by: another daemon holds the register ({whoami()})"
    lines = [r.getMessage() for r in caplog.records]
    assert lines.count(states[0]) == 1, "one line per change of state, not one per try"
    assert lines[-1] == "active: this daemon holds the register"
    standby.release()


def test_a_standby_asked_to_stop_stops_without_the_register(tmp_path):
    holder = _lease(tmp_path)
    assert holder.try_take() is None
    stop = threading.Event()
    stop.set()
    assert Standby(_lease(tmp_path), stop, "daemon").take() is False
    holder.release()


@pytest.mark.skipif(not on_postgres(), reason="an flock cannot be taken away from a live process")
def test_a_holder_whose_session_is_ended_by_the_server_knows_it_within_a_ping(tmp_path):
    lease = _lease(tmp_path)
    standby = Standby(lease, threading.Event(), "daemon", on_lost=(lost := threading.Event()).set)
    assert standby.take()
    standby.keep()
    time.sleep(PING)
    assert not lost.is_set(), "a held lease is confirmed, not lost"
    engine = create_engine(register_url(tmp_path))
    with engine.connect() as connection:
        ended = connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = :name AND datname = current_database()"
            ),
            {"name": lease.name},  # type: ignore[attr-defined]
        ).all()
    engine.dispose()
    assert ended == [(True,)]
    cut = time.monotonic()
    assert lost.wait(PING + 1.0), "the holder noticed"
    assert time.monotonic() - cut < GRACE, "before a standby that took the freed lease starts working"
    with pytest.raises(LeaseLost):
        lease.confirm()
    assert _lease(tmp_path).try_take() is None, "the server freed the lock"
    standby.release()


@pytest.mark.skipif(not on_postgres(), reason="a host cut off from a PostgreSQL register: make test-postgres")
@pytest.mark.parametrize("worker", [True, False])
def test_a_daemon_cut_off_mid_transaction_frees_the_history_within_seconds(tmp_path, worker):
    """A daemon whose link falls silent while it holds the chain head's row lock (every history write
    takes it) must not block the daemon that takes over: the server ends a worker's session within
    seconds. A CLI's or the web view's session is not a worker's: its silence is only waited for."""
    url = make_url(register_url(tmp_path))
    Register(url.render_as_string(hide_password=False), create=True).dispose()
    link = CuttableLink(url.port)
    far = Register(url.set(port=link.port).render_as_string(hide_password=False), worker=worker)
    near = Register(url.render_as_string(hide_password=False))
    far_end = far.engine.connect()
    try:
        far_end.execute(HEAD_LOCK)  # the row lock, in a transaction this daemon will never finish
        link.cut()
        started = time.monotonic()
        with near.session() as session:
            session.execute(text("SET statement_timeout = 12000"))
            freed = _try(session, HEAD_LOCK)
        waited = time.monotonic() - started
    finally:
        link.close()  # the far end learns its connection is gone
        with contextlib.suppress(SQLAlchemyError):
            far_end.close()
        far.dispose()
        near.dispose()
    if worker:
        assert freed and 4.0 <= waited <= 8.0, f"the chain head was freed after {waited:.1f} s"
    else:
        assert not freed, "only a worker's session is ended by the server"


HEAD_LOCK = text(
    "INSERT INTO chain_head (id, events, last_hash) VALUES (1, 0, '') "
    "ON CONFLICT (id) DO UPDATE SET events = chain_head.events + 1"
)


def _try(session, statement) -> bool:
    try:
        session.execute(statement)
    except SQLAlchemyError:
        return False
    session.commit()
    return True
