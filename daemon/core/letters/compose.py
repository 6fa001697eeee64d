"""Turn a rendered Letter into the exact bytes that will leave, with threading and loop headers.

Pure: the Message-ID, the date and the addresses are passed in, so the outbox row holds the final
message and a resend after a crash is byte-for-byte the same mail (same Message-ID).
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from email._policybase import Compat32
from email.utils import encode_rfc2231, format_datetime, formataddr
from functools import lru_cache
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

    Written straight to bytes, the same bytes the compat32 MIME classes and their generator wrote
    (tests/test_core.py compares them): the generator wrote each line of a letter apart, ~450 writes
    a letter, which made it the dearest step of composing."""
    body = _multipart("alternative", (_text_part(letter.text, "plain"), _text_part(letter.html, "html")))
    if files:
        content_type, payload = _multipart("mixed", (_part(*body), *(_file_part(file) for file in files)))
    else:
        content_type, payload = body
    headers = [("Content-Type", content_type), ("MIME-Version", "1.0")]
    headers += [("From", mailbox_header(sender)), ("To", mailbox_header(to))]
    headers.append(("Subject", letter.subject))  # encoded by _Wire._fold when it is not ASCII
    if reply_to is not None:
        headers.append(("Reply-To", mailbox_header(reply_to)))
    headers += [("Date", format_datetime(date)), ("Message-ID", message_id)]
    if in_reply_to:
        headers.append(("In-Reply-To", in_reply_to))
    thread = tuple(references) + ((in_reply_to,) if in_reply_to and in_reply_to not in references else ())
    if thread:
        headers.append(("References", " ".join(thread)))
    # RFC 3834: mark our mail as automatic so that well-behaved robots never answer it.
    headers += [("Auto-Submitted", auto_submitted), ("X-Auto-Response-Suppress", "All")]
    if kind:
        headers.append(("X-Complaintsd-Kind", kind))  # lets people file our mails with a client rule
    raw = _head(headers) + payload
    return OutgoingMail(message_id=message_id, mail_from=sender.email, recipients=(to.email,), raw=raw)


@lru_cache(maxsize=1024)
def mailbox_header(address: Address) -> str:
    """An address header's value: the name in an encoded word when it needs one, the addr-spec as is.

    `formataddr` refuses a non-ASCII addr-spec ("'ascii' codec can't encode"), and an encoded word
    may not stand in an addr-spec: an internationalised address (`jörg@…`, RFC 6532) is written in
    UTF-8. compat32 writes a str holding surrogates as the bytes they escape, unfolded, so the UTF-8
    is carried as surrogate escapes; only a relay offering SMTPUTF8 takes such a letter (edges/smtp.py).
    Remembered: the sender's address heads every letter, a handler's most of a batch's."""
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
    """A random boundary, not searched for in the text as the stdlib's generator does (a regular
    expression compiled per message): 128 random bits cannot occur in our quoted-printable and base64
    parts by chance."""
    return f"=_{secrets.token_hex(16)}"


# A MIME part as the generator wrote it: its headers, then a blank line, then its body.
_Part = tuple[tuple[tuple[str, str], ...], bytes]


def _part(content_type: str, payload: bytes) -> _Part:
    return (("Content-Type", content_type),), payload


def _head(headers: Iterable[tuple[str, str]]) -> bytes:
    """Folded headers and the blank line after them; compat32 writes a str with surrogates as the
    bytes they escape (an internationalised address)."""
    text = "".join(_WIRE._fold(name, value, False) for name, value in headers)
    return text.encode("ascii", "surrogateescape") + b"\r\n"


def _multipart(subtype: str, parts: Iterable[_Part]) -> tuple[str, bytes]:
    """The Content-Type and body of a multipart: each part between boundary lines."""
    boundary = _boundary()
    between = f"\r\n--{boundary}\r\n".encode("ascii")
    body = between.join(_head(headers) + payload for headers, payload in parts)
    payload = f"--{boundary}\r\n".encode("ascii") + body + f"\r\n--{boundary}--\r\n".encode("ascii")
    return f'multipart/{subtype}; boundary="{boundary}"', payload


def _crlf(text: bytes) -> bytes:
    """Every line end as CRLF, as the generator's `_write_lines` turns them (one pass for a text
    without CR, as rendered letters are)."""
    if b"\r" in text:
        text = text.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return text.replace(b"\n", b"\r\n")


def _file_part(file: FileToAttach) -> _Part:
    maintype, _, subtype = file.content_type.partition("/")
    if not subtype or maintype in ("multipart", "message"):
        maintype, subtype = "application", "octet-stream"
    disposition = "attachment; filename*=" + encode_rfc2231(file.filename, "utf-8", "")
    headers = (
        ("Content-Type", f"{maintype}/{subtype}"),
        ("Content-Transfer-Encoding", "base64"),
        ("Content-Disposition", disposition),
    )
    return headers, _base64_lines(file.content)


def _base64_lines(content: bytes) -> bytes:
    """`base64.encodebytes` with CRLF line ends: encoded at once, then cut into lines of 76
    characters (57 bytes each), where encodebytes called the C encoder once a line (~900 calls for
    a 50 kB file) and the CRLFs were a second copy."""
    encoded = binascii.b2a_base64(content, newline=False)
    if not encoded:
        return b""
    return b"\r\n".join([encoded[i : i + 76] for i in range(0, len(encoded), 76)]) + b"\r\n"


def _text_part(body: str, subtype: str) -> _Part:
    """A UTF-8 text part in quoted-printable, encoded by binascii's C code (the email package's
    own quoted-printable encoder is pure Python and was most of the cost of a letter)."""
    headers = (("Content-Type", f'text/{subtype}; charset="utf-8"'), ("Content-Transfer-Encoding", "quoted-printable"))
    return headers, _crlf(binascii.b2a_qp(body.encode("utf-8")))


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
        if name == "Content-Type" and isinstance(value, str) and value.startswith("multipart/"):
            # `multipart/alternative; boundary="=_…"` is 82 columns: compat32 folds it after the
            # semicolon, when both halves fit (tests/test_core.py tries every subtype length).
            first, _, second = value.partition("; ")
            if (
                value.isascii()
                and " " not in first + second
                and len(name) + 2 + len(first) + 1 <= width
                and 1 + len(second) <= width
            ):
                return f"{name}: {first};{self.linesep} {second}{self.linesep}"
        folded: str = super()._fold(name, value, sanitize)  # type: ignore[misc]  # compat32's own folding
        return folded


_WIRE = _Wire(linesep="\r\n", max_line_length=78)
_WORD_BYTES = 36  # 48 base64 characters: "Subject: " and one encoded word stay within 78 columns


def encoded_words(text: str, linesep: str = "\r\n") -> str:
    """An unstructured header's text as RFC 2047 "B" encoded words, one per folded line.

    compat32's `Header.encode` tries every split for the shortest result and was a fifth of the cost
    of composing a letter; a word never splits a character (RFC 2047 section 5), and the folding
    white space between two words is not part of the text (section 6.2)."""
    data = " ".join(text.split()).encode("utf-8")
    words: list[bytes] = []
    start = 0
    while len(data) - start > _WORD_BYTES:
        # Cut at the last character boundary within the word: back over UTF-8 continuation bytes.
        end = start + _WORD_BYTES
        while data[end] & 0xC0 == 0x80:
            end -= 1
        words.append(data[start:end])
        start = end
    words.append(data[start:])
    return (linesep + " ").join(f"=?utf-8?b?{base64.b64encode(word).decode('ascii')}?=" for word in words)
