"""`complaintsd purge`: the retention rule applied (core/retention.py), one complaint per transaction,
its files deleted once the register no longer lists them (after the commit: a crash in between
leaves a file nobody lists, never a listed file gone)."""

from __future__ import annotations

import logging

from daemon.core.retention import Closed, cutoff, decide_purge
from daemon.edges.register.integrity import closed_before, files_in_use
from daemon.edges.register.writes import purge_personal_data
from daemon.runners.desk import Desk

log = logging.getLogger("complaintsd.retention")


def due_for_purge(desk: Desk, years: int) -> list[Closed]:
    with desk.register.session() as session:
        return closed_before(session, cutoff(desk.clock(), years))


def purge(desk: Desk, years: int) -> list[Closed]:
    """Purge every complaint closed more than `years` years ago; the ones purged."""
    done = []
    for closed in due_for_purge(desk, years):
        now = desk.clock()
        with desk.register.transaction() as session:
            files = purge_personal_data(session, closed.complaint_id)
            desk.apply(session, decide_purge(closed, years, now), now)
        with desk.register.session() as session:
            gone = set(files) - files_in_use(session, files)
        for sha256 in gone:
            desk.store.forget(sha256)
        log.info(
            "purged %s (closed %s): %d file(s) deleted", closed.reference, f"{closed.closed_at:%Y-%m-%d}", len(gone)
        )
        done.append(closed)
    return done
