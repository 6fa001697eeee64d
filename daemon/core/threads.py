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
    at most MAX_NAMED_IDS of them."""
    ids = ((mail.in_reply_to,) if mail.in_reply_to else ()) + tuple(reversed(mail.references[-MAX_NAMED_IDS:]))
    return tuple(dict.fromkeys(ids))[:MAX_NAMED_IDS]


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
