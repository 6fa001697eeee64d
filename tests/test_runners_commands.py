"""Commands by email in process: a reply about a complaint → the register's changes and the letters.

docs/design.md, "Commands by email": only the complaint's handler (or the supervisor) commands, and
only with proof (the token our mail carried); tags count at the top of a reply, never in the quoted
text; every command mail gets a confirmation or an error listing the valid tags; a customer's mail
is a follow-up whatever it says. Each table row is (who replies to which of our letters, with what
text) → (the complaint's status, the letters queued, the history written). The replies are built as
a mail client writes them (tests.harness.reply), from the letters the outbox really holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from babel.dates import format_date

from daemon.runners.desk import Desk
from daemon.runners.sweep import Sweeper
from tests.harness import complaint, reply
from tests.runners import (
    ALICE,
    BOB,
    CUSTOMER,
    START,
    FakeClock,
    Letter,
    history,
    ingest,
    kinds,
    make_desk,
    queued,
    relay,
    reminders,
    show,
)

HOUR, DAY = timedelta(hours=1), timedelta(days=1)
LETTERS = {"customer_letters": {"ask_satisfaction": True}}
PHOTO = ("photo.pdf", b"%PDF-photo", "application/pdf")
ANSWER = "#réponse\nMadame,\nnous vous remboursons intégralement la théière.\nCordialement"
NO_REMINDERS = {"reminders": {"before": [], "digest_days": []}}


@dataclass
class Case:
    """A complaint registered, acknowledged and handed to Bob, with the letters a reply can answer."""

    desk: Desk
    clock: FakeClock
    reference: str
    notification: Letter
    ack: Letter

    def mail(self, sender: str, to: Letter, body: str, **options) -> list[Letter]:
        """`sender` replies to our letter `to`; returns the letters this reply queued."""
        before = len(queued(self.desk))
        self.clock.advance(HOUR)
        ingest(self.desk, reply(to.message, sender, body, **options))
        return queued(self.desk)[before:]

    def events(self) -> list[str]:
        return [event for event, _ in history(self.desk, self.reference)]


def registered(tmp_path, **sections) -> Case:
    clock = FakeClock()
    desk = make_desk(tmp_path, clock, **{**LETTERS, **sections})
    [reference] = ingest(desk, complaint(1, subject="Colis abîmé", attachment=PHOTO)).references
    ack, notification = relay(desk)
    assert (ack.kind, notification.kind, notification.to) == ("acknowledgement", "handler_notification", BOB)
    return Case(desk, clock, reference, notification, ack)


@dataclass(frozen=True)
class Row:
    sender: str
    to: str  # "notification" or "ack": which of our letters the reply answers
    body: str
    status: str
    letters: list[tuple[str, str]]
    events: list[str]
    forged: bool = False  # no thread, no token: only the reference in a hand-written subject
    attachment: tuple[str, bytes] | None = None
    sections: dict | None = None  # configuration sections other than the defaults


CUSTOMER_FROM = f"Camille Durand <{CUSTOMER}>"
CONFIRMED = ("command_reply", BOB)
MAILS = [
    pytest.param(
        Row(
            BOB,
            "notification",
            "#statut en cours\n#Gravité HAUTE\n\nJe m'en occupe.",
            "in_progress",
            [("status_changed", CUSTOMER), CONFIRMED],
            ["command_mail", "status", "severity"],
        ),
        id="status and severity",
    ),
    pytest.param(
        Row(BOB, "notification", "Je regarde cela demain.", "acknowledged", [], ["handler_mail"]),
        id="tags only in the quoted text",
    ),
    pytest.param(
        Row(BOB, "notification", "#frobnicate 3", "acknowledged", [CONFIRMED], ["command_mail"]),
        id="an unknown tag",
    ),
    pytest.param(
        Row(BOB, "notification", "#note appelé la cliente", "acknowledged", [CONFIRMED], ["command_mail", "note"]),
        id="a note",
    ),
    pytest.param(
        Row(
            BOB,
            "notification",
            ANSWER,
            "answered",
            [("answer", CUSTOMER), CONFIRMED],
            ["command_mail", "status"],
            attachment=("avoir.pdf", b"%PDF-avoir"),
        ),
        id="the answer",
    ),
    pytest.param(
        Row(
            BOB,
            "notification",
            "#clore fondée",
            "closed",
            [("closed", CUSTOMER), CONFIRMED],
            ["command_mail", "status", "outcome"],
        ),
        id="closing",
    ),
    pytest.param(
        Row(
            BOB,
            "notification",
            "#délai 2026-12-20",
            "acknowledged",
            [("deadline_changed", CUSTOMER), CONFIRMED],
            ["command_mail", "answer_due"],
        ),
        id="a new answer date",
    ),
    pytest.param(
        Row(
            BOB,
            "notification",
            "#délai 2026-12-20",
            "acknowledged",
            [("deadline_changed", CUSTOMER), CONFIRMED],
            ["command_mail", "answer_due"],
            sections=NO_REMINDERS,
        ),
        id="a new answer date, no reminders configured",
    ),
    pytest.param(
        Row(
            BOB,
            "notification",
            "#assigner alice@example.com",
            "acknowledged",
            [("handover", ALICE), CONFIRMED],
            ["command_mail", "handler"],
        ),
        id="a handover",
    ),
    pytest.param(
        Row(
            CUSTOMER_FROM,
            "ack",
            "Voici une photo du colis.\n#clore fondée",
            "acknowledged",
            [("follow_up_forward", BOB), ("follow_up_received", CUSTOMER)],
            ["follow_up"],
        ),
        id="a customer's #clore",
    ),
    pytest.param(
        Row(
            BOB,
            "notification",
            "#clore non fondée",
            "acknowledged",
            [("command_refused", BOB)],
            ["command_refused"],
            True,
        ),
        id="forged: no token, no thread",
    ),
    pytest.param(
        Row(
            ALICE, "notification", "#statut en cours", "acknowledged", [("command_refused", ALICE)], ["command_refused"]
        ),
        id="another handler, with Bob's token",
    ),
]


@pytest.mark.parametrize("row", MAILS)
def test_a_reply_about_a_complaint(tmp_path, row):
    case = registered(tmp_path, **(row.sections or {}))
    before = case.events()
    to = case.notification if row.to == "notification" else case.ack
    options = {"attachment": row.attachment}
    if row.forged:
        options.update(keep_thread=False, subject=f"[{case.reference}] clôture")
    sent = case.mail(row.sender, to, row.body, **options)
    assert kinds(sent) == row.letters
    assert case.events()[len(before) :] == row.events
    assert show(case.desk, case.reference).status == row.status


def test_status_and_severity_are_confirmed_with_before_and_after(tmp_path):
    case = registered(tmp_path)
    [told, confirmation] = case.mail(BOB, case.notification, "#statut en cours\n#Gravité HAUTE")
    changes = [(e, d) for e, d in history(case.desk, case.reference) if e in ("status", "severity")]
    assert changes[-2:] == [("status", "acknowledged → in_progress"), ("severity", "- → high")]
    assert "[jeton:" in confirmation.subject and confirmation.message["In-Reply-To"]
    assert case.reference in told.subject


def test_an_unknown_tag_gets_an_error_listing_the_valid_tags(tmp_path):
    case = registered(tmp_path)
    [error] = case.mail(BOB, case.notification, "#frobnicate 3")
    assert "#frobnicate 3" in error.text
    for tag in ("#statut", "#gravité", "#délai", "#réponse", "#clore", "#assigner", "#note"):
        assert tag in error.text, tag


def test_a_tag_in_the_quoted_text_is_never_executed(tmp_path):
    """The quoted notification lists "#clore" and the other tags: none of them runs."""
    case = registered(tmp_path)
    assert "#clore" in case.notification.text, "the precondition: our letter shows the tags"
    assert case.mail(BOB, case.notification, "Je regarde cela demain.") == []
    assert ("handler_mail", "Je regarde cela demain.") in history(case.desk, case.reference)


def test_a_new_answer_date_replans_the_reminders_and_tells_the_customer(tmp_path):
    case = registered(tmp_path)
    old_due = show(case.desk, case.reference).answer_due_at
    [told, _] = case.mail(BOB, case.notification, "#délai 20/12/2026")
    new_due = datetime(2026, 12, 20, 22, 59, 59, tzinfo=UTC)  # the end of that day in Paris
    assert show(case.desk, case.reference).answer_due_at == new_due
    for day in (old_due, new_due):
        assert format_date(day.date(), format="full", locale="fr_FR") in told.text
    assert "engagement" in told.text

    rows = [(r.step, r.due_at, r.state) for r in reminders(case.desk, case.reference) if r.deadline == "answer"]
    assert sorted((step, due) for step, due, state in rows if state == "pending") == [
        ("1d@20261220", new_due - DAY),
        ("2h@20261220", new_due - 2 * HOUR),
        ("3d@20261220", new_due - 3 * DAY),
        ("esc-2", new_due),  # the escalations go on counting
    ]
    assert sorted((step, state) for step, due, state in rows if due <= old_due) == [
        ("1d", "cancelled"),
        ("2h", "cancelled"),
        ("3d", "cancelled"),
        ("esc-1", "cancelled"),
    ]

    # The old instants are silent; the new ones speak.
    relay(case.desk)  # the letters of the command mail itself
    for instant, expected in ((old_due - 3 * DAY, []), (old_due, []), (new_due - 3 * DAY, [("reminder", BOB)])):
        case.clock.set(instant)
        Sweeper(case.desk).sweep()
        assert kinds(relay(case.desk)) == expected, instant


def test_the_answer_carries_the_handlers_text_and_file(tmp_path):
    case = registered(tmp_path)
    [answer, _] = case.mail(BOB, case.notification, ANSWER, attachment=("avoir.pdf", b"%PDF-avoir"))
    assert "nous vous remboursons intégralement la théière." in answer.text
    assert "#réponse" not in answer.text
    assert answer.attachments == ["avoir.pdf"]
    assert f"[{case.reference}]" in answer.subject
    assert answer.message["Auto-Submitted"] == "no", "a person wrote it"


@pytest.mark.parametrize(
    "words, recorded",
    [
        ("Oui, merci beaucoup.", ("yes", "yes", "yes", "merci beaucoup.")),
        ("Non. Toujours pas de théière.", ("no", "no", "no", "Toujours pas de théière.")),
        (
            "1 oui\n2 non\n3 oui\nLa théière n'est jamais arrivée.",
            ("yes", "no", "yes", "La théière n'est jamais arrivée."),
        ),
        ("1) 5\n2) 2", ("5", "2", None, "")),
    ],
)
def test_closing_asks_the_three_questions_and_the_answers_are_recorded(tmp_path, words, recorded):
    case = registered(tmp_path)
    [closed, _] = case.mail(BOB, case.notification, "#clore fondée")
    assert "« oui » ou « non »" in closed.text
    assert "  3. Vous souhaitez poursuivre votre relation avec nous :" in closed.text
    sent = case.mail(CUSTOMER_FROM, closed, words)
    assert kinds(sent) == [("follow_up_forward", BOB)], "the answer is forwarded; no receipt for it"
    assert "satisfaction" in case.events()
    satisfaction = show(case.desk, case.reference).satisfaction
    assert satisfaction is not None
    assert (satisfaction.understood, satisfaction.actions, satisfaction.relationship, satisfaction.comment) == recorded
    assert show(case.desk, case.reference).status == "closed"


def test_a_reply_to_the_closing_that_answers_nothing_is_a_follow_up(tmp_path):
    case = registered(tmp_path)
    [closed, _] = case.mail(BOB, case.notification, "#clore fondée")
    sent = case.mail(CUSTOMER_FROM, closed, "Et mon remboursement ?")
    assert ("follow_up_forward", BOB) in kinds(sent)
    assert show(case.desk, case.reference).satisfaction is None
    assert "satisfaction" not in case.events()


def test_a_handover_sends_the_full_case_and_moves_the_right_to_command(tmp_path):
    case = registered(tmp_path)
    sent = case.mail(BOB, case.notification, "#assigner alice@example.com\n#note Alice connaît ce client.")
    [handover] = [letter for letter in sent if letter.kind == "handover"]
    assert handover.to == ALICE
    assert case.reference in handover.subject and "[jeton:" in handover.subject
    assert handover.attachments == ["photo.pdf"], "the stored files go with the case"
    assert "arrivée abîmée" in handover.text, "the customer's own words"
    assert "Alice connaît ce client." in handover.text, "the history, this mail's note included"
    assert show(case.desk, case.reference).handler_email == ALICE

    # Bob's token no longer commands this complaint; Alice's does.
    assert kinds(case.mail(BOB, case.notification, "#statut en cours")) == [("command_refused", BOB)]
    assert show(case.desk, case.reference).status == "acknowledged"
    sent = case.mail("Alice Martin <alice@example.com>", handover, "#statut en cours")
    assert kinds(sent) == [("status_changed", CUSTOMER), ("command_reply", ALICE)]
    assert show(case.desk, case.reference).status == "in_progress"
    events = case.events()
    assert events.count("command_refused") == 1 and "handler" in events and "note" in events


def test_from_received_to_closed_by_handler_replies(tmp_path):
    """The whole story in one register, each step on the state the previous one left."""
    case = registered(tmp_path)
    notification = case.notification
    steps = [
        (BOB, notification, "#statut en cours\n#Gravité HAUTE\n\nJe m'en occupe.", {}),
        (CUSTOMER_FROM, case.ack, "Voici une photo du colis.\n#clore fondée", {}),
        (BOB, notification, "#clore non fondée", {"keep_thread": False, "subject": f"[{case.reference}] clôture"}),
        (BOB, notification, f"#délai {(START + 20 * DAY).date().isoformat()}", {}),
        (BOB, notification, ANSWER, {"attachment": ("avoir.pdf", b"%PDF-avoir")}),
        (BOB, notification, "#clore fondée", {}),
    ]
    statuses = []
    for sender, to, body, options in steps:
        case.mail(sender, to, body, **options)
        statuses.append(show(case.desk, case.reference).status)
    assert statuses == ["in_progress", "in_progress", "in_progress", "in_progress", "answered", "closed"]
    [closed] = queued(case.desk, "closed")
    case.mail(CUSTOMER, closed, "Oui, merci beaucoup.")
    events = case.events()
    for expected in ("received", "routed", "command_mail", "status", "severity", "follow_up", "command_refused"):
        assert expected in events, (expected, events)
    assert events[-1] == "satisfaction" and events.count("answer_due") == 1
    assert show(case.desk, case.reference).answer_due_at.date() == date(2026, 12, 13)
    assert {r.state for r in reminders(case.desk, case.reference)} == {"cancelled"}, "closed: nothing left to remind"
