"""Large base64 bodies lifted out of a message before the stdlib parses it, decoded straight from the bytes.

The stdlib's parser holds a 30 MB attachment several times over: the message as text, its lines,
the part's payload joined again, that payload encoded back to bytes, then decoded (about 330 MB of
peak for a 40 MB message). Here each long run of base64 lines that starts a part's body is replaced
by a short placeholder, the small skeleton left is parsed as usual, and the run becomes an
`EncodedAttachment`: a view of the original bytes, decoded a piece at a time (or once, if a letter
carries it). `lifted` hands the parser the skeleton; `restore` puts the real
content back where the placeholder decoded to exactly one whole attachment, and says False
otherwise (the run was in a text part, a nested message, or did not span its part), so that the
caller parses the original bytes the ordinary way. Nothing is guessed: the fast way is taken only
when it gives what the ordinary way would.
"""

from __future__ import annotations

import binascii
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass

from daemon.core.mail import EncodedAttachment
from daemon.core.mime import Parts

# Bytes of base64 from which a run is lifted. Not only for memory: the stdlib's parser walks a body
# line by line, and lifting a 50 KB PDF's ~900 lines cut the parse of the ingestion benchmark's 500
# mails from 0.33 to 0.21 s of CPU (issue 10); on the corpus, 26 mails lifted, 8 then parsed whole.
LIFT_FROM = 16 * 1024
# A part's body starts after a blank line; a base64 body is letters and line breaks, then its padding.
# One character class, not a repeated line group: the regex engine keeps no state per line.
_BLANK_LINE = re.compile(rb"\n\r?\n")
_BASE64_BODY = re.compile(rb"[A-Za-z0-9+/\r\n]*(?:={1,2}(?:\r?\n)?)?")


@dataclass(frozen=True)
class Lifted:
    """The skeleton to parse, and for each placeholder (decoded) the span of `data` it stands for."""

    skeleton: bytes
    spans: dict[bytes, tuple[int, int]]


def lifted(data: bytes) -> Lifted | None:
    """The skeleton of `data` with its large base64 runs replaced, or None when it has none."""
    if len(data) < LIFT_FROM:
        return None
    pieces: list[bytes | memoryview] = []
    spans: dict[bytes, tuple[int, int]] = {}
    view, end = memoryview(data), 0
    for start, stop in _base64_bodies(data):
        if stop - start < LIFT_FROM or _letters(data, start, stop) % 4:
            continue
        placeholder = _placeholder(data, len(spans))
        newline = b"\r\n" if data[start - 2 : start] == b"\r\n" else b"\n"
        pieces += [view[end:start], binascii.b2a_base64(placeholder, newline=False) + newline]
        spans[placeholder], end = (start, stop), stop
    if not spans:
        return None
    pieces.append(view[end:])
    return Lifted(b"".join(pieces), spans)


def restore(data: bytes, lift: Lifted, parts: Parts) -> bool:
    """Put each lifted run's decoded bytes in the one attachment its placeholder became; False when
    a placeholder did not become exactly one whole attachment, or shows anywhere else."""
    attachments, bodies = parts.attachments, [*parts.plain, *parts.html]
    found: dict[bytes, int] = {}
    for index, attachment in enumerate(attachments):
        if attachment.content in lift.spans and attachment.content not in found:
            found[attachment.content] = index
        elif _shows(attachment.content, lift):
            return False
    if len(found) != len(lift.spans) or any(_shows(body.encode("utf-8", "replace"), lift) for body in bodies):
        return False
    view = memoryview(data)
    for placeholder, index in found.items():
        start, stop = lift.spans[placeholder]
        attachment = attachments[index]
        attachments[index] = EncodedAttachment(attachment.filename, attachment.content_type, view[start:stop])
    return True


def _base64_bodies(data: bytes) -> Iterator[tuple[int, int]]:
    """The spans that start after a blank line and hold only base64 letters and line breaks."""
    position = 0
    while blank := _BLANK_LINE.search(data, position):
        start = blank.end()
        body = _BASE64_BODY.match(data, start)
        stop = body.end() if body else start
        if stop > start:
            yield start, stop
        position = max(stop, start)


def _shows(content: bytes, lift: Lifted) -> bool:
    return any(p in content or binascii.b2a_base64(p, newline=False) in content for p in lift.spans)


def _letters(data: bytes, start: int, stop: int) -> int:
    """Base64 letters in the run (without its line breaks): a whole number of quads decodes alike everywhere."""
    return stop - start - data.count(b"\n", start, stop) - data.count(b"\r", start, stop)


def _placeholder(data: bytes, number: int) -> bytes:
    """Bytes no message holds by chance (its own hash in them), 30 long: base64 without padding."""
    return b"\x00lifted" + hashlib.sha256(data[:4096] + bytes([number])).digest()[:23]
