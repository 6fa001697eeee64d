"""Ingestion in process: a fetched batch → register rows and queued letters, on a real SQLite file.

Each table row is (the batches a mailbox hands over) → (the complaints registered, who handles
them, the letters queued, what was quarantined). A robot is proved unacknowledged by reading the
outbox, where every letter must pass, rather than by waiting on a relay for a mail that must not
come. The mailbox, outbox and service runners are driven here too, each on its real edge (Maildir,
aiosmtpd) but without Dovecot, so their wiring is tested where a failure names the runner.
"""

from __future__ import annotations

import email
import hashlib
import os
import pickle
import subprocess
import sys
import threading
from datetime import timedelta

import pytest
from sqlmodel import col, select

from daemon.core.mail import Fetched
from daemon.edges.mailbox import open_mailbox
from daemon.edges.register import Register
from daemon.edges.register.models import InboundMessage
from daemon.edges.register.reads import pending_follow_ups
from daemon.edges.register.views import list_complaints
from daemon.edges.smtp import SmtpSender
from daemon.runners.desk import Desk
from daemon.runners.followups import FollowUps
from daemon.runners.ingest import Ingestor
from daemon.runners.integrity import verify_register
from daemon.runners.mailbox_loop import MailboxLoop
from daemon.runners.outbox import Outbox
from daemon.runners.service import Daemon
from tests.corpus import corpus_dir
from tests.harness import AUTO_REPLY, BOUNCE, LIST_MAIL, ROOT, complaint, reply, wait_until
from tests.runners import (
    ALICE,
    BOB,
    CUSTOMER,
    START,
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

PHOTO = ("photo.jpg", b"\xff\xd8" + b"x" * 5000, "image/jpeg")
ACK, NOTIFICATION = "acknowledgement", "handler_notification"

# Built once: a row that feeds the same mail twice must feed the same bytes twice.
BY_SUBJECT = complaint(1, subject="Remboursement non reçu")
BY_BODY = complaint(2, subject="Commande 12", body="Bonjour,\n\nMa facture compte deux fois la livraison.\n")
NO_KEYWORD = complaint(3, subject="Colis abîmé", attachment=PHOTO)
TWICE = complaint(4)
ONE_ID = complaint(5)
ONE_ID_OTHER_BYTES = b"X-Resent-By: a mail client\r\n" + ONE_ID  # same Message-ID, other bytes
FROM_US = complaint(6, sender="Service réclamations <reclamations@example.com>")
NO_SENDER = complaint(7, sender="undisclosed")

INTAKE = [
    pytest.param([[BY_SUBJECT]], [ALICE], [(ACK, CUSTOMER), (NOTIFICATION, ALICE)], 0, id="keyword in the subject"),
    pytest.param([[BY_BODY]], [ALICE], [(ACK, CUSTOMER), (NOTIFICATION, ALICE)], 0, id="keyword in the body"),
    pytest.param([[NO_KEYWORD]], [BOB], [(ACK, CUSTOMER), (NOTIFICATION, BOB)], 0, id="no keyword: default handler"),
    pytest.param([[AUTO_REPLY]], [], [], 0, id="auto-reply"),
    pytest.param([[BOUNCE]], [], [], 0, id="bounce"),
    pytest.param([[LIST_MAIL]], [], [], 0, id="mailing list"),
    pytest.param([[FROM_US]], [], [], 0, id="our own address"),
    pytest.param([[NO_SENDER]], [], [("quarantine_notice", SUPERVISOR)], 1, id="no sender address: quarantined"),
    pytest.param([[TWICE], [TWICE]], [BOB], [(ACK, CUSTOMER), (NOTIFICATION, BOB)], 0, id="same bytes, two batches"),
    pytest.param([[TWICE, TWICE]], [BOB], [(ACK, CUSTOMER), (NOTIFICATION, BOB)], 0, id="same bytes, one batch"),
    pytest.param(
        [[ONE_ID], [ONE_ID_OTHER_BYTES]], [BOB], [(ACK, CUSTOMER), (NOTIFICATION, BOB)], 0, id="same Message-ID"
    ),
    pytest.param(
        [[BY_SUBJECT, AUTO_REPLY, BOUNCE, LIST_MAIL, NO_KEYWORD]],
        [ALICE, BOB],
        [(ACK, CUSTOMER), (NOTIFICATION, ALICE), (ACK, CUSTOMER), (NOTIFICATION, BOB)],
        0,
        id="complaints among robots",
    ),
]


@pytest.mark.parametrize("batches, handlers, letters, quarantined", INTAKE)
def test_intake(tmp_path, batches, handlers, letters, quarantined):
    """Every fetched message is moved somewhere (registered or quarantined), complaints only are
    acknowledged and routed, and nothing else reaches the outbox: no letter to a robot, ever (a
    quarantine is told to the supervisor, standing for the admin)."""
    desk = make_desk(tmp_path, FakeClock())
    results = [ingest(desk, *batch) for batch in batches]
    for batch, result in zip(batches, results, strict=True):
        assert result.count == len(batch), "each message is moved once its batch is committed"
    assert sum(len(r.quarantined) for r in results) == quarantined
    with desk.register.session() as session:
        registered = list_complaints(session)
    assert [c.handler_email for c in registered] == handlers
    assert [r for result in results for r in result.references] == [c.reference for c in registered]
    assert kinds(queued(desk)) == letters


def test_a_new_complaint_is_routed_acknowledged_and_its_reminders_planned(tmp_path):
    """The reminders are rows keyed by (deadline, step) at absolute instants, from the arrival: an
    offset already past (3 days before a 48-hour deadline) is not planned at all."""
    desk = make_desk(tmp_path, FakeClock(), register={"ack_deadline": "48h", "answer_deadline": "10d"})
    [reference] = ingest(desk, BY_SUBJECT).references
    planned = [(r.deadline, r.kind, r.step, r.due_at - START, r.state) for r in reminders(desk, reference)]
    hour, day = timedelta(hours=1), timedelta(days=1)
    assert planned == [
        ("ack", "reminder", "1d", 1 * day, "pending"),
        ("ack", "reminder", "2h", 2 * day - 2 * hour, "pending"),
        ("ack", "escalation", "esc-1", 2 * day, "pending"),
        ("answer", "reminder", "3d", 7 * day, "pending"),
        ("answer", "reminder", "1d", 9 * day, "pending"),
        ("answer", "reminder", "2h", 10 * day - 2 * hour, "pending"),
        ("answer", "escalation", "esc-1", 10 * day, "pending"),
    ]
    events = history(desk, reference)
    assert [event for event, _ in events] == [
        "received",
        "acknowledgement_queued",
        "routed",
        "handler_notification_queued",
    ]
    assert "remboursement" in dict(events)["routed"]
    shown = show(desk, reference)
    assert (shown.status, shown.handler_email) == ("received", ALICE)
    assert (shown.ack_due_at - START, shown.answer_due_at - START) == (2 * day, 10 * day)


def test_the_handler_notification_carries_the_files_the_token_and_the_commands(tmp_path):
    desk = make_desk(tmp_path, FakeClock())
    [reference] = ingest(desk, NO_KEYWORD).references
    [ack] = queued(desk, ACK)
    [notification] = queued(desk, NOTIFICATION)
    assert f"[{reference}]" in ack.subject and "photo.jpg" in ack.text and ack.attachments == []
    assert ack.message["Auto-Submitted"] == "auto-replied"
    assert notification.attachments == ["photo.jpg"]
    assert "Colis abîmé" in notification.subject and "[jeton:" in notification.subject
    assert "#statut" in notification.text, "the handler is told which commands a reply may carry"


def test_a_complaint_from_outlook_registers_the_files_of_its_winmail_dat(tmp_path):
    # The winmail.dat of real/mimekit/rich-text.eml (MimeKit's test suite, MIT), sent by a customer.
    corpus = email.message_from_bytes((corpus_dir() / "real/mimekit/rich-text.eml").read_bytes())
    [blob] = [p.get_payload(decode=True) for p in corpus.walk() if p.get_content_type() == "application/ms-tnef"]
    desk = make_desk(tmp_path, FakeClock())
    raw = complaint(1, attachment=("winmail.dat", blob, "application/ms-tnef"))
    [reference] = ingest(desk, raw).references
    files = [(a.filename, a.size) for a in show(desk, reference).attachments]
    assert files == [
        ("winmail.dat", len(blob)),
        ("kitten-playing-with-a-christmas-tree.jpg", 375081),
        ("Untitled Attachment", 6508),
        ("Untitled Attachment", 385301),
    ]
    [ack] = queued(desk, ACK)
    assert "kitten-playing-with-a-christmas-tree.jpg" in ack.text  # the customer sees what we received


def test_a_customer_follow_up_is_forwarded_to_the_handler_with_a_receipt(tmp_path):
    desk = make_desk(tmp_path, FakeClock())
    [reference] = ingest(desk, NO_KEYWORD).references
    [ack] = relay(desk)[:1]
    before = len(queued(desk))
    follow_up = reply(ack.message, f"Camille Durand <{CUSTOMER}>", "Voici la facture.", attachment=("f.pdf", b"%PDF"))
    result = ingest(desk, follow_up)
    assert result.references == [] and len(result.processed) == 1, "a follow-up is no new complaint"
    new = queued(desk)[before:]
    assert kinds(new) == [("follow_up_forward", BOB), ("follow_up_received", CUSTOMER)]
    forward = new[0]
    assert "Voici la facture." in forward.text and forward.attachments == ["f.pdf"]
    assert ("follow_up", "Voici la facture.") in history(desk, reference)
    assert show(desk, reference).status == "acknowledged"


def test_a_robot_answering_our_acknowledgement_is_noted_never_answered(tmp_path):
    """Loop safety: an out-of-office reply in the thread of a complaint lands in its history, and
    nothing is queued in return."""
    desk = make_desk(tmp_path, FakeClock())
    [reference] = ingest(desk, NO_KEYWORD).references
    [ack] = relay(desk)[:1]
    before = len(queued(desk))
    away = b"Auto-Submitted: auto-replied\r\n" + reply(ack.message, CUSTOMER, "Je suis absente.")
    ingest(desk, away)
    assert queued(desk)[before:] == []
    assert "automatic_reply" in [event for event, _ in history(desk, reference)]


def test_maildir_messages_are_moved_only_after_the_batch_is_committed(tmp_path):
    """The mailbox edge and the ingestor together: the same bytes found again (a crash before the
    move) are moved without a second complaint."""
    config = config_of(tmp_path)
    desk = Desk.of(config, make_desk(tmp_path, FakeClock()).register, FakeClock())
    mailbox = open_mailbox(config.mailbox)
    mailbox.connect()
    inbox = tmp_path / "maildir"
    for name, raw in (("1.complaint", NO_KEYWORD), ("2.robot", AUTO_REPLY), ("3.bad", NO_SENDER)):
        (inbox / "new" / name).write_bytes(raw)

    def drain() -> None:
        result = Ingestor(desk).ingest(mailbox.fetch(10))
        mailbox.move(result.processed, config.mailbox.processed_folder)
        mailbox.move(result.quarantined, config.mailbox.quarantine_folder)

    drain()
    assert not any((inbox / "new").iterdir())
    assert len(list((inbox / ".Registered" / "cur").iterdir())) == 2
    assert len(list((inbox / ".Quarantine" / "cur").iterdir())) == 1
    (inbox / "new" / "1.again").write_bytes(NO_KEYWORD)
    drain()
    assert len(list((inbox / ".Registered" / "cur").iterdir())) == 3
    with desk.register.session() as session:
        assert len(list_complaints(session)) == 1
    assert kinds(queued(desk)) == [(ACK, CUSTOMER), (NOTIFICATION, BOB), ("quarantine_notice", SUPERVISOR)]


def test_a_full_inbox_is_read_in_growing_batches_so_the_first_letters_leave_early(tmp_path):
    """60 complaints waiting, batch_size 200: the sender is woken after the first 25 are committed,
    not after all 60 (issue 10: it then sends while the rest is read)."""
    config = config_of(tmp_path, limits={"automatic_mails_per_day": 1000})
    desk = Desk.of(config, make_desk(tmp_path, FakeClock()).register, FakeClock())
    mailbox = open_mailbox(config.mailbox)
    mailbox.connect()
    for number in range(60):
        (tmp_path / "maildir" / "new" / f"{number:02d}.complaint").write_bytes(complaint(100 + number))
    stop, woken_at = threading.Event(), []

    def wake_sender() -> None:
        woken_at.append(len(queued(desk)) // 2)
        if woken_at[-1] == 60:
            stop.set()

    MailboxLoop(mailbox, config.mailbox, Ingestor(desk), FollowUps(desk), wake_sender, stop).run()
    assert woken_at == [25, 60]


def test_big_messages_are_fetched_a_batch_each_and_small_ones_together(tmp_path):
    """A batch's messages are all in memory at once, so it holds at most BATCH_BYTES of them (always
    one): three 20 MB mails and ten small ones come as 1, 1, then 11 (issue 14, item 5)."""
    config = config_of(tmp_path)
    mailbox = open_mailbox(config.mailbox)
    mailbox.connect()
    new = tmp_path / "maildir" / "new"
    names = [*(f"{n}.big" for n in range(3)), *(f"{n:02d}.small" for n in range(10))]
    for order, name in enumerate(names):
        (new / name).write_bytes(b"x" * 20_000_000 if name.endswith(".big") else complaint(order))
        os.utime(new / name, (1_800_000_000 + order, 1_800_000_000 + order))
    sizes = []
    while batch := mailbox.fetch(25):
        sizes.append(len(batch))
        mailbox.move([item.key for item in batch], config.mailbox.processed_folder)
    assert sizes == [1, 1, 11]


SINK_ANSWERS = [
    pytest.param(lambda sink: None, "sent", "acknowledged", "acknowledgement_sent", id="250"),
    pytest.param(lambda sink: sink.fail_next(1), "pending", "received", "acknowledgement_delayed", id="451"),
    pytest.param(lambda sink: sink.refuse(CUSTOMER), "refused", "received", "acknowledgement_refused", id="550"),
]


@pytest.mark.smtp
@pytest.mark.parametrize("answer, row_status, complaint_status, event", SINK_ANSWERS)
def test_the_outbox_runner_records_each_relay_answer(tmp_path, smtp_sink, answer, row_status, complaint_status, event):
    """The sender (Outbox over SmtpSender) on a real aiosmtpd: each answer becomes the row's status,
    a history entry, and, for a 250, the complaint's "acknowledged" status."""
    clock = FakeClock()
    sections = {"smtp": {"host": smtp_sink.host, "port": smtp_sink.port}, "outbox": {"retry_first": "30s"}}
    desk = make_desk(tmp_path, clock, **sections)
    outbox = Outbox(desk.register, SmtpSender(config_of(tmp_path, **sections).smtp), config_of(tmp_path).outbox, clock)
    [reference] = ingest(desk, NO_KEYWORD).references
    answer(smtp_sink)
    outbox.flush()
    [ack] = queued(desk, ACK)
    assert ack.status == row_status
    assert show(desk, reference).status == complaint_status
    assert event in [e for e, _ in history(desk, reference)]


@pytest.mark.smtp
def test_the_sender_spreads_a_batch_over_its_connections_and_sends_each_letter_once(tmp_path, smtp_sink):
    """`[outbox] connections = 3`: three SMTP sessions at once, every letter once, every result recorded;
    the handler's notifications (each about its own complaint) leave side by side (issue 10)."""
    clock = FakeClock()
    sections = {"smtp": {"host": smtp_sink.host, "port": smtp_sink.port}, "outbox": {"connections": 3}}
    desk = make_desk(tmp_path, clock, **sections)
    config = config_of(tmp_path, **sections)
    outbox = Outbox(desk.register, SmtpSender(config.smtp, config.outbox.connections), config.outbox, clock)
    mails = (complaint(n, sender=f"Client {n} <c{n}@client.example>", subject=f"Colis {n}") for n in range(1, 13))
    references = ingest(desk, *mails).references
    smtp_sink.delay_once("bob@example.com", 0.5)  # the relay slow to take the handler's first notification
    assert outbox.flush() == 24
    received = smtp_sink.messages()
    ids = [m.parsed()["Message-ID"] for m in received]
    assert len(ids) == len(set(ids)) == 24, "each letter once"
    assert len({m.peer for m in received}) == 3, "over three connections"
    to_bob = [str(m.parsed()["Subject"]) for m in received if m.rcpt_tos == ("bob@example.com",)]
    assert len(to_bob) == 12 and "REC-2026-000001]" in to_bob[-1], "his notifications of other complaints overtook it"
    assert {letter.status for letter in queued(desk)} == {"sent"}
    assert all(show(desk, reference).status == "acknowledged" for reference in references)


@pytest.mark.smtp
def test_a_delayed_letter_is_retried_at_its_instant_not_before(tmp_path, smtp_sink):
    clock = FakeClock()
    sections = {"smtp": {"host": smtp_sink.host, "port": smtp_sink.port}, "outbox": {"retry_first": "30s"}}
    desk = make_desk(tmp_path, clock, **sections)
    config = config_of(tmp_path, **sections)
    outbox = Outbox(desk.register, SmtpSender(config.smtp), config.outbox, clock)
    [reference] = ingest(desk, NO_KEYWORD).references
    smtp_sink.fail_next(1)
    assert outbox.flush() == 1, "the notification leaves; the acknowledgement is delayed"
    assert outbox.seconds_until_due(3600) == 30
    clock.advance(timedelta(seconds=29))
    assert outbox.flush() == 0 and len(smtp_sink.messages()) == 1
    clock.advance(timedelta(seconds=1))
    assert outbox.flush() == 1
    assert [m.parsed()["X-Complaintsd-Kind"] for m in smtp_sink.messages()] == [NOTIFICATION, ACK]
    assert show(desk, reference).status == "acknowledged"
    assert [r.state for r in reminders(desk, reference) if r.deadline == "ack"] == ["cancelled"] * 3


@pytest.mark.smtp
def test_the_service_drains_a_maildir_and_its_sender_child_delivers(tmp_path, smtp_sink):
    """The Daemon (mailbox loop in a thread, sender in its child process) on a Maildir: no Dovecot."""
    config = config_of(tmp_path, smtp={"host": smtp_sink.host, "port": smtp_sink.port})
    (tmp_path / "maildir" / "new").mkdir(parents=True)
    (tmp_path / "maildir" / "new" / "1.complaint").write_bytes(NO_KEYWORD)
    Register(config.database.url, create=True).dispose()  # as `complaintsd migrate` leaves it
    daemon = Daemon(config)
    thread = threading.Thread(target=daemon.run, name="daemon under test", daemon=True)
    thread.start()
    try:
        smtp_sink.wait_for(2, timeout=30)
        wait_until(lambda: any((tmp_path / "maildir" / ".Registered" / "cur").iterdir()), 10, "the move")
    finally:
        daemon.request_stop()
        thread.join(timeout=30)
    assert not thread.is_alive()
    assert sorted(m.parsed()["X-Complaintsd-Kind"] for m in smtp_sink.messages()) == [ACK, NOTIFICATION]


def test_the_handler_notification_lists_the_customers_previous_complaints(tmp_path):
    """Issue 9, item 5: the handler sees a repeat customer at once, references, dates and outcomes,
    the earlier complaints of the same batch included; another customer's are not theirs."""
    clock = FakeClock()
    desk = make_desk(tmp_path, clock)
    [first] = ingest(desk, complaint(1)).references
    _, notification = relay(desk)
    assert "précédente" not in notification.text
    clock.advance(timedelta(hours=1))
    ingest(desk, reply(notification.message, BOB, "#clore non fondée"))
    clock.advance(timedelta(days=1))
    other = complaint(9, sender="Dominique Roux <dominique@client.example>")
    second, third, _ = ingest(desk, complaint(2), complaint(3), other).references
    *_, to_third, to_other = queued(desk, "handler_notification")
    lines = to_third.text.splitlines()
    assert "Les 2 réclamations précédentes de ce client :" in lines
    assert f"  - {first} du lundi 23 novembre 2026 : close, non fondée" in lines
    assert f"  - {second} du mardi 24 novembre 2026 : reçue" in lines
    assert f"{first} du" not in to_other.text and "précédente" not in to_other.text
    assert [p.reference for p in show(desk, third).previous] == [first, second]


def test_a_follow_up_is_acted_on_once_when_two_processes_find_it_pending(tmp_path):
    """The daemon and a `quarantine retry` (or two daemons) may both list a follow-up as pending:
    the one that claims it first forwards it; the other finds it taken and does nothing."""
    desk = make_desk(tmp_path, FakeClock())
    other = make_desk(tmp_path, desk.clock)  # the same register, as a second process would open it
    ingest(desk, NO_KEYWORD)
    [ack] = relay(desk)[:1]
    before = len(queued(desk))
    follow_up = reply(ack.message, f"Camille Durand <{CUSTOMER}>", "Voici la facture.")
    Ingestor(desk).ingest([Fetched("late", follow_up, desk.clock())])  # recorded, not yet acted on
    with desk.register.session() as session:
        [pending] = pending_follow_ups(session)
    assert FollowUps(desk).handle_pending() == 1
    FollowUps(other)._handle(pending)  # its list was read before the first one's commit
    assert kinds(queued(desk)[before:]) == [("follow_up_forward", BOB), ("follow_up_received", CUSTOMER)]


def test_a_message_of_several_megabytes_is_kept_byte_for_byte_with_its_file(tmp_path):
    # Above a megabyte the raw message is written into SQLite piece by piece (edges/register/blobs.py).
    video = os.urandom(3_000_000)
    raws = [complaint(1, attachment=("video.mp4", video, "video/mp4")), complaint(2)]
    desk = make_desk(tmp_path, FakeClock())
    first, second = ingest(desk, *raws).references
    with desk.register.session() as session:
        stored = session.exec(select(InboundMessage.raw).order_by(col(InboundMessage.id))).all()
    assert list(stored) == raws
    [file] = show(desk, first).attachments
    assert (file.filename, file.size) == ("video.mp4", len(video))
    assert desk.store.load(hashlib.sha256(video).hexdigest()) == video
    assert verify_register(desk.register, desk.store).ok
    assert show(desk, second).attachments == ()


def test_a_batchs_rows_each_belong_to_their_own_complaint(tmp_path):
    """A batch's complaints, messages, files, reminders and letters are written one INSERT per table
    (issue 10): each complaint still gets its own customer's letters, its own files and reminders,
    in the batch's order."""
    desk = make_desk(tmp_path, FakeClock())
    customers = [f"client{n}@client.example" for n in range(5)]
    mails = [
        complaint(10 + n, sender=f"Client {n} <{address}>", attachment=PHOTO if n % 2 else None)
        for n, address in enumerate(customers)
    ]
    references = ingest(desk, *mails, AUTO_REPLY).references
    assert len(references) == 5
    acks = queued(desk, ACK)
    assert [letter.to for letter in acks] == customers
    assert [letter.subject.split("]")[0].strip("[") for letter in acks] == references
    for n, reference in enumerate(references):
        shown = show(desk, reference)
        assert shown.customer_email == customers[n]
        assert [a.filename for a in shown.attachments] == (["photo.jpg"] if n % 2 else [])
        assert len(reminders(desk, reference)) == 7
        assert [event for event, _ in history(desk, reference)][0] == "received"


def test_the_daemons_start_and_an_ordinary_complaint_leave_the_rare_parsers_unimported(tmp_path):
    """mail-parser (a second opinion on a broken mail), mail-parser-reply (a reply's quotes) and
    tnefparse (a winmail.dat) were a twentieth of each start of the daemon: they are imported by the
    mail that needs them, not before (issue 10)."""
    program = (
        "import sys; import daemon.shell, daemon.runners.service; from daemon.core.parsing import parse; "
        f"parse({BY_SUBJECT!r}); print(sorted({{'mailparser', 'mailparser_reply', 'tnefparse'}} & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True, cwd=ROOT)
    assert done.stdout.strip() == "[]"


def test_the_sender_process_loads_no_letter_rendering(tmp_path):
    """The sender only sends bytes composed by the ingesting process: with the configuration it is
    handed (a mediator set, as letters show it), it loads neither Jinja, Babel nor the letters and
    intake modules, five megabytes of every daemon's memory (issue 14, item 5: a 30 MB attachment
    under 200 MB for both processes)."""
    config = config_of(tmp_path, mediator={"name": "Médiateur Exemple", "website": "https://m.example"})
    assert config.mediator is not None
    handed = tmp_path / "config.pickle"
    handed.write_bytes(pickle.dumps(config))
    heavy = {"jinja2", "babel", "daemon.core.letters", "daemon.core.intake"}
    program = (
        f"import pickle, sys; import daemon.runners.sender; pickle.loads(open({str(handed)!r}, 'rb').read()); "
        f"print(sorted({heavy!r} & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True, cwd=ROOT)
    assert done.stdout.strip() == "[]"
