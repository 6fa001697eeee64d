"""The sweep in process, the clock moved by hand: reminders, escalations and digests, each exactly once.

docs/design.md, "Deadlines": reminders at offsets before each deadline, escalations to the supervisor
after a missed one, each sent exactly once even across restarts, a late one marked late. Each table
row is (register state, instant) → the letters the sweep queued, read from the outbox. "Nothing is
sent" is an assertion on the outbox right after the sweep, never a wait for a mail that must not
come. A "restart" is the clock jumping past an instant with no sweep in between; a "second daemon"
is a second desk on the same register file.

The defaults of tests/runners.py apply: acknowledgement in 48 h, answer in 10 calendar days,
reminders 3 days, 1 day and 2 hours before, an escalation a day, 5 minutes' grace before "late".
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

import daemon.runners.sweep as sweep_runner
from daemon.edges.register.views import Filters, list_complaints
from daemon.runners.desk import Desk
from daemon.runners.sweep import Sweeper, SweepResult
from tests.harness import cli_json, complaint, reply, write_config
from tests.runners import (
    ALICE,
    BOB,
    CUSTOMER,
    START,
    SUPERVISOR,
    FakeClock,
    Letter,
    history,
    ingest,
    kinds,
    make_desk,
    queued,
    relay,
    reminders,
)

SECOND, MINUTE, HOUR, DAY = timedelta(seconds=1), timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)
DUE = START + 10 * DAY  # the answer deadline: 10 calendar days, no DST change in between
ACK_DUE = START + 2 * DAY
LATE_WORDS = "part en retard"  # what a reminder, escalation or digest says when it leaves late


def registered(desk: Desk, subject: str = "Remboursement non reçu", acknowledged: bool = True) -> str:
    """A complaint registered now (Alice's, by keyword) whose first letters left; its reference."""
    [reference] = ingest(desk, complaint(1, subject=subject)).references
    relay(desk, refuse=() if acknowledged else (CUSTOMER,))
    return reference


def sweep(desk: Desk) -> tuple[SweepResult, list[Letter]]:
    """One sweep, then the relay: what this sweep made leave."""
    result = Sweeper(desk).sweep()
    return result, relay(desk)


def queued_steps(desk: Desk, reference: str) -> list[str]:
    """The history's account of each reminder or escalation queued, in order."""
    return [detail for event, detail in history(desk, reference) if event.endswith("_queued") and "deadline" in detail]


ON_TIME = [
    pytest.param(DUE - 3 * DAY, "3d", ("reminder", ALICE), id="3 days before the answer deadline"),
    pytest.param(DUE - DAY, "1d", ("reminder", ALICE), id="1 day before"),
    pytest.param(DUE - 2 * HOUR, "2h", ("reminder", ALICE), id="2 hours before"),
    pytest.param(DUE, "esc-1", ("escalation", SUPERVISOR), id="the missed deadline"),
]


@pytest.mark.parametrize("instant, step, letter", ON_TIME)
def test_each_reminder_leaves_once_at_its_instant(tmp_path, instant, step, letter):
    clock = FakeClock()
    desk = make_desk(tmp_path, clock)
    reference = registered(desk)
    clock.set(instant - SECOND)
    sweep(desk)  # the earlier steps leave here
    assert [r.state for r in reminders(desk, reference) if r.step == step and r.deadline == "answer"] == ["pending"]
    _, again = sweep(desk)
    assert again == [], "a second sweep before the instant sends nothing"

    clock.set(instant)
    result, sent = sweep(desk)
    assert kinds(sent) == [letter]
    assert (result.reminders, result.escalations) == ((1, 0) if letter[0] == "reminder" else (0, 1))
    assert LATE_WORDS not in sent[0].text
    [row] = [r for r in reminders(desk, reference) if r.step == step and r.deadline == "answer"]
    assert (row.state, row.late) == ("sent", False)

    for later in (SECOND * 0, MINUTE):
        clock.set(instant + later)
        assert sweep(desk) == (SweepResult(), []), "each reminder leaves once"
    assert sum(f"{step} for the answer deadline" in d for d in queued_steps(desk, reference)) == 1


LATENESS = [
    pytest.param(timedelta(0), False, id="swept at its instant"),
    pytest.param(5 * MINUTE, False, id="within the grace period"),
    pytest.param(5 * MINUTE + SECOND, True, id="just past the grace period"),
    pytest.param(6 * HOUR, True, id="the daemon was down all morning"),
]


@pytest.mark.parametrize("delay, late", LATENESS)
def test_a_reminder_due_while_the_daemon_was_down_leaves_once_marked_late(tmp_path, delay, late):
    """The clock jumps past the "1 day before" instant with no sweep in between (the daemon was
    down): the next sweep sends it once, and the letter says it is late and when it was planned."""
    clock = FakeClock()
    desk = make_desk(tmp_path, clock)
    reference = registered(desk)
    clock.set(DUE - 3 * DAY)
    _, [on_time] = sweep(desk)
    assert LATE_WORDS not in on_time.text

    clock.set(DUE - DAY + delay)
    _, sent = sweep(desk)
    assert kinds(sent) == [("reminder", ALICE)]
    assert (LATE_WORDS in sent[0].text) is late
    [row] = [r for r in reminders(desk, reference) if r.step == "1d" and r.deadline == "answer"]
    assert (row.state, row.late) == ("sent", late)
    assert queued_steps(desk, reference)[-1].endswith("(late)") is late
    assert sweep(desk) == (SweepResult(), [])


def test_escalations_follow_a_missed_deadline_one_per_interval_each_once(tmp_path):
    clock = FakeClock()
    desk = make_desk(tmp_path, clock)
    reference = registered(desk)
    clock.set(DUE - SECOND)
    sweep(desk)  # the three reminders
    for number in (1, 2, 3, 4):
        instant = DUE + (number - 1) * DAY
        clock.set(instant - SECOND)
        assert sweep(desk) == (SweepResult(), [])
        clock.set(instant)
        _, sent = sweep(desk)
        assert kinds(sent) == [("escalation", SUPERVISOR)]
        assert f"({number}{'re' if number == 1 else 'e'} alerte)" in sent[0].subject
        assert LATE_WORDS not in sent[0].text
        assert sweep(desk) == (SweepResult(), [])
    escalations = [d for d in queued_steps(desk, reference) if d.startswith("escalation")]
    assert escalations == [f"escalation esc-{n} for the answer deadline to {SUPERVISOR}" for n in (1, 2, 3, 4)]


def test_a_week_down_gives_one_late_escalation_then_the_usual_rhythm(tmp_path):
    """Not seven alerts in a burst: one, marked late, and the next one on the interval's grid."""
    clock = FakeClock()
    desk = make_desk(tmp_path, clock)
    reference = registered(desk)
    clock.set(DUE - SECOND)
    sweep(desk)
    clock.set(DUE + 7 * DAY + HOUR)
    _, sent = sweep(desk)
    assert kinds(sent) == [("escalation", SUPERVISOR)] and LATE_WORDS in sent[0].text
    [following] = [r for r in reminders(desk, reference) if r.state == "pending" and r.deadline == "answer"]
    assert (following.step, following.due_at) == ("esc-2", DUE + 8 * DAY)
    clock.set(DUE + 8 * DAY)
    _, sent = sweep(desk)
    assert kinds(sent) == [("escalation", SUPERVISOR)] and LATE_WORDS not in sent[0].text


def _started_by_the_handler(desk: Desk) -> None:
    [notification] = queued(desk, "handler_notification")
    ingest(desk, reply(notification.message, BOB, "#statut en cours"))
    relay(desk)


CANCELLED = [("1d", "cancelled"), ("2h", "cancelled"), ("esc-1", "cancelled")]
ACK_DEADLINE = [
    pytest.param(True, None, [], 0, CANCELLED, id="the relay accepted the acknowledgement"),
    pytest.param(
        False,
        None,
        [("reminder", BOB), ("reminder", BOB), ("escalation", SUPERVISOR)],
        0,
        [("1d", "sent"), ("2h", "sent"), ("esc-1", "sent"), ("esc-2", "pending")],
        id="the relay refused it",
    ),
    pytest.param(False, _started_by_the_handler, [], 3, CANCELLED, id="refused, but the handler started work"),
]


@pytest.mark.parametrize("acknowledged, then, letters, cancelled, rows", ACK_DEADLINE)
def test_the_acknowledgement_deadline_is_reminded_only_while_unmet(
    tmp_path, acknowledged, then, letters, cancelled, rows
):
    """A complaint whose acknowledgement left gets no acknowledgement reminder (settling the sent
    letter cancels them); one whose acknowledgement was refused does, and its escalations go on;
    one a handler already took up has them cancelled by the sweep itself."""
    clock = FakeClock()
    desk = make_desk(tmp_path, clock)
    reference = registered(desk, subject="Colis abîmé", acknowledged=acknowledged)
    if then is not None:
        clock.advance(HOUR)
        then(desk)
    sent, result = [], SweepResult()
    for instant in (START + DAY, ACK_DUE - 2 * HOUR, ACK_DUE, ACK_DUE + HOUR):
        clock.set(instant)
        swept, letters_now = sweep(desk)
        sent += letters_now
        result.cancelled += swept.cancelled
    assert kinds(sent) == letters
    assert result.cancelled == cancelled
    assert [(r.step, r.state) for r in reminders(desk, reference) if r.deadline == "ack"] == rows


def test_a_closed_complaint_gets_no_answer_reminder_nor_escalation(tmp_path):
    clock = FakeClock()
    desk = make_desk(tmp_path, clock)
    reference = registered(desk)
    [notification] = queued(desk, "handler_notification")
    clock.advance(DAY)
    ingest(desk, reply(notification.message, ALICE, "#clore non fondée"))
    relay(desk)
    clock.set(DUE + 3 * DAY)
    assert sweep(desk) == (SweepResult(), [])
    assert {r.state for r in reminders(desk, reference)} == {"cancelled"}


class RaceOnce:
    """Wraps a function of the sweep runner so that, the first time it is called, another daemon's
    sweep runs to its end first: the two then claim the same row, as two daemons sweeping at the
    same instant would (Mailman's CrashingRunner idea: a runner with a hole drilled in it)."""

    def __init__(self, real, other: Desk) -> None:
        self.real, self.other = real, other
        self.started, self.raced = False, None

    def __call__(self, *args, **kwargs):
        if not self.started:
            self.started = True  # the other daemon's own call goes straight through
            self.raced = Sweeper(self.other).sweep()
        return self.real(*args, **kwargs)


def test_two_daemons_claiming_the_same_reminder_send_it_once(tmp_path, monkeypatch):
    clock = FakeClock()
    first, second = make_desk(tmp_path, clock), make_desk(tmp_path, clock)
    registered(first)
    clock.set(DUE - 3 * DAY)
    race = RaceOnce(sweep_runner.decide_reminder, second)
    monkeypatch.setattr(sweep_runner, "decide_reminder", race)
    mine = Sweeper(first).sweep()
    assert race.raced is not None and race.raced.reminders == 1, "the other daemon took it first"
    assert mine.reminders == 0, "the claim failed: this daemon sends nothing"
    assert kinds(relay(first)) == [("reminder", ALICE)]


DIGEST = {"before": [], "digest_at": "08:00", "digest_days": ["mon", "tue", "wed", "thu", "fri"]}
TUESDAY_8 = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)  # 08:00 in Paris
SATURDAY_8 = datetime(2026, 11, 28, 7, 0, tzinfo=UTC)

DIGEST_SWEEPS = [
    pytest.param([(TUESDAY_8 - MINUTE, 0)], 0, id="before 08:00"),
    pytest.param([(TUESDAY_8, 0)], 1, id="at 08:00"),
    pytest.param([(TUESDAY_8, 0), (TUESDAY_8 + 9 * HOUR, 0)], 1, id="swept twice the same day"),
    pytest.param([(TUESDAY_8, 0), (TUESDAY_8, 1)], 1, id="two daemons on one register"),
    pytest.param([(TUESDAY_8, 0), (TUESDAY_8 + DAY, 1)], 2, id="two working days"),
    pytest.param([(TUESDAY_8 + DAY + HOUR, 0)], 1, id="down on Tuesday: Wednesday's only"),
    pytest.param([(SATURDAY_8, 0)], 0, id="Saturday is no digest day"),
]


@pytest.mark.parametrize("sweeps, digests", DIGEST_SWEEPS)
def test_a_digest_leaves_once_a_day_and_only_to_a_handler_with_open_complaints(tmp_path, sweeps, digests):
    clock = FakeClock()
    desks = [make_desk(tmp_path, clock, reminders=DIGEST), make_desk(tmp_path, clock, reminders=DIGEST)]
    registered(desks[0], subject="Colis abîmé")  # Bob's; Alice has nothing open
    sent = []
    for instant, daemon in sweeps:
        clock.set(instant)
        sent += sweep(desks[daemon])[1]
    assert kinds(sent) == [("digest", BOB)] * digests


def test_two_daemons_claiming_the_same_digest_send_it_once(tmp_path, monkeypatch):
    clock = FakeClock()
    first, second = make_desk(tmp_path, clock, reminders=DIGEST), make_desk(tmp_path, clock, reminders=DIGEST)
    registered(first, subject="Colis abîmé")
    clock.set(TUESDAY_8)
    race = RaceOnce(sweep_runner.open_cases, second)
    monkeypatch.setattr(sweep_runner, "open_cases", race)
    mine = Sweeper(first).sweep()
    assert race.raced is not None and race.raced.digests == 1
    assert mine.digests == 0
    assert kinds(relay(first)) == [("digest", BOB)]


def test_the_digest_lists_open_complaints_by_answer_due_date(tmp_path):
    """Bob's first complaint is committed to a later date than his second: the digest puts the
    second first. A closed complaint is not listed; Alice, whose only complaint is closed, gets none."""
    clock = FakeClock()
    desk = make_desk(tmp_path, clock, reminders=DIGEST)
    first = registered(desk, subject="Colis abîmé")
    clock.advance(HOUR)
    [second] = ingest(desk, complaint(2, subject="Théière cassée")).references
    [alices] = ingest(desk, complaint(3, subject="Facture en double")).references
    [_, third] = ingest(desk, complaint(4, subject="Colis perdu"), complaint(5, subject="Facture erronée")).references
    relay(desk)
    notifications = {letter.subject.split("]")[0][1:]: letter for letter in queued(desk, "handler_notification")}
    clock.advance(HOUR)
    ingest(desk, reply(notifications[first].message, BOB, "#délai 2026-12-10"))
    ingest(desk, reply(notifications[third].message, ALICE, "#clore non fondée"))
    ingest(desk, reply(notifications[alices].message, ALICE, "#clore fondée"))
    relay(desk)

    clock.set(TUESDAY_8)
    _, sent = sweep(desk)
    assert kinds(sent) == [("digest", BOB)]
    text = sent[0].text
    assert text.index(second) < text.index(first), "by answer due date, not by arrival"
    assert alices not in text and third not in text


LISTED = [
    pytest.param(True, START, {"due_within": 2 * HOUR}, False, id="due in 10 days, not within 2 h"),
    pytest.param(True, DUE - HOUR, {"due_within": 2 * HOUR}, True, id="due within 2 h"),
    pytest.param(True, START, {"overdue": True}, False, id="nothing missed yet"),
    pytest.param(True, ACK_DUE + SECOND, {"overdue": True}, False, id="acknowledged in time"),
    pytest.param(False, ACK_DUE + SECOND, {"overdue": True}, True, id="acknowledgement deadline missed"),
    pytest.param(True, DUE + SECOND, {"overdue": True}, True, id="answer deadline missed"),
    pytest.param(True, START, {"handler": ALICE}, True, id="Alice's"),
    pytest.param(True, START, {"handler": BOB}, False, id="not Bob's"),
]


@pytest.mark.parametrize("acknowledged, instant, filters, listed", LISTED)
def test_the_register_lists_what_is_due_and_what_is_overdue_at_an_instant(
    tmp_path, acknowledged, instant, filters, listed
):
    clock = FakeClock()
    desk = make_desk(tmp_path, clock)
    reference = registered(desk, acknowledged=acknowledged)
    with desk.register.session() as session:
        found = [c.reference for c in list_complaints(session, Filters(now=instant, **filters))]
    assert found == ([reference] if listed else [])


def test_the_cli_reads_the_list_filters_at_the_real_clock(tmp_path):
    """`complaintsd list --due-within/--overdue` as a user types them, on a register written in
    process at the real time (the CLI reads the real clock)."""
    clock = FakeClock(datetime.now(UTC))
    desk = make_desk(tmp_path, clock, register={"answer_deadline": "1h"})
    reference = registered(desk, subject="Colis abîmé")
    nowhere = SimpleNamespace(host="127.0.0.1", port=9, user="nobody@example.com", password="x")
    config = write_config(tmp_path, nowhere, nowhere, answer_deadline="1h")
    assert [c["handler"] for c in cli_json(config, "list", "--due-within", "2h")] == [BOB]
    assert cli_json(config, "list", "--due-within", "10m") == []
    assert cli_json(config, "list", "--overdue") == []
    assert cli_json(config, "show", reference)["handler"] == BOB
