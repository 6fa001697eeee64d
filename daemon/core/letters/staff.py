"""Transitional: the internal letters moved to `to_staff.py` (and `render.py` for what they share).

Import them from the package, `daemon.core.letters`. This module only keeps the old imports working
until every caller has moved; it is deleted then.
"""

from daemon.core.letters.render import TOKEN_MARKER, AttachmentLine, ComplaintSummary, Letter, Templates, find_token
from daemon.core.letters.to_staff import (
    DigestFacts,
    DigestRow,
    EscalationFacts,
    HandlerNotificationFacts,
    ReminderFacts,
    render_digest,
    render_escalation,
    render_handler_notification,
    render_reminder,
)

__all__ = [
    "TOKEN_MARKER",
    "AttachmentLine",
    "ComplaintSummary",
    "DigestFacts",
    "DigestRow",
    "EscalationFacts",
    "HandlerNotificationFacts",
    "Letter",
    "ReminderFacts",
    "Templates",
    "find_token",
    "render_digest",
    "render_escalation",
    "render_handler_notification",
    "render_reminder",
]
