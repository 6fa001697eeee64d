"""Sector profiles (`[register] profile`) and the mediation dates (issue 13, item 3).

The ACPR rows follow recommendation 2024-R-02: acknowledge within 10 jours ouvrables unless answered
within them, answer within two months, the mediator's contact in any answer that is not fully
favourable. The worked example is the README's: received Tuesday 22 December 2026 at 11:00, Paris.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest

from daemon.core.compliance import DeadlineState, deadline_outcomes
from daemon.core.deadlines import DeadlineRule, Unit
from daemon.errors import ConfigError
from daemon.export import Window, export, export_rules
from daemon.presenting import detail_json, detail_text, mediation_of
from tests.harness import complaint, reply
from tests.runners import BOB, FakeClock, config_of, ingest, make_desk, queued, relay, show

MEDIATOR = {"name": "Médiateur de l'assurance", "website": "https://www.mediation-assurance.org"}
ACPR = {"register": {"profile": "acpr"}, "mediator": MEDIATOR}
RECEIVED = datetime(2026, 12, 22, 10, 0, tzinfo=UTC)  # Tuesday 22 December 2026, 11:00 in Paris


@pytest.mark.parametrize(
    ("register", "expected"),
    [
        ({}, ("48h", "10d")),
        ({"profile": "consumer"}, ("48h", "10d")),
        ({"profile": "qualiopi"}, ("48h", "10d")),
        ({"profile": "acpr"}, ("10wd", "2mo")),
        ({"profile": "acpr", "answer_deadline": "30d"}, ("10wd", "30d")),  # an explicit rule wins
        ({"profile": "acpr", "ack_deadline": "", "answer_deadline": ""}, ("10wd", "2mo")),  # empty: the profile's
        ({"ack_deadline": "10 jours ouvrables", "answer_deadline": "2 mois"}, ("10wd", "2mo")),
    ],
)
def test_a_profile_sets_the_default_deadlines(tmp_path, register, expected) -> None:
    config = config_of(tmp_path, register=register, mediator=MEDIATOR)
    assert (str(config.register.ack_deadline), str(config.register.answer_deadline)) == expected


@pytest.mark.parametrize(
    ("sections", "key", "words"),
    [
        ({"register": {"profile": "acpr"}}, "mediator.name", "ACPR recommendation 2024-R-02"),
        ({"register": {"profile": "bank"}}, "register.profile", "'bank' is not one of consumer, acpr, qualiopi"),
        ({"mediator": {**MEDIATOR, "refer_after": "two months"}}, "mediator.refer_after", "two months"),
        ({"mediator": {**MEDIATOR, "refer_after": ""}}, "mediator.refer_after", "must not be empty"),
    ],
)
def test_bad_profile_settings_name_the_key(tmp_path, sections, key, words) -> None:
    with pytest.raises(ConfigError) as info:
        config_of(tmp_path, **sections)
    assert info.value.path == key
    assert words in str(info.value)


def test_acpr_worked_example_deadlines_letters_and_show(tmp_path) -> None:
    clock = FakeClock(RECEIVED)
    desk = make_desk(tmp_path, clock, **ACPR)
    [reference] = ingest(desk, complaint(1, subject="Sinistre non indemnisé")).references
    view = show(desk, reference)
    # 10 jours ouvrables: 25 Dec (Noël), 27 Dec and 3 Jan (Sundays) and 1 Jan (Jour de l'an) are
    # skipped, Saturdays 26 Dec and 2 Jan count: Tuesday 5 January 2027, 23:59:59 CET.
    assert (view.ack_rule, view.ack_due_at) == ("10wd", datetime(2027, 1, 5, 22, 59, 59, tzinfo=UTC))
    # Two months: Monday 22 February 2027 at 11:00 CET.
    assert (view.answer_rule, view.answer_due_at) == ("2mo", datetime(2027, 2, 22, 10, 0, tzinfo=UTC))

    config = config_of(tmp_path, **ACPR)
    mediation = mediation_of(view, config)
    assert (mediation.refer_from, mediation.limit) == (
        datetime(2027, 2, 22, 10, 0, tzinfo=UTC),
        datetime(2027, 12, 22, 10, 0, tzinfo=UTC),
    )
    shown = json.loads(json.dumps(detail_json(view, mediation)))
    assert (shown["mediator_from"], shown["mediation_limit"]) == (
        "2027-02-22T10:00:00+00:00",
        "2027-12-22T10:00:00+00:00",
    )
    assert "mediator from: 2027-02-22 11:00  (2mo after receipt" in detail_text(view, config)
    assert "limit 2027-12-22 11:00 (1 year, L.612-2)" in detail_text(view, config)

    acknowledgement, notification = relay(desk)
    assert acknowledgement.kind == "acknowledgement"
    text = " ".join(acknowledgement.text.split())
    assert "Médiateur de l'assurance" in text
    assert "à partir du lundi 22 février 2027" in text
    assert "au plus tard le mercredi 22 décembre 2027" in text

    clock.advance(timedelta(days=3))
    ingest(desk, reply(notification.message, BOB, "#réponse\nNous maintenons notre position."))
    [answer] = queued(desk, "answer")
    text = " ".join(answer.text.split())
    assert "Médiateur de l'assurance" in text and "à partir du lundi 22 février 2027" in text
    ingest(desk, reply(notification.message, BOB, "#clore non fondée"))
    [closed] = queued(desk, "closed")
    assert "Médiateur de l'assurance" in closed.text

    # The export: the mediation dates, and the acknowledgement judged by the profile's rule.
    out = io.StringIO()
    export(desk.register, out, "json", Window(), clock(), rules=export_rules(config))
    [row] = json.loads(out.getvalue())
    assert (row["mediator_from"], row["mediation_limit"]) == ("2027-02-22T10:00:00+00:00", "2027-12-22T10:00:00+00:00")
    assert (row["ack_rule"], row["ack_deadline"], row["answer_rule"], row["answer_deadline"]) == (
        "10wd",
        "met",
        "2mo",
        "met",
    )


def test_mediation_dates_in_english_letters(tmp_path) -> None:
    desk = make_desk(
        tmp_path, FakeClock(datetime(2027, 1, 31, 9, 0, tzinfo=UTC)), register={"language": "en"}, mediator=MEDIATOR
    )
    ingest(desk, complaint(1))
    [acknowledgement] = queued(desk, "acknowledgement")
    text = " ".join(acknowledgement.text.split())
    # 31 January + 2 months = 31 March; + 1 year = 31 January 2028.
    assert "from Wednesday, March 31, 2027" in text and "no later than Monday, January 31, 2028" in text


def test_no_mediator_no_mediation_sentence(tmp_path) -> None:
    desk = make_desk(tmp_path, FakeClock(RECEIVED))
    ingest(desk, complaint(1))
    [acknowledgement] = queued(desk, "acknowledgement")
    assert "médiateur" not in acknowledgement.text


def test_refer_after_is_configurable(tmp_path) -> None:
    config = config_of(tmp_path, mediator={**MEDIATOR, "refer_after": "45d"})
    assert config.refer_after == DeadlineRule(45, Unit.CALENDAR_DAYS)


H = timedelta(hours=1)
ACK_DUE, ANSWER_DUE = RECEIVED + 48 * H, RECEIVED + 240 * H
MET, MISSED = DeadlineState.MET, DeadlineState.MISSED


@pytest.mark.parametrize(
    ("acknowledged", "answered", "answer_meets_ack", "expected_ack"),
    [
        (None, RECEIVED + 2 * H, False, (None, MISSED)),  # consumer: an answer is no acknowledgement
        (None, RECEIVED + 2 * H, True, (RECEIVED + 2 * H, MET)),  # ACPR: answered within the delay
        (ACK_DUE + H, RECEIVED + 2 * H, True, (RECEIVED + 2 * H, MET)),  # the answer came first
        (RECEIVED + H, RECEIVED + 2 * H, True, (RECEIVED + H, MET)),  # the acknowledgement came first
        (None, ACK_DUE + H, True, (ACK_DUE + H, MISSED)),  # answered, but after the delay
    ],
)
def test_under_acpr_an_answer_within_the_delay_meets_the_acknowledgement(
    acknowledged, answered, answer_meets_ack, expected_ack
) -> None:
    now = ANSWER_DUE + H
    outcomes = deadline_outcomes(ACK_DUE, acknowledged, ANSWER_DUE, answered, now, answer_meets_ack)
    assert (outcomes.ack.event_at, outcomes.ack.state) == expected_ack
