"""A public address under attack (issue 14), in process on a real SQLite register, and on aiosmtpd.

Each test is one abuse as an attacker would try it, and what a user would notice if the daemon fell
for it: a stranger receiving our letters, one mail turning into two recipients, a 200 kB subject
or a terminal escape echoed back, a poison letter or mail stopping the desk.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from daemon import runners
from daemon.core.intake import decide_registration
from daemon.core.mail import Fetched
from daemon.core.parsing import parse
from daemon.core.triage import fingerprint
from daemon.edges.smtp import SmtpSender
from daemon.runners.ingest import Ingestor
from daemon.runners.outbox import Outbox, TellHandler
from daemon.runners.sweep import Sweeper
from tests.harness import complaint, reply
from tests.runners import (
    BOB,
    CUSTOMER,
    SUPERVISOR,
    FakeClock,
    config_of,
    history,
    ingest,
    kinds,
    make_desk,
    queued,
    relay,
    reminders,
    show,
)

ACK, NOTIFICATION = "acknowledgement", "handler_notification"
VICTIM = "victim@elsewhere.example"
COMMA = '"a@x.example,b@y.example"@attacker.example'

RECIPIENTS = [
    # (From, Reply-To, where the acknowledgement goes: None for nowhere)
    pytest.param(f"Camille <{CUSTOMER}>", VICTIM, CUSTOMER, id="Reply-To elsewhere: the sender, not the victim"),
    pytest.param(f"Camille <{CUSTOMER}>", "compta@client.example", "compta@client.example", id="Reply-To same domain"),
    pytest.param(f"Camille <{CUSTOMER}>", "reclamations@example.com", CUSTOMER, id="Reply-To ourselves: the sender"),
    pytest.param("Paul <paul@example.com>", "reclamations@example.com", None, id="in our domain, Reply-To ourselves"),
    pytest.param("Site <no-reply@example.com>", CUSTOMER, CUSTOMER, id="our own web form: its Reply-To"),
    pytest.param("Site <no-reply@shop.example>", VICTIM, None, id="a stranger's no-reply form: nobody"),
]


@pytest.mark.parametrize("sender, reply_to, expected", RECIPIENTS)
def test_automatic_mail_goes_only_to_the_senders_own_address(tmp_path, sender, reply_to, expected):
    """50 mails with `Reply-To: victim@…` gave the victim 50 acknowledgements: now none."""
    desk = make_desk(tmp_path, FakeClock())
    result = ingest(desk, complaint(1, sender=sender, headers={"Reply-To": reply_to}))
    assert len(result.processed) == 1, "the mail is kept whatever happens"
    acks = queued(desk, ACK)
    assert [a.to for a in acks] == ([expected] if expected else [])
    if expected:
        [reference] = result.references
        assert ("acknowledgement_queued", f"to {expected}") in [
            (e, d.split(",")[0]) for e, d in history(desk, reference)
        ]


@pytest.mark.smtp
def test_a_quoted_comma_is_one_recipient_on_the_wire(tmp_path, smtp_sink):
    """`"a@x.example,b@y.example"@attacker.example` became two envelope recipients."""
    clock = FakeClock()
    sections = {"smtp": {"host": smtp_sink.host, "port": smtp_sink.port}}
    desk = make_desk(tmp_path, clock, **sections)
    outbox = Outbox(desk.register, SmtpSender(config_of(tmp_path, **sections).smtp), config_of(tmp_path).outbox, clock)
    ingest(desk, complaint(1, sender=COMMA))
    assert outbox.flush() == 2
    envelopes = sorted(m.rcpt_tos for m in smtp_sink.messages())
    assert envelopes == [(COMMA,), (BOB,)]


def test_echoed_customer_text_is_cut_and_stripped_of_control_characters(tmp_path):
    """A 200 kB subject was echoed whole; an escape sequence would reach the reader's terminal."""
    desk = make_desk(tmp_path, FakeClock())
    subject = "Achetez sur http://spam.example \x1b[2J\x07 " + "x" * 200_000
    ingest(desk, complaint(1, subject=subject, sender='"Camille \x1b[31m Durand" <camille.durand@client.example>'))
    for letter in queued(desk):
        raw = letter.message.as_bytes()
        assert len(raw) < 20_000, f"{letter.kind}: {len(raw)} bytes"
        assert b"\x1b" not in raw and b"\x07" not in raw
        assert "xxxxx…" in letter.text or "xxxxx\u2026" in letter.subject
        assert len(letter.subject) < 400


def test_headers_built_from_a_customers_message_ids_are_clean_and_bounded(tmp_path):
    desk = make_desk(tmp_path, FakeClock())
    many = " ".join(f"<r{i}@client.example>" for i in range(5_000))
    raw = complaint(1, headers={"References": many}).replace(b"Message-ID: <", b"Message-ID: <\x01", 1)
    ingest(desk, raw)
    [ack] = queued(desk, ACK)
    assert ack.message["In-Reply-To"] is None, "a Message-ID holding a control character is not copied"
    references = str(ack.message["References"]).split()
    assert 0 < len(references) <= 10 and references[-1] == "<r4999@client.example>"


def test_letters_to_staff_go_to_staff_whatever_the_mail_says(tmp_path):
    desk = make_desk(tmp_path, FakeClock())
    ingest(desk, complaint(1, sender=f"Camille <{CUSTOMER}>", headers={"Reply-To": VICTIM, "Cc": VICTIM}))
    assert kinds(queued(desk)) == [(ACK, CUSTOMER), (NOTIFICATION, BOB)]


# --- poison: one letter or one mail must not stop the desk (issue 14, item 3) ------------------

# The parser reads `"jo\"e@client.example"` from this From; aiosmtplib raised ValueError on it.
QUOTED_FROM = b'From: "jo\\"e@client.example\n'
JORG = "Jörg <jörg@client.example>"  # an internationalised address (RFC 6532)


@pytest.mark.smtp
def test_a_letter_that_cannot_be_sent_is_failed_with_its_reason_and_the_next_one_goes(tmp_path, smtp_sink):
    """The sender died on such a row, and again after each restart (the same row came first)."""
    clock = FakeClock()
    sections = {"smtp": {"host": smtp_sink.host, "port": smtp_sink.port}}
    desk = make_desk(tmp_path, clock, **sections)
    outbox = Outbox(desk.register, SmtpSender(config_of(tmp_path, **sections).smtp), config_of(tmp_path).outbox, clock)
    poison = QUOTED_FROM + complaint(1).split(b"\n", 1)[1]
    [poisoned] = ingest(desk, poison).references
    [ordinary] = ingest(desk, complaint(2)).references
    assert outbox.flush() == 3, "the poisoned acknowledgement fails; both notifications and the other ack leave"
    assert sorted(m.rcpt_tos for m in smtp_sink.messages()) == [(BOB,), (BOB,), (CUSTOMER,)]
    [bad, good] = [a.status for a in queued(desk, ACK)]
    assert (bad, good) == ("refused", "sent")
    [(event, detail)] = [(e, d) for e, d in history(desk, poisoned) if e == "acknowledgement_refused"]
    assert "cannot be written in an SMTP envelope" in detail
    assert outbox.flush() == 0, "a refused letter is not tried again"


def test_a_mail_naming_250000_message_ids_is_registered_like_any_other(tmp_path):
    """It failed with "too many SQL variables", taken for an outage: nothing was acknowledged again."""
    desk = make_desk(tmp_path, FakeClock())
    many = b"References: " + b"\n ".join(b"<r%d@x.example>" % i for i in range(250_000)) + b"\n"
    subject = "Réclamation " + " ".join(f"REC-2026-{i:06d}" for i in range(1, 5_000))
    result = ingest(desk, many + complaint(1, subject=subject), complaint(2))
    assert len(result.references) == 2
    assert kinds(queued(desk, ACK)) == [(ACK, CUSTOMER), (ACK, CUSTOMER)]


def test_a_mail_that_cannot_be_registered_is_tried_three_times_then_quarantined(tmp_path, monkeypatch):
    """The mails behind it are registered at the first pass; it stays in the inbox twice (left in
    neither list), and is quarantined with its reason at the third failure. Every such failure
    found so far is fixed (the last: an internationalised address), so a decision that fails on
    one mail stands for the next bug."""
    desk = make_desk(tmp_path, FakeClock())
    poison = complaint(1, subject="Le bogue suivant")

    def failing_on_the_poison(intake, *args):
        if intake.mail.subject == "Le bogue suivant":
            raise UnicodeEncodeError("ascii", "ö", 0, 1, "ordinal not in range(128)")
        return decide_registration(intake, *args)

    monkeypatch.setattr(runners.ingest, "decide_registration", failing_on_the_poison)
    first = ingest(desk, poison, complaint(2))
    assert len(first.references) == 1 and first.processed == first.processed[-1:] and first.quarantined == []
    assert kinds(queued(desk, ACK)) == [(ACK, CUSTOMER)], "the ordinary mail did not wait"
    ingestor = Ingestor(desk)
    outcomes = [ingestor.ingest([Fetched(f"p{n}", poison, desk.clock())]) for n in range(3)]
    assert [(r.processed, r.quarantined) for r in outcomes] == [([], []), ([], []), ([], ["p2"])]
    [notice] = queued(desk, "quarantine_notice")
    assert "could not be registered after 3 attempts: UnicodeEncodeError" in notice.text


def test_a_mail_whose_files_cannot_be_stored_fails_alone(tmp_path, monkeypatch):
    """Storing a complaint's files came before the per-message catch-all: a file that cannot be
    stored for a reason of its own (not the disk: that is an outage) failed the whole batch, again
    at every try. Now that mail alone is left, then quarantined, and the others are registered."""
    desk = make_desk(tmp_path, FakeClock())
    poison = complaint(1, subject="Pièce illisible", attachment=("scan.pdf", b"%PDF-1.4 x", "application/pdf"))
    keep = desk.store.keep

    def failing_on_the_poison(mail):
        if mail.subject == "Pièce illisible":
            raise ValueError("the part cannot be decoded")
        return keep(mail)

    monkeypatch.setattr(desk.store, "keep", failing_on_the_poison)
    first = ingest(desk, poison, complaint(2))
    assert len(first.references) == 1 and first.quarantined == [], "the other mail did not wait"
    ingestor = Ingestor(desk)
    outcomes = [ingestor.ingest([Fetched(f"p{n}", poison, desk.clock())]) for n in range(3)]
    assert [(r.processed, r.quarantined) for r in outcomes] == [([], []), ([], []), ([], ["p2"])]
    [notice] = queued(desk, "quarantine_notice")
    assert "could not be registered after 3 attempts: ValueError: the part cannot be decoded" in notice.text


# --- internationalised addresses (issue 14: "jörg@… is quarantined with 'ascii' codec can't encode")


def test_a_mail_from_an_internationalised_address_is_registered_and_acknowledged_to_it(tmp_path):
    desk = make_desk(tmp_path, FakeClock())
    [reference] = ingest(desk, complaint(1, sender=JORG)).references
    assert show(desk, reference).customer_email == "jörg@client.example"
    [ack] = queued(desk, ACK)
    assert ack.to == "jörg@client.example"
    assert ack.message["To"].addresses[0].display_name == "Jörg"
    assert "jörg@client.example".encode() in ack.message.as_bytes(), "the addr-spec is UTF-8, not an encoded word"


@pytest.mark.smtp
def test_letters_to_an_internationalised_address_leave_with_smtputf8(tmp_path, smtp_sink):
    clock = FakeClock()
    sections = {"smtp": {"host": smtp_sink.host, "port": smtp_sink.port}}
    desk = make_desk(tmp_path, clock, **sections)
    outbox = Outbox(desk.register, SmtpSender(config_of(tmp_path, **sections).smtp), config_of(tmp_path).outbox, clock)
    [reference] = ingest(desk, complaint(1, sender=JORG)).references
    assert outbox.flush() == 2
    [ack] = [m for m in smtp_sink.messages() if m.rcpt_tos == ("jörg@client.example",)]
    assert "SMTPUTF8" in ack.mail_options
    assert str(ack.parsed()["To"]) == "Jörg <jörg@client.example>"
    assert show(desk, reference).status == "acknowledged"


@pytest.mark.smtp
def test_without_smtputf8_the_letter_is_failed_in_the_history_and_the_handler_told(tmp_path, ascii_smtp_sink):
    clock = FakeClock()
    sections = {"smtp": {"host": ascii_smtp_sink.host, "port": ascii_smtp_sink.port}}
    desk = make_desk(tmp_path, clock, **sections)
    sender = SmtpSender(config_of(tmp_path, **sections).smtp)
    outbox = Outbox(desk.register, sender, config_of(tmp_path).outbox, clock, TellHandler(desk))
    [reference] = ingest(desk, complaint(1, sender=JORG)).references
    assert outbox.flush() == 1, "the handler's notification leaves; the acknowledgement cannot"
    [(event, detail)] = [(e, d) for e, d in history(desk, reference) if e == "acknowledgement_refused"]
    assert "the relay does not offer SMTPUTF8" in detail
    assert show(desk, reference).status == "received"
    assert outbox.flush() == 1, "the handler is told, once"
    told = [m.parsed() for m in ascii_smtp_sink.messages() if m.rcpt_tos == (BOB,)][-1]
    assert str(told["Subject"]).startswith(f"[{reference}] Un courrier au client n'a pas pu être remis")
    text = told.get_body(("plain",)).get_content()
    assert "L'accusé de réception de la réclamation" in text and "jörg@client.example" in text
    assert "SMTPUTF8" in text
    assert [m.rcpt_tos for m in ascii_smtp_sink.messages()] == [(BOB,), (BOB,)]
    assert outbox.flush() == 0


# --- spoofed threads and follow-up files (issue 14, items 4 and 5) ------------------------------

STRANGER = "Mallory <mallory@elsewhere.example>"


def _registered(desk) -> tuple[str, object]:
    """A complaint acknowledged and settled; returns its reference and the acknowledgement."""
    [reference] = ingest(desk, complaint(1)).references
    [ack] = relay(desk)[:1]
    return reference, ack.message


def test_a_stranger_quoting_a_reference_is_named_as_a_third_party_and_no_receipt_goes(tmp_path):
    """The handler's forward presented the stranger's mail as the customer's, and the real customer
    got a receipt listing the stranger's files."""
    desk = make_desk(tmp_path, FakeClock())
    reference, ack = _registered(desk)
    before = len(queued(desk))
    forged = reply(ack, STRANGER, "Je suis le client, remboursez-moi sur ce compte.", attachment=("rib.pdf", b"%PDF"))
    ingest(desk, forged)
    new = queued(desk)[before:]
    assert kinds(new) == [("follow_up_forward", BOB)], "no receipt to the customer, none to the stranger"
    forward = new[0]
    assert "tiers" in forward.subject
    assert "mallory@elsewhere.example, qui n'est pas le client" in " ".join(forward.text.split())
    [(event, detail)] = [(e, d) for e, d in history(desk, reference) if e == "third_party_mail"]
    assert detail.startswith("from mallory@elsewhere.example, not the customer; attachments: rib.pdf")
    assert "follow_up" not in [e for e, _ in history(desk, reference)]


def test_an_unproven_mail_claiming_a_handlers_address_is_recorded_as_unverified(tmp_path):
    desk = make_desk(tmp_path, FakeClock())
    reference, ack = _registered(desk)
    claim = reply(ack, f"Bob <{BOB}>", "Le client a tort, fermez le dossier.", keep_thread=False)
    ingest(desk, claim)
    events = history(desk, reference)
    assert "handler_mail" not in [e for e, _ in events], "never recorded as the handler's words"
    [(event, detail)] = [(e, d) for e, d in events if e == "unverified_mail"]
    assert detail.startswith(f"claims to be from {BOB}, without proof") and "fermez le dossier" in detail
    assert show(desk, reference).history[-1].actor == "unverified sender"


def test_a_follow_ups_files_are_stored_and_listed_with_the_complaint(tmp_path):
    """The customer was told the file was added to their case; only the raw mail kept it."""
    desk = make_desk(tmp_path, FakeClock())
    reference, ack = _registered(desk)
    ingest(desk, reply(ack, f"Camille Durand <{CUSTOMER}>", "Voici la facture.", attachment=("facture.pdf", b"%PDF-1")))
    files = show(desk, reference).attachments
    assert [f.filename for f in files] == ["facture.pdf"]
    assert (tmp_path / "attachments" / files[0].sha256[:2] / files[0].sha256).read_bytes() == b"%PDF-1"
    assert ("follow_up_received", CUSTOMER) in kinds(queued(desk))


def test_a_follow_ups_big_file_is_listed_not_forwarded(tmp_path):
    desk = make_desk(tmp_path, FakeClock(), limits={"attachments_to_handler": "1kB"})
    reference, ack = _registered(desk)
    ingest(desk, reply(ack, f"Camille Durand <{CUSTOMER}>", "La vidéo.", attachment=("video.pdf", b"x" * 5000)))
    [forward] = queued(desk, "follow_up_forward")
    assert forward.attachments == [] and "video.pdf" in forward.text
    assert "conservées dans le registre" in forward.text
    assert len(forward.message.as_bytes()) < 20_000
    assert [f.filename for f in show(desk, reference).attachments] == ["video.pdf"]


# --- the cap per correspondent (issue 14, item 2) -----------------------------------------------


def test_a_flood_from_one_sender_is_registered_but_acknowledged_at_most_the_cap(tmp_path):
    """200 mails from one sender in a minute gave 200 acknowledgements. Every mail is still
    registered and routed; past the cap the history says why no acknowledgement left."""
    desk = make_desk(tmp_path, FakeClock(), limits={"automatic_mails_per_day": 5})
    first = ingest(desk, *(complaint(n) for n in range(1, 4)))
    again = make_desk(tmp_path, desk.clock, limits={"automatic_mails_per_day": 5})  # a restart: counted in the register
    second = ingest(again, *(complaint(n) for n in range(4, 21)))
    references = first.references + second.references
    assert len(references) == 20, "every complaint is registered"
    assert len(queued(desk, ACK)) == 5
    assert len(queued(desk, NOTIFICATION)) == 20, "the handler's notification of each is kept"
    [(event, detail)] = [(e, d) for e, d in history(desk, references[5]) if e.startswith("acknowledgement")]
    assert event == "acknowledgement_withheld"
    assert f"5 already went to {CUSTOMER} in the last 24 hours" in detail
    assert {r.deadline for r in reminders(desk, references[5])} == {"answer"}, "nobody is chased for the silence"
    desk.clock.advance(timedelta(days=1, seconds=1))
    ingest(desk, complaint(21))
    assert len(queued(desk, ACK)) == 6, "a new day, a new allowance"


def _handler_mails(desk) -> list:
    """What the handler receives: every letter to Bob the sender may send (not held nor grouped)."""
    return [letter for letter in queued(desk, to=BOB) if letter.status in ("pending", "sent")]


def test_a_flood_of_200_mails_gives_the_handler_the_cap_and_one_grouped_mail_and_the_supervisor_one_alert(tmp_path):
    """200 mails from one sender gave 200 handler notifications. Past the cap the handler's
    notifications are held and grouped in one mail a period; the supervisor is told once a day,
    across a restart too."""
    limits = {"automatic_mails_per_day": 5, "grouped_every": "1h"}
    desk = make_desk(tmp_path, FakeClock(), limits=limits)
    references = ingest(desk, *(complaint(n) for n in range(1, 51))).references
    restarted = make_desk(tmp_path, desk.clock, limits=limits)
    for start in range(51, 201, 50):
        desk.clock.advance(timedelta(seconds=10))
        references += ingest(restarted, *(complaint(n) for n in range(start, start + 50))).references
    assert len(set(references)) == 200, "every mail opens its complaint"
    assert len(queued(desk, ACK)) == 5
    assert len(_handler_mails(desk)) == 5, "past the cap nothing goes to the handler at once"
    [alert] = queued(desk, "flood_alert")
    assert alert.to == SUPERVISOR and CUSTOMER in alert.subject
    assert [e for e, _ in history(desk, references[5])][-1] == "handler_notification_held"
    assert Sweeper(restarted).sweep().grouped == 0, "the period has not passed"
    desk.clock.advance(timedelta(hours=1))
    assert Sweeper(restarted).sweep().grouped == 1
    assert Sweeper(desk).sweep().grouped == 0, "a second sweep, or daemon, finds nothing left to group"
    [grouped] = queued(desk, "grouped_mail")
    assert grouped.to == BOB and grouped.subject.startswith(f"195 message(s) de {CUSTOMER}")
    assert references[5] in grouped.text and references[199] in grouped.text
    assert len(_handler_mails(desk)) == 6, "the cap, then one grouped mail"
    assert {letter.status for letter in queued(desk, NOTIFICATION)[5:]} == {"grouped"}
    ingest(restarted, complaint(201))
    assert len(queued(desk, "flood_alert")) == 1, "once per sender per day"
    desk.clock.advance(timedelta(days=1, seconds=1))
    ingest(restarted, *(complaint(n) for n in range(202, 208)))
    assert len(queued(desk, "flood_alert")) == 2, "the next day, a new alert"


def test_a_flood_of_follow_ups_on_one_complaint_is_grouped_too(tmp_path):
    desk = make_desk(tmp_path, FakeClock(), limits={"automatic_mails_per_day": 3, "grouped_every": "1h"})
    reference, ack = _registered(desk)
    for n in range(10):
        ingest(desk, reply(ack, f"Camille Durand <{CUSTOMER}>", f"Précision n° {n}."))
    forwards = queued(desk, "follow_up_forward")
    assert [f.status for f in forwards] == ["pending"] * 3 + ["held"] * 7
    desk.clock.advance(timedelta(hours=1))
    Sweeper(desk).sweep()
    [grouped] = queued(desk, "grouped_mail")
    assert grouped.text.count(reference) == 7 and "suite" in grouped.text


def test_a_vacation_responder_without_headers_cannot_make_us_loop(tmp_path):
    """A responder answering every mail, with no Auto-Submitted or Precedence, exchanged 21 mails
    with the daemon in 20 rounds. Now it gets at most the cap in a day, and every one of its mails
    is still kept in the history."""
    desk = make_desk(tmp_path, FakeClock(), limits={"automatic_mails_per_day": 3})
    [reference] = ingest(desk, complaint(1)).references
    for _round in range(20):
        letters = [letter for letter in relay(desk) if letter.to == CUSTOMER]
        if not letters:
            break
        desk.clock.advance(timedelta(minutes=1))
        ingest(desk, reply(letters[-1].message, CUSTOMER, "Je suis absente jusqu'au 30 novembre."))
    to_responder = [letter for letter in queued(desk) if letter.to == CUSTOMER]
    assert kinds(to_responder) == [(ACK, CUSTOMER), ("follow_up_received", CUSTOMER)], "one receipt a day"
    events = [e for e, _ in history(desk, reference)]
    assert events.count("follow_up") == 2 and events.count("receipt_withheld") == 1


def test_a_customer_writing_three_times_a_day_gets_one_receipt_and_the_cap_holds_across_complaints(tmp_path):
    desk = make_desk(tmp_path, FakeClock(), limits={"automatic_mails_per_day": 3})
    reference, ack = _registered(desk)
    for text in ("Une précision.", "Une autre.", "Et encore une."):
        ingest(desk, reply(ack, f"Camille Durand <{CUSTOMER}>", text))
    assert len(queued(desk, "follow_up_received")) == 1
    assert len(queued(desk, "follow_up_forward")) == 3, "the handler gets every one"
    [detail, _] = [d for e, d in history(desk, reference) if e == "receipt_withheld"]
    assert detail == "no receipt sent: one already went for this complaint in the last 24 hours"
    desk.clock.advance(timedelta(days=1, minutes=1))
    ingest(desk, reply(ack, f"Camille Durand <{CUSTOMER}>", "Le lendemain."))
    assert len(queued(desk, "follow_up_received")) == 2


# --- bounces of our letters (issue 14, item 6) ---------------------------------------------------


def _dsn(returned_id: str, action: str = "failed") -> bytes:
    """A delivery report as Postfix writes it, returning the header section of our letter."""
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.client.example>\r\n"
        "To: reclamations@example.com\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "Auto-Submitted: auto-replied\r\nMessage-ID: <dsn-1@mx.client.example>\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered: mailbox unknown.\r\n"
        "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.client.example\r\n\r\n"
        f"Final-Recipient: rfc822; {CUSTOMER}\r\nAction: {action}\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 User unknown\r\n"
        "--b\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: reclamations@example.com\r\nTo: {CUSTOMER}\r\nMessage-ID: {returned_id}\r\nSubject: ack\r\n"
        "--b--\r\n"
    ).encode()


def test_a_bounce_of_our_acknowledgement_tells_the_handler_and_nobody_else(tmp_path):
    """A delivery failure was kept as a robot mail linked to no complaint: nobody knew the
    customer had not been reached."""
    desk = make_desk(tmp_path, FakeClock())
    reference, ack = _registered(desk)
    before = len(queued(desk))
    ingest(desk, _dsn(ack["Message-ID"]))
    new = queued(desk)[before:]
    assert kinds(new) == [("follow_up_forward", BOB)], "the handler is told; the robot gets nothing back"
    assert "User unknown" in new[0].text or "could not be delivered" in new[0].text
    assert new[0].attachments == [], "the returned copy of our letter is not forwarded"
    [(event, detail)] = [(e, d) for e, d in history(desk, reference) if e == "letter_bounced"]
    assert ack["Message-ID"] in detail and "Status: 5.1.1" in detail and f"reach {CUSTOMER} another way" in detail
    assert [letter.status for letter in queued(desk, ACK)] == ["failed"], "the letter is marked failed"
    assert [letter.status for letter in queued(desk, NOTIFICATION)] == ["sent"], "only the letter that came back"
    assert show(desk, reference).attachments == ()


def test_a_delay_report_is_only_noted(tmp_path):
    desk = make_desk(tmp_path, FakeClock())
    reference, ack = _registered(desk)
    before = len(queued(desk))
    ingest(desk, _dsn(ack["Message-ID"], action="delayed"))
    assert queued(desk)[before:] == []
    assert "letter_bounced" not in [e for e, _ in history(desk, reference)]


# --- the same mail again, without a Message-ID (issue 14, item 8) ---------------------------------


def _no_id(body: str = "Colis arrive casse.\n", photo: bytes = b"\xff\xd8jpeg") -> bytes:
    """A complaint as a client that writes no Message-ID sends it (fixed date, sender, subject)."""
    raw = complaint(1, body=body, attachment=("photo.jpg", photo, "image/jpeg"))
    return raw.replace(b"Message-ID:", b"X-Old-ID:", 1)


NO_ID = _no_id()


def _via(relay_host: str, raw: bytes) -> bytes:
    """The same mail as another route delivers it: its own Received line, so other bytes."""
    return f"Received: from {relay_host} by mx.example.com; Mon, 23 Nov 2026 10:01:00 +0000\r\n".encode() + raw


def test_the_same_mail_by_another_route_without_a_message_id_opens_one_complaint(tmp_path):
    desk = make_desk(tmp_path, FakeClock())
    first = ingest(desk, _via("mx1.client.example", NO_ID))
    again = ingest(desk, _via("mx2.client.example", NO_ID), _via("mx3.client.example", NO_ID))
    assert len(first.references) == 1 and again.references == []
    assert len(again.processed) == 2, "the copies are kept and moved, not quarantined"
    assert kinds(queued(desk, ACK)) == [(ACK, CUSTOMER)]


FINGERPRINTS = [
    # (the other mail, whether it is the same mail as NO_ID)
    pytest.param(_via("other.example", NO_ID), True, id="another Received line"),
    pytest.param(_no_id(body="Colis perdu.\n"), False, id="another text"),
    pytest.param(NO_ID.replace(b"10:00:00", b"10:05:00"), False, id="another date"),
    pytest.param(_no_id(photo=b"\xff\xd8other"), False, id="another file"),
]


@pytest.mark.parametrize("other, same", FINGERPRINTS)
def test_a_mail_without_message_id_is_the_same_by_sender_date_subject_text_and_files(other, same):
    one, two = fingerprint(parse(NO_ID)), fingerprint(parse(other))
    assert one is not None and (one == two) is same
    assert fingerprint(parse(complaint(1))) is None, "a Message-ID decides, not the fingerprint"


# --- commands only from what the handler typed (issue 14, item 7) ---------------------------------


def _html_only_reply(to_letter, typed: str, quoted: str) -> bytes:
    """A handler's reply as Gmail sends it in HTML only, the attribution line deleted, the quote kept."""
    html = (
        f'<html><body><div>{typed}</div><div><br></div><div class="gmail_quote">'
        f'<blockquote class="gmail_quote" style="margin:0 0 0 .8ex"><div>{quoted}</div>'
        "<div>Texte de notre lettre</div></blockquote></div></body></html>"
    )
    headers = (
        f"From: Bob Durand <{BOB}>\r\nTo: reclamations@example.com\r\nSubject: RE: {to_letter.subject}\r\n"
        f"Message-ID: <html-reply-1@example.com>\r\nIn-Reply-To: {to_letter.message['Message-ID']}\r\n"
        f"References: {to_letter.message['Message-ID']}\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    )
    return headers.encode() + html.encode()


def test_a_command_in_the_quote_of_an_html_only_reply_is_not_read(tmp_path):
    """On held-out replies, 2 in 80 had a command read from the quoted text: HTML-only, the
    attribution line deleted. The parser's text of such a mail holds the quote; the HTML says where
    it begins."""
    desk = make_desk(tmp_path, FakeClock())
    [reference] = ingest(desk, complaint(1)).references
    relay(desk)
    [notification] = queued(desk, NOTIFICATION)
    ingest(desk, _html_only_reply(notification, "#note Vu avec le transporteur.", "#clore fondée"))
    assert show(desk, reference).status == "acknowledged", "the quoted #clore was not executed"
    details = " ".join(d for _, d in history(desk, reference))
    assert "Vu avec le transporteur." in details and "fondée" not in details


# --- VERP: a bounce matched by the return path it came back to (issue 14, item 6) ----------------


def _verp_outbox(tmp_path, clock, smtp_sink):
    sections = {"smtp": {"host": smtp_sink.host, "port": smtp_sink.port}, "outbox": {"verp": True}}
    desk = make_desk(tmp_path, clock, **sections)
    config = config_of(tmp_path, **sections)
    return desk, Outbox(desk.register, SmtpSender(config.smtp), config.outbox, clock)


def _bare_bounce(to: str, auto_submitted: str = "auto-generated") -> bytes:
    """A bounce as some relays write it: text only, quoting nothing of ours but the address it goes to."""
    return (
        "From: MAILER-DAEMON@mx.client.example\r\n"
        f"To: {to}\r\nSubject: failure notice\r\nAuto-Submitted: {auto_submitted}\r\n"
        "Message-ID: <qmail-1@mx.client.example>\r\n\r\n"
        "Hi. This is the qmail-send program. I'm afraid I wasn't able to deliver your message.\r\n"
        f"<{CUSTOMER}>:\r\nSorry, no mailbox here by that name. (#5.1.1)\r\n"
    ).encode()


@pytest.mark.smtp
def test_a_bounce_quoting_nothing_is_matched_by_the_return_path_of_our_letter(tmp_path, smtp_sink):
    """Many relays return only a text, or nothing of ours: only the address the bounce goes to tells
    which letter it is; with `[outbox] verp` that address names the letter."""
    desk, outbox = _verp_outbox(tmp_path, FakeClock(), smtp_sink)
    [reference] = ingest(desk, complaint(1)).references
    assert outbox.flush() == 2
    [ack] = queued(desk, ACK)
    [to_customer] = [m for m in smtp_sink.messages() if m.rcpt_tos == (CUSTOMER,)]
    local, _, domain = to_customer.mail_from.partition("@")
    assert domain == "example.com" and local.startswith("reclamations+b.")
    ingest(desk, _bare_bounce(to_customer.mail_from))
    [(event, detail)] = [(e, d) for e, d in history(desk, reference) if e == "letter_bounced"]
    assert ack.message["Message-ID"] in detail and f"reach {CUSTOMER} another way" in detail
    assert [letter.status for letter in queued(desk, ACK)] == ["failed"]
    assert kinds(queued(desk, "follow_up_forward")) == [("follow_up_forward", BOB)], "the handler is told"
    assert "no mailbox here by that name" in queued(desk, "follow_up_forward")[0].text


@pytest.mark.smtp
@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda path: path[:-1] + ("a" if path[-1] != "a" else "b"), id="wrong check"),
        pytest.param(lambda path: path.replace("+b.1.", "+b.2."), id="another letter's id"),
    ],
)
def test_a_forged_return_path_is_not_matched(tmp_path, smtp_sink, forge):
    desk, outbox = _verp_outbox(tmp_path, FakeClock(), smtp_sink)
    [reference] = ingest(desk, complaint(1)).references
    outbox.flush()
    [path] = [m.mail_from for m in smtp_sink.messages() if m.rcpt_tos == (CUSTOMER,)]
    local, _, domain = path.partition("@")
    ingest(desk, _bare_bounce(f"{forge(local)}@{domain}"))
    assert "letter_bounced" not in [e for e, _ in history(desk, reference)]
    assert [letter.status for letter in queued(desk)] == ["sent", "sent"]


@pytest.mark.smtp
def test_a_vacation_reply_to_the_return_path_is_not_a_bounce(tmp_path, smtp_sink):
    """A token match without a failure is probably a vacation program answering the return path."""
    desk, outbox = _verp_outbox(tmp_path, FakeClock(), smtp_sink)
    [reference] = ingest(desk, complaint(1)).references
    outbox.flush()
    [path] = [m.mail_from for m in smtp_sink.messages() if m.rcpt_tos == (CUSTOMER,)]
    ingest(desk, _bare_bounce(path, auto_submitted="auto-replied"))
    assert "letter_bounced" not in [e for e, _ in history(desk, reference)]
    assert [letter.status for letter in queued(desk, ACK)] == ["sent"]


@pytest.mark.smtp
def test_without_verp_the_return_path_is_our_address(tmp_path, smtp_sink):
    """VERP is off by default: a mailbox without `+` addressing would lose every bounce."""
    sections = {"smtp": {"host": smtp_sink.host, "port": smtp_sink.port}}
    desk = make_desk(tmp_path, FakeClock(), **sections)
    config = config_of(tmp_path, **sections)
    ingest(desk, complaint(1))
    Outbox(desk.register, SmtpSender(config.smtp), config.outbox, desk.clock).flush()
    assert {m.mail_from for m in smtp_sink.messages()} == {"reclamations@example.com"}
