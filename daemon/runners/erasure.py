"""`complaintsd erase`: one person pseudonymised (core/erasure.py says what goes and why), all their
complaints in one transaction, their files deleted once the register no longer lists them (after
the commit: a crash in between leaves a file nobody lists, never a listed file gone)."""

from __future__ import annotations

import logging
from functools import partial

from daemon.core.erasure import ErasurePlan, decide_erase, mentions, pseudonym, scrub
from daemon.edges.register.erasure import (
    held_about,
    overwrite_deleted,
    stray_messages,
    truncate_log,
    unattached_letters,
)
from daemon.edges.register.integrity import files_in_use
from daemon.edges.register.writes import erase_personal_data, erase_unattached
from daemon.runners.desk import Desk

log = logging.getLogger("complaintsd.erasure")


def erasure_plan(desk: Desk, email: str, key: bytes) -> ErasurePlan:
    """What erasing `email` would change, read in one session."""
    with desk.register.session() as session:
        person, complaints = held_about(session, email)
        strays = stray_messages(session, person.email)
        letters = tuple(i for i, to, raw in unattached_letters(session) if mentions(to, raw, person))
    return ErasurePlan(person, pseudonym(person.email, key), complaints, strays, letters)


def erase(desk: Desk, plan: ErasurePlan, by: str) -> bool:
    """Carry `plan` out; False when SQLite's log could not be emptied yet (old pages stay there until
    the next checkpoint overwrites them)."""
    now = desk.clock()
    rewrite = partial(scrub, person=plan.person, alias=plan.alias)
    files: list[str] = []
    with desk.register.transaction() as session:
        overwrite_deleted(session)
        for held in plan.complaints:
            files += erase_personal_data(session, held.complaint_id, plan.alias, rewrite)
            desk.apply(session, decide_erase(held, plan.alias, by), now)
        erase_unattached(session, plan.person.email, plan.stray_letters)
    with desk.register.session() as session:
        gone = set(files) - files_in_use(session, files)
    for sha256 in gone:
        desk.store.forget(sha256)
    log.info("erased %d complaint(s) as %s: %d file(s) deleted", len(plan.complaints), plan.alias, len(gone))
    return truncate_log(desk.register.engine)
