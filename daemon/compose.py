"""Turn a rendered Letter into the exact bytes that will leave, with threading and loop headers.

Pure: the Message-ID, the date and the addresses are passed in, so the outbox row holds the final
message and a resend after a crash is byte-for-byte the same mail (same Message-ID).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr

from .mail import Address
from .render import Letter


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
) -> OutgoingMail:
    message = EmailMessage(policy=SMTP)
    message["From"] = formataddr((sender.name, sender.email))
    message["To"] = formataddr((to.name, to.email))
    message["Subject"] = letter.subject
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
    message.set_content(letter.text, subtype="plain", charset="utf-8")
    message.add_alternative(letter.html, subtype="html", charset="utf-8")
    return OutgoingMail(
        message_id=message_id, mail_from=sender.email, recipients=(to.email,), raw=message.as_bytes()
    )
