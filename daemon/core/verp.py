"""VERP: a return path that names the letter, so a bounce is matched even when it quotes nothing.

Many relays return a delivery failure as a bare text, or without our headers (issue 14, item 6);
the one thing every bounce keeps is its envelope recipient, our return path. So each letter leaves
with `reclamations+b.<outbox id>.<check>@domain` (Mailman's app/bounces.py shape), and a robot's
mail that arrives at such an address is matched to that letter. `<check>` is a short HMAC of the
outbox id keyed by the letter's own Message-ID: known only to its recipient (who sees the return
path anyway), so nobody can forge the address of another letter; no key to keep or rotate.

A mail to that address is a bounce only if it looks like one: a report that says "delayed" or an
RFC 3834 auto-reply (a vacation program answering the return path) is only kept, never a failure
(docs/style.md item 13: a token match without a failure is probably a vacation reply).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

from daemon.core.mail import InboundMail
from daemon.core.threads import delivery_failure

CHECK_LENGTH = 8  # base32 characters: 40 bits, forged once in a trillion tries
MAX_CLAIMS = 10  # return paths read from one mail: bounded before they reach SQL
# Where a bounce keeps its envelope recipient: the headers delivery agents add, and the To most
# relays write. A returned copy of our letter may also carry our Return-Path.
_RECIPIENT_HEADERS = frozenset(
    {"to", "cc", "delivered-to", "x-original-to", "envelope-to", "x-envelope-to", "x-delivered-to", "received"}
)
_RETURNED_TYPES = frozenset({"message/rfc822", "text/rfc822-headers", "message/global", "message/global-headers"})
_STATUS_TYPES = frozenset({"message/delivery-status", "message/global-delivery-status"})


@dataclass(frozen=True)
class Letter:
    """An outbox row a return path names: what a match needs to check it and to mark it failed."""

    message_id: str
    complaint_id: int | None


@dataclass(frozen=True)
class Claim:
    """An outbox id and check read from an address, not yet checked."""

    outbox_id: int
    check: str


def check_of(outbox_id: int, message_id: str) -> str:
    digest = hmac.new(message_id.encode("utf-8"), f"b.{outbox_id}".encode("ascii"), hashlib.sha256).digest()
    return base64.b32encode(digest).decode("ascii").lower()[:CHECK_LENGTH]


def return_path(mail_from: str, outbox_id: int, message_id: str, delimiter: str) -> str:
    """The envelope sender of outbox row `outbox_id`: `local<delimiter>b.<id>.<check>@domain`."""
    local, _, domain = mail_from.rpartition("@")
    return f"{local}{delimiter}b.{outbox_id}.{check_of(outbox_id, message_id)}@{domain}"


def _pattern(own: str, delimiter: str) -> re.Pattern[str]:
    local, _, domain = own.rpartition("@")
    return re.compile(
        rf"{re.escape(local)}{re.escape(delimiter)}b\.(\d{{1,18}})\.([a-z2-7]{{{CHECK_LENGTH}}})@{re.escape(domain)}",
        re.IGNORECASE,
    )


def claims(mail: InboundMail, own: str, delimiter: str) -> tuple[Claim, ...]:
    """The return paths of ours that `mail` is addressed to (its recipient headers, and the header
    section of a copy it returns), unchecked; at most MAX_CLAIMS."""
    pattern = _pattern(own, delimiter)
    texts = [value[:4000] for name, value in mail.headers if name.lower() in _RECIPIENT_HEADERS]
    for part in mail.attachments:
        if part.content_type in _RETURNED_TYPES:
            head = part.content[:64_000].replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
            texts.append(head.decode("ascii", "replace"))
    found = [Claim(int(m.group(1)), m.group(2).lower()) for text in texts for m in pattern.finditer(text)]
    return tuple(dict.fromkeys(found))[:MAX_CLAIMS]


def returned(mail: InboundMail, letters: dict[int, Letter], own: str, delimiter: str) -> tuple[Letter, ...]:
    """Our letters that `mail`, a robot's, reports undelivered through their return path: the claims
    whose check holds (a forged address names no letter), when the mail is a failure."""
    if not _failure(mail):
        return ()
    found = []
    for claim in claims(mail, own, delimiter):
        letter = letters.get(claim.outbox_id)
        if letter is not None and hmac.compare_digest(check_of(claim.outbox_id, letter.message_id), claim.check):
            found.append(letter)
    return tuple(dict.fromkeys(found))


def _failure(mail: InboundMail) -> bool:
    """A report says itself whether delivery failed (RFC 3464 Action); a bare text at our return
    path is a failure unless it is an RFC 3834 auto-reply (a vacation program)."""
    if any(part.content_type in _STATUS_TYPES for part in mail.attachments):
        return bool(delivery_failure(mail))
    return (mail.header("Auto-Submitted") or "").strip().lower().split(";")[0] != "auto-replied"
