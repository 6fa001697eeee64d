"""The complaint sheet (issue 12, item 1): `complaintsd show REF --format html|pdf`, one printable
page with the whole story of a complaint, on a register seeded through the runners with the fake
clock; and the deadline rule it shares with the export (core/compliance.py), cell by cell.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from daemon.cli import main
from daemon.core.compliance import DeadlineState, answered_at, deadline_outcomes
from daemon.edges.register.models import Complaint
from daemon.runners.entry import register_entry
from daemon.sheet import sheet_html
from tests.conftest import require
from tests.harness import complaint, reply
from tests.runners import BOB, FakeClock, config_of, ingest, make_desk, relay
from tests.test_migrations import config_file
from tests.test_runners_entry import phone_call

ANSWER = """#gravité haute
#impact fort
#souhait Un avoir
#cause Colis mal calé au dépôt de Lyon
#compensation avoir 50 EUR
#action corrective Former l'équipe du dépôt 2027-01-15
#réponse
Madame, nous avons vérifié auprès du transporteur : le colis a été mal calé.
Vous recevrez un avoir de 50 euros."""

# Anything a browser would fetch or follow: the sheet must hold none (no network when printed).
EXTERNAL = re.compile(r"(?i)(https?:|ftp:|//[a-z0-9]|\bsrc\s*=|\bhref\s*=|url\s*\(|@import)")

T = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)


def seeded(tmp_path, answer_after: timedelta = 3 * H):
    """A complaint whose subject is markup, answered with an evaluation, a cause, a compensation and
    an action; the customer's satisfaction recorded as the closing letter's answer would be."""
    clock = FakeClock()
    desk = make_desk(tmp_path, clock)
    [reference] = ingest(desk, complaint(1, subject="Colis <script>alert(1)</script> abîmé")).references
    [notification] = [letter for letter in relay(desk) if letter.kind == "handler_notification"]
    clock.advance(answer_after)
    ingest(desk, reply(notification.message, BOB, ANSWER))
    relay(desk)
    with desk.register.transaction() as session:
        session.exec(
            update(Complaint)
            .where(Complaint.reference == reference)
            .values(satisfaction_understood="yes", satisfaction_actions="4", satisfaction_relationship="no")
        )
    return desk, clock, reference


def test_the_sheet_tells_the_whole_story_escaped_and_self_contained(tmp_path, capsys) -> None:
    desk, clock, reference = seeded(tmp_path)
    config = config_file(tmp_path, tmp_path / "register.db")
    output = tmp_path / "sheet.html"

    assert main(["show", reference, "--format", "html", "--output", str(output), "--config", str(config)]) == 0

    page = output.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "@page { size: A4" in page
    for shown in (
        f"Fiche de réclamation {reference}",
        "Camille Durand",
        "camille.durand@client.example",
        "courriel",  # the channel
        "Un avoir",  # the wished solution
        "Ma commande n° 1 est arrivée abîmée.",  # the description
        "<tr><th>Gravité</th><td>haute</td></tr>",
        "<tr><th>Priorité</th><td>urgente</td></tr>",
        "Colis mal calé au dépôt de Lyon",  # the cause
        "Vous recevrez un avoir de 50 euros.",  # the answer, as the customer's letter says it
        "Envoyée par courriel le lundi 23 novembre 2026 à 13:00",
        "Avoir : 50.00 EUR",
        "Former l&#39;équipe du dépôt",
        "vendredi 15 janvier 2027",
        "ouverte",  # the action's state
        "<tr><th>Demande comprise</th><td>oui</td></tr>",
        "<tr><th>Actions menées</th><td>4/5</td></tr>",
        "<tr><th>Relation</th><td>non</td></tr>",
        "acknowledged → answered",  # the history, whole
        "answer_sent",
    ):
        assert shown in page, shown
    assert page.count('class="met">tenue<') == 2, "acknowledged at once, answered within the 10 days"
    assert "<script>" not in page and "Colis &lt;script&gt;alert(1)&lt;/script&gt; abîmé" in page
    assert not EXTERNAL.search(page), EXTERNAL.search(page)
    assert capsys.readouterr().out == ""


def test_an_answer_after_the_deadline_is_missed_and_an_open_one_pending_then_missed(tmp_path) -> None:
    desk, clock, reference = seeded(tmp_path, answer_after=timedelta(days=11))
    [open_one] = ingest(desk, complaint(2, subject="Toujours rien")).references
    config = config_of(tmp_path)

    late = sheet_html(config, desk.register, reference, clock())
    assert 'class="met">tenue<' in late and 'class="missed">manquée<' in late
    assert "vendredi 4 décembre 2026 à 10:00" in late, "the instant the answer came, in the Happened column"

    pending = sheet_html(config, desk.register, open_one, clock())
    assert pending.count('class="pending">en cours<') == 2
    assert "Pas encore de réponse." in pending
    after = sheet_html(config, desk.register, open_one, clock() + timedelta(days=11))
    assert after.count('class="missed">manquée<') == 2, "never acknowledged, never answered, both past"


def test_a_posted_answer_shows_the_handlers_words(tmp_path) -> None:
    clock = FakeClock()
    desk = make_desk(tmp_path, clock)
    reference = register_entry(desk, phone_call(clock))
    [notification] = relay(desk)
    clock.advance(H)
    ingest(desk, reply(notification.message, "alice@example.com", "#réponse\nNous vous remboursons le prélèvement."))

    page = sheet_html(config_of(tmp_path), desk.register, reference, clock())

    assert "Écrite pour être postée le lundi 23 novembre 2026 à 11:00" in page
    assert "Nous vous remboursons le prélèvement." in page
    assert "+33 1 23 45 67 89" in page and "12 rue des Lilas<br>\n69003 Lyon" in page and "téléphone" in page


def test_the_sheet_speaks_the_registers_language(tmp_path) -> None:
    desk, clock, reference = seeded(tmp_path)
    page = sheet_html(config_of(tmp_path, register={"language": "en"}), desk.register, reference, clock())
    assert f"Complaint sheet {reference}" in page and '<html lang="en">' in page
    for shown in ("<tr><th>Severity</th><td>high</td></tr>", "Sent by email on Monday, November 23, 2026", "Credit"):
        assert shown in page, shown
    assert page.count('class="met">met<') == 2 and not EXTERNAL.search(page)


def test_show_formats_agree_with_json(tmp_path, capsys) -> None:
    _, _, reference = seeded(tmp_path)
    config = str(config_file(tmp_path, tmp_path / "register.db"))
    assert main(["show", reference, "--json", "--config", config]) == 0
    by_flag = capsys.readouterr().out
    assert main(["show", reference, "--format", "json", "--config", config]) == 0
    assert capsys.readouterr().out == by_flag and json.loads(by_flag)["reference"] == reference
    assert main(["show", reference, "--json", "--format", "html", "--config", config]) == 1
    assert capsys.readouterr().err == "complaintsd: --json and --format html: choose one\n"
    assert main(["show", "REC-2026-000099", "--format", "html", "--config", config]) == 1
    assert "no complaint REC-2026-000099" in capsys.readouterr().err


def test_the_pdf_is_an_a4_print_of_the_sheet(tmp_path) -> None:
    require(None if shutil.which("chromium") else "chromium is not installed (apt install chromium)")
    _, _, reference = seeded(tmp_path)
    config = str(config_file(tmp_path, tmp_path / "register.db"))
    output = tmp_path / "sheet.pdf"

    assert main(["show", reference, "--format", "pdf", "--output", str(output), "--config", config]) == 0

    pdf = output.read_bytes()
    assert pdf.startswith(b"%PDF-")
    boxes = re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf)
    assert boxes and all(abs(float(w) - 595) < 2 and abs(float(h) - 842) < 2 for w, h in boxes), boxes


def test_the_pdf_without_chromium_is_one_line_naming_it(tmp_path, capsys, monkeypatch) -> None:
    _, _, reference = seeded(tmp_path)
    config = str(config_file(tmp_path, tmp_path / "register.db"))
    monkeypatch.setenv("COMPLAINTSD_CHROMIUM", "no-such-chromium")
    assert main(["show", reference, "--format", "pdf", "--output", str(tmp_path / "x.pdf"), "--config", config]) == 1
    assert capsys.readouterr().err == (
        "complaintsd: --format pdf needs Chromium (apt install chromium); --format html gives the same page\n"
    )


# The deadline rule (core/compliance.py), cell by cell: (acknowledged, answered, now) → (ack, answer).
MET, MISSED, PENDING = DeadlineState.MET, DeadlineState.MISSED, DeadlineState.PENDING
ACK_DUE, ANSWER_DUE = T + 48 * H, T + 240 * H


@pytest.mark.parametrize(
    ("acknowledged", "answered", "now", "expected"),
    [
        (T + H, T + 5 * H, T + 6 * H, (MET, MET)),
        (ACK_DUE, ANSWER_DUE, ANSWER_DUE + H, (MET, MET)),  # at the due instant exactly: met
        (ACK_DUE + H, ANSWER_DUE + H, ANSWER_DUE + 2 * H, (MISSED, MISSED)),  # late events
        (None, None, T + H, (PENDING, PENDING)),  # open, not yet due
        (None, None, ACK_DUE + H, (MISSED, PENDING)),  # open, the acknowledgement past due
        (T + H, None, ANSWER_DUE + H, (MET, MISSED)),  # still open, answer past due
        (None, T + 2 * H, ANSWER_DUE + H, (MISSED, MET)),  # never acknowledged, answered
    ],
)
def test_deadline_outcomes(acknowledged, answered, now, expected) -> None:
    outcomes = deadline_outcomes(ACK_DUE, acknowledged, ANSWER_DUE, answered, now)
    assert (outcomes.ack.state, outcomes.answer.state) == expected
    assert (outcomes.ack.event_at, outcomes.answer.event_at) == (acknowledged, answered)


def test_the_answer_event_is_the_first_move_to_answered_or_closed() -> None:
    moves = [
        (T + H, "received → acknowledged"),
        (T + 2 * H, "acknowledged → in_progress"),
        (T + 3 * H, "in_progress → closed"),
        (T + 4 * H, "closed → reopened"),
        (T + 5 * H, "reopened → answered"),
    ]
    assert answered_at(moves) == T + 3 * H
    assert answered_at(moves[:2]) is None


def test_the_sheet_gives_the_mediation_dates_with_their_rule(tmp_path, capsys) -> None:
    """The date from which the customer may refer to the mediator and the L.612-2 limit, as `show` gives them."""
    desk, clock, reference = seeded(tmp_path)
    config = config_file(tmp_path, tmp_path / "register.db")
    assert main(["show", reference, "--json", "--config", str(config)]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["mediator_from"].startswith("2027-01-23") and shown["mediation_limit"].startswith("2027-11-23")

    page = sheet_html(config_of(tmp_path), desk.register, reference, clock())
    assert "à partir du samedi 23 janvier 2027 à 10:00 (2mo après la réception, [mediator] refer_after)" in page
    assert "mardi 23 novembre 2027 à 10:00 (un an après la réclamation écrite, article L.612-2" in page
    english = sheet_html(config_of(tmp_path, register={"language": "en"}), desk.register, reference, clock())
    assert "possible from Saturday, January 23, 2027 at 10:00 AM (2mo after receipt, [mediator] refer_after)" in english
    assert "Tuesday, November 23, 2027 at 10:00 AM (one year after the written complaint, article L.612-2" in english
    later = sheet_html(config_of(tmp_path, mediator={"refer_after": "3 mois"}), desk.register, reference, clock())
    assert "possible à partir du mardi 23 février 2027 à 10:00 (3mo après" in later, "the rule is the config's"
