"""A complaint's priority, derived from its evaluation: severity × impact × scope, by one table.

docs/design.md ("What the register records", evaluation): "priority (derived from severity × impact ×
scope by a documented table, shown everywhere the handler looks)". The table is the README's
("Priority"); tests/test_priority.py holds it row by row, so the two cannot drift apart unnoticed.

Theory of operation
-------------------
* Severity says how bad it is for this customer, impact who else is affected (low / medium / high),
  scope whether the cause is isolated or systemic (the same cause behind other complaints).
* Severity × impact gives the base: the four severities down, the three impacts across.
* A systemic scope raises the base one step (a cause that recurs is worth more than one case), never
  past "urgent".
* Until a handler sets the severity there is no priority: a guess would order the handler's work on
  nothing. An impact not yet set reads as low (nobody else is known to be affected), a scope not yet
  set as isolated.
"""

from __future__ import annotations

from enum import StrEnum


class Priority(StrEnum):
    """Most pressing first; `rank` orders them (the digest lists by it)."""

    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"

    @property
    def rank(self) -> int:
        return _ORDER.index(self)


_ORDER = (Priority.URGENT, Priority.HIGH, Priority.NORMAL, Priority.LOW)

# Severity down, impact across (low, medium, high): the README's table, without the systemic step.
BASE: dict[str, tuple[Priority, Priority, Priority]] = {
    "low": (Priority.LOW, Priority.LOW, Priority.NORMAL),
    "medium": (Priority.LOW, Priority.NORMAL, Priority.HIGH),
    "high": (Priority.NORMAL, Priority.HIGH, Priority.URGENT),
    "critical": (Priority.HIGH, Priority.URGENT, Priority.URGENT),
}
_IMPACTS = ("low", "medium", "high")


def priority(severity: str | None, impact: str | None, scope: str | None) -> Priority | None:
    """The priority of a complaint so evaluated; None until its severity is set."""
    if severity is None:
        return None
    if severity not in BASE or (impact is not None and impact not in _IMPACTS):
        raise ValueError(f"no priority for severity {severity!r} and impact {impact!r}")
    base = BASE[severity][_IMPACTS.index(impact or "low")]
    if scope == "systemic":
        return _ORDER[max(base.rank - 1, 0)]
    return base


def priority_rank(severity: str | None, impact: str | None, scope: str | None) -> int:
    """A sort key, most pressing first; complaints without a priority last."""
    found = priority(severity, impact, scope)
    return len(_ORDER) if found is None else found.rank
