"""The register's search (edges/register/search.py) finds what it found before it was written for
each database: `lower(x) LIKE lower('%word%')` on every subject and text, LIKE's wildcards taken
literally. Runs on PostgreSQL too (COMPLAINTSD_TEST_REGISTER=postgresql)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, literal, select

from daemon.edges.register.models import Complaint
from daemon.edges.register.search import ESCAPE, Contains
from tests.harness import complaint
from tests.runners import FakeClock, ingest, make_desk

SUBJECTS = (
    "Facture erronée",
    "FACTURE en double",
    "Colis abîmé",
    "COLIS ABÎMÉ",
    "Remise de 100% promise",
    "Code promo_2026 refusé",
    "Échange refusé",
    "un échange impossible",
    "Garantie: c:\\temp introuvable",
)
WORDS = ("facture", "FacTure", "abîmé", "ABÎMÉ", "100%", "%", "_", "promo_2026", "échange", "Échange", "c:\\temp", "e")


def _before(column, word: str):
    """The search as it was: SQLAlchemy's ilike (lower() on both sides on SQLite, ILIKE on PostgreSQL)."""
    escaped = word.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")
    return func.lower(column).like(func.lower(literal(f"%{escaped}%")), escape=ESCAPE)


def test_the_search_finds_what_lower_like_found(tmp_path: Path) -> None:
    desk = make_desk(tmp_path, FakeClock())
    ingest(desk, *(complaint(n, subject=subject, body="Bonjour") for n, subject in enumerate(SUBJECTS, 1)))
    c = Complaint.__table__.c  # type: ignore[attr-defined]
    found = {}
    with desk.register.session() as session:
        for word in WORDS:
            now = session.execute(select(c.subject).where(Contains(c.subject, word))).scalars().all()
            before = session.execute(select(c.subject).where(_before(c.subject, word))).scalars().all()
            assert sorted(now) == sorted(before), word
            found[word] = set(now)
        body = session.execute(select(func.count(c.id)).where(Contains(c.text_body, "BONJOUR"))).scalar_one()
    assert found["facture"] == found["FacTure"] == {"Facture erronée", "FACTURE en double"}
    assert found["100%"] == found["%"] == {"Remise de 100% promise"}, "LIKE's wildcards are text"
    assert found["_"] == found["promo_2026"] == {"Code promo_2026 refusé"}
    assert found["c:\\temp"] == {"Garantie: c:\\temp introuvable"}
    assert "un échange impossible" in found["échange"] and body == len(SUBJECTS)
