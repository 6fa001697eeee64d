"""Effects: what a decision changes, as one value the register applies in one transaction.

Every runner decides in a pure function (`intake.decide_registration`, `follow_up.decide_follow_up`,
`sweep.decide_reminder`…) that returns an `Effects`; `daemon.edges.register.apply` is the one code
that turns it into rows (Mailman's `_dispose` returning a verdict, h11's `send` returning bytes).
Nothing here touches the world: a test reads an `Effects` as a table row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from daemon.core.commands.words import CauseFound
from daemon.core.letters import LetterToSend
from daemon.core.lifecycle import Status, reachable
from daemon.core.mail import StoredFile
from daemon.core.reminders import Planned, ReminderDeadline

ACTOR = "complaintsd"  # the actor the history names for what the daemon did by itself


@dataclass(frozen=True)
class HistoryEntry:
    event: str
    actor: str
    detail: str = ""


@dataclass(frozen=True)
class StatusMove:
    """A status change, checked against the lifecycle table when it is decided."""

    before: Status
    after: Status

    def __post_init__(self) -> None:
        if Status(self.before) is not Status(self.after) and not reachable(self.before, self.after):
            raise ValueError(f"the lifecycle table has no way from {self.before} to {self.after}")


@dataclass(frozen=True)
class TokenToIssue:
    """A command token to record: the proof a handler's reply must carry."""

    token: str
    handler_email: str


@dataclass(frozen=True)
class ActionToCreate:
    """A new action row (#action): its number on the complaint, kind, text, owner and due day."""

    number: int
    kind: str
    text: str
    owner: str | None = None
    due: date | None = None


@dataclass(frozen=True)
class ActionMoveTo:
    """An action's new status (and the reason, when abandoned)."""

    number: int
    status: str
    reason: str = ""


@dataclass(frozen=True)
class Effects:
    """What one decision changes for one complaint (or none, for a digest).

        `fields` are new values of the complaint's columns other than its status, which moves through
        `status` only; `cancel` names the deadlines whose pending reminders stop (None: the complaint's
    acknowledgement and answer deadlines, not its actions', which outlive it);
        `letters` are composed by the postbox and queued in the same transaction; `links` are the ids
        of complaints to link with this one (both ways), `causes` the causes found, in order; `files`
        are a follow-up's attachments, to list with the complaint like its first ones."""

    complaint_id: int | None = None
    history: tuple[HistoryEntry, ...] = ()
    letters: tuple[LetterToSend, ...] = ()
    status: StatusMove | None = None
    fields: tuple[tuple[str, Any], ...] = ()
    plan: tuple[Planned, ...] = ()
    cancel: tuple[ReminderDeadline | None, ...] = ()
    tokens: tuple[TokenToIssue, ...] = ()
    links: tuple[int, ...] = ()
    causes: tuple[CauseFound, ...] = ()
    actions: tuple[ActionToCreate, ...] = ()
    action_moves: tuple[ActionMoveTo, ...] = ()
    files: tuple[StoredFile, ...] = ()  # stored already (edges/storage), listed with the complaint
    bounced: tuple[str, ...] = ()  # Message-IDs of this complaint's letters that came back undelivered

    def __post_init__(self) -> None:
        """A letter to a customer with no email address (a complaint made by phone or at a counter)
        is not queued: the history says it must be printed (`complaintsd letter`) and posted. Done
        here, so no decision can forget it and the outbox never holds a letter with no recipient."""
        posted = [letter for letter in self.letters if letter.to is None]
        if posted:
            object.__setattr__(self, "letters", tuple(letter for letter in self.letters if letter.to is not None))
            object.__setattr__(self, "history", self.history + tuple(_to_post(letter) for letter in posted))

    def __add__(self, other: Effects) -> Effects:
        if other.status is not None and self.status is not None:
            raise ValueError("two status moves in one decision")
        return Effects(
            complaint_id=self.complaint_id if self.complaint_id is not None else other.complaint_id,
            history=self.history + other.history,
            letters=self.letters + other.letters,
            status=self.status or other.status,
            fields=self.fields + other.fields,
            plan=self.plan + other.plan,
            cancel=self.cancel + other.cancel,
            tokens=self.tokens + other.tokens,
            links=self.links + other.links,
            causes=self.causes + other.causes,
            actions=self.actions + other.actions,
            action_moves=self.action_moves + other.action_moves,
            files=self.files + other.files,
            bounced=self.bounced + other.bounced,
        )


def _to_post(letter: LetterToSend) -> HistoryEntry:
    facts = letter.facts
    reference = getattr(facts, "reference", None) or facts.complaint.reference
    command = f"complaintsd letter {reference} {letter.kind}"
    detail = f"{letter.kind}: the customer has no email address; print it with `{command}` and post it"
    return HistoryEntry("letter_to_post", ACTOR, detail)
