"""Unit tests of small pure parts: references, lifecycle, composition, retry policy, storage."""

from __future__ import annotations

import base64
import binascii
import email
import email.policy
from datetime import UTC, datetime, timedelta
from email._policybase import Compat32
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daemon.core.letters.compose import (
    _WIRE,
    FileToAttach,
    _base64_lines,
    compose,
    encoded_words,
    mailbox_header,
    new_message_id,
)
from daemon.core.letters.render import Letter
from daemon.core.lifecycle import Event, IllegalTransition, Status, next_status
from daemon.core.mail import Address
from daemon.core.outbox import Envelope, InOrder, RetryPolicy, retry_delay
from daemon.core.parsing import parse
from daemon.core.references import find_references, format_reference
from daemon.core.triage import Facts, Outcome, classify
from daemon.edges.storage import AttachmentStore


def test_reference_format_and_search():
    assert format_reference("REC", 2026, 42) == "REC-2026-000042"
    assert format_reference("REC", 2026, 1234567) == "REC-2026-1234567"
    with pytest.raises(ValueError):
        format_reference("REC", 2026, 0)
    assert find_references("RE : TR: [REC-2026-000042] Colis", "REC") == ["REC-2026-000042"]
    assert find_references("[CPL-2026-000042]", "REC") == []


def test_lifecycle_table():
    assert next_status("received", Event.ACK_SENT) is Status.ACKNOWLEDGED
    assert next_status("in_progress", Event.ACK_SENT) is Status.IN_PROGRESS  # a late ack changes nothing
    with pytest.raises(IllegalTransition, match="close.*received"):
        next_status("received", Event.CLOSE)


def test_retry_backoff_doubles_and_caps():
    policy = RetryPolicy(first=timedelta(seconds=30), ceiling=timedelta(hours=1), give_up_after=timedelta(days=5))
    delays = [retry_delay(n, policy).total_seconds() for n in range(1, 10)]
    assert delays[:4] == [30, 60, 120, 240]
    assert max(delays) == 3600


def waves(letters: list[tuple[str, int | None]]) -> list[list[int]]:
    """The letters several connections may have in flight at once, wave after wave, when every
    letter of a wave is answered before the next wave is taken."""
    order = InOrder([Envelope("reclamations@example.com", (to,), b"", complaint) for to, complaint in letters])
    out = []
    while order.left:
        wave = list(iter(order.take, None))
        assert wave, "a letter waits for nothing that will come"
        for index in wave:
            order.done(index)
        out.append(wave)
    return out


BOB, ANN = "bob@example.com", "ann@client.example"


@pytest.mark.parametrize(
    ("letters", "expected"),
    [
        # One handler, three complaints: each complaint's letters in order, the complaints side by side.
        ([(BOB, 1), (BOB, 2), (BOB.upper(), 1), (BOB, 3), (BOB, 2)], [[0, 1, 3], [2, 4]]),
        # A letter about no complaint (a digest) waits for every earlier letter to its mailbox, and
        # every later one waits for it; other mailboxes go on meanwhile.
        (
            [(BOB, 1), (BOB, 2), (BOB, 1), (ANN, 1), (BOB, None), (BOB, 3), (BOB, 2), (ANN, 2)],
            [[0, 1, 3, 7], [2], [4], [5, 6]],
        ),
        # Letters about no complaint keep their order among themselves, as before issue 10.
        ([(BOB, None), (BOB, None), (ANN, None)], [[0, 2], [1]]),
        # The customer's acknowledgement and the handler's notification of 3 complaints: all at once.
        ([(ANN, 1), (BOB, 1), (ANN, 2), (BOB, 2), (ANN, 3), (BOB, 3)], [[0, 1, 2, 3, 4, 5]]),
    ],
)
def test_letters_keep_their_order_per_mailbox_and_complaint(letters, expected):
    assert waves(letters) == expected


def test_our_acknowledgement_is_recognised_as_automatic_by_our_own_triage():
    """The pair harness (h11's ConnectionPair): render our mail, parse it back, triage it."""
    sent = compose(
        Letter(subject="[REC-2026-000001] Accusé de réception", text="Bonjour", html="<p>Bonjour</p>"),
        sender=Address("Service réclamations", "reclamations@example.com"),
        to=Address("Camille", "camille@client.example"),
        message_id=new_message_id("REC-2026-000001", "ack", "example.com"),
        date=datetime(2026, 12, 7, 9, 0, tzinfo=UTC),
        in_reply_to="<c1@client.example>",
        references=("<c0@client.example>",),
    )
    message = email.message_from_bytes(sent.raw, policy=email.policy.default)
    assert message["References"] == "<c0@client.example> <c1@client.example>"
    assert message["Subject"] == "[REC-2026-000001] Accusé de réception"
    mail = parse(sent.raw)
    assert mail.message_id == sent.message_id
    facts = Facts(sha256_known=False, message_id_known=False, own_addresses=frozenset())
    assert classify(mail, facts).outcome is Outcome.ROBOT
    facts_own = Facts(sha256_known=False, message_id_known=False, own_addresses=frozenset({"reclamations@example.com"}))
    assert classify(mail, facts_own).outcome is Outcome.ROBOT


def test_message_ids_are_unique_and_traceable():
    ids = {new_message_id("REC-2026-000001", "ack", "example.com") for _ in range(1000)}
    assert len(ids) == 1000
    assert all(i.startswith("<REC-2026-000001.ack.") and i.endswith("@example.com>") for i in ids)


def test_attachment_store_is_idempotent_and_content_addressed(tmp_path):
    store = AttachmentStore(tmp_path / "files")
    sha, path = store.save(b"hello")
    again, same = store.save(b"hello")
    assert (sha, path) == (again, same)
    assert path.read_bytes() == b"hello" and path.name == sha
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize(
    "subject",
    [
        "Réclamation",
        "[REC-2026-000042] Nouvelle réclamation : Colis abîmé à Besançon [jeton:AbCdEf012345]",
        "😀 " * 40 + "fin",  # four-byte characters, never split across two encoded words
        "Ça " + "é" * 300,
    ],
)
def test_a_non_ascii_subject_reads_back_whole_on_lines_of_78_columns(subject: str) -> None:
    mail = compose(
        Letter(subject, "texte", "<p>texte</p>"),
        sender=Address("Service réclamations", "reclamations@example.com"),
        to=Address("Camille", "camille@client.example"),
        message_id="<m@example.com>",
        date=datetime(2026, 11, 30, 12, 0, tzinfo=UTC),
    )
    head = mail.raw.split(b"\r\n\r\n", 1)[0]
    assert max(len(line) for line in head.split(b"\r\n")) <= 78
    parsed = email.message_from_bytes(mail.raw, policy=email.policy.default)
    assert parsed["Subject"] == " ".join(subject.split())


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(exclude_categories=("Cs",)), max_size=200))
def test_encoded_words_give_back_the_subject_and_never_split_a_character(text: str) -> None:
    """Each word decodes alone (RFC 2047 section 5: a word never splits a character), the words
    together give the subject back (spaces folded), and each line holds in 78 columns."""
    lines = f"Subject: {encoded_words(text)}".split("\r\n")
    assert max(len(line) for line in lines) <= 78
    words = [line.strip().removeprefix("Subject: ") for line in lines]
    assert all(word.startswith("=?utf-8?b?") and word.endswith("?=") for word in words)
    decoded = [base64.b64decode(word[10:-2]).decode("utf-8") for word in words]
    assert "".join(decoded) == " ".join(text.split())


@pytest.mark.parametrize("subtype", ["alternative", "mixed", "x" * 40, "y" * 52, "y" * 53, "z" * 60])
@pytest.mark.parametrize("boundary", ["=_" + "0" * 32, "=_a", "b" * 74, "c" * 75])
def test_a_multipart_content_type_is_folded_as_compat32_folds_it(subtype: str, boundary: str) -> None:
    """_WIRE folds our multipart Content-Type itself (compat32's Header.encode was a tenth of composing
    a letter): the same lines as compat32, whether both halves fit or not."""
    value = f'multipart/{subtype}; boundary="{boundary}"'
    compat32 = Compat32(linesep="\r\n", max_line_length=78)
    assert _WIRE._fold("Content-Type", value, False) == compat32._fold("Content-Type", value, False)


@pytest.mark.parametrize("size", [0, 1, 2, 3, 56, 57, 58, 114, 1000, 50_000])
def test_an_attachment_is_base64_in_lines_as_encodebytes_writes_them(size: int) -> None:
    content = bytes(range(256)) * (size // 256) + bytes(range(size % 256))
    assert _base64_lines(content) == base64.encodebytes(content).replace(b"\n", b"\r\n")


def _stdlib_letter(
    mail: bytes, letter: Letter, files: tuple[FileToAttach, ...], headers: list[tuple[str, str]]
) -> bytes:
    """The same letter built with the compat32 MIME classes and written by the stdlib's generator,
    with the boundaries `mail` drew: what compose wrote before it wrote bytes itself."""
    drawn = email.message_from_bytes(mail)
    outer = drawn.get_boundary()
    inner = drawn.get_payload(0).get_boundary() if files else outer
    body = MIMEMultipart("alternative", boundary=inner)
    for text, subtype in ((letter.text, "plain"), (letter.html, "html")):
        part = MIMENonMultipart("text", subtype, charset="utf-8")
        del part["MIME-Version"]
        part["Content-Transfer-Encoding"] = "quoted-printable"
        part.set_payload(binascii.b2a_qp(text.encode("utf-8")).decode("ascii"))
        body.attach(part)
    message = body
    if files:
        message = MIMEMultipart("mixed", boundary=outer)
        del body["MIME-Version"]
        message.attach(body)
        for file in files:
            maintype, _, subtype = file.content_type.partition("/")
            if not subtype or maintype in ("multipart", "message"):
                maintype, subtype = "application", "octet-stream"
            attached = MIMEBase(maintype, subtype)
            del attached["MIME-Version"]
            attached.set_payload(base64.encodebytes(file.content).decode("ascii"))
            attached["Content-Transfer-Encoding"] = "base64"
            attached.add_header("Content-Disposition", "attachment", filename=("utf-8", "", file.filename))
            message.attach(attached)
    for name, value in headers:
        message[name] = value
    return message.as_bytes(policy=_WIRE)


FILES = (
    FileToAttach("facture n°12 – été.pdf", "application/pdf", bytes(range(256)) * 200),
    FileToAttach("vide.txt", "text/plain", b""),
    FileToAttach("x" * 120 + ".bin", "weird", b"\x00\x01"),
    FileToAttach("photo.jpg", "multipart/mixed", b"\xff\xd8" * 1000),
)


@pytest.mark.parametrize(
    ("letter", "to", "files"),
    [
        (
            Letter("[REC-2026-000001] Accusé de réception", "Bonjour,\n\nMerci.\n", "<p>Bonjour</p>\n"),
            "a@b.example",
            (),
        ),
        (Letter("Plain ASCII", "no newline at the end", "<p>x</p>"), "a@b.example", ()),
        (
            Letter("Ça " + "é" * 200, "lone\rCR and CRLF\r\nand LF\n", "  trailing spaces  \n\ttab\n"),
            "jörg@b.example",
            (),
        ),
        (Letter("Long lines", "x" * 500 + "\nFrom the start\n.\n", "é" * 300), "a@b.example", FILES),
        (Letter("One file", "Voir la pièce jointe.\n", "<p>Voir.</p>\n"), "a@b.example", FILES[:1]),
    ],
)
def test_a_composed_letter_is_the_stdlib_generators_bytes(letter: Letter, to: str, files) -> None:
    """compose writes its bytes itself (issue 10: the generator's line-by-line writes were the dearest
    part of a letter); they are the very bytes the stdlib's MIME classes and generator wrote."""
    mail = compose(
        letter,
        sender=Address("Service réclamations", "reclamations@example.com"),
        to=Address("Camille Dupré", to),
        message_id="<REC-2026-000001.ack.x@example.com>",
        date=datetime(2026, 12, 7, 9, 0, tzinfo=UTC),
        in_reply_to="<c1@client.example>",
        references=("<c0@client.example>",),
        files=files,
        reply_to=Address("Équipe", "equipe@example.com"),
        kind="acknowledgement",
    )
    headers = [
        ("From", mailbox_header(Address("Service réclamations", "reclamations@example.com"))),
        ("To", mailbox_header(Address("Camille Dupré", to))),
        ("Subject", letter.subject),
        ("Reply-To", mailbox_header(Address("Équipe", "equipe@example.com"))),
        ("Date", "Mon, 07 Dec 2026 09:00:00 +0000"),
        ("Message-ID", "<REC-2026-000001.ack.x@example.com>"),
        ("In-Reply-To", "<c1@client.example>"),
        ("References", "<c0@client.example> <c1@client.example>"),
        ("Auto-Submitted", "auto-replied"),
        ("X-Auto-Response-Suppress", "All"),
        ("X-Complaintsd-Kind", "acknowledgement"),
    ]
    assert mail.raw == _stdlib_letter(mail.raw, letter, files, headers)
    parsed = email.message_from_bytes(mail.raw, policy=email.policy.default)

    def lines(text: str) -> str:
        return text.replace("\r\n", "\n").replace("\r", "\n")

    assert lines(parsed.get_body(("plain",)).get_content()) == lines(letter.text)
    assert [part.get_content() for part in parsed.iter_attachments()] == [
        file.content.decode() if file.content_type == "text/plain" else file.content for file in files
    ]
