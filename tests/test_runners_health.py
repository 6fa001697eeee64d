"""Health alerts to the admin (issue 11): one letter when a condition begins, one when it ends.

In process, with the clock moved by hand: no mail for 24 h of working days, the mailbox refusing
our login, the outbox's oldest letter waiting over an hour. The letters are read in the outbox,
where the register also remembers what was said, so a second watch (a restart, the other daemon)
says nothing twice.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from daemon.runners.health import HealthWatch, LoginWatch
from tests.harness import complaint
from tests.runners import SUPERVISOR, FakeClock, ingest, make_desk, queued, relay

ADMIN = "exploitation@example.com"
ONLY_MAIL = {"outbox_age": ""}  # the relay is down in these tests: letters wait, unsent
REFUSAL = "IMAP imap.example.com:993: login refused for reclamations: [AUTHENTICATIONFAILED] Authentication failed."


def _watch(desk, login=None):
    return HealthWatch(desk, login or LoginWatch(desk.clock))


def _health_letters(desk):
    return [letter for letter in queued(desk) if letter.kind.startswith("health_")]


def test_a_working_day_without_mail_alerts_the_supervisor_once_and_the_next_mail_says_it_is_over(tmp_path, caplog):
    clock = FakeClock()  # Monday 23 November 2026, 10:00 in Paris
    desk = make_desk(tmp_path, clock, health=ONLY_MAIL)
    ingest(desk, complaint(1))
    watch = _watch(desk)
    clock.advance(timedelta(hours=23, minutes=59))
    assert watch.check() == [] and _health_letters(desk) == []
    clock.advance(timedelta(minutes=1))
    with caplog.at_level(logging.INFO, logger="complaintsd.health"):
        [change] = watch.check()
        assert watch.check() == [], "the same state: nothing more"
        clock.advance(timedelta(hours=5))
        assert watch.check() == _watch(desk).check() == [], "nor from another daemon, nor later"
    [alert] = _health_letters(desk)
    assert (alert.kind, alert.to) == ("health_alert_no_mail", SUPERVISOR), "[health] admin defaults to the supervisor"
    assert alert.subject == "Alerte : aucun courrier reçu depuis 1 jour"
    assert "rien depuis le lundi 23 novembre 2026 à 10:00" in alert.text
    assert "après 1 jour de jours ouvrés sans courrier" in alert.text
    assert [r.getMessage() for r in caplog.records] == [
        f"health alert (no_mail): no mail has arrived since 2026-11-23 09:00 UTC; told {SUPERVISOR}"
    ]
    assert change.raised

    ingest(desk, complaint(2))
    [recovered] = watch.check()
    assert not recovered.raised
    recovery = _health_letters(desk)[-1]
    assert recovery.kind == "health_recovered_no_mail" and recovery.subject == "Rétabli : du courrier arrive de nouveau"
    assert recovery.message["In-Reply-To"] == alert.message["Message-ID"], "the recovery answers its alert"
    assert watch.check() == [] and len(_health_letters(desk)) == 2


def test_a_weekend_without_mail_is_no_alarm(tmp_path):
    clock = FakeClock(datetime(2026, 11, 27, 16, 0, tzinfo=UTC))  # Friday 17:00 in Paris
    desk = make_desk(tmp_path, clock, health=ONLY_MAIL)
    ingest(desk, complaint(1))
    watch = _watch(desk)
    clock.set(datetime(2026, 11, 30, 15, 59, tzinfo=UTC))  # Monday 16:59: 7 h on Friday, 16 h 59 on Monday
    assert watch.check() == []
    clock.advance(timedelta(minutes=1))
    assert [c.condition for c in watch.check()] == ["no_mail"]


def test_a_refused_login_alerts_the_admin_once_until_the_mailbox_accepts_it_again(tmp_path):
    clock = FakeClock()
    desk = make_desk(tmp_path, clock, health={"admin": f"Exploitation <{ADMIN}>", "outbox_age": ""})
    ingest(desk, complaint(1))
    login = LoginWatch(clock)
    watch = _watch(desk, login)
    assert watch.check() == [], "not tried yet"
    login.accepted()
    assert watch.check() == []
    login.refused(REFUSAL)
    [change] = watch.check()
    clock.advance(timedelta(minutes=10))
    login.refused(REFUSAL)
    assert watch.check() == [], "still refused: nothing more"
    assert _watch(desk).check() == [], "a restarted daemon that has not tried yet says nothing"
    [alert] = _health_letters(desk)
    assert (alert.kind, alert.to) == ("health_alert_mailbox_login", ADMIN)
    assert alert.subject == "Alerte : la boîte aux lettres refuse notre connexion"
    assert "[AUTHENTICATIONFAILED] Authentication failed." in alert.text
    assert "depuis le lundi 23 novembre 2026 à 10:00" in alert.text, "since the first refusal"

    login.accepted()
    assert [(c.condition, c.raised) for c in watch.check()] == [("mailbox_login", False)]
    assert _health_letters(desk)[-1].subject == "Rétabli : la boîte aux lettres accepte de nouveau notre connexion"


def test_letters_waiting_over_an_hour_alert_the_admin_in_english_and_their_departure_ends_it(tmp_path):
    clock = FakeClock()
    desk = make_desk(tmp_path, clock, register={"language": "en"}, health={"admin": ADMIN, "no_mail_after": ""})
    ingest(desk, complaint(1))  # an acknowledgement and the handler's mail wait: the relay is down
    watch = _watch(desk)
    clock.advance(timedelta(minutes=59))
    assert watch.check() == []
    clock.advance(timedelta(minutes=1))
    assert [(c.condition, c.raised) for c in watch.check()] == [("outbox_age", True)]
    [alert] = _health_letters(desk)
    assert alert.subject == "Alert: letters waiting to be sent for 1 hour"
    assert "The alert threshold is 1 hour ([health] outbox_age)." in alert.text
    relay(desk)  # the relay is back: every letter leaves, the alert with them
    assert [(c.condition, c.raised) for c in watch.check()] == [("outbox_age", False)]
    assert _health_letters(desk)[-1].subject == "Recovered: the waiting letters have left"


def test_an_empty_threshold_turns_the_alert_off(tmp_path):
    clock = FakeClock()
    desk = make_desk(tmp_path, clock, health={"no_mail_after": "", "outbox_age": ""})
    ingest(desk, complaint(1))
    watch = _watch(desk)
    clock.advance(timedelta(days=30))
    assert watch.check() == [] and _health_letters(desk) == []
