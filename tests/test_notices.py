"""The letters of a complaint's life: to the customer (answer, new date, status, closing, follow-up
received) and to the handler (confirmation, error, help, refusal, follow-up forwarded, handover)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
import pytest

from daemon.core.commands.words import Reason
from daemon.core.letters import (
    AnswerFacts,
    AttachmentLine,
    Change,
    ChangeField,
    ClosedFacts,
    CommandConfirmationFacts,
    CommandErrorFacts,
    CommandHelpFacts,
    CommandRefusedFacts,
    ComplaintSummary,
    DeadlineChangedFacts,
    Effect,
    FollowUpForwardFacts,
    FollowUpReceivedFacts,
    HandoverFacts,
    HistoryLine,
    Letter,
    Mediator,
    NotUnderstood,
    Outcome,
    RefusalReason,
    Severity,
    StatusChangedFacts,
    Templates,
    builtin_templates_dir,
    find_token,
    render_answer,
    render_closed,
    render_command_confirmation,
    render_command_error,
    render_command_help,
    render_command_refused,
    render_deadline_changed,
    render_follow_up_forward,
    render_follow_up_received,
    render_handover,
    render_status_changed,
)
from daemon.core.lifecycle import Status

TOKEN = "Ab3xK9_q-Zt2"
REF = "REC-2026-000042"
ORGANISATION = "Service réclamations"

COMPLAINT = ComplaintSummary(
    reference=REF,
    status=Status.IN_PROGRESS,
    customer_name="Marie Dupont",
    customer_email="marie.dupont@example.com",
    subject="Colis abîmé",
    # Monday 7 December 2026 13:05 UTC is 14:05 in Paris.
    received_at=datetime(2026, 12, 7, 13, 5, tzinfo=UTC),
    ack_due_at=datetime(2026, 12, 9, 13, 5, tzinfo=UTC),  # Wednesday 9 December, 14:05 Paris.
    answer_due_at=datetime(2026, 12, 17, 22, 59, 59, tzinfo=UTC),  # Thursday 17 December, 23:59:59 Paris.
)
# Tuesday 8 December 2026, 10:00 in Paris: when the handler's (or customer's) mail arrived.
TUESDAY = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
NEW_DUE = datetime(2026, 12, 22, 22, 59, 59, tzinfo=UTC)  # Tuesday 22 December, 23:59:59 Paris.

MEDIATOR = Mediator(name="Médiateur Exemple de la consommation", website="https://mediateur.example")
ATTACHMENTS = (AttachmentLine("geste-commercial.pdf", 50_000),)
GRAMMAR = (
    ("#statut en cours", "passer la réclamation en cours de traitement"),
    ("#gravité haute", "gravité : basse, moyenne, haute ou critique"),
    ("#clore fondée", "clore : fondée, partiellement fondée ou non fondée"),
)
PROBLEM = NotUnderstood("#gravité énorme", "UNKNOWN_SEVERITY")

ANSWER = AnswerFacts(
    complaint=COMPLAINT,
    text="Nous avons examiné votre dossier.\nLe transporteur a reconnu le dommage.\n\nUn avoir vous est accordé.",
    attachments=ATTACHMENTS,
    mediator=MEDIATOR,
    organisation=ORGANISATION,
)
DEADLINE = DeadlineChangedFacts(
    COMPLAINT, COMPLAINT.answer_due_at, NEW_DUE, "Nous attendons l'expertise.", ORGANISATION
)
STATUS = StatusChangedFacts(COMPLAINT, ORGANISATION)
CLOSED = ClosedFacts(COMPLAINT, Outcome.PARTLY_FOUNDED, True, MEDIATOR, ORGANISATION)
FOLLOW_UP = FollowUpReceivedFacts(COMPLAINT, TUESDAY, ATTACHMENTS, ORGANISATION)

CONFIRMATION = CommandConfirmationFacts(
    complaint=COMPLAINT,
    token=TOKEN,
    handler_name="Alice Martin",
    mail_received_at=TUESDAY,
    changes=(
        Change(ChangeField.STATUS, Status.ACKNOWLEDGED, Status.IN_PROGRESS),
        Change(ChangeField.SEVERITY, None, Severity.HIGH),
        Change(ChangeField.ANSWER_DUE, COMPLAINT.answer_due_at, NEW_DUE),
    ),
    effects=(Effect.CUSTOMER_TOLD_DEADLINE, Effect.ANSWER_SENT, Effect.NOTE_ADDED),
    problems=(),
)
ERROR = CommandErrorFacts(COMPLAINT, TOKEN, "Alice Martin", TUESDAY, (PROBLEM,), GRAMMAR)
HELP = CommandHelpFacts(COMPLAINT, TOKEN, "Alice Martin", GRAMMAR)
REFUSED = CommandRefusedFacts(
    reference=REF,
    sender_email="alice.martin@example.com",
    sender_name="Alice Martin",
    reason=RefusalReason.UNVERIFIED,
    mail_received_at=TUESDAY,
    mail_subject="RE: Colis abîmé",
    token=TOKEN,
)
FORWARD = FollowUpForwardFacts(
    COMPLAINT, TOKEN, "Alice Martin", TUESDAY, "Bonjour,\nvoici la photo du colis.", ATTACHMENTS, True
)
HANDOVER = HandoverFacts(
    complaint=COMPLAINT,
    token=TOKEN,
    handler_name="Bruno Petit",
    handed_over_by="Alice Martin <alice.martin@example.com>",
    body="Bonjour,\nle colis est arrivé abîmé.",
    attachments=ATTACHMENTS,
    attachments_attached=False,
    history=(
        HistoryLine(COMPLAINT.received_at, "réclamation reçue"),
        HistoryLine(TUESDAY, "note", "Appeler le transporteur.\nDossier 123."),
    ),
)

CUSTOMER_LETTERS: list[tuple[str, Callable[[Templates, Any], Letter], Any]] = [
    ("answer", render_answer, ANSWER),
    ("deadline_changed", render_deadline_changed, DEADLINE),
    ("status_changed", render_status_changed, STATUS),
    ("closed", render_closed, CLOSED),
    ("follow_up_received", render_follow_up_received, FOLLOW_UP),
]
HANDLER_LETTERS: list[tuple[str, Callable[[Templates, Any], Letter], Any]] = [
    ("command_confirmation", render_command_confirmation, CONFIRMATION),
    ("command_error", render_command_error, ERROR),
    ("command_help", render_command_help, HELP),
    ("command_refused", render_command_refused, REFUSED),
    ("follow_up_forward", render_follow_up_forward, FORWARD),
    ("handover", render_handover, HANDOVER),
]


@pytest.fixture(scope="module")
def fr() -> Templates:
    return Templates("fr")


@pytest.fixture(scope="module")
def en() -> Templates:
    return Templates("en")


def bodies(letter: Letter) -> tuple[str, str]:
    """The plain text, and the HTML without its tags (entities kept), to look for the same sentences."""
    return letter.text, re.sub(r"<[^>]+>", "", letter.html).replace("&#39;", "'").replace("&#34;", '"')


def test_every_letter_has_its_three_files_in_both_languages() -> None:
    for language in ("fr", "en"):
        for name, _, _ in CUSTOMER_LETTERS + HANDLER_LETTERS:
            for part in ("subject", "txt", "html"):
                assert (builtin_templates_dir() / language / f"{name}.{part}.j2").is_file()


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize(("name", "render", "facts"), CUSTOMER_LETTERS, ids=[c[0] for c in CUSTOMER_LETTERS])
def test_customer_letters_keep_the_reference_and_carry_no_token(
    language: str, name: str, render: Callable[[Templates, Any], Letter], facts: Any
) -> None:
    letter = render(Templates(language), facts)
    assert letter.subject.startswith(f"[{REF}] ")
    assert find_token(letter.subject) is None
    greeting, signature = {
        "fr": ("Bonjour Marie Dupont,", "salutations distinguées"),
        "en": ("Dear Marie Dupont,", "Yours sincerely,"),
    }[language]
    for body in bodies(letter):
        assert greeting in body and signature in body and ORGANISATION in body
        assert REF in body
        assert TOKEN not in body
    assert letter.text.endswith(f"\n\n{ORGANISATION}\n")
    assert "\n\n\n" not in letter.text


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize(("name", "render", "facts"), HANDLER_LETTERS, ids=[c[0] for c in HANDLER_LETTERS])
def test_handler_letters_end_with_the_token(
    language: str, name: str, render: Callable[[Templates, Any], Letter], facts: Any
) -> None:
    letter = render(Templates(language), facts)
    marker = {"fr": f"[jeton:{TOKEN}]", "en": f"[token:{TOKEN}]"}[language]
    assert letter.subject.startswith(f"[{REF}] ")
    assert letter.subject.endswith(marker)
    assert find_token("RE: " + letter.subject) == TOKEN
    for body in bodies(letter):
        assert REF in body
    assert "\n\n\n" not in letter.text


# --- the argued answer ---------------------------------------------------------------------------


def test_french_answer(fr: Templates) -> None:
    letter = render_answer(fr, ANSWER)
    assert letter.subject == f"[{REF}] Réponse à votre réclamation – Colis abîmé"
    for body in bodies(letter):
        assert "Vous nous avez adressé le lundi 7 décembre 2026 une réclamation intitulée « Colis abîmé »" in body
        assert "geste-commercial.pdf (50 ko)" in body
        assert "Vous trouverez en pièce jointe le document suivant" in body
        assert (
            "Si cette réponse ne vous donne pas satisfaction, vous avez la possibilité de saisir le médiateur" in body
        )
        assert "Médiateur Exemple de la consommation" in body
        # The outcome comes with the closing.
        assert "fondée" not in body
    assert (
        "Nous avons examiné votre dossier.\nLe transporteur a reconnu le dommage.\n\nUn avoir vous est accordé.\n"
        in letter.text
    )
    assert "<p>Nous avons examiné votre dossier.<br>\nLe transporteur a reconnu le dommage.</p>" in letter.html
    assert "<p>Un avoir vous est accordé.</p>" in letter.html


def test_english_answer(en: Templates) -> None:
    letter = render_answer(en, ANSWER)
    assert letter.subject == f"[{REF}] Answer to your complaint – Colis abîmé"
    for body in bodies(letter):
        assert 'On Monday, December 7, 2026, you sent us a complaint entitled "Colis abîmé"' in body
        assert "geste-commercial.pdf (50 kB)" in body
        assert "Should this answer not satisfy you, you may refer the matter to the mediator" in body


def test_answer_without_mediator_or_attachments(fr: Templates) -> None:
    letter = render_answer(fr, dataclasses.replace(ANSWER, mediator=None, attachments=()))
    for body in bodies(letter):
        assert "médiateur" not in body
        assert "pièce" not in body
    assert "<ul>" not in letter.html


# --- a new answer date ---------------------------------------------------------------------------


def test_french_later_deadline(fr: Templates) -> None:
    letter = render_deadline_changed(fr, DEADLINE)
    assert letter.subject == f"[{REF}] Nouvelle date de réponse à votre réclamation – Colis abîmé"
    for body in bodies(letter):
        assert "au plus tard le mardi 22 décembre 2026" in body
        assert "et non le jeudi 17 décembre 2026 comme nous vous l'avions annoncé" in body
        assert "Cette date butoir devient un engagement de notre part." in body
        assert "Motif : Nous attendons l'expertise." in body
        assert "excuser pour ce délai supplémentaire" in body


def test_earlier_deadline_without_reason(fr: Templates, en: Templates) -> None:
    earlier = datetime(2026, 12, 14, 22, 59, 59, tzinfo=UTC)
    facts = dataclasses.replace(DEADLINE, new_due_at=earlier, reason="  ")
    for body in bodies(render_deadline_changed(fr, facts)):
        assert "plus tôt que prévu : au plus tard le lundi 14 décembre 2026, au lieu du jeudi 17 décembre 2026" in body
        assert "Cette date butoir devient un engagement de notre part." in body
        assert "Motif" not in body and "excuser" not in body
    for body in bodies(render_deadline_changed(en, facts)):
        assert "sooner than expected: by Monday, December 14, 2026 at the latest" in body
        assert "This deadline is now a firm commitment on our part." in body
        assert "Reason" not in body and "apologies" not in body


def test_english_later_deadline(en: Templates) -> None:
    for body in bodies(render_deadline_changed(en, DEADLINE)):
        assert "by Tuesday, December 22, 2026 at the latest, instead of Thursday, December 17, 2026" in body
        assert "This deadline is now a firm commitment on our part." in body


# --- status --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "status", "sentence", "recalls_date"),
    [
        ("fr", Status.IN_PROGRESS, "enregistrée sous la référence REC-2026-000042, est en cours de traitement.", True),
        ("fr", Status.ACKNOWLEDGED, "a fait l'objet d'un accusé de réception.", True),
        ("fr", Status.REOPENED, "a été rouverte et fait l'objet d'un nouvel examen.", True),
        ("fr", Status.ANSWERED, "a reçu notre réponse argumentée.", False),
        ("fr", Status.CLOSED, "est désormais close.", False),
        ("en", Status.IN_PROGRESS, "registered under reference REC-2026-000042, is now being dealt with.", True),
        ("en", Status.CLOSED, "is now closed.", False),
    ],
)
def test_status_in_words(language: str, status: Status, sentence: str, recalls_date: bool) -> None:
    facts = StatusChangedFacts(dataclasses.replace(COMPLAINT, status=status), ORGANISATION)
    date = {"fr": "au plus tard le jeudi 17 décembre 2026", "en": "by Thursday, December 17, 2026 at the latest"}[
        language
    ]
    for body in bodies(render_status_changed(Templates(language), facts)):
        assert sentence in body
        assert (date in body) is recalls_date


# --- closing -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "outcome", "sentence"),
    [
        ("fr", Outcome.FOUNDED, "Au terme de notre examen, nous estimons votre réclamation fondée."),
        (
            "fr",
            Outcome.PARTLY_FOUNDED,
            "Au terme de notre examen, nous estimons votre réclamation partiellement fondée.",
        ),
        ("fr", Outcome.UNFOUNDED, "Au terme de notre examen, nous estimons votre réclamation non fondée."),
        ("en", Outcome.FOUNDED, "Following our review, we consider your complaint founded."),
        ("en", Outcome.PARTLY_FOUNDED, "Following our review, we consider your complaint partly founded."),
        ("en", Outcome.UNFOUNDED, "Following our review, we consider your complaint unfounded."),
    ],
)
def test_closing_states_the_outcome(language: str, outcome: Outcome, sentence: str) -> None:
    letter = render_closed(Templates(language), dataclasses.replace(CLOSED, outcome=outcome))
    assert letter.subject.startswith(f"[{REF}] ")
    for body in bodies(letter):
        assert sentence in body


@pytest.mark.parametrize(
    ("language", "question"),
    [
        (
            "fr",
            "répondre à ce message, en conservant la référence [REC-2026-000042] dans l'objet, "
            "en indiquant pour chacun des trois points ci-dessous",
        ),
        ("en", "reply to this email, keeping the reference [REC-2026-000042] in the subject line, with"),
    ],
)
def test_satisfaction_question_only_when_asked(language: str, question: str) -> None:
    templates = Templates(language)
    for body in bodies(render_closed(templates, CLOSED)):
        assert question in body
    for body in bodies(render_closed(templates, dataclasses.replace(CLOSED, ask_satisfaction=False))):
        assert question not in body
        assert "poursuivre votre relation" not in body and "continue your relationship" not in body


def test_french_closing(fr: Templates) -> None:
    letter = render_closed(fr, CLOSED)
    assert letter.subject == f"[{REF}] Clôture de votre réclamation – Colis abîmé"
    for body in bodies(letter):
        assert "est terminé, et que nous l'avons close" in body
        assert "Votre réclamation a été comprise et notre réponse vous a été expliquée :" in body
        assert "Si la suite donnée à votre réclamation ne vous donne pas satisfaction" in body
        assert "https://mediateur.example" in body
    assert '<a href="https://mediateur.example">' in letter.html
    no_mediator = render_closed(fr, dataclasses.replace(CLOSED, mediator=None))
    assert "médiateur" not in no_mediator.text


# --- follow-up received --------------------------------------------------------------------------


def test_follow_up_received(fr: Templates, en: Templates) -> None:
    letter = render_follow_up_received(fr, FOLLOW_UP)
    assert letter.subject == f"[{REF}] Accusé de réception de votre message complémentaire – Colis abîmé"
    for body in bodies(letter):
        assert "Nous avons bien reçu votre message du mardi 8 décembre 2026 à 10:00" in body
        assert "Il a été joint à votre dossier" in body
        assert "geste-commercial.pdf (50 ko)" in body
        # No new deadline.
        assert "au plus tard" not in body and "décembre 2026 à 23:59" not in body
    for body in bodies(render_follow_up_received(en, dataclasses.replace(FOLLOW_UP, attachments=()))):
        assert "We have received your message of Tuesday, December 8, 2026 at 10:00 AM" in body
        assert "attachment" not in body


# --- command confirmation ------------------------------------------------------------------------


def test_french_confirmation(fr: Templates) -> None:
    letter = render_command_confirmation(fr, CONFIRMATION)
    assert letter.subject == f"[{REF}] Commandes exécutées – Colis abîmé [jeton:{TOKEN}]"
    for body in bodies(letter):
        assert (
            "Votre message du mardi 8 décembre 2026 à 10:00 sur la réclamation REC-2026-000042 a été exécuté." in body
        )
        assert "statut : accusé envoyé → en cours" in body
        assert "gravité : (non renseigné) → haute" in body
        assert "échéance de la réponse : jeudi 17 décembre 2026 à 23:59 → mardi 22 décembre 2026 à 23:59" in body
        assert "client informé de la nouvelle date de réponse" in body
        assert "réponse envoyée au client" in body
        assert "note ajoutée à l'historique" in body
        assert "pas été comprise" not in body
    assert "  - statut : accusé envoyé → en cours\n" in letter.text


def test_english_confirmation(en: Templates) -> None:
    letter = render_command_confirmation(en, CONFIRMATION)
    assert letter.subject == f"[{REF}] Commands carried out – Colis abîmé [token:{TOKEN}]"
    for body in bodies(letter):
        assert "status: acknowledged → in progress" in body
        assert "severity: (not set) → high" in body
        assert "answer sent to the customer" in body


@pytest.mark.parametrize(
    ("change", "french"),
    [
        (Change(ChangeField.CATEGORY, "facturation", "livraison"), "catégorie : facturation → livraison"),
        (
            Change(ChangeField.HANDLER, "alice@example.com", "bob@example.com"),
            "gestionnaire : alice@example.com → bob@example.com",
        ),
        (Change(ChangeField.OUTCOME, None, Outcome.UNFOUNDED), "issue : (non renseigné) → non fondée"),
        (Change(ChangeField.SEVERITY, "low", "critical"), "gravité : basse → critique"),
        (Change(ChangeField.STATUS, "answered", "closed"), "statut : répondue → close"),
    ],
)
def test_every_field_is_worded(fr: Templates, change: Change, french: str) -> None:
    letter = render_command_confirmation(fr, dataclasses.replace(CONFIRMATION, changes=(change,), effects=()))
    for body in bodies(letter):
        assert french in body


def test_partly_right_confirmation_lists_the_errors(fr: Templates, en: Templates) -> None:
    facts = dataclasses.replace(CONFIRMATION, problems=(PROBLEM, NotUnderstood("#délai demain", "BAD_DATE")))
    letter = render_command_confirmation(fr, facts)
    assert letter.subject == f"[{REF}] Commandes exécutées en partie – Colis abîmé [jeton:{TOKEN}]"
    assert (
        "  - « #gravité énorme » : gravité inconnue : basse, moyenne, haute ou critique\n"
        "  - « #délai demain » : ce n'est pas une date : écrivez 15/12/2026 ou 2026-12-15\n"
    ) in letter.text
    for body in bodies(letter):
        assert "a été exécuté en partie" in body
        assert "statut : accusé envoyé → en cours" in body
        assert "Les 2 lignes suivantes n'ont pas été comprises ; elles n'ont pas été exécutées" in body
        assert "#clore fondée" in body  # How to reply with commands.
    english = render_command_confirmation(en, dataclasses.replace(CONFIRMATION, problems=(PROBLEM,)))
    assert english.subject.startswith(f"[{REF}] Commands partly carried out")
    assert "The following line was not understood; it was not carried out" in english.text
    assert '"#gravité énorme": unknown severity: use low, medium, high or critical' in english.text


# --- command error and help ----------------------------------------------------------------------


def test_french_command_error(fr: Templates) -> None:
    letter = render_command_error(fr, ERROR)
    assert letter.subject == f"[{REF}] Commandes non comprises : rien n'a été exécuté [jeton:{TOKEN}]"
    for body in bodies(letter):
        assert "n'a pas été exécuté : rien n'a changé dans la réclamation" in body
        assert "La ligne suivante n'a pas été comprise" in body
        assert "gravité inconnue" in body
        for example, meaning in GRAMMAR:
            assert example in body and meaning in body
    assert "  - « #gravité énorme » : gravité inconnue : basse, moyenne, haute ou critique\n" in letter.text
    # The grammar is aligned in two columns.
    assert "  #statut en cours  passer la réclamation en cours de traitement\n" in letter.text
    assert "  #clore fondée     clore : fondée" in letter.text


def test_english_command_error(en: Templates) -> None:
    letter = render_command_error(en, dataclasses.replace(ERROR, problems=(PROBLEM, PROBLEM)))
    assert letter.subject == f"[{REF}] Commands not understood: nothing was carried out [token:{TOKEN}]"
    for body in bodies(letter):
        assert "was not carried out: nothing changed in the complaint" in body
        assert "The following 2 lines were not understood" in body


def test_command_help(fr: Templates, en: Templates) -> None:
    letter = render_command_help(fr, HELP)
    assert letter.subject == f"[{REF}] Mode d'emploi des commandes [jeton:{TOKEN}]"
    for body in bodies(letter):
        assert "Voici comment piloter la réclamation REC-2026-000042 par courriel." in body
        assert f"il se termine par [jeton:{TOKEN}]" in body
        for example, meaning in GRAMMAR:
            assert example in body and meaning in body
    assert render_command_help(en, HELP).subject == f"[{REF}] How to use commands [token:{TOKEN}]"


# --- command refused -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "reason", "why", "what"),
    [
        (
            "fr",
            RefusalReason.NOT_A_HANDLER,
            "n'est pas celle du gestionnaire désigné de cette réclamation",
            "demandez à son gestionnaire désigné ou au superviseur de vous l'attribuer (commande #assigner)",
        ),
        (
            "fr",
            RefusalReason.UNVERIFIED,
            "il ne portait pas le jeton de la réclamation, et le serveur qui l'a reçu n'a pas pu confirmer",
            "répondez au dernier message que vous avez reçu au sujet de la réclamation REC-2026-000042, "
            "sans en changer l'objet",
        ),
        (
            "fr",
            RefusalReason.TOKEN_OF_ANOTHER_COMPLAINT,
            "le jeton qu'il portait appartient à une autre réclamation",
            "au sujet de la réclamation REC-2026-000042 elle-même",
        ),
        (
            "fr",
            RefusalReason.TOKEN_OF_ANOTHER_HANDLER,
            "le jeton qu'il portait a été remis à un autre gestionnaire",
            "que vous avez reçu vous-même au sujet de la réclamation REC-2026-000042",
        ),
        (
            "en",
            RefusalReason.NOT_A_HANDLER,
            "is not that of this complaint's designated handler",
            "ask its designated handler or the supervisor to assign it to you (command #assign)",
        ),
        (
            "en",
            RefusalReason.UNVERIFIED,
            "no passing DMARC or DKIM check",
            "reply to the last email you received about complaint REC-2026-000042, without changing its subject",
        ),
        (
            "en",
            RefusalReason.TOKEN_OF_ANOTHER_COMPLAINT,
            "the token it carried belongs to another complaint",
            "about complaint REC-2026-000042 itself",
        ),
        (
            "en",
            RefusalReason.TOKEN_OF_ANOTHER_HANDLER,
            "the token it carried was given to another handler",
            "the last email you yourself received about complaint REC-2026-000042",
        ),
    ],
)
def test_each_refusal_reason_is_worded(language: str, reason: RefusalReason, why: str, what: str) -> None:
    letter = render_command_refused(Templates(language), dataclasses.replace(REFUSED, reason=reason))
    for body in bodies(letter):
        assert why in body
        assert what in body
        assert "alice.martin@example.com" in body


def test_french_refusal(fr: Templates) -> None:
    letter = render_command_refused(fr, REFUSED)
    assert letter.subject == f"[{REF}] Message non exécuté : il n'a pas pu être vérifié [jeton:{TOKEN}]"
    for body in bodies(letter):
        assert "Bonjour Alice Martin," in body
        assert "Nous avons reçu le mardi 8 décembre 2026 à 10:00, de l'adresse alice.martin@example.com" in body
        assert "(objet : « RE: Colis abîmé »)" in body
        assert "Il n'a pas été exécuté, car il n'a pas pu être vérifié" in body
        assert "le message est conservé dans son historique" in body
        assert "Ce message-ci porte votre jeton" in body


@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_refusal_to_someone_else_carries_no_token(language: str) -> None:
    facts = dataclasses.replace(REFUSED, reason=RefusalReason.NOT_A_HANDLER, sender_email="bob@example.com", token=None)
    letter = render_command_refused(Templates(language), facts)
    assert letter.subject.startswith(f"[{REF}] ")
    assert find_token(letter.subject) is None
    for body in bodies(letter):
        assert TOKEN not in body
        assert "bob@example.com" in body
        assert "Ce message-ci porte votre jeton" not in body and "This email carries your token" not in body


# --- follow-up forwarded, handover ---------------------------------------------------------------


def test_french_follow_up_forward(fr: Templates) -> None:
    letter = render_follow_up_forward(fr, FORWARD)
    assert letter.subject == f"[{REF}] Nouveau message du client – Colis abîmé [jeton:{TOKEN}]"
    for body in bodies(letter):
        assert "Marie Dupont" in body and "a écrit de nouveau au sujet de la réclamation REC-2026-000042" in body
        assert "Son message du mardi 8 décembre 2026 à 10:00 a été versé au dossier" in body
        assert "voici la photo du colis." in body
        assert "geste-commercial.pdf (50 ko)" in body and "jointes à celui-ci" in body
        assert "#statut en cours" in body and "#clore fondée" in body  # The commands block.
    assert "Bonjour,\nvoici la photo du colis.\n" in letter.text
    assert "Bonjour,<br>\nvoici la photo du colis." in letter.html


def test_english_follow_up_forward(en: Templates) -> None:
    letter = render_follow_up_forward(en, dataclasses.replace(FORWARD, attachments_attached=False, text=" "))
    for body in bodies(letter):
        assert "wrote again about complaint REC-2026-000042" in body
        assert "(empty message)" in body
        assert "kept in the register (they are not attached to this email)" in body
        assert "#status in_progress" in body


def test_french_handover(fr: Templates) -> None:
    letter = render_handover(fr, HANDOVER)
    assert letter.subject == f"[{REF}] Réclamation qui vous est confiée : Colis abîmé [jeton:{TOKEN}]"
    for body in bodies(letter):
        assert "Bonjour Bruno Petit," in body
        assert "La réclamation REC-2026-000042 vous est confiée par Alice Martin" in body
        assert "vous en êtes désormais le gestionnaire désigné" in body
        assert "Merci d'y répondre au plus tard le jeudi 17 décembre 2026 à 23:59" in body
        assert "le colis est arrivé abîmé." in body
        assert "conservées dans le registre" in body
        assert "réclamation reçue" in body and "Appeler le transporteur." in body
        assert "Marie Dupont" in body and "Statut" in body  # The summary.
        assert "#assigner bob@example.com" in body  # The commands block.
    assert "  - lundi 7 décembre 2026 à 14:05 : réclamation reçue\n" in letter.text
    assert "  - mardi 8 décembre 2026 à 10:00 : note – Appeler le transporteur.\n    Dossier 123.\n" in letter.text


def test_handover_of_a_new_complaint_and_without_history(fr: Templates, en: Templates) -> None:
    facts = dataclasses.replace(
        HANDOVER, complaint=dataclasses.replace(COMPLAINT, status=Status.RECEIVED), handed_over_by="", history=()
    )
    text = render_handover(fr, facts).text
    assert "La réclamation REC-2026-000042 vous est confiée : vous en êtes désormais" in text
    assert "Merci d'en accuser réception au plus tard le mercredi 9 décembre 2026 à 14:05" in text
    assert "(aucun événement)" in text
    english = render_handover(en, facts)
    for body in bodies(english):
        assert "Complaint REC-2026-000042 has been handed over to you: you are now its designated handler." in body
        assert "(no event)" in body


# --- escaping ------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["fr", "en"])
def test_html_escapes_what_customers_and_handlers_wrote(language: str) -> None:
    templates = Templates(language)
    complaint = dataclasses.replace(COMPLAINT, customer_name="<b>Mallory</b>", subject="<script>alert('x')</script>")
    hostile = "<img src=x onerror=alert(1)>\nligne 2"
    attachment = (AttachmentLine('<svg onload="alert(1)">.pdf', 10),)
    letters = [
        render_answer(
            templates, dataclasses.replace(ANSWER, complaint=complaint, text=hostile, attachments=attachment)
        ),
        render_deadline_changed(templates, dataclasses.replace(DEADLINE, complaint=complaint, reason=hostile)),
        render_status_changed(templates, StatusChangedFacts(complaint, ORGANISATION)),
        render_closed(templates, dataclasses.replace(CLOSED, complaint=complaint)),
        render_follow_up_received(
            templates, dataclasses.replace(FOLLOW_UP, complaint=complaint, attachments=attachment)
        ),
        render_command_confirmation(
            templates,
            dataclasses.replace(
                CONFIRMATION,
                complaint=complaint,
                changes=(Change(ChangeField.CATEGORY, None, "<img src=x onerror=alert(1)>"),),
                problems=(NotUnderstood("<img src=x onerror=alert(1)>", "UNKNOWN_CAUSE_CATEGORY", "<i>raison</i>"),),
            ),
        ),
        render_command_error(
            templates,
            dataclasses.replace(
                ERROR,
                complaint=complaint,
                problems=(NotUnderstood("#note <img src=x onerror=alert(1)>", "UNKNOWN_TAG"),),
            ),
        ),
        render_command_help(templates, dataclasses.replace(HELP, complaint=complaint)),
        render_command_refused(templates, dataclasses.replace(REFUSED, mail_subject="<img src=x onerror=alert(1)>")),
        render_follow_up_forward(
            templates, dataclasses.replace(FORWARD, complaint=complaint, text=hostile, attachments=attachment)
        ),
        render_handover(
            templates,
            dataclasses.replace(
                HANDOVER,
                complaint=complaint,
                body=hostile,
                attachments=attachment,
                handed_over_by="<b>Eve</b>",
                history=(HistoryLine(TUESDAY, "<i>note</i>", hostile),),
            ),
        ),
    ]
    for letter in letters:
        for raw in ("<script>", "<b>Mallory", "<img", "<svg", "<i>", "<b>Eve"):
            assert raw not in letter.html
    assert "&lt;img src=x onerror=alert(1)&gt;<br>\nligne 2" in letters[0].html
    assert "&lt;script&gt;" in letters[0].html and "&lt;b&gt;Mallory&lt;/b&gt;" in letters[0].html
    assert "&lt;svg onload=&#34;alert(1)&#34;&gt;.pdf" in letters[0].html
    assert "&lt;i&gt;raison&lt;/i&gt;" in letters[5].html
    assert "&lt;i&gt;note&lt;/i&gt;" in letters[10].html
    # Plain text and subjects are not HTML: they carry the words as written.
    assert "<img src=x onerror=alert(1)>\nligne 2" in letters[0].text
    assert "<script>alert('x')</script>" in letters[0].subject


def test_subjects_are_one_line_whatever_was_written(fr: Templates) -> None:
    hostile = "Bonjour\r\nBcc: victim@example.com\n\n" + "très long " * 20
    complaint = dataclasses.replace(COMPLAINT, subject=hostile)
    answer = render_answer(fr, dataclasses.replace(ANSWER, complaint=complaint))
    forward = render_follow_up_forward(fr, dataclasses.replace(FORWARD, complaint=complaint))
    refused = render_command_refused(fr, dataclasses.replace(REFUSED, mail_subject=hostile))
    for letter in (answer, forward, refused):
        assert "\n" not in letter.subject and "\r" not in letter.subject
    assert answer.subject.endswith("…")
    assert forward.subject.endswith(f"[jeton:{TOKEN}]")
    assert "(objet : « Bonjour Bcc: victim@example.com très long" in refused.text


# --- overrides and labels ------------------------------------------------------------------------


def test_an_override_that_drops_the_reference_fails_loudly(tmp_path: Path) -> None:
    (tmp_path / "closed.subject.j2").write_text(
        "Clôture de votre réclamation {{ complaint.reference }}", encoding="utf-8"
    )
    with pytest.raises(ValueError, match=r"must contain \[REC-2026-000042\]"):
        render_closed(Templates("fr", override_dir=tmp_path), CLOSED)


def test_an_override_that_drops_the_token_fails_loudly(tmp_path: Path) -> None:
    (tmp_path / "handover.subject.j2").write_text("[{{ complaint.reference }}] Réclamation confiée", encoding="utf-8")
    with pytest.raises(ValueError, match="token marker"):
        render_handover(Templates("fr", override_dir=tmp_path), HANDOVER)


def test_an_admin_can_change_the_new_labels(tmp_path: Path) -> None:
    labels = (builtin_templates_dir() / "fr" / "_labels.j2").read_text(encoding="utf-8")
    changed = labels.replace('"partly_founded": "partiellement fondée"', '"partly_founded": "fondée en partie"')
    assert changed != labels
    (tmp_path / "_labels.j2").write_text(changed, encoding="utf-8")
    text = render_closed(Templates("fr", override_dir=tmp_path), CLOSED).text
    assert "nous estimons votre réclamation fondée en partie." in text


def test_a_missing_new_label_fails_loudly(tmp_path: Path) -> None:
    labels = (builtin_templates_dir() / "fr" / "_labels.j2").read_text(encoding="utf-8")
    (tmp_path / "_labels.j2").write_text(labels.replace('  "unfounded": "non fondée",\n', ""), encoding="utf-8")
    with pytest.raises(jinja2.UndefinedError):
        render_closed(Templates("fr", override_dir=tmp_path), dataclasses.replace(CLOSED, outcome=Outcome.UNFOUNDED))


# --- facts ---------------------------------------------------------------------------------------


def test_facts_validate() -> None:
    naive = datetime(2026, 12, 8, 10, 0)
    with pytest.raises(ValueError, match="mail_received_at"):
        dataclasses.replace(FOLLOW_UP, mail_received_at=naive)
    with pytest.raises(ValueError, match="answer_due"):
        Change(ChangeField.ANSWER_DUE, None, naive)
    with pytest.raises(ValueError, match="two different values"):
        Change(ChangeField.STATUS, "in_progress", Status.IN_PROGRESS)
    with pytest.raises(ValueError):
        Change(ChangeField.SEVERITY, None, "enormous")
    with pytest.raises(ValueError):
        Change("colour", None, "blue")
    with pytest.raises(ValueError, match="at least one change or effect"):
        dataclasses.replace(CONFIRMATION, changes=(), effects=(), problems=(PROBLEM,))
    with pytest.raises(ValueError, match="at least one line"):
        dataclasses.replace(ERROR, problems=())
    with pytest.raises(ValueError, match="pairs"):
        dataclasses.replace(HELP, commands=())
    with pytest.raises(ValueError, match="pairs"):
        dataclasses.replace(HELP, commands=(("#statut en cours",),))
    with pytest.raises(ValueError, match="token"):
        dataclasses.replace(FORWARD, token="abc def")
    with pytest.raises(ValueError, match="token"):
        dataclasses.replace(REFUSED, token="[jeton:x]")
    with pytest.raises(ValueError):
        dataclasses.replace(REFUSED, reason="unknown")
    with pytest.raises(ValueError, match="differ"):
        dataclasses.replace(DEADLINE, new_due_at=DEADLINE.previous_due_at)
    with pytest.raises(ValueError, match="answer's text"):
        dataclasses.replace(ANSWER, text="  \n")
    with pytest.raises(ValueError, match="organisation"):
        dataclasses.replace(CLOSED, organisation=" ")
    with pytest.raises(ValueError):
        dataclasses.replace(CLOSED, outcome="maybe")
    with pytest.raises(ValueError, match="history"):
        HistoryLine(naive, "note")


def test_facts_accept_stored_strings() -> None:
    # The shell reads codes back from the register as plain strings.
    assert dataclasses.replace(CLOSED, outcome="unfounded").outcome is Outcome.UNFOUNDED
    assert dataclasses.replace(REFUSED, reason="not_a_handler").reason is RefusalReason.NOT_A_HANDLER
    change = Change("severity", "low", "high")
    assert change.field is ChangeField.SEVERITY and change.after is Severity.HIGH
    assert dataclasses.replace(CONFIRMATION, effects=("note_added",)).effects == (Effect.NOTE_ADDED,)
    assert NotUnderstood("#note\r\nBcc: x", "UNKNOWN_TAG").line == "#note Bcc: x"


def test_every_reason_a_line_was_not_understood_is_worded_in_the_letters_language(fr: Templates, en: Templates) -> None:
    """A French handler reads why in French: no English sentence of `Reason` in the French letter."""
    problems = tuple(NotUnderstood(f"#ligne {reason.name}", reason.name) for reason in Reason)
    french = render_command_error(fr, dataclasses.replace(ERROR, problems=problems))
    english = render_command_error(en, dataclasses.replace(ERROR, problems=problems))
    for reason in Reason:
        assert reason.value not in french.text, reason.name
        assert f"#ligne {reason.name}" in french.text and f"#ligne {reason.name}" in english.text
    assert "statut inconnu : écrivez en cours ou rouverte" in french.text
    assert "unknown status: use in progress or reopened" in english.text
