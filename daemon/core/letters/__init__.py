"""Letters: every mail the daemon writes, from the facts of what happened to the bytes that leave.

Import from this package, not from its modules: the names below are the contract.

* `render.py` — `Templates` (Jinja2 + Babel → `Letter`), the values several letters show
  (`ComplaintSummary`, `AttachmentLine`, `Mediator`, `HistoryLine`) and the command token marker;
* `to_customers.py` — the letters to a customer: acknowledgement, answer, new date, new status,
  closing, additional message received;
* `to_staff.py` — the letters to a handler or the supervisor: new complaint, reminder, escalation,
  digest, customer's message forwarded, handover; to an action's owner and about it: the action
  entrusted, its reminders, the supervisor's alert when it is overdue;
* `command_replies.py` — the replies to a command mail (also to staff): confirmation, error, help,
  refusal, and the error of a command mail that named no complaint;
* `compose.py` — `Letter` → the exact bytes that will leave (`OutgoingMail`);
* `postbox.py` — the one place a decision's letter is rendered and composed (`RENDERERS` maps each
  facts type to its render function).
"""

from daemon.core.letters.command_replies import (
    Change,
    ChangeField,
    CommandConfirmationFacts,
    CommandErrorFacts,
    CommandHelpFacts,
    CommandRefusedFacts,
    Commands,
    CommandUnaddressedFacts,
    Effect,
    NotUnderstood,
    RefusalReason,
    Severity,
    render_command_confirmation,
    render_command_error,
    render_command_help,
    render_command_refused,
    render_command_unaddressed,
)
from daemon.core.letters.compose import FileToAttach, OutgoingMail, compose, new_message_id
from daemon.core.letters.postbox import RENDERERS, LetterToSend, Postbox
from daemon.core.letters.render import (
    TOKEN_MARKER,
    AttachmentLine,
    ComplaintSummary,
    HistoryLine,
    Letter,
    Mediator,
    Templates,
    available_languages,
    builtin_templates_dir,
    find_token,
)
from daemon.core.letters.to_customers import (
    AcknowledgementFacts,
    AnswerFacts,
    ClosedFacts,
    DeadlineChangedFacts,
    FollowUpReceivedFacts,
    InterimFacts,
    Outcome,
    StatusChangedFacts,
    render_acknowledgement,
    render_answer,
    render_closed,
    render_deadline_changed,
    render_follow_up_received,
    render_interim,
    render_status_changed,
)
from daemon.core.letters.to_staff import (
    ActionAssignedFacts,
    ActionOverdueFacts,
    ActionReminderFacts,
    DigestFacts,
    DigestRow,
    EscalationFacts,
    FollowUpForwardFacts,
    HandlerNotificationFacts,
    HandoverFacts,
    PreviousComplaint,
    PreviousComplaints,
    ReminderFacts,
    render_action_assigned,
    render_action_overdue,
    render_action_reminder,
    render_digest,
    render_escalation,
    render_follow_up_forward,
    render_handler_notification,
    render_handover,
    render_reminder,
)

__all__ = [
    # rendering and the values letters share (render.py)
    "TOKEN_MARKER",
    "AttachmentLine",
    "ComplaintSummary",
    "HistoryLine",
    "Letter",
    "Mediator",
    "Templates",
    "available_languages",
    "builtin_templates_dir",
    "find_token",
    # to a customer (to_customers.py)
    "AcknowledgementFacts",
    "AnswerFacts",
    "ClosedFacts",
    "DeadlineChangedFacts",
    "FollowUpReceivedFacts",
    "Outcome",
    "InterimFacts",
    "StatusChangedFacts",
    "render_acknowledgement",
    "render_answer",
    "render_closed",
    "render_deadline_changed",
    "render_follow_up_received",
    "render_interim",
    "render_status_changed",
    # to a handler or the supervisor (to_staff.py)
    "DigestFacts",
    "DigestRow",
    "EscalationFacts",
    "FollowUpForwardFacts",
    "HandlerNotificationFacts",
    "HandoverFacts",
    "ActionAssignedFacts",
    "ActionOverdueFacts",
    "ActionReminderFacts",
    "PreviousComplaint",
    "PreviousComplaints",
    "ReminderFacts",
    "render_digest",
    "render_escalation",
    "render_follow_up_forward",
    "render_handler_notification",
    "render_handover",
    "render_action_assigned",
    "render_action_overdue",
    "render_action_reminder",
    "render_reminder",
    # replies to a command mail (command_replies.py)
    "Change",
    "ChangeField",
    "CommandConfirmationFacts",
    "CommandErrorFacts",
    "CommandHelpFacts",
    "CommandRefusedFacts",
    "CommandUnaddressedFacts",
    "Commands",
    "Effect",
    "NotUnderstood",
    "RefusalReason",
    "Severity",
    "render_command_confirmation",
    "render_command_error",
    "render_command_help",
    "render_command_refused",
    "render_command_unaddressed",
    # the bytes that leave (compose.py, postbox.py)
    "RENDERERS",
    "FileToAttach",
    "LetterToSend",
    "OutgoingMail",
    "Postbox",
    "compose",
    "new_message_id",
]
