"""Reminders, escalations and digests: what is planned, when it is due, and the clock moved by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from daemon.core.reminders import (
    ActionDeadline,
    DeadlineKind,
    Kind,
    Planned,
    action_due_at,
    deadline_of,
    digest_date,
    is_late,
    next_escalation,
    parse_weekdays,
    plan,
    plan_action,
    replan,
    step_label,
)

PARIS = ZoneInfo("Europe/Paris")
DAY, HOUR = timedelta(days=1), timedelta(hours=1)
OFFSETS = (3 * DAY, DAY, 2 * HOUR)
# Monday 7 December 2026, 14:05 in Paris.
NOW = datetime(2026, 12, 7, 13, 5, tzinfo=UTC)


def steps(planned: tuple[Planned, ...]) -> list[tuple[str, datetime]]:
    return [(p.step, p.due_at) for p in planned]


# --- step_label ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "label"),
    [
        (3 * DAY, "3d"),
        (timedelta(hours=24), "1d"),
        (2 * HOUR, "2h"),
        (timedelta(minutes=90), "90m"),
        (timedelta(hours=36), "36h"),
        (timedelta(seconds=30), "30s"),
        (timedelta(seconds=3601), "3601s"),
        (timedelta(0), "0s"),
    ],
)
def test_step_label(offset: timedelta, label: str) -> None:
    assert step_label(offset) == label


@pytest.mark.parametrize("offset", [timedelta(seconds=-1), timedelta(milliseconds=1500)])
def test_step_label_refuses(offset: timedelta) -> None:
    with pytest.raises(ValueError, match="whole number of seconds"):
        step_label(offset)


# --- plan ----------------------------------------------------------------------------------------


def test_plan_ten_day_answer() -> None:
    due = NOW + 10 * DAY
    planned = plan(DeadlineKind.ANSWER, due, OFFSETS, NOW)
    assert steps(planned) == [("3d", due - 3 * DAY), ("1d", due - DAY), ("2h", due - 2 * HOUR), ("esc-1", due)]
    assert [p.kind for p in planned] == [Kind.REMINDER] * 3 + [Kind.ESCALATION]
    assert {p.deadline for p in planned} == {DeadlineKind.ANSWER}


def test_a_48h_deadline_has_no_3_days_before() -> None:
    due = NOW + 48 * HOUR
    assert steps(plan(DeadlineKind.ACK, due, OFFSETS, NOW)) == [
        ("1d", due - DAY),
        ("2h", due - 2 * HOUR),
        ("esc-1", due),
    ]


def test_a_reminder_exactly_now_is_skipped() -> None:
    # "strictly after now": a reminder due this very instant would be sent at once, i.e. stale.
    due = NOW + DAY
    assert [p.step for p in plan(DeadlineKind.ACK, due, OFFSETS, NOW)] == ["2h", "esc-1"]


def test_a_deadline_already_missed_is_escalated_at_once() -> None:
    due = NOW - HOUR
    assert steps(plan(DeadlineKind.ANSWER, due, OFFSETS, NOW)) == [("esc-1", due)]


def test_same_length_offsets_give_one_reminder() -> None:
    due = NOW + 10 * DAY
    planned = plan(DeadlineKind.ANSWER, due, (DAY, timedelta(hours=24), DAY), NOW)
    assert [p.step for p in planned] == ["1d", "esc-1"]


def test_zero_offset_comes_before_the_escalation() -> None:
    due = NOW + DAY
    planned = plan(DeadlineKind.ANSWER, due, (timedelta(0),), NOW)
    assert [(p.kind, p.step, p.due_at) for p in planned] == [
        (Kind.REMINDER, "0s", due),
        (Kind.ESCALATION, "esc-1", due),
    ]


def test_plan_checks_every_offset_even_past_ones() -> None:
    with pytest.raises(ValueError, match="whole number of seconds"):
        plan(DeadlineKind.ACK, NOW + HOUR, (timedelta(days=-1),), NOW)


def test_plan_stores_utc() -> None:
    due = datetime(2026, 12, 17, 23, 59, 59, tzinfo=PARIS)
    planned = plan(DeadlineKind.ANSWER, due, (), NOW)
    assert planned[0].due_at == due
    assert planned[0].due_at.tzinfo is UTC


@pytest.mark.parametrize(
    ("due", "now"),
    [(datetime(2026, 12, 17), NOW), (NOW, datetime(2026, 12, 7))],
)
def test_plan_refuses_naive_datetimes(due: datetime, now: datetime) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        plan(DeadlineKind.ANSWER, due, OFFSETS, now)


aware = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))
offsets = st.lists(st.integers(min_value=0, max_value=30 * 86400).map(lambda s: timedelta(seconds=s)), max_size=6)


@given(due=aware, now=aware, before=offsets)
def test_plan_properties(due: datetime, now: datetime, before: list[timedelta]) -> None:
    planned = plan(DeadlineKind.ANSWER, due, tuple(before), now)
    reminders = [p for p in planned if p.kind is Kind.REMINDER]
    escalations = [p for p in planned if p.kind is Kind.ESCALATION]
    # Exactly one escalation, "esc-1", at the deadline, and it is last.
    assert [(p.step, p.due_at) for p in escalations] == [("esc-1", due)]
    assert planned[-1] is escalations[0]
    # Never a reminder at or before now; never after the deadline; unique keys; sorted.
    assert all(now < p.due_at <= due for p in reminders)
    assert len({p.step for p in planned}) == len(planned)
    assert [p.due_at for p in planned] == sorted(p.due_at for p in planned)
    # Every offset still ahead of now has its reminder.
    assert {p.step for p in reminders} == {step_label(o) for o in before if due - o > now}


# --- escalations ---------------------------------------------------------------------------------


def test_next_escalation() -> None:
    first = plan(DeadlineKind.ANSWER, NOW, (), NOW)[-1]
    second = next_escalation(first, DAY)
    third = next_escalation(second, DAY)
    assert (second.step, second.due_at) == ("esc-2", NOW + DAY)
    assert (third.step, third.due_at) == ("esc-3", NOW + 2 * DAY)
    assert third.kind is Kind.ESCALATION and third.deadline is DeadlineKind.ANSWER
    assert (first.escalation_number, third.escalation_number) == (1, 3)


def test_next_escalation_after_downtime_skips_to_the_next_slot() -> None:
    # The daemon was down for a week: esc-1 leaves late, esc-2 comes at the next daily slot, not now.
    first = Planned(Kind.ESCALATION, DeadlineKind.ACK, "esc-1", NOW)
    back = NOW + 7 * DAY + HOUR
    second = next_escalation(first, DAY, now=back)
    assert (second.step, second.due_at) == ("esc-2", NOW + 8 * DAY)
    # A slot exactly at `now` is not "after now".
    assert next_escalation(first, DAY, now=NOW + DAY).due_at == NOW + 2 * DAY
    # While on time, `now` changes nothing.
    assert next_escalation(first, DAY, now=NOW).due_at == NOW + DAY


def test_next_escalation_refuses() -> None:
    reminder = Planned(Kind.REMINDER, DeadlineKind.ACK, "2h", NOW)
    assert reminder.escalation_number is None
    with pytest.raises(ValueError, match="only an escalation"):
        next_escalation(reminder, DAY)
    escalation = Planned(Kind.ESCALATION, DeadlineKind.ACK, "esc-1", NOW)
    with pytest.raises(ValueError, match="positive"):
        next_escalation(escalation, timedelta(0))


@given(
    start=aware,
    every=st.integers(min_value=1, max_value=30 * 86400).map(lambda s: timedelta(seconds=s)),
    count=st.integers(min_value=1, max_value=20),
    now=st.none() | aware,
)
def test_next_escalation_strictly_increases(
    start: datetime, every: timedelta, count: int, now: datetime | None
) -> None:
    current = Planned(Kind.ESCALATION, DeadlineKind.ANSWER, "esc-1", start)
    for n in range(2, count + 2):
        following = next_escalation(current, every, now=now)
        assert following.due_at > current.due_at
        assert following.step == f"esc-{n}"
        if now is not None:
            assert following.due_at > now
            assert following.due_at - every <= max(now, current.due_at)
        current = following


@pytest.mark.parametrize(
    ("kind", "step"),
    [(Kind.REMINDER, "esc-1"), (Kind.REMINDER, "3 days"), (Kind.ESCALATION, "esc-0"), (Kind.ESCALATION, "2h")],
)
def test_planned_refuses_a_bad_step(kind: Kind, step: str) -> None:
    with pytest.raises(ValueError, match="step"):
        Planned(kind, DeadlineKind.ACK, step, NOW)


def test_planned_refuses_a_naive_datetime() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Planned(Kind.REMINDER, DeadlineKind.ACK, "2h", datetime(2026, 12, 7))


# --- lateness ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent_after", "late"),
    [(timedelta(0), False), (timedelta(minutes=5), False), (timedelta(minutes=5, seconds=1), True), (-HOUR, False)],
)
def test_is_late(sent_after: timedelta, late: bool) -> None:
    assert is_late(NOW, NOW + sent_after, timedelta(minutes=5)) is late


def test_is_late_refuses() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        is_late(datetime(2026, 12, 7), NOW, HOUR)
    with pytest.raises(ValueError, match="negative"):
        is_late(NOW, NOW, -HOUR)


# --- digests -------------------------------------------------------------------------------------

WEEKDAYS = frozenset({0, 3})  # Monday and Thursday.
AT = time(8, 0)


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


@pytest.mark.parametrize(
    ("now", "last_sent", "expected"),
    [
        # Monday 7 December 2026: before 08:00, at 08:00, later that day.
        (paris(2026, 12, 7, 7, 59, 59), None, None),
        (paris(2026, 12, 7, 8, 0), None, date(2026, 12, 7)),
        (paris(2026, 12, 7, 18, 30), date(2026, 12, 3), date(2026, 12, 7)),
        # Already sent today.
        (paris(2026, 12, 7, 8, 1), date(2026, 12, 7), None),
        # Tuesday is not a digest day; Monday's, missed, is not sent on Tuesday.
        (paris(2026, 12, 8, 9, 0), date(2026, 12, 3), None),
        # The local date decides: 23:30 UTC on Wednesday is already Thursday in Paris.
        (datetime(2026, 12, 9, 23, 30, tzinfo=UTC), None, None),
        (datetime(2026, 12, 10, 7, 0, tzinfo=UTC), None, date(2026, 12, 10)),
        # A clock set back: a digest "sent" in the future is not sent again.
        (paris(2026, 12, 10, 9, 0), date(2026, 12, 14), None),
    ],
)
def test_digest_date(now: datetime, last_sent: date | None, expected: date | None) -> None:
    assert digest_date(now, PARIS, AT, WEEKDAYS, last_sent) == expected


def test_digest_time_in_the_spring_forward_gap() -> None:
    # Sunday 28 March 2027: Paris goes from 02:00 straight to 03:00. A digest at 02:30 comes at 03:00.
    sunday = frozenset({6})
    just_before = datetime(2027, 3, 28, 0, 59, tzinfo=UTC)  # 01:59 CET
    just_after = datetime(2027, 3, 28, 1, 0, tzinfo=UTC)  # 03:00 CEST
    assert digest_date(just_before, PARIS, time(2, 30), sunday, None) is None
    assert digest_date(just_after, PARIS, time(2, 30), sunday, None) == date(2027, 3, 28)


def test_digest_time_that_happens_twice_fires_once() -> None:
    # Sunday 25 October 2026: 02:30 happens twice in Paris; the first one sends, the second finds it sent.
    sunday = frozenset({6})
    first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST
    second = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 CET
    sent = digest_date(first, PARIS, time(2, 30), sunday, None)
    assert sent == date(2026, 10, 25)
    assert digest_date(second, PARIS, time(2, 30), sunday, sent) is None


def test_a_week_of_digests_by_hand() -> None:
    # Move the clock hour by hour through a week, sending whatever is due: Monday and Thursday, once each.
    sent: list[date] = []
    last: date | None = None
    clock = paris(2026, 12, 7, 0, 0)
    while clock < paris(2026, 12, 14, 0, 0):
        due = digest_date(clock, PARIS, AT, WEEKDAYS, last)
        if due is not None:
            sent.append(due)
            last = due
        clock += HOUR
    assert sent == [date(2026, 12, 7), date(2026, 12, 10)]


def test_digest_date_refuses() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        digest_date(datetime(2026, 12, 7, 9), PARIS, AT, WEEKDAYS, None)
    with pytest.raises(ValueError, match="wall-clock"):
        digest_date(NOW, PARIS, time(8, tzinfo=UTC), WEEKDAYS, None)
    with pytest.raises(ValueError, match="weekdays"):
        digest_date(NOW, PARIS, AT, frozenset({7}), None)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["mon", "thu"], {0, 3}),
        (["Lundi", "JEUDI"], {0, 3}),
        (["monday", "Friday", "dimanche"], {0, 4, 6}),
        (["Mercredi", "mercredi", "wed"], {2}),
        (["sam.", " dim "], {5, 6}),
        (["Mércredi"], {2}),
        ([], set()),
    ],
)
def test_parse_weekdays(values: list[str], expected: set[int]) -> None:
    assert parse_weekdays(values) == frozenset(expected)


@pytest.mark.parametrize(("values", "bad"), [(["lundi", "lundo"], "'lundo'"), (["weekend"], "'weekend'"), ([1], "1")])
def test_parse_weekdays_names_the_bad_one(values: list[object], bad: str) -> None:
    with pytest.raises(ValueError, match=f"^{bad} is not a weekday"):
        parse_weekdays(values)  # type: ignore[arg-type]


def test_parse_weekdays_wants_a_list() -> None:
    with pytest.raises(ValueError, match="list"):
        parse_weekdays("lundi")  # type: ignore[arg-type]


def test_replanned_reminders_name_the_new_date_and_escalations_continue_their_count() -> None:
    """#délai moves the answer deadline: the new rows must not collide with the first date's keys."""
    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    first = plan(DeadlineKind.ANSWER, now + timedelta(days=10), (timedelta(days=3), timedelta(days=1)), now)
    moved = replan(DeadlineKind.ANSWER, now + timedelta(days=20), (timedelta(days=3), timedelta(days=1)), now, 2)
    assert [p.step for p in moved] == ["3d@20261221", "1d@20261221", "esc-3"]
    assert not {(p.deadline, p.step) for p in first} & {(p.deadline, p.step) for p in moved}
    with pytest.raises(ValueError):
        Planned(Kind.REMINDER, DeadlineKind.ANSWER, "3d@2026", now)


# --- an action's due day ---------------------------------------------------------------------------


def test_an_action_is_due_at_the_end_of_its_day_in_the_registers_time_zone() -> None:
    assert action_due_at(date(2026, 12, 18), PARIS) == datetime(2026, 12, 18, 22, 59, 59, tzinfo=UTC)  # UTC+1
    assert action_due_at(date(2027, 7, 1), PARIS) == datetime(2027, 7, 1, 21, 59, 59, tzinfo=UTC)  # summer, UTC+2
    assert action_due_at(date(2026, 12, 18), ZoneInfo("America/New_York")) == datetime(
        2026, 12, 19, 4, 59, 59, tzinfo=UTC
    )
    with pytest.raises(ValueError, match="on a day"):
        action_due_at(datetime(2026, 12, 18, 12, 0, tzinfo=UTC), PARIS)


def test_an_action_gets_the_offsets_before_its_day_then_the_supervisors_alert() -> None:
    end = datetime(2026, 12, 18, 22, 59, 59, tzinfo=UTC)
    planned = plan_action(2, date(2026, 12, 18), PARIS, OFFSETS, NOW)
    assert steps(planned) == [("3d", end - 3 * DAY), ("1d", end - DAY), ("2h", end - 2 * HOUR), ("esc-1", end)]
    assert [p.kind for p in planned] == [Kind.REMINDER] * 3 + [Kind.ESCALATION]
    assert {p.deadline.value for p in planned} == {"action-2"}, "the row's deadline column names the action"


def test_an_action_due_tomorrow_skips_the_offsets_already_past() -> None:
    # NOW is Monday 14:05 in Paris; tomorrow ends in 33 h 55 min: "3d" is past, "1d" and "2h" are not.
    assert [p.step for p in plan_action(1, date(2026, 12, 8), PARIS, OFFSETS, NOW)] == ["1d", "2h", "esc-1"]
    # Due today: only "2h" before midnight is still ahead.
    assert [p.step for p in plan_action(1, date(2026, 12, 7), PARIS, OFFSETS, NOW)] == ["2h", "esc-1"]


def test_the_overdue_alert_repeats_under_the_actions_own_key() -> None:
    first = plan_action(3, date(2026, 12, 18), PARIS, (), NOW)[-1]
    second = next_escalation(first, DAY)
    assert (second.deadline, second.step, second.due_at) == (ActionDeadline(3), "esc-2", first.due_at + DAY)


@pytest.mark.parametrize(
    ("text", "deadline"),
    [
        ("ack", DeadlineKind.ACK),
        ("answer", DeadlineKind.ANSWER),
        ("action-1", ActionDeadline(1)),
        ("action-12", ActionDeadline(12)),
    ],
)
def test_a_rows_deadline_reads_back(text: str, deadline: object) -> None:
    assert deadline_of(text) == deadline
    assert deadline_of(text).value == text


@pytest.mark.parametrize("text", ["action-0", "action-", "action-x", "action-01", "Action-1", "question", ""])
def test_a_rows_deadline_that_is_none_of_them_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        deadline_of(text)


def test_an_action_number_starts_at_1() -> None:
    for bad in (0, -1, True):
        with pytest.raises(ValueError, match="numbered from 1"):
            ActionDeadline(bad)
