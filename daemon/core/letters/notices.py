"""Transitional: these letters moved to `to_customers.py` (to a customer), `to_staff.py` (the
follow-up forwarded, the handover) and `command_replies.py` (the replies to a command mail).

Import them from the package, `daemon.core.letters`. This module only keeps the old imports working
until every caller has moved; it is deleted then.
"""

from daemon.core.letters.command_replies import (
    Change,
    ChangeField,
    CommandConfirmationFacts,
    CommandErrorFacts,
    CommandHelpFacts,
    CommandRefusedFacts,
    Commands,
    Effect,
    NotUnderstood,
    RefusalReason,
    Severity,
    render_command_confirmation,
    render_command_error,
    render_command_help,
    render_command_refused,
)
from daemon.core.letters.render import AttachmentLine, ComplaintSummary, HistoryLine, Letter, Mediator, Templates
from daemon.core.letters.to_customers import (
    AnswerFacts,
    ClosedFacts,
    DeadlineChangedFacts,
    FollowUpReceivedFacts,
    Outcome,
    StatusChangedFacts,
    render_answer,
    render_closed,
    render_deadline_changed,
    render_follow_up_received,
    render_status_changed,
)
from daemon.core.letters.to_staff import FollowUpForwardFacts, HandoverFacts, render_follow_up_forward, render_handover

__all__ = [
    "AnswerFacts",
    "AttachmentLine",
    "Change",
    "ChangeField",
    "ClosedFacts",
    "CommandConfirmationFacts",
    "CommandErrorFacts",
    "CommandHelpFacts",
    "CommandRefusedFacts",
    "Commands",
    "ComplaintSummary",
    "DeadlineChangedFacts",
    "Effect",
    "FollowUpForwardFacts",
    "FollowUpReceivedFacts",
    "HandoverFacts",
    "HistoryLine",
    "Letter",
    "Mediator",
    "NotUnderstood",
    "Outcome",
    "RefusalReason",
    "Severity",
    "StatusChangedFacts",
    "Templates",
    "render_answer",
    "render_closed",
    "render_command_confirmation",
    "render_command_error",
    "render_command_help",
    "render_command_refused",
    "render_deadline_changed",
    "render_follow_up_forward",
    "render_follow_up_received",
    "render_handover",
    "render_status_changed",
]
