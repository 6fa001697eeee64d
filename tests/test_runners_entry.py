"""Complaints that do not arrive by email (issue 9, item 7): `complaintsd add` registers them with
the same lifecycle, deadlines, routing and handler notification as a mail, in process on a real
register with the fake clock. A customer with no email address gets their letters on paper: none
is queued, the history says which to print and post, and `complaintsd letter` prints it.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from daemon.cli import main
from daemon.core.mail import Attachment
from daemon.core.manual_entry import Channel, ManualEntry
from daemon.edges.register.outbox import acknowledged_on_paper
from daemon.errors import EntryError
from daemon.presenting import detail_json
from daemon.runners.entry import register_entry
from tests.harness import reply
from tests.runners import ALICE, BOB, FakeClock, history, ingest, make_desk, queued, relay, reminders, show
from tests.test_migrations import config_file


def phone_call(clock: FakeClock, **changes) -> ManualEntry:
    values = {
        "channel": Channel.PHONE,
        "name": "Jeanne Petit",
        "subject": "Facture en double",
        "text": "La cliente a été prélevée deux fois pour la facture de novembre.",
        "received_at": clock() - timedelta(hours=2),
        "phone": "+33 1 23 45 67 89",
        "address": "12 rue des Lilas\n69003 Lyon",
        "wish": "Le remboursement du second prélèvement",
    }
    return ManualEntry(**(values | changes))


def test_a_phone_complaint_without_email_is_routed_and_its_acknowledgement_posted(tmp_path) -> None:
    clock = FakeClock()
    desk = make_desk(tmp_path, clock)

    reference = register_entry(desk, phone_call(clock))

    letters = queued(desk)
    assert [(letter.kind, letter.to) for letter in letters] == [("handler_notification", ALICE)], (
        "routed by its words (facture → Alice), and no letter queued to a customer who has no address"
    )
    assert "Jeanne Petit" in letters[0].text and "Facture en double" in letters[0].subject
    complaint = show(desk, reference)
    assert (complaint.channel, complaint.customer_email, complaint.customer_phone) == ("phone", "", "+33 1 23 45 67 89")
    assert complaint.wished_solution == "Le remboursement du second prélèvement"
    assert complaint.received_at == clock() - timedelta(hours=2), "deadlines count from the call, not the typing"
    assert complaint.ack_due_at == complaint.received_at + timedelta(hours=48)
    events = dict(history(desk, reference))
    assert f"complaintsd letter {reference} acknowledgement" in events["letter_to_post"]
    [received] = [h for h in complaint.history if h.event == "received"]
    assert received.actor == "phone: Jeanne Petit"


def test_a_counter_complaint_with_email_is_acknowledged_by_email_with_its_files(tmp_path) -> None:
    clock = FakeClock()
    desk = make_desk(tmp_path, clock)
    photo = Attachment("colis.jpg", "image/jpeg", b"\xff\xd8 a photo")

    reference = register_entry(
        desk, phone_call(clock, channel=Channel.COUNTER, email="jeanne@client.example", attachments=(photo,))
    )

    kinds = [(letter.kind, letter.to) for letter in queued(desk)]
    assert kinds == [("acknowledgement", "jeanne@client.example"), ("handler_notification", ALICE)]
    assert "colis.jpg" in queued(desk, "acknowledgement")[0].text
    assert [a.filename for a in show(desk, reference).attachments] == ["colis.jpg"]
    relay(desk)
    assert show(desk, reference).status == "acknowledged"


def test_the_handler_drives_a_phone_complaint_by_email_and_answers_go_to_post(tmp_path) -> None:
    clock = FakeClock()
    desk = make_desk(tmp_path, clock)
    reference = register_entry(desk, phone_call(clock, subject="Colis perdu", text="Rien reçu."))
    [notification] = relay(desk)
    assert notification.to == BOB
    with desk.register.transaction() as session:  # what `complaintsd letter REF acknowledgement` does
        assert acknowledged_on_paper(session, reference, clock())
    assert {r.state for r in reminders(desk, reference) if r.deadline == "ack"} == {"cancelled"}

    clock.advance(timedelta(hours=1))
    ingest(desk, reply(notification.message, BOB, "#clore fondée\n#réponse Nous renvoyons le colis."))

    assert [letter.kind for letter in queued(desk)][-1] == "command_reply", "the handler is answered by email"
    assert not [letter for letter in queued(desk) if letter.kind in ("answer", "closed")]
    posted = [detail for event, detail in history(desk, reference) if event == "letter_to_post"]
    assert [line.split(":")[0] for line in posted] == ["acknowledgement", "answer", "closed"]
    assert show(desk, reference).status == "closed"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": " "}, "--name: required"),
        ({"email": "jeanne at client"}, "--email jeanne at client: not an email address"),
        ({"phone": "call me"}, "--phone call me: not a phone number"),
        ({"phone": "", "address": ""}, "give --email, --phone or --address"),
        ({"channel": Channel.EMAIL}, "registered from the mailbox"),
    ],
)
def test_an_incomplete_entry_is_refused_before_anything_is_written(changes, message) -> None:
    with pytest.raises(EntryError, match=message):
        phone_call(FakeClock(), **changes)


def test_the_cli_adds_prints_the_reference_and_prints_a_letter_to_post(tmp_path, capsys) -> None:
    register = tmp_path / "register.db"
    config = config_file(tmp_path, register)
    assert main(["migrate", "--config", str(config)]) == 0
    capsys.readouterr()
    document = tmp_path / "bon.pdf"
    document.write_bytes(b"%PDF-1.4 a delivery note")
    args = ["add", "--config", str(config), "--channel", "letter", "--name", "Jeanne Petit"]
    args += ["--address", "12 rue des Lilas\n69003 Lyon", "--subject", "Colis abîmé", "--text", "Carton écrasé."]
    args += ["--attach", str(document), "--customer-type", "trainee", "--received-at", "2026-11-27T09:30", "--json"]

    assert main(args) == 0

    added = json.loads(capsys.readouterr().out)
    reference = added["reference"]
    assert (added["channel"], added["posted"]) == ("letter", True)
    assert main(["show", "--config", str(config), reference, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["channel"], shown["customer_type"], shown["customer_email"]) == ("letter", "trainee", "")
    assert shown["received_at"] == "2026-11-27T08:30:00+00:00", "local Paris time, stored in UTC"
    assert [a["filename"] for a in shown["attachments"]] == ["bon.pdf"]

    page = tmp_path / "ack.html"
    assert main(["letter", "--config", str(config), reference, "acknowledgement", "--output", str(page)]) == 0
    html = page.read_text(encoding="utf-8")
    assert "12 rue des Lilas<br>69003 Lyon" in html and reference in html and "bon.pdf" in html
    assert "@page { size: A4" in html
    assert main(["show", "--config", str(config), reference, "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["status"] == "acknowledged" and printed["acknowledged_at"] is not None
    assert "acknowledgement_printed" in [event["event"] for event in printed["history"]]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--channel", "fax"], "--channel fax: not one of email, phone, letter, counter, web"),
        (["--channel", "phone", "--customer-type", "vip"], "--customer-type vip: not one of customer, trainee"),
        (["--channel", "phone", "--received-at", "hier"], "--received-at hier: not an ISO date"),
        (["--channel", "phone", "--attach", "/nonexistent/x.pdf"], "--attach /nonexistent/x.pdf: No such file"),
    ],
)
def test_a_bad_add_is_one_line_and_exit_1(tmp_path, capsys, extra, message) -> None:
    config = config_file(tmp_path, tmp_path / "register.db")
    assert main(["migrate", "--config", str(config)]) == 0
    capsys.readouterr()
    args = ["add", "--config", str(config), "--name", "J", "--phone", "0123456789", "--subject", "s", "--text", "t"]

    assert main(args + extra) == 1

    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
    assert main(["list", "--config", str(config), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == [], "nothing registered"


def test_show_json_holds_the_entry_fields(tmp_path) -> None:
    clock = FakeClock()
    desk = make_desk(tmp_path, clock)
    reference = register_entry(desk, phone_call(clock))
    data = detail_json(show(desk, reference))
    assert {key: data[key] for key in ("channel", "customer_type", "customer_phone", "satisfaction")} == {
        "channel": "phone",
        "customer_type": "customer",
        "customer_phone": "+33 1 23 45 67 89",
        "satisfaction": None,
    }
