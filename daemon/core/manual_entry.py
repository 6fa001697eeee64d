"""Complaints that do not arrive by email: made by phone, by letter, at a counter or on a web form,
and typed in by staff (`complaintsd add`).

They follow the same path as a mail: the entry becomes an `InboundMail` (its raw bytes are a record
of what was typed, kept like a received message, so the register's "every complaint has its
source" holds), then `intake` routes it, computes its deadlines and decides its letters. A customer
without an email address gets their letters on paper: `Effects` sets those aside for posting.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from enum import StrEnum

from daemon.core.mail import Address, Attachment, InboundMail
from daemon.errors import EntryError

__all__ = ["Channel", "ManualEntry", "mail_of", "record_of"]

_ADDR_SPEC = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")
_PHONE = re.compile(r"^\+?[0-9 .()\-]{6,30}$")


class Channel(StrEnum):
    """How a complaint reached the company (NF X 50-056 asks for the channel in the register)."""

    EMAIL = "email"
    PHONE = "phone"
    LETTER = "letter"
    COUNTER = "counter"
    WEB = "web"


@dataclass(frozen=True)
class ManualEntry:
    """What staff typed in; checked here so a bad entry is refused before anything is written."""

    channel: Channel
    name: str
    subject: str
    text: str
    received_at: datetime
    email: str = ""
    phone: str = ""
    address: str = ""
    wish: str = ""
    customer_type: str = "customer"
    attachments: tuple[Attachment, ...] = ()

    def __post_init__(self) -> None:
        if self.channel is Channel.EMAIL:
            raise EntryError("--channel email: a complaint by email is registered from the mailbox, not by hand")
        for option, value in (("--name", self.name), ("--subject", self.subject), ("--text", self.text)):
            if not value.strip():
                raise EntryError(f"{option}: required, and not empty")
        if self.email and not _ADDR_SPEC.match(self.email):
            raise EntryError(f"--email {self.email}: not an email address")
        if self.phone and not _PHONE.match(self.phone):
            raise EntryError(f"--phone {self.phone}: not a phone number (digits, spaces, + . - ( ))")
        if not (self.email or self.phone or self.address):
            raise EntryError("the customer must be reachable: give --email, --phone or --address")
        if self.received_at.tzinfo is None:
            raise EntryError("--received-at: needs a time zone")
        if any(ord(ch) < 32 and ch not in "\n\t" for ch in self.name + self.subject):
            raise EntryError("--name and --subject: control characters are not allowed")

    @property
    def customer(self) -> Address | None:
        return Address(self.name.strip(), self.email.strip()) if self.email else None


def record_of(entry: ManualEntry, domain: str, now: datetime) -> bytes:
    """The entry as a message (RFC 5322 with its attachments): the register keeps it as the
    complaint's source, like a received mail, and `show` and exports read it the same way."""
    message = EmailMessage(policy=SMTP)
    message["From"] = str(entry.customer) if entry.customer else entry.name.strip()
    message["Subject"] = entry.subject.strip()
    message["Date"] = format_datetime(entry.received_at)
    message["Message-ID"] = make_msgid(f"{entry.channel.value}.manual", domain=domain)
    message["X-Complaintsd-Channel"] = entry.channel.value
    message["X-Complaintsd-Entered-At"] = format_datetime(now)
    for header, value in (("Phone", entry.phone), ("Postal-Address", entry.address), ("Wish", entry.wish)):
        if value:
            message[f"X-Complaintsd-{header}"] = " ".join(value.split())
    message.set_content(entry.text)
    for file in entry.attachments:
        maintype, _, subtype = file.content_type.partition("/")
        message.add_attachment(
            file.content, maintype=maintype, subtype=subtype or "octet-stream", filename=file.filename
        )
    return message.as_bytes()


def mail_of(entry: ManualEntry, raw: bytes) -> InboundMail:
    """The entry as the stages after parsing see a mail: no Message-ID thread, no Reply-To, no robot
    headers. The sender is the customer when they have an email address, else none."""
    return InboundMail(
        raw_sha256=hashlib.sha256(raw).hexdigest(),
        message_id=None,
        sender=entry.customer,
        reply_to=None,
        to=(),
        subject=entry.subject.strip(),
        date=entry.received_at,
        in_reply_to=None,
        references=(),
        text_body=entry.text,
        html_body="",
        attachments=entry.attachments,
        headers=(("X-Complaintsd-Channel", entry.channel.value),),
        content_type="multipart/mixed" if entry.attachments else "text/plain",
    )
