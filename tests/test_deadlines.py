"""Deadline arithmetic: durations, rules, DST, weekends and French public holidays.

Every expected value below was worked out by hand from a calendar; the comments say how.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daemon.core.deadlines import (
    WEEKEND,
    Deadline,
    DeadlineRule,
    Unit,
    due_at,
    holiday_calendar,
    parse_duration,
    parse_rule,
)

PARIS = ZoneInfo("Europe/Paris")
FRANCE = holiday_calendar("FR")
MOSELLE = holiday_calendar("FR", "57")
ALSACE = holiday_calendar("FR", "6AE")


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def end_of(day: date) -> datetime:
    """23:59:59 Paris time on `day`, as UTC: where a business-day deadline falls."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=PARIS).astimezone(UTC)


# --- durations -----------------------------------------------------------------------------------

DURATIONS = [
    ("30s", timedelta(seconds=30)),
    ("15m", timedelta(minutes=15)),
    ("48h", timedelta(hours=48)),
    ("10d", timedelta(days=10)),
    ("48 h", timedelta(hours=48)),
    ("  2 jours ", timedelta(days=2)),
    ("90 minutes", timedelta(minutes=90)),
    ("3 Heures", timedelta(hours=3)),
    ("0s", timedelta(0)),
]


@pytest.mark.parametrize(("text", "expected"), DURATIONS)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "whole number and a unit"),
        ("h", "whole number and a unit"),
        ("48", "whole number and a unit"),
        ("-3h", "whole number and a unit"),
        ("1.5h", "whole number and a unit"),
        ("1h30m", "one number and one unit"),
        ("10x", "unknown unit 'x'"),
        ("6bd", "unknown unit 'bd'"),  # Business days are a deadline rule, not a duration.
        ("99999999999999999999d", "too long"),
    ],
)
def test_parse_duration_refuses(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        parse_duration(text)
    assert repr(text) in str(info.value)


def test_parse_duration_refuses_non_strings() -> None:
    with pytest.raises(ValueError, match="must be a string"):
        parse_duration(48)  # type: ignore[arg-type]


# --- rules ---------------------------------------------------------------------------------------

RULES = [
    ("48h", DeadlineRule(48, Unit.HOURS)),
    ("10d", DeadlineRule(10, Unit.CALENDAR_DAYS)),
    ("10 jours", DeadlineRule(10, Unit.CALENDAR_DAYS)),
    ("10 calendar days", DeadlineRule(10, Unit.CALENDAR_DAYS)),
    ("10 jours calendaires", DeadlineRule(10, Unit.CALENDAR_DAYS)),
    ("6bd", DeadlineRule(6, Unit.BUSINESS_DAYS)),
    ("6 BD", DeadlineRule(6, Unit.BUSINESS_DAYS)),
    ("6 business days", DeadlineRule(6, Unit.BUSINESS_DAYS)),
    ("6 working-days", DeadlineRule(6, Unit.BUSINESS_DAYS)),
    ("6 jours ouvrés", DeadlineRule(6, Unit.BUSINESS_DAYS)),
    ("6 jours ouvres", DeadlineRule(6, Unit.BUSINESS_DAYS)),
    ("6 Jours Ouvrés", DeadlineRule(6, Unit.BUSINESS_DAYS)),
    ("30s", DeadlineRule(30, Unit.SECONDS)),
    ("15m", DeadlineRule(15, Unit.MINUTES)),
    ("10wd", DeadlineRule(10, Unit.OUVRABLE_DAYS)),
    ("10 jours ouvrables", DeadlineRule(10, Unit.OUVRABLE_DAYS)),
    ("1 jour ouvrable", DeadlineRule(1, Unit.OUVRABLE_DAYS)),
    ("10 Jours-Ouvrables", DeadlineRule(10, Unit.OUVRABLE_DAYS)),
    ("2mo", DeadlineRule(2, Unit.MONTHS)),
    ("2 mois", DeadlineRule(2, Unit.MONTHS)),
    ("1 month", DeadlineRule(1, Unit.MONTHS)),
    ("3 calendar months", DeadlineRule(3, Unit.MONTHS)),
]


@pytest.mark.parametrize(("text", "expected"), RULES)
def test_parse_rule(text: str, expected: DeadlineRule) -> None:
    assert parse_rule(text) == expected


@pytest.mark.parametrize(("text", "expected"), RULES)
def test_rule_round_trips_through_its_short_form(text: str, expected: DeadlineRule) -> None:
    assert parse_rule(str(expected)) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0d", "at least 1"),
        ("0bd", "at least 1"),
        ("3 weeks", "unknown unit 'weeks'"),
        ("6 bdays", "unknown unit 'bdays'"),
        ("six days", "whole number and a unit"),
        ("2.5d", "whole number and a unit"),
        ("99999d", "longer than"),
        ("200mo", "longer than"),
        ("0mo", "at least 1"),
        ("0wd", "at least 1"),
    ],
)
def test_parse_rule_refuses(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_rule(text)


@pytest.mark.parametrize("amount", [0, -1, True, 1.5, "6"])
def test_rule_validates_amount(amount: object) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        DeadlineRule(amount, Unit.HOURS)  # type: ignore[arg-type]


def test_rule_validates_unit() -> None:
    with pytest.raises(ValueError, match="Unit"):
        DeadlineRule(6, "bd")  # type: ignore[arg-type]


# --- elapsed time and calendar days --------------------------------------------------------------


def test_hours_are_elapsed_time_across_dst() -> None:
    # Saturday 24 October 2026 10:00 CEST (08:00 UTC) + 48 h = Monday 26 October 08:00 UTC, which is
    # 09:00 CET: the clocks went back an hour on Sunday 25 October.
    deadline = due_at(paris(2026, 10, 24, 10, 0), parse_rule("48h"), PARIS, FRANCE)
    assert deadline.at == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)
    assert deadline.at.astimezone(PARIS).hour == 9
    assert deadline.skipped == ()


def test_seconds_and_minutes() -> None:
    start = datetime(2026, 12, 7, 13, 5, tzinfo=UTC)
    assert due_at(start, parse_rule("30s"), PARIS).at == start + timedelta(seconds=30)
    assert due_at(start, parse_rule("15m"), PARIS).at == start + timedelta(minutes=15)


def test_result_is_utc_whatever_the_input_zone() -> None:
    start = datetime(2026, 12, 7, 9, 0, tzinfo=ZoneInfo("America/New_York"))
    deadline = due_at(start, parse_rule("1h"), PARIS)
    assert deadline.at.tzinfo is UTC
    assert deadline.at == datetime(2026, 12, 7, 15, 0, tzinfo=UTC)


def test_calendar_day_across_autumn_dst_keeps_wall_clock() -> None:
    # Saturday 24 October 2026 10:00 CEST + 1 day = Sunday 25 October 10:00 CET: 25 hours later.
    start = paris(2026, 10, 24, 10, 0)
    deadline = due_at(start, parse_rule("1d"), PARIS)
    assert deadline.at.astimezone(PARIS).replace(tzinfo=None) == datetime(2026, 10, 25, 10, 0)
    assert deadline.at - start == timedelta(hours=25)


def test_calendar_day_across_spring_dst_keeps_wall_clock() -> None:
    # Saturday 27 March 2027 10:00 CET + 1 day = Sunday 28 March 10:00 CEST: 23 hours later.
    start = paris(2027, 3, 27, 10, 0)
    deadline = due_at(start, parse_rule("1d"), PARIS)
    assert deadline.at.astimezone(PARIS).replace(tzinfo=None) == datetime(2027, 3, 28, 10, 0)
    assert deadline.at - start == timedelta(hours=23)


def test_calendar_day_onto_a_nonexistent_local_time_moves_forward_by_the_gap() -> None:
    # 28 March 2027 02:30 does not exist in Paris (02:00 CET jumps to 03:00 CEST): it becomes 03:30.
    deadline = due_at(paris(2027, 3, 27, 2, 30), parse_rule("1d"), PARIS)
    assert deadline.at == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)
    assert deadline.at.astimezone(PARIS).replace(tzinfo=None) == datetime(2027, 3, 28, 3, 30)


def test_calendar_day_onto_an_ambiguous_local_time_takes_the_first() -> None:
    # 25 October 2026 02:30 happens twice in Paris; the first is 02:30 CEST = 00:30 UTC.
    deadline = due_at(paris(2026, 10, 24, 2, 30), parse_rule("1d"), PARIS)
    assert deadline.at == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_calendar_days_are_not_moved_off_closed_days() -> None:
    # Tuesday 15 December 2026 + 10 days = Friday 25 December (Noël), and it stays there.
    deadline = due_at(paris(2026, 12, 15, 9, 0), parse_rule("10d"), PARIS, FRANCE)
    assert deadline.at == paris(2026, 12, 25, 9, 0).astimezone(UTC)
    assert deadline.skipped == ()


# --- calendar months -----------------------------------------------------------------------------

MONTHS = [
    # (received, rule, due): the same day of the month, or the shorter month's last day (CPC art. 641).
    (paris(2027, 1, 31, 10, 0), "1mo", paris(2027, 2, 28, 10, 0)),  # 2027 is not a leap year.
    (paris(2028, 1, 31, 10, 0), "1mo", paris(2028, 2, 29, 10, 0)),  # 2028 is.
    (paris(2026, 12, 31, 10, 0), "2mo", paris(2027, 2, 28, 10, 0)),  # Across the year end.
    (paris(2026, 10, 31, 10, 0), "1mo", paris(2026, 11, 30, 10, 0)),
    (paris(2026, 12, 15, 9, 0), "2mo", paris(2027, 2, 15, 9, 0)),
    (paris(2026, 11, 30, 16, 0), "12mo", paris(2027, 11, 30, 16, 0)),
]


@pytest.mark.parametrize(("received", "rule", "due"), MONTHS)
def test_months_keep_the_day_of_the_month_or_take_the_last(received: datetime, rule: str, due: datetime) -> None:
    deadline = due_at(received, parse_rule(rule), PARIS, FRANCE)
    assert deadline.at == due.astimezone(UTC)
    assert deadline.skipped == ()


def test_months_across_spring_dst_keep_wall_clock() -> None:
    # Monday 15 February 2027 10:00 CET (09:00 UTC) + 2 months = Thursday 15 April 10:00 CEST (08:00 UTC).
    deadline = due_at(paris(2027, 2, 15, 10, 0), parse_rule("2mo"), PARIS, FRANCE)
    assert deadline.at == datetime(2027, 4, 15, 8, 0, tzinfo=UTC)


def test_months_are_not_moved_off_closed_days() -> None:
    # Wednesday 25 November 2026 + 1 month = Friday 25 December (Noël), and it stays there.
    deadline = due_at(paris(2026, 11, 25, 9, 0), parse_rule("1mo"), PARIS, FRANCE)
    assert deadline.at == paris(2026, 12, 25, 9, 0).astimezone(UTC)


def test_naive_start_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        due_at(datetime(2026, 12, 7, 9, 0), parse_rule("1d"), PARIS)


def test_deadline_must_be_utc() -> None:
    with pytest.raises(ValueError, match="UTC"):
        Deadline(at=paris(2026, 12, 7, 9, 0), rule=parse_rule("1d"))


# --- business days -------------------------------------------------------------------------------


def test_worked_example_christmas_2026() -> None:
    # Received Thursday 24 December 2026 at 17:00, 6 business days. The day of receipt does not count.
    #   Fri 25 Dec  Noël           skipped
    #   Sat 26 Dec  weekend        skipped
    #   Sun 27 Dec  weekend        skipped
    #   Mon 28 Dec                 1
    #   Tue 29 Dec                 2
    #   Wed 30 Dec                 3
    #   Thu 31 Dec                 4
    #   Fri  1 Jan  Jour de l'an   skipped
    #   Sat  2 Jan  weekend        skipped
    #   Sun  3 Jan  weekend        skipped
    #   Mon  4 Jan                 5
    #   Tue  5 Jan                 6  -> due Tuesday 5 January 2027 at 23:59:59 CET = 22:59:59 UTC.
    deadline = due_at(paris(2026, 12, 24, 17, 0), parse_rule("6bd"), PARIS, FRANCE)
    assert deadline.at == datetime(2027, 1, 5, 22, 59, 59, tzinfo=UTC)
    assert deadline.rule == DeadlineRule(6, Unit.BUSINESS_DAYS)
    assert deadline.skipped == (
        (date(2026, 12, 25), "Noël"),
        (date(2026, 12, 26), WEEKEND),
        (date(2026, 12, 27), WEEKEND),
        (date(2027, 1, 1), "Jour de l'an"),
        (date(2027, 1, 2), WEEKEND),
        (date(2027, 1, 3), WEEKEND),
    )


def test_business_days_skip_a_weekend() -> None:
    # Friday 4 December 2026, 2 business days: Mon 7 (1), Tue 8 (2).
    deadline = due_at(paris(2026, 12, 4, 10, 0), parse_rule("2bd"), PARIS, FRANCE)
    assert deadline.at == end_of(date(2026, 12, 8))
    assert deadline.skipped == ((date(2026, 12, 5), WEEKEND), (date(2026, 12, 6), WEEKEND))


def test_receipt_on_a_weekend_counts_from_monday() -> None:
    # Saturday 5 December 2026 at 09:00: Sunday is skipped, Monday 7 is the first business day.
    deadline = due_at(paris(2026, 12, 5, 9, 0), parse_rule("1bd"), PARIS, FRANCE)
    assert deadline.at == end_of(date(2026, 12, 7))
    assert deadline.skipped == ((date(2026, 12, 6), WEEKEND),)


def test_receipt_day_never_counts_even_early_in_the_morning() -> None:
    # Monday 7 December 2026 at 00:01 still starts counting on Tuesday 8.
    deadline = due_at(paris(2026, 12, 7, 0, 1), parse_rule("1bd"), PARIS, FRANCE)
    assert deadline.at == end_of(date(2026, 12, 8))


def test_receipt_day_is_the_local_day() -> None:
    # Sunday 6 December 2026 23:30 UTC is already Monday 7 at 00:30 in Paris: due Tuesday 8.
    start = datetime(2026, 12, 6, 23, 30, tzinfo=UTC)
    assert due_at(start, parse_rule("1bd"), PARIS, FRANCE).at == end_of(date(2026, 12, 8))


def test_without_a_calendar_only_weekends_are_closed() -> None:
    # Thursday 24 December 2026, 1 business day, no holidays known: Friday 25.
    deadline = due_at(paris(2026, 12, 24, 17, 0), parse_rule("1bd"), PARIS)
    assert deadline.at == end_of(date(2026, 12, 25))


# Public holidays in France, each checked as "received the business day before, 1bd".
HOLIDAYS = [
    # (received, name of the holiday that is skipped, due)
    # Friday 1 May 2026 (Fête du Travail): Thu 30 Apr -> skip Fri 1, Sat 2, Sun 3 -> Mon 4 May.
    (date(2026, 4, 30), date(2026, 5, 1), "Fête du Travail", date(2026, 5, 4)),
    # Tuesday 14 July 2026 (Fête nationale): Mon 13 -> skip Tue 14 -> Wed 15.
    (date(2026, 7, 13), date(2026, 7, 14), "Fête nationale", date(2026, 7, 15)),
    # Friday 25 December 2026 (Noël): Thu 24 -> skip Fri 25, weekend -> Mon 28.
    (date(2026, 12, 24), date(2026, 12, 25), "Noël", date(2026, 12, 28)),
    # Easter Sunday 2027 is 28 March, so Easter Monday is 29 March: Fri 26 -> skip weekend, Mon 29 -> Tue 30.
    (date(2027, 3, 26), date(2027, 3, 29), "Lundi de Pâques", date(2027, 3, 30)),
    # Ascension 2026 is Thursday 14 May (Easter 5 April + 39 days): Wed 13 -> skip Thu 14 -> Fri 15.
    (date(2026, 5, 13), date(2026, 5, 14), "Ascension", date(2026, 5, 15)),
    # Whit Monday 2026 is 25 May (Easter + 50 days): Fri 22 -> skip weekend, Mon 25 -> Tue 26.
    (date(2026, 5, 22), date(2026, 5, 25), "Lundi de Pentecôte", date(2026, 5, 26)),
    # Ascension 2027 is Thursday 6 May: Wed 5 -> skip Thu 6 -> Fri 7.
    (date(2027, 5, 5), date(2027, 5, 6), "Ascension", date(2027, 5, 7)),
]


@pytest.mark.parametrize(("received", "holiday", "name", "due"), HOLIDAYS)
def test_french_public_holidays_are_skipped(received: date, holiday: date, name: str, due: date) -> None:
    start = datetime.combine(received, time(15, 0), tzinfo=PARIS)
    deadline = due_at(start, parse_rule("1bd"), PARIS, FRANCE)
    assert deadline.at == end_of(due)
    assert (holiday, name) in deadline.skipped


def test_year_end() -> None:
    # Wednesday 30 December 2026, 2 business days: Thu 31 (1), skip Fri 1 Jan, Sat 2, Sun 3, Mon 4 (2).
    deadline = due_at(paris(2026, 12, 30, 11, 0), parse_rule("2bd"), PARIS, FRANCE)
    assert deadline.at == end_of(date(2027, 1, 4))
    assert [day for day, _ in deadline.skipped] == [date(2027, 1, 1), date(2027, 1, 2), date(2027, 1, 3)]


def test_holiday_on_a_weekend_is_named() -> None:
    # Sunday 1 November 2026 is Toussaint: Friday 30 October, 1bd skips Sat 31 and Sun 1 -> Mon 2.
    deadline = due_at(paris(2026, 10, 30, 10, 0), parse_rule("1bd"), PARIS, FRANCE)
    assert deadline.at == end_of(date(2026, 11, 2))
    assert deadline.skipped == ((date(2026, 10, 31), WEEKEND), (date(2026, 11, 1), "Toussaint"))


def test_business_deadline_across_dst_is_end_of_local_day() -> None:
    # Friday 23 October 2026 (CEST), 1bd -> Monday 26 October 23:59:59 CET = 22:59:59 UTC.
    deadline = due_at(paris(2026, 10, 23, 10, 0), parse_rule("1bd"), PARIS, FRANCE)
    assert deadline.at == datetime(2026, 10, 26, 22, 59, 59, tzinfo=UTC)


# --- jours ouvrables ----------------------------------------------------------------------------


def test_jours_ouvrables_count_saturdays() -> None:
    # Wednesday 2 December 2026, 3 jours ouvrables: Thu 3 (1), Fri 4 (2), Sat 5 (3) -> Saturday 5.
    # The same rule in business days ends on Monday 7.
    deadline = due_at(paris(2026, 12, 2, 10, 0), parse_rule("3wd"), PARIS, FRANCE)
    assert deadline.at == end_of(date(2026, 12, 5))
    assert deadline.skipped == ()
    assert due_at(paris(2026, 12, 2, 10, 0), parse_rule("3bd"), PARIS, FRANCE).at == end_of(date(2026, 12, 7))


def test_jours_ouvrables_skip_sundays() -> None:
    # Friday 4 December 2026, 2 jours ouvrables: Sat 5 (1), skip Sun 6, Mon 7 (2).
    deadline = due_at(paris(2026, 12, 4, 10, 0), parse_rule("2wd"), PARIS, FRANCE)
    assert deadline.at == end_of(date(2026, 12, 7))
    assert deadline.skipped == ((date(2026, 12, 6), WEEKEND),)


def test_worked_example_acpr_acknowledgement_christmas_2026() -> None:
    # Received Tuesday 22 December 2026, 10 jours ouvrables (ACPR 2024-R-02 acknowledgement):
    #   Wed 23 (1), Thu 24 (2), Fri 25 Noël skipped, Sat 26 (3), Sun 27 skipped, Mon 28 (4),
    #   Tue 29 (5), Wed 30 (6), Thu 31 (7), Fri 1 Jan Jour de l'an skipped, Sat 2 (8), Sun 3 skipped,
    #   Mon 4 (9), Tue 5 (10) -> due Tuesday 5 January 2027 at 23:59:59 CET = 22:59:59 UTC.
    deadline = due_at(paris(2026, 12, 22, 11, 0), parse_rule("10wd"), PARIS, FRANCE)
    assert deadline.at == datetime(2027, 1, 5, 22, 59, 59, tzinfo=UTC)
    assert deadline.skipped == (
        (date(2026, 12, 25), "Noël"),
        (date(2026, 12, 27), WEEKEND),
        (date(2027, 1, 1), "Jour de l'an"),
        (date(2027, 1, 3), WEEKEND),
    )


def test_jours_ouvrables_skip_a_holiday_on_a_saturday() -> None:
    # Saturday 14 July 2029 is the Fête nationale: Friday 13, 1wd skips Sat 14 and Sun 15 -> Mon 16.
    deadline = due_at(paris(2029, 7, 13, 10, 0), parse_rule("1wd"), PARIS, FRANCE)
    assert deadline.at == end_of(date(2029, 7, 16))
    assert deadline.skipped == ((date(2029, 7, 14), "Fête nationale"), (date(2029, 7, 15), WEEKEND))


def test_jours_ouvrables_across_dst_end_at_the_end_of_the_local_day() -> None:
    # Friday 23 October 2026 (CEST), 2wd: Sat 24 (1), skip Sun 25, Mon 26 (2) -> 23:59:59 CET = 22:59:59 UTC.
    deadline = due_at(paris(2026, 10, 23, 10, 0), parse_rule("2wd"), PARIS, FRANCE)
    assert deadline.at == datetime(2026, 10, 26, 22, 59, 59, tzinfo=UTC)


def test_receipt_on_a_sunday_counts_jours_ouvrables_from_monday() -> None:
    # Sunday 6 December 2026, 1wd -> Monday 7.
    assert due_at(paris(2026, 12, 6, 9, 0), parse_rule("1wd"), PARIS, FRANCE).at == end_of(date(2026, 12, 7))


# --- Alsace-Moselle ------------------------------------------------------------------------------


@pytest.mark.parametrize("calendar", [MOSELLE, ALSACE], ids=["57", "6AE"])
def test_alsace_moselle_closes_26_december(calendar) -> None:
    # Friday 26 December 2025 is Saint-Étienne in Alsace-Moselle only. Received Wednesday 24:
    # national: skip Thu 25 (Noël) -> Fri 26; Alsace-Moselle: skip Thu 25, Fri 26, weekend -> Mon 29.
    start = paris(2025, 12, 24, 10, 0)
    assert due_at(start, parse_rule("1bd"), PARIS, FRANCE).at == end_of(date(2025, 12, 26))
    deadline = due_at(start, parse_rule("1bd"), PARIS, calendar)
    assert deadline.at == end_of(date(2025, 12, 29))
    assert (date(2025, 12, 26), "Saint-Étienne") in deadline.skipped


@pytest.mark.parametrize("calendar", [MOSELLE, ALSACE], ids=["57", "6AE"])
def test_alsace_moselle_closes_good_friday(calendar) -> None:
    # Good Friday 2027 is 26 March. Received Thursday 25 March, 1bd:
    # national -> Fri 26; Alsace-Moselle: skip Fri 26, Sat 27, Sun 28, Mon 29 (Lundi de Pâques) -> Tue 30.
    start = paris(2027, 3, 25, 10, 0)
    assert due_at(start, parse_rule("1bd"), PARIS, FRANCE).at == end_of(date(2027, 3, 26))
    deadline = due_at(start, parse_rule("1bd"), PARIS, calendar)
    assert deadline.at == end_of(date(2027, 3, 30))
    assert (date(2027, 3, 26), "Vendredi saint") in deadline.skipped


def test_holiday_calendar_names() -> None:
    assert FRANCE(date(2026, 12, 25)) == "Noël"
    assert FRANCE(date(2026, 12, 26)) is None
    assert FRANCE(date(2026, 12, 7)) is None
    assert holiday_calendar("FR", language="en_US")(date(2026, 12, 25)) == "Christmas Day"
    assert holiday_calendar("fr", "Moselle")(date(2026, 12, 26)) == "Saint-Étienne"


@pytest.mark.parametrize(
    ("country", "subdivision", "language", "message"),
    [
        ("XX", None, None, "no holiday calendar for country 'XX'"),
        ("FR", "67", None, "'6AE'"),
        ("FR", "99", None, "57, 6AE"),
        ("FR", None, "de", "no holiday names in 'de'"),
    ],
)
def test_holiday_calendar_refuses(country: str, subdivision: str | None, language: str | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        holiday_calendar(country, subdivision, language=language)


def test_a_calendar_with_no_open_day_fails_instead_of_looping() -> None:
    with pytest.raises(ValueError, match="no open day"):
        due_at(paris(2026, 12, 7, 9, 0), parse_rule("1bd"), PARIS, lambda day: "fermé")


# --- properties ----------------------------------------------------------------------------------

starts = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(PARIS))


def _is_closed(day: date) -> bool:
    return day.weekday() >= 5 or FRANCE(day) is not None


@settings(max_examples=300, deadline=None)
@given(start=starts, amount=st.integers(min_value=1, max_value=40))
def test_business_deadline_is_the_end_of_the_nth_open_day(start: datetime, amount: int) -> None:
    deadline = due_at(start, DeadlineRule(amount, Unit.BUSINESS_DAYS), PARIS, FRANCE)
    local = deadline.at.astimezone(PARIS)
    received = start.astimezone(PARIS).date()
    due = local.date()

    assert local.time() == time(23, 59, 59)
    assert not _is_closed(due)
    assert due > received
    # Exactly `amount` open days after the day of receipt, up to and including the due day,
    # and every other day in between is listed as skipped.
    between = [received + timedelta(days=n) for n in range(1, (due - received).days + 1)]
    assert sum(not _is_closed(day) for day in between) == amount
    assert [day for day, _ in deadline.skipped] == [day for day in between if _is_closed(day)]


@settings(max_examples=200, deadline=None)
@given(start=starts, amount=st.integers(min_value=1, max_value=30))
def test_business_deadline_is_monotonic_in_amount(start: datetime, amount: int) -> None:
    rule = DeadlineRule(amount, Unit.BUSINESS_DAYS)
    longer = DeadlineRule(amount + 1, Unit.BUSINESS_DAYS)
    assert due_at(start, rule, PARIS, FRANCE).at < due_at(start, longer, PARIS, FRANCE).at
    # A business-day deadline is never earlier than the same number of calendar days.
    calendar = DeadlineRule(amount, Unit.CALENDAR_DAYS)
    assert due_at(start, calendar, PARIS).at <= due_at(start, rule, PARIS, FRANCE).at


@settings(max_examples=300, deadline=None)
@given(start=starts, amount=st.integers(min_value=1, max_value=400))
def test_calendar_days_keep_the_local_date_and_time(start: datetime, amount: int) -> None:
    deadline = due_at(start, DeadlineRule(amount, Unit.CALENDAR_DAYS), PARIS)
    local_start = start.astimezone(PARIS)
    local_due = deadline.at.astimezone(PARIS)
    assert local_due.date() == local_start.date() + timedelta(days=amount)
    # The wall-clock time is kept, except inside the spring-forward gap, pushed forward by an hour.
    shift = datetime.combine(date.min, local_due.time()) - datetime.combine(date.min, local_start.time())
    assert shift in (timedelta(0), timedelta(hours=1))
    # Elapsed time is within an hour of `amount` whole days.
    assert abs(deadline.at - start - timedelta(days=amount)) <= timedelta(hours=1)


@settings(max_examples=200, deadline=None)
@given(
    start=starts,
    amount=st.integers(min_value=1, max_value=10_000),
    unit=st.sampled_from([Unit.SECONDS, Unit.MINUTES, Unit.HOURS]),
)
def test_elapsed_units_are_exact_elapsed_time(start: datetime, amount: int, unit: Unit) -> None:
    deadline = due_at(start, DeadlineRule(amount, unit), PARIS, FRANCE)
    assert deadline.at - start == amount * parse_duration(str(DeadlineRule(1, unit)))
    assert deadline.skipped == ()
