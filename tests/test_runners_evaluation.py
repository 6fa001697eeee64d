"""The evaluation by email (issue 9): complexity, impact, scope, related complaints, the customer's
wish and the causes, in process on a real register with the fake clock.

A handler's reply sets them like `#gravité`: each change is confirmed, recorded in the register and
its history, and shown by `show`; the priority they give (README, "Priority") appears in the next
letter to the handler. A link is both ways; a reference the register does not hold, or the
complaint itself, is refused in the confirmation and changes nothing.
"""

from __future__ import annotations

from datetime import timedelta

from daemon.cli import _detail_json
from daemon.runners.sweep import Sweeper
from tests.harness import complaint, reply
from tests.runners import BOB, FakeClock, history, ingest, make_desk, queued, relay, show

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
    data = _detail_json(view)  # `complaintsd show --json`: the contract's names, English identifiers
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
