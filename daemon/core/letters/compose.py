"""Turn a rendered Letter into the exact bytes that will leave, with threading and loop headers.

Pure: the Message-ID, the date and the addresses are passed in, so the outbox row holds the final
message and a resend after a crash is byte-for-byte the same mail (same Message-ID).
"""

from __future__ import annotations

import base64
import binascii
import secrets
from dataclasses import dataclass
from datetime import datetime
from email._policybase import Compat32
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.utils import format_datetime, formataddr
from typing import Any

from daemon.core.letters.render import Letter
from daemon.core.mail import Address


@dataclass(frozen=True)
class OutgoingMail:
    message_id: str
    mail_from: str
    recipients: tuple[str, ...]
    raw: bytes

    def __post_init__(self) -> None:
        if not self.recipients:
            raise ValueError("an outgoing mail needs at least one recipient")


def new_message_id(reference: str, purpose: str, domain: str) -> str:
    """Unguessable and traceable: the reference and purpose say what it was, the token that it was us."""
    return f"<{reference}.{purpose}.{secrets.token_urlsafe(12)}@{domain}>"


def compose(
    letter: Letter,
    *,
    sender: Address,
    to: Address,
    message_id: str,
    date: datetime,
    in_reply_to: str | None = None,
    references: tuple[str, ...] = (),
    auto_submitted: str = "auto-replied",
    files: tuple[FileToAttach, ...] = (),
    reply_to: Address | None = None,
    kind: str = "",
) -> OutgoingMail:
    """A letter in text and HTML (UTF-8, quoted-printable), with `files` attached, CRLF line ends.

    Built with the compat32 MIME classes: the modern EmailMessage API re-parses every header it
    sets, which made composing the dearest step of ingestion."""
    body = MIMEMultipart("alternative", boundary=_boundary())
    for text, subtype in ((letter.text, "plain"), (letter.html, "html")):
        body.attach(_text_part(text, subtype))
    message = body
    if files:
        message = MIMEMultipart("mixed", boundary=_boundary())
        del body["MIME-Version"]
        message.attach(body)
        for file in files:
            message.attach(_file_part(file))
    message["From"] = mailbox_header(sender)
    message["To"] = mailbox_header(to)
    message["Subject"] = letter.subject  # encoded by _Wire._fold when it is not ASCII
    if reply_to is not None:
        message["Reply-To"] = mailbox_header(reply_to)
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    thread = tuple(references) + ((in_reply_to,) if in_reply_to and in_reply_to not in references else ())
    if thread:
        message["References"] = " ".join(thread)
    # RFC 3834: mark our mail as automatic so that well-behaved robots never answer it.
    message["Auto-Submitted"] = auto_submitted
    message["X-Auto-Response-Suppress"] = "All"
    if kind:
        message["X-Complaintsd-Kind"] = kind  # lets people file our mails with a client rule
    raw = message.as_bytes(policy=_WIRE)
    return OutgoingMail(message_id=message_id, mail_from=sender.email, recipients=(to.email,), raw=raw)


def mailbox_header(address: Address) -> str:
    """An address header's value: the name in an encoded word when it needs one, the addr-spec as is.

    `formataddr` refuses a non-ASCII addr-spec ("'ascii' codec can't encode"), and an encoded word
    may not stand in an addr-spec: an internationalised address (`jörg@…`, RFC 6532) is written in
    UTF-8. compat32 writes a str holding surrogates as the bytes they escape, unfolded, so the UTF-8
    is carried as surrogate escapes; only a relay offering SMTPUTF8 takes such a letter (edges/smtp.py)."""
    if address.email.isascii():
        return formataddr((address.name, address.email), charset="utf-8")
    placeholder = "x@x.invalid"
    name = formataddr((address.name, placeholder), charset="utf-8").removesuffix(f"<{placeholder}>")
    value = f"{name}<{address.email}>" if address.name else address.email
    return value.encode("utf-8").decode("ascii", "surrogateescape")


@dataclass(frozen=True)
class FileToAttach:
    filename: str
    content_type: str
    content: bytes


def _boundary() -> str:
    """A random boundary, given rather than left to the generator, which compiles a regular expression
    per message to search the whole text for its own candidate (a tenth of composing a letter). 128
    random bits cannot occur in our quoted-printable and base64 parts by chance."""
    return f"=_{secrets.token_hex(16)}"


def _file_part(file: FileToAttach) -> MIMEBase:
    maintype, _, subtype = file.content_type.partition("/")
    if not subtype or maintype in ("multipart", "message"):
        maintype, subtype = "application", "octet-stream"
    part = MIMEBase(maintype, subtype)
    del part["MIME-Version"]
    part.set_payload(base64.encodebytes(file.content).decode("ascii"))
    part["Content-Transfer-Encoding"] = "base64"
    part.add_header("Content-Disposition", "attachment", filename=("utf-8", "", file.filename))
    return part


def _text_part(body: str, subtype: str) -> MIMENonMultipart:
    """A UTF-8 text part in quoted-printable, encoded by binascii's C code (the email package's
    own quoted-printable encoder is pure Python and was most of the cost of a letter)."""
    part = MIMENonMultipart("text", subtype, charset="utf-8")
    del part["MIME-Version"]
    part["Content-Transfer-Encoding"] = "quoted-printable"
    part.set_payload(binascii.b2a_qp(body.encode("utf-8")).decode("ascii"))
    return part


class _Wire(Compat32):
    """compat32 on the wire (CRLF, 78 columns), without a Header object for a short ASCII header.

    Nearly all our headers are short ASCII lines, and compat32 folds each through `Header.encode`,
    which was a third of the cost of composing a letter; such a line is its own folded form."""

    def _fold(self, name: str, value: Any, sanitize: bool) -> str:
        width = self.max_line_length or 0
        if name == "Subject" and isinstance(value, str) and not value.isascii():
            return f"{name}: {encoded_words(value, self.linesep)}{self.linesep}"
        short = isinstance(value, str) and value.isascii() and len(name) + 2 + len(value) <= width
        if short and "\n" not in value and "\r" not in value and value == value.strip():
            return f"{name}: {value}{self.linesep}"
        folded: str = super()._fold(name, value, sanitize)  # type: ignore[misc]  # compat32's own folding
        return folded


_WIRE = _Wire(linesep="\r\n", max_line_length=78)
_WORD_BYTES = 36  # 48 base64 characters: "Subject: " and one encoded word stay within 78 columns


def encoded_words(text: str, linesep: str = "\r\n") -> str:
    """An unstructured header's text as RFC 2047 "B" encoded words, one per folded line.

    compat32's `Header.encode` tries every split for the shortest result and was a fifth of the cost
    of composing a letter; a word never splits a character (RFC 2047 section 5), and the folding
    white space between two words is not part of the text (section 6.2)."""
    words: list[str] = []
    chunk: list[str] = []
    size = 0
    for char in " ".join(text.split()):
        width = len(char.encode("utf-8"))
        if size + width > _WORD_BYTES:
            words.append("".join(chunk))
            chunk, size = [], 0
        chunk.append(char)
        size += width
    words.append("".join(chunk))
    encoded = (base64.b64encode(word.encode("utf-8")).decode("ascii") for word in words)
    return (linesep + " ").join(f"=?utf-8?b?{word}?=" for word in encoded)
