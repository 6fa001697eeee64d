"""The register's search (the web view's `q=`, its exports): does a text column hold a word, case
folded. One expression, written for each database.

SQLite's LIKE already ignores the case of ASCII letters, and its lower() folds no other letter, so
`lower(x) LIKE lower(p)` (what SQLAlchemy's `ilike` writes there) finds exactly what `x LIKE p`
finds, at the price of a lowered copy of every subject and text read: half of a search's time on
100,000 complaints (benchmarks/web.py). PostgreSQL keeps ILIKE, which folds every letter.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

ESCAPE = "\\"


class Contains(ColumnElement[bool]):
    """`column` contains `word` (LIKE's wildcards in it taken literally), case folded."""

    inherit_cache = True
    _is_implicitly_boolean = True
    type = Boolean()
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("pattern", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column: Any, word: str) -> None:
        self.column = column
        escaped = word.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")
        self.pattern = literal(f"%{escaped}%")


@compiles(Contains)
def _folding(element: Contains, compiler, **kw) -> str:
    return compiler.process(element.column.ilike(element.pattern, escape=ESCAPE), **kw)


@compiles(Contains, "sqlite")
def _sqlite(element: Contains, compiler, **kw) -> str:
    return compiler.process(element.column.like(element.pattern, escape=ESCAPE), **kw)


__all__ = ["Contains"]
