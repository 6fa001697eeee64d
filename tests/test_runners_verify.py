"""Tamper evidence (issue 13, item 1): every history event is chained to the one before it in its
complaint and in the register; `complaintsd verify` checks both chains, the stored messages and the
attachment files, and names the first broken link. On a real register (SQLite, or PostgreSQL in the
PostgreSQL pass), altered behind the daemon's back with plain SQL, as a tamperer would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from daemon.cli import main
from daemon.core.chain import EventContent, digest, link
from daemon.edges.storage import AttachmentStore
from daemon.runners.integrity import daily_check, verify_register
from tests.harness import complaint
from tests.runners import SUPERVISOR, FakeClock, ingest, make_desk, queued, relay
from tests.test_migrations import config_file


def pdf(number: int) -> tuple[str, bytes, str]:
    return ("bon.pdf", b"%PDF-1.4 bon de livraison " + str(number).encode(), "application/pdf")


def busy_register(tmp_path, complaints: int = 150):
    """About 7 events per complaint: received, acknowledgement queued and sent, routed, status…"""
    clock = FakeClock()
    desk = make_desk(tmp_path, clock, limits={"automatic_mails_per_day": 10000})
    for start in range(1, complaints + 1, 50):
        numbers = range(start, min(start + 50, complaints + 1))
        mails = [complaint(n, attachment=pdf(n) if n % 10 == 0 else None) for n in numbers]
        ingest(desk, *mails)
        relay(desk)
        clock.advance(timedelta(minutes=5))
    return desk


def verified(desk):
    return verify_register(desk.register, AttachmentStore(desk.store.root))


def tamper(desk, statement: str, **values) -> None:
    with desk.register.engine.begin() as connection:
        connection.execute(text(statement), values)


def test_a_register_of_a_thousand_events_verifies(tmp_path) -> None:
    desk = busy_register(tmp_path)
    result = verified(desk)
    assert result.ok, result.broken
    assert result.events >= 1000 and result.complaints == 150
    assert result.messages == 150 and result.attachments == 15


@pytest.mark.parametrize(
    ("statement", "named"),
    [
        ("UPDATE history SET detail = detail || '!' WHERE id = 500", "its content does not match its digest"),
        ("UPDATE history SET actor = 'someone.else@example.com' WHERE id = 500", "its content does not match"),
        ("DELETE FROM history WHERE id = 500", "the register chain does not lead to it"),
    ],
)
def test_an_altered_or_removed_event_is_caught_and_named(tmp_path, statement, named) -> None:
    desk = busy_register(tmp_path)
    tamper(desk, statement)
    result = verified(desk)
    assert not result.ok
    first = result.broken[0]
    assert named in first.reason
    assert first.what in ("history event 500", "history event 501") and first.reference.startswith("REC-2026-")


def test_an_event_rewritten_with_its_own_hashes_still_breaks_the_next_link(tmp_path) -> None:
    """A tamperer who recomputes the altered event's digest and hash cannot recompute every later one
    without being seen: the next event's link names the change."""
    desk = busy_register(tmp_path, complaints=20)
    with desk.register.engine.begin() as connection:
        row = connection.execute(text("SELECT * FROM history WHERE id = 50")).mappings().one()
    at = row["at"] if isinstance(row["at"], datetime) else datetime.fromisoformat(row["at"])
    content = EventContent(row["complaint_id"], at.replace(tzinfo=UTC), row["event"], row["actor"], "rewritten")
    forged = digest(content)
    tamper(
        desk,
        "UPDATE history SET detail = 'rewritten', digest = :d, hash = :h WHERE id = 50",
        d=forged,
        h=link(row["register_prev"], row["complaint_prev"], forged),
    )
    result = verified(desk)
    assert [f.what for f in result.broken][:1] == ["history event 51"]


def test_the_last_event_removed_is_caught_by_the_chain_head(tmp_path) -> None:
    desk = busy_register(tmp_path, complaints=10)
    tamper(desk, "DELETE FROM history WHERE id = (SELECT max(id) FROM history)")
    result = verified(desk)
    assert not result.ok and "events removed from the end" in result.broken[0].reason


def test_an_altered_message_or_attachment_file_is_caught_and_named(tmp_path) -> None:
    desk = busy_register(tmp_path, complaints=20)
    with desk.register.engine.begin() as connection:
        sha = connection.execute(text("SELECT sha256 FROM attachment ORDER BY id LIMIT 1")).scalar_one()
    path = desk.store.path_for(sha)
    content = bytearray(path.read_bytes())
    content[10] ^= 0x01
    path.write_bytes(bytes(content))
    tamper(desk, "UPDATE inbound_message SET raw = :raw WHERE id = 3", raw=b"From: x@y.example\r\n\r\nforged")

    result = verified(desk)

    whats = [f.what for f in result.broken]
    assert "stored message 3" in whats and any(w.startswith("attachment 1 (bon.pdf)") for w in whats)
    assert result.broken_count == 2


def test_the_cli_says_verified_or_names_the_first_broken_link(tmp_path, capsys) -> None:
    config = config_file(tmp_path, tmp_path / "register.db")
    desk = make_desk(tmp_path, FakeClock(), database={"url": f"sqlite:///{tmp_path / 'register.db'}"})
    ingest(desk, complaint(1), complaint(2))
    relay(desk)
    assert main(["verify", "--config", str(config)]) == 0
    assert "verified: both chains hold" in capsys.readouterr().out

    tamper(desk, "UPDATE history SET detail = 'changed' WHERE id = 2")
    assert main(["verify", "--config", str(config), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False and report["broken"][0]["what"] == "history event 2"
    assert report["broken"][0]["reference"] == "REC-2026-000001"


def test_an_auditor_verifies_the_exported_history_without_complaintsd(tmp_path, capsys) -> None:
    """`verify --export` writes the chain; scripts/verify_chain.py (standard library only) checks it."""
    config = config_file(tmp_path, tmp_path / "register.db")
    desk = make_desk(tmp_path, FakeClock(), database={"url": f"sqlite:///{tmp_path / 'register.db'}"})
    ingest(desk, complaint(1, subject="Théière cassée « fêlée »"), complaint(2))
    relay(desk)
    exported = tmp_path / "history.jsonl"
    assert main(["verify", "--config", str(config), "--export", str(exported)]) == 0
    script = [sys.executable, str(Path(__file__).parents[1] / "scripts" / "verify_chain.py"), str(exported)]

    intact = subprocess.run(script, capture_output=True, text=True, check=False)

    assert intact.returncode == 0, intact.stdout
    lines = exported.read_text(encoding="utf-8").splitlines()
    assert intact.stdout.strip().endswith(json.loads(lines[-1])["hash"])
    forged = json.loads(lines[3])
    forged["detail"] += " (modifié)"
    lines[3] = json.dumps(forged, ensure_ascii=False)
    exported.write_text("\n".join(lines) + "\n", encoding="utf-8")
    broken = subprocess.run(script, capture_output=True, text=True, check=False)
    assert broken.returncode == 1 and "line 4" in broken.stdout and "does not match its digest" in broken.stdout


def test_the_daily_check_alerts_the_admin_once_the_register_is_altered(tmp_path) -> None:
    desk = busy_register(tmp_path, complaints=5)
    before = len(queued(desk))

    assert daily_check(desk).ok
    assert len(queued(desk)) == before, "an intact register sends nothing"

    tamper(desk, "UPDATE history SET detail = 'changed' WHERE id = 4")
    assert not daily_check(desk).ok

    [alert] = queued(desk)[before:]
    assert (alert.kind, alert.to) == ("integrity_alert", SUPERVISOR), "no [health] admin: the supervisor"
    assert "Registre des réclamations altéré : 1 anomalie" in alert.subject
    assert "history event 4 (REC-2026-000001): its content does not match its digest" in alert.text
    assert "complaintsd verify" in alert.text


def test_a_large_stored_message_is_hashed_in_pieces_and_an_altered_one_is_named(tmp_path) -> None:
    # Above a megabyte, SQLite's bytes are read a megabyte at a time (edges/register/blobs.py).
    desk = make_desk(tmp_path, FakeClock())
    raw = complaint(1, attachment=("video.mp4", os.urandom(2_500_000), "video/mp4"))
    ingest(desk, raw, complaint(2))
    assert verified(desk).ok

    altered = bytearray(raw)
    altered[-100] ^= 0x01
    tamper(desk, "UPDATE inbound_message SET raw = :raw WHERE id = 1", raw=bytes(altered))

    result = verified(desk)
    assert [f.what for f in result.broken] == ["stored message 1"]
