"""The values of the evaluation tags (issue 9): complexity, impact, scope, a related reference, a
compensation. Each reader takes the value as typed and today's date (the signature every reader of
`tags._READERS` has) and returns the value, or the `Reason` it is not one. Pure; tags.py's decisions
8 and 9 say what each accepts.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from daemon.core.commands.words import (
    COMPENSATION_WORDS,
    COMPLEXITY_WORDS,
    CURRENCY_WORDS,
    IMPACT_WORDS,
    SCOPE_WORDS,
    Compensation,
    Complexity,
    Impact,
    Reason,
    Scope,
    as_words,
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
