"""Tests of daemon.core.triage: a corpus table (docs/style.md item 16, like flufl.bounce's DATA) and one test
per rule."""

from __future__ import annotations

from collections import Counter

import pytest

from daemon.core.mail import InboundMail
from daemon.core.parsing import parse
from daemon.core.triage import Disposition, Facts, Outcome, classify, robot_reason
from daemon.errors import MailError
from tests.corpus import corpus_dir, manifest

OURS = frozenset({"reclamations@example.fr"})
NOTHING_KNOWN = Facts(sha256_known=False, message_id_known=False, own_addresses=OURS)


# Files whose category says robot or person but that cannot be told from their content, with why.
# Empty today: every bounce and auto-reply of the corpus carries a signal robot_reason documents.
EXCEPTIONS: dict[str, tuple[Outcome, str]] = {}


def expected(row: dict[str, str]) -> tuple[Outcome, str] | None:
    """The outcome a corpus file must get, and why; None when the corpus does not say."""
    if row["path"] in EXCEPTIONS:
        return EXCEPTIONS[row["path"]]
    if row["category"] in ("bounce", "autoreply"):
        return Outcome.ROBOT, f"category {row['category']}"
    if row["category"] == "reply":
        return Outcome.COMPLAINT, "a person's reply"
    if row["category"] == "real" and "list/bulk mail" in row["note"]:
        return Outcome.ROBOT, "MANIFEST note: list/bulk mail"
    return None


ROWS = manifest()
DATA = [(row["path"], *expected(row)) for row in ROWS if expected(row) is not None]


def test_corpus_is_present() -> None:
    assert ROWS, f"corpus missing at {corpus_dir()} (set COMPLAINTSD_CORPUS)"
    assert len(DATA) == 84 + 11 + 16 + 16, f"table has {len(DATA)} rows"


@pytest.mark.parametrize(("path", "outcome", "why"), DATA or [("corpus-missing", Outcome.ROBOT, "")])
def test_corpus_table(path: str, outcome: Outcome, why: str) -> None:
    mail = parse((corpus_dir() / path).read_bytes())
    disposition = classify(mail, NOTHING_KNOWN)
    assert disposition.outcome is outcome, f"{path} ({why}): got {disposition}"


def test_corpus_counts() -> None:
    """Every complete corpus message ends registered, ignored as a robot, or quarantined with a reason."""
    counts: Counter[tuple[str, str]] = Counter()
    for row in ROWS:
        if row["category"] not in ("real", "reply", "bounce", "autoreply"):
            continue
        try:
            disposition = classify(parse((corpus_dir() / row["path"]).read_bytes()), NOTHING_KNOWN)
        except MailError as error:
            disposition = Disposition(Outcome.QUARANTINE, error.reason)
        assert disposition.outcome is Outcome.COMPLAINT or disposition.reason
        counts[(row["category"], disposition.outcome.value)] += 1
    summary = ", ".join(f"{category}/{outcome}: {n}" for (category, outcome), n in sorted(counts.items()))
    print(f"\ncorpus triage: {summary}")
    assert counts[("bounce", "robot")] == 84 and counts[("autoreply", "robot")] == 11, summary
    assert counts[("reply", "complaint")] == 16, summary
    assert sum(counts.values()) == 424, summary


# --- hand-made messages: one per rule ------------------------------------------------------------


def mail(
    *headers: str,
    sender: str = "Jeanne Client <jeanne@example.org>",
    content_type: str = "text/plain",
    body: str = "Bonjour,\nmon colis est arrivé abîmé.\n",
) -> InboundMail:
    head = [f"From: {sender}"] if sender else []
    head += [
        "To: reclamations@example.fr",
        "Subject: Colis abîmé",
        "Message-ID: <1@example.org>",
        f"Content-Type: {content_type}",
        *headers,
    ]
    return parse(("\n".join(head) + "\n\n" + body).encode("utf-8"))


DSN_BODY = (
    "--b\nContent-Type: text/plain\n\nDelivery failed.\n"
    "--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.org\n\n"
    "Final-Recipient: rfc822; x@example.com\nAction: failed\nStatus: 5.1.1\n--b--\n"
)

ROBOTS = [
    # (headers, keyword arguments, words the reason must contain)
    (("Auto-Submitted: auto-replied",), {}, "Auto-Submitted"),
    (("Auto-Submitted: auto-generated (failure)",), {}, "auto-generated"),
    (("Auto-Submitted: AUTO-NOTIFIED",), {}, "Auto-Submitted"),
    ((), {"content_type": 'multipart/report; report-type=delivery-status; boundary="b"', "body": DSN_BODY}, "report"),
    ((), {"content_type": 'multipart/mixed; boundary="b"', "body": DSN_BODY}, "message/delivery-status"),
    (("Return-Path: <>",), {}, "Return-Path: <>"),
    (("Return-Path: < >",), {}, "Return-Path: <>"),
    (("Return-Path: <MAILER-DAEMON@mx.example.org>",), {}, "mail system"),
    ((), {"sender": "Mail Delivery System <MAILER-DAEMON@mx.example.org>"}, "mail system"),
    ((), {"sender": "postmaster@example.org"}, "mail system"),
    ((), {"sender": "Boutique <no-reply@shop.example>"}, "no-reply"),
    (("Reply-To: noreply@shop.example",), {"sender": "Boutique <contact@shop.example>"}, "no-reply"),
    ((), {"sender": "Réclamations <Reclamations@Example.FR>"}, "our own"),
    (("List-Id: Clients <clients.example.org>",), {}, "List-Id"),
    (("List-Unsubscribe: <mailto:unsubscribe@example.org>",), {}, "List-Unsubscribe"),
    (("Precedence: bulk",), {}, "Precedence"),
    (("Precedence: junk",), {}, "Precedence"),
    (("Precedence: list",), {}, "Precedence"),
    (("Precedence: auto_reply",), {}, "Precedence"),
    (("X-Autoreply: yes",), {}, "X-Autoreply"),
    (("X-Autorespond: Je suis absente",), {}, "X-Autorespond"),
    (("X-Loop: jeanne@example.org",), {}, "X-Loop"),
    (("X-Failed-Recipients: x@example.com",), {}, "X-Failed-Recipients"),
    (("X-Auto-Response-Suppress: All",), {}, "X-Auto-Response-Suppress"),
    (("X-Auto-Response-Suppress: DR, OOF",), {}, "X-Auto-Response-Suppress"),
    (("X-Apple-Action: VACATION",), {}, "vacation"),
]


@pytest.mark.parametrize(("headers", "options", "words"), ROBOTS)
def test_robot_rule(headers: tuple[str, ...], options: dict[str, str], words: str) -> None:
    message = mail(*headers, **options)
    reason = robot_reason(message, OURS)
    assert reason is not None and words in reason, reason
    assert classify(message, NOTHING_KNOWN) == Disposition(Outcome.ROBOT, reason)


def tnef(subject: str) -> InboundMail:
    """A whole message that is one winmail.dat, as Outlook sends read receipts inside Exchange."""
    return parse(
        (
            f"From: jeanne@example.org\nSubject: {subject}\nContent-Type: application/ms-tnef\n"
            "Content-Transfer-Encoding: base64\n\neJ8+Ig==\n"
        ).encode()
    )


@pytest.mark.parametrize("subject", ["Read: Colis abîmé", "Lu : Colis abîmé"])
def test_outlook_tnef_read_receipt_is_a_robot(subject: str) -> None:
    assert "read receipt" in classify(tnef(subject), NOTHING_KNOWN).reason


PEOPLE = [
    # Signals that look automatic but are a person's mail.
    ("Auto-Submitted: no",),
    ("Auto-Submitted: No (sent by a person)",),
    ("Precedence: first-class",),
    ("X-Auto-Response-Suppress: DR, RN, NRN",),  # asks for no receipts, says nothing about itself
    ("Return-Path: <jeanne@example.org>",),
    ("Reply-To: Jeanne <jeanne@example.org>", "X-Mailer: Microsoft Outlook 16.0"),
]


@pytest.mark.parametrize("headers", PEOPLE)
def test_person_is_a_complaint(headers: tuple[str, ...]) -> None:
    message = mail(*headers)
    assert robot_reason(message, OURS) is None
    assert classify(message, NOTHING_KNOWN) == Disposition(Outcome.COMPLAINT)


def test_web_form_from_no_reply_with_a_customer_reply_to_is_a_complaint() -> None:
    message = mail("Reply-To: Jeanne Client <jeanne@example.org>", sender="Site web <no-reply@example.fr>")
    assert classify(message, NOTHING_KNOWN).outcome is Outcome.COMPLAINT


def test_forwarded_bounce_or_vacation_reply_is_still_a_complaint() -> None:
    # The rules read the top level only: a customer forwarding a robot's mail is a customer.
    inner = "From: MAILER-DAEMON@mx.example\nAuto-Submitted: auto-replied\nReturn-Path: <>\n\nfailed\n"
    body = f"--b\nContent-Type: text/plain\n\nVoyez ce message.\n--b\nContent-Type: message/rfc822\n\n{inner}--b--\n"
    message = mail(content_type='multipart/mixed; boundary="b"', body=body)
    assert classify(message, NOTHING_KNOWN).outcome is Outcome.COMPLAINT


def test_tnef_without_read_subject_is_a_complaint() -> None:
    message = tnef("Réclamation facture")
    assert classify(message, NOTHING_KNOWN).outcome is Outcome.COMPLAINT


# --- duplicates, own address, no sender -----------------------------------------------------------


def test_duplicate_by_content_hash_comes_first() -> None:
    message = mail("Auto-Submitted: auto-replied")
    facts = Facts(sha256_known=True, message_id_known=True, own_addresses=OURS)
    disposition = classify(message, facts)
    assert disposition.outcome is Outcome.DUPLICATE and "SHA-256" in disposition.reason


def test_duplicate_by_message_id() -> None:
    facts = Facts(sha256_known=False, message_id_known=True, own_addresses=OURS)
    disposition = classify(mail(), facts)
    assert disposition.outcome is Outcome.DUPLICATE and "<1@example.org>" in disposition.reason


def test_no_sender_is_quarantined() -> None:
    for message in (mail(sender=""), mail(sender="Jeanne sans adresse"), mail(sender="<>")):
        assert classify(message, NOTHING_KNOWN) == Disposition(Outcome.QUARANTINE, "no sender address")


def test_robot_without_sender_is_a_robot_not_quarantine() -> None:
    assert classify(mail("Auto-Submitted: auto-replied", sender=""), NOTHING_KNOWN).outcome is Outcome.ROBOT


def test_our_own_acknowledgement_coming_back_is_a_robot() -> None:
    # What our outbox sends: Auto-Submitted: auto-replied from the complaints address (docs/design.md).
    ack = mail("Auto-Submitted: auto-replied", sender="Service réclamations <reclamations@example.fr>")
    assert classify(ack, NOTHING_KNOWN).outcome is Outcome.ROBOT
    bare = mail(sender="reclamations@example.fr")
    assert "own" in classify(bare, NOTHING_KNOWN).reason


def test_values_validate() -> None:
    with pytest.raises(ValueError):
        Facts(sha256_known=False, message_id_known=False, own_addresses=frozenset({"Reclamations@Example.fr"}))
    with pytest.raises(ValueError):
        Disposition(Outcome.ROBOT)
    assert Outcome("robot") is Outcome.ROBOT and str(Outcome.COMPLAINT) == "complaint"
