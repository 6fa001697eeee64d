"""Categories at intake, in process: a complaint's keywords → its category, its handler, its deadlines.

Issue 9, item 8: `[categories.<name>] keywords` give a new complaint its category before it is
routed, so a handler's `categories` rule and the category's own `ack_deadline` / `answer_deadline`
apply from the first minute; a handler's `#catégorie` later recomputes the answer deadline, and
`show` still explains the closed days it skipped. Each row is (subject, body) → what the register
and the handler's "new complaint" mail say.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from daemon.presenting import detail_json, explain
from tests.harness import complaint, reply
from tests.runners import ALICE, BOB, START, FakeClock, history, ingest, make_desk, queued, relay, show

CAROL = "carol@example.com"
HANDLERS = [
    {"name": "Alice Martin", "email": ALICE, "keywords": ["facture", "remboursement"]},
    {"name": "Carol Petit", "email": CAROL, "categories": ["Livraison"]},
    {"name": "Bob Durand", "email": BOB},
]
# Config order is the categories' priority: facturation is tried first.
CATEGORIES = {
    "facturation": {"keywords": ["facture", "avoir"], "answer_deadline": "5bd"},
    "livraison": {"keywords": ["colis", "bon de livraison"], "ack_deadline": "4h", "answer_deadline": "3bd"},
    "autre": {},
}
SETTINGS = {"handlers": HANDLERS, "categories": CATEGORIES}

# START is Monday 23 November 2026, 10:00 in Paris.
END_OF_THURSDAY = datetime(2026, 11, 26, 22, 59, 59, tzinfo=UTC)  # 3 business days
END_OF_NEXT_MONDAY = datetime(2026, 11, 30, 22, 59, 59, tzinfo=UTC)  # 5 business days, the weekend skipped
WEEKEND = (("2026-11-28", "weekend"), ("2026-11-29", "weekend"))

CASES = [
    pytest.param(
        "COLIS jamais arrivé",
        "",
        ("livraison", "colis", CAROL, "category Livraison"),
        (START + timedelta(hours=4), "4h", END_OF_THURSDAY, "3bd", ()),
        id="keyword in the subject, any case: the category's handler and both its deadlines",
    ),
    pytest.param(
        "Commande 12",
        "Bonjour,\nj'ai été FACTURÉ deux fois.\n",
        ("facturation", "facture", ALICE, 'keyword "facture" in the body'),
        (START + timedelta(hours=48), "48h", END_OF_NEXT_MONDAY, "5bd", WEEKEND),
        id="keyword in the body, accents folded: its answer rule, the default ack rule",
    ),
    pytest.param(
        "Colis et facture",
        "",
        ("facturation", "facture", ALICE, 'keyword "facture" in the subject'),
        (START + timedelta(hours=48), "48h", END_OF_NEXT_MONDAY, "5bd", WEEKEND),
        id="two categories match: the first in config order wins",
    ),
    pytest.param(
        "Question",
        "Le bon de\nlivraison manque.\n",
        ("livraison", "bon de livraison", CAROL, "category Livraison"),
        (START + timedelta(hours=4), "4h", END_OF_THURSDAY, "3bd", ()),
        id="a phrase across a line break",
    ),
    pytest.param(
        "Question",
        "Bonjour,\nune question sur mes factures.\n",
        (None, "", BOB, "default handler"),
        (START + timedelta(hours=48), "48h", START + timedelta(days=10), "10d", ()),
        id="no keyword (factures is not facture): no category, the register's rules",
    ),
]


@pytest.mark.parametrize(("subject", "body", "routed", "deadlines"), CASES)
def test_the_category_is_found_at_intake_and_routes_and_dates_the_complaint(tmp_path, subject, body, routed, deadlines):
    desk = make_desk(tmp_path, FakeClock(), **SETTINGS)
    category, keyword, handler, reason = routed
    ack_due, ack_rule, answer_due, answer_rule, skipped = deadlines
    [reference] = ingest(desk, complaint(1, subject=subject, body=body or None)).references
    view = show(desk, reference)
    assert (view.category, view.handler_email) == (category, handler)
    assert (view.ack_due_at, view.ack_rule, view.answer_due_at, view.answer_rule) == (
        ack_due,
        ack_rule,
        answer_due,
        answer_rule,
    )
    assert view.answer_skipped == skipped
    events = history(desk, reference)
    categorized = [detail for event, detail in events if event == "categorized"]
    assert categorized == ([f"category {category} (keyword '{keyword}')"] if category else [])
    assert [detail.split(": ", 1)[1] for event, detail in events if event == "routed"] == [reason]
    [notification] = queued(desk, "handler_notification")
    assert notification.to == handler
    assert ("selon sa catégorie « Livraison »" in notification.text) == (reason == "category Livraison")


def test_a_category_change_recomputes_the_answer_date_and_show_explains_it(tmp_path):
    clock = FakeClock()
    desk = make_desk(tmp_path, clock, **SETTINGS)
    [reference] = ingest(desk, complaint(1, subject="Question", body="Bonjour,\nune question.\n")).references
    _, notification = relay(desk)
    assert (show(desk, reference).category, show(desk, reference).answer_rule) == (None, "10d")

    clock.advance(timedelta(hours=1))
    ingest(desk, reply(notification.message, BOB, "#catégorie facturation"))
    view = show(desk, reference)
    assert (view.category, view.answer_due_at, view.answer_rule) == ("facturation", END_OF_NEXT_MONDAY, "5bd")
    assert view.answer_skipped == WEEKEND
    assert explain(view.answer_rule, view.answer_skipped).endswith("skipped 2026-11-28 (weekend), 2026-11-29 (weekend)")
    assert detail_json(view)["deadlines"]["answer"]["skipped"] == [
        {"date": "2026-11-28", "reason": "weekend"},
        {"date": "2026-11-29", "reason": "weekend"},
    ]

    # A category without rules of its own brings the register's rule back, with nothing skipped.
    clock.advance(timedelta(hours=1))
    ingest(desk, reply(notification.message, BOB, "#catégorie autre"))
    view = show(desk, reference)
    assert (view.category, view.answer_due_at, view.answer_rule, view.answer_skipped) == (
        "autre",
        START + timedelta(days=10),
        "10d",
        (),
    )


def test_a_cause_is_filed_under_a_cause_category_and_an_unknown_one_is_a_command_error(tmp_path):
    """Item 2: `[causes] categories` lets `#cause livraison: …` file the cause; an unknown category
    is answered like any command error, naming the valid ones, and records nothing."""
    clock = FakeClock()
    desk = make_desk(tmp_path, clock, causes={"categories": ["Livraison", "emballage"]})
    [reference] = ingest(desk, complaint(1, subject="Question", body="Bonjour,\nune question.\n")).references
    _, notification = relay(desk)

    clock.advance(timedelta(hours=1))
    ingest(desk, reply(notification.message, BOB, "#cause LIVRAISON : colis mal étiqueté au dépôt"))
    [confirmation] = relay(desk)
    assert "Livraison: colis mal étiqueté au dépôt" in confirmation.text  # the configured spelling
    assert [(c.text, c.category) for c in show(desk, reference).causes] == [
        ("colis mal étiqueté au dépôt", "Livraison")
    ]
    assert detail_json(show(desk, reference))["causes"] == [
        {"text": "colis mal étiqueté au dépôt", "category": "Livraison"}
    ]

    clock.advance(timedelta(hours=1))
    ingest(desk, reply(notification.message, BOB, "#cause transport: retard"))
    [error] = relay(desk)
    assert error.kind == "command_reply" and "n'a pas été exécuté" in error.text
    assert "catégorie de cause inconnue" in error.text and "Livraison, emballage" in error.text
    assert len(show(desk, reference).causes) == 1


def test_show_explains_jours_ouvrables_and_months_in_words():
    # Saturday 28 November 2026 counts as a jour ouvrable; Sunday 29 is skipped.
    assert explain("10wd", (("2026-11-29", "weekend"),)) == (
        "10wd: 10 jours ouvrables (Monday to Saturday) after the day of receipt, end of the last day; "
        "skipped 2026-11-29 (weekend)"
    )
    assert (
        explain("2mo", ()) == "2mo: 2 calendar months after receipt, same day of the month (or its last day) and time"
    )
