"""Turn the raw bytes of one received message into a plain `InboundMail`, or say why it cannot be one.

This stage's sole purpose in life is `parse(raw) -> InboundMail`: no network, no disk, no clock. Every
later stage reads the frozen value it returns and never the bytes again. Its one promise is the
invariant checked by the Hypothesis test: *any bytes give an InboundMail or a MailError*, never
another exception, because one poison message must not stop the daemon.

Theory of operation
-------------------
The standard library's `email` package (policy.default, compat32 as last resort) is the main path:
it reads every corpus file, and walking its tree ourselves lets us keep a nested message/rfc822 as
one `message.eml` attachment and winmail.dat as it is. It fails per *field*, never per message, so
each field is read on its own and degrades on its own: a text part is decoded from its payload
bytes (never `get_content()`, which raises KeyError/LookupError on ~39 corpus files), an unknown
charset falls back to UTF-8 then latin-1, and a header the registry cannot parse is decoded from
its raw value. mail-parser (a chosen dependency) does the one job it does better: its tolerant
address scanner reads From/To/Reply-To where the registry raises (group syntax in two MimeKit DSNs,
CR/LF in real/enmime/mail/qp-utf8-header-recursed.raw), and its address/date/Received diagnostics
then join `defects`. It is consulted only where the stdlib fails (it parses the whole message again),
and it raises on a few malformed files (docs/notes.md), so its failure only means the stdlib's plainer
reading stands.

Only bytes that are not a message at all (empty, no header section, or nesting too deep for the
parser) raise MailError, whose reason the quarantine shows.
"""

from __future__ import annotations

import base64
import codecs
import email
import email.errors
import email.header
import email.message
import email.policy
import email.utils
import hashlib
import io
import mimetypes
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.generator import BytesGenerator
from typing import cast

import mailparser

from daemon.core.htmltext import html_to_text
from daemon.core.mail import Address, Attachment, InboundMail
from daemon.errors import MailError

__all__ = ["parse", "safe_filename"]

# What the stdlib `email` package raises on hostile input, field by field (measured on the corpus:
# KeyError, LookupError, AttributeError, ValueError; HeaderParseError is a MessageError).
_STDLIB_ERRORS = (LookupError, ValueError, TypeError, AttributeError, AssertionError, email.errors.MessageError)
_POLICIES = (email.policy.default, email.policy.compat32)
_HEADER_POLICY = email.policy.default
# A MimeTypes built without files knows only Python's own table: the same answer on every machine.
_MIMETYPES = mimetypes.MimeTypes()
_FALLBACK_EXTENSIONS = {"message/rfc822": ".eml", "message/global": ".eml", "application/ms-tnef": ".dat"}
_BOM = b"\xef\xbb\xbf"
_MAX_FILENAME = 150
_MAX_FILENAME_BYTES = 240
_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")
_MSG_ID = re.compile(r"<([^<>]*)>")
_LINE_BREAKS = re.compile(r"[\r\n]+[ \t]*")
_MIME_TYPE = re.compile(r"[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+")


def parse(raw: bytes) -> InboundMail:
    """Parse one raw message. Raises MailError only when the bytes are not a usable message at all."""
    raw = bytes(raw)
    digest = hashlib.sha256(raw).hexdigest()
    data = _prepare(raw)
    if not data.strip():
        raise MailError("the message is empty")
    helper = _SecondOpinion(data)
    failure: Exception | None = None
    for policy in _POLICIES:
        try:
            return _build(_read_tree(data, policy), digest, helper)
        except RecursionError:
            raise MailError("the MIME structure is nested too deeply to be read") from None
        except _STDLIB_ERRORS as exc:
            failure = exc
    raise MailError(f"the message structure cannot be read ({type(failure).__name__})")


def _prepare(raw: bytes) -> bytes:
    """Drop a UTF-8 BOM, leading blank lines and an mbox `From ` line; turn CR-only endings into LF."""
    data = raw.removeprefix(_BOM).lstrip(b"\r\n")
    if b"\n" not in data and b"\r" in data:
        data = data.replace(b"\r", b"\n")
    if data.startswith(b"From "):
        _, _, data = data.partition(b"\n")
    return data


class _SecondOpinion:
    """mail-parser's reading of the same bytes, made only when the stdlib needs it: it parses the
    message again, which would double the cost of every ordinary mail."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.consulted = False
        self.view: mailparser.MailParser | None = None

    def get(self, attribute: str) -> object:
        if not self.consulted:
            self.consulted, self.view = True, _mailparser_view(self.data)
        return _helper_attribute(self.view, attribute)


def _mailparser_view(data: bytes) -> mailparser.MailParser | None:
    """mail-parser's reading of the same bytes, or None when it fails on them."""
    try:
        return mailparser.parse_from_bytes(data)
    # mail-parser 4.8.0 raises uncaught AttributeError and others on malformed files (docs/notes.md);
    # this is the boundary where a third-party failure becomes "use the stdlib instead".
    except Exception:
        return None


def _read_tree(data: bytes, policy: email.policy.Policy) -> email.message.Message:
    """The MIME tree under `policy`; compat32's when policy.default lost parts that compat32 finds.

    policy.default cuts an unquoted boundary at "=" (`boundary=----=_Part_...`, three files of
    real/mikel-mail/), so the multipart becomes one text leaf; compat32 reads those boundaries."""
    msg = email.message_from_bytes(data, policy=policy)
    if policy is email.policy.default and _lost_parts(msg):
        other = email.message_from_bytes(data, policy=email.policy.compat32)
        if sum(1 for _ in other.walk()) > sum(1 for _ in msg.walk()):
            return other
    return msg


def _lost_parts(msg: email.message.Message) -> bool:
    """True when a part declares multipart/* but its boundary was not found (it is a text leaf)."""
    return any(_content_type(part).startswith("multipart/") and not part.is_multipart() for part in msg.walk())


def _build(msg: email.message.Message, digest: str, helper: _SecondOpinion) -> InboundMail:
    headers = _headers(msg)
    if not headers:
        raise MailError("no header section: the bytes are not an email message")
    first: dict[str, str] = {}
    for name, value in headers:
        first.setdefault(name.lower(), value)
    parts = _Parts()
    _collect(msg, parts, inside_attachment=False)
    if _lost_parts(msg):
        _recover_attachments(helper, parts)
    return InboundMail(
        raw_sha256=digest,
        message_id=next(iter(_ids(first.get("message-id", ""), bare=True)), None),
        sender=next(iter(_addresses(helper, msg, "from")), None),
        reply_to=next(iter(_addresses(helper, msg, "reply-to")), None),
        to=_addresses(helper, msg, "to"),
        subject=_one_line(first.get("subject", "")),
        date=_date(first.get("date"), helper),
        in_reply_to=next(iter(_ids(first.get("in-reply-to", ""))), None),
        references=_ids(first.get("references", "")),
        text_body=parts.text(),
        html_body="\n".join(parts.html),
        attachments=tuple(parts.attachments),
        headers=headers,
        content_type=_content_type(msg),
        defects=_defects(msg, helper),
    )


# --- headers -------------------------------------------------------------------------------------


def _headers(msg: email.message.Message) -> tuple[tuple[str, str], ...]:
    """Every header in order as (name, decoded value), each decoded on its own."""
    return tuple((_scrub(str(name)), _header_value(str(name), value)) for name, value in msg.raw_items())


def _header_value(name: str, raw: object) -> str:
    """The decoded, unfolded value of one header; the raw text when it cannot be decoded."""
    text = _scrub(str(raw))
    if text.isascii() and "=?" not in text:
        value = text  # the common case; the header registry would cost ~0.2 ms a header for nothing
    else:
        try:
            value = str(_HEADER_POLICY.header_fetch_parse(name, text))
        except _STDLIB_ERRORS:
            value = _decode_words(text)
    return _scrub(_LINE_BREAKS.sub(" ", value)).strip()


def _decode_words(text: str) -> str:
    """Decode RFC 2047 encoded-words in `text`; return it unchanged if they cannot be decoded."""
    if "=?" not in text:
        return text
    try:
        return str(email.header.make_header(email.header.decode_header(text)))
    except _STDLIB_ERRORS:
        return text


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _scrub(text: str) -> str:
    """Text safe to store: no NUL, no lone surrogates (raw 8-bit bytes become UTF-8 or latin-1 text)."""
    text = text.replace("\x00", "")
    if not _SURROGATE.search(text):
        return text
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8")
    except UnicodeError:
        text = _ESCAPED_BYTE.sub(lambda m: chr(ord(m.group()) - 0xDC00), text)
        return _SURROGATE.sub("\ufffd", text)


def _ids(value: str, bare: bool = False) -> tuple[str, ...]:
    """Message-IDs in a header value as "<id>" (RFC 5322 3.6.4); bare ids are accepted if they hold
    an "@" (or, for Message-ID itself, whatever single token is there)."""
    found = ["<" + "".join(inner.split()) + ">" for inner in _MSG_ID.findall(value) if inner.strip()]
    if found:
        return tuple(found)
    tokens = [token.strip("<>,;") for token in value.split()]
    tokens = [token for token in tokens if "<" not in token and ">" not in token]
    if bare and len(tokens) == 1:
        return (f"<{tokens[0]}>",) if tokens[0] else ()
    return tuple(f"<{token}>" for token in tokens if "@" in token.strip("@"))


def _date(value: str | None, helper: _SecondOpinion) -> datetime | None:
    """The Date header as an aware datetime (a naive one is taken as UTC), else mail-parser's reading."""
    if value:
        try:
            parsed = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            parsed = None
        if parsed is not None:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    fallback = helper.get("date")
    return fallback if isinstance(fallback, datetime) and fallback.tzinfo else None


# --- addresses -----------------------------------------------------------------------------------


def _helper_attribute(helper: object, attribute: str) -> object:
    """One value read from mail-parser, or None when it has none or fails to give it."""
    if helper is None:
        return None
    try:
        return getattr(helper, attribute)
    # mail-parser computes some values lazily; the same boundary as `_mailparser_view` applies.
    except Exception:
        return None


def _addresses(helper: _SecondOpinion, msg: email.message.Message, name: str) -> tuple[Address, ...]:
    """The usable addresses of header `name`: the header registry's reading; where it raises or
    finds nothing usable, mail-parser's tolerant scanner, then the stdlib's plain getaddresses."""
    raw = next((str(value) for key, value in msg.raw_items() if key.lower() == name), None)
    if raw is None:
        return ()
    text = _scrub(raw)
    try:
        header = _HEADER_POLICY.header_fetch_parse(name, text)
        found = _usable([(item.display_name, item.addr_spec) for item in header.addresses])
    except _STDLIB_ERRORS:
        found = ()
    if found:
        return found
    pairs = helper.get(name.replace("-", "_") + "_")
    found = _usable(pairs) if isinstance(pairs, list) else ()
    return found or _usable(_plain_pairs(text))


def _plain_pairs(text: str) -> list[tuple[str, str]]:
    try:
        return email.utils.getaddresses([_decode_words(text)])
    except _STDLIB_ERRORS:
        return []


def _usable(pairs: Iterable[object]) -> tuple[Address, ...]:
    found = []
    for pair in pairs or ():
        if isinstance(pair, (tuple, list)) and len(pair) == 2:
            address = _address(str(pair[0] or ""), str(pair[1] or ""))
            if address is not None:
                found.append(address)
    return tuple(found)


def _address(name: str, addr: str) -> Address | None:
    """An Address when `addr` looks like local@domain with no space or control character, else None."""
    addr = _scrub(addr).strip()
    local, _, domain = addr.rpartition("@")
    if not local or not domain or any(ch.isspace() or ch in "<>" or not ch.isprintable() for ch in addr):
        return None
    name = _one_line(_scrub(_decode_words(name))).strip("\"' ")
    return Address(name="" if name == addr else name, email=addr)


# --- MIME tree: bodies and attachments ----------------------------------------------------------


@dataclass
class _Parts:
    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)

    def text(self) -> str:
        text = "\n".join(self.plain)
        if not text.strip() and self.html:
            return html_to_text("\n".join(self.html))
        return text


def _collect(part: email.message.Message, parts: _Parts, inside_attachment: bool) -> None:
    """Walk the tree: text/plain and text/html parts are the body, everything else an attachment.

    A message/* part is one attachment (its inner parts are not our bodies); the children of a
    multipart declared as an attachment are all attachments (RFC 2183 2.9)."""
    ctype = _content_type(part)
    disposition = _disposition(part)
    if ctype.startswith("message/"):
        parts.attachments.append(_attachment(part, ctype, _message_bytes(part), len(parts.attachments)))
    elif part.is_multipart():
        for child in part.get_payload():  # a multipart's payload is its list of sub-messages
            _collect(cast(email.message.Message, child), parts, inside_attachment or disposition == "attachment")
    elif inside_attachment or disposition == "attachment" or _filename(part) or not _is_body(ctype):
        parts.attachments.append(_attachment(part, ctype, _payload_bytes(part), len(parts.attachments)))
    elif ctype == "text/html":
        parts.html.append(_part_text(part))
    else:
        parts.plain.append(_part_text(part))


def _recover_attachments(helper: _SecondOpinion, parts: _Parts) -> None:
    """Add the attachments mail-parser recovered from a broken multipart that the stdlib missed.

    When a nested multipart reuses its parent's boundary (real/cpython/msg_15.txt,
    real/spamscope-mail-parser/mail_malformed_1) Python leaves the parts inside one text leaf;
    mail-parser digs them out of the epilogue."""
    known = {attachment.sha256 for attachment in parts.attachments}
    found = helper.get("attachments")
    for item in found if isinstance(found, list) else ():
        ctype = _content_type_text(str(item.get("mail_content_type") or "application/octet-stream"))
        content = _mailparser_payload(item)
        if content is None or ctype.startswith("multipart/") or hashlib.sha256(content).hexdigest() in known:
            continue
        known.add(hashlib.sha256(content).hexdigest())
        name = _decode_words(_scrub(str(item.get("filename") or "")))
        parts.attachments.append(Attachment(safe_filename(name, ctype, len(parts.attachments) + 1), ctype, content))


def _mailparser_payload(item: dict) -> bytes | None:
    payload = item.get("payload")
    if not isinstance(payload, str):
        return None
    if item.get("binary"):
        letters = re.sub(r"[^A-Za-z0-9+/]", "", payload)
        try:
            return base64.b64decode(letters + "=" * (-len(letters) % 4))
        except ValueError:
            pass  # Not base64 after all: keep the text as it came.
    return _scrub(payload).encode("utf-8")


def _is_body(ctype: str) -> bool:
    # A multipart/* leaf is a multipart whose boundary is broken: its raw text is the best body left.
    return ctype in ("text/plain", "text/html") or ctype.startswith("multipart/")


def _attachment(part: email.message.Message, ctype: str, content: bytes, count: int) -> Attachment:
    return Attachment(filename=safe_filename(_filename(part), ctype, count + 1), content_type=ctype, content=content)


def _content_type(part: email.message.Message) -> str:
    """The part's clean MIME type, computed once per part (policy.default re-parses the header on
    every read, and the tree walk asks several times)."""
    cached = part.__dict__.get("_complaintsd_type")
    if cached is None:
        try:
            cached = _content_type_text(part.get_content_type())
        except _STDLIB_ERRORS:
            cached = "text/plain"
        part.__dict__["_complaintsd_type"] = cached
    return cached


def _content_type_text(ctype: str) -> str:
    """A clean "type/subtype", "text/plain" (RFC 2045 5.2) when there is none.

    Keeps "multipart/mixed" of "multipart/mixed\tboundary=..." (a missing ";",
    real/stalwart-mail-parser/malformed/017.eml)."""
    token = re.split(r"[\s;]", ctype.strip().lower(), maxsplit=1)[0]
    return token if _MIME_TYPE.fullmatch(token) else "text/plain"


def _disposition(part: email.message.Message) -> str | None:
    try:
        return part.get_content_disposition()
    except _STDLIB_ERRORS:
        return None


def _filename(part: email.message.Message) -> str | None:
    """The declared file name (RFC 2231 and RFC 2047 decoded), from Content-Disposition or Content-Type.

    policy.default loses a name written as an unquoted encoded-word (`filename==?utf-8?B?...?=`,
    real/mikel-mail/attachment_emails/attachment_with_base64_encoded_name.eml), so a compat32 view
    of the same two headers is asked next."""
    for reader in (part, _compat_view(part)):
        try:
            name = reader.get_filename()
        except _STDLIB_ERRORS:
            continue
        if name and str(name).strip():
            return _decode_words(_scrub(str(name)))
    return None


def _compat_view(part: email.message.Message) -> email.message.Message:
    view = email.message.Message(policy=email.policy.compat32)
    for name, value in part.raw_items():
        if name.lower() in ("content-type", "content-disposition"):
            view[name] = _scrub(str(value))
    return view


def _payload_bytes(part: email.message.Message) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except _STDLIB_ERRORS:
        payload = None
    if isinstance(payload, bytes):
        return payload
    return _scrub(str(part.get_payload() or "")).encode("utf-8") if not part.is_multipart() else b""


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
    except _STDLIB_ERRORS:
        return _scrub(str(msg.get_payload() if not msg.is_multipart() else "")).encode("utf-8")
    return buffer.getvalue()


def _part_text(part: email.message.Message) -> str:
    text = _decode_bytes(_payload_bytes(part), _charset(part))
    return _scrub(text.replace("\r\n", "\n").replace("\r", "\n"))


def _charset(part: email.message.Message) -> str | None:
    try:
        return part.get_content_charset()
    except _STDLIB_ERRORS:
        return None


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


def _defects(msg: email.message.Message, helper: _SecondOpinion) -> tuple[str, ...]:
    """Names of the defects Python's parser recorded, then mail-parser's diagnostics if it was asked."""
    names: list[str] = []
    for part in msg.walk():
        for defect in part.defects:
            if type(defect).__name__ not in names:
                names.append(type(defect).__name__)
    extra = helper.get("defects_categories") if helper.consulted else ()
    names.extend(sorted(str(name) for name in cast("Iterable[object]", extra or ()) if name not in names))
    return tuple(names)


# --- file names ------------------------------------------------------------------------------------


def safe_filename(name: str | None, content_type: str, number: int) -> str:
    """A file name safe to show and to store, never empty.

    Decoded, NFC-normalised, without directory part (`../../etc/passwd` -> `passwd`), with control,
    format (bidi overrides) and `/ \\ : * ? " < > |` characters replaced, leading dots removed, and
    capped at ~150 characters keeping the extension. Without a usable name: `message.eml` for a
    nested message, else `attachment-<number><extension guessed from the content type>`."""
    text = unicodedata.normalize("NFC", _decode_words(_scrub(name or "")))
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
