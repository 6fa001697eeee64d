"""The priority table (daemon.core.priority): every row of the README's table, and its two rules."""

from __future__ import annotations

import pytest

from daemon.core.priority import Priority, priority, priority_rank

U, H, N, L = Priority.URGENT, Priority.HIGH, Priority.NORMAL, Priority.LOW

# (severity, impact) → (isolated, systemic): the README's "Priority" table, cell by cell.
TABLE = [
    ("low", "low", L, N),
    ("low", "medium", L, N),
    ("low", "high", N, H),
    ("medium", "low", L, N),
    ("medium", "medium", N, H),
    ("medium", "high", H, U),
    ("high", "low", N, H),
    ("high", "medium", H, U),
    ("high", "high", U, U),
    ("critical", "low", H, U),
    ("critical", "medium", U, U),
    ("critical", "high", U, U),
]


@pytest.mark.parametrize(("severity", "impact", "isolated", "systemic"), TABLE)
def test_the_table(severity: str, impact: str, isolated: Priority, systemic: Priority) -> None:
    assert priority(severity, impact, "isolated") is isolated
    assert priority(severity, impact, None) is isolated, "a scope not set reads as isolated"
    assert priority(severity, impact, "systemic") is systemic


def test_no_priority_before_the_severity_and_an_unset_impact_reads_as_low() -> None:
    assert priority(None, "high", "systemic") is None
    assert priority("high", None, None) is priority("high", "low", None) is N


def test_rank_orders_the_most_pressing_first_and_the_unevaluated_last() -> None:
    keys = [("low", None, None), (None, None, None), ("critical", "high", None), ("high", "medium", None)]
    assert sorted(keys, key=lambda k: priority_rank(*k)) == [
        ("critical", "high", None),
        ("high", "medium", None),
        ("low", None, None),
        (None, None, None),
    ]


def test_an_unknown_value_is_an_error_not_a_guess() -> None:
    with pytest.raises(ValueError, match="no priority"):
        priority("grave", "low", None)
