"""Threading: which registered complaint, if any, a mail is about (issue 5, point 1).

Pure: the shell looks up the register for the references and Message-IDs the mail names, and
this decides. A Message-ID we sent or registered, quoted in In-Reply-To/References, is the
strongest sign (clients keep it whatever they do to the subject); then a reference such as
[REC-2026-000042] in the subject, whatever Re:/RE :/AW:/TR:/Fwd: prefixes a client added.
"""

from __future__ import annotations

from collections.abc import Mapping

from daemon.core.mail import InboundMail
from daemon.core.references import find_references


def named_ids(mail: InboundMail) -> tuple[str, ...]:
    """The Message-IDs a reply quotes, nearest first (In-Reply-To, then References backwards)."""
    ids = ((mail.in_reply_to,) if mail.in_reply_to else ()) + tuple(reversed(mail.references))
    return tuple(dict.fromkeys(ids))


def named_references(mail: InboundMail, prefix: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(find_references(mail.subject, prefix)))


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
