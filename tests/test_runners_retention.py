"""Retention (issue 13, item 2): a complaint closed longer ago than `[retention] keep` loses its
personal data and its files; a tombstone stays (reference, dates, category, outcome, deadline
figures), the purge is an event of the chain, and `verify` still holds. In process, with the fake
clock moved years ahead, on a real register.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from daemon.core.deadlines import keep_years
from daemon.core.retention import cutoff
from daemon.runners.integrity import verify_register
from daemon.runners.retention import due_for_purge, purge
from daemon.verify import export_history
from tests.harness import complaint, reply
from tests.runners import BOB, FakeClock, history, ingest, make_desk, relay, show

PHOTO = ("photo.jpg", b"\xff\xd8 the same photo", "image/jpeg")
YEAR = timedelta(days=365)


def closed_complaint(desk, clock, number: int, attachment=PHOTO) -> str:
    [reference] = ingest(desk, complaint(number, subject=f"Colis {number}", attachment=attachment)).references
    notification = next(m for m in relay(desk) if m.kind == "handler_notification" and reference in m.subject)
    clock.advance(timedelta(hours=1))
    ingest(desk, reply(notification.message, BOB, "#catégorie livraison\n#clore fondée\n#réponse Remboursé."))
    relay(desk)
    return reference


def test_a_complaint_closed_beyond_retention_keeps_only_its_tombstone(tmp_path) -> None:
    clock = FakeClock()
    desk = make_desk(tmp_path, clock)
    old = closed_complaint(desk, clock, 1)
    clock.advance(2 * YEAR)
    recent = closed_complaint(desk, clock, 2)  # the same photo: its file must stay
    before = show(desk, old)
    clock.advance(3 * YEAR + timedelta(days=30))

    assert [c.reference for c in due_for_purge(desk, 5)] == [old], "the other was closed 3 years ago"
    assert [c.reference for c in purge(desk, 5)] == [old]

    tombstone = show(desk, old)
    assert (tombstone.customer_email, tombstone.customer_name, tombstone.subject, tombstone.text_body) == (
        "",
        "",
        "",
        "",
    )
    assert tombstone.attachments == ()
    assert (tombstone.status, tombstone.category, tombstone.outcome) == ("closed", "livraison", "founded")
    assert (tombstone.received_at, tombstone.answer_due_at) == (before.received_at, before.answer_due_at)
    events = history(desk, old)
    assert events[-1][0] == "purged" and "kept 5 year(s)" in events[-1][1]
    assert ("status", "acknowledged → closed") in events or any(e == "status" and d for e, d in events)
    assert all(d == "" for e, d in events if e not in ("status", "purged")), "no customer's words left"
    with desk.register.engine.connect() as connection:
        held = connection.execute(text("SELECT count(*) FROM inbound_message WHERE complaint_id IS NOT NULL")).scalar()
        letters = connection.execute(text("SELECT count(*) FROM outbox WHERE raw LIKE '%Colis 1%'")).scalar()
    assert letters == 0, "the letters about it are gone from the outbox"
    assert held == 2, "the recent complaint's message and its handler's reply stay; the old one's are gone"
    assert show(desk, recent).attachments[0].filename == "photo.jpg"
    assert desk.store.digest_of(show(desk, recent).attachments[0].sha256) is not None, "a file still listed stays"

    verified = verify_register(desk.register, desk.store)
    assert verified.ok, verified.broken
    assert purge(desk, 5) == [], "a purged complaint is not purged again"


def test_a_purged_file_no_complaint_lists_is_deleted(tmp_path) -> None:
    clock = FakeClock()
    desk = make_desk(tmp_path, clock)
    unique = ("bon.pdf", b"%PDF only this complaint", "application/pdf")
    reference = closed_complaint(desk, clock, 1, attachment=unique)
    sha = show(desk, reference).attachments[0].sha256
    clock.advance(6 * YEAR)
    purge(desk, 5)
    assert desk.store.digest_of(sha) is None


def test_tampering_with_a_tombstone_is_still_caught(tmp_path) -> None:
    clock = FakeClock()
    desk = make_desk(tmp_path, clock)
    closed_complaint(desk, clock, 1)
    clock.advance(6 * YEAR)
    purge(desk, 5)
    with desk.register.engine.begin() as connection:
        last_move = "(SELECT max(id) FROM history WHERE event = 'status')"
        connection.execute(text(f"UPDATE history SET detail = 'acknowledged → reopened' WHERE id = {last_move}"))
    assert not verify_register(desk.register, desk.store).ok, "a status move is not a stub: its text is checked"


def test_keep_reads_years_and_counts_calendar_years() -> None:
    assert keep_years("5y") == keep_years("5 ans") == 5
    assert cutoff(datetime(2032, 2, 29, 12, tzinfo=UTC), 5) == datetime(2027, 2, 28, 12, tzinfo=UTC)


def test_an_exported_purged_register_still_verifies_on_its_own(tmp_path, capsys) -> None:
    """scripts/verify_chain.py applies the same stub rule as `complaintsd verify`."""
    clock = FakeClock()
    desk = make_desk(tmp_path, clock)
    closed_complaint(desk, clock, 1)
    clock.advance(6 * YEAR)
    purge(desk, 5)
    exported = tmp_path / "history.jsonl"
    assert export_history(desk.register, exported) == 0
    script = Path(__file__).parents[1] / "scripts" / "verify_chain.py"
    result = subprocess.run([sys.executable, str(script), str(exported)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout
