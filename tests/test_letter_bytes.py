"""Every letter the postbox composes leaves as the same bytes as before issue 10's speed-ups.

Rendering and composing were rewritten for speed (issue 10): cached date formatting, templates
compiled once, tables computed once, MIME written by hand. A customer or a handler must not see any
of it. The golden file `tests/data/letters-golden.json.xz` holds the exact mails main composed
before those changes (at 422ae7d), for every kind of letter `checks.py` renders as a sample, in
French and English, and for acknowledgements and handler notifications with odd values: non-ASCII
and HTML-special names and subjects, long lines, attachments listed and attached, an
internationalised address, threading. The clock, the Message-IDs and the command token are fixed;
the MIME boundaries, random by design, are numbered in order of appearance before comparing.

After an intended change of a letter, write the file anew and read the diff of what changed:
    COMPLAINTSD_WRITE_GOLDEN=1 .venv/bin/python -m pytest -q tests/test_letter_bytes.py
"""

from __future__ import annotations

import difflib
import json
import lzma
import os
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from daemon import checks
from daemon.core.letters import (
    AcknowledgementFacts,
    AttachmentLine,
    ComplaintSummary,
    FileToAttach,
    HandlerNotificationFacts,
    LetterToSend,
    Mediator,
    Postbox,
    PreviousComplaint,
    PreviousComplaints,
    Templates,
)
from daemon.core.lifecycle import Status
from daemon.core.mail import Address
from daemon.core.profiles import MediationDates
from daemon.core.routing import RouteRule

GOLDEN = Path(__file__).parent / "data" / "letters-golden.json.xz"
TOKEN = "Ab3xK9_q-Zt2"
NOW = datetime(2026, 12, 7, 13, 5, 42, tzinfo=UTC)  # Monday 7 December 2026, 14:05 in Paris
SENDER = Address("Réclamations Exemple", "reclamations@example.com")
CUSTOMER = Address("Marie Dupont", "marie.dupont@example.com")

# What a customer may write: accents, HTML specials, quotes, a long line, controls, an emoji.
ODD_NAME = 'Zoë "Zaza" O\'Brien-Łukasiewicz <b>&amp; Cie</b>'
ODD_SUBJECT = (
    "Re: Facture n° 12 & 13 <script>alert('x')</script> — montant erroné ; déjà signalé le 3/11 "
    "\u202eà l'envers\u202c, merci de vérifier 🙏 " + "très long sujet " * 30
)
LONG_BODY = (
    "Bonjour,\r\n\r\nVoici une ligne très longue qui dépasse largement les soixante-seize colonnes "
    "du quoted-printable, avec des = signes = et des accents éèàùç, pour voir où elle se coupe.\n"
    "From the start of a line, and a dot line:\n.\nTrailing spaces   \n\tTab first\n"
    "<b>gras</b> & \"guillemets\" 'simples' > < \n\n\n\nFin." + " mot" * 60
)


def summary(**changes: object) -> ComplaintSummary:
    base = ComplaintSummary(
        reference="REC-2026-000042",
        status=Status.RECEIVED,
        customer_name="Marie Dupont",
        customer_email="marie.dupont@example.com",
        subject="Colis abîmé",
        received_at=NOW,
        ack_due_at=NOW + timedelta(days=2),
        answer_due_at=datetime(2026, 12, 17, 22, 59, 59, tzinfo=UTC),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


ACK = AcknowledgementFacts(
    reference="REC-2026-000042",
    customer_name="Marie Dupont",
    customer_email="marie.dupont@example.com",
    subject="Colis abîmé",
    received_at=NOW,
    answer_due_at=datetime(2026, 12, 17, 22, 59, 59, tzinfo=UTC),
    attachments=(AttachmentLine("photo.jpg", 1_234_567), AttachmentLine("bon.pdf", 50_000)),
    mediator=None,
    organisation="Exemple SA",
)

NOTIFICATION = HandlerNotificationFacts(
    complaint=summary(),
    token=TOKEN,
    handler_name="Alice Martin",
    body="Bonjour,\nle colis est arrivé abîmé.\n\nMarie",
    attachments=(AttachmentLine("photo.jpg", 1_234_567),),
    attachments_attached=False,
    routing_rule=RouteRule.DEFAULT,
    routing_match="",
)

MEDIATOR = Mediator(
    name="Médiateur de l'Exemple & Cie",
    website="https://mediateur.example.org/saisir?a=1&b=<2>",
    address="12 rue de la Paix\n75002 Paris\nFrance",
    phone="+33 1 23 45 67 89",
)
EARLIER = tuple(
    PreviousComplaint(f"REC-2026-0000{n:02}", NOW - timedelta(days=40 - n), status, outcome)
    for n, (status, outcome) in enumerate(
        [(Status.CLOSED, "founded"), (Status.CLOSED, "unfounded"), (Status.ANSWERED, None), (Status.IN_PROGRESS, None)]
    )
)
FILES = (
    FileToAttach("facture été n°3.pdf", "application/pdf", b"%PDF-1.4\n" + bytes(range(256)) * 40),
    FileToAttach("notes.txt", "text/plain", "Une note, accentuée.\r\n".encode() * 3),
    FileToAttach("vide", "multipart/mixed", b""),
    FileToAttach("a" * 90 + ".bin", "weird", b"\x00\x01"),
)
JORG = Address("Jörg Müller", "jörg@exämple.de")


def odd_acknowledgements() -> list[tuple[str, object, Address, tuple[FileToAttach, ...]]]:
    return [
        ("ack-plain", ACK, CUSTOMER, ()),
        (
            "ack-odd",
            replace(
                ACK,
                customer_name=ODD_NAME,
                subject=ODD_SUBJECT,
                attachments=(AttachmentLine("<img src=x>.png", 0), AttachmentLine("reçu ünïcode.pdf", 999_499)),
                mediator=MEDIATOR,
                mediation=MediationDates(NOW + timedelta(days=60), NOW + timedelta(days=365)),
            ),
            Address(ODD_NAME, "zoe@example.com"),
            FILES[:1],
        ),
        (
            "ack-no-name-no-subject",
            replace(ACK, customer_name="", subject="   ", attachments=(AttachmentLine("a.txt", 1),)),
            Address("", "anonyme@example.com"),
            (),
        ),
        ("ack-idn", replace(ACK, customer_name="Jörg Müller", customer_email=JORG.email), JORG, ()),
        ("ack-mediator-name-only", replace(ACK, mediator=Mediator(name="M"), attachments=()), CUSTOMER, ()),
    ]


def odd_notifications() -> list[tuple[str, object, Address, tuple[FileToAttach, ...]]]:
    alice = Address("Alice Martin", "alice@example.com")
    odd = summary(customer_name=ODD_NAME, subject=ODD_SUBJECT, priority="urgent", status=Status.REOPENED)
    return [
        ("notification-plain", NOTIFICATION, alice, ()),
        (
            "notification-odd",
            replace(
                NOTIFICATION,
                complaint=odd,
                handler_name="Hélène <Chef> & Co",
                body=LONG_BODY,
                attachments=(AttachmentLine("facture été n°3.pdf", 10_280), AttachmentLine("notes.txt", 66)),
                attachments_attached=True,
                routing_rule=RouteRule.KEYWORD_BODY,
                routing_match="<montant> & « erroné »",
                previous=PreviousComplaints(EARLIER, 12),
            ),
            Address("Hélène <Chef> & Co", "helene@example.com"),
            FILES,
        ),
        (
            "notification-empty",
            replace(
                NOTIFICATION,
                complaint=summary(customer_name="", subject=""),
                handler_name="",
                body="  \n ",
                attachments=(),
                routing_rule=RouteRule.CATEGORY,
                routing_match="facturation",
                previous=PreviousComplaints(EARLIER[:1], 1),
            ),
            alice,
            (),
        ),
        (
            "notification-previous",
            replace(
                NOTIFICATION,
                routing_rule=RouteRule.SENDER_DOMAIN,
                routing_match="example.com",
                previous=PreviousComplaints(EARLIER[1:], 3),
            ),
            JORG,
            (),
        ),
    ]


def samples(language: str, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, object, Address, tuple]]:
    """Every letter `complaintsd check` renders, named after its facts (numbered when repeated)."""
    monkeypatch.setattr(checks, "new_token", lambda: TOKEN)
    named: list[tuple[str, object, Address, tuple]] = []
    seen: dict[str, int] = {}
    for facts in checks._samples("REC", "Exemple SA", language, NOW):
        name = type(facts).__name__
        seen[name] = seen.get(name, 0) + 1
        named.append((f"{name}-{seen[name]}", facts, CUSTOMER, ()))
    return named


def compose_all(language: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Every case composed, its boundaries numbered; latin-1 keeps any byte readable in JSON."""
    postbox = Postbox(Templates(language), SENDER)
    mails = {}
    for name, facts, to, files in samples(language, monkeypatch) + odd_acknowledgements() + odd_notifications():
        letter = LetterToSend(
            kind=name.split("-")[0],
            facts=facts,
            to=to,
            message_id=f"<{name}.{language}@example.com>",
            in_reply_to="<original@client.example>" if name.startswith(("ack", "notification")) else None,
            references=("<first@client.example>", "<second@client.example>") if name.endswith("odd") else (),
            files=files,
        )
        mails[f"{language}/{name}"] = numbered_boundaries(postbox.compose(letter, NOW).raw.decode("latin-1"))
    return mails


def numbered_boundaries(raw: str) -> str:
    """`raw` with its random MIME boundaries named in order of appearance."""
    boundaries: dict[str, str] = {}
    return re.sub(
        r"=_[0-9a-f]{32}", lambda m: boundaries.setdefault(m.group(0), f"=_BOUNDARY-{len(boundaries) + 1}"), raw
    )


@pytest.fixture(scope="module")
def golden() -> dict[str, str]:
    if os.environ.get("COMPLAINTSD_WRITE_GOLDEN"):
        return {}
    return json.loads(lzma.decompress(GOLDEN.read_bytes()))


@pytest.mark.parametrize("language", ["fr", "en"])
def test_every_letter_is_the_same_bytes(language: str, golden: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    mails = compose_all(language, monkeypatch)
    if os.environ.get("COMPLAINTSD_WRITE_GOLDEN"):
        old = json.loads(lzma.decompress(GOLDEN.read_bytes())) if GOLDEN.exists() else {}
        old |= mails
        GOLDEN.write_bytes(lzma.compress(json.dumps(old, indent=0, sort_keys=True).encode("ascii")))
        pytest.skip("golden file written")
    expected = {name: raw for name, raw in golden.items() if name.startswith(f"{language}/")}
    assert sorted(mails) == sorted(expected)
    for name, raw in mails.items():
        if raw != expected[name]:
            diff = difflib.unified_diff(expected[name].splitlines(), raw.splitlines(), "golden", "now", lineterm="")
            pytest.fail(f"{name} changed:\n" + "\n".join(list(diff)[:80]))
