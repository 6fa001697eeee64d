"""The quality report's figures (issue 12, item 3), each checked against a hand count.

Five complaints of November 2026 and one of October, written as the register edge hands them over;
the comments give the count by hand. Then the same figures from a register the runners filled
(receipt, acknowledgement, commands by email), and `complaintsd report` from the command line.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from zoneinfo import ZoneInfo

import pytest

from daemon.core.deadlines import DeadlineRule, Unit, holiday_calendar
from daemon.core.period import Kind, Period, parse_period
from daemon.core.profiles import mediation_dates
from daemon.core.report import (
    ActionCount,
    ActionRow,
    CauseRow,
    CompensationTotal,
    ComplaintRow,
    Durations,
    HandlerLoad,
    Kept,
    MailCount,
    OverdueAction,
    Recurrence,
    Report,
    Rows,
    _mediation,
    build_report,
    percentile,
)
from daemon.core.report_render import Stamp, content_hash, figures, to_csv, to_json
from daemon.edges.register import Register
from daemon.report import make_report
from tests.harness import complaint, reply
from tests.runners import START, FakeClock, config_of, ingest, make_desk, relay, show

PARIS = ZoneInfo("Europe/Paris")
FRANCE = holiday_calendar("FR")
AS_OF = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
NOVEMBER = parse_period("2026-11")


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def row(reference: str, received: datetime, **fields) -> ComplaintRow:
    values = {
        "reference": reference,
        "received_at": received,
        "status": "received",
        "customer_email": "",
        "subject": "",
        "handler_email": "alice@example.com",
        "category": None,
        "channel": "email",
        "severity": None,
        "scope": None,
        "ack_due_at": received + timedelta(hours=48),
        "answer_due_at": received + timedelta(days=10),
        "acknowledged_at": None,
        "answered_at": None,
        "ack_rule": "48h",
        "answer_rule": "10d",
    }
    return ComplaintRow(**(values | fields))


ALICE, BOB = "alice@example.com", "bob@example.com"
COMPLAINTS = (
    # Monday 2 Nov: acknowledged in 5 minutes; answered Monday 9 Nov, 5 business days (3, 4, 5, 6, 9).
    row(
        "REC-1",
        at(2, 9),
        status="closed",
        customer_email="a@client.example",
        subject="Facture erronée",
        category="facturation",
        severity="high",
        scope="systemic",
        acknowledged_at=at(2, 9, 5),
        answer_rule="6bd",
        answer_due_at=at(10, 22, 59),
        answered_at=at(9, 10),
        compensation_type="credit",
        compensation_amount="50.00",
        compensation_currency="EUR",
        satisfaction_understood="yes",
        satisfaction_actions="4",
        satisfaction_relationship="5",
    ),
    # Tuesday 10 Nov by phone, same customer, same words: acknowledged 46 h later, after its deadline
    # (set to 45 h); answered Monday 16 Nov, 3 business days (11 Nov is Armistice: 12, 13, 16).
    row(
        "REC-2",
        at(10, 10),
        status="answered",
        customer_email="A@client.example",
        subject="RE: facture ERRONÉE 123",
        category="facturation",
        channel="phone",
        severity="high",
        scope="isolated",
        acknowledged_at=at(12, 8),
        ack_due_at=at(12, 7),
        answer_rule="6bd",
        answer_due_at=at(18, 22, 59),
        answered_at=at(16, 12),
        compensation_type="credit",
        compensation_amount="20.50",
        compensation_currency="EUR",
        satisfaction_understood="no",
        satisfaction_actions="2",
    ),
    # Friday 20 Nov: acknowledged in a minute, answer due 30 Nov not given: missed, open, overdue.
    row(
        "REC-3",
        at(20, 16),
        status="acknowledged",
        customer_email="c@client.example",
        subject="Colis abîmé",
        category="livraison",
        handler_email=BOB,
        acknowledged_at=at(20, 16, 1),
    ),
    # Saturday 28 Nov by letter: never acknowledged, due 30 Nov: missed, overdue; answer pending.
    row(
        "REC-4",
        at(28, 8),
        customer_email="d@client.example",
        subject="colis ABIME",
        category="livraison",
        channel="letter",
        handler_email=BOB,
    ),
    # Sunday 29 Nov from the web form: both deadlines still ahead, pending; open, not overdue.
    row(
        "REC-5",
        at(29, 12),
        customer_email="e@client.example",
        subject="Retard",
        channel="web",
        compensation_type="refund",
    ),
)
CAUSES = (
    CauseRow("REC-1", "Erreur de tarif", "tarif"),
    CauseRow("REC-2", "erreur de  TARIF", "tarif"),
    CauseRow("REC-3", "Colis mal calé", None),
)
ACTIONS = (
    ActionRow("REC-1", 1, "corrective", "open", date(2026, 11, 25), "paul@example.com"),  # overdue
    ActionRow("REC-1", 2, "curative", "done", date(2026, 11, 20), None),  # done: waits for verification
    ActionRow("REC-3", 1, "corrective", "open", date(2026, 12, 15), None),  # not yet due
    ActionRow("REC-3", 2, "preventive", "verified", None, None),
)
MAILS = (
    MailCount("complaint", False, 2),
    MailCount("complaint", True, 3),  # REC-2, REC-4, REC-5 were typed in
    MailCount("follow_up", False, 4),
    MailCount("robot", False, 3),
    MailCount("quarantine", False, 1),
    MailCount("duplicate", False, 1),
)
OCTOBER = (row("REC-0", at(15, 9, month=10), acknowledged_at=at(15, 10, month=10), answered_at=at(20, 9, month=10)),)


@pytest.fixture(scope="module")
def report():
    rows = Rows(COMPLAINTS, CAUSES, ACTIONS, MAILS)
    return build_report(NOVEMBER, rows, Rows(OCTOBER), AS_OF, PARIS, FRANCE)


def test_volumes_by_month_category_channel_and_severity(report):
    assert report.by_month == (("2026-11", 5),)
    assert report.by_category == (("facturation", 2), ("livraison", 2), ("", 1))
    assert report.by_channel == (("email", 2), ("letter", 1), ("phone", 1), ("web", 1))
    assert report.by_severity == (("", 3), ("high", 2))


def test_deadlines_kept_share_met_over_decided(report):
    assert report.ack == Kept(met=2, missed=2, pending=1) and report.ack.share == 0.5
    assert report.answer == Kept(met=2, missed=1, pending=2) and report.answer.share == pytest.approx(2 / 3)


def test_times_in_the_unit_of_the_rule_with_their_cases(report):
    # 1 min, 5 min, 46 h: median 5 min (0.1 h), 90th percentile by nearest rank the third, 46 h.
    assert report.ack_times == (Durations("hours", 3, 0.1, 46.0),)
    # 5 and 3 business days (the Armistice skipped): median 4, 90th percentile 5.
    assert report.answer_times == (Durations("business_days", 2, 4.0, 5.0),)


def test_open_and_overdue_by_handler_most_overdue_first(report):
    assert report.handlers == (HandlerLoad(BOB, open=2, overdue=2), HandlerLoad(ALICE, open=1, overdue=0))


def test_systemic_and_recurring(report):
    assert report.systemic == ("REC-1",)
    assert report.recurring == (
        Recurrence("customer", "a@client.example", ("REC-1", "REC-2")),
        Recurrence("subject", "facturation: erronee facture", ("REC-1", "REC-2")),
        Recurrence("subject", "livraison: abime colis", ("REC-3", "REC-4")),
    )


def test_causes_actions_and_the_overdue_ones_named(report):
    assert report.causes_by_category == (("tarif", 2), ("", 1))
    assert report.top_causes == (("Erreur de tarif", 2), ("Colis mal calé", 1))
    assert report.actions == (
        ActionCount("corrective", "open", 2),
        ActionCount("curative", "done", 1),
        ActionCount("preventive", "verified", 1),
    )
    assert report.overdue_actions == (OverdueAction("REC-1", 1, "corrective", "paul@example.com", date(2026, 11, 25)),)


def test_compensation_totals_and_satisfaction_on_three_points(report):
    assert report.compensation == (
        CompensationTotal("credit", "EUR", 2, Decimal("70.50")),
        CompensationTotal("refund", "", 1, Decimal(0)),
    )
    understood, actions, relationship = report.satisfaction
    assert (understood.answered, understood.yes, understood.no, understood.mean_mark) == (2, 1, 1, None)
    assert (actions.answered, actions.marks, actions.mean_mark) == (2, (0, 1, 0, 1, 0), 3.0)
    assert (relationship.answered, relationship.marks, relationship.mean_mark) == (1, (0, 0, 0, 0, 1), 5.0)


def test_the_mails_line_balances_and_typed_complaints_are_apart(report):
    line = report.completeness
    assert (line.received, line.registered, line.follow_ups, line.robots, line.quarantined, line.duplicates) == (
        11,
        2,
        4,
        3,
        1,
        1,
    )
    assert line.balanced and line.typed_in == 3


def test_comparison_with_the_previous_period(report):
    assert report.previous_period == Period(date(2026, 10, 1), date(2026, 10, 31), Kind.MONTH)
    assert (report.current.complaints, report.current.open, report.current.overdue, report.current.compensated) == (
        5,
        3,
        2,
        3,
    )
    assert (report.previous.complaints, report.previous.ack, report.previous.answer) == (
        1,
        Kept(1, 0, 0),
        Kept(1, 0, 0),
    )


def test_an_empty_period_gives_zeros():
    empty = build_report(parse_period("2026-Q1"), Rows(), Rows(), AS_OF, PARIS, FRANCE)
    assert empty.by_month == (("2026-01", 0), ("2026-02", 0), ("2026-03", 0))
    assert empty.ack == Kept() and empty.ack.share is None and empty.ack_times == ()
    assert empty.completeness.received == 0 and empty.completeness.balanced
    data = json.loads(to_json(empty, STAMP))
    assert data["volumes"]["total"] == 0 and data["deadlines"]["ack"] == {
        "met": 0,
        "missed": 0,
        "pending": 0,
        "share": None,
    }


def test_mediation_dates_passed_without_a_final_answer():
    """REC-3, REC-4 and REC-5 were never answered (REC-1 and REC-2 were): two months after receipt
    the customer may refer them to the mediator; a year after, the mediator may refuse (L.612-2)."""
    dates = partial(mediation_dates, refer_after=DeadlineRule(2, Unit.MONTHS), tz=PARIS, closed=FRANCE)
    rows = Rows(COMPLAINTS, CAUSES, ACTIONS, MAILS)

    def as_of(when: datetime) -> Report:
        return build_report(NOVEMBER, rows, Rows(OCTOBER), when, PARIS, FRANCE, dates)

    assert as_of(AS_OF).mediation == ()
    # Received Friday 20 Nov 2026 at 17:00 in Paris: the mediator from 20 January, 17:00; REC-4 from 28 January.
    january = as_of(datetime(2027, 1, 25, 9, 0, tzinfo=UTC))
    assert [(m.reference, m.refer_from.isoformat(), m.limit_passed) for m in january.mediation] == [
        ("REC-3", "2027-01-20T17:00:00+01:00", False)
    ]
    late = as_of(datetime(2027, 11, 29, 11, 0, tzinfo=UTC))  # REC-5's year ends at 13:00 in Paris
    assert [(m.reference, m.limit.isoformat(), m.limit_passed) for m in late.mediation] == [
        ("REC-3", "2027-11-20T17:00:00+01:00", True),
        ("REC-4", "2027-11-28T09:00:00+01:00", True),
        ("REC-5", "2027-11-29T13:00:00+01:00", False),
    ]
    data = figures(late)["mediation"]
    assert (data["referable"], data["limit_passed"], data["complaints"][1]["handler"]) == (3, 2, BOB)
    assert data["complaints"][0]["mediator_from"] == "2027-01-20T17:00:00+01:00"
    from daemon.core.report_html import to_html

    page = to_html(late, STAMP)
    assert "3 réclamations sans réponse définitive passé la date de saisine du médiateur ; 2 d&#39;entre elles" in page
    assert "<td>REC-4</td><td>bob@example.com</td><td>2026-11-28</td><td>2027-01-28</td><td>2027-11-28</td>" in page
    assert page.count("limite passée") == 2 and "L.612-2" in page.split("<h2>Définitions</h2>")[1]
    english = to_html(late, Stamp("0.1.0", (), "Europe/Paris", AS_OF, "en"))
    assert "past the one-year limit (L.612-2)" in english and "<dt>mediation</dt>" in english


@pytest.mark.parametrize(
    "text, first, last, previous",
    [
        ("2026-11", date(2026, 11, 1), date(2026, 11, 30), "2026-10"),
        ("2026-01", date(2026, 1, 1), date(2026, 1, 31), "2025-12"),
        ("2026-Q4", date(2026, 10, 1), date(2026, 12, 31), "2026-Q3"),
        ("2026-q1", date(2026, 1, 1), date(2026, 3, 31), "2025-Q4"),
        ("2026", date(2026, 1, 1), date(2026, 12, 31), "2025"),
        ("2026-11-10..2026-11-19", date(2026, 11, 10), date(2026, 11, 19), "2026-10-31..2026-11-09"),
    ],
)
def test_periods_and_their_previous(text, first, last, previous):
    period = parse_period(text)
    assert (period.first, period.last, period.previous().label) == (first, last, previous)


@pytest.mark.parametrize("text", ["2026-13", "2026-Q5", "26", "last month", "2026-11-30..2026-11-01", ""])
def test_a_bad_period_names_the_accepted_forms(text):
    with pytest.raises(ValueError, match=r"expected YYYY-MM \(2026-11\), YYYY-Qn"):
        parse_period(text)


def test_a_period_is_counted_in_local_time():
    start, end = NOVEMBER.bounds(PARIS)
    assert (start, end) == (datetime(2026, 10, 31, 23, 0, tzinfo=UTC), datetime(2026, 11, 30, 23, 0, tzinfo=UTC))


def test_nearest_rank_percentile():
    assert [percentile([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0], p) for p in (10, 50, 90, 100)] == [
        1.0,
        5.0,
        9.0,
        10.0,
    ]


STAMP = Stamp("0.1.0", ("ack 48h", "answer 10d", "answer facturation 6bd"), "Europe/Paris", AS_OF, "fr")


def test_json_and_csv_carry_the_stamp_the_hash_and_the_definitions(report):
    data = json.loads(to_json(report, STAMP))
    assert data["stamp"]["product"] == "complaintsd 0.1.0" and data["stamp"]["timezone"] == "Europe/Paris"
    assert data["stamp"]["rules"] == ["ack 48h", "answer 10d", "answer facturation 6bd"]
    assert data["stamp"]["content_sha256"] == content_hash(figures(report))
    assert list(data["definitions"])[:2] == ["période", "volumes"]
    assert data["volumes"]["by_category"] == {"facturation": 2, "livraison": 2, "unset": 1}
    assert data["compensation"][0] == {"type": "credit", "currency": "EUR", "count": 2, "total": "70.50"}
    lines = to_csv(report, STAMP).splitlines()
    assert lines[0] == "section,key,value"
    assert f"stamp,content_sha256,{content_hash(figures(report))}" in lines
    assert "deadlines.ack,share,0.5" in lines and "actions.overdue.1,reference,REC-1" in lines
    assert lines[-1].startswith("definition,cachet,")


def test_the_figures_of_a_register_the_runners_filled(tmp_path):
    """Three complaints on Monday 23 Nov (two from Camille, one from Paul), one in October, a robot's
    mail; Bob answers Paul's an hour later with a cause, an action due 25 Nov and a credit note."""
    clock = FakeClock(datetime(2026, 10, 30, 9, 0, tzinfo=UTC))
    desk = make_desk(tmp_path, clock)
    ingest(desk, complaint(9, sender="Zoé <zoe@client.example>", subject="Retard"))
    relay(desk)
    clock.set(START)
    first, second, third = ingest(
        desk,
        complaint(1, subject="Facture erronée"),
        complaint(2, sender="Paul <paul@client.example>", subject="Colis abîmé"),
        complaint(3, subject="Re: facture erronée"),
    ).references
    ingest(desk, complaint(4, subject="Absence", headers={"Auto-Submitted": "auto-replied"}))
    letters = relay(desk)
    [notification] = [x for x in letters if x.kind == "handler_notification" and second in x.subject]
    clock.advance(timedelta(hours=1))
    ingest(
        desk,
        reply(
            notification.message,
            "bob@example.com",
            "#portée systémique\n#cause Colis mal calé\n"
            "#action corrective Former l'équipe @paul@example.com 2026-11-25\n#compensation avoir 50 EUR\n"
            "#réponse\nMonsieur,\nun colis neuf part aujourd'hui.\nCordialement",
        ),
    )
    assert show(desk, second).status == "answered"
    config = config_of(tmp_path)
    as_of = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)  # the answers to the other two were due 3 Dec

    data = figures(make_report(config, Register(config.database.url), NOVEMBER, as_of).report)

    assert data["volumes"] == {
        "total": 3,
        "by_month": {"2026-11": 3},
        "by_category": {"unset": 3},
        "by_channel": {"email": 3},
        "by_severity": {"unset": 3},
    }
    assert data["deadlines"]["ack"] == {"met": 3, "missed": 0, "pending": 0, "share": 1.0}
    assert data["deadlines"]["answer"] == {"met": 1, "missed": 2, "pending": 0, "share": 0.3333}
    assert data["times"]["ack"] == [{"unit": "hours", "cases": 3, "median": 0.0, "p90": 0.0}]
    assert data["times"]["answer"] == [{"unit": "calendar_days", "cases": 1, "median": 0.0, "p90": 0.0}]
    assert data["handlers"] == [{"handler": "alice@example.com", "open": 2, "overdue": 2}]
    assert data["systemic"] == [second]
    assert data["recurring"] == [
        {"kind": "customer", "key": "camille.durand@client.example", "references": [first, third]}
    ]
    assert data["causes"] == {"by_category": {"unset": 1}, "most_frequent": [{"text": "Colis mal calé", "count": 1}]}
    assert data["actions"] == {
        "by_kind_and_status": [{"kind": "corrective", "status": "open", "count": 1}],
        "overdue": [
            {"reference": second, "number": 1, "kind": "corrective", "owner": "paul@example.com", "due": "2026-11-25"}
        ],
    }
    assert data["compensation"] == [{"type": "credit", "currency": "EUR", "count": 1, "total": "50.00"}]
    assert data["mails"] == {
        "received": 5,
        "registered": 3,
        "follow_ups": 1,
        "robots": 1,
        "quarantined": 0,
        "duplicates": 0,
        "other": 0,
        "balanced": True,
        "typed_in": 0,
    }
    assert data["comparison"]["previous"]["complaints"] == 1
    nothing = {"referable": 0, "limit_passed": 0, "listed": 0, "complaints": []}
    assert data["mediation"] == nothing, "two months not passed"


@pytest.fixture
def config_path(tmp_path):
    from tests.test_migrations import config_file

    database = tmp_path / "register.db"
    Register(f"sqlite:///{database}", create=True).dispose()
    return str(config_file(tmp_path, database))


def test_the_command_on_an_empty_period_prints_zeros(config_path, capsys):
    from daemon.cli import main

    assert main(["report", "--config", config_path, "--period", "2026-Q4", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["volumes"]["by_month"] == {"2026-10": 0, "2026-11": 0, "2026-12": 0}
    assert data["mails"]["received"] == 0 and data["comparison"]["previous"]["complaints"] == 0


def test_the_command_writes_the_file_asked(config_path, tmp_path, capsys):
    from daemon.cli import main

    out = tmp_path / "report.csv"
    assert main(["report", "--config", config_path, "--period", "2026", "--format", "csv", "--output", str(out)]) == 0
    assert f"written to {out}" in capsys.readouterr().out
    assert out.read_text(encoding="utf-8").startswith("section,key,value\nstamp,product,complaintsd ")


def test_a_bad_period_is_one_line_and_exit_1(config_path, capsys):
    from daemon.cli import main

    assert main(["report", "--config", config_path, "--period", "2026-13", "--format", "json"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("complaintsd: --period 2026-13: not a period; expected YYYY-MM")


def test_the_html_report_is_self_contained_with_charts_stamp_and_definitions(report):
    from daemon.core.report_html import to_html

    page = to_html(report, STAMP)
    assert re.findall(r"https?:|//|\bsrc=|url\(|@import|<script|<link", page, flags=re.I) == []
    assert page.count("<svg") == 6, "months, category, channel, severity, deadlines, actions"
    assert '<html lang="fr">' in page and "<h2>Délais tenus</h2>" in page and "50.0 %" in page
    assert "paul@example.com" in page and "2026-11-25" in page, "the overdue action is named"
    assert content_hash(figures(report)) in page and "Europe/Paris" in page and "answer facturation 6bd" in page
    assert page.index("SHA-256") < page.index("<h2>Volumes</h2>"), "the stamp under the title"
    assert page.rindex("<h2>Définitions</h2>") > page.rindex("Courriels reçus"), "the definitions close the report"
    assert page.rstrip().endswith("</dd></dl>\n</body></html>")
    assert "11 courriels = 2 enregistrés + 4 suites + 3 robots conservés + 1 en quarantaine" in page
    english = to_html(report, Stamp("0.1.0", (), "Europe/Paris", AS_OF, "en"))
    assert "<h2>Deadlines kept</h2>" in english and "business days" in english


def test_an_empty_period_makes_an_html_page_of_zeros():
    from daemon.core.report_html import to_html

    empty = build_report(parse_period("2026-11"), Rows(), Rows(), AS_OF, PARIS, FRANCE)
    page = to_html(empty, STAMP)
    assert "<p>Réclamations: 0</p>" in page and "0 courriels = 0 enregistrés" in page


def test_mail_queues_the_html_report_to_the_supervisor_through_the_outbox(tmp_path):
    from daemon.report import mail_report
    from tests.runners import SUPERVISOR, queued

    clock = FakeClock()
    desk = make_desk(tmp_path, clock)
    ingest(desk, complaint(1, subject="Facture erronée"))
    config = config_of(tmp_path)
    register = Register(config.database.url)
    made = make_report(config, register, NOVEMBER, AS_OF)

    assert mail_report(config, register, made, AS_OF) == SUPERVISOR

    [letter] = queued(desk, "quality_report")
    assert letter.to == SUPERVISOR
    # Never acknowledged (no relay ran), due 25 November: overdue on 1 December.
    assert letter.subject == "Rapport des réclamations 2026-11 : 1 réclamation, 1 en retard"
    assert letter.attachments == ["rapport-reclamations-2026-11.html"]
    [part] = list(letter.message.iter_attachments())
    page = part.get_content()
    assert "<svg" in page and content_hash(figures(made.report)) in page


@pytest.mark.parametrize(
    "now, expected",
    [
        (datetime(2026, 12, 1, 6, 0, tzinfo=UTC), "2026-11"),  # the timer's morning: last month
        (datetime(2026, 11, 30, 23, 30, tzinfo=UTC), "2026-11"),  # already 1 December in Paris
        (datetime(2027, 1, 15, 12, 0, tzinfo=UTC), "2026-12"),
    ],
)
def test_without_a_period_the_report_is_last_months(tmp_path, now, expected):
    from daemon.report import period_option

    assert period_option(None, config_of(tmp_path), now).label == expected


def test_mediation_counts_every_complaint_and_lists_the_oldest():
    """A register with thousands unanswered: the counts are exact (found by bisection), the list
    holds the oldest, each with the dates mediation_dates gives it."""
    dates = partial(mediation_dates, refer_after=DeadlineRule(2, Unit.MONTHS), tz=PARIS, closed=FRANCE)
    start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    many = tuple(
        COMPLAINTS[2]._replace(reference=f"REC-{n}", received_at=start + timedelta(hours=7 * n)) for n in range(3000)
    )
    as_of = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
    waiting = _mediation(many, dates, as_of, PARIS, listed=5)
    every = [dates(c.received_at) for c in many]
    assert waiting.referable == sum(d.refer_from <= as_of for d in every)
    assert waiting.limit_passed == sum(d.limit < as_of for d in every)
    assert 0 < waiting.limit_passed < waiting.referable < len(many)
    assert [c.reference for c in waiting.cases] == ["REC-0", "REC-1", "REC-2", "REC-3", "REC-4"]
