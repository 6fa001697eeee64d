"""The plain values that flow between stages: an inbound mail as the parser sees it.

Everything downstream of `parsing.parse` reads these frozen values and never the raw bytes again,
so triage, routing and rendering stay pure functions of data.
"""

from __future__ import annotations

import binascii
import hashlib
from collections.abc import Iterator
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


@dataclass(frozen=True, eq=False)
class Attachment:
    filename: str  # sanitised: safe to show and to use as a file name, never empty
    content_type: str
    content: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not self.filename or "/" in self.filename or "\\" in self.filename or "\x00" in self.filename:
            raise ValueError(f"attachment filename not sanitised: {self.filename!r}")

    def __eq__(self, other: object) -> bool:
        """Alike when named and typed alike with the same content, however that content is held."""
        if not isinstance(other, Attachment):
            return NotImplemented
        return (self.filename, self.content_type, self.size, self.sha256) == (
            other.filename,
            other.content_type,
            other.size,
            other.sha256,
        )

    def __hash__(self) -> int:
        return hash((self.filename, self.content_type, self.sha256))

    @property
    def size(self) -> int:
        return len(self.content)

    @cached_property
    def sha256(self) -> str:
        """Computed once: triage, the attachment store and the register all name a file by it."""
        return hashlib.sha256(self.content).hexdigest()

    def pieces(self) -> Iterator[bytes]:
        """The content in pieces, for whoever writes or hashes it without needing it whole."""
        yield self.content


class EncodedAttachment(Attachment):
    """A large base64 part (big_parts.py) kept as a view of the message's bytes: its hash, its size and
    the attachment store read it a piece at a time, and it is decoded whole only if something reads
    `content` (a letter that carries it), so a 30 MB file is not held decoded beside the message
    (issue 10). The view holds only base64 letters, line breaks and final padding, in whole quads."""

    encoded: memoryview

    def __init__(self, filename: str, content_type: str, encoded: memoryview) -> None:
        object.__setattr__(self, "filename", filename)
        object.__setattr__(self, "content_type", content_type)
        object.__setattr__(self, "encoded", encoded)
        self.__post_init__()

    @cached_property
    def content(self) -> bytes:
        return binascii.a2b_base64(self.encoded)

    @cached_property
    def size(self) -> int:
        """Three bytes for every four letters, less the padding: known without decoding."""
        return _letters(self.encoded) // 4 * 3 - bytes(self.encoded[-8:]).rstrip(b"\r\n")[-2:].count(b"=")

    @cached_property
    def sha256(self) -> str:
        digest = hashlib.sha256()
        for piece in self.pieces():
            digest.update(piece)
        return digest.hexdigest()

    def pieces(self) -> Iterator[bytes]:
        carry = b""
        for start in range(0, len(self.encoded), PIECE):
            letters = carry + bytes(self.encoded[start : start + PIECE]).translate(None, b"\r\n")
            whole = len(letters) - len(letters) % 4
            yield binascii.a2b_base64(letters[:whole])
            carry = letters[whole:]
        if carry:
            yield binascii.a2b_base64(carry)


PIECE = 1024 * 1024  # bytes of base64 decoded at a time


def _letters(view: memoryview) -> int:
    """Base64 letters (padding included) in `view`: its length less its line breaks, counted by piece."""
    pieces = (bytes(view[start : start + PIECE]) for start in range(0, len(view), PIECE))
    return len(view) - sum(piece.count(b"\n") + piece.count(b"\r") for piece in pieces)


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
