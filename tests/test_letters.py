"""The internal letters: new complaint, reminder, escalation, digest, and an action's reminder and
overdue alert, in French and English."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import jinja2
import pytest

from daemon.core.letters import (
    ActionOverdueFacts,
    ActionReminderFacts,
    AttachmentLine,
    ComplaintSummary,
    DigestFacts,
    EscalationFacts,
    HandlerNotificationFacts,
    Letter,
    PreviousComplaint,
    PreviousComplaints,
    QualityReportFacts,
    ReminderFacts,
    Templates,
    builtin_templates_dir,
    find_token,
    render_action_overdue,
    render_action_reminder,
    render_digest,
    render_escalation,
    render_handler_notification,
    render_quality_report,
    render_reminder,
)
from daemon.core.lifecycle import Status
from daemon.core.reminders import DeadlineKind
from daemon.core.routing import RouteRule

TOKEN = "Ab3xK9_q-Zt2"

COMPLAINT = ComplaintSummary(
    reference="REC-2026-000042",
    status=Status.IN_PROGRESS,
    customer_name="Marie Dupont",
    customer_email="marie.dupont@example.com",
    subject="Colis abîmé",
    # Monday 7 December 2026 13:05 UTC is 14:05 in Paris.
    received_at=datetime(2026, 12, 7, 13, 5, tzinfo=UTC),
    ack_due_at=datetime(2026, 12, 9, 13, 5, tzinfo=UTC),  # Wednesday 9 December, 14:05 Paris.
    answer_due_at=datetime(2026, 12, 17, 22, 59, 59, tzinfo=UTC),  # Thursday 17 December, 23:59:59 Paris.
)

NOTIFICATION = HandlerNotificationFacts(
    complaint=COMPLAINT,
    token=TOKEN,
    handler_name="Alice Martin",
    body="Bonjour,\nle colis est arrivé abîmé.\n\nMarie",
    attachments=(AttachmentLine("photo.jpg", 1_234_567), AttachmentLine("bon.pdf", 50_000)),
    attachments_attached=True,
    routing_rule=RouteRule.KEYWORD_SUBJECT,
    routing_match="colis",
)

# Monday 14 December 2026, 23:00 in Paris: the answer is due in 3 days.
MONDAY_EVENING = datetime(2026, 12, 14, 22, 0, tzinfo=UTC)

REMINDER = ReminderFacts(
    complaint=COMPLAINT,
    token=TOKEN,
    handler_name="Alice Martin",
    deadline=DeadlineKind.ANSWER,
    now=MONDAY_EVENING,
    late=False,
    planned_at=MONDAY_EVENING,
)

ESCALATION = EscalationFacts(
    complaint=COMPLAINT,
    handler_name="Alice Martin",
    handler_email="alice.martin@example.com",
    supervisor_name="Sophie Bernard",
    deadline=DeadlineKind.ANSWER,
    number=2,
    now=COMPLAINT.answer_due_at + timedelta(days=2, hours=1),
    late=False,
    planned_at=COMPLAINT.answer_due_at + timedelta(days=1),
)


def summary(reference: str, status: Status, answer_due_at: datetime, **changes: object) -> ComplaintSummary:
    return dataclasses.replace(COMPLAINT, reference=reference, status=status, answer_due_at=answer_due_at, **changes)  # type: ignore[arg-type]


DIGEST = DigestFacts(
    handler_name="Alice Martin",
    day=date(2026, 12, 14),
    now=MONDAY_EVENING,
    # Given out of order: the letter sorts by answer due date.
    complaints=(
        summary("REC-2026-000042", Status.IN_PROGRESS, datetime(2026, 12, 17, 22, 59, 59, tzinfo=UTC)),
        summary(
            "REC-2026-000007",
            Status.ACKNOWLEDGED,
            datetime(2026, 12, 5, 22, 59, 59, tzinfo=UTC),
            customer_name="",
            customer_email="jean@example.org",
            subject="Remboursement",
        ),
        summary("REC-2026-000051", Status.REOPENED, datetime(2026, 12, 24, 22, 59, 59, tzinfo=UTC), subject=""),
    ),
    late=False,
    planned_at=MONDAY_EVENING,
)

# Action 2 is due on Friday 18 December 2026, whose end (23:59:59 in Paris) is 22:59:59 UTC.
ACTION_DUE = date(2026, 12, 18)
ACTION_END = datetime(2026, 12, 18, 22, 59, 59, tzinfo=UTC)

# To an owner who is not the complaint's handler: no token, since a reply of theirs cannot command.
ACTION_REMINDER = ActionReminderFacts(
    complaint=COMPLAINT,
    number=2,
    kind="corrective",
    text="Former l'équipe de Lyon au calage des colis",
    due=ACTION_DUE,
    due_at=ACTION_END,
    token=None,
    owner_name="",
    handler_name="Alice Martin",
    handler_email="alice.martin@example.com",
    now=ACTION_END - timedelta(days=3),
    late=False,
    planned_at=ACTION_END - timedelta(days=3),
)
# To the handler, owner of the action (or of an action without owner): their token, a reply commands.
ACTION_REMINDER_TO_HANDLER = dataclasses.replace(ACTION_REMINDER, token=TOKEN, owner_name="Alice Martin")

QUALITY_REPORT = QualityReportFacts(
    "Claire Qualité",
    "2026-11",
    date(2026, 11, 1),
    date(2026, 11, 30),
    datetime(2026, 12, 1, 6, 0, tzinfo=UTC),
    12,
    0.75,
    None,
    3,
    1,
    "rapport-reclamations-2026-11.html",
)
ACTION_OVERDUE = ActionOverdueFacts(
    complaint=COMPLAINT,
    number=2,
    kind="corrective",
    text="Former l'équipe de Lyon au calage des colis",
    owner="paul@example.com",
    due=ACTION_DUE,
    due_at=ACTION_END,
    handler_name="Alice Martin",
    handler_email="alice.martin@example.com",
    supervisor_name="Sophie Bernard",
    alert=1,
    now=ACTION_END + timedelta(days=2),
    late=False,
    planned_at=ACTION_END,
)


@pytest.fixture(scope="module")
def fr() -> Templates:
    return Templates("fr")


@pytest.fixture(scope="module")
def en() -> Templates:
    return Templates("en")


def bodies(letter: Letter) -> tuple[str, str]:
    """The plain text, and the HTML without its tags (entities kept), to look for the same sentences."""
    return letter.text, re.sub(r"<[^>]+>", "", letter.html).replace("&#39;", "'")


def test_every_letter_has_its_three_files_in_both_languages() -> None:
    for language in ("fr", "en"):
        for name in ("handler_notification", "reminder", "escalation", "digest", "action_reminder", "action_overdue"):
            for part in ("subject", "txt", "html"):
                assert (builtin_templates_dir() / language / f"{name}.{part}.j2").is_file()
        for shared in ("_labels.j2", "_blocks.txt.j2", "_blocks.html.j2"):
            assert (builtin_templates_dir() / language / shared).is_file()


# --- new complaint, to the handler ---------------------------------------------------------------


def test_french_handler_notification(fr: Templates) -> None:
    letter = render_handler_notification(fr, NOTIFICATION)
    assert letter.subject == f"[REC-2026-000042] Nouvelle réclamation : Colis abîmé [jeton:{TOKEN}]"
    for body in bodies(letter):
        assert "Bonjour Alice Martin," in body
        assert "selon le mot-clé « colis » trouvé dans l'objet" in body
        assert "REC-2026-000042" in body
        assert "Marie Dupont" in body and "marie.dupont@example.com" in body
        assert "lundi 7 décembre 2026 à 14:05" in body
        assert "au plus tard le mercredi 9 décembre 2026 à 14:05" in body
        assert "au plus tard le jeudi 17 décembre 2026 à 23:59" in body
        assert "le colis est arrivé abîmé." in body
        assert "photo.jpg (1,2 Mo)" in body and "bon.pdf (50 ko)" in body
        assert "jointes à ce message" in body and "conservées dans le registre" not in body
        assert "en cours" in body
        for tag in (
            "#statut en cours",
            "#gravité haute",
            "#catégorie facturation",
            "#assigner bob@example.com",
            "#délai 2026-12-15",
            "#réponse",
            "#clore fondée",
            "#note",
            "partiellement fondée",
            "non fondée",
        ):
            assert tag in body
        assert f"[jeton:{TOKEN}]" in body
        assert "le texte qui suit est envoyé au client" in body
    assert "  - photo.jpg (1,2 Mo)\n" in letter.text
    assert "\n\n\n" not in letter.text


def test_english_handler_notification(en: Templates) -> None:
    letter = render_handler_notification(en, NOTIFICATION)
    assert letter.subject == f"[REC-2026-000042] New complaint: Colis abîmé [token:{TOKEN}]"
    for body in bodies(letter):
        assert 'because of the keyword "colis" in its subject' in body.replace("&#34;", '"')
        assert "Monday, December 7, 2026 at 2:05 PM" in body
        assert "by Wednesday, December 9, 2026 at 2:05 PM" in body
        assert "by Thursday, December 17, 2026 at 11:59 PM" in body
        assert "photo.jpg (1.2 MB)" in body
        for tag in (
            "#status in_progress",
            "#severity high",
            "#category billing",
            "#assign bob@example.com",
            "#deadline 2026-12-15",
            "#reply",
            "#close founded",
            "partly_founded",
            "unfounded",
            "#note",
        ):
            assert tag in body
        assert f"[token:{TOKEN}]" in body


@pytest.mark.parametrize(
    ("language", "rule", "matched", "sentence"),
    [
        ("fr", RouteRule.CATEGORY, "facturation", "selon sa catégorie « facturation »"),
        ("fr", RouteRule.SENDER_DOMAIN, "bigclient.fr", "selon le domaine de l'expéditeur (bigclient.fr)"),
        ("fr", RouteRule.KEYWORD_BODY, "colis", "selon le mot-clé « colis » trouvé dans le message"),
        ("fr", RouteRule.DEFAULT, "", "par défaut, aucune règle d'attribution ne lui correspondant"),
        ("en", RouteRule.SENDER_DOMAIN, "bigclient.fr", "because of the sender's domain (bigclient.fr)"),
        ("en", RouteRule.DEFAULT, "", "by default, as no routing rule matched it"),
    ],
)
def test_the_routing_reason_is_in_the_letter(language: str, rule: RouteRule, matched: str, sentence: str) -> None:
    facts = dataclasses.replace(NOTIFICATION, routing_rule=rule, routing_match=matched)
    for body in bodies(render_handler_notification(Templates(language), facts)):
        assert sentence in body


EARLIER = (
    PreviousComplaint("REC-2026-000007", datetime(2026, 3, 2, 9, 0, tzinfo=UTC), Status.CLOSED, "partly_founded"),
    PreviousComplaint("REC-2026-000031", datetime(2026, 10, 5, 9, 0, tzinfo=UTC), Status.IN_PROGRESS),
)


@pytest.mark.parametrize(
    ("language", "total", "heading", "line"),
    [
        (
            "fr",
            2,
            "Les 2 réclamations précédentes de ce client :",
            "REC-2026-000007 du lundi 2 mars 2026 : close, partiellement fondée",
        ),
        (
            "fr",
            14,
            "Les 2 dernières des 14 réclamations précédentes de ce client :",
            "REC-2026-000031 du lundi 5 octobre 2026 : en cours",
        ),
        (
            "en",
            2,
            "This customer's 2 previous complaints:",
            "REC-2026-000007 of Monday, March 2, 2026: closed, partly founded",
        ),
        (
            "en",
            14,
            "The latest 2 of this customer's 14 previous complaints:",
            "REC-2026-000031 of Monday, October 5, 2026: in progress",
        ),
    ],
)
def test_the_customers_previous_complaints_are_listed(language: str, total: int, heading: str, line: str) -> None:
    facts = dataclasses.replace(NOTIFICATION, previous=PreviousComplaints(EARLIER, total))
    for body in bodies(render_handler_notification(Templates(language), facts)):
        assert heading in body.replace("&#39;", "'") and line in body
    assert "précédente" not in render_handler_notification(Templates("fr"), NOTIFICATION).text


def test_attachments_kept_in_the_register(fr: Templates) -> None:
    letter = render_handler_notification(fr, dataclasses.replace(NOTIFICATION, attachments_attached=False))
    for body in bodies(letter):
        assert "conservées dans le registre (elles ne sont pas jointes à ce message)" in body
    letter = render_handler_notification(fr, dataclasses.replace(NOTIFICATION, attachments=()))
    assert "Pièces jointes" not in letter.text
    assert "<ul>" not in letter.html


def test_empty_complaint_text(fr: Templates) -> None:
    letter = render_handler_notification(fr, dataclasses.replace(NOTIFICATION, body="  \n"))
    assert "(message vide)" in letter.text
    assert "(message vide)" in letter.html


@pytest.mark.parametrize("language", ["fr", "en"])
def test_html_escapes_what_the_customer_wrote(language: str) -> None:
    complaint = dataclasses.replace(COMPLAINT, customer_name="<b>Mallory</b>", subject="<script>alert('x')</script>")
    facts = dataclasses.replace(
        NOTIFICATION,
        complaint=complaint,
        body="<img src=x onerror=alert(1)>\nligne 2",
        attachments=(AttachmentLine('<svg onload="alert(1)">.pdf', 10),),
        routing_rule=RouteRule.KEYWORD_BODY,
        routing_match="<i>colis</i>",
    )
    templates = Templates(language)
    letters = [
        render_handler_notification(templates, facts),
        render_reminder(templates, dataclasses.replace(REMINDER, complaint=complaint)),
        render_escalation(templates, dataclasses.replace(ESCALATION, complaint=complaint)),
        render_digest(templates, dataclasses.replace(DIGEST, complaints=(complaint,))),
    ]
    for letter in letters:
        for raw in ("<script>", "<b>Mallory", "<img", "<svg", "<i>colis"):
            assert raw not in letter.html
        assert "&lt;script&gt;" in letter.html
        assert "&lt;b&gt;Mallory&lt;/b&gt;" in letter.html
    notification = letters[0].html
    assert "&lt;img src=x onerror=alert(1)&gt;<br>\nligne 2" in notification
    assert "&lt;svg onload=&#34;alert(1)&#34;&gt;.pdf" in notification
    assert "&lt;i&gt;colis&lt;/i&gt;" in notification
    # Plain text and subjects are not HTML: they carry the words as written.
    assert "<script>alert('x')</script>" in letters[0].text
    assert "<script>alert('x')</script>" in letters[0].subject


def test_subject_is_one_line_and_keeps_the_token_last(fr: Templates) -> None:
    hostile = "Bonjour\r\nBcc: victim@example.com\n\n" + "très long " * 20
    letter = render_handler_notification(
        fr, dataclasses.replace(NOTIFICATION, complaint=dataclasses.replace(COMPLAINT, subject=hostile))
    )
    assert "\n" not in letter.subject and "\r" not in letter.subject
    assert "…" in letter.subject
    assert letter.subject.endswith(f"[jeton:{TOKEN}]")


def test_find_token_reads_a_reply_subject(fr: Templates, en: Templates) -> None:
    for templates in (fr, en):
        for letter in (render_handler_notification(templates, NOTIFICATION), render_reminder(templates, REMINDER)):
            assert find_token(letter.subject) == TOKEN
            assert find_token("RE: TR: " + letter.subject) == TOKEN
    assert find_token("[REC-2026-000042] Colis [jeton:old] [JETON:new]") == "new"
    assert find_token("[REC-2026-000042] Colis abîmé") is None


@pytest.mark.parametrize("token", ["", "abc def", "abc]", "[jeton:x]", "é"])
def test_a_token_that_would_not_survive_a_subject_is_refused(token: str) -> None:
    with pytest.raises(ValueError, match="token"):
        dataclasses.replace(NOTIFICATION, token=token)


def test_an_override_that_drops_the_token_fails_loudly(tmp_path: Path) -> None:
    (tmp_path / "handler_notification.subject.j2").write_text(
        "[{{ complaint.reference }}] Nouvelle réclamation", encoding="utf-8"
    )
    with pytest.raises(ValueError, match="token marker"):
        render_handler_notification(Templates("fr", override_dir=tmp_path), NOTIFICATION)
    (tmp_path / "reminder.subject.j2").write_text(
        "[jeton:{{ token }}] Rappel {{ complaint.reference }}", encoding="utf-8"
    )
    with pytest.raises(ValueError, match="must end with"):
        render_reminder(Templates("fr", override_dir=tmp_path), REMINDER)


# --- reminders -----------------------------------------------------------------------------------


def test_french_reminder(fr: Templates) -> None:
    letter = render_reminder(fr, REMINDER)
    assert (
        letter.subject
        == f"[REC-2026-000042] Rappel : échéance de la réponse dans 3 jours – Colis abîmé [jeton:{TOKEN}]"
    )
    for body in bodies(letter):
        assert "L'échéance de la réponse pour la réclamation REC-2026-000042 approche" in body
        assert "jeudi 17 décembre 2026 à 23:59" in body
        assert "dans 3 jours" in body
        assert "Marie Dupont" in body and "Colis abîmé" in body
        assert "#statut en cours" in body
        assert "en retard" not in body


def test_english_reminder(en: Templates) -> None:
    letter = render_reminder(en, REMINDER)
    assert letter.subject == f"[REC-2026-000042] Reminder: answer deadline in 3 days – Colis abîmé [token:{TOKEN}]"
    for body in bodies(letter):
        assert "The answer deadline of complaint REC-2026-000042 is near" in body
        assert "Thursday, December 17, 2026 at 11:59 PM, in 3 days" in body
        assert "#status in_progress" in body
        assert "sent late" not in body


@pytest.mark.parametrize(
    ("language", "before", "words"),
    [
        ("fr", timedelta(hours=2), "dans 2 heures"),
        ("fr", timedelta(days=1), "dans 1 jour"),
        ("fr", timedelta(days=10), "dans 10 jours"),
        ("fr", timedelta(minutes=30), "dans 30 minutes"),
        ("en", timedelta(hours=2), "in 2 hours"),
        ("en", timedelta(days=10), "in 10 days"),
    ],
)
def test_time_remaining_in_words(language: str, before: timedelta, words: str) -> None:
    facts = dataclasses.replace(REMINDER, now=COMPLAINT.answer_due_at - before)
    letter = render_reminder(Templates(language), facts)
    assert words in letter.subject
    assert words in letter.text


def test_acknowledgement_reminder(fr: Templates) -> None:
    facts = dataclasses.replace(REMINDER, deadline=DeadlineKind.ACK, now=COMPLAINT.ack_due_at - timedelta(hours=2))
    letter = render_reminder(fr, facts)
    assert "échéance de l'accusé de réception dans 2 heures" in letter.subject
    assert "L'échéance de l'accusé de réception pour la réclamation REC-2026-000042 approche" in letter.text
    assert "mercredi 9 décembre 2026 à 14:05, dans 2 heures" in letter.text


@pytest.mark.parametrize("language", ["fr", "en"])
def test_late_sentence_only_when_late(language: str) -> None:
    templates = Templates(language)
    planned = datetime(2026, 12, 14, 17, 0, tzinfo=UTC)  # 18:00 Paris.
    sentence = {
        "fr": "Ce rappel part en retard : il était prévu le lundi 14 décembre 2026 à 18:00",
        "en": "This reminder is sent late: it was planned for Monday, December 14, 2026 at 6:00 PM",
    }[language]
    on_time = render_reminder(templates, dataclasses.replace(REMINDER, planned_at=planned))
    late = render_reminder(templates, dataclasses.replace(REMINDER, planned_at=planned, late=True))
    for body in bodies(on_time):
        assert sentence not in body
    for body in bodies(late):
        assert sentence in body


def test_reminder_after_the_deadline_says_it_passed(fr: Templates) -> None:
    facts = dataclasses.replace(REMINDER, now=COMPLAINT.answer_due_at + timedelta(hours=2), late=True)
    letter = render_reminder(fr, facts)
    assert "échéance de la réponse dépassée" in letter.subject
    assert "est passée : elle tombait le jeudi 17 décembre 2026 à 23:59 (il y a 2 heures)" in letter.text


# --- the quality report ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "language, subject, lines",
    [
        (
            "fr",
            "Rapport des réclamations 2026-11 : 12 réclamations, 1 en retard",
            (
                "Bonjour Claire Qualité,",
                "Accusés de réception dans les délais : 75.0 %",
                "Réponses dans les délais : –",
            ),
        ),
        (
            "en",
            "Complaints report 2026-11: 12 complaints, 1 overdue",
            (
                "Hello Claire Qualité,",
                "Acknowledged in time: 75.0 %",
                "Answered in time: –",
                "Open: 3, of which 1 overdue",
            ),
        ),
    ],
)
def test_the_quality_report_letter(language: str, subject: str, lines: tuple[str, ...]) -> None:
    letter = render_quality_report(Templates(language), QUALITY_REPORT)
    assert letter.subject == subject
    for line in lines:
        assert line in letter.text
    assert "rapport-reclamations-2026-11.html" in letter.text and "75.0 %" in letter.html


# --- escalations ---------------------------------------------------------------------------------


def test_french_escalation(fr: Templates) -> None:
    letter = render_escalation(fr, ESCALATION)
    assert letter.subject == "[REC-2026-000042] Échéance de la réponse dépassée (2e alerte) – Colis abîmé"
    for body in bodies(letter):
        assert "Bonjour Sophie Bernard," in body
        assert "L'échéance de la réponse pour la réclamation REC-2026-000042 est dépassée de 2 jours" in body
        assert "elle tombait le jeudi 17 décembre 2026 à 23:59" in body
        assert "C'est la 2e alerte pour cette échéance." in body
        assert "Alice Martin" in body and "alice.martin@example.com" in body
        assert "Marie Dupont" in body
        assert "en retard" not in body
    assert "Gestionnaire désigné : Alice Martin <alice.martin@example.com>" in letter.text
    # The supervisor does not get the handler's token.
    assert find_token(letter.subject) is None


def test_english_escalation(en: Templates) -> None:
    letter = render_escalation(en, ESCALATION)
    assert letter.subject == "[REC-2026-000042] Answer deadline missed (2nd alert) – Colis abîmé"
    for body in bodies(letter):
        assert "The answer deadline of complaint REC-2026-000042 was missed 2 days ago" in body
        assert "This is the 2nd alert for this deadline." in body
        assert "Thursday, December 17, 2026 at 11:59 PM" in body


@pytest.mark.parametrize(
    ("language", "number", "words"),
    [
        ("fr", 1, "(1re alerte)"),
        ("fr", 3, "(3e alerte)"),
        ("en", 1, "(1st alert)"),
        ("en", 3, "(3rd alert)"),
        ("en", 4, "(4th alert)"),
        ("en", 11, "(11th alert)"),
        ("en", 12, "(12th alert)"),
        ("en", 22, "(22nd alert)"),
        ("en", 101, "(101st alert)"),
    ],
)
def test_escalation_ordinals(language: str, number: int, words: str) -> None:
    letter = render_escalation(Templates(language), dataclasses.replace(ESCALATION, number=number))
    assert words in letter.subject


def test_first_escalation_says_first(fr: Templates) -> None:
    letter = render_escalation(fr, dataclasses.replace(ESCALATION, number=1))
    assert "C'est la première alerte pour cette échéance." in letter.text


def test_escalation_of_the_acknowledgement_late(fr: Templates) -> None:
    facts = dataclasses.replace(
        ESCALATION,
        deadline=DeadlineKind.ACK,
        number=1,
        now=COMPLAINT.ack_due_at + timedelta(hours=5),
        late=True,
        planned_at=COMPLAINT.ack_due_at,
    )
    letter = render_escalation(fr, facts)
    assert letter.subject.startswith("[REC-2026-000042] Échéance de l'accusé de réception dépassée (1re alerte)")
    for body in bodies(letter):
        assert "est dépassée de 5 heures" in body
        assert "Cette alerte part en retard : elle était prévue le mercredi 9 décembre 2026 à 14:05" in body


# --- digests -------------------------------------------------------------------------------------


def test_french_digest(fr: Templates) -> None:
    letter = render_digest(fr, DIGEST)
    assert letter.subject == "Vos réclamations ouvertes au lundi 14 décembre 2026 : 3, dont 1 en retard"
    for body in bodies(letter):
        assert "Voici vos 3 réclamations ouvertes au lundi 14 décembre 2026" in body
        assert "1 est en retard" in body
        # Ordered by answer due date: the overdue one first.
        assert body.index("REC-2026-000007") < body.index("REC-2026-000042") < body.index("REC-2026-000051")
        for label in ("accusé envoyé", "en cours", "rouverte"):
            assert label in body
        assert "jean@example.org" in body and "Marie Dupont" in body
        assert "samedi 5 décembre 2026" in body and "jeudi 17 décembre 2026" in body
        assert body.count("EN RETARD") == 1
        assert "(sans objet)" in body
    rows = [line for line in letter.text.splitlines() if "REC-2026-" in line]
    assert rows[0].startswith("EN RETARD  samedi 5 décembre 2026  REC-2026-000007  accusé envoyé")
    assert not rows[1].startswith("EN RETARD")
    # Aligned: every column starts at the same place on every line, the header's included.
    header = next(line for line in letter.text.splitlines() if "Référence" in line)
    for column in ("REC-2026-", "Marie Dupont", "jean@example.org"):
        starts = {line.find(column) for line in rows if column in line}
        assert len(starts) == 1
    assert {row.index("REC-2026-") for row in rows} == {header.index("Référence")}
    assert "<td" in letter.html and letter.html.count("<tr") == 4


def test_english_digest(en: Templates) -> None:
    letter = render_digest(en, DIGEST)
    assert letter.subject == "Your open complaints on Monday, December 14, 2026: 3, 1 overdue"
    for body in bodies(letter):
        assert body.index("REC-2026-000007") < body.index("REC-2026-000042") < body.index("REC-2026-000051")
        for label in ("acknowledged", "in progress", "reopened"):
            assert label in body
        assert body.count("OVERDUE") == 1
        assert "Saturday, December 5, 2026" in body


@pytest.mark.parametrize(
    ("language", "subject", "sentence"),
    [
        (
            "fr",
            "Aucune réclamation ouverte au lundi 14 décembre 2026",
            "Vous n'avez aucune réclamation ouverte au lundi 14 décembre 2026.",
        ),
        (
            "en",
            "No open complaints on Monday, December 14, 2026",
            "You have no open complaints on Monday, December 14, 2026.",
        ),
    ],
)
def test_empty_digest(language: str, subject: str, sentence: str) -> None:
    letter = render_digest(Templates(language), dataclasses.replace(DIGEST, complaints=()))
    assert letter.subject == subject
    for body in bodies(letter):
        assert sentence in body
    assert "<table" not in letter.html


def test_digest_of_one(fr: Templates) -> None:
    letter = render_digest(fr, dataclasses.replace(DIGEST, complaints=DIGEST.complaints[1:2]))
    assert letter.subject == "Vos réclamations ouvertes au lundi 14 décembre 2026 : 1, dont 1 en retard"
    assert "Voici votre réclamation ouverte au lundi 14 décembre 2026 ; elle est en retard." in letter.text


@pytest.mark.parametrize("language", ["fr", "en"])
def test_digest_late_sentence_only_when_late(language: str) -> None:
    templates = Templates(language)
    planned = datetime(2026, 12, 14, 7, 0, tzinfo=UTC)  # 08:00 Paris.
    words = {"fr": "Ce récapitulatif part en retard", "en": "This digest is sent late"}[language]
    assert words not in render_digest(templates, dataclasses.replace(DIGEST, planned_at=planned)).text
    late = render_digest(templates, dataclasses.replace(DIGEST, planned_at=planned, late=True))
    for body in bodies(late):
        assert words in body


# --- labels belong to the templates --------------------------------------------------------------


def test_an_admin_can_change_the_labels(tmp_path: Path) -> None:
    labels = (builtin_templates_dir() / "fr" / "_labels.j2").read_text(encoding="utf-8")
    changed = labels.replace('"in_progress": "en cours"', '"in_progress": "en traitement"').replace(
        '"EN RETARD"', '"HORS DÉLAI"'
    )
    assert changed != labels
    (tmp_path / "_labels.j2").write_text(changed, encoding="utf-8")
    letter = render_digest(Templates("fr", override_dir=tmp_path), DIGEST)
    assert "en traitement" in letter.text and "en traitement" in letter.html
    assert "HORS DÉLAI" in letter.text and "EN RETARD" not in letter.text


def test_a_missing_label_fails_loudly(tmp_path: Path) -> None:
    labels = (builtin_templates_dir() / "fr" / "_labels.j2").read_text(encoding="utf-8")
    (tmp_path / "_labels.j2").write_text(labels.replace('"reopened": "rouverte",\n', ""), encoding="utf-8")
    with pytest.raises(jinja2.UndefinedError):
        render_digest(Templates("fr", override_dir=tmp_path), DIGEST)


# --- facts ---------------------------------------------------------------------------------------


def test_facts_validate() -> None:
    with pytest.raises(ValueError, match="ack_due_at"):
        dataclasses.replace(COMPLAINT, ack_due_at=datetime(2026, 12, 9, 14, 5))
    with pytest.raises(ValueError, match="reference"):
        dataclasses.replace(COMPLAINT, reference=" ")
    with pytest.raises(ValueError):
        dataclasses.replace(COMPLAINT, status="lost")
    with pytest.raises(ValueError, match="now"):
        dataclasses.replace(REMINDER, now=datetime(2026, 12, 14, 23))
    with pytest.raises(ValueError, match="number"):
        dataclasses.replace(ESCALATION, number=0)
    with pytest.raises(ValueError):
        dataclasses.replace(NOTIFICATION, routing_rule="whim")
    with pytest.raises(ValueError, match="date"):
        dataclasses.replace(DIGEST, day=MONDAY_EVENING)


def test_facts_accept_stored_strings() -> None:
    # The shell reads statuses, deadlines and rules back from the register as plain strings.
    assert dataclasses.replace(COMPLAINT, status="closed").status is Status.CLOSED
    assert dataclasses.replace(REMINDER, deadline="ack").deadline is DeadlineKind.ACK
    assert dataclasses.replace(NOTIFICATION, routing_rule="default").routing_rule is RouteRule.DEFAULT


# --- an action's reminder, to its owner, and its overdue alert, to the supervisor -------------------


def test_french_action_reminder_to_an_owner_who_cannot_command(fr: Templates) -> None:
    letter = render_action_reminder(fr, ACTION_REMINDER)
    assert letter.subject == (
        "[REC-2026-000042] Rappel : action 2 à réaliser dans 3 jours – Former l'équipe de Lyon au calage des colis"
    )
    assert find_token(letter.subject) is None, "no token: this owner's reply could not command"
    for body in bodies(letter):
        assert "L'action corrective n° 2 de la réclamation REC-2026-000042" in body
        assert "au plus tard le vendredi 18 décembre 2026, soit dans 3 jours" in body
        assert "Former l'équipe de Lyon au calage des colis" in body
        assert "dites-le à Alice Martin (alice.martin@example.com)" in body
        assert "#action 2 faite" in body and "Une réponse à ce message-ci ne l'enregistre pas" in body
        assert "Marie Dupont" in body and "en retard" not in body


def test_french_action_reminder_to_the_handler_invites_the_command(fr: Templates) -> None:
    letter = render_action_reminder(fr, ACTION_REMINDER_TO_HANDLER)
    assert letter.subject.endswith(f"[jeton:{TOKEN}]") and find_token(letter.subject) == TOKEN
    for body in bodies(letter):
        assert body.count("Bonjour Alice Martin,") == 1
        assert "répondez à ce message en gardant son objet tel quel" in body
        assert "#action 2 faite" in body and "#action 2 abandonnée" in body
        assert "dites-le à" not in body


def test_english_action_reminder(en: Templates) -> None:
    letter = render_action_reminder(en, ACTION_REMINDER_TO_HANDLER)
    assert letter.subject == (
        "[REC-2026-000042] Reminder: action 2 due in 3 days – Former l'équipe de Lyon au calage des colis"
        f" [token:{TOKEN}]"
    )
    for body in bodies(letter):
        assert "Corrective action no. 2 of complaint REC-2026-000042, entrusted to you" in body
        assert "due by Friday, December 18, 2026 at the latest, in 3 days" in body
        assert "#action 2 done" in body
    text, _ = bodies(render_action_reminder(en, ACTION_REMINDER))
    assert "tell Alice Martin (alice.martin@example.com)" in text and "does not record it" in text


@pytest.mark.parametrize("language, words", [("fr", "part en retard"), ("en", "sent late")])
def test_a_late_action_reminder_says_so_and_a_past_day_is_overdue(language: str, words: str) -> None:
    late = dataclasses.replace(ACTION_REMINDER, now=ACTION_END + timedelta(hours=2), late=True)
    letter = render_action_reminder(Templates(language), late)
    assert all(words in body for body in bodies(letter))
    assert ("en retard" if language == "fr" else "overdue") in letter.subject


def test_french_action_overdue(fr: Templates) -> None:
    letter = render_action_overdue(fr, ACTION_OVERDUE)
    assert letter.subject == (
        "[REC-2026-000042] Action 2 en retard (1re alerte) – Former l'équipe de Lyon au calage des colis"
    )
    assert find_token(letter.subject) is None
    for body in bodies(letter):
        assert "Bonjour Sophie Bernard," in body
        assert "L'action corrective n° 2 de la réclamation REC-2026-000042 est en retard de 2 jours" in body
        assert "au plus tard le vendredi 18 décembre 2026, et elle est toujours ouverte" in body
        assert "Responsable : paul@example.com" in body
        assert "même si la réclamation est close" in body
        assert "#action 2 faite" in body and "#action 2 abandonnée" in body


def test_english_action_overdue_of_an_action_without_owner(en: Templates) -> None:
    letter = render_action_overdue(en, dataclasses.replace(ACTION_OVERDUE, owner=None, alert=3))
    assert letter.subject.startswith("[REC-2026-000042] Action 2 overdue (3rd alert)")
    for body in bodies(letter):
        assert "is 2 days overdue: it was due by Friday, December 18, 2026 at the latest" in body
        assert "Owner: Alice Martin" in body and "#action 2 done" in body


def test_action_facts_validate() -> None:
    with pytest.raises(ValueError, match="numbered from 1"):
        dataclasses.replace(ACTION_REMINDER, number=0)
    with pytest.raises(ValueError, match="command token"):
        dataclasses.replace(ACTION_REMINDER, token="a b")
    with pytest.raises(ValueError, match="timezone-aware"):
        dataclasses.replace(ACTION_OVERDUE, now=datetime(2026, 12, 20, 9, 0))
    with pytest.raises(ValueError, match="alert's number"):
        dataclasses.replace(ACTION_OVERDUE, alert=0)
