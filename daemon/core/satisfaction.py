"""The customer's satisfaction, read from their reply to the closing letter (issue 9, item 6).

The seeds' three points: the problem was understood and explained; the actions were planned and
carried out; the relationship goes on. The closing letter numbers them; the customer answers each
with yes/no (oui/non…) or a mark from 1 to 5, on the line of its number ("1 oui", "2) 4",
"3. Vous souhaitez poursuivre… : non") or of its keyword ("compris : oui", "relation: yes"), and may
add a comment. A reply that answers no point but starts with yes or no answers them all at once
(the single question the letter used to ask); anything else is an ordinary follow-up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from daemon.core.routing import fold

__all__ = ["POINTS", "Satisfaction", "satisfaction_of"]

POINTS = ("understood", "actions", "relationship")

_YES = frozenset({"oui", "yes", "satisfait", "satisfaite", "satisfied", "ok", "d'accord"})
_NO = frozenset({"non", "no", "insatisfait", "insatisfaite", "unsatisfied", "pas"})
_KEYWORDS = {
    "understood": ("compris", "comprise", "comprehension", "explique", "expliquee", "understood", "explained"),
    "actions": ("action", "actions", "mesures", "carried"),
    "relationship": ("relation", "relationship", "poursuivre", "continue"),
}
_NUMBERED = re.compile(r"^\s*(?:point\s*)?([123])\s*(?:[.):\-–]|\s)\s*(.*)$", re.IGNORECASE)
_WORD = re.compile(r"[\w']+")


@dataclass(frozen=True)
class Satisfaction:
    """Each point "yes", "no" or "1".."5", None when not answered; the customer's other words."""

    understood: str | None
    actions: str | None
    relationship: str | None
    comment: str
    as_a_whole: bool = False

    def fields(self) -> tuple[tuple[str, str | None], ...]:
        """The register's columns (revision 0005)."""
        values = (self.understood, self.actions, self.relationship)
        named = tuple((f"satisfaction_{point}", value) for point, value in zip(POINTS, values, strict=True))
        return (*named, ("satisfaction_comment", self.comment))

    def __str__(self) -> str:
        values = (self.understood, self.actions, self.relationship)
        return ", ".join(f"{point} {value or '-'}" for point, value in zip(POINTS, values, strict=True))


def satisfaction_of(text: str) -> Satisfaction | None:
    """The three points and the comment from the text the customer typed, or None: no answer."""
    answers: dict[str, str] = {}
    comment: list[str] = []
    for line in text.splitlines():
        point, answer = _point_of(line)
        if point is not None and answer is not None and point not in answers:
            answers[point] = answer
        elif line.strip():
            comment.append(line.strip())
    if answers:
        understood, actions, relationship = (answers.get(point) for point in POINTS)
        return Satisfaction(understood, actions, relationship, comment=_comment(comment))
    overall = _answer(text.strip().split("\n", 1)[0], first_only=True)
    if overall is None:
        return None
    rest = text.strip().split(None, 1)[1] if len(text.split()) > 1 else ""
    return Satisfaction(overall, overall, overall, comment=_comment([rest]), as_a_whole=True)


def _point_of(line: str) -> tuple[str | None, str | None]:
    numbered = _NUMBERED.match(line)
    if numbered:
        return POINTS[int(numbered.group(1)) - 1], _answer(_after_colon(numbered.group(2)))
    head, colon, tail = line.partition(":")
    if colon:
        words = set(_WORD.findall(fold(head)))
        for point, keywords in _KEYWORDS.items():
            if words & set(keywords):
                return point, _answer(tail)
    return None, None


def _after_colon(text: str) -> str:
    """A customer who kept the question ("… expliquée : oui") answered after its last colon."""
    return text.rpartition(":")[2] if ":" in text else text


def _answer(text: str, first_only: bool = False) -> str | None:
    words = _WORD.findall(fold(text))
    for word in words[:1] if first_only else words:
        if word in _YES:
            return "yes"
        if word in _NO:
            return "no"
        if not first_only and word in ("1", "2", "3", "4", "5"):
            return word
    return None


def _comment(lines: list[str]) -> str:
    return "\n".join(line for line in lines if line)[:2000]
