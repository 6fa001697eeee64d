"""The plain values that flow between stages: an inbound mail as the parser sees it.

Everything downstream of `parsing.parse` reads these frozen values and never the raw bytes again,
so triage, routing and rendering stay pure functions of data.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property


@dataclass(frozen=True)
class Address:
    name: str
    email: str

    def __post_init__(self) -> None:
        if "@" not in self.email:
            raise ValueError(f"not an email address: {self.email!r}")

    @property
    def domain(self) -> str:
        return self.email.rpartition("@")[2].lower()

    @property
    def normalized(self) -> str:
        """Lower-cased address, for comparisons (the local part is case-insensitive in practice)."""
        return self.email.strip().lower()


@dataclass(frozen=True)
class Attachment:
    filename: str  # sanitised: safe to show and to use as a file name, never empty
    content_type: str
    content: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not self.filename or "/" in self.filename or "\\" in self.filename or "\x00" in self.filename:
            raise ValueError(f"attachment filename not sanitised: {self.filename!r}")

    @property
    def size(self) -> int:
        return len(self.content)

    @cached_property
    def sha256(self) -> str:
        """Computed once: triage, the attachment store and the register all name a file by it."""
        return hashlib.sha256(self.content).hexdigest()


@dataclass(frozen=True)
class InboundMail:
    """One received message, parsed. `headers` keeps every header (name, decoded value) in order."""

    raw_sha256: str
    message_id: str | None  # as "<id@host>", stripped; None when absent or empty
    sender: Address | None  # the From address; None when absent or unreadable
    reply_to: Address | None
    to: tuple[Address, ...]
    subject: str
    date: datetime | None  # aware; None when absent or unreadable
    in_reply_to: str | None
    references: tuple[str, ...]
    text_body: str
    html_body: str
    attachments: tuple[Attachment, ...]
    headers: tuple[tuple[str, str], ...]
    content_type: str  # top-level MIME type, lower case, e.g. "multipart/report"
    defects: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if len(self.raw_sha256) != 64:
            raise ValueError("raw_sha256 must be a hex SHA-256")

    def header(self, name: str) -> str | None:
        """First value of header `name` (case-insensitive), or None."""
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None

    def header_all(self, name: str) -> tuple[str, ...]:
        wanted = name.lower()
        return tuple(value for key, value in self.headers if key.lower() == wanted)

    @property
    def answer_to(self) -> Address | None:
        """Where a letter to this sender goes (`customer`), None without a From address."""
        return None if self.sender is None else self.customer

    @property
    def author(self) -> Address:
        """The From address of a mail triage let through (it quarantines a mail without one)."""
        if self.sender is None:
            raise ValueError("a mail without a From address reached a stage that needs one")
        return self.sender

    @property
    def customer(self) -> Address:
        """Where letters about a complaint made by this mail go: the sender's own address, or their
        Reply-To within the same domain (issue 14: a Reply-To elsewhere would let anyone aim our
        letters at a third party). `triage.reply_address` adds the rules that need our addresses."""
        author = self.author
        if self.reply_to is not None and self.reply_to.domain == author.domain:
            return self.reply_to
        return author


@dataclass(frozen=True)
class Fetched:
    """A message as the mailbox adapter hands it over: its key there, its bytes, when it arrived."""

    key: str
    raw: bytes
    arrived_at: datetime | None


@dataclass(frozen=True)
class StoredFile:
    """An attachment kept in the attachment store (named by its SHA-256)."""

    filename: str
    content_type: str
    size: int
    sha256: str
    path: str
