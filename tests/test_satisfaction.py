"""Reading the customer's satisfaction from their reply to the closing letter (core/satisfaction.py):
the three points, yes/no or a mark, French and English, with or without the question kept."""

from __future__ import annotations

import pytest

from daemon.core.satisfaction import satisfaction_of

CASES = [
    # reply typed by the customer -> (understood, actions, relationship), comment
    ("1 oui\n2 non\n3 oui", ("yes", "no", "yes"), ""),
    ("1. OUI\n2) Non\n3 - Oui\nLe livreur était aimable.", ("yes", "no", "yes"), "Le livreur était aimable."),
    ("1 yes\n2 no\n3 yes\nThanks", ("yes", "no", "yes"), "Thanks"),
    ("1) 4\n2) 2\n3) 5", ("4", "2", "5"), ""),
    (
        "1. Votre réclamation a été comprise et notre réponse vous a été expliquée : oui\n"
        "2. Les actions annoncées ont été engagées et menées à bien : non\n"
        "3. Vous souhaitez poursuivre votre relation avec nous : oui",
        ("yes", "no", "yes"),
        "",
    ),
    ("Compris : oui\nActions : pas encore\nRelation : OUI", ("yes", "no", "yes"), ""),
    ("compréhension: 5\nrelationship: no", ("5", None, "no"), ""),
    ("2 non\nle colis n'est jamais reparti", (None, "no", None), "le colis n'est jamais reparti"),
    ("Oui, merci beaucoup.", ("yes", "yes", "yes"), "merci beaucoup."),
    ("Non. Toujours pas de théière.", ("no", "no", "no"), "Toujours pas de théière."),
    ("satisfaite", ("yes", "yes", "yes"), ""),
]


@pytest.mark.parametrize(("text", "points", "comment"), CASES)
def test_the_three_points_are_read(text, points, comment) -> None:
    found = satisfaction_of(text)
    assert found is not None
    assert (found.understood, found.actions, found.relationship) == points
    assert found.comment == comment


@pytest.mark.parametrize(
    "text",
    [
        "Bonjour, je n'ai toujours pas reçu mon remboursement.",
        "3 colis reçus, tous abîmés",  # a number that is no point's answer
        "",
        "Merci",
    ],
)
def test_a_reply_that_answers_nothing_is_no_satisfaction(text) -> None:
    assert satisfaction_of(text) is None


def test_an_answer_as_a_whole_is_marked_so() -> None:
    whole = satisfaction_of("oui")
    numbered = satisfaction_of("1 oui")
    assert whole is not None and whole.as_a_whole
    assert numbered is not None and not numbered.as_a_whole
    assert str(numbered) == "understood yes, actions -, relationship -"
