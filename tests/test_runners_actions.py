"""An action's reminders and overdue alerts, in process on a real register with the fake clock.

Issue 9: "An action's owner gets a mail when it is created and reminders before its due date (same
exactly-once machinery as the handler's reminders); the supervisor is told when one is overdue. A
complaint may be closed with actions still open." The reminders leave at the `[reminders] before`
offsets (3 days, 1 day, 2 hours in tests/runners.py) before the end of the due day in Paris, the
overdue alert at that end and again every `escalation_every` (1 day) while the action stays open.
As in tests/test_runners_sweep.py, "nothing is sent" is read from the outbox right after a sweep,
and a restart is a new desk on the same register file.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from daemon.core.letters import find_token
from daemon.presenting import detail_json, detail_text
from daemon.runners.sweep import Sweeper
from tests.harness import complaint, reply
from tests.runners import (
    BOB,
    SUPERVISOR,
    FakeClock,
    Letter,
    config_of,
    history,
    ingest,
    make_desk,
    relay,
    reminders,
    show,
)

SECOND, HOUR, DAY = timedelta(seconds=1), timedelta(hours=1), timedelta(days=1)
PAUL = "paul@example.com"
# Friday 4 December 2026 ends at 23:59:59 in Paris, 22:59:59 UTC.
DUE_DAY = "2026-12-04"
END = datetime(2026, 12, 4, 22, 59, 59, tzinfo=UTC)
ACTION = f"#action corrective Former l'équipe de Lyon au calage des colis @{PAUL} {DUE_DAY}"
ACTION_KINDS = ("action_reminder", "action_overdue")


def registered(tmp_path):
    """A complaint (Bob's) registered now, its first letters sent; the desk, clock, reference and
    Bob's "new complaint" mail, which his commands reply to."""
    clock = FakeClock()
    desk = make_desk(tmp_path, clock)
    [reference] = ingest(desk, complaint(1, subject="Colis abîmé")).references
    [notification] = [letter for letter in relay(desk) if letter.kind == "handler_notification"]
    return desk, clock, reference, notification


def command(desk, clock, to_letter: Letter, body: str, sender: str = BOB) -> list[Letter]:
    """An hour later, `sender` replies to `to_letter` with `body`; the letters that left."""
    clock.advance(HOUR)
    ingest(desk, reply(to_letter.message, sender, body))
    return relay(desk)


def sweep_at(desk, clock, instant: datetime) -> list[Letter]:
    """The clock set to `instant`, one sweep: the letters about actions it made leave."""
    clock.set(instant)
    Sweeper(desk).sweep()
    return [letter for letter in relay(desk) if letter.kind in ACTION_KINDS]


def action_rows(desk, reference: str, number: int = 1) -> list[tuple[str, str, datetime, str]]:
    return [(r.kind, r.step, r.due_at, r.state) for r in reminders(desk, reference) if r.deadline == f"action-{number}"]


def test_the_owner_is_reminded_once_at_each_offset_before_the_end_of_the_day(tmp_path) -> None:
    desk, clock, reference, notification = registered(tmp_path)
    command(desk, clock, notification, ACTION + "\n#action preventive Revoir l'emballage")

    assert action_rows(desk, reference) == [
        ("reminder", "3d", END - 3 * DAY, "pending"),
        ("reminder", "1d", END - DAY, "pending"),
        ("reminder", "2h", END - 2 * HOUR, "pending"),
        ("escalation", "esc-1", END, "pending"),
    ]
    assert action_rows(desk, reference, 2) == [], "an action without a due day has nothing to remind"

    assert sweep_at(desk, clock, END - 3 * DAY - SECOND) == []
    [first] = sweep_at(desk, clock, END - 3 * DAY)
    assert (first.kind, first.to) == ("action_reminder", PAUL)
    assert first.subject.startswith(f"[{reference}] Rappel : action 1 à réaliser dans 3 jours – Former l'équipe")
    assert find_token(first.subject) is None, "Paul is not the handler: his reply could not command"
    assert "L'action corrective n° 1 de la réclamation" in first.text
    assert "au plus tard le vendredi 4 décembre 2026, soit dans 3 jours" in first.text
    assert "dites-le à Bob Durand (bob@example.com)" in first.text and "« #action 1 faite »" in first.text

    assert sweep_at(desk, clock, END - 3 * DAY + SECOND) == [], "a second sweep sends nothing twice"
    restarted = make_desk(tmp_path, clock)  # a restart: a new desk on the same register
    assert sweep_at(restarted, clock, END - 3 * DAY + 2 * SECOND) == []
    [second] = sweep_at(restarted, clock, END - DAY)
    assert (second.kind, second.to) == ("action_reminder", PAUL) and "dans 1 jour" in second.subject
    queued = [detail for event, detail in history(desk, reference) if event == "action_reminder_queued"]
    assert queued == [
        f"reminder 3d for action 1 (due {DUE_DAY}) to {PAUL}",
        f"reminder 1d for action 1 (due {DUE_DAY}) to {PAUL}",
    ]


def test_no_reminder_nor_alert_once_the_action_is_done(tmp_path) -> None:
    desk, clock, reference, notification = registered(tmp_path)
    command(desk, clock, notification, ACTION)
    [_] = sweep_at(desk, clock, END - 3 * DAY)

    command(desk, clock, notification, "#action 1 faite")

    assert [state for *_, state in action_rows(desk, reference)] == ["sent", "cancelled", "cancelled", "cancelled"]
    for instant in (END - DAY, END - 2 * HOUR, END, END + DAY, END + 7 * DAY):
        assert sweep_at(desk, clock, instant) == [], instant


def test_an_action_without_owner_reminds_the_handler_who_marks_it_done_by_replying(tmp_path) -> None:
    desk, clock, reference, notification = registered(tmp_path)
    command(desk, clock, notification, f"#action préventive Revoir l'emballage des théières {DUE_DAY}")

    [reminder] = sweep_at(desk, clock, END - 3 * DAY)
    assert (reminder.kind, reminder.to) == ("action_reminder", BOB)
    assert find_token(reminder.subject) is not None, "the handler may command: the reminder carries his token"
    assert "Bonjour Bob Durand," in reminder.text and "#action 1 faite" in reminder.text

    [confirmation] = command(desk, clock, reminder, "#action 1 faite")

    assert confirmation.kind == "command_reply" and "action : 1 open → 1 done" in confirmation.text
    assert show(desk, reference).actions[0].status == "done"
    assert sweep_at(desk, clock, END - DAY) == [] and sweep_at(desk, clock, END) == []


def test_the_supervisor_is_alerted_after_the_day_and_again_even_once_the_complaint_is_closed(tmp_path) -> None:
    desk, clock, reference, notification = registered(tmp_path)
    command(desk, clock, notification, ACTION)
    command(desk, clock, notification, "#clore fondée")
    assert show(desk, reference).status == "closed"
    assert {state for kind, step, due, state in action_rows(desk, reference)} == {"pending"}
    assert {r.state for r in reminders(desk, reference) if not r.deadline.startswith("action-")} <= {
        "sent",
        "cancelled",
    }, "closing the complaint stopped its own reminders only"

    for instant in (END - 3 * DAY, END - DAY, END - 2 * HOUR):
        [owner_reminder] = sweep_at(desk, clock, instant)
        assert owner_reminder.to == PAUL
    assert sweep_at(desk, clock, END - SECOND) == []
    [alert] = sweep_at(desk, clock, END)
    assert (alert.kind, alert.to) == ("action_overdue", SUPERVISOR)
    assert alert.subject.startswith(f"[{reference}] Action 1 en retard (1re alerte) – Former l'équipe")
    assert "Responsable : paul@example.com" in alert.text and "Statut : close" in alert.text
    assert "même si la réclamation est close" in alert.text and "#action 1 faite" in alert.text

    assert sweep_at(desk, clock, END + DAY - SECOND) == []
    [again] = sweep_at(desk, clock, END + DAY)
    assert (again.kind, again.to) == ("action_overdue", SUPERVISOR) and "(2e alerte)" in again.subject
    assert "est en retard de 1 jour" in again.text
    assert [event for event, _ in history(desk, reference) if event == "action_overdue_queued"] == [
        "action_overdue_queued"
    ] * 2

    command(desk, clock, notification, "#action 1 abandonnée le site de Lyon ferme")
    assert sweep_at(desk, clock, END + 2 * DAY) == [] and sweep_at(desk, clock, END + 9 * DAY) == []


def test_a_daemon_down_over_the_day_sends_one_late_alert_then_goes_back_to_its_rhythm(tmp_path) -> None:
    desk, clock, reference, notification = registered(tmp_path)
    command(desk, clock, notification, ACTION)
    sweep_at(desk, clock, END - 2 * HOUR)  # the three reminders, the first two late

    letters = sweep_at(desk, clock, END + 3 * DAY + HOUR)

    assert [(letter.kind, letter.to) for letter in letters] == [("action_overdue", SUPERVISOR)]
    assert "part en retard" in letters[0].text and "en retard de 3 jours" in letters[0].text
    assert action_rows(desk, reference)[-1] == ("escalation", "esc-2", END + 4 * DAY, "pending")


def test_show_tells_the_state_of_an_actions_reminders(tmp_path) -> None:
    desk, clock, reference, notification = registered(tmp_path)
    command(desk, clock, notification, ACTION)
    sweep_at(desk, clock, END - 3 * DAY)

    [action] = detail_json(show(desk, reference))["actions"]
    assert action["reminders"] == {"sent": 1, "alerts": 0, "next_at": (END - DAY).isoformat()}
    text = detail_text(show(desk, reference), config_of(tmp_path))  # `complaintsd show`, in local time
    assert "action 1:      corrective [open] Former l'équipe" in text
    assert "1 reminder(s) sent, 0 overdue alert(s), next 2026-12-03 23:59" in text

    sweep_at(desk, clock, END)  # the 1d and 2h reminders (late), the first alert
    [action] = detail_json(show(desk, reference))["actions"]
    assert action["reminders"] == {"sent": 3, "alerts": 1, "next_at": (END + DAY).isoformat()}


def test_the_supervisor_owning_an_action_gets_a_token_of_their_own_and_may_reply_done(tmp_path) -> None:
    """The supervisor may command (commands/authorization.py), so their reminder invites the reply; the
    token is theirs, not the handler's, whose token a reply from another address would not pass."""
    desk, clock, reference, notification = registered(tmp_path)
    command(desk, clock, notification, f"#action corrective Auditer le dépôt de Lyon @{SUPERVISOR} {DUE_DAY}")

    [reminder] = sweep_at(desk, clock, END - 3 * DAY)
    assert reminder.to == SUPERVISOR and reminder.text.startswith("Bonjour Qualité,")
    token = find_token(reminder.subject)
    assert token is not None and token != find_token(notification.subject)

    [confirmation] = command(desk, clock, reminder, "#action 1 done", sender=SUPERVISOR)

    assert (confirmation.kind, confirmation.to) == ("command_reply", SUPERVISOR)
    assert show(desk, reference).actions[0].status == "done"
    assert sweep_at(desk, clock, END) == []
