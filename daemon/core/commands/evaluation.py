"""The values of the evaluation tags (issue 9): complexity, impact, scope, a related reference, a
compensation. Each reader takes the value as typed and today's date (the signature every reader of
`tags._READERS` has) and returns the value, or the `Reason` it is not one. Pure; tags.py's decisions
8, 9 and 11 say what each accepts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from daemon.core.commands.words import (
    ACTION_KIND_WORDS,
    ACTION_STATUS_WORDS,
    COMPENSATION_WORDS,
    COMPLEXITY_WORDS,
    CURRENCY_WORDS,
    IMPACT_WORDS,
    SCOPE_WORDS,
    ActionKind,
    ActionStatus,
    CauseFound,
    Compensation,
    Complexity,
    Impact,
    Reason,
    Scope,
    as_words,
    read_date,
)
from daemon.core.references import REFERENCE
from daemon.core.routing import fold


def read_complexity(value: str, today: date) -> Complexity | Reason:
    return COMPLEXITY_WORDS.get(as_words(value), Reason.UNKNOWN_COMPLEXITY)


def read_impact(value: str, today: date) -> Impact | Reason:
    return IMPACT_WORDS.get(as_words(value), Reason.UNKNOWN_IMPACT)


def read_scope(value: str, today: date) -> Scope | Reason:
    return SCOPE_WORDS.get(as_words(value), Reason.UNKNOWN_SCOPE)


def read_reference(value: str, today: date) -> str | Reason:
    words = value.upper().rstrip(".").split()
    return words[0] if len(words) == 1 and REFERENCE.fullmatch(words[0]) else Reason.NO_REFERENCE


_AMOUNT = re.compile(r"(\d{1,9}(?:[.,]\d{1,2})?)\s*(\S*)")


def read_compensation(value: str, today: date) -> Compensation | Reason:
    """Decision 9: a type word (one or two words), then an optional amount and currency."""
    words = fold(value).rstrip(".").split()
    for size in (2, 1):
        kind = COMPENSATION_WORDS.get(" ".join(words[:size]))
        if kind is not None:
            rest = " ".join(words[size:])
            break
    else:
        return Reason.UNKNOWN_COMPENSATION
    if not rest:
        return Compensation(kind)
    match = _AMOUNT.fullmatch(rest)
    if match is None:
        return Reason.BAD_AMOUNT
    amount = Decimal(match[1].replace(",", ".")).quantize(Decimal("0.01"))
    if match[2] and _currency(match[2]) is None:
        return Reason.BAD_AMOUNT
    return Compensation(kind, amount, _currency(match[2]) if match[2] else None)


def _currency(word: str) -> str | None:
    """The ISO 4217 code of a code, a sign or a word; None when `word` is not a currency."""
    if word in CURRENCY_WORDS:
        return CURRENCY_WORDS[word]
    return word.upper() if re.fullmatch(r"[a-z]{3}", word) else None


@dataclass(frozen=True)
class NewAction:
    """`#action corrective Former l'équipe @paul@example.com 2027-01-15`: kind, text, optional owner and due day."""

    kind: ActionKind
    text: str
    owner: str | None = None
    due: date | None = None

    def __str__(self) -> str:
        extra = ", ".join(str(part) for part in (self.owner, self.due) if part)
        return f"{self.kind.value}: {self.text}" + (f" ({extra})" if extra else "")


@dataclass(frozen=True)
class ActionMove:
    """`#action 2 faite` / `#action 2 abandonnée <reason>`: an action's number, its new status, the reason."""

    number: int
    status: ActionStatus
    reason: str = ""


_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


def read_action(value: str, today: date) -> NewAction | ActionMove | Reason:
    """Decision 11 (tags.py): a number and a status word, or a kind, a text, then an owner and a day."""
    words = value.split()
    if words and words[0].isdigit():
        return _move(int(words[0]), words[1:])
    kind = ACTION_KIND_WORDS.get(fold(words[0]).rstrip(":")) if words else None
    if kind is None:
        return Reason.UNKNOWN_ACTION
    rest, owner, due = words[1:], None, None
    for _ in range(2):  # the owner and the due day end the line, in either order
        if rest and rest[-1].startswith("@") and _ADDRESS.fullmatch(rest[-1][1:]):
            owner = rest.pop()[1:].lower()
        elif rest and (day := read_date(fold(rest[-1]).rstrip("."))) is not None:
            if day < today:
                return Reason.PAST_DATE
            due = day
            rest.pop()
    text = " ".join(rest)
    return NewAction(kind, text, owner, due) if text else Reason.UNKNOWN_ACTION


def _move(number: int, words: list[str]) -> ActionMove | Reason:
    status = ACTION_STATUS_WORDS.get(fold(words[0]).rstrip(".:")) if words else None
    if status is None:
        return Reason.UNKNOWN_ACTION
    reason = " ".join(words[1:])
    if status is ActionStatus.ABANDONED and not reason:
        return Reason.MISSING_REASON
    return ActionMove(number, status, reason)


# A cause's category is written before a colon; longer leading text is a sentence, not a category.
CAUSE_CATEGORY_WORDS = 3


def read_cause(value: str, categories: tuple[str, ...]) -> CauseFound | Reason:
    """`#cause livraison: colis mal étiqueté` → the cause and its category, matched folded against
    `[causes] categories` (the configured spelling is kept); a cause without a leading category is
    free text. With no categories configured, the whole text is the cause, as before."""
    text = value.strip()
    if not categories:
        return CauseFound(text)
    head, colon, rest = text.partition(":")
    if not colon or not head.strip() or len(head.split()) > CAUSE_CATEGORY_WORDS:
        return CauseFound(text)
    wanted = as_words(head)
    category = next((c for c in categories if as_words(c) == wanted), None)
    if category is None:
        return Reason.UNKNOWN_CAUSE_CATEGORY
    return CauseFound(rest.strip(), category) if rest.strip() else Reason.MISSING_VALUE
