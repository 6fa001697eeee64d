"""`complaintsd add`: a complaint made by phone, by letter, at a counter or on a web form, registered
like a mail (core/manual_entry.py) through ingestion's own write path."""

from __future__ import annotations

from daemon.core.intake import intake_of_entry
from daemon.core.manual_entry import ManualEntry, mail_of, record_of
from daemon.runners.desk import Desk
from daemon.runners.ingest import register_intakes


def register_entry(desk: Desk, entry: ManualEntry) -> str:
    """Store its files, number it, write it with its letters; its reference."""
    now = desk.clock()
    raw = record_of(entry, desk.policy.domain, now)
    mail = mail_of(entry, raw)
    triaged, intake = intake_of_entry(entry, mail, raw, desk.store.keep(mail), desk.policy)
    reference = register_intakes(desk, [(triaged, intake)], now)[triaged.item.key]
    assert reference is not None, "a complaint typed in by hand is always a new complaint"
    return reference
