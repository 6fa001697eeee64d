"""The quarantine's one decision: tell the admin, once per ingestion batch, which mails went there.

A quarantined mail waits for a person: nobody was answered, and the only trace is a folder and a
register row. The issue asks that "the admin is told (one mail per batch)": one notice listing every
mail of the batch, with the row ids `complaintsd quarantine show|retry ID` take, to `[health] admin`
(the supervisor when unset). Like every letter it goes through the outbox.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from daemon.core.effects import Effects
from daemon.core.letters import LetterToSend, QuarantinedLine, QuarantineNoticeFacts, new_message_id
from daemon.core.policy import Policy


def decide_quarantine_notice(mails: Sequence[QuarantinedLine], now: datetime, policy: Policy) -> Effects:
    """The admin's notice listing `mails` (one batch's quarantined mails); nothing when there are none."""
    if not mails:
        return Effects()
    facts = QuarantineNoticeFacts(tuple(mails), now)
    message_id = new_message_id(f"quarantine-{mails[0].id}", "qua", policy.domain)
    return Effects(letters=(LetterToSend("quarantine_notice", facts, policy.alerts_to, message_id),))
