"""Reading the quarantine: the `inbound_message` rows whose outcome is "quarantine", with their
reason and raw bytes, for `complaintsd quarantine` and the admin's notice (core/quarantine.py).

Readers get frozen values, never live rows; only `writes.py` changes them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from daemon.core.triage import Outcome
from daemon.edges.register.models import InboundMessage
from daemon.edges.register.reads import chunks
from daemon.errors import NotFound


@dataclass(frozen=True)
class QuarantinedMessage:
    """One quarantined mail as the register keeps it; `raw` only when asked for (show, retry)."""

    id: int
    sha256: str
    message_id: str | None
    arrived_at: datetime
    registered_at: datetime
    sender: str
    subject: str
    reason: str
    raw: bytes = b""


_FIELDS = ("id", "sha256", "message_id", "arrived_at", "registered_at", "sender", "subject", "reason")
_COLUMNS = tuple(col(getattr(InboundMessage, name)) for name in _FIELDS)
_QUARANTINED = col(InboundMessage.outcome) == Outcome.QUARANTINE.value


def quarantined(session: Session) -> list[QuarantinedMessage]:
    """Every quarantined mail, oldest first (without its bytes)."""
    rows = session.execute(select(*_COLUMNS).where(_QUARANTINED).order_by(col(InboundMessage.id))).all()
    return [QuarantinedMessage(*row) for row in rows]


def quarantined_by_sha256(session: Session, sha256s: Iterable[str]) -> list[QuarantinedMessage]:
    """The quarantined mails among these SHA-256s, oldest first: what one batch put there."""
    found: list[QuarantinedMessage] = []
    for part in chunks(sha256s):
        rows = session.execute(select(*_COLUMNS).where(_QUARANTINED, col(InboundMessage.sha256).in_(part))).all()
        found += [QuarantinedMessage(*row) for row in rows]
    return sorted(found, key=lambda m: m.id)


def quarantined_message(session: Session, row_id: int) -> QuarantinedMessage:
    """One quarantined mail with its raw bytes; NotFound when no quarantined mail has this id."""
    row = session.execute(
        select(*_COLUMNS, col(InboundMessage.raw)).where(_QUARANTINED, col(InboundMessage.id) == row_id)
    ).first()
    if row is None:
        raise NotFound(f"quarantine: no quarantined mail #{row_id} (see complaintsd quarantine list)")
    return QuarantinedMessage(*row)
