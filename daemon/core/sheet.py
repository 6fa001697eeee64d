"""The complaint sheet (fiche de réclamation): one printable page telling a complaint's whole
story, for an auditor, a file, or a customer who asks what the register holds on them.

Pure: the shell reads the complaint (`edges.register.views.show_complaint`) and its answer letters,
passes the instant, and writes the page this returns. The page is self-contained (styles inline,
no image, font or script from anywhere), so it prints the same offline and leaks nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from daemon.core.commands.tags import parse_commands
from daemon.core.commands.words import Tag
from daemon.core.compliance import DeadlineOutcomes, answered_at, deadline_outcomes
from daemon.core.letters.render import Templates, require_aware
from daemon.core.profiles import MediationDates

__all__ = ["AnswerLetter", "SheetFacts", "SheetMediation", "posted_answers", "render_sheet", "sheet_facts"]

SHEET_TEMPLATE = "sheet"


@dataclass(frozen=True)
class AnswerLetter:
    """An argued answer as the customer got it: the letter's text when it was mailed (the outbox
    keeps it whole), else the handler's words after `#réponse` (a letter printed and posted)."""

    at: datetime
    text: str
    mailed: bool

    def __post_init__(self) -> None:
        require_aware("an answer's time", self.at)


@dataclass(frozen=True)
class SheetMediation:
    """The mediation dates (core/profiles.py) and the rule that gave the first, as `show` prints it:
    the customer may refer to the mediator from `dates.refer_from` (`refer_after` after receipt) and
    until `dates.limit` (one year after the written complaint, Code de la consommation L.612-2)."""

    dates: MediationDates
    refer_after: str


@dataclass(frozen=True)
class SheetFacts:
    """What the sheet shows. `complaint` is the register's `ComplaintView` (an edge value the core
    cannot name): the template reads its fields as `show --json` names them."""

    complaint: Any
    answers: tuple[AnswerLetter, ...]
    deadlines: DeadlineOutcomes
    printed_at: datetime
    mediation: SheetMediation | None = None

    def __post_init__(self) -> None:
        require_aware("the sheet's time", self.printed_at)


def sheet_facts(
    complaint: Any,
    mailed: Iterable[AnswerLetter],
    now: datetime,
    answer_meets_ack: bool = False,
    mediation: SheetMediation | None = None,
) -> SheetFacts:
    """The sheet of `complaint` at `now`: deadlines judged by the shared rule (core/compliance.py),
    the answers mailed, or those posted when none was."""
    history = complaint.history
    moves = ((h.at, h.detail) for h in history if h.event == "status")
    deadlines = deadline_outcomes(
        complaint.ack_due_at,
        complaint.acknowledged_at,
        complaint.answer_due_at,
        answered_at(moves),
        now,
        answer_meets_ack,
    )
    answers = tuple(mailed) or posted_answers((h.at, h.event, h.detail) for h in history)
    return SheetFacts(complaint, answers, deadlines, now, mediation)


def posted_answers(history: Iterable[tuple[datetime, str, str]]) -> tuple[AnswerLetter, ...]:
    """The answers written with `#réponse` in handlers' command mails (history `command_mail`,
    "verified by …: <the mail's new text>"): the text of an answer that was not mailed."""
    found = []
    for at, event, detail in history:
        if event != "command_mail":
            continue
        text = detail.partition(": ")[2]
        commands = parse_commands(text, at.date())
        found += [AnswerLetter(at, str(c.value), mailed=False) for c in commands.commands if c.tag is Tag.REPLY]
    return tuple(found)


def render_sheet(templates: Templates, facts: SheetFacts) -> str:
    """The sheet as one HTML page (autoescaped: the customer wrote the subject and the text)."""
    return templates.page(
        SHEET_TEMPLATE,
        c=facts.complaint,
        answers=facts.answers,
        deadlines=facts.deadlines,
        printed_at=facts.printed_at,
        mediation=facts.mediation,
    )
