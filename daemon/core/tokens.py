"""Command tokens: the proof a handler's command mail must carry (docs/design.md, "Commands by email").

A token is random, stored in the register bound to one complaint and one handler, and placed where
an ordinary reply quotes it: in the Message-ID of the mail we send the handler (so In-Reply-To and
References carry it back) and, as a fallback, in its subject. Pure: the shell stores and looks up.
"""

from __future__ import annotations

import re
import secrets

TOKEN_BYTES = 12  # 96 bits: unguessable, short enough for a subject line
SUBJECT_MARKER = re.compile(r"\[(?:jeton|token):([A-Za-z0-9_-]+)\]", re.IGNORECASE)
MESSAGE_ID_TOKEN = re.compile(r"<[A-Z0-9]{1,10}-\d{4}-\d{6,}\.h\.([A-Za-z0-9_-]{16})\.[0-9a-f]+@[^>]+>")


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def handler_message_id(reference: str, token: str, domain: str) -> str:
    """The Message-ID of a mail to a handler: a reply's In-Reply-To/References will quote it.
    The nonce keeps it unique when several mails (notification, reminders) carry one token."""
    return f"<{reference}.h.{token}.{secrets.token_hex(4)}@{domain}>"


def find_token(subject: str) -> str | None:
    """The command token in a subject such as "RE: [REC-2026-000042] Rappel … [jeton:Ab3x]", or None.
    The last marker wins: it is the one our own subject ended with, whatever a client prefixed."""
    found = SUBJECT_MARKER.findall(subject)
    return found[-1] if found else None


def tokens_in(subject: str, message_ids: tuple[str, ...]) -> tuple[str, ...]:
    """Every token a reply carries, from quoted Message-IDs first, then from the subject."""
    found = [m.group(1) for mid in message_ids for m in [MESSAGE_ID_TOKEN.fullmatch(mid.strip())] if m]
    found += SUBJECT_MARKER.findall(subject)
    return tuple(dict.fromkeys(found))
