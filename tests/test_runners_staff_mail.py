"""A handler's command mail that names no complaint, in process: kept, answered, never a complaint.

Issue 9, item 9: a mail from a handler or the supervisor with `#tags` at its top, but no reference,
no token and no thread of ours, used to open a new complaint (and acknowledge the handler as a
customer). It is now kept in the register (outcome `unaddressed_command`) and answered through the
outbox with a command error saying how to name the complaint. Without any `#tag` it is still a new
complaint: that is how staff pass on a customer's complaint. Each row is (who writes what) → (the
complaints opened, the letters queued).
"""

from __future__ import annotations

import email

import pytest
from sqlmodel import col, select

from daemon.edges.register.models import InboundMessage
from daemon.edges.register.views import list_complaints
from daemon.runners.desk import Desk
from tests.harness import complaint
from tests.runners import ALICE, BOB, CUSTOMER, SUPERVISOR, FakeClock, ingest, kinds, make_desk, queued

ALICE_FROM = f"Alice Martin <{ALICE}>"


def inbound(desk: Desk) -> list[tuple[str, str]]:
    """(outcome, reason) of every message taken from the mailbox, in order."""
    with desk.register.session() as session:
        rows = session.exec(select(InboundMessage).order_by(col(InboundMessage.id))).all()
        return [(row.outcome, row.reason) for row in rows]


def opened(desk: Desk) -> int:
    with desk.register.session() as session:
        return len(list_complaints(session))


ROWS = [
    pytest.param(
        ALICE_FROM,
        "#statut en cours\n#gravité haute\n",
        ("unaddressed_command", 0, [("command_unaddressed", ALICE)]),
        id="a handler's commands naming no complaint: a command error, no complaint",
    ),
    pytest.param(
        f"Qualité <{SUPERVISOR}>",
        "#STATUT fini\n\nMerci.\n",
        ("unaddressed_command", 0, [("command_unaddressed", SUPERVISOR)]),
        id="the supervisor's, a line not understood: a command error too",
    ),
    pytest.param(
        ALICE_FROM,
        "Bonjour,\n\nMme Durand m'a appelée : son colis est arrivé abîmé.\n",
        ("complaint", 1, [("acknowledgement", ALICE), ("handler_notification", BOB)]),
        id="a handler's mail without any tag: a complaint passed on",
    ),
    pytest.param(
        "Camille Durand <camille.durand@client.example>",
        "#statut en cours\nMon colis est arrivé abîmé.\n",
        ("complaint", 1, [("acknowledgement", CUSTOMER), ("handler_notification", BOB)]),
        id="a customer's tags mean nothing: a complaint",
    ),
]


@pytest.mark.parametrize(("sender", "body", "expected"), ROWS)
def test_a_staff_mail_naming_no_complaint(tmp_path, sender, body, expected):
    desk = make_desk(tmp_path, FakeClock())
    outcome, complaints, letters = expected
    result = ingest(desk, complaint(1, sender=sender, subject="Suivi du dossier", body=body))
    assert [o for o, _ in inbound(desk)] == [outcome]
    assert opened(desk) == complaints == len(result.references)
    assert kinds(queued(desk)) == letters
    assert len(result.processed) == 1 and not result.quarantined


def test_a_reference_the_register_does_not_hold_names_no_complaint(tmp_path):
    desk = make_desk(tmp_path, FakeClock())
    ingest(desk, complaint(1, sender=ALICE_FROM, subject="REC-2026-000999", body="#statut en cours\n"))
    assert [o for o, _ in inbound(desk)] == ["unaddressed_command"] and opened(desk) == 0
    [letter] = queued(desk)
    assert "ni la référence d'une réclamation du registre ni un jeton" in letter.text


def test_the_command_error_says_what_was_read_and_how_to_name_a_complaint(tmp_path):
    desk = make_desk(tmp_path, FakeClock())
    mail = complaint(1, sender=ALICE_FROM, subject="Suivi", body="#statut en cours\n#gravité haute\n")
    ingest(desk, mail)
    [letter] = queued(desk)
    assert letter.subject == "Message non exécuté : aucune réclamation désignée"
    assert "« #statut en cours »" in letter.text and "« #gravité haute »" in letter.text
    assert "aucune réclamation n'a été ouverte" in letter.text
    assert "REC-2026-000042" in letter.text  # how a reference is written, to put in the subject
    assert letter.message["In-Reply-To"] == email.message_from_bytes(mail)["Message-ID"]
    assert letter.message["Auto-Submitted"] == "auto-replied"
    [(outcome, reason)] = inbound(desk)
    assert reason == f"command mail from {ALICE} naming no complaint (no reference, no token)"


def test_in_english(tmp_path):
    desk = make_desk(tmp_path, FakeClock(), register={"language": "en"})
    ingest(desk, complaint(1, sender=ALICE_FROM, subject="Follow-up", body="#status in_progress\n"))
    [letter] = queued(desk)
    assert letter.subject == "Email not carried out: no complaint named"
    assert '"#status in_progress"' in letter.text and "no complaint was opened" in letter.text


def test_past_the_daily_cap_the_mail_is_kept_unanswered(tmp_path):
    """A mail rule sending our answer back with its lines cannot make a loop: at most the cap a day."""
    desk = make_desk(tmp_path, FakeClock(), limits={"automatic_mails_per_day": 2})
    mails = [complaint(n, sender=ALICE_FROM, subject=f"Suivi {n}", body="#statut en cours\n") for n in range(1, 4)]
    ingest(desk, *mails[:2])
    ingest(desk, mails[2])
    assert kinds(queued(desk)) == [("command_unaddressed", ALICE)] * 2
    outcomes = inbound(desk)
    assert [o for o, _ in outcomes] == ["unaddressed_command"] * 3 and opened(desk) == 0
    assert "no automatic mail sent: 2 already went to alice@example.com" in outcomes[2][1]
