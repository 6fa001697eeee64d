"""Turn the raw bytes of one received message into a plain `InboundMail`, or say why it cannot be one.

This stage's sole purpose in life is `parse(raw) -> InboundMail`: no network, no disk, no clock. Every
later stage reads the frozen value it returns and never the bytes again. Its one promise is the
invariant checked by the Hypothesis test: *any bytes give an InboundMail or a MailError*, never
another exception, because one poison message must not stop the daemon.

Theory of operation
-------------------
The standard library's `email` package (policy.default, compat32 as last resort) is the main path:
it reads every corpus file, and walking its tree ourselves lets us keep a nested message/rfc822 as
one `message.eml` attachment and winmail.dat as it is (its files then unpacked beside it by
`tnef.py`). It fails per *field*, never per message, so each field is read on its own and degrades
on its own: a text part is decoded from its payload bytes (never `get_content()`, which raises
KeyError/LookupError on ~39 corpus files), an unknown charset falls back to UTF-8 then latin-1,
and a header the registry cannot parse is decoded from
its raw value. mail-parser (a chosen dependency) does the one job it does better: its tolerant
address scanner reads From/To/Reply-To where the registry raises (group syntax in two MimeKit DSNs,
CR/LF in real/enmime/mail/qp-utf8-header-recursed.raw), and its address/date/Received diagnostics
then join `defects`. It is consulted only where the stdlib fails (it parses the whole message again),
and it raises on a few malformed files (docs/notes.md), so its failure only means the stdlib's plainer
reading stands.

The tree walk (bodies, attachments, charsets, file names) is `mime.py`; this module reads the
header section, asks mail-parser where the stdlib fails, and builds the `InboundMail`.
A message with a large base64 body (a 30 MB video) is parsed with that body lifted out and decoded
once from the bytes (`big_parts.py`), when that gives exactly what the ordinary parse would.

Only bytes that are not a message at all (empty, no header section, or nesting too deep for the
parser) raise MailError, whose reason the quarantine shows.
"""

from __future__ import annotations

import base64
import email
import email.message
import email.policy
import email.utils
import functools
import hashlib
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    import mailparser

from daemon.core.big_parts import Lifted, lifted, restore
from daemon.core.mail import Address, Attachment, InboundMail
from daemon.core.mime import (
    STDLIB_ERRORS,
    Parts,
    clean_mime_type,
    collect,
    decode_words,
    mime_type,
    safe_filename,
    scrub,
)
from daemon.core.tnef import unpack_tnef
from daemon.errors import MailError

__all__ = ["parse", "safe_filename"]


class _RememberingPolicy(email.policy.EmailPolicy):
    """policy.default that parses a header once per distinct (name, value).

    policy.default builds a header object on every read, and the feed parser reads each part's
    Content-Type several times: two thirds of parsing a complaint went there. The same few values
    (Content-Type, Content-Transfer-Encoding, MIME-Version…) recur from one mail to the next, and
    a header object is read-only once built, so one object serves them all."""

    def header_fetch_parse(self, name: str, value: str) -> Any:
        if hasattr(value, "name"):
            return value
        if len(value) > _REMEMBERED_LENGTH:  # a long one is rare, and would hold memory in the cache
            return super().header_fetch_parse(name, value)
        return _parsed_header(self, name, value)


_REMEMBERED_LENGTH = 512


@functools.lru_cache(maxsize=4096)
def _parsed_header(policy: email.policy.EmailPolicy, name: str, value: str) -> Any:
    return email.policy.EmailPolicy.header_fetch_parse(policy, name, value)


_DEFAULT = _RememberingPolicy()
_POLICIES = (_DEFAULT, email.policy.compat32)
_HEADER_POLICY = _DEFAULT
_BOM = b"\xef\xbb\xbf"
_MSG_ID = re.compile(r"<([^<>]*)>")
_LINE_BREAKS = re.compile(r"[\r\n]+[ \t]*")


def parse(raw: bytes) -> InboundMail:
    """Parse one raw message. Raises MailError only when the bytes are not a usable message at all."""
    raw = bytes(raw)
    digest = hashlib.sha256(raw).hexdigest()
    data = _prepare(raw)
    if not data or data.isspace():  # not data.strip(): a copy of the whole message
        raise MailError("the message is empty")
    data, mended = _mend_header_section(data)
    lift = lifted(data)
    if lift is not None and (mail := _parse_lifted(data, lift, digest, mended)) is not None:
        return mail
    helper = _SecondOpinion(data)
    failure: Exception | None = None
    for policy in _POLICIES:
        try:
            return _build(_read_tree(data, policy), digest, helper, mended=mended)
        except RecursionError:
            raise MailError("the MIME structure is nested too deeply to be read") from None
        except STDLIB_ERRORS as exc:
            failure = exc
    raise MailError(f"the message structure cannot be read ({type(failure).__name__})")


def _parse_lifted(data: bytes, lift: Lifted, digest: str, mended: tuple[str, ...]) -> InboundMail | None:
    """The mail read from the skeleton with its large base64 bodies lifted out (big_parts.py), or
    None when that reading is not exactly the ordinary one: the caller then parses `data` whole."""
    try:
        msg = _read_tree(lift.skeleton, _DEFAULT)
        if _lost_parts(msg):
            return None
        return _build(msg, digest, _SecondOpinion(lift.skeleton), lambda parts: restore(data, lift, parts), mended)
    except (_NotLifted, RecursionError, *STDLIB_ERRORS):
        return None


class _NotLifted(Exception):
    """The lifted reading differs from the ordinary one (big_parts.restore said so)."""


def _prepare(raw: bytes) -> bytes:
    """Drop a UTF-8 BOM, leading blank lines and an mbox `From ` line; turn CR-only endings into LF."""
    data = raw.removeprefix(_BOM).lstrip(b"\r\n")
    if b"\n" not in data and b"\r" in data:
        data = data.replace(b"\r", b"\n")
    if data.startswith(b"From "):
        _, _, data = data.partition(b"\n")
    return data


# A header field's first line ("Name:"), and the fields a real header section is known by.
_FIELD_LINE = re.compile(rb"[\x21-\x39\x3b-\x7e]+:")
_KNOWN_FIELD = re.compile(
    rb"(?i)(from|to|cc|subject|date|message-id|received|return-path|delivered-to|reply-to|mime-version"
    rb"|content-type|in-reply-to|references|x-[\x21-\x39\x3b-\x7e]+):"
)
_HEAD_END = re.compile(rb"\r?\n\r?\n")
_STRAY_LINE = "StrayHeaderLineDropped"


def _mend_header_section(data: bytes) -> tuple[bytes, tuple[str, ...]]:
    """Drop the stray lines of a header section ("quite Delivered-To: …", neither a field nor its
    continuation) that fields come before and known fields after: Python's parser would end the
    header section there, so the From below became text and a customer's mail had no sender. The stored bytes
    keep every line; the parse says `StrayHeaderLineDropped` among its defects."""
    end = _HEAD_END.search(data)
    head = data[: end.start()] if end else data
    lines = head.split(b"\n")
    stray = [i for i, line in enumerate(lines) if line[:1] not in (b" ", b"\t") and not _FIELD_LINE.match(line)]
    if not stray or stray[0] == 0 or not any(_KNOWN_FIELD.match(line) for line in lines[stray[0] + 1 :]):
        return data, ()
    dropped = set(stray)
    kept = b"\n".join(line for i, line in enumerate(lines) if i not in dropped)
    return kept + data[len(head) :], (_STRAY_LINE,)


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
    """mail-parser's reading of the same bytes, or None when it fails on them. Imported here: few
    mails need it, and importing it was 22 ms of the daemon's 0.75 s start."""
    import mailparser

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
    if policy is _DEFAULT and _lost_parts(msg):
        other = email.message_from_bytes(data, policy=email.policy.compat32)
        if sum(1 for _ in other.walk()) > sum(1 for _ in msg.walk()):
            return other
    return msg


def _lost_parts(msg: email.message.Message) -> bool:
    """True when a part declares multipart/* but its boundary was not found (it is a text leaf)."""
    return any(mime_type(part).startswith("multipart/") and not part.is_multipart() for part in msg.walk())


def _build(
    msg: email.message.Message,
    digest: str,
    helper: _SecondOpinion,
    restored: Callable[[Parts], bool] = lambda parts: True,
    mended: tuple[str, ...] = (),
) -> InboundMail:
    headers = _headers(msg)
    if not headers:
        raise MailError("no header section: the bytes are not an email message")
    first: dict[str, str] = {}
    for name, value in headers:
        first.setdefault(name.lower(), value)
    parts = Parts()
    collect(msg, parts, inside_attachment=False)
    if not restored(parts):
        raise _NotLifted
    if _lost_parts(msg):
        _recover_attachments(helper, parts)
    tnef_defects = unpack_tnef(parts)
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
        content_type=mime_type(msg),
        defects=mended + _defects(msg, helper) + tnef_defects,
    )


# --- headers -------------------------------------------------------------------------------------


def _headers(msg: email.message.Message) -> tuple[tuple[str, str], ...]:
    """Every header in order as (name, decoded value), each decoded on its own."""
    return tuple((scrub(str(name)), _header_value(str(name), value)) for name, value in msg.raw_items())


def _header_value(name: str, raw: object) -> str:
    """The decoded, unfolded value of one header; the raw text when it cannot be decoded."""
    text = scrub(str(raw))
    if text.isascii() and "=?" not in text:
        value = text  # the common case; the header registry would cost ~0.2 ms a header for nothing
    else:
        try:
            value = str(_HEADER_POLICY.header_fetch_parse(name, text))
        except STDLIB_ERRORS:
            value = decode_words(text)
    return scrub(_LINE_BREAKS.sub(" ", value)).strip()


def _one_line(text: str) -> str:
    return " ".join(text.split())


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
    text = scrub(raw)
    try:
        header = _HEADER_POLICY.header_fetch_parse(name, text)
        found = _usable([(item.display_name, item.addr_spec) for item in header.addresses])
    except STDLIB_ERRORS:
        found = ()
    if found:
        return found
    pairs = helper.get(name.replace("-", "_") + "_")
    found = _usable(pairs) if isinstance(pairs, list) else ()
    return found or _usable(_plain_pairs(text))


def _plain_pairs(text: str) -> list[tuple[str, str]]:
    try:
        return email.utils.getaddresses([decode_words(text)])
    except STDLIB_ERRORS:
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
    addr = scrub(addr).strip()
    local, _, domain = addr.rpartition("@")
    if not local or not domain or any(ch.isspace() or ch in "<>" or not ch.isprintable() for ch in addr):
        return None
    name = _one_line(scrub(decode_words(name))).strip("\"' ")
    return Address(name="" if name == addr else name, email=addr)


# --- attachments the stdlib missed ---------------------------------------------------------------


def _recover_attachments(helper: _SecondOpinion, parts: Parts) -> None:
    """Add the attachments mail-parser recovered from a broken multipart that the stdlib missed.

    When a nested multipart reuses its parent's boundary (real/cpython/msg_15.txt,
    real/spamscope-mail-parser/mail_malformed_1) Python leaves the parts inside one text leaf;
    mail-parser digs them out of the epilogue."""
    known = {attachment.sha256 for attachment in parts.attachments}
    found = helper.get("attachments")
    for item in found if isinstance(found, list) else ():
        ctype = clean_mime_type(str(item.get("mail_content_type") or "application/octet-stream"))
        content = _mailparser_payload(item)
        if content is None or ctype.startswith("multipart/") or hashlib.sha256(content).hexdigest() in known:
            continue
        known.add(hashlib.sha256(content).hexdigest())
        name = decode_words(scrub(str(item.get("filename") or "")))
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
    return scrub(payload).encode("utf-8")


# --- defects -------------------------------------------------------------------------------------


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
