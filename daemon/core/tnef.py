"""Outlook's winmail.dat (application/ms-tnef): the files and the body it carries, unpacked.

Outlook, set to "Rich Text", wraps a mail's attachments (and often its body) in one TNEF blob named
winmail.dat that no other mail client opens: a customer's invoice or photo would reach the register
as an opaque file. This stage's sole purpose in life is to unpack that blob after the MIME walk
(`mime.collect`), with `tnefparse`: each file it carries becomes an attachment of its own, its body
becomes the mail's body when the mail has none, and the original winmail.dat stays an attachment
too, so nothing the customer sent is lost even if the decoding is wrong or partial.

A blob tnefparse cannot read (bad signature, truncated, garbage) is left as it is and noted among
the mail's defects: a complaint is never refused because of its winmail.dat.
"""

from __future__ import annotations

import mimetypes
from typing import TYPE_CHECKING

from daemon.core.mail import Attachment
from daemon.core.mime import Parts, decode_text, safe_filename

if TYPE_CHECKING:
    from tnefparse import TNEF

__all__ = ["TNEF_TYPE", "unpack_tnef"]

TNEF_TYPE = "application/ms-tnef"
# A MimeTypes built without files knows only Python's own table: the same answer on every machine.
_MIMETYPES = mimetypes.MimeTypes()


def unpack_tnef(parts: Parts) -> tuple[str, ...]:
    """Add to `parts` the files and body of each winmail.dat among its attachments; return the
    defects (one line per blob that could not be read)."""
    defects: list[str] = []
    for blob in [a for a in parts.attachments if a.content_type == TNEF_TYPE]:
        decoded = _read(blob.content)
        if isinstance(decoded, str):
            defects.append(f"{blob.filename}: TNEF not decoded ({decoded}); kept as it is")
            continue
        for attachment in decoded.attachments:
            content = bytes(attachment.data or b"")
            name = safe_filename(_name(attachment), _guess_type(_name(attachment)), len(parts.attachments) + 1)
            parts.attachments.append(Attachment(filename=name, content_type=_guess_type(name), content=content))
        if not parts.text().strip():
            _add_body(decoded, parts)
    return tuple(defects)


def _read(content: bytes) -> TNEF | str:
    """The decoded blob, or why it could not be decoded."""
    from tnefparse import TNEF  # here: only a winmail.dat needs it, not the daemon's start

    try:
        return TNEF(content)
    # tnefparse 1.4.0 raises ValueError for a bad signature, and IndexError, struct.error or
    # others on truncated data: this is the boundary where its failure becomes "keep the blob".
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"[:200]


def _name(attachment: object) -> str:
    long_filename = getattr(attachment, "long_filename", None)
    name = long_filename() if callable(long_filename) else getattr(attachment, "name", "")
    if isinstance(name, bytes):
        name = name.decode("latin-1")
    return str(name or "")


def _guess_type(name: str) -> str:
    return _MIMETYPES.guess_type(name, strict=False)[0] or "application/octet-stream"


def _add_body(decoded: TNEF, parts: Parts) -> None:
    """The TNEF's own body: plain text first, else HTML (as the MIME walk prefers them)."""
    codepage = getattr(decoded, "codepage", None)
    plain = _text(decoded.body, codepage)
    html = _text(getattr(decoded, "htmlbody", None), codepage)
    if plain.strip():
        parts.plain.append(plain)
    elif html.strip():
        parts.html.append(html)


def _text(value: object, codepage: object) -> str:
    """tnefparse gives str (decoded with the blob's code page) or bytes; lines end in LF."""
    if isinstance(value, bytes):
        value = decode_text(value, codepage if isinstance(codepage, str) else None)
    return value.replace("\r\n", "\n") if isinstance(value, str) else ""
