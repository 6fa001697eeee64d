"""The daily check's one decision: when `verify` finds the register altered, tell the admin.

An altered register is evidence that must be kept as it is: the admin is told at once (through the
outbox like every letter, to `[health] admin`, else the supervisor), with the first broken links.
An intact register says nothing: a daily "all is well" mail would teach people to ignore the one
that matters."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from daemon.core.effects import Effects
from daemon.core.letters import IntegrityAlertFacts, LetterToSend, new_message_id
from daemon.core.policy import Policy

SHOWN = 10


def decide_integrity_alert(
    broken_count: int, findings: Sequence[str], events: int, now: datetime, policy: Policy
) -> Effects:
    """The admin's alert naming the first broken links; nothing when there are none."""
    if broken_count == 0:
        return Effects()
    facts = IntegrityAlertFacts(broken_count, tuple(findings[:SHOWN]), events, now)
    message_id = new_message_id(f"verify-{now:%Y%m%d%H%M}", "int", policy.domain)
    return Effects(letters=(LetterToSend("integrity_alert", facts, policy.alerts_to, message_id),))
