"""The command grammar (daemon.core.commands.tags): one table per question, French and English, and the invariant.

Each table row is (what the handler typed, what parse_commands must understand), like h11's
SIMPLE_CASES (docs/style.md item 15). `TODAY` is the clock the tests pass in.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daemon.core.commands.tags import (
    SETTABLE_STATUSES,
    ActionMove,
    Command,
    Commands,
    Compensation,
    CompensationType,
    Complexity,
    Impact,
    NewAction,
    Outcome,
    Problem,
    Reason,
    Scope,
    Severity,
    Tag,
    parse_commands,
)
from daemon.core.commands.words import TAG_WORDS, ActionKind, ActionStatus, grammar
from daemon.core.lifecycle import Status
from daemon.core.routing import fold

TODAY = date(2026, 12, 7)


def only(text: str) -> Command:
    """The one command `text` holds (and no problem)."""
    result = parse_commands(text, TODAY)
    assert result.problems == (), result.problems
    (command,) = result.commands
    return command


def problem(text: str) -> Reason:
    """The one problem `text` holds (and no command)."""
    result = parse_commands(text, TODAY)
    assert result.commands == (), result.commands
    (found,) = result.problems
    return Reason(found.reason)


# --- tag words: every spelling, French and English, any case and accents -------------------------

TAG_SPELLINGS = [
    ("#status in_progress", Tag.STATUS),
    ("#statut en cours", Tag.STATUS),
    ("#STATUT en cours", Tag.STATUS),
    ("#état en cours", Tag.STATUS),
    ("#severity high", Tag.SEVERITY),
    ("#gravité haute", Tag.SEVERITY),
    ("#gravite haute", Tag.SEVERITY),
    ("#GRAVITÉ haute", Tag.SEVERITY),
    ("#sévérité haute", Tag.SEVERITY),
    ("#category billing", Tag.CATEGORY),
    ("#catégorie facturation", Tag.CATEGORY),
    ("#categorie facturation", Tag.CATEGORY),
    ("#assign bob@example.com", Tag.ASSIGN),
    ("#assigner bob@example.com", Tag.ASSIGN),
    ("#attribuer bob@example.com", Tag.ASSIGN),
    ("#affecter bob@example.com", Tag.ASSIGN),
    ("#deadline 2026-12-15", Tag.DEADLINE),
    ("#délai 15/12/2026", Tag.DEADLINE),
    ("#delai 15/12/2026", Tag.DEADLINE),
    ("#échéance 15/12/2026", Tag.DEADLINE),
    ("#Echeance 15/12/2026", Tag.DEADLINE),
    ("#reply Madame,", Tag.REPLY),
    ("#answer Madame,", Tag.REPLY),
    ("#réponse Madame,", Tag.REPLY),
    ("#REPONSE Madame,", Tag.REPLY),
    ("#répondre Madame,", Tag.REPLY),
    ("#close founded", Tag.CLOSE),
    ("#clore fondée", Tag.CLOSE),
    ("#clôturer fondée", Tag.CLOSE),
    ("#clôture fondée", Tag.CLOSE),
    ("#note appelé le client", Tag.NOTE),
    ("#NOTE appelé le client", Tag.NOTE),
    ("#help", Tag.HELP),
    ("#aide", Tag.HELP),
    ("#Aide", Tag.HELP),
    # The evaluation (issue 9).
    ("#complexité moyenne", Tag.COMPLEXITY),
    ("#COMPLEXITE moyenne", Tag.COMPLEXITY),
    ("#complexity medium", Tag.COMPLEXITY),
    ("#impact fort", Tag.IMPACT),
    ("#Impact high", Tag.IMPACT),
    ("#portée systémique", Tag.SCOPE),
    ("#PORTEE systémique", Tag.SCOPE),
    ("#scope systemic", Tag.SCOPE),
    ("#lié REC-2026-000012", Tag.RELATED),
    ("#liée REC-2026-000012", Tag.RELATED),
    ("#lien REC-2026-000012", Tag.RELATED),
    ("#related REC-2026-000012", Tag.RELATED),
    ("#souhait un remboursement", Tag.WISH),
    ("#wish a refund", Tag.WISH),
    ("#cause colis mal calé", Tag.CAUSE),
    ("#Causes colis mal calé", Tag.CAUSE),
    ("#compensation avoir", Tag.COMPENSATION),
    ("#dédommagement avoir", Tag.COMPENSATION),
    ("#geste avoir", Tag.COMPENSATION),
    ("#informer nous attendons le transporteur", Tag.INFORM),
    ("#Inform we are waiting for the carrier", Tag.INFORM),
    ("#information nous attendons le transporteur", Tag.INFORM),
    ("#action 2 faite", Tag.ACTION),
    ("#ACTION 2 done", Tag.ACTION),
]


@pytest.mark.parametrize(("line", "tag"), TAG_SPELLINGS)
def test_tag_spellings(line: str, tag: Tag) -> None:
    assert only(line).tag is tag


def test_every_tag_word_is_in_the_table() -> None:
    spelled = {line.split()[0][1:] for line, _ in TAG_SPELLINGS}
    assert {fold(word) for word in spelled} >= set(TAG_WORDS)
    assert set(TAG_WORDS.values()) == set(Tag)


# --- values: every form -------------------------------------------------------------------------

VALUES = [
    # #status: only in_progress and reopened (decision 4).
    ("#statut en cours", Status.IN_PROGRESS),
    ("#statut En Cours", Status.IN_PROGRESS),
    ("#statut en_cours", Status.IN_PROGRESS),
    ("#statut en-cours", Status.IN_PROGRESS),
    ("#status in progress", Status.IN_PROGRESS),
    ("#status in_progress", Status.IN_PROGRESS),
    ("#status IN_PROGRESS", Status.IN_PROGRESS),
    ("#statut rouvert", Status.REOPENED),
    ("#statut rouverte", Status.REOPENED),
    ("#statut réouverte", Status.REOPENED),
    ("#status reopened", Status.REOPENED),
    # #severity
    ("#gravité basse", Severity.LOW),
    ("#gravité faible", Severity.LOW),
    ("#severity low", Severity.LOW),
    ("#gravité moyenne", Severity.MEDIUM),
    ("#severity Medium", Severity.MEDIUM),
    ("#gravité haute", Severity.HIGH),
    ("#gravité élevée", Severity.HIGH),
    ("#gravité ELEVEE", Severity.HIGH),
    ("#severity high", Severity.HIGH),
    ("#gravité critique", Severity.CRITICAL),
    ("#severity critical", Severity.CRITICAL),
    # #category: the text as written, stripped.
    ("#catégorie Facturation", "Facturation"),
    ("#category  Late delivery  ", "Late delivery"),
    ("#catégorie: Service après-vente", "Service après-vente"),
    # #assign: one address, lower-cased, wherever it sits in the value.
    ("#assigner bob@example.com", "bob@example.com"),
    ("#assign Bob.Martin@Example.COM", "bob.martin@example.com"),
    ("#assigner <bob@example.com>", "bob@example.com"),
    ("#assigner Bob Martin <bob@example.com>", "bob@example.com"),
    ("#assign bob@example.com<mailto:bob@example.com>", "bob@example.com"),
    ("#assign mailto:bob@example.com", "bob@example.com"),
    # #deadline: day first, ISO, words (decision 5).
    ("#deadline 2026-12-15", date(2026, 12, 15)),
    ("#délai 15/12/2026", date(2026, 12, 15)),
    ("#délai 15/12/26", date(2026, 12, 15)),
    ("#délai 5/1/2027", date(2027, 1, 5)),
    ("#délai 15.12.2026", date(2026, 12, 15)),
    ("#délai 15-12-2026", date(2026, 12, 15)),
    ("#délai 15 décembre 2026", date(2026, 12, 15)),
    ("#délai 15 DÉCEMBRE 2026", date(2026, 12, 15)),
    ("#délai 15 déc. 2026", date(2026, 12, 15)),
    ("#délai lundi 15 décembre 2026", date(2026, 12, 15)),
    ("#délai 1er février 2027", date(2027, 2, 1)),
    ("#délai 3 août 2027", date(2027, 8, 3)),
    ("#deadline 15 December 2026", date(2026, 12, 15)),
    ("#deadline December 15, 2026", date(2026, 12, 15)),
    ("#deadline Tuesday, December 15th, 2026", date(2026, 12, 15)),
    ("#délai 07/12/2026", TODAY),  # today is not in the past
    # #close
    ("#clore fondée", Outcome.FOUNDED),
    ("#clore fondee", Outcome.FOUNDED),
    ("#clore FONDÉE", Outcome.FOUNDED),
    ("#clore justifiée", Outcome.FOUNDED),
    ("#close founded", Outcome.FOUNDED),
    ("#clore partiellement fondée", Outcome.PARTLY_FOUNDED),
    ("#clore partiellement", Outcome.PARTLY_FOUNDED),
    ("#close partly_founded", Outcome.PARTLY_FOUNDED),
    ("#close partly founded", Outcome.PARTLY_FOUNDED),
    ("#close partly-founded", Outcome.PARTLY_FOUNDED),
    ("#clore non fondée", Outcome.UNFOUNDED),
    ("#clore non-fondée", Outcome.UNFOUNDED),
    ("#clore infondée", Outcome.UNFOUNDED),
    ("#close unfounded", Outcome.UNFOUNDED),
    ("#close not founded", Outcome.UNFOUNDED),
    ("#clore fondée.", Outcome.FOUNDED),
    # #note and #help
    ("#note appelé le client, il rappelle demain", "appelé le client, il rappelle demain"),
    ("#help", None),
    ("#aide s'il vous plaît", None),
    # The evaluation (issue 9; decision 8).
    ("#complexité simple", Complexity.SIMPLE),
    ("#complexité Moyenne", Complexity.MEDIUM),
    ("#complexité moyen", Complexity.MEDIUM),
    ("#complexity medium", Complexity.MEDIUM),
    ("#complexité COMPLEXE", Complexity.COMPLEX),
    ("#complexity complex", Complexity.COMPLEX),
    ("#impact faible", Impact.LOW),
    ("#impact low", Impact.LOW),
    ("#impact moyen", Impact.MEDIUM),
    ("#impact Medium", Impact.MEDIUM),
    ("#impact fort", Impact.HIGH),
    ("#impact élevé", Impact.HIGH),
    ("#impact HIGH", Impact.HIGH),
    ("#portée isolée", Scope.ISOLATED),
    ("#portée ISOLEE", Scope.ISOLATED),
    ("#scope isolated", Scope.ISOLATED),
    ("#portée systémique", Scope.SYSTEMIC),
    ("#portee systemique", Scope.SYSTEMIC),
    ("#scope Systemic", Scope.SYSTEMIC),
    ("#lié REC-2026-000012", "REC-2026-000012"),
    ("#lié rec-2026-000012.", "REC-2026-000012"),
    ("#related: REC-2026-000012", "REC-2026-000012"),
    ("#souhait Un remboursement intégral", "Un remboursement intégral"),
    ("#wish a new teapot", "a new teapot"),
    ("#cause Colis mal calé au dépôt de Lyon", "Colis mal calé au dépôt de Lyon"),
    # #compensation (decision 9).
    ("#compensation avoir 50 EUR", Compensation(CompensationType.CREDIT, Decimal("50.00"), "EUR")),
    ("#compensation credit 50 EUR", Compensation(CompensationType.CREDIT, Decimal("50.00"), "EUR")),
    ("#compensation Avoir 50€", Compensation(CompensationType.CREDIT, Decimal("50.00"), "EUR")),
    ("#compensation remboursement 49,90 €", Compensation(CompensationType.REFUND, Decimal("49.90"), "EUR")),
    ("#compensation refund 49.9 eur", Compensation(CompensationType.REFUND, Decimal("49.90"), "EUR")),
    ("#geste prestation", Compensation(CompensationType.SERVICE)),
    ("#compensation service 1 CHF", Compensation(CompensationType.SERVICE, Decimal("1.00"), "CHF")),
    ("#compensation excuses", Compensation(CompensationType.APOLOGY)),
    ("#compensation apology", Compensation(CompensationType.APOLOGY)),
    ("#compensation autre 20 euros", Compensation(CompensationType.OTHER, Decimal("20.00"), "EUR")),
    ("#compensation other 20", Compensation(CompensationType.OTHER, Decimal("20.00"))),
    # #inform: the rest of the mail, like #reply (decision 10).
    ("#informer Nous attendons le transporteur.", "Nous attendons le transporteur."),
    # #action (decision 11).
    (
        "#action corrective Former l'équipe de Lyon au contrôle des colis @Paul@Example.com 2027-01-15",
        NewAction(
            ActionKind.CORRECTIVE,
            "Former l'équipe de Lyon au contrôle des colis",
            "paul@example.com",
            date(2027, 1, 15),
        ),
    ),
    (
        "#action Corrective Former l'équipe 15/01/2027 @paul@example.com",
        NewAction(ActionKind.CORRECTIVE, "Former l'équipe", "paul@example.com", date(2027, 1, 15)),
    ),
    ("#action curative Renvoyer une théière", NewAction(ActionKind.CURATIVE, "Renvoyer une théière")),
    ("#action préventive Revoir l'emballage", NewAction(ActionKind.PREVENTIVE, "Revoir l'emballage")),
    ("#action preventive Review the packaging", NewAction(ActionKind.PREVENTIVE, "Review the packaging")),
    ("#action 2 faite", ActionMove(2, ActionStatus.DONE)),
    ("#action 2 Done", ActionMove(2, ActionStatus.DONE)),
    ("#action 2 efficace", ActionMove(2, ActionStatus.VERIFIED)),
    ("#action 2 vérifiée", ActionMove(2, ActionStatus.VERIFIED)),
    ("#action 2 verified", ActionMove(2, ActionStatus.VERIFIED)),
    ("#action 12 abandonnée trop coûteuse", ActionMove(12, ActionStatus.ABANDONED, "trop coûteuse")),
    ("#action 12 abandoned too costly", ActionMove(12, ActionStatus.ABANDONED, "too costly")),
]


@pytest.mark.parametrize(("line", "value"), VALUES)
def test_values(line: str, value: object) -> None:
    command = only(line)
    assert command.value == value
    assert type(command.value) is type(value)
    assert command.line == line.strip()


# --- spacing (decision 6) -----------------------------------------------------------------------

SPACING = [
    "#statut en cours",
    "#statut: en cours",
    "#statut : en cours",
    "#statut :en cours",
    "   #statut en cours   ",
    "\t#statut\ten cours",
    "#statut\xa0en\xa0cours",
    "\u200b#statut en cours",
    "#statut   en    cours",
]


@pytest.mark.parametrize("line", SPACING)
def test_generous_spacing(line: str) -> None:
    assert only(line).value == Status.IN_PROGRESS


# --- problems -----------------------------------------------------------------------------------

PROBLEMS = [
    ("#foo bar", Reason.UNKNOWN_TAG),
    ("#statuts en cours", Reason.UNKNOWN_TAG),
    ("#REC-2026-000042", Reason.UNKNOWN_TAG),
    ("# statut en cours", Reason.SPACE_AFTER_HASH),
    ("#statut", Reason.MISSING_VALUE),
    ("#statut :", Reason.MISSING_VALUE),
    ("#gravité", Reason.MISSING_VALUE),
    ("#catégorie", Reason.MISSING_VALUE),
    ("#délai", Reason.MISSING_VALUE),
    ("#clore", Reason.MISSING_VALUE),
    ("#note", Reason.MISSING_VALUE),
    ("#statut fini", Reason.UNKNOWN_STATUS),
    ("#statut en cours, je regarde", Reason.UNKNOWN_STATUS),
    ("#statut clos", Reason.STATUS_NOT_SETTABLE),
    ("#status closed", Reason.STATUS_NOT_SETTABLE),
    ("#status answered", Reason.STATUS_NOT_SETTABLE),
    ("#statut répondu", Reason.STATUS_NOT_SETTABLE),
    ("#status received", Reason.STATUS_NOT_SETTABLE),
    ("#status acknowledged", Reason.STATUS_NOT_SETTABLE),
    ("#gravité grave", Reason.UNKNOWN_SEVERITY),  # high or critical? Never guess.
    ("#severity urgent", Reason.UNKNOWN_SEVERITY),
    ("#assigner", Reason.NO_ADDRESS),
    ("#assigner Bob", Reason.NO_ADDRESS),
    ("#assigner bob@", Reason.NO_ADDRESS),
    ("#assigner bob@example.com alice@example.com", Reason.NO_ADDRESS),
    ("#délai demain", Reason.BAD_DATE),
    ("#délai 15/12", Reason.BAD_DATE),  # no year: not a guess
    ("#délai 31/02/2027", Reason.BAD_DATE),
    ("#délai 15/13/2026", Reason.BAD_DATE),
    ("#deadline 12/15/2026", Reason.BAD_DATE),  # day first: month 15 does not exist
    ("#délai 15 brumaire 2026", Reason.BAD_DATE),
    ("#délai 15/12/2026 à 17h", Reason.BAD_DATE),
    ("#délai 06/12/2026", Reason.PAST_DATE),
    ("#deadline 2025-12-15", Reason.PAST_DATE),
    ("#clore oui", Reason.UNKNOWN_OUTCOME),
    ("#clore fondée ou pas", Reason.UNKNOWN_OUTCOME),
    ("#reply", Reason.EMPTY_REPLY),
    ("#réponse\n\n   \n", Reason.EMPTY_REPLY),
    ("#réponse Madame,\nnous avons…\n#clore fondée", Reason.TAG_IN_REPLY),
    ("#statut en cours\n#statut rouvert", Reason.CONFLICT),
    ("#complexité", Reason.MISSING_VALUE),
    ("#souhait", Reason.MISSING_VALUE),
    ("#cause", Reason.MISSING_VALUE),
    ("#complexité difficile", Reason.UNKNOWN_COMPLEXITY),
    ("#complexity hard", Reason.UNKNOWN_COMPLEXITY),
    ("#impact énorme", Reason.UNKNOWN_IMPACT),
    ("#impact critical", Reason.UNKNOWN_IMPACT),
    ("#portée générale", Reason.UNKNOWN_SCOPE),
    ("#scope global", Reason.UNKNOWN_SCOPE),
    ("#lié", Reason.MISSING_VALUE),
    ("#lié la réclamation de M. Dupont", Reason.NO_REFERENCE),
    ("#related REC-2026-000012 REC-2026-000013", Reason.NO_REFERENCE),
    ("#portée isolée\n#scope systemic", Reason.CONFLICT),
    ("#compensation", Reason.MISSING_VALUE),
    ("#compensation cadeau", Reason.UNKNOWN_COMPENSATION),
    ("#compensation 50 EUR", Reason.UNKNOWN_COMPENSATION),
    ("#compensation avoir cinquante euros", Reason.BAD_AMOUNT),
    ("#compensation avoir 50 EUR pour le retard", Reason.BAD_AMOUNT),
    ("#compensation avoir 50 dollars", Reason.BAD_AMOUNT),
    ("#informer", Reason.MISSING_VALUE),
    ("#action", Reason.MISSING_VALUE),
    ("#action urgente Former l'équipe", Reason.UNKNOWN_ACTION),
    ("#action corrective", Reason.UNKNOWN_ACTION),
    ("#action 2", Reason.UNKNOWN_ACTION),
    ("#action 2 presque", Reason.UNKNOWN_ACTION),
    ("#action 2 abandonnée", Reason.MISSING_REASON),
    ("#action corrective Former l'équipe 2025-01-15", Reason.PAST_DATE),
    ("#informer Madame,\nnous attendons.\n#clore fondée", Reason.TAG_IN_REPLY),
]


@pytest.mark.parametrize(("text", "reason"), PROBLEMS)
def test_problems(text: str, reason: Reason) -> None:
    found = parse_commands(text, TODAY)
    assert found.commands == ()
    assert {Reason(p.reason) for p in found.problems} == {reason}
    assert found.has_commands
    assert all(p.line == p.line.strip() and p.line.startswith("#") for p in found.problems)


# Reasons found when a well-formed command meets the complaint (tests/test_commands.py).
APPLYING = {
    Reason.ILLEGAL_MOVE,
    Reason.UNKNOWN_HANDLER,
    Reason.ALREADY_HANDLER,
    Reason.NO_CHANGE,
    Reason.UNKNOWN_REFERENCE,
    Reason.SAME_COMPLAINT,
    Reason.UNKNOWN_ACTION_NUMBER,
    Reason.ILLEGAL_ACTION_MOVE,
    Reason.UNKNOWN_CAUSE_CATEGORY,  # the categories are the configuration's (tests/test_commands.py)
}


def test_every_reason_is_reachable() -> None:
    assert {reason for _, reason in PROBLEMS} == set(Reason) - APPLYING


def test_conflict_reports_both_lines_and_same_value_is_kept_once() -> None:
    found = parse_commands("#gravité haute\n#severity low", TODAY)
    assert found.commands == ()
    assert [p.line for p in found.problems] == ["#gravité haute", "#severity low"]
    found = parse_commands("#gravité haute\n#severity high\n#note a\n#note b", TODAY)
    assert [(c.tag, c.value) for c in found.commands] == [
        (Tag.SEVERITY, Severity.HIGH),
        (Tag.NOTE, "a"),
        (Tag.NOTE, "b"),
    ]


# --- the block: where it starts and ends (decision 1) --------------------------------------------

BLOCKS = [
    # (top text, the tags understood, in order)
    ("", []),
    ("Bonjour,\nrien à signaler.", []),
    ("\n\n  \n#statut en cours", [Tag.STATUS]),
    ("#statut en cours\n#gravité haute", [Tag.STATUS, Tag.SEVERITY]),
    ("#statut en cours\n\n\n#gravité haute", [Tag.STATUS, Tag.SEVERITY]),
    ("#statut en cours\nMerci de votre patience.\n#gravité haute", [Tag.STATUS]),
    ("Bonjour,\n#statut en cours", []),  # under a greeting: not at the top
    ("#1 priority for me\n#statut en cours", []),  # "#1" is not a tag: the block is empty
    ("# Compte rendu\n#statut en cours", []),  # a heading, not a tag
    ("##statut en cours", []),
    ("#statut en cours\n\nVoir #clore fondée plus tard.", [Tag.STATUS]),
    ("#statut en cours\n\nLe client écrit :\n#clore fondée", [Tag.STATUS]),
    ("#note appel\nle client rappelle\n#gravité haute", [Tag.NOTE, Tag.SEVERITY]),
    ("#note appel\n\nle client rappelle\n#gravité haute", [Tag.NOTE]),
    ("#clore fondée\n#réponse Madame,\nvoici.\n\n#hashtag au milieu de la réponse", [Tag.CLOSE, Tag.REPLY]),
    ("#aide", [Tag.HELP]),
]


@pytest.mark.parametrize(("text", "tags"), BLOCKS)
def test_block_rule(text: str, tags: list[Tag]) -> None:
    found = parse_commands(text, TODAY)
    assert [c.tag for c in found.commands] == tags
    assert found.problems == ()
    assert found.has_commands == bool(tags)


def test_an_unknown_tag_inside_the_block_does_not_end_it() -> None:
    found = parse_commands("#statut en cours\n#gravitee haute\n#catégorie Livraison", TODAY)
    assert [c.tag for c in found.commands] == [Tag.STATUS, Tag.CATEGORY]
    assert [(p.line, p.reason) for p in found.problems] == [("#gravitee haute", Reason.UNKNOWN_TAG)]


# --- #reply and #note text capture --------------------------------------------------------------

REPLY_TEXTS = [
    (
        "#réponse Madame,\n\nNous avons remboursé.\n  - 12,50 €\n\nCordialement",
        "Madame,\n\nNous avons remboursé.\n  - 12,50 €\n\nCordialement",
    ),
    ("#réponse\nMadame,\nvoici.", "Madame,\nvoici."),
    ("#réponse :\n\n\nMadame,\nvoici.\n\n\n", "Madame,\nvoici."),
    ("#reply: Dear Sir, done.", "Dear Sir, done."),
    ("#statut en cours\n#réponse Madame,\nvoici #1 de nos engagements.", "Madame,\nvoici #1 de nos engagements."),
    ("#réponse Madame,\nnotre référence #REC-2026-000042.", "Madame,\nnotre référence #REC-2026-000042."),
]


@pytest.mark.parametrize(("text", "answer"), REPLY_TEXTS)
def test_reply_takes_everything_after_it(text: str, answer: str) -> None:
    (reply,) = [c for c in parse_commands(text, TODAY).commands if c.tag is Tag.REPLY]
    assert reply.value == answer


def test_several_related_and_causes_are_each_kept_once() -> None:
    found = parse_commands(
        "#lié REC-2026-000012\n#lié REC-2026-000013\n#lié REC-2026-000012\n"
        "#cause colis mal calé\n#cause transporteur pressé\n\n#souhait un avoir\nou un échange",
        TODAY,
    )
    assert found.problems == ()
    assert [(c.tag, c.value) for c in found.commands] == [
        (Tag.RELATED, "REC-2026-000012"),
        (Tag.RELATED, "REC-2026-000013"),
        (Tag.CAUSE, "colis mal calé"),
        (Tag.CAUSE, "transporteur pressé"),
        (Tag.WISH, "un avoir\nou un échange"),
    ]


def test_note_takes_its_paragraph() -> None:
    (note,) = parse_commands("#note Appel du client\nil attend un avoir\n\nPS: rien", TODAY).commands
    assert note.value == "Appel du client\nil attend un avoir"
    (note,) = parse_commands("#note\nsur la ligne suivante", TODAY).commands
    assert note.value == "sur la ligne suivante"


def test_crlf_text() -> None:
    found = parse_commands("#statut en cours\r\n#réponse Madame,\r\nvoici.\r\n", TODAY)
    assert [c.value for c in found.commands] == [Status.IN_PROGRESS, "Madame,\nvoici."]


# --- the values themselves ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "value"),
    [
        (Tag.STATUS, "answered"),
        (Tag.STATUS, "closed"),
        (Tag.SEVERITY, "grave"),
        (Tag.CLOSE, "maybe"),
        (Tag.ASSIGN, "Bob@Example.com"),
        (Tag.ASSIGN, "bob"),
        (Tag.DEADLINE, "2026-12-15"),
        (Tag.DEADLINE, datetime(2026, 12, 15)),
        (Tag.REPLY, "   "),
        (Tag.NOTE, ""),
        (Tag.CATEGORY, None),
        (Tag.HELP, "x"),
        (Tag.IMPACT, "critical"),
        (Tag.SCOPE, "systémique"),
        (Tag.RELATED, "the other one"),
        (Tag.WISH, " "),
        (Tag.COMPENSATION, "avoir 50 EUR"),
    ],
)
def test_a_command_cannot_hold_a_wrong_value(tag: Tag, value: object) -> None:
    with pytest.raises(ValueError):
        Command(tag, value, f"#{tag.value} {value}")  # type: ignore[arg-type]


def test_command_types_its_values() -> None:
    assert Command(Tag.STATUS, "in_progress", "#status in_progress").value is Status.IN_PROGRESS
    assert Command(Tag.CLOSE, "founded", "#close founded").value is Outcome.FOUNDED
    assert {Status.IN_PROGRESS, Status.REOPENED} == SETTABLE_STATUSES
    with pytest.raises(ValueError):
        Problem("#x", "some reason the letters cannot translate")
    with pytest.raises(ValueError):
        Commands(("not a command",))  # type: ignore[arg-type]
    assert not Commands().has_commands
    assert Commands(problems=(Problem("#x", Reason.UNKNOWN_TAG),)).has_commands


# --- the help letter ----------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["fr", "en"])
def test_grammar_examples_parse_as_their_tag(language: str) -> None:
    # The placeholders the examples show, filled in the way a handler would.
    filled = {"…": "texte", "JJ/MM/AAAA": "15/12/2099", "YYYY-MM-DD": "2099-12-15"}
    tags = []
    for example, meaning in grammar(language):
        assert meaning and example.startswith("#")
        for placeholder, value in filled.items():
            example = example.replace(placeholder, value)
        tags.append(only(example).tag)
    assert sorted(set(tags)) == sorted(Tag)  # every tag has an example (#action has two: create and move)


def test_grammar_falls_back_to_english() -> None:
    assert grammar("de") == grammar("en") != grammar("fr")
    assert grammar("fr-FR") == grammar("fr_CA") == grammar("FR") == grammar("fr")


# --- the invariant (docs/style.md item 17) -------------------------------------------------------------

COMMANDISH = st.lists(
    st.one_of(
        st.sampled_from(
            [line for line, _ in TAG_SPELLINGS] + [line for line, _ in PROBLEMS] + ["", "#", "# ", "Bonjour"]
        ),
        st.text(max_size=40),
        st.builds(lambda w, v: f"#{w} {v}", st.sampled_from(sorted(TAG_WORDS)), st.text(max_size=30)),
    ),
    max_size=12,
).map("\n".join)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), COMMANDISH), st.dates())
def test_parse_commands_never_raises(text: str, today: date) -> None:
    found = parse_commands(text, today)
    assert isinstance(found, Commands)
    for command in found.commands:
        if command.tag is Tag.DEADLINE:
            assert command.value >= today
