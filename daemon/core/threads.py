"""Threading: which registered complaint, if any, a mail is about (issue 5, point 1).

Pure: the shell looks up the register for the references and Message-IDs the mail names, and
this decides. A Message-ID we sent or registered, quoted in In-Reply-To/References, is the
strongest sign (clients keep it whatever they do to the subject); then a reference such as
[REC-2026-000042] in the subject, whatever Re:/RE :/AW:/TR:/Fwd: prefixes a client added.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from daemon.core.mail import InboundMail
from daemon.core.references import find_references

# Bounds on what one mail may make the register look up (issue 14, item 3): a mail naming 250,000
# Message-IDs made registration fail with "too many SQL variables", taken for an outage. A real
# thread's nearest ancestors are at the end of References (RFC 5322 3.6.4), a real subject names
# one or two references.
MAX_NAMED_IDS = 100
MAX_NAMED_REFERENCES = 10
# A Message-ID we copy into In-Reply-To/References: "<…>" of printable ASCII without space or
# angle bracket, and of a sane length; a control character of a customer's must not reach our
# headers. We keep the last few, which is all a client needs to thread.
_HEADER_ID = re.compile(r"<[!-;=?-~]{1,250}>")
MAX_THREAD_IDS = 10


def named_ids(mail: InboundMail) -> tuple[str, ...]:
    """The Message-IDs a reply quotes, nearest first (In-Reply-To, then References backwards),
    then those of the letters a delivery failure returns; at most MAX_NAMED_IDS of them."""
    ids = ((mail.in_reply_to,) if mail.in_reply_to else ()) + tuple(reversed(mail.references[-MAX_NAMED_IDS:]))
    return tuple(dict.fromkeys(ids + bounced_ids(mail)))[:MAX_NAMED_IDS]


# A delivery report (RFC 3464, RFC 6522) returns the failed mail, or its header section, as a part.
_STATUS_TYPES = frozenset({"message/delivery-status", "message/global-delivery-status"})
_RETURNED_TYPES = frozenset({"message/rfc822", "text/rfc822-headers", "message/global", "message/global-headers"})
_FAILED = re.compile(rb"^action:\s*failed", re.IGNORECASE | re.MULTILINE)
_QUOTED_ID = re.compile(rb"^message-id:[ \t]*(<[!-;=?-~]{1,250}>)", re.IGNORECASE | re.MULTILINE)
_STATUS_LINE = re.compile(
    rb"^(final-recipient|status|diagnostic-code):[ \t]*([^\r\n]{1,200})", re.IGNORECASE | re.MULTILINE
)


def bounced_ids(mail: InboundMail) -> tuple[str, ...]:
    """The Message-IDs of the mails a delivery FAILURE returns (a delay is not one), at most 10:
    one of ours means that letter did not reach its recipient (issue 14, item 6)."""
    if not delivery_failure(mail):
        return ()
    ids: list[str] = []
    for part in mail.attachments:
        if part.content_type in _RETURNED_TYPES:
            head = part.content[:64_000].replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
            ids += [found.decode("ascii") for found in _QUOTED_ID.findall(head)]
    return tuple(dict.fromkeys(ids))[:10]


def delivery_failure(mail: InboundMail) -> str:
    """ "Final-Recipient …; Status …; Diagnostic-Code …" when `mail` reports a failed delivery, else ""."""
    parts = [p.content[:16_000] for p in mail.attachments if p.content_type in _STATUS_TYPES]
    if not any(_FAILED.search(content) for content in parts):
        return ""
    lines = [b"%s: %s" % (name, value.strip()) for content in parts for name, value in _STATUS_LINE.findall(content)]
    return "; ".join(line.decode("utf-8", "replace") for line in lines[:6]) or "delivery failed"


def named_references(mail: InboundMail, prefix: str) -> tuple[str, ...]:
    """The complaint references the subject names, at most MAX_NAMED_REFERENCES of them."""
    return tuple(dict.fromkeys(find_references(mail.subject[:2000], prefix)))[:MAX_NAMED_REFERENCES]


def header_id(value: str | None) -> str | None:
    """`value` if it may go into a header we write (In-Reply-To, References), else None."""
    return value if value is not None and _HEADER_ID.fullmatch(value) else None


def header_ids(values: Iterable[str]) -> tuple[str, ...]:
    """The last MAX_THREAD_IDS of `values` that may go into a References header we write."""
    return tuple(value for value in values if header_id(value) is not None)[-MAX_THREAD_IDS:]


def thread_of(
    mail: InboundMail, prefix: str, by_message_id: Mapping[str, int], by_reference: Mapping[str, int]
) -> int | None:
    """The id of the complaint `mail` is about, or None for a new complaint."""
    for message_id in named_ids(mail):
        if message_id in by_message_id:
            return by_message_id[message_id]
    for reference in named_references(mail, prefix):
        if reference in by_reference:
            return by_reference[reference]
    return None
