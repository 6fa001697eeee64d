"""The evaluation by email (issue 9): complexity, impact, scope, related complaints, the customer's
wish and the causes, in process on a real register with the fake clock.

A handler's reply sets them like `#gravité`: each change is confirmed, recorded in the register and
its history, and shown by `show`; the priority they give (README, "Priority") appears in the next
letter to the handler. A link is both ways; a reference the register does not hold, or the
complaint itself, is refused in the confirmation and changes nothing.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from daemon.cli import main
from daemon.edges.register.views import Filters, list_complaints
from daemon.presenting import detail_json
from daemon.runners.sweep import Sweeper
from tests.harness import complaint, reply
from tests.runners import BOB, FakeClock, history, ingest, make_desk, queued, relay, show
from tests.test_migrations import config_file

EVALUATION = """#gravité haute
#complexité moyenne
#Impact FORT
#portée systémique
#lié REC-2026-000002
#souhait Un remboursement intégral
ou une théière neuve
#cause Colis mal calé au dépôt de Lyon

Je m'en occupe."""


def registered(tmp_path):
    clock = FakeClock()
    desk = make_desk(tmp_path, clock)
    references = ingest(desk, complaint(1, subject="Colis abîmé"), complaint(2, subject="Colis cassé")).references
    letters = relay(desk)
    [notification] = [
        letter for letter in letters if letter.kind == "handler_notification" and "000001" in letter.subject
    ]
    return desk, clock, references, notification


def command(desk, clock, notification, body: str):
    before = len(queued(desk))
    clock.advance(timedelta(hours=1))
    ingest(desk, reply(notification.message, BOB, body))
    return queued(desk)[before:]


def test_a_reply_evaluates_the_complaint_and_links_it_both_ways(tmp_path) -> None:
    desk, clock, (first, second), notification = registered(tmp_path)

    [confirmation] = command(desk, clock, notification, EVALUATION)

    assert confirmation.kind == "command_reply" and confirmation.to == BOB
    text = confirmation.text
    for line in (
        "complexité : (non renseigné) → moyenne",
        "impact : (non renseigné) → fort",
        "portée : (non renseigné) → systémique",
        "réclamation liée : (non renseigné) → REC-2026-000002",
        "cause identifiée : (non renseigné) → Colis mal calé au dépôt de Lyon",
        "Priorité : urgente",  # high severity × high impact, systemic: the top of the table
    ):
        assert line in text, line
    view = show(desk, first)
    assert (view.severity, view.complexity, view.impact, view.scope, view.priority) == (
        "high",
        "medium",
        "high",
        "systemic",
        "urgent",
    )
    assert view.wished_solution == "Un remboursement intégral\nou une théière neuve"
    assert view.related == (second,) and show(desk, second).related == (first,)
    assert [(c.text, c.category) for c in view.causes] == [("Colis mal calé au dépôt de Lyon", None)]
    data = detail_json(view)  # `complaintsd show --json`: the contract's names, English identifiers
    assert {key: data[key] for key in ("severity", "complexity", "impact", "scope", "priority", "related")} == {
        "severity": "high",
        "complexity": "medium",
        "impact": "high",
        "scope": "systemic",
        "priority": "urgent",
        "related": [second],
    }
    assert data["causes"] == [{"text": "Colis mal calé au dépôt de Lyon", "category": None}]
    assert data["wished_solution"] == view.wished_solution and data["outcome"] is None
    events = [event for event, _ in history(desk, first)]
    assert events[-7:] == ["severity", "complexity", "impact", "scope", "related", "wished_solution", "cause"]


def test_the_priority_shows_in_the_handlers_next_reminder(tmp_path) -> None:
    desk, clock, (first, _), notification = registered(tmp_path)
    command(desk, clock, notification, "#gravité moyenne\n#impact faible")
    relay(desk)
    clock.advance(timedelta(days=8))
    Sweeper(desk).sweep()
    reminder = next(letter for letter in queued(desk, "reminder", BOB) if first in letter.subject)
    assert "Priorité : basse" in reminder.text


def test_a_link_to_an_unknown_or_the_same_complaint_is_refused(tmp_path) -> None:
    desk, clock, (first, second), notification = registered(tmp_path)

    [error] = command(desk, clock, notification, f"#lié REC-2026-000099\n#lié {first}")
    assert "REC-2026-000099" in error.text and first in error.text
    assert show(desk, first).related == () and show(desk, second).related == ()

    command(desk, clock, notification, f"#lié {second}")
    [again] = command(desk, clock, notification, f"#related {second}")
    assert show(desk, first).related == (second,) and show(desk, second).related == (first,)
    assert "REC-2026-000002" in again.text, "already linked: nothing to change, and the handler is told"


def test_show_lists_the_customers_previous_complaints(tmp_path) -> None:
    desk, clock, (first, second), notification = registered(tmp_path)
    command(desk, clock, notification, "#clore fondée")
    assert show(desk, first).previous == ()
    [previous] = show(desk, second).previous
    assert (previous.reference, previous.status, previous.outcome) == (first, "closed", "founded")
    assert detail_json(show(desk, second))["previous_complaints"] == [first]


def test_list_filters_on_the_evaluation(tmp_path, capsys) -> None:
    desk, clock, (first, second), notification = registered(tmp_path)
    command(desk, clock, notification, "#gravité haute\n#portée systémique\n#catégorie Livraison")

    def listed(**filters) -> list[str]:
        with desk.register.session() as session:
            return [c.reference for c in list_complaints(session, Filters(now=clock(), **filters))]

    assert listed(severity="high") == listed(scope="systemic") == listed(category="livraison") == [first]
    assert listed(severity="low") == listed(scope="isolated") == []
    assert listed() == [first, second]

    config = config_file(tmp_path, tmp_path / "register.db")
    assert main(["list", "--severity", "grave", "--config", str(config)]) == 1
    assert capsys.readouterr().err == "complaintsd: --severity grave: not one of low, medium, high, critical\n"
    assert main(["list", "--scope", "Systemic", "--json", "--config", str(config)]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert (row["reference"], row["scope"], row["severity"], row["priority"]) == (first, "systemic", "high", "high")


def test_a_compensation_is_recorded_and_stated_in_the_answer(tmp_path) -> None:
    desk, clock, (first, _), notification = registered(tmp_path)

    letters = command(
        desk,
        clock,
        notification,
        "#compensation avoir 50 EUR\n#réponse\nMadame,\nle colis sera remplacé.\nCordialement",
    )

    answer = next(letter for letter in letters if letter.kind == "answer")
    confirmation = next(letter for letter in letters if letter.kind == "command_reply")
    assert "En réparation, nous vous accordons un avoir d'un montant de 50,00 EUR." in answer.text
    html = answer.message.get_body(("html",)).get_content()
    assert "un avoir d&#39;un montant de 50,00 EUR" in html or "un avoir d'un montant de 50,00 EUR" in html
    assert "compensation : (non renseigné) → avoir 50.00 EUR" in confirmation.text
    assert detail_json(show(desk, first))["compensation"] == {"type": "credit", "amount": 50.0, "currency": "EUR"}


def test_an_answer_without_compensation_states_none(tmp_path) -> None:
    desk, clock, _, notification = registered(tmp_path)
    [answer] = [
        letter for letter in command(desk, clock, notification, "#réponse\nMadame,\nnon.") if letter.kind == "answer"
    ]
    assert "nous vous accordons" not in answer.text


def test_inform_sends_interim_news_without_answering(tmp_path) -> None:
    desk, clock, (first, _), notification = registered(tmp_path)

    letters = command(
        desk, clock, notification, "#statut en cours\n#informer Nous attendons le retour du transporteur.\n\nÀ bientôt."
    )

    interim = next(letter for letter in letters if letter.kind == "interim")
    assert interim.to == "camille.durand@client.example" and f"[{first}]" in interim.subject
    assert "Nous attendons le retour du transporteur.\r\n\r\nÀ bientôt." in interim.text
    assert "au plus tard le" in interim.text, "the answer is still to come: its date is recalled"
    confirmation = next(letter for letter in letters if letter.kind == "command_reply")
    assert "lettre d'étape envoyée au client" in confirmation.text
    assert show(desk, first).status == "in_progress", "news is not the answer"
    assert ("customer_informed", "Nous attendons le retour du transporteur.\n\nÀ bientôt.") in history(desk, first)


def test_actions_are_numbered_moved_on_shown_and_listed_until_verified(tmp_path, capsys) -> None:
    desk, clock, (first, second), notification = registered(tmp_path)
    command(
        desk,
        clock,
        notification,
        "#action corrective Former l'équipe de Lyon au contrôle des colis @paul@example.com 2027-01-15\n"
        "#action curative Renvoyer une théière",
    )
    [moved] = command(desk, clock, notification, "#action 1 faite\n#action 2 abandonnée la cliente a été remboursée")
    assert "action : 1 open → 1 done" in moved.text
    assert "action : 2 open → 2 abandoned: la cliente a été remboursée" in moved.text

    config = config_file(tmp_path, tmp_path / "register.db")
    assert main(["list", "--open-actions", "--json", "--config", str(config)]) == 0
    assert [row["reference"] for row in json.loads(capsys.readouterr().out)] == [first], "done is not verified yet"

    [refused] = command(desk, clock, notification, "#action 2 faite\n#action 3 faite")
    assert "#action 2 faite" in refused.text and "#action 3 faite" in refused.text, "abandoned is final; no action 3"
    command(desk, clock, notification, "#action 1 efficace")
    assert main(["list", "--open-actions", "--json", "--config", str(config)]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert detail_json(show(desk, first))["actions"] == [
        {
            "number": 1,
            "kind": "corrective",
            "text": "Former l'équipe de Lyon au contrôle des colis",
            "owner": "paul@example.com",
            "due": "2027-01-15",
            "status": "verified",
            "reminders": {"sent": 0, "alerts": 0, "next_at": None},  # done: its reminders were cancelled
        },
        {
            "number": 2,
            "kind": "curative",
            "text": "Renvoyer une théière",
            "owner": None,
            "due": None,
            "status": "abandoned",
            "reason": "la cliente a été remboursée",
            "reminders": {"sent": 0, "alerts": 0, "next_at": None},  # no due day: none planned
        },
    ]
    assert show(desk, second).actions == ()


DIGEST = {"before": [], "digest_at": "08:00", "digest_days": ["mon", "tue", "wed", "thu", "fri"]}


def test_the_digest_lists_the_most_pressing_first(tmp_path) -> None:
    """Both complaints are due at the same time; the second, evaluated critical, comes first, with its priority."""
    clock = FakeClock()
    desk = make_desk(tmp_path, clock, reminders=DIGEST)
    first, second = ingest(desk, complaint(1, subject="Colis abîmé"), complaint(2, subject="Colis cassé")).references
    letters = relay(desk)
    [notification] = [
        letter for letter in letters if letter.kind == "handler_notification" and second in letter.subject
    ]
    command(desk, clock, notification, "#gravité critique\n#impact moyen")
    relay(desk)

    clock.set(datetime(2026, 11, 24, 7, 0, tzinfo=UTC))  # Tuesday, 08:00 in Paris
    Sweeper(desk).sweep()
    [digest] = queued(desk, "digest", BOB)
    assert digest.text.index(second) < digest.text.index(first)
    assert "accusé envoyé · priorité urgente" in digest.text


def test_an_actions_owner_is_told_what_by_when_and_whom_to_tell(tmp_path) -> None:
    desk, clock, (first, _), notification = registered(tmp_path)

    letters = command(
        desk,
        clock,
        notification,
        "#action corrective Former l'équipe de Lyon @paul@example.com 15/01/2027\n#action curative Renvoyer la théière",
    )

    [mail] = [letter for letter in letters if letter.kind == "action_assigned"]
    assert mail.to == "paul@example.com", "the action without an owner mails nobody"
    assert mail.subject.startswith(f"[{first}] Action 1 à réaliser : Former l'équipe de Lyon")
    assert "vous confie l'action corrective n° 1" in mail.text
    assert "au plus tard le vendredi 15 janvier 2027" in mail.text
    assert "dites-le à Bob Durand (bob@example.com)" in mail.text
