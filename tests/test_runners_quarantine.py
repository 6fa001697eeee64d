"""The quarantine, in process on a real register with a fake clock (issue 14): the admin is told
once per batch, and `complaintsd quarantine retry` puts a mail through registration again.

What a user would notice: a mail quarantined in silence (nobody answered, nobody told), two notices
for one batch, a retried mail registered twice or lost, a mail failing again and leaving the quarantine.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from daemon.core.intake import Intake
from daemon.core.triage import Outcome
from daemon.edges.register.quarantine import quarantined, quarantined_message
from daemon.edges.register.writes import record
from daemon.errors import NotFound
from daemon.runners.desk import Desk
from daemon.runners.ingest import Ingestor
from tests.harness import complaint
from tests.runners import CUSTOMER, SUPERVISOR, FakeClock, ingest, kinds, make_desk, queued, relay, show

NOTICE = "quarantine_notice"
NOT_A_MAIL = b"\x00\x01 these bytes are no email message at all \xff\xfe"
NO_SENDER = complaint(7, subject="Sans expéditeur").replace(
    b"From: Camille Durand <camille.durand@client.example>\n", b""
)


def in_quarantine(desk: Desk) -> list[tuple[str, str]]:
    with desk.register.session() as session:
        return [(m.subject, m.reason) for m in quarantined(session)]


def test_one_notice_per_batch_that_quarantined_names_each_mail_and_how_to_retry_it(tmp_path):
    desk = make_desk(tmp_path, FakeClock())
    result = ingest(desk, NOT_A_MAIL, complaint(1), NO_SENDER)
    assert len(result.quarantined) == 2 and len(result.references) == 1
    [notice] = queued(desk, NOTICE)
    assert notice.to == SUPERVISOR, "no [health] admin: the supervisor is told"
    assert notice.subject == "2 messages en quarantaine : ils n'ont pas pu être enregistrés"
    with desk.register.session() as session:
        ids = [m.id for m in quarantined(session)]
    for row_id in ids:
        assert f"n° {row_id}  reçu le" in notice.text
    assert "Sans expéditeur" in notice.text and "no sender address" in notice.text
    assert "complaintsd quarantine retry ID" in notice.text
    assert [kind for kind, _ in kinds(relay(desk))].count(NOTICE) == 1

    ingest(desk, complaint(2))
    ingest(desk, NOT_A_MAIL)  # the same bytes again: a re-fetch, moved, not a new quarantine
    assert len(queued(desk, NOTICE)) == 1, "no notice for a batch that quarantined nothing new"


def test_the_notice_goes_to_the_health_admin_in_the_registers_language(tmp_path):
    desk = make_desk(tmp_path, FakeClock(), health={"admin": "Admin <admin@example.com>"}, register={"language": "en"})
    ingest(desk, NOT_A_MAIL)
    [notice] = queued(desk, NOTICE)
    assert notice.to == "admin@example.com"
    assert notice.subject == "1 mail quarantined: it could not be registered"
    assert "no header section" in notice.text or "cannot be read" in notice.text


def quarantined_by_an_old_release(desk: Desk, raw: bytes, reason: str) -> int:
    """A mail an earlier release could not register: its row as `_failed` writes it."""
    now = desk.clock()
    with desk.register.transaction() as session:
        record(session, Intake(raw, hashlib.sha256(raw).hexdigest(), now, Outcome.QUARANTINE, reason), now)
    with desk.register.session() as session:
        [row] = [m for m in quarantined(session) if m.reason == reason]
    return row.id


def retry(desk: Desk, row_id: int):
    with desk.register.session() as session:
        message = quarantined_message(session, row_id)
    return Ingestor(desk).retry(message)


def test_a_retried_mail_is_registered_once_with_its_arrival_time_and_leaves_the_quarantine(tmp_path):
    clock = FakeClock()
    desk = make_desk(tmp_path, clock)
    arrived = clock()
    raw = complaint(1)
    row_id = quarantined_by_an_old_release(desk, raw, "UnicodeEncodeError: 'ascii' codec can't encode")
    clock.advance(timedelta(hours=3))

    retried = retry(desk, row_id)
    assert (retried.outcome, retried.reference) == ("complaint", "REC-2026-000001")
    assert in_quarantine(desk) == []
    assert show(desk, "REC-2026-000001").received_at == arrived
    assert kinds(relay(desk)) == [("acknowledgement", CUSTOMER), ("handler_notification", "bob@example.com")]

    try:
        retry(desk, row_id)
    except NotFound as exc:
        assert f"#{row_id}" in str(exc)
    else:
        raise AssertionError("a second retry of the same row must say it is gone")
    again = ingest(desk, raw)
    assert (len(again.processed), again.references) == (1, []), "fetched again: recognised, not a second complaint"


def test_a_retried_mail_failing_again_stays_quarantined_with_the_new_reason(tmp_path):
    clock = FakeClock()
    desk = make_desk(tmp_path, clock)
    row_id = quarantined_by_an_old_release(desk, NO_SENDER, "an old reason")
    clock.advance(timedelta(minutes=5))

    retried = retry(desk, row_id)
    assert (retried.outcome, retried.reason) == ("quarantine", "no sender address")
    with desk.register.session() as session:
        again = quarantined_message(session, row_id)
    assert (again.reason, again.registered_at) == ("no sender address", clock())
    assert queued(desk) == [], "a retry by hand answers nobody and sends the admin nothing"
