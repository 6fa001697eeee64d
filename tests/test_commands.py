"""What a verified command mail plans to do (commands.py): pure, the clock passed in."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from daemon.core.commands.plan import CaseState, plan_commands
from daemon.core.commands.tags import Reason, parse_commands
from daemon.core.deadlines import Deadline, parse_rule
from daemon.core.routing import Handler

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ALICE, BOB = Handler("Alice", "alice@example.com"), Handler("Bob", "bob@example.com")
DUE = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def run(text: str, status: str = "acknowledged", **kwargs):
    state = CaseState(status=status, severity=None, category=None, handler=ALICE, answer_due_at=DUE)
    return plan_commands(state, parse_commands(text, NOW.date()), (ALICE, BOB), PARIS, NOW, **kwargs)


def changes(plan):
    return [(c.field, c.before, c.after) for c in plan.changes]


def test_status_and_severity_change_with_before_and_after():
    plan = run("#statut en cours\n#gravité haute")
    assert changes(plan) == [("status", "acknowledged", "in_progress"), ("severity", None, "high")]
    assert plan.executed and not plan.problems


def test_reply_answers_and_close_comes_after_it_whatever_the_order():
    plan = run("#clore fondée\n#réponse\nMadame, nous vous remboursons.", status="in_progress")
    assert plan.answer == "Madame, nous vous remboursons."
    assert changes(plan) == [
        ("status", "in_progress", "answered"),
        ("status", "answered", "closed"),
        ("outcome", None, "founded"),
    ]


def test_an_illegal_move_is_a_problem_and_the_rest_still_applies():
    plan = run("#clore fondée\n#gravité basse", status="received")
    assert changes(plan) == [("severity", None, "low")]
    assert [p.line for p in plan.problems] == ["#clore fondée"]


def test_assign_needs_a_configured_handler():
    assert run("#assigner carol@example.com").problems[0].reason is Reason.UNKNOWN_HANDLER
    plan = run("#assigner bob@example.com")
    assert plan.handed_over_to == BOB and changes(plan) == [("handler", "alice@example.com", "bob@example.com")]
    assert run("#assigner alice@example.com").problems[0].reason is Reason.ALREADY_HANDLER


def test_deadline_is_the_end_of_that_day_and_never_past():
    plan = run("#délai 15/12/2026")
    assert plan.deadline_changed and plan.answer_rule == "committed"
    assert plan.state.answer_due_at == datetime(2026, 12, 15, 23, 59, 59, tzinfo=PARIS)
    assert not run("#délai 2026-11-22").deadline_changed


def test_a_category_with_its_own_rule_moves_the_answer_deadline():
    weekend = ((date(2026, 11, 28), "weekend"),)
    sooner = Deadline(datetime(2026, 12, 1, 22, 59, 59, tzinfo=UTC), parse_rule("6bd"), weekend)
    plan = run(
        "#catégorie facturation",
        category_deadline=lambda category: sooner if category == "facturation" else None,
    )
    assert plan.deadline_changed and plan.answer_rule == "6bd" and plan.state.answer_due_at == sooner.at
    assert plan.answer_skipped == weekend
    assert not run("#catégorie livraison", category_deadline=lambda category: None).deadline_changed


def test_a_no_op_is_said_not_silently_ignored():
    plan = run("#statut en cours", status="in_progress")
    assert not plan.executed and plan.problems


def test_help_and_notes():
    assert run("#aide").help
    assert run("#note appelé la cliente").notes == ("appelé la cliente",)


# --- #cause and [causes] categories: (text, configured categories) → (causes recorded, problem) ------

DELIVERY = ("Livraison", "emballage", "erreur humaine")
CAUSES = [
    ("#cause livraison: colis mal étiqueté", DELIVERY, [("colis mal étiqueté", "Livraison")], None),
    ("#cause LIVRAISON : colis mal étiqueté", DELIVERY, [("colis mal étiqueté", "Livraison")], None),
    ("#causes Émballage:carton trop fin", DELIVERY, [("carton trop fin", "emballage")], None),
    ("#cause Erreur  Humaine: saisie inversée", DELIVERY, [("saisie inversée", "erreur humaine")], None),
    ("#cause packaging: box too thin", ("delivery", "packaging"), [("box too thin", "packaging")], None),
    ("#cause le colis est arrivé en retard", DELIVERY, [("le colis est arrivé en retard", None)], None),
    (
        "#cause le transporteur a perdu le colis: retard",
        DELIVERY,
        [("le transporteur a perdu le colis: retard", None)],
        None,
    ),
    ("#cause livraison: colis mal étiqueté", (), [("livraison: colis mal étiqueté", None)], None),
    (
        "#cause transport: retard",
        DELIVERY,
        [],
        "unknown cause category: write #cause <category>: <text>, the category one of "
        "Livraison, emballage, erreur humaine",
    ),
    ("#cause livraison:", DELIVERY, [], "this tag needs a value"),
]


@pytest.mark.parametrize(("text", "categories", "causes", "problem"), CAUSES)
def test_a_cause_is_filed_under_a_configured_category(text, categories, causes, problem):
    plan = run(text, cause_categories=categories)
    assert [(c.text, c.category) for c in plan.causes] == causes
    assert [f"{p.reason} {p.detail}".strip() for p in plan.problems] == ([problem] if problem else [])
