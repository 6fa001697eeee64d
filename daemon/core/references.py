"""Complaint references: `<prefix>-<year>-<6-digit sequence>`, e.g. REC-2026-000042.

Pure: the register allocates the sequence number; this module only writes and reads the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

REFERENCE = re.compile(r"\b([A-Z0-9]{1,10})-(\d{4})-(\d{6,})\b")


@dataclass(frozen=True)
class Reference:
    prefix: str
    year: int
    sequence: int

    def __str__(self) -> str:
        return format_reference(self.prefix, self.year, self.sequence)


def number_batch(prefix: str, years: list[int], last: dict[int, int]) -> list[Reference]:
    """References for complaints received in `years` (in order), continuing from `last` per year."""
    counters = dict(last)
    numbered = []
    for year in years:
        counters[year] = counters.get(year, 0) + 1
        numbered.append(Reference(prefix, year, counters[year]))
    return numbered


def format_reference(prefix: str, year: int, sequence: int) -> str:
    if sequence < 1:
        raise ValueError("sequence numbers start at 1")
    return f"{prefix}-{year:04d}-{sequence:06d}"


def find_references(text: str, prefix: str) -> list[str]:
    """References with our prefix found in a subject or body, in order of appearance."""
    return [match.group(0) for match in REFERENCE.finditer(text) if match.group(1) == prefix]
