"""Walk the MIME tree of one parsed message into its body text and its attachments, with safe file names.

`parsing.parse` reads the header section and builds the `InboundMail`; this module reads the parts below it,
each on its own: a text part is decoded from its payload bytes with a charset fallback, a message/* part is
kept whole as one attachment. It also holds the text helpers both share (`scrub`, `decode_words`).
"""

from __future__ import annotations

import codecs
import email
import email.errors
import email.header
import email.message
import email.policy
import io
import mimetypes
import re
import unicodedata
from dataclasses import dataclass, field
from email.generator import BytesGenerator
from typing import cast

from daemon.core.htmltext import html_to_text
from daemon.core.mail import Attachment

__all__ = [
    "STDLIB_ERRORS",
    "Parts",
    "clean_mime_type",
    "collect",
    "decode_text",
    "decode_words",
    "mime_type",
    "safe_filename",
    "scrub",
]

# What the stdlib `email` package raises on hostile input, field by field (measured on the corpus:
# KeyError, LookupError, AttributeError, ValueError; HeaderParseError is a MessageError).
STDLIB_ERRORS = (LookupError, ValueError, TypeError, AttributeError, AssertionError, email.errors.MessageError)
# A MimeTypes built without files knows only Python's own table: the same answer on every machine.
_MIMETYPES = mimetypes.MimeTypes()
_FALLBACK_EXTENSIONS = {"message/rfc822": ".eml", "message/global": ".eml", "application/ms-tnef": ".dat"}
_MAX_FILENAME = 150
_MAX_FILENAME_BYTES = 240
_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")
_MIME_TYPE = re.compile(r"[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+")


# --- text ------------------------------------------------------------------------------------------


def decode_words(text: str) -> str:
    """Decode RFC 2047 encoded-words in `text`; return it unchanged if they cannot be decoded."""
    if "=?" not in text:
        return text
    try:
        return str(email.header.make_header(email.header.decode_header(text)))
    except STDLIB_ERRORS:
        return text


def scrub(text: str) -> str:
    """Text safe to store: no NUL, no lone surrogates (raw 8-bit bytes become UTF-8 or latin-1 text)."""
    text = text.replace("\x00", "")
    if not _SURROGATE.search(text):
        return text
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8")
    except UnicodeError:
        text = _ESCAPED_BYTE.sub(lambda m: chr(ord(m.group()) - 0xDC00), text)
        return _SURROGATE.sub("\ufffd", text)


# --- MIME tree: bodies and attachments ----------------------------------------------------------


@dataclass
class Parts:
    """What the walk found: the plain and HTML body parts in order, and the attachments."""

    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)

    def text(self) -> str:
        text = "\n".join(self.plain)
        if not text.strip() and self.html:
            return html_to_text("\n".join(self.html))
        return text


def collect(part: email.message.Message, parts: Parts, inside_attachment: bool) -> None:
    """Walk the tree: text/plain and text/html parts are the body, everything else an attachment.

    A message/* part is one attachment (its inner parts are not our bodies); the children of a
    multipart declared as an attachment are all attachments (RFC 2183 2.9)."""
    ctype = mime_type(part)
    disposition = _disposition(part)
    if ctype.startswith("message/"):
        parts.attachments.append(_attachment(part, ctype, _message_bytes(part), len(parts.attachments)))
    elif part.is_multipart():
        for child in part.get_payload():  # a multipart's payload is its list of sub-messages
            collect(cast(email.message.Message, child), parts, inside_attachment or disposition == "attachment")
    elif inside_attachment or disposition == "attachment" or _filename(part) or not _is_body(ctype):
        parts.attachments.append(_attachment(part, ctype, _payload_bytes(part), len(parts.attachments)))
    elif ctype == "text/html":
        parts.html.append(_part_text(part))
    else:
        parts.plain.append(_part_text(part))


def _is_body(ctype: str) -> bool:
    # A multipart/* leaf is a multipart whose boundary is broken: its raw text is the best body left.
    return ctype in ("text/plain", "text/html") or ctype.startswith("multipart/")


def _attachment(part: email.message.Message, ctype: str, content: bytes, count: int) -> Attachment:
    return Attachment(filename=safe_filename(_filename(part), ctype, count + 1), content_type=ctype, content=content)


def mime_type(part: email.message.Message) -> str:
    """The part's clean MIME type, computed once per part (policy.default re-parses the header on
    every read, and the tree walk asks several times)."""
    cached = part.__dict__.get("_complaintsd_type")
    if cached is None:
        try:
            cached = clean_mime_type(part.get_content_type())
        except STDLIB_ERRORS:
            cached = "text/plain"
        part.__dict__["_complaintsd_type"] = cached
    return cached


def clean_mime_type(ctype: str) -> str:
    """A clean "type/subtype", "text/plain" (RFC 2045 5.2) when there is none.

    Keeps "multipart/mixed" of "multipart/mixed\tboundary=..." (a missing ";",
    real/stalwart-mail-parser/malformed/017.eml)."""
    token = re.split(r"[\s;]", ctype.strip().lower(), maxsplit=1)[0]
    return token if _MIME_TYPE.fullmatch(token) else "text/plain"


def _disposition(part: email.message.Message) -> str | None:
    try:
        return part.get_content_disposition()
    except STDLIB_ERRORS:
        return None


def _filename(part: email.message.Message) -> str | None:
    """The declared file name (RFC 2231 and RFC 2047 decoded), from Content-Disposition or Content-Type.

    policy.default loses a name written as an unquoted encoded-word (`filename==?utf-8?B?...?=`,
    real/mikel-mail/attachment_emails/attachment_with_base64_encoded_name.eml), so a compat32 view
    of the same two headers is asked next."""
    for reader in (part, _compat_view(part)):
        try:
            name = reader.get_filename()
        except STDLIB_ERRORS:
            continue
        if name and str(name).strip():
            return decode_words(scrub(str(name)))
    return None


def _compat_view(part: email.message.Message) -> email.message.Message:
    view = email.message.Message(policy=email.policy.compat32)
    for name, value in part.raw_items():
        if name.lower() in ("content-type", "content-disposition"):
            view[name] = scrub(str(value))
    return view


def _payload_bytes(part: email.message.Message) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except STDLIB_ERRORS:
        payload = None
    if isinstance(payload, bytes):
        return payload
    return scrub(str(part.get_payload() or "")).encode("utf-8") if not part.is_multipart() else b""


def _message_bytes(part: email.message.Message) -> bytes:
    """The content of a message/* part: the nested message (or DSN fields) as bytes."""
    payload = part.get_payload()
    if not isinstance(payload, list):
        return _payload_bytes(part)
    return b"\n".join(_flatten(inner) for inner in payload if isinstance(inner, email.message.Message))


def _flatten(msg: email.message.Message) -> bytes:
    buffer = io.BytesIO()
    try:
        policy = msg.policy.clone(max_line_length=0, linesep="\n")
        BytesGenerator(buffer, mangle_from_=False, policy=policy).flatten(msg)
    except STDLIB_ERRORS:
        return scrub(str(msg.get_payload() if not msg.is_multipart() else "")).encode("utf-8")
    return buffer.getvalue()


def _part_text(part: email.message.Message) -> str:
    text = _decode_bytes(_payload_bytes(part), _charset(part))
    return scrub(text.replace("\r\n", "\n").replace("\r", "\n"))


def _charset(part: email.message.Message) -> str | None:
    try:
        return part.get_content_charset()
    except STDLIB_ERRORS:
        return None


def decode_text(data: bytes, charset: str | None) -> str:
    """Text bytes in a declared charset, decoded as a body part's are (never raises)."""
    return _decode_bytes(data, charset)


def _decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode with the declared charset, else UTF-8, else latin-1 (which never fails)."""
    codec = _codec(charset)
    for candidate in (codec, "utf-8"):
        if candidate:
            try:
                return data.decode(candidate)
            except (UnicodeError, LookupError):
                pass
    if codec is None or codec == "ascii":
        return data.decode("latin-1")
    return data.decode(codec, errors="replace")


def _codec(charset: str | None) -> str | None:
    """Python's codec for a MIME charset name, or None (`fakescii`, `charset=us-ascii`, `rot13`...)."""
    if not charset:
        return None
    name = charset.strip().strip("\"'").lower().removeprefix("charset=")
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError, TypeError):
        return None
    return info.name if getattr(info, "_is_text_encoding", True) else None


# --- file names ------------------------------------------------------------------------------------


def safe_filename(name: str | None, content_type: str, number: int) -> str:
    """A file name safe to show and to store, never empty.

    Decoded, NFC-normalised, without directory part (`../../etc/passwd` -> `passwd`), with control,
    format (bidi overrides) and `/ \\ : * ? " < > |` characters replaced, leading dots removed, and
    capped at ~150 characters keeping the extension. Without a usable name: `message.eml` for a
    nested message, else `attachment-<number><extension guessed from the content type>`."""
    text = unicodedata.normalize("NFC", decode_words(scrub(name or "")))
    text = re.split(r"[/\\]", text)[-1]
    text = "".join("_" if _unsafe(ch) else ch for ch in text)
    text = _shorten(text.strip().lstrip(".").rstrip(". ").strip())
    if text.strip("_"):
        return text
    if content_type in ("message/rfc822", "message/global"):
        return "message.eml"
    return f"attachment-{number}{_extension(content_type)}"


def _unsafe(ch: str) -> bool:
    return ch in '/\\:*?"<>|' or unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp")


def _shorten(text: str) -> str:
    if len(text) <= _MAX_FILENAME and len(text.encode("utf-8")) <= _MAX_FILENAME_BYTES:
        return text
    stem, dot, ext = text.rpartition(".")
    if not dot or not stem or len(ext) > 16:
        stem, ext = text, ""
    suffix = f".{ext}" if ext else ""
    stem = stem[: _MAX_FILENAME - len(suffix)]
    while len((stem + suffix).encode("utf-8")) > _MAX_FILENAME_BYTES:
        stem = stem[:-1]
    return stem.rstrip(". ") + suffix


def _extension(content_type: str) -> str:
    if content_type in _FALLBACK_EXTENSIONS:
        return _FALLBACK_EXTENSIONS[content_type]
    if content_type.startswith(("message/", "text/")):
        return _MIMETYPES.guess_extension(content_type) or ".txt"
    return _MIMETYPES.guess_extension(content_type) or ".bin"
