"""A seeded register and its web view, for the in-process tests (TestClient) and the browser tests.

The register is made by the runners (tests/runners.py), as the daemon makes it: four complaints,
Alice's invoice complaint with a PDF, Bob's delivery complaint, a complaint whose subject is a
script, and one more of Bob's received a month earlier. Users: a supervisor, an auditor, and the
handlers Alice and Bob, each with the password "<name>-pw".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from pathlib import Path

from daemon.config import Config
from daemon.web.app import Site
from daemon.web.passwords import hash_password
from tests.harness import complaint
from tests.runners import ALICE, BOB, FakeClock, config_of, ingest, make_desk, relay

SCRIPT_SUBJECT = "<script>alert(1)</script>"
PDF = b"%PDF-1.4\n% la facture\n"
USERS = {"qualite": "supervisor", "audit": "auditor", ALICE: "handler", BOB: "handler"}


@cache
def _hash(name: str) -> str:
    return hash_password(f"{name}-pw")


def web_section(**more) -> dict:
    return {"users": [{"name": n, "role": r, "password_hash": _hash(n)} for n, r in USERS.items()], **more}


@dataclass(frozen=True)
class Seeded:
    config: Config
    site: Site
    clock: FakeClock
    references: dict[str, str]  # "invoice", "delivery", "script", "older" -> REC-…


def seed(tmp_path: Path, register: dict | None = None, **web) -> Seeded:
    clock = FakeClock()
    sections = {"web": web_section(**web), "register": register or {}}
    desk = make_desk(tmp_path, clock, **sections)
    older = _one(desk, complaint(4, subject="Colis jamais livré", body="Le colis n'est jamais arrivé.\n"))
    clock.advance(timedelta(days=30))
    invoice = _one(
        desk,
        complaint(
            1,
            subject="Erreur sur ma facture",
            body="Ma facture de novembre compte deux fois la livraison.\n",
            attachment=("facture.pdf", PDF, "application/pdf"),
        ),
    )
    delivery = _one(desk, complaint(2, subject="Livraison en retard", body="Toujours rien reçu.\n"))
    script = _one(desk, complaint(3, subject=SCRIPT_SUBJECT, body="<b>gras</b> <img src=x onerror=alert(2)>\n"))
    relay(desk)
    config = config_of(tmp_path, **sections)
    site = Site(config, desk.register, clock=clock)
    return Seeded(config, site, clock, {"invoice": invoice, "delivery": delivery, "script": script, "older": older})


def _one(desk, raw: bytes) -> str:
    [reference] = ingest(desk, raw).references
    return reference
