"""Tests of daemon.core.parsing: the whole real-world corpus, focused cases, and the invariant under Hypothesis.

The invariant (docs/style.md item 17, like h11's fuzz/afl-server.py): any bytes give an InboundMail or a
MailError, never another exception.
"""

from __future__ import annotations

import base64
import email
import email.policy
import hashlib
import re
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from daemon.core.htmltext import html_to_text
from daemon.core.mail import InboundMail
from daemon.core.mime import safe_filename
from daemon.core.parsing import parse
from daemon.errors import MailError
from tests.corpus import corpus_dir, manifest

COMPLETE_CATEGORIES = ("real", "reply", "bounce", "autoreply")


ROWS = manifest()
COMPLETE = [row for row in ROWS if row["category"] in COMPLETE_CATEGORIES]
BODY_ONLY = [row for row in ROWS if row["category"] in ("reply-body", "forward-body")]
CR_ONLY = sorted(
    row["path"] for row in ROWS if row["path"].startswith(("bounces/sisimai/mac/", "autoreplies/sisimai/mac/"))
)

# The only corpus files that are not messages at all: Python's parser finds no header section.
EXPECTED_MAIL_ERRORS = {
    "real/cpython/msg_19.txt": "no header section",  # a Mailman digest body without any header
    "real/enmime/mail/erroneous.raw": "no header section",  # "// Not an RFC-822 Document"
    "real/stalwart-mail-parser/malformed/019.eml": "no header section",  # first line "Fro :uMmlti ..."
}


def read(path: str) -> bytes:
    return (corpus_dir() / path).read_bytes()


def parsed(path: str) -> InboundMail:
    return parse(read(path))


def test_corpus_is_present() -> None:
    assert (corpus_dir() / "MANIFEST.tsv").is_file(), f"corpus missing at {corpus_dir()} (set COMPLAINTSD_CORPUS)"
    assert len(COMPLETE) == 424, f"expected 424 complete messages, MANIFEST lists {len(COMPLETE)}"


# --- the corpus table -----------------------------------------------------------------------------


@pytest.mark.parametrize("row", COMPLETE or [None], ids=lambda row: row["path"] if row else "corpus-missing")
def test_corpus_message_parses_or_is_expected_mail_error(row: dict[str, str] | None) -> None:
    if row is None:
        pytest.fail(f"corpus missing at {corpus_dir()}")
    raw = read(row["path"])
    try:
        mail = parse(raw)
    except MailError as error:
        assert row["path"] in EXPECTED_MAIL_ERRORS, f"unexpected MailError: {error.reason}"
        assert EXPECTED_MAIL_ERRORS[row["path"]] in error.reason
        return
    assert row["path"] not in EXPECTED_MAIL_ERRORS, "expected a MailError"
    assert mail.raw_sha256 == row["sha256"] == hashlib.sha256(raw).hexdigest()
    check_well_formed(mail)


def check_well_formed(mail: InboundMail) -> None:
    """What every later stage relies on, whatever the input was."""
    assert "\n" not in mail.subject and "\r" not in mail.subject
    assert mail.date is None or mail.date.tzinfo is not None
    for value in (mail.message_id, mail.in_reply_to, *mail.references):
        assert value is None or re.fullmatch(r"<[^<>\s]+>", value), value
    assert mail.content_type == mail.content_type.lower() and "/" in mail.content_type
    texts = [mail.subject, mail.text_body, mail.html_body, *(v for pair in mail.headers for v in pair)]
    for text in texts:
        text.encode("utf-8")  # no lone surrogate left
        assert "\x00" not in text
    assert "\r" not in mail.text_body
    for attachment in mail.attachments:
        assert attachment.filename == safe_filename(attachment.filename, attachment.content_type, 1)
        assert not attachment.filename.startswith(".") and len(attachment.filename) <= 150


# --- focused cases on real corpus files -----------------------------------------------------------


def test_rfc2231_filename_is_decoded() -> None:
    mail = parsed("real/django-mailbox/message_with_cyrillic_attachment.eml")
    assert [a.filename for a in mail.attachments] == ["Танки.gif"]
    assert mail.attachments[0].content.startswith(b"GIF8")


def test_rfc2047_filenames_are_decoded() -> None:
    # An unquoted encoded-word that policy.default drops: `filename==?utf-8?B?...?=`.
    mail = parsed("real/mikel-mail/attachment_emails/attachment_with_base64_encoded_name.eml")
    assert [a.filename for a in mail.attachments] == ["This is a test.pdf"]
    mail = parsed("real/django-mailbox/message_with_utf8_attachment.eml")
    assert [a.filename for a in mail.attachments] == ["piłkochwyty.jpg", "odpowiedź Burmistrza.jpg"]


def test_tnef_winmail_dat_is_kept_as_it_is() -> None:
    raw = read("real/mimekit/ukr.eml")
    mail = parse(raw)
    (tnef,) = mail.attachments
    assert (tnef.filename, tnef.content_type) == ("winmail.dat", "application/ms-tnef")
    expected = email.message_from_bytes(raw, policy=email.policy.default).get_payload()[1].get_payload(decode=True)
    assert tnef.content == expected and tnef.content[:4] == b"\x78\x9f\x3e\x22"  # TNEF signature
    assert mail.text_body.startswith("шостий")  # koi8-r


def test_nested_message_is_one_attachment() -> None:
    mail = parsed("real/mimekit/simple-embedded-message.eml")
    (nested,) = mail.attachments
    assert (nested.filename, nested.content_type) == ("message.eml", "message/rfc822")
    assert mail.text_body == "This is the message body.\n"  # the nested body is not ours
    inner = parse(nested.content)
    assert inner.subject == "embedded message" and inner.sender.email == "mimekit@example.com"


def test_iso_2022_jp_subject_and_body() -> None:
    mail = parsed("real/mimekit/japanese.txt")
    assert mail.subject == "日本語メールテスト (testing Japanese emails)"
    assert "日本語が" in mail.text_body


def test_from_with_cr_lf_inside_an_address() -> None:
    # str(msg["From"]) raises ValueError on this file; mail-parser's scanner reads it.
    mail = parsed("real/enmime/mail/qp-utf8-header-recursed.raw")
    assert mail.sender is not None and mail.sender.email == "jamehi03@jamehi03lx.noa.com"
    assert mail.sender.name == "James Hillyerd"
    assert [a.email for a in mail.to] == ["marczak@inbucket.com"] and mail.to[0].name == "Mirosław Marczak"
    assert mail.subject == "MIME UTF8 Test ¢ More Text"


MIMEKIT_GROUP_DSNS = ["bounces/mimekit/delivery-status.txt", "bounces/mimekit/delivery-status-no-blank-line.txt"]


@pytest.mark.parametrize("path", MIMEKIT_GROUP_DSNS)
def test_group_syntax_to_in_mimekit_dsn(path: str) -> None:
    # "To: unlisted-recipients:; (no To-header on input)": str(msg["To"]) raises AttributeError.
    mail = parsed(path)
    assert mail.to == ()
    assert mail.header("To").startswith("unlisted-recipients:;")
    assert mail.sender is not None and mail.sender.email == "postmaster@mm1.sprynet.com"
    assert mail.content_type == "multipart/report"
    assert [a.content_type for a in mail.attachments] == ["message/delivery-status", "message/rfc822"]


@pytest.mark.parametrize("path", CR_ONLY)
def test_cr_only_line_endings(path: str) -> None:
    raw = read(path)
    assert b"\n" not in raw  # the premise: CR-only
    mail = parse(raw)
    crlf = parse(raw.replace(b"\r", b"\r\n"))
    assert mail.sender is not None and mail.subject and mail.date is not None
    assert (mail.sender, mail.subject, mail.message_id, mail.content_type) == (
        crlf.sender,
        crlf.subject,
        crlf.message_id,
        crlf.content_type,
    )
    assert mail.text_body == crlf.text_body and "\r" not in mail.text_body


def test_html_only_mail_gets_a_text_rendering() -> None:
    mail = parsed("real/enmime/mail/non-mime-missing-charset.raw")
    assert mail.content_type == "text/html" and mail.html_body
    assert mail.text_body and "<" not in mail.text_body


def test_mbox_from_line_and_broken_multipart_recovery() -> None:
    # An mbox "From " line first; the nested multipart reuses its parent's boundary.
    mail = parsed("real/cpython/msg_15.txt")
    assert [a.filename for a in mail.attachments] == ["xx.gif"]
    mail = parsed("bounces/cpython/msg_25.txt")
    assert mail.sender is not None and mail.sender.email.lower().startswith("mailer-daemon@")


def test_a_stray_line_in_the_header_section_does_not_hide_the_fields_below_it() -> None:
    # "quite Delivered-To: …" (a space in the name): Python's parser ended the header section there,
    # so the From below it was text and the mail was quarantined "no sender address".
    mail = parsed("real/mikel-mail/plain_emails/raw_email_incorrect_header.eml")
    assert (mail.sender.email if mail.sender else None, mail.subject) == (
        "xxx@xxx.xxx",
        "Stop adware/spyware once and for all.",
    )
    assert mail.text_body.startswith("You are infected with:") and "StrayHeaderLineDropped" in mail.defects
    # Exchange's header value wrapped without its leading space: the MIME structure below it was text.
    mail = parsed("real/mimekit/issue358.txt")
    assert (mail.content_type, mail.text_body.strip()) == ("multipart/alternative", "Test headers")


@pytest.mark.parametrize(
    "head",
    [
        b"Fro :bad <a@example.com>\nFrom: a@example.com\nSubject: s\n",  # no field before it: not a message
        b"From: a@example.com\nSubject: s\nBonjour,\nRemarque: le colis\n",  # a body glued to the header
    ],
)
def test_a_line_is_dropped_only_between_fields_with_known_ones_after(head: bytes) -> None:
    message = head + b"\nsuite\n"
    mended = [m for m in (_try_parse(message),) if m is not None and "StrayHeaderLineDropped" in m.defects]
    assert mended == []


def _try_parse(raw: bytes) -> InboundMail | None:
    try:
        return parse(raw)
    except MailError:
        return None


def test_unquoted_boundary_with_equals_sign() -> None:
    # policy.default cuts `boundary=----=_Part_...` at "="; compat32 reads it.
    mail = parsed("real/mikel-mail/mime_emails/raw_email_with_binary_encoded.eml")
    assert [a.filename for a in mail.attachments] == ["2013-08-13_19-08-28-1.jpg"]


def test_unknown_charset_falls_back() -> None:
    mail = parsed("real/enmime/low-quality/unk-charset-part.raw")  # charset=fakescii
    assert mail.text_body.strip()


@pytest.mark.parametrize("row", BODY_ONLY or [None], ids=lambda row: row["path"] if row else "corpus-missing")
def test_body_only_files_wrapped_in_a_message_keep_their_text(row: dict[str, str] | None) -> None:
    if row is None:
        pytest.fail(f"corpus missing at {corpus_dir()}")
    body = read(row["path"]).removeprefix(b"\xef\xbb\xbf")
    subtype = "html" if row["path"].endswith(".html") else "plain"
    raw = message(f"Content-Type: text/{subtype}; charset=utf-8\nContent-Transfer-Encoding: 8bit\n", body)
    mail = parse(raw)
    text = body.decode("utf-8", "replace")
    words = (html_to_text(text) if subtype == "html" else text).split()[:3]
    assert all(word in mail.text_body for word in words), (words, mail.text_body[:200])


# --- hand-made messages ---------------------------------------------------------------------------


def message(extra_headers: str, body: bytes, newline: bytes = b"\n") -> bytes:
    head = (
        "From: Jeanne Client <jeanne@example.org>\nTo: reclamations@example.fr\n"
        "Subject: Colis abîmé\nDate: Tue, 07 Apr 2026 10:00:00 +0200\nMessage-ID: <abc@example.org>\n"
        "MIME-Version: 1.0\n" + extra_headers
    ).encode("utf-8")
    return (head + b"\n" + body).replace(b"\n", newline)


def attachment_message(disposition: str, ctype: str = "application/pdf") -> bytes:
    return message(
        'Content-Type: multipart/mixed; boundary="b"\n',
        b"--b\nContent-Type: text/plain\n\nVoir la facture.\n--b\n"
        + f"Content-Type: {ctype}\nContent-Transfer-Encoding: base64\nContent-Disposition: {disposition}\n\n".encode()
        + b"JVBERi0xLjQK\n--b--\n",
    )


def test_plain_fields() -> None:
    raw = message(
        "Reply-To: =?utf-8?q?Jeanne_B=C3=A9ranger?= <jb@example.org>\nIn-Reply-To: <x@y>\n"
        "References: <a@b>\n <x@y>\nContent-Type: text/plain; charset=utf-8\n",
        "Bonjour,\r\nle colis est arrivé abîmé.\n".encode(),
    )
    mail = parse(raw)
    assert mail.raw_sha256 == hashlib.sha256(raw).hexdigest()
    assert mail.message_id == "<abc@example.org>" and mail.in_reply_to == "<x@y>"
    assert mail.references == ("<a@b>", "<x@y>")
    assert (mail.sender.name, mail.sender.email) == ("Jeanne Client", "jeanne@example.org")
    assert (mail.reply_to.name, mail.reply_to.email) == ("Jeanne Béranger", "jb@example.org")
    assert [a.email for a in mail.to] == ["reclamations@example.fr"]
    assert mail.subject == "Colis abîmé"
    assert mail.date == datetime(2026, 4, 7, 8, 0, tzinfo=UTC)
    assert mail.text_body == "Bonjour,\nle colis est arrivé abîmé.\n"
    assert mail.content_type == "text/plain" and mail.attachments == ()
    assert ("Subject", "Colis abîmé") in mail.headers


@pytest.mark.parametrize("prefix", [b"\xef\xbb\xbf", b"From jeanne@example.org Tue Apr  7 10:00:00 2026\n", b"\r\n"])
@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_bom_mbox_line_and_line_endings(prefix: bytes, newline: bytes) -> None:
    mail = parse(prefix + message("Content-Type: text/plain\n", b"Bonjour\nMerci\n", newline))
    assert mail.sender.email == "jeanne@example.org" and mail.subject == "Colis abîmé"
    assert mail.text_body == "Bonjour\nMerci\n"


def test_naive_date_is_utc_and_bad_date_is_none() -> None:
    naive = parse(message("Content-Type: text/plain\n", b"x").replace(b"+0200", b"-0000"))
    assert naive.date == datetime(2026, 4, 7, 10, 0, tzinfo=UTC)
    bad = parse(message("Content-Type: text/plain\n", b"x").replace(b"Tue, 07 Apr 2026", b"someday"))
    assert bad.date is None


def test_message_id_forms() -> None:
    bare = parse(message("", b"x").replace(b"<abc@example.org>", b" abc@example.org "))
    assert bare.message_id == "<abc@example.org>"
    assert parse(message("", b"x").replace(b"<abc@example.org>", b"")).message_id is None
    assert parse(message("", b"x").replace(b"Message-ID: <abc@example.org>\n", b"")).message_id is None


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\Windows\\win.ini", "win.ini"),
        ("C:\\boot.ini", "boot.ini"),
        ("....hidden", "hidden"),
        ('a<b>c:d*e?f"g|h.pdf', "a_b_c_d_e_f_g_h.pdf"),
        ("facture\u202egpj.exe", "facture_gpj.exe"),  # right-to-left override
        ("bad\x00\x07name.pdf", "bad_name.pdf"),  # NUL dropped, BEL replaced
        ("e\u0301te\u0301.pdf", "été.pdf"),  # NFC
        ("=?utf-8?q?r=C3=A9clamation.pdf?=", "réclamation.pdf"),
        ("..", "attachment-1.pdf"),
        ("", "attachment-1.pdf"),
        (None, "attachment-1.pdf"),
    ],
)
def test_safe_filename(declared: str | None, expected: str) -> None:
    assert safe_filename(declared, "application/pdf", 1) == expected


def test_long_filename_keeps_its_extension() -> None:
    name = safe_filename("x" * 400 + ".pdf", "application/pdf", 1)
    assert len(name) == 150 and name.endswith(".pdf")
    wide = safe_filename("日" * 200 + ".pdf", "application/pdf", 1)
    assert wide.endswith(".pdf") and len(wide.encode("utf-8")) <= 240
    assert safe_filename(None, "message/rfc822", 2) == "message.eml"
    assert safe_filename(None, "image/png", 3) == "attachment-3.png"
    assert safe_filename(None, "application/x-unknown", 4) == "attachment-4.bin"


def test_path_traversal_filename_in_a_message() -> None:
    mail = parse(attachment_message('attachment; filename="../../etc/passwd"'))
    (attachment,) = mail.attachments
    assert attachment.filename == "passwd" and attachment.content == b"%PDF-1.4\n"
    assert mail.text_body == "Voir la facture."  # the line break before a boundary is the boundary's


def test_rfc2231_continuations_in_a_message() -> None:
    disposition = "attachment;\n filename*0*=utf-8''r%C3%A9clama;\n filename*1*=tion%20n%C2%B01.pdf"
    (attachment,) = parse(attachment_message(disposition)).attachments
    assert attachment.filename == "réclamation n°1.pdf"


def test_inline_image_without_name_is_an_attachment() -> None:
    (attachment,) = parse(attachment_message("inline", "image/png")).attachments
    assert (attachment.filename, attachment.content_type) == ("attachment-1.png", "image/png")


def test_html_to_text() -> None:
    html = (
        "<html><head><title>T</title><style>p{color:red}</style></head><body>"
        "<p>Bonjour&nbsp;Madame,</p><p>le colis &eacute;tait <b>ab&icirc;m&eacute;</b>.<br>Cordialement</p>"
        "<script>alert(1)</script><ul><li>un</li><li>deux</li></ul></body></html>"
    )
    assert html_to_text(html) == "Bonjour Madame,\n\nle colis était abîmé.\nCordialement\n\n- un\n- deux"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty"),
        (b" \r\n\r\n\t", "empty"),
        (b"\xef\xbb\xbf", "empty"),
        (b"// Not an RFC-822 Document", "no header section"),
        (b"\x00\x01\x02\xff\xfe binary garbage", "no header section"),
        (b"Hello there,\nthis is a letter, not a mail.\n", "no header section"),
    ],
)
def test_not_a_message_is_a_mail_error(raw: bytes, reason: str) -> None:
    with pytest.raises(MailError, match=reason):
        parse(raw)


def test_deep_nesting_is_a_mail_error_or_a_mail() -> None:
    depth = 3000
    head = b"From: a@b.c\nContent-Type: multipart/mixed; boundary=b0\n\n"
    body = b"".join(f"--b{i}\nContent-Type: multipart/mixed; boundary=b{i + 1}\n\n".encode() for i in range(depth))
    try:
        parse(head + body)
    except MailError as error:
        assert "nested" in error.reason


# --- the invariant --------------------------------------------------------------------------------

SEED = attachment_message('attachment; filename="=?utf-8?q?facture_=C3=A9t=C3=A9.pdf?="') + (
    b"\n--b\nContent-Type: message/rfc822\n\nFrom: x@y.z\nSubject: =?iso-2022-jp?b?GyRCRnxLXDhsGyhC?=\n\nhi\n--b--\n"
)


def parse_or_mail_error(raw: bytes) -> None:
    try:
        mail = parse(raw)
    except MailError as error:
        assert error.reason
    else:
        check_well_formed(mail)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000))
def test_any_bytes_give_a_mail_or_a_mail_error(raw: bytes) -> None:
    parse_or_mail_error(raw)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(SEED)
    tokens = st.sampled_from(
        [b"\n", b"\r", b"--b", b":", b";", b"=?", b"?=", b"<", b">", b"\x00", b"\xff", b'"', b"\t", b"=", b"%"]
    )
    for _ in range(draw(st.integers(1, 8))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        chunk = draw(st.one_of(tokens, st.binary(min_size=1, max_size=6)))
        if action == "insert":
            data[at:at] = chunk
        elif action == "delete":
            del data[at : at + len(chunk)]
        else:
            data[at : at + len(chunk)] = chunk
    return bytes(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_messages_give_a_mail_or_a_mail_error(raw: bytes) -> None:
    parse_or_mail_error(raw)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_any_header_text_is_decoded_without_raising(value: str) -> None:
    encoded = value.encode("utf-8", "surrogatepass")
    raw = b"From: " + encoded + b"\nSubject: " + encoded + b"\n\nx"
    parse_or_mail_error(raw)


# --- winmail.dat (TNEF) --------------------------------------------------------------------------
# real/mimekit/rich-text.eml (MimeKit's test suite, MIT) is an Outlook "Rich Text" mail: its files
# travel in a winmail.dat that tnefparse decodes into a JPEG and two embedded objects.


def tnef_blob(path: str) -> bytes:
    """The winmail.dat part of a corpus message, decoded from its transfer encoding."""
    msg = email.message_from_bytes(read(path), policy=email.policy.default)
    [part] = [p for p in msg.walk() if p.get_content_type() == "application/ms-tnef"]
    return part.get_payload(decode=True)


def test_winmail_dat_is_unpacked_into_its_files_and_kept() -> None:
    mail = parsed("real/mimekit/rich-text.eml")
    assert [(a.filename, a.content_type) for a in mail.attachments] == [
        ("winmail.dat", "application/ms-tnef"),
        ("kitten-playing-with-a-christmas-tree.jpg", "image/jpeg"),
        ("Untitled Attachment", "application/octet-stream"),
        ("Untitled Attachment", "application/octet-stream"),
    ]
    assert mail.attachments[0].content == tnef_blob("real/mimekit/rich-text.eml")
    kitten = mail.attachments[1]
    assert kitten.content[:3] == b"\xff\xd8\xff" and len(kitten.content) == 375081  # a whole JPEG
    assert "Christmas to remember" in mail.text_body  # the mail's own text part stays its body


def test_winmail_dat_gives_its_body_to_a_mail_that_has_none() -> None:
    # ukr.eml's winmail.dat carries the body too (in code page 1251); sent alone, it is the body.
    raw = message(
        'Content-Type: application/ms-tnef; name="winmail.dat"\nContent-Transfer-Encoding: base64\n',
        base64.encodebytes(tnef_blob("real/mimekit/ukr.eml")),
    )
    mail = parse(raw)
    assert mail.text_body.startswith("шостий\n")
    assert [a.filename for a in mail.attachments] == ["winmail.dat"]


def test_an_unreadable_winmail_dat_is_kept_and_noted() -> None:
    raw = message(
        'Content-Type: multipart/mixed; boundary="b"\n',
        b'--b\nContent-Type: text/plain\n\nBonjour\n--b\nContent-Type: application/ms-tnef; name="winmail.dat"\n\n'
        b"not a TNEF blob\n--b--\n",  # Wrong TNEF signature
    )
    mail = parse(raw)
    assert [a.filename for a in mail.attachments] == ["winmail.dat"]
    assert any(d.startswith("winmail.dat: TNEF not decoded") for d in mail.defects)
